"""``chopmark serve`` warns when Redis would not keep the durability promise (AOF, appendfsync always)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chopmark.store.redis_store import RedisStore
from tests.redis_support import own_redis_server


@pytest.mark.redis
def test_durability_warning_follows_server_config(tmp_path: Path) -> None:
    with own_redis_server(tmp_path / "always") as server:
        assert RedisStore(server.url).durability_warning() is None
    with own_redis_server(tmp_path / "everysec", appendfsync="everysec") as server:
        warning = RedisStore(server.url).durability_warning()
        assert warning is not None and "appendfsync=everysec" in warning
