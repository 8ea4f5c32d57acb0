"""The wallet library: creation, DIDs, stored entries, presentations, DID Auth, export and import."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chopmark.dids import Resolver
from chopmark.errors import UsageError
from chopmark.vc.presentations import verify_presentation
from chopmark.vocab import CONTEXT_URL, MERCHANT_IDENTITY
from tests.wallet.support import FAST_KDF, NOW, PASSPHRASE, V2, Clock, Ecosystem, new_wallet, seeded_rng
from wallet.core import Wallet, did_web_for, host_did, same_host
from wallet.errors import (
    CredentialNotFoundError,
    NoMatchingCredentialError,
    UnsupportedRequestError,
    UntrustedSiteError,
    WalletConflictError,
    WalletExistsError,
    WalletLockedError,
)

CHALLENGE = "5b0c6f0e-8a2d-4a53-9b0e-5f7e2c1d9a11"


def identity_request(eco: Ecosystem, *types: str, **query: Any) -> dict[str, Any]:
    """The onboarding request of the design doc: QueryByExample for the identity + DID Auth."""
    example = {"@context": [V2, CONTEXT_URL], "type": list(types or [MERCHANT_IDENTITY])}
    return {"query": [{"type": "QueryByExample", "credentialQuery": [{"reason": "KYB", "example": example, **query}]},
                      {"type": "DIDAuthentication", "acceptedMethods": [{"method": "key"}, {"method": "web"}]}],
            "challenge": CHALLENGE, "domain": eco.site.did}


def store(wallet: Wallet, credential: dict[str, Any]) -> dict[str, Any]:
    return wallet.add(credential, {"checks": ["test"]})


def verify(vp: dict[str, Any], domain: str, resolver: Resolver | None = None) -> Any:
    return verify_presentation(vp, resolver=resolver or Resolver(), now=NOW, challenge=CHALLENGE, domain=domain)


def test_create_did_key_wallet_and_reopen(tmp_path: Path, eco: Ecosystem) -> None:
    created = new_wallet(tmp_path / "w.cmw", eco, cache=False)
    assert created.did.startswith("did:key:z6Mk")
    assert stat.S_IMODE((tmp_path / "w.cmw").stat().st_mode) == 0o600
    reopened = Wallet.open(tmp_path / "w.cmw", PASSPHRASE)
    assert reopened.did == created.did
    assert reopened.settings == {"registryUrl": "http://127.0.0.1:9", "registryDid": eco.registry.did}
    assert reopened.did_document()["id"] == created.did and reopened.did_document_url() is None
    with pytest.raises(WalletLockedError):
        Wallet.open(tmp_path / "w.cmw", "not it")


def test_create_refuses_to_overwrite(tmp_path: Path, eco: Ecosystem) -> None:
    new_wallet(tmp_path / "w.cmw", eco, cache=False)
    with pytest.raises(WalletExistsError):
        new_wallet(tmp_path / "w.cmw", eco, cache=False)


def test_did_web_wallet_document(tmp_path: Path) -> None:
    made = Wallet.create(tmp_path / "w.cmw", PASSPHRASE, domain="shop.example:8443", path_segments=["merchants", "m1"],
                         rng=seeded_rng(), clock=Clock(), kdf=FAST_KDF)
    assert made.did == "did:web:shop.example%3A8443:merchants:m1"
    assert made.did_document_url() == "https://shop.example:8443/merchants/m1/did.json"
    document = made.did_document()
    method = document["verificationMethod"][0]
    assert method["type"] == "Multikey" and method["controller"] == made.did
    assert document["authentication"] == [method["id"]] == document["assertionMethod"]
    assert made.signer.id == method["id"]


@pytest.mark.parametrize(("options", "error"), [
    ({"did_method": "web"}, UsageError), ({"did_method": "key", "domain": "a.example"}, UsageError),
    ({"domain": "bad_host!"}, Exception), ({"domain": "a.example", "path_segments": [".."]}, Exception),
])
def test_create_rejects_bad_identity_options(tmp_path: Path, options: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        Wallet.create(tmp_path / "w.cmw", PASSPHRASE, rng=seeded_rng(), clock=Clock(), kdf=FAST_KDF, **options)
    assert not (tmp_path / "w.cmw").exists()


def test_host_did_and_same_host() -> None:
    assert host_did("http://127.0.0.1:8000/") == "did:web:127.0.0.1%3A8000"
    assert host_did("https://registry.example") == "did:web:registry.example"
    assert did_web_for("Shop.Example") == "did:web:shop.example"
    assert same_host("did:web:127.0.0.1%3A8000:issuers:site-a", "http://127.0.0.1:8000/sites/site-a")
    assert not same_host("did:web:127.0.0.1%3A8001:issuers:site-a", "http://127.0.0.1:8000/sites/site-a")
    assert not same_host("did:web:evil.example", "https://shop.example/sites/a")


def test_entries_add_get_prefix_remove(wallet: Wallet, eco: Ecosystem) -> None:
    entry = store(wallet, eco.identity(wallet.did))
    assert entry["types"] == [MERCHANT_IDENTITY] and entry["issuer"] == eco.authority.did
    assert entry["subject"] == wallet.did and entry["id"].startswith("urn:sha256:")
    assert entry["received"] == "2026-11-25T12:00:00Z" and entry["validUntil"] == "2027-11-25T12:00:00Z"
    assert wallet.get(entry["id"][:20]) == entry
    again = store(wallet, eco.identity(wallet.did))  # the same credential: replaced, not duplicated
    assert [e["id"] for e in wallet.credentials()] == [again["id"]]
    reopened = Wallet.open(wallet.path, PASSPHRASE)
    assert reopened.credentials() == wallet.credentials()
    reopened.remove(entry["id"])
    assert Wallet.open(wallet.path, PASSPHRASE).credentials() == []
    with pytest.raises(CredentialNotFoundError):
        reopened.get(entry["id"])


def test_ambiguous_prefix_is_refused(wallet: Wallet, eco: Ecosystem) -> None:
    store(wallet, eco.identity(wallet.did, id="urn:uuid:aaaa-1"))
    store(wallet, eco.identity(wallet.did, id="urn:uuid:aaaa-2"))
    with pytest.raises(CredentialNotFoundError, match="several"):
        wallet.get("urn:uuid:aaaa")
    assert wallet.get("urn:uuid:aaaa-2")["id"] == "urn:uuid:aaaa-2"


def test_present_picks_the_newest_valid_credential_about_the_holder(wallet: Wallet, eco: Ecosystem) -> None:
    older = eco.identity(wallet.did, name="Old GmbH", valid_from=NOW - timedelta(days=300))
    newest = eco.identity(wallet.did, name="New GmbH", valid_from=NOW - timedelta(days=2))
    expired = eco.identity(wallet.did, name="Expired GmbH", valid_from=NOW - timedelta(days=1),
                           valid_until=NOW - timedelta(hours=1))
    future = eco.identity(wallet.did, name="Future GmbH", valid_from=NOW + timedelta(days=1))
    someone_else = eco.identity(eco.rogue.did, name="Other GmbH")
    seller = eco.seller(wallet.did)
    for credential in (older, newest, expired, future, someone_else, seller):
        store(wallet, credential)
    vp = wallet.present(identity_request(eco))
    assert vp["holder"] == wallet.did and vp["verifiableCredential"] == [newest]
    result = verify(vp, eco.site.did)
    assert result.verified, result.to_dict()
    assert vp["proof"]["challenge"] == CHALLENGE and vp["proof"]["domain"] == eco.site.did


def test_present_answers_each_credential_query(wallet: Wallet, eco: Ecosystem) -> None:
    identity, seller = eco.identity(wallet.did), eco.seller(wallet.did)
    store(wallet, identity)
    store(wallet, seller)
    request = identity_request(eco)
    request["query"][0]["credentialQuery"].append({"example": {"type": "MarketplaceSellerCredential"}})
    vp = wallet.present(request)
    assert vp["verifiableCredential"] == [identity, seller]
    assert verify(vp, eco.site.did).verified


def test_present_to_a_site_sends_one_credential_of_an_accepted_type(wallet: Wallet, eco: Ecosystem) -> None:
    """Issue 11: with the site profile's acceptedTypes the queries are alternatives: one credential, of an
    accepted type, in the site's order; a query for a type the profile does not accept is not answered."""
    identity, seller = eco.identity(wallet.did), eco.seller(wallet.did)
    stored = [store(wallet, identity)["id"], store(wallet, seller)["id"]]
    request = identity_request(eco)
    request["query"][0]["credentialQuery"].append({"example": {"type": "MarketplaceSellerCredential"}})
    both = [MERCHANT_IDENTITY, "MarketplaceSellerCredential"]
    assert wallet.present(request, accepted_types=both)["verifiableCredential"] == [identity]
    assert wallet.present(request, accepted_types=["MarketplaceSellerCredential"])["verifiableCredential"] == [seller]
    assert wallet.present(request, accepted_types=["*"])["verifiableCredential"] == [identity]
    with pytest.raises(UnsupportedRequestError, match="none of the types the site accepts"):
        wallet.present(request, accepted_types=["OtherCredential"])
    wallet.remove(stored[0])
    assert wallet.present(request, accepted_types=both)["verifiableCredential"] == [seller]
    wallet.remove(stored[1])
    with pytest.raises(NoMatchingCredentialError, match=f"no valid MarketplaceSellerCredential or {MERCHANT_IDENTITY}"):
        wallet.present(request, accepted_types=both)


