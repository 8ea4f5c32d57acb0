"""The contexts around a proof: Data Integrity context injection for VC 1.1 documents (Data Integrity 1.0 §2.4.2),
legacy proofs that carry their suite context in ``proof.@context``, and refusal of any other ``proof.@context``."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest

from chopmark.codecs import multibase
from chopmark.dids import Resolver, did_key_signer
from chopmark.errors import ProofGenerationError
from chopmark.integrity.proofs import DI_CONTEXT, ProofOptions, add_proof
from chopmark.integrity.suites import get_suite
from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyPair, KeyType, Signer
from chopmark.vc.credentials import issue, verify_credential

NOW = datetime(2024, 6, 1, tzinfo=UTC)
CREATED = "2024-01-01T00:00:00Z"
V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"


def _signer(key_type: KeyType) -> tuple[str, Signer]:
    return did_key_signer(KeyPair.generate(key_type, os.urandom))


def _vc11(issuer: str, *contexts: str) -> dict[str, Any]:
    return {"@context": [V1, *contexts], "type": ["VerifiableCredential"], "issuer": issuer,
            "issuanceDate": "2020-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:alice"}}


@pytest.mark.parametrize(("suite", "key_type"), [("eddsa-rdfc-2022", KeyType.ED25519),
                                                 ("eddsa-jcs-2022", KeyType.ED25519),
                                                 ("ecdsa-rdfc-2019", KeyType.P256),
                                                 ("ecdsa-rdfc-2019", KeyType.P384),
                                                 ("ecdsa-jcs-2019", KeyType.P384)])
def test_vc11_credential_gets_the_data_integrity_context(suite: str, key_type: KeyType) -> None:
    # issue 11: a VC 1.1 credential failed with UNDEFINED_TERM created (v1 does not define the DI proof terms)
    did, signer = _signer(key_type)
    secured = issue(_vc11(did), signer, suite=suite, created=CREATED)
    assert secured["@context"] == [V1, DI_CONTEXT]
    result = verify_credential(secured, resolver=Resolver(), now=NOW)
    assert result.verified, result.to_dict()


def test_documents_that_map_the_terms_are_left_alone() -> None:
    did, signer = _signer(KeyType.ED25519)
    with_di = issue(_vc11(did, DI_CONTEXT), signer, created=CREATED)
    assert with_di["@context"] == [V1, DI_CONTEXT]
    v2 = {"@context": [V2], "type": ["VerifiableCredential"], "issuer": did,
          "credentialSubject": {"id": "did:example:alice"}}
    assert issue(v2, signer, created=CREATED)["@context"] == [V2]


def test_no_injection_under_existing_proofs() -> None:
    # the existing proof signed the document's @context: appending a context would break it
    did, signer = _signer(KeyType.ED25519)
    legacy = add_proof(_vc11(did, ED25519_2020), signer, ProofOptions(suite="Ed25519Signature2020",
                                                                      created=CREATED, allow_legacy=True),
                       DocumentLoader.pinned())
    with pytest.raises(ProofGenerationError):
        add_proof(legacy, signer, ProofOptions(suite="eddsa-rdfc-2022", created=CREATED), DocumentLoader.pinned())


def _legacy_proof(document: dict[str, Any], signer: Signer, proof: dict[str, Any], suite_name: str) -> dict[str, Any]:
    """Sign as older jsonld-signatures did: the proof configuration canonicalized with the proof's own
    ``@context``, the document with its own."""
    suite, loader = get_suite(suite_name), DocumentLoader.pinned()
    key_type = KeyType(signer.algorithm)
    data = (suite.hash(key_type, suite.canonicalize(proof, loader, key_type))
            + suite.hash(key_type, suite.canonicalize(document, loader, key_type)))
    return {**document, "proof": {**proof, "proofValue": multibase.encode(signer.sign(data), "base58btc")}}


@pytest.mark.parametrize(("proof_context", "proof_type"), [
    (DI_CONTEXT, {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}),
    (ED25519_2020, {"type": "Ed25519Signature2020"}),
])
def test_legacy_proof_context_verifies(proof_context: str, proof_type: dict[str, str]) -> None:
    did, signer = _signer(KeyType.ED25519)
    proof = {"@context": proof_context, **proof_type, "created": CREATED, "verificationMethod": signer.id,
             "proofPurpose": "assertionMethod"}
    secured = _legacy_proof(_vc11(did), signer, proof, proof_type.get("cryptosuite", "Ed25519Signature2020"))
    result = verify_credential(secured, resolver=Resolver(), now=NOW)
    assert result.verified, result.to_dict()
    secured["credentialSubject"]["id"] = "did:example:mallory"
    assert not verify_credential(secured, resolver=Resolver(), now=NOW).verified


@pytest.mark.parametrize("proof_context", ["https://www.w3.org/ns/credentials/examples/v2",
                                           [DI_CONTEXT, {"created": "https://evil.example/created"}],
                                           [V1, DI_CONTEXT, "https://www.w3.org/ns/credentials/examples/v2"]])
def test_other_proof_contexts_are_refused(proof_context: Any) -> None:
    did, signer = _signer(KeyType.ED25519)
    proof = {"@context": proof_context, "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
             "created": CREATED, "verificationMethod": signer.id, "proofPurpose": "assertionMethod"}
    secured = _legacy_proof(_vc11(did, DI_CONTEXT), signer, proof, "eddsa-rdfc-2022")
    result = verify_credential(secured, resolver=Resolver(), now=NOW)
    assert not result.verified
    assert "PROOF_CONTEXT_NOT_ALLOWED" in [p.code for p in result.problems]
