"""The wallet file: one passphrase-encrypted, authenticated file, written atomically.

Layout (UTF-8 header line, then binary)::

    {"aead":"AES-256-GCM","kdf":"scrypt","magic":"chopmark-wallet","n":32768,"nonce":"...","p":1,"r":8,
     "salt":"...","version":1}\\n<ciphertext || 16-byte tag>

* Key: scrypt (RFC 7914) over the NFC-normalised UTF-8 passphrase with a fresh 16-byte salt per write, 32 bytes
  (``cryptography``'s ``Scrypt``).
* Body: AES-256-GCM (NIST SP 800-38D) or ChaCha20-Poly1305 (RFC 8439) with a fresh 12-byte nonce; the exact
  header bytes are the associated data, so changing any byte of the header or the body fails authentication.
* A header that is missing, truncated, not JSON or out of bounds is :class:`WalletCorruptError`; failed
  authentication is :class:`WalletLockedError` (a wrong passphrase and a modified file cannot be told apart).
* Writes go to a temporary file in the same directory (mode 0600), are fsynced, renamed over the target with
  ``os.replace`` and the directory is fsynced: a crash leaves either the old or the new file, never a mix.

Backups (``export``) use the same format under a separate passphrase.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from chopmark.dids import loads_strict_json
from wallet.errors import WalletCorruptError, WalletIOError, WalletLockedError, WalletNotFoundError

MAGIC = "chopmark-wallet"
VERSION = 1
AEADS: dict[str, Callable[[bytes], AESGCM | ChaCha20Poly1305]] = {
    "AES-256-GCM": AESGCM,
    "ChaCha20-Poly1305": ChaCha20Poly1305,
}
DEFAULT_AEAD = "AES-256-GCM"
SALT_BYTES = 16
NONCE_BYTES = 12  # SP 800-38D §8.2 / RFC 8439 §2.8: 96-bit nonces
TAG_BYTES = 16
KEY_BYTES = 32
MAX_HEADER_BYTES = 1024
#: scrypt memory is 128 * n * r bytes; refuse headers asking for more than 256 MiB (a file could be crafted to
#: exhaust memory before authentication can fail).
MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
_HEADER_KEYS = frozenset({"magic", "version", "kdf", "n", "r", "p", "salt", "aead", "nonce"})

Rng = Callable[[int], bytes]


@dataclass(frozen=True)
class KdfParams:
    """scrypt cost parameters (RFC 7914 §2). The default n = 2**15, r = 8, p = 1 takes 32 MiB and tens of
    milliseconds; tests pass a small ``n``."""

    n: int = 2**15
    r: int = 8
    p: int = 1

    def check(self) -> None:
        """Raise :class:`WalletCorruptError` unless n is a power of two > 1 and the cost is within bounds."""
        if not (isinstance(self.n, int) and self.n > 1 and self.n & (self.n - 1) == 0):
            raise WalletCorruptError("wallet header: scrypt n must be a power of two greater than 1")
        if not (isinstance(self.r, int) and 1 <= self.r <= 64 and isinstance(self.p, int) and 1 <= self.p <= 16):
            raise WalletCorruptError("wallet header: scrypt r or p is out of bounds")
        if 128 * self.n * self.r > MAX_SCRYPT_MEMORY:
            raise WalletCorruptError("wallet header: scrypt parameters ask for too much memory")


DEFAULT_KDF = KdfParams()


@dataclass(frozen=True)
class Header:
    """The parsed header of a sealed file."""

    kdf: KdfParams
    salt: bytes
    aead: str
    nonce: bytes


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, size: int, name: str) -> bytes:
    if not isinstance(value, str):
        raise WalletCorruptError(f"wallet header: {name} must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise WalletCorruptError(f"wallet header: {name} is not valid base64") from None
    if len(raw) != size:
        raise WalletCorruptError(f"wallet header: {name} must be {size} bytes")
    return raw


def _derive(passphrase: str, salt: bytes, kdf: KdfParams) -> bytes:
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return Scrypt(salt=salt, length=KEY_BYTES, n=kdf.n, r=kdf.r, p=kdf.p).derive(secret)


def seal(plaintext: bytes, passphrase: str, *, rng: Rng, kdf: KdfParams = DEFAULT_KDF,
         aead: str = DEFAULT_AEAD) -> bytes:
    """Encrypt ``plaintext`` under ``passphrase`` with a fresh salt and nonce; return the file bytes."""
    if aead not in AEADS:
        raise ValueError(f"unknown AEAD {aead!r}; use one of {', '.join(AEADS)}")
    kdf.check()
    salt, nonce = rng(SALT_BYTES), rng(NONCE_BYTES)
    if len(salt) != SALT_BYTES or len(nonce) != NONCE_BYTES:
        raise ValueError("rng(n) must return n bytes")
    header = {"magic": MAGIC, "version": VERSION, "kdf": "scrypt", "n": kdf.n, "r": kdf.r, "p": kdf.p,
              "salt": _b64(salt), "aead": aead, "nonce": _b64(nonce)}
    header_bytes = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii")
    cipher = AEADS[aead](_derive(passphrase, salt, kdf))
    return header_bytes + b"\n" + cipher.encrypt(nonce, plaintext, header_bytes)


def split(data: bytes) -> tuple[bytes, Header, bytes]:
    """Split file bytes into (header bytes, parsed header, ciphertext); :class:`WalletCorruptError` when the
    header is missing, truncated or not a version-1 Chopmark wallet header."""
    end = data.find(b"\n", 0, MAX_HEADER_BYTES + 1)
    if not data.startswith(b"{") or end < 0:
        raise WalletCorruptError("not a Chopmark wallet file (no wallet header)")
    header_bytes, body = data[:end], data[end + 1:]
    doc = loads_strict_json(header_bytes, WalletCorruptError)
    if not isinstance(doc, dict) or doc.get("magic") != MAGIC:
        raise WalletCorruptError("not a Chopmark wallet file (wrong magic)")
    if doc.get("version") != VERSION or set(doc) != _HEADER_KEYS:
        raise WalletCorruptError(f"unsupported wallet format (version {doc.get('version')!r})")
    if doc["kdf"] != "scrypt" or doc["aead"] not in AEADS:
        raise WalletCorruptError(f"unsupported wallet KDF {doc['kdf']!r} or cipher {doc['aead']!r}")
    kdf = KdfParams(doc["n"], doc["r"], doc["p"])
    kdf.check()
    header = Header(kdf, _unb64(doc["salt"], SALT_BYTES, "salt"), doc["aead"],
                    _unb64(doc["nonce"], NONCE_BYTES, "nonce"))
    if len(body) < TAG_BYTES:
        raise WalletCorruptError("the wallet file is truncated (no authenticated body)")
    return header_bytes, header, body


def unseal(data: bytes, passphrase: str) -> tuple[bytes, Header]:
    """Decrypt file bytes; return (plaintext, header). Raises :class:`WalletCorruptError` or
    :class:`WalletLockedError`."""
    header_bytes, header, body = split(data)
    cipher = AEADS[header.aead](_derive(passphrase, header.salt, header.kdf))
    try:
        return cipher.decrypt(header.nonce, body, header_bytes), header
    except InvalidTag:
        raise WalletLockedError("cannot open the wallet: wrong passphrase or the file was modified") from None


def read_file(path: Path) -> bytes:
    """The bytes of the file at ``path`` (:class:`WalletNotFoundError` / :class:`WalletIOError`)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise WalletNotFoundError(f"no wallet at {path}") from None
    except IsADirectoryError:
        raise WalletCorruptError(f"{path} is a directory, not a wallet file") from None
    except OSError as exc:
        raise WalletIOError(f"cannot read {path}: {exc.strerror}") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temp file in the same directory, fsync, ``os.replace``,
    fsync of the directory); the file's mode is 0600. On failure the old file is left untouched."""
    directory = path.parent
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")  # created 0600
    except OSError as exc:
        raise WalletIOError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise WalletIOError(f"cannot write {path}: {exc.strerror or exc}") from None
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    # POSIX: the rename is durable only once the directory entry is flushed; not supported everywhere
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save_json(path: Path, document: Any, passphrase: str, *, rng: Rng, kdf: KdfParams = DEFAULT_KDF,
              aead: str = DEFAULT_AEAD) -> bytes:
    """Seal ``document`` (JSON) and write it atomically; return the written header bytes."""
    sealed = seal(json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8"), passphrase, rng=rng,
                  kdf=kdf, aead=aead)
    write_atomic(path, sealed)
    return sealed[:sealed.index(b"\n")]


def load_json(path: Path, passphrase: str) -> tuple[Any, Header, bytes]:
    """Read, authenticate and parse the sealed JSON at ``path``; return (document, header, header bytes)."""
    data = read_file(path)
    plaintext, header = unseal(data, passphrase)
    document = loads_strict_json(plaintext, WalletCorruptError)
    return document, header, data[:data.index(b"\n")]


def current_header(path: Path) -> bytes | None:
    """The header bytes of the file now at ``path`` (None when there is no readable file)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(MAX_HEADER_BYTES + 1)
    except OSError:
        return None
    end = head.find(b"\n")
    return head[:end] if end >= 0 else head
