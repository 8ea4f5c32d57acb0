"""The ``chopmark`` command-line contract: keygen, issue, verify (exit codes 0 / 1 / 2), demo."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from chopmark.cli.main import main
from chopmark.dids import did_key_from_public_key
from chopmark.keys import KeyPair, KeyType
from chopmark.vc.samples import merchant_credential

SEED = "9f" * 32


def run(*args: str, stdin: str | None = None) -> Any:
    """Invoke the CLI in-process; return click's Result."""
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "vc.json").write_text(json.dumps(merchant_credential()), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("key_type", ["Ed25519", "P-256", "P-384"])
def test_keygen_contract(key_type: str) -> None:
    result = run("keygen", "--type", key_type)
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert set(doc) == {"id", "type", "controller", "publicKeyMultibase", "secretKeyMultibase"}
    assert doc["controller"].startswith("did:key:z")
    assert doc["id"] == f"{doc['controller']}#{doc['publicKeyMultibase']}"
    pair = KeyPair.from_multikey(doc)
    assert did_key_from_public_key(pair.public_key) == doc["controller"]


def test_keygen_with_seed_is_reproducible() -> None:
    first, second = run("keygen", "--seed", SEED), run("keygen", "--seed", SEED)
    assert first.output == second.output
    assert json.loads(first.output)["controller"] == did_key_from_public_key(
        KeyPair.from_seed(KeyType.ED25519, bytes.fromhex(SEED)).public_key)


@pytest.mark.parametrize("args", [["keygen", "--seed", "zz"], ["keygen", "--type", "RSA"],
                                  ["keygen", "--type", "P-256", "--seed", "00" * 32]])
def test_keygen_usage_errors_exit_2(args: list[str]) -> None:
    assert run(*args).exit_code == 2


@pytest.mark.parametrize(("suite", "key_type"), [
    ("eddsa-rdfc-2022", "Ed25519"), ("eddsa-jcs-2022", "Ed25519"), ("ecdsa-rdfc-2019", "P-256"),
    ("ecdsa-rdfc-2019", "P-384"), ("ecdsa-jcs-2019", "P-256"), ("ecdsa-jcs-2019", "P-384")])
def test_issue_then_verify(workdir: Path, suite: str, key_type: str) -> None:
    (workdir / "key.json").write_text(run("keygen", "--type", key_type).output, encoding="utf-8")
    issued = run("issue", "--in", str(workdir / "vc.json"), "--key", str(workdir / "key.json"), "--suite", suite,
                 "--created", "2026-01-02T00:00:00Z")
    assert issued.exit_code == 0, issued.output
    signed = json.loads(issued.output)
    key = json.loads((workdir / "key.json").read_text(encoding="utf-8"))
    assert signed["issuer"] == key["controller"]
    assert signed["proof"]["cryptosuite"] == suite
    assert signed["proof"]["created"] == "2026-01-02T00:00:00Z"
    (workdir / "signed.json").write_text(issued.output, encoding="utf-8")
    verified = run("verify", str(workdir / "signed.json"), "--now", "2026-06-01T00:00:00Z")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["verified"] is True
    # outside the validity period: not verified, exit 1, the problem named
    expired = run("verify", str(workdir / "signed.json"), "--now", "2032-01-01T00:00:00Z")
    assert expired.exit_code == 1
    assert "EXPIRED" in [p["code"] for p in json.loads(expired.output)["problems"]]


def test_issue_from_stdin_keeps_issuer_when_asked(workdir: Path) -> None:
    (workdir / "key.json").write_text(run("keygen").output, encoding="utf-8")
    doc = merchant_credential(issuer="did:example:registry")
    result = run("issue", "--in", "-", "--key", str(workdir / "key.json"), "--keep-issuer", stdin=json.dumps(doc))
    assert result.exit_code == 0
    signed = json.loads(result.output)
    assert signed["issuer"] == "did:example:registry"
    (workdir / "s.json").write_text(result.output, encoding="utf-8")
    strict = run("verify", str(workdir / "s.json"))
    assert strict.exit_code == 1
    assert "ISSUER_MISMATCH" in [p["code"] for p in json.loads(strict.output)["problems"]]
    assert run("verify", str(workdir / "s.json"), "--no-issuer-binding").exit_code == 0


def test_issue_rejects_bad_credential_with_problem_json(workdir: Path) -> None:
    (workdir / "key.json").write_text(run("keygen").output, encoding="utf-8")
    bad = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
           "credentialSubject": {"undefinedTerm": 1}}
    result = CliRunner().invoke(main, ["issue", "--in", "-", "--key", str(workdir / "key.json")],
                                input=json.dumps(bad))
    assert result.exit_code == 1
    problem = json.loads(result.stderr)["error"]
    assert problem["code"] == "UNDEFINED_TERM"
    assert problem["type"] == "https://www.w3.org/TR/vc-data-model#PARSING_ERROR"


def test_legacy_suite_needs_allow_legacy(workdir: Path) -> None:
    (workdir / "key.json").write_text(run("keygen").output, encoding="utf-8")
    doc = merchant_credential()
    doc["@context"].append("https://w3id.org/security/suites/ed25519-2020/v1")
    (workdir / "legacy.json").write_text(json.dumps(doc), encoding="utf-8")
    args = ["issue", "--in", str(workdir / "legacy.json"), "--key", str(workdir / "key.json"),
            "--suite", "Ed25519Signature2020"]
    assert run(*args).exit_code == 2
    allowed = run(*args, "--allow-legacy")
    assert allowed.exit_code == 0
    (workdir / "legacy-signed.json").write_text(allowed.output, encoding="utf-8")
    assert run("verify", str(workdir / "legacy-signed.json")).exit_code == 0


