"""Trust decisions over a trust list subject, and offline verification of a signed trust list."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chopmark import trust
from chopmark.dids import Resolver, did_key_signer
from chopmark.errors import UsageError
from chopmark.integrity.checks import CheckResult
from chopmark.keys import KeyPair, KeyType
from chopmark.vc.credentials import issue
from chopmark.vocab import CONTEXT_URL, credential_schema
from tests.conftest import codes_of, require_check

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KYB = "did:web:registry.example:issuers:kyb-authority"
SITE = "did:web:registry.example:issuers:site-a"
IDENTITY = "MerchantIdentityCredential"
SELLER = "MarketplaceSellerCredential"
REGISTRY_KEY = KeyPair.from_seed(KeyType.ED25519, bytes([41]) * 32)
OTHER_KEY = KeyPair.from_seed(KeyType.ED25519, bytes([42]) * 32)


def authorization(**changes: Any) -> dict[str, Any]:
    """An active authorization of the KYB authority for DE, FR and US, 2026-01-01 to 2027-01-01."""
    entry = {"id": "urn:uuid:00000000-0000-4000-8000-000000000001", "entityId": KYB, "action": "issue",
             "resource": IDENTITY, "jurisdictions": ["DE", "FR", "US"], "authorizedFrom": "2026-01-01T00:00:00Z",
             "authorizedUntil": "2027-01-01T00:00:00Z", "entryStatus": "active"}
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


def subject(authorizations: list[dict[str, Any]] | None = None, members: list[dict[str, Any]] | None = None,
            did: str = "did:web:registry.example") -> dict[str, Any]:
    """A trust list subject."""
    return {"id": did, "type": "TrustRegistry", "trustListVersion": 3,
            "authorizations": [authorization()] if authorizations is None else authorizations,
            "members": [] if members is None else members}


def site(status: str = "active", role: str = "site") -> dict[str, Any]:
    """A member site entry."""
    return {"id": SITE, "name": "Marketplace A", "role": role, "onboardingUrl": "https://registry.example/sites/a",
            "entryStatus": status}


# --- evaluation ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("jurisdiction", "authorized"), [
    (None, True), ("DE", True), ("FR", True), ("US", True), ("US-CA", True), ("GB", False), ("DE-BY", True),
    ("CA", False), ("us", False)])
def test_jurisdiction_coverage(jurisdiction: str | None, authorized: bool) -> None:
    decision = trust.evaluate(subject(), KYB, "issue", IDENTITY, at=NOW, jurisdiction=jurisdiction)
    assert decision.authorized is authorized
    assert decision.reason == (trust.AUTHORIZED if authorized else trust.JURISDICTION_NOT_COVERED)
    assert decision.entry is not None and decision.entry["entityId"] == KYB


def test_subdivision_grant_does_not_cover_the_country() -> None:
    listed = subject([authorization(jurisdictions=["US-CA"])])
    assert trust.evaluate(listed, KYB, "issue", IDENTITY, at=NOW, jurisdiction="US-CA").authorized
    assert not trust.evaluate(listed, KYB, "issue", IDENTITY, at=NOW, jurisdiction="US").authorized
    assert not trust.evaluate(listed, KYB, "issue", IDENTITY, at=NOW, jurisdiction="US-NY").authorized


def test_wildcard_covers_every_jurisdiction() -> None:
    listed = subject([authorization(jurisdictions=["*"])])
    for code in ("JP", "BR-SP", "DE"):
        assert trust.evaluate(listed, KYB, "issue", IDENTITY, at=NOW, jurisdiction=code).authorized


@pytest.mark.parametrize(("at", "reason"), [
    (datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), trust.NOT_YET_VALID),
    (datetime(2026, 1, 1, tzinfo=UTC), trust.AUTHORIZED),  # the window includes its start
    (datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), trust.AUTHORIZED),
    (datetime(2027, 1, 1, tzinfo=UTC), trust.EXPIRED),  # ... and excludes its end
    (datetime(2030, 1, 1, tzinfo=UTC), trust.EXPIRED)])
def test_validity_window(at: datetime, reason: str) -> None:
    decision = trust.evaluate(subject(), KYB, "issue", IDENTITY, at=at, jurisdiction="DE")
    assert decision.reason == reason and decision.authorized is (reason == trust.AUTHORIZED)


def test_open_ended_authorization() -> None:
    listed = subject([authorization(authorizedUntil=None)])
    assert trust.evaluate(listed, KYB, "issue", IDENTITY, at=datetime(2099, 1, 1, tzinfo=UTC)).authorized


def test_suspended_authorization() -> None:
    decision = trust.evaluate(subject([authorization(entryStatus="suspended")]), KYB, "issue", IDENTITY, at=NOW)
    assert not decision.authorized and decision.reason == trust.ENTRY_SUSPENDED
    assert "suspended" in decision.message


@pytest.mark.parametrize(("entity", "action", "resource"), [
    ("did:web:registry.example:issuers:stranger", "issue", IDENTITY), (KYB, "revoke", IDENTITY),
    (KYB, "issue", SELLER), (KYB, "issue", "merchantidentitycredential")])
def test_not_listed(entity: str, action: str, resource: str) -> None:
    decision = trust.evaluate(subject(), entity, action, resource, at=NOW)
    assert decision == trust.TrustDecision(False, trust.NOT_LISTED, None, decision.message)
    assert entity in decision.message


def test_an_authorizing_entry_wins_over_a_failing_one() -> None:
    listed = subject([authorization(entryStatus="suspended"), authorization(id="urn:uuid:2", jurisdictions=["GB"]),
                      authorization(id="urn:uuid:3")])
    decision = trust.evaluate(listed, KYB, "issue", IDENTITY, at=NOW, jurisdiction="DE")
    assert decision.authorized and decision.entry is not None and decision.entry["id"] == "urn:uuid:3"


def test_the_closest_failing_entry_explains() -> None:
    listed = subject([authorization(entryStatus="suspended"), authorization(id="urn:uuid:2", jurisdictions=["GB"]),
                      authorization(id="urn:uuid:3", authorizedUntil="2026-02-01T00:00:00Z")])
    decision = trust.evaluate(listed, KYB, "issue", IDENTITY, at=NOW, jurisdiction="DE")
    assert decision.reason == trust.JURISDICTION_NOT_COVERED and decision.entry is not None
    assert decision.entry["id"] == "urn:uuid:2"


@pytest.mark.parametrize("broken", [{"authorizedFrom": "yesterday"}, {"authorizedFrom": None},
                                    {"jurisdictions": "DE"}, {"authorizedUntil": 5}])
def test_a_malformed_entry_never_authorizes(broken: dict[str, Any]) -> None:
    decision = trust.evaluate(subject([authorization(**broken)]), KYB, "issue", IDENTITY, at=NOW)
    assert not decision.authorized and decision.reason == trust.INVALID_ENTRY


@pytest.mark.parametrize("garbage", [{}, {"authorizations": "x", "members": 5}, {"authorizations": [1, None, "a"]}])
def test_garbage_subjects_are_not_listed(garbage: dict[str, Any]) -> None:
    assert trust.evaluate(garbage, KYB, "issue", IDENTITY, at=NOW).reason == trust.NOT_LISTED


def test_naive_time_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        trust.evaluate(subject(), KYB, "issue", IDENTITY, at=datetime(2026, 6, 1))


def test_active_member_site_may_issue_seller_credentials_everywhere() -> None:
    listed = subject(members=[site()])
    decision = trust.evaluate(listed, SITE, "issue", SELLER, at=NOW, jurisdiction="JP")
    assert decision.authorized and decision.reason == trust.MEMBER_SITE and decision.entry == site()
    assert not trust.evaluate(listed, SITE, "issue", IDENTITY, at=NOW).authorized  # only seller credentials
    assert not trust.evaluate(listed, KYB, "issue", SELLER, at=NOW).authorized


def test_suspended_member_site_is_not_authorized() -> None:
    decision = trust.evaluate(subject(members=[site("suspended")]), SITE, "issue", SELLER, at=NOW)
    assert not decision.authorized and decision.reason == trust.ENTRY_SUSPENDED


def test_member_with_another_role_gets_no_implied_authorization() -> None:
    assert not trust.evaluate(subject(members=[site(role="observer")]), SITE, "issue", SELLER, at=NOW).authorized


def test_explicit_authorization_of_a_suspended_member() -> None:
    explicit = authorization(entityId=SITE, resource=SELLER, jurisdictions=["DE"])
    listed = subject([explicit], members=[site("suspended")])
    assert trust.evaluate(listed, SITE, "issue", SELLER, at=NOW, jurisdiction="DE").authorized
    refused = trust.evaluate(listed, SITE, "issue", SELLER, at=NOW, jurisdiction="FR")
    assert refused.reason == trust.JURISDICTION_NOT_COVERED


def test_member_lookup() -> None:
    listed = subject(members=[site("suspended")])
    assert trust.member(listed, SITE) == site("suspended")
    assert trust.member(listed, SITE, active_only=True) is None
    assert not trust.is_member(listed, SITE)
    assert trust.is_member(subject(members=[site()]), SITE)
    assert trust.member(listed, KYB) is None


# --- the signed list -------------------------------------------------------------------------------------------

def signed_list(key: KeyPair = REGISTRY_KEY, **changes: Any) -> tuple[str, dict[str, Any]]:
    """A trust list issued by the did:key of ``key`` (valid 2026-06-01 to 2026-06-02)."""
    did, signer = did_key_signer(key)
    credential: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2", CONTEXT_URL],
        "type": ["VerifiableCredential", "TrustListCredential"], "issuer": did,
        "validFrom": "2026-06-01T00:00:00Z", "validUntil": "2026-06-02T00:00:00Z",
        "credentialSchema": credential_schema("TrustListCredential"),
        "credentialSubject": subject(members=[site()], did=did)}
    credential.update(changes)
    return did, issue(credential, signer, created="2026-06-01T00:00:00Z")


def test_verify_trust_list_returns_the_subject() -> None:
    did, credential = signed_list()
    listed, result = trust.verify_trust_list(credential, resolver=Resolver(), now=NOW, expected_issuer=did)
    assert result.verified, result.to_dict()
    assert require_check(result, "trustList").details == {"trustListVersion": 3}
    assert listed is not None and listed == credential["credentialSubject"]
    assert trust.evaluate(listed, KYB, "issue", IDENTITY, at=NOW, jurisdiction="FR").authorized


def test_tampered_trust_list_is_rejected() -> None:
    did, credential = signed_list()
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["authorizations"][0]["jurisdictions"].append("GB")
    listed, result = trust.verify_trust_list(tampered, resolver=Resolver(), now=NOW, expected_issuer=did)
    assert listed is None and not result.verified
    assert not require_check(result, "proof").passed


def test_another_issuer_is_rejected() -> None:
    did, _ = signed_list()
    other_did, credential = signed_list(OTHER_KEY)
    listed, result = trust.verify_trust_list(credential, resolver=Resolver(), now=NOW, expected_issuer=did)
    assert listed is None and require_check(result, "proof").passed
    assert codes_of(require_check(result, "trustList")) == ["UNEXPECTED_TRUST_LIST_ISSUER", "TRUST_LIST_MALFORMED"]
    assert other_did != did


def test_expired_trust_list_is_rejected() -> None:
    did, credential = signed_list()
    listed, result = trust.verify_trust_list(credential, resolver=Resolver(), now=NOW + timedelta(days=2),
                                             expected_issuer=did)
    assert listed is None and codes_of(require_check(result, "validity")) == ["EXPIRED"]


def test_a_credential_of_another_type_is_not_a_trust_list() -> None:
    did, credential = signed_list(type=["VerifiableCredential"])
    listed, result = trust.verify_trust_list(credential, resolver=Resolver(), now=NOW, expected_issuer=did)
    assert listed is None and "NOT_A_TRUST_LIST" in codes_of(require_check(result, "trustList"))


def test_malformed_subject_is_rejected() -> None:
    did, _ = did_key_signer(REGISTRY_KEY)
    _, credential = signed_list(credentialSubject={"id": did, "trustListVersion": -1, "members": []})
    listed, result = trust.verify_trust_list(credential, resolver=Resolver(), now=NOW, expected_issuer=did)
    problems = require_check(result, "trustList").problems
    assert listed is None and {p.pointer for p in problems} == {"/credentialSubject/trustListVersion",
                                                                 "/credentialSubject/authorizations"}


@pytest.mark.parametrize("garbage", [None, "list", 7, []])
def test_garbage_never_raises(garbage: Any) -> None:
    listed, result = trust.verify_trust_list(garbage, resolver=Resolver(), now=NOW, expected_issuer="did:x:y")
    assert listed is None and not result.verified


def test_schema_checker_is_applied() -> None:
    did, credential = signed_list()
    seen: list[Any] = []

    def refuse(document: Any) -> CheckResult:
        seen.append(document)
        return CheckResult(check="schema", passed=False)

    listed, result = trust.verify_trust_list(credential, resolver=Resolver(), now=NOW, expected_issuer=did,
                                             schema_checker=refuse)
    assert listed is None and seen == [credential] and not require_check(result, "schema").passed


def test_a_trust_list_must_name_its_schema() -> None:
    """Otherwise a schema checker would pass it unchecked (it only runs on credentials naming a schema)."""
    did, credential = signed_list(credentialSchema={"id": "https://example.org/other", "type": "JsonSchema"})
    listed, result = trust.verify_trust_list(credential, resolver=Resolver(), now=NOW, expected_issuer=did)
    assert listed is None
    assert "TRUST_LIST_MALFORMED" in {p.code for p in require_check(result, "trustList").problems}
