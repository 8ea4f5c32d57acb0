"""Merchant identity end to end over real HTTP: KYB with DID Auth, onboarding at three sites, cross-site reuse,
revocation and suspension propagating to every site. One seeded gunicorn server per store backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chopmark.jsonld import pinned_bytes
from chopmark.vocab import CONTEXT_URL, MARKETPLACE_SELLER, MERCHANT_IDENTITY
from chopmark.vocab.schema import schema_document
from tests.support.identity import (
    Ecosystem,
    backend_ecosystem,
    codes,
    decide,
    identified_merchant,
    new_merchant,
    open_onboarding,
)
from tests.support.live import BACKENDS, get, post
from wallet.demo import demo_application
from wallet.errors import CredentialRefusedError, RemoteError

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("identity-e2e-server")]
SITES = ("site-a", "site-b", "site-c")


@pytest.fixture(scope="module", params=BACKENDS)
def ecosystem(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ecosystem]:
    """A seeded server on SQLite, and one on Redis under a fresh prefix."""
    with backend_ecosystem(request, tmp_path_factory, "identity") as eco:
        yield eco


def test_kyb_onboarding_at_three_sites_then_revocation_propagates(ecosystem: Ecosystem, tmp_path: Path) -> None:
    merchant, identity = identified_merchant(tmp_path, ecosystem)
    # the identity credential: issued by the authority to the merchant's DID, with status entries and a schema
    assert identity["credentialSubject"]["id"] == merchant.did
    assert identity["issuer"].endswith(":issuers:kyb-authority")
    assert {e["statusPurpose"] for e in identity["credentialStatus"]} == {"revocation", "suspension"}
    assert identity["credentialSchema"]["type"] == "JsonSchema"
    stored = merchant.wallet.credentials()
    assert [c["id"] for c in stored] == [identity["id"]]

    decisions = {site: merchant.client.onboard(ecosystem.site(site)) for site in SITES}
    for site, decision in decisions.items():
        assert decision["accepted"] is True and decision["decision"] == "accepted", (site, decision["reasons"])
        assert decision["merchant"]["did"] == merchant.did
        assert decision["merchant"]["legalName"] == {"@value": "Müller Handels GmbH", "@language": "de"}
        seller = decision["verifiableCredential"]
        assert MARKETPLACE_SELLER in seller["type"]
        assert seller["credentialSubject"]["sellerAccountId"] == decision["sellerAccountId"]
        assert seller["credentialSubject"]["identityCredential"]["id"] == identity["id"]
        assert "stored" in decision["wallet"]
    assert "registeredAddress" in decisions["site-c"]["merchant"]  # site-c requires and reports it
    assert len(merchant.wallet.credentials()) == 4
    # onboarding again keeps the seller account
    again = merchant.client.onboard(ecosystem.site("site-a"))
    assert again["sellerAccountId"] == decisions["site-a"]["sellerAccountId"]

    ecosystem.set_status(identity["id"], "revocation", True)
    recheck = ecosystem.recheck("site-a", decisions["site-a"]["sellerAccountId"])
    assert recheck.status == 200 and recheck.json["decision"] == "rejected"
    assert codes(recheck.json) == {"REVOKED"}
    assert "revocation" in recheck.json["reasons"][0]["detail"]
    for site in ("site-b", "site-c"):
        refused = merchant.client.onboard(ecosystem.site(site))
        assert refused["accepted"] is False and "REVOKED" in codes(refused), refused
    # site-a's re-check revoked the seller credential it had issued: reusing it elsewhere fails too
    seller_a = decisions["site-a"]["verifiableCredential"]
    reuse = decide(ecosystem, "site-b", [seller_a], merchant.did, merchant.signer)
    assert reuse["decision"] == "rejected" and codes(reuse) == {"REVOKED"}

    undo = post(f"{ecosystem.url}/credentials/status", {"credentialId": identity["id"], "status": False,
                "credentialStatus": {"statusPurpose": "revocation"}}, token=ecosystem.tokens["kyb-authority"])
    assert (undo.status, undo.json["code"]) == (409, "REVOCATION_PERMANENT")  # revocation is not reversible
    assert ecosystem.recheck("site-a", decisions["site-a"]["sellerAccountId"]).json["decision"] == "rejected"


def test_suspension_holds_the_merchant_until_lifted(ecosystem: Ecosystem, tmp_path: Path) -> None:
    merchant, identity = identified_merchant(tmp_path, ecosystem)
    ecosystem.set_status(identity["id"], "suspension", True)
    held = merchant.client.onboard(ecosystem.site("site-c"))
    assert held["decision"] == "held" and held["accepted"] is False
    assert codes(held) == {"SUSPENDED"}
    assert "verifiableCredential" not in held
    ecosystem.set_status(identity["id"], "suspension", False)
    assert merchant.client.onboard(ecosystem.site("site-c"))["decision"] == "accepted"


def test_cross_site_reuse_follows_each_profile(ecosystem: Ecosystem, tmp_path: Path) -> None:
    merchant, _ = identified_merchant(tmp_path, ecosystem)
    seller_a = merchant.client.onboard(ecosystem.site("site-a"))["verifiableCredential"]
    seller_c = merchant.client.onboard(ecosystem.site("site-c"))["verifiableCredential"]
    # site-b accepts site-a's seller credential alone...
    reused = decide(ecosystem, "site-b", [seller_a], merchant.did, merchant.signer)
    assert reused["accepted"] is True, reused["reasons"]
    assert reused["merchant"]["credentialType"] == MARKETPLACE_SELLER
    # ...but not site-c's (its profile names site-a only), and site-a takes identity credentials only
    refused = decide(ecosystem, "site-b", [seller_c], merchant.did, merchant.signer)
    assert refused["accepted"] is False and "SITE_NOT_ACCEPTED" in codes(refused)
    only_seller = decide(ecosystem, "site-a", [seller_a], merchant.did, merchant.signer)
    assert codes(only_seller) == {"CREDENTIAL_MISSING"}


def test_the_request_names_what_the_site_needs(ecosystem: Ecosystem) -> None:
    opened = open_onboarding(ecosystem, "site-b")
    request = opened["verifiablePresentationRequest"]
    site = get(ecosystem.site("site-b")).json
    assert request["domain"] == opened["site"] == site["did"]
    query = request["query"][0]
    assert query["type"] == "QueryByExample"
    assert [q["example"]["type"] for q in query["credentialQuery"]] == [[MERCHANT_IDENTITY], [MARKETPLACE_SELLER]]
    assert request["query"][1]["type"] == "DIDAuthentication"
    assert len(request["challenge"]) >= 22
    listed = get(ecosystem.url + "/sites").json["sites"]
    assert [s["site"] for s in listed] == list(SITES)


def test_vocabulary_is_served_as_pinned(ecosystem: Ecosystem) -> None:
    context = get(ecosystem.url + "/contexts/chopmark/v1")
    assert context.status == 200 and context.raw == pinned_bytes(CONTEXT_URL)
    assert context.content_type == "application/ld+json"
    schema = get(ecosystem.url + "/schemas/merchant-identity/v1")
    assert schema.status == 200 and schema.json == schema_document(
        "https://chopmark.org/schemas/merchant-identity/v1")
    assert get(ecosystem.url + "/schemas/nothing/v1").status == 404


def test_kyb_refuses_bad_applications_and_replays(ecosystem: Ecosystem, tmp_path: Path) -> None:
    merchant = new_merchant(tmp_path, ecosystem)
    bad_lei = {**demo_application(), "lei": "529900T8BM49AURSDO56"}
    with pytest.raises(RemoteError) as info:
        merchant.client.request_identity(ecosystem.authority(), bad_lei)
    assert "KYB_REJECTED" in str(info.value.to_problem().to_dict())
    bad_number = {**demo_application(), "registrationNumber": "12"}
    with pytest.raises(RemoteError):
        merchant.client.request_identity(ecosystem.authority(), bad_number)
    # a DID-Auth presentation for one exchange cannot be replayed, nor used with another challenge
    opened = post(ecosystem.authority() + "/exchanges", None).json
    request = opened["verifiablePresentationRequest"]
    vp = merchant.wallet.did_auth(request, demo_application())
    first = post(f"{ecosystem.authority()}/exchanges/{opened['exchangeId']}", {"verifiablePresentation": vp})
    assert first.status == 200, first.json
    again = post(f"{ecosystem.authority()}/exchanges/{opened['exchangeId']}", {"verifiablePresentation": vp})
    assert again.status == 404 and again.json["code"] == "EXCHANGE_NOT_FOUND"
    other = post(ecosystem.authority() + "/exchanges", None).json
    moved = post(f"{ecosystem.authority()}/exchanges/{other['exchangeId']}", {"verifiablePresentation": vp})
    assert moved.status == 422 and moved.json["code"] == "DID_AUTH_FAILED"


def test_wallet_refuses_a_credential_for_someone_else(ecosystem: Ecosystem, tmp_path: Path) -> None:
    alice, identity = identified_merchant(tmp_path, ecosystem, "alice")
    bob = new_merchant(tmp_path, ecosystem, "bob")
    with pytest.raises(CredentialRefusedError) as info:
        bob.client.receive(identity)
    assert "SUBJECT_NOT_HOLDER" in {r["code"] for r in info.value.reasons}
    assert bob.wallet.credentials() == [] and alice.did != bob.did


def test_a_reused_seller_credential_carries_the_identity_revocation(ecosystem: Ecosystem, tmp_path: Path) -> None:
    """No site re-checked anything: site-b still refuses site-a's seller credential the moment the KYB authority
    revokes the identity credential it relied on (its status entries travel inside the seller credential)."""
    merchant, identity = identified_merchant(tmp_path, ecosystem)
    seller_a = merchant.client.onboard(ecosystem.site("site-a"))["verifiableCredential"]
    relied = seller_a["credentialSubject"]["identityCredential"]
    assert relied["issuedBy"] == identity["issuer"] and relied["statusEntries"] == identity["credentialStatus"]
    ecosystem.set_status(identity["id"], "suspension", True)
    held = decide(ecosystem, "site-b", [seller_a], merchant.did, merchant.signer)
    assert held["decision"] == "held" and {(r["code"], r["check"]) for r in held["reasons"]} == {
        ("SUSPENDED", "identityStatus"), ("SUSPENDED", "status")}  # the seller credential itself followed too
    ecosystem.set_status(identity["id"], "suspension", False)
    ecosystem.set_status(identity["id"], "revocation", True)
    refused = decide(ecosystem, "site-b", [seller_a], merchant.did, merchant.signer)
    assert refused["decision"] == "rejected" and codes(refused) == {"REVOKED"}
