"""GS1 keys and attributes (GS1 General Specifications): GTIN (AI 01) and GLN (AI 414) with their check digits,
batch/lot (AI 10) and serial (AI 21) as up to 20 characters of GS1 AI encodable character set 82."""

from __future__ import annotations

import re

from biip import ParseError
from biip.gln import Gln
from biip.gtin import Gtin

from chopmark.errors import Gs1Error

#: GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1), for AIs of format X..n.
_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*")
#: AI 10 (batch/lot) and AI 21 (serial) are both N2+X..20.
MAX_LOT, MAX_SERIAL = 20, 20


def gtin14(value: str) -> str:
    """A GTIN-8, -12, -13 or -14 with a valid check digit, as the 14 digits used in AI 01 and Digital Link URIs
    (left-padded with zeros, GS1 General Specifications §3.3.2); else ``Gs1Error`` ``INVALID_GTIN``."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) not in (8, 12, 13, 14):
        raise Gs1Error(f"a GTIN has 8, 12, 13 or 14 digits, got {value!r}", code="INVALID_GTIN")
    try:
        Gtin.parse(value)
    except ParseError as exc:
        raise Gs1Error(f"invalid GTIN {value!r}: {exc}", code="INVALID_GTIN") from None
    return value.rjust(14, "0")


def check_gln(value: str) -> str:
    """A GLN (13 digits, valid check digit), returned unchanged; else ``Gs1Error`` ``INVALID_GLN``."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) != 13:
        raise Gs1Error(f"a GLN has 13 digits, got {value!r}", code="INVALID_GLN")
    try:
        Gln.parse(value)
    except ParseError as exc:
        raise Gs1Error(f"invalid GLN {value!r}: {exc}", code="INVALID_GLN") from None
    return value


def check_lot(value: str) -> str:
    """A batch/lot number (AI 10): 1 to 20 characters of character set 82; else ``INVALID_LOT``."""
    return _check_x20(value, "lot", "INVALID_LOT", MAX_LOT)


def check_serial(value: str) -> str:
    """A serial number (AI 21): 1 to 20 characters of character set 82; else ``INVALID_SERIAL``."""
    return _check_x20(value, "serial", "INVALID_SERIAL", MAX_SERIAL)


def _check_x20(value: str, what: str, code: str, limit: int) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise Gs1Error(f"a {what} has 1 to {limit} characters, got {value!r}", code=code)
    if not _CSET82.fullmatch(value):
        raise Gs1Error(f"a {what} uses GS1 character set 82 only (letters, digits and !\"%&'()*+,-./:;<=>?_), "
                       f"got {value!r}", code=code)
    return value
