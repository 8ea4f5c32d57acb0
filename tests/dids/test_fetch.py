"""SafeFetcher against REAL local servers on 127.0.0.1 (plain HTTP and TLS with a test CA).

No traffic ever goes to a non-loopback address: the address policy is tested on the checker directly and, for
the fetcher, with an injected ``getaddrinfo`` while the connect step is patched to fail the test if reached.
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chopmark.dids import DidWebResolver
from chopmark.errors import FetchError, InvalidControllerDocumentError
from chopmark.net import fetch as fetch_module
from chopmark.net.fetch import SafeFetcher, address_allowed, check_address

CAP = 1000


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes: a DID document, a redirect, oversize bodies, a slow and a trickling response, a 404."""

    did: str = ""
    seen_headers: ClassVar[list[dict[str, str]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, length: int | None = None, **headers: str) -> None:
        self.send_response(status)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        Handler.seen_headers.append(dict(self.headers.items()))
        routes: dict[str, Callable[[], None]] = {
            "/.well-known/did.json": self._did, "/doc": self._did,
            "/redirect": lambda: self._send(302, b"", 0, Location="https://example.com/"),
            "/big": lambda: self._send(200, b"x" * (CAP + 1), CAP + 1),
            "/big-unannounced": self._big_unannounced,
            "/slow": self._slow,
            "/trickle": self._trickle,
            "/gzip": lambda: self._send(200, b"{}", 2, Content_Encoding="gzip"),
        }
        routes.get(self.path, lambda: self._send(404, b"not found", 9))()

    def _did(self) -> None:
        body = json.dumps({"@context": ["https://www.w3.org/ns/did/v1"], "id": Handler.did}).encode()
        self._send(200, body, len(body), Content_Type="application/did+json")

    def _big_unannounced(self) -> None:
        self._send(200, b"")  # HTTP/1.0, no Content-Length: the body ends when the connection closes
        for _ in range(50):
            self.wfile.write(b"y" * CAP)

    def _slow(self) -> None:
        time.sleep(2)
        self._send(200, b"{}", 2)

    def _trickle(self) -> None:
        self._send(200, b"", 40)
        for _ in range(40):
            self.wfile.write(b" ")
            self.wfile.flush()
            time.sleep(0.1)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hang up on purpose in these tests


def start(server: Server) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def http_port() -> Iterator[int]:
    Handler.seen_headers = []
    yield from start(Server(("127.0.0.1", 0), Handler))


def make_tls(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A test CA and a leaf for ``did.test``, ``localhost`` and 127.0.0.1: (server ctx, client ctx)."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Chopmark test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    san = x509.SubjectAlternativeName([x509.DNSName("did.test"), x509.DNSName("localhost"),
                                       x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))])
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "did.test")]))
            .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(2)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(san, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp / "leaf.key").write_bytes(leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp / "leaf.pem", tmp / "leaf.key")
    client_ctx = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server_ctx, client_ctx


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[tuple[int, ssl.SSLContext]]:
    server_ctx, client_ctx = make_tls(tmp_path)
    server = Server(("127.0.0.1", 0), Handler)
    server.socket = server_ctx.wrap_socket(server.socket, server_side=True)
    for port in start(server):
        yield port, client_ctx


def resolving(mapping: dict[str, str],
              calls: list[str] | None = None) -> Callable[..., list[tuple[Any, ...]]]:
    """A fake getaddrinfo answering from ``mapping`` (host -> IP)."""

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if calls is not None:
            calls.append(host)
        ip = mapping[host]
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (ip, port))]

    return getaddrinfo


