"""Key pairs: a private key held in a ``cryptography`` key object, built from a seed, injected randomness, a
Multikey key pair or a private JWK. Ed25519 (RFC 8032) and deterministic ECDSA (RFC 6979) signing, so nothing
here reads a clock or an entropy source."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from chopmark.codecs import multibase
from chopmark.errors import KeyFormatError, UsageError
from chopmark.keys.encoding import b64url_member, decode_multikey_value, jwk_key_type
from chopmark.keys.public import PublicKey
from chopmark.keys.signing import Signer
from chopmark.keys.types import CURVES, HASHES, SECRET_CODECS, SPECS, KeyType, PrivateKeyObject


def _private_from_seed(key_type: KeyType, seed: bytes) -> PrivateKeyObject:
    spec = SPECS[key_type]
    if not isinstance(seed, bytes | bytearray) or len(seed) != spec.secret_len:
        raise KeyFormatError(f"a {key_type.value} secret key has {spec.secret_len} bytes")
    if key_type is KeyType.ED25519:
        # RFC 8032 §5.1.5: the 32-byte private key (seed)
        return ed25519.Ed25519PrivateKey.from_private_bytes(bytes(seed))
    scalar = int.from_bytes(seed, "big")
    # SEC 1 §3.2.1: the secret scalar d must lie in [1, n-1]
    if not 0 < scalar < spec.order:
        raise KeyFormatError(f"the {key_type.value} secret scalar is not in [1, n-1]")
    return ec.derive_private_key(scalar, CURVES[key_type])


class KeyPair:
    """A private key and its :class:`PublicKey`. The secret is held in a ``cryptography`` key object."""

    __slots__ = ("_private", "key_type", "public_key")

    def __init__(self, key_type: KeyType, private: PrivateKeyObject) -> None:
        """Wrap a ``cryptography`` private key of ``key_type`` (use the classmethods instead)."""
        self.key_type = KeyType(key_type)
        self._private = private
        pub = private.public_key()
        if isinstance(pub, ed25519.Ed25519PublicKey):
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        else:
            raw = pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
        self.public_key = PublicKey(self.key_type, raw)

    def __repr__(self) -> str:
        return f"KeyPair({self.key_type.value}, {self.public_key.multibase()})"

    @classmethod
    def from_seed(cls, key_type: KeyType, seed: bytes) -> KeyPair:
        """Ed25519: the 32-byte seed; EC: the big-endian secret scalar (32 / 48 bytes) in [1, n-1]."""
        key_type = KeyType(key_type)
        return cls(key_type, _private_from_seed(key_type, seed))

    @classmethod
    def generate(cls, key_type: KeyType, rng: Callable[[int], bytes]) -> KeyPair:
        """Generate from injected randomness: ``rng(n)`` must return ``n`` random bytes.

        Ed25519 uses 32 bytes as the seed; EC keys rejection-sample a scalar in [1, n-1] (FIPS 186-5 A.2.2).
        """
        key_type = KeyType(key_type)
        spec = SPECS[key_type]
        for _ in range(64):
            candidate = rng(spec.secret_len)
            if not isinstance(candidate, bytes) or len(candidate) != spec.secret_len:
                raise UsageError(f"rng({spec.secret_len}) must return {spec.secret_len} bytes")
            scalar = int.from_bytes(candidate, "big")
            if key_type is KeyType.ED25519 or 0 < scalar < spec.order:
                return cls.from_seed(key_type, candidate)
        raise UsageError("rng produced no valid secret scalar in 64 attempts")

    @classmethod
    def from_multikey(cls, doc: Mapping[str, Any]) -> KeyPair:
        """Read a Multikey key pair (CID §2.2.2): ``secretKeyMultibase`` (or the older
        ``privateKeyMultibase``) and, when present, ``publicKeyMultibase``, which must match the secret."""
        if not isinstance(doc, Mapping):
            raise KeyFormatError("a Multikey must be a JSON object")
        if doc.get("type", "Multikey") != "Multikey":
            raise KeyFormatError(f"unsupported key type {doc.get('type')!r}, expected Multikey")
        secrets = {doc[k] for k in ("secretKeyMultibase", "privateKeyMultibase") if k in doc}
        if len(secrets) != 1:
            raise KeyFormatError("a Multikey key pair needs exactly one secretKeyMultibase value")
        codec, raw = decode_multikey_value(secrets.pop(), "secretKeyMultibase")
        key_type = SECRET_CODECS.get(codec)
        if key_type is None:
            name = multibase.CODEC_NAMES.get(codec, hex(codec))
            raise KeyFormatError(f"unsupported secret key multicodec {name}")
        pair = cls.from_seed(key_type, raw)
        public = doc.get("publicKeyMultibase")
        if public is not None and PublicKey.from_multibase(public) != pair.public_key:
            raise KeyFormatError("publicKeyMultibase does not match the secret key")
        return pair

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> KeyPair:
        """Read a private JWK (``d`` plus the public members, which must match the secret)."""
        key_type = jwk_key_type(jwk)
        pair = cls.from_seed(key_type, b64url_member(jwk, "d", SPECS[key_type].secret_len))
        if PublicKey.from_jwk(jwk, allow_private=True) != pair.public_key:
            raise KeyFormatError("the JWK public members do not match its private key")
        return pair

    def secret_bytes(self) -> bytes:
        """The raw secret: Ed25519 seed or big-endian EC scalar (handle with care)."""
        if isinstance(self._private, ed25519.Ed25519PrivateKey):
            return self._private.private_bytes_raw()
        return self._private.private_numbers().private_value.to_bytes(SPECS[self.key_type].secret_len, "big")

    def secret_multibase(self) -> str:
        """The ``secretKeyMultibase`` value: ``z`` + base58btc(varint(secret codec) + secret)."""
        header = multibase.varint_encode(SPECS[self.key_type].secret_codec)
        return multibase.encode(header + self.secret_bytes())

    def to_jwk(self) -> dict[str, str]:
        """The PUBLIC JWK of this key pair: JWK output never carries private members (read them with
        :meth:`from_jwk`)."""
        return self.public_key.to_jwk()

    def to_multikey(self, *, include_secret: bool, id: str | None = None,
                    controller: str | None = None) -> dict[str, str]:
        """The Multikey form (CID §2.2.2): id?, type, controller?, publicKeyMultibase, secretKeyMultibase?."""
        out: dict[str, str] = {}
        if id is not None:
            out["id"] = id
        out["type"] = "Multikey"
        if controller is not None:
            out["controller"] = controller
        out["publicKeyMultibase"] = self.public_key.multibase()
        if include_secret:
            out["secretKeyMultibase"] = self.secret_multibase()
        return out

    def sign(self, data: bytes) -> bytes:
        """Sign ``data``: Ed25519 (64 bytes) or deterministic ECDSA (RFC 6979) as P1363 ``r || s``."""
        if isinstance(self._private, ed25519.Ed25519PrivateKey):
            return self._private.sign(bytes(data))
        algorithm = ec.ECDSA(HASHES[self.key_type](), deterministic_signing=True)
        r, s = decode_dss_signature(self._private.sign(bytes(data), algorithm))
        size = SPECS[self.key_type].secret_len
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    def signer(self, vm_id: str) -> Signer:
        """A :class:`Signer` for this key named by verification method URL ``vm_id``."""
        return Signer(vm_id, self.algorithm, self)

    @property
    def algorithm(self) -> str:
        """The algorithm name (same strings as :class:`KeyType` values)."""
        return self.key_type.value


def load_key_file(doc: Mapping[str, Any]) -> tuple[KeyPair, str | None, str | None]:
    """Read a key file for the CLI: a Multikey key pair (as in the W3C vectors) or a private JWK, optionally
    with ``id`` and ``controller``; return ``(key pair, id, controller)``."""
    if not isinstance(doc, Mapping):
        raise KeyFormatError("a key file must hold a JSON object")
    if "secretKeyMultibase" in doc or "privateKeyMultibase" in doc:
        pair = KeyPair.from_multikey(doc)
    elif isinstance(doc.get("privateKeyJwk"), Mapping):
        pair = KeyPair.from_jwk(doc["privateKeyJwk"])
    elif "kty" in doc:
        pair = KeyPair.from_jwk(doc)
    else:
        raise KeyFormatError("the key file holds neither secretKeyMultibase nor a private JWK")
    ident, controller = doc.get("id"), doc.get("controller")
    if ident is not None and not isinstance(ident, str):
        raise KeyFormatError("key file 'id' must be a string")
    if controller is not None and not isinstance(controller, str):
        raise KeyFormatError("key file 'controller' must be a string")
    return pair, ident, controller
