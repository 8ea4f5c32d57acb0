"""did:jwk: creation, the document per the did:jwk specification, and refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chopmark.codecs import multibase
from chopmark.dids import did_jwk_from_jwk, resolve_did_jwk
from chopmark.errors import InvalidDidError, InvalidPublicKeyError, InvalidPublicKeyTypeError
from chopmark.keys import KeyPair, KeyType

# The P-256 example of the did:jwk specification (its JWK happens to be serialized with sorted members).
SPEC_P256 = ("did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVV"
             "M3l6OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9")
# The X25519 example of the specification: an encryption key, which Chopmark does not accept.
SPEC_X25519 = ("did:jwk:eyJrdHkiOiJPS1AiLCJjcnYiOiJYMjU1MTkiLCJ1c2UiOiJlbmMiLCJ4IjoiM3A3YmZYdDl3YlRUVzJIQzdP"
               "UTFOei1EUThoYmVHZE5yZngtRkctSUswOCJ9")
SIGNATURE = ["assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"]


def jwk_for(key_type: KeyType) -> dict[str, str]:
    return KeyPair.generate(key_type, lambda n: b"\x05" * n).public_key.to_jwk()


def did_of(obj: Any) -> str:
    return "did:jwk:" + multibase.base64url_encode(json.dumps(obj).encode())


def test_spec_p256_example() -> None:
    document = resolve_did_jwk(SPEC_P256)
    vm = SPEC_P256 + "#0"
    jwk = {"crv": "P-256", "kty": "EC", "x": "acbIQiuMs3i8_uszEjJ2tpTtRM4EU3yz91PH6CdH2V0",
           "y": "_KcyLj9vWMptnmKtm46GqDz8wf74I5LKgrl2GzH3nSE"}
    assert document == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": SPEC_P256,
        "verificationMethod": [{"id": vm, "type": "JsonWebKey2020", "controller": SPEC_P256,
                                "publicKeyJwk": jwk}],
        "assertionMethod": [vm], "authentication": [vm], "capabilityInvocation": [vm],
        "capabilityDelegation": [vm], "keyAgreement": [vm],
    }
    assert did_jwk_from_jwk(jwk) == SPEC_P256


def test_spec_x25519_example_is_refused() -> None:
    with pytest.raises(InvalidPublicKeyTypeError):
        resolve_did_jwk(SPEC_X25519)


@pytest.mark.parametrize("key_type", list(KeyType))
def test_round_trip(key_type: KeyType) -> None:
    jwk = jwk_for(key_type)
    did = did_jwk_from_jwk(jwk)
    document = resolve_did_jwk(did)
    assert document["verificationMethod"][0]["publicKeyJwk"] == jwk
    expected = SIGNATURE if key_type is KeyType.ED25519 else [*SIGNATURE, "keyAgreement"]
    assert [k for k in document if k not in ("@context", "id", "verificationMethod")] == expected


@pytest.mark.parametrize(("use", "expected"), [("sig", SIGNATURE), ("enc", ["keyAgreement"])])
def test_use_selects_relationships(use: str, expected: list[str]) -> None:
    document = resolve_did_jwk(did_jwk_from_jwk({**jwk_for(KeyType.P256), "use": use}))
    assert [k for k in document if k not in ("@context", "id", "verificationMethod")] == expected


def test_serialization_is_sorted_and_compact() -> None:
    jwk = jwk_for(KeyType.ED25519)
    raw = multibase.base64url_decode(did_jwk_from_jwk(jwk)[len("did:jwk:"):])
    assert raw == json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "k"])
def test_private_members_are_refused(member: str) -> None:
    jwk = {**jwk_for(KeyType.P256), member: "AAAA"}
    with pytest.raises(InvalidDidError):
        resolve_did_jwk(did_of(jwk))
    with pytest.raises(InvalidDidError):
        did_jwk_from_jwk(jwk)


@pytest.mark.parametrize("jwk", [
    {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
    {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
    {"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"},
    {"kty": "OKP", "crv": "X25519", "x": "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"},
    {"kty": "OKP", "crv": "Ed448", "x": "AA"},
    {"crv": "P-256"},
])
def test_unsupported_key_types(jwk: dict[str, str]) -> None:
    with pytest.raises(InvalidPublicKeyTypeError):
        resolve_did_jwk(did_of(jwk))


def test_invalid_points() -> None:
    jwk = jwk_for(KeyType.P256)
    with pytest.raises(InvalidPublicKeyError):
        resolve_did_jwk(did_of({**jwk, "y": jwk["x"]}))
    with pytest.raises(InvalidPublicKeyError):
        resolve_did_jwk(did_of({**jwk, "x": jwk["x"] + "="}))


@pytest.mark.parametrize("did", [
    "did:jwk:", "did:jwk", "did:key:eyJ9", "did:jwk:eyJ9=", "did:jwk:e30=", "did:jwk:e30#0",
    "did:jwk:" + multibase.base64url_encode(b"[]"),
    "did:jwk:" + multibase.base64url_encode(b"not json"),
    "did:jwk:" + multibase.base64url_encode(b"\xff\xfe{}"),
    "did:jwk:" + multibase.base64url_encode(b'{"kty":"EC","kty":"EC"}'),
    "did:jwk:" + multibase.base64url_encode(b'{"kty":NaN}'),
    "did:jwk:" + multibase.base64url_encode(b'{"kty":"\\ud800"}'),
])
def test_invalid_did(did: str) -> None:
    with pytest.raises(InvalidDidError):
        resolve_did_jwk(did)


def test_unknown_use_is_refused() -> None:
    with pytest.raises(InvalidDidError):
        resolve_did_jwk(did_of({**jwk_for(KeyType.P256), "use": "wrap"}))
