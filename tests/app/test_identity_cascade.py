"""Within one deployment a status change of an identity credential reaches the seller credentials derived from it
at once: no site re-checks anything, and ``POST /credentials/verify`` of each site's seller credential answers
REVOKED (or SUSPENDED, then verified again) right after the KYB authority's request. Real HTTP, one seeded server
per store backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.identity import Ecosystem, backend_ecosystem, decide, identified_merchant
from tests.support.live import BACKENDS, post, problem_codes

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("identity-cascade-server")]
SITES = ("site-a", "site-b", "site-c")


@pytest.fixture(scope="module", params=BACKENDS)
def ecosystem(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ecosystem]:
    """A seeded server on SQLite, and one on Redis under a fresh prefix."""
    with backend_ecosystem(request, tmp_path_factory, "cascade") as eco:
        yield eco


def verify(ecosystem: Ecosystem, credential: dict[str, Any]) -> tuple[bool, list[str]]:
    """``POST /credentials/verify``: (verified, the status check's problem codes)."""
    reply = post(f"{ecosystem.url}/credentials/verify", {"verifiableCredential": credential})
    assert reply.status in (200, 400), reply.json
    return reply.json["verified"], problem_codes(reply.json, "status")


def onboard_everywhere(ecosystem: Ecosystem, tmp_path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A merchant with an identity credential, onboarded at every site: (identity, {site: seller credential})."""
    merchant, identity = identified_merchant(tmp_path, ecosystem)
    sellers = {}
    for site in SITES:
        decision = merchant.client.onboard(ecosystem.site(site))
        assert decision["accepted"] is True, (site, decision["reasons"])
        sellers[site] = decision["verifiableCredential"]
        assert sellers[site]["credentialSubject"]["identityCredential"]["id"] == identity["id"]
        assert verify(ecosystem, sellers[site]) == (True, [])
    return identity, sellers


def test_revoking_the_identity_revokes_every_site_seller_credential_at_once(ecosystem: Ecosystem,
                                                                          tmp_path: Path) -> None:
    identity, sellers = onboard_everywhere(ecosystem, tmp_path)
    ecosystem.set_status(identity["id"], "revocation", True)
    for site in SITES:  # no POST /sites/{site}/sellers/{account}/verify in between
        assert verify(ecosystem, sellers[site]) == (False, ["REVOKED"]), site


def test_suspending_and_resuming_the_identity_suspends_and_resumes_them(ecosystem: Ecosystem,
                                                                       tmp_path: Path) -> None:
    identity, sellers = onboard_everywhere(ecosystem, tmp_path)
    ecosystem.set_status(identity["id"], "suspension", True)
    for site in SITES:
        assert verify(ecosystem, sellers[site]) == (False, ["SUSPENDED"]), site
    ecosystem.set_status(identity["id"], "suspension", False)
    for site in SITES:
        assert verify(ecosystem, sellers[site]) == (True, []), site


def test_a_seller_credential_derived_from_a_seller_credential_follows_too(ecosystem: Ecosystem,
                                                                          tmp_path: Path) -> None:
    """site-b onboards on site-a's seller credential alone: its own seller credential derives from site-a's,
    which derives from the identity; revoking the identity reaches both."""
    merchant, identity = identified_merchant(tmp_path, ecosystem)
    seller_a = merchant.client.onboard(ecosystem.site("site-a"))["verifiableCredential"]
    reused = decide(ecosystem, "site-b", [seller_a], merchant.did, merchant.signer)
    assert reused["accepted"] is True, reused["reasons"]
    seller_b = reused["verifiableCredential"]
    assert seller_b["credentialSubject"]["identityCredential"]["id"] == seller_a["id"]
    ecosystem.set_status(identity["id"], "revocation", True)
    assert verify(ecosystem, seller_a) == (False, ["REVOKED"])
    assert verify(ecosystem, seller_b) == (False, ["REVOKED"])


def test_another_merchants_seller_credentials_are_untouched(ecosystem: Ecosystem, tmp_path: Path) -> None:
    revoked, _ = onboard_everywhere(ecosystem, tmp_path / "one")
    _, others = onboard_everywhere(ecosystem, tmp_path / "two")
    ecosystem.set_status(revoked["id"], "revocation", True)
    for site in SITES:
        assert verify(ecosystem, others[site]) == (True, []), site


def test_a_recheck_never_undoes_a_site_revocation(ecosystem: Ecosystem, tmp_path: Path) -> None:
    """A site revokes a seller credential itself; re-checking the (valid) identity used to clear that bit again.
    Revocation is permanent, so the re-check leaves it, and answers (no 409 from the refused clear)."""
    merchant, _ = identified_merchant(tmp_path, ecosystem)
    decision = merchant.client.onboard(ecosystem.site("site-a"))
    seller = decision["verifiableCredential"]
    revoke = {"credentialId": seller["id"], "status": True, "credentialStatus": {"statusPurpose": "revocation"}}
    assert post(f"{ecosystem.url}/credentials/status", revoke, token=ecosystem.tokens["site-a"]).status == 200
    recheck = ecosystem.recheck("site-a", decision["sellerAccountId"])
    assert recheck.status == 200 and recheck.json["decision"] == "accepted", recheck.json
    assert verify(ecosystem, seller) == (False, ["REVOKED"])


def test_resuming_the_identity_keeps_a_suspension_the_site_set_itself(ecosystem: Ecosystem, tmp_path: Path) -> None:
    """site-a suspends its seller credential on its own (say, for a fraud inquiry). The authority's suspension
    and resumption of the identity must not lift it; the other sites' seller credentials resume."""
    identity, sellers = onboard_everywhere(ecosystem, tmp_path)
    own = post(f"{ecosystem.url}/credentials/status", {"credentialId": sellers["site-a"]["id"], "status": True,
                                                       "credentialStatus": {"statusPurpose": "suspension"}},
               token=ecosystem.tokens["site-a"])
    assert own.status == 200, own.json
    ecosystem.set_status(identity["id"], "suspension", True)
    ecosystem.set_status(identity["id"], "suspension", False)
    assert verify(ecosystem, sellers["site-a"]) == (False, ["SUSPENDED"])
    for site in ("site-b", "site-c"):
        assert verify(ecosystem, sellers[site]) == (True, []), site
