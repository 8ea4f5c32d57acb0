"""``chopmark demo ranking``: a first-N campaign end to end against a running service, and two rigging attempts.

A merchant creates a campaign (N = 100 gifts), ingests 10,000 generated orders over HTTP (JSON batches and one CSV
batch, with late, malformed and conflicting orders among them), closes it and prints the top of the ranking. A
buyer fetches their RankReceipt and verifies it offline. Then the merchant tries to move a friend's order to the
top in secret: a doctored export is caught by the auditor (the root and the first differing rank), and a second,
rigged commitment is caught by a log monitor (the log is consistent with the earlier checkpoint, so the first
commitment is still there, and now the campaign has two). With the service's store (``--data-dir`` /
``--store``) the command creates its merchant and a short-lived token itself; the rigged re-commit also goes
through the store, as a merchant with its own database would. The root command wires the deployment in
(:class:`RankingDemoHost`): the issuer role does not reach into the registry itself.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import click
from rich.console import Console
from rich.table import Table

from chopmark import ranking
from chopmark.cli.kit import handled, load_settings, store_options
from chopmark.ranking.audit import audit, commitments_in_log
from chopmark.ranking.receipts import verify_receipt
from chopmark.tlog import note
from chopmark.tlog.checks import check_consistency
from chopmark.web.settings import Settings
from issuer.campaigns import Campaigns

MERCHANT = "demo-shop"
ORDERS = 10_000
GIFTS = 100
BATCH = 1000


def _call(method: str, url: str, body: Any = None, *, token: str | None = None, raw: bytes | None = None,
          content_type: str = "application/json", headers: dict[str, str] | None = None) -> Any:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            payload = reply.read()
    except urllib.error.HTTPError as exc:
        raise click.ClickException(f"{method} {url} answered {exc.code}: {exc.read()[:300]!r}") from None
    return json.loads(payload) if payload and payload[:1] in b"{[" else payload.decode()


def generate_orders(start: datetime, count: int, rng: random.Random) -> list[dict[str, str]]:
    """``count`` orders paid during the two hours after ``start``; the first five (every 2000th order) all in the
    very first millisecond, and others in shared milliseconds too, so the tie-break shows."""
    base = int(start.timestamp() * 1000)
    rule = ranking.RankingRule()
    orders = []
    for i in range(count):
        paid = base + 1 + rng.randrange(7_200_000) if i % 50 else base + 60_000 + (i // 500)
        paid = base if i % 2000 == 0 else paid
        orders.append({"orderNumber": str(2026111100000 + i), "paymentTime": ranking.format_time(paid, rule),
                       "buyerReference": f"buyer-{rng.getrandbits(48):012x}"})
    rng.shuffle(orders)
    return orders


def _csv(orders: list[dict[str, str]]) -> bytes:
    lines = ["orderNumber,paymentTime,buyerReference"]
    lines += [f"{o['orderNumber']},{o['paymentTime']},{o['buyerReference']}" for o in orders]
    return ("\r\n".join(lines) + "\r\n").encode()


def _ingest(url: str, campaign: str, orders: list[dict[str, str]], token: str, console: Console) -> None:
    bad = [{"orderNumber": "2026111100000", "paymentTime": orders[0]["paymentTime"], "buyerReference": "someone-else"},
           {"orderNumber": "LATE-1", "paymentTime": "2999-01-01T00:00:00.000Z", "buyerReference": "late-buyer"},
           {"orderNumber": "BAD-TIME", "paymentTime": "yesterday", "buyerReference": "x"}]
    totals = {"accepted": 0, "duplicates": 0, "refused": 0}
    started = time.perf_counter()
    batches = [orders[i:i + BATCH] for i in range(0, len(orders), BATCH)]
    for number, batch in enumerate(batches):
        if number == len(batches) - 1:
            answer = _call("POST", f"{url}/campaigns/{campaign}/orders", raw=_csv(batch), content_type="text/csv",
                           token=token)
        else:
            answer = _call("POST", f"{url}/campaigns/{campaign}/orders", {"orders": batch + (bad if number == 1
                                                                                                 else [])}, token=token)
        for name in ("accepted", "duplicates"):
            totals[name] += answer[name]
        totals["refused"] += len(answer["refused"])
        for refusal in answer["refused"]:
            console.print(f"  refused {refusal['orderNumber']}: {refusal['code']} ({refusal['reason']})")
    replay = _call("POST", f"{url}/campaigns/{campaign}/orders", {"orders": batches[0][:200]}, token=token)
    elapsed = time.perf_counter() - started
    console.print(f"  {totals['accepted']} orders accepted in {len(batches)} batches (the last as CSV), "
                  f"{totals['refused']} refused, {elapsed:.2f} s ({totals['accepted'] / elapsed:,.0f} orders/s); "
                  f"replaying a batch: {replay['accepted']} accepted, {replay['duplicates']} duplicates")


def _top(export: dict[str, Any], friend: str) -> Table:
    table = Table(title=f"The first of {len(export['orders'])} (N = {GIFTS}); equal payment times: the smaller "
                        "order number first")
    for column in ("rank", "order number", "payment time", "gift"):
        table.add_column(column)
    for row in export["orders"][:10]:
        table.add_row(str(row["rank"]), row["orderNumber"], row["paymentTime"], "yes" if row["rank"] <= GIFTS else "")
    mine = next(r for r in export["orders"] if r["orderNumber"] == friend)
    table.add_row("...", "", "", "")
    table.add_row(str(mine["rank"]), f"{friend} (the merchant's friend)", mine["paymentTime"], "no")
    return table


def _all_leaves(url: str, campaign: str, count: int) -> list[Any]:
    leaves: list[Any] = []
    while len(leaves) < count:
        page = _call("GET", f"{url}/campaigns/{campaign}/leaves?start={len(leaves)}&limit=10000")
        leaves.extend(page["leaves"])
    return leaves


def _doctored(export: dict[str, Any], friend: str) -> dict[str, Any]:
    """The export with the friend's order paid one millisecond before everyone else (so it ranks first)."""
    rule = ranking.RankingRule()
    first = ranking.parse_time(export["orders"][0]["paymentTime"], rule)
    orders = [dict(o) for o in export["orders"]]
    for order in orders:
        if order["orderNumber"] == friend:
            order["paymentTime"] = ranking.format_time(first - 1, rule)
    orders.sort(key=lambda o: ranking.sort_key(o["paymentTime"], o["orderNumber"]))
    for rank, order in enumerate(orders, 1):
        order["rank"] = rank
    return {**export, "orders": orders}


