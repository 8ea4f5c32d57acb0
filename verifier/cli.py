"""``chopmark site ...``: marketplace sites' onboarding profiles (what each site requires of a seller).

Same ``--store`` / ``--data-dir`` / ``--public-url`` as ``serve``; safe while the server runs. The HTTP
equivalent is ``GET``/``PUT /admin/sites/{site}/profile``. The root command builds the group with
:func:`site_group`, passing how to open the sites of a deployment (their DIDs are the registry's) and its
onboarding (for ``site recheck``, the cron job that re-verifies sellers whose identity was issued elsewhere).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from chopmark.cli.kit import handled, json_option, load_settings, store_options
from chopmark.codecs import jcs
from chopmark.web.settings import Settings
from verifier.onboarding import Onboarding
from verifier.sites import Sites

#: ``open_sites(settings)``: the site profiles of the deployment ``settings`` name.
SitesOpener = Callable[[Settings], Sites]
#: ``open_onboarding(settings)``: the sites' onboarding of that deployment, wired as the server wires it.
OnboardingOpener = Callable[[Settings], Onboarding]
#: ``CHOPMARK_SELLER_RECHECK_SECONDS``: re-check a seller whose last check is older than this (default 1 hour).
RECHECK_ENV = "CHOPMARK_SELLER_RECHECK_SECONDS"
DEFAULT_RECHECK_SECONDS = 3600
#: ``(store_url, data_dir, public_url) -> (sites, public URL)``: what each command calls.
_SitesOf = Callable[[str | None, str | None, str | None], tuple[Sites, str]]


def site_group(open_sites: SitesOpener, open_onboarding: OnboardingOpener | None = None) -> click.Group:
    """The ``site`` command group over the sites ``open_sites`` opens (and ``site recheck`` over the onboarding
    ``open_onboarding`` opens, when given)."""
    def sites_of(store_url: str | None, data_dir: str | None, public_url: str | None) -> tuple[Sites, str]:
        settings = load_settings(store_url, data_dir, public_url)
        return open_sites(settings), settings.public_url

    @click.group()
    def site() -> None:
        """Marketplace sites: list them, show or set a site's onboarding profile."""

    for make in (_list_command, _show_command, _set_command):
        site.add_command(make(sites_of))
    if open_onboarding is not None:
        site.add_command(_recheck_command(open_onboarding))
    return site


def _print(data: Any, as_json: bool) -> None:
    click.echo(json.dumps(data, indent=None if as_json else 2, ensure_ascii=False))


def _list_command(sites_of: _SitesOf) -> click.Command:
    """``site list``."""
    @click.command("list")
    @store_options
    @json_option
    @handled
    def site_list(store_url: str | None, data_dir: str | None, public_url: str | None, as_json: bool) -> None:
        """Every site with a profile."""
        sites, base = sites_of(store_url, data_dir, public_url)
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

    return site_list


def _show_command(sites_of: _SitesOf) -> click.Command:
    """``site show``."""
    @click.command("show")
    @click.argument("name")
    @store_options
    @json_option
    @handled
    def site_show(name: str, store_url: str | None, data_dir: str | None, public_url: str | None,
                  as_json: bool) -> None:
        """One site's profile (JSON)."""
        sites, _ = sites_of(store_url, data_dir, public_url)
        _print(sites.get(name).to_json(), as_json)

    return site_show


def _set_command(sites_of: _SitesOf) -> click.Command:
    """``site set``."""
    @click.command("set")
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
        sites, _ = sites_of(store_url, data_dir, public_url)
        _print(sites.put(name, body).to_json(), as_json)

    return site_set


def _recheck_command(open_onboarding: OnboardingOpener) -> click.Command:
    """``site recheck``."""
    @click.command("recheck")
    @click.option("--site", "site_name", help="Only this site's sellers (default: every site's).")
    @click.option("--interval", type=click.IntRange(0, 30 * 86_400), default=DEFAULT_RECHECK_SECONDS,
                  envvar=RECHECK_ENV, show_envvar=True, show_default=True,
                  help="Re-check sellers last checked more than this many seconds ago (0: every seller).")
    @store_options
    @json_option
    @handled
    def site_recheck(site_name: str | None, interval: int, store_url: str | None, data_dir: str | None,
                     public_url: str | None, as_json: bool) -> None:
        """Re-verify the identity credential of every seller whose last check is older than INTERVAL and mirror
        its status (revoked, suspended) onto the seller credentials the site issued; run it from cron. Sellers
        whose identity was issued by this deployment follow it at once anyway; this catches identities issued
        elsewhere, expired ones and trust-list changes."""
        settings = load_settings(store_url, data_dir, public_url)
        lines = open_onboarding(settings).recheck_due(interval, site=site_name)
        if as_json:
            _print(lines, True)
            return
        table = Table(title=f"Sellers re-checked (last check over {interval} s ago)")
        for column in ("site", "seller account", "decision", "reasons"):
            table.add_column(column, overflow="fold")
        for line in lines:
            table.add_row(line["site"], line["sellerAccountId"], line["decision"], ", ".join(line["reasons"]) or "-")
        Console(emoji=False, highlight=False).print(table)

    return site_recheck
