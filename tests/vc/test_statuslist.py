"""Bitstring Status List v1.0: the REC's examples, the bitstring codec, entry parsing, §3.2 validation, the
status-checker hook and the index permutation."""

from __future__ import annotations

import copy
import gzip
import hmac
import itertools
import random
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chopmark.codecs import multibase
from chopmark.dids import Resolver, did_key_from_public_key
from chopmark.errors import (
    ChopmarkError,
    CredentialStatusSet,
    MalformedValueError,
    ProofVerificationError,
    StatusListLengthError,
    StatusRangeError,
    StatusRetrievalError,
    StatusVerificationError,
    UsageError,
)
from chopmark.jsonld.values import as_list
from chopmark.keys import KeyPair, KeyType
from chopmark.vc import statuslist as sl
from chopmark.vc.credentials import issue, verify_credential
from chopmark.vc.samples import merchant_credential
from tests.conftest import codes_of, load_json, require_check

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
LIST_URL = "https://status.example.com/lists/7"
ISSUER = "did:example:12345"
SPEC_ENCODED = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
EMPTY = bytes(sl.MIN_ENTRIES // 8)
KEY = bytes(range(32))
ENTRY_EXAMPLES = ["spec-example-01-example-statuslistcredential-using-simple-entries.json",
                  "spec-example-03-a-revocable-verifiable-credential.json",
                  "spec-example-05-associating-multiple-status-lists-with-a-single-verifiable-credential.json",
                  "spec-example-06-associating-multiple-status-entries-in-a-single-status-list.json"]
LIST_EXAMPLES = ["spec-example-02-example-bitstringstatuslistcredential.json",
                 "spec-example-04-a-status-list-verifiable-credential.json"]


def _spec(vectors: Path, name: str) -> Any:
    return load_json(vectors / "bitstring-status-list" / name)


def _bits_with(*indexes: int, size: int = 1, value: int = 1, length: int = len(EMPTY)) -> bytearray:
    bits = bytearray(length)
    for index in indexes:
        sl.set_status(bits, index, value, size)
    return bits


def _list(bits: bytes = EMPTY, purpose: Any = "revocation", **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("valid_from", "2026-01-01T00:00:00Z")
    doc = sl.status_list_credential(LIST_URL, ISSUER, "revocation", bits, **kwargs)
    doc["credentialSubject"]["statusPurpose"] = purpose
    return doc


def _entry(index: int = 94567, purpose: str = "revocation", **extra: Any) -> dict[str, Any]:
    return {**sl.status_entry(LIST_URL, index, purpose), **extra}


def _reference_status(bits: bytes, index: int, size: int) -> int:
    # an independent reading of §7.1: the bitstring as text, index 0 at the left
    text = "".join(format(byte, "08b") for byte in bits)
    return int(text[index * size:(index + 1) * size], 2)


# --- the REC's examples (official vectors) --------------------------------------------------------------------

@pytest.mark.vectors
@pytest.mark.parametrize("name", ENTRY_EXAMPLES)
def test_spec_example_entries_validate(vectors: Path, name: str) -> None:
    credential = _spec(vectors, name)
    raw_entries = credential["credentialStatus"]
    entries = raw_entries if isinstance(raw_entries, list) else [raw_entries]
    for position, entry in enumerate(entries):
        parsed = sl.check_entry(entry, credential)
        assert parsed.list_url == entry["statusListCredential"]
        assert parsed.index == int(entry["statusListIndex"])
        assert parsed.purpose == entry["statusPurpose"] and parsed.purpose in sl.PURPOSES
        assert (parsed.size, parsed.messages) == (1, ("unset", "set"))
        assert parsed.pointer == (f"credentialStatus/{position}" if isinstance(raw_entries, list)
                                  else "credentialStatus")


@pytest.mark.vectors
@pytest.mark.parametrize("name", LIST_EXAMPLES)
def test_spec_list_credential_decodes_to_16kb_of_zeros(vectors: Path, name: str) -> None:
    doc = _spec(vectors, name)
    encoded = doc["credentialSubject"]["encodedList"]
    assert encoded == SPEC_ENCODED
    bits = sl.decode_list(encoded)
    assert bits == EMPTY and len(bits) * 8 == sl.MIN_ENTRIES == 131072
    assert sl.encode_list(bits) == encoded  # our encoder is byte-identical to the REC's Example 3
    assert sl.decode_list(sl.encode_list(bits)) == bits


@pytest.mark.vectors
@pytest.mark.parametrize("name", ENTRY_EXAMPLES)
def test_spec_list_credential_evaluates_every_example_entry_valid(vectors: Path, name: str) -> None:
    list_doc = _spec(vectors, LIST_EXAMPLES[0])
    credential = _spec(vectors, name)
    served = []
    for entry in as_list(credential["credentialStatus"]):
        parsed = sl.check_entry(entry, credential)
        doc = copy.deepcopy(list_doc)
        doc["id"] = parsed.list_url
        doc["credentialSubject"]["statusPurpose"] = parsed.purpose  # the REC only shows the revocation list
        outcome = sl.evaluate(parsed, doc, now=NOW)
        assert outcome == sl.StatusOutcome(purpose=parsed.purpose, index=parsed.index, status=0, valid=True)
        details = sl.status_checker(lambda url, d=doc: d, now=NOW)(entry, credential)
        assert details == {"purpose": parsed.purpose, "index": parsed.index, "listCredential": parsed.list_url,
                           "status": 0, "valid": True}
        served.append(parsed.purpose)
    assert served


@pytest.mark.vectors
def test_spec_list_credential_rejects_a_suspension_entry(vectors: Path) -> None:
    # §3.2 step 5: Example 3 is a revocation list, so a suspension entry pointing at it must not validate
    parsed = sl.check_entry(_entry(23452, "suspension"))
    with pytest.raises(StatusVerificationError) as info:
        sl.evaluate(parsed, _spec(vectors, LIST_EXAMPLES[0]))
    assert info.value.instance_code == "STATUS_PURPOSE_MISMATCH"


# --- §3.3 / §3.4 / §7.1: the bitstring codec -----------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000))
def test_round_trip_random_bytes(data: bytes) -> None:
    encoded = sl.encode_list(data)
    assert encoded.startswith("u") and "=" not in encoded
    assert sl.decode_list(encoded, min_bits=0) == data
    assert gzip.decompress(multibase.base64url_decode(encoded[1:])) == data  # plain RFC 1952, any gunzip reads it


@settings(max_examples=25, deadline=None)
@given(st.sets(st.integers(0, sl.MIN_ENTRIES - 1), max_size=200))
def test_round_trip_full_list(revoked: set[int]) -> None:
    bits = _bits_with(*revoked)
    decoded = sl.decode_list(sl.encode_list(bits))
    assert decoded == bits
    for index in [*revoked, 0, sl.MIN_ENTRIES - 1]:
        assert sl.get_status(decoded, index) == (1 if index in revoked else 0)


def test_bit_order_index_zero_is_most_significant_bit_of_byte_zero() -> None:
    bits = _bits_with(0, length=4)
    assert bits == bytearray([0x80, 0, 0, 0])
    assert _bits_with(7, length=2) == bytearray([0x01, 0])
    assert _bits_with(8, length=2) == bytearray([0, 0x80])
    assert _bits_with(31, length=4) == bytearray([0, 0, 0, 0x01])
    data = bytes([0b01000000, 0b00000001])
    assert [sl.get_status(data, i) for i in range(16)] == [0, 1] + [0] * 13 + [1]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 9), st.data())
