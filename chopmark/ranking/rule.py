"""First-N ranking campaigns: the ranking rule, salted order commitments and the campaign's Merkle tree (pure).

The ranking rule (published with every campaign and signed into its ``RankingCommitmentCredential``):

1. Orders are compared by payment time, ascending, at the rule's ``timePrecision`` (``millisecond`` or
   ``second``): two payment times within the same millisecond (second) are equal.
2. Equal payment times are broken by the order number, "the smaller order number first". The plain reading,
   numeric when both are digit strings and code points otherwise, is not a total order ("1a" < "9" by code
   points, 9 < 10 numerically, "10" < "1a" by code points: a cycle), so the order used here is the total order
   closest to it: an order number made only of ASCII digits is *numeric* and every numeric order number comes
   before every other one; numeric ones compare by value ("9" < "10"), equal values ("007", "7") by code points;
   the others compare by Unicode code points ("A-10" < "A-9"). Order numbers are unique within a campaign, so
   the ranking is a total order and a pure function of the set of orders: shuffled input ranks identically.

Each ranked order becomes one leaf of the campaign's RFC 9162 tree (leaf index = rank - 1): the JCS (RFC 8785)
bytes of ``{"campaign", "commitment", "paymentTime", "rank"}``, where ``commitment`` hides the order number and
the buyer reference behind a per-order salt: ``SHA-256("chopmark:rank-commitment:v1" || L(salt) ||
L(orderNumber) || L(buyerReference))`` with ``L(x)`` = 4-byte big-endian length of ``x`` followed by ``x`` (UTF-8
for text). The salt is ``HMAC-SHA256(campaign secret, orderNumber)``: reproducible by the merchant, revealed
only to the buyer (receipt) and the auditor (export).

Work is split so that closing is cheap: each order is *sealed* once, when it is ingested (:func:`seal`: its
canonical time, commitment and one string :func:`sort_key` that encodes the whole rule); closing only sorts by
that key, writes the leaves and hashes the tree (:func:`commit`: a million orders in a few seconds). Receipts are
:mod:`chopmark.ranking.receipts`, audits :mod:`chopmark.ranking.audit`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any, NamedTuple, overload

from chopmark.codecs import jcs
from chopmark.errors import MalformedValueError, UsageError
from chopmark.tlog import MerkleTree

TREE_ALGORITHM = "RFC9162-SHA256"
COMMITMENT_TAG = b"chopmark:rank-commitment:v1"
ORDER_FIELDS = ("paymentTime", "orderNumber")
#: milliseconds per unit of each supported timePrecision
PRECISIONS: Mapping[str, int] = {"millisecond": 1, "second": 1000}
MAX_ORDER_NUMBER = 64
MAX_BUYER_REFERENCE = 256
#: payment times must fall in [1970-01-01, 10000-01-01) UTC (milliseconds since the epoch)
MAX_TIME_MS = 253402300800000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
                   r"(Z|[+-][0-9]{2}:[0-9]{2})")
_HEX64 = re.compile(r"[0-9a-f]{64}")


# --- the rule ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RankingRule:
    """A campaign's published ranking rule; only payment time then order number, ascending, is defined."""

    time_precision: str = "millisecond"

    @property
    def unit_ms(self) -> int:
        """Milliseconds per unit of the precision."""
        return PRECISIONS[self.time_precision]

    def to_json(self) -> dict[str, Any]:
        """The rule as published: ``{"order": [...], "direction": "ascending", "timePrecision": ...}``."""
        return {"order": list(ORDER_FIELDS), "direction": "ascending", "timePrecision": self.time_precision}


def parse_rule(value: Any) -> RankingRule:
    """The rule a campaign publishes (JSON form); raises :class:`MalformedValueError` naming the member."""
    if not isinstance(value, Mapping):
        raise MalformedValueError("the ranking rule must be an object", pointer="/rule", code="BAD_RULE")
    unknown = set(value) - {"order", "direction", "timePrecision"}
    if unknown:
        raise MalformedValueError(f"unknown ranking rule members {sorted(unknown)}", pointer="/rule",
                                  code="BAD_RULE")
    if value.get("order", list(ORDER_FIELDS)) != list(ORDER_FIELDS):
        raise MalformedValueError(f"rule.order must be {list(ORDER_FIELDS)} (payment time, then order number)",
                                  pointer="/rule/order", code="BAD_RULE")
    if value.get("direction", "ascending") != "ascending":
        raise MalformedValueError("rule.direction must be \"ascending\"", pointer="/rule/direction", code="BAD_RULE")
    precision = value.get("timePrecision", "millisecond")
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise MalformedValueError(f"rule.timePrecision must be one of {sorted(PRECISIONS)}",
                                  pointer="/rule/timePrecision", code="BAD_RULE")
    return RankingRule(precision)


