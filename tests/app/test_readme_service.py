"""The README's walkthroughs run as written against a real server seeded like ``make run``: the curl block of
the service, and the merchant-identity block (wallet CLI, KYB, onboarding at every site, revocation)."""

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


def _block(marker: str) -> str:
    blocks = [b for b in re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
              if marker in b]
    assert len(blocks) == 1, f"the README has one block with {marker!r}"
    assert "BASE=http://127.0.0.1:8000" in blocks[0]
    return blocks[0]


def _run(script: str, server: LiveServer, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a README block with the venv's ``chopmark`` first on the PATH (a low scrypt cost: a test knob)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "CHOPMARK_WALLET_SCRYPT_N": "16"}
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script.replace(
        "BASE=http://127.0.0.1:8000", f"BASE={server.url}")], cwd=cwd, capture_output=True, text=True,
        timeout=120, check=False, env=env)


@pytest.mark.server
def test_readme_curl_walkthrough(tmp_path: Path) -> None:
    script = _block("credentials/issue")
    with LiveServer(tmp_path / ".chopmark", env={"CHOPMARK_SEED_DEMO": "true"}) as server:
        seeded = json.loads((tmp_path / ".chopmark" / "demo-tokens.json").read_text())
        assert set(seeded) == {"kyb-authority", "site-a", "site-b", "site-c", "producer", "bonded-warehouse",
                               "customs", "copyright-office", "admin"}
        run = _run(script, server, tmp_path)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    verified = [m.group(1) for m in re.finditer(r'\{"verified":(true|false),"problemDetails"', out)]
    assert verified[:2] == ["true", "false"], out[:2000]
    assert '"code":"REVOKED"' in out
    assert '"id":"did:web:127.0.0.1%3A' in out and ":issuers:kyb-authority" in out
    assert '"challenge":"' in out
    assert json.loads((tmp_path / "openapi.json").read_text())["openapi"].startswith("3.")


@pytest.mark.server
def test_readme_merchant_identity_walkthrough(tmp_path: Path) -> None:
    script = _block("chopmark wallet init")
    with LiveServer(tmp_path / ".chopmark", env={"CHOPMARK_SEED_DEMO": "true"}) as server:
        run = _run(script, server, tmp_path)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.count("accepted") == 3, out  # site-a, site-b and site-c
    assert "MerchantIdentityCredential" in out and out.count("MarketplaceSellerCredential") >= 3
    assert '"status":true' in out.replace(" ", "")  # the revocation went through
    assert "REVOKED" in out + run.stderr and out.rstrip().endswith("refused: REVOKED")


@pytest.mark.server
def test_readme_evidence_log_walkthrough(tmp_path: Path) -> None:
    script = _block("chopmark log verify-inclusion")
    with LiveServer(tmp_path / ".chopmark", env={"CHOPMARK_SEED_DEMO": "true"}) as server:
        run = _run(script, server, tmp_path)
    assert run.returncode == 0, run.stderr + run.stdout
    assert (tmp_path / "new.txt").read_text().splitlines()[1] == "3"  # the tree grew to 3 entries
    assert '"verified": true' in run.stdout and '"consistent": true' in run.stdout, run.stdout
    assert '"status": "first"' in run.stdout and (tmp_path / "monitor.json").is_file()
