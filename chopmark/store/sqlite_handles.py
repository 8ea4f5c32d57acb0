"""The per-thread connections of :class:`chopmark.store.sqlite.SQLiteStore`: a thread's (or greenlet's) pair of
connections, and the lease that hands them to the next thread when one ends."""

from __future__ import annotations

import os
import sqlite3
from contextlib import suppress

__all__ = ["IDLE_HANDLES", "Handle", "Lease"]

#: Connections inherited over a fork: kept alive (never closed) in the child, as SQLite requires.
_ABANDONED: list[sqlite3.Connection] = []
#: Handles (connection pairs) of ended threads kept for the next ones, per store.
IDLE_HANDLES = 32


class Handle:
    """The connections of one thread. On garbage collection it closes them, unless they were inherited over a
    fork: those are parked in ``_ABANDONED`` instead (closing them in the child could disturb the parent)."""

    __slots__ = ("__weakref__", "durable", "ephemeral", "pid")

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.durable: sqlite3.Connection | None = None
        self.ephemeral: sqlite3.Connection | None = None

    def release(self) -> None:
        """Close (same process) or abandon (forked child) both connections."""
        conns = [c for c in (self.durable, self.ephemeral) if c is not None]
        self.durable = self.ephemeral = None
        if self.pid != os.getpid():
            _ABANDONED.extend(conns)
            return
        for conn in conns:
            with suppress(sqlite3.Error):
                conn.close()

    def __del__(self) -> None:
        with suppress(Exception):
            self.release()


class Lease:
    """A thread's (or greenlet's) hold on a handle. When the thread ends, its thread-local storage drops the lease,
    which hands the handle to the store's idle list for the next thread instead of closing it: a gevent worker
    runs each connection in a new greenlet, and opening connections per request (WAL set-up, and a checkpoint
    when the last one closes) would cost more than the request. A handle in a transaction is closed instead."""

    __slots__ = ("handle", "idle")

    def __init__(self, handle: Handle, idle: list[Handle]) -> None:
        self.handle = handle
        self.idle = idle

    def __del__(self) -> None:
        with suppress(Exception):
            handle = self.handle
            if handle.pid != os.getpid():
                return  # inherited over a fork: the handle's own __del__ abandons its connections
            conns = [c for c in (handle.durable, handle.ephemeral) if c is not None]
            if len(self.idle) < IDLE_HANDLES and not any(c.in_transaction for c in conns):
                self.idle.append(handle)
            else:
                handle.release()
