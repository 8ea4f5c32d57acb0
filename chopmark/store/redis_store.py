"""The Redis implementation of the storage contract (:class:`chopmark.store.base.Store`), over redis-py.

The Redis key of ``(ns, key)`` is ``f"{prefix}:{ns}:{{{key}}}"``: the record key is the Cluster hash tag, so
every namespace of one record id lives in one slot. Every command touches exactly one Redis key (the two
Lua scripts included; ``create_many`` pipelines single-key ``SET NX`` commands, ``append_many`` is one
``RPUSH``), so the store also works on Redis Cluster. Records, counters and bitstrings are Redis strings, logs
are Redis lists. Durability is the server's: ``appendfsync always`` for the contract's promise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from chopmark.errors import StoreUnavailable
from chopmark.store.base import check_bit_index, check_bits_size, check_name, check_ttl, log_range

__all__ = ["RedisStore", "glob_escape"]

_PREFIX = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_GLOB_SPECIAL = frozenset("*?[]^-\\{}")
#: Errors of the server that mean "wrong kind of value", a programming error (ValueError), not an outage.
_USAGE_ERRORS = ("WRONGTYPE", "not an integer", "would overflow")

# Replace the value when it equals ARGV[2] (ARGV[1] == "1": when the key is absent); the expiry is kept.
_CAS = """
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current then return 0 end
  redis.call('SET', KEYS[1], ARGV[3])
  return 1
