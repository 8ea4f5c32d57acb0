"""The trust registry on real stores (SQLite and Redis): entries, versions, TRQP queries, the signed list."""

from __future__ import annotations

import copy
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from chopmark import trust
from chopmark.dids.resolver import Resolver
from chopmark.errors import BadRequest, Conflict, NotFound
from chopmark.jsonld import DocumentLoader
from chopmark.store import Store
from chopmark.vc.credentials import verify_credential
from chopmark.vocab.schema import check_schemas
from registry.service import Registry
from registry.trust import TrustRegistry
from tests.conftest import require_check
from tests.registry.support import START, Clock

HOST = "did:web:vc.example"
KYB = "did:web:vc.example:issuers:kyb"
IDENTITY = "MerchantIdentityCredential"


@pytest.fixture
def registry(store: Store, clock: Clock) -> Registry:
    """The registry parts over ``store`` with issuer ``kyb``."""
    built = Registry.build(store, kek=bytes(range(32)), public_url="https://vc.example", public_host="vc.example",
                           rng=os.urandom, clock=clock, loader=DocumentLoader.pinned())
    built.issuers.create("kyb")
    return built


@pytest.fixture
def registry_trust(registry: Registry, clock: Clock) -> TrustRegistry:
    """The trust registry under test."""
    return TrustRegistry(registry.store, registry.issuers, clock=clock, rng=os.urandom,
                         loader=DocumentLoader.pinned(), public_url="https://vc.example/")


def resolver_for(registry: Registry) -> Resolver:
    """A resolver over the DID documents this service serves (the host's and every issuer's)."""
    docs = {r["did"]: registry.issuers.did_document(r["name"]) for r in registry.issuers.list()}
    docs[HOST] = registry.issuers.did_document("_host")
    return Resolver(documents=docs)


def authorize(registry_trust: TrustRegistry, **changes: Any) -> dict[str, Any]:
    """Authorize ``kyb`` for MerchantIdentityCredential in DE and FR (overridable)."""
    args: dict[str, Any] = {"entity_id": KYB, "action": "issue", "resource": IDENTITY,
                            "jurisdictions": ["DE", "FR"]}
    args.update(changes)
    return registry_trust.add_authorization(**args)


# --- entries and versions ------------------------------------------------------------------------------------

def test_add_authorization_record(registry_trust: TrustRegistry) -> None:
    assert registry_trust.version() == 0
    record = authorize(registry_trust, jurisdictions=["FR", "DE", "FR"],
                       authorized_until=START + timedelta(days=365))
    assert record["id"].startswith("urn:uuid:") and len(record["id"]) == 45
    assert record == {"id": record["id"], "entityId": KYB, "action": "issue", "resource": IDENTITY,
                      "jurisdictions": ["FR", "DE"], "authorizedFrom": "2026-06-01T12:00:00Z",
                      "authorizedUntil": "2027-06-01T12:00:00Z", "entryStatus": "active",
                      "created": "2026-06-01T12:00:00Z"}
    assert registry_trust.get_authorization(record["id"]) == record
    assert registry_trust.get_authorization(record["id"].removeprefix("urn:uuid:")) == record
    assert registry_trust.list_authorizations() == [record]
    assert registry_trust.version() == 1


def test_wildcard_absorbs_other_codes(registry_trust: TrustRegistry) -> None:
    assert authorize(registry_trust, jurisdictions=["DE", "*"])["jurisdictions"] == ["*"]


