"""``chopmark trust ...``: administer the trust registry (authorizations, member sites), check a decision and
export the signed trust list. Same ``--store`` / ``--data-dir`` / ``--public-url`` as ``serve``; safe while the
server runs (the commands use the store directly)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from chopmark.cli.kit import handled, json_option, load_settings, store_options
from registry.cli import open_registry
from registry.trust import TrustRegistry, parse_time


def _trust(store_url: str | None, data_dir: str | None, public_url: str | None) -> TrustRegistry:
    return open_registry(load_settings(store_url, data_dir, public_url)).trust


def _out(data: Any, as_json: bool, table: Callable[[], Table] | None = None) -> None:
    if as_json or table is None:
        click.echo(json.dumps(data, indent=None if as_json else 2, ensure_ascii=False))
    else:
        console = Console(emoji=False, highlight=False)
        console.width = max(console.width, 140)
        console.print(table())


def _when(value: str | None, option: str) -> datetime | None:
    return parse_time(value, option) if value is not None else None


def _authorization_table(records: list[dict[str, Any]]) -> Table:
    table = Table()
    table.add_column("id", no_wrap=True)  # whole, to copy into suspend / resume / remove
    for column in ("entity", "action", "resource", "jurisdictions", "from", "until", "status"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(r["id"], r["entityId"], r["action"], r["resource"], ",".join(r["jurisdictions"]),
                      r["authorizedFrom"], r.get("authorizedUntil", "-"), r["entryStatus"])
    return table


def _member_table(records: list[dict[str, Any]]) -> Table:
    table = Table()
    for column in ("DID", "name", "role", "onboarding URL", "status"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(r["id"], r["name"], r["role"], r["onboardingUrl"], r["entryStatus"])
    return table


# --- authorizations ------------------------------------------------------------------------------------------

@click.group()
def trust() -> None:
    """The trust registry: who may issue which credential types where, and the member sites."""


@trust.command("authorize")
@click.argument("entity")
@click.option("--type", "resource", required=True, help="Credential type it may issue (MerchantIdentityCredential).")
@click.option("--jurisdiction", "jurisdictions", multiple=True, required=True,
              help="ISO 3166 code (DE, US, US-CA) or * (repeatable).")
@click.option("--action", default="issue", show_default=True, help="The authorized action.")
@click.option("--from", "start", help="Start (XML Schema dateTimeStamp; default now).")
@click.option("--until", "end", help="End, exclusive (default open-ended).")
@store_options
@json_option
@handled
def trust_authorize(entity: str, resource: str, jurisdictions: tuple[str, ...], action: str, start: str | None,
                    end: str | None, store_url: str | None, data_dir: str | None, public_url: str | None,
                    as_json: bool) -> None:
    """Authorize ENTITY (a DID, or an issuer name of this service) to issue a credential type."""
    registry = _trust(store_url, data_dir, public_url)
    record = registry.add_authorization(registry.entity_did(entity), action, resource, list(jurisdictions),
                                        _when(start, "--from"), _when(end, "--until"))
    _out(record, as_json, lambda: _authorization_table([record]))


@trust.command("list")
@store_options
@json_option
@handled
def trust_list(store_url: str | None, data_dir: str | None, public_url: str | None, as_json: bool) -> None:
    """List authorizations."""
    records = _trust(store_url, data_dir, public_url).list_authorizations()
    _out(records, as_json, lambda: _authorization_table(records))


def _entry_command(name: str, help_text: str, act: Callable[[TrustRegistry, str], dict[str, Any]]) -> click.Command:
    """``trust NAME ID`` for suspend and resume of an authorization."""

    @store_options
    @json_option
    @handled
    def command(entry_id: str, store_url: str | None, data_dir: str | None, public_url: str | None,
                as_json: bool) -> None:
        record = act(_trust(store_url, data_dir, public_url), entry_id)
        _out(record, as_json, lambda: _authorization_table([record]))

    command.__doc__ = help_text
    return click.argument("entry_id", metavar="ID")(click.command(name)(command))


trust.add_command(_entry_command("suspend", "Suspend authorization ID (it stays listed as suspended).",
                                 TrustRegistry.suspend_authorization))
trust.add_command(_entry_command("resume", "Resume suspended authorization ID.",
                                 TrustRegistry.resume_authorization))


@trust.command("remove")
@click.argument("entry_id", metavar="ID")
@click.option("--yes", is_flag=True, required=True, help="Confirm the removal.")
@store_options
@json_option
@handled
def trust_remove(entry_id: str, yes: bool, store_url: str | None, data_dir: str | None, public_url: str | None,
                 as_json: bool) -> None:
    """Remove authorization ID from the registry."""
    record = _trust(store_url, data_dir, public_url).remove_authorization(entry_id)
    _out(record, as_json, lambda: _authorization_table([record]))


@trust.command("check")
@click.argument("entity")
@click.option("--type", "resource", required=True, help="Credential type.")
@click.option("--jurisdiction", help="ISO 3166 code the issuance is for.")
@click.option("--action", default="issue", show_default=True)
@click.option("--at", "moment", help="Evaluate at this time (default now).")
@store_options
@handled
def trust_check(entity: str, resource: str, jurisdiction: str | None, action: str, moment: str | None,
                store_url: str | None, data_dir: str | None, public_url: str | None) -> None:
    """Print the registry's decision for ENTITY (DID or issuer name); exit 0 if authorized, else 1."""
    registry = _trust(store_url, data_dir, public_url)
    answer = registry.query(registry.entity_did(entity), registry.host_did(), action, resource,
                            jurisdiction=jurisdiction, at=_when(moment, "--at"))
    _out(answer, False)
    raise SystemExit(0 if answer["authorized"] else 1)