# --- payment times -----------------------------------------------------------------------------------------------

def parse_time(value: Any, rule: RankingRule, *, name: str = "paymentTime") -> int:
    """An RFC 3339 timestamp (``2026-11-11T00:00:00.123Z`` or with an offset) as milliseconds since the epoch.

    Fractional digits beyond the rule's precision must be zero (a time more precise than the published rule
    would be silently truncated otherwise). Leap seconds, lower-case ``t``/``z`` and times outside the years
    1970-9999 UTC are refused. Raises :class:`MalformedValueError` (code ``MALFORMED_TIME``).
    """
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise MalformedValueError(f"{name} must be an RFC 3339 date-time such as 2026-11-11T00:00:00.123Z",
                                  pointer=name, code="MALFORMED_TIME")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if int(hour) > 23 or int(minute) > 59 or int(second) > 59:
        raise MalformedValueError(f"{name} {value!r} has an invalid time of day", pointer=name, code="MALFORMED_TIME")
    try:
        days = date(int(year), int(month), int(day)).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        raise MalformedValueError(f"{name} {value!r} is not a calendar date", pointer=name,
                                  code="MALFORMED_TIME") from None
    fraction = (fraction or "").ljust(9, "0")
    if int(fraction[3:]) or int(fraction[:3]) % rule.unit_ms:
        raise MalformedValueError(f"{name} {value!r} is more precise than the rule's timePrecision "
                                  f"({rule.time_precision})", pointer=name, code="MALFORMED_TIME")
    offset = 0 if zone == "Z" else (int(zone[1:3]) * 60 + int(zone[4:6])) * (1 if zone[0] == "+" else -1)
    if zone != "Z" and (int(zone[1:3]) > 23 or int(zone[4:6]) > 59):
        raise MalformedValueError(f"{name} {value!r} has an invalid offset", pointer=name, code="MALFORMED_TIME")
    ms = ((days * 24 + int(hour)) * 60 + int(minute) - offset) * 60000 + int(second) * 1000 + int(fraction[:3])
    if not 0 <= ms < MAX_TIME_MS:
        raise MalformedValueError(f"{name} {value!r} is outside 1970-9999 UTC", pointer=name, code="MALFORMED_TIME")
    return ms


def format_time(ms: int, rule: RankingRule) -> str:
    """The canonical form of a payment time at the rule's precision: UTC, ``Z``, exactly three fractional
    digits for ``millisecond`` and none for ``second`` (the form in leaves, receipts and exports)."""
    return TimeFormatter(rule)(ms)


