"""Fixtures of the registry tests: each runs on SQLite and on Redis, with a clock the test moves."""

from __future__ import annotations

import pytest

from chopmark.store import Store
from tests.registry.support import Clock


@pytest.fixture(params=["sqlite_store", "redis_store"])
def store(request: pytest.FixtureRequest) -> Store:
    """Each test runs on SQLite and on Redis."""
    chosen: Store = request.getfixturevalue(request.param)
    return chosen


@pytest.fixture
def clock() -> Clock:
    """The registry's clock, moved by tests."""
    return Clock()
