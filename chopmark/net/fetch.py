"""A deliberately small, SSRF-hardened HTTPS GET for did:web documents (the only network seam of Chopmark).

Policy, in order:

1. Only ``https`` URLs (plain ``http`` only to a loopback address and only with ``allow_http_loopback``), no
   userinfo, no fragment; optionally only hosts in ``allowed_hosts``.
2. The host is resolved ONCE (``getaddrinfo``); every address must be public unicast: private, loopback,
   link-local, shared (CGNAT), multicast, reserved and unspecified addresses are refused, IPv6 addresses that
   embed an IPv4 address (IPv4-mapped, 6to4, NAT64) are judged by the embedded address. ``allow_private``
   permits non-public unicast addresses; multicast, reserved and unspecified are always refused.
3. The socket connects to the validated IP itself (no second lookup, so DNS rebinding cannot swap it); TLS
   verifies the certificate for the original host name (SNI + hostname check, system trust store).
4. Redirects are refused (3xx), any other non-200 status is an error, the body is capped at ``max_bytes``
   (a larger ``Content-Length`` is refused up front, reading stops past the cap) and one deadline of
   ``timeout`` seconds covers connect, TLS, request and the whole read (a watchdog closes the socket).

Every failure raises :class:`~chopmark.errors.FetchError`.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chopmark.errors import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddrInfo = Callable[..., Sequence[tuple[Any, ...]]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_ACCEPT = "application/did+json, application/json"


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _non_public(ip: IPAddress) -> bool:
    # RFC 1918, RFC 6598 (shared), RFC 3927 / RFC 4291 link-local, RFC 4193 ULA, site-local, and every other
    # special-purpose block the IANA registries mark as not globally reachable.
    site_local = isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local
    return not ip.is_global or ip.is_private or ip.is_link_local or site_local


def address_allowed(address: str, *, allow_private: bool = False, allow_loopback: bool = False) -> bool:
    """True when the fetcher may connect to the IP ``address`` under the given allowances."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)) is not None:
        ip = inner  # IPv4-mapped / 6to4 / NAT64: the packets go to the embedded IPv4 address
    if ip.is_loopback:
        return allow_loopback or allow_private
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved or ip == _BROADCAST:
        return False
    return allow_private or not _non_public(ip)


def check_address(address: str, *, allow_private: bool = False, allow_loopback: bool = False) -> None:
    """Raise :class:`FetchError` unless :func:`address_allowed`."""
    if not address_allowed(address, allow_private=allow_private, allow_loopback=allow_loopback):
        raise FetchError(f"refusing to connect to non-public address {address}")


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8 and ::1 (also IPv4-mapped loopback)."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    inner = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    return ip.is_loopback or (inner is not None and inner.is_loopback)


