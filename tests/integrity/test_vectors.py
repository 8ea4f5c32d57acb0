"""Every Data Integrity suite against the official W3C vectors (vc-di-eddsa, vc-di-ecdsa).

EdDSA is deterministic, so canonical forms, hashes and ``proofValue`` must be reproduced byte for byte. ECDSA
signatures in the vectors are randomized: canonical forms and hashes are compared exactly and the signed
vectors must verify (and our own deterministic signatures must verify too).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chopmark.codecs import multibase
from chopmark.dids import Resolver
from chopmark.integrity.proofs import ProofOptions, create_proof
from chopmark.integrity.suites import get_suite
from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyPair
from chopmark.vc.credentials import verify_credential
from tests.conftest import load_json

NOW = __import__("datetime").datetime(2024, 1, 1, tzinfo=__import__("datetime").UTC)


@dataclass(frozen=True)
class Case:
    """One vector folder: where it is, the file suffix, its unsigned input and its key file."""

    spec: str
    folder: str
    suffix: str
    unsigned: str
    key: str
    deterministic: bool

    @property
    def id(self) -> str:
        return self.folder


CASES = [
    Case("vc-di-eddsa", "eddsa-rdfc-2022", "DataInt", "unsigned.json", "keyPair.json", True),
    Case("vc-di-eddsa", "eddsa-rdfc-2022/employ", "DataInt", "employmentAuth.json", "keyPair.json", True),
    Case("vc-di-eddsa", "eddsa-jcs-2022", "JCS", "unsigned.json", "keyPair.json", True),
    Case("vc-di-eddsa", "Ed25519Signature2020", "EdSig", "unsigned.json", "keyPair.json", True),
    Case("vc-di-ecdsa", "ecdsa-rdfc-2019-p256", "ECDSAP256", "unsigned.json", "p256KeyPair.json", False),
    Case("vc-di-ecdsa", "ecdsa-rdfc-2019-p256/employ", "ECDSAP256", "employmentAuth.json", "p256KeyPair.json",
         False),
    Case("vc-di-ecdsa", "ecdsa-rdfc-2019-p384", "ECDSAP384", "unsigned.json", "p384KeyPair.json", False),
    Case("vc-di-ecdsa", "ecdsa-rdfc-2019-p384/employ", "ECDSAP384", "employmentAuth.json", "p384KeyPair.json",
         False),
    Case("vc-di-ecdsa", "ecdsa-jcs-2019-p256", "JCSECDSAP256", "unsigned.json", "p256KeyPair.json", False),
    Case("vc-di-ecdsa", "ecdsa-jcs-2019-p384", "JCSECDSAP384", "unsigned.json", "p384KeyPair.json", False),
]


def _dir(vectors: Path, case: Case) -> Path:
    return vectors / case.spec / "TestVectors" / case.folder


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _suite_name(config: dict[str, Any]) -> str:
    return config.get("cryptosuite") or config["type"]


def _options(config: dict[str, Any]) -> ProofOptions:
    return ProofOptions(suite=_suite_name(config), proof_purpose=config["proofPurpose"],
                        created=config.get("created"), allow_legacy=True)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_canonical_forms_and_hashes(vectors: Path, case: Case) -> None:
    folder = _dir(vectors, case)
    unsigned = load_json(vectors / case.spec / "TestVectors" / case.unsigned)
    config = load_json(folder / f"proofConfig{case.suffix}.json")
    suite = get_suite(_suite_name(config))
    loader = DocumentLoader.pinned()
    pair = KeyPair.from_multikey(load_json(vectors / case.spec / "TestVectors" / case.key))
    canon_doc = suite.canonicalize(unsigned, loader, pair.key_type)
    canon_proof = suite.canonicalize(config, loader, pair.key_type)
    assert canon_doc.decode() == _text(folder / f"canonDoc{case.suffix}.txt")
    assert canon_proof.decode() == _text(folder / f"proofCanon{case.suffix}.txt")
    doc_hash = suite.hash(pair.key_type, canon_doc).hex()
    proof_hash = suite.hash(pair.key_type, canon_proof).hex()
    assert doc_hash == _text(folder / f"docHash{case.suffix}.txt").strip()
    assert proof_hash == _text(folder / f"proofHash{case.suffix}.txt").strip()
    assert proof_hash + doc_hash == _text(folder / f"combinedHash{case.suffix}.txt").strip()


@pytest.mark.parametrize("case", [c for c in CASES if c.deterministic], ids=lambda c: c.id)
def test_eddsa_proof_value_reproduced(vectors: Path, case: Case) -> None:
    folder = _dir(vectors, case)
    unsigned = load_json(vectors / case.spec / "TestVectors" / case.unsigned)
    config = load_json(folder / f"proofConfig{case.suffix}.json")
    signed = load_json(folder / f"signed{case.suffix}.json")
    pair = KeyPair.from_multikey(load_json(vectors / case.spec / "TestVectors" / case.key))
    if "@context" in config and config["@context"] != unsigned.get("@context"):
        unsigned = {**unsigned, "@context": config["@context"]}  # Ed25519Signature2020 adds its context
    proof = create_proof(unsigned, pair.signer(config["verificationMethod"]), _options(config),
                         DocumentLoader.pinned())
    assert proof["proofValue"] == signed["proof"]["proofValue"]
    assert proof["proofValue"] == _text(folder / f"sigBTC58{case.suffix}.txt").strip()
    assert multibase.decode(proof["proofValue"]).hex() == _text(folder / f"sigHex{case.suffix}.txt").strip()
    assert proof == signed["proof"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_signed_vector_verifies(vectors: Path, case: Case) -> None:
    signed = load_json(_dir(vectors, case) / f"signed{case.suffix}.json")
    # The vectors' issuer is not the signing DID, so only the proof is checked (as the W3C suites do).
    result = verify_credential(signed, resolver=Resolver(), now=NOW, issuer_binding=False)
    assert result.verified, result.to_dict()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_signed_vector_with_flipped_signature_fails(vectors: Path, case: Case) -> None:
    signed = load_json(_dir(vectors, case) / f"signed{case.suffix}.json")
    raw = bytearray(multibase.decode(signed["proof"]["proofValue"]))
    raw[5] ^= 0x01
    signed["proof"]["proofValue"] = multibase.encode(bytes(raw), "base58btc")
    result = verify_credential(signed, resolver=Resolver(), now=NOW, issuer_binding=False)
    assert not result.verified
    assert [p.code for p in result.problems] == ["PROOF_VERIFICATION_ERROR"]


@pytest.mark.parametrize("case", [c for c in CASES if not c.deterministic], ids=lambda c: c.id)
def test_ecdsa_signature_is_p1363_and_ours_verify(vectors: Path, case: Case) -> None:
    folder = _dir(vectors, case)
    config = load_json(folder / f"proofConfig{case.suffix}.json")
    unsigned = load_json(vectors / case.spec / "TestVectors" / case.unsigned)
    pair = KeyPair.from_multikey(load_json(vectors / case.spec / "TestVectors" / case.key))
    vector_sig = multibase.decode(load_json(folder / f"signed{case.suffix}.json")["proof"]["proofValue"])
    assert len(vector_sig) == (64 if pair.key_type.value == "P-256" else 96)
    proof = create_proof(unsigned, pair.signer(config["verificationMethod"]), _options(config),
                         DocumentLoader.pinned())
    signed = {**unsigned, "proof": proof}
    result = verify_credential(signed, resolver=Resolver(), now=NOW, issuer_binding=False)
    assert result.verified, result.to_dict()
    expected_hash = hashlib.sha384 if pair.key_type.value == "P-384" else hashlib.sha256
    assert get_suite(_suite_name(config)).hash(pair.key_type, b"x") == expected_hash(b"x").digest()
