"""Public keys, key pairs, signers and verifiers (Controlled Identifiers 1.0 §2.2.2 Multikey, RFC 7517 JWK).

Three key types are supported: Ed25519 (RFC 8032, pure EdDSA), ECDSA P-256 with SHA-256 and ECDSA P-384 with
SHA-384 (FIPS 186-5). Signatures are the raw forms the Data Integrity cryptosuites use: 64 bytes for Ed25519
and IEEE P1363 ``r || s`` (64 / 96 bytes) for ECDSA.

The module is pure: randomness is injected (:meth:`KeyPair.generate` takes an ``rng``) and ECDSA signing is
deterministic (RFC 6979), so nothing here reads a clock or an entropy source.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from chopmark import multibase
from chopmark.errors import KeyFormatError, MalformedValueError, UsageError


class KeyType(StrEnum):
    """The supported key types; the value is also the algorithm name used by signers and verifiers."""

    ED25519 = "Ed25519"
    P256 = "P-256"
    P384 = "P-384"


@dataclass(frozen=True)
class _Spec:
    public_codec: int
    secret_codec: int
    public_len: int  # compressed for EC (CID §2.2.2: "compressed public key")
    secret_len: int
    order: int  # group order n (0 for Ed25519, unused)


_SPECS: dict[KeyType, _Spec] = {
    KeyType.ED25519: _Spec(multibase.ED25519_PUB, multibase.ED25519_PRIV, 32, 32, 0),
    # FIPS 186-5 / SEC 2: group orders of P-256 and P-384
    KeyType.P256: _Spec(multibase.P256_PUB, multibase.P256_PRIV, 33, 32,
                        0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551),
    KeyType.P384: _Spec(multibase.P384_PUB, multibase.P384_PRIV, 49, 48,
                        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973),
}
#: Public-key multicodec -> key type (CID §2.2.2 Multikey headers 0xed01, 0x8024, 0x8124).
PUBLIC_CODECS: dict[int, KeyType] = {spec.public_codec: kt for kt, spec in _SPECS.items()}
#: Secret-key multicodec -> key type (0x8026, 0x8626, 0x8726).
SECRET_CODECS: dict[int, KeyType] = {spec.secret_codec: kt for kt, spec in _SPECS.items()}
#: Expected raw public key length per public multicodec (did:key "Signature Method Creation Algorithm").
PUBLIC_KEY_LENGTHS: dict[int, int] = {spec.public_codec: spec.public_len for spec in _SPECS.values()}

_CURVES: dict[KeyType, ec.EllipticCurve] = {KeyType.P256: ec.SECP256R1(), KeyType.P384: ec.SECP384R1()}
_HASHES: dict[KeyType, type[hashes.HashAlgorithm]] = {KeyType.P256: hashes.SHA256,
                                                      KeyType.P384: hashes.SHA384}
_JWK_CRV: dict[tuple[str, str], KeyType] = {("OKP", "Ed25519"): KeyType.ED25519,
                                            ("EC", "P-256"): KeyType.P256, ("EC", "P-384"): KeyType.P384}
# RFC 7518 §3.1 / RFC 8037 §3.1: the JWS "alg" a key of each type may carry
_JWK_ALGS: dict[KeyType, frozenset[str]] = {KeyType.ED25519: frozenset({"EdDSA", "Ed25519"}),
                                            KeyType.P256: frozenset({"ES256"}),
                                            KeyType.P384: frozenset({"ES384"})}
#: JWK members that carry private key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

# RFC 8032 §5.1: the edwards25519 field prime and curve constant d
_ED_P = 2**255 - 19
_ED_D = -121665 * pow(121666, -1, _ED_P) % _ED_P

PublicKeyObject = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKeyObject = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


def _ed25519_on_curve(raw: bytes) -> bool:
    # RFC 8032 §5.1.3 decoding steps 1-4: y < p, and x^2 = (y^2 - 1) / (d y^2 + 1) must have a root
    # (x = 0 with the sign bit set is refused, step 4).
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    if y >= _ED_P:
        return False
    x2 = (y * y - 1) * pow(_ED_D * y * y + 1, -1, _ED_P) % _ED_P
    if x2 == 0:
        return not raw[31] >> 7
    return pow(x2, (_ED_P - 1) // 2, _ED_P) == 1


def _load_public(key_type: KeyType, raw: bytes) -> tuple[bytes, PublicKeyObject]:
    """Validate ``raw`` for ``key_type`` and return (canonical raw, cryptography key)."""
    spec = _SPECS[key_type]
    if key_type is KeyType.ED25519:
        if len(raw) != 32:
            raise KeyFormatError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
        if not _ed25519_on_curve(raw):
            raise KeyFormatError("the Ed25519 public key is not a point on the curve")
        return raw, ed25519.Ed25519PublicKey.from_public_bytes(raw)
    coord = spec.secret_len
    if len(raw) not in (coord + 1, 2 * coord + 1):
        raise KeyFormatError(f"a {key_type.value} public key has {coord + 1} (compressed) or {2 * coord + 1} "
                             f"(uncompressed) bytes, not {len(raw)}")
    try:
        # SEC 1 §2.3.4: decoding validates the encoding and that the point lies on the curve
        key = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[key_type], raw)
    except ValueError:
        raise KeyFormatError(f"the {key_type.value} public key is not a valid point on the curve") from None
    compressed = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    return compressed, key


def _b64url_member(jwk: Mapping[str, Any], name: str, length: int) -> bytes:
    # RFC 7518 §6.2.1.2 / §6.2.2.1 / RFC 8037 §2: fixed-length, unpadded base64url members
    try:
        value = multibase.base64url_decode(jwk.get(name))  # type: ignore[arg-type]  # non-str is refused
    except MalformedValueError as exc:
        raise KeyFormatError(f"JWK member {name!r}: {exc.detail}") from None
    if len(value) != length:
        raise KeyFormatError(f"JWK member {name!r} must decode to {length} bytes, not {len(value)}")
    return value


def _jwk_key_type(jwk: Mapping[str, Any]) -> KeyType:
    if not isinstance(jwk, Mapping):
        raise KeyFormatError("a JWK must be a JSON object")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    key_type = _JWK_CRV.get((kty, crv)) if isinstance(kty, str) and isinstance(crv, str) else None
    if key_type is None:
        raise KeyFormatError(f"unsupported JWK key type kty={kty!r} crv={crv!r}")
    alg = jwk.get("alg")
    if alg is not None and alg not in _JWK_ALGS[key_type]:
        raise KeyFormatError(f"JWK alg {alg!r} does not fit a {key_type.value} key")
    return key_type


def _decode_multikey_value(text: Any, what: str) -> tuple[int, bytes]:
    # CID §2.2.2: Multikey values are base58-btc multibase ("z") of a varint multicodec header + key bytes
    if not isinstance(text, str) or not text.startswith("z"):
        raise KeyFormatError(f"{what} must be a base58-btc multibase string starting with 'z'")
    try:
        data = multibase.decode(text)
        codec, used = multibase.varint_decode(data)
    except MalformedValueError as exc:
        raise KeyFormatError(f"{what}: {exc.detail}") from None
    return codec, data[used:]


@dataclass(frozen=True)
class PublicKey:
    """A validated public key; EC keys are stored compressed (33 / 49 bytes), Ed25519 keys as 32 bytes."""

    key_type: KeyType
    raw: bytes
    _key: PublicKeyObject = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.key_type, KeyType) or not isinstance(self.raw, bytes):
            raise KeyFormatError("PublicKey needs a KeyType and raw bytes")
        raw, key = _load_public(self.key_type, self.raw)
        object.__setattr__(self, "raw", raw)
        object.__setattr__(self, "_key", key)

    def __reduce__(self) -> tuple[Any, tuple[KeyType, bytes]]:
        # pickle/copy by value: the cryptography key object is rebuilt from the raw bytes
        return PublicKey, (self.key_type, self.raw)

    @classmethod
    def from_raw(cls, key_type: KeyType, raw: bytes) -> PublicKey:
        """Build from raw bytes; EC points may be compressed or uncompressed and are stored compressed."""
        return cls(KeyType(key_type), bytes(raw))

    @classmethod
    def from_multibase(cls, text: str) -> PublicKey:
        """Decode ``publicKeyMultibase`` (CID §2.2.2), checking the header, the length and the curve.

        Keys are immutable and decoding is pure, so results are memoised (the Ed25519 curve check is costly).
        """
        if not isinstance(text, str):
            raise KeyFormatError("publicKeyMultibase must be a string")
        return _public_from_multibase(text)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any], *, allow_private: bool = False) -> PublicKey:
        """Build from a public JWK (OKP/Ed25519, EC/P-256, EC/P-384); private members are refused unless
        ``allow_private`` (then ignored)."""
        key_type = _jwk_key_type(jwk)
        private = PRIVATE_JWK_MEMBERS.intersection(jwk)
        if private and not allow_private:
            raise KeyFormatError(f"a public JWK must not contain private members {sorted(private)}")
        if key_type is KeyType.ED25519:
            return cls(key_type, _b64url_member(jwk, "x", 32))
        size = _SPECS[key_type].secret_len
        return cls(key_type, b"\x04" + _b64url_member(jwk, "x", size) + _b64url_member(jwk, "y", size))

    @property
    def algorithm(self) -> str:
        """The algorithm name (same strings as :class:`KeyType` values)."""
        return self.key_type.value

    def multibase(self) -> str:
        """The ``publicKeyMultibase`` value: ``z`` + base58btc(varint(codec) + raw)."""
        return multibase.encode(multibase.varint_encode(_SPECS[self.key_type].public_codec) + self.raw)

    def to_jwk(self) -> dict[str, str]:
        """The public JWK (``kty``, ``crv``, ``x`` and for EC ``y``); never private members."""
        if self.key_type is KeyType.ED25519:
            return {"kty": "OKP", "crv": "Ed25519", "x": multibase.base64url_encode(self.raw)}
        point = self._key.public_bytes(serialization.Encoding.X962,
                                       serialization.PublicFormat.UncompressedPoint)
        size = _SPECS[self.key_type].secret_len
        return {"kty": "EC", "crv": self.key_type.value, "x": multibase.base64url_encode(point[1:1 + size]),
                "y": multibase.base64url_encode(point[1 + size:])}

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True iff ``signature`` is valid over ``data``; never raises for a bad signature."""
        if not isinstance(signature, bytes | bytearray) or not isinstance(data, bytes | bytearray):
            return False
        try:
            if isinstance(self._key, ed25519.Ed25519PublicKey):
                # RFC 8032 §5.1.7: a signature is exactly 64 bytes
                if len(signature) != 64:
                    return False
                self._key.verify(bytes(signature), bytes(data))
                return True
            return self._verify_ecdsa(bytes(signature), bytes(data))
        except InvalidSignature:
            return False

    def _verify_ecdsa(self, signature: bytes, data: bytes) -> bool:
        # IEEE P1363: r || s, each exactly the byte length of n; checked BEFORE any DER conversion
        spec = _SPECS[self.key_type]
        if len(signature) != 2 * spec.secret_len or not isinstance(self._key, ec.EllipticCurvePublicKey):
            return False
        r = int.from_bytes(signature[:spec.secret_len], "big")
        s = int.from_bytes(signature[spec.secret_len:], "big")
        # FIPS 186-5 §6.4.2 step 1: r and s must lie in [1, n-1]
        if not (0 < r < spec.order and 0 < s < spec.order):
            return False
        self._key.verify(encode_dss_signature(r, s), data, ec.ECDSA(_HASHES[self.key_type]()))
        return True

    def verifier(self, vm_id: str) -> Verifier:
        """A :class:`Verifier` for this key named by verification method URL ``vm_id``."""
        return Verifier(vm_id, self.algorithm, self)