class _Target:
    """A parsed, policy-checked URL."""

    def __init__(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise FetchError(f"not a valid URL: {url!r}") from None
        if parts.scheme not in ("https", "http"):
            raise FetchError(f"only https URLs may be fetched: {url!r}")
        if "@" in parts.netloc or not parts.hostname or parts.fragment or "#" in url:
            raise FetchError(f"URL must have a host and no userinfo or fragment: {url!r}")
        if any(ord(ch) <= 0x20 or ord(ch) >= 0x7F for ch in url):
            raise FetchError("URL must be printable ASCII without spaces")
        self.scheme = parts.scheme
        self.host = parts.hostname.lower()
        self.port = port if port is not None else (443 if parts.scheme == "https" else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default = 443 if parts.scheme == "https" else 80
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.host_header = shown if self.port == default else f"{shown}:{self.port}"


@dataclass(frozen=True)
class Fetched:
    """A response: ``status`` 200 (``body`` set) or 304 (not modified; body empty), and the ``ETag``."""

    status: int
    body: bytes
    etag: str | None


class SafeFetcher:
    """``fetcher(url) -> bytes``: a hardened HTTPS GET (see the module docstring for the policy)."""

    def __init__(self, *, allow_http_loopback: bool = False, allow_private: bool = False,
                 max_bytes: int = 100_000, timeout: float = 3.0,
                 allowed_hosts: frozenset[str] | None = None, ssl_context: ssl.SSLContext | None = None,
                 getaddrinfo: AddrInfo = socket.getaddrinfo) -> None:
        """Configure the policy. ``ssl_context`` defaults to ``ssl.create_default_context()`` (system CAs);
        ``getaddrinfo`` is injectable for tests."""
        if max_bytes <= 0 or timeout <= 0:
            raise FetchError("max_bytes and timeout must be positive")
        self.allow_http_loopback = allow_http_loopback
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.allowed_hosts = None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
        self._ssl = ssl_context if ssl_context is not None else ssl.create_default_context()
        self._getaddrinfo = getaddrinfo

    def __call__(self, url: str) -> bytes:
        """GET ``url`` and return the body, or raise :class:`FetchError`."""
        return self.fetch(url).body

    def fetch(self, url: str, *, etag: str | None = None) -> Fetched:
        """GET ``url``; with ``etag`` a conditional GET (``If-None-Match``) that may answer 304 with no body."""
        target = _Target(url)
        if self.allowed_hosts is not None and target.host not in self.allowed_hosts:
            raise FetchError(f"host {target.host} is not in the allowed hosts")
        deadline = time.monotonic() + self.timeout
        addresses = self._addresses(target)
        sock = _connect(addresses, target.port, deadline)
        watchdog = _Watchdog(sock, deadline)
        try:
            fetched = self._exchange(sock, target, deadline, etag)
            if watchdog.fired:  # the watchdog may have cut a close-delimited body short
                raise TimeoutError("deadline exceeded")
            return fetched
        except (OSError, http.client.HTTPException) as exc:
            if watchdog.fired:
                raise FetchError(f"fetching {url} exceeded the {self.timeout} s deadline") from None
            raise FetchError(f"fetching {url} failed: {exc.__class__.__name__}: {exc}") from None
        finally:
            watchdog.stop()
            sock.close()

    def _addresses(self, target: _Target) -> list[str]:
        try:
            infos = self._getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM,
                                      proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise FetchError(f"cannot resolve {target.host}: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise FetchError(f"{target.host} has no address")
        if target.scheme == "http" and not (self.allow_http_loopback and all(map(is_loopback, addresses))):
            raise FetchError("plain http is only allowed to loopback addresses with allow_http_loopback")
        for address in addresses:  # every address must pass: a mixed answer is refused
            check_address(address, allow_private=self.allow_private, allow_loopback=self.allow_http_loopback)
        return addresses

    def _exchange(self, raw: socket.socket, target: _Target, deadline: float, etag: str | None) -> Fetched:
        sock: socket.socket = raw
        if target.scheme == "https":
            raw.settimeout(_remaining(deadline))
            sock = self._ssl.wrap_socket(raw, server_hostname=target.host)
        conn = http.client.HTTPConnection(target.host, target.port, timeout=_remaining(deadline))
        conn.sock = sock
        try:
            conn.putrequest("GET", target.path, skip_host=True)
            conn.putheader("Host", target.host_header)
            conn.putheader("Accept", _ACCEPT)
            conn.putheader("Connection", "close")
            if etag is not None:
                if any(c in etag for c in "\r\n\0"):
                    raise FetchError("invalid ETag value")
                conn.putheader("If-None-Match", etag)
            conn.endheaders()
            sock.settimeout(_remaining(deadline))
            response = conn.getresponse()
            if etag is not None and response.status == 304:  # RFC 9110 §15.4.5: reuse the cached body
                return Fetched(304, b"", response.getheader("ETag") or etag)
            self._check_response(response)
            return Fetched(200, self._read_body(response, sock, deadline), response.getheader("ETag"))
        finally:
            conn.close()

    def _check_response(self, response: http.client.HTTPResponse) -> None:
        if 300 <= response.status < 400:
            raise FetchError(f"redirects are not followed (status {response.status})")
        if response.status != 200:
            raise FetchError(f"unexpected HTTP status {response.status}")
        encoding = response.getheader("Content-Encoding", "identity").strip().lower()
        if encoding != "identity":
            raise FetchError(f"unsupported Content-Encoding {encoding!r}")
        length = response.getheader("Content-Length")
        if length is not None and (not length.strip().isdigit() or int(length) > self.max_bytes):
            raise FetchError(f"Content-Length {length!r} exceeds the {self.max_bytes}-byte cap or is invalid")

    def _read_body(self, response: http.client.HTTPResponse, sock: socket.socket, deadline: float) -> bytes:
        body = bytearray()
        while True:
            sock.settimeout(_remaining(deadline))
            chunk = response.read1(min(65536, self.max_bytes + 1 - len(body)))
            if not chunk:
                if response.length:  # EOF before Content-Length bytes arrived
                    raise http.client.IncompleteRead(bytes(body), response.length)
                return bytes(body)
            body += chunk
            if len(body) > self.max_bytes:
                raise FetchError(f"response body exceeds the {self.max_bytes}-byte cap")


def _connect(addresses: list[str], port: int, deadline: float) -> socket.socket:
    # Connect to the already validated IPs only: no second name lookup (DNS rebinding defence).
    last: Exception | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(remaining)
        try:
            sock.connect((address, port))
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise FetchError(f"cannot connect: {last or 'deadline exceeded'}")


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("deadline exceeded")
    return remaining


class _Watchdog:
    """Shuts the connection down at the deadline, so no slow peer can outlive it."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.fired = False
        self._sock = sock.dup()  # same connection, independent of the TLS wrapper's socket object
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._timer.cancel()
        self._sock.close()
