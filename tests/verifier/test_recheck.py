"""``chopmark site recheck``: the schedule for identities issued on another deployment, whose status changes this
deployment never hears of. Two real servers over HTTP(S): A (the KYB authority and the trust registry, https) and
B (the sites, deciding with A's trust list). A revokes the identity; B's seller credential keeps verifying until
the re-check runs, then answers REVOKED; a seller checked within the interval is left alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.identity import Ecosystem, identified_merchant
from tests.support.live import LiveServer, get, post, problem_codes
from tests.support.tls import TlsServer, self_signed

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("seller-recheck-servers")]


def seeded(server: LiveServer) -> Ecosystem:
    """The ecosystem of a started seeded server (its demo tokens)."""
    return Ecosystem(server, json.loads((server.data_dir / "demo-tokens.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Ecosystem, Ecosystem]]:
    """A (https, seeded) and B (seeded, trusting A's trust list, fetching from loopback, no status cache)."""
    root = tmp_path_factory.mktemp("recheck")
    cert, key = self_signed(root / "tls")
    env_b = {"CHOPMARK_SEED_DEMO": "true", "CHOPMARK_FETCH_CA_FILE": str(cert), "CHOPMARK_STATUS_CACHE_SECONDS": "0",
             "CHOPMARK_FETCH_ALLOWED_HOSTS": "127.0.0.1", "CHOPMARK_FETCH_ALLOW_LOOPBACK": "true"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(cert))  # this process (health checks, the wallet) talks to A over https
        with TlsServer(root / "a", cert, key, env={"CHOPMARK_SEED_DEMO": "true"}) as a_server:
            a = seeded(a_server)
            env_b["CHOPMARK_TRUST_REGISTRY_URL"] = a.url
            with LiveServer(root / "b", env=env_b) as b_server:
                b = seeded(b_server)
                member = {"id": get(b.site("site-a")).json["did"], "name": "Marketplace B",
                          "onboardingUrl": b.site("site-a")}
                assert post(f"{a.url}/admin/trust/members", member, token=a.tokens["admin"]).status == 201
                yield a, b


def verify(eco: Ecosystem, credential: dict[str, Any]) -> tuple[bool, list[str]]:
    """``POST /credentials/verify`` on ``eco``: (verified, the status check's problem codes)."""
    reply = post(f"{eco.url}/credentials/verify", {"verifiableCredential": credential})
    return reply.json["verified"], problem_codes(reply.json, "status")


def recheck(eco: Ecosystem, *args: str) -> list[dict[str, Any]]:
    """``chopmark site recheck ARGS --json`` against ``eco``'s store (its server's environment)."""
    return list(eco.server.admin("site", "recheck", *args))


def test_a_remote_identity_revocation_reaches_the_seller_credential_at_the_scheduled_recheck(
        pair: tuple[Ecosystem, Ecosystem], tmp_path: Path) -> None:
    a, b = pair
    merchant, identity = identified_merchant(tmp_path, a)
    decision = merchant.client.onboard(b.site("site-a"))
    assert decision["accepted"] is True, decision["reasons"]
    seller, account = decision["verifiableCredential"], decision["sellerAccountId"]
    assert verify(b, seller) == (True, [])

    a.set_status(identity["id"], "revocation", True)
    assert verify(b, seller) == (True, [])  # B did not hear of it: another deployment
    assert recheck(b, "--site", "site-a") == []  # checked at onboarding, less than an hour ago: not due
    lines = recheck(b, "--site", "site-a", "--interval", "0")
    assert {"site": "site-a", "sellerAccountId": account, "decision": "rejected", "reasons": ["REVOKED"]} in lines
    assert verify(b, seller) == (False, ["REVOKED"])
    assert recheck(b, "--site", "site-a", "--interval", "3600") == []  # just checked: not due again