def test_present_honours_required_trusted_issuer(wallet: Wallet, eco: Ecosystem) -> None:
    store(wallet, eco.identity(wallet.did))
    request = identity_request(eco, trustedIssuer=[{"issuer": eco.rogue.did, "required": True}])
    with pytest.raises(NoMatchingCredentialError):
        wallet.present(request)
    request = identity_request(eco, trustedIssuer=[{"issuer": eco.authority.did, "required": True}])
    assert len(wallet.present(request)["verifiableCredential"]) == 1


def test_present_refuses_when_nothing_matches(wallet: Wallet, eco: Ecosystem) -> None:
    store(wallet, eco.identity(wallet.did, valid_until=NOW - timedelta(seconds=1)))
    store(wallet, eco.identity(eco.rogue.did))
    with pytest.raises(NoMatchingCredentialError, match=f"no valid {MERCHANT_IDENTITY} about {wallet.did}"):
        wallet.present(identity_request(eco))


def test_did_authentication_alone_gives_a_vp_without_credentials(wallet: Wallet, eco: Ecosystem) -> None:
    store(wallet, eco.identity(wallet.did))
    vp = wallet.present({"query": {"type": "DIDAuthentication"}, "challenge": CHALLENGE, "domain": eco.site.did})
    assert "verifiableCredential" not in vp and vp["holder"] == wallet.did
    result = verify(vp, eco.site.did)
    assert result.verified and result.check("holderBinding") is not None
    assert not verify(vp, eco.authority.did).verified  # bound to the domain