@trust.command("export")
@store_options
@handled
def trust_export(store_url: str | None, data_dir: str | None, public_url: str | None) -> None:
    """Print the signed TrustListCredential (as served at /trust/list)."""
    _out(_trust(store_url, data_dir, public_url).trust_list(), False)


# --- members -------------------------------------------------------------------------------------------------

@trust.group("member")
def member() -> None:
    """Member sites (each may issue MarketplaceSellerCredential while active)."""


@member.command("add")
@click.argument("did")
@click.option("--name", required=True, help="Display name of the site.")
@click.option("--url", "onboarding_url", required=True, help="The site's onboarding URL.")
@store_options
@json_option
@handled
def member_add(did: str, name: str, onboarding_url: str, store_url: str | None, data_dir: str | None,
               public_url: str | None, as_json: bool) -> None:
    """Add member DID (or an issuer name of this service)."""
    registry = _trust(store_url, data_dir, public_url)
    record = registry.add_member(registry.entity_did(did), name, onboarding_url)
    _out(record, as_json, lambda: _member_table([record]))


@member.command("list")
@store_options
@json_option
@handled
def member_list(store_url: str | None, data_dir: str | None, public_url: str | None, as_json: bool) -> None:
    """List members."""
    records = _trust(store_url, data_dir, public_url).list_members()
    _out(records, as_json, lambda: _member_table(records))


def _member_command(name: str, help_text: str, act: Callable[[TrustRegistry, str], dict[str, Any]],
                    confirm: bool = False) -> click.Command:
    """``trust member NAME DID`` for suspend, resume and remove (remove needs ``--yes``)."""

    @store_options
    @json_option
    @handled
    def command(did: str, store_url: str | None, data_dir: str | None, public_url: str | None, as_json: bool,
                yes: bool = True) -> None:
        registry = _trust(store_url, data_dir, public_url)
        record = act(registry, registry.entity_did(did))
        _out(record, as_json, lambda: _member_table([record]))

    command.__doc__ = help_text
    decorated = click.argument("did")(command)
    if confirm:
        decorated = click.option("--yes", is_flag=True, required=True, help="Confirm the removal.")(decorated)
    return click.command(name)(decorated)


member.add_command(_member_command("suspend", "Suspend member DID.", TrustRegistry.suspend_member))
member.add_command(_member_command("resume", "Resume member DID.", TrustRegistry.resume_member))
member.add_command(_member_command("remove", "Remove member DID from the registry.", TrustRegistry.remove_member,
                                   confirm=True))

#: The command groups to register on the ``chopmark`` command line.
TRUST_COMMANDS = [trust]
