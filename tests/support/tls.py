"""TLS for the multi-host tests: a self-signed certificate for 127.0.0.1, a Chopmark server speaking HTTPS with it,
and a small static HTTPS file server (a merchant's web site) running in a thread of the test process."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import ipaddress
import ssl
import threading
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.live import LiveServer

LOOPBACK = "127.0.0.1"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """Write a fresh P-256 certificate for 127.0.0.1 (valid one day, its own CA) and its key; returns
    ``(cert.pem, key.pem)``. Point ``SSL_CERT_FILE`` or ``CHOPMARK_FETCH_CA_FILE`` at the certificate to trust it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class TlsServer(LiveServer):
    """A LiveServer speaking HTTPS (its URL, and so its did:web identifiers, are https)."""

    def __init__(self, data_dir: Path, cert: Path, key: Path, *, env: dict[str, str] | None = None,
                 workers: int = 2) -> None:
        super().__init__(data_dir, env={"CHOPMARK_TLS_CERT_FILE": str(cert), "CHOPMARK_TLS_KEY_FILE": str(key),
                                        **(env or {})}, workers=workers)

    @property
    def url(self) -> str:
        """``https://127.0.0.1:<port>``."""
        return self._url

    @url.setter
    def url(self, value: str) -> None:
        # LiveServer sets an http URL (also when it retries on another port): this server speaks https
        self._url = value.replace("http://", "https://", 1)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files of one directory; no access log on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence."""


class StaticHttpsServer:
    """The files under ``root`` over HTTPS on a free loopback port (``url``: ``https://127.0.0.1:<port>``), in a
    daemon thread. Use as a context manager; the files may change while it runs."""

    def __init__(self, root: Path, cert: Path, key: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        handler = functools.partial(_QuietHandler, directory=str(root))
        self._httpd = http.server.ThreadingHTTPServer((LOOPBACK, 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = int(self._httpd.server_address[1])
        self.url = f"https://{LOOPBACK}:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="static-https", daemon=True)

    def put(self, path: str, data: bytes) -> None:
        """Serve ``data`` at ``path`` (``/.well-known/did.json``)."""
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def remove(self, path: str) -> None:
        """Stop serving ``path`` (404 from now on)."""
        (self.root / path.lstrip("/")).unlink()

    def __enter__(self) -> StaticHttpsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)
