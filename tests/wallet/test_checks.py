"""Receiving: proof, validity, subject and trust-list checks; adopting and caching the signed trust list."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chopmark.dids import Resolver
from tests.wallet.support import FAST_KDF, NOW, PASSPHRASE, Clock, Ecosystem, new_wallet
from wallet import checks
from wallet.client import WalletClient
from wallet.core import Wallet
from wallet.errors import CredentialRefusedError, TrustListUnavailableError, WalletConfigError

RESOLVER = Resolver()


def receive(wallet: Wallet, credential: Any, subject: dict[str, Any] | None) -> dict[str, Any]:
    return checks.receive(wallet, credential, resolver=RESOLVER, trust_subject=subject)


def refusal_codes(wallet: Wallet, credential: Any, subject: dict[str, Any] | None) -> list[str]:
    before = wallet.credentials()
    with pytest.raises(CredentialRefusedError) as info:
        receive(wallet, credential, subject)
    assert info.value.to_problem().to_dict()["reasons"] == info.value.reasons
    assert wallet.credentials() == before  # nothing refused is stored
    return [r["code"] for r in info.value.reasons]


def test_authorized_identity_is_stored(wallet: Wallet, eco: Ecosystem) -> None:
    entry = receive(wallet, eco.identity(wallet.did), eco.trust_subject())
    assert entry["verifiedBy"]["trustListVersion"] == 3 and entry["verifiedBy"]["registry"] == eco.registry.did
    assert {"proof", "validity", "issuerBinding", "subject", "trust"} <= set(entry["verifiedBy"]["checks"])
    assert [e["id"] for e in Wallet.open(wallet.path, PASSPHRASE).credentials()] == [entry["id"]]


def test_member_site_may_issue_seller_credentials(wallet: Wallet, eco: Ecosystem) -> None:
    assert receive(wallet, eco.seller(wallet.did), eco.trust_subject())["types"] == ["MarketplaceSellerCredential"]
    assert refusal_codes(wallet, eco.seller(wallet.did), eco.trust_subject(site_status="suspended")) == [
        "ISSUER_NOT_AUTHORIZED"]


def test_unlisted_issuer_is_refused(wallet: Wallet, eco: Ecosystem) -> None:
    assert refusal_codes(wallet, eco.identity(wallet.did, issuer=eco.rogue), eco.trust_subject()) == [
        "ISSUER_NOT_AUTHORIZED"]


def test_a_site_may_not_issue_identities(wallet: Wallet, eco: Ecosystem) -> None:
    assert refusal_codes(wallet, eco.identity(wallet.did, issuer=eco.site), eco.trust_subject()) == [
        "ISSUER_NOT_AUTHORIZED"]


@pytest.mark.parametrize(("jurisdiction", "granted", "accepted"), [
    ("DE", ["DE"], True), ("DE-BY", ["DE"], True), ("US-CA", ["*"], True), ("US", ["DE", "FR"], False),
    ("DE", ["US-CA"], False),
])
def test_jurisdiction_of_the_subject_must_be_covered(wallet: Wallet, eco: Ecosystem, jurisdiction: str,
                                                    granted: list[str], accepted: bool) -> None:
    credential = eco.identity(wallet.did, jurisdiction=jurisdiction)
    subject = eco.trust_subject(jurisdictions=granted)
    if accepted:
        receive(wallet, credential, subject)
    else:
        assert refusal_codes(wallet, credential, subject) == ["ISSUER_NOT_AUTHORIZED"]


def test_suspended_authorization_is_refused(wallet: Wallet, eco: Ecosystem) -> None:
    assert refusal_codes(wallet, eco.identity(wallet.did), eco.trust_subject(authority_status="suspended")) == [
        "ISSUER_NOT_AUTHORIZED"]


def test_credential_about_someone_else_is_refused(wallet: Wallet, eco: Ecosystem) -> None:
    assert refusal_codes(wallet, eco.identity(eco.rogue.did), eco.trust_subject()) == ["SUBJECT_NOT_HOLDER"]


def test_tampered_credential_is_refused(wallet: Wallet, eco: Ecosystem) -> None:
    credential = eco.identity(wallet.did)
    credential["credentialSubject"]["registrationNumber"] = "HRB 999999"
    codes = refusal_codes(wallet, credential, eco.trust_subject())
    assert codes and all(c not in ("SUBJECT_NOT_HOLDER", "ISSUER_NOT_AUTHORIZED") for c in codes)


def test_schema_violation_is_refused(wallet: Wallet, eco: Ecosystem) -> None:
    credential = eco.identity(wallet.did, credentialSubject={"id": wallet.did, "type": "Merchant",
                                                              "jurisdiction": "DE", "lei": "NOT-AN-LEI"})
    assert set(refusal_codes(wallet, credential, eco.trust_subject())) == {"SCHEMA_INVALID"}


def test_every_failure_is_reported(wallet: Wallet, eco: Ecosystem) -> None:
    credential = eco.identity(eco.rogue.did, issuer=eco.rogue, valid_from=NOW - timedelta(days=30),
                              valid_until=NOW - timedelta(days=1))
    codes = refusal_codes(wallet, credential, eco.trust_subject())
    assert set(codes) == {"EXPIRED", "SUBJECT_NOT_HOLDER", "ISSUER_NOT_AUTHORIZED"}


def test_no_trust_list_means_refusal(wallet: Wallet, eco: Ecosystem) -> None:
    assert refusal_codes(wallet, eco.identity(wallet.did), None) == ["TRUST_LIST_UNAVAILABLE"]


@pytest.mark.parametrize("garbage", [None, "a string", [], {"type": "VerifiableCredential"}])
def test_garbage_is_refused_not_a_crash(wallet: Wallet, eco: Ecosystem, garbage: Any) -> None:
    assert refusal_codes(wallet, garbage, eco.trust_subject())


# --- the trust list -------------------------------------------------------------------------------------------

def test_signed_trust_list_is_verified_and_cached(tmp_path: Path, eco: Ecosystem, clock: Clock) -> None:
    fresh = new_wallet(tmp_path / "fresh.cmw", eco, clock, cache=False)
    assert checks.cached_trust_subject(fresh) is None
    listed = eco.trust_list()
    subject = checks.adopt_trust_list(fresh, listed, resolver=RESOLVER)
    assert subject == listed["credentialSubject"]
    cached = Wallet.open(fresh.path, PASSPHRASE).trust_cache()
    assert cached is not None and cached["credential"] == listed
    assert checks.cached_trust_subject(fresh) == subject
    clock.now = NOW + timedelta(hours=24)  # the list (valid 24 h from NOW - 1 h) has expired
    assert checks.cached_trust_subject(fresh) is None


@pytest.mark.parametrize("forge", ["other-signer", "tampered", "not-a-list"])
def test_forged_trust_list_is_not_adopted(wallet: Wallet, eco: Ecosystem, forge: str) -> None:
    before = wallet.trust_cache()
    if forge == "other-signer":
        listed = eco.trust_list(signer=eco.rogue)
    elif forge == "tampered":
        listed = eco.trust_list()
        listed["credentialSubject"]["authorizations"][0]["entityId"] = eco.rogue.did
    else:
        listed = eco.identity(eco.registry.did, issuer=eco.registry)
    with pytest.raises(TrustListUnavailableError) as info:
        checks.adopt_trust_list(wallet, listed, resolver=RESOLVER)
    assert info.value.to_problem().to_dict()["reasons"]
    assert wallet.trust_cache() == before


def test_an_older_trust_list_never_replaces_a_newer_one(wallet: Wallet, eco: Ecosystem) -> None:
    newer = eco.trust_list(eco.trust_subject(authority_status="suspended", version=4))
    checks.adopt_trust_list(wallet, newer, resolver=RESOLVER)
    replayed = eco.trust_list(eco.trust_subject(version=3), valid_from=NOW - timedelta(hours=5))
    subject = checks.adopt_trust_list(wallet, replayed, resolver=RESOLVER)
    assert subject["trustListVersion"] == 4
    cached = wallet.trust_cache()
    assert cached is not None and cached["credential"] == newer


def test_no_registry_configured(tmp_path: Path, eco: Ecosystem) -> None:
    bare = Wallet.create(tmp_path / "bare.cmw", "p", clock=Clock(), kdf=FAST_KDF)
    with pytest.raises(WalletConfigError):
        checks.adopt_trust_list(bare, eco.trust_list(), resolver=RESOLVER)
    with pytest.raises(WalletConfigError):
        WalletClient(bare).trust_subject()


def test_client_falls_back_to_the_cache_while_it_is_valid(wallet: Wallet, eco: Ecosystem, clock: Clock) -> None:
    # the registry URL is a closed loopback port: the cached list is used
    client = WalletClient(wallet, timeout=2)
    assert client.trust_subject()["trustListVersion"] == 3 and client.trust_source == "cache"
    assert client.receive(eco.identity(wallet.did))["types"] == ["MerchantIdentityCredential"]
    clock.now = NOW + timedelta(days=2)
    expired = WalletClient(wallet, timeout=2)
    with pytest.raises(TrustListUnavailableError, match="no valid cached trust list"):
        expired.trust_subject()
    with pytest.raises(CredentialRefusedError) as info:
        expired.receive(eco.identity(wallet.did, valid_until=NOW + timedelta(days=9)))
    assert "TRUST_LIST_UNAVAILABLE" in [r["code"] for r in info.value.reasons]


def test_configuring_another_registry_drops_the_cache(wallet: Wallet, eco: Ecosystem) -> None:
    assert wallet.trust_cache() is not None
    wallet.configure(registry_url="http://127.0.0.1:9", registry_did=eco.rogue.did)
    assert wallet.trust_cache() is None and checks.cached_trust_subject(wallet) is None
    snapshot = copy.deepcopy(wallet.settings)
    assert snapshot == {"registryUrl": "http://127.0.0.1:9", "registryDid": eco.rogue.did}
