"""Identifier checks of the vocabulary: LEI check digits (ISO 17442 / ISO 7064 MOD 97-10) and jurisdictions
(ISO 3166-1 alpha-2, ISO 3166-2)."""

from __future__ import annotations

import random
import string

import pytest

from chopmark import vocab
from chopmark.vocab.identifiers import jurisdiction_covers, jurisdiction_valid, lei_check_digits, lei_valid

#: LEIs of real entities, as published in the GLEIF register.
REAL_LEIS = {
    "529900T8BM49AURSDO55": "Deutsche Börse AG",
    "HWUPKR0MPOU8FGXBT394": "Apple Inc.",
    "7LTWFZYICNSX8D621K86": "Deutsche Bank AG",
    "5493001KJTIIGC8Y1R12": "Bloomberg Finance L.P.",
}
ALPHABET = string.digits + string.ascii_uppercase


def independent_mod97(lei: str) -> int:
    """ISO 7064 MOD 97-10 computed the piecewise way (as IBAN validators do): no big integer, one character
    at a time, letters as A=10 ... Z=35 by their position in the alphabet."""
    remainder = 0
    for ch in lei:
        value = ALPHABET.index(ch)
        for digit in str(value):
            remainder = (remainder * 10 + int(digit)) % 97
    return remainder


# --- LEI ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lei", sorted(REAL_LEIS))
def test_real_leis_are_valid(lei: str) -> None:
    assert independent_mod97(lei) == 1  # the fixture itself is right
    assert lei_valid(lei)
    assert lei_check_digits(lei[:18]) == lei[18:]


@pytest.mark.parametrize("lei", sorted(REAL_LEIS))
def test_every_single_character_substitution_is_detected(lei: str) -> None:
    # ISO 7064 MOD 97-10 detects every single substitution of a digit by a digit or a letter by a letter (both
    # encode to the same number of digits); a letter for a digit changes the length and may slip through.
    for position in range(20):
        for replacement in ALPHABET:
            if replacement == lei[position] or replacement.isdigit() != lei[position].isdigit():
                continue
            tampered = lei[:position] + replacement + lei[position + 1:]
            assert not lei_valid(tampered), tampered


def test_mixed_substitution_can_slip_through() -> None:
    # documents the limit of the scheme (so the test above is not over-claiming): "9" -> "Q" keeps the remainder
    assert lei_valid("529Q00T8BM49AURSDO55")


def test_adjacent_digit_transpositions_are_detected() -> None:
    lei = "529900T8BM49AURSDO55"
    for position in range(19):
        a, b = lei[position], lei[position + 1]
        if a != b and a.isdigit() and b.isdigit():
            assert not lei_valid(lei[:position] + b + a + lei[position + 2:])


def test_generated_check_digits_validate() -> None:
    gen = random.Random(17442)
    for _ in range(500):
        prefix = "".join(gen.choice(ALPHABET) for _ in range(18))
        check = lei_check_digits(prefix)
        assert len(check) == 2 and check.isdigit() and 2 <= int(check) <= 98
        assert lei_valid(prefix + check)
        assert independent_mod97(prefix + check) == 1


@pytest.mark.parametrize("value", [
    "529900t8bm49aursdo55",   # lower case is not allowed by ISO 17442
    "529900T8BM49AURSDO5",    # 19 characters
    "529900T8BM49AURSDO555",  # 21 characters
    "529900T8BM49AURSDOAB",   # check digits must be digits
    "529900T8BM49AURS-O55",
    " 529900T8BM49AURSDO55",
    "529900T8BM49AURSDO55\n",
    "",
    None,
    529900,
    ["529900T8BM49AURSDO55"],
])
def test_malformed_leis_are_refused(value: object) -> None:
    assert not lei_valid(value)


def test_design_example_lei_has_wrong_check_digits() -> None:
    # The shared design's sample "5299009N5X8ZVXCR3X41" does not pass MOD 97-10: its check digits would be 35.
    assert not lei_valid("5299009N5X8ZVXCR3X41")
    assert lei_check_digits("5299009N5X8ZVXCR3X") == "35"
    assert lei_valid("5299009N5X8ZVXCR3X35")


@pytest.mark.parametrize("prefix", ["5299009N5X8ZVXCR3", "5299009n5x8zvxcr3x", "5299009N5X8ZVXCR3X4", ""])
def test_check_digits_need_an_18_character_prefix(prefix: str) -> None:
    with pytest.raises(ValueError):
        lei_check_digits(prefix)


# --- jurisdictions ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["DE", "US", "FR", "CN", "US-CA", "US-DE", "DE-BY", "CN-ZJ", "GB-ENG", "FR-75C"])
def test_valid_jurisdictions(code: str) -> None:
    assert jurisdiction_valid(code)


@pytest.mark.parametrize("code", ["us", "de-BY", "US-ca", "XX", "US-XX", "USA", "DEU", "DE-", "-BY", "", "*",
                                  "EU", " DE", "DE ", "US-CA-X", None, 49, ["DE"]])
def test_invalid_jurisdictions(code: object) -> None:
    assert not jurisdiction_valid(code)


@pytest.mark.parametrize(("granted", "asked", "covered"), [
    ("*", "DE", True),
    ("*", "US-CA", True),
    ("US", "US", True),
    ("US", "US-CA", True),
    ("US-CA", "US-CA", True),
    ("US-CA", "US", False),
    ("US-CA", "US-NY", False),
    ("US", "DE", False),
    ("US", "USA", False),        # a prefix that is not a subdivision
    ("DE", "DE-BY", True),
    ("DE-BY", "DE", False),
    ("AZ-BA", "AZ-BAB", False),  # two valid subdivisions, one code a prefix of the other
    ("*", "XX", False),          # an invalid jurisdiction is covered by nothing, not even "*"
    ("US", "US-XX", False),
    ("XX", "XX", False),         # an invalid grant covers nothing
    ("us", "us-ca", False),
    ("", "", False),
    (None, "DE", False),
    ("*", None, False),
])
def test_jurisdiction_covers(granted: object, asked: object, covered: bool) -> None:
    assert jurisdiction_covers(granted, asked) is covered


# --- names ----------------------------------------------------------------------------------------------------

def test_every_credential_type_has_a_schema_under_the_schema_base() -> None:
    assert set(vocab.SCHEMA_FOR_TYPE) == {vocab.MERCHANT_IDENTITY, vocab.MARKETPLACE_SELLER, vocab.TRUST_LIST,
                                        vocab.RANKING_COMMITMENT}
    assert all(url.startswith(vocab.SCHEMA_BASE) and url.endswith("/v1") for url in vocab.SCHEMA_FOR_TYPE.values())
    assert vocab.credential_schema(vocab.TRUST_LIST) == {"id": "https://chopmark.org/schemas/trust-list/v1",
                                                         "type": "JsonSchema"}
