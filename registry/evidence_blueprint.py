"""HTTP routes of the evidence log: append (token with scope issue or admin), and the public reads: entries,
inclusion and consistency proofs (RFC 9162), the signed checkpoint and the log key (C2SP). An entry is found by
its index, its leaf hash, or the SHA-256 it carries (``?sha256=``: its ``sha256`` member or the SHA-256 of its
data, see :func:`registry.evidence.content_sha256`).

Nothing is deleted or rewritten: the only write is ``POST /log/entries``, for every token alike (admins too);
other methods on these paths are answered 405.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from chopmark.errors import BadRequest, Forbidden
from chopmark.web.plumbing import Client, current_client, json_body, json_response
from registry.evidence import EvidenceLog

bp = Blueprint("evidence", __name__)
MAX_ENTRIES = 1000
INTEGRATION_WAIT = 1.0  # seconds a POST waits for its entries to be in a checkpoint before answering 202
RESERVED_TYPES = frozenset({"credential"})  # appended by the service itself (issued credentials)
_UINT = re.compile(r"0|[1-9][0-9]{0,18}")
TEXT_HEADERS = {"Cache-Control": "no-cache"}


def register(app: Flask, log: EvidenceLog) -> None:
    """Attach the evidence log routes and the log to ``app``."""
    app.extensions["chopmark.evidence"] = log
    app.register_blueprint(bp)


def _log() -> EvidenceLog:
    log: EvidenceLog = current_app.extensions["chopmark.evidence"]
    return log


def _appender() -> Client:
    """The caller, who needs a token with scope issue (any issuer) or admin."""
    try:
        return current_client("issue")
    except Forbidden:
        return current_client("admin")


def _item(raw: Any, pointer: str) -> dict[str, Any]:
    """One entry of a request body: ``{"type", "data": base64}`` or ``{"type", "sha256": hex}``."""
    if not isinstance(raw, dict):
        raise BadRequest("an entry is an object {type, data} or {type, sha256}", pointer=pointer, code="INVALID_ENTRY")
    unknown = set(raw) - {"type", "data", "sha256"}
    if unknown:
        raise BadRequest(f"unknown entry members {sorted(unknown)}", pointer=pointer, code="UNKNOWN_MEMBER")
    if isinstance(raw.get("type"), str) and raw["type"] in RESERVED_TYPES:
        raise Forbidden(f"entries of type {raw['type']!r} are appended by the service itself",
                        pointer=pointer + "/type", code="RESERVED_ENTRY_TYPE")
    item = dict(raw)
    if "data" in raw:
        item["data"] = _base64(raw["data"], pointer + "/data")
    if "sha256" in raw and not isinstance(raw["sha256"], str):
        raise BadRequest("sha256 must be a string", pointer=pointer + "/sha256", code="INVALID_SHA256")
    return item


def _base64(value: Any, pointer: str) -> bytes:
    """Canonical standard base64 (RFC 4648 §4, padded)."""
    try:
        if isinstance(value, str):
            data = base64.b64decode(value.encode("ascii"), validate=True)
            if base64.b64encode(data).decode("ascii") == value:
                return data
    except (UnicodeEncodeError, binascii.Error):
        pass
    raise BadRequest("data must be canonical base64 (RFC 4648 §4, padded)", pointer=pointer, code="INVALID_BASE64")


def _items(body: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The entries of a body and whether it was a batch (``{"entries": [...]}``)."""
    if "entries" not in body:
        return [_item(body, "")], False
    if set(body) != {"entries"}:
        raise BadRequest("a batch body has only the member entries", code="UNKNOWN_MEMBER")
    entries = body["entries"]
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_ENTRIES:
        raise BadRequest(f"entries must be an array of 1 to {MAX_ENTRIES} entries", pointer="/entries",
                         code="INVALID_BATCH")
    return [_item(raw, f"/entries/{i}") for i, raw in enumerate(entries)], True


