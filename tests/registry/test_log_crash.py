"""Crash safety of the evidence log with real processes: kill -9 the server (and, on Redis, Redis itself) while
threads append and integrate. Every acknowledged entry (201 or 202) must be in the log afterwards, at its index,
with its exact bytes and provable against the new checkpoint, and every checkpoint published before the crash
must be consistent with the checkpoints after it (same key, same history)."""

from __future__ import annotations

import base64
import http.client
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chopmark import tlog
from chopmark.codecs import jcs
from chopmark.tlog import note
from tests.support.live import Deployment, deployed, get, post
from tests.support.redis import OwnRedis, own_redis_server, redis_server_binary

pytestmark = pytest.mark.server

THREADS = 6
ACKED_BEFORE_CRASH = 150
WAIT_TIMEOUT = 60.0


@dataclass
class Appender:
    """Threads appending entries as fast as they can (and one polling the checkpoint) until stopped."""

    live: Deployment
    acked: dict[int, bytes] = field(default_factory=dict)  # index -> exact leaf bytes
    checkpoints: set[str] = field(default_factory=set)  # every signed note seen
    errors: list[BaseException] = field(default_factory=list)
    refused: list[Any] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _append(self, worker: int) -> None:
        count = 0
        while not self._stop.is_set():
            data = f"{worker}-{count}".encode()
            count += 1
            try:
                reply = post(self.live.at("/log/entries"), {"type": "t", "data": base64.b64encode(data).decode()},
                             token=self.live.token, timeout=10)
            except (OSError, http.client.HTTPException) as error:
                self._failed(error)
                continue
            with self._lock:
                if reply.status in (201, 202):
                    self.acked[reply.json["index"]] = jcs.canonicalize_general(
                        {"type": "t", "data": base64.b64encode(data).decode()})
                    if reply.status == 201:
                        self.checkpoints.add(reply.json["checkpoint"])
                else:
                    self.refused.append((reply.status, reply.json))

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                reply = get(self.live.at("/log/checkpoint"), timeout=10)
            except (OSError, http.client.HTTPException) as error:
                self._failed(error)
                continue
            if reply.status == 200:
                with self._lock:
                    self.checkpoints.add(reply.raw.decode())

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            self.errors.append(error)
        time.sleep(0.05)

    @contextmanager
    def running(self) -> Iterator[Appender]:
        threads = [threading.Thread(target=self._append, args=(i,), daemon=True) for i in range(THREADS)]
        threads.append(threading.Thread(target=self._poll, daemon=True))
        for thread in threads:
            thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            for thread in threads:
                thread.join(timeout=WAIT_TIMEOUT)

    def wait_for(self, what: str, count: int) -> None:
        deadline = time.monotonic() + WAIT_TIMEOUT
        while len(getattr(self, what)) < count:
            assert time.monotonic() < deadline, f"only {len(getattr(self, what))} {what} after {WAIT_TIMEOUT} s"
            time.sleep(0.01)


def current_checkpoint(live: Deployment, vkey: str, at_least: int) -> note.Checkpoint:
    """The checkpoint once it covers ``at_least`` entries (a dead sequencer's lock expires first)."""
    origin = note.parse_verifier_key(vkey).name
    deadline = time.monotonic() + WAIT_TIMEOUT
    while True:
        checkpoint = note.open_checkpoint(get(live.at("/log/checkpoint")).raw.decode(), origin, vkey)
        if checkpoint.size >= at_least:
            return checkpoint
        assert time.monotonic() < deadline, f"the log stays at {checkpoint.size} < {at_least} entries"
        time.sleep(0.1)


def assert_survived(live: Deployment, vkey: str, appender: Appender) -> None:
    assert get(live.at("/log/key")).raw.decode().strip() == vkey  # the sealed key survived
    assert not appender.refused, appender.refused[:3]
    final = current_checkpoint(live, vkey, max(appender.acked) + 1)
    origin = note.parse_verifier_key(vkey).name
    for index, leaf in sorted(appender.acked.items()):
        entry = get(live.at(f"/log/entries/{index}")).json
        assert base64.b64decode(entry["data"]) == leaf, index
        proof = get(live.at(f"/log/proofs/inclusion?index={index}&size={final.size}")).json
        path = [bytes.fromhex(h) for h in proof["hashes"]]
        assert tlog.verify_inclusion(index, final.size, tlog.leaf_hash(leaf), path, final.root_hash), index
    before = sorted({note.open_checkpoint(n, origin, vkey) for n in appender.checkpoints}, key=lambda c: c.size)
    assert before, "no checkpoint was published before the crash"
    assert len({c.size for c in before}) == len(before), "two roots for one tree size"
    for old in before:
        if old.size == 0:
            continue
        proof = get(live.at(f"/log/proofs/consistency?from={old.size}&to={final.size}")).json
        assert tlog.verify_consistency(old.size, final.size, [bytes.fromhex(h) for h in proof["hashes"]],
                                       old.root_hash, final.root_hash), old.size
    fresh = post(live.at("/log/entries"), {"type": "t", "sha256": "ab" * 32}, token=live.token)
    assert fresh.status in (201, 202) and fresh.json["index"] >= len(appender.acked), fresh.json  # 202: the dead
    later = current_checkpoint(live, vkey, fresh.json["index"] + 1)  # sequencer's lock has not expired yet
    proof = get(live.at(f"/log/proofs/consistency?from={final.size}&to={later.size}")).json
    assert tlog.verify_consistency(final.size, later.size, [bytes.fromhex(h) for h in proof["hashes"]],
                                   final.root_hash, later.root_hash)


def test_sqlite_kill9_of_the_server_during_appends(tmp_path: Path) -> None:
    with deployed(tmp_path / "data") as live:
        vkey = get(live.at("/log/key")).raw.decode().strip()
        appender = Appender(live)
        with appender.running():
            appender.wait_for("acked", ACKED_BEFORE_CRASH)
            live.server.kill9()
            appender.wait_for("errors", THREADS)
        live.server.start()
        assert_survived(live, vkey, appender)


@pytest.mark.redis
def test_redis_kill9_of_redis_and_the_server_during_appends(tmp_path: Path) -> None:
    if redis_server_binary() is None:
        pytest.fail("redis-server is not installed: the Redis crash test cannot run")
    redis_server: OwnRedis
    with own_redis_server(tmp_path / "redis") as redis_server, \
            deployed(tmp_path / "data", f"{redis_server.url}?prefix=logcrash") as live:
        vkey = get(live.at("/log/key")).raw.decode().strip()
        appender = Appender(live)
        with appender.running():
            appender.wait_for("acked", ACKED_BEFORE_CRASH)
            redis_server.kill9()
            live.server.kill9()
            appender.wait_for("errors", THREADS)
        appender.refused = [r for r in appender.refused if r[0] != 503]  # answered while Redis was down
        redis_server.restart()  # the append-only file (appendfsync always) is replayed
        live.server.start()
        assert_survived(live, vkey, appender)
