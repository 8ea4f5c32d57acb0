"""Identifier checks of Chopmark's vocabulary: Legal Entity Identifiers and jurisdiction codes.

* LEI: ISO 17442-1:2020 §4 — 20 characters, upper-case letters and digits; the last two are check digits
  computed with ISO/IEC 7064 MOD 97-10 (the same scheme as IBAN, ISO 13616).
* Jurisdiction: an ISO 3166-1 alpha-2 country code (``"DE"``) or an ISO 3166-2 subdivision code
  (``"US-CA"``), checked against the code lists the ``pycountry`` package ships (loaded lazily, once).

Everything here is pure; nothing raises for a bad value (the predicates answer ``False``).
"""

from __future__ import annotations

import functools
import re

#: ISO 17442-1 §4: 18 alphanumeric characters, then two decimal check digits.
_LEI = re.compile(r"[0-9A-Z]{18}[0-9]{2}")
_LEI_PREFIX = re.compile(r"[0-9A-Z]{18}")
#: The jurisdiction that covers every other one in an authorization.
WILDCARD = "*"


def _mod97(text: str) -> int:
    # ISO/IEC 7064 MOD 97-10: letters become two-digit numbers (A=10 ... Z=35), the digit string is read as
    # one integer and reduced modulo 97. ``int(ch, 36)`` yields exactly that mapping for [0-9A-Z].
    return int("".join(str(int(ch, 36)) for ch in text)) % 97


def lei_valid(value: object) -> bool:
    """True iff ``value`` is a syntactically valid LEI whose check digits are right (ISO 17442-1 §4).

    Lower-case letters are refused: the standard allows upper case only.
    """
    if not isinstance(value, str) or not _LEI.fullmatch(value):
        return False
    # ISO/IEC 7064 §7.1 (MOD 97-10 check): the whole string, check digits included, is congruent to 1 mod 97
    return _mod97(value) == 1


def lei_check_digits(prefix18: str) -> str:
    """The two check digits for an 18-character LEI prefix (ISO/IEC 7064 MOD 97-10 generation).

    Raises :class:`ValueError` when ``prefix18`` is not 18 characters of ``[0-9A-Z]`` (a programming error).
    """
    if not isinstance(prefix18, str) or not _LEI_PREFIX.fullmatch(prefix18):
        raise ValueError("an LEI prefix is 18 characters of [0-9A-Z]")
    # ISO/IEC 7064 §7.1: append "00", check = 98 - (n mod 97), written with two digits
    return f"{98 - _mod97(prefix18 + '00'):02d}"


@functools.lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    import pycountry  # imported lazily: the code tables are only needed once a jurisdiction is checked

    return frozenset(country.alpha_2 for country in pycountry.countries)


@functools.lru_cache(maxsize=1)
def _subdivisions() -> frozenset[str]:
    import pycountry

    return frozenset(subdivision.code for subdivision in pycountry.subdivisions)


def jurisdiction_valid(code: object) -> bool:
    """True iff ``code`` is an ISO 3166-1 alpha-2 country code or an ISO 3166-2 subdivision code.

    Codes are case-sensitive (upper case, as the standards write them): ``"us"`` is refused.
    """
    if not isinstance(code, str) or len(code) > 6:
        return False
    if len(code) == 2:
        return code in _countries()
    return code in _subdivisions()


def jurisdiction_covers(granted: object, asked: object) -> bool:
    """True iff an authorization for jurisdiction ``granted`` covers jurisdiction ``asked``.

    ``"*"`` covers every valid jurisdiction; a country (``"US"``) covers itself and its subdivisions
    (``"US-CA"``); a subdivision covers only itself. An invalid ``asked`` (or ``granted``) is covered by
    nothing, so a typo can never widen an authorization.
    """
    if not jurisdiction_valid(asked) or not isinstance(asked, str):
        return False
    if granted == WILDCARD:
        return True
    if not jurisdiction_valid(granted) or not isinstance(granted, str):
        return False
    # ISO 3166-2 §5.1: a subdivision code is the country's alpha-2 code, a hyphen, then up to three characters
    return asked == granted or (len(granted) == 2 and asked.startswith(granted + "-"))
