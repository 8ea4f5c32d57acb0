"""One negative test per onboarding check, over real HTTP against a seeded server (SQLite): every refusal names
its reason. The wallet's own refusals (untrusted site, wrong passphrase, tampered file) are here too."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chopmark.codecs.dates import format_datetime
from chopmark.vc.credentials import issue
from chopmark.vocab import CONTEXT_URL, MERCHANT_IDENTITY, credential_schema
from tests.support.identity import (
    PASSPHRASE,
    Ecosystem,
    answer,
    codes,
    decide,
    identified_merchant,
    open_onboarding,
    other_key,
    presentation,
    seeded_server,
)
from tests.support.live import get, http, post
from wallet.client import WalletClient
from wallet.core import Wallet
from wallet.demo import demo_application
from wallet.errors import UntrustedSiteError, WalletCorruptError, WalletLockedError

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("identity-negative-server")]
V2 = "https://www.w3.org/ns/credentials/v2"


@pytest.fixture(scope="module")
def ecosystem(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ecosystem]:
    """One seeded server for the whole module."""
    with seeded_server(tmp_path_factory.mktemp("identity-negative")) as eco:
        yield eco


@pytest.fixture(scope="module")
def merchant_and_identity(ecosystem: Ecosystem, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A merchant with its identity credential (shared: the tests below never change its status)."""
    return identified_merchant(tmp_path_factory.mktemp("merchant"), ecosystem)


@contextmanager
def profile(ecosystem: Ecosystem, site: str, **changes: Any) -> Iterator[None]:
    """Change a site's profile through the admin API for the duration of a block."""
    url = f"{ecosystem.url}/admin/sites/{site}/profile"
    admin = ecosystem.tokens["admin"]
    before = get(url, token=admin).json
    changed = http("PUT", url, {**before, **changes}, token=admin)
    assert changed.status == 200, changed.json
    try:
        yield
    finally:
        assert http("PUT", url, before, token=admin).status == 200


def identity_like(issuer: str, subject: str, **subject_changes: Any) -> dict[str, Any]:
    """An unsigned MerchantIdentityCredential (valid for its schema unless changed)."""
    claims = {k: v for k, v in demo_application().items() if k != "lei"}
    return {"@context": [V2, CONTEXT_URL], "type": ["VerifiableCredential", MERCHANT_IDENTITY], "issuer": issuer,
            "credentialSchema": credential_schema(MERCHANT_IDENTITY),
            "credentialSubject": {"id": subject, "type": "Merchant", **claims, **subject_changes}}


def test_wrong_challenge(ecosystem: Ecosystem, merchant_and_identity: Any) -> None:
    merchant, identity = merchant_and_identity
    opened = open_onboarding(ecosystem, "site-a")
    domain = opened["verifiablePresentationRequest"]["domain"]
    vp = presentation([identity], merchant.did, merchant.signer, challenge="made-up", domain=domain)
    decision = answer(ecosystem, "site-a", opened["id"], vp).json
    assert decision["decision"] == "rejected"
    assert any(r["check"] == "proof" for r in decision["reasons"]), decision["reasons"]


def test_replayed_presentation(ecosystem: Ecosystem, merchant_and_identity: Any) -> None:
    merchant, identity = merchant_and_identity
    first = open_onboarding(ecosystem, "site-a")
    request = first["verifiablePresentationRequest"]
    vp = presentation([identity], merchant.did, merchant.signer, challenge=request["challenge"],
                      domain=request["domain"])
    assert answer(ecosystem, "site-a", first["id"], vp).json["accepted"] is True
    again = answer(ecosystem, "site-a", first["id"], vp)
    assert again.status == 404 and again.json["code"] == "EXCHANGE_NOT_FOUND"
    second = open_onboarding(ecosystem, "site-a")  # the captured presentation in a new exchange
    replayed = answer(ecosystem, "site-a", second["id"], vp).json
    assert replayed["accepted"] is False and any(r["check"] == "proof" for r in replayed["reasons"])
    assert get(f"{ecosystem.site('site-a')}/onboarding/{first['id']}").json["accepted"] is True  # kept


def test_wrong_domain(ecosystem: Ecosystem, merchant_and_identity: Any) -> None:
    merchant, identity = merchant_and_identity
    at_b = open_onboarding(ecosystem, "site-b")
    domain_a = open_onboarding(ecosystem, "site-a")["verifiablePresentationRequest"]["domain"]
    vp = presentation([identity], merchant.did, merchant.signer,
                      challenge=at_b["verifiablePresentationRequest"]["challenge"], domain=domain_a)
    decision = answer(ecosystem, "site-b", at_b["id"], vp).json
    assert decision["accepted"] is False and any(r["check"] == "proof" for r in decision["reasons"])


