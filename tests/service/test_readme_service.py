"""The README's curl walkthrough runs as written against a real server seeded like ``make run``."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.service.live import LiveServer

README = Path(__file__).resolve().parents[2] / "README.md"


def _walkthrough() -> str:
    blocks = [b for b in re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
              if "source .chopmark/demo-tokens.env" in b]
    assert len(blocks) == 1, "the README has one curl walkthrough"
    return blocks[0]


@pytest.mark.server
def test_readme_curl_walkthrough(tmp_path: Path) -> None:
    script = _walkthrough()
    assert "BASE=http://127.0.0.1:8000" in script
    with LiveServer(tmp_path / ".chopmark", env={"CHOPMARK_SEED_DEMO": "true"}) as server:
        seeded = json.loads((tmp_path / ".chopmark" / "demo-tokens.json").read_text())
        assert set(seeded) == {"kyb-authority", "site-a", "site-b", "site-c", "producer", "bonded-warehouse",
                               "customs", "copyright-office", "admin"}
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", script.replace(
            "BASE=http://127.0.0.1:8000", f"BASE={server.url}")], cwd=tmp_path, capture_output=True, text=True,
            timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    verified = [m.group(1) for m in re.finditer(r'\{"verified":(true|false),"problemDetails"', out)]
    assert verified[:2] == ["true", "false"], out[:2000]
    assert '"code":"REVOKED"' in out
    assert '"id":"did:web:127.0.0.1%3A' in out and ":issuers:kyb-authority" in out
    assert '"challenge":"' in out
    assert json.loads((tmp_path / "openapi.json").read_text())["openapi"].startswith("3.")
