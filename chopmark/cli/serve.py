"""``chopmark serve``: seed the demo ecosystem on request, then run gunicorn with :func:`chopmark.app.create_app`."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table

from chopmark.cli import seed
from chopmark.cli.kit import (
    PUBLIC_URL_KEY,
    PUBLIC_URL_NS,
    handled,
    load_settings,
    public_url_is_explicit,
    store_options,
    with_public_url,
)
from chopmark.store import describe_store, open_store
from chopmark.web.settings import Settings
from registry.cli import open_registry


@click.command()
@click.option("--host", help="Bind address (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 8000).")
@click.option("--workers", type=int, help="Gunicorn worker processes (default 2).")
@click.option("--seed-demo", is_flag=True, default=None, help="On an empty store, create the demo ecosystem.")
@store_options
@handled
def serve(host: str | None, port: int | None, workers: int | None, seed_demo: bool | None,
          store_url: str | None, data_dir: str | None, public_url: str | None) -> None:
    """Start the service (gunicorn) on the embedded SQLite store or on Redis."""
    from chopmark.app import create_app
    from chopmark.web.server import check_port_free
    from chopmark.web.server import serve as run

    settings = load_settings(store_url, data_dir, public_url, host=host, port=port, workers=workers,
                             seed_demo=seed_demo, recorded_url=False)
    check_port_free(settings.host, settings.port)
    settings = settle_public_url(settings, explicit=public_url_is_explicit(public_url))
    registry = open_registry(settings)
    registry.store.ping()
    warning = getattr(registry.store, "durability_warning", lambda: None)()
    if warning:
        click.echo(f"chopmark: warning: {warning}", err=True)
    if settings.seed_demo:
        rows = seed.seed_demo(registry, settings.data_dir, settings.public_url)
        if rows:
            _print_demo(rows, settings)
    registry.store.close()
    click.echo(f"chopmark: serving {settings.public_url} on {describe_store(settings.store)} "
               f"with {settings.workers} workers, listening on {_bind(settings)}", err=True)
    run(settings, create_app)


def settle_public_url(settings: Settings, *, explicit: bool) -> Settings:
    """The settings with the public URL the store's identities were made under (every did:web and status list
    URL depends on it). The first start records it in the store. Later, a public URL given explicitly
    (``--public-url``, ``CHOPMARK_PUBLIC_URL``) replaces the record, with a warning; one merely derived from
    another host or port does not: the recorded URL is kept, with a warning saying so and how to change it."""
    store = open_store(settings.store)
    try:
        current = settings.public_url.encode()
        if store.create(PUBLIC_URL_NS, PUBLIC_URL_KEY, current):
            return settings
        recorded = (store.get(PUBLIC_URL_NS, PUBLIC_URL_KEY) or current).decode()
        if recorded == settings.public_url:
            return settings
        if explicit:
            store.put(PUBLIC_URL_NS, PUBLIC_URL_KEY, current)
            click.echo(f"chopmark: warning: the public URL changes from {recorded} to {settings.public_url}: "
                       f"identifiers made under {recorded} (did:web, status lists) no longer resolve here", err=True)
            return settings
    finally:
        store.close()
    click.echo(f"chopmark: warning: keeping the public URL {recorded} recorded in this store (its did:web "
               f"identifiers depend on it), not {settings.public_url}; to change it, pass --public-url URL "
               "(or CHOPMARK_PUBLIC_URL): identifiers made under the old URL then no longer resolve", err=True)
    return with_public_url(settings, recorded)


def _bind(settings: Settings) -> str:
    return f"[{settings.host}]:{settings.port}" if ":" in settings.host else f"{settings.host}:{settings.port}"


def _print_demo(rows: list[dict[str, Any]], settings: Settings) -> None:
    table = Table(title="Demo ecosystem (tokens are shown once; also in "
                        f"{settings.data_dir}/demo-tokens.env)")
    for column in ("issuer", "role", "DID", "API token"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["name"], row["role"], row["did"], row["token"])
    console = Console(stderr=True, emoji=False, highlight=False)
    console.width = max(console.width, 150)
    console.print(table)
