"""The evidence log on real stores (SQLite and Redis): appends, integration into signed checkpoints, proofs checked
against the pure RFC 9162 math of :mod:`chopmark.tlog` at many sizes and across tile boundaries, batching, many
threads appending at once, crashes between the integration steps, and the log key in the host DID document."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chopmark import tlog
from chopmark.codecs import jcs
from chopmark.errors import BadRequest, NoteError, NotFound
from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyPair, KeyType, PublicKey
from chopmark.store import Store
from chopmark.store.sqlite import SQLiteStore
from chopmark.tlog import note
from registry import evidence
from registry.evidence import EvidenceLog, leaf_bytes
from registry.evidence_tiles import NS_TILE, NS_TIME, LogCorrupted
from registry.service import Registry
from tests.registry.support import START, Clock

ORIGIN = "vc.example/log"


@pytest.fixture
def pair() -> KeyPair:
    return KeyPair.generate(KeyType.ED25519, os.urandom)


@pytest.fixture
def log(store: Store, pair: KeyPair, clock: Clock) -> EvidenceLog:
    return EvidenceLog(store, pair.signer("did:web:vc.example#log-key"), origin=ORIGIN, clock=clock)


def appended(log: EvidenceLog, leaves: list[bytes], count: int, tag: str = "test") -> list[int]:
    """Append ``count`` data entries (one batch), remembering their leaf hashes in ``leaves``."""
    items = [{"type": tag, "data": f"{tag}-{len(leaves) + i}".encode()} for i in range(count)]
    indexes = log.append_many(items)
    leaves.extend(tlog.leaf_hash(leaf_bytes(tag, data=item["data"])) for item in items)
    return indexes


def hashes(hex_list: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hex_list]


def check_checkpoint(log: EvidenceLog, signed: note.SignedCheckpoint, leaves: list[bytes]) -> note.Checkpoint:
    """The signed note opens with the log key, and its root is the MTH of the first ``size`` leaves."""
    opened = note.open_checkpoint(signed.note, ORIGIN, log.verifier_key())
    assert opened == signed.checkpoint
    assert opened.root_hash == tlog.root(leaves[:opened.size])
    return opened


# --- leaves --------------------------------------------------------------------------------------------------

def test_leaf_bytes_bind_the_type_and_are_jcs() -> None:
    assert leaf_bytes("photo", data=b"\x00\xff") == b'{"data":"AP8=","type":"photo"}'
    digest = "ab" * 32
    assert leaf_bytes("credential", sha256=digest) == jcs.canonicalize_general({"type": "credential", "sha256": digest})
    assert leaf_bytes("a", data=b"x") != leaf_bytes("b", data=b"x")
    assert leaf_bytes("t", data=b"\0" * evidence.MAX_DATA)


@pytest.mark.parametrize(("entry_type", "kwargs", "code"), [
    ("Photo", {"data": b""}, "INVALID_ENTRY_TYPE"), ("", {"data": b""}, "INVALID_ENTRY_TYPE"),
    ("a" * 33, {"data": b""}, "INVALID_ENTRY_TYPE"), ("-a", {"data": b""}, "INVALID_ENTRY_TYPE"),
    ("t", {}, "INVALID_ENTRY"), ("t", {"data": b"", "sha256": "ab" * 32}, "INVALID_ENTRY"),
    ("t", {"data": b"\0" * (evidence.MAX_DATA + 1)}, "ENTRY_TOO_LARGE"),
    ("t", {"sha256": "AB" * 32}, "INVALID_SHA256"), ("t", {"sha256": "ab"}, "INVALID_SHA256")])
def test_bad_entries_are_refused(entry_type: str, kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(BadRequest) as caught:
        leaf_bytes(entry_type, **kwargs)
    assert caught.value.instance_code == code


# --- integration and proofs ----------------------------------------------------------------------------------

GROWTH = [1, 1, 1, 2, 3, 8, 240, 1, 1, 254, 1, 2, 400, 60, 1]  # sizes 1..975: every tile boundary of level 0


def test_proofs_match_the_pure_math_at_many_sizes(log: EvidenceLog) -> None:
    leaves: list[bytes] = []
    seen: list[note.Checkpoint] = []
    for count in GROWTH:
        appended(log, leaves, count)
        signed = log.integrate()
        assert signed is not None and signed.checkpoint.size == len(leaves)
        checkpoint = check_checkpoint(log, signed, leaves)
        n = checkpoint.size
        for index in {0, 1, n // 2, n - 2, n - 1, 255, 256, 511, 512} & set(range(n)):
            proof = log.inclusion_proof(index, n)
            assert proof["leafHash"] == leaves[index].hex() and (proof["index"], proof["size"]) == (index, n)
            assert hashes(proof["hashes"]) == tlog.inclusion_proof_for(leaves, index, n)
            assert tlog.verify_inclusion(index, n, leaves[index], hashes(proof["hashes"]), checkpoint.root_hash)
        for old in seen:  # every checkpoint is consistent with every earlier one
            proof = log.consistency_proof(old.size, n)
            assert hashes(proof["hashes"]) == tlog.consistency_proof_for(leaves, old.size, n)
            assert tlog.verify_consistency(old.size, n, hashes(proof["hashes"]), old.root_hash, checkpoint.root_hash)
        seen.append(checkpoint)
    assert log.root(300) == tlog.root(leaves[:300])
    for index in range(0, len(leaves), 37):  # older tree sizes still prove from the grown tiles
        size = min(len(leaves), index + 1 + index // 3)
        assert hashes(log.inclusion_proof(index, size)["hashes"]) == tlog.inclusion_proof_for(leaves, index, size)


def test_a_tree_beyond_65536_entries_uses_level_two_tiles(log: EvidenceLog, store: Store) -> None:
    leaves: list[bytes] = []
    for _ in range(66):
        appended(log, leaves, 1000)
    while (signed := log.integrate(max_batch=20_000)) is not None and signed.checkpoint.size < len(leaves):
        pass
    assert signed is not None
    check_checkpoint(log, signed, leaves)
    assert len(store.get(NS_TILE, "2/0") or b"") == 32  # one complete subtree of 65536 leaves
    assert len(store.get(NS_TILE, "1/0") or b"") == 256 * 32
    tree = tlog.MerkleTree(leaves)
    for index, size in ((0, 66_000), (65_535, 65_536), (65_536, 65_537), (40_000, 66_000), (65_999, 66_000)):
        assert hashes(log.inclusion_proof(index, size)["hashes"]) == tree.inclusion_proof(index, size)
    for old, new in ((65_536, 66_000), (1, 66_000), (65_535, 65_537), (300, 65_536)):
        assert hashes(log.consistency_proof(old, new)["hashes"]) == tree.consistency_proof(old, new)


def test_entries_times_and_proofs_by_hash(log: EvidenceLog, clock: Clock) -> None:
    first = log.append("photo", data=b"pixels")
    again = log.append("photo", data=b"pixels")  # the same leaf twice: by hash, the first one is found
    digest = log.append("credential", sha256="cd" * 32)
    pending = log.entry(first)
    assert pending == {"index": 0, "type": "photo", "data": base64.b64encode(b'{"data":"cGl4ZWxz","type":"photo"}')
                       .decode(), "integratedAt": None}
    with pytest.raises(NotFound):
        log.inclusion_proof_by_hash(tlog.leaf_hash(leaf_bytes("photo", data=b"pixels")).hex())
    clock.now = START + timedelta(milliseconds=1234)
    log.integrate()
    assert log.entry(digest)["integratedAt"] == "2026-06-01T12:00:01.234Z"
    assert log.entry(digest)["type"] == "credential"
    leaf = tlog.leaf_hash(leaf_bytes("photo", data=b"pixels")).hex()
    assert log.inclusion_proof_by_hash(leaf)["index"] == first != again
    assert log.inclusion_proof_by_hash(leaf.upper(), 1)["size"] == 1
    with pytest.raises(NotFound):
        log.inclusion_proof_by_hash("00" * 32)
    with pytest.raises(NotFound):
        log.entry(3)


def test_entries_are_found_by_the_sha256_they_carry(log: EvidenceLog, store: Store) -> None:
    """Issue 11: a user who logged ``{"type": "photo", "sha256": X}`` finds the entry by X (not only by the leaf
    hash), through an index in the store (one read), with the first entry winning and an optional type."""
    photo = hashlib.sha256(b"pixels").hexdigest()
    log.append("note", data=b"hello")
    first = log.append("photo", sha256=photo)
    log.append("photo", sha256=photo)  # logged twice: the first is found
    with pytest.raises(NotFound):
        log.find(photo)  # still pending
    log.append("provenance", data=b"pixels")  # its data's SHA-256 is the photo's hash too
    log.integrate()
    assert log.find(photo) == first and log.find(photo.upper()) == first
    assert log.find(photo, "photo") == first and log.find(photo, "provenance") == 3
    assert log.find(hashlib.sha256(b"hello").hexdigest()) == 0
    assert log.inclusion_proof(log.find(photo, size=2), 2)["index"] == first
    with pytest.raises(NotFound):
        log.find(photo, size=1)  # not in the tree of size 1
    with pytest.raises(NotFound):
        log.find(photo, "note")
    with pytest.raises(BadRequest):
        log.find("xyz")
    with pytest.raises(BadRequest):
        log.find(photo, "Bad Type")
    assert store.get(evidence.NS_CONTENT, f"photo/{photo}") == str(first).encode()  # an index, not a scan


def test_reindex_indexes_entries_logged_before_the_content_index(log: EvidenceLog, store: Store) -> None:
    photo = hashlib.sha256(b"old photo").hexdigest()
    log.append("photo", sha256=photo)
    log.append("note", data=b"old note")
    log.integrate()
    for key in (photo, f"photo/{photo}"):  # as a log written before this version has it: no content index
        assert store.delete(evidence.NS_CONTENT, key)
    with pytest.raises(NotFound):
        log.find(photo)
    assert log.reindex(batch=1) == 2 and log.reindex() == 2  # idempotent
    assert log.find(photo) == 0 and log.find(hashlib.sha256(b"old note").hexdigest(), "note") == 1


@pytest.mark.parametrize(("call", "error"), [
    (lambda log: log.inclusion_proof(2, 2), BadRequest), (lambda log: log.inclusion_proof(0, 4), NotFound),
    (lambda log: log.inclusion_proof(7), NotFound), (lambda log: log.inclusion_proof(-1), BadRequest),
    (lambda log: log.inclusion_proof(True), BadRequest), (lambda log: log.consistency_proof(0, 2), BadRequest),
    (lambda log: log.consistency_proof(3, 2), BadRequest), (lambda log: log.consistency_proof(1, 4), NotFound),
    (lambda log: log.inclusion_proof_by_hash("xyz"), BadRequest), (lambda log: log.entry(2**62 + 1), BadRequest)])
def test_out_of_range_requests(log: EvidenceLog, call: Any, error: type[Exception]) -> None:
    log.append_many([{"type": "t", "sha256": "00" * 32}, {"type": "t", "sha256": "11" * 32}])
    log.integrate()
    log.append("t", data=b"pending")
    with pytest.raises(error):
        call(log)


def test_one_integration_takes_every_pending_entry_up_to_the_batch_limit(log: EvidenceLog) -> None:
    leaves: list[bytes] = []
    appended(log, leaves, evidence.MAX_BATCH + 100)
    first = log.integrate()
    assert first is not None and first.checkpoint.size == evidence.MAX_BATCH
    second = log.integrate()
    assert second is not None and second.checkpoint.size == len(leaves)
    check_checkpoint(log, second, leaves)
    assert log.integrate() == second  # nothing pending: the same checkpoint, not a new signature
    assert log.checkpoint() == second.note and log.tree_size() == len(leaves) == log.length()


def test_the_empty_log_has_a_signed_checkpoint(log: EvidenceLog) -> None:
    opened = note.open_checkpoint(log.checkpoint(), ORIGIN, log.verifier_key())
    assert (opened.size, opened.root_hash) == (0, tlog.EMPTY_ROOT)
    other = KeyPair.generate(KeyType.ED25519, os.urandom)
    with pytest.raises(NoteError):
        note.open_checkpoint(log.checkpoint(), ORIGIN, note.verifier_key(ORIGIN, other.public_key.raw))


def test_concurrent_appends_from_many_threads_form_one_consistent_sequence(log: EvidenceLog) -> None:
    threads, per_thread = 12, 40
    seen: list[note.SignedCheckpoint] = []
    lock = threading.Lock()

    def work(worker: int) -> list[int]:
        mine = []
        for i in range(per_thread):
            index = log.append("t", data=f"{worker}.{i}".encode())
            signed = log.wait_integrated(index, 30)
            assert signed is not None and signed.checkpoint.size > index
            with lock:
                seen.append(signed)
            mine.append(index)
        return mine

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(work, range(threads)))
    indexes = sorted(i for mine in results for i in mine)
    assert indexes == list(range(threads * per_thread))
    entries = [json.loads(base64.b64decode(log.entry(i)["data"])) for i in indexes]
    assert sorted(base64.b64decode(e["data"]).decode() for e in entries) == sorted(
        f"{w}.{i}" for w in range(threads) for i in range(per_thread))
    for worker, mine in enumerate(results):  # each thread's entries are in its own order
        assert [base64.b64decode(entries[i]["data"]).decode() for i in mine] == [f"{worker}.{i}" for i in range(40)]
    leaves = [tlog.leaf_hash(base64.b64decode(log.entry(i)["data"])) for i in indexes]
    by_size = {s.checkpoint.size: s for s in seen}
    assert len(by_size) == len({(s.checkpoint.size, s.checkpoint.root_hash) for s in seen})
    ordered = sorted(by_size.values(), key=lambda s: s.checkpoint.size)
    for signed in ordered:  # every root is the MTH of a prefix of the one sequence: all pairwise consistent
        check_checkpoint(log, signed, leaves)
    for older, newer in itertools.pairwise(ordered):
        proof = hashes(log.consistency_proof(older.checkpoint.size, newer.checkpoint.size)["hashes"])
        assert tlog.verify_consistency(older.checkpoint.size, newer.checkpoint.size, proof,
                                       older.checkpoint.root_hash, newer.checkpoint.root_hash)


def test_the_sequencer_runs_one_at_a_time_and_a_dead_holders_lock_expires(log: EvidenceLog, store: Store) -> None:
    log.append("t", data=b"x")
    assert store.create(evidence.NS_LOCK, evidence.LOG, b"someone else", ttl=0.3)
    assert log.integrate() is None
    assert log.wait_integrated(0, 0.05) is None
    signed = log.wait_integrated(0, 10)  # the lock expires; then this caller integrates
    assert signed is not None and signed.checkpoint.size == 1
    assert store.get(evidence.NS_LOCK, evidence.LOG) is None  # released


# --- crashes between the steps of an integration -------------------------------------------------------------

class CrashingStore:
    """The real store, except that the chosen write raises once (a process dying at that point)."""

    def __init__(self, store: Store, method: str, ns: str) -> None:
        self._store, self._method, self._ns, self.armed = store, method, ns, True

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._store, name)
        if name != self._method:
            return real

        def maybe_crash(ns: str, *args: Any, **kwargs: Any) -> Any:
            if self.armed and ns == self._ns:
                self.armed = False
                raise SystemExit("crash")
            return real(ns, *args, **kwargs)
        return maybe_crash


@pytest.mark.parametrize(("method", "ns"), [("compare_and_set", evidence.NS_STATE), ("create_many", evidence.NS_HASH),
                                            ("compare_and_set", NS_TIME), ("compare_and_set", NS_TILE)])
def test_a_crash_during_integration_never_breaks_consistency(store: Store, pair: KeyPair, clock: Clock,
                                                             method: str, ns: str) -> None:
    signer = pair.signer("k")
    healthy = EvidenceLog(store, signer, origin=ORIGIN, clock=clock)
    leaves: list[bytes] = []
    appended(healthy, leaves, 300)
    before = healthy.integrate()
    assert before is not None
    appended(healthy, leaves, 250)
    crashing = EvidenceLog(CrashingStore(store, method, ns), signer, origin=ORIGIN, clock=clock)  # type: ignore[arg-type]
    with pytest.raises(SystemExit):
        crashing.integrate()
    store.delete(evidence.NS_LOCK, evidence.LOG)  # the dead process's lock (it would expire)
    appended(healthy, leaves, 10)
    after = healthy.integrate()
    assert after is not None
    if after.checkpoint.size < len(leaves):  # the crash came after the state was written
        after = healthy.integrate()
        assert after is not None
    check_checkpoint(healthy, after, leaves)
    proof = hashes(healthy.consistency_proof(before.checkpoint.size, after.checkpoint.size)["hashes"])
    assert tlog.verify_consistency(300, len(leaves), proof, before.checkpoint.root_hash, after.checkpoint.root_hash)
    assert all(healthy.entry(i)["integratedAt"] for i in (299, 300, 549, 559))
    assert hashes(healthy.inclusion_proof(400)["hashes"]) == tlog.inclusion_proof_for(leaves, 400)


def test_tampered_tiles_are_detected_not_served(log: EvidenceLog, store: Store) -> None:
    leaves: list[bytes] = []
    appended(log, leaves, 300)
    log.integrate()
    tile = store.get(NS_TILE, "0/1") or b""
    store.put(NS_TILE, "0/1", tile[:32])  # a tile shorter than the checkpoint needs
    with pytest.raises(LogCorrupted):
        log.inclusion_proof(299)
    store.put(NS_TILE, "0/1", bytes(32) + tile[32:])  # altered hashes: the proof no longer verifies
    root = note.open_checkpoint(log.checkpoint(), ORIGIN, log.verifier_key()).root_hash
    assert not tlog.verify_inclusion(257, 300, leaves[257], hashes(log.inclusion_proof(257)["hashes"]), root)
    store.put(NS_TILE, "0/1", tile + bytes(32))  # a hash beyond the checkpoint that the entries contradict
    appended(log, leaves, 5)
    with pytest.raises(LogCorrupted):
        log.integrate()


# --- the log key and the registry ----------------------------------------------------------------------------

def build(path: Path) -> Registry:
    return Registry.build(SQLiteStore(path), kek=bytes(range(32)), public_url="https://vc.example:8443",
                          public_host="vc.example%3A8443", rng=os.urandom, clock=lambda: START,
                          loader=DocumentLoader.pinned())


def test_the_log_key_is_sealed_once_and_listed_in_the_host_did_document(tmp_path: Path) -> None:
    registry_path = tmp_path / "registry.db"
    registries = [build(registry_path) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:  # created on first use, once, also when many processes race
        keys = set(pool.map(lambda r: r.evidence.verifier_key(), registries))
    assert len(keys) == 1
    vkey = keys.pop()
    verifier = note.parse_verifier_key(vkey)
    assert verifier.name == registries[0].evidence.origin == "vc.example:8443/log"
    registries[0].issuers.ensure_host()
    document = registries[0].issuers.did_document("_host")
    method = next(m for m in document["verificationMethod"] if m["id"] == "did:web:vc.example%3A8443#log-key")
    assert method["type"] == "Multikey" and method["controller"] == document["id"]
    assert method["id"] not in document["assertionMethod"] and method["id"] not in document["authentication"]
    assert document["https://chopmark.org/vocab#logSigning"] == [method["id"]]
    assert PublicKey.from_multibase(method["publicKeyMultibase"]).raw == verifier.public_key
    assert json.loads(registries[3].issuers.document_bytes("_host")) == document
    registries[1].evidence.append("t", data=b"x")
    assert note.open_checkpoint(build(registry_path).evidence.checkpoint(), verifier.name, vkey).size == 1
