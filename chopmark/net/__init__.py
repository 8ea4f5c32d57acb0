"""The network seam: the only part of Chopmark allowed to open sockets (used for did:web)."""

from chopmark.net.fetch import SafeFetcher, address_allowed, check_address

__all__ = ["SafeFetcher", "address_allowed", "check_address"]
