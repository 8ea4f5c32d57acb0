"""``chopmark wallet ...`` through click's CliRunner (offline: the registry URL is dead, the cached trust list is
used). ``CHOPMARK_WALLET_SCRYPT_N`` keeps the key derivation cheap: a test knob only."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from chopmark.cli.main import main
from chopmark.dids import Resolver
from chopmark.vc.presentations import verify_presentation
from tests.wallet.support import DEAD_REGISTRY, PASSPHRASE, Ecosystem
from tests.wallet.test_core import CHALLENGE, identity_request
from wallet.core import Wallet


@pytest.fixture
def eco() -> Ecosystem:
    # the CLI reads the wall clock, so the ecosystem's credentials must be valid now
    return Ecosystem()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("CHOPMARK_WALLET_SCRYPT_N", "16")
    monkeypatch.setenv("CHOPMARK_WALLET", str(tmp_path / "w.cmw"))
    monkeypatch.delenv("CHOPMARK_WALLET_PASSPHRASE", raising=False)
    return {"CHOPMARK_WALLET_PASSPHRASE": PASSPHRASE}


def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["wallet", *args], env=env, input=stdin, catch_exceptions=False)


def now_ecosystem_credentials(eco: Ecosystem, did: str) -> dict[str, Any]:
    """An identity valid today (the CLI runs on the wall clock)."""
    from datetime import timedelta

    today = datetime.now(UTC).replace(microsecond=0)
    return eco.identity(did, valid_from=today - timedelta(days=1), valid_until=today + timedelta(days=30))


@pytest.fixture
def ready(tmp_path: Path, env: dict[str, str], eco: Ecosystem) -> Wallet:
    """An initialised wallet with a cached trust list valid now."""
    from datetime import timedelta

    result = run("init", "--registry", DEAD_REGISTRY, "--registry-did", eco.registry.did, "--json", env=env)
    assert result.exit_code == 0, result.output
    wallet = Wallet.open(tmp_path / "w.cmw", PASSPHRASE)
    wallet.cache_trust_list(eco.trust_list(valid_from=datetime.now(UTC) - timedelta(hours=1)),
                            fetched=datetime.now(UTC))
    return wallet


def write(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_init_prompts_twice_and_prints_the_did(tmp_path: Path, env: dict[str, str]) -> None:
    result = run("init", stdin="s3cret passphrase\ns3cret passphrase\n")
    assert result.exit_code == 0, result.output
    did = Wallet.open(tmp_path / "w.cmw", "s3cret passphrase").did
    assert f"Holder DID: {did}" in result.output
    assert stat.S_IMODE((tmp_path / "w.cmw").stat().st_mode) == 0o600
    again = run("init", "--json", env=env)
    assert again.exit_code == 1 and json.loads(again.stdout)["code"] == "WALLET_EXISTS"


def test_init_did_web_prints_the_document_to_host(tmp_path: Path, env: dict[str, str]) -> None:
    result = run("--wallet", str(tmp_path / "web.cmw"), "init", "--domain", "shop.example", "--path", "m:acme",
                 "--json", env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["did"] == "did:web:shop.example:m:acme"
    assert data["didDocumentUrl"] == "https://shop.example/m/acme/did.json"
    assert data["didDocument"]["authentication"] == [f"{data['did']}#key-1"]


def test_usage_errors_exit_2(tmp_path: Path, env: dict[str, str], ready: Wallet) -> None:
    assert run("init", "--path", "a:b", env=env).exit_code == 2
    assert run("onboard", env=env).exit_code == 2
    assert run("onboard", "--all", "--site", "http://127.0.0.1:9/sites/a", env=env).exit_code == 2
    assert run("present", "--request", str(tmp_path / "missing.json"), env=env).exit_code == 2
    assert run("nonsense", env=env).exit_code == 2


def test_wrong_passphrase_and_missing_wallet(tmp_path: Path, ready: Wallet) -> None:
    result = run("list", env={"CHOPMARK_WALLET_PASSPHRASE": "wrong"})
    assert result.exit_code == 1 and "wrong passphrase or the file was modified" in result.stderr
    result = run("--wallet", str(tmp_path / "none.cmw"), "list", "--json", env={"CHOPMARK_WALLET_PASSPHRASE": "x"})
    assert result.exit_code == 1 and json.loads(result.stdout)["code"] == "WALLET_NOT_FOUND"


def test_passphrase_file(tmp_path: Path, ready: Wallet) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    result = run("--passphrase-file", str(secret), "did", "--json")
    assert result.exit_code == 0 and json.loads(result.output)["did"] == ready.did


def test_receive_list_show_present_remove(tmp_path: Path, env: dict[str, str], eco: Ecosystem,
                                          ready: Wallet) -> None:
    credential = now_ecosystem_credentials(eco, ready.did)
    result = run("receive", write(tmp_path / "vc.json", {"verifiableCredential": credential}), env=env)
    assert result.exit_code == 0, result.output + result.stderr
    assert "MerchantIdentityCredential" in result.stdout and "cached trust list" in result.stderr
    listed = json.loads(run("list", "--json", env=env).output)
    assert [e["types"] for e in listed] == [["MerchantIdentityCredential"]] and "credential" not in listed[0]
    shown = run("show", listed[0]["id"][:24], "--json", env=env)
    assert json.loads(shown.output)["credential"] == credential
    assert "Müller Handels GmbH" in run("show", listed[0]["id"][:24], env=env).output
    request = write(tmp_path / "vpr.json", {"verifiablePresentationRequest": identity_request(eco)})
    out = tmp_path / "vp.json"
    presented = run("present", "--request", request, "--out", str(out), env=env)
    assert presented.exit_code == 0, presented.output + presented.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    vp = json.loads(out.read_text(encoding="utf-8"))
    assert verify_presentation(vp, resolver=Resolver(), now=datetime.now(UTC), challenge=CHALLENGE,
                               domain=eco.site.did).verified
    assert run("remove", listed[0]["id"], "--yes", env=env).exit_code == 0
    assert json.loads(run("list", "--json", env=env).output) == []


def test_present_refuses_an_untrusted_site(tmp_path: Path, env: dict[str, str], eco: Ecosystem,
                                           ready: Wallet) -> None:
    run("receive", write(tmp_path / "vc.json", now_ecosystem_credentials(eco, ready.did)), env=env)
    request = identity_request(eco) | {"domain": eco.rogue.did}
    result = run("present", "--request", write(tmp_path / "vpr.json", request), "--json", env=env)
    assert result.exit_code == 1 and json.loads(result.stdout)["code"] == "UNTRUSTED_SITE"
    forced = run("present", "--request", str(tmp_path / "vpr.json"), "--allow-untrusted", env=env)
    assert forced.exit_code == 0 and json.loads(forced.stdout)["proof"]["domain"] == eco.rogue.did


def test_refused_credential_lists_every_reason(tmp_path: Path, env: dict[str, str], eco: Ecosystem,
                                               ready: Wallet) -> None:
    rogue = eco.identity(eco.rogue.did, issuer=eco.rogue)
    result = run("receive", write(tmp_path / "vc.json", rogue), env=env)
    assert result.exit_code == 1
    assert "error: credential refused" in result.stderr
    assert "SUBJECT_NOT_HOLDER (subject)" in result.stderr and "ISSUER_NOT_AUTHORIZED (trust)" in result.stderr
    problem = json.loads(run("receive", str(tmp_path / "vc.json"), "--json", env=env).stdout)
    assert problem["code"] == "CREDENTIAL_REFUSED" and len(problem["reasons"]) >= 2
    assert json.loads(run("list", "--json", env=env).output) == []


def test_export_import_with_backup_passphrase_file(tmp_path: Path, env: dict[str, str], eco: Ecosystem,
                                                   ready: Wallet) -> None:
    run("receive", write(tmp_path / "vc.json", now_ecosystem_credentials(eco, ready.did)), env=env)
    backup_pass = tmp_path / "backup-pass"
    backup_pass.write_text("another passphrase\n", encoding="utf-8")
    backup = str(tmp_path / "backup.cmw")
    exported = run("export", backup, "--backup-passphrase-file", str(backup_pass), "--json", env=env)
    assert exported.exit_code == 0 and json.loads(exported.output)["credentials"] == 1
    assert run("export", backup, "--backup-passphrase-file", str(backup_pass), env=env).exit_code == 1
    restored_path = str(tmp_path / "restored.cmw")
    imported = run("--wallet", restored_path, "import", backup, "--backup-passphrase-file", str(backup_pass),
                   "--json", env={"CHOPMARK_WALLET_PASSPHRASE": "third passphrase"})
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output) | {"imported": ""} == {"imported": "", "did": ready.did, "credentials": 1,
                                                               "added": 1, "mode": "restore"}
    assert len(Wallet.open(restored_path, "third passphrase").credentials()) == 1
    wrong = tmp_path / "wrong-pass"
    wrong.write_text("nope\n", encoding="utf-8")
    assert run("import", backup, "--backup-passphrase-file", str(wrong), env=env).exit_code == 1


def test_config_shows_and_sets_the_registry(env: dict[str, str], eco: Ecosystem, ready: Wallet) -> None:
    shown = json.loads(run("config", "--json", env=env).output)
    assert shown["settings"] == {"registryUrl": DEAD_REGISTRY, "registryDid": eco.registry.did}
    assert shown["trustCache"]["credential"]["credentialSubject"]["trustListVersion"] == 3
    assert "cached trust list" in run("config", env=env).output
    changed = json.loads(run("config", "--registry", "http://127.0.0.1:8000", "--json", env=env).output)
    assert changed["settings"]["registryDid"] == "did:web:127.0.0.1%3A8000" and changed["trustCache"] is None
    insecure = run("config", "--registry", "http://registry.example", "--json", env=env)
    assert insecure.exit_code == 1 and json.loads(insecure.output)["code"] == "INSECURE_URL"


def test_onboard_unreachable_site_is_a_failed_row(env: dict[str, str], ready: Wallet) -> None:
    result = run("--timeout", "2", "onboard", "--site", "http://127.0.0.1:9/sites/a", "--json", env=env)
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert rows[0]["decision"] == "error" and rows[0]["reasons"][0]["code"] == "REMOTE_UNREACHABLE"
    table = run("--timeout", "2", "onboard", "--site", "http://127.0.0.1:9/sites/a", env=env)
    assert table.exit_code == 1 and "Onboarding decisions" in table.stdout and "REMOTE_UNREACHABLE" in table.stdout


@pytest.mark.parametrize(("weak", "why"), [("short", "it has 5 characters"), ("a" * 20, "repeats one character"),
                                           ("allonelowercaseword", "one kind"), ("123456789012", "one kind")])
def test_a_weak_passphrase_is_refused_with_the_rule(tmp_path: Path, env: dict[str, str], weak: str,
                                                    why: str) -> None:
    """Issue 11: ``wallet init`` took any non-empty passphrase."""
    result = run("init", env={"CHOPMARK_WALLET_PASSPHRASE": weak})
    assert result.exit_code == 2 and why in result.output and "at least 12 characters" in result.output
    assert not (tmp_path / "w.cmw").exists()


def test_the_readme_passphrase_passes_and_the_passphrase_can_be_changed(tmp_path: Path, env: dict[str, str]) -> None:
    assert run("init", "--json", env={"CHOPMARK_WALLET_PASSPHRASE": "correct horse battery staple"}).exit_code == 0
    new = tmp_path / "new-pass"
    new.write_text("weak\n", encoding="utf-8")
    refused = run("passphrase", "--new-passphrase-file", str(new), env=env)
    assert refused.exit_code == 2 and "at least 12 characters" in refused.output
    new.write_text("Tr0ubadour & a horse\n", encoding="utf-8")
    changed = run("passphrase", "--new-passphrase-file", str(new), "--json", env=env)
    assert changed.exit_code == 0 and json.loads(changed.output)["changed"] is True
    assert run("did", env={"CHOPMARK_WALLET_PASSPHRASE": "correct horse battery staple"}).exit_code == 1
    assert run("did", "--json", env={"CHOPMARK_WALLET_PASSPHRASE": "Tr0ubadour & a horse"}).exit_code == 0
    backup = str(tmp_path / "backup.cmw")
    new.write_text("backup\n", encoding="utf-8")
    weak_backup = run("export", backup, "--backup-passphrase-file", str(new),
                      env={"CHOPMARK_WALLET_PASSPHRASE": "Tr0ubadour & a horse"})
    assert weak_backup.exit_code == 2 and "backup passphrase is too weak" in weak_backup.output
