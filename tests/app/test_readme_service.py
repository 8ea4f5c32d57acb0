"""The README works as written: every runnable ``sh`` block, in the order the README shows them, each in a fresh
``bash`` (``-euo pipefail``, so a failing command fails the block), against ONE server seeded like ``make run``,
from a directory laid out like the checkout (``.venv`` and ``.chopmark`` beside the reader), with nothing of the
virtual environment on the PATH and no test knobs in the environment: what a reader has in a second terminal.

Blocks that are synopses (``chopmark ... [--flag]``) are ```` ```text ````, so every ```` ```sh ```` block but the
two commands of ``make`` runs here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.live import LiveServer

README = Path(__file__).resolve().parents[2] / "README.md"
README_BASE = "BASE=http://127.0.0.1:8000"


def runnable_blocks(text: str) -> list[str]:
    """The README's ``sh`` blocks in order, without the block of the two ``make`` commands."""
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return [b for b in blocks if not b.lstrip().startswith("make run")]


def reader_environment() -> dict[str, str]:
    """The test's environment as a reader's shell has it: no venv on the PATH, no VIRTUAL_ENV, no CHOPMARK_*."""
    venv_bins = {str(Path(sys.executable).parent), str(Path(sys.prefix) / "bin")}
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p not in venv_bins]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CHOPMARK_", "PYTEST_", "VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = os.pathsep.join(path)
    return env


def _checkout_like(tmp_path: Path) -> Path:
    """A directory where ``.venv`` is this test run's virtual environment (the reader's checkout has one)."""
    assert sys.prefix != sys.base_prefix, "the README tests run from the project's virtual environment"
    (tmp_path / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return tmp_path


def _run_block(block: str, server: LiveServer, cwd: Path) -> subprocess.CompletedProcess[str]:
    """One block in a fresh bash, its BASE pointed at the test server (the only change to the text)."""
    assert block.count(README_BASE) <= 1
    script = block.replace(README_BASE, f"BASE={server.url}")
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False, env=reader_environment())


def test_blocks_are_found_and_use_no_bare_chopmark() -> None:
    blocks = runnable_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 4
    for block in blocks:
        # a second terminal has no `chopmark` on its PATH: the blocks call the venv's
        assert not re.search(r"(^|[\s;|&(])chopmark ", block, flags=re.M), block


def test_reader_environment_has_no_venv() -> None:
    env = reader_environment()
    assert str(Path(sys.executable).parent) not in env["PATH"].split(os.pathsep)
    found = subprocess.run(["bash", "-c", "command -v chopmark || true"], env=env, capture_output=True, text=True,
                           check=True)
    assert found.stdout.strip() == "", "a reader's shell must not find chopmark on the PATH"


@pytest.mark.server
def test_readme_blocks_in_order_against_one_server(tmp_path: Path) -> None:
    blocks = runnable_blocks(README.read_text(encoding="utf-8"))
    cwd = _checkout_like(tmp_path)
    outputs: list[str] = []
    with LiveServer(cwd / ".chopmark", env={"CHOPMARK_SEED_DEMO": "true"}) as server:
        seeded = json.loads((cwd / ".chopmark" / "demo-tokens.json").read_text())
        assert set(seeded) == {"kyb-authority", "site-a", "site-b", "site-c", "producer", "bonded-warehouse",
                               "customs", "copyright-office", "admin"}
        for number, block in enumerate(blocks, start=1):
            run = _run_block(block, server, cwd)
            assert run.returncode == 0, f"block {number} failed:\n{block}\n--- stderr\n{run.stderr}\n{run.stdout}"
            outputs.append(run.stdout + run.stderr)
    by_marker = {marker: next(o for b, o in zip(blocks, outputs, strict=True) if marker in b)
                 for marker in ("credentials/issue", "wallet init", "log verify-inclusion", "keygen")}
    _check_curl_block(by_marker["credentials/issue"], cwd)
    _check_identity_block(by_marker["wallet init"])
    _check_log_block(by_marker["log verify-inclusion"], cwd)
    assert "verified" in by_marker["keygen"].lower()


def json_documents(out: str) -> list[dict[str, object]]:
    """The top-level JSON objects printed one after another (curl -s prints no newlines between them)."""
    decoder, at = json.JSONDecoder(), 0
    docs: list[dict[str, object]] = []
    while (start := out.find("{", at)) != -1:
        try:
            doc, at = decoder.raw_decode(out, start)
        except json.JSONDecodeError:
            at = start + 1
            continue
        if isinstance(doc, dict):
            docs.append(doc)
    return docs


def _check_curl_block(out: str, cwd: Path) -> None:
    verified = [doc["verified"] for doc in json_documents(out) if "verified" in doc]
    assert verified[:2] == [True, False], out[:2000]
    assert '"code":"REVOKED"' in out.replace(" ", "")
    assert '"id":"did:web:127.0.0.1%3A' in out and ":issuers:kyb-authority" in out
    assert '"challenge":"' in out
    assert "UNEXPECTED" not in out and "chopmark verify: not verified (exit 1)" in out, out
    assert "REVOKED" in (cwd / "offline.json").read_text()
    assert json.loads((cwd / "openapi.json").read_text())["openapi"].startswith("3.")


def _check_identity_block(out: str) -> None:
    assert out.count("accepted") >= 3, out  # site-a, site-b and site-c
    assert "MerchantIdentityCredential" in out and out.count("MarketplaceSellerCredential") >= 3
    assert '"status":true' in out.replace(" ", "")  # the revocation went through
    assert "UNEXPECTED" not in out, out
    assert "REVOKED" in out and out.rstrip().endswith("refused (exit 1)"), out


def _check_log_block(out: str, cwd: Path) -> None:
    grew = re.search(r"the log grew from (\d+) to (\d+) entries", out)
    assert grew and int(grew.group(2)) >= int(grew.group(1)) + 2, out
    assert int(grew.group(1)) > 1, "the earlier blocks logged their credentials: the log was not empty"
    assert '"verified": true' in out and '"consistent": true' in out, out
    assert '"status": "first"' in out and (cwd / "monitor.json").is_file()