def _watch(url: str, key: str, before: str, campaign_url: str, first_index: int, console: Console) -> None:
    """A log monitor: the new checkpoint must extend the one seen before; then look for the campaign's
    commitments among the entries since its first commitment."""
    verifier = note.parse_verifier_key(key)
    old = note.open_checkpoint(before, verifier.name, verifier)
    new = note.open_checkpoint(_call("GET", f"{url}/log/checkpoint"), verifier.name, verifier)
    proof = _call("GET", f"{url}/log/proofs/consistency?from={old.size}&to={new.size}") if new.size > old.size else {
        "from": old.size, "to": new.size, "hashes": []}
    checked = check_consistency(old, new, proof)
    console.print(f"  monitor: checkpoint {old.size} -> {new.size} consistent: {checked['consistent']} (the log only "
                  "grew: the first commitment is still in it)")
    entries = [_call("GET", f"{url}/log/entries/{i}") for i in range(first_index, new.size)]
    found = commitments_in_log(entries, campaign_url)
    roots = {f["merkleRoot"] for f in found}
    verdict = "[red]CAUGHT[/red]" if len(roots) > 1 else "[green]one commitment[/green]"
    console.print(f"  monitor: {verdict}: {len(found)} commitments for the campaign in the log "
                  f"(indexes {[f['index'] for f in found]}, {len(roots)} different roots)")


class RankingDemoHost(Protocol):
    """What ``demo ranking`` needs of the deployment it runs against, through that deployment's store."""

    def merchant_token(self, merchant: str, label: str) -> dict[str, Any]:
        """Create issuer ``merchant`` unless it exists, and an ``issue`` token for it: ``{"token", "id", ...}``."""

    def campaigns(self) -> Campaigns:
        """The deployment's campaigns (to re-commit a ranking behind the service's back, as a rigging merchant
        with its own database would)."""

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token :meth:`merchant_token` made."""

    def close(self) -> None:
        """Release the store."""


#: ``open_host(settings)``: the host of the deployment ``settings`` name (the root command wires the registry in).
RankingDemoOpener = Callable[[Settings], RankingDemoHost]


def ranking_command(open_host: RankingDemoOpener) -> click.Command:
    """``chopmark demo ranking`` over the deployments ``open_host`` opens."""
    @click.command("ranking")
    @click.option("--url", "base_url", required=True,
                  help="The running service's base URL (e.g. http://127.0.0.1:8000).")
    @click.option("--seed", type=int, default=20261111, show_default=True, help="Seed of the generated orders.")
    @store_options
    @handled
    def ranking_demo(base_url: str, seed: int, store_url: str | None, data_dir: str | None,
                     public_url: str | None) -> None:
        """A first-N campaign: 10,000 orders, the ranking, a buyer's receipt, two secret reorders caught."""
        url = base_url.rstrip("/")
        host = open_host(load_settings(store_url, data_dir, public_url or url))
        try:
            _run(url, seed, host)
        finally:
            host.close()

    return ranking_demo


