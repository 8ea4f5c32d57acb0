"""An auditor's offline checks of what a log publishes (RFC 9162 §2.1.3.2 and §2.1.4.2 over the JSON shapes of
``GET /log/entries/{i}``, ``/log/proofs/inclusion`` and ``/log/proofs/consistency``): an entry is included under
a signed checkpoint; a newer checkpoint extends an older one. They return a result and never raise for bad data.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from chopmark.errors import ChopmarkError
from chopmark.tlog import merkle, note


def _hashes(values: Any) -> list[bytes] | None:
    """A proof's hex hashes, or None when they are not a list of 32-byte hex strings."""
    if not isinstance(values, list):
        return None
    try:
        out = [bytes.fromhex(v) for v in values if isinstance(v, str)]
    except ValueError:
        return None
    return out if len(out) == len(values) and all(len(h) == merkle.HASH_SIZE for h in out) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def check_inclusion(entry: dict[str, Any], proof: dict[str, Any], checkpoint_note: str,
                    verifier: note.NoteVerifier) -> dict[str, Any]:
    """Offline: is ``entry`` in the log whose checkpoint ``checkpoint_note`` the log key signed? Returns
    ``{verified, index, size, origin, leafHash[, failure]}`` (never raises for bad data)."""
    result: dict[str, Any] = {"verified": False, "origin": verifier.name}
    try:
        checkpoint = note.open_checkpoint(checkpoint_note, verifier.name, verifier)
    except ChopmarkError as exc:
        return {**result, "failure": f"checkpoint refused ({exc.instance_code}): {exc.detail}"}
    result["size"] = checkpoint.size
    try:
        leaf = base64.b64decode(str(entry.get("data", "")).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return {**result, "failure": "the entry's data is not base64"}
    leaf_hash = merkle.leaf_hash(leaf)
    index, size, hashes = _int(entry.get("index")), _int(proof.get("size")), _hashes(proof.get("hashes"))
    result.update(index=index, leafHash=leaf_hash.hex())
    if index is None or hashes is None or size is None or _int(proof.get("index")) is None:
        return {**result, "failure": "the entry or the proof is malformed (index, size, hashes)"}
    if proof.get("index") != index or proof.get("leafHash", leaf_hash.hex()) != leaf_hash.hex():
        return {**result, "failure": "the proof is for another entry (index or leaf hash differs)"}
    if size != checkpoint.size:
        return {**result, "failure": f"the proof is for a tree of size {size}, the checkpoint has size "
                                     f"{checkpoint.size}"}
    if not merkle.verify_inclusion(index, size, leaf_hash, hashes, checkpoint.root_hash):  # RFC 9162 §2.1.3.2
        return {**result, "failure": "the inclusion proof does not lead to the checkpoint's root"}
    return {**result, "verified": True}


def check_consistency(old: note.Checkpoint, new: note.Checkpoint, proof: dict[str, Any]) -> dict[str, Any]:
    """Offline: does ``proof`` show that ``new`` extends ``old``? ``{consistent, from, to[, failure]}``."""
    result: dict[str, Any] = {"consistent": False, "from": old.size, "to": new.size}
    hashes = _hashes(proof.get("hashes"))
    if old.origin != new.origin:
        return {**result, "failure": f"the checkpoints are of different logs ({old.origin} / {new.origin})"}
    if hashes is None or proof.get("from") != old.size or proof.get("to") != new.size:
        return {**result, "failure": "the proof is malformed or for other tree sizes"}
    if not merkle.verify_consistency(old.size, new.size, hashes, old.root_hash, new.root_hash):  # RFC 9162 §2.1.4.2
        return {**result, "failure": "the consistency proof does not connect the two roots"}
    return {**result, "consistent": True}
