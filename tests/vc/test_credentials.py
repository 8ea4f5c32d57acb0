"""Credential issuing and verification: validity, VC 1.1 dates, issuer binding, suites, proof times, related
resources, status, language values, garbage input and did:web issuers."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chopmark.codecs import multibase
from chopmark.dids import Resolver, did_key_from_public_key
from chopmark.errors import ChopmarkError, MalformedValueError, ProofGenerationError, RangeError
from chopmark.integrity.proofs import ProofOptions, add_proof
from chopmark.integrity.suites import SUITES
from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyPair, KeyType, Signer
from chopmark.vc.credentials import issue, verify_credential
from chopmark.vc.results import VerificationResult
from chopmark.vc.samples import merchant_credential
from tests.conftest import codes_of, require_check

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
CREATED = "2026-01-01T00:00:00Z"
VCDM = "https://www.w3.org/TR/vc-data-model#"
SEC = "https://w3id.org/security#"
ED = KeyPair.from_seed(KeyType.ED25519, bytes([21]) * 32)
OTHER = KeyPair.from_seed(KeyType.ED25519, bytes([22]) * 32)
P256 = KeyPair.from_seed(KeyType.P256, bytes([23]) * 32)
V1_CONTEXTS = ["https://www.w3.org/2018/credentials/v1", "https://www.w3.org/2018/credentials/examples/v1",
               "https://w3id.org/security/data-integrity/v2"]
STATUS_CONTEXT = "https://www.w3.org/ns/credentials/status/v1"
WEB_DID = "did:web:issuer.example.com"
WEB_VM = f"{WEB_DID}#key-1"


def _did(pair: KeyPair) -> str:
    return did_key_from_public_key(pair.public_key)


def _signer(pair: KeyPair) -> Signer:
    return pair.signer(f"{_did(pair)}#{pair.public_key.multibase()}")


def _issue(doc: Mapping[str, Any], pair: KeyPair = ED, *, suite: str = "eddsa-rdfc-2022",
           issuer: str | None = None, created: str = CREATED, allow_legacy: bool = False) -> dict[str, Any]:
    return issue(doc, _signer(pair), suite=suite, issuer=issuer if issuer is not None else _did(pair),
                 created=created, allow_legacy=allow_legacy)


def _verify(doc: Any, **kwargs: Any) -> VerificationResult:
    kwargs.setdefault("now", NOW)
    return verify_credential(doc, resolver=kwargs.pop("resolver", Resolver()), **kwargs)


def _window(valid_from: str | None = None, valid_until: str | None = None) -> dict[str, Any]:
    doc = merchant_credential()
    for key, value in (("validFrom", valid_from), ("validUntil", valid_until)):
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- validity period ------------------------------------------------------------------------------------------

def test_inside_the_validity_window_verifies() -> None:
    result = _verify(_issue(_window("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")))
    assert result.verified, result.to_dict()
    assert [c.check for c in result.checks] == ["dataModel", "proof", "validity", "issuerBinding"]
    assert require_check(result, "validity").passed


def test_not_yet_valid() -> None:
    result = _verify(_issue(_window("2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z")))
    assert not result.verified
    assert require_check(result, "proof").passed
    validity = require_check(result, "validity")
    assert not validity.passed
    assert codes_of(validity) == ["NOT_YET_VALID"]
    assert validity.problems[0].type == VCDM + "RANGE_ERROR"
    assert validity.problems[0].pointer == "validFrom"


def test_expired() -> None:
    result = _verify(_issue(_window("2025-01-01T00:00:00Z", "2026-05-01T00:00:00Z")))
    assert not result.verified
    assert require_check(result, "proof").passed
    validity = require_check(result, "validity")
    assert codes_of(validity) == ["EXPIRED"]
    assert validity.problems[0].type == VCDM + "RANGE_ERROR"
    assert validity.problems[0].pointer == "validUntil"


def test_open_ended_validity_verifies() -> None:
    result = _verify(_issue(_window("2026-01-01T00:00:00Z", None)))
    assert result.verified, result.to_dict()


SKEW = timedelta(minutes=2)
START = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
END = datetime(2026, 6, 2, 12, 0, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(("now", "expected"), [
    (START - SKEW, None),
    (START - SKEW - SECOND, "NOT_YET_VALID"),
    (END + SKEW, None),
    (END + SKEW + SECOND, "EXPIRED"),
], ids=["start-edge-inside", "start-edge-outside", "end-edge-inside", "end-edge-outside"])
def test_max_clock_skew_edges(now: datetime, expected: str | None) -> None:
    signed = _issue(_window(_iso(START), _iso(END)))
    result = _verify(signed, now=now, max_clock_skew=SKEW)
    validity = require_check(result, "validity")
    if expected is None:
        assert result.verified, result.to_dict()
        assert validity.passed
    else:
        assert not result.verified
        assert codes_of(validity) == [expected]
        assert require_check(result, "proof").passed


def test_zero_skew_is_strict() -> None:
    signed = _issue(_window(_iso(START), _iso(END)))
    assert _verify(signed, now=START, max_clock_skew=timedelta(0)).verified
    assert _verify(signed, now=END, max_clock_skew=timedelta(0)).verified
    before = _verify(signed, now=START - SECOND, max_clock_skew=timedelta(0))
    assert codes_of(require_check(before, "validity")) == ["NOT_YET_VALID"]
    after = _verify(signed, now=END + SECOND, max_clock_skew=timedelta(0))
    assert codes_of(require_check(after, "validity")) == ["EXPIRED"]


def test_valid_until_before_valid_from_is_refused_at_issue() -> None:
    with pytest.raises(RangeError) as info:
        _issue(_window("2026-06-01T00:00:00Z", "2026-05-01T00:00:00Z"))
    assert info.value.pointer == "validUntil"
    assert info.value.to_problem().type == VCDM + "RANGE_ERROR"


def test_valid_from_without_time_zone_is_refused_at_issue() -> None:
    with pytest.raises(MalformedValueError) as info:
        _issue(_window("2026-01-01T00:00:00", None))
    assert info.value.pointer == "validFrom"


# --- VC 1.1 ---------------------------------------------------------------------------------------------------

def _v1(**dates: str) -> dict[str, Any]:
    return {"@context": list(V1_CONTEXTS), "type": ["VerifiableCredential", "AlumniCredential"],
            "issuer": "did:example:placeholder", **dates,
            "credentialSubject": {"id": "did:example:abc", "alumniOf": "Example University"}}


def test_vc11_issues_and_verifies() -> None:
    signed = _issue(_v1(issuanceDate="2026-01-01T00:00:00Z", expirationDate="2030-01-01T00:00:00Z"))
    assert signed["issuanceDate"] == "2026-01-01T00:00:00Z"
    result = _verify(signed)
    assert result.verified, result.to_dict()
    assert require_check(result, "validity").passed


def test_vc11_issuance_date_without_zone_is_accepted() -> None:
    # VC 1.1 issuanceDate is xsd:dateTime: the zone is optional (read as UTC)
    result = _verify(_issue(_v1(issuanceDate="2026-01-01T00:00:00")))
    assert result.verified, result.to_dict()


def test_vc11_expiration_date_in_the_past_is_expired() -> None:
    result = _verify(_issue(_v1(issuanceDate="2025-01-01T00:00:00Z", expirationDate="2026-03-01T00:00:00Z")))
    assert not result.verified
    assert require_check(result, "proof").passed
    validity = require_check(result, "validity")
    assert codes_of(validity) == ["EXPIRED"]
    assert validity.problems[0].pointer == "expirationDate"


def test_vc11_issuance_date_in_the_future_is_not_yet_valid() -> None:
    result = _verify(_issue(_v1(issuanceDate="2026-09-01T00:00:00Z")))
    assert codes_of(require_check(result, "validity")) == ["NOT_YET_VALID"]
    assert require_check(result, "validity").problems[0].pointer == "issuanceDate"


def test_vc11_without_issuance_date_is_refused_at_issue() -> None:
    with pytest.raises(MalformedValueError) as info:
        _issue(_v1(expirationDate="2030-01-01T00:00:00Z"))
    assert info.value.pointer == "issuanceDate"
    assert info.value.instance_code == "MALFORMED_VALUE_ERROR"


# --- issuer binding -------------------------------------------------------------------------------------------

def test_issuer_not_controlled_by_the_signer_fails_binding() -> None:
    signed = _issue(merchant_credential(), ED, issuer=_did(OTHER))
    result = _verify(signed)
    assert not result.verified
    assert require_check(result, "proof").passed
    binding = require_check(result, "issuerBinding")
    assert not binding.passed
    assert codes_of(binding) == ["ISSUER_MISMATCH"]
    assert binding.problems[0].type == VCDM + "CRYPTOGRAPHIC_SECURITY_ERROR"
    assert binding.details == {"issuer": _did(OTHER), "controllers": [_did(ED)]}


def test_issuer_binding_can_be_disabled() -> None:
    signed = _issue(merchant_credential(), ED, issuer=_did(OTHER))
    result = _verify(signed, issuer_binding=False)
    assert result.verified, result.to_dict()
    assert result.check("issuerBinding") is None


def test_issuer_object_form_binds() -> None:
    doc = merchant_credential()
    doc["issuer"] = {"id": "did:example:placeholder", "name": "Example Registry"}
    signed = _issue(doc, ED)
    assert signed["issuer"] == {"id": _did(ED), "name": "Example Registry"}
    result = _verify(signed)
    assert result.verified, result.to_dict()
    assert require_check(result, "issuerBinding").details == {"issuer": _did(ED)}


def test_issuer_object_form_with_another_did_fails_binding() -> None:
    doc = merchant_credential()
    doc["issuer"] = {"id": "did:example:placeholder", "name": "Example Registry"}
    result = _verify(_issue(doc, ED, issuer=_did(OTHER)))
    assert codes_of(require_check(result, "issuerBinding")) == ["ISSUER_MISMATCH"]


# --- accepted suites and proof generation ---------------------------------------------------------------------

def test_suite_outside_the_allow_list_is_refused() -> None:
    signed = _issue(merchant_credential(), ED)
    result = _verify(signed, accepted_suites=["ecdsa-rdfc-2019"])
    assert not result.verified
    proof = require_check(result, "proof")
    assert codes_of(proof) == ["PROOF_VERIFICATION_ERROR"]
    assert proof.problems[0].type == SEC + "PROOF_VERIFICATION_ERROR"
    # no proof verified, so nobody is bound to the issuer
    assert codes_of(require_check(result, "issuerBinding")) == ["ISSUER_MISMATCH"]
    assert _verify(signed, accepted_suites=["eddsa-rdfc-2022"]).verified


def test_legacy_suite_needs_allow_legacy() -> None:
    suite = SUITES["Ed25519Signature2020"]
    assert suite.required_context is not None
    doc = merchant_credential()
    doc["@context"] = [*doc["@context"], suite.required_context]
    with pytest.raises(ProofGenerationError) as info:
        _issue(doc, ED, suite="Ed25519Signature2020")
    assert info.value.to_problem().type == SEC + "PROOF_GENERATION_ERROR"
    signed = _issue(doc, ED, suite="Ed25519Signature2020", allow_legacy=True)
    assert signed["proof"]["type"] == "Ed25519Signature2020"
    assert _verify(signed).verified


@pytest.mark.parametrize(("pair", "suite"), [(P256, "eddsa-rdfc-2022"), (P256, "eddsa-jcs-2022"),
                                             (ED, "ecdsa-rdfc-2019"), (ED, "ecdsa-jcs-2019")],
                         ids=["p256-eddsa-rdfc", "p256-eddsa-jcs", "ed25519-ecdsa-rdfc", "ed25519-ecdsa-jcs"])
def test_signer_algorithm_must_match_the_suite(pair: KeyPair, suite: str) -> None:
    with pytest.raises(ProofGenerationError):
        _issue(merchant_credential(), pair, suite=suite)


def test_p256_with_ecdsa_suite_verifies() -> None:
    assert _verify(_issue(merchant_credential(), P256, suite="ecdsa-rdfc-2019")).verified


# --- proof created / expires ----------------------------------------------------------------------------------

def _with_proof(options: ProofOptions, pair: KeyPair = ED) -> dict[str, Any]:
    return add_proof(merchant_credential(_did(pair)), _signer(pair), options, DocumentLoader.pinned())


def test_proof_created_in_the_future_beyond_skew_fails() -> None:
    signed = _issue(merchant_credential(), created=_iso(NOW + timedelta(minutes=5) + SECOND))
    result = _verify(signed)
    assert not result.verified
    proof = require_check(result, "proof")
    assert codes_of(proof) == ["INVALID_PROOF_DATETIME"]
    assert proof.problems[0].type == SEC + "INVALID_PROOF_DATETIME"
    assert proof.problems[0].pointer == "proof/created"


def test_proof_created_within_skew_verifies() -> None:
    signed = _issue(merchant_credential(), created=_iso(NOW + timedelta(minutes=5)))
    assert _verify(signed).verified


def test_proof_expires_in_the_past_fails() -> None:
    signed = _with_proof(ProofOptions(suite="eddsa-rdfc-2022", created=CREATED, expires="2026-05-01T00:00:00Z"))
    assert signed["proof"]["expires"] == "2026-05-01T00:00:00Z"
    result = _verify(signed)
    assert not result.verified
    proof = require_check(result, "proof")
    assert codes_of(proof) == ["PROOF_EXPIRED"]
    assert proof.problems[0].type == SEC + "INVALID_PROOF_DATETIME"
    assert proof.problems[0].pointer == "proof/expires"


def test_proof_expires_in_the_future_verifies() -> None:
    signed = _with_proof(ProofOptions(suite="eddsa-rdfc-2022", created=CREATED, expires="2027-01-01T00:00:00Z"))
    assert _verify(signed).verified


def test_proof_expires_at_the_last_representable_instant_verifies() -> None:
    # A "never expires" proof: 9999-12-31T23:59:59Z is a valid dateTimeStamp far after NOW. Adding the clock
    # skew to it must not overflow (it must verify, not raise OverflowError).
    signed = _with_proof(ProofOptions(suite="eddsa-rdfc-2022", created=CREATED, expires="9999-12-31T23:59:59Z"))
    result = _verify(signed)
    assert result.verified, result.to_dict()


def test_proof_with_malformed_created_is_refused_at_issue() -> None:
    with pytest.raises(ChopmarkError) as info:
        _issue(merchant_credential(), created="yesterday")
    assert info.value.instance_code == "INVALID_PROOF_DATETIME"


# --- related resources ----------------------------------------------------------------------------------------

RES_A, RES_B = "https://resources.example/logo.png", "https://resources.example/terms.html"
CONTENT_A, CONTENT_B = b"\x89PNG fake logo bytes", b"<html>terms</html>"


def _sri384(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def _multihash256(content: bytes) -> str:
    return multibase.encode(bytes([0x12, 0x20]) + hashlib.sha256(content).digest(), "base58btc")


def _with_resources(resources: list[Any]) -> dict[str, Any]:
    doc = merchant_credential()
    doc["relatedResource"] = resources
    return doc


def _resourced() -> dict[str, Any]:
    return _issue(_with_resources([{"id": RES_A, "digestSRI": _sri384(CONTENT_A)},
                                   {"id": RES_B, "digestMultibase": _multihash256(CONTENT_B)}]))


def test_related_resources_match() -> None:
    signed = _resourced()
    assert signed["relatedResource"][1]["digestMultibase"].startswith("z")
    result = _verify(signed, related_resources={RES_A: CONTENT_A, RES_B: CONTENT_B})
    assert result.verified, result.to_dict()
    related = require_check(result, "relatedResource")
    assert related.passed
    assert related.details == {"checked": [RES_A, RES_B]}


@pytest.mark.parametrize("which", ["sri", "multibase", "both"])
def test_related_resource_digest_mismatch(which: str) -> None:
    supplied = {RES_A: CONTENT_A + (b"!" if which in ("sri", "both") else b""),
                RES_B: CONTENT_B + (b"!" if which in ("multibase", "both") else b"")}
    result = _verify(_resourced(), related_resources=supplied)
    assert not result.verified
    assert require_check(result, "proof").passed
    related = require_check(result, "relatedResource")
    assert not related.passed
    assert codes_of(related) == ["DIGEST_MISMATCH"] * (2 if which == "both" else 1)
    assert all(p.type == VCDM + "RANGE_ERROR" for p in related.problems)
    assert related.details == {"checked": [RES_A, RES_B]}
    missing = RES_A if which in ("sri", "both") else RES_B
    assert missing in related.problems[0].detail


def test_related_resources_not_checked_without_content() -> None:
    result = _verify(_resourced())
    assert result.verified
    assert result.check("relatedResource") is None


@pytest.mark.parametrize("resources", [
    [{"id": RES_A}],
    [{"id": RES_A, "digestSRI": _sri384(CONTENT_A)}, {"id": RES_A, "digestSRI": _sri384(CONTENT_B)}],
    [{"digestSRI": _sri384(CONTENT_A)}],
], ids=["no-digest", "duplicate-id", "no-id"])
def test_bad_related_resource_is_refused_at_issue(resources: list[Any]) -> None:
    with pytest.raises(MalformedValueError) as info:
        _issue(_with_resources(resources))
    assert info.value.instance_code == "MALFORMED_VALUE_ERROR"
    assert info.value.pointer is not None and info.value.pointer.startswith("relatedResource")


# --- credentialStatus hook ------------------------------------------------------------------------------------

STATUS_ENTRY: dict[str, Any] = {
    "id": "https://status.example.com/lists/3#94567",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "94567",
    "statusListCredential": "https://status.example.com/lists/3",
}


def _with_status() -> dict[str, Any]:
    doc = merchant_credential()
    doc["@context"] = [*doc["@context"], STATUS_CONTEXT]
    doc["credentialStatus"] = copy.deepcopy(STATUS_ENTRY)
    return _issue(doc)


def test_status_checker_receives_each_entry_and_passes() -> None:
    signed = _with_status()
    calls: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def checker(entry: Mapping[str, Any], credential: Mapping[str, Any]) -> Mapping[str, Any]:
        calls.append((dict(entry), dict(credential)))
        return {"statusPurpose": entry["statusPurpose"], "status": 0}

    result = _verify(signed, status_checker=checker)
    assert result.verified, result.to_dict()
    assert [entry for entry, _ in calls] == [STATUS_ENTRY]
    assert calls[0][1]["id"] == signed["id"]
    status = require_check(result, "status")
    assert status.details == {"entries": [{"statusPurpose": "revocation", "status": 0}]}


def test_status_checker_is_called_for_every_entry() -> None:
    doc = merchant_credential()
    doc["@context"] = [*doc["@context"], STATUS_CONTEXT]
    suspension = {**STATUS_ENTRY, "id": "https://status.example.com/lists/4#1", "statusPurpose": "suspension",
                  "statusListCredential": "https://status.example.com/lists/4"}
    doc["credentialStatus"] = [copy.deepcopy(STATUS_ENTRY), suspension]
    seen: list[str] = []

    def checker(entry: Mapping[str, Any], credential: Mapping[str, Any]) -> Mapping[str, Any]:
        seen.append(entry["statusPurpose"])
        return {}

    assert _verify(_issue(doc), status_checker=checker).verified
    assert seen == ["revocation", "suspension"]


def test_status_checker_raising_fails_the_status_check() -> None:
    def revoked(entry: Mapping[str, Any], credential: Mapping[str, Any]) -> Mapping[str, Any]:
        raise RangeError(f"index {entry['statusListIndex']} is revoked", code="REVOKED")

    result = _verify(_with_status(), status_checker=revoked)
    assert not result.verified
    assert require_check(result, "proof").passed
    status = require_check(result, "status")
    assert not status.passed
    assert codes_of(status) == ["REVOKED"]
    assert status.problems[0].type == VCDM + "RANGE_ERROR"


def test_without_status_checker_no_status_check_runs() -> None:
    result = _verify(_with_status())
    assert result.verified
    assert result.check("status") is None
    assert "status" not in {c["check"] for c in result.to_dict()["checks"]}


# --- names and descriptions -----------------------------------------------------------------------------------

def test_language_values_are_accepted() -> None:
    doc = merchant_credential()
    doc["name"] = "Merchant identity"
    doc["description"] = [{"@value": "Identité du marchand", "@language": "fr"},
                          {"@value": "هوية التاجر", "@language": "ar", "@direction": "rtl"}]
    doc["issuer"] = {"id": "did:example:placeholder", "name": {"@value": "Example Registry", "@language": "en"}}
    signed = _issue(doc)
    assert _verify(signed).verified


@pytest.mark.parametrize(("key", "value", "pointer"), [
    ("name", {"@value": "Merchant", "@language": "en", "extra": "x"}, "name"),
    ("description", [{"@value": "ok", "@language": "en"}, {"@value": "x", "@lang": "en"}], "description/1"),
    ("name", {"@value": "x", "@direction": "up"}, "name"),
    ("name", 42, "name"),
], ids=["extra-member", "extra-member-in-list", "bad-direction", "number"])
def test_bad_language_value_is_refused_at_issue(key: str, value: Any, pointer: str) -> None:
    doc = merchant_credential()
    doc[key] = value
    with pytest.raises(MalformedValueError) as info:
        _issue(doc)
    assert info.value.pointer == pointer


# --- verify_credential never raises ---------------------------------------------------------------------------

def _signed_base() -> dict[str, Any]:
    return _issue(merchant_credential())


def _set_proof(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    def mutate(doc: dict[str, Any]) -> Any:
        doc["proof"][key] = value
        return doc
    return mutate


def _set_member(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    def mutate(doc: dict[str, Any]) -> Any:
        doc[key] = value
        return doc
    return mutate


_NOT_LISTED_KEY = did_key_from_public_key(OTHER.public_key).removeprefix("did:key:")

GARBAGE: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "list": (lambda doc: [doc], "MALFORMED_VALUE_ERROR"),
    "string": (lambda doc: json.dumps(doc), "MALFORMED_VALUE_ERROR"),
    "empty-object": (lambda doc: {}, "MALFORMED_VALUE_ERROR"),
    "null": (lambda doc: None, "MALFORMED_VALUE_ERROR"),
    "number": (lambda doc: 7, "MALFORMED_VALUE_ERROR"),
    "proof-is-a-string": (_set_member("proof", "z3abc"), "MALFORMED_PROOF_ERROR"),
    "proof-list-of-garbage": (_set_member("proof", [1, None, "x"]), "MALFORMED_PROOF_ERROR"),
    "proofValue-not-base58": (_set_proof("proofValue", "z0OIl+/"), "MALFORMED_PROOF_ERROR"),
    "proofValue-not-multibase": (_set_proof("proofValue", "not multibase"), "MALFORMED_PROOF_ERROR"),
    "proofPurpose-list": (_set_proof("proofPurpose", ["assertionMethod"]), "MALFORMED_PROOF_ERROR"),
    "created-number": (_set_proof("created", 1700000000), "INVALID_PROOF_DATETIME"),
    "did-web-not-found": (_set_proof("verificationMethod", "did:web:unknown.example#k"), "notFound"),
    "did-key-method-not-listed": (_set_proof("verificationMethod", f"{_did(ED)}#{_NOT_LISTED_KEY}"),
                                  "INVALID_VERIFICATION_METHOD"),
    "did-key-garbage": (_set_proof("verificationMethod", "did:key:zzzz#zzzz"), "invalidPublicKeyType"),
    "vm-bare-fragment": (_set_proof("verificationMethod", "#key-1"), "INVALID_VERIFICATION_METHOD"),
    "unknown-did-method": (_set_proof("verificationMethod", "did:example:123#k"), "methodNotSupported"),
    "context-number": (_set_member("@context", 5), "MALFORMED_VALUE_ERROR"),
    "validFrom-number": (_set_member("validFrom", 5), "MALFORMED_VALUE_ERROR"),
    "issuer-id-list": (_set_member("issuer", {"id": ["did:example:1"]}), "MALFORMED_VALUE_ERROR"),
    "relatedResource-id-list": (_set_member("relatedResource", [{"id": [RES_A], "digestSRI": _sri384(b"")}]),
                                "MALFORMED_VALUE_ERROR"),
    "relatedResource-id-object": (_set_member("relatedResource", [{"id": {"@id": RES_A},
                                                                   "digestSRI": _sri384(b"")}]),
                                  "MALFORMED_VALUE_ERROR"),
    "validUntil-24h-at-year-9999": (_set_member("validUntil", "9999-12-31T24:00:00Z"), "PROOF_VERIFICATION_ERROR"),
}


@pytest.mark.parametrize("case", list(GARBAGE))
def test_verify_never_raises_for_garbage(case: str) -> None:
    make, expected = GARBAGE[case]
    doc = make(copy.deepcopy(_signed_base()))
    result = _verify(doc)
    assert not result.verified
    assert expected in {p.code for p in result.problems}, result.to_dict()
    encoded = json.dumps(result.to_dict())
    assert json.loads(encoded)["verified"] is False


# --- did:web issuer -------------------------------------------------------------------------------------------

def _web_document(relationships: tuple[str, ...]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": WEB_DID,
        "verificationMethod": [ED.to_multikey(include_secret=False, id=WEB_VM, controller=WEB_DID)],
    }
    for relationship in relationships:
        doc[relationship] = [WEB_VM]
    return doc


def _web_issued() -> dict[str, Any]:
    return issue(merchant_credential(), ED.signer(WEB_VM), issuer=WEB_DID, created=CREATED)


def test_did_web_issuer_verifies() -> None:
    resolver = Resolver(documents={WEB_DID: _web_document(("assertionMethod", "authentication"))})
    signed = _web_issued()
    assert signed["proof"]["verificationMethod"] == WEB_VM
    result = _verify(signed, resolver=resolver)
    assert result.verified, result.to_dict()
    assert require_check(result, "proof").details["verificationMethod"] == WEB_VM
    assert require_check(result, "issuerBinding").details == {"issuer": WEB_DID}


def test_did_web_method_not_under_assertion_method_fails() -> None:
    resolver = Resolver(documents={WEB_DID: _web_document(("authentication",))})
    result = _verify(_web_issued(), resolver=resolver)
    assert not result.verified
    proof = require_check(result, "proof")
    assert codes_of(proof) == ["INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD"]
    assert proof.problems[0].type == SEC + "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD"
    assert codes_of(require_check(result, "issuerBinding")) == ["ISSUER_MISMATCH"]


def test_did_web_without_document_is_not_found() -> None:
    result = _verify(_web_issued())
    assert codes_of(require_check(result, "proof")) == ["notFound"]
