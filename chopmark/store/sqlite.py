"""The SQLite implementation of the storage contract (:class:`chopmark.store.base.Store`).

One database file is shared safely by several threads and processes (gunicorn workers, admin CLI runs):

* WAL journal, ``busy_timeout`` so writers queue instead of failing, ``BEGIN IMMEDIATE`` for every
  read-modify-write, so two writers never race between their read and their write;
* durable writes go through a connection with ``synchronous=FULL``: the WAL is fsynced before a write returns;
* writes with a ``ttl`` (ephemeral) go through a second connection with ``synchronous=NORMAL``: no fsync per
  commit, yet checkpoints stay synced, so a crash can lose them but never corrupt the file;
* one pair of connections per thread (per greenlet under the gevent worker), opened lazily, handed to the next
  thread when one ends, reopened after ``os.fork`` (a connection inherited over a fork is never used nor closed
  in the child).

Records, counters (ASCII decimal) and bitstrings are rows of ``kv`` (like Redis strings); logs are rows of
``log``. Expired rows count as absent everywhere and are purged lazily.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from chopmark.errors import StoreUnavailable
from chopmark.store.base import check_bit_index, check_bits_size, check_name, check_ttl, log_range, parse_counter
from chopmark.store.sqlite_handles import Handle as _Handle
from chopmark.store.sqlite_handles import Lease as _Lease

__all__ = ["SQLiteStore"]

#: Bit indexes must be below this (the Redis limit: a 512 MiB string).
_INT64 = 2**63
_PURGE_EVERY = 256
_PURGE_BATCH = 1000

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, expires REAL,"
    " PRIMARY KEY (ns, key)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires) WHERE expires IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS log (ns TEXT NOT NULL, key TEXT NOT NULL, idx INTEGER NOT NULL,"
    " value BLOB NOT NULL, PRIMARY KEY (ns, key, idx)) WITHOUT ROWID",
)
_LIVE = "(expires IS NULL OR expires > ?)"
_UPSERT = "INSERT OR REPLACE INTO kv (ns, key, value, expires) VALUES (?, ?, ?, ?)"
_CREATE = (
    "INSERT INTO kv (ns, key, value, expires) VALUES (?, ?, ?, ?) ON CONFLICT (ns, key) DO UPDATE"
    " SET value = excluded.value, expires = excluded.expires WHERE kv.expires IS NOT NULL AND kv.expires <= ?"
)

#: Errors that are programming errors, not an unusable database.
_NOT_UNAVAILABLE = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.DataError,
                    sqlite3.NotSupportedError)


class SQLiteStore:
    """The storage contract over one SQLite file (``path``; its directory is created when missing).

    ``clock`` (seconds, like :func:`time.time`) decides expiry; ``busy_timeout`` is how long (seconds) an
    operation waits for another writer before it raises ``StoreUnavailable``.
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time, busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self._clock = clock
        self._busy_ms = max(0, int(busy_timeout * 1000))
        self._local = threading.local()
        self._handles: weakref.WeakSet[_Handle] = weakref.WeakSet()
        self._idle: list[_Handle] = []
        self._pid_locks: dict[int, tuple[threading.Lock, threading.Lock]] = {}
        self._schema_ready = False
        self._closed = False
        self._ephemeral_writes = itertools.count(1)

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # -- connections -----------------------------------------------------------------------------------------
    @property
    def _lock(self) -> threading.Lock:
        """Guards the handle registry and the schema set-up."""
        return self._locks()[0]

    @property
    def _writer(self) -> threading.Lock:
        """Queues this process's writers: a queued thread wakes as soon as the previous write is done instead of
        sleeping in SQLite's busy handler (other processes still meet through the busy handler)."""
        return self._locks()[1]

    def _locks(self) -> tuple[threading.Lock, threading.Lock]:
        """This process's locks (a forked child gets new ones: a lock held at fork time would never be released)."""
        pid = os.getpid()
        locks = self._pid_locks.get(pid)
        if locks is None:
            locks = self._pid_locks.setdefault(pid, (threading.Lock(), threading.Lock()))
        return locks

    def _handle(self) -> _Handle:
        if self._closed:
            raise StoreUnavailable(f"SQLite store {self.path} is closed")
        handle: _Handle | None = getattr(self._local, "handle", None)
        if handle is None or handle.pid != os.getpid():
            handle = self._idle_handle()
            if handle is None:
                handle = _Handle()
                with self._lock:
                    self._handles.add(handle)
            self._local.handle = handle
            self._local.lease = _Lease(handle, self._idle)
        return handle

    def _idle_handle(self) -> _Handle | None:
        """A handle an ended thread of this process left, if any (a parent's, after a fork, is abandoned)."""
        while True:
            try:
                handle = self._idle.pop()
            except IndexError:
                return None
            if handle.pid == os.getpid():
                return handle
            handle.release()

    def _conn(self, ephemeral: bool = False) -> sqlite3.Connection:
        handle = self._handle()
        if ephemeral:
            if handle.ephemeral is None:
                handle.ephemeral = self._connect("NORMAL")
            return handle.ephemeral
        if handle.durable is None:
            handle.durable = self._connect("FULL")
        return handle.durable

    def _connect(self, synchronous: str) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create the directory of SQLite store {self.path}: {exc}") from exc
        conn = sqlite3.connect(self.path, timeout=self._busy_ms / 1000, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            mode = self._switch_to_wal(conn)
            if str(mode).lower() != "wal":
                raise StoreUnavailable(f"SQLite store {self.path} cannot use WAL mode (got {mode!r})")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            self._ensure_schema(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _switch_to_wal(self, conn: sqlite3.Connection) -> str:
        """``PRAGMA journal_mode = WAL``, retried until the busy timeout: while another connection opens the same
        new file (WAL recovery, its own mode switch) SQLite can answer "database is locked" at once, without
        calling the busy handler, so many workers starting on a new data directory could fail."""
        deadline = time.monotonic() + self._busy_ms / 1000
        delay = 0.002
        while True:
            try:
                return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            if self._schema_ready:
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute("COMMIT")
            except BaseException:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            self._schema_ready = True

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Map every error that means "the database is unusable" to ``StoreUnavailable``."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, _NOT_UNAVAILABLE):
                raise
            raise StoreUnavailable(f"SQLite store {self.path}: {exc}") from exc

    @contextmanager
    def _tx(self, *, ephemeral: bool = False) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction: committed when the block ends, rolled back when it raises."""
        with self._guard(), self._writer:
            conn = self._conn(ephemeral)
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self._guard():
            return self._conn().execute(sql, params).fetchall()

    def _write(self, sql: str, params: tuple[Any, ...], *, ephemeral: bool = False) -> int:
        """One autocommit statement; returns the number of changed rows."""
        with self._guard(), self._writer:
            changed = self._conn(ephemeral).execute(sql, params).rowcount
            if ephemeral:
                self._purge_now_and_then(self._conn(ephemeral))
            return changed

    def _purge_now_and_then(self, conn: sqlite3.Connection) -> None:
        """Every ``_PURGE_EVERY`` ephemeral writes, delete a batch of expired rows (they would pile up)."""
        if next(self._ephemeral_writes) % _PURGE_EVERY == 0:
            self._purge_batch(conn)

    def _purge_batch(self, conn: sqlite3.Connection) -> int:
        sql = "DELETE FROM kv WHERE (ns, key) IN (SELECT ns, key FROM kv WHERE expires <= ? LIMIT ?)"
        return conn.execute(sql, (self._clock(), _PURGE_BATCH)).rowcount

    def _live_row(self, conn: sqlite3.Connection, ns: str, key: str) -> tuple[bytes, float | None] | None:
        row = conn.execute("SELECT value, expires FROM kv WHERE ns = ? AND key = ?", (ns, key)).fetchone()
        if row is None or (row[1] is not None and row[1] <= self._clock()):
            return None
        return bytes(row[0]), row[1]

    # -- records ---------------------------------------------------------------------------------------------
    def get(self, ns: str, key: str) -> bytes | None:
        """The value, or None when absent (or expired)."""
        check_name(ns, key)
        rows = self._query(f"SELECT value FROM kv WHERE ns = ? AND key = ? AND {_LIVE}", (ns, key, self._clock()))
        return bytes(rows[0][0]) if rows else None

    def put(self, ns: str, key: str, value: bytes) -> None:
        """Create or overwrite (durable); any expiry of the old record is dropped."""
        check_name(ns, key)
        self._write(_UPSERT, (ns, key, bytes(value), None))

    def create(self, ns: str, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """Atomic create-if-absent (an expired record counts as absent); True when this call created it."""
        check_name(ns, key)
        check_ttl(ttl)
        now = self._clock()
        expires = None if ttl is None else now + ttl
        return self._write(_CREATE, (ns, key, bytes(value), expires, now), ephemeral=ttl is not None) == 1

    def create_many(self, ns: str, items: Mapping[str, bytes]) -> int:
        """Create each absent (or expired) key of ``items``, all in one transaction; returns how many."""
        for key in items:
            check_name(ns, key)
        with self._tx() as conn:
            now = self._clock()
            return int(conn.executemany(_CREATE, [(ns, k, bytes(v), None, now) for k, v in items.items()]).rowcount)

    def compare_and_set(self, ns: str, key: str, expected: bytes | None, value: bytes) -> bool:
        """Replace the value when it equals ``expected`` (None: when absent); an existing expiry is kept."""
        check_name(ns, key)
        with self._tx() as conn:
            now = self._clock()
            if expected is None:
                return conn.execute(_CREATE, (ns, key, bytes(value), None, now)).rowcount == 1
            sql = f"UPDATE kv SET value = ? WHERE ns = ? AND key = ? AND value = ? AND {_LIVE}"
            return conn.execute(sql, (bytes(value), ns, key, bytes(expected), now)).rowcount == 1

    def delete(self, ns: str, key: str) -> bool:
        """Remove the record (or counter, bitstring, log); True when something live was removed."""
        check_name(ns, key)
        with self._tx() as conn:
            rows = conn.execute("DELETE FROM kv WHERE ns = ? AND key = ? RETURNING expires", (ns, key)).fetchall()
            removed = bool(rows) and (rows[0][0] is None or rows[0][0] > self._clock())
            return conn.execute("DELETE FROM log WHERE ns = ? AND key = ?", (ns, key)).rowcount > 0 or removed

    def take(self, ns: str, key: str) -> bytes | None:
        """Atomic get-and-delete: exactly one of concurrent callers gets the value."""
        check_name(ns, key)
        with self._tx() as conn:
            sql = "DELETE FROM kv WHERE ns = ? AND key = ? RETURNING value, expires"
            rows = conn.execute(sql, (ns, key)).fetchall()
            if not rows or (rows[0][1] is not None and rows[0][1] <= self._clock()):
                return None
            return bytes(rows[0][0])

    def scan(self, ns: str, prefix: str = "") -> Iterator[tuple[str, bytes]]:
        """Every live ``(key, value)`` of ``ns`` whose key starts with ``prefix``, sorted by key (code points)."""
        check_name(ns, prefix or "-")
        sql = (f"SELECT key, value FROM kv WHERE ns = ? AND key >= ? AND substr(key, 1, ?) = ? AND {_LIVE}"
               " ORDER BY key")
        rows = self._query(sql, (ns, prefix, len(prefix), prefix, self._clock()))
        return iter([(str(k), bytes(v)) for k, v in rows])

    # -- counters --------------------------------------------------------------------------------------------
    def incr(self, ns: str, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Add ``amount`` to a counter (absent = 0) and return the new value; with ``ttl`` a new counter
        expires ``ttl`` seconds after its creation (an existing counter keeps its expiry)."""
        check_name(ns, key)
        check_ttl(ttl)
        with self._tx(ephemeral=ttl is not None) as conn:
            row = self._live_row(conn, ns, key)
            if row is None:
                current, expires = 0, (None if ttl is None else self._clock() + ttl)
            else:
                current, expires = parse_counter(row[0]), row[1]
            new = current + int(amount)
            if not -_INT64 <= new < _INT64:
                raise ValueError("counter overflow (the range is that of a signed 64-bit integer)")
            conn.execute(_UPSERT, (ns, key, str(new).encode("ascii"), expires))
            if ttl is not None:
                self._purge_now_and_then(conn)
        return new

    # -- bitstrings ------------------------------------------------------------------------------------------
    def set_bit(self, ns: str, key: str, index: int, value: bool) -> bool:
        """Set bit ``index`` (bit 0 = most significant bit of byte 0), growing the bitstring; returns the
        previous bit."""
        check_name(ns, key)
        check_bit_index(index)
        byte, mask = index >> 3, 0x80 >> (index & 7)
        with self._tx() as conn:
            row = self._live_row(conn, ns, key)
            data = bytearray(row[0]) if row else bytearray()
            if byte >= len(data):
                data.extend(bytes(byte + 1 - len(data)))
            previous = bool(data[byte] & mask)
            data[byte] = data[byte] | mask if value else data[byte] & ~mask
            conn.execute(_UPSERT, (ns, key, bytes(data), row[1] if row else None))
        return previous

    def get_bit(self, ns: str, key: str, index: int) -> bool:
        """One bit (False when never set)."""
        check_name(ns, key)
        check_bit_index(index)
        sql = f"SELECT substr(value, ?, 1) FROM kv WHERE ns = ? AND key = ? AND {_LIVE}"
        rows = self._query(sql, ((index >> 3) + 1, ns, key, self._clock()))
        chunk = bytes(rows[0][0]) if rows else b""
        return bool(chunk) and bool(chunk[0] & (0x80 >> (index & 7)))

    def get_bits(self, ns: str, key: str, size: int) -> bytes:
        """The first ``size`` bytes of the bitstring, zero-padded."""
        check_name(ns, key)
        check_bits_size(size)
        sql = f"SELECT substr(value, 1, ?) FROM kv WHERE ns = ? AND key = ? AND {_LIVE}"
        rows = self._query(sql, (size, ns, key, self._clock())) if size else []
        data = bytes(rows[0][0]) if rows else b""
        return data + bytes(size - len(data))

    # -- logs ------------------------------------------------------------------------------------------------
    def append(self, ns: str, key: str, value: bytes) -> int:
        """Append to the log ``(ns, key)``; returns the 0-based index of the new entry."""
        return self.append_many(ns, key, [value])

    def append_many(self, ns: str, key: str, values: Sequence[bytes]) -> int:
        """Append ``values`` in one transaction (contiguous indexes); returns the index of the first."""
        check_name(ns, key)
        with self._tx() as conn:
            sql = "SELECT coalesce(max(idx) + 1, 0) FROM log WHERE ns = ? AND key = ?"
            first = int(conn.execute(sql, (ns, key)).fetchone()[0])
            conn.executemany("INSERT INTO log (ns, key, idx, value) VALUES (?, ?, ?, ?)",
                             [(ns, key, first + i, bytes(value)) for i, value in enumerate(values)])
            return first

    def read(self, ns: str, key: str, start: int, stop: int) -> list[bytes]:
        """Entries ``start`` (inclusive) to ``stop`` (exclusive); indexes must not be negative."""
        check_name(ns, key)
        if not log_range(start, stop):
            return []
        sql = "SELECT value FROM log WHERE ns = ? AND key = ? AND idx >= ? AND idx < ? ORDER BY idx"
        return [bytes(row[0]) for row in self._query(sql, (ns, key, start, stop))]

    def length(self, ns: str, key: str) -> int:
        """Number of entries in a log."""
        check_name(ns, key)
        rows = self._query("SELECT coalesce(max(idx) + 1, 0) FROM log WHERE ns = ? AND key = ?", (ns, key))
        return int(rows[0][0])

    # -- lifecycle -------------------------------------------------------------------------------------------
    def ping(self) -> None:
        """Open the file (creating the schema) and read from it; ``StoreUnavailable`` when that fails."""
        self._query("SELECT count(*) FROM sqlite_master", ())

    def purge_expired(self) -> int:
        """Delete every expired row now (they are also purged lazily); returns how many were deleted."""
        total = 0
        with self._guard(), self._writer:
            conn = self._conn(True)
            while (deleted := self._purge_batch(conn)) > 0:
                total += deleted
        return total

    def pragmas(self) -> dict[str, Any]:
        """The settings of this thread's connections (diagnostics): ``journal_mode``, ``synchronous`` (2 =
        FULL) and ``busy_timeout`` (ms) of the durable connection, ``ephemeral_synchronous`` (1 = NORMAL)."""
        with self._guard():
            durable, ephemeral = self._conn(), self._conn(True)
            return {
                "journal_mode": durable.execute("PRAGMA journal_mode").fetchone()[0],
                "synchronous": durable.execute("PRAGMA synchronous").fetchone()[0],
                "busy_timeout": durable.execute("PRAGMA busy_timeout").fetchone()[0],
                "ephemeral_synchronous": ephemeral.execute("PRAGMA synchronous").fetchone()[0],
            }

    def close(self) -> None:
        """Close the connections of every thread (the store may not be used afterwards)."""
        self._closed = True
        self._idle.clear()
        with self._lock:
            handles = list(self._handles)
        for handle in handles:
            handle.release()
