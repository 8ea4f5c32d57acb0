"""The wallet's DID Configuration (DIF Well-Known DID Configuration): signed with the holder key, verified by the
kernel's ``verify_configuration`` against the DID document the wallet prints (library and ``chopmark wallet
domain-linkage``)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chopmark.dids import Resolver
from chopmark.errors import UsageError
from chopmark.trust.domainlinkage import verify_configuration
from tests.wallet.support import FAST_KDF, NOW, PASSPHRASE, Clock, seeded_rng
from tests.wallet.test_cli import run
from wallet.core import Wallet

ORIGIN = "https://shop.example:8443"


@pytest.fixture
def web_wallet(tmp_path: Path) -> Wallet:
    return Wallet.create(tmp_path / "web.cmw", PASSPHRASE, domain="shop.example:8443", rng=seeded_rng(),
                         clock=Clock(), kdf=FAST_KDF)


def resolver_for(wallet: Wallet, document: dict[str, Any] | None = None) -> Resolver:
    """A resolver serving the wallet's printed DID document (did:key resolves offline anyway)."""
    return Resolver(documents={wallet.did: document or wallet.did_document()})


def codes(result: Any) -> set[str]:
    return {p.code for p in result.problems}


def test_configuration_verifies_against_the_printed_did_document(web_wallet: Wallet) -> None:
    config = web_wallet.domain_linkage_configuration(ORIGIN, valid_days=30)
    assert config["@context"] == "https://identity.foundation/.well-known/did-configuration/v1"
    assert len(config["linked_dids"]) == 1
    result = verify_configuration(json.dumps(config), web_wallet.did, ORIGIN, resolver_for(web_wallet), NOW)
    assert result.passed, result.problems
    # the same file proves nothing for another origin, and nothing once it expired
    other = verify_configuration(config, web_wallet.did, "https://evil.example", resolver_for(web_wallet), NOW)
    assert codes(other) == {"DOMAIN_LINKAGE_INVALID"}
    late = verify_configuration(config, web_wallet.did, ORIGIN, resolver_for(web_wallet), NOW + timedelta(days=31))
    assert codes(late) == {"DOMAIN_LINKAGE_EXPIRED"}


def test_the_key_must_be_an_assertion_method_of_the_document(web_wallet: Wallet) -> None:
    config = web_wallet.domain_linkage_configuration(ORIGIN)
    document = web_wallet.did_document()
    assert document["assertionMethod"] == [web_wallet.signer.id]
    authentication_only = {**document, "assertionMethod": []}
    result = verify_configuration(config, web_wallet.did, ORIGIN, resolver_for(web_wallet, authentication_only), NOW)
    assert codes(result) == {"INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD"}


def test_a_did_key_holder_can_link_an_origin_too(tmp_path: Path) -> None:
    wallet = Wallet.create(tmp_path / "key.cmw", PASSPHRASE, rng=seeded_rng(), clock=Clock(), kdf=FAST_KDF)
    config = wallet.domain_linkage_configuration("https://merchant.example")
    assert verify_configuration(config, wallet.did, "https://merchant.example", Resolver(), NOW).passed
    assert wallet.did_origin() is None


@pytest.mark.parametrize(("origin", "days"), [("https://shop.example/path", 10), ("shop.example", 10),
                                              (ORIGIN, 0), (ORIGIN, 4000)])
def test_bad_origin_or_validity_is_a_usage_error(web_wallet: Wallet, origin: str, days: int) -> None:
    with pytest.raises(UsageError):
        web_wallet.domain_linkage_configuration(origin, valid_days=days)


def test_urls_of_the_holder(web_wallet: Wallet) -> None:
    assert web_wallet.did_origin() == ORIGIN
    assert Wallet.domain_linkage_url(ORIGIN) == ORIGIN + "/.well-known/did-configuration.json"
    assert Wallet.domain_linkage_url("HTTPS://Shop.Example:443") == "https://shop.example/.well-known/did-configuration.json"


# --- the command line ------------------------------------------------------------------------------------------

@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("CHOPMARK_WALLET_SCRYPT_N", "16")
    monkeypatch.setenv("CHOPMARK_WALLET", str(tmp_path / "w.cmw"))
    return {"CHOPMARK_WALLET_PASSPHRASE": PASSPHRASE}


def test_cli_prints_the_file_to_host_for_the_holders_own_origin(tmp_path: Path, env: dict[str, str]) -> None:
    assert run("init", "--domain", "shop.example", env=env).exit_code == 0
    wallet = Wallet.open(tmp_path / "w.cmw", PASSPHRASE)
    shown = run("domain-linkage", env=env)
    assert shown.exit_code == 0, shown.output
    assert "Host this DID configuration at https://shop.example/.well-known/did-configuration.json" in shown.stderr
    assert "https://shop.example/.well-known/did.json" in shown.stderr
    config = json.loads(shown.stdout)  # stdout is the file itself
    assert verify_configuration(config, wallet.did, "https://shop.example", resolver_for(wallet), wallet.now()).passed

    out = tmp_path / "did-configuration.json"
    written = run("domain-linkage", "--origin", "https://shop.example", "--days", "7", "--out", str(out), "--json",
                  env=env)
    assert written.exit_code == 0, written.output
    data = json.loads(written.stdout)
    assert data["url"] == "https://shop.example/.well-known/did-configuration.json" and data["written"] == str(out)
    assert json.loads(out.read_text(encoding="utf-8")) == data["didConfiguration"]
    assert verify_configuration(out.read_bytes(), wallet.did, "https://shop.example", resolver_for(wallet),
                                wallet.now()).passed


def test_cli_needs_an_origin_for_did_key_and_refuses_a_bad_one(env: dict[str, str]) -> None:
    assert run("init", env=env).exit_code == 0
    assert run("domain-linkage", env=env).exit_code == 2
    assert run("domain-linkage", "--origin", "https://shop.example/x", env=env).exit_code == 2
    assert run("domain-linkage", "--origin", "https://shop.example", "--days", "0", env=env).exit_code == 2
    ok = run("domain-linkage", "--origin", "https://shop.example", "--json", env=env)
    assert ok.exit_code == 0 and json.loads(ok.stdout)["origin"] == "https://shop.example"
