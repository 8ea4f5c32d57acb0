"""Order ingestion for ranking campaigns: parsing (JSON or CSV), validation, and idempotent deduplication.

Orders are kept in one store *log* per campaign (``campaign-orders`` / campaign id): each accepted batch is ONE
entry ``{"orders": [[orderNumber, paymentTime, buyerReference, commitment], ...]}`` written with one ``append``,
so ingesting 10,000 orders in batches of 1,000 costs ten durable writes, not 10,000. Closing appends a marker
entry ``{"close": true}``; the campaign's orders are the entries before the first marker.

There is deliberately no dedup record per order (that would be one durable write per order). The log itself
is the order of record: an order number's *first* occurrence in the log is the one that counts, later ones are
duplicates (same content) or conflicts (other content) and are ignored at close. Each worker keeps the orders
it has seen per campaign (:class:`KnownOrders`) and before each batch reads only the log's new tail, so dedup
costs O(batch), not O(campaign). Concurrent batches may both pass that check; the append's returned index
settles it: a batch that did not land at the length it read re-checks its orders against the entries that
landed in between (:meth:`KnownOrders.settle`), so every answer (accepted, duplicate, conflict, closed) is
exactly what the close will find in the log.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chopmark import ranking
from chopmark.errors import BadRequest, ChopmarkError, Conflict
from chopmark.ranking import Order, RankingRule
from chopmark.store import Store

NS_ORDERS = "campaign-orders"
MAX_BATCH = 10_000
CSV_HEADER = ("orderNumber", "paymentTime", "buyerReference")
CLOSE_MARKER = b'{"close":true}'
_CACHED_CAMPAIGNS = 16


@dataclass(frozen=True)
class Window:
    """A campaign's window ``[start, end)`` in milliseconds since the epoch, and its ranking rule."""

    start: int
    end: int
    rule: RankingRule


@dataclass
class Parsed:
    """A batch after validation: new orders (first occurrence within the batch) and the refusals."""

    orders: dict[str, Order] = field(default_factory=dict)
    contents: dict[str, str] = field(default_factory=dict)
    duplicates: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, number: Any, code: str, reason: str) -> None:
        """Record a refused order."""
        self.refused.append({"orderNumber": number if isinstance(number, str) else None, "code": code,
                             "reason": reason})


def _content(payment_time: str, buyer_reference: str) -> str:
    return payment_time + "\n" + buyer_reference


def parse_batch(items: Sequence[Any], window: Window) -> Parsed:
    """Validate a batch: malformed orders, malformed times and orders paid outside the window are refused;
    an order number repeated in the batch is a duplicate (same content) or a conflict (other content)."""
    parsed = Parsed()
    for position, item in enumerate(items):
        order = _parse_order(item, position, window, parsed)
        if order is None:
            continue
        content = _content(ranking.format_time(order.payment_time, window.rule), order.buyer_reference)
        seen = parsed.contents.get(order.order_number)
        if seen is None:
            parsed.contents[order.order_number] = content
            parsed.orders[order.order_number] = order
        elif seen == content:
            parsed.duplicates += 1
        else:
            parsed.refuse(order.order_number, "DUPLICATE_CONFLICT",
                          "the order number occurs earlier in this batch with other content")
    return parsed


def _parse_order(item: Any, position: int, window: Window, parsed: Parsed) -> Order | None:
    number = item.get("orderNumber") if isinstance(item, Mapping) else None
    if not isinstance(item, Mapping) or set(item) != set(CSV_HEADER):
        parsed.refuse(number, "MALFORMED_ORDER", f"order {position} must be an object with exactly "
                                                 f"{', '.join(CSV_HEADER)}")
        return None
    try:
        number = ranking.check_order_number(number)
        buyer = ranking.check_buyer_reference(item["buyerReference"])
        paid = ranking.parse_time(item["paymentTime"], window.rule)
    except ChopmarkError as exc:
        parsed.refuse(number, exc.instance_code, exc.detail)
        return None
    if paid < window.start:
        parsed.refuse(number, "EARLY_ORDER", "paid before the campaign window opened")
        return None
    if paid >= window.end:
        parsed.refuse(number, "LATE_ORDER", "paid after the campaign window closed (late)")
        return None
    return Order(number, paid, buyer)


