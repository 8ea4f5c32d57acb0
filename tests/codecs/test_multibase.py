"""Multibase, base58, varint and multicodec: the official multiformats vectors plus strictness checks."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chopmark.codecs import multibase
from chopmark.errors import MalformedValueError

CSV_FILES = ["basic.csv", "case_insensitivity.csv", "leading_zero.csv", "two_leading_zeros.csv"]


def read_csv(path: Path) -> tuple[bytes, list[tuple[str, str]]]:
    """Return (input bytes, [(encoding, encoded)]) of a multibase test CSV."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, skipinitialspace=True))
    data = codecs.decode(rows[0][1], "unicode_escape").encode("latin-1")
    return data, [(name, encoded) for name, encoded in rows[1:]]


@pytest.mark.vectors
@pytest.mark.parametrize("filename", CSV_FILES)
def test_official_multibase_vectors(vectors: Path, filename: str) -> None:
    data, rows = read_csv(vectors / "multiformats" / "multibase-tests" / filename)
    assert rows
    canonical = filename != "case_insensitivity.csv"
    for name, encoded in rows:
        assert multibase.decode_with_base(encoded) == (name, data), (filename, name)
        assert multibase.decode(encoded) == data
        if canonical:
            assert multibase.encode(data, name) == encoded, (filename, name)
        else:
            # non-canonical letter case decodes, and re-encodes to the canonical case of that base
            assert multibase.encode(data, name).lower() == encoded.lower()


@pytest.mark.vectors
def test_every_tested_encoding_is_in_the_prefix_table(vectors: Path) -> None:
    names = set()
    for filename in CSV_FILES:
        names |= {name for name, _ in read_csv(vectors / "multiformats" / "multibase-tests" / filename)[1]}
    assert names <= multibase.BASE_NAMES
    with (vectors / "multiformats" / "multibase.csv").open(encoding="utf-8") as handle:
        table = {row[2]: row[1] for row in csv.reader(handle, skipinitialspace=True) if len(row) > 2}
    for name in multibase.BASE_NAMES:
        assert multibase.encode(b"\x01\x02", name)[0] == table[name].strip()


@pytest.mark.vectors
def test_multicodec_constants_match_the_table(vectors: Path) -> None:
    with (vectors / "multiformats" / "multicodec-keys.csv").open(encoding="utf-8") as handle:
        table = {row[0]: int(row[2], 16) for row in csv.reader(handle, skipinitialspace=True)
                 if row and row[0] != "name"}
    assert table["ed25519-pub"] == multibase.ED25519_PUB == 0xED
    assert table["p256-pub"] == multibase.P256_PUB == 0x1200
    assert table["p384-pub"] == multibase.P384_PUB == 0x1201
    assert table["ed25519-priv"] == multibase.ED25519_PRIV == 0x1300
    assert table["p256-priv"] == multibase.P256_PRIV == 0x1306
    assert table["p384-priv"] == multibase.P384_PRIV == 0x1307
    for code, name in multibase.CODEC_NAMES.items():
        assert table[name] == code


@given(st.binary(max_size=80), st.sampled_from(sorted(multibase.BASE_NAMES - {"proquint"})))
def test_round_trip_every_base(data: bytes, base: str) -> None:
    assert multibase.decode_with_base(multibase.encode(data, base)) == (base, data)


@given(st.integers(min_value=0, max_value=4), st.binary(max_size=40))
def test_leading_zeros_survive(zeros: int, data: bytes) -> None:
    payload = b"\0" * zeros + data
    for base in ("base10", "base36", "base58btc", "base58flickr", "base2", "base8"):
        assert multibase.decode(multibase.encode(payload, base)) == payload


def test_b58_known_values() -> None:
    assert multibase.b58encode(b"") == ""
    assert multibase.b58encode(b"\0\0\x01") == "112"
    assert multibase.b58decode("112") == b"\0\0\x01"
    assert multibase.b58encode(b"hello world") == "StV1DL6CwTryKyV"


@pytest.mark.parametrize("bad", ["0", "O", "I", "l", "abc+", " 1", "é"])
def test_b58_rejects_characters_outside_the_alphabet(bad: str) -> None:
    with pytest.raises(MalformedValueError):
        multibase.b58decode(bad)


def test_bignum_input_is_capped() -> None:
    with pytest.raises(MalformedValueError):
        multibase.decode("z" + "2" * (multibase.MAX_BIGNUM_CHARS + 1))