def test_multi_bit_entries_match_a_reference_reading(size: int, data: st.DataObject) -> None:
    raw = bytearray(data.draw(st.binary(min_size=8, max_size=40)))
    index = data.draw(st.integers(0, len(raw) * 8 // size - 1))
    value = data.draw(st.integers(0, (1 << size) - 1))
    before = bytes(raw)
    assert sl.get_status(raw, index, size) == _reference_status(raw, index, size)
    sl.set_status(raw, index, value, size)
    assert sl.get_status(raw, index, size) == value == _reference_status(raw, index, size)
    # only the entry's own bits changed
    changed = [i for i in range(len(raw) * 8) if _reference_status(raw, i, 1) != _reference_status(before, i, 1)]
    assert all(index * size <= i < (index + 1) * size for i in changed)


def test_status_size_two_layout() -> None:
    bits = bytearray(2)
    sl.set_status(bits, 0, 0b10, 2)
    sl.set_status(bits, 3, 0b11, 2)
    sl.set_status(bits, 4, 0b01, 2)
    assert bits == bytearray([0b10000011, 0b01000000])
    assert [sl.get_status(bits, i, 2) for i in range(8)] == [2, 0, 0, 3, 1, 0, 0, 0]


def test_set_status_rejects_values_that_do_not_fit() -> None:
    with pytest.raises(UsageError):
        sl.set_status(bytearray(2), 0, 4, 2)
    with pytest.raises(UsageError):
        sl.set_status(bytearray(2), 0, -1)
    with pytest.raises(UsageError):
        sl.get_status(bytes(2), 0, 0)


def test_gzip_encoding_is_deterministic() -> None:
    bits = _bits_with(5, 77, 131000)
    first, second = sl.encode_list(bits), sl.encode_list(bytes(bits))
    assert first == second
    raw = multibase.base64url_decode(first[1:])
    assert raw[:4] == b"\x1f\x8b\x08\x00" and raw[4:8] == b"\0\0\0\0"  # gzip, deflate, no flags, MTIME 0
    assert struct.unpack("<II", raw[-8:]) == (zlib.crc32(bits), len(bits))


def _u(raw: bytes) -> str:
    return "u" + multibase.base64url_encode(raw)


def _gzip_zeros(count: int) -> bytes:
    return gzip.compress(bytes(count), mtime=0)


def test_gzip_bomb_is_refused() -> None:
    bomb = _u(_gzip_zeros(sl.MAX_LIST_BYTES + 1))
    assert len(bomb) < 40_000
    with pytest.raises(StatusVerificationError) as info:
        sl.decode_list(bomb)
    assert info.value.instance_code == "STATUS_LIST_TOO_LARGE"
    with pytest.raises(StatusVerificationError):
        sl.decode_list(SPEC_ENCODED, max_bytes=len(EMPTY) - 1)
    assert sl.decode_list(SPEC_ENCODED, max_bytes=len(EMPTY)) == EMPTY


def test_gzip_bomb_is_inflated_incrementally() -> None:
    # the budget bounds memory, not just the result: a 16 MiB bomb never inflates past ~max_bytes
    bomb = _u(_gzip_zeros(sl.MAX_LIST_BYTES + 1))
    tracemalloc.start()
    try:
        with pytest.raises(StatusVerificationError):
            sl.decode_list(bomb, max_bytes=64 * 1024)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024


def test_gzip_bomb_split_over_members_is_refused() -> None:
    member = _gzip_zeros(sl.MAX_LIST_BYTES // 2 + 1)
    with pytest.raises(StatusVerificationError):
        sl.decode_list(_u(member + member))


def test_multi_member_gzip_is_one_bitstring() -> None:
    # RFC 1952 §2.2: a gzip file is a series of members
    assert sl.decode_list(_u(_gzip_zeros(8192) + gzip.compress(b"\xff" * 8192, mtime=0))) == EMPTY[:8192] + (
        b"\xff" * 8192)


@pytest.mark.parametrize("encoded", [
    "", "u", "z" + SPEC_ENCODED[1:], "U" + SPEC_ENCODED[1:], SPEC_ENCODED[1:], SPEC_ENCODED + "==",
    SPEC_ENCODED.replace("-", "+"), " " + SPEC_ENCODED, SPEC_ENCODED + " ",
    _u(b"not gzip at all"), _u(zlib.compress(EMPTY)), _u(zlib.compress(EMPTY, wbits=-15)),
    _u(multibase.base64url_decode(SPEC_ENCODED[1:])[:-4]),  # truncated: ISIZE missing
    _u(multibase.base64url_decode(SPEC_ENCODED[1:])[:20]),  # truncated inside the deflate stream
    _u(multibase.base64url_decode(SPEC_ENCODED[1:])[:-8] + b"\0\0\0\0" + b"\0\x40\0\0"),  # wrong CRC-32
    _u(multibase.base64url_decode(SPEC_ENCODED[1:]) + b"trailing junk"),
])
def test_malformed_encoded_list(encoded: str) -> None:
    with pytest.raises(MalformedValueError) as info:
        sl.decode_list(encoded)
    assert info.value.pointer is not None


@pytest.mark.parametrize("value", [None, 42, b"uH4sI", ["u"]])
def test_encoded_list_must_be_a_string(value: Any) -> None:
    with pytest.raises(MalformedValueError):
        sl.decode_list(value)
    doc = _list()
    doc["credentialSubject"]["encodedList"] = value
    with pytest.raises(MalformedValueError):
        sl.evaluate(sl.check_entry(_entry()), doc)


def test_too_short_list() -> None:
    short = sl.encode_list(bytes(len(EMPTY) - 1))
    with pytest.raises(StatusListLengthError):
        sl.decode_list(short)
    assert len(sl.decode_list(short, min_bits=0)) == len(EMPTY) - 1
    doc = _list()
    doc["credentialSubject"]["encodedList"] = short
    with pytest.raises(StatusListLengthError):
        sl.evaluate(sl.check_entry(_entry(0)), doc)
    with pytest.raises(StatusListLengthError):
        sl.status_list_credential(LIST_URL, ISSUER, "revocation", bytes(100), valid_from="2026-01-01T00:00:00Z")


def test_length_rule_counts_entries_not_bits() -> None:
    # §3.2 step 9: length / statusSize must reach minimumNumberOfEntries
    entry = sl.check_entry(_entry(0, "message", statusSize=2, statusMessage=_messages(2)))
    with pytest.raises(StatusListLengthError):
        sl.evaluate(entry, _list(EMPTY, "message"))
    assert sl.evaluate(entry, _list(bytes(2 * len(EMPTY)), "message")).valid
    assert sl.evaluate(entry, _list(EMPTY, "message"), min_entries=sl.MIN_ENTRIES // 2).valid  # step 2 lower bound


def test_index_out_of_range() -> None:
    for index, size in [(sl.MIN_ENTRIES, 1), (-1, 1), (sl.MIN_ENTRIES // 2, 2), (10**40, 1)]:
        with pytest.raises(StatusRangeError):
            sl.get_status(EMPTY, index, size)
        with pytest.raises(StatusRangeError):
            sl.set_status(bytearray(EMPTY), index, 0, size)
    assert sl.get_status(EMPTY, sl.MIN_ENTRIES - 1) == 0
    with pytest.raises(StatusRangeError) as info:
        sl.evaluate(sl.check_entry(_entry(sl.MIN_ENTRIES)), _list())
    assert info.value.pointer == "statusListIndex"
    with pytest.raises(StatusRangeError):
        sl.check_entry(_entry(0) | {"statusListIndex": "9" * 40})


def test_decoding_a_16kb_list_is_cheap() -> None:
    encoded = sl.encode_list(_bits_with(*range(0, sl.MIN_ENTRIES, 97)))
    start = time.perf_counter()
    for _ in range(100):
        sl.decode_list(encoded)
    assert (time.perf_counter() - start) / 100 < 0.005  # well under 1 ms in practice; generous for slow CI


# --- §2.1: entries ---------------------------------------------------------------------------------------------

def _messages(size: int) -> list[dict[str, str]]:
    return [{"status": hex(v), "message": f"m{v}"} for v in range(1 << size)]


def test_status_entry_shape_and_round_trip() -> None:
    entry = sl.status_entry(LIST_URL, 42, "suspension")
    assert entry == {"id": f"{LIST_URL}#42", "type": "BitstringStatusListEntry", "statusPurpose": "suspension",
                     "statusListIndex": "42", "statusListCredential": LIST_URL}
    assert sl.check_entry(entry) == sl.ParsedEntry(LIST_URL, 42, "suspension", 1, ("unset", "set"))
    assert sl.status_entry(LIST_URL, 0, "revocation", entry_id="urn:uuid:1")["id"] == "urn:uuid:1"
    for bad in [lambda: sl.status_entry(LIST_URL, -1, "revocation"), lambda: sl.status_entry("nope", 1, "x"),
                lambda: sl.status_entry(LIST_URL, 1, "revocation", entry_id=LIST_URL)]:
        with pytest.raises(UsageError):
            bad()


def test_status_size_two_with_messages() -> None:
    messages = [{"status": "0x2", "message": "rejected"}, {"status": "0x0", "message": "pending_review"},
                {"status": "0x3", "message": "undefined", "extra": 1}, {"status": "0x1", "message": "ok"}]
    parsed = sl.check_entry(_entry(7, "message", statusSize=2, statusMessage=messages))
    assert parsed.size == 2 and parsed.messages == ("pending_review", "ok", "rejected", "undefined")
    bits = _bits_with(7, size=2, value=2, length=2 * len(EMPTY))
    outcome = sl.evaluate(parsed, _list(bits, "message"))
    assert outcome == sl.StatusOutcome("message", 7, 2, False, "rejected")
    details = sl.status_checker(lambda url: _list(bits, "message"))(_entry(7, "message", statusSize=2,
                                                                          statusMessage=messages), {})
    assert details["message"] == "rejected" and details["status"] == 2 and details["valid"] is False


def test_single_bit_message_entry_uses_default_messages() -> None:
    parsed = sl.check_entry(_entry(3, "message"))
    assert sl.evaluate(parsed, _list(_bits_with(3), "message")).message == "set"
    assert sl.evaluate(parsed, _list(EMPTY, "message")).message == "unset"
    assert sl.evaluate(sl.check_entry(_entry(3)), _list(_bits_with(3))).message is None


_M0 = {"status": "0x0", "message": "a"}


@pytest.mark.parametrize(("change", "pointer"), [
    ({"statusListIndex": "-1"}, "statusListIndex"), ({"statusListIndex": "+1"}, "statusListIndex"),
    ({"statusListIndex": " 1"}, "statusListIndex"), ({"statusListIndex": "1 "}, "statusListIndex"),
    ({"statusListIndex": "1.0"}, "statusListIndex"), ({"statusListIndex": "0x1"}, "statusListIndex"),
    ({"statusListIndex": "1_000"}, "statusListIndex"), ({"statusListIndex": "\u0661"}, "statusListIndex"),
    ({"statusListIndex": ""}, "statusListIndex"), ({"statusListIndex": 5}, "statusListIndex"),
    ({"statusListIndex": None}, "statusListIndex"), ({"statusPurpose": 5}, "statusPurpose"),
    ({"statusPurpose": ""}, "statusPurpose"), ({"statusPurpose": ["revocation"]}, "statusPurpose"),
    ({"statusListCredential": "not a url"}, "statusListCredential"),
    ({"statusListCredential": None}, "statusListCredential"), ({"id": LIST_URL}, "id"), ({"id": 3}, "id"),
    ({"statusSize": 0}, "statusSize"), ({"statusSize": -1}, "statusSize"), ({"statusSize": True}, "statusSize"),
    ({"statusSize": "2"}, "statusSize"), ({"statusSize": 1.0}, "statusSize"),
    ({"statusSize": 2}, "statusMessage"), ({"statusSize": 2, "statusMessage": _messages(1)}, "statusMessage"),
    ({"statusMessage": _messages(2)}, "statusMessage"), ({"statusMessage": []}, "statusMessage"),
    ({"statusMessage": {"status": "0x0", "message": "a"}}, "statusMessage"),
    ({"statusMessage": [_M0, {"status": "0x0", "message": "b"}]}, "statusMessage/1/status"),
    ({"statusMessage": [_M0, {"status": "0x2", "message": "b"}]}, "statusMessage/1/status"),
    ({"statusMessage": [_M0, {"status": "1", "message": "b"}]}, "statusMessage/1"),
    ({"statusMessage": [_M0, {"status": "0x1"}]}, "statusMessage/1"),
    ({"statusMessage": [_M0, {"status": "0x1", "message": 1}]}, "statusMessage/1"),
    ({"statusMessage": [_M0, "0x1"]}, "statusMessage/1"),
    ({"statusSize": 40, "statusMessage": _messages(1)}, "statusMessage"),
    ({"statusReference": "not a url"}, "statusReference"), ({"statusReference": []}, "statusReference"),
])
def test_malformed_entries(change: dict[str, Any], pointer: str) -> None:
    entry = _entry(5) | change
    credential = {"credentialStatus": [_entry(1), entry]}
    with pytest.raises(MalformedValueError) as info:
        sl.check_entry(entry, credential)
    assert info.value.pointer == f"credentialStatus/1/{pointer}"


@pytest.mark.parametrize("entry", [_entry(5) | {"type": "StatusList2021Entry"}, _entry(5) | {"type": None},
                                   {k: v for k, v in _entry(5).items() if k != "type"}])
def test_other_status_types_are_not_verifiable_here(entry: dict[str, Any]) -> None:
    with pytest.raises(StatusVerificationError) as info:
        sl.check_entry(entry)
    assert info.value.pointer == "credentialStatus/type"


def test_entry_accepts_optional_properties() -> None:
    entry = _entry(5, statusReference=["https://example.org/a", "https://example.org/b"], statusSize=1,
                   statusMessage=[{"status": "0x0", "message": "fine"}, {"status": "0x1", "message": "bad"}])
    entry["type"] = ["BitstringStatusListEntry"]
    entry["statusListIndex"] = "0005"
    assert sl.check_entry(entry).messages == ("fine", "bad")
    assert sl.check_entry(entry).index == 5
    del entry["id"]
    assert sl.check_entry(entry).list_url == LIST_URL


# --- §2.2 / §3.1: the list credential --------------------------------------------------------------------------

def test_status_list_credential_shape() -> None:
    bits = _bits_with(9)
    doc = sl.status_list_credential(LIST_URL, ISSUER, "suspension", bits, valid_from="2026-01-01T00:00:00Z",
                                    valid_until="2026-02-01T00:00:00Z", ttl_ms=300000)
    assert doc == {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": ISSUER,
        "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2026-02-01T00:00:00Z",
        "credentialSubject": {"id": f"{LIST_URL}#list", "type": "BitstringStatusList", "statusPurpose": "suspension",
                              "encodedList": sl.encode_list(bits), "ttl": 300000}}
    plain = sl.status_list_credential(LIST_URL, ISSUER, "revocation", EMPTY, valid_from="2021-04-05T14:27:40Z")
    assert "validUntil" not in plain and "ttl" not in plain["credentialSubject"]
    assert plain["credentialSubject"]["encodedList"] == SPEC_ENCODED
    with pytest.raises(MalformedValueError):
        sl.status_list_credential(LIST_URL, ISSUER, "revocation", EMPTY, valid_from="yesterday")
    with pytest.raises(UsageError):
        sl.status_list_credential(LIST_URL, ISSUER, "revocation", EMPTY, valid_from="2026-01-01T00:00:00Z",
                                  ttl_ms=-1)
    for url, issuer, purpose in [("nope", ISSUER, "revocation"), (LIST_URL, "", "revocation"), (LIST_URL, ISSUER, "")]:
        with pytest.raises(UsageError):
            sl.status_list_credential(url, issuer, purpose, EMPTY, valid_from="2026-01-01T00:00:00Z")


def test_generated_credential_verifies_with_the_vcdm_checks() -> None:
    from chopmark.vc import datamodel

    assert datamodel.check_credential(_list(_bits_with(1), valid_until="2027-01-01T00:00:00Z")) == []
    assert datamodel.check_credential(_entry_credential(_entry(1))) == []


# --- §3.2: validation ------------------------------------------------------------------------------------------

def test_purpose_mismatch() -> None:
    parsed = sl.check_entry(_entry(1, "suspension"))
    with pytest.raises(StatusVerificationError) as info:
        sl.evaluate(parsed, _list(purpose="revocation"))
    assert info.value.instance_code == "STATUS_PURPOSE_MISMATCH"
    assert sl.evaluate(parsed, _list(purpose=["revocation", "suspension"])).valid  # one list, several purposes
    with pytest.raises(MalformedValueError):
        sl.evaluate(parsed, _list(purpose=["suspension", 3]))
    with pytest.raises(MalformedValueError):
        sl.evaluate(parsed, _list(purpose=None))


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"valid_until": "2026-05-31T23:59:59Z"}, "STATUS_LIST_EXPIRED"),
    ({"valid_from": "2026-06-01T12:00:01Z"}, "STATUS_LIST_NOT_YET_VALID"),
])
def test_list_credential_outside_its_validity_period(kwargs: dict[str, str], code: str) -> None:
    parsed = sl.check_entry(_entry(1))
    doc = _list(**kwargs)
    with pytest.raises(StatusVerificationError) as info:
        sl.evaluate(parsed, doc, now=NOW)
    assert info.value.instance_code == code
    assert sl.evaluate(parsed, doc).valid  # without a clock the period is the caller's business
    with pytest.raises(StatusVerificationError):
        sl.status_checker(lambda url: doc, now=NOW)(_entry(1), {})


def test_list_credential_inside_its_validity_period() -> None:
    doc = _list(valid_from="2026-06-01T12:00:00Z", valid_until="2026-06-01T12:00:00Z")
    assert sl.evaluate(sl.check_entry(_entry(1)), doc, now=NOW).valid
    with pytest.raises(UsageError):
        sl.evaluate(sl.check_entry(_entry(1)), doc, now=NOW.replace(tzinfo=None))
    doc["validUntil"] = "soon"
    with pytest.raises(MalformedValueError):
        sl.evaluate(sl.check_entry(_entry(1)), doc, now=NOW)


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(type=["VerifiableCredential"]),
    lambda d: d.pop("type"),
    lambda d: d["credentialSubject"].update(type="StatusList2021"),
    lambda d: d.update(credentialSubject=[d["credentialSubject"], d["credentialSubject"]]),
    lambda d: d.update(credentialSubject="https://status.example.com/lists/7#list"),
    lambda d: d.pop("credentialSubject"),
])
def test_list_credential_of_the_wrong_shape(mutate: Callable[[dict[str, Any]], Any]) -> None:
    doc = _list()
    mutate(doc)
    with pytest.raises(StatusVerificationError):
        sl.evaluate(sl.check_entry(_entry(1)), doc)


