"""Verifiable presentations: signing with challenge and domain, holder binding, enclosed credentials,
self-asserted credentials, and garbage input."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from chopmark.dids import Resolver, did_key_from_public_key
from chopmark.integrity.proofs import ProofOptions, add_proof
from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyPair, KeyType, Signer
from chopmark.vc.credentials import issue
from chopmark.vc.presentations import create_presentation, sign_presentation, verify_presentation
from chopmark.vc.results import VerificationResult
from chopmark.vc.samples import merchant_credential
from tests.conftest import codes_of, require_check

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
ISSUED = "2026-01-01T00:00:00Z"
PRESENTED = "2026-06-01T11:59:00Z"
CHALLENGE = "0b5c5d1e-3f5a-4b7c-9d2e-6a8f0c1b2d3e"
DOMAIN = "verifier.example.com"
VCDM = "https://www.w3.org/TR/vc-data-model#"
SEC = "https://w3id.org/security#"
ISSUER_ED = KeyPair.from_seed(KeyType.ED25519, bytes([31]) * 32)
ISSUER_P384 = KeyPair.from_seed(KeyType.P384, bytes([32]) * 48)
HOLDER_ED = KeyPair.from_seed(KeyType.ED25519, bytes([33]) * 32)
HOLDER_P256 = KeyPair.from_seed(KeyType.P256, bytes([34]) * 32)
STRANGER = KeyPair.from_seed(KeyType.ED25519, bytes([35]) * 32)
HOLDERS = {"eddsa-rdfc-2022": HOLDER_ED, "ecdsa-jcs-2019": HOLDER_P256}


def _did(pair: KeyPair) -> str:
    return did_key_from_public_key(pair.public_key)


def _signer(pair: KeyPair) -> Signer:
    return pair.signer(f"{_did(pair)}#{pair.public_key.multibase()}")


def _credential(pair: KeyPair = ISSUER_ED, suite: str = "eddsa-rdfc-2022", **members: Any) -> dict[str, Any]:
    doc = merchant_credential()
    doc.update(members)
    return issue(doc, _signer(pair), suite=suite, issuer=_did(pair), created=ISSUED)


def _two_credentials() -> list[dict[str, Any]]:
    return [_credential(), _credential(ISSUER_P384, "ecdsa-rdfc-2019")]


def _present(credentials: list[dict[str, Any]], holder_pair: KeyPair = HOLDER_ED, *,
             suite: str = "eddsa-rdfc-2022", holder: str | None = None, challenge: str | None = CHALLENGE,
             domain: str | None = DOMAIN) -> dict[str, Any]:
    vp = create_presentation(credentials, holder=holder if holder is not None else _did(holder_pair),
                             presentation_id="urn:uuid:3f1c2a8e-7d4b-4c6a-9e2f-1b5d7a9c0e3f")
    return sign_presentation(vp, _signer(holder_pair), suite=suite, challenge=challenge, domain=domain,
                             created=PRESENTED)


def _verify(vp: Any, *, challenge: str | None = CHALLENGE, domain: str | None = DOMAIN) -> VerificationResult:
    return verify_presentation(vp, resolver=Resolver(), now=NOW, challenge=challenge, domain=domain)


def _own_checks_pass(result: VerificationResult) -> None:
    for name in ("dataModel", "proof", "holderBinding"):
        assert require_check(result, name).passed, (name, result.to_dict())


# --- the happy path -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("suite", sorted(HOLDERS))
def test_signed_presentation_verifies(suite: str) -> None:
    holder = HOLDERS[suite]
    vp = _present(_two_credentials(), holder, suite=suite)
    proof = vp["proof"]
    assert proof["proofPurpose"] == "authentication"
    assert proof["challenge"] == CHALLENGE
    assert proof["domain"] == DOMAIN
    assert proof["cryptosuite"] == suite
    result = _verify(vp)
    assert result.verified, result.to_dict()
    assert result.kind == "presentation"
    assert [c.check for c in result.checks] == ["dataModel", "proof", "holderBinding"]
    assert require_check(result, "proof").details["cryptosuite"] == suite
    assert require_check(result, "holderBinding").details == {"holder": _did(holder)}
    assert len(result.credentials) == 2
    assert all(c.kind == "credential" and c.verified for c in result.credentials)
    cryptosuites = [require_check(c, "proof").details["cryptosuite"] for c in result.credentials]
    assert cryptosuites == ["eddsa-rdfc-2022", "ecdsa-rdfc-2019"]
    issuers = [require_check(c, "issuerBinding").details["issuer"] for c in result.credentials]
    assert issuers == [_did(ISSUER_ED), _did(ISSUER_P384)]
    as_json = json.loads(json.dumps(result.to_dict()))
    assert as_json["kind"] == "presentation"
    assert as_json["verified"] is True
    assert [c["verified"] for c in as_json["credentials"]] == [True, True]


def test_presentation_without_credentials_verifies() -> None:
    vp = _present([])
    assert "verifiableCredential" not in vp
    result = _verify(vp)
    assert result.verified, result.to_dict()
    assert result.credentials == []


def test_create_presentation_copies_credentials() -> None:
    credential = _credential()
    vp = create_presentation([credential], holder=_did(HOLDER_ED))
    vp["verifiableCredential"][0]["credentialSubject"]["legalName"] = "changed"
    assert credential["credentialSubject"]["legalName"] != "changed"
    assert vp["type"] == ["VerifiablePresentation"]
    assert vp["holder"] == _did(HOLDER_ED)


# --- challenge, domain and purpose ----------------------------------------------------------------------------

def test_wrong_challenge() -> None:
    result = _verify(_present(_two_credentials()), challenge="another-challenge")
    assert not result.verified
    proof = require_check(result, "proof")
    assert codes_of(proof) == ["INVALID_CHALLENGE_ERROR"]
    assert proof.problems[0].type == SEC + "INVALID_CHALLENGE_ERROR"
    assert all(c.verified for c in result.credentials)


def test_missing_challenge_when_one_is_expected() -> None:
    vp = _present(_two_credentials(), challenge=None)
    assert "challenge" not in vp["proof"]
    result = _verify(vp)
    assert not result.verified
    assert codes_of(require_check(result, "proof")) == ["INVALID_CHALLENGE_ERROR"]


def test_wrong_domain() -> None:
    result = _verify(_present(_two_credentials()), domain="evil.example.com")
    assert not result.verified
    proof = require_check(result, "proof")
    assert codes_of(proof) == ["INVALID_DOMAIN_ERROR"]
    assert proof.problems[0].type == SEC + "INVALID_DOMAIN_ERROR"


def test_missing_domain_when_one_is_expected() -> None:
    result = _verify(_present(_two_credentials(), domain=None))
    assert codes_of(require_check(result, "proof")) == ["INVALID_DOMAIN_ERROR"]


def test_assertion_method_purpose_is_refused() -> None:
    vp = create_presentation(_two_credentials(), holder=_did(HOLDER_ED))
    options = ProofOptions(suite="eddsa-rdfc-2022", proof_purpose="assertionMethod", created=PRESENTED,
                           challenge=CHALLENGE, domain=DOMAIN)
    signed = add_proof(vp, _signer(HOLDER_ED), options, DocumentLoader.pinned())
    result = _verify(signed)
    assert not result.verified
    proof = require_check(result, "proof")
    assert codes_of(proof) == ["MISMATCHED_PROOF_PURPOSE_ERROR"]
    assert proof.problems[0].type == SEC + "MISMATCHED_PROOF_PURPOSE_ERROR"


def test_tampered_presentation_fails_its_own_proof() -> None:
    vp = _present(_two_credentials())
    vp["holder"] = _did(STRANGER)
    result = _verify(vp)
    assert not result.verified
    assert codes_of(require_check(result, "proof")) == ["PROOF_VERIFICATION_ERROR"]


# --- holder binding -------------------------------------------------------------------------------------------

def test_holder_other_than_signer() -> None:
    result = _verify(_present(_two_credentials(), HOLDER_ED, holder=_did(STRANGER)))
    assert not result.verified
    assert require_check(result, "proof").passed
    binding = require_check(result, "holderBinding")
    assert codes_of(binding) == ["HOLDER_MISMATCH"]
    assert binding.problems[0].type == VCDM + "CRYPTOGRAPHIC_SECURITY_ERROR"
    assert binding.details == {"holder": _did(STRANGER), "signers": [_did(HOLDER_ED)]}
    assert all(c.verified for c in result.credentials)


# --- enclosed credentials -------------------------------------------------------------------------------------

def test_tampered_enclosed_credential() -> None:
    credentials = _two_credentials()
    credentials[0]["credentialSubject"]["legalName"] = "Someone Else Trading Co."
    vp = _present(credentials)
    result = _verify(vp)
    assert not result.verified
    _own_checks_pass(result)
    tampered, intact = result.credentials
    assert intact.verified
    assert not tampered.verified
    assert codes_of(require_check(tampered, "proof")) == ["PROOF_VERIFICATION_ERROR"]
    assert require_check(tampered, "dataModel").passed
    assert require_check(tampered, "validity").passed
    assert [p.code for p in result.problems] == [p.code for p in tampered.problems]


def test_expired_enclosed_credential() -> None:
    expired = _credential(validFrom="2025-01-01T00:00:00Z", validUntil="2026-05-01T00:00:00Z")
    result = _verify(_present([expired]))
    assert not result.verified
    _own_checks_pass(result)
    (inner,) = result.credentials
    assert require_check(inner, "proof").passed
    validity = require_check(inner, "validity")
    assert codes_of(validity) == ["EXPIRED"]
    assert validity.problems[0].type == VCDM + "RANGE_ERROR"
    assert result.to_dict()["credentials"][0]["verified"] is False


def test_enclosed_credential_issuer_mismatch() -> None:
    doc = merchant_credential(_did(STRANGER))
    lying = issue(doc, _signer(ISSUER_ED), created=ISSUED)
    result = _verify(_present([lying]))
    assert not result.verified
    _own_checks_pass(result)
    assert codes_of(require_check(result.credentials[0], "issuerBinding")) == ["ISSUER_MISMATCH"]


def _unsigned(issuer: str) -> dict[str, Any]:
    doc = merchant_credential(issuer)
    doc["credentialSubject"] = {"id": issuer, "legalName": "Self Described Ltd."}
    return doc


def test_self_asserted_credential_passes() -> None:
    holder = _did(HOLDER_ED)
    result = _verify(_present([_unsigned(holder)], HOLDER_ED))
    assert result.verified, result.to_dict()
    (inner,) = result.credentials
    assert [c.check for c in inner.checks] == ["dataModel", "selfAsserted", "validity"]
    assert require_check(inner, "selfAsserted").details == {"issuer": holder}
    assert inner.check("proof") is None


def test_unsigned_credential_from_another_issuer_fails() -> None:
    result = _verify(_present([_unsigned(_did(STRANGER))], HOLDER_ED))
    assert not result.verified
    _own_checks_pass(result)
    check = require_check(result.credentials[0], "selfAsserted")
    assert not check.passed
    assert codes_of(check) == ["UNSECURED_CREDENTIAL"]
    assert check.details == {"issuer": _did(STRANGER), "holder": _did(HOLDER_ED)}


def test_self_asserted_needs_the_holder_to_sign() -> None:
    # The holder names itself as issuer of an unsigned credential but someone else signs the presentation
    claimed = _did(STRANGER)
    result = _verify(_present([_unsigned(claimed)], HOLDER_ED, holder=claimed))
    assert not result.verified
    assert codes_of(require_check(result, "holderBinding")) == ["HOLDER_MISMATCH"]
    assert codes_of(require_check(result.credentials[0], "selfAsserted")) == ["UNSECURED_CREDENTIAL"]


def test_self_asserted_credential_still_checks_validity() -> None:
    holder = _did(HOLDER_ED)
    doc = _unsigned(holder)
    doc["validUntil"] = "2026-05-01T00:00:00Z"
    result = _verify(_present([doc], HOLDER_ED))
    assert not result.verified
    inner = result.credentials[0]
    assert require_check(inner, "selfAsserted").passed
    assert codes_of(require_check(inner, "validity")) == ["EXPIRED"]


# --- verify_presentation never raises -------------------------------------------------------------------------

def _with(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    def mutate(vp: dict[str, Any]) -> Any:
        vp[key] = value
        return vp
    return mutate


def _credential_member(value: Any) -> Callable[[dict[str, Any]], Any]:
    def mutate(vp: dict[str, Any]) -> Any:
        vp["verifiableCredential"][0] = value
        return vp
    return mutate


GARBAGE: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "list": (lambda vp: [vp], "MALFORMED_VALUE_ERROR"),
    "string": (lambda vp: json.dumps(vp), "MALFORMED_VALUE_ERROR"),
    "empty-object": (lambda vp: {}, "MALFORMED_VALUE_ERROR"),
    "proof-is-a-string": (_with("proof", "z3abc"), "MALFORMED_PROOF_ERROR"),
    "holder-is-a-list": (_with("holder", ["did:example:1"]), "MALFORMED_VALUE_ERROR"),
    "credential-is-a-string": (_credential_member("eyJhbGciOi.e30.sig"), "MALFORMED_VALUE_ERROR"),
    "credential-is-empty": (_credential_member({}), "MALFORMED_VALUE_ERROR"),
}


@pytest.mark.parametrize("case", list(GARBAGE))
def test_verify_presentation_never_raises_for_garbage(case: str) -> None:
    make, expected = GARBAGE[case]
    vp = make(copy.deepcopy(_present([_credential()])))
    result = _verify(vp)
    assert not result.verified
    assert expected in {p.code for p in result.problems}, result.to_dict()
    assert json.loads(json.dumps(result.to_dict()))["kind"] == "presentation"


def test_result_problems_include_enclosed_credentials() -> None:
    expired = _credential(validFrom="2025-01-01T00:00:00Z", validUntil="2026-05-01T00:00:00Z")
    result = _verify(_present([expired]))
    assert [p.code for p in result.problems] == ["EXPIRED"]
    encoded: Mapping[str, Any] = json.loads(json.dumps(result.to_dict()))
    assert encoded["problems"][0]["code"] == "EXPIRED"
