"""What every command group shares: the ``--store`` / ``--data-dir`` / ``--public-url`` options of ``serve``,
``--json``, the settings they make, and turning a Chopmark error into a one-line message and exit code 1.

The roles' command groups import this module, and nothing else of :mod:`chopmark.cli`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from chopmark.errors import ChopmarkError
from chopmark.store import open_store
from chopmark.web.settings import ENV_PREFIX, Settings

F = TypeVar("F", bound=Callable[..., Any])

#: Where the public URL of a store's identities is recorded (in the store itself: it travels with the data).
PUBLIC_URL_NS, PUBLIC_URL_KEY = "service", "public_url"


def store_options(func: F) -> F:
    """The options every admin command shares with ``serve``."""
    func = click.option("--public-url", help="Public base URL (default http://HOST:PORT).")(func)
    func = click.option("--data-dir", type=click.Path(file_okay=False),
                        help="Data directory (default .chopmark).")(func)
    func = click.option("--store", "store_url", help="sqlite:///PATH (default <data-dir>/chopmark.db) or "
                        "redis://HOST:PORT/DB.")(func)
    return func


def json_option(func: F) -> F:
    """``--json``: machine-readable output."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def load_settings(store_url: str | None, data_dir: str | None, public_url: str | None, *,
                  recorded_url: bool = True, **more: Any) -> Settings:
    """The settings of a command: its flags (those not None), then ``CHOPMARK_*`` variables, then defaults. Unless
    a public URL is given (flag or environment), an admin command uses the one ``chopmark serve`` recorded in the
    store, so the identities it makes match the served ones (``serve`` itself passes ``recorded_url=False``)."""
    settings = Settings.load({"store": store_url, "data_dir": data_dir, "public_url": public_url, **more})
    if not recorded_url or public_url_is_explicit(public_url):
        return settings
    recorded = recorded_public_url(settings)
    return settings if recorded is None else with_public_url(settings, recorded)


def with_public_url(settings: Settings, public_url: str) -> Settings:
    """``settings`` serving ``public_url`` (validated again: the URL rules depend on it)."""
    if public_url == settings.public_url:
        return settings
    changed = dataclasses.replace(settings, public_url=public_url)
    changed.validate()
    return changed


def public_url_is_explicit(public_url: str | None) -> bool:
    """True when the public URL was given by ``--public-url`` or ``CHOPMARK_PUBLIC_URL``, not derived."""
    return public_url is not None or bool(os.environ.get(ENV_PREFIX + "PUBLIC_URL"))


def recorded_public_url(settings: Settings) -> str | None:
    """The public URL recorded in the store by the first ``chopmark serve``, or None."""
    store = open_store(settings.store)
    try:
        raw = store.get(PUBLIC_URL_NS, PUBLIC_URL_KEY)
    finally:
        store.close()
    return None if raw is None else raw.decode()


def handled(func: F) -> F:
    """Turn Chopmark errors into a one-line message (or a JSON problem with --json) and exit code 1."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ChopmarkError as exc:
            if kwargs.get("as_json"):
                click.echo(json.dumps(exc.to_problem().to_dict()), err=False)
            else:
                click.echo(f"error: {exc.detail}", err=True)
            sys.exit(1)
    return wrapper  # type: ignore[return-value]