def test_evaluate_reads_the_right_bit_with_a_caching_decoder() -> None:
    calls: list[str] = []

    def cached(encoded: str) -> bytes:
        calls.append(encoded)
        return sl.decode_list(encoded)

    doc = _list(_bits_with(94567))
    for index, status in [(94567, 1), (94566, 0), (94568, 0)]:
        outcome = sl.evaluate(sl.check_entry(_entry(index)), doc, decode=cached)
        assert (outcome.status, outcome.valid) == (status, status == 0)
    assert len(calls) == 3


# --- the status-checker hook -----------------------------------------------------------------------------------

def _fetcher(doc: Mapping[str, Any]) -> Callable[[str], Mapping[str, Any]]:
    def fetch(url: str) -> Mapping[str, Any]:
        assert url == LIST_URL
        return doc
    return fetch


@pytest.mark.parametrize(("purpose", "code"), [("revocation", "REVOKED"), ("suspension", "SUSPENDED"),
                                                ("com.example.embargo", "STATUS_SET")])
def test_set_status_fails_the_check(purpose: str, code: str) -> None:
    checker = sl.status_checker(_fetcher(_list(_bits_with(94567), purpose)), now=NOW)
    with pytest.raises(CredentialStatusSet) as info:
        checker(_entry(94567, purpose), {"credentialStatus": _entry(94567, purpose)})
    assert info.value.instance_code == code
    assert info.value.pointer == "credentialStatus"
    assert info.value.extra["valid"] is False and info.value.extra["index"] == 94567
    assert checker(_entry(94566, purpose), {})["valid"] is True  # the neighbour is untouched


