"""The evidence log: an append-only RFC 9162 Merkle log with C2SP signed checkpoints, on the shared store.

The registry's general evidence service: issued credentials (by hash), ranking commitments and, later, photo
registrations and provenance records are appended here; anyone can check that an entry is in the log
(inclusion proof) and that the log only ever grew (consistency proof between two signed checkpoints).

Storage layout (one store, every operation on one key, so SQLite, Redis and Redis Cluster all work):

* ``tlog-entry`` / ``evidence``: the entries, a store *log*. The value of entry ``i`` is the exact leaf ``i``
  (``JCS({"type", "data": base64})`` or ``JCS({"type", "sha256": hex})``, so the type is bound into the leaf
  hash). An append is one durable ``append``/``append_many`` before the caller is answered: an acknowledged
  entry is never lost, and its index is final.
* ``tlog-tile`` / ``L/N``: the tree hashes, as tiles of height 8 (:mod:`registry.evidence_tiles`).
* ``tlog-hash`` / leaf hash (hex): the index of the first entry with that leaf hash (proofs by hash).
* ``tlog-sha256`` / content SHA-256 (hex), and ``type/sha256``: the index of the first entry (of that type) whose
  content is that hash: its ``sha256`` member, or the SHA-256 of its ``data`` bytes (:func:`content_sha256`). A
  user who logged ``{"type": "photo", "sha256": X}`` finds the entry and its proof by ``X`` alone.
* ``tlog-time`` / ``N``: when each entry of level-0 tile ``N`` was integrated (ms since the epoch).
* ``tlog-state`` / ``evidence``: ``{size, root, frontier, note, time, prev}``, the current checkpoint. The
  frontier (the right-edge complete subtrees, RFC 9162 compact range) lets the next integration extend the tree
  without reading it.
* ``tlog-lock`` / ``evidence``: the sequencer lock (an expiring record; a crashed holder's lock expires).

Integration (:meth:`EvidenceLog.integrate`, the sequencer, one at a time under the lock; any request may run
it, and under load one run takes every pending entry, so appends are batched): read the pending entries
``[size, length)`` with one ``read``; hash them; extend the frontier, collecting the tile hashes it creates;
write each touched tile once; index the leaf and content hashes; sign the new checkpoint; compare-and-set the
state; then record the integration times. Tiles first, state last: a crash in between leaves only tile hashes beyond the
state's size, which the next integration recomputes identically (tiles only grow and their content is a
function of the entries), so no checkpoint is ever inconsistent with an earlier one. The state records the
size it grew from (``prev``), so the next integration first completes the times of a crashed run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chopmark import tlog
from chopmark.codecs import jcs
from chopmark.errors import BadRequest, NotFound
from chopmark.keys import Signer
from chopmark.store import Store
from chopmark.tlog.note import Checkpoint, SignedCheckpoint, valid_key_name
from chopmark.tlog.note import verifier_key as note_verifier_key
from registry.evidence_tiles import LogCorrupted, Tiles, TileWriter, read_time, write_times

__all__ = ["MAX_BATCH", "MAX_DATA", "EvidenceLog", "content_sha256", "leaf_bytes"]

LOG = "evidence"
NS_ENTRY = "tlog-entry"
NS_HASH = "tlog-hash"
NS_CONTENT = "tlog-sha256"
NS_STATE = "tlog-state"
NS_LOCK = "tlog-lock"
TYPE_RE = re.compile(r"[a-z][a-z0-9-]{0,31}")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
MAX_DATA = 64 * 1024
MAX_BATCH = 4096
MAX_INDEX = 2**62  # indexes and sizes: far beyond any real log, and within every store's integer range
LOCK_SECONDS = 5.0
POLL_SECONDS = 0.005


def leaf_bytes(entry_type: str, *, data: bytes | None = None, sha256: str | None = None) -> bytes:
    """The exact leaf of an entry: ``JCS({"type", "data": base64})`` or ``JCS({"type", "sha256": hex})``.
    Raises BadRequest for a bad type (``^[a-z][a-z0-9-]{0,31}$``), data over 64 KiB, a sha256 that is not
    64 lowercase hex digits, or not exactly one of ``data`` and ``sha256``."""
    if not isinstance(entry_type, str) or not TYPE_RE.fullmatch(entry_type):
        raise BadRequest(f"entry type {entry_type!r} must match ^[a-z][a-z0-9-]{{0,31}}$", pointer="/type",
                         code="INVALID_ENTRY_TYPE")
    if (data is None) == (sha256 is None):
        raise BadRequest("an entry has exactly one of data and sha256", code="INVALID_ENTRY")
    if data is not None:
        if not isinstance(data, bytes) or len(data) > MAX_DATA:
            raise BadRequest(f"entry data must be at most {MAX_DATA} bytes", pointer="/data", code="ENTRY_TOO_LARGE")
        return jcs.canonicalize_general({"type": entry_type, "data": base64.b64encode(data).decode("ascii")})
    if not isinstance(sha256, str) or not SHA256_RE.fullmatch(sha256):
        raise BadRequest("sha256 must be 64 lowercase hexadecimal digits", pointer="/sha256", code="INVALID_SHA256")
    return jcs.canonicalize_general({"type": entry_type, "sha256": sha256})


def content_sha256(leaf: bytes) -> tuple[str, str]:
    """``(type, sha256)`` of a leaf: the hash an entry is found by is its ``sha256`` member, or the SHA-256 (hex)
    of its ``data`` bytes (the bytes that were logged, not their base64)."""
    entry = json.loads(leaf)
    if "sha256" in entry:
        return entry["type"], entry["sha256"]
    return entry["type"], hashlib.sha256(base64.b64decode(entry["data"])).hexdigest()


def _leaf_of(item: Mapping[str, Any]) -> bytes:
    unknown = set(item) - {"type", "data", "sha256"}
    if unknown:
        raise BadRequest(f"unknown entry members {sorted(unknown)}", code="UNKNOWN_MEMBER")
    return leaf_bytes(item.get("type", ""), data=item.get("data"), sha256=item.get("sha256"))


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def format_millis(millis: int) -> str:
    """An integration time as RFC 3339 UTC with milliseconds."""
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class _State:
    """The current checkpoint as stored (``raw``: the stored bytes, for compare-and-set)."""

    size: int
    root: bytes
    frontier: tuple[bytes, ...]
    note: str
    millis: int
    prev: int
    raw: bytes | None = None

    def encode(self) -> bytes:
        return json.dumps({"size": self.size, "root": self.root.hex(), "frontier": [h.hex() for h in self.frontier],
                           "note": self.note, "time": self.millis, "prev": self.prev}, sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> _State:
        data = json.loads(raw)
        return cls(data["size"], bytes.fromhex(data["root"]), tuple(bytes.fromhex(h) for h in data["frontier"]),
                   data["note"], data["time"], data["prev"], raw)

    def signed(self, origin: str) -> SignedCheckpoint:
        return SignedCheckpoint(Checkpoint(origin, self.size, self.root), self.note)


class EvidenceLog:
    """Append entries, integrate them into signed checkpoints, serve entries and proofs (see the module doc)."""

    def __init__(self, store: Store, signer_key: Signer | Callable[[], Signer], *, origin: str,
                 clock: Callable[[], datetime], max_batch: int = MAX_BATCH,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic) -> None:
        """``signer_key``: the log's Ed25519 signer, or a function giving it (keys created on first use);
        ``origin``: the checkpoint origin line, also the note key name (``host[:port]/log``)."""
        if not valid_key_name(origin):
            raise ValueError(f"invalid log origin {origin!r} (a note key name: no spaces or '+')")
        self._store = store
        self._signer_source = signer_key
        self.origin = origin
        self._clock = clock
        self._max_batch = max_batch
        self._sleep = sleep
        self._monotonic = monotonic
        self._tiles = Tiles(store)

    # -- keys ------------------------------------------------------------------------------------------------
    def _signer(self) -> Signer:
        signer = self._signer_source if isinstance(self._signer_source, Signer) else self._signer_source()
        if signer.algorithm != "Ed25519":
            raise ValueError("the evidence log signs with an Ed25519 key")
        return signer

    def public_key(self) -> bytes:
        """The log's Ed25519 public key (32 bytes)."""
        return self._signer().key_pair.public_key.raw

    def verifier_key(self) -> str:
        """The C2SP verifier key ``origin+keyid+base64(0x01 || key)`` checkpoints verify with."""
        return note_verifier_key(self.origin, self.public_key())

    # -- appending -------------------------------------------------------------------------------------------
    def append(self, entry_type: str, *, data: bytes | None = None, sha256: str | None = None) -> int:
        """Append one entry durably; returns its index (see :func:`leaf_bytes` for what is accepted)."""
        return self._store.append(NS_ENTRY, LOG, leaf_bytes(entry_type, data=data, sha256=sha256))

    def append_many(self, items: Sequence[Mapping[str, Any]]) -> list[int]:
        """Append entries ``{"type", "data": bytes}`` or ``{"type", "sha256": hex}`` atomically, at contiguous
        indexes; returns their indexes."""
        leaves = [_leaf_of(item) for item in items]
        first = self._store.append_many(NS_ENTRY, LOG, leaves)
        return list(range(first, first + len(leaves)))

    def length(self) -> int:
        """How many entries were appended (integrated or not)."""
        return self._store.length(NS_ENTRY, LOG)

    # -- integrating -----------------------------------------------------------------------------------------
    def _state(self) -> _State | None:
        raw = self._store.get(NS_STATE, LOG)
        return None if raw is None else _State.decode(raw)

    def integrate(self, max_batch: int | None = None) -> SignedCheckpoint | None:
        """Sequence up to ``max_batch`` pending entries into a new signed checkpoint and return it (the current
        one when nothing is pending). None when another integration holds the lock or won the race."""
        token = secrets.token_bytes(16)
        if not self._store.create(NS_LOCK, LOG, token, ttl=LOCK_SECONDS):
            return None
        try:
            return self._integrate(max_batch or self._max_batch)
        finally:
            if self._store.get(NS_LOCK, LOG) == token:
                self._store.delete(NS_LOCK, LOG)

    def _integrate(self, max_batch: int) -> SignedCheckpoint | None:
        state = self._state()
        if state is not None and state.prev < state.size:  # complete the times of a run that crashed after its CAS
            write_times(self._store, state.prev, state.size, state.millis)
        size = state.size if state is not None else 0
        pending = self._store.read(NS_ENTRY, LOG, size, size + max_batch)
        if state is not None and not pending:
            return state.signed(self.origin)
        leaves = [tlog.leaf_hash(entry) for entry in pending]  # RFC 9162 §2.1.1: SHA-256(0x00 || leaf)
        tiles = TileWriter()
        # extend the right edge (compact range) of the tree; every complete subtree it creates goes to the tiles
        frontier = tlog.frontier_extend(tlog.CompactRange(size, state.frontier if state else ()), leaves,
                                        tiles.on_node)
        tiles.write(self._store)  # 1. tiles (and the hash index) before the state: see the module doc
        self._index(size, pending, leaves)
        root = frontier.root()  # RFC 9162 §2.1.1 MTH of the new size
        signer = self._signer()
        # tlog-checkpoint §Note text, signed as a C2SP signed note by the key named after the origin
        signed_note = Checkpoint(self.origin, frontier.size, root).sign(
            self.origin, signer.sign, signer.key_pair.public_key.raw)
        new = _State(frontier.size, root, frontier.hashes, signed_note, _millis(self._clock()), size)
        if not self._store.compare_and_set(NS_STATE, LOG, state.raw if state else None, new.encode()):
            return None  # 2. the state last; losing the race publishes nothing
        write_times(self._store, size, frontier.size, new.millis)  # 3. repaired by the next run after a crash
        return new.signed(self.origin)

    def _index(self, first: int, entries: Sequence[bytes], leaves: Sequence[bytes]) -> None:
        """Leaf hash, content hash and ``type/content hash`` -> index of the first occurrence (existing records
        win: they are earlier)."""
        by_leaf: dict[str, bytes] = {}
        for offset, leaf in enumerate(leaves):
            by_leaf.setdefault(leaf.hex(), str(first + offset).encode())
        self._store.create_many(NS_HASH, by_leaf)
        self._store.create_many(NS_CONTENT, _content_index(first, entries))

    def reindex(self, batch: int = MAX_BATCH) -> int:
        """Index the content hashes of every entry in the current checkpoint (entries logged before the content
        index existed); idempotent, existing records are kept. Returns how many entries were read."""
        size = self.tree_size()
        for start in range(0, size, batch):
            entries = self._store.read(NS_ENTRY, LOG, start, min(size, start + batch))
            self._store.create_many(NS_CONTENT, _content_index(start, entries))
        return size

    def wait_integrated(self, index: int, timeout: float) -> SignedCheckpoint | None:
        """Integrate (or wait for another integration) until entry ``index`` is in a checkpoint; return that
        checkpoint, or None after ``timeout`` seconds."""
        deadline = self._monotonic() + timeout
        last = -1
        while True:
            signed = self.integrate()
            busy = signed is None
            if busy:
                state = self._state()
                signed = state.signed(self.origin) if state else None
            size = signed.checkpoint.size if signed is not None else -1
            if size > index and signed is not None:
                return signed
            if self._monotonic() >= deadline:
                return None
            if busy or size == last:  # another process integrates, or the entry is not appended yet
                self._sleep(POLL_SECONDS)
            last = size

    def signed_checkpoint(self, *, integrate: bool = True) -> SignedCheckpoint:
        """The current signed checkpoint, after integrating pending entries when ``integrate`` (a busy
        sequencer is not waited for); the empty log's checkpoint is created on first use."""
        signed = self.integrate() if integrate else None
        if signed is not None:
            return signed
        state = self._state()
        if state is not None:
            return state.signed(self.origin)
        waited = self.wait_integrated(-1, LOCK_SECONDS * 2)
        if waited is None:
            raise LogCorrupted("the evidence log has no checkpoint and none could be made")
        return waited

    def checkpoint(self, *, integrate: bool = True) -> str:
        """The signed note of the current checkpoint (C2SP tlog-checkpoint), see :meth:`signed_checkpoint`."""
        return self.signed_checkpoint(integrate=integrate).note

    def tree_size(self) -> int:
        """The size of the current checkpoint (0 before the first)."""
        state = self._state()
        return state.size if state else 0

    # -- reading ---------------------------------------------------------------------------------------------
    def _leaf(self, index: int) -> bytes:
        _check_int(index, "index")
        found = self._store.read(NS_ENTRY, LOG, index, index + 1)
        if not found:
            raise NotFound(f"the log has no entry {index}", code="ENTRY_NOT_FOUND")
        return found[0]

    def entry(self, index: int) -> dict[str, Any]:
        """``{index, type, data (base64 of the exact leaf bytes), integratedAt}`` (None while pending)."""
        leaf = self._leaf(index)
        millis = read_time(self._store, index)
        if millis is None:
            state = self._state()
            if state is not None and state.prev <= index < state.size:  # its times are being recorded
                millis = state.millis
        return {"index": index, "type": json.loads(leaf)["type"], "data": base64.b64encode(leaf).decode("ascii"),
                "integratedAt": None if millis is None else format_millis(millis)}

    def _size(self, size: int | None) -> int:
        """``size`` checked against the current checkpoint (default: its size)."""
        current = self.tree_size()
        if size is None:
            return current
        _check_int(size, "size")
        if size > current:
            raise NotFound(f"the log has no checkpoint of size {size} (its size is {current})",
                           code="TREE_SIZE_UNKNOWN")
        return size

    def inclusion_proof(self, index: int, size: int | None = None) -> dict[str, Any]:
        """RFC 9162 §2.1.3.1: ``{index, size, leafHash, hashes}`` (hex) of entry ``index`` in the tree of
        ``size`` entries (default: the current checkpoint's). NotFound beyond the log, BadRequest otherwise."""
        size = self._size(size)
        leaf = self._leaf(index)
        if index >= size:
            raise BadRequest(f"entry {index} is not in the tree of size {size}", code="NOT_IN_TREE")
        hashes = tlog.inclusion_proof(index, size, self._tiles.reader())
        return {"index": index, "size": size, "leafHash": tlog.leaf_hash(leaf).hex(),
                "hashes": [h.hex() for h in hashes]}

    def inclusion_proof_by_hash(self, leaf_hash: str, size: int | None = None) -> dict[str, Any]:
        """:meth:`inclusion_proof` of the first entry whose leaf hash is ``leaf_hash`` (hex)."""
        if not isinstance(leaf_hash, str) or not SHA256_RE.fullmatch(leaf_hash.lower()):
            raise BadRequest("hash must be a leaf hash: 64 hexadecimal digits", code="INVALID_HASH")
        size = self._size(size)
        found = self._store.get(NS_HASH, leaf_hash.lower())
        if found is None or int(found) >= size:
            raise NotFound(f"no entry with leaf hash {leaf_hash.lower()} in the tree of size {size}",
                           code="ENTRY_NOT_FOUND")
        return self.inclusion_proof(int(found), size)

    def find(self, sha256: str, entry_type: str | None = None, size: int | None = None) -> int:
        """The index of the first entry (of type ``entry_type`` when given) whose content hash is ``sha256``
        (:func:`content_sha256`) in the tree of ``size`` entries (default: the current checkpoint's); one store
        read. BadRequest for a malformed hash or type, NotFound when no such entry is in that tree."""
        if not isinstance(sha256, str) or not SHA256_RE.fullmatch(sha256.lower()):
            raise BadRequest("sha256 must be 64 hexadecimal digits", code="INVALID_SHA256")
        if entry_type is not None and not TYPE_RE.fullmatch(entry_type):
            raise BadRequest(f"entry type {entry_type!r} must match ^[a-z][a-z0-9-]{{0,31}}$",
                             code="INVALID_ENTRY_TYPE")
        size = self._size(size)
        key = sha256.lower() if entry_type is None else f"{entry_type}/{sha256.lower()}"
        found = self._store.get(NS_CONTENT, key)
        if found is None or int(found) >= size:
            kind = "" if entry_type is None else f" of type {entry_type}"
            raise NotFound(f"no entry{kind} with sha256 {sha256.lower()} in the tree of size {size}",
                           code="ENTRY_NOT_FOUND")
        return int(found)

    def consistency_proof(self, old: int, new: int | None = None) -> dict[str, Any]:
        """RFC 9162 §2.1.4.1: ``{from, to, hashes}`` proving the tree of ``new`` entries (default: the current
        checkpoint's) extends the tree of ``old`` entries (``0 < old <= new``)."""
        _check_int(old, "from")
        new = self._size(new)
        if not 0 < old <= new:
            raise BadRequest(f"no consistency proof from size {old} to size {new} (0 < from <= to)",
                             code="INVALID_TREE_SIZES")
        hashes = tlog.consistency_proof(old, new, self._tiles.reader())
        return {"from": old, "to": new, "hashes": [h.hex() for h in hashes]}

    def root(self, size: int) -> bytes:
        """The root hash of the tree of the first ``size`` entries (``size`` <= the current checkpoint's)."""
        return tlog.mth(0, self._size(size), self._tiles.reader())


def _content_index(first: int, entries: Sequence[bytes]) -> dict[str, bytes]:
    """Content hash and ``type/content hash`` -> index of the first of ``entries`` (at ``first``) carrying it."""
    index: dict[str, bytes] = {}
    for offset, entry in enumerate(entries):
        position = str(first + offset).encode()
        entry_type, digest = content_sha256(entry)
        index.setdefault(digest, position)
        index.setdefault(f"{entry_type}/{digest}", position)
    return index


def _check_int(value: object, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INDEX:
        raise BadRequest(f"{name} must be an integer from 0 to 2**62", code="INVALID_PARAMETER")
