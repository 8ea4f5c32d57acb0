"""Auditing a first-N ranking campaign: re-derive the whole ranking from the merchant's export (pure).

The auditor holds the export (every order with its salt, ``GET /campaigns/{id}/export``) and, independently, what
the merchant published: the commitment credential (its Merkle root and leaf count), the public leaves
(``GET /campaigns/{id}/leaves``) and the evidence log's entries. :func:`audit` recomputes every commitment, leaf
and the root under the campaign's rule (:mod:`chopmark.ranking`) and reports, with stable codes:

* ``EXPORT_MALFORMED``, ``ORDER_MALFORMED``, ``DUPLICATE_ORDER``, ``ORDER_OUTSIDE_WINDOW``: the export itself;
* ``EXPORT_RANK_MISMATCH``: the export claims a rank the rule does not give;
* ``ROOT_MISMATCH``, ``LEAF_COUNT_MISMATCH``, ``CAMPAIGN_MISMATCH``: the commitment is not of this ranking;
* ``LEAF_MISMATCH``: a published leaf differs from the derived one (a reordering, insertion or deletion), with
  the first differing rank and every differing rank up to a limit;
* ``LEAVES_ROOT_MISMATCH``: the published leaves do not hash to the committed root;
* ``COMMITTED_TWICE``, ``COMMITMENT_NOT_IN_LOG``: the log holds several different commitments for the
  campaign, or none with the derived root.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chopmark import ranking, tlog
from chopmark.codecs import jcs
from chopmark.errors import ChopmarkError
from chopmark.ranking import receipts

DEFAULT_LIMIT = 100


@dataclass
class AuditReport:
    """What an audit found; ``matches`` only when nothing was found."""

    campaign: str | None = None
    leaf_count: int = 0
    derived_root: str | None = None
    committed_root: str | None = None
    differing_ranks: list[int] = field(default_factory=list)
    differing_rank_count: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        """True when the export re-derives exactly what was committed and published."""
        return not self.problems

    @property
    def first_differing_rank(self) -> int | None:
        """The smallest rank whose leaf differs (None when none does)."""
        return self.differing_ranks[0] if self.differing_ranks else None

    def problem(self, code: str, detail: str, **extra: Any) -> None:
        """Record a finding."""
        self.problems.append({"code": code, "detail": detail, **extra})

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"matches": self.matches, "campaign": self.campaign, "leafCount": self.leaf_count,
                "derivedRoot": self.derived_root, "committedRoot": self.committed_root,
                "firstDifferingRank": self.first_differing_rank, "differingRanks": self.differing_ranks,
                "differingRankCount": self.differing_rank_count, "problems": self.problems}


def _subject(commitment: Any) -> Mapping[str, Any] | None:
    """The credential subject of a commitment credential (or the subject itself)."""
    subject = commitment.get("credentialSubject") if isinstance(commitment, Mapping) else None
    if isinstance(subject, Mapping):
        return subject
    return commitment if isinstance(commitment, Mapping) and "merkleRoot" in commitment else None


def audit(export: Any, leaves: Sequence[Any] | None = None, commitment: Any = None, *,
          log_entries: Sequence[Any] | None = None, limit: int = DEFAULT_LIMIT) -> AuditReport:
    """Audit a campaign export (module docstring). ``commitment``: the commitment credential (default: the one
    in the export); ``leaves``: the published leaves (objects or their JCS text), in rank order;
    ``log_entries``: evidence-log entries (``{index, data}``, as ``GET /log/entries/{i}`` answers). Never raises
    for bad input."""
    report = AuditReport()
    campaign = export.get("campaign") if isinstance(export, Mapping) else None
    orders = export.get("orders") if isinstance(export, Mapping) else None
    if not isinstance(campaign, Mapping) or not isinstance(orders, list) or not isinstance(campaign.get("url"), str):
        report.problem("EXPORT_MALFORMED", "the export needs a campaign object (with url) and an orders list")
        return report
    try:
        rule = ranking.parse_rule(campaign.get("rule"))
        precise = ranking.RankingRule("millisecond")
        window = (ranking.parse_time(campaign.get("windowStart"), precise),
                  ranking.parse_time(campaign.get("windowEnd"), precise))
        url = ranking.check_campaign_url(campaign["url"])
    except ChopmarkError as exc:
        report.problem("EXPORT_MALFORMED", f"the campaign is malformed: {exc.detail}")
        return report
    report.campaign = url
    sealed, claimed = _seal(orders, rule, window, report)
    tree = ranking.commit(url, sealed)
    report.leaf_count, report.derived_root = tree.size, tree.root.hex()
    derived = {order[1]: rank for rank, order in enumerate(tree.ranking.orders, 1)}
    differing = {rank for number, rank in claimed.items() if derived.get(number) != rank}
    if differing:
        report.problem("EXPORT_RANK_MISMATCH", f"{len(differing)} orders of the export claim a rank the rule does "
                       "not give them", ranks=sorted(differing)[:limit])
    subject = _subject(commitment if commitment is not None else export.get("commitmentCredential"))
    if subject is not None:
        _compare_commitment(subject, campaign, tree, report)
    if leaves is not None:
        differing |= _compare_leaves(leaves, tree, subject, report, limit)
    if log_entries is not None:
        _check_log(log_entries, url, report)
    report.differing_ranks = sorted(differing)[:limit]
    report.differing_rank_count = len(differing)
    return report


def _seal(orders: list[Any], rule: ranking.RankingRule, window: tuple[int, int],
          report: AuditReport) -> tuple[list[ranking.SealedOrder], dict[str, int]]:
    sealed: list[ranking.SealedOrder] = []
    claimed: dict[str, int] = {}
    for position, item in enumerate(orders):
        try:
            if not isinstance(item, Mapping) or not ranking.is_hex_digest(item.get("salt")):
                raise ValueError("an order needs orderNumber, paymentTime, buyerReference and a hex salt")
            number = ranking.check_order_number(item.get("orderNumber"))
            paid = ranking.parse_time(item.get("paymentTime"), rule)
            order = ranking.Order(number, paid, ranking.check_buyer_reference(item.get("buyerReference")))
        except (ChopmarkError, ValueError) as exc:
            report.problem("ORDER_MALFORMED", f"order {position}: {getattr(exc, 'detail', exc)}", position=position)
            continue
        if number in claimed:
            report.problem("DUPLICATE_ORDER", f"order number {number!r} occurs twice", orderNumber=number)
            continue
        if not window[0] <= paid < window[1]:
            report.problem("ORDER_OUTSIDE_WINDOW", f"order {number!r} was paid outside the window",
                           orderNumber=number)
        rank = item.get("rank")
        claimed[number] = rank if isinstance(rank, int) and not isinstance(rank, bool) else 0
        sealed.append(ranking.seal(order, bytes.fromhex(item["salt"]), rule))
    return sealed, claimed


def _compare_commitment(subject: Mapping[str, Any], campaign: Mapping[str, Any], tree: ranking.RankingTree,
                        report: AuditReport) -> None:
    report.committed_root = subject.get("merkleRoot") if isinstance(subject.get("merkleRoot"), str) else None
    if subject.get("merkleRoot") != tree.root.hex():
        report.problem("ROOT_MISMATCH", "the committed Merkle root is not the root of the re-derived ranking",
                       committed=subject.get("merkleRoot"), derived=tree.root.hex())
    if subject.get("leafCount") != tree.size:
        report.problem("LEAF_COUNT_MISMATCH", f"{subject.get('leafCount')} leaves were committed, the export "
                       f"ranks {tree.size} orders", committed=subject.get("leafCount"), derived=tree.size)
    expected = {"id": campaign.get("url"), "gifts": campaign.get("gifts"), "windowStart": campaign.get("windowStart"),
                "windowEnd": campaign.get("windowEnd"), "rankingRule": campaign.get("rule")}
    differing = sorted(name for name, value in expected.items() if subject.get(name) != value)
    if differing:
        report.problem("CAMPAIGN_MISMATCH", f"the commitment's {', '.join(differing)} differ from the campaign's",
                       members=differing)


def _leaf_bytes(value: Any) -> bytes | None:
    try:
        if isinstance(value, str):
            return value.encode()
        return jcs.canonicalize_general(value) if isinstance(value, Mapping) else None
    except ChopmarkError:
        return None


def _compare_leaves(leaves: Sequence[Any], tree: ranking.RankingTree, subject: Mapping[str, Any] | None,
                    report: AuditReport, limit: int) -> set[int]:
    published = [_leaf_bytes(leaf) for leaf in leaves]
    differing = {i + 1 for i, (mine, theirs) in enumerate(zip(tree.leaves, published, strict=False)) if mine != theirs}
    differing |= set(range(min(len(published), tree.size) + 1, max(len(published), tree.size) + 1))
    if differing:
        ordered = sorted(differing)
        report.problem("LEAF_MISMATCH", f"{len(ordered)} published leaves differ from the re-derived ranking, the "
                       f"first at rank {ordered[0]} ({len(published)} published, {tree.size} derived)",
                       firstDifferingRank=ordered[0], ranks=ordered[:limit])
    if subject is not None and all(p is not None for p in published):
        root = tlog.root([tlog.leaf_hash(p) for p in published if p is not None]).hex()
        if root != subject.get("merkleRoot"):
            report.problem("LEAVES_ROOT_MISMATCH", "the published leaves do not hash to the committed root",
                           publishedRoot=root)
    return differing


def commitments_in_log(entries: Sequence[Any], campaign: str) -> list[dict[str, Any]]:
    """The ``ranking-commitment`` entries of ``campaign`` among evidence-log entries (``{index, data}``):
    ``[{index, merkleRoot, leafCount, credentialSha256}]``; other and undecodable entries are skipped."""
    found = []
    for entry in entries:
        try:
            leaf = jcs.loads_strict(base64.b64decode(entry["data"], validate=True))
            if leaf.get("type") != receipts.COMMITMENT_ENTRY_TYPE:
                continue
            payload = jcs.loads_strict(base64.b64decode(leaf["data"], validate=True))
        except (ChopmarkError, binascii.Error, ValueError, TypeError, KeyError, AttributeError):
            continue
        if isinstance(payload, dict) and payload.get("campaign") == campaign:
            found.append({"index": entry.get("index"), "merkleRoot": payload.get("merkleRoot"),
                          "leafCount": payload.get("leafCount"), "credentialSha256": payload.get("credentialSha256")})
    return found


def _check_log(entries: Sequence[Any], campaign: str, report: AuditReport) -> None:
    found = commitments_in_log(entries, campaign)
    roots = {f["merkleRoot"] for f in found}
    if len(roots) > 1:
        report.problem("COMMITTED_TWICE", f"the evidence log holds {len(roots)} different commitments for this "
                       "campaign", commitments=found)
    if report.derived_root not in roots:
        report.problem("COMMITMENT_NOT_IN_LOG", "no commitment in the given log entries has the derived root",
                       commitments=found)