class TimeFormatter:
    """:func:`format_time` with a per-second cache (a campaign's orders share few distinct seconds)."""

    def __init__(self, rule: RankingRule) -> None:
        """Format at ``rule``'s precision."""
        self._millis = rule.unit_ms == 1
        self._seconds: dict[int, str] = {}

    def __call__(self, ms: int) -> str:
        """The canonical string of ``ms`` (milliseconds since the epoch)."""
        seconds, millis = divmod(ms, 1000)
        text = self._seconds.get(seconds)
        if text is None:
            if len(self._seconds) > 1 << 16:
                self._seconds.clear()
            text = (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
            self._seconds[seconds] = text
        return f"{text}.{millis:03d}Z" if self._millis else text + "Z"


# --- orders and the ranking --------------------------------------------------------------------------------------

class Order(NamedTuple):
    """One order as received: its number, payment time (ms since the epoch, at the rule's precision) and the
    buyer's reference."""

    order_number: str
    payment_time: int
    buyer_reference: str


class SealedOrder(NamedTuple):
    """An order ready to rank: its sort key (:func:`sort_key`), number, canonical payment time and salted
    commitment. It holds no buyer reference; sealing happens once per order, at ingestion."""

    sort_key: str
    order_number: str
    payment_time: str
    commitment: str


class RankedOrder(NamedTuple):
    """A sealed order with its rank (1 = first)."""

    rank: int
    order: SealedOrder


def check_order_number(value: Any, *, name: str = "orderNumber") -> str:
    """1-64 printable characters without white space; raises :class:`MalformedValueError`."""
    if not (isinstance(value, str) and 0 < len(value) <= MAX_ORDER_NUMBER and value.isprintable()
            and not any(ch.isspace() for ch in value)):
        raise MalformedValueError(f"{name} must be 1-{MAX_ORDER_NUMBER} printable characters without spaces",
                                  pointer=name, code="MALFORMED_ORDER")
    return value


def check_buyer_reference(value: Any, *, name: str = "buyerReference") -> str:
    """1-256 printable characters; raises :class:`MalformedValueError`."""
    if not (isinstance(value, str) and 0 < len(value) <= MAX_BUYER_REFERENCE and value.isprintable()):
        raise MalformedValueError(f"{name} must be 1-{MAX_BUYER_REFERENCE} printable characters",
                                  pointer=name, code="MALFORMED_ORDER")
    return value


def order_number_key(order_number: str) -> str:
    """The tie-break key of rule 2 (module docstring) as a string whose code-point order is the rule's order:
    numeric order numbers get ``"0"``, the length of their value's digits (two digits), the digits, a space
    and the order number itself (equal values by code points); the others get ``"1"`` and the order number."""
    if order_number.isascii() and order_number.isdigit():
        digits = order_number.lstrip("0") or "0"
        return f"0{len(digits):02d}{digits} {order_number}"
    return "1" + order_number


def sort_key(payment_time: str, order_number: str) -> str:
    """The whole ranking rule as one string: the canonical payment time (fixed width, UTC, at the rule's
    precision, so code-point order is time order and equal instants are equal prefixes), a space, then the
    tie-break key. Sorting by it is ranking; it needs no comparison function, so a million orders sort in
    under a second."""
    return f"{payment_time} {order_number_key(order_number)}"


def seal(order: Order, salt_bytes: bytes, rule: RankingRule) -> SealedOrder:
    """Seal one order: canonical time, commitment under ``salt_bytes`` (its salt) and sort key."""
    text = format_time(order.payment_time, rule)
    return SealedOrder(sort_key(text, order.order_number), order.order_number, text,
                       commitment(salt_bytes, order.order_number, order.buyer_reference))


def seal_all(orders: Iterable[Order], salts: Callable[[bytes], bytes], rule: RankingRule) -> list[SealedOrder]:
    """Seal many orders (``salts(utf8_order_number)``, normally :meth:`Salts.of`)."""
    fmt = TimeFormatter(rule)
    out = []
    for number, paid, buyer in orders:
        text = fmt(paid)
        encoded = number.encode()
        out.append(SealedOrder(sort_key(text, number), number, text,
                               _commitment_hex(salts(encoded), encoded, buyer.encode())))
    return out


class Ranking(Sequence[RankedOrder]):
    """The result of :func:`rank`: a sequence of :class:`RankedOrder` (index ``i`` holds rank ``i + 1``) over
    the sorted orders (``orders``), without a wrapper object per order until one is asked for."""

    def __init__(self, orders: list[SealedOrder]) -> None:
        """``orders`` already in rank order."""
        self.orders = orders

    def __len__(self) -> int:
        return len(self.orders)

    @overload
    def __getitem__(self, index: int) -> RankedOrder: ...

    @overload
    def __getitem__(self, index: slice) -> list[RankedOrder]: ...

    def __getitem__(self, index: int | slice) -> RankedOrder | list[RankedOrder]:
        if isinstance(index, slice):
            return [RankedOrder(i + 1, self.orders[i]) for i in range(*index.indices(len(self.orders)))]
        position = index + len(self.orders) if index < 0 else index
        return RankedOrder(position + 1, self.orders[index])


def rank(orders: Iterable[SealedOrder]) -> Ranking:
    """The ranking of sealed orders: sorted by :func:`sort_key`. Order numbers must be unique (a duplicate is
    a usage error: deduplication is the ingestion's job, and an audit reports duplicates before ranking)."""
    items = sorted(orders, key=itemgetter(0))
    if len(set(map(itemgetter(1), items))) != len(items):
        seen: set[str] = set()
        for item in items:
            if item[1] in seen:
                raise UsageError(f"order number {item[1]!r} occurs twice")
            seen.add(item[1])
    return Ranking(items)


# --- salts, commitments, leaves and the tree ---------------------------------------------------------------------

class Salts:
    """Salt derivation under a campaign secret: ``salt(order_number) = HMAC-SHA256(secret, order_number)``.

    RFC 2104 §2 with the keyed inner and outer hash states computed once (what :mod:`hmac` recomputes on every
    call): ``H((K ^ opad) || H((K ^ ipad) || text))``; the tests check it against :func:`hmac.digest`."""

    def __init__(self, secret: bytes) -> None:
        """``secret``: the campaign secret (at most 64 bytes; SHA-256's block size)."""
        if not isinstance(secret, bytes) or not 16 <= len(secret) <= 64:
            raise UsageError("the campaign secret must be 16-64 bytes")
        key = secret.ljust(64, b"\x00")  # RFC 2104 §2 step (1): append zeros to the block size
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def __call__(self, order_number: str) -> bytes:
        """The 32-byte salt of ``order_number``."""
        return self.of(order_number.encode())

    def of(self, number: bytes) -> bytes:
        """The salt of a UTF-8 encoded order number."""
        inner = self._inner.copy()
        inner.update(number)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def salt(secret: bytes, order_number: str) -> bytes:
    """The order's salt: HMAC-SHA256(campaign secret, UTF-8 order number)."""
    return hmac.digest(secret, order_number.encode(), "sha256")


def _framed(*fields: bytes) -> bytes:
    return b"".join(len(f).to_bytes(4, "big") + f for f in fields)


def _commitment_hex(salt_bytes: bytes, number: bytes, buyer: bytes) -> str:
    return hashlib.sha256(COMMITMENT_TAG + _framed(salt_bytes, number, buyer)).hexdigest()


def commitment(salt_bytes: bytes, order_number: str, buyer_reference: str) -> str:
    """The hex SHA-256 commitment to an order number and buyer reference under ``salt_bytes`` (module
    docstring: the domain tag, then each field length-prefixed)."""
    return _commitment_hex(salt_bytes, order_number.encode(), buyer_reference.encode())


def leaf(campaign: str, rank_: int, commitment_hex: str, payment_time: str) -> bytes:
    """The JCS bytes of a ranked order's leaf."""
    return jcs.canonicalize({"campaign": campaign, "commitment": commitment_hex, "paymentTime": payment_time,
                             "rank": rank_})


def check_campaign_url(campaign: str) -> str:
    """A campaign id (its URL) must be plain printable ASCII without quotes or backslashes (it is written into
    every leaf); raises :class:`UsageError` otherwise."""
    if not (isinstance(campaign, str) and campaign.isascii() and campaign.isprintable() and campaign
            and '"' not in campaign and "\\" not in campaign):
        raise UsageError(f"unusable campaign id {campaign!r}")
    return campaign


@dataclass(frozen=True)
class RankingTree:
    """A committed ranking: leaf ``i`` is the order of rank ``i + 1`` (``ranking.orders[i]``)."""

    campaign: str
    ranking: Ranking
    leaves: list[bytes]
    tree: MerkleTree

    @property
    def size(self) -> int:
        """The number of leaves (ranked orders)."""
        return len(self.leaves)

    @property
    def root(self) -> bytes:
        """The RFC 9162 root of the leaves."""
        return self.tree.root()

    def proof(self, rank_: int) -> list[bytes]:
        """The RFC 9162 §2.1.3.1 inclusion proof of the leaf of ``rank_``."""
        return self.tree.inclusion_proof(rank_ - 1)


def build_tree(campaign: str, ranking: Ranking) -> RankingTree:
    """The leaves of a ranking and their RFC 9162 tree (:class:`chopmark.tlog.MerkleTree`).

    The leaf bytes are written directly in their JCS form: members in JCS order and every value ASCII without
    escapes (hex, the canonical time, an integer, the checked campaign URL); :func:`leaf` gives the same bytes
    (tested). One pass per stage over C-level calls: a million leaves and their root in about two seconds."""
    prefix = '{"campaign":"' + check_campaign_url(campaign) + '","commitment":"'
    leaves = [f'{prefix}{o[3]}","paymentTime":"{o[2]}","rank":{r}}}'.encode()
              for r, o in enumerate(ranking.orders, 1)]
    sha256 = hashlib.sha256
    hashes = [sha256(b"\x00" + data).digest() for data in leaves]  # RFC 9162 §2.1.1 leaf hash
    return RankingTree(campaign, ranking, leaves, MerkleTree(hashes))


def commit(campaign: str, orders: Iterable[SealedOrder]) -> RankingTree:
    """Rank sealed orders and build their tree (:func:`rank`, then :func:`build_tree`)."""
    return build_tree(campaign, rank(orders))


def is_hex_digest(value: Any) -> bool:
    """True for a lower-case hex SHA-256 digest."""
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None
