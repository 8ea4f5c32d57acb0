"""Many connections opening one new SQLite file at once (every worker of a first `chopmark serve`, the racing
registries of the evidence tests): none may fail with "database is locked". SQLite can answer the switch to WAL
that way at once, without its busy handler, while another connection opens the file; the store retries it
until its busy timeout. Before, about one round in 200-400 failed on a loaded machine: this test repeats the
race enough to catch it often, not always."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from chopmark.store.sqlite import SQLiteStore

ROUNDS = 120
OPENERS = 16


def test_sixteen_stores_opening_a_new_file_at_once_never_fail(tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        path = tmp_path / f"round-{round_}.db"
        stores = [SQLiteStore(path) for _ in range(OPENERS)]
        try:
            with ThreadPoolExecutor(OPENERS) as pool:
                written = list(pool.map(lambda s: (s.create("ns", "k", b"v"), s.get("ns", "k"))[1], stores))
        finally:
            for store in stores:
                store.close()
        assert written == [b"v"] * OPENERS
