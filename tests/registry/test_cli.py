"""Admin commands: the same --store/--data-dir as serve, JSON with --json, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from chopmark.cli.main import main


def run(args: list[str], data_dir: Path, *, code: int = 0) -> Any:
    """Run ``chopmark ARGS --data-dir DIR`` and parse its JSON output."""
    result = CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if result.stdout.strip().startswith(("{", "[")) else result.stdout


def test_issuer_and_token_round_trip(tmp_path: Path) -> None:
    created = run(["issuer", "create", "acme", "--json"], tmp_path)
    assert created["name"] == "acme" and created["did"] == "did:web:127.0.0.1%3A8000:issuers:acme"
    assert all("ref" not in key for key in created["keys"])
    token = run(["token", "create", "--issuer", "acme", "--scope", "issue,status", "--json"], tmp_path)
    assert token["token"].startswith("cmk_") and token["scopes"] == ["issue", "status"]
    listed = run(["token", "list", "--json"], tmp_path)
    assert [t["id"] for t in listed] == [token["id"]] and "token" not in listed[0]
    assert [i["name"] for i in run(["issuer", "list", "--json"], tmp_path)] == ["acme"]
    doc = run(["issuer", "show", "acme", "--did-document"], tmp_path)
    assert doc["id"] == created["did"]
    revoked = run(["token", "revoke", token["id"], "--json"], tmp_path)
    assert revoked["id"] == token["id"]
    assert run(["token", "list", "--json"], tmp_path) == []


def test_rotation_and_removal(tmp_path: Path) -> None:
    run(["issuer", "create", "acme", "--json"], tmp_path)
    rotated = run(["issuer", "rotate-key", "acme", "--type", "Ed25519", "--json"], tmp_path)
    assert rotated["signing"]["Ed25519"] == "key-3" and len(rotated["keys"]) == 3
    problem = run(["issuer", "remove-key", "acme", "key-3", "--yes", "--json"], tmp_path, code=1)
    assert problem["code"] == "KEY_IN_USE"
    removed = run(["issuer", "remove-key", "acme", "key-1", "--yes", "--json"], tmp_path)
    assert [k["id"] for k in removed["keys"]] == ["key-2", "key-3"]


def test_errors_are_problems_with_json(tmp_path: Path) -> None:
    run(["issuer", "create", "acme", "--json"], tmp_path)
    duplicate = run(["issuer", "create", "acme", "--json"], tmp_path, code=1)
    assert duplicate["code"] == "ISSUER_EXISTS" and duplicate["type"].endswith("#CONFLICT")
    unknown = run(["token", "create", "--issuer", "ghost", "--scope", "issue", "--json"], tmp_path, code=1)
    assert unknown["code"] == "ISSUER_NOT_FOUND"
    bad_scope = run(["token", "create", "--issuer", "acme", "--scope", "root", "--json"], tmp_path, code=1)
    assert bad_scope["code"] == "INVALID_SCOPE"
    result = CliRunner().invoke(main, ["issuer", "create", "Bad Name", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "invalid issuer name" in result.stderr


def test_status_list_create(tmp_path: Path) -> None:
    run(["issuer", "create", "acme", "--json"], tmp_path)
    created = run(["status-list", "create", "acme", "--purpose", "suspension", "--json"], tmp_path)
    assert created["purpose"] == "suspension" and created["url"].startswith("http://127.0.0.1:8000/status-lists/")
    assert "permutationKey" not in created


def test_bad_store_url_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["issuer", "list", "--store", "mysql://x", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "store must be" in result.stderr


def test_did_key_issuers_and_key_types(tmp_path: Path) -> None:
    for key_type, prefix in (("Ed25519", "did:key:z6Mk"), ("P-256", "did:key:zDn"), ("P-384", "did:key:z82L")):
        name = f"dk-{key_type.lower()}"
        created = run(["issuer", "create", name, "--did-method", "key", "--key-type", key_type, "--json"], tmp_path)
        assert created["did"].startswith(prefix) and created["didMethod"] == "key"
        assert [k["id"] for k in created["keys"]] == [created["did"][len("did:key:"):]]
        doc = run(["issuer", "show", name, "--did-document"], tmp_path)
        method = f"{created['did']}#{created['keys'][0]['id']}"
        assert doc["id"] == created["did"] and doc["assertionMethod"] == [method]
    refused = run(["issuer", "rotate-key", "dk-ed25519", "--json"], tmp_path, code=1)
    assert refused["code"] == "DID_KEY_NO_ROTATION"
    two = run(["issuer", "create", "two", "--did-method", "key", "--suite", "eddsa-rdfc-2022", "--suite",
               "ecdsa-rdfc-2019", "--json"], tmp_path, code=1)
    assert two["code"] == "DID_KEY_ONE_KEY_TYPE"
    p384 = run(["issuer", "create", "p384", "--key-type", "P-384", "--json"], tmp_path)
    assert [k["type"] for k in p384["keys"]] == ["P-384"] and p384["did"].startswith("did:web:")
