"""The two textual forms of keys: JWK (RFC 7517, RFC 7518 §6, RFC 8037) and Multikey values (Controlled
Identifiers 1.0 §2.2.2): their members checked strictly before any key is built."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chopmark.codecs import multibase
from chopmark.errors import KeyFormatError, MalformedValueError
from chopmark.keys.types import KeyType

JWK_CRV: dict[tuple[str, str], KeyType] = {("OKP", "Ed25519"): KeyType.ED25519,
                                            ("EC", "P-256"): KeyType.P256, ("EC", "P-384"): KeyType.P384}
# RFC 7518 §3.1 / RFC 8037 §3.1: the JWS "alg" a key of each type may carry
JWK_ALGS: dict[KeyType, frozenset[str]] = {KeyType.ED25519: frozenset({"EdDSA", "Ed25519"}),
                                            KeyType.P256: frozenset({"ES256"}),
                                            KeyType.P384: frozenset({"ES384"})}
#: JWK members that carry private key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def b64url_member(jwk: Mapping[str, Any], name: str, length: int) -> bytes:
    """The JWK member ``name`` decoded: exactly ``length`` bytes of strict, unpadded base64url."""
    # RFC 7518 §6.2.1.2 / §6.2.2.1 / RFC 8037 §2: fixed-length, unpadded base64url members
    try:
        value = multibase.base64url_decode(jwk.get(name))  # type: ignore[arg-type]  # non-str is refused
    except MalformedValueError as exc:
        raise KeyFormatError(f"JWK member {name!r}: {exc.detail}") from None
    if len(value) != length:
        raise KeyFormatError(f"JWK member {name!r} must decode to {length} bytes, not {len(value)}")
    return value


def jwk_key_type(jwk: Mapping[str, Any]) -> KeyType:
    """The key type a JWK's ``kty`` and ``crv`` name; its ``alg``, when present, must fit that type."""
    if not isinstance(jwk, Mapping):
        raise KeyFormatError("a JWK must be a JSON object")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    key_type = JWK_CRV.get((kty, crv)) if isinstance(kty, str) and isinstance(crv, str) else None
    if key_type is None:
        raise KeyFormatError(f"unsupported JWK key type kty={kty!r} crv={crv!r}")
    alg = jwk.get("alg")
    if alg is not None and alg not in JWK_ALGS[key_type]:
        raise KeyFormatError(f"JWK alg {alg!r} does not fit a {key_type.value} key")
    return key_type


def decode_multikey_value(text: Any, what: str) -> tuple[int, bytes]:
    """A Multikey value (``publicKeyMultibase`` / ``secretKeyMultibase``): ``(multicodec, key bytes)``."""
    # CID §2.2.2: Multikey values are base58-btc multibase ("z") of a varint multicodec header + key bytes
    if not isinstance(text, str) or not text.startswith("z"):
        raise KeyFormatError(f"{what} must be a base58-btc multibase string starting with 'z'")
    try:
        data = multibase.decode(text)
        codec, used = multibase.varint_decode(data)
    except MalformedValueError as exc:
        raise KeyFormatError(f"{what}: {exc.detail}") from None
    return codec, data[used:]
