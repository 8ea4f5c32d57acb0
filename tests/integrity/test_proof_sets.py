"""Proof sets and proof chains (Data Integrity §4.3, §4.5) against vc-di-eddsa/TestVectors/proof-set-chain."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chopmark.dids import Resolver
from chopmark.integrity.proofs import ProofOptions, add_proof
from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyPair
from chopmark.vc.credentials import verify_credential
from tests.conftest import load_json

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def _folder(vectors: Path) -> Path:
    return vectors / "vc-di-eddsa" / "TestVectors" / "proof-set-chain"


def _add(doc: dict[str, Any], config: dict[str, Any], pair: KeyPair) -> dict[str, Any]:
    options = ProofOptions(suite=config["cryptosuite"], proof_purpose=config["proofPurpose"],
                           created=config["created"], id=config.get("id"),
                           previous_proof=config.get("previousProof"))
    return add_proof(doc, pair.signer(config["verificationMethod"]), options, DocumentLoader.pinned())


def _keys(folder: Path) -> list[KeyPair]:
    pairs = load_json(folder / "multiKeyPairs.json")
    return [KeyPair.from_multikey(pairs[f"keyPair{i}"]) for i in range(1, 5)]


def test_proof_set_reproduced(vectors: Path) -> None:
    folder = _folder(vectors)
    keys = _keys(folder)
    doc = load_json(folder / "unsigned.json")
    doc = _add(doc, load_json(folder / "proofSetConfig1.json"), keys[0])
    assert doc == load_json(folder / "signedProofSet1.json")
    doc = _add(doc, load_json(folder / "proofSetConfig2.json"), keys[1])
    assert doc == load_json(folder / "signedProofSet2.json")


def test_proof_chain_reproduced(vectors: Path) -> None:
    folder = _folder(vectors)
    keys = _keys(folder)
    doc = load_json(folder / "signedProofSet2.json")
    doc = _add(doc, load_json(folder / "proofChainConfig1.json"), keys[2])
    assert doc == load_json(folder / "signedProofChain1.json")
    doc = _add(doc, load_json(folder / "proofChainConfig2.json"), keys[3])
    assert doc == load_json(folder / "signedProofChain2.json")


@pytest.mark.parametrize("name", ["signedProofSet1", "signedProofSet2", "signedProofChain1",
                                  "signedProofChain2"])
def test_sets_and_chains_verify(vectors: Path, name: str) -> None:
    doc = load_json(_folder(vectors) / f"{name}.json")
    result = verify_credential(doc, resolver=Resolver(), now=NOW, issuer_binding=False)
    assert result.verified, result.to_dict()
    assert len([c for c in result.checks if c.check.startswith("proof")]) == len(
        doc["proof"] if isinstance(doc["proof"], list) else [doc["proof"]])


def test_chain_with_missing_previous_proof_fails(vectors: Path) -> None:
    doc = load_json(_folder(vectors) / "signedProofChain2.json")
    doc["proof"] = [p for p in doc["proof"] if p.get("id") != "urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23"]
    result = verify_credential(doc, resolver=Resolver(), now=NOW, issuer_binding=False)
    assert not result.verified
    assert "PROOF_VERIFICATION_ERROR" in [p.code for p in result.problems]


def test_one_bad_proof_in_a_set_fails_the_whole(vectors: Path) -> None:
    doc = load_json(_folder(vectors) / "signedProofSet2.json")
    doc["proof"][1]["created"] = "2023-02-24T23:36:39Z"
    result = verify_credential(doc, resolver=Resolver(), now=NOW, issuer_binding=False)
    assert not result.verified
    assert [c.passed for c in result.checks if c.check.startswith("proof")] == [True, False]