def _private_from_seed(key_type: KeyType, seed: bytes) -> PrivateKeyObject:
    spec = _SPECS[key_type]
    if not isinstance(seed, bytes | bytearray) or len(seed) != spec.secret_len:
        raise KeyFormatError(f"a {key_type.value} secret key has {spec.secret_len} bytes")
    if key_type is KeyType.ED25519:
        # RFC 8032 §5.1.5: the 32-byte private key (seed)
        return ed25519.Ed25519PrivateKey.from_private_bytes(bytes(seed))
    scalar = int.from_bytes(seed, "big")
    # SEC 1 §3.2.1: the secret scalar d must lie in [1, n-1]
    if not 0 < scalar < spec.order:
        raise KeyFormatError(f"the {key_type.value} secret scalar is not in [1, n-1]")
    return ec.derive_private_key(scalar, _CURVES[key_type])


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
        spec = _SPECS[key_type]
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
        codec, raw = _decode_multikey_value(secrets.pop(), "secretKeyMultibase")
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
        key_type = _jwk_key_type(jwk)
        pair = cls.from_seed(key_type, _b64url_member(jwk, "d", _SPECS[key_type].secret_len))
        if PublicKey.from_jwk(jwk, allow_private=True) != pair.public_key:
            raise KeyFormatError("the JWK public members do not match its private key")
        return pair

    def secret_bytes(self) -> bytes:
        """The raw secret: Ed25519 seed or big-endian EC scalar (handle with care)."""
        if isinstance(self._private, ed25519.Ed25519PrivateKey):
            return self._private.private_bytes_raw()
        return self._private.private_numbers().private_value.to_bytes(_SPECS[self.key_type].secret_len, "big")

    def secret_multibase(self) -> str:
        """The ``secretKeyMultibase`` value: ``z`` + base58btc(varint(secret codec) + secret)."""
        header = multibase.varint_encode(_SPECS[self.key_type].secret_codec)
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
        algorithm = ec.ECDSA(_HASHES[self.key_type](), deterministic_signing=True)
        r, s = decode_dss_signature(self._private.sign(bytes(data), algorithm))
        size = _SPECS[self.key_type].secret_len
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    def signer(self, vm_id: str) -> Signer:
        """A :class:`Signer` for this key named by verification method URL ``vm_id``."""
        return Signer(vm_id, self.algorithm, self)

    @property
    def algorithm(self) -> str:
        """The algorithm name (same strings as :class:`KeyType` values)."""
        return self.key_type.value


