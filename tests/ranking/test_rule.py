"""First-N rankings (pure): the rule, payment times, the tie-break order, salts, commitments, leaves and the tree."""

from __future__ import annotations

import hashlib
import hmac
import random
import struct
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chopmark import ranking, tlog
from chopmark.codecs import jcs
from chopmark.errors import MalformedValueError, UsageError
from chopmark.ranking import receipts
from tests.support.ranking import CAMPAIGN, RULE, SECRET, START, orders

SECOND = ranking.RankingRule("second")


def sealed(items: list[ranking.Order], rule: ranking.RankingRule = RULE) -> list[ranking.SealedOrder]:
    return ranking.seal_all(items, ranking.Salts(SECRET).of, rule)


def numbers(ranking_: ranking.Ranking) -> list[str]:
    return [o.order_number for o in ranking_.orders]


# --- the rule -----------------------------------------------------------------------------------------------------

def test_rule_defaults_and_its_published_form() -> None:
    assert ranking.parse_rule({}) == RULE
    assert ranking.parse_rule({"order": ["paymentTime", "orderNumber"], "direction": "ascending",
                               "timePrecision": "second"}) == SECOND
    assert RULE.to_json() == {"order": ["paymentTime", "orderNumber"], "direction": "ascending",
                              "timePrecision": "millisecond"}


@pytest.mark.parametrize("rule", [
    [], {"order": ["orderNumber", "paymentTime"]}, {"direction": "descending"}, {"timePrecision": "microsecond"},
    {"timePrecision": {}}, {"timePrecision": ["second"]}, {"extra": 1}, {"order": "paymentTime"},
])
def test_other_rules_are_refused(rule: object) -> None:
    with pytest.raises(MalformedValueError) as caught:
        ranking.parse_rule(rule)
    assert caught.value.instance_code == "BAD_RULE"


# --- payment times ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-11T00:00:00Z", "2026-11-11T00:00:00.000Z"),
    ("2026-11-11T00:00:00.1Z", "2026-11-11T00:00:00.100Z"),
    ("2026-11-11T00:00:00.123000000Z", "2026-11-11T00:00:00.123Z"),
    ("2026-11-11T08:30:00.5+08:30", "2026-11-11T00:00:00.500Z"),
    ("2026-11-10T23:00:00-01:00", "2026-11-11T00:00:00.000Z"),
    ("2028-02-29T12:00:00Z", "2028-02-29T12:00:00.000Z"),
    ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"),
])
def test_times_are_read_as_utc_milliseconds_and_printed_canonically(text: str, expected: str) -> None:
    ms = ranking.parse_time(text, RULE)
    assert ranking.format_time(ms, RULE) == expected
    assert ranking.parse_time(expected, RULE) == ms


@pytest.mark.parametrize("text", [
    "2026-11-11T00:00:00.1234Z",          # more precise than milliseconds
    "2026-11-11 00:00:00Z", "2026-11-11t00:00:00z", "2026-11-11T00:00:00", "2026-11-11T00:00Z",
    "2026-11-11T24:00:00Z", "2026-11-11T23:60:00Z", "2026-12-31T23:59:60Z",  # no leap seconds
    "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-11T00:00:00+24:00",
    "1969-12-31T23:59:59.999Z", "9999-12-31T23:00:00-02:00", "２０26-11-11T00:00:00Z", "", 5, None,
])
def test_malformed_times_are_refused(text: object) -> None:
    with pytest.raises(MalformedValueError) as caught:
        ranking.parse_time(text, RULE)
    assert caught.value.instance_code == "MALFORMED_TIME"


def test_second_precision_refuses_fractions_and_prints_none() -> None:
    assert ranking.format_time(ranking.parse_time("2026-11-11T00:00:01.000Z", SECOND), SECOND) == "2026-11-11T00:00:01Z"
    with pytest.raises(MalformedValueError):
        ranking.parse_time("2026-11-11T00:00:01.001Z", SECOND)


