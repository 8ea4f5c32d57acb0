"""Auditing a campaign export: the honest export matches; every reordering, insertion and deletion changes the root
and is reported with the differing ranks; a second commitment in the log is found; bad input never raises."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chopmark import ranking
from chopmark.ranking import receipts
from chopmark.ranking.audit import audit, commitments_in_log
from tests.support.ranking import CAMPAIGN, SECRET, build_campaign, log_leaf

HONEST = build_campaign(count=60, gifts=10)


def export() -> dict[str, Any]:
    return copy.deepcopy(HONEST.export())


def codes(report: Any) -> set[str]:
    return {p["code"] for p in report.problems}


def test_the_honest_campaign_matches() -> None:
    report = audit(export(), HONEST.leaves(), HONEST.credential, log_entries=HONEST.log_entries())
    assert report.matches, report.to_dict()
    assert report.derived_root == report.committed_root == HONEST.tree.root.hex() and report.leaf_count == 60
    assert report.to_dict()["firstDifferingRank"] is None
    # leaves as their exact JCS text, and the commitment taken from the export, work the same
    assert audit(export(), [leaf.decode() for leaf in HONEST.tree.leaves]).matches


def test_a_reordered_export_is_caught_at_the_first_differing_rank() -> None:
    doctored = export()
    friend = doctored["orders"][40]
    friend["paymentTime"] = "2026-11-11T00:00:00.000Z"  # paid "first"
    report = audit(doctored, HONEST.leaves(), HONEST.credential)
    assert {"ROOT_MISMATCH", "LEAF_MISMATCH", "EXPORT_RANK_MISMATCH"} <= codes(report)
    assert report.first_differing_rank == 1
    assert report.differing_ranks == list(range(1, 42))  # everyone before the friend moved down by one


def test_a_swap_of_two_ranks_names_exactly_those_ranks() -> None:
    doctored = export()
    a, b = doctored["orders"][4], doctored["orders"][9]
    a["paymentTime"], b["paymentTime"] = b["paymentTime"], a["paymentTime"]
    report = audit(doctored, HONEST.leaves(), HONEST.credential)
    assert report.differing_ranks == [5, 10] and report.differing_rank_count == 2
    assert "ROOT_MISMATCH" in codes(report)


def test_a_deleted_order_shifts_every_later_rank() -> None:
    doctored = export()
    del doctored["orders"][20]
    report = audit(doctored, HONEST.leaves(), HONEST.credential)
    assert {"ROOT_MISMATCH", "LEAF_COUNT_MISMATCH", "LEAF_MISMATCH"} <= codes(report)
    assert report.first_differing_rank == 21 and report.differing_ranks == list(range(21, 61))


def test_an_inserted_order_is_caught() -> None:
    doctored = export()
    doctored["orders"].append({"rank": 3, "orderNumber": "1", "paymentTime": doctored["orders"][2]["paymentTime"],
                               "buyerReference": "friend", "salt": ranking.salt(SECRET, "1").hex()})
    report = audit(doctored, HONEST.leaves(), HONEST.credential)
    assert report.first_differing_rank == 3 and report.differing_rank_count == 59
    assert report.leaf_count == 61 and "LEAF_COUNT_MISMATCH" in codes(report)


def test_published_leaves_that_are_not_the_committed_ones_are_caught() -> None:
    leaves = HONEST.leaves()
    leaves[7], leaves[8] = leaves[8], leaves[7]
    report = audit(export(), leaves, HONEST.credential)
    assert {"LEAF_MISMATCH", "LEAVES_ROOT_MISMATCH"} <= codes(report) and report.differing_ranks == [8, 9]
    assert "ROOT_MISMATCH" not in codes(report)  # the export and the commitment agree; the published leaves lie


def test_the_limit_caps_the_listed_ranks_not_the_count() -> None:
    doctored = export()
    del doctored["orders"][0]
    report = audit(doctored, HONEST.leaves(), HONEST.credential, limit=5)
    assert report.differing_ranks == [1, 2, 3, 4, 5] and report.differing_rank_count == 60


def test_a_commitment_for_other_campaign_terms_is_caught() -> None:
    doctored = export()
    doctored["campaign"]["gifts"] = 50
    assert "CAMPAIGN_MISMATCH" in codes(audit(doctored, commitment=HONEST.credential))


def test_bad_orders_are_reported() -> None:
    doctored = export()
    doctored["orders"].append(copy.deepcopy(doctored["orders"][0]))
    doctored["orders"].append({"orderNumber": "x y", "paymentTime": "soon", "buyerReference": "", "salt": "00"})
    doctored["orders"].append({**doctored["orders"][1], "orderNumber": "late", "paymentTime":
                               "2026-11-12T00:00:00.000Z", "salt": ranking.salt(SECRET, "late").hex()})
    assert {"DUPLICATE_ORDER", "ORDER_MALFORMED", "ORDER_OUTSIDE_WINDOW"} <= codes(audit(doctored))


def test_two_commitments_in_the_log_are_caught() -> None:
    other = build_campaign(count=59, gifts=10)  # the same campaign committed again without one order
    payload = receipts.commitment_entry(CAMPAIGN, "ab" * 32, other.tree.root.hex(), other.tree.size)
    second = {"index": 8, "data": _b64(log_leaf(receipts.COMMITMENT_ENTRY_TYPE, payload))}
    entries = [*HONEST.log_entries(), second]
    found = commitments_in_log(entries, CAMPAIGN)
    assert [f["index"] for f in found] == [6, 8]
    report = audit(export(), HONEST.leaves(), HONEST.credential, log_entries=entries)
    assert codes(report) == {"COMMITTED_TWICE"}
    # the rigged export matches the second commitment and its leaves, but the log still shows the first one
    rigged = audit(other.export(), other.leaves(), other.credential, log_entries=entries)
    assert codes(rigged) == {"COMMITTED_TWICE"}
    assert codes(audit(export(), log_entries=HONEST.log_entries()[:6])) == {"COMMITMENT_NOT_IN_LOG"}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize("bad", [None, [], {}, {"campaign": {}, "orders": []}, {"campaign": {"url": 5}, "orders": []},
                                 {"campaign": {"url": CAMPAIGN, "rule": "x"}, "orders": []}])
def test_a_malformed_export_is_reported(bad: Any) -> None:
    assert codes(audit(bad)) == {"EXPORT_MALFORMED"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["orders", "campaign", "commitmentCredential"]),
       st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                max_size=3), max_leaves=12))
def test_garbage_never_raises(member: str, value: Any) -> None:
    doctored = export()
    doctored[member] = value
    report = audit(doctored, [value, value], value, log_entries=[value])
    assert isinstance(report.matches, bool)