def test_presentation_signed_by_another_key(ecosystem: Ecosystem, merchant_and_identity: Any) -> None:
    merchant, identity = merchant_and_identity
    _, stranger = other_key()
    decision = decide(ecosystem, "site-a", [identity], merchant.did, stranger)
    assert decision["accepted"] is False and "HOLDER_MISMATCH" in codes(decision)


def test_credential_of_another_subject(ecosystem: Ecosystem, merchant_and_identity: Any) -> None:
    _, identity = merchant_and_identity
    thief, signer = other_key()
    decision = decide(ecosystem, "site-a", [identity], thief, signer)
    assert decision["accepted"] is False and codes(decision) == {"SUBJECT_NOT_HOLDER"}


def test_issuer_not_authorized_for_the_type(ecosystem: Ecosystem, merchant_and_identity: Any) -> None:
    merchant, _ = merchant_and_identity
    issued = ecosystem.issue("producer", identity_like(_did(ecosystem, "producer"), merchant.did))
    assert issued.status == 201, issued.json
    decision = decide(ecosystem, "site-a", [issued.json["verifiableCredential"]], merchant.did, merchant.signer)
    assert codes(decision) == {"ISSUER_NOT_AUTHORIZED"}
    assert "(not-listed)" in decision["reasons"][0]["detail"]


def test_issuer_outside_its_authorization_window(ecosystem: Ecosystem, merchant_and_identity: Any) -> None:
    merchant, _ = merchant_and_identity
    admin = ecosystem.tokens["admin"]
    later = datetime.now(UTC) + timedelta(days=30)
    entry = post(ecosystem.url + "/admin/trust/authorizations", {
        "entityId": "customs", "resource": MERCHANT_IDENTITY, "jurisdictions": ["*"],
        "authorizedFrom": format_datetime(later)}, token=admin)
    assert entry.status == 201, entry.json
    issued = ecosystem.issue("customs", identity_like(_did(ecosystem, "customs"), merchant.did))
    decision = decide(ecosystem, "site-a", [issued.json["verifiableCredential"]], merchant.did, merchant.signer)
    assert codes(decision) == {"ISSUER_NOT_AUTHORIZED"} and "(not-yet-valid)" in decision["reasons"][0]["detail"]
    removed = http("DELETE", ecosystem.url + "/admin/trust/authorizations/" + urllib.parse.quote(
        entry.json["id"], safe=""), token=admin)
    assert removed.status == 204


def test_suspended_authorization(ecosystem: Ecosystem, merchant_and_identity: Any) -> None:
    merchant, identity = merchant_and_identity
    admin = ecosystem.tokens["admin"]
    entries = get(ecosystem.url + "/admin/trust/authorizations", token=admin).json["authorizations"]
    kyb = next(e for e in entries if e["entityId"] == identity["issuer"])
    path = ecosystem.url + "/admin/trust/authorizations/" + urllib.parse.quote(kyb["id"], safe="")
    assert post(path + "/suspend", {}, token=admin).status == 200
    try:
        decision = decide(ecosystem, "site-a", [identity], merchant.did, merchant.signer)
        assert codes(decision) == {"ISSUER_NOT_AUTHORIZED"} and "(suspended)" in decision["reasons"][0]["detail"]
    finally:
        assert post(path + "/resume", {}, token=admin).status == 200
    assert decide(ecosystem, "site-a", [identity], merchant.did, merchant.signer)["accepted"] is True


def test_expired_identity_credential(ecosystem: Ecosystem, merchant_and_identity: Any) -> None:
    merchant, _ = merchant_and_identity
    past = datetime.now(UTC) - timedelta(days=400)
    stale = {**identity_like(_did(ecosystem, "kyb-authority"), merchant.did), "validFrom": format_datetime(past),
             "validUntil": format_datetime(past + timedelta(days=365))}
    issued = ecosystem.issue("kyb-authority", stale)
    assert issued.status == 201, issued.json
    decision = decide(ecosystem, "site-a", [issued.json["verifiableCredential"]], merchant.did, merchant.signer)
    assert codes(decision) == {"EXPIRED"}


