"""The wallet commands that talk to services: ``receive``, ``request-identity``, ``sites``, ``onboard``."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from chopmark.errors import ChopmarkError, UsageError
from wallet.cli_common import Session, emit_json, handled, json_option, read_json
from wallet.client import WalletClient, credentials_in
from wallet.core import Wallet
from wallet.errors import CredentialRefusedError
from wallet.render import console, credentials_table, onboarding_table, sites_table


def client_for(session: Session, opened: Wallet) -> WalletClient:
    """A client for ``opened`` with the session's timeout."""
    return WalletClient(opened, timeout=session.timeout)


def request_from(document: Any) -> dict[str, Any]:
    """The presentation request itself, also when wrapped in an exchange or onboarding answer."""
    if isinstance(document, Mapping) and isinstance(document.get("verifiablePresentationRequest"), Mapping):
        document = document["verifiablePresentationRequest"]
    if not isinstance(document, Mapping):
        raise click.BadParameter("the request must be a JSON object", param_hint="--request")
    return dict(document)


def _print_stored(entries: list[dict[str, Any]], client: WalletClient, as_json: bool) -> None:
    if as_json:
        emit_json({"stored": [{k: v for k, v in e.items() if k != "credential"} for e in entries],
                   "trustList": client.trust_source})
        return
    console().print(credentials_table(entries, title="Received and stored"))
    if client.trust_source == "cache":
        click.echo("note: the registry was unreachable; the cached trust list was used", err=True)


@click.command()
@click.argument("source")
@json_option
@click.pass_obj
@handled
def receive(session: Session, source: str, as_json: bool) -> None:
    """Check a credential (a FILE, - for stdin, or an http(s) URL) and store it when every check passes."""
    opened = session.open()
    client = client_for(session, opened)
    if source.startswith(("https://", "http://")):
        entries = client.receive_url(source)
    else:
        found = credentials_in(read_json(source, "credential"))
        if not found:
            raise click.BadParameter(f"{source} holds no credential", param_hint="SOURCE")
        entries = [client.receive(credential) for credential in found]
    _print_stored(entries, client, as_json)


@click.command("request-identity")
@click.option("--authority", required=True, help="The KYB authority's base URL ({base}/issuers/{authority}).")
@click.option("--application", "application_file", required=True,
              help="The application claims (JSON: legalName, registrationNumber, jurisdiction, ...).")
@json_option
@click.pass_obj
@handled
def request_identity(session: Session, authority: str, application_file: str, as_json: bool) -> None:
    """Apply for a MerchantIdentityCredential (DID Auth + application) and store it."""
    application = read_json(application_file, "application")
    if not isinstance(application, Mapping):
        raise click.BadParameter("the application must be a JSON object", param_hint="--application")
    opened = session.open()
    client = client_for(session, opened)
    credential = client.request_identity(authority, application)
    entries = [e for e in opened.credentials() if e["credential"] == credential]
    _print_stored(entries, client, as_json)


@click.command()
@json_option
@click.pass_obj
@handled
def sites(session: Session, as_json: bool) -> None:
    """List the member sites of the trust list (where ``onboard --all`` goes)."""
    members = client_for(session, session.open()).sites()
    if as_json:
        emit_json(members)
    else:
        console().print(sites_table(members))


def _onboard_one(client: WalletClient, site_url: str, label: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        decision = client.onboard(site_url)
        row = {"site": label, "url": site_url, "decision": decision.get("decision", "unknown"),
               "accepted": decision.get("accepted") is True and "refused" not in decision.get("wallet", {}),
               "sellerAccountId": decision.get("sellerAccountId"), "reasons": decision.get("reasons") or [],
               "wallet": decision.get("wallet"), "serverElapsedMs": decision.get("elapsedMs"), "response": decision}
    except ChopmarkError as exc:
        reasons = exc.reasons if isinstance(exc, CredentialRefusedError) else [
            {"code": exc.instance_code, "check": "wallet", "detail": exc.detail}]
        row = {"site": label, "url": site_url, "decision": "error", "accepted": False, "reasons": reasons,
               "error": exc.to_problem().to_dict()}
    row["ms"] = (time.perf_counter() - started) * 1000
    return row


def _targets(client: WalletClient, site_urls: tuple[str, ...], every: bool) -> list[tuple[str, str]]:
    if every == bool(site_urls):
        raise UsageError("give --site URL (repeatable) or --all")
    if site_urls:
        return [(url, url) for url in site_urls]
    return [(str(m["onboardingUrl"]), str(m.get("name") or m["id"])) for m in client.sites()]


@click.command()
@click.option("--site", "site_urls", multiple=True, help="A site's base URL ({base}/sites/{site}); repeatable.")
@click.option("--all", "every", is_flag=True, help="Every active member site of the trust list.")
@json_option
@click.pass_obj
@handled
def onboard(session: Session, site_urls: tuple[str, ...], every: bool, as_json: bool) -> None:
    """Onboard at sites with the wallet's identity credential; exit 1 unless every site accepted."""
    client = client_for(session, session.open())
    targets = _targets(client, site_urls, every)
    rows: list[dict[str, Any]] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console(stderr=True), transient=True, disable=as_json) as progress:
        task = progress.add_task("onboarding", total=len(targets))
        for url, label in targets:
            progress.update(task, description=f"onboarding at {label}")
            rows.append(_onboard_one(client, url, label))
            progress.advance(task)
    if as_json:
        emit_json(rows)
    else:
        console().print(onboarding_table(rows))
    if not rows or not all(row["accepted"] for row in rows):
        sys.exit(1)


COMMANDS = (receive, request_identity, sites, onboard)
