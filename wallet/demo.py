"""``chopmark demo identity``: the merchant-identity story end to end against a running service.

A merchant wallet is created, obtains its MerchantIdentityCredential from the KYB authority (DID Auth), onboards
at site-a, site-b and site-c, is revoked by the authority, and is refused at the next check. With the service's
store (``--data-dir`` / ``--store``) the command first creates whatever the ecosystem lacks (demo issuers, trust
registry entries, site profiles) and the short-lived API tokens it needs for the revocation and the re-check.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import click
from rich.console import Console
from rich.table import Table

from chopmark.cli.kit import handled, load_settings, store_options
from chopmark.vocab.identifiers import lei_check_digits
from chopmark.web.settings import Settings
from wallet.client import WalletClient
from wallet.core import Wallet

SITES = ("site-a", "site-b", "site-c")
#: The demo ecosystem's KYB authority (an issuer instance of the service).
KYB_AUTHORITY = "kyb-authority"


def demo_application() -> dict[str, Any]:
    """A German limited company's KYB application (its LEI carries valid ISO 17442 check digits)."""
    prefix = "5299000DEMO0MUELLER"[:18]
    return {"legalName": {"@value": "Müller Handels GmbH", "@language": "de"},
            "registrationNumber": "HRB 123456",
            "register": {"id": "https://www.handelsregister.de", "name": "Handelsregister, Amtsgericht München"},
            "jurisdiction": "DE-BY", "lei": prefix + lei_check_digits(prefix),
            "registeredAddress": {"type": "PostalAddress", "streetAddress": "Marienplatz 1", "postalCode": "80331",
                                  "addressLocality": "München", "addressCountry": "DE"},
            "website": "https://mueller-handel.example"}


def _post(url: str, body: Any, token: str) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        answer: dict[str, Any] = json.loads(reply.read())
    return answer


class IdentityDemoHost(Protocol):
    """What ``demo identity`` needs of the deployment it runs against, through that deployment's store."""

    def prepare(self, url: str) -> list[str]:
        """Create what the ecosystem lacks (demo issuers, trust registry entries, site profiles) for the service
        at ``url``; return what was done, one line each (``created issuer NAME``, ``added ...``)."""

    def token(self, issuer: str, label: str) -> dict[str, Any]:
        """A short-lived ``issue,status`` token of ``issuer``: ``{"token", "id", ...}``."""

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token :meth:`token` made."""

    def close(self) -> None:
        """Release the store."""


#: ``open_host(settings)``: the host of the deployment ``settings`` name (the root command wires it in).
IdentityDemoOpener = Callable[[Settings], IdentityDemoHost]


def _prepare(host: IdentityDemoHost, url: str, console: Console) -> dict[str, str]:
    """Create what the ecosystem lacks and two short-lived tokens (revoked again at the end)."""
    for line in host.prepare(url):
        console.print(f"  {line}")
    tokens = {name: host.token(name, "demo identity") for name in (KYB_AUTHORITY, "site-a")}
    return {name: record["token"] for name, record in tokens.items()} | {
        f"{name}:id": record["id"] for name, record in tokens.items()}


def _decision_row(table: Table, site: str, decision: dict[str, Any], elapsed: float) -> None:
    reasons = "; ".join(f"{r['code']}" for r in decision.get("reasons", [])) or "-"
    style = {"accepted": "green", "held": "yellow"}.get(str(decision.get("decision")), "red")
    table.add_row(site, f"[{style}]{decision.get('decision')}[/{style}]", str(decision.get("sellerAccountId", "-")),
                  reasons, f"{decision.get('elapsedMs', 0):.1f}", f"{elapsed * 1000:.1f}")


def identity_command(open_host: IdentityDemoOpener) -> click.Command:
    """``chopmark demo identity`` over the deployments ``open_host`` opens."""
    @click.command("identity")
    @click.option("--url", "base_url", required=True,
                  help="The running service's base URL (e.g. http://127.0.0.1:8000).")
    @store_options
    @handled
    def identity(base_url: str, store_url: str | None, data_dir: str | None, public_url: str | None) -> None:
        """Merchant identity end to end: KYB with DID Auth, onboarding at three sites, revocation, refusal."""
        url = base_url.rstrip("/")
        host = open_host(load_settings(store_url, data_dir, public_url or url))
        try:
            _run(url, host)
        finally:
            host.close()

    return identity


def _run(url: str, host: IdentityDemoHost) -> None:
    console = Console(emoji=False, highlight=False)
    console.rule("1. the ecosystem")
    tokens = _prepare(host, url, console)
    with tempfile.TemporaryDirectory() as folder:
        wallet = Wallet.create(Path(folder) / "merchant.cmw", os.urandom(16).hex())
        wallet.configure(registry_url=url)
        client = WalletClient(wallet)
        console.print(f"  merchant wallet created: holder DID [bold]{wallet.did}[/bold]")
        console.rule("2. KYB: DID Auth and the identity credential")
        started = time.perf_counter()
        identity_vc = client.request_identity(f"{url}/issuers/{KYB_AUTHORITY}", demo_application())
        console.print(f"  MerchantIdentityCredential {identity_vc['id']} from {identity_vc['issuer']} "
                      f"in {(time.perf_counter() - started) * 1000:.1f} ms (stored in the wallet)")
        console.rule("3. onboarding at every site")
        table = _table("Onboarding decisions")
        accounts = {}
        for site in SITES:
            started = time.perf_counter()
            decision = client.onboard(f"{url}/sites/{site}")
            _decision_row(table, site, decision, time.perf_counter() - started)
            accounts[site] = decision.get("sellerAccountId")
        console.print(table)
        console.rule("4. the authority revokes the identity credential; the sites check again")
        _post(f"{url}/credentials/status", {"credentialId": identity_vc["id"], "status": True,
                                            "credentialStatus": {"statusPurpose": "revocation"}},
              tokens[KYB_AUTHORITY])
        console.print(f"  revoked {identity_vc['id']}")
        table = _table("After revocation")
        started = time.perf_counter()
        recheck = _post(f"{url}/sites/site-a/sellers/{accounts['site-a']}/verify", None, tokens["site-a"])
        _decision_row(table, "site-a (re-check)", recheck, time.perf_counter() - started)
        for site in SITES[1:]:
            started = time.perf_counter()
            _decision_row(table, f"{site} (new onboarding)", client.onboard(f"{url}/sites/{site}"),
                          time.perf_counter() - started)
        console.print(table)
    for name in (KYB_AUTHORITY, "site-a"):
        host.revoke_token(tokens[f"{name}:id"])


def _table(title: str) -> Table:
    table = Table(title=title)
    for column in ("site", "decision", "seller account", "reasons", "server ms", "end-to-end ms"):
        table.add_column(column, overflow="fold")
    return table
