"""JSON Canonicalization Scheme (JCS, RFC 8785) and strict I-JSON parsing (RFC 7493).

:func:`canonicalize` serializes a JSON value the RFC 8785 way: no whitespace, object members sorted by the
UTF-16 code units of their names (§3.2.3), strings with only the mandatory escapes (§3.2.2.2) and numbers as
IEEE-754 doubles printed like ECMAScript's ``Number.prototype.toString`` (§3.2.2.3), all in UTF-8 (§3.2.4).

:func:`loads_strict` parses I-JSON: UTF-8 only, no duplicate member names (RFC 7493 §2.3), no lone surrogates
and noncharacters (§2.1), no NaN/Infinity and no number outside the range of a double (§2.2); integers beyond
±2**53 are read as the nearest double, as RFC 8785 §3.2.2.3 reads every JSON number.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from chopmark.errors import JsonError

__all__ = ["canonicalize", "loads_strict", "number_to_string", "to_plain"]

_MAX_SAFE = 2**53
_MAX_DEPTH = 512
_encode_string = json.encoder.encode_basestring
# Unicode noncharacters: U+FDD0..U+FDEF and the last two code points of every plane (RFC 7493 §2.1).
_NONCHARACTER = re.compile("[\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)) + "]")


def number_to_string(value: int | float) -> str:
    """Serialize a number as RFC 8785 §3.2.2.3 requires (ECMAScript Number::toString of the double).

    Integers beyond ±2**53 are accepted only when the double holds them exactly. NaN and infinities raise
    :class:`JsonError`.
    """
    if isinstance(value, bool):
        raise JsonError("a boolean is not a number")
    if isinstance(value, int):
        if -_MAX_SAFE <= value <= _MAX_SAFE:
            return str(value)  # exact as a double and below 1e21: ECMAScript prints the plain digits
        try:
            as_double = float(value)
        except OverflowError as error:
            raise JsonError(f"integer {value} is outside the range of an IEEE-754 double") from error
        if int(as_double) != value:
            raise JsonError(f"integer {value} is not exactly representable as an IEEE-754 double")
        value = as_double
    if math.isnan(value) or math.isinf(value):
        raise JsonError("NaN and Infinity are not JSON numbers")
    if value == 0:
        return "0"  # also -0 (ECMAScript Number::toString step 2)
    return ("-" if value < 0 else "") + _positive_double(-value if value < 0 else value)


def _positive_double(value: float) -> str:
    """ECMAScript Number::toString (ECMA-262 §6.1.6.1.20) steps 5-10 for a finite positive double.

    ``repr`` gives the shortest digits that round-trip, choosing the closest when several do (David Gay's
    algorithm, as ECMAScript step 5 asks); only the layout differs, and it is redone here.
    """
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # n: the decimal point sits after the n-th digit (value = 0.d1d2...dk x 10^n)
    n = len(int_part) + int(exponent or 0) - (len(int_part + frac_part) - len(digits))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:  # step 6: integer, padded with zeros
        return digits + "0" * (n - k)
    if 0 < n <= 21:  # step 7: decimal point inside the digits
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:  # step 8: small number, leading zeros
        return "0." + "0" * (-n) + digits
    e = n - 1  # steps 9-10: exponential notation, sign always written
    sign = "+" if e >= 0 else "-"
    return digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + sign + str(abs(e))


def _utf16_key(name: str) -> bytes:
    """Sort key of a member name: its UTF-16 code units (RFC 8785 §3.2.3)."""
    return name.encode("utf-16-be", "surrogatepass")


def _serialize(value: Any, out: list[str], depth: int) -> None:
    """Append the canonical form of ``value`` to ``out``."""
    if isinstance(value, str):
        out.append(_encode_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int | float):
        out.append(number_to_string(value))
    elif depth > _MAX_DEPTH:
        raise JsonError("JSON value nested too deeply")
    elif isinstance(value, Mapping):
        _serialize_object(value, out, depth + 1)
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _serialize(item, out, depth + 1)
        out.append("]")
    else:
        raise JsonError(f"{type(value).__name__} is not a JSON value")


def _serialize_object(value: Mapping[Any, Any], out: list[str], depth: int) -> None:
    """Append a JSON object with members sorted by UTF-16 code units (RFC 8785 §3.2.3)."""
    for name in value:
        if not isinstance(name, str):
            raise JsonError(f"object member name {name!r} is not a string")
    out.append("{")
    for index, name in enumerate(sorted(value, key=_utf16_key)):
        if index:
            out.append(",")
        out.append(_encode_string(name))
        out.append(":")
        _serialize(value[name], out, depth)
    out.append("}")


# Characters for which code-point order differs from UTF-16 order (astral), or which are not I-JSON (lone
# surrogates): their presence sends a document down the general path.
_NOT_FAST = re.compile("[\ud800-\udfff\U00010000-\U0010ffff]")
_SAFE_INT = 2**53


def _fast_path_ok(value: Any) -> bool:
    """True when ``value`` holds only dict/list/str/bool/None and integers a double holds exactly.

    For such values Python's ``json.dumps(sort_keys=True, ensure_ascii=False)`` with compact separators
    produces exactly the RFC 8785 form: the same string escapes (§3.2.2.2: short forms for \b \t \n \f \r,
    lowercase \\u00xx for other controls), integers print alike (§3.2.2.3), and without astral characters
    code-point order equals UTF-16 order (§3.2.3). Floats and anything else take the general path.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for key, member in item.items():
                if type(key) is not str:
                    return False
                stack.append(member)
        elif kind is list:
            stack.extend(item)
        elif kind is int:
            if not -_SAFE_INT <= item <= _SAFE_INT:
                return False
        elif kind is not str and kind is not bool and item is not None:
            return False
    return True


