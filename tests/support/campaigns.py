"""A service app with a settable clock, a merchant and a rival with tokens, and helpers for campaign requests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from chopmark.app import create_app
from chopmark.jsonld import DocumentLoader
from chopmark.store import Store
from chopmark.web.settings import Settings
from issuer.campaigns import Campaigns
from registry.service import Registry

WINDOW = {"windowStart": "2026-11-11T00:00:00Z", "windowEnd": "2026-11-12T00:00:00Z"}
AFTER = datetime(2026, 11, 12, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves."""

    def __init__(self, moment: datetime = AFTER) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def order(number: int | str, ms: int, buyer: str | None = None) -> dict[str, str]:
    """An order paid ``ms`` milliseconds after the window opened."""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    paid = f"2026-11-11T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"
    return {"orderNumber": str(number), "paymentTime": paid, "buyerReference": buyer or f"buyer-{number}"}


def generated(count: int, seed: int = 1, first: int = 1000) -> list[dict[str, str]]:
    """``count`` orders with random payment times (some in the same millisecond)."""
    gen = random.Random(seed)
    return [order(first + i, gen.randrange(3_600_000) if i % 7 else 1_800_000) for i in range(count)]


@dataclass
class World:
    """The app, its registry, a test client and tokens: ``shop`` (issue), ``rival`` (issue) and ``admin``."""

    app: Flask
    client: FlaskClient
    registry: Registry
    clock: Clock
    settings: Settings
    tokens: dict[str, str]

    def auth(self, who: str = "shop") -> dict[str, str]:
        """The Authorization header of ``who``."""
        return {"Authorization": "Bearer " + self.tokens[who]}

    @property
    def campaigns(self) -> Campaigns:
        """The app's campaign service."""
        service: Campaigns = self.app.extensions["chopmark.campaigns"]
        return service

    def worker(self) -> Campaigns:
        """Another worker's campaign service on the same store (its own caches)."""
        return Campaigns(self.registry.store, self.registry, kek=self.settings.load_kek(),
                         public_url=self.settings.public_url, clock=self.clock, rng=random.Random().randbytes,
                         loader=DocumentLoader.pinned())

    def create(self, **overrides: Any) -> str:
        """Create a campaign of ``shop`` (3 gifts by default); returns its id."""
        reply = self.client.post("/issuers/shop/campaigns", json={"sku": "TEA-1", "gifts": 3, **WINDOW, **overrides},
                                 headers=self.auth())
        assert reply.status_code == 201, reply.json
        return str(reply.json["id"])

    def add(self, campaign: str, orders: list[dict[str, Any]], who: str = "shop") -> TestResponse:
        """``POST /campaigns/{id}/orders`` with JSON."""
        return self.client.post(f"/campaigns/{campaign}/orders", json={"orders": orders}, headers=self.auth(who))

    def close(self, campaign: str, who: str = "shop") -> TestResponse:
        """``POST /campaigns/{id}/close``."""
        return self.client.post(f"/campaigns/{campaign}/close", headers=self.auth(who))

    def closed(self, orders: list[dict[str, Any]], **overrides: Any) -> tuple[str, dict[str, Any]]:
        """A campaign with ``orders`` (in batches of 1000), closed; returns its id and the close answer."""
        campaign = self.create(**overrides)
        for start in range(0, len(orders), 1000):
            assert self.add(campaign, orders[start:start + 1000]).status_code == 200
        reply = self.close(campaign)
        assert reply.status_code == 200, reply.json
        return campaign, reply.json

    def receipt(self, campaign: str, number: str, buyer: str | None = None,
                headers: dict[str, str] | None = None) -> TestResponse:
        """``GET /campaigns/{id}/receipts/{number}`` with the buyer's reference (or other headers)."""
        sent = headers if headers is not None else {"Buyer-Reference": buyer or f"buyer-{number}"}
        return self.client.get(f"/campaigns/{campaign}/receipts/{number}", headers=sent)

    def log_entries(self, start: int = 0) -> list[dict[str, Any]]:
        """Every evidence-log entry from ``start`` (as ``GET /log/entries/{i}`` answers)."""
        size = self.registry.evidence.length()
        return [self.registry.evidence.entry(i) for i in range(start, size)]


def make_world(settings: Settings, store: Store | None = None) -> World:
    """The app on ``store`` (default: the settings' SQLite store) with ``shop`` and ``rival``."""
    clock = Clock()
    app = create_app(settings, store=store, clock=clock)
    registry: Registry = app.extensions["chopmark.registry"]
    tokens = {}
    for name in ("shop", "rival"):
        registry.issuers.create(name)
        tokens[name] = registry.tokens.create(issuer=name, scopes="issue")["token"]
    tokens["shop:status"] = registry.tokens.create(issuer="shop", scopes="status")["token"]
    tokens["admin"] = registry.tokens.create(issuer=None, scopes="admin")["token"]
    return World(app, app.test_client(), registry, clock, settings, tokens)
