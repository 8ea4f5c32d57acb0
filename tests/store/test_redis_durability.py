"""Redis-only parts of the store: the durability warning of ``chopmark serve`` and purging one prefix."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from chopmark.store import open_store
from chopmark.store.redis_store import RedisStore
from tests.support.redis import own_redis_server


@pytest.mark.redis
def test_durability_warning_follows_server_config(tmp_path: Path) -> None:
    with own_redis_server(tmp_path / "always") as server:
        assert RedisStore(server.url).durability_warning() is None
    with own_redis_server(tmp_path / "everysec", appendfsync="everysec") as server:
        warning = RedisStore(server.url).durability_warning()
        assert warning is not None and "appendfsync=everysec" in warning


@pytest.mark.redis
def test_purge_deletes_only_its_own_prefix(redis_base_url: str, redis_cluster_url: str) -> None:
    for base in (redis_base_url, redis_cluster_url):
        mine, other = (open_store(f"{base}?prefix=cmtest-{secrets.token_hex(4)}") for _ in range(2))
        assert isinstance(mine, RedisStore) and isinstance(other, RedisStore)
        for n in range(30):
            mine.put("ns", f"k{n}", b"v")
            other.put("ns", f"k{n}", b"v")
        mine.append("log", "l", b"x")
        assert mine.purge() == 31
        assert list(mine.scan("ns")) == [] and mine.length("log", "l") == 0
        assert len(list(other.scan("ns"))) == 30
        other.purge()
