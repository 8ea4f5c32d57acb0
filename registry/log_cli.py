"""``chopmark log ...``: check the evidence log without trusting the server.

* ``verify-inclusion ENTRY PROOF CHECKPOINT --key LOGKEY`` (offline): the entry (``GET /log/entries/{i}``), its
  inclusion proof (``GET /log/proofs/inclusion``) and a signed checkpoint; the checkpoint must be signed by the
  log key and the proof must lead from the entry's leaf hash to the checkpoint's root (RFC 9162 §2.1.3.2).
* ``verify-consistency OLD NEW PROOF [--key LOGKEY]`` (offline): the newer checkpoint extends the older one
  (RFC 9162 §2.1.4.2); with ``--key`` both signatures are checked too.
* ``monitor --url BASE --key LOGKEY --state FILE``: fetch the current checkpoint, check its signature, prove it
  consistent with the last one this monitor saw (``GET /log/proofs/consistency``) and only then remember it.
  A checkpoint that is not consistent (another history under the same key: a split view) is refused.
* ``find SHA256 --url BASE [--type T] [--key LOGKEY]``: the entry carrying that SHA-256 (its ``sha256`` member or
  the SHA-256 of its data, e.g. a photo's hash), its inclusion proof and the checkpoint it is proved against;
  with ``--key`` the proof is also verified offline, as ``verify-inclusion`` does.
* ``reindex [--store/--data-dir]`` (operators, once after upgrading): index the content hashes of entries
  appended before the lookup by SHA-256 existed.
* ``checkpoint --url BASE`` and ``key --url BASE`` print what the server publishes.

``LOGKEY`` is a C2SP verifier key, or a file holding one. Exit codes: 0 verified / consistent, 1 refused
(the JSON result says why; a split view also prints ``SPLIT VIEW`` on stderr), 2 usage errors.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, NoReturn

import click

from chopmark.cli.kit import handled, json_option, load_settings, store_options
from chopmark.errors import ChopmarkError
from chopmark.tlog import note
from chopmark.tlog.checks import check_consistency, check_inclusion

TIMEOUT = 30.0


def _text(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"cannot read {what} {path!r}: {exc}") from None


def _json(path: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_text(path, what))
    except ValueError as exc:
        raise click.UsageError(f"{what} {path!r} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise click.UsageError(f"{what} {path!r} must hold a JSON object")
    return value


def _verifier(key: str) -> note.NoteVerifier:
    """``--key``: a vkey, or the path of a file holding one."""
    text = _text(key, "key file").strip() if os.path.isfile(key) else key.strip()
    try:
        return note.parse_verifier_key(text)
    except ChopmarkError as exc:
        raise click.BadParameter(f"not a C2SP verifier key: {exc.detail}", param_hint="--key") from None


def _finish(result: dict[str, Any], ok: bool) -> NoReturn:
    click.echo(json.dumps(result, indent=2))
    sys.exit(0 if ok else 1)


def _checkpoint(text: str, verifier: note.NoteVerifier | None) -> note.Checkpoint:
    """The checkpoint of a note: signature checked when a verifier is given, else only parsed."""
    if verifier is not None:
        return note.open_checkpoint(text, verifier.name, verifier)
    body, _ = note.parse_note(text)
    return note.Checkpoint.parse(body)


@click.group("log")
def log_group() -> None:
    """The evidence log: verify entries and checkpoints offline, monitor a log for split views."""


@log_group.command("verify-inclusion")
@click.argument("entry")
@click.argument("proof")
@click.argument("checkpoint")
@click.option("--key", "key", required=True, help="The log's verifier key (or a file holding it).")
def verify_inclusion(entry: str, proof: str, checkpoint: str, key: str) -> None:
    """Verify offline that ENTRY (JSON) is in the log: PROOF (JSON) against CHECKPOINT (signed note)."""
    result = check_inclusion(_json(entry, "entry"), _json(proof, "proof"), _text(checkpoint, "checkpoint"),
                             _verifier(key))
    _finish(result, result["verified"])


@log_group.command("verify-consistency")
@click.argument("old")
@click.argument("new")
@click.argument("proof")
@click.option("--key", "key", help="The log's verifier key (or a file): also check both signatures.")
def verify_consistency(old: str, new: str, proof: str, key: str | None) -> None:
    """Verify offline that checkpoint NEW extends checkpoint OLD, with PROOF (JSON)."""
    verifier = _verifier(key) if key else None
    try:
        older, newer = (_checkpoint(_text(path, "checkpoint"), verifier) for path in (old, new))
    except ChopmarkError as exc:
        _finish({"consistent": False, "failure": f"checkpoint refused ({exc.instance_code}): {exc.detail}"}, False)
    result = {**check_consistency(older, newer, _json(proof, "proof")), "signaturesChecked": verifier is not None}
    _finish(result, result["consistent"])


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as reply:
            return str(reply.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        with exc:
            try:
                detail = json.loads(exc.read()).get("detail")
            except (ValueError, AttributeError, OSError):
                detail = None
        raise click.ClickException(f"{url} answered {exc.code}" + (f": {detail}" if detail else "")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot fetch {url}: {exc}") from None


def _save(path: Path, text: str) -> None:
    """Replace the state file atomically (a crash leaves the old or the new checkpoint, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _split_view(result: dict[str, Any], why: str) -> NoReturn:
    click.echo(f"SPLIT VIEW: {why}", err=True)
    _finish({**result, "status": "split-view", "failure": why}, False)


@log_group.command("monitor")
@click.option("--url", "base", required=True, help="The service's base URL.")
@click.option("--key", "key", required=True, help="The log's verifier key (or a file holding it).")
@click.option("--state", "state", required=True, type=click.Path(dir_okay=False),
              help="File keeping the last checkpoint seen (created on the first run).")
def monitor(base: str, key: str, state: str) -> None:
    """Fetch the checkpoint, check its signature and its consistency with the last one seen; remember it."""
    verifier = _verifier(key)
    base = base.rstrip("/")
    fetched = _fetch(base + "/log/checkpoint")
    try:
        new = note.open_checkpoint(fetched, verifier.name, verifier)
    except ChopmarkError as exc:
        _finish({"status": "refused", "failure": f"checkpoint refused ({exc.instance_code}): {exc.detail}"}, False)
    result: dict[str, Any] = {"origin": new.origin, "size": new.size, "root": new.root_hash.hex()}
    path = Path(state)
    if not path.exists():
        _save(path, fetched)
        _finish({**result, "status": "first"}, True)
    try:
        old = note.open_checkpoint(_text(state, "state file"), verifier.name, verifier)
    except ChopmarkError as exc:
        raise click.UsageError(f"the state file {state} holds no checkpoint of this log: {exc.detail}") from None
    result["previousSize"] = old.size
    if new.size < old.size:
        _split_view(result, f"the log shrank from {old.size} to {new.size} entries")
    if new.size == old.size:
        if new.root_hash != old.root_hash:
            _split_view(result, f"two different trees of size {new.size}")
        _finish({**result, "status": "unchanged"}, True)
    if old.size > 0:
        try:
            proof = json.loads(_fetch(f"{base}/log/proofs/consistency?from={old.size}&to={new.size}"))
        except ValueError:
            proof = None
        checked = check_consistency(old, new, proof if isinstance(proof, dict) else {})
        if not checked["consistent"]:
            _split_view(result, f"checkpoint {new.size} is not consistent with {old.size}: {checked['failure']}")
    _save(path, fetched)
    _finish({**result, "status": "consistent"}, True)


@log_group.command("find")
@click.argument("sha256")
@click.option("--url", "base", required=True, help="The service's base URL.")
@click.option("--type", "entry_type", help="Only an entry of this type (e.g. photo).")
@click.option("--key", "key", help="The log's verifier key (or a file): verify the proof offline too.")
def find(sha256: str, base: str, entry_type: str | None, key: str | None) -> None:
    """Find the first entry carrying SHA256 and print it with its inclusion proof and checkpoint (exit 1 when
    none is logged or, with --key, when the proof does not verify)."""
    base = base.rstrip("/")
    signed = _fetch(base + "/log/checkpoint")
    size = signed.splitlines()[1] if len(signed.splitlines()) > 1 else "0"
    query = urllib.parse.urlencode({"sha256": sha256, "size": size, **({"type": entry_type} if entry_type else {})})
    proof = json.loads(_fetch(f"{base}/log/proofs/inclusion?{query}"))
    entry = json.loads(_fetch(f"{base}/log/entries/{int(proof['index'])}"))
    result: dict[str, Any] = {"entry": entry, "inclusionProof": proof, "checkpoint": signed}
    if key is None:
        _finish(result, True)
    checked = check_inclusion(entry, proof, signed, _verifier(key))
    _finish({**result, "verified": checked["verified"], **({"failure": checked["failure"]}
                                                           if "failure" in checked else {})}, checked["verified"])


@log_group.command("reindex")
@store_options
@json_option
@handled
def reindex(store_url: str | None, data_dir: str | None, public_url: str | None, as_json: bool) -> None:
    """Index the SHA-256 of every logged entry (for entries appended before lookups by SHA-256 existed)."""
    from registry.cli import open_registry

    registry = open_registry(load_settings(store_url, data_dir, public_url))
    count = registry.evidence.reindex()
    click.echo(json.dumps({"indexed": count}) if as_json else f"Indexed the SHA-256 of {count} entries")


@log_group.command("checkpoint")
@click.option("--url", "base", required=True, help="The service's base URL.")
def show_checkpoint(base: str) -> None:
    """Print the log's current signed checkpoint."""
    click.echo(_fetch(base.rstrip("/") + "/log/checkpoint"), nl=False)


@log_group.command("key")
@click.option("--url", "base", required=True, help="The service's base URL.")
def show_key(base: str) -> None:
    """Print the log's verifier key."""
    click.echo(_fetch(base.rstrip("/") + "/log/key"), nl=False)