def parse_csv(text: str) -> list[dict[str, str]]:
    """Orders from CSV (RFC 4180) with the header ``orderNumber,paymentTime,buyerReference`` (any order)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise BadRequest(f"the CSV body is malformed: {exc}", code="MALFORMED_CSV") from None
    if not rows or sorted(rows[0]) != sorted(CSV_HEADER) or len(rows[0]) != 3:
        raise BadRequest(f"the CSV must start with the header {','.join(CSV_HEADER)}", code="MALFORMED_CSV")
    header = rows[0]
    out: list[dict[str, str]] = []
    for line, row in enumerate(rows[1:], 2):
        if not row:
            continue
        if len(row) != 3:
            raise BadRequest(f"CSV line {line} has {len(row)} fields, not 3", code="MALFORMED_CSV")
        out.append(dict(zip(header, row, strict=True)))
    return out


def check_batch(items: Any) -> list[Any]:
    """The ``orders`` list of a JSON body, 1 to :data:`MAX_BATCH` items."""
    if not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
        raise BadRequest(f"orders must be a list of 1 to {MAX_BATCH} orders", pointer="/orders", code="BAD_BATCH")
    return items


@dataclass
class _Seen:
    length: int = 0
    orders: dict[str, str] = field(default_factory=dict)
    closed: bool = False


@dataclass(frozen=True)
class Outcome:
    """What a batch ingestion did."""

    accepted: int
    duplicates: int
    refused: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """``{accepted, duplicates, refused}``."""
        return {"accepted": self.accepted, "duplicates": self.duplicates, "refused": self.refused}


class KnownOrders:
    """The orders of each campaign as read from its log (first occurrence wins), cached per worker and brought
    up to date by reading only the log's new entries."""

    def __init__(self, store: Store) -> None:
        """Read the campaign logs of ``store``."""
        self._store = store
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.Lock()

    def _catch_up(self, campaign: str) -> _Seen:
        with self._lock:
            seen = self._seen.pop(campaign, None) or _Seen()
            self._seen[campaign] = seen  # most recently used last
            while len(self._seen) > _CACHED_CAMPAIGNS:
                self._seen.pop(next(iter(self._seen)))
            length = self._store.length(NS_ORDERS, campaign)
            if length > seen.length:
                _absorb(seen, self._store.read(NS_ORDERS, campaign, seen.length, length))
                seen.length = length
            return seen

    def ingest(self, campaign: str, parsed: Parsed, seal: Callable[[Iterable[Order]], list[list[str]]]) -> Outcome:
        """Append the batch's new orders (one store write) and report what happened (module docstring)."""
        seen = self._catch_up(campaign)
        if seen.closed:
            raise Conflict("the campaign is closed; no more orders are accepted", code="CAMPAIGN_CLOSED")
        duplicates, refused = parsed.duplicates, list(parsed.refused)
        fresh: list[Order] = []
        for number, order in parsed.orders.items():
            verdict = _verdict(seen.orders, number, parsed.contents[number], refused)
            duplicates += verdict == "duplicate"
            if verdict == "new":
                fresh.append(order)
        rows = seal(fresh)
        if not rows:
            return Outcome(0, duplicates, refused)
        expected = seen.length
        first = self._store.append(NS_ORDERS, campaign, json.dumps({"orders": rows}, separators=(",", ":"),
                                                                   ensure_ascii=False).encode())
        accepted = len(rows)
        if first != expected:  # other batches landed in between: they came first
            between = _Seen(orders={})
            _absorb(between, self._store.read(NS_ORDERS, campaign, expected, first))
            if between.closed:
                raise Conflict("the campaign was closed while this batch was written; it was not accepted",
                               code="CAMPAIGN_CLOSED")
            for row in rows:
                verdict = _verdict(between.orders, row[0], _content(row[1], row[2]), refused)
                accepted -= verdict != "new"
                duplicates += verdict == "duplicate"
        return Outcome(accepted, duplicates, refused)


def _verdict(known: Mapping[str, str], number: str, content: str, refused: list[dict[str, Any]]) -> str:
    """``new``, ``duplicate`` (same content seen before) or ``conflict`` (recorded as refused)."""
    previous = known.get(number)
    if previous is None:
        return "new"
    if previous == content:
        return "duplicate"
    refused.append({"orderNumber": number, "code": "DUPLICATE_CONFLICT",
                    "reason": "an order with this number and other content was accepted earlier"})
    return "conflict"


def _absorb(seen: _Seen, entries: Iterable[bytes]) -> None:
    """Fold log entries into ``seen`` (first occurrence wins; entries after a close marker are ignored)."""
    for raw in entries:
        if seen.closed:
            return
        if raw == CLOSE_MARKER:
            seen.closed = True
            return
        for number, paid, buyer, _ in json.loads(raw)["orders"]:
            seen.orders.setdefault(number, _content(paid, buyer))


def read_campaign_orders(entries: Iterable[bytes]) -> tuple[list[ranking.SealedOrder], dict[str, str]]:
    """The sealed orders of a campaign log up to its first close marker (first occurrence of each order number
    wins) and each order's buyer reference."""
    sealed: list[ranking.SealedOrder] = []
    buyers: dict[str, str] = {}
    for raw in entries:
        if raw == CLOSE_MARKER:
            break
        for number, paid, buyer, commitment in json.loads(raw)["orders"]:
            if number not in buyers:
                buyers[number] = buyer
                sealed.append(ranking.SealedOrder(ranking.sort_key(paid, number), number, paid, commitment))
    return sealed, buyers
