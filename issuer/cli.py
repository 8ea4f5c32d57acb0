"""``chopmark verify-rank`` and ``chopmark campaign audit``: check first-N rankings offline, trusting no server.

* ``verify-rank RECEIPT [--key LOGKEY] [--did-doc FILE] [--now T]``: a buyer's RankReceipt
  (``GET /campaigns/{id}/receipts/{orderNumber}``) verified with :func:`chopmark.ranking.receipts.verify_receipt`;
  prints the result (rank, gifts, ``withinGifts``, every check). ``LOGKEY`` (a C2SP verifier key or a file
  holding one) pins the evidence log's key; without it the receipt's own ``logKey`` is used and the result says
  ``logKeySource: receipt``. ``--did-doc`` pins the merchant's DID document the same way.
* ``campaign audit EXPORT [--leaves FILE] [--commitment FILE] [--log-entries FILE]``: re-derive the ranking from
  the merchant's export (:func:`chopmark.ranking.audit.audit`); prints the report.

Exit codes: 0 verified / matches, 1 not verified / differs (the JSON says why), 2 usage errors.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from chopmark.codecs import jcs
from chopmark.codecs.dates import parse_datetime
from chopmark.dids import Resolver
from chopmark.errors import ChopmarkError
from chopmark.ranking.audit import DEFAULT_LIMIT, audit
from chopmark.ranking.receipts import verify_receipt


def read_json(path: str, what: str) -> Any:
    """A JSON file (``-``: stdin), parsed strictly (I-JSON)."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"cannot read {what} {path!r}: {exc}") from None
    try:
        return jcs.loads_strict(text)
    except ChopmarkError as exc:
        raise click.UsageError(f"{what} {path!r} is not valid JSON: {exc.detail}") from None


def log_key(value: str) -> str:
    """``--key``: a C2SP verifier key, or the path of a file holding one."""
    if os.path.isfile(value):
        try:
            return Path(value).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise click.UsageError(f"cannot read the key file {value!r}: {exc}") from None
    return value.strip()


def _finish(result: Mapping[str, Any], ok: bool) -> NoReturn:
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    sys.exit(0 if ok else 1)


@click.command("verify-rank")
@click.argument("receipt")
@click.option("--key", "key", help="The evidence log's verifier key (or a file); default: the receipt's logKey.")
@click.option("--did-doc", "did_doc", help="The merchant's DID document (default: the one in the receipt).")
@click.option("--now", help="Verify as of this time (default now).")
def verify_rank(receipt: str, key: str | None, did_doc: str | None, now: str | None) -> None:
    """Verify a RankReceipt offline: rank, leaf, commitment, log inclusion, checkpoint signature."""
    document = read_json(receipt, "receipt")
    try:
        moment = parse_datetime(now, name="--now") if now else datetime.now(UTC)
    except ChopmarkError as exc:
        raise click.BadParameter(exc.detail, param_hint="--now") from None
    resolver = None
    if did_doc is not None:
        pinned = read_json(did_doc, "DID document")
        if not isinstance(pinned, Mapping) or not isinstance(pinned.get("id"), str):
            raise click.BadParameter("not a DID document (no id)", param_hint="--did-doc")
        resolver = Resolver(documents={pinned["id"]: pinned})
    result = verify_receipt(document, log_key=log_key(key) if key else None, now=moment, resolver=resolver)
    out = result.to_dict()
    out["issuerKeySource"] = "caller" if resolver is not None else "receipt"
    _finish(out, result.verified)


@click.group("campaign")
def campaign_group() -> None:
    """First-N ranking campaigns: audit a merchant's ranking offline."""


def _leaves(path: str) -> list[Any]:
    value = read_json(path, "leaves file")
    leaves = value.get("leaves") if isinstance(value, Mapping) else value
    if not isinstance(leaves, list):
        raise click.UsageError("the leaves file must hold a list of leaves or {\"leaves\": [...]}")
    return leaves


def _commitment(path: str) -> Any:
    value = read_json(path, "commitment file")  # the credential itself, or a document that carries it
    if isinstance(value, Mapping) and isinstance(value.get("commitmentCredential"), Mapping):
        return value["commitmentCredential"]
    return value


def _entries(path: str) -> list[Any]:
    value = read_json(path, "log entries file")
    entries = value.get("entries") if isinstance(value, Mapping) else value
    if not isinstance(entries, list):
        raise click.UsageError("the log entries file must hold a list of entries or {\"entries\": [...]}")
    return entries


@campaign_group.command("audit")
@click.argument("export")
@click.option("--leaves", "leaves", help="The published leaves (GET /campaigns/{id}/leaves, all of them).")
@click.option("--commitment", "commitment", help="The commitment credential (default: the export's).")
@click.option("--log-entries", "log_entries", help="Evidence-log entries to search for the campaign's commitments.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=DEFAULT_LIMIT, show_default=True,
              help="List at most this many differing ranks.")
def audit_campaign(export: str, leaves: str | None, commitment: str | None, log_entries: str | None,
                   limit: int) -> None:
    """Re-derive a campaign's ranking from its export; exit 1 with the differing ranks when it does not match."""
    report = audit(read_json(export, "export"), _leaves(leaves) if leaves else None,
                   _commitment(commitment) if commitment else None,
                   log_entries=_entries(log_entries) if log_entries else None, limit=limit)
    _finish(report.to_dict(), report.matches)


def commands() -> list[click.Command]:
    """The issuer role's commands: ``verify-rank`` and ``campaign`` (its demo: :func:`issuer.demo.ranking_command`)."""
    return [verify_rank, campaign_group]
