"""RFC 8785 (JCS) canonicalization and RFC 7493 (I-JSON) strict parsing."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chopmark.codecs import jcs
from chopmark.codecs.jcs import canonicalize, loads_strict, number_to_string
from chopmark.errors import JsonError

# RFC 8785 Appendix B, "Number Serialization Samples": IEEE-754 double (hex) -> ECMAScript serialization.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),  # minus zero
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),  # round to even
]


def _double(hex_bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(hex_bits))[0]
    return value


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B)
def test_appendix_b_numbers(bits: str, expected: str) -> None:
    assert number_to_string(_double(bits)) == expected
    assert canonicalize([_double(bits)]) == f"[{expected}]".encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_appendix_b_nan_and_infinity_are_errors(bits: str) -> None:
    with pytest.raises(JsonError):
        canonicalize(_double(bits))


def test_rfc_section_3_2_2_example() -> None:
    """RFC 8785 §3.2.2 (primitive data types) sample input and its canonical output."""
    text = ('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
            ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
            ' "literals": [null, true, false]}')
    expected = ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
                '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')
    assert canonicalize(loads_strict(text)) == expected.encode("utf-8")


def test_rfc_section_3_2_3_sorting_by_utf16_code_units() -> None:
    value = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
             "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control",
             "\u00f6": "Latin Small Letter O With Diaeresis"}
    order = [v for v in json.loads(canonicalize(value)).values()]
    assert order == ["Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign",
                     "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh"]
    # Code point order would put U+FB33 before U+1F600; UTF-16 puts the surrogate pair D83D DE00 first.
    assert canonicalize({"\ufb33": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ufb33":1}'.encode()
    assert canonicalize({"\U0001f600": 1, "\u20ac": 2}) == '{"\u20ac":2,"\U0001f600":1}'.encode()


def test_string_escapes_are_the_mandatory_ones_only() -> None:
    assert canonicalize("\b\t\n\f\r\"\\/\u0001\u001f\u007f\u00e9") == (
        '"\\b\\t\\n\\f\\r\\"\\\\/\\u0001\\u001f\u007f\u00e9"'.encode())


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 2**53 + 1, -(2**53) - 1, 10**400,
                                   {1: "x"}, {"a": {1, 2}}, "\ud800", {"\udfff": 1}, b"bytes"])
def test_canonicalize_refuses_non_i_json(value: Any) -> None:
    with pytest.raises(JsonError):
        canonicalize(value)


def test_integers() -> None:
    assert canonicalize([0, -0, 1, -1, 2**53, -(2**53), 2**60, 10**21, True, False, None]) == (
        b"[0,0,1,-1,9007199254740992,-9007199254740992,1152921504606847000,1e+21,true,false,null]")


@pytest.mark.parametrize("text", [
    '{"a": 1, "a": 2}', '{"x": {"b": 1, "b": 1}}', "[NaN]", "[Infinity]", "[-Infinity]", "[1e400]",
    '["\\ud800"]', '{"\\udc00": 1}', '{"a": ["\\ud83d"]}', "[1,]", "", "{'a': 1}", '"\\uFDD0"', '["\\uffff"]',
])
def test_loads_strict_refuses(text: str) -> None:
    with pytest.raises(JsonError):
        loads_strict(text)


@pytest.mark.parametrize("data", [b"\xff\xfe[]", b'["\xc3\x28"]', b"\xef\xbb\xbf[]", b'["\xed\xa0\x80"]'])
def test_loads_strict_refuses_bad_utf8(data: bytes) -> None:
    with pytest.raises(JsonError):
        loads_strict(data)


def test_loads_strict_reads_big_integers_as_doubles() -> None:
    assert loads_strict("[53387859996162970, 9007199254740993]") == [5.338785999616297e16, 9007199254740992.0]
    assert canonicalize(loads_strict("[53387859996162970]")) == b"[53387859996162970]"


def test_loads_strict_accepts_i_json() -> None:
    assert loads_strict(b'{"a": [1, 2.5, "\\ud83d\\ude00", null], "b": {"c": true}}') == {
        "a": [1, 2.5, "\U0001f600", None], "b": {"c": True}}


@pytest.mark.vectors
def test_eddsa_jcs_2022_vectors(vectors: Path) -> None:
    """vc-di-eddsa eddsa-jcs-2022: JCS of the unsigned credential and of the proof configuration."""
    folder = vectors / "vc-di-eddsa" / "TestVectors"
    unsigned = loads_strict((folder / "unsigned.json").read_bytes())
    config = loads_strict((folder / "eddsa-jcs-2022" / "proofConfigJCS.json").read_bytes())
    assert canonicalize(unsigned) == (folder / "eddsa-jcs-2022" / "canonDocJCS.txt").read_bytes()
    assert canonicalize(config) == (folder / "eddsa-jcs-2022" / "proofCanonJCS.txt").read_bytes()


@pytest.mark.vectors
@pytest.mark.parametrize("curve", ["P256", "P384"])
def test_ecdsa_jcs_2019_vectors(vectors: Path, curve: str) -> None:
    folder = vectors / "vc-di-ecdsa" / "TestVectors"
    suite = folder / f"ecdsa-jcs-2019-{curve.lower()}"
    unsigned = loads_strict((folder / "unsigned.json").read_bytes())
    config = loads_strict((suite / f"proofConfigJCSECDSA{curve}.json").read_bytes())
    assert canonicalize(unsigned) == (suite / f"canonDocJCSECDSA{curve}.txt").read_bytes()
    assert canonicalize(config) == (suite / f"proofCanonJCSECDSA{curve}.txt").read_bytes()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=25,
)


@given(_JSON)
def test_canonical_form_is_a_fixed_point(value: Any) -> None:
    once = canonicalize(value)
    assert canonicalize(loads_strict(once)) == once


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text() | st.floats(allow_nan=False,
                                                                                       allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_fast_path_equals_general_serializer(value: object) -> None:
    try:
        expected = jcs.canonicalize_general(value)
    except JsonError:
        with pytest.raises(JsonError):
            jcs.canonicalize(value)
        return
    assert jcs.canonicalize(value) == expected


@pytest.mark.parametrize("text", [
    '{"a":{"b":1,"b":2}}',            # ASCII: the fast path must still refuse duplicates, at any depth
    '[{"x":1},{"y":2,"y":3}]',
    '{"a":"\\ud800"}',               # an escape spelling a lone surrogate: careful path
    '{"a":"\\ufdd0"}',               # an escape spelling a noncharacter
    '{"a":"\ufdd0"}',                # a raw noncharacter (not ASCII): careful path
    '{"a":"x","\\u0061":"y"}',       # a duplicate spelled with an escape
])
def test_loads_strict_fast_and_careful_paths_refuse(text: str) -> None:
    with pytest.raises(JsonError):
        loads_strict(text.encode("utf-8", "surrogatepass"))


def test_loads_strict_accepts_non_ascii_and_escaped_pairs() -> None:
    assert loads_strict('{"名":"值","e":"\\ud83d\\ude00"}'.encode()) == {"名": "值", "e": "😀"}