def memo_key(value: Any) -> str:
    """An injective text key for a plain JSON value (sorted keys, exact numbers), far cheaper than JCS.

    Used to memoise pure work on documents. NaN/Infinity raise ``ValueError``, non-JSON values ``TypeError``.
    """
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value (dict/list/tuple/str/int/float/bool/None).

    Raises :class:`JsonError` for NaN/Infinity, integers a double cannot hold exactly, non-string member
    names, lone surrogates and anything that is not JSON.
    """
    if _fast_path_ok(value):
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        if not _NOT_FAST.search(text):
            return text.encode("utf-8")
    return canonicalize_general(value)


def canonicalize_general(value: Any) -> bytes:
    """RFC 8785 by the general serializer (every JSON value); :func:`canonicalize` uses it off the fast path."""
    out: list[str] = []
    _serialize(value, out, 0)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as error:
        raise JsonError("string contains a lone surrogate (not I-JSON, RFC 7493 §2.1)") from error


def to_plain(value: Any, depth: int = 0) -> Any:
    """Copy a JSON value into plain dicts, lists and scalars (any Mapping or tuple is accepted); raise
    :class:`JsonError` for anything that is not JSON (non-string member names, sets, bytes, ...)."""
    if depth > _MAX_DEPTH:
        raise JsonError("JSON value nested too deeply")
    if isinstance(value, str | bool | int | float) or value is None:
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise JsonError(f"object member name {key!r} is not a string")
            out[key] = to_plain(item, depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [to_plain(item, depth + 1) for item in value]
    raise JsonError(f"{type(value).__name__} is not a JSON value")


# --- strict parsing (I-JSON) ----------------------------------------------------------------------------

def _reject_constant(name: str) -> Any:
    """``parse_constant`` hook: NaN, Infinity and -Infinity are not JSON (RFC 8259 §6)."""
    raise JsonError(f"{name} is not a JSON number")


def _parse_float(text: str) -> float:
    """``parse_float`` hook: a number must fit an IEEE-754 double (RFC 7493 §2.2)."""
    value = float(text)
    if math.isinf(value):
        raise JsonError(f"number {text[:40]} overflows an IEEE-754 double")
    return value


def _check_string(text: str) -> str:
    """Reject lone surrogates (JSON escapes like "\\ud800" can produce them) and noncharacters (RFC 7493
    §2.1)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise JsonError("string contains a lone surrogate (not I-JSON, RFC 7493 §2.1)") from error
    if _NONCHARACTER.search(text):
        raise JsonError("string contains a Unicode noncharacter (not I-JSON, RFC 7493 §2.1)")
    return text


def _parse_int(text: str) -> int | float:
    """``parse_int`` hook: JSON numbers are IEEE-754 doubles (RFC 7493 §2.2, RFC 8785 §3.2.2.3). Integers
    beyond ±2**53 become the nearest double, as an ECMAScript parser would read them."""
    value = int(text)
    if -_MAX_SAFE <= value <= _MAX_SAFE:
        return value
    try:
        return float(value)
    except OverflowError as error:
        raise JsonError(f"number {text[:40]} overflows an IEEE-754 double") from error


def _check_value(value: Any) -> Any:
    """Check the strings of a parsed array element or member value (objects are checked by their hook)."""
    if isinstance(value, str):
        _check_string(value)
    elif isinstance(value, list):
        for item in value:
            _check_value(item)
    return value


def _object_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: member names must be unique (RFC 7493 §2.3) and free of lone surrogates."""
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise JsonError(f"duplicate member name {name!r}")
        result[_check_string(name)] = value if isinstance(value, dict) else _check_value(value)
    return result


def _fast_object_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` when the whole text is known to hold no surrogate or noncharacter: only member
    names must be unique (RFC 7493 §2.3)."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise JsonError(f"duplicate member name {name!r}")
            seen.add(name)
    return result


def _text_is_clean(text: str) -> bool:
    """True when no string of ``text`` can hold a lone surrogate or a noncharacter, so the per-string checks can
    be skipped: pure ASCII (noncharacters and surrogates are all above U+007F) with no ``\\u`` escape (which
    could spell one). Anything else takes the careful path."""
    return text.isascii() and "\\u" not in text


def loads_strict(text: str | bytes) -> Any:
    """Parse I-JSON text (RFC 7493) or raise :class:`JsonError`.

    Bytes must be UTF-8 without a byte order mark. Duplicate member names, NaN/Infinity, numbers beyond a
    double's range, lone surrogates and noncharacters (in names or values) are refused. Integers beyond ±2**53
    are returned as the nearest float (a JSON number is a double).
    """
    if isinstance(text, bytes | bytearray):
        if text.startswith(b"\xef\xbb\xbf"):
            raise JsonError("I-JSON text must not start with a byte order mark")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as error:
            raise JsonError(f"invalid UTF-8 at byte {error.start}") from error
    try:
        hook = _fast_object_hook if _text_is_clean(text) else _object_hook
        value = json.loads(text, object_pairs_hook=hook, parse_constant=_reject_constant,
                           parse_float=_parse_float, parse_int=_parse_int)
    except json.JSONDecodeError as error:
        raise JsonError(f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}") from error
    except (RecursionError, ValueError) as error:
        raise JsonError(f"invalid JSON: {error}") from error
    return _check_value(value) if not isinstance(value, dict) else value
