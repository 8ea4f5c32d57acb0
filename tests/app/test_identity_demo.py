"""``chopmark demo identity`` end to end: against a running service on an empty store, the demo creates the
ecosystem it lacks (issuers, trust registry entries, site profiles) through the service's store, obtains the
identity credential over KYB, onboards at three sites, revokes, and the sites refuse the merchant. A second run
finds the ecosystem in place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.live import LiveServer

pytestmark = pytest.mark.server


def demo_identity(server: LiveServer) -> subprocess.CompletedProcess[str]:
    """The demo as a user runs it, with the server's own store."""
    command = [sys.executable, "-m", "chopmark.cli", "demo", "identity", "--url", server.url,
               "--data-dir", str(server.data_dir), "--public-url", server.url]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env={**server.env, "COLUMNS": "200"},
                          check=False)


def test_the_identity_demo_builds_the_ecosystem_and_tells_the_story(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "data") as server:
        first = demo_identity(server)
        assert first.returncode == 0, first.stdout + first.stderr
        text = " ".join(first.stdout.split())
        for issuer in ("kyb-authority", "site-a", "site-b", "site-c"):
            assert f"created issuer {issuer}" in text
        assert "added trust: kyb-authority may issue MerchantIdentityCredential" in text
        assert "added site profile: site-c" in text
        assert "MerchantIdentityCredential urn:uuid:" in text and "revoked urn:uuid:" in text
        onboarding, _, after = text.partition("After revocation")
        assert onboarding.count("accepted") >= 3 and "REVOKED" not in onboarding
        assert after.count("rejected") == 3 and "REVOKED" in after

        second = demo_identity(server)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "created issuer" not in second.stdout and "added " not in second.stdout
