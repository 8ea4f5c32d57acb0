"""One small settings object, read once: CLI flags, then ``CHOPMARK_*`` environment variables, then defaults.

Validated when loaded; every problem is a :class:`~chopmark.errors.ConfigurationError` naming the setting and
where its value came from, so ``chopmark serve`` stops with a clear message before it binds a port.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chopmark.dids.web import did_web_to_url, url_to_did_web
from chopmark.errors import ChopmarkError, ConfigurationError

ENV_PREFIX = "CHOPMARK_"
KEK_BYTES = 32


def _parse_int(name: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {text!r}") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _parse_bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigurationError(f"{name} must be true or false, got {text!r}")


def _parse_hosts(name: str, text: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower() for h in text.split(",") if h.strip())
    for host in hosts:
        if host != "*" and (not host.replace("-", "").replace(".", "").isalnum() or host.startswith(".")):
            raise ConfigurationError(f"{name}: {host!r} is not a host name")
    return hosts


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to start. Build it with :meth:`load`; never read the environment later."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    data_dir: Path = Path(".chopmark")
    store: str = ""
    public_url: str = ""
    kek: bytes | None = field(default=None, repr=False)
    max_body_bytes: int = 1_048_576
    rate_limit_per_minute: int = 3000
    fetch_allowed_hosts: tuple[str, ...] = ()
    fetch_allow_loopback: bool = False
    #: Whether /credentials/verify and /presentations/verify accept inline context objects (Data Integrity 1.0
    #: §2.4.1 "Validating Contexts"; default: context URLs of the pinned set only).
    verifier_inline_contexts: bool = False
    fetch_ca_file: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""
    header_timeout_seconds: int = 10
    body_timeout_seconds: int = 30
    worker_connections: int = 1000
    status_cache_seconds: int = 60
    status_freshness_ms: int = 0
    challenge_ttl_seconds: int = 300
    trust_registry_url: str = ""
    trust_registry_did: str = ""
    trust_refresh_seconds: int = 60
    seed_demo: bool = False
    log_level: str = "info"

    @classmethod
    def load(cls, flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
        """Flags (values that are not None) win over ``CHOPMARK_<NAME>`` variables in ``env``, which win over
        the defaults. ``env`` defaults to ``os.environ``."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            flag = (flags or {}).get(spec.name)
            if flag is not None:
                values[spec.name] = _convert(spec.name, flag)
                continue
            text = env.get(ENV_PREFIX + spec.name.upper())
            if text is not None:
                values[spec.name] = _convert(spec.name, text)
        settings = cls(**values)
        return settings._completed()

    def _completed(self) -> Settings:
        store = self.store or f"sqlite:///{(self.data_dir / 'chopmark.db').as_posix()}"
        scheme = "https" if self.tls_cert_file else "http"
        public = self.public_url or f"{scheme}://{_url_host(self.host)}:{self.port}"
        registry = self.trust_registry_url.rstrip("/")
        completed = dataclasses.replace(self, store=store, public_url=public.rstrip("/"), trust_registry_url=registry,
                                        trust_registry_did=self.trust_registry_did or _host_did(registry))
        completed.validate()
        return completed

    def validate(self) -> None:
        """Raise :class:`ConfigurationError` for any inconsistent setting."""
        parts = urlsplit(self.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigurationError(f"public_url must be an http(s) URL without query, got {self.public_url!r}")
        if parts.scheme == "http" and not _is_local(parts.hostname):
            raise ConfigurationError("public_url must use https unless the host is a loopback address")
        if not self.store.startswith(("sqlite:///", "redis://", "rediss://", "unix://", "redis+cluster://",
                                      "rediss+cluster://")):
            raise ConfigurationError(f"store must be sqlite:///PATH, redis://HOST:PORT/DB or "
                                     f"redis+cluster://HOST:PORT, got {self.store!r}")
        if self.kek is not None and len(self.kek) != KEK_BYTES:
            raise ConfigurationError(f"kek must be {KEK_BYTES} bytes (base64url in CHOPMARK_KEK)")
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ConfigurationError("tls_cert_file and tls_key_file must be given together")
        for name in ("tls_cert_file", "tls_key_file", "fetch_ca_file"):
            value = getattr(self, name)
            if value and not Path(value).is_file():
                raise ConfigurationError(f"{name}: {value} is not a readable file")
        if self.log_level not in ("debug", "info", "warning", "error"):
            raise ConfigurationError(f"log_level must be debug, info, warning or error, got {self.log_level!r}")
        self._validate_trust_registry()

    def _validate_trust_registry(self) -> None:
        """A remote trust registry must be reachable through the SSRF-safe fetcher as configured."""
        url, did = self.trust_registry_url, self.trust_registry_did
        if not 1 <= self.trust_refresh_seconds <= 86_400:
            raise ConfigurationError("trust_refresh_seconds (CHOPMARK_TRUST_REFRESH_SECONDS) must be between 1 and "
                                     f"86400, got {self.trust_refresh_seconds}")
        if not url:
            if did:
                raise ConfigurationError("trust_registry_did (CHOPMARK_TRUST_REGISTRY_DID) needs trust_registry_url "
                                         "(CHOPMARK_TRUST_REGISTRY_URL)")
            return
        label = "trust_registry_url (CHOPMARK_TRUST_REGISTRY_URL)"
        did_label = "trust_registry_did (CHOPMARK_TRUST_REGISTRY_DID)"
        host = _registry_host(url, label)
        if urlsplit(url).scheme == "http" and not _is_local(host):
            raise ConfigurationError(f"{label} must use https unless the host is a loopback address, got {url!r}")
        _check_fetchable(host, label, self.fetch_allowed_hosts, self.fetch_allow_loopback)
        if not did:
            raise ConfigurationError(f"{did_label}: no did:web can be derived from {host}; set it explicitly")
        if not did.startswith("did:") or ":" not in did[4:]:
            raise ConfigurationError(f"{did_label} must be a DID, got {did!r}")
        if did.startswith("did:web:"):  # the registry's DID document is fetched too
            try:
                did_host = urlsplit(did_web_to_url(did)).hostname or ""
            except ChopmarkError as exc:
                raise ConfigurationError(f"{did_label}: {exc.detail}") from None
            _check_fetchable(did_host, did_label, self.fetch_allowed_hosts, self.fetch_allow_loopback)

    @property
    def public_host(self) -> str:
        """``host[:port]`` of the public URL, as it appears in did:web identifiers (port percent-encoded)."""
        parts = urlsplit(self.public_url)
        host = parts.hostname or ""
        return f"{host}%3A{parts.port}" if parts.port else host

    @property
    def public_path(self) -> str:
        """The path prefix of the public URL ('' at the root)."""
        return urlsplit(self.public_url).path.rstrip("/")

    def load_kek(self, *, create: bool = True, rng: Callable[[int], bytes] = os.urandom) -> bytes:
        """The key-encryption key: the ``kek`` setting, else ``<data_dir>/kek.key`` (created with mode 0600
        on first use when ``create``)."""
        if self.kek is not None:
            return self.kek
        path = self.data_dir / "kek.key"
        if not path.exists():
            if not create:
                raise ConfigurationError(f"no key-encryption key: set CHOPMARK_KEK or create {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_private(path, base64.urlsafe_b64encode(rng(KEK_BYTES)).rstrip(b"=") + b"\n")
        return _decode_kek(path.read_text().strip(), str(path))


def _write_private(path: Path, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first: use theirs
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _decode_kek(text: str, where: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise ConfigurationError(f"{where}: the key-encryption key is not base64url") from None
    if len(raw) != KEK_BYTES:
        raise ConfigurationError(f"{where}: the key-encryption key must be {KEK_BYTES} bytes, got {len(raw)}")
    return raw


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _registry_host(url: str, label: str) -> str:
    """The host of the registry's base URL: http(s), a host, no user info, query or fragment."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError:
        raise ConfigurationError(f"{label} is not a valid URL: {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc or parts.query \
            or parts.fragment or "?" in url or "#" in url:
        raise ConfigurationError(f"{label} must be an http(s) base URL without user info, query or fragment, "
                                 f"got {url!r}")
    return parts.hostname.lower()


def _check_fetchable(host: str, label: str, allowed: tuple[str, ...], allow_loopback: bool) -> None:
    """The SSRF-safe fetcher must be allowed to reach ``host`` (see :func:`chopmark.app.build_fetcher`)."""
    if not allowed:
        raise ConfigurationError(f"{label}: fetching other hosts is disabled; add {host} to fetch_allowed_hosts "
                                 "(CHOPMARK_FETCH_ALLOWED_HOSTS)")
    if "*" not in allowed and host not in allowed:
        raise ConfigurationError(f"{label}: {host} is not in fetch_allowed_hosts (CHOPMARK_FETCH_ALLOWED_HOSTS)")
    if _is_local(host) and not allow_loopback:
        raise ConfigurationError(f"{label}: {host} is a loopback address; set fetch_allow_loopback "
                                 "(CHOPMARK_FETCH_ALLOW_LOOPBACK=true) to reach it")


def _host_did(url: str) -> str:
    """``did:web:<host>[%3A<port>]`` of a registry base URL ('' for no URL or one that is not valid; the
    validation then names the problem). did:web always maps to https, also for a plain-http loopback URL."""
    try:
        parts = urlsplit(url)
        return url_to_did_web(f"https://{parts.netloc}") if url and parts.scheme in ("http", "https") else ""
    except (ChopmarkError, ValueError):
        return ""


def _convert(name: str, value: Any) -> Any:
    """Turn a flag or environment string into the field's type, with a clear error."""
    label = ENV_PREFIX + name.upper()
    if not isinstance(value, str):
        return Path(value) if name == "data_dir" else value
    converters: dict[str, Callable[[str], Any]] = {
        "port": lambda t: _parse_int(label, t, 1, 65535),
        "workers": lambda t: _parse_int(label, t, 1, 64),
        "header_timeout_seconds": lambda t: _parse_int(label, t, 1, 3600),
        "body_timeout_seconds": lambda t: _parse_int(label, t, 1, 3600),
        "worker_connections": lambda t: _parse_int(label, t, 10, 100_000),
        "max_body_bytes": lambda t: _parse_int(label, t, 1024, 64 * 1_048_576),
        "rate_limit_per_minute": lambda t: _parse_int(label, t, 0, 10_000_000),
        "status_cache_seconds": lambda t: _parse_int(label, t, 0, 86_400),
        "status_freshness_ms": lambda t: _parse_int(label, t, 0, 1000),
        "challenge_ttl_seconds": lambda t: _parse_int(label, t, 1, 86_400),
        "trust_refresh_seconds": lambda t: _parse_int(label, t, 1, 86_400),
        "seed_demo": lambda t: _parse_bool(label, t),
        "fetch_allow_loopback": lambda t: _parse_bool(label, t),
        "verifier_inline_contexts": lambda t: _parse_bool(label, t),
        "fetch_allowed_hosts": lambda t: _parse_hosts(label, t),
        "data_dir": Path,
        "kek": lambda t: _decode_kek(t, label),
        "log_level": str.lower,
    }
    return converters.get(name, str)(value)