@dataclass(frozen=True)
class Signer:
    """Signs with a key pair on behalf of the verification method ``id``."""

    id: str
    algorithm: str
    key_pair: KeyPair = field(repr=False, compare=False)

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` with the held key pair."""
        return self.key_pair.sign(data)


@dataclass(frozen=True)
class Verifier:
    """Verifies signatures of the verification method ``id``."""

    id: str
    algorithm: str
    public_key: PublicKey

    def verify(self, data: bytes, signature: bytes) -> bool:
        """True iff ``signature`` over ``data`` verifies (note the argument order: data first)."""
        return self.public_key.verify(signature, data)


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


def _decode_public_multibase(text: str) -> PublicKey:
    """Decode ``publicKeyMultibase`` (CID §2.2.2), checking the header, the length and the curve."""
    codec, raw = _decode_multikey_value(text, "publicKeyMultibase")
    key_type = PUBLIC_CODECS.get(codec)
    if key_type is None:
        name = multibase.CODEC_NAMES.get(codec, hex(codec))
        raise KeyFormatError(f"unsupported public key multicodec {name}")
    if len(raw) != _SPECS[key_type].public_len:
        raise KeyFormatError(f"a {key_type.value} Multikey holds {_SPECS[key_type].public_len} bytes, "
                             f"not {len(raw)}")
    return PublicKey(key_type, raw)


_public_from_multibase = functools.lru_cache(maxsize=4096)(_decode_public_multibase)
