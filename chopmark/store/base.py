"""The storage contract every role uses: one small interface, two implementations (SQLite, Redis).

Records live in *namespaces* (``ns``, a short ASCII word such as ``"issuer"``) under string *keys*. Values are
bytes; callers serialise (the :mod:`chopmark.store.records` helpers do JSON). Every operation touches exactly
one key (``create_many`` is a batch of single-key creations, atomic per key), so the Redis implementation can
spread the data over a Redis Cluster: the Redis key of ``(ns, key)`` carries ``{key}`` as its hash tag, which
puts a status list's bits, counters and metadata (all keyed by the list id) in one slot.

Durability: once a write method returns, the write survives a crash of the process (SQLite: WAL with
``synchronous=FULL``; Redis: as durable as the server's AOF policy, ``appendfsync always`` for the promise).
Writes with a ``ttl`` are *ephemeral* (challenges, rate-limit windows): they may be lost in a crash, which
only ever makes something fail closed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol, runtime_checkable

from chopmark.errors import StoreUnavailable

__all__ = ["MAX_BITS", "Store", "StoreUnavailable", "check_bit_index", "check_bits_size", "check_name", "check_ttl",
           "log_range", "parse_counter"]

#: Namespaces and keys: what implementations must accept (anything else raises ``ValueError``).
NS_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")
MAX_KEY_BYTES = 512


MAX_BITS = 2**32
_INTEGER = re.compile(rb"-?(?:0|[1-9][0-9]*)")


def check_ttl(ttl: float | None) -> None:
    """Reject a ``ttl`` that is not a positive, finite number of seconds (ValueError)."""
    if ttl is not None and not (math.isfinite(ttl) and ttl > 0):
        raise ValueError(f"ttl must be a positive number of seconds, not {ttl!r}")


def check_bit_index(index: int) -> None:
    """Reject a bit index outside ``0 <= index < 2**32`` (ValueError)."""
    if not 0 <= index < MAX_BITS:
        raise ValueError(f"bit index {index!r} is outside 0..2**32-1")


def parse_counter(raw: bytes) -> int:
    """The integer a counter value holds (ASCII decimal); ValueError when it is no integer."""
    if not _INTEGER.fullmatch(raw):
        raise ValueError("the value is not an integer counter")
    return int(raw)


def check_bits_size(size: int) -> None:
    """Reject a ``get_bits`` size outside ``0 <= size <= 2**29`` bytes (the whole 2**32-bit range; ValueError)."""
    if not 0 <= size <= MAX_BITS // 8:
        raise ValueError(f"size {size!r} is outside 0..2**29")


def log_range(start: int, stop: int) -> bool:
    """Validate a log slice ``[start, stop)`` (ValueError for negative indexes); False when it is empty."""
    if start < 0 or stop < 0:
        raise ValueError("log indexes must not be negative")
    return stop > start


def check_name(ns: str, key: str) -> None:
    """Reject a namespace or key the implementations cannot store safely (programming error: ValueError)."""
    if not ns or not set(ns) <= NS_CHARS:
        raise ValueError(f"invalid namespace {ns!r}")
    if not isinstance(key, str) or not key or len(key.encode()) > MAX_KEY_BYTES:
        raise ValueError(f"invalid key {key!r}")


@runtime_checkable
class Store(Protocol):
    """The contract. All methods are safe to call from several threads and processes at once."""

    # -- records -------------------------------------------------------------------------------------------
    def get(self, ns: str, key: str) -> bytes | None:
        """The value, or None when absent (or expired)."""

    def put(self, ns: str, key: str, value: bytes) -> None:
        """Create or overwrite (durable)."""

    def create(self, ns: str, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """Atomic create-if-absent; True when this call created it. With ``ttl`` (seconds) the record expires
        (ephemeral); an expired record counts as absent."""

    def create_many(self, ns: str, items: Mapping[str, bytes]) -> int:
        """Create each absent key of ``items`` (durable; keys that exist keep their value); returns how many
        were created. Each key is created atomically, the batch as a whole is not (a crash may leave a prefix:
        callers make such writes idempotent, e.g. an index that maps content to its first position)."""

    def compare_and_set(self, ns: str, key: str, expected: bytes | None, value: bytes) -> bool:
        """Atomically replace the value when it currently equals ``expected`` (None: when absent)."""

    def delete(self, ns: str, key: str) -> bool:
        """Remove; True when something was removed."""

    def take(self, ns: str, key: str) -> bytes | None:
        """Atomic get-and-delete (single use): exactly one of concurrent callers gets the value."""

    def scan(self, ns: str, prefix: str = "") -> Iterator[tuple[str, bytes]]:
        """Every live ``(key, value)`` of a namespace whose key starts with ``prefix``, sorted by key (admin
        listings; not for hot paths)."""

    # -- counters ------------------------------------------------------------------------------------------
    def incr(self, ns: str, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Atomically add ``amount`` to an integer counter (absent = 0) and return the new value. With ``ttl``
        the counter is ephemeral and expires ``ttl`` seconds after it was created (fixed windows)."""

    # -- bitstrings (status lists) -------------------------------------------------------------------------
    def set_bit(self, ns: str, key: str, index: int, value: bool) -> bool:
        """Atomically set bit ``index`` (bit 0 = most significant bit of byte 0); returns the previous bit."""

    def get_bit(self, ns: str, key: str, index: int) -> bool:
        """One bit (False when never set)."""

    def get_bits(self, ns: str, key: str, size: int) -> bytes:
        """The first ``size`` bytes of the bitstring, zero-padded."""

    # -- append-only logs ----------------------------------------------------------------------------------
    def append(self, ns: str, key: str, value: bytes) -> int:
        """Append to the log ``(ns, key)``; returns the 0-based index of the new entry."""

    def append_many(self, ns: str, key: str, values: Sequence[bytes]) -> int:
        """Append ``values`` to the log ``(ns, key)`` atomically: all or none, at contiguous indexes (no other
        append interleaves). Returns the index of the first new entry (the log's length when ``values`` is
        empty)."""

    def read(self, ns: str, key: str, start: int, stop: int) -> list[bytes]:
        """Entries ``start`` (inclusive) to ``stop`` (exclusive) of a log."""

    def length(self, ns: str, key: str) -> int:
        """Number of entries in a log."""

    # -- lifecycle -----------------------------------------------------------------------------------------
    def ping(self) -> None:
        """Raise ``StoreUnavailable`` when the backend cannot be reached."""

    def close(self) -> None:
        """Release connections (the store may not be used afterwards)."""


