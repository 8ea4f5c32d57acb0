"""Concurrent order ingestion: several workers (each with its own cache) feeding one campaign agree with the log;
batches that land behind another worker's batch or behind the close marker are answered as the close sees them."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from chopmark.errors import Conflict
from chopmark.jsonld import DocumentLoader
from chopmark.store import Store
from chopmark.web.plumbing import Client
from issuer.campaigns import Campaigns
from issuer.campaigns_ingest import NS_ORDERS
from tests.support.campaigns import World, order

SHOP = Client(id="test", issuer="shop", scopes=frozenset({"issue"}))


class Interleaving:
    """The real store, but the first append to a campaign's order log first runs ``before`` (another worker's
    write landing between this worker's check and its append)."""

    def __init__(self, inner: Store, before: Callable[[], Any]) -> None:
        self.inner = inner
        self.before: Callable[[], Any] | None = before

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def append(self, ns: str, key: str, value: bytes) -> int:
        if ns == NS_ORDERS and self.before is not None:
            hook, self.before = self.before, None
            hook()
        return self.inner.append(ns, key, value)


def worker(world: World, store: Any) -> Campaigns:
    return Campaigns(store, world.registry, kek=world.settings.load_kek(), public_url=world.settings.public_url,
                     clock=world.clock, rng=random.Random().randbytes, loader=DocumentLoader.pinned())


def test_a_conflict_that_lands_first_wins(world: World) -> None:
    campaign = world.create()
    other = world.worker()
    other.add_orders(SHOP, campaign, [order(9, 1)])  # both workers have seen the log up to here
    mine = worker(world, Interleaving(world.registry.store, lambda: other.add_orders(
        SHOP, campaign, [order(1, 5, "theirs"), order(2, 6)])))
    mine.add_orders(SHOP, campaign, [order(8, 1)])
    answer = mine.add_orders(SHOP, campaign, [order(1, 5, "mine"), order(2, 6), order(3, 7)])
    assert (answer["accepted"], answer["duplicates"]) == (1, 1)
    assert [(r["orderNumber"], r["code"]) for r in answer["refused"]] == [("1", "DUPLICATE_CONFLICT")]
    world.close(campaign)
    export = world.client.get(f"/campaigns/{campaign}/export", headers=world.auth()).json
    assert {r["orderNumber"]: r["buyerReference"] for r in export["orders"]} == {
        "1": "theirs", "2": "buyer-2", "3": "buyer-3", "8": "buyer-8", "9": "buyer-9"}


def test_a_batch_that_lands_behind_the_close_marker_is_refused(world: World) -> None:
    campaign = world.create()
    world.add(campaign, [order(1, 5)])
    mine = worker(world, Interleaving(world.registry.store, lambda: world.close(campaign)))
    with pytest.raises(Conflict) as caught:
        mine.add_orders(SHOP, campaign, [order(3, 7)])
    assert caught.value.instance_code == "CAMPAIGN_CLOSED"
    assert world.client.get(f"/campaigns/{campaign}").json["leafCount"] == 1


def test_every_worker_refuses_orders_after_the_close(world: World) -> None:
    campaign = world.create()
    other = world.worker()
    other.add_orders(SHOP, campaign, [order(1, 5)])
    world.close(campaign)
    with pytest.raises(Conflict) as caught:
        other.add_orders(SHOP, campaign, [order(2, 5)])
    assert caught.value.instance_code == "CAMPAIGN_CLOSED"


@pytest.mark.parametrize("conflicting", [True, False])
def test_concurrent_workers_accept_each_order_once(world: World, conflicting: bool) -> None:
    campaign = world.create(gifts=10)
    numbers = list(range(1, 301))
    answers: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def feed(thread: int) -> None:
        mine = world.worker()
        shuffled = numbers[:]
        random.Random(thread).shuffle(shuffled)
        try:
            for start in range(0, 300, 60):
                batch = [order(n, n * 7, f"t{thread}" if conflicting else None) for n in shuffled[start:start + 60]]
                answer = mine.add_orders(SHOP, campaign, batch)
                with lock:
                    answers.append(answer)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=feed, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    accepted = sum(a["accepted"] for a in answers)
    refused = sum(len(a["refused"]) for a in answers)
    duplicates = sum(a["duplicates"] for a in answers)
    assert accepted == 300
    assert (refused, duplicates) == ((900, 0) if conflicting else (0, 900))
    world.clock.moment = datetime(2026, 11, 12, 12, 0, tzinfo=UTC)
    closed = world.close(campaign).json
    assert closed["leafCount"] == 300
