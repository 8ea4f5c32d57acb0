"""did:key: the CCG test vectors and spec examples, and every MUST-raise case of the Read algorithm.

Decision (documented in ``chopmark.dids.key``): only Ed25519, P-256 and P-384 keys resolve; secp256k1,
BLS12-381, X25519, P-521 and RSA did:keys raise ``InvalidPublicKeyTypeError`` (no signature support).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chopmark.codecs import multibase
from chopmark.dids import did_key_from_public_key, resolve_did_key
from chopmark.dids.key import decode_did_key
from chopmark.errors import (
    DidError,
    InvalidDidError,
    InvalidPublicKeyError,
    InvalidPublicKeyLengthError,
    InvalidPublicKeyTypeError,
)
from chopmark.keys import KeyPair, KeyType, PublicKey

ED_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
SIGNATURE = ("assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation")


def load(vectors: Path, name: str) -> Any:
    return json.loads((vectors / "did-key" / name).read_text(encoding="utf-8"))


def did_for(codec: int, raw: bytes) -> str:
    return "did:key:" + multibase.encode(multibase.varint_encode(codec) + raw)


@pytest.mark.vectors
def test_ed25519_seeds_give_the_vector_dids(vectors: Path) -> None:
    cases = load(vectors, "test-vectors/ed25519-x25519.json")
    assert len(cases) == 5
    for did, case in cases.items():
        pair = KeyPair.from_seed(KeyType.ED25519, bytes.fromhex(case["seed"]))
        assert did_key_from_public_key(pair.public_key) == did
        expected = case["verificationKeyPair"]
        if "publicKeyBase58" in expected:
            assert multibase.b58encode(pair.public_key.raw) == expected["publicKeyBase58"]
        else:
            assert pair.public_key.to_jwk() == expected["publicKeyJwk"]
            assert KeyPair.from_jwk(expected["privateKeyJwk"]).public_key == pair.public_key
        document = resolve_did_key(did)
        assert document["verificationMethod"][0]["publicKeyMultibase"] == did.split(":")[-1]


@pytest.mark.vectors
def test_nist_curve_vectors(vectors: Path) -> None:
    cases = load(vectors, "test-vectors/nist-curves.json")
    seen = {"P-256": 0, "P-384": 0, "P-521": 0}
    for did, case in cases.items():
        method = case["verificationMethod"]
        jwk = method.get("publicKeyJwk")
        if jwk is None:  # the P256Key2021 entry with base58 keys
            pair = KeyPair.from_seed(KeyType.P256, multibase.b58decode(method["privateKeyBase58"]))
            assert pair.public_key.raw == multibase.b58decode(method["publicKeyBase58"])
            assert did_key_from_public_key(pair.public_key) == did
            assert resolve_did_key(did)["id"] == did
            continue
        seen[jwk["crv"]] += 1
        if jwk["crv"] == "P-521":
            with pytest.raises(InvalidPublicKeyTypeError):
                resolve_did_key(did)
            continue
        pk = decode_did_key(did)
        assert pk.to_jwk() == jwk
        assert did_key_from_public_key(PublicKey.from_jwk(jwk)) == did
        pair = KeyPair.from_jwk(case["verificationMethod"]["privateKeyJwk"])
        assert did_key_from_public_key(pair.public_key) == did
        document = resolve_did_key(did)
        assert document["verificationMethod"][0]["id"] == case["didDocument"]["verificationMethod"][0]["id"]
        for relationship in SIGNATURE:
            assert document[relationship] == case["didDocument"][relationship]
    assert seen == {"P-256": 2, "P-384": 2, "P-521": 2}


@pytest.mark.vectors
def test_spec_example_dids(vectors: Path) -> None:
    examples = load(vectors, "spec-examples.json")["dids"]
    for name in ("Ed25519", "Ed25519 with X25519", "P-256", "P-384"):
        for did in examples[name]:
            pk = decode_did_key(did)
            assert did_key_from_public_key(pk) == did
            assert resolve_did_key(did)["id"] == did
    for name in ("Secp256k1", "BLS 12-381"):
        for did in examples[name]:
            with pytest.raises(InvalidPublicKeyTypeError):
                resolve_did_key(did)


@pytest.mark.vectors
@pytest.mark.parametrize("name", ["secp256k1.json", "bls12381.json", "rsa.json"])
def test_unsupported_key_type_vectors(vectors: Path, name: str) -> None:
    dids = list(load(vectors, f"test-vectors/{name}"))
    assert dids
    for did in dids:
        with pytest.raises(InvalidPublicKeyTypeError):
            resolve_did_key(did)


@pytest.mark.vectors
def test_x25519_did_is_not_a_signature_key(vectors: Path) -> None:
    dids = list(load(vectors, "test-vectors/x25519.json")["didDocument"])
    assert dids
    for did in dids:
        with pytest.raises(InvalidPublicKeyTypeError):
            resolve_did_key(did)


@pytest.mark.vectors
def test_literal_spec_document_matches(vectors: Path) -> None:
    did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    expected = load(vectors, "spec-examples.json")["didDocuments"][did]
    ours = resolve_did_key(did)
    assert ours["verificationMethod"][0] == expected["verificationMethod"][0]
    for relationship in ("authentication", "assertionMethod", "capabilityDelegation", "capabilityInvocation"):
        assert ours[relationship] == expected[relationship]
    # we do not derive the X25519 key-agreement key (enableEncryptionKeyDerivation = false)
    assert "keyAgreement" not in ours


def test_document_shape() -> None:
    vm = f"{ED_DID}#{ED_DID.split(':')[-1]}"
    assert resolve_did_key(ED_DID) == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": ED_DID,
        "verificationMethod": [{"id": vm, "type": "Multikey", "controller": ED_DID,
                                "publicKeyMultibase": ED_DID.split(":")[-1]}],
        "authentication": [vm], "assertionMethod": [vm], "capabilityInvocation": [vm],
        "capabilityDelegation": [vm],
    }


def test_explicit_version_one_is_accepted() -> None:
    did = "did:key:1:" + ED_DID.split(":")[-1]
    assert resolve_did_key(did)["id"] == did


@pytest.mark.parametrize("did", [
    "", "did", "did:key", "did:key:", "DID:key:z6Mk",
    "did:KEY:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "did:web:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "did:key:0:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",    # version must be positive
    "did:key:-1:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "did:key:x:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "did:key:1:2:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "did:key:6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",        # no multibase prefix
    "did:key:f" + "ed01" + "00" * 32,                                 # base16, not base58-btc
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doO",       # 'O' is not base58
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#frag",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK?x=1",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK ",
    "did:key:z",
    "did:key:" + multibase.encode(b"\x80"),                           # truncated varint
    "did:key:" + multibase.encode(b"\xed\x81\x00" + b"\x01" * 32),    # non-minimal varint
])
def test_invalid_did(did: str) -> None:
    with pytest.raises(InvalidDidError):
        resolve_did_key(did)


def test_invalid_did_non_string() -> None:
    with pytest.raises(InvalidDidError):
        resolve_did_key(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("codec", "length"), [
    (multibase.ED25519_PUB, 31), (multibase.ED25519_PUB, 33), (multibase.ED25519_PUB, 0),
    (multibase.P256_PUB, 32), (multibase.P256_PUB, 65), (multibase.P384_PUB, 48), (multibase.P384_PUB, 97),
])
def test_invalid_public_key_length(codec: int, length: int) -> None:
    raw = (b"\x02" + b"\x01" * length)[:length]
    with pytest.raises(InvalidPublicKeyLengthError):
        resolve_did_key(did_for(codec, raw))


@pytest.mark.parametrize("codec", [0x1234, 0x00, multibase.ED25519_PRIV, multibase.P256_PRIV, 0xEC, 0xE7])
def test_invalid_public_key_type(codec: int) -> None:
    with pytest.raises(InvalidPublicKeyTypeError):
        resolve_did_key(did_for(codec, b"\x02" + b"\x01" * 32))


def test_invalid_public_key_point() -> None:
    from tests.keys.test_keys import off_curve_compressed, off_curve_ed25519

    cases = [(multibase.ED25519_PUB, off_curve_ed25519()),
             (multibase.P256_PUB, off_curve_compressed(KeyType.P256)),
             (multibase.P384_PUB, off_curve_compressed(KeyType.P384)),
             (multibase.P256_PUB, b"\x04" + b"\x01" * 32)]
    for codec, raw in cases:
        with pytest.raises(InvalidPublicKeyError):
            resolve_did_key(did_for(codec, raw))


def test_all_errors_are_did_errors() -> None:
    for bad in ("did:key:x", did_for(0x1234, b"")):
        with pytest.raises(DidError):
            resolve_did_key(bad)
