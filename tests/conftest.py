"""Shared fixtures: the official vectors folder, fixed clocks and fixed randomness."""

from __future__ import annotations

import json
import os
import random
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chopmark.store import RedisStore, SQLiteStore, open_store
from tests.support.redis import own_redis_cluster, own_redis_server, purge_prefix, redis_answers, redis_server_binary

#: The service's fixtures (app, client, tenants, campaign worlds), shared by tests/web, the roles' tests and tests/app.
pytest_plugins = ("tests.support.service",)

_DEFAULT_VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"


def vectors_root() -> Path | None:
    """Return the vectors folder (``CHOPMARK_VECTORS`` or ``../shared/vectors``), or None when absent."""
    root = Path(os.environ.get("CHOPMARK_VECTORS", str(_DEFAULT_VECTORS)))
    return root if root.is_dir() else None


@pytest.fixture(scope="session")
def vectors() -> Path:
    """The official W3C vectors. Skips when absent, but under ``CI=true`` their absence fails."""
    root = vectors_root()
    if root is None:
        msg = "official vectors not found (set CHOPMARK_VECTORS or place ../shared/vectors)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " and CI=true requires them")
        pytest.skip(msg)
    return root


def load_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def fixed_now() -> datetime:
    """A fixed clock value used by tests instead of the wall clock."""
    return datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def seeded_rng() -> Callable[[int], bytes]:
    """Deterministic randomness: ``rng(n)`` returns n bytes from a seeded generator."""
    gen = random.Random(20261124)

    def rng(n: int) -> bytes:
        return gen.randbytes(n)

    return rng


def require_check(result: Any, name: str) -> Any:
    """The check called ``name`` in a VerificationResult; fails the test when it did not run."""
    check = result.check(name)
    assert check is not None, (name, result.to_dict())
    return check


def codes_of(check: Any) -> list[str]:
    """The problem codes of a CheckResult."""
    return [p.code for p in check.problems]


def private_jwk(pair: Any) -> dict[str, str]:
    """A private JWK of a KeyPair, built by hand: the library only ever outputs public JWKs."""
    from chopmark.codecs import multibase

    return {**pair.to_jwk(), "d": multibase.base64url_encode(pair.secret_bytes())}


# --- storage backends (chopmark.store) ------------------------------------------------------------------------

SHARED_REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis URL for the session: the machine's Redis on 6379 when it answers, else a private server.
    Fails (never skips) when neither is possible: CI must not silently drop the Redis tests."""
    if redis_answers(SHARED_REDIS_URL):
        yield SHARED_REDIS_URL
        return
    if redis_server_binary() is None:
        pytest.fail("no Redis answers on 127.0.0.1:6379 and redis-server is not installed: Redis tests cannot run")
    with own_redis_server(tmp_path_factory.mktemp("redis-session")) as server:
        yield server.url


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private 3-node Redis Cluster for the session (``redis+cluster://`` URL). Fails, never skips, when it
    cannot be started."""
    try:
        with own_redis_cluster(tmp_path_factory.mktemp("redis-cluster")) as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(f"cannot start a Redis Cluster: {exc}")


@pytest.fixture
def redis_url(redis_base_url: str) -> Iterator[str]:
    """``redis_base_url`` with a random ``?prefix=cmtest-<hex>``; afterwards only that prefix's keys are deleted
    (never FLUSHDB: the server may be shared)."""
    url = f"{redis_base_url}?prefix=cmtest-{secrets.token_hex(6)}"
    yield url
    purge_prefix(url)




@pytest.fixture
def redis_store(redis_url: str) -> Iterator[RedisStore]:
    """A ``RedisStore`` under the test's own key prefix."""
    store = open_store(redis_url)
    assert isinstance(store, RedisStore)
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """A ``SQLiteStore`` on a fresh file."""
    store = SQLiteStore(tmp_path / "store.db")
    yield store
    store.close()


# --- collection -----------------------------------------------------------------------------------------------

def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse tests that share a node id: pytest-xdist's ``--dist loadgroup`` (``make test``) schedules by node id
    and would silently run only one of them (pytest 9.2 gives every test schemathesis generates one id)."""
    shared = sorted(nodeid for nodeid, n in Counter(item.nodeid for item in items).items() if n > 1)
    if shared:
        raise pytest.UsageError(f"tests share a node id (xdist would drop all but one): {shared[:5]}")
