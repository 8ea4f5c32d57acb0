"""The storage contract against both backends (SQLite with a fake clock, a real Redis), then what only one
backend can show (SQLite across processes, after SIGKILL and fork; the Redis key layout and AOF durability),
then the store URLs."""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
import redis
from redis.crc import key_slot

from chopmark.errors import ConfigurationError
from chopmark.store import RedisStore, SQLiteStore, Store, StoreUnavailable, describe_store, open_store
from chopmark.store.records import create_json, get_json, put_json, update_json
from tests.support.redis import free_port, own_redis_server

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
TTL = 0.2
ODD_KEYS = ["a*b", "a?b", "a[b]", "a{b}", "a:b", "a\\b", "a}", "{a", "[", "*"]


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Backend:
    """A store under test; ``clock`` is set for SQLite (fake time), None for Redis (real time)."""

    name: str
    store: Store
    clock: FakeClock | None

    def expire(self, gone: Callable[[], bool]) -> None:
        """Let ``TTL`` pass (advance the fake clock, or poll Redis) until ``gone()`` holds."""
        if self.clock is not None:
            self.clock.now += TTL + 0.001
            assert gone()
            return
        deadline = time.monotonic() + 10  # a liveness bound, not a speed check
        while not gone():
            assert time.monotonic() < deadline, "the record never expired"
            time.sleep(0.05)