end
if current ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL')
return 1
"""

# INCRBY; a counter this call created expires after ARGV[2] milliseconds (fixed windows).
_INCR_TTL = """
local existed = redis.call('EXISTS', KEYS[1])
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if existed == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value
"""


def glob_escape(text: str) -> str:
    """``text`` as a literal inside a Redis ``MATCH`` pattern (every glob character backslash-escaped)."""
    return "".join("\\" + ch if ch in _GLOB_SPECIAL else ch for ch in text)


def _milliseconds(ttl: float) -> int:
    return max(1, round(ttl * 1000))


def _as_bytes(value: object) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    raise TypeError(f"Redis returned {type(value).__name__}, expected bytes (is decode_responses on?)")


def cluster_client(url: str) -> RedisCluster:
    """A Redis Cluster client from the URL of any node. Every contract operation touches one key (hash-tagged
    per record), so each goes to the one node that owns its slot."""
    retry = Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), 1, (redis.exceptions.ConnectionError,))
    return RedisCluster.from_url(url, socket_timeout=5.0, socket_connect_timeout=5.0, retry=retry)


def _decodes(client: redis.Redis | RedisCluster) -> bool:
    if isinstance(client, RedisCluster):
        return bool(client.get_encoder().decode_responses)  # type: ignore[no-untyped-call]
    return bool(client.get_connection_kwargs().get("decode_responses"))


class RedisStore:
    """The storage contract over Redis (``url_or_client``: a ``redis://``, ``rediss://`` or ``unix://`` URL, or
    a ready ``redis.Redis`` client with ``decode_responses=False``). Every key starts with ``prefix``."""

    def __init__(self, url_or_client: str | redis.Redis | RedisCluster, *, prefix: str = "cm") -> None:
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"invalid Redis key prefix {prefix!r} (1-64 of A-Z a-z 0-9 _ . : -)")
        self.client: redis.Redis | RedisCluster
        if isinstance(url_or_client, str):
            retry = Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), 1, (redis.exceptions.ConnectionError,))
            self.client = redis.Redis.from_url(url_or_client, socket_timeout=5.0, socket_connect_timeout=5.0,
                                               health_check_interval=15, retry=retry)
            self._owns_client = True
        else:
            self.client = url_or_client
            self._owns_client = False
        if _decodes(self.client):
            raise ValueError("RedisStore needs a client with decode_responses=False (values are bytes)")
        self.prefix = prefix
        self._cas = self.client.register_script(_CAS)
        self._incr_ttl = self.client.register_script(_INCR_TTL)

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self.prefix!r})"

    def redis_key(self, ns: str, key: str) -> str:
        """The Redis key that holds ``(ns, key)``."""
        return f"{self.prefix}:{ns}:{{{key}}}"

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Map connection failures, timeouts and server refusals (MISCONF, READONLY, ...) to StoreUnavailable."""
        try:
            yield
        except redis.exceptions.ResponseError as exc:
            if any(marker in str(exc) for marker in _USAGE_ERRORS):
                raise ValueError(f"Redis refused the operation: {exc}") from exc
            raise StoreUnavailable(f"Redis refused the operation ({type(exc).__name__}): {exc}") from exc
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise StoreUnavailable(f"Redis is unreachable ({type(exc).__name__}): {exc}") from exc

    # -- records ---------------------------------------------------------------------------------------------
    def get(self, ns: str, key: str) -> bytes | None:
        """The value, or None when absent (or expired)."""
        check_name(ns, key)
        with self._guard():
            return _as_bytes(self.client.get(self.redis_key(ns, key)))

    def put(self, ns: str, key: str, value: bytes) -> None:
        """Create or overwrite (SET; any expiry of the old record is dropped)."""
        check_name(ns, key)
        with self._guard():
            self.client.set(self.redis_key(ns, key), bytes(value))

    def create(self, ns: str, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """Atomic create-if-absent (SET NX, with PX when ``ttl``); True when this call created it."""
        check_name(ns, key)
        check_ttl(ttl)
        px = None if ttl is None else _milliseconds(ttl)
        with self._guard():
            return bool(self.client.set(self.redis_key(ns, key), bytes(value), nx=True, px=px))

    def compare_and_set(self, ns: str, key: str, expected: bytes | None, value: bytes) -> bool:
        """Replace the value when it equals ``expected`` (None: when absent); an existing expiry is kept."""
        check_name(ns, key)
        args = [b"1", b"", bytes(value)] if expected is None else [b"0", bytes(expected), bytes(value)]
        with self._guard():
            return bool(self._cas(keys=[self.redis_key(ns, key)], args=args))

    def create_many(self, ns: str, items: Mapping[str, bytes]) -> int:
        """SET NX of every item in one pipeline (no transaction: each key is atomic, on a cluster the keys live
        on several nodes); returns how many were created."""
        for key in items:
            check_name(ns, key)
        if not items:
            return 0
        with self._guard():
            pipe = self.client.pipeline(transaction=False)
            for key, value in items.items():
                pipe.set(self.redis_key(ns, key), bytes(value), nx=True)
            return sum(1 for created in pipe.execute() if created)

    def delete(self, ns: str, key: str) -> bool:
        """Remove whatever ``(ns, key)`` holds; True when something was removed."""
        check_name(ns, key)
        with self._guard():
            return int(self.client.delete(self.redis_key(ns, key))) > 0

    def take(self, ns: str, key: str) -> bytes | None:
        """Atomic get-and-delete (GETDEL): exactly one of concurrent callers gets the value."""
        check_name(ns, key)
        with self._guard():
            return _as_bytes(self.client.getdel(self.redis_key(ns, key)))

    def scan(self, ns: str, prefix: str = "") -> Iterator[tuple[str, bytes]]:
        """Every live ``(key, value)`` of ``ns`` whose key starts with ``prefix``, sorted by key (SCAN MATCH over
        string keys, then GET; logs are not listed)."""
        check_name(ns, prefix or "-")
        head = f"{self.prefix}:{ns}:{{"
        pattern = f"{glob_escape(head)}{glob_escape(prefix)}*}}"
        with self._guard():
            names = [bytes(n) for n in self.client.scan_iter(match=pattern, count=1000, _type="string")]
            pipe = self.client.pipeline(transaction=False)
            for name in names:
                pipe.get(name)
            values = pipe.execute() if names else []
        found: dict[str, bytes] = {}
        for name, value in zip(names, values, strict=True):
            text = name.decode("utf-8")
            raw = _as_bytes(value)
            if raw is not None and text.startswith(head + prefix) and text.endswith("}"):
                found[text[len(head):-1]] = raw
        return iter(sorted(found.items()))

    # -- counters --------------------------------------------------------------------------------------------
    def incr(self, ns: str, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Add ``amount`` (INCRBY) and return the new value; with ``ttl`` a counter this call created expires
        ``ttl`` seconds later (atomically, in a Lua script)."""
        check_name(ns, key)
        check_ttl(ttl)
        name = self.redis_key(ns, key)
        with self._guard():
            if ttl is None:
                return int(self.client.incrby(name, int(amount)))
            return int(self._incr_ttl(keys=[name], args=[int(amount), _milliseconds(ttl)]))

    # -- bitstrings ------------------------------------------------------------------------------------------
    def set_bit(self, ns: str, key: str, index: int, value: bool) -> bool:
        """SETBIT (bit 0 = most significant bit of byte 0); returns the previous bit."""
        check_name(ns, key)
        check_bit_index(index)
        with self._guard():
            return bool(self.client.setbit(self.redis_key(ns, key), index, 1 if value else 0))

    def get_bit(self, ns: str, key: str, index: int) -> bool:
        """GETBIT (False when never set)."""
        check_name(ns, key)
        check_bit_index(index)
        with self._guard():
            return bool(self.client.getbit(self.redis_key(ns, key), index))

    def get_bits(self, ns: str, key: str, size: int) -> bytes:
        """The first ``size`` bytes of the bitstring (GETRANGE), zero-padded."""
        check_name(ns, key)
        check_bits_size(size)
        if size == 0:
            return b""
        with self._guard():
            data = _as_bytes(self.client.getrange(self.redis_key(ns, key), 0, size - 1)) or b""
        return data + bytes(size - len(data))

    # -- logs ------------------------------------------------------------------------------------------------
    def append(self, ns: str, key: str, value: bytes) -> int:
        """RPUSH; returns the 0-based index of the new entry."""
        check_name(ns, key)
        with self._guard():
            return int(self.client.rpush(self.redis_key(ns, key), bytes(value))) - 1

    def append_many(self, ns: str, key: str, values: Sequence[bytes]) -> int:
        """One RPUSH of every value (atomic, contiguous); returns the index of the first new entry."""
        check_name(ns, key)
        if not values:
            return self.length(ns, key)
        with self._guard():
            return int(self.client.rpush(self.redis_key(ns, key), *[bytes(v) for v in values])) - len(values)

    def read(self, ns: str, key: str, start: int, stop: int) -> list[bytes]:
        """Entries ``start`` (inclusive) to ``stop`` (exclusive) (LRANGE); indexes must not be negative."""
        check_name(ns, key)
        if not log_range(start, stop):
            return []
        with self._guard():
            items = self.client.lrange(self.redis_key(ns, key), start, stop - 1)
        return [_as_bytes(item) or b"" for item in items]

    def length(self, ns: str, key: str) -> int:
        """LLEN."""
        check_name(ns, key)
        with self._guard():
            return int(self.client.llen(self.redis_key(ns, key)))

    # -- lifecycle -------------------------------------------------------------------------------------------
    def ping(self) -> None:
        """PING; ``StoreUnavailable`` when Redis cannot be reached."""
        with self._guard():
            self.client.ping()

    def purge(self) -> int:
        """Delete every key under this store's prefix (tests, benchmarks, resetting a demo); never touches other
        prefixes and never FLUSHes. Returns how many keys went. Works on a cluster (one key per command)."""
        with self._guard():
            names = list(self.client.scan_iter(match=f"{glob_escape(self.prefix)}:*", count=1000))
            for start in range(0, len(names), 500):
                pipe = self.client.pipeline(transaction=False)
                for name in names[start:start + 500]:
                    pipe.unlink(name)
                pipe.execute()
        return len(names)

    def durability_warning(self) -> str | None:
        """A warning when the server would not keep the durability promise (AOF with ``appendfsync always``),
        or None. Servers that refuse CONFIG (managed services) get a note to check it themselves."""
        try:
            with self._guard():
                config = self.client.config_get("append*")
        except (StoreUnavailable, redis.exceptions.RedisError):
            return "could not read the Redis configuration; make sure it runs with appendonly yes, appendfsync always"
        values = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                  for k, v in dict(config).items()}
        if values.get("appendonly") != "yes" or values.get("appendfsync") != "always":
            return (f"Redis runs with appendonly={values.get('appendonly')} appendfsync={values.get('appendfsync')}: "
                    "acknowledged writes can be lost if Redis dies; use appendonly yes, appendfsync always")
        return None

    def close(self) -> None:
        """Close the client's connections when this store created the client."""
        if self._owns_client:
            self.client.close()