@pytest.mark.parametrize(("changes", "code", "pointer"), [
    ({"entity_id": "kyb"}, "INVALID_ENTITY_ID", "/entityId"),
    ({"entity_id": "did:web:"}, "INVALID_ENTITY_ID", "/entityId"),
    ({"action": "revoke"}, "INVALID_ACTION", "/action"),
    ({"resource": ""}, "INVALID_RESOURCE", "/resource"),
    ({"resource": "Merchant Identity"}, "INVALID_RESOURCE", "/resource"),
    ({"jurisdictions": []}, "INVALID_JURISDICTION", "/jurisdictions"),
    ({"jurisdictions": ["DE", "XX"]}, "INVALID_JURISDICTION", "/jurisdictions/1"),
    ({"jurisdictions": ["de"]}, "INVALID_JURISDICTION", "/jurisdictions/0"),
    ({"authorized_from": START, "authorized_until": START}, "INVALID_WINDOW", "/authorizedUntil"),
    ({"authorized_until": START - timedelta(seconds=1)}, "INVALID_WINDOW", "/authorizedUntil")])
def test_authorization_validation(registry_trust: TrustRegistry, changes: dict[str, Any], code: str,
                                  pointer: str) -> None:
    with pytest.raises(BadRequest) as caught:
        authorize(registry_trust, **changes)
    assert (caught.value.instance_code, caught.value.pointer) == (code, pointer)
    assert registry_trust.version() == 0 and registry_trust.list_authorizations() == []


def test_every_entry_state_fits_the_schema(registry_trust: TrustRegistry) -> None:
    record = authorize(registry_trust, jurisdictions=["*"], authorized_until=START + timedelta(days=1))
    authorize(registry_trust, jurisdictions=["US-CA", "DE"])
    registry_trust.suspend_authorization(record["id"])
    registry_trust.add_member("did:web:vc.example:issuers:site-a", "A", "http://127.0.0.1:8000/sites/site-a")
    registry_trust.suspend_member("did:web:vc.example:issuers:site-a")
    check = check_schemas(registry_trust.trust_list())
    assert check.passed, check.to_dict()


def test_suspend_resume_remove_bump_the_version(registry_trust: TrustRegistry) -> None:
    record = authorize(registry_trust)
    assert registry_trust.suspend_authorization(record["id"])["entryStatus"] == "suspended"
    assert registry_trust.version() == 2
    assert registry_trust.suspend_authorization(record["id"])["entryStatus"] == "suspended"
    assert registry_trust.version() == 2  # no change, no bump
    resumed = registry_trust.resume_authorization(record["id"])
    assert resumed["entryStatus"] == "active" and resumed["updated"] == "2026-06-01T12:00:00Z"
    assert registry_trust.version() == 3
    assert registry_trust.remove_authorization(record["id"])["id"] == record["id"]
    assert registry_trust.version() == 4 and registry_trust.list_authorizations() == []
    for act in (registry_trust.suspend_authorization, registry_trust.resume_authorization,
                registry_trust.remove_authorization, registry_trust.get_authorization):
        with pytest.raises(NotFound):
            act(record["id"])
    assert registry_trust.version() == 4


def test_members(registry_trust: TrustRegistry) -> None:
    site = "did:web:vc.example:issuers:site-a"
    record = registry_trust.add_member(site, " Marketplace A ", "https://vc.example/sites/site-a")
    assert record == {"id": site, "name": "Marketplace A", "role": "site", "onboardingUrl":
                      "https://vc.example/sites/site-a", "entryStatus": "active", "created": "2026-06-01T12:00:00Z"}
    with pytest.raises(Conflict):
        registry_trust.add_member(site, "Again", "https://vc.example/x")
    assert registry_trust.suspend_member(site)["entryStatus"] == "suspended"
    assert registry_trust.list_members()[0]["entryStatus"] == "suspended"
    assert registry_trust.resume_member(site)["entryStatus"] == "active"
    assert registry_trust.remove_member(site)["id"] == site
    assert registry_trust.list_members() == [] and registry_trust.version() == 4
    with pytest.raises(NotFound):
        registry_trust.get_member(site)