@pytest.mark.parametrize("request_doc", [
    {"query": {"type": "DIDAuthentication"}, "domain": "did:example:x"},  # no challenge
    {"query": {"type": "DIDAuthentication"}, "challenge": "c"},  # no domain
    {"query": {"type": "PresentationExchange"}, "challenge": "c", "domain": "d"},
    {"query": {"type": "DIDAuthentication", "acceptedMethods": [{"method": "web"}]}, "challenge": "c", "domain": "d"},
    {"query": {"type": "DIDAuthentication", "acceptedCryptosuites": [{"cryptosuite": "ecdsa-rdfc-2019"}]},
     "challenge": "c", "domain": "d"},
    {"query": [], "challenge": "c", "domain": "d"},
    ["not", "an", "object"],
])
def test_unanswerable_requests_are_refused(wallet: Wallet, request_doc: Any) -> None:
    with pytest.raises(UnsupportedRequestError):
        wallet.present(request_doc)


def test_accepted_cryptosuites_choose_the_suite(wallet: Wallet, eco: Ecosystem) -> None:
    request = {"query": {"type": "DIDAuthentication", "acceptedCryptosuites": [{"cryptosuite": "eddsa-jcs-2022"}]},
               "challenge": CHALLENGE, "domain": eco.site.did}
    vp = wallet.present(request)
    assert vp["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert verify(vp, eco.site.did).verified


def test_present_refuses_a_relayed_request(wallet: Wallet, eco: Ecosystem) -> None:
    store(wallet, eco.identity(wallet.did))
    request = {**identity_request(eco), "domain": "did:web:127.0.0.1%3A8000:issuers:site-a"}
    assert wallet.present(request, site_base_url="http://127.0.0.1:8000/sites/site-a")
    with pytest.raises(UntrustedSiteError):
        wallet.present(request, site_base_url="http://127.0.0.1:9999/sites/evil")


def test_did_auth_carries_the_application(wallet: Wallet, eco: Ecosystem) -> None:
    application = {"legalName": {"@value": "Müller Handels GmbH", "@language": "de"}, "jurisdiction": "DE",
                   "registrationNumber": "HRB 123456", "id": "did:example:ignored", "type": "Merchant"}
    request = {"query": [{"type": "DIDAuthentication", "acceptedMethods": [{"method": "key"}]}],
               "challenge": CHALLENGE, "domain": eco.authority.did}
    vp = wallet.did_auth(request, application)
    assert vp["@context"] == [V2, CONTEXT_URL]
    assert vp["kybApplication"] == {k: v for k, v in application.items() if k not in ("id", "type")}
    assert "verifiableCredential" not in vp
    assert verify(vp, eco.authority.did).verified
    vp["kybApplication"]["registrationNumber"] = "HRB 999999"  # the application is signed
    assert not verify(vp, eco.authority.did).verified


def test_did_auth_needs_a_did_authentication_query(wallet: Wallet, eco: Ecosystem) -> None:
    with pytest.raises(UnsupportedRequestError):
        wallet.did_auth(identity_request(eco) | {"query": identity_request(eco)["query"][:1]}, {"a": 1})


def test_did_web_holder_presentation_verifies_with_its_document(tmp_path: Path, eco: Ecosystem) -> None:
    made = Wallet.create(tmp_path / "w.cmw", PASSPHRASE, domain="shop.example", rng=seeded_rng(), clock=Clock(),
                         kdf=FAST_KDF)
    store(made, eco.identity(made.did))
    vp = made.present(identity_request(eco))
    assert verify(vp, eco.site.did, Resolver(documents={made.did: made.did_document()})).verified


def test_concurrent_change_is_detected(wallet: Wallet, eco: Ecosystem) -> None:
    other = Wallet.open(wallet.path, PASSPHRASE)
    store(other, eco.identity(wallet.did))
    with pytest.raises(WalletConflictError):
        store(wallet, eco.seller(wallet.did))
    assert len(Wallet.open(wallet.path, PASSPHRASE).credentials()) == 1


def test_export_import_round_trip_with_another_passphrase(tmp_path: Path, wallet: Wallet, eco: Ecosystem) -> None:
    store(wallet, eco.identity(wallet.did))
    backup = tmp_path / "backup.cmw"
    wallet.export(backup, "backup passphrase", kdf=FAST_KDF)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    with pytest.raises(WalletLockedError):
        Wallet.open(backup, PASSPHRASE)
    with pytest.raises(WalletExistsError):
        wallet.export(backup, "backup passphrase", kdf=FAST_KDF)
    restored = Wallet.import_backup(tmp_path / "restored.cmw", "new passphrase", backup, "backup passphrase",
                                    rng=seeded_rng(7), clock=Clock(), kdf=FAST_KDF)
    assert restored.did == wallet.did and restored.credentials() == wallet.credentials()
    assert restored.settings == wallet.settings and restored.trust_cache() == wallet.trust_cache()
    reopened = Wallet.open(tmp_path / "restored.cmw", "new passphrase")
    assert reopened.credentials() == wallet.credentials()
    assert reopened.present(identity_request(eco))["holder"] == wallet.did  # the holder key came along


def test_import_merges_same_did_and_refuses_another_did(tmp_path: Path, wallet: Wallet, eco: Ecosystem) -> None:
    first = store(wallet, eco.identity(wallet.did))
    backup = tmp_path / "backup.cmw"
    wallet.export(backup, "b", kdf=FAST_KDF)
    wallet.remove(first["id"])
    second = store(wallet, eco.seller(wallet.did))
    merged = Wallet.import_backup(wallet.path, PASSPHRASE, backup, "b", kdf=FAST_KDF)
    assert sorted(e["id"] for e in merged.credentials()) == sorted([first["id"], second["id"]])
    stranger = Wallet.create(tmp_path / "other.cmw", "x", rng=seeded_rng(99), clock=Clock(), kdf=FAST_KDF)
    with pytest.raises(WalletExistsError, match="belongs to"):
        Wallet.import_backup(stranger.path, "x", backup, "b", kdf=FAST_KDF)
    replaced = Wallet.import_backup(stranger.path, "x", backup, "b", replace=True, kdf=FAST_KDF)
    assert replaced.did == wallet.did
    assert Wallet.open(stranger.path, "x").did == wallet.did