def _buyer_verifies(url: str, campaign: str, buyer: dict[str, Any], console: Console) -> tuple[str, str]:
    """The buyer fetches their RankReceipt and verifies it offline; returns the receipt's JSON and the log key."""
    receipt = _call("GET", f"{url}/campaigns/{campaign}/receipts/{buyer['orderNumber']}",
                    headers={"Buyer-Reference": buyer["buyerReference"]})
    key = _call("GET", f"{url}/log/key").strip()
    raw = json.dumps(receipt)
    timings = []
    for _ in range(20):  # the first run warms the caches (contexts, keys); the others are the steady cost
        started = time.perf_counter()
        result = verify_receipt(json.loads(raw), log_key=key, now=datetime.now(UTC))
        timings.append((time.perf_counter() - started) * 1000)
    console.print(f"  order {buyer['orderNumber']}: rank {result.rank}, verified {result.verified}, within the first "
                  f"{result.gifts}: {result.within_gifts} (offline, JSON parsing included: {timings[0]:.2f} ms cold, "
                  f"{sorted(timings[1:])[9]:.2f} ms warm)")
    return raw, key


def _run(url: str, seed: int, host: RankingDemoHost) -> None:
    """The story; the caller closes ``host``."""
    console = Console(emoji=False, highlight=False)
    token = host.merchant_token(MERCHANT, "demo ranking")
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    start, end = now - timedelta(hours=3), now - timedelta(minutes=1)
    console.rule("1. the campaign")
    created = _call("POST", f"{url}/issuers/{MERCHANT}/campaigns", {
        "sku": "TEA-0042", "gifts": GIFTS, "windowStart": start.isoformat().replace("+00:00", "Z"),
        "windowEnd": end.isoformat().replace("+00:00", "Z")}, token=token["token"])
    campaign = created["id"]
    console.print(f"  {created['url']}: the first {GIFTS} buyers of {created['sku']} between {created['windowStart']} "
                  f"and {created['windowEnd']} get a gift; rule {created['rule']}")
    console.rule("2. 10,000 orders")
    orders = generate_orders(start + timedelta(minutes=5), ORDERS, rng)
    _ingest(url, campaign, orders, token["token"], console)
    console.rule("3. close: rank and commit")
    started = time.perf_counter()
    closed = _call("POST", f"{url}/campaigns/{campaign}/close", token=token["token"])
    console.print(f"  {closed['leafCount']} leaves, root {closed['root']}, commitment in the evidence log at index "
                  f"{closed['logIndex']} ({(time.perf_counter() - started) * 1000:.0f} ms)")
    export = _call("GET", f"{url}/campaigns/{campaign}/export", token=token["token"])
    friend = export["orders"][len(export["orders"]) // 2]["orderNumber"]
    console.print(_top(export, friend))
    console.rule("4. a buyer verifies their rank offline")
    raw, key = _buyer_verifies(url, campaign, export["orders"][41], console)
    console.rule("5. the merchant tries to move a friend's order to the top")
    leaves = _all_leaves(url, campaign, closed["leafCount"])
    honest = audit(export, leaves, closed["commitmentCredential"])
    console.print(f"  auditor on the real export: matches {honest.matches}")
    rigged = audit(_doctored(export, friend), leaves, closed["commitmentCredential"])
    codes = sorted({p["code"] for p in rigged.problems})
    console.print(f"  auditor on a doctored export: [red]CAUGHT[/red] ({', '.join(codes)}; first differing rank "
                  f"{rigged.first_differing_rank}, {rigged.differing_rank_count} ranks differ)")
    before = _call("GET", f"{url}/log/checkpoint")
    campaigns = host.campaigns()
    moved = [ranking.Order(o["orderNumber"], ranking.parse_time(o["paymentTime"], ranking.RankingRule()),
                           o["buyerReference"]) for o in _doctored(export, friend)["orders"]]
    again = campaigns.recommit(campaign, moved)
    console.print(f"  a second commitment behind the service's back: root {again['root']} at log index "
                  f"{again['logIndex']}")
    _watch(url, key, before, created["url"], closed["logIndex"], console)
    still = verify_receipt(json.loads(raw), log_key=key, now=datetime.now(UTC))
    console.print(f"  the buyer's receipt still proves rank {still.rank} under the first commitment: {still.verified}")
    host.revoke_token(token["id"])