@pytest.mark.parametrize(("args", "code"), [
    (("site-a", "A", "https://x.example"), "INVALID_ENTITY_ID"),
    (("did:web:x.example", "", "https://x.example"), "INVALID_MEMBER_NAME"),
    (("did:web:x.example", "A", "ftp://x.example"), "INVALID_ONBOARDING_URL"),
    (("did:web:x.example", "A", "https://user@x.example/"), "INVALID_ONBOARDING_URL"),
    (("did:web:" + "x" * 600, "A", "https://x.example/"), "INVALID_ENTITY_ID"),
    (("did:web:x.example", "A", "https://x.example", "verifier"), "INVALID_ROLE")])
def test_member_validation(registry_trust: TrustRegistry, args: tuple[str, ...], code: str) -> None:
    with pytest.raises(BadRequest) as caught:
        registry_trust.add_member(*args)
    assert caught.value.instance_code == code


def test_entity_names_resolve_to_issuer_dids(registry_trust: TrustRegistry) -> None:
    assert registry_trust.entity_did("kyb") == KYB
    assert registry_trust.entity_did("did:key:z6Mkabc") == "did:key:z6Mkabc"
    with pytest.raises(NotFound):
        registry_trust.entity_did("ghost")
    with pytest.raises(BadRequest):
        registry_trust.entity_did("Not A Name")


def test_concurrent_changes_each_bump_the_version(registry_trust: TrustRegistry) -> None:
    with ThreadPoolExecutor(8) as pool:
        records = list(pool.map(lambda _: authorize(registry_trust), range(16)))
    assert len({r["id"] for r in records}) == 16 and registry_trust.version() == 16
    assert len(registry_trust.list_authorizations()) == 16


# --- queries -------------------------------------------------------------------------------------------------

def test_query_answers(registry_trust: TrustRegistry, clock: Clock) -> None:
    record = authorize(registry_trust, authorized_until=START + timedelta(days=30))
    answer = registry_trust.query(KYB, HOST, "issue", IDENTITY, jurisdiction="DE")
    assert answer == {"entity_id": KYB, "authority_id": HOST, "action": "issue", "resource": IDENTITY,
                      "jurisdiction": "DE", "authorized": True, "time_requested": "2026-06-01T12:00:00Z",
                      "time_evaluated": "2026-06-01T12:00:00Z", "message": answer["message"],
                      "reason": trust.AUTHORIZED, "entry": {k: v for k, v in record.items() if k != "created"},
                      "trust_list_version": 1}
    assert registry_trust.query(KYB, HOST, "issue", IDENTITY, jurisdiction="GB")["reason"] == \
        trust.JURISDICTION_NOT_COVERED
    later = registry_trust.query(KYB, HOST, "issue", IDENTITY, at=START + timedelta(days=31))
    assert not later["authorized"] and later["reason"] == trust.EXPIRED
    assert later["time_requested"] == "2026-07-02T12:00:00Z" and later["time_evaluated"] == "2026-06-01T12:00:00Z"
    registry_trust.suspend_authorization(record["id"])
    assert registry_trust.query(KYB, HOST, "issue", IDENTITY)["reason"] == trust.ENTRY_SUSPENDED


def test_unknown_entity_or_authority_is_not_authorized(registry_trust: TrustRegistry) -> None:
    authorize(registry_trust)
    unknown = registry_trust.query("did:web:nobody.example", HOST, "issue", IDENTITY)
    assert unknown["authorized"] is False and unknown["reason"] == trust.NOT_LISTED and unknown["entry"] is None
    other = registry_trust.query(KYB, "did:web:elsewhere.example", "issue", IDENTITY)
    assert other["authorized"] is False and HOST in other["message"] and other["entry"] is None


def test_member_site_is_implicitly_authorized(registry_trust: TrustRegistry) -> None:
    site = "did:web:vc.example:issuers:site-a"
    registry_trust.add_member(site, "A", "https://vc.example/sites/site-a")
    assert registry_trust.query(site, HOST, "issue", "MarketplaceSellerCredential", jurisdiction="JP")["authorized"]
    registry_trust.suspend_member(site)
    assert not registry_trust.query(site, HOST, "issue", "MarketplaceSellerCredential")["authorized"]


# --- the signed trust list -----------------------------------------------------------------------------------