@pytest.mark.parametrize("bad", [
    "uAQ==",    # padding in unpadded base64url
    "uAQ=",
    "uA+8",     # '+' belongs to base64, not base64url
    "uA/8",
    "uAR",      # non-zero trailing bits (canonical is "AQ")
    "uA",       # a lone 6-bit group carries no byte
    "uAQ\n",
    "UAQ",      # base64urlpad needs its padding
    "UAQ=",
    "mAR",
    "MAQ=",
    "mAQ==",
    "bAB",      # base32 non-canonical trailing bits
    "cae=====",  # impossible base32 length
    "caF======",  # non-zero trailing bits
    "f0",       # odd hex
    "fzz",
    "h0",       # '0' is not in z-base-32
    "9x",
    "k!",
    "0012",
    "0010101010",  # 10 bits: neither a whole byte nor a zero-padded one
    "78",
    "p",
    "pro-lusab-babae",
    "R:::",     # base45 triple above 65535
    "R0",       # base45 lone character
    "🚀x",
])
def test_strict_decoding_rejects(bad: str) -> None:
    with pytest.raises(MalformedValueError):
        multibase.decode(bad)


@pytest.mark.parametrize("bad", ["", "x123", "\0abc", "/abc", "Q"])
def test_unknown_or_missing_prefix(bad: str) -> None:
    with pytest.raises(MalformedValueError):
        multibase.decode(bad)


def test_decode_rejects_non_strings() -> None:
    with pytest.raises(MalformedValueError):
        multibase.decode(b"zabc")  # type: ignore[arg-type]


def test_unknown_encoding_name() -> None:
    with pytest.raises(MalformedValueError):
        multibase.encode(b"x", "base99")


def test_base64url_helpers_are_strict() -> None:
    assert multibase.base64url_encode(b"\xfb\xff") == "-_8"
    assert multibase.base64url_decode("-_8") == b"\xfb\xff"
    for bad in ("-_8=", "+/8", "-_9", "a", "a b", "a\n"):
        with pytest.raises(MalformedValueError):
            multibase.base64url_decode(bad)


def test_proquint_example_from_the_spec() -> None:
    # multibase rfcs/Proquint.md: 127.0.0.1 -> pro-lusab-babad
    assert multibase.encode(bytes([127, 0, 0, 1]), "proquint") == "pro-lusab-babad"
    assert multibase.decode("pro-lusab-babad") == bytes([127, 0, 0, 1])
    assert multibase.decode("pro-") == b""
    with pytest.raises(MalformedValueError):
        multibase.encode(b"\x01", "proquint")


@pytest.mark.parametrize(("raw", "encoded"), [
    # RFC 9285 §4.3 examples
    (b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0"),
])
def test_base45_rfc9285_examples(raw: bytes, encoded: str) -> None:
    assert multibase.encode(raw, "base45") == "R" + encoded
    assert multibase.decode("R" + encoded) == raw


@pytest.mark.parametrize(("value", "encoded"), [
    (0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"), (255, b"\xff\x01"), (300, b"\xac\x02"),
    (16384, b"\x80\x80\x01"), (0xED, b"\xed\x01"), (0x1200, b"\x80\x24"), (0x1201, b"\x81\x24"),
    (0x1300, b"\x80\x26"), (0x1306, b"\x86\x26"), (0x1307, b"\x87\x26"), (2**63 - 1, b"\xff" * 8 + b"\x7f"),
])
def test_varint_known_values(value: int, encoded: bytes) -> None:
    assert multibase.varint_encode(value) == encoded
    assert multibase.varint_decode(encoded + b"rest") == (value, len(encoded))


@pytest.mark.parametrize("bad", [
    b"", b"\x80", b"\xff\xff", b"\x80\x00", b"\x81\x80\x00", b"\xff" * 9 + b"\x01", b"\x80" * 10,
])
def test_varint_rejects_truncated_nonminimal_and_overlong(bad: bytes) -> None:
    with pytest.raises(MalformedValueError):
        multibase.varint_decode(bad)


@pytest.mark.parametrize("bad", [-1, 2**63, True, 1.5])
def test_varint_encode_range(bad: object) -> None:
    with pytest.raises(MalformedValueError):
        multibase.varint_encode(bad)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_varint_round_trip(value: int) -> None:
    encoded = multibase.varint_encode(value)
    assert multibase.varint_decode(encoded) == (value, len(encoded))
