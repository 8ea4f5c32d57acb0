"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and tlog checkpoints (c2sp.org/tlog-checkpoint).

A note is a text ending in a newline, a blank line, and one or more signature lines
``— <key name> base64(4-byte key ID || signature)``. A key is named by its verifier key (vkey)
``<name>+<hex key ID>+base64(0x01 || Ed25519 public key)`` with key ID = SHA-256(name || 0x0A || 0x01 ||
public key)[:4]. The published *test* private keys use the golang.org/x/mod format
``PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 || 32-byte seed)`` (:func:`parse_signer_key`), which lets the
deterministic signing vectors be reproduced. Only Ed25519 (signature type 0x01) is supported.

Opening follows signed-note §Signatures: signatures by unknown keys are ignored (reported as unverified), a
known key's signature must verify or the whole note is refused, and a note with no verified signature is
refused. A checkpoint is a note whose text is ``origin\\nsize\\nbase64(root)\\n[extension lines]``
(tlog-checkpoint §Note text); :func:`open_checkpoint` requires the log's own signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from chopmark.errors import KeyFormatError, NoteError, UsageError

ED25519 = 0x01
MAX_SIGNATURES = 100  # signed-note §Format: a limit is advised, at least 16 must be accepted (Go uses 100)
_SIG_PREFIX = "— "
_SIZE_RE = re.compile(r"\A(?:0|[1-9][0-9]{0,19})\Z")
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f]")

MALFORMED_NOTE = "MALFORMED_NOTE"
UNVERIFIED_NOTE = "UNVERIFIED_NOTE"
AMBIGUOUS_KEY = "AMBIGUOUS_KEY"
INVALID_SIGNATURE = "INVALID_SIGNATURE"
MALFORMED_CHECKPOINT = "MALFORMED_CHECKPOINT"
ORIGIN_MISMATCH = "ORIGIN_MISMATCH"


def _b64decode(text: str) -> bytes | None:
    """Strict standard base64 (RFC 4648 §4, padded, canonical), or None."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def valid_key_name(name: str) -> bool:
    """signed-note §Format: key names are non-empty, without Unicode spaces, plus signs or control chars."""
    return bool(name) and not any(c.isspace() or c == "+" or c < " " for c in name)


def _valid_text(text: str) -> bool:
    """signed-note §Format: valid UTF-8 with no ASCII control characters other than newline."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return _CONTROL_RE.search(text) is None


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """signed-note §Signatures: key ID = SHA-256(key name || 0x0A || signature type || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """signed-note §Verifier keys: the vkey ``name+hex(key ID)+base64(0x01 || public key)`` of an Ed25519 key."""
    if not valid_key_name(name):
        raise UsageError(f"invalid note key name {name!r}")
    if len(public_key) != 32:
        raise UsageError("an Ed25519 public key is 32 bytes")
    encoded = base64.b64encode(bytes([ED25519]) + public_key).decode("ascii")
    return f"{name}+{key_id(name, ED25519, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class NoteVerifier:
    """A known Ed25519 note key (from a vkey)."""

    name: str
    public_key: bytes
    key_id: bytes = field(init=False)
    _key: ed25519.Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not valid_key_name(self.name) or len(self.public_key) != 32:
            raise KeyFormatError("a note verifier needs a valid key name and a 32-byte Ed25519 key")
        object.__setattr__(self, "key_id", key_id(self.name, ED25519, self.public_key))
        object.__setattr__(self, "_key", ed25519.Ed25519PublicKey.from_public_bytes(self.public_key))

    @property
    def vkey(self) -> str:
        """The verifier key string."""
        return verifier_key(self.name, self.public_key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        """True iff ``signature`` (64 bytes, without the key ID) is this key's Ed25519 signature of ``text``."""
        if len(signature) != 64:
            return False
        try:
            self._key.verify(signature, text)
        except InvalidSignature:
            return False
        return True


def _split_key(text: str, parts: int) -> list[str]:
    """Split a vkey/skey on '+': the last part is base64 and may itself hold '+'."""
    pieces = text.split("+", parts - 1)
    if len(pieces) != parts:
        raise KeyFormatError("a note key has the wrong number of parts")
    return pieces


