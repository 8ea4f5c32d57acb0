"""Public keys (Controlled Identifiers 1.0 §2.2.2 Multikey, RFC 7517 JWK): validated on construction, verifying
the raw signature forms the Data Integrity cryptosuites use: 64 bytes for Ed25519 and IEEE P1363 ``r || s``
(64 / 96 bytes) for ECDSA. Pure: nothing here reads a clock or an entropy source."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from chopmark.codecs import multibase
from chopmark.errors import KeyFormatError
from chopmark.keys.encoding import PRIVATE_JWK_MEMBERS, b64url_member, decode_multikey_value, jwk_key_type
from chopmark.keys.signing import Verifier
from chopmark.keys.types import CURVES, HASHES, PUBLIC_CODECS, SPECS, KeyType, PublicKeyObject

# RFC 8032 §5.1: the edwards25519 field prime and curve constant d
_ED_P = 2**255 - 19
_ED_D = -121665 * pow(121666, -1, _ED_P) % _ED_P


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
    spec = SPECS[key_type]
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
        key = ec.EllipticCurvePublicKey.from_encoded_point(CURVES[key_type], raw)
    except ValueError:
        raise KeyFormatError(f"the {key_type.value} public key is not a valid point on the curve") from None
    compressed = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    return compressed, key


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
        key_type = jwk_key_type(jwk)
        private = PRIVATE_JWK_MEMBERS.intersection(jwk)
        if private and not allow_private:
            raise KeyFormatError(f"a public JWK must not contain private members {sorted(private)}")
        if key_type is KeyType.ED25519:
            return cls(key_type, b64url_member(jwk, "x", 32))
        size = SPECS[key_type].secret_len
        return cls(key_type, b"\x04" + b64url_member(jwk, "x", size) + b64url_member(jwk, "y", size))

    @property
    def algorithm(self) -> str:
        """The algorithm name (same strings as :class:`KeyType` values)."""
        return self.key_type.value

    def multibase(self) -> str:
        """The ``publicKeyMultibase`` value: ``z`` + base58btc(varint(codec) + raw)."""
        return multibase.encode(multibase.varint_encode(SPECS[self.key_type].public_codec) + self.raw)

    def to_jwk(self) -> dict[str, str]:
        """The public JWK (``kty``, ``crv``, ``x`` and for EC ``y``); never private members."""
        if self.key_type is KeyType.ED25519:
            return {"kty": "OKP", "crv": "Ed25519", "x": multibase.base64url_encode(self.raw)}
        point = self._key.public_bytes(serialization.Encoding.X962,
                                       serialization.PublicFormat.UncompressedPoint)
        size = SPECS[self.key_type].secret_len
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
        spec = SPECS[self.key_type]
        if len(signature) != 2 * spec.secret_len or not isinstance(self._key, ec.EllipticCurvePublicKey):
            return False
        r = int.from_bytes(signature[:spec.secret_len], "big")
        s = int.from_bytes(signature[spec.secret_len:], "big")
        # FIPS 186-5 §6.4.2 step 1: r and s must lie in [1, n-1]
        if not (0 < r < spec.order and 0 < s < spec.order):
            return False
        self._key.verify(encode_dss_signature(r, s), data, ec.ECDSA(HASHES[self.key_type]()))
        return True

    def verifier(self, vm_id: str) -> Verifier:
        """A :class:`Verifier` for this key named by verification method URL ``vm_id``."""
        return Verifier(vm_id, self.algorithm, self)


def _decode_public_multibase(text: str) -> PublicKey:
    """Decode ``publicKeyMultibase`` (CID §2.2.2), checking the header, the length and the curve."""
    codec, raw = decode_multikey_value(text, "publicKeyMultibase")
    key_type = PUBLIC_CODECS.get(codec)
    if key_type is None:
        name = multibase.CODEC_NAMES.get(codec, hex(codec))
        raise KeyFormatError(f"unsupported public key multicodec {name}")
    if len(raw) != SPECS[key_type].public_len:
        raise KeyFormatError(f"a {key_type.value} Multikey holds {SPECS[key_type].public_len} bytes, "
                             f"not {len(raw)}")
    return PublicKey(key_type, raw)


_public_from_multibase = functools.lru_cache(maxsize=4096)(_decode_public_multibase)
