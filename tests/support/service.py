"""Fixtures for the service: an app on a temporary SQLite store, its test client, and seeded tenants (a pytest
plugin loaded by ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from chopmark.app import create_app
from chopmark.store import open_store
from chopmark.web.settings import Settings
from registry.service import Registry
from tests.support.campaigns import World, make_world

UNSIGNED = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:merchant-1"}}


def unsigned_credential(**extra: Any) -> dict[str, Any]:
    """A minimal unsigned VCDM 2.0 credential (a fresh copy)."""
    return {**UNSIGNED, "credentialSubject": dict(UNSIGNED["credentialSubject"]), **extra}


@pytest.fixture
def service_settings(tmp_path: Path) -> Settings:
    """Settings on a temporary data directory (SQLite store, fresh KEK), no rate limit."""
    return Settings.load({"data_dir": str(tmp_path / "data"), "rate_limit_per_minute": 0}, env={})


@pytest.fixture
def app(service_settings: Settings) -> Flask:
    """The application on a temporary SQLite store."""
    return create_app(service_settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A Flask test client (for unit-level route tests; end-to-end tests use a real server)."""
    return app.test_client()


@dataclass
class Tenants:
    """Two issuers with tokens of every kind."""

    registry: Registry
    tokens: dict[str, str]

    def auth(self, name: str) -> dict[str, str]:
        """The Authorization header for token ``name`` (e.g. ``alpha:issue,status``, ``admin``)."""
        return {"Authorization": "Bearer " + self.tokens[name]}


@pytest.fixture
def tenants(app: Flask) -> Tenants:
    """Issuers ``alpha`` and ``beta``; tokens ``alpha``/``beta`` (issue,status), ``alpha:issue``,
    ``alpha:status``, ``alpha:admin`` and a global ``admin``."""
    registry: Registry = app.extensions["chopmark.registry"]
    tokens: dict[str, str] = {}
    for name in ("alpha", "beta"):
        registry.issuers.create(name)
        tokens[name] = registry.tokens.create(issuer=name, scopes="issue,status")["token"]
    for scope in ("issue", "status", "admin"):
        tokens[f"alpha:{scope}"] = registry.tokens.create(issuer="alpha", scopes=scope)["token"]
    tokens["admin"] = registry.tokens.create(issuer=None, scopes="admin")["token"]
    return Tenants(registry, tokens)


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def world(request: pytest.FixtureRequest, service_settings: Settings) -> Iterator[World]:
    """The campaigns' app on SQLite and on Redis (a fresh key prefix), with a merchant ``shop`` and a ``rival``."""
    if request.param == "sqlite":
        yield make_world(service_settings)
        return
    store = open_store(request.getfixturevalue("redis_url"))
    try:
        yield make_world(service_settings, store)
    finally:
        store.close()


def fixed_clock(moment: datetime = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)) -> Any:
    """A clock that always returns ``moment``."""
    return lambda: moment