@pytest.fixture(params=["sqlite", "redis", "redis-cluster"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each contract test runs once per backend: SQLite, Redis, and a real 3-node Redis Cluster."""
    if request.param == "redis":
        yield Backend("redis", request.getfixturevalue("redis_store"), None)
        return
    if request.param == "redis-cluster":
        url = request.getfixturevalue("redis_cluster_url")
        cluster_store = open_store(f"{url}?prefix=cmtest-{secrets.token_hex(6)}")
        yield Backend("redis-cluster", cluster_store, None)
        cluster_store.close()
        return
    clock = FakeClock()
    store = SQLiteStore(tmp_path / "contract.db", clock=clock)
    yield Backend("sqlite", store, clock)
    store.close()


def race(n: int, fn: Callable[[int], T]) -> list[T]:
    """Run ``fn(0..n-1)`` in ``n`` threads released together."""
    barrier = threading.Barrier(n)

    def work(i: int) -> T:
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(work, range(n)))


class TestContract:
    """Every method of :class:`Store`, with the same expectations for both backends."""

    def test_is_a_store_and_answers_ping(self, backend: Backend) -> None:
        assert isinstance(backend.store, Store)
        backend.store.ping()

    def test_get_put_overwrite_and_namespaces(self, backend: Backend) -> None:
        s = backend.store
        assert s.get("doc", "k") is None
        s.put("doc", "k", b"one")
        s.put("doc", "k", b"two")
        s.put("other", "k", b"")
        assert (s.get("doc", "k"), s.get("other", "k")) == (b"two", b"")

    def test_every_byte_value_round_trips(self, backend: Backend) -> None:
        s, value = backend.store, bytes(range(256))
        s.put("doc", "bin", value)
        assert s.get("doc", "bin") == value
        assert s.compare_and_set("doc", "bin", value, value[::-1])
        assert s.take("doc", "bin") == value[::-1]
        s.append("log", "bin", value)
        assert s.read("log", "bin", 0, 1) == [value]

    def test_create_if_absent(self, backend: Backend) -> None:
        s = backend.store
        assert s.create("doc", "k", b"first")
        assert not s.create("doc", "k", b"second")
        assert s.get("doc", "k") == b"first"

    def test_create_race_has_one_winner(self, backend: Backend) -> None:
        won = race(20, lambda i: backend.store.create("doc", "race", str(i).encode()))
        assert won.count(True) == 1
        assert backend.store.get("doc", "race") == str(won.index(True)).encode()

    def test_create_with_ttl_expires_and_counts_as_absent(self, backend: Backend) -> None:
        s = backend.store
        assert s.create("chal", "c1", b"nonce", ttl=TTL)
        assert s.get("chal", "c1") == b"nonce"
        backend.expire(lambda: s.get("chal", "c1") is None)
        assert list(s.scan("chal")) == []
        assert s.take("chal", "c1") is None
        assert s.create("chal", "c1", b"again", ttl=TTL)
        assert s.get("chal", "c1") == b"again"

    def test_bad_ttl_is_refused(self, backend: Backend) -> None:
        for ttl in (0, -1, float("nan"), float("inf")):
            with pytest.raises(ValueError):
                backend.store.create("chal", "c", b"x", ttl=ttl)
            with pytest.raises(ValueError):
                backend.store.incr("rate", "c", ttl=ttl)

    def test_compare_and_set(self, backend: Backend) -> None:
        s = backend.store
        assert s.compare_and_set("doc", "k", None, b"v1")
        assert not s.compare_and_set("doc", "k", None, b"v2")
        assert not s.compare_and_set("doc", "k", b"nope", b"v2")
        assert s.compare_and_set("doc", "k", b"v1", b"v2")
        assert not s.compare_and_set("doc", "absent", b"v1", b"v2")
        assert (s.get("doc", "k"), s.get("doc", "absent")) == (b"v2", None)

    def test_compare_and_set_keeps_the_expiry(self, backend: Backend) -> None:
        s = backend.store
        assert s.create("chal", "k", b"issued", ttl=TTL)
        assert s.compare_and_set("chal", "k", b"issued", b"used")
        backend.expire(lambda: s.get("chal", "k") is None)
        assert s.compare_and_set("chal", "k", None, b"fresh")

    def test_update_json_race_counts_every_update(self, backend: Backend) -> None:
        race(20, lambda i: update_json(backend.store, "doc", "n", lambda cur: {"n": (cur or {"n": 0})["n"] + 1}))
        assert get_json(backend.store, "doc", "n") == {"n": 20}

    def test_json_helpers(self, backend: Backend) -> None:
        s = backend.store
        put_json(s, "doc", "j", {"b": "é", "a": [1, None]})
        assert s.get("doc", "j") == '{"a":[1,null],"b":"é"}'.encode()
        assert get_json(s, "doc", "j") == {"a": [1, None], "b": "é"}
        assert not create_json(s, "doc", "j", 1)
        assert create_json(s, "doc", "t", 1, ttl=TTL)
        assert get_json(s, "doc", "absent") is None

    def test_delete(self, backend: Backend) -> None:
        s = backend.store
        assert not s.delete("doc", "k")
        s.put("doc", "k", b"v")
        s.append("log", "k", b"e")
        assert s.delete("doc", "k")
        assert s.delete("log", "k")
        assert (s.get("doc", "k"), s.length("log", "k")) == (None, 0)

    def test_take_is_single_use_under_a_race(self, backend: Backend) -> None:
        s = backend.store
        assert s.take("doc", "k") is None
        s.put("doc", "k", b"token")
        got = race(20, lambda _: s.take("doc", "k"))
        assert [g for g in got if g is not None] == [b"token"]
        assert s.get("doc", "k") is None

    def test_scan_is_sorted_and_filtered(self, backend: Backend) -> None:
        s = backend.store
        for key in ["b2", "a", "b1", "é", "c", *ODD_KEYS]:
            s.put("doc", key, key.encode())
        s.put("doc2", "b3", b"other namespace")
        s.append("doc", "b4", b"a log is not listed")
        s.create("doc", "b5", b"expires", ttl=TTL)
        backend.expire(lambda: s.get("doc", "b5") is None)
        everything = list(s.scan("doc"))
        assert [k for k, _ in everything] == sorted(["b2", "a", "b1", "é", "c", *ODD_KEYS])
        assert all(v == k.encode() for k, v in everything)
        assert list(s.scan("doc", "b")) == [("b1", b"b1"), ("b2", b"b2")]
        for key in ODD_KEYS:
            assert [k for k, _ in s.scan("doc", key)] == sorted(k for k in ODD_KEYS if k.startswith(key))
        assert list(s.scan("doc", "zz")) == []

    def test_incr(self, backend: Backend) -> None:
        s = backend.store
        assert s.incr("ctr", "k") == 1
        assert s.incr("ctr", "k", 10) == 11
        assert s.incr("ctr", "k", -12) == -1
        assert s.get("ctr", "k") == b"-1"
        s.put("ctr", "text", b"abc")
        with pytest.raises(ValueError):
            s.incr("ctr", "text")
        assert race(20, lambda _: s.incr("ctr", "race")).count(20) == 1

    def test_incr_with_ttl_is_a_fixed_window(self, backend: Backend) -> None:
        s = backend.store
        assert s.incr("rate", "ip", ttl=TTL) == 1
        assert s.incr("rate", "ip", ttl=TTL) == 2
        backend.expire(lambda: s.get("rate", "ip") is None)
        assert s.incr("rate", "ip", ttl=TTL) == 1

    def test_bits_order_and_padding(self, backend: Backend) -> None:
        s = backend.store
        assert not s.get_bit("sl", "k", 0)
        assert s.get_bits("sl", "k", 3) == b"\0\0\0"
        assert not s.set_bit("sl", "k", 0, True)
        assert s.get_bits("sl", "k", 1) == b"\x80"
        assert not s.set_bit("sl", "k", 9, True)
        assert s.get_bits("sl", "k", 4) == b"\x80\x40\0\0"
        assert s.set_bit("sl", "k", 0, True)
        assert s.set_bit("sl", "k", 0, False)
        assert (s.get_bit("sl", "k", 0), s.get_bit("sl", "k", 9), s.get_bit("sl", "k", 10_000)) == (False, True, False)
        assert s.get_bits("sl", "k", 0) == b""
        assert s.get_bits("sl", "k", 1) == b"\0"

    def test_bit_index_range(self, backend: Backend) -> None:
        s = backend.store
        assert not s.get_bit("sl", "k", 2**32 - 1)
        for index in (-1, 2**32):
            with pytest.raises(ValueError):
                s.set_bit("sl", "k", index, True)
            with pytest.raises(ValueError):
                s.get_bit("sl", "k", index)

    def test_concurrent_bits_are_all_kept(self, backend: Backend) -> None:
        indexes = [i * 37 % 1000 for i in range(50)]
        assert race(50, lambda i: backend.store.set_bit("sl", "big", indexes[i], True)) == [False] * 50
        bits = backend.store.get_bits("sl", "big", 125)
        assert sum(bin(b).count("1") for b in bits) == 50
        assert all(backend.store.get_bit("sl", "big", i) for i in indexes)

    def test_log(self, backend: Backend) -> None:
        s = backend.store
        assert (s.length("log", "k"), s.read("log", "k", 0, 10)) == (0, [])
        assert [s.append("log", "k", bytes([i])) for i in range(5)] == [0, 1, 2, 3, 4]
        assert s.read("log", "k", 1, 3) == [b"\1", b"\2"]
        assert s.read("log", "k", 3, 100) == [b"\3", b"\4"]
        assert s.read("log", "k", 3, 3) == s.read("log", "k", 4, 2) == []
        assert s.length("log", "k") == 5
        with pytest.raises(ValueError):
            s.read("log", "k", -1, 2)

    def test_concurrent_appends_get_distinct_indexes(self, backend: Backend) -> None:
        s = backend.store
        indexes = race(20, lambda i: s.append("log", "race", str(i).encode()))
        assert sorted(indexes) == list(range(20))
        entries = s.read("log", "race", 0, 20)
        assert all(entries[index] == str(i).encode() for i, index in enumerate(indexes))

    def test_append_many_is_contiguous_and_atomic(self, backend: Backend) -> None:
        s = backend.store
        assert s.append_many("log", "m", []) == 0
        assert s.append_many("log", "m", [b"a", b"b", b"c"]) == 0
        assert s.append("log", "m", b"d") == 3
        assert s.append_many("log", "m", [bytes(range(256)), b""]) == 4
        assert s.append_many("log", "m", []) == 6
        assert s.read("log", "m", 0, 10) == [b"a", b"b", b"c", b"d", bytes(range(256)), b""]
        assert s.length("log", "m") == 6

    def test_concurrent_append_many_batches_never_interleave(self, backend: Backend) -> None:
        s = backend.store
        firsts = race(10, lambda i: s.append_many("log", "batches", [f"{i}.{j}".encode() for j in range(50)]))
        assert sorted(firsts) == list(range(0, 500, 50))
        entries = s.read("log", "batches", 0, 500)
        for i, first in enumerate(firsts):
            assert entries[first:first + 50] == [f"{i}.{j}".encode() for j in range(50)]

    def test_create_many_creates_only_absent_keys(self, backend: Backend) -> None:
        s = backend.store
        assert s.create_many("idx", {}) == 0
        s.put("idx", "b", b"old")
        assert s.create("idx", "gone", b"x", ttl=TTL)
        backend.expire(lambda: s.get("idx", "gone") is None)
        assert s.create_many("idx", {"a": b"1", "b": b"2", "gone": b"3", **{k: b"odd" for k in ODD_KEYS}}) \
            == 2 + len(ODD_KEYS)
        assert (s.get("idx", "a"), s.get("idx", "b"), s.get("idx", "gone")) == (b"1", b"old", b"3")
        assert all(s.get("idx", k) == b"odd" for k in ODD_KEYS)
        assert s.create_many("idx", {"a": b"again", "c": b"4"}) == 1
        assert (s.get("idx", "a"), s.get("idx", "c")) == (b"1", b"4")

    def test_create_many_race_has_one_winner_per_key(self, backend: Backend) -> None:
        s = backend.store
        created = race(8, lambda i: s.create_many("idx", {f"k{j}": str(i).encode() for j in range(30)}))
        assert sum(created) == 30
        assert all(s.get("idx", f"k{j}") is not None for j in range(30))

    @pytest.mark.parametrize(("ns", "key"), [("", "k"), ("Doc", "k"), ("a b", "k"), ("a:b", "k"), ("doc", ""),
                                             ("doc", "x" * 513), ("doc", "\ud800")])
    def test_invalid_names_are_refused(self, backend: Backend, ns: str, key: str) -> None:
        s = backend.store
        calls: list[Callable[[], object]] = [
            lambda: s.get(ns, key), lambda: s.put(ns, key, b""), lambda: s.create(ns, key, b""),
            lambda: s.compare_and_set(ns, key, None, b""), lambda: s.delete(ns, key), lambda: s.take(ns, key),
            lambda: s.incr(ns, key), lambda: s.set_bit(ns, key, 0, True), lambda: s.get_bit(ns, key, 0),
            lambda: s.get_bits(ns, key, 1), lambda: s.append(ns, key, b""), lambda: s.read(ns, key, 0, 1),
            lambda: s.length(ns, key), lambda: s.append_many(ns, key, [b""]), lambda: s.create_many(ns, {key: b""}),
            *([lambda: list(s.scan(ns, key))] if key else []),
        ]
        for call in calls:
            with pytest.raises(ValueError):
                call()


# --- SQLite only ------------------------------------------------------------------------------------------------

WORKER = """
import json, sys
from chopmark.store import SQLiteStore
store = SQLiteStore(sys.argv[1])
print(json.dumps([[store.append("log", "shared", b"x"), store.incr("ctr", "shared")] for _ in range(25)]))
"""

ACK_THEN_HANG = """
import sys, time
from chopmark.store import SQLiteStore
store = SQLiteStore(sys.argv[1])
store.put("doc", "k", b"durable")
store.append("log", "k", b"entry")
print("acked", flush=True)
time.sleep(60)
"""


def python(code: str, *args: str) -> subprocess.Popen[str]:
    """Start ``code`` in a fresh interpreter (not a fork) of the project venv."""
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO, stdout=subprocess.PIPE, text=True)


def test_sqlite_durable_connection_is_wal_and_synchronous_full(sqlite_store: SQLiteStore) -> None:
    assert sqlite_store.pragmas() == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": 10_000,
                                      "ephemeral_synchronous": 1}


def test_sqlite_processes_share_one_file(tmp_path: Path) -> None:
    db = str(tmp_path / "sub" / "shared.db")
    children = [python(WORKER, db) for _ in range(4)]
    results = [json.loads(child.communicate(timeout=60)[0]) for child in children]
    assert all(child.returncode == 0 for child in children)
    indexes = sorted(i for result in results for i, _ in result)
    counts = sorted(n for result in results for _, n in result)
    assert indexes == list(range(100))
    assert counts == list(range(1, 101))


def test_sqlite_acknowledged_write_survives_sigkill(tmp_path: Path) -> None:
    db = str(tmp_path / "crash.db")
    child = python(ACK_THEN_HANG, db)
    assert child.stdout is not None
    assert child.stdout.readline() == "acked\n"
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    child.stdout.close()
    store = SQLiteStore(db)
    assert (store.get("doc", "k"), store.read("log", "k", 0, 5)) == (b"durable", [b"entry"])
    store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_sqlite_forked_child_reopens_its_connections(sqlite_store: SQLiteStore) -> None:
    sqlite_store.put("doc", "parent", b"p")
    inherited = sqlite_store._local.handle
    pid = os.fork()
    if pid == 0:  # the child: must not reuse the parent's connection
        code = 1
        try:
            sqlite_store.put("doc", "child", b"c")
            fresh = sqlite_store._local.handle is not inherited and inherited.durable is not None
            code = 0 if fresh and sqlite_store.get("doc", "parent") == b"p" else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sqlite_store.get("doc", "child") == b"c"


def test_sqlite_purges_expired_rows(tmp_path: Path) -> None:
    clock = FakeClock()
    store = SQLiteStore(tmp_path / "purge.db", clock=clock)
    for i in range(10):
        store.create("chal", f"c{i}", b"x", ttl=1)
    store.put("doc", "kept", b"v")
    clock.now += 2
    assert store.purge_expired() == 10
    with sqlite3.connect(tmp_path / "purge.db") as raw:
        assert raw.execute("SELECT count(*) FROM kv").fetchone() == (1,)
    store.close()


def test_sqlite_unusable_database_is_store_unavailable(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(StoreUnavailable):
        SQLiteStore(tmp_path / "a-file" / "x.db").ping()
    (tmp_path / "garbage.db").write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(StoreUnavailable):
        SQLiteStore(tmp_path / "garbage.db").ping()
    store = SQLiteStore(tmp_path / "locked.db", busy_timeout=0.05)
    store.ping()
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreUnavailable):
        store.put("doc", "k", b"v")
    holder.execute("ROLLBACK")
    holder.close()
    store.put("doc", "k", b"v")
    store.close()
    with pytest.raises(StoreUnavailable):
        store.get("doc", "k")


# --- Redis only -------------------------------------------------------------------------------------------------

def test_redis_key_layout_uses_the_record_key_as_hash_tag(redis_store: RedisStore) -> None:
    redis_store.put("issuer", "list:7", b"meta")
    redis_store.set_bit("bits", "list:7", 3, True)
    raw = redis_store.client
    assert raw.get(f"{redis_store.prefix}:issuer:{{list:7}}") == b"meta"
    assert raw.get(f"{redis_store.prefix}:bits:{{list:7}}") == b"\x10"
    assert key_slot(redis_store.redis_key("issuer", "list:7").encode()) == key_slot(b"other:ns:{list:7}")


def test_redis_wrong_kind_of_value_is_a_value_error(redis_store: RedisStore) -> None:
    redis_store.append("log", "k", b"e")
    with pytest.raises(ValueError):
        redis_store.get("log", "k")


def test_redis_write_survives_kill9_with_appendfsync_always(tmp_path: Path) -> None:
    with own_redis_server(tmp_path / "redis") as server:
        store = open_store(f"{server.url}?prefix=durable")
        store.put("doc", "k", b"acknowledged")
        assert store.append("log", "k", b"entry") == 0
        server.kill9()
        with pytest.raises(StoreUnavailable):
            store.ping()
        server.restart()
        assert (store.get("doc", "k"), store.read("log", "k", 0, 5)) == (b"acknowledged", [b"entry"])
        raw = redis.Redis.from_url(server.url)  # our own server only: make it a read-only replica
        raw.replicaof("127.0.0.1", str(free_port()))
        with pytest.raises(StoreUnavailable, match="read only"):
            store.put("doc", "k", b"refused")
        raw.close()
        store.close()


# --- store URLs -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "path"), [("sqlite:///rel/dir/x.db", Path("rel/dir/x.db")),
                                           ("sqlite:////abs/dir/x.db", Path("/abs/dir/x.db")),
                                           ("SQLITE:///my%20file.db", Path("my file.db"))])
def test_open_store_sqlite_urls(url: str, path: Path) -> None:
    store = open_store(url)
    assert isinstance(store, SQLiteStore)
    assert store.path == path


@pytest.mark.parametrize(("url", "prefix", "options"), [
    ("redis://127.0.0.1:6379/0", "cm", {"host": "127.0.0.1", "port": 6379, "db": 0, "socket_timeout": 5.0}),
    ("redis://:s3cret@example.org:7000/2?prefix=cm.v2", "cm.v2", {"db": 2, "password": "s3cret"}),
    ("rediss://user:pw@example.org/1?socket_timeout=2", "cm", {"db": 1, "username": "user", "socket_timeout": 2.0}),
    ("unix:///run/redis.sock?db=3&prefix=x", "x", {"path": "/run/redis.sock", "db": 3}),
])
def test_open_store_redis_urls(url: str, prefix: str, options: dict[str, object]) -> None:
    store = open_store(url)
    assert isinstance(store, RedisStore)
    assert store.prefix == prefix
    kwargs = store.client.get_connection_kwargs()
    assert {name: kwargs.get(name) for name in options} == options
    store.close()


@pytest.mark.parametrize("url", ["", "nonsense", "mysql://h/db", "sqlite://host/x.db", "sqlite:x.db", "sqlite:///",
                                 "sqlite:////", "sqlite:///:memory:", "sqlite:///x.db?mode=ro", "sqlite:///dir/",
                                 "redis://", "redis://h:port/0", "redis://h/abc", "redis://h/0?prefix=bad{x}",
                                 "redis://h/0?bogus=1", "redis://h/0?socket_timeout=abc", "redis://h/0#frag",
                                 "unix://"])
def test_open_store_refuses_bad_urls(url: str) -> None:
    with pytest.raises(ConfigurationError, match="sqlite:///"):
        open_store(url)


@pytest.mark.parametrize(("url", "shown"), [
    ("redis://user:s3cret@h:6379/0", "redis://user:***@h:6379/0"),
    ("rediss://:s3cret@h/1?prefix=p", "rediss://:***@h/1?prefix=p"),
    ("redis://h/0?password=s3cret&prefix=p", "redis://h/0?password=***&prefix=p"),
    ("redis://h:6379/0?prefix=p", "redis://h:6379/0?prefix=p"),
    ("sqlite:////var/lib/chopmark/x.db", "sqlite:////var/lib/chopmark/x.db"),
])
def test_describe_store_redacts_passwords(url: str, shown: str) -> None:
    assert describe_store(url) == shown
