"""``chopmark site ...``: marketplace sites' onboarding profiles (what each site requires of a seller).

Same ``--store`` / ``--data-dir`` / ``--public-url`` as ``serve``; safe while the server runs. The HTTP
equivalent is ``GET``/``PUT /admin/sites/{site}/profile``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from chopmark import jcs
from chopmark.service.admin_cli import _registry, _settings, handled, json_option, store_options
from verifier.sites import Sites


def _sites(store_url: str | None, data_dir: str | None, public_url: str | None) -> tuple[Sites, str]:
    settings = _settings(store_url, data_dir, public_url)
    registry = _registry(settings)
    return Sites(registry.store, did_for=registry.issuers.did_of), settings.public_url


def _print(data: Any, as_json: bool) -> None:
    click.echo(json.dumps(data, indent=None if as_json else 2, ensure_ascii=False))


@click.group()
def site() -> None:
    """Marketplace sites: list them, show or set a site's onboarding profile."""


@site.command("list")
@store_options
@json_option
@handled
def site_list(store_url: str | None, data_dir: str | None, public_url: str | None, as_json: bool) -> None:
    """Every site with a profile."""
    sites, base = _sites(store_url, data_dir, public_url)
    views = [sites.public_view(p, base) for p in sites.list()]
    if as_json:
        _print(views, True)
        return
    table = Table(title="Marketplace sites")
    for column in ("site", "accepts", "reuses seller credentials of", "requires", "status age", "onboarding URL"):
        table.add_column(column, overflow="fold")
    for view in views:
        table.add_row(view["site"], ", ".join(view["acceptedTypes"]),
                      ", ".join(view["acceptSellerCredentialsFrom"]) or "-", ", ".join(view["requiredClaims"]),
                      f"{view['maxStatusAgeSeconds']} s", view["onboardingUrl"])
    Console(emoji=False, highlight=False).print(table)


@site.command("show")
@click.argument("name")
@store_options
@json_option
@handled
def site_show(name: str, store_url: str | None, data_dir: str | None, public_url: str | None,
              as_json: bool) -> None:
    """One site's profile (JSON)."""
    sites, _ = _sites(store_url, data_dir, public_url)
    _print(sites.get(name).to_json(), as_json)


@site.command("set")
@click.argument("name")
@click.option("--file", "source", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The profile JSON (members as in GET /sites/{site}); absent members take their defaults.")
@store_options
@json_option
@handled
def site_set(name: str, source: Path, store_url: str | None, data_dir: str | None, public_url: str | None,
             as_json: bool) -> None:
    """Create or replace a site's profile (the site must be an issuer of this service)."""
    body = jcs.loads_strict(source.read_text(encoding="utf-8"))
    if not isinstance(body, dict):
        raise click.UsageError("the profile must be a JSON object")
    sites, _ = _sites(store_url, data_dir, public_url)
    _print(sites.put(name, body).to_json(), as_json)


SITE_COMMANDS = [site]
