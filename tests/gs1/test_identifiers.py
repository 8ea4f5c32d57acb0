"""GS1 keys and attributes: check digits (the traps of a wrong digit), GTIN normalisation, lot and serial rules."""

from __future__ import annotations

import pytest

from chopmark.errors import Gs1Error
from chopmark.gs1 import check_gln, check_lot, check_serial, gtin14


@pytest.mark.parametrize(("value", "expected"), [
    ("96385074", "00000096385074"),          # GTIN-8
    ("614141000036", "00614141000036"),      # GTIN-12 (UPC-A)
    ("4012345000009", "04012345000009"),     # GTIN-13
    ("04012345000009", "04012345000009"),    # GTIN-14
    ("10614141000033", "10614141000033"),    # GTIN-14 with an indicator digit
])
def test_gtins_are_checked_and_padded_to_14_digits(value: str, expected: str) -> None:
    assert gtin14(value) == expected


@pytest.mark.parametrize("value", [
    "4012345000008",     # wrong check digit
    "96385075",          # wrong check digit, GTIN-8
    "401234500000",      # 12 digits whose last is not the check digit of the 11 before
    "4012345",           # 7 digits
    "040123450000091",   # 15 digits
    "40123450000O9",     # a letter O
    "４０１２３４５０００００９",  # full-width digits are digits to str.isdigit, not to GS1
    "",
])
def test_bad_gtins_are_refused(value: str) -> None:
    with pytest.raises(Gs1Error) as caught:
        gtin14(value)
    assert caught.value.instance_code == "INVALID_GTIN"


def test_glns_need_13_digits_and_their_check_digit() -> None:
    assert check_gln("4012345000016") == "4012345000016"
    for bad in ("4012345000017", "401234500001", "40123450000160"):
        with pytest.raises(Gs1Error) as caught:
            check_gln(bad)
        assert caught.value.instance_code == "INVALID_GLN"


@pytest.mark.parametrize("value", ["L1", "LOT-2026/11", "A" * 20, "!\"%&'()*+,-./:;<=>?_"])
def test_lots_and_serials_of_character_set_82(value: str) -> None:
    assert check_lot(value) == value and check_serial(value) == value


@pytest.mark.parametrize("value", ["", "A" * 21, "L 1", "Lé", "L#1", "L~1", "L\n1"])
def test_lots_and_serials_outside_the_rules_are_refused(value: str) -> None:
    with pytest.raises(Gs1Error) as lot:
        check_lot(value)
    with pytest.raises(Gs1Error) as serial:
        check_serial(value)
    assert (lot.value.instance_code, serial.value.instance_code) == ("INVALID_LOT", "INVALID_SERIAL")