@pytest.fixture
def no_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the fetcher ever tries to open a connection."""

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the fetcher tried to connect")

    monkeypatch.setattr(fetch_module, "_connect", forbidden)


# --- plain HTTP on loopback ---------------------------------------------------------------------------------

def test_loopback_is_refused_by_default(http_port: int) -> None:
    with pytest.raises(FetchError):
        SafeFetcher()(f"http://127.0.0.1:{http_port}/doc")
    with pytest.raises(FetchError):
        SafeFetcher()(f"https://127.0.0.1:{http_port}/doc")
    with pytest.raises(FetchError):
        SafeFetcher(allow_private=True)(f"http://127.0.0.1:{http_port}/doc")  # http needs the loopback flag
    assert Handler.seen_headers == []


def test_loopback_http_allowed_with_the_flag(http_port: int) -> None:
    Handler.did = "did:web:example"
    body = SafeFetcher(allow_http_loopback=True)(f"http://127.0.0.1:{http_port}/doc")
    assert json.loads(body)["id"] == "did:web:example"
    headers = Handler.seen_headers[-1]
    assert headers["Accept"] == "application/did+json, application/json"
    assert headers["Host"] == f"127.0.0.1:{http_port}"


@pytest.mark.parametrize("path", ["/redirect", "/missing", "/big", "/big-unannounced", "/gzip"])
def test_refused_responses(http_port: int, path: str) -> None:
    fetcher = SafeFetcher(allow_http_loopback=True, max_bytes=CAP)
    with pytest.raises(FetchError):
        fetcher(f"http://127.0.0.1:{http_port}{path}")


def test_body_at_the_cap_is_accepted(http_port: int) -> None:
    Handler.did = "did:web:x"
    fetcher = SafeFetcher(allow_http_loopback=True, max_bytes=len(json.dumps(
        {"@context": ["https://www.w3.org/ns/did/v1"], "id": "did:web:x"})))
    assert fetcher(f"http://127.0.0.1:{http_port}/doc")


@pytest.mark.parametrize("path", ["/slow", "/trickle"])
def test_deadline_covers_the_whole_exchange(http_port: int, path: str) -> None:
    fetcher = SafeFetcher(allow_http_loopback=True, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(FetchError):
        fetcher(f"http://127.0.0.1:{http_port}{path}")
    assert time.monotonic() - started < 1.5


def test_connection_refused_is_a_fetch_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError):
        SafeFetcher(allow_http_loopback=True, timeout=0.5)(f"http://127.0.0.1:{port}/doc")


# --- TLS, pinned IP and did:web end to end -----------------------------------------------------------------

def test_did_web_end_to_end_over_tls(tls: tuple[int, ssl.SSLContext]) -> None:
    port, client_ctx = tls
    did = f"did:web:127.0.0.1%3A{port}"
    Handler.did = did
    fetcher = SafeFetcher(allow_private=True, ssl_context=client_ctx)
    document = DidWebResolver(fetcher).resolve(did)
    assert document["id"] == did


def test_connects_to_the_validated_ip_and_verifies_the_original_host(tls: tuple[int, ssl.SSLContext]) -> None:
    port, client_ctx = tls
    calls: list[str] = []
    did = f"did:web:did.test%3A{port}"
    Handler.did = did
    fetcher = SafeFetcher(allow_private=True, ssl_context=client_ctx,
                          getaddrinfo=resolving({"did.test": "127.0.0.1"}, calls))
    assert DidWebResolver(fetcher).resolve(did)["id"] == did
    assert calls == ["did.test"]  # one lookup only
    assert Handler.seen_headers[-1]["Host"] == f"did.test:{port}"


def test_tls_hostname_mismatch_is_refused(tls: tuple[int, ssl.SSLContext]) -> None:
    port, client_ctx = tls
    fetcher = SafeFetcher(allow_private=True, ssl_context=client_ctx,
                          getaddrinfo=resolving({"other.test": "127.0.0.1"}))
    with pytest.raises(FetchError):
        fetcher(f"https://other.test:{port}/doc")


def test_untrusted_certificate_is_refused(tls: tuple[int, ssl.SSLContext]) -> None:
    port, _ = tls
    with pytest.raises(FetchError):
        SafeFetcher(allow_private=True, timeout=1.0)(f"https://127.0.0.1:{port}/doc")


def test_did_document_id_mismatch_over_the_wire(tls: tuple[int, ssl.SSLContext]) -> None:
    port, client_ctx = tls
    Handler.did = "did:web:someone.else"
    fetcher = SafeFetcher(allow_private=True, ssl_context=client_ctx)
    with pytest.raises(InvalidControllerDocumentError):
        DidWebResolver(fetcher).resolve(f"did:web:127.0.0.1%3A{port}")


def test_https_deadline(tls: tuple[int, ssl.SSLContext]) -> None:
    port, client_ctx = tls
    fetcher = SafeFetcher(allow_private=True, ssl_context=client_ctx, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(FetchError):
        fetcher(f"https://127.0.0.1:{port}/trickle")
    assert time.monotonic() - started < 1.5


# --- the address policy (no traffic) -----------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "127.0.0.1", "127.1.2.3", "0.0.0.0",
    "100.64.0.1", "192.0.2.1", "198.18.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255",
    "::1", "::", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "fe80::1", "fe80::1%eth0",
    "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "2001:db8::1", "64:ff9b::a00:1", "2002:7f00:1::1",
    "2002:a00:1::1", "::127.0.0.1", "not an ip", "",
])
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not address_allowed(address)
    with pytest.raises(FetchError):
        check_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111",
                                     "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_allowed(address)


def test_allowances() -> None:
    assert address_allowed("127.0.0.1", allow_loopback=True)
    assert address_allowed("::1", allow_loopback=True)
    assert not address_allowed("10.0.0.1", allow_loopback=True)
    assert address_allowed("10.0.0.1", allow_private=True)
    assert address_allowed("fd00::1", allow_private=True)
    for never in ("0.0.0.0", "::", "224.0.0.1", "ff02::1", "240.0.0.1", "255.255.255.255"):
        assert not address_allowed(never, allow_private=True, allow_loopback=True)


@pytest.mark.parametrize("answer", ["10.0.0.1", "169.254.169.254", "::1", "::ffff:127.0.0.1", "127.0.0.1"])
def test_fetcher_refuses_private_answers_without_traffic(no_connect: None, answer: str) -> None:
    fetcher = SafeFetcher(getaddrinfo=resolving({"evil.example": answer}))
    with pytest.raises(FetchError):
        fetcher("https://evil.example/.well-known/did.json")


def test_mixed_answers_are_refused(no_connect: None) -> None:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port))]

    with pytest.raises(FetchError):
        SafeFetcher(getaddrinfo=getaddrinfo)("https://mixed.example/")


def test_plain_http_to_a_public_host_is_refused(no_connect: None) -> None:
    fetcher = SafeFetcher(allow_http_loopback=True, getaddrinfo=resolving({"example.com": "93.184.215.14"}))
    with pytest.raises(FetchError):
        fetcher("http://example.com/.well-known/did.json")


def test_lookup_failure(no_connect: None) -> None:
    def getaddrinfo(*args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror("no such host")

    with pytest.raises(FetchError):
        SafeFetcher(getaddrinfo=getaddrinfo)("https://nowhere.example/")


@pytest.mark.parametrize("url", [
    "ftp://example.com/did.json", "file:///etc/passwd", "https://user@example.com/", "https://u:p@example.com/",
    "https://example.com/#frag", "https:///path", "https://example.com:99999/", "https://example.com/a b",
    "gopher://example.com/", "https://exam\u00e9ple.com/", "",
])
def test_malformed_or_refused_urls(no_connect: None, url: str) -> None:
    fetcher = SafeFetcher(getaddrinfo=resolving({"example.com": "93.184.215.14"}))
    with pytest.raises(FetchError):
        fetcher(url)


def test_allowed_hosts(no_connect: None) -> None:
    fetcher = SafeFetcher(allowed_hosts=frozenset({"Issuer.Example"}),
                          getaddrinfo=resolving({"other.example": "93.184.215.14"}))
    with pytest.raises(FetchError):
        fetcher("https://other.example/.well-known/did.json")


def test_constructor_validation() -> None:
    with pytest.raises(FetchError):
        SafeFetcher(max_bytes=0)
    with pytest.raises(FetchError):
        SafeFetcher(timeout=0)
