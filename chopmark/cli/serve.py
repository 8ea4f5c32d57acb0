"""``chopmark serve``: seed the demo ecosystem on request, then run gunicorn with :func:`chopmark.app.create_app`."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table

from chopmark.cli import seed
from chopmark.cli.kit import handled, load_settings, store_options
from chopmark.store import describe_store
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
    from chopmark.web.server import serve as run

    settings = load_settings(store_url, data_dir, public_url, host=host, port=port, workers=workers,
                             seed_demo=seed_demo)
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
               f"with {settings.workers} workers", err=True)
    run(settings, create_app)


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