@pytest.mark.parametrize("purpose", ["refresh", "message"])
def test_informative_purposes_report_without_failing(purpose: str) -> None:
    details = sl.status_checker(_fetcher(_list(_bits_with(10), purpose)))(_entry(10, purpose), {})
    assert details["status"] == 1 and details["valid"] is False and details["purpose"] == purpose


def test_fetch_chopmark_errors_propagate() -> None:
    error = ProofVerificationError("the status list's signature does not verify")

    def fetch(url: str) -> Mapping[str, Any]:
        raise error

    with pytest.raises(ProofVerificationError) as info:
        sl.status_checker(fetch)(_entry(1), {})
    assert info.value is error


@pytest.mark.parametrize("failure", [OSError("connection refused"), ValueError("bad JSON"), KeyError("x")])
def test_fetch_other_errors_become_retrieval_errors(failure: Exception) -> None:
    def fetch(url: str) -> Mapping[str, Any]:
        raise failure

    with pytest.raises(StatusRetrievalError) as info:
        sl.status_checker(fetch)(_entry(1), {"credentialStatus": [_entry(0), _entry(1)]})
    assert info.value.__cause__ is failure
    assert info.value.pointer == "credentialStatus/1/statusListCredential"


@pytest.mark.parametrize("document", [None, [], "a credential", 7])
def test_fetch_returning_no_credential_is_a_retrieval_error(document: Any) -> None:
    with pytest.raises(StatusRetrievalError):
        sl.status_checker(lambda url: document)(_entry(1), {})


