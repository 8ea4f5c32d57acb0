"""JSON records over a :class:`~chopmark.store.base.Store`: compact, canonical encoding and a retrying
compare-and-set update.

Values are encoded with sorted keys, no whitespace, UTF-8 (``ensure_ascii=False``), so equal values have
equal bytes, which is what :func:`update_json`'s compare-and-set compares.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from chopmark.errors import Conflict
from chopmark.store.base import Store

__all__ = ["create_json", "decode_json", "encode_json", "get_json", "put_json", "update_json"]


def encode_json(value: Any) -> bytes:
    """The compact canonical bytes of a JSON value."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def decode_json(raw: bytes) -> Any:
    """The JSON value of stored bytes."""
    return json.loads(raw.decode("utf-8"))


def get_json(store: Store, ns: str, key: str) -> Any | None:
    """The decoded record, or None when absent."""
    raw = store.get(ns, key)
    return None if raw is None else decode_json(raw)


def put_json(store: Store, ns: str, key: str, value: Any) -> None:
    """Create or overwrite a record (durable)."""
    store.put(ns, key, encode_json(value))


def create_json(store: Store, ns: str, key: str, value: Any, *, ttl: float | None = None) -> bool:
    """Create a record when absent; True when this call created it (``ttl``: ephemeral, expires)."""
    return store.create(ns, key, encode_json(value), ttl=ttl)


def update_json(store: Store, ns: str, key: str, fn: Callable[[Any | None], Any], *, retries: int = 50) -> Any:
    """Atomically replace a record by ``fn(current)`` (``current``: the decoded value, None when absent) and
    return the new value. ``fn`` may run several times: concurrent updates make the compare-and-set fail and
    the loop retry, with a short random pause. Raises ``Conflict`` when ``retries`` attempts all lost."""
    for attempt in range(max(1, retries)):
        raw = store.get(ns, key)
        new = fn(None if raw is None else decode_json(raw))
        if store.compare_and_set(ns, key, raw, encode_json(new)):
            return new
        if attempt + 1 < retries:
            time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))
    raise Conflict(f"record {ns}/{key} changed concurrently {retries} times; update abandoned")
