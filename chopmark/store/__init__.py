"""Storage for the service roles: the :class:`Store` contract and :func:`open_store`, which builds one from a URL.

Accepted URLs::

    sqlite:///relative/path.db          (relative to the working directory)
    sqlite:////absolute/path.db
    redis://[[user]:password@]host[:port][/db][?prefix=NAME]
    rediss://...                        (Redis over TLS, same form)
    unix://[[user]:password@]/path/to/redis.sock[?db=N][&prefix=NAME]
    redis+cluster://[[user]:password@]host[:port][?prefix=NAME]   (a Redis Cluster, through any node)

``prefix`` (default ``cm``) starts every Redis key; other query parameters are redis-py connection options
(``socket_timeout``, ``db``, ``ssl_cert_reqs``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from redis.connection import URL_QUERY_ARGUMENT_PARSERS

from chopmark.errors import ConfigurationError, StoreUnavailable
from chopmark.store.base import Store
from chopmark.store.redis_store import RedisStore, cluster_client
from chopmark.store.sqlite import SQLiteStore

__all__ = ["RedisStore", "SQLiteStore", "Store", "StoreUnavailable", "describe_store", "open_store"]

ACCEPTED_FORMS = (
    "sqlite:///relative/path.db",
    "sqlite:////absolute/path.db",
    "redis://[[user]:password@]host[:port][/db][?prefix=NAME]",
    "rediss://[[user]:password@]host[:port][/db][?prefix=NAME]",
    "unix://[[user]:password@]/path/to/redis.sock[?db=N&prefix=NAME]",
    "redis+cluster://[[user]:password@]host[:port][?prefix=NAME]  (any node of a Redis Cluster)",
)
_REDIS_OPTIONS = frozenset(URL_QUERY_ARGUMENT_PARSERS) | {
    "client_name", "username", "password", "ssl_cert_reqs", "ssl_ca_certs", "ssl_ca_path", "ssl_certfile",
    "ssl_keyfile",
}
_SECRET_OPTIONS = frozenset({"password"})


def _bad(url: str, why: str) -> ConfigurationError:
    forms = "; ".join(ACCEPTED_FORMS)
    return ConfigurationError(f"invalid store URL {describe_store(url)!r}: {why}. Accepted forms: {forms}")


def open_store(url: str, *, clock: Callable[[], float] | None = None) -> Store:
    """Build the store a URL names (see the module docstring). ``clock`` (seconds) drives the expiry of SQLite
    records; Redis uses the server's clock. A malformed URL or unknown scheme raises ``ConfigurationError``;
    nothing is connected yet (call :meth:`Store.ping` to check the backend)."""
    if not isinstance(url, str) or ":" not in url:
        raise _bad(str(url), "no scheme")
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        path = _sqlite_path(url)
        return SQLiteStore(path) if clock is None else SQLiteStore(path, clock=clock)
    if scheme in ("redis+cluster", "rediss+cluster"):
        client_url, prefix = _redis_url(url)
        if urlsplit(client_url).path.strip("/") not in ("", "0"):
            raise _bad(url, "a Redis Cluster has only database 0")
        try:
            return RedisStore(cluster_client(client_url.replace("+cluster", "", 1)), prefix=prefix)
        except (ValueError, TypeError) as exc:
            raise _bad(url, str(exc)) from exc
    if scheme in ("redis", "rediss", "unix"):
        client_url, prefix = _redis_url(url)
        try:
            return RedisStore(client_url, prefix=prefix)
        except (ValueError, TypeError) as exc:
            raise _bad(url, str(exc)) from exc
    raise _bad(url, f"unknown scheme {scheme!r}")


def _sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///`` URL (three slashes: relative path; four: absolute path)."""
    head = url[: len("sqlite:///")]
    if head.lower() != "sqlite:///":
        raise _bad(url, "a SQLite URL starts with sqlite:/// (no host)")
    path = unquote(url[len(head):])
    if not path.strip("/"):
        raise _bad(url, "the SQLite URL names no file")
    if any(ch in path for ch in "?#\0") or path.endswith("/"):
        raise _bad(url, "the SQLite URL must name a file, without query or fragment")
    if path == ":memory:" or path.startswith("file:"):
        raise _bad(url, "in-memory SQLite databases cannot be shared between threads and processes")
    return path


def _redis_url(url: str) -> tuple[str, str]:
    """The URL to give redis-py (without ``prefix``) and the key prefix."""
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise _bad(url, str(exc)) from exc
    if parts.fragment:
        raise _bad(url, "a fragment is not allowed")
    if parts.scheme == "unix":
        if not parts.path or parts.path.endswith("/"):
            raise _bad(url, "a unix:// URL needs the path of the socket")
    else:
        if not parts.hostname:
            raise _bad(url, "no host")
        if parts.path.strip("/") and not parts.path.strip("/").isdigit():
            raise _bad(url, "the path must be the database number (/0, /1, ...)")
    prefix = "cm"
    options: list[tuple[str, str]] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "prefix":
            prefix = value
        elif name in _REDIS_OPTIONS:
            options.append((name, value))
        else:
            raise _bad(url, f"unknown query parameter {name!r}")
    return _join(parts.scheme, parts.netloc, parts.path, urlencode(options)), prefix


def _join(scheme: str, netloc: str, path: str, query: str) -> str:
    """``scheme://netloc/path?query`` (urlunsplit drops the ``//`` of schemes it does not know)."""
    return f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")


def describe_store(url: str) -> str:
    """The store URL with any password replaced by ``***`` (for logs and error messages)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable store URL>"
    netloc, query = parts.netloc, parts.query
    userinfo, at, host = netloc.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    if at and colon:
        netloc = f"{user}:***@{host}"
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(name in _SECRET_OPTIONS for name, _ in pairs):
        query = urlencode([(k, "***" if k in _SECRET_OPTIONS else v) for k, v in pairs], safe="*")
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return _join(parts.scheme, netloc, parts.path, query) + (f"#{parts.fragment}" if parts.fragment else "")