def test_unexpected_failure_while_evaluating_fails_closed() -> None:
    def broken_decoder(encoded: str) -> bytes:
        raise RuntimeError("cache is broken")

    with pytest.raises(StatusVerificationError):
        sl.status_checker(_fetcher(_list()), decode=broken_decoder)(_entry(1), {})


def test_malformed_entry_is_reported_before_fetching() -> None:
    fetched: list[str] = []
    checker = sl.status_checker(lambda url: fetched.append(url) or _list())
    with pytest.raises(MalformedValueError):
        checker(_entry(1) | {"statusListIndex": "-1"}, {})
    assert fetched == []


def _entry_credential(*entries: dict[str, Any], issuer: str = ISSUER) -> dict[str, Any]:
    doc = merchant_credential(issuer)
    doc["credentialStatus"] = list(entries) if len(entries) > 1 else entries[0]
    return doc


ED = KeyPair.from_seed(KeyType.ED25519, bytes([41]) * 32)


def _issue_with_status(*entries: dict[str, Any]) -> dict[str, Any]:
    did = did_key_from_public_key(ED.public_key)
    signer = ED.signer(f"{did}#{ED.public_key.multibase()}")
    return issue(_entry_credential(*entries, issuer=did), signer, created="2026-01-01T00:00:00Z")