def _decode_key_parts(name: str, hex_id: str, b64: str) -> bytes:
    """Check name, lowercase 8-digit key ID and base64(0x01 || 32 bytes); return the 32 key bytes."""
    if not valid_key_name(name):
        raise KeyFormatError(f"invalid note key name {name!r}")
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise KeyFormatError("a note key ID is 8 lowercase hex digits")
    raw = _b64decode(b64)
    if raw is None:
        raise KeyFormatError("a note key is not canonical base64")
    if len(raw) != 33 or raw[0] != ED25519:
        raise KeyFormatError("only Ed25519 note keys (type 0x01, 32 bytes) are supported")
    return raw[1:]


def parse_verifier_key(vkey: str) -> NoteVerifier:
    """signed-note §Verifier keys: parse a vkey strictly (3 parts, Ed25519, key ID recomputed and matched)."""
    name, hex_id, b64 = _split_key(vkey, 3)
    public_key = _decode_key_parts(name, hex_id, b64)
    verifier = NoteVerifier(name, public_key)
    if verifier.key_id.hex() != hex_id:
        raise KeyFormatError("the vkey's key ID does not match its name and key")
    return verifier


@dataclass(frozen=True)
class NoteSigner:
    """An Ed25519 note signer: its name, public key and a ``sign(message) -> 64-byte signature`` function."""

    name: str
    public_key: bytes
    sign: Callable[[bytes], bytes] = field(repr=False, compare=False)

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID."""
        return key_id(self.name, ED25519, self.public_key)

    @property
    def vkey(self) -> str:
        """The matching verifier key."""
        return verifier_key(self.name, self.public_key)


def signer_key(name: str, seed: bytes) -> str:
    """The x/mod skey ``PRIVATE+KEY+name+hex(key ID)+base64(0x01 || seed)`` of an Ed25519 seed."""
    if len(seed) != 32:
        raise UsageError("an Ed25519 seed is 32 bytes")
    public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    hex_id = verifier_key(name, public).split("+")[1]
    return f"PRIVATE+KEY+{name}+{hex_id}+" + base64.b64encode(bytes([ED25519]) + seed).decode("ascii")


def parse_signer_key(skey: str) -> NoteSigner:
    """Parse an x/mod skey strictly; the key ID must match the public key derived from the seed."""
    private, key_word, name, hex_id, b64 = _split_key(skey, 5)
    if private != "PRIVATE" or key_word != "KEY":
        raise KeyFormatError("a signer key starts with PRIVATE+KEY+")
    seed = _decode_key_parts(name, hex_id, b64)
    private_key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    public = private_key.public_key().public_bytes_raw()
    if key_id(name, ED25519, public).hex() != hex_id:
        raise KeyFormatError("the skey's key ID does not match its name and key")
    return NoteSigner(name, public, private_key.sign)


# --- signing and opening --------------------------------------------------------------------------------------

def _signature_line(text: str, name: str, sign: Callable[[bytes], bytes], public_key: bytes) -> str:
    if not valid_key_name(name):
        raise UsageError(f"invalid note key name {name!r}")
    signature = sign(text.encode("utf-8"))
    if len(signature) != 64:
        raise UsageError("an Ed25519 signature is 64 bytes")
    blob = key_id(name, ED25519, public_key) + signature
    return f"{_SIG_PREFIX}{name} {base64.b64encode(blob).decode('ascii')}\n"


def sign_note(text: str, name: str, sign: Callable[[bytes], bytes], public_key: bytes) -> str:
    """signed-note §Format: the note ``text || 0x0A || signature line`` signed by the Ed25519 key ``name``."""
    if not text.endswith("\n") or not _valid_text(text):
        raise UsageError("a note text must end with a newline and hold no control characters")
    return text + "\n" + _signature_line(text, name, sign, public_key)


def add_signature(note: str, name: str, sign: Callable[[bytes], bytes], public_key: bytes) -> str:
    """Append one more signature (e.g. a cosigner's) over the text of an existing well-formed note."""
    text, _ = _parse(note)
    return note + _signature_line(text, name, sign, public_key)


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID and the signature bytes after the ID."""

    name: str
    key_id: bytes
    signature: bytes

    @property
    def key(self) -> str:
        """``name+hex(key ID)``, how the Go library names a key."""
        return f"{self.name}+{self.key_id.hex()}"


@dataclass(frozen=True)
class OpenedNote:
    """An opened note: its text, the names of the keys whose signatures verified and of unknown signers."""

    text: str
    verified: list[str]
    unverified: list[str]
    signatures: list[NoteSignature] = field(default_factory=list)
    unverified_signatures: list[NoteSignature] = field(default_factory=list)


def _malformed(detail: str) -> NoteError:
    return NoteError(f"malformed note: {detail}", code=MALFORMED_NOTE)


def _parse(note: str | bytes) -> tuple[str, list[tuple[str, NoteSignature]]]:
    """signed-note §Format: split the text from the signature lines (at the LAST blank line) and decode
    each line; return the text and (line, signature) pairs. Raises ``MALFORMED_NOTE``."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("not UTF-8") from None
    if not _valid_text(note):
        raise _malformed("control character or invalid UTF-8")
    split = note.rfind("\n\n")
    if split < 0:
        raise _malformed("no signature block")
    text, block = note[:split + 1], note[split + 2:]
    if not block.endswith("\n"):
        raise _malformed("the signature block must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(f"more than {MAX_SIGNATURES} signatures")
    out: list[tuple[str, NoteSignature]] = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise _malformed("a line of the signature block is not a signature")
        name, sep, b64 = line[len(_SIG_PREFIX):].partition(" ")
        blob = _b64decode(b64) if sep else None
        if blob is None or len(blob) < 5 or not valid_key_name(name):
            raise _malformed("bad signature line")
        out.append((line, NoteSignature(name, blob[:4], blob[4:])))
    return text, out


def parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """signed-note §Format: the text and the signature lines of a well-formed note, nothing verified.
    Raises :class:`NoteError` ``MALFORMED_NOTE``."""
    text, parsed = _parse(note)
    return text, [sig for _, sig in parsed]


def _index(verifiers: Sequence[NoteVerifier | str]) -> dict[tuple[str, bytes], list[NoteVerifier]]:
    known: dict[tuple[str, bytes], list[NoteVerifier]] = {}
    for v in verifiers:
        verifier = parse_verifier_key(v) if isinstance(v, str) else v
        known.setdefault((verifier.name, verifier.key_id), []).append(verifier)
    return known


def open_note(note: str | bytes, verifiers: Sequence[NoteVerifier | str]) -> OpenedNote:
    """signed-note §Signatures: open a note with the known keys (NoteVerifier or vkey strings).

    Raises :class:`NoteError` with code ``MALFORMED_NOTE``, ``AMBIGUOUS_KEY`` (a signature matches two known
    keys), ``INVALID_SIGNATURE`` (a known key's signature fails) or ``UNVERIFIED_NOTE`` (none verified).
    Identical repeated signature lines count once; signatures by unknown keys are listed as unverified.
    """
    text, parsed = _parse(note)
    known = _index(verifiers)
    message = text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen_keys: set[tuple[str, bytes]] = set()
    seen_lines: set[str] = set()
    for line, sig in parsed:
        candidates = known.get((sig.name, sig.key_id), [])
        if not candidates:  # unknown key (name and ID must both match): ignored
            if line not in seen_lines:
                seen_lines.add(line)
                unverified.append(sig)
            continue
        if len(candidates) > 1:
            raise NoteError(f"ambiguous key {sig.key}", code=AMBIGUOUS_KEY)
        if not candidates[0].verify(message, sig.signature):
            raise NoteError(f"invalid signature for key {sig.key}", code=INVALID_SIGNATURE)
        if (sig.name, sig.key_id) not in seen_keys:
            seen_keys.add((sig.name, sig.key_id))
            verified.append(sig)
    if not verified:
        raise NoteError("note has no verifiable signatures", code=UNVERIFIED_NOTE)
    return OpenedNote(text, [s.name for s in verified], [s.name for s in unverified], verified, unverified)


# --- checkpoints ----------------------------------------------------------------------------------------------

def _bad_checkpoint(detail: str) -> NoteError:
    return NoteError(f"malformed checkpoint: {detail}", code=MALFORMED_CHECKPOINT)


@dataclass(frozen=True)
class Checkpoint:
    """tlog-checkpoint §Note text: origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin or not _valid_text(self.origin):
            raise UsageError("a checkpoint origin is one non-empty line")
        if not 0 <= self.size < 1 << 64:
            raise UsageError("a checkpoint size is an unsigned 64-bit integer")
        if any(not e or "\n" in e or not _valid_text(e) for e in self.extensions):
            raise UsageError("checkpoint extension lines are non-empty single lines")

    def format(self) -> str:
        """The note text: ``origin\\nsize\\nbase64(root)\\n`` then the extension lines."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode("ascii"), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str, *, hash_size: int | None = 32) -> Checkpoint:
        """Parse a checkpoint text strictly (raises ``MALFORMED_CHECKPOINT``): at least three non-empty lines,
        a trailing newline, decimal size without leading zeros below 2**64, canonical base64 root of
        ``hash_size`` bytes (the RFC 6962 SHA-256 hash; None accepts any length), non-empty extensions."""
        if not text.endswith("\n") or not _valid_text(text):
            raise _bad_checkpoint("the text must end with a newline and hold no control characters")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or any(not line for line in lines):
            raise _bad_checkpoint("it needs at least three lines and no empty line")
        origin, size_text, root_text, *extensions = lines
        if not _SIZE_RE.match(size_text) or int(size_text) >= 1 << 64:
            raise _bad_checkpoint("the tree size is not a decimal uint64 without leading zeros")
        root_hash = _b64decode(root_text)
        if root_hash is None or (hash_size is not None and len(root_hash) != hash_size):
            raise _bad_checkpoint("the root hash is not base64 of a SHA-256 hash")
        return cls(origin, int(size_text), root_hash, tuple(extensions))

    def sign(self, name: str, sign: Callable[[bytes], bytes], public_key: bytes) -> str:
        """Sign this checkpoint as a note by the Ed25519 key ``name`` (normally the origin)."""
        return sign_note(self.format(), name, sign, public_key)


def open_checkpoint(note: str | bytes, origin: str, verifier: NoteVerifier | str, *,
                    cosigners: Sequence[NoteVerifier | str] = (), hash_size: int | None = 32) -> Checkpoint:
    """Open a signed checkpoint: the log key ``verifier`` must have signed it (tlog-checkpoint §Signatures),
    signatures by ``cosigners`` must verify when present, unknown ones are ignored, and the origin line must
    equal ``origin``. Raises :class:`NoteError` (codes as :func:`open_note`, plus ``MALFORMED_CHECKPOINT``
    and ``ORIGIN_MISMATCH``)."""
    log = parse_verifier_key(verifier) if isinstance(verifier, str) else verifier
    opened = open_note(note, [log, *cosigners])
    if not any(s.name == log.name and s.key_id == log.key_id for s in opened.signatures):
        raise NoteError(f"checkpoint not signed by the log key {log.name}", code=UNVERIFIED_NOTE)
    checkpoint = Checkpoint.parse(opened.text, hash_size=hash_size)
    if checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}", code=ORIGIN_MISMATCH)
    return checkpoint


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint with the signed note that carries it."""

    checkpoint: Checkpoint
    note: str


def cosignature_timestamp(signature: str) -> int | None:
    """tlog-cosignature (type 0x04) signature field: base64(key ID || 8-byte big-endian timestamp || 64-byte
    Ed25519 signature); return the timestamp, or None when it is not that layout."""
    raw = _b64decode(signature)
    if raw is None or len(raw) != 4 + 8 + 64:
        return None
    return int.from_bytes(raw[4:12], "big")
