"""The wallet's HTTP client against a loopback stand-in of the service (tests/wallet/fake_services.py): KYB,
onboarding, trust checks before presenting, did:web resolution through the configured base, error mapping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chopmark.cli.main import main
from tests.wallet.fake_services import Services, running
from tests.wallet.support import ADDRESS, FAST_KDF, PASSPHRASE, Clock, seeded_rng
from wallet import client as client_module
from wallet.client import WalletClient
from wallet.core import Wallet
from wallet.errors import RemoteError, UntrustedSiteError
from wallet.http import Http, check_service_url

APPLICATION = {"legalName": {"@value": "Müller Handels GmbH", "@language": "de"}, "registrationNumber": "HRB 123456",
               "register": {"name": "Handelsregister (Amtsgericht München)"}, "jurisdiction": "DE",
               "registeredAddress": ADDRESS}


@pytest.fixture
def services() -> Iterator[Services]:
    with running(Clock()) as started:
        yield started


@pytest.fixture
def wallet(tmp_path: Path, services: Services) -> Wallet:
    return Wallet.create(tmp_path / "w.cmw", PASSPHRASE, rng=seeded_rng(), clock=Clock(), kdf=FAST_KDF,
                         registry_url=services.base)


def test_kyb_then_onboarding(wallet: Wallet, services: Services) -> None:
    client = WalletClient(wallet, timeout=5)
    credential = client.request_identity(f"{services.base}/issuers/kyb", APPLICATION)
    assert client.trust_source == "registry"
    assert credential["issuer"] == services.parties["kyb"].did
    assert credential["credentialSubject"] == {"id": wallet.did, "type": "Merchant", **APPLICATION}
    assert wallet.settings["registryDid"] == services.registry.did
    assert wallet.trust_cache() is not None  # the verified list was cached for offline use
    decision = client.onboard(f"{services.base}/sites/site-a")
    assert decision["accepted"] is True and decision["sellerAccountId"] == "acct_42"
    stored = wallet.get(decision["wallet"]["stored"])
    assert stored["types"] == ["MarketplaceSellerCredential"] and stored["issuer"] == services.parties["site-a"].did
    reopened = Wallet.open(wallet.path, PASSPHRASE)
    assert sorted(t for e in reopened.credentials() for t in e["types"]) == [
        "MarketplaceSellerCredential", "MerchantIdentityCredential"]


def test_module_functions_and_sites(wallet: Wallet, services: Services) -> None:
    listed = client_module.sites(wallet, timeout=5)
    assert [m["id"] for m in listed] == [services.parties["site-a"].did, "did:web:shop.example:issuers:far"]
    client_module.request_identity(wallet, f"{services.base}/issuers/kyb", APPLICATION, timeout=5)
    assert client_module.onboard(wallet, f"{services.base}/sites/site-a", timeout=5)["accepted"] is True


def test_never_presents_to_a_site_outside_the_trust_list(wallet: Wallet, services: Services) -> None:
    client = WalletClient(wallet, timeout=5)
    client.request_identity(f"{services.base}/issuers/kyb", APPLICATION)
    with pytest.raises(UntrustedSiteError, match="not an active member"):
        client.onboard(f"{services.base}/sites/rogue")
    assert not [p for p in services.answered if "rogue" in p]


def test_never_answers_a_request_relayed_from_another_host(wallet: Wallet, services: Services) -> None:
    client = WalletClient(wallet, timeout=5)
    client.request_identity(f"{services.base}/issuers/kyb", APPLICATION)
    services.relay_domain = "did:web:shop.example:issuers:far"  # a member, but not the host we talk to
    with pytest.raises(UntrustedSiteError, match="is not the site"):
        client.onboard(f"{services.base}/sites/site-a")
    assert not [p for p in services.answered if "onboarding" in p]


def test_application_goes_only_to_an_authorized_authority(wallet: Wallet, services: Services) -> None:
    services.authority_status = "suspended"
    with pytest.raises(UntrustedSiteError) as info:
        WalletClient(wallet, timeout=5).request_identity(f"{services.base}/issuers/kyb", APPLICATION)
    assert info.value.to_problem().code == "UNTRUSTED_AUTHORITY"
    assert services.answered == []


def test_jurisdiction_outside_the_authorization_is_refused_before_sending(wallet: Wallet,
                                                                          services: Services) -> None:
    with pytest.raises(UntrustedSiteError):
        WalletClient(wallet, timeout=5).request_identity(f"{services.base}/issuers/kyb",
                                                         APPLICATION | {"jurisdiction": "FR"})
    assert services.answered == []


def test_problem_json_becomes_a_remote_error(wallet: Wallet, services: Services) -> None:
    services.fail_exchange = True
    with pytest.raises(RemoteError) as info:
        WalletClient(wallet, timeout=5).request_identity(f"{services.base}/issuers/kyb", APPLICATION)
    problem = info.value.to_problem().to_dict()
    assert problem["code"] == "KYB_REFUSED" and problem["detail"] == "the register has no such company"
    assert problem["httpStatus"] == 422 and problem["reasons"][0]["code"] == "NOT_REGISTERED"


def test_http_refuses_redirects_and_times_out(services: Services) -> None:
    with pytest.raises(RemoteError) as info:
        Http(timeout=5).get_json(f"{services.base}/redirect")
    assert info.value.extra["httpStatus"] == 302
    with pytest.raises(RemoteError) as slow:
        Http(timeout=0.3).get_json(f"{services.base}/slow")
    assert slow.value.to_problem().code == "REMOTE_UNREACHABLE"
    with pytest.raises(RemoteError) as missing:
        Http(timeout=5).get_json(f"{services.base}/nothing")
    assert missing.value.to_problem().code == "NOT_FOUND" and "no route" in missing.value.detail


@pytest.mark.parametrize(("url", "code"), [("http://registry.example", "INSECURE_URL"), ("ftp://x", "INVALID_URL"),
                                           ("https://user@host.example", "INVALID_URL"),
                                           ("http://127.0.0.1:99999", "INVALID_URL")])
def test_service_urls_are_checked(url: str, code: str) -> None:
    with pytest.raises(RemoteError) as info:
        check_service_url(url)
    assert info.value.to_problem().code == code
    assert check_service_url("https://registry.example/") == "https://registry.example"


def test_cached_trust_list_is_used_when_the_registry_goes_down(tmp_path: Path) -> None:
    with running(Clock()) as services:
        wallet = Wallet.create(tmp_path / "w.cmw", PASSPHRASE, rng=seeded_rng(), clock=Clock(), kdf=FAST_KDF,
                               registry_url=services.base)
        WalletClient(wallet, timeout=5).request_identity(f"{services.base}/issuers/kyb", APPLICATION)
    offline = WalletClient(Wallet.open(wallet.path, PASSPHRASE, clock=Clock()), timeout=2)
    assert offline.trust_subject()["trustListVersion"] == 7 and offline.trust_source == "cache"


def _cli(args: list[str], env: dict[str, str]) -> Any:
    return CliRunner().invoke(main, ["wallet", *args], env=env, catch_exceptions=False)


def test_cli_request_identity_and_onboard_all(tmp_path: Path) -> None:
    # The CLI runs on the wall clock, so the stand-in does too.
    with running(lambda: datetime.now(UTC)) as services:
        env = {"CHOPMARK_WALLET": str(tmp_path / "w.cmw"), "CHOPMARK_WALLET_PASSPHRASE": PASSPHRASE,
               "CHOPMARK_WALLET_SCRYPT_N": "16"}
        assert _cli(["init", "--registry", services.base], env).exit_code == 0
        application = tmp_path / "application.json"
        application.write_text(json.dumps(APPLICATION), encoding="utf-8")
        kyb = _cli(["request-identity", "--authority", f"{services.base}/issuers/kyb", "--application",
                    str(application), "--json"], env)
        assert kyb.exit_code == 0, kyb.output
        assert json.loads(kyb.stdout)["stored"][0]["types"] == ["MerchantIdentityCredential"]
        onboarded = _cli(["onboard", "--all", "--json"], env)
        rows = json.loads(onboarded.stdout)
        assert [r["decision"] for r in rows] == ["accepted", "error"]  # the far-away member is unreachable
        assert rows[1]["reasons"][0]["code"] == "REMOTE_UNREACHABLE"
        assert onboarded.exit_code == 1
        one = _cli(["onboard", "--site", f"{services.base}/sites/site-a"], env)
        assert one.exit_code == 0 and "accepted" in one.stdout and "acct_42" in one.stdout
        sites = _cli(["sites"], env)
        assert sites.exit_code == 0 and "Marketplace A" in sites.stdout
        fetched = _cli(["receive", f"{services.base}/trust/list", "--json"], env)
        assert fetched.exit_code == 1 and json.loads(fetched.stdout)["code"] == "CREDENTIAL_REFUSED"


def test_trust_list_is_fetched_again_when_older_than_max_age(wallet: Wallet, services: Services) -> None:
    reusing, refreshing = WalletClient(wallet, timeout=5), WalletClient(wallet, timeout=5, trust_max_age=0)
    assert reusing.trust_subject()["authorizations"][0]["entryStatus"] == "active"
    assert refreshing.trust_subject()["authorizations"][0]["entryStatus"] == "active"
    services.authority_status = "suspended"
    assert reusing.trust_subject()["authorizations"][0]["entryStatus"] == "active"
    assert refreshing.trust_subject()["authorizations"][0]["entryStatus"] == "suspended"
    assert refreshing.trust_source == "registry"