@given(st.integers(0, ranking.MAX_TIME_MS - 1))
def test_format_and_parse_are_inverse(ms: int) -> None:
    assert ranking.parse_time(ranking.format_time(ms, RULE), RULE) == ms
    assert ranking.format_time(ms, RULE) == ranking.TimeFormatter(RULE)(ms)


# --- the tie-break order ------------------------------------------------------------------------------------------

def reference_key(number: str) -> tuple[int, int, str]:
    """The rule written as a tuple: numeric order numbers first, by value then by code points; then the rest."""
    if number.isascii() and number.isdigit():
        return (0, int(number), number)
    return (1, 0, number)


@pytest.mark.parametrize(("smaller", "larger"), [
    ("9", "10"), ("007", "7"), ("7", "008"), ("99999999999999999999", "100000000000000000000"),
    ("10", "1a"), ("1a", "9a"), ("A-10", "A-9"), ("Z", "a"), ("a", "é"), ("é", "😀"), ("0", "00"),
])
def test_tie_break_examples(smaller: str, larger: str) -> None:
    assert ranking.order_number_key(smaller) < ranking.order_number_key(larger)
    assert reference_key(smaller) < reference_key(larger)


def test_the_naive_rule_is_cyclic_and_ours_is_not() -> None:
    # numeric when both are digits, code points otherwise: 1a < 9 (code points), 9 < 10, 10 < 1a (code points)
    keys = [ranking.order_number_key(n) for n in ("1a", "9", "10")]
    assert sorted(keys) == [keys[1], keys[2], keys[0]]  # 9 < 10 < 1a: numeric ones first


order_numbers = st.one_of(st.from_regex(r"[0-9]{1,25}", fullmatch=True),
                          st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1,
                                  max_size=12))


@given(st.lists(order_numbers, min_size=2, max_size=30, unique=True))
def test_string_key_orders_like_the_reference(values: list[str]) -> None:
    assert sorted(values, key=ranking.order_number_key) == sorted(values, key=reference_key)


# --- ranking ------------------------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32))
def test_shuffled_input_gives_the_identical_ranking_and_root(seed: int) -> None:
    items = sealed(orders(300, seed=5))
    shuffled = items[:]
    random.Random(seed).shuffle(shuffled)
    assert ranking.rank(shuffled).orders == ranking.rank(items).orders
    assert ranking.commit(CAMPAIGN, shuffled).root == ranking.commit(CAMPAIGN, items).root


def test_payment_time_first_then_the_smaller_order_number() -> None:
    at = START + 1000
    items = [ranking.Order("10", at, "b"), ranking.Order("9", at, "c"), ranking.Order("A-1", at, "d"),
             ranking.Order("100", at - 1, "e"), ranking.Order("1", at + 1, "f"), ranking.Order("09", at, "g")]
    assert numbers(ranking.rank(sealed(items))) == ["100", "09", "9", "10", "A-1", "1"]


def test_second_precision_ties_a_whole_second() -> None:
    items = [ranking.Order("2", START + 1000, "b"), ranking.Order("1", START + 1000, "c"),
             ranking.Order("3", START, "d")]
    assert numbers(ranking.rank(sealed(items, SECOND))) == ["3", "1", "2"]


def test_duplicate_order_numbers_are_a_usage_error() -> None:
    items = sealed([ranking.Order("1", START, "b"), ranking.Order("2", START + 5, "c")])
    with pytest.raises(UsageError, match="'1' occurs twice"):
        ranking.rank([*items, items[0]._replace(sort_key=ranking.sort_key("2026-11-11T01:00:00.000Z", "1"))])


def test_the_ranking_is_a_sequence_of_ranked_orders() -> None:
    result = ranking.rank(sealed(orders(5)))
    assert len(result) == 5 and result[0].rank == 1 and result[-1].rank == 5
    assert [r.rank for r in result[1:3]] == [2, 3] and result[2].order == result.orders[2]
    assert list(result) == [ranking.RankedOrder(i + 1, o) for i, o in enumerate(result.orders)]


# --- salts, commitments, leaves, the tree ------------------------------------------------------------------------

