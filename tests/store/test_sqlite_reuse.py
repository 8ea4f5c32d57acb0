"""Issue 11: the gevent worker runs each client connection in a new greenlet (greenlet-local connections). The SQLite
store hands the connections of an ended thread or greenlet to the next one instead of opening new ones per request
(WAL set-up, and a checkpoint whenever the last connection closes, made issuance twice as slow)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from chopmark.store import SQLiteStore


def handle_of_a_thread(store: SQLiteStore, value: bytes) -> Any:
    """Write ``value`` from a new thread, which then ends; return the handle that thread used."""
    seen: list[Any] = []

    def work() -> None:
        store.put("doc", "k", value)
        seen.append(store._local.handle)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return seen[0]


def test_an_ended_threads_connections_serve_the_next_thread(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "reuse.db")
    first = handle_of_a_thread(store, b"1")
    second = handle_of_a_thread(store, b"2")
    assert second is first and second.durable is not None
    assert store.get("doc", "k") == b"2"
    store.close()
    assert first.durable is None  # closing the store closes the parked connections too
