"""The registry's command group: ``chopmark issuer ...``, ``chopmark token ...``, ``chopmark status-list ...``,
and (from :mod:`registry.trust_cli` and :mod:`registry.log_cli`) ``chopmark trust ...`` and ``chopmark log ...``.
They take the same ``--store`` / ``--data-dir`` as ``serve`` and work while the server runs (they use the store
directly; SQLite and Redis are safe for several processes)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from chopmark.cli.kit import handled, json_option, load_settings, store_options
from chopmark.integrity.suites import ISSUABLE
from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyType
from chopmark.store import open_store
from chopmark.web.settings import Settings
from registry.service import Registry


def open_registry(settings: Settings) -> Registry:
    """The registry over the store that ``settings`` name (the commands' own connection; close its store)."""
    store = open_store(settings.store)
    return Registry.build(store, kek=settings.load_kek(), public_url=settings.public_url,
                          public_host=settings.public_host, rng=os.urandom, clock=lambda: datetime.now(UTC),
                          loader=DocumentLoader.pinned())


def _out(data: Any, as_json: bool, table: Callable[[], Table] | None = None) -> None:
    if as_json or table is None:
        click.echo(json.dumps(data, indent=None if as_json else 2))
    else:
        Console(emoji=False, highlight=False).print(table())


# --- issuer --------------------------------------------------------------------------------------------------

@click.group()
def issuer() -> None:
    """Issuer instances (tenants) and their keys."""


@issuer.command("create")
@click.argument("name")
@click.option("--suite", "suites", multiple=True, type=click.Choice(ISSUABLE),
              help="Cryptosuites it issues with (repeatable; default: every suite its keys allow).")
@click.option("--key-type", "key_types", multiple=True, type=click.Choice([k.value for k in KeyType]),
              help="Key types it holds (repeatable; default: those its suites need, else Ed25519 and P-256; "
                   "Ed25519 for did:key).")
@click.option("--did-method", type=click.Choice(["web", "key"]), default="web", show_default=True,
              help="web: did:web:<host>:issuers:NAME; key: the did:key of its one key (one key type, no rotation).")
@click.option("--no-status", is_flag=True, help="Do not add status entries to its credentials.")
@store_options
@json_option
@handled
def issuer_create(name: str, suites: tuple[str, ...], key_types: tuple[str, ...], did_method: str, no_status: bool,
                  store_url: str | None, data_dir: str | None, public_url: str | None, as_json: bool) -> None:
    """Create issuer NAME with keys (Ed25519 and P-256 by default) and print its DID."""
    registry = open_registry(load_settings(store_url, data_dir, public_url))
    record = registry.issuers.create(name, suites=list(suites) or None,
                                     status_purposes=() if no_status else ("revocation", "suspension"),
                                     key_types=[KeyType(k) for k in key_types] or None, did_method=did_method)
    _out(registry.issuers.public_view(record), as_json, lambda: _issuer_table([record], registry))


@issuer.command("list")
@store_options
@json_option
@handled
def issuer_list(store_url: str | None, data_dir: str | None, public_url: str | None, as_json: bool) -> None:
    """List issuers."""
    registry = open_registry(load_settings(store_url, data_dir, public_url))
    records = registry.issuers.list()
    _out([registry.issuers.public_view(r) for r in records], as_json, lambda: _issuer_table(records, registry))


@issuer.command("show")
@click.argument("name")
@click.option("--did-document", is_flag=True, help="Print the DID document instead.")
@store_options
@handled
def issuer_show(name: str, did_document: bool, store_url: str | None, data_dir: str | None,
                public_url: str | None) -> None:
    """Print an issuer (JSON), or its DID document."""
    registry = open_registry(load_settings(store_url, data_dir, public_url))
    if did_document:
        _out(registry.issuers.did_document(name), True)
    else:
        _out(registry.issuers.public_view(registry.issuers.get(name)), True)


@issuer.command("rotate-key")
@click.argument("name")
@click.option("--type", "key_type", type=click.Choice([k.value for k in KeyType]), default="Ed25519",
              show_default=True)
@store_options
@json_option
@handled
def issuer_rotate(name: str, key_type: str, store_url: str | None, data_dir: str | None,
                  public_url: str | None, as_json: bool) -> None:
    """Add a new KEY_TYPE key and sign with it from now on; the old key stays in the DID document (refused for
    a did:key issuer: a new key would be a new DID)."""
    registry = open_registry(load_settings(store_url, data_dir, public_url))
    record = registry.issuers.rotate(name, KeyType(key_type))
    _out(registry.issuers.public_view(record), as_json, lambda: _issuer_table([record], registry))


@issuer.command("remove-key")
@click.argument("name")
@click.argument("key_id")
@click.option("--yes", is_flag=True, required=True, help="Confirm: credentials signed with it stop verifying.")
@store_options
@json_option
@handled
def issuer_remove_key(name: str, key_id: str, yes: bool, store_url: str | None, data_dir: str | None,
                      public_url: str | None, as_json: bool) -> None:
    """Remove a retired key from the DID document and destroy it (deliberate and irreversible)."""
    registry = open_registry(load_settings(store_url, data_dir, public_url))
    record = registry.issuers.remove_key(name, key_id)
    _out(registry.issuers.public_view(record), as_json, lambda: _issuer_table([record], registry))


def _issuer_table(records: list[dict[str, Any]], registry: Registry) -> Table:
    table = Table()
    for column in ("name", "DID", "keys (signing*)", "suites"):
        table.add_column(column, overflow="fold")
    for record in records:
        signing = set(record["signing"].values())
        keys = ", ".join(f"{k['id']}{'*' if k['id'] in signing else ''} {k['type']}" for k in record["keys"])
        table.add_row(record["name"], record["did"], keys, ", ".join(record["suites"]))
    return table


# --- token ---------------------------------------------------------------------------------------------------

@click.group()
def token() -> None:
    """API tokens (stored hashed; shown once at creation)."""


@token.command("create")
@click.option("--issuer", "issuer_name", help="The issuer the token acts for (omit for a global admin token).")
@click.option("--scope", "scopes", required=True, help="Comma-separated: issue,status,admin.")
@click.option("--label", default="", help="A note to recognise the token by.")
@store_options
@json_option
@handled
def token_create(issuer_name: str | None, scopes: str, label: str, store_url: str | None, data_dir: str | None,
                 public_url: str | None, as_json: bool) -> None:
    """Create a token and print it (the only time it is shown)."""
    registry = open_registry(load_settings(store_url, data_dir, public_url))
    if issuer_name is not None:
        registry.issuers.get(issuer_name)
    created = registry.tokens.create(issuer=issuer_name, scopes=scopes, label=label)
    if as_json:
        _out(created, True)
    else:
        click.echo(created["token"])
        click.echo(f"id {created['id']} issuer {created['issuer'] or '(global)'} scopes "
                   f"{','.join(created['scopes'])}", err=True)


@token.command("list")
@click.option("--issuer", "issuer_name", help="Only this issuer's tokens.")
@store_options
@json_option
@handled
def token_list(issuer_name: str | None, store_url: str | None, data_dir: str | None, public_url: str | None,
               as_json: bool) -> None:
    """List tokens (ids and scopes, never the tokens)."""
    registry = open_registry(load_settings(store_url, data_dir, public_url))
    records = registry.tokens.list(issuer_name)

    def table() -> Table:
        out = Table()
        for column in ("id", "issuer", "scopes", "label", "created"):
            out.add_column(column)
        for r in records:
            out.add_row(r["id"], r["issuer"] or "(global)", ",".join(r["scopes"]), r["label"], r["created"])
        return out

    _out(records, as_json, table)


@token.command("revoke")
@click.argument("token_id")
@store_options
@json_option
@handled
def token_revoke(token_id: str, store_url: str | None, data_dir: str | None, public_url: str | None,
                 as_json: bool) -> None:
    """Revoke a token by its id (see ``token list``)."""
    registry = open_registry(load_settings(store_url, data_dir, public_url))
    _out(registry.tokens.revoke(token_id), as_json, None)


# --- status lists --------------------------------------------------------------------------------------------

@click.group("status-list")
def status_list() -> None:
    """Bitstring status lists."""


@status_list.command("create")
@click.argument("issuer_name")
@click.option("--purpose", type=click.Choice(["revocation", "suspension"]), required=True)
@store_options
@json_option
@handled
def status_list_create(issuer_name: str, purpose: str, store_url: str | None, data_dir: str | None,
                       public_url: str | None, as_json: bool) -> None:
    """Open a new list for ISSUER_NAME and PURPOSE; new credentials use it from now on."""
    registry = open_registry(load_settings(store_url, data_dir, public_url))
    record = registry.status_lists.create(issuer_name, purpose)
    _out({k: v for k, v in record.items() if k != "permutationKey"}, as_json, None)


def commands() -> list[click.Command]:
    """Every command group of the registry role, for the root command to mount."""
    from registry.log_cli import log_group
    from registry.trust_cli import trust

    return [issuer, token, status_list, trust, log_group]
