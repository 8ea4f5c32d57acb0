"""Write a snapshot of Chopmark's outward interface, for comparing a refactoring before and after.

The snapshot holds, one file each in the output folder:

* ``openapi.json``: the exact bytes of ``GET /openapi.json`` from ``create_app`` on a fresh SQLite store;
* ``routes.txt``: every URL rule with its methods;
* ``help.txt``: ``--help`` of the root command and of every command and group below it (recursively);
* ``runs.txt``: the output and exit code of deterministic commands (seeded keygen, issue with a fixed time,
  verify at a fixed time, tampered input, usage errors, the offline log and ranking checks on bad input);
* ``answers.txt``: status, content type, the headers clients act on and the body of the HTTP answers that do not
  depend on fresh keys or randomness (the index, vocabulary documents, verifying the credential ``runs.txt``
  signed and a tampered copy, and every kind of refusal: 401, 404, 405, 400, 413, 415, 422).

Usage: ``.venv/bin/python tools/interface_snapshot.py OUT_DIR`` on each checkout, then ``diff -r A B``. Nothing
here depends on where modules live: the app and the root command are found by their published names.
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner


def _root_command() -> click.Group:
    """The ``chopmark`` console script's object, read from the installed entry point."""
    from importlib.metadata import entry_points

    (point,) = [e for e in entry_points(group="console_scripts") if e.name == "chopmark"]
    module, _, attr = point.value.partition(":")
    command = getattr(importlib.import_module(module), attr)
    assert isinstance(command, click.Group)
    return command


def _create_app(data_dir: Path) -> Any:
    for settings_module in ("chopmark.web.settings", "chopmark.service.settings"):  # after, before the move
        try:
            settings_cls = importlib.import_module(settings_module).Settings
            break
        except ModuleNotFoundError:
            continue
    app_module = importlib.import_module("chopmark.app")
    settings = settings_cls.load({"data_dir": str(data_dir), "public_url": "http://127.0.0.1:8000"}, env={})
    return app_module.create_app(settings)


def _help_tree(root: click.Group) -> str:
    runner = CliRunner()
    out: list[str] = []

    def walk(path: list[str], command: click.Command) -> None:
        result = runner.invoke(root, [*path, "--help"], terminal_width=120)
        out.append(f"$ chopmark {' '.join([*path, '--help'])}  [exit {result.exit_code}]\n{result.output}")
        if isinstance(command, click.Group):
            for name in sorted(command.commands):
                walk([*path, name], command.commands[name])

    walk([], root)
    return "\n".join(out)


def _runs(root: click.Group, work: Path) -> str:
    runner = CliRunner()
    out: list[str] = []

    def run(*args: str, stdin: str | None = None) -> str:
        result = runner.invoke(root, list(args), input=stdin, terminal_width=120)
        shown = " ".join(a.replace(str(work), "WORK") for a in args)
        text = f"$ chopmark {shown}  [exit {result.exit_code}]\n{result.stdout}\n--- stderr\n{result.stderr}"
        out.append(text.replace(str(work), "WORK"))
        return result.stdout

    key = run("keygen", "--type", "Ed25519", "--seed", "11" * 32)
    (work / "key.json").write_text(key)
    run("keygen", "--type", "P-256", "--seed", "22" * 32)
    run("keygen", "--type", "P-9")
    run("keygen", "--seed", "zz")
    unsigned = {"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
                "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:merchant-1",
                                                                        "name": "Müller"}}
    (work / "vc.json").write_text(json.dumps(unsigned))
    signed = run("issue", "--in", str(work / "vc.json"), "--key", str(work / "key.json"),
                 "--created", "2026-01-01T00:00:00Z")
    (work / "signed.json").write_text(signed)
    run("verify", str(work / "signed.json"), "--now", "2026-06-01T00:00:00Z")
    tampered = json.loads(signed)
    tampered["credentialSubject"]["name"] = "Mallory"
    (work / "tampered.json").write_text(json.dumps(tampered))
    run("verify", str(work / "tampered.json"), "--now", "2026-06-01T00:00:00Z")
    run("verify", "-", stdin="{not json")
    run("verify", str(work / "missing.json"))
    run("issue", "--in", str(work / "vc.json"), "--key", str(work / "key.json"), "--suite",
        "Ed25519Signature2020")
    (work / "bad.json").write_text("{}")
    (work / "bad.txt").write_text("not a checkpoint\n")
    run("log", "verify-inclusion", str(work / "bad.json"), str(work / "bad.json"), str(work / "bad.txt"), "--key",
        "example.com/log+00000000+AAAA")
    run("log", "verify-consistency", str(work / "bad.txt"), str(work / "bad.txt"), str(work / "bad.json"))
    run("verify-rank", str(work / "bad.json"))
    run("campaign", "audit", str(work / "bad.json"))
    run("no-such-command")
    return "\n".join(out)


