"""``chopmark site list|show|set`` on a temporary store (click's runner; the same store the server uses)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from chopmark.cli.main import main


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_site_profiles_from_the_command_line(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert _run("issuer", "create", "site-x", *data)[0] == 0
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"displayName": "X", "jurisdictions": ["DE-BY"], "maxStatusAgeSeconds": 0}))
    code, out = _run("site", "set", "site-x", "--file", str(profile), *data, "--json")
    assert code == 0 and json.loads(out)["jurisdictions"] == ["DE-BY"]
    code, out = _run("site", "show", "site-x", *data, "--json")
    assert code == 0 and json.loads(out)["maxStatusAgeSeconds"] == 0
    code, out = _run("site", "list", *data, "--json")
    assert code == 0 and [s["site"] for s in json.loads(out)] == ["site-x"]
    assert json.loads(out)[0]["did"].endswith(":issuers:site-x")
    profile.write_text(json.dumps({"maxStatusAgeSeconds": -1}))
    code, out = _run("site", "set", "site-x", "--file", str(profile), *data, "--json")
    assert code == 1 and json.loads(out)["code"] == "INVALID_PROFILE"
    code, out = _run("site", "show", "nobody", *data, "--json")
    assert code == 1 and json.loads(out)["code"] == "SITE_NOT_FOUND"
    assert _run("site", "set", "ghost", "--file", str(profile), *data)[0] == 1  # not an issuer here