def test_trust_list_is_signed_by_the_host_and_verifies(registry: Registry, registry_trust: TrustRegistry) -> None:
    authorize(registry_trust)
    registry_trust.add_member("did:web:vc.example:issuers:site-a", "A", "https://vc.example/sites/site-a")
    served = registry_trust.serve()
    credential = served.credential
    assert credential["issuer"] == HOST and credential["id"] == "https://vc.example/trust/list"
    assert credential["type"] == ["VerifiableCredential", "TrustListCredential"]
    assert credential["validFrom"] == "2026-06-01T12:00:00Z" and credential["validUntil"] == "2026-06-02T12:00:00Z"
    assert credential["credentialSchema"] == {"id": "https://chopmark.org/schemas/trust-list/v1",
                                              "type": "JsonSchema"}
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    subject = credential["credentialSubject"]
    assert subject["id"] == HOST and subject["trustListVersion"] == 2 == served.version
    assert "created" not in subject["authorizations"][0] and "created" not in subject["members"][0]
    resolver = resolver_for(registry)
    assert verify_credential(credential, resolver=resolver, now=START).verified
    listed, result = trust.verify_trust_list(credential, resolver=resolver, now=START, expected_issuer=HOST,
                                             schema_checker=check_schemas)
    assert result.verified and listed == subject
    assert require_check(result, "schema").details == {"schemas": ["https://chopmark.org/schemas/trust-list/v1"]}
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["authorizations"][0]["jurisdictions"] = ["*"]
    listed, result = trust.verify_trust_list(tampered, resolver=resolver, now=START, expected_issuer=HOST)
    assert listed is None and not require_check(result, "proof").passed


def test_signed_list_is_cached_per_version(registry_trust: TrustRegistry, clock: Clock) -> None:
    first = registry_trust.serve()
    assert first.version == 0 and first.etag.startswith('W/"0-')
    clock.now += timedelta(hours=1)
    assert registry_trust.serve() == first  # same version, younger than 12 h: not re-signed
    authorize(registry_trust)
    second = registry_trust.serve()
    assert second.version == 1 and second.etag != first.etag
    assert second.credential["validFrom"] == "2026-06-01T13:00:00Z"
    assert len(second.credential["credentialSubject"]["authorizations"]) == 1


def test_signed_list_is_renewed_after_12_hours(registry_trust: TrustRegistry, clock: Clock) -> None:
    first = registry_trust.serve()
    clock.now += timedelta(hours=11, minutes=59)
    assert registry_trust.serve() == first
    clock.now += timedelta(minutes=1)
    renewed = registry_trust.serve()
    assert renewed.version == first.version and renewed.etag != first.etag
    assert renewed.credential["validUntil"] == "2026-06-03T00:00:00Z"


def test_cache_is_shared_between_processes(registry: Registry, registry_trust: TrustRegistry, clock: Clock) -> None:
    other = TrustRegistry(registry.store, registry.issuers, clock=clock, rng=os.urandom,
                          loader=DocumentLoader.pinned(), public_url="https://vc.example")
    authorize(registry_trust)
    assert other.serve() == registry_trust.serve()
    other.suspend_authorization(registry_trust.list_authorizations()[0]["id"])
    fresh = registry_trust.serve()
    assert fresh.version == 2 and fresh.credential["credentialSubject"]["authorizations"][0]["entryStatus"] == \
        "suspended"
    assert registry_trust.query(KYB, HOST, "issue", IDENTITY)["reason"] == trust.ENTRY_SUSPENDED


def test_an_older_version_never_replaces_a_newer_cache(registry_trust: TrustRegistry, store: Store,
                                                       clock: Clock) -> None:
    authorize(registry_trust)
    newer = registry_trust.serve()
    store.put("trust", "version", b"0")  # as if a slow process read version 0, then must re-sign ...
    clock.now += timedelta(hours=13)
    assert registry_trust.serve() == newer  # ... its list does not replace the newer one