def _requests(signed: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """``(method, path, keyword arguments of the test client)`` of every answer recorded."""
    tampered = json.loads(json.dumps(signed))
    tampered["credentialSubject"]["name"] = "Mallory"
    out: list[tuple[str, str, dict[str, Any]]] = [("GET", path, {}) for path in (
        "/", "/health", "/contexts/chopmark/v1", "/schemas/merchant-identity/v1", "/schemas/marketplace-seller/v1",
        "/schemas/trust-list/v1", "/schemas/ranking-commitment/v1", "/schemas/nope/v1", "/nope", "/sites",
        "/sites/site-a", "/issuers/nope/did.json", "/status-lists/nope", "/log/entries/0",
        "/campaigns/cmp-0000000000000000", "/credentials/issue", "/credentials/urn%3Aabc")]
    verify = "/credentials/verify"
    out += [
        ("POST", verify, {"json": {"verifiableCredential": signed}}),
        ("POST", verify, {"json": {"verifiableCredential": tampered}}),
        ("POST", verify, {"json": {"verifiableCredential": signed, "options": {"checks": ["proof"]}}}),
        ("POST", verify, {"json": {"verifiableCredential": 5}}),
        ("POST", verify, {"json": {"verifiableCredential": signed, "extra": 1}}),
        ("POST", verify, {"data": "{", "content_type": "application/json"}),
        ("POST", verify, {"data": "x", "content_type": "text/plain"}),
        ("POST", verify, {"data": "[" * 2_000_000, "content_type": "application/json"}),
        ("POST", "/presentations/verify", {"json": {"verifiablePresentation": {}}}),
        ("POST", "/credentials/issue", {"json": {"credential": {}}}),
        ("POST", "/credentials/issue", {"json": {}, "headers": {"Authorization": "Bearer nope"}}),
        ("POST", "/credentials/issue", {"json": {}, "headers": {"Authorization": "Basic x"}}),
        ("POST", "/credentials/status", {"json": {}}),
        ("POST", "/rank-receipts/verify", {"json": {"receipt": {}}}),
        ("POST", "/rank-receipts/verify", {"json": {"receipt": 5}}),
        ("POST", "/sites/nope/onboarding", {}),
        ("POST", "/issuers/nope/exchanges", {}),
        ("POST", "/log/entries", {"json": {"type": "photo", "sha256": "00" * 32}}),
        ("DELETE", verify, {}),
        ("PUT", "/admin/sites/site-a/profile", {"json": {}}),
    ]
    return out


def _answers(app: Any, signed: dict[str, Any]) -> str:
    client = app.test_client()
    out = []
    for method, path, kwargs in _requests(signed):
        reply = client.open(path, method=method, **kwargs)
        headers = {name: reply.headers[name] for name in ("Allow", "WWW-Authenticate", "Retry-After", "ETag",
                                                         "Location", "Cache-Control") if name in reply.headers}
        shown = {k: v for k, v in kwargs.items() if k != "data" or len(v) < 100}
        out.append(f"{method} {path} {json.dumps(shown, sort_keys=True)[:200]}\n-> {reply.status_code} "
                   f"{reply.content_type} {json.dumps(headers, sort_keys=True)}\n{reply.get_data(as_text=True)}\n")
    return "\n".join(out)


def main(target: str) -> None:
    """Write the snapshot into ``target``."""
    out = Path(target)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        app = _create_app(Path(folder))
        client = app.test_client()
        (out / "openapi.json").write_bytes(client.get("/openapi.json").data)
        rules = sorted(f"{r.rule} {','.join(sorted(r.methods - {'HEAD', 'OPTIONS'}))}"
                       for r in app.url_map.iter_rules())
        (out / "routes.txt").write_text("\n".join(rules) + "\n")
        root = _root_command()
        (out / "help.txt").write_text(_help_tree(root))
        (out / "runs.txt").write_text(_runs(root, Path(folder)))
        signed = json.loads((Path(folder) / "signed.json").read_text())
        (out / "answers.txt").write_text(_answers(app, signed))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "interface-snapshot")