@pytest.mark.parametrize(("revoked", "suspended", "codes"), [
    ((), (), []), ((94567,), (), ["REVOKED"]), ((), (12345,), ["SUSPENDED"]),
    ((94567,), (12345,), ["REVOKED", "SUSPENDED"]),
])
def test_end_to_end_with_verify_credential(revoked: tuple[int, ...], suspended: tuple[int, ...],
                                           codes: list[str]) -> None:
    lists = {"revocation": _list(_bits_with(*revoked)), "suspension": _list(_bits_with(*suspended), "suspension")}
    revocation = sl.status_entry(LIST_URL, 94567, "revocation")
    suspension = sl.status_entry(LIST_URL, 12345, "suspension")
    both = copy.deepcopy(lists["revocation"])
    both["credentialSubject"]["statusPurpose"] = ["revocation", "suspension"]
    both["credentialSubject"]["encodedList"] = sl.encode_list(_bits_with(*revoked, *suspended))
    signed = _issue_with_status(revocation, suspension)
    result = verify_credential(signed, resolver=Resolver(), now=NOW,
                               status_checker=sl.status_checker(lambda url: both, now=NOW))
    status = require_check(result, "status")
    assert codes_of(status) == codes
    assert status.passed is (not codes) and result.verified is (not codes), result.to_dict()
    if not codes:
        assert [e["valid"] for e in status.details["entries"]] == [True, True]


