"""OpenAPI paths and schemas of the evidence log (``/log/...``): appends, entries, RFC 9162 proofs, the C2SP
signed checkpoint and verifier key.

Kept apart from :mod:`chopmark.service.openapi` (which merges them into the one document) so each module stays
small; the helpers that build operations come from there.
"""

from __future__ import annotations

from typing import Any

from chopmark.service.openapi_schemas import Schema, array, obj, ref

INTEGER: Schema = {"type": "integer", "minimum": 0, "maximum": 2**62}
HEX_HASH: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
ENTRY_TYPE: Schema = {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,31}$"}
TAG = {"name": "log", "description": "The evidence log: append-only Merkle log (RFC 9162) with signed checkpoints "
                                     "(C2SP tlog-checkpoint)."}


def log_schemas() -> dict[str, Schema]:
    """The component schemas of the evidence log."""
    data_entry = obj({"type": ENTRY_TYPE, "data": {"type": "string", "format": "byte", "maxLength": 87384,
                                                   "description": "Standard base64 (padded) of at most 64 KiB."}},
                     ["type", "data"], closed=True)
    hash_entry = obj({"type": ENTRY_TYPE, "sha256": HEX_HASH}, ["type", "sha256"], closed=True,
                     description="An entry carrying only a SHA-256 hash (no personal data in the log).")
    entry = {"oneOf": [ref("LogDataEntry"), ref("LogHashEntry")]}
    proof = obj({"index": INTEGER, "size": INTEGER, "leafHash": HEX_HASH, "hashes": array(HEX_HASH)},
                ["index", "size", "leafHash", "hashes"],
                description="RFC 9162 §2.1.3.1 audit path of the leaf at `index` in the tree of `size` leaves.")
    text: Schema = {"type": "string"}
    return {
        "LogDataEntry": data_entry,
        "LogHashEntry": hash_entry,
        "LogEntryBatch": obj({"entries": array(entry, minItems=1, maxItems=1000)}, ["entries"], closed=True),
        "AppendLogEntriesRequest": {"oneOf": [ref("LogDataEntry"), ref("LogHashEntry"), ref("LogEntryBatch")]},
        "AppendLogEntriesResult": obj({"index": INTEGER, "indexes": array(INTEGER),
                                       "checkpoint": {"type": "string", "description": "The signed note."},
                                       "inclusionProof": ref("LogInclusionProof")},
                                      description="`index` for one entry, `indexes` for a batch; `checkpoint` "
                                                  "(and for one entry `inclusionProof`) once integrated."),
        "LogEntry": obj({"index": INTEGER, "type": ENTRY_TYPE,
                         "data": {"type": "string", "format": "byte", "description": "Base64 of the exact leaf."},
                         "integratedAt": {"type": "string", "nullable": True,
                                          "description": "When the entry entered a checkpoint (null: pending)."}},
                        ["index", "type", "data", "integratedAt"]),
        "LogInclusionProof": proof,
        "LogConsistencyProof": obj({"from": INTEGER, "to": INTEGER, "hashes": array(HEX_HASH)},
                                   ["from", "to", "hashes"],
                                   description="RFC 9162 §2.1.4.1 proof that tree `to` extends tree `from`."),
        "SignedNote": {**text, "description": "A C2SP signed note holding a tlog checkpoint."},
        "VerifierKey": {**text, "description": "A C2SP verifier key `name+keyid+base64(0x01 || key)`."},
    }


def _query(name: str, description: str, schema: Schema, *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def log_paths(op: Any, ok: Any, path_param: Any) -> dict[str, Any]:
    """The paths; ``op``/``ok``/``path_param`` are :mod:`chopmark.service.openapi`'s builders."""
    location = {"Location": {"description": "The first appended entry.", "required": True,
                             "schema": {"type": "string"}}}
    size = _query("size", "The tree size (default: the current checkpoint's).", INTEGER)
    text = ("text/plain",)
    return {
        "/log/entries": {"post": op(
            "appendLogEntries", "log", "Append one entry or a batch (token with scope issue or admin).",
            ok={"201": ok("Appended and integrated: the checkpoint (and the inclusion proof of a single entry).",
                          "AppendLogEntriesResult", headers=location),
                "202": ok("Appended durably, not yet in a checkpoint: poll GET /log/entries/{index}.",
                          "AppendLogEntriesResult", headers=location)},
            body="AppendLogEntriesRequest", secured=True)},
        "/log/entries/{index}": {"get": op(
            "getLogEntry", "log", "One entry: its type, exact leaf bytes and integration time.",
            ok={"200": ok("The entry.", "LogEntry")}, errors=(400, 404),
            params=[path_param("index", "The entry index.", INTEGER)])},
        "/log/proofs/inclusion": {"get": op(
            "getLogInclusionProof", "log", "RFC 9162 inclusion proof of an entry, by index or by leaf hash.",
            ok={"200": ok("The audit path.", "LogInclusionProof")}, errors=(400, 404),
            params=[_query("index", "The entry index (or give hash).", INTEGER),
                    _query("hash", "The leaf hash, hex (or give index).", HEX_HASH), size])},
        "/log/proofs/consistency": {"get": op(
            "getLogConsistencyProof", "log", "RFC 9162 consistency proof between two tree sizes.",
            ok={"200": ok("The proof.", "LogConsistencyProof")}, errors=(400, 404),
            params=[_query("from", "The older tree size (> 0).", INTEGER, required=True),
                    _query("to", "The newer tree size (default: the current checkpoint's).", INTEGER)])},
        "/log/checkpoint": {"get": op(
            "getLogCheckpoint", "log", "The current checkpoint as a C2SP signed note (pending entries first).",
            ok={"200": ok("The signed checkpoint.", "SignedNote", media=text)})},
        "/log/key": {"get": op(
            "getLogKey", "log", "The log's C2SP verifier key (also in the host DID document as #log-key).",
            ok={"200": ok("The verifier key.", "VerifierKey", media=text)})},
    }