def test_verify_the_official_vector(vectors: Path) -> None:
    signed = vectors / "vc-di-eddsa" / "TestVectors" / "eddsa-rdfc-2022" / "signedDataInt.json"
    assert run("verify", str(signed), "--no-issuer-binding").exit_code == 0
    assert run("verify", str(signed), "--suite", "ecdsa-rdfc-2019", "--no-issuer-binding").exit_code == 1


def test_verify_did_web_with_doc(workdir: Path) -> None:
    pair = KeyPair.from_seed(KeyType.P256, bytes.fromhex("11" * 32))
    did = "did:web:registry.example.com:issuers:acme"
    vm = f"{did}#key-1"
    did_doc = {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"], "id": did,
               "verificationMethod": [{"id": vm, "type": "Multikey", "controller": did,
                                       "publicKeyMultibase": pair.public_key.multibase()}],
               "assertionMethod": [vm]}
    (workdir / "did.json").write_text(json.dumps(did_doc), encoding="utf-8")
    (workdir / "key.json").write_text(json.dumps(pair.to_multikey(include_secret=True, id=vm, controller=did)),
                                      encoding="utf-8")
    issued = run("issue", "--in", str(workdir / "vc.json"), "--key", str(workdir / "key.json"),
                 "--suite", "ecdsa-rdfc-2019")
    assert json.loads(issued.output)["issuer"] == did
    (workdir / "signed.json").write_text(issued.output, encoding="utf-8")
    unresolved = run("verify", str(workdir / "signed.json"))
    assert unresolved.exit_code == 1
    url = "https://registry.example.com/issuers/acme/did.json"
    assert run("verify", str(workdir / "signed.json"), "--doc", f"{url}={workdir / 'did.json'}").exit_code == 0
    assert run("verify", str(workdir / "signed.json"), "--doc", f"{did}={workdir / 'did.json'}").exit_code == 0


@pytest.mark.parametrize("args", [["verify"], ["verify", "/nonexistent/file.json"], ["verify", "x", "--doc", "nofile"],
                                  ["verify", "x", "--now", "yesterday"], ["issue", "--in", "x"]])
def test_usage_errors_exit_2(workdir: Path, args: list[str]) -> None:
    (workdir / "x").write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(main, [a if a != "x" else str(workdir / "x") for a in args])
    assert result.exit_code == 2


@pytest.mark.parametrize("text", ["{not json", '{"a": 1, "a": 2}', "[1, 2]", '"a string"', "{}"])
def test_verify_bad_documents_exit_1(text: str) -> None:
    result = CliRunner().invoke(main, ["verify", "-"], input=text)
    assert result.exit_code == 1


def test_installed_entry_point_runs_as_a_process(workdir: Path) -> None:
    exe = shutil.which("chopmark", path=str(Path(sys.executable).parent))
    assert exe is not None, "the chopmark console script is not installed in this environment"
    key = subprocess.run([exe, "keygen", "--type", "Ed25519", "--seed", SEED], capture_output=True, text=True,
                         check=True)
    (workdir / "key.json").write_text(key.stdout, encoding="utf-8")
    signed = subprocess.run([exe, "issue", "--in", str(workdir / "vc.json"), "--key", str(workdir / "key.json")],
                            capture_output=True, text=True, check=True)
    verified = subprocess.run([exe, "verify", "-"], input=signed.stdout, capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_demo_kernel_prints_every_suite() -> None:
    result = run("demo", "kernel")
    assert result.exit_code == 0
    for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022", "ecdsa-rdfc-2019", "ecdsa-jcs-2019"):
        assert suite in result.output
    assert " no " not in result.output


def test_the_root_command_mounts_every_role() -> None:
    """The root command's own commands, ``serve`` and each role's group (registry, issuer, verifier, wallet), and
    the demos of the kernel, the wallet (identity) and the issuer (ranking): the same commands as before the roles
    owned them."""
    assert set(main.commands) == {"keygen", "issue", "verify", "demo", "serve",
                                  "issuer", "token", "status-list", "trust", "log",  # registry
                                  "verify-rank", "campaign",  # issuer
                                  "site",  # verifier
                                  "wallet"}
    demo = main.commands["demo"]
    assert isinstance(demo, click.Group) and set(demo.commands) == {"kernel", "identity", "ranking"}
    assert run("--help").output.count("\n  ") >= len(main.commands)


def test_a_role_command_reaches_the_deployment_the_root_wires_in(tmp_path: Path) -> None:
    """``site list`` (verifier) opens the sites of the store ``--data-dir`` names through the root's wiring (the
    DIDs come from the registry): an empty deployment lists no site, and a bad store URL is a clear error."""
    listed = run("site", "list", "--json", "--data-dir", str(tmp_path))
    assert listed.exit_code == 0 and json.loads(listed.output) == []
    refused = CliRunner().invoke(main, ["site", "list", "--store", "nosuch://x", "--data-dir", str(tmp_path)])
    assert refused.exit_code == 1 and refused.stderr.startswith("error:")