@bp.post("/log/entries")
def append_entries() -> Response:
    """Append one entry or a batch; 201 with the checkpoint (and, for one entry, its inclusion proof) when they
    are integrated within about a second, else 202 with where to poll. Either way they are durably appended."""
    _appender()
    items, batch = _items(json_body())
    log = _log()
    indexes = log.append_many(items)
    signed = log.wait_integrated(indexes[-1], INTEGRATION_WAIT)
    location = {"Location": f"/log/entries/{indexes[0]}"}
    body: dict[str, Any] = {"indexes": indexes} if batch else {"index": indexes[0]}
    if signed is None:
        return json_response(body, 202, headers=location)
    body["checkpoint"] = signed.note
    if not batch:
        body["inclusionProof"] = log.inclusion_proof(indexes[0], signed.checkpoint.size)
    return json_response(body, 201, headers=location)


@bp.get("/log/entries/<int:index>")
def get_entry(index: int) -> Response:
    """``{index, type, data, integratedAt}``; a pending entry is integrated first when possible."""
    log = _log()
    entry = log.entry(index)
    if entry["integratedAt"] is None:
        log.integrate()
        entry = log.entry(index)
    return json_response(entry)


def _uint(name: str) -> int | None:
    """An optional non-negative integer query parameter."""
    value = request.args.get(name)
    if value is None:
        return None
    if not _UINT.fullmatch(value):
        raise BadRequest(f"{name} must be a decimal integer (no sign, no leading zeros)", code="INVALID_PARAMETER")
    return int(value)  # the log checks the range


def _required_uint(name: str) -> int:
    value = _uint(name)
    if value is None:
        raise BadRequest(f"the query parameter {name} is required", code="MISSING_PARAMETER")
    return value


def _entry_type() -> str | None:
    """The optional ``type`` filter of a lookup by ``sha256``."""
    entry_type = request.args.get("type")
    if entry_type is not None and "sha256" not in request.args:
        raise BadRequest("the query parameter type filters a lookup by sha256 only", code="INVALID_PARAMETER")
    return entry_type


@bp.get("/log/entries")
def find_entry() -> Response:
    """``?sha256=[&type=]``: the first entry (of that type) carrying that SHA-256 (its ``sha256`` member, or the
    SHA-256 of its data) in the current checkpoint, as ``GET /log/entries/{index}`` answers it."""
    log = _log()
    sha256 = request.args.get("sha256")
    if sha256 is None:
        raise BadRequest("the query parameter sha256 is required (or GET /log/entries/{index})",
                         code="MISSING_PARAMETER")
    entry_type = _entry_type()
    log.integrate()
    return json_response(log.entry(log.find(sha256, entry_type)))


@bp.get("/log/proofs/inclusion")
def inclusion_proof() -> Response:
    """``?index=``, ``?hash=`` (leaf hash) or ``?sha256=[&type=]`` (the SHA-256 an entry carries), each with
    ``&size=`` (default the current checkpoint's) → ``{index, size, leafHash, hashes}``."""
    log = _log()
    size = _uint("size")
    entry_type = _entry_type()
    given = [name for name in ("index", "hash", "sha256") if name in request.args]
    if len(given) != 1:
        raise BadRequest("give exactly one of index, hash and sha256", code="MISSING_PARAMETER")
    if size is None:
        log.integrate()
    if given == ["hash"]:
        return json_response(log.inclusion_proof_by_hash(request.args["hash"], size))
    if given == ["sha256"]:
        index = log.find(request.args["sha256"], entry_type, size)
        return json_response(log.inclusion_proof(index, size))
    return json_response(log.inclusion_proof(_required_uint("index"), size))


@bp.get("/log/proofs/consistency")
def consistency_proof() -> Response:
    """``?from=&to=`` (to: default the current checkpoint's size) → ``{from, to, hashes}``."""
    log = _log()
    old, new = _required_uint("from"), _uint("to")
    if new is None:
        log.integrate()
    return json_response(log.consistency_proof(old, new))


@bp.get("/log/checkpoint")
def checkpoint() -> Response:
    """The current signed checkpoint (C2SP signed note, ``text/plain``), pending entries integrated first."""
    return Response(_log().checkpoint(), mimetype="text/plain", headers=TEXT_HEADERS)


@bp.get("/log/key")
def key() -> Response:
    """The log's C2SP verifier key ``name+id+base64``, followed by a newline."""
    return Response(_log().verifier_key() + "\n", mimetype="text/plain",
                    headers={"Cache-Control": "public, max-age=3600"})
