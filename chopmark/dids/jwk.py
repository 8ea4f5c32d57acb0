"""The did:jwk method (did:jwk Method Specification): ``did:jwk:`` + base64url(UTF-8 JSON of a public JWK).

Only public keys Chopmark can verify with are accepted (OKP/Ed25519, EC/P-256, EC/P-384); other key types
raise ``InvalidPublicKeyTypeError`` and JWKs carrying private members raise ``InvalidDidError``.

Verification relationships follow the specification's ``use`` rule: ``"sig"`` gives the four signature
relationships, ``"enc"`` only ``keyAgreement``; without ``use`` EC keys (usable for ECDH) get all five and
Ed25519 keys (signature only) get the four signature relationships.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chopmark.codecs import multibase
from chopmark.dids.web import loads_strict_json
from chopmark.errors import (
    InvalidDidError,
    InvalidPublicKeyError,
    InvalidPublicKeyTypeError,
    KeyFormatError,
    MalformedValueError,
)
from chopmark.keys import PRIVATE_JWK_MEMBERS, KeyType, PublicKey

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
JWS_2020_CONTEXT = "https://w3id.org/security/suites/jws-2020/v1"
_SIGNATURE = ("assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation")
_SUPPORTED = frozenset({("OKP", "Ed25519"), ("EC", "P-256"), ("EC", "P-384")})


def _public_key_of(jwk: Any) -> PublicKey:
    # did:jwk Read step 4: validate the JWK; it MUST NOT contain private key material.
    if not isinstance(jwk, Mapping):
        raise InvalidDidError("the did:jwk value is not a JSON object")
    private = PRIVATE_JWK_MEMBERS.intersection(jwk)
    if private:
        raise InvalidDidError(f"a did:jwk JWK must not contain private members {sorted(private)}")
    if (jwk.get("kty"), jwk.get("crv")) not in _SUPPORTED:
        raise InvalidPublicKeyTypeError(
            f"unsupported did:jwk key kty={jwk.get('kty')!r} crv={jwk.get('crv')!r}")
    try:
        return PublicKey.from_jwk(jwk)
    except KeyFormatError as exc:
        raise InvalidPublicKeyError(exc.detail) from None


def did_jwk_from_jwk(jwk: Mapping[str, Any]) -> str:
    """did:jwk Create: base64url of the public JWK as UTF-8 JSON (sorted members, no whitespace)."""
    _public_key_of(jwk)
    text = json.dumps(dict(jwk), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "did:jwk:" + multibase.base64url_encode(text.encode("utf-8"))


def _relationships(jwk: Mapping[str, Any], key_type: KeyType) -> tuple[str, ...]:
    use = jwk.get("use")
    if use == "sig":
        return _SIGNATURE
    if use == "enc":
        return ("keyAgreement",)
    if use is not None:
        raise InvalidDidError(f"unknown JWK use {use!r}")
    return _SIGNATURE if key_type is KeyType.ED25519 else (*_SIGNATURE, "keyAgreement")


def resolve_did_jwk(did: str) -> dict[str, Any]:
    """did:jwk Read: decode the JWK and generate the DID document (one ``JsonWebKey2020`` method ``#0``)."""
    if not isinstance(did, str) or not did.startswith("did:jwk:"):
        raise InvalidDidError(f"not a did:jwk DID: {did!r}")
    # Read steps 1-3: remove the prefix, base64url-decode, parse as UTF-8 JSON
    try:
        raw = multibase.base64url_decode(did[len("did:jwk:"):])
    except MalformedValueError:
        raise InvalidDidError("the did:jwk value is not unpadded base64url") from None
    jwk = loads_strict_json(raw, InvalidDidError)
    key = _public_key_of(jwk)
    vm_id = did + "#0"
    method = {"id": vm_id, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk}
    document: dict[str, Any] = {"@context": [DID_CONTEXT, JWS_2020_CONTEXT], "id": did,
                                "verificationMethod": [method]}
    for relationship in _relationships(jwk, key.key_type):
        document[relationship] = [vm_id]
    return document