def test_schema_invalid_claims(ecosystem: Ecosystem, merchant_and_identity: Any) -> None:
    merchant, _ = merchant_and_identity
    bad = identity_like(_did(ecosystem, "kyb-authority"), merchant.did, lei="529900T8BM49AURSDO56")
    refused = ecosystem.issue("kyb-authority", bad)  # the issuer refuses to sign it...
    assert refused.status == 422 and refused.json["code"] == "SCHEMA_INVALID"
    rogue, signer = other_key()  # ...so a signer outside the service makes one
    signed = issue(identity_like(rogue, merchant.did, lei="529900T8BM49AURSDO56"), signer)
    decision = decide(ecosystem, "site-a", [signed], merchant.did, merchant.signer)
    assert "SCHEMA_INVALID" in codes(decision)
    schema_reason = next(r for r in decision["reasons"] if r["code"] == "SCHEMA_INVALID")
    assert schema_reason["check"] == "schema" and "lei" in schema_reason["detail"]


def test_policy_claims_jurisdictions_and_suites(ecosystem: Ecosystem, merchant_and_identity: Any) -> None:
    merchant, identity = merchant_and_identity
    with profile(ecosystem, "site-c", jurisdictions=["FR"]):
        decision = decide(ecosystem, "site-c", [identity], merchant.did, merchant.signer)
        assert codes(decision) == {"JURISDICTION_NOT_ACCEPTED"}
    with profile(ecosystem, "site-c", jurisdictions=["DE"]):  # DE covers DE-BY
        assert decide(ecosystem, "site-c", [identity], merchant.did, merchant.signer)["accepted"] is True
    with profile(ecosystem, "site-c", acceptedSuites=["ecdsa-rdfc-2019"]):
        decision = decide(ecosystem, "site-c", [identity], merchant.did, merchant.signer)
        assert decision["accepted"] is False and any(r["check"] == "proof" for r in decision["reasons"])


def test_required_claim_missing(ecosystem: Ecosystem, merchant_and_identity: Any) -> None:
    merchant, _ = merchant_and_identity
    claims = {k: v for k, v in identity_like("x", merchant.did)["credentialSubject"].items() if k != "website"}
    issued = ecosystem.issue("kyb-authority", {**identity_like(_did(ecosystem, "kyb-authority"), merchant.did),
                                               "credentialSubject": claims})
    assert issued.status == 201, issued.json
    with profile(ecosystem, "site-c", requiredClaims=["legalName", "website"]):
        decision = decide(ecosystem, "site-c", [issued.json["verifiableCredential"]], merchant.did, merchant.signer)
    assert codes(decision) == {"CLAIM_MISSING"} and "website" in decision["reasons"][0]["detail"]


def test_untrusted_site_gets_nothing(ecosystem: Ecosystem, merchant_and_identity: Any, tmp_path: Path) -> None:
    merchant, _ = merchant_and_identity
    admin = ecosystem.tokens["admin"]
    site_did = _did(ecosystem, "site-c")
    path = ecosystem.url + "/admin/trust/members/" + urllib.parse.quote(site_did, safe="")
    assert post(path + "/suspend", {}, token=admin).status == 200
    try:
        fresh = WalletClient(merchant.wallet)  # a new client reads the changed trust list
        with pytest.raises(UntrustedSiteError):
            fresh.onboard(ecosystem.site("site-c"))
    finally:
        assert post(path + "/resume", {}, token=admin).status == 200


def test_profile_admin_validates(ecosystem: Ecosystem) -> None:
    url = f"{ecosystem.url}/admin/sites/site-a/profile"
    wrong = http("PUT", url, {"acceptedTypse": ["MerchantIdentityCredential"]}, token=ecosystem.tokens["admin"])
    assert wrong.status == 400 and wrong.json["code"] == "UNKNOWN_MEMBER"
    assert http("PUT", url, {}, token=ecosystem.tokens["site-b"]).status == 403
    assert http("PUT", url, {}).status == 401


def test_wallet_wrong_passphrase_and_tampered_file(merchant_and_identity: Any) -> None:
    merchant, _ = merchant_and_identity
    path = merchant.wallet.path
    with pytest.raises(WalletLockedError):
        Wallet.open(path, PASSPHRASE + "!")
    assert Wallet.open(path, PASSPHRASE).did == merchant.did
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    tampered = path.with_name("tampered.cmw")
    tampered.write_bytes(bytes(data))
    with pytest.raises(WalletLockedError):
        Wallet.open(tampered, PASSPHRASE)
    tampered.write_bytes(bytes(data[:20]))
    with pytest.raises(WalletCorruptError):
        Wallet.open(tampered, PASSPHRASE)


def _did(ecosystem: Ecosystem, issuer: str) -> str:
    host = urllib.parse.urlsplit(ecosystem.url).netloc.replace(":", "%3A")
    return f"did:web:{host}:issuers:{issuer}"
