"""Crash safety with real processes: kill -9 the server (SQLite) or Redis in the middle of a burst of
issuances. Every acknowledged (201) credential must survive with identical content, status indexes must never
be handed out twice (also after the restart), acknowledged key creation must survive, and while Redis is down
the service must answer 503 problem details (not crash pages)."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.support.live import PROBLEM_JSON, Deployment, Reply, deployed, get, status_entries
from tests.support.redis import own_redis_server, redis_server_binary

pytestmark = pytest.mark.server

THREADS = 4
ACKED_BEFORE_CRASH = 20
WAIT_TIMEOUT = 60.0


class Burst:
    """Several threads issuing credentials as fast as they can until stopped; collects every outcome."""

    def __init__(self, live: Deployment, threads: int = THREADS) -> None:
        self.live = live
        self.acked: list[dict[str, Any]] = []  # the 201 bodies
        self.rejected: list[Reply] = []  # every other HTTP answer
        self.errors: list[BaseException] = []  # connection refused, reset, ...
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Burst:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        """One thread: issue until stopped, recording each outcome."""
        while not self._stop.is_set():
            try:
                reply = self.live.issue()
            except (OSError, http.client.HTTPException) as error:
                with self._lock:
                    self.errors.append(error)
                time.sleep(0.05)
                continue
            with self._lock:
                if reply.status == 201:
                    self.acked.append(reply.json)
                else:
                    self.rejected.append(reply)

    def wait_for(self, what: str, count: int) -> None:
        """Wait until ``len(self.<what>) >= count`` (fails after WAIT_TIMEOUT)."""
        deadline = time.monotonic() + WAIT_TIMEOUT
        while len(getattr(self, what)) < count:
            assert time.monotonic() < deadline, f"only {len(getattr(self, what))} {what} after {WAIT_TIMEOUT} s"
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop issuing and wait for the threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=WAIT_TIMEOUT)


def unique_entries(credentials: Iterable[dict[str, Any]]) -> set[tuple[str, str, int]]:
    """Every ``(purpose, list, index)`` of the credentials, asserting that none occurs twice."""
    seen: set[tuple[str, str, int]] = set()
    for credential in credentials:
        for purpose, (list_url, index) in status_entries(credential).items():
            entry = (purpose, list_url, index)
            assert entry not in seen, f"status entry {entry} was handed out twice"
            seen.add(entry)
    return seen


def assert_survived(live: Deployment, acked: list[dict[str, Any]]) -> None:
    """Every acknowledged credential is retrievable with identical content; their status entries are unique;
    credentials issued now reuse none of them."""
    assert len({body["credentialId"] for body in acked}) == len(acked)
    for body in acked:
        reply = live.fetch(body["credentialId"])
        assert reply.status == 200, (body["credentialId"], reply.json)
        assert reply.json["verifiableCredential"] == body["verifiableCredential"]
    before = unique_entries(body["verifiableCredential"] for body in acked)
    fresh = [live.issued()[1] for _ in range(10)]
    after = unique_entries(fresh)
    assert not before & after, f"indexes reused after the crash: {sorted(before & after)[:5]}"
    for credential in (acked[0]["verifiableCredential"], acked[-1]["verifiableCredential"], fresh[-1]):
        verdict = live.verify(credential)
        assert verdict.status == 200, verdict.json


def assert_issuer_survived(live: Deployment, record: dict[str, Any], token: str) -> None:
    """The issuer created before the crash is served with the same keys, and its private keys still sign."""
    document = get(live.at(f"/issuers/{record['name']}/did.json"))
    assert document.status == 200, document.json
    served = {m["id"]: m["publicKeyMultibase"] for m in document.json["verificationMethod"]}
    assert served == {f"{record['did']}#{k['id']}": k["publicKeyMultibase"] for k in record["keys"]}
    for suite in ("eddsa-rdfc-2022", "ecdsa-jcs-2019"):
        reply = live.issue(suite, token=token)
        assert reply.status == 201, reply.json
        verdict = live.verify(reply.json["verifiableCredential"])
        assert verdict.status == 200, verdict.json


def test_sqlite_survives_kill9_of_the_server(tmp_path: Path) -> None:
    with deployed(tmp_path / "data") as live:
        with Burst(live) as burst:
            burst.wait_for("acked", ACKED_BEFORE_CRASH // 2)
            keeper, keeper_token = live.server.new_issuer("keeper")  # acknowledged key creation
            burst.wait_for("acked", ACKED_BEFORE_CRASH)
            live.server.kill9()
            burst.wait_for("errors", THREADS)  # the server is gone
        assert not [r.json for r in burst.rejected], "the server answered errors before it was killed"
        live.server.start()
        assert_survived(live, burst.acked)
        assert_issuer_survived(live, keeper, keeper_token)


def assert_store_unavailable(reply: Reply) -> None:
    """A 503 RFC 9457 problem for the unreachable store (not an HTML page, not a 500)."""
    assert reply.status == 503, (reply.status, reply.raw[:300])
    assert reply.content_type == PROBLEM_JSON, reply.headers.get("Content-Type")
    assert reply.json["status"] == 503 and reply.json["code"] == "STORE_UNAVAILABLE", reply.json


@pytest.mark.redis
def test_redis_survives_kill9_of_redis(tmp_path: Path) -> None:
    if redis_server_binary() is None:
        pytest.fail("redis-server is not installed: the Redis crash test cannot run")
    with own_redis_server(tmp_path / "redis") as redis_server:
        store = f"{redis_server.url}?prefix=crash"
        with deployed(tmp_path / "data", store) as live:
            with Burst(live) as burst:
                burst.wait_for("acked", ACKED_BEFORE_CRASH // 2)
                keeper, keeper_token = live.server.new_issuer("keeper")  # acknowledged key creation
                burst.wait_for("acked", ACKED_BEFORE_CRASH)
                redis_server.kill9()
                burst.wait_for("rejected", 2 * THREADS)  # the server keeps answering while Redis is down
            assert not burst.errors, f"the server dropped connections: {burst.errors[:3]}"
            for reply in burst.rejected:
                assert_store_unavailable(reply)
            assert_store_unavailable(get(live.at("/health")))
            redis_server.restart()  # same port and directory: the append-only file is replayed
            live.server.wait_healthy()
            assert_survived(live, burst.acked)
            assert_issuer_survived(live, keeper, keeper_token)