@given(st.binary(min_size=16, max_size=64), st.text(min_size=1, max_size=64))
def test_salts_are_hmac_sha256(secret: bytes, number: str) -> None:
    encoded = number.encode("utf-8", "surrogatepass")
    assert ranking.Salts(secret).of(encoded) == hmac.digest(secret, encoded, "sha256")


@pytest.mark.parametrize("secret", [b"", b"x" * 15, b"x" * 65])
def test_campaign_secrets_have_a_sane_length(secret: bytes) -> None:
    with pytest.raises(UsageError):
        ranking.Salts(secret)


def independent_commitment(salt: bytes, number: str, buyer: str) -> str:
    fields = [salt, number.encode(), buyer.encode()]
    data = b"chopmark:rank-commitment:v1" + b"".join(struct.pack(">I", len(f)) + f for f in fields)
    return hashlib.sha256(data).hexdigest()


def test_commitments_are_length_prefixed_hashes() -> None:
    salt = bytes(32)
    assert ranking.commitment(salt, "1001", "buyer") == independent_commitment(salt, "1001", "buyer")
    # the length prefixes keep the fields apart: moving a character across the boundary changes the hash
    assert ranking.commitment(salt, "1001b", "uyer") != ranking.commitment(salt, "1001", "buyer")
    assert ranking.commitment(bytes([1]) + bytes(31), "1001", "buyer") != ranking.commitment(salt, "1001", "buyer")


def test_sealing_one_or_many_agrees() -> None:
    items = orders(50)
    assert sealed(items) == [ranking.seal(o, ranking.salt(SECRET, o.order_number), RULE) for o in items]
    one = ranking.seal(items[0], ranking.salt(SECRET, items[0].order_number), RULE)
    assert one.commitment == independent_commitment(ranking.salt(SECRET, items[0].order_number),
                                                    items[0].order_number, items[0].buyer_reference)


def test_leaves_are_jcs_and_the_root_is_rfc9162() -> None:
    tree = ranking.commit(CAMPAIGN, sealed(orders(70)))
    for rank, (leaf, order) in enumerate(zip(tree.leaves, tree.ranking.orders, strict=True), 1):
        assert leaf == ranking.leaf(CAMPAIGN, rank, order.commitment, order.payment_time)
        assert jcs.loads_strict(leaf) == {"campaign": CAMPAIGN, "commitment": order.commitment,
                                          "paymentTime": order.payment_time, "rank": rank}
    hashes = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in tree.leaves]
    assert tree.root == tlog.root(hashes)
    for rank in range(1, 71):
        assert tlog.verify_inclusion(rank - 1, 70, hashes[rank - 1], tree.proof(rank), tree.root)


def test_empty_campaign_commits_the_empty_tree() -> None:
    tree = ranking.commit(CAMPAIGN, [])
    assert (tree.size, tree.root) == (0, tlog.EMPTY_ROOT)


@pytest.mark.parametrize("campaign", ["", 'https://x/"', "https://x/\\", "https://x/é", "https://x/\n"])
def test_campaign_ids_that_would_need_escaping_are_refused(campaign: str) -> None:
    with pytest.raises(UsageError):
        ranking.commit(campaign, [])


def test_commitment_entry_names_the_credential_hash() -> None:
    data = receipts.commitment_entry(CAMPAIGN, "ab" * 32, "cd" * 32, 3)
    assert jcs.loads_strict(data) == {"campaign": CAMPAIGN, "credentialSha256": "ab" * 32, "leafCount": 3,
                                      "merkleRoot": "cd" * 32}
    assert receipts.credential_sha256({"b": 1, "a": [2]}) == hashlib.sha256(b'{"a":[2],"b":1}').hexdigest()


@pytest.mark.slow
def test_a_hundred_thousand_orders_rank_and_commit_quickly() -> None:
    """The benchmark (bench/evidence.py) runs a million; this keeps an eye on the per-order cost."""
    items = sealed(orders(100_000, ties=3))
    random.Random(1).shuffle(items)
    started = time.perf_counter()
    tree = ranking.commit(CAMPAIGN, items)
    elapsed = time.perf_counter() - started
    assert tree.size == 100_000 and elapsed < 2.0, elapsed
