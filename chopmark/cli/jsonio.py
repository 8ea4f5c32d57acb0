"""JSON in and out for the root commands: reading a JSON file (or stdin) strictly, printing JSON and problems,
and the ``--now`` option's value."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn

import click

from chopmark.codecs import jcs
from chopmark.codecs.dates import parse_datetime
from chopmark.errors import ChopmarkError


def emit(data: Any, stream: IO[str] | None = None) -> None:
    """Print ``data`` as indented JSON (to stdout unless ``stream`` is given)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False), file=stream)


def fail(error: ChopmarkError, exit_code: int = 1) -> NoReturn:
    """Print ``error`` as ``{"error": problem}`` on stderr and exit with ``exit_code``."""
    emit({"error": error.to_problem().to_dict()}, sys.stderr)
    sys.exit(exit_code)


def read_json(source: str, what: str) -> Any:
    """The strict JSON (RFC 8785 input rules) of file ``source`` or of stdin for ``-``; an unreadable file is a
    usage error (exit 2), invalid JSON a failure (exit 1)."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise click.UsageError(f"cannot read {what} {source!r}: {exc.strerror}") from None
    try:
        return jcs.loads_strict(text)
    except ChopmarkError as exc:
        fail(exc)


def parse_now(value: str | None) -> datetime:
    """The ``--now`` option: an XML Schema dateTimeStamp, or the wall clock when absent."""
    if value is None:
        return datetime.now(UTC)
    try:
        return parse_datetime(value, name="--now")
    except ChopmarkError as exc:
        raise click.BadParameter(exc.detail, param_hint="--now") from None