def test_end_to_end_retrieval_failure_is_never_valid() -> None:
    def offline(url: str) -> Mapping[str, Any]:
        raise TimeoutError("status server unreachable")

    signed = _issue_with_status(sl.status_entry(LIST_URL, 5, "revocation"))
    result = verify_credential(signed, resolver=Resolver(), now=NOW, status_checker=sl.status_checker(offline))
    status = require_check(result, "status")
    assert not status.passed and not result.verified
    assert codes_of(status) == ["STATUS_RETRIEVAL_ERROR"]


# --- §6.5: index allocation ------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [1, 2, 3, 5, 1000, 1024, 1025, sl.MIN_ENTRIES])
def test_permutation_is_a_bijection(size: int) -> None:
    perm = sl.IndexPermutation(KEY, size)
    indexes = [perm.index(n) for n in range(size)]
    assert sorted(indexes) == list(range(size))


def test_permutation_is_deterministic_and_keyed() -> None:
    first = [sl.IndexPermutation(KEY).index(n) for n in range(64)]
    assert first == [sl.IndexPermutation(bytes(KEY)).index(n) for n in range(64)]
    other = [sl.IndexPermutation(bytes(reversed(KEY))).index(n) for n in range(64)]
    assert other != first
    assert sum(a == b for a, b in zip(first, other, strict=True)) < 4
    assert [sl.IndexPermutation(KEY, 1000).index(n) for n in range(64)] != first


