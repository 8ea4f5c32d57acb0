"""Settings: flags over CHOPMARK_* environment over defaults, validated with clear errors."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from chopmark.errors import ConfigurationError
from chopmark.web.settings import Settings


def test_defaults() -> None:
    settings = Settings.load({}, env={})
    assert settings.store == "sqlite:///.chopmark/chopmark.db"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.public_host == "127.0.0.1%3A8000"
    assert settings.workers == 2 and settings.max_body_bytes == 1_048_576


def test_precedence_flag_env_default() -> None:
    env = {"CHOPMARK_PORT": "9001", "CHOPMARK_WORKERS": "3", "CHOPMARK_STORE": "redis://127.0.0.1:6379/2"}
    settings = Settings.load({"port": 9100, "workers": None}, env=env)
    assert settings.port == 9100  # flag wins
    assert settings.workers == 3  # env where the flag is absent
    assert settings.store == "redis://127.0.0.1:6379/2"
    assert settings.public_url == "http://127.0.0.1:9100"


def test_public_url_gives_did_web_host() -> None:
    settings = Settings.load({"public_url": "https://vc.example.com/"}, env={})
    assert settings.public_url == "https://vc.example.com"
    assert settings.public_host == "vc.example.com"


@pytest.mark.parametrize(("env", "message"), [
    ({"CHOPMARK_PORT": "eighty"}, "CHOPMARK_PORT must be an integer"),
    ({"CHOPMARK_PORT": "70000"}, "between 1 and 65535"),
    ({"CHOPMARK_WORKERS": "0"}, "CHOPMARK_WORKERS"),
    ({"CHOPMARK_SEED_DEMO": "maybe"}, "true or false"),
    ({"CHOPMARK_STORE": "mysql://x"}, "store must be"),
    ({"CHOPMARK_PUBLIC_URL": "http://vc.example.com"}, "https unless"),
    ({"CHOPMARK_PUBLIC_URL": "ftp://x"}, "http\\(s\\) URL"),
    ({"CHOPMARK_KEK": "c2hvcnQ"}, "32 bytes"),
    ({"CHOPMARK_LOG_LEVEL": "loud"}, "log_level"),
    ({"CHOPMARK_FETCH_ALLOWED_HOSTS": "a.example,bad/host"}, "not a host name"),
    ({"CHOPMARK_HEADER_TIMEOUT_SECONDS": "0"}, "CHOPMARK_HEADER_TIMEOUT_SECONDS must be between 1 and 3600"),
    ({"CHOPMARK_BODY_TIMEOUT_SECONDS": "soon"}, "CHOPMARK_BODY_TIMEOUT_SECONDS must be an integer"),
    ({"CHOPMARK_WORKER_CONNECTIONS": "5"}, "CHOPMARK_WORKER_CONNECTIONS must be between 10"),
])
def test_invalid_settings_are_clear(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.load({}, env=env)


def test_kek_file_created_once_private(tmp_path: Path) -> None:
    settings = Settings.load({"data_dir": str(tmp_path / "d")}, env={})
    first = settings.load_kek()
    path = tmp_path / "d" / "kek.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert settings.load_kek() == first and len(first) == 32
    with pytest.raises(ConfigurationError):
        Settings.load({"data_dir": str(tmp_path / "none")}, env={}).load_kek(create=False)


def test_kek_from_environment() -> None:
    kek = bytes(range(32))
    text = base64.urlsafe_b64encode(kek).rstrip(b"=").decode()
    assert Settings.load({}, env={"CHOPMARK_KEK": text}).load_kek() == kek
    assert text not in repr(Settings.load({}, env={"CHOPMARK_KEK": text}))


def test_serving_limits_default_and_from_environment() -> None:
    """Issue 11: slow clients are cut off after bounded times; each worker holds many connections."""
    defaults = Settings.load({}, env={})
    assert (defaults.header_timeout_seconds, defaults.body_timeout_seconds, defaults.worker_connections) == \
        (10, 30, 1000)
    env = {"CHOPMARK_HEADER_TIMEOUT_SECONDS": "5", "CHOPMARK_BODY_TIMEOUT_SECONDS": "60",
           "CHOPMARK_WORKER_CONNECTIONS": "200"}
    tuned = Settings.load({}, env=env)
    assert (tuned.header_timeout_seconds, tuned.body_timeout_seconds, tuned.worker_connections) == (5, 60, 200)
