"""The wallet against a real seeded server (gunicorn, SQLite):

* what it discloses when it onboards: the presentation it sends carries exactly one credential of a type the
  site's profile (``GET /sites/{site}``) accepts, never the rest of the wallet;
* ``chopmark wallet list``: whole ids and each credential's status, checked through the registry (revoked,
  suspended, valid), the last known status offline, ``unknown`` when never checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from chopmark.cli.main import main
from chopmark.jsonld.values import as_list
from chopmark.vocab import MARKETPLACE_SELLER, MERCHANT_IDENTITY
from tests.support.identity import PASSPHRASE, Ecosystem, identified_merchant, seeded_server
from tests.support.live import get
from wallet.http import Http

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("wallet-onboarding-live")]


class RecordingHttp(Http):
    """The wallet's real HTTP client, remembering the bodies it posted (the presentations it sent)."""

    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.posted: list[tuple[str, Any]] = []

    def post_json(self, url: str, body: Any | None) -> Any:
        self.posted.append((url, body))
        return super().post_json(url, body)

    def presented_types(self) -> list[list[str]]:
        """The credential types of the last presentation sent."""
        body = next(b for _, b in reversed(self.posted) if isinstance(b, dict) and "verifiablePresentation" in b)
        vp = body["verifiablePresentation"]
        return [[t for t in as_list(vc["type"]) if t != "VerifiableCredential"]
                for vc in as_list(vp.get("verifiableCredential"))]


@pytest.fixture(scope="module")
def ecosystem(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ecosystem]:
    """A seeded server: site-a accepts identity credentials, site-b identity or site-a's seller credentials."""
    with seeded_server(tmp_path_factory.mktemp("wallet-onboarding")) as eco:
        yield eco


def recording(merchant: Any) -> RecordingHttp:
    recorder = RecordingHttp()
    merchant.client.http = recorder
    return recorder


def test_a_site_sees_only_a_credential_it_accepts(ecosystem: Ecosystem, tmp_path: Path) -> None:
    """Issue 11: a wallet holding an identity credential and site-a's seller credential onboards at site-b
    (which accepts either): it sent both (disclosing where else the merchant sells); now it sends one."""
    merchant, _ = identified_merchant(tmp_path, ecosystem)
    assert merchant.client.onboard(ecosystem.site("site-a"))["accepted"] is True
    held = sorted(t for e in merchant.wallet.credentials() for t in e["types"])
    assert held == [MARKETPLACE_SELLER, MERCHANT_IDENTITY]
    profile = get(ecosystem.site("site-b")).json
    assert profile["acceptedTypes"] == [MERCHANT_IDENTITY, MARKETPLACE_SELLER]
    recorder = recording(merchant)
    decision = merchant.client.onboard(ecosystem.site("site-b"))
    assert decision["accepted"] is True, decision["reasons"]
    assert recorder.presented_types() == [[MERCHANT_IDENTITY]]
    recorder = recording(merchant)
    assert merchant.client.onboard(ecosystem.site("site-c"))["accepted"] is True  # identity only
    assert recorder.presented_types() == [[MERCHANT_IDENTITY]]


def test_one_accepted_type_is_enough(ecosystem: Ecosystem, tmp_path: Path) -> None:
    """Issue 11: a merchant holding only an identity credential could not onboard at site-b first (the wallet
    wanted a credential for every type the site accepts: NoMatchingCredentialError)."""
    merchant, _ = identified_merchant(tmp_path, ecosystem, "newcomer")
    recorder = recording(merchant)
    decision = merchant.client.onboard(ecosystem.site("site-b"))
    assert decision["accepted"] is True, decision["reasons"]
    assert recorder.presented_types() == [[MERCHANT_IDENTITY]]


def listed(path: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["wallet", "--wallet", str(path), "list", *args],
                                env={"CHOPMARK_WALLET_PASSPHRASE": PASSPHRASE}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def id_column(table: str) -> str:
    """The text of a table's first column (a folded cell's lines joined)."""
    return "".join(line.split("│")[1].strip() for line in table.splitlines() if line.startswith("│"))


def test_wallet_list_shows_whole_ids_and_the_status_from_the_registry(ecosystem: Ecosystem, tmp_path: Path) -> None:
    """Issue 11: ``wallet list`` cut ids to a prefix without a mark and showed no status at all."""
    merchant, identity = identified_merchant(tmp_path, ecosystem, "lister")
    path = merchant.wallet.path
    assert [e["status"] for e in json.loads(listed(path, "--offline", "--json").output)] == [
        {"value": "unknown", "source": "none", "checked": None}]  # never checked
    table = listed(path, "--offline").output
    assert id_column(table) == identity["id"]  # whole (folded over lines); it used to be cut to 24 characters
    assert "never checked" in table
    states = []
    for purpose, value in (("suspension", True), ("suspension", False), ("revocation", True)):
        ecosystem.set_status(identity["id"], purpose, value)
        states.append(json.loads(listed(path, "--json").output)[0]["status"])
    assert [(s["value"], s["source"]) for s in states] == [("suspended", "registry"), ("valid", "registry"),
                                                           ("revoked", "registry")]
    offline = json.loads(listed(path, "--offline", "--json").output)[0]
    assert offline["id"] == identity["id"] and offline["status"]["value"] == "revoked"
    assert offline["status"]["source"] == "last-known" and offline["status"]["checked"] == states[-1]["checked"]
    assert "last known" in listed(path, "--offline").output and "revoked" in listed(path, "--offline").output
    assert "registry" in listed(path).output