def test_permutation_looks_random() -> None:
    perm = sl.IndexPermutation(KEY)
    indexes = [perm.index(n) for n in range(2000)]
    assert indexes != sorted(indexes) and indexes[:10] != list(range(10))
    # spread over the whole list: every eighth of it receives a fair share of the first 2000 allocations
    buckets = [0] * 8
    for index in indexes:
        buckets[index * 8 // sl.MIN_ENTRIES] += 1
    assert min(buckets) > 180 and max(buckets) < 320
    steps = [abs(b - a) for a, b in itertools.pairwise(indexes)]
    assert sum(steps) / len(steps) > sl.MIN_ENTRIES / 5  # consecutive allocations land far apart


def _reference_permutation(key: bytes, size: int, n: int) -> int:
    # the construction as documented: 10-round balanced Feistel, F_r(x) = HMAC-SHA256(key, r | half | x)[:8]
    half = (max(2, (size - 1).bit_length()) + 1) // 2
    mask = (1 << half) - 1

    def feistel(x: int) -> int:
        left, right = x >> half, x & mask
        for r in range(10):
            f = int.from_bytes(hmac.digest(key, bytes([r, half]) + right.to_bytes(8, "big"), "sha256")[:8], "big")
            left, right = right, left ^ (f & mask)
        return left << half | right

    y = feistel(n)
    while y >= size:
        y = feistel(y)
    return y


def test_permutation_matches_the_documented_construction() -> None:
    # pinned: a service's counter must keep meaning the same indexes across versions, or indexes get reused
    assert [sl.IndexPermutation(KEY, 1000).index(n) for n in range(8)] == [233, 484, 862, 432, 508, 741, 614, 299]
    assert [sl.IndexPermutation(KEY).index(n) for n in range(4)] == [107552, 109815, 99010, 34914]
    for size in (1000, sl.MIN_ENTRIES, 10**9):
        perm = sl.IndexPermutation(KEY, size)
        assert [perm.index(n) for n in range(50)] == [_reference_permutation(KEY, size, n) for n in range(50)]


def test_permutation_on_the_fly_rounds_match_the_tables() -> None:
    tabled = sl.IndexPermutation(KEY, 5000)
    untabled = sl.IndexPermutation(KEY, 5000)
    untabled._tables = None
    assert [tabled.index(n) for n in range(500)] == [untabled.index(n) for n in range(500)]
    big = sl.IndexPermutation(KEY, 10**12)  # no tables: round functions computed per call
    sample = [big.index(n) for n in range(200)]
    assert len(set(sample)) == 200 and all(0 <= i < 10**12 for i in sample)


def test_permutation_rejects_bad_input() -> None:
    perm = sl.IndexPermutation(KEY, 1000)
    for n in [-1, 1000, True]:
        with pytest.raises(StatusRangeError):
            perm.index(n)
    for key, size in [(b"short", 10), ("a string key of 32 characters...", 10), (KEY, 0), (KEY, 2**64 + 1)]:
        with pytest.raises(UsageError):
            sl.IndexPermutation(key, size)  # type: ignore[arg-type]


def test_allocating_random_entries_into_a_list() -> None:
    # the service's flow: counter -> permuted index -> entry; revoke some; every verdict matches
    perm = sl.IndexPermutation(KEY)
    rng = random.Random(7)
    entries = [sl.status_entry(LIST_URL, perm.index(n), "revocation") for n in range(300)]
    revoked = {e["statusListIndex"] for e in rng.sample(entries, 30)}
    bits = _bits_with(*(int(i) for i in revoked))
    checker = sl.status_checker(_fetcher(_list(bits)), now=NOW)
    for entry in entries:
        try:
            assert checker(entry, {})["valid"] and entry["statusListIndex"] not in revoked
        except ChopmarkError as exc:
            assert exc.instance_code == "REVOKED" and entry["statusListIndex"] in revoked
