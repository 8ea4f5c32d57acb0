"""W3C Bitstring Status List v1.0 (REC 2025-05-15, whose section numbers are cited): entries, list credentials,
the bitstring codec, the §3.2 Validate Algorithm and random index allocation. Pure: retrieval and proof checking
are the caller's ``fetch``, the clock is ``now``.

Errors. §3 preamble: a §2 property breaking a MUST raises MALFORMED_VALUE_ERROR (:class:`MalformedValueError`), so
does an ``encodedList`` that is not multibase base64url GZIP. §3.2 step 4: a failed dereference is
STATUS_RETRIEVAL_ERROR; a failed proof and (step 5) a purpose mismatch are STATUS_VERIFICATION_ERROR, which we also
raise for a list credential of the wrong type, outside its validity period or inflating beyond the budget.
Step 9: STATUS_LIST_LENGTH_ERROR. Step 10: RANGE_ERROR (:class:`StatusRangeError`).
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeGuard

from chopmark.codecs import multibase
from chopmark.codecs.dates import parse_datetime
from chopmark.errors import (
    ChopmarkError,
    CredentialStatusSet,
    MalformedValueError,
    StatusListLengthError,
    StatusRangeError,
    StatusRetrievalError,
    StatusVerificationError,
    UsageError,
)
from chopmark.jsonld.values import as_list
from chopmark.vc.datamodel import is_url, issuer_id
from chopmark.vc.permutation import IndexPermutation as IndexPermutation  # re-exported

if TYPE_CHECKING:
    from chopmark.vc.credentials import StatusChecker

#: §3.2 step 2 / §6.1: the minimum number of entries (131,072 = 16 KB of single bits) for herd privacy.
MIN_ENTRIES = 131072
#: The status terms are defined by the VC 2.0 context (§5.2 note), so list credentials need only it.
STATUS_CONTEXT = "https://www.w3.org/ns/credentials/v2"
#: §2.1: the status purposes with defined meaning (other strings are allowed, with unknown meaning).
PURPOSES = ("revocation", "suspension", "refresh", "message")
#: Default inflation budget for ``encodedList`` (16 MiB = 134 million single-bit entries).
MAX_LIST_BYTES = 16 * 1024 * 1024

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"

# RFC 1952 §2.3 member header: ID1 ID2, CM=8 (deflate), FLG=0, MTIME=0, XFL=0, OS=3. Fixed, so encoding is
# deterministic and byte-identical to the REC's Example 3 for an all-zero list.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # zlib: accept the gzip wrapper only, verify CRC-32 and ISIZE
_DIGITS = re.compile(r"[0-9]+")
_HEX_STATUS = re.compile(r"0x([0-9A-Fa-f]+)")
_MAX_INDEX_DIGITS = 30  # an index this long is beyond any list we can inflate (avoids huge int parsing)
_DEFAULT_MESSAGES = ("unset", "set")  # §2.1 statusMessage: the values when no array is given


def _int_in(value: object, low: int, high: int | None = None) -> TypeGuard[int]:
    # JSON integers only (bool is an int subclass in Python), within [low, high)
    return type(value) is int and value >= low and (high is None or value < high)


# --- §3.3 / §3.4 / §7.1: the bitstring ------------------------------------------------------------------------

def encode_list(bits: bytes) -> str:
    """§3.3 step 3: GZIP-compress ``bits`` (RFC 1952, MTIME 0) and multibase-encode as base64url, prefix ``u``."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = deflater.compress(bytes(bits)) + deflater.flush()
    trailer = struct.pack("<II", zlib.crc32(bits) & 0xFFFFFFFF, len(bits) & 0xFFFFFFFF)  # RFC 1952 §2.3.1
    return "u" + multibase.base64url_encode(_GZIP_HEADER + body + trailer)


def decode_list(encoded: str, *, max_bytes: int = MAX_LIST_BYTES, min_bits: int = MIN_ENTRIES) -> bytes:
    """§3.4 Bitstring Expansion Algorithm, strictly; returns the uncompressed bitstring.

    ``encoded`` must be ``u`` + unpadded base64url of one or more complete GZIP members (else
    :class:`MalformedValueError`, §3 preamble). Inflation stops past ``max_bytes`` (a gzip bomb) with
    :class:`StatusVerificationError`. Fewer than ``min_bits`` bits raise :class:`StatusListLengthError`
    (§3.2 step 9 for single-bit entries; pass ``min_bits=0`` to check the length yourself).
    """
    pointer = "credentialSubject/encodedList"
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise MalformedValueError("encodedList must be multibase base64url (prefix 'u')", pointer=pointer)
    try:
        data = multibase.base64url_decode(encoded[1:])  # strict RFC 4648 §5 base64url, no padding
    except MalformedValueError as exc:
        raise MalformedValueError(f"encodedList: {exc.detail}", pointer=pointer) from None
    out = bytearray()
    while True:  # RFC 1952 §2.2: a gzip file is a series of members
        inflater = zlib.decompressobj(_GZIP_WBITS)
        try:
            out += inflater.decompress(data, max_bytes + 1 - len(out))  # bounded: never more than the budget
        except zlib.error as exc:
            raise MalformedValueError(f"encodedList is not valid GZIP: {exc}", pointer=pointer) from None
        if len(out) > max_bytes:
            raise StatusVerificationError(f"encodedList inflates beyond {max_bytes} bytes", pointer=pointer,
                                          code="STATUS_LIST_TOO_LARGE")
        if not inflater.eof:
            raise MalformedValueError("encodedList is truncated GZIP", pointer=pointer)
        data = inflater.unused_data
        if not data:
            break
    if len(out) * 8 < min_bits:
        raise StatusListLengthError(f"the status list has {len(out) * 8} bits, fewer than {min_bits}",
                                    pointer=pointer)
    return bytes(out)


def _check_span(bits: bytes | bytearray, index: int, size: int) -> int:
    # §3.2 step 10: the entry occupies bits index*size .. index*size+size-1 and must lie inside the bitstring
    if not _int_in(size, 1) or type(index) is not int:
        raise UsageError("the status index and size must be integers, the size >= 1")
    if index < 0 or (index + 1) * size > len(bits) * 8:
        raise StatusRangeError(f"status index {index} (size {size}) is outside a list of {len(bits) * 8} bits",
                               pointer="statusListIndex")
    return index * size


def get_status(bits: bytes | bytearray, index: int, size: int = 1) -> int:
    """The status value of entry ``index`` (§7.1: bit 0 is the most significant bit of byte 0)."""
    start = _check_span(bits, index, size)
    first, last = start >> 3, (start + size - 1) >> 3
    chunk = int.from_bytes(bits[first:last + 1], "big")
    return (chunk >> ((last + 1) * 8 - start - size)) & ((1 << size) - 1)


def set_status(bits: bytearray, index: int, value: int, size: int = 1) -> None:
    """Set entry ``index`` to ``value`` in place (§3.3 step 2: position ``index * size``, most significant first)."""
    start = _check_span(bits, index, size)
    if not _int_in(value, 0, 1 << size):
        raise UsageError(f"status value must be an integer in [0, 2^{size})")
    first, last = start >> 3, (start + size - 1) >> 3
    shift = (last + 1) * 8 - start - size
    chunk = int.from_bytes(bits[first:last + 1], "big")
    chunk = (chunk & ~(((1 << size) - 1) << shift)) | (value << shift)
    bits[first:last + 1] = chunk.to_bytes(last + 1 - first, "big")


# --- §2.1 / §2.2 / §3.1: documents -------------------------------------------------------------------------

def status_entry(list_url: str, index: int, purpose: str, *, entry_id: str | None = None) -> dict[str, Any]:
    """A §2.1 ``BitstringStatusListEntry`` (statusListIndex as a base-10 string; id defaults to ``url#index``)."""
    if not _int_in(index, 0):
        raise UsageError("statusListIndex must be a non-negative integer")
    if not is_url(list_url) or not isinstance(purpose, str) or not purpose:
        raise UsageError("status_entry needs a list URL and a non-empty statusPurpose")
    entry_id = f"{list_url}#{index}" if entry_id is None else entry_id
    if entry_id == list_url:  # §2.1 id: "It MUST NOT be the URL for the status list."
        raise UsageError("the entry id must not be the status list URL")
    return {"id": entry_id, "type": ENTRY_TYPE, "statusPurpose": purpose, "statusListIndex": str(index),
            "statusListCredential": list_url}


def status_list_credential(list_url: str, issuer: str, purpose: str, bits: bytes, *, valid_from: str,
                           valid_until: str | None = None, ttl_ms: int | None = None) -> dict[str, Any]:
    """An unsigned §2.2 ``BitstringStatusListCredential`` (§3.1 steps 2-4; the caller adds the proof, step 5)."""
    if not is_url(list_url) or not is_url(issuer) or not isinstance(purpose, str) or not purpose:
        raise UsageError("status_list_credential needs a list URL, an issuer URL and a statusPurpose")
    if len(bits) * 8 < MIN_ENTRIES:  # §3.3 step 1: the bitstring is at least 16KB
        raise StatusListLengthError(f"a status list needs at least {MIN_ENTRIES} bits, got {len(bits) * 8}")
    parse_datetime(valid_from, name="validFrom")  # VCDM 2.0 §4.9: dateTimeStamp
    subject: dict[str, Any] = {"id": f"{list_url}#list", "type": LIST_TYPE, "statusPurpose": purpose,
                               "encodedList": encode_list(bits)}
    if ttl_ms is not None:
        if not _int_in(ttl_ms, 0):
            raise UsageError("ttl must be a non-negative number of milliseconds")
        subject["ttl"] = ttl_ms  # §2.2 credentialSubject.ttl
    credential: dict[str, Any] = {"@context": [STATUS_CONTEXT], "id": list_url,
                                  "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE], "issuer": issuer,
                                  "validFrom": valid_from}
    if valid_until is not None:
        parse_datetime(valid_until, name="validUntil")
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = subject
    return credential


# --- §2.1: parsing an entry ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ParsedEntry:
    """A validated ``BitstringStatusListEntry``; ``messages[v]`` is the message of status value ``v``."""

    list_url: str
    index: int
    purpose: str
    size: int
    messages: tuple[str, ...]
    pointer: str = "credentialStatus"


def _pointer_of(entry: Mapping[str, Any], credential: Mapping[str, Any] | None) -> str:
    # JSON pointer of the entry inside the credential, so errors name e.g. credentialStatus/1/statusListIndex
    status = credential.get("credentialStatus") if credential is not None else None
    positions = [i for i, item in enumerate(status) if item == entry] if isinstance(status, list) else []
    return f"credentialStatus/{positions[0]}" if positions else "credentialStatus"


def _parse_messages(value: Any, size: int, pointer: str) -> tuple[str, ...]:
    # §2.1 statusMessage: an array of 2^statusSize objects, each with a "0x"-hex string status and a string message
    count = len(value) if isinstance(value, list) else 0
    if count == 0 or count & (count - 1) or count.bit_length() - 1 != size:
        raise MalformedValueError(f"statusMessage must be an array of 2^statusSize = 2^{size} objects",
                                  pointer=pointer)
    messages: dict[int, str] = {}
    for i, item in enumerate(value):
        status_text = item.get("status") if isinstance(item, Mapping) else None
        hexval = _HEX_STATUS.fullmatch(status_text) if isinstance(status_text, str) else None
        if hexval is None or not isinstance(item.get("message"), str):
            raise MalformedValueError("each statusMessage needs a '0x' hex status and a string message",
                                      pointer=f"{pointer}/{i}")
        status = int(hexval.group(1), 16)
        if status >= count or status in messages:
            raise MalformedValueError(f"statusMessage status {item['status']} is out of range or repeated",
                                      pointer=f"{pointer}/{i}/status")
        messages[status] = item["message"]
    return tuple(messages[v] for v in range(count))


def check_entry(entry: Mapping[str, Any], credential: Mapping[str, Any] | None = None) -> ParsedEntry:
    """Validate one §2.1 ``BitstringStatusListEntry`` (``credential``, when given, locates it for error pointers).

    A type other than ``BitstringStatusListEntry`` raises :class:`StatusVerificationError` (this checker cannot
    validate it); every malformed property raises :class:`MalformedValueError` (§3 preamble) naming its pointer.
    """
    base = _pointer_of(entry, credential)
    if not isinstance(entry, Mapping):
        raise MalformedValueError("a credentialStatus entry must be an object", pointer=base)
    if ENTRY_TYPE not in as_list(entry.get("type")):
        raise StatusVerificationError(f"credentialStatus type must be {ENTRY_TYPE}", pointer=f"{base}/type",
                                      code="UNSUPPORTED_STATUS_TYPE")
    purpose = entry.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:  # §2.1: MUST be a string
        raise MalformedValueError("statusPurpose must be a string", pointer=f"{base}/statusPurpose")
    raw_index = entry.get("statusListIndex")
    # §2.1: an integer >= 0 expressed as a base-10 string (ASCII digits only: no sign, space, '_' or other scripts)
    if not isinstance(raw_index, str) or not _DIGITS.fullmatch(raw_index):
        raise MalformedValueError("statusListIndex must be a base-10 string of a non-negative integer",
                                  pointer=f"{base}/statusListIndex")
    if len(raw_index.lstrip("0")) > _MAX_INDEX_DIGITS:
        raise StatusRangeError("statusListIndex is beyond any status list", pointer=f"{base}/statusListIndex")
    list_url = entry.get("statusListCredential")
    if not isinstance(list_url, str) or not is_url(list_url):  # §2.1: MUST be a URL
        raise MalformedValueError("statusListCredential must be a URL", pointer=f"{base}/statusListCredential")
    if "id" in entry and (not is_url(entry["id"]) or entry["id"] == list_url):
        raise MalformedValueError("the entry id must be a URL other than the status list's", pointer=f"{base}/id")
    refs = as_list(entry.get("statusReference"))
    if "statusReference" in entry and (not refs or not all(is_url(r) for r in refs)):
        raise MalformedValueError("statusReference must be a URL or an array of URLs",
                                  pointer=f"{base}/statusReference")
    size = entry.get("statusSize", 1)  # §2.1: absent means 1; if present, an integer greater than zero
    if not _int_in(size, 1):
        raise MalformedValueError("statusSize must be an integer greater than zero", pointer=f"{base}/statusSize")
    if "statusMessage" in entry:
        messages = _parse_messages(entry["statusMessage"], size, f"{base}/statusMessage")
    elif size > 1:  # §2.1: statusMessage MUST be present when statusSize > 1
        raise MalformedValueError("statusMessage is required when statusSize > 1", pointer=f"{base}/statusMessage")
    else:
        messages = _DEFAULT_MESSAGES
    return ParsedEntry(list_url=list_url, index=int(raw_index), purpose=purpose, size=size, messages=messages,
                       pointer=base)


# --- §3.2: validating against a retrieved, proof-checked list credential ------------------------------------

@dataclass(frozen=True)
class StatusOutcome:
    """§3.2 steps 11-15: the result map (``message`` only for the ``message`` purpose)."""

    purpose: str
    index: int
    status: int
    valid: bool
    message: str | None = None


def _check_list_credential(entry: ParsedEntry, doc: Mapping[str, Any]) -> Mapping[str, Any]:
    # §2.1 statusListCredential / §2.2 type: the dereferenced credential is a BitstringStatusListCredential
    if LIST_CREDENTIAL_TYPE not in as_list(doc.get("type")):
        raise StatusVerificationError(f"{entry.list_url} is not a {LIST_CREDENTIAL_TYPE}", pointer="type")
    subjects = as_list(doc.get("credentialSubject"))
    if len(subjects) != 1 or not isinstance(subjects[0], Mapping):
        raise StatusVerificationError("a status list credential has exactly one credentialSubject",
                                      pointer="credentialSubject")
    subject: Mapping[str, Any] = subjects[0]
    if LIST_TYPE not in as_list(subject.get("type")):  # §2.2 credentialSubject.type MUST be BitstringStatusList
        raise StatusVerificationError(f"credentialSubject type must be {LIST_TYPE}", pointer="credentialSubject/type")
    purposes = as_list(subject.get("statusPurpose"))  # §2.2: one or more strings
    if not purposes or not all(isinstance(p, str) for p in purposes):
        raise MalformedValueError("credentialSubject.statusPurpose must be one or more strings",
                                  pointer="credentialSubject/statusPurpose")
    if entry.purpose not in purposes:  # §3.2 step 5
        raise StatusVerificationError(f"the status list's purposes {purposes} do not include {entry.purpose!r}",
                                      pointer="credentialSubject/statusPurpose", code="STATUS_PURPOSE_MISMATCH")
    return subject


def _check_period(doc: Mapping[str, Any], now: datetime) -> None:
    # §2.2 validFrom/validUntil (VCDM 2.0 §4.9): the status list is only valid inside its validity period
    if now.tzinfo is None:
        raise UsageError("now must be an aware datetime")
    if "validFrom" in doc and now < parse_datetime(doc["validFrom"], name="validFrom"):
        raise StatusVerificationError(f"the status list is not valid before {doc['validFrom']}",
                                      pointer="validFrom", code="STATUS_LIST_NOT_YET_VALID")
    if "validUntil" in doc and now > parse_datetime(doc["validUntil"], name="validUntil"):
        raise StatusVerificationError(f"the status list expired at {doc['validUntil']}", pointer="validUntil",
                                      code="STATUS_LIST_EXPIRED")


def evaluate(entry: ParsedEntry, list_credential: Mapping[str, Any], *, now: datetime | None = None,
             min_entries: int = MIN_ENTRIES, decode: Callable[[str], bytes] | None = None) -> StatusOutcome:
    """§3.2 steps 5-15 on a list credential the caller has already retrieved and proof-checked (steps 1-4).

    ``now`` (aware) checks the list's validity period; ``min_entries`` is step 2's lower bound; ``decode`` may be a
    caching wrapper around :func:`decode_list` (called with ``encodedList``; it need not check the length).
    """
    subject = _check_list_credential(entry, list_credential)
    if now is not None:
        _check_period(list_credential, now)
    encoded = subject.get("encodedList")  # step 6
    if not isinstance(encoded, str):  # §2.2 encodedList MUST be a multibase string
        raise MalformedValueError("encodedList must be a string", pointer="credentialSubject/encodedList")
    bits = decode(encoded) if decode is not None else decode_list(encoded, min_bits=0)  # step 8 (§3.4)
    if len(bits) * 8 < min_entries * entry.size:  # step 9: length / statusSize < minimumNumberOfEntries
        raise StatusListLengthError(f"the status list holds {len(bits) * 8 // entry.size} entries of "
                                    f"{entry.size} bit(s), fewer than {min_entries}",
                                    pointer="credentialSubject/encodedList")
    status = get_status(bits, entry.index, entry.size)  # step 10 (RANGE_ERROR when outside)
    message = entry.messages[status] if entry.purpose == "message" else None  # step 14
    return StatusOutcome(purpose=entry.purpose, index=entry.index, status=status, valid=status == 0,
                         message=message)  # steps 11-13


_FAILING = {"revocation": "REVOKED", "suspension": "SUSPENDED"}
_INFORMATIVE = frozenset({"refresh", "message"})  # §2.1: refresh does not invalidate; message is informative


def require_list_verified(url: str, problem_codes: Sequence[str]) -> None:
    """Bitstring Status List §3.2 step 4: the status list credential at ``url`` verifies itself (proofs and
    validity period), i.e. its verification gave no ``problem_codes``; else ``StatusVerificationError``."""
    if problem_codes:
        codes = ", ".join(dict.fromkeys(problem_codes))
        raise StatusVerificationError(f"the status list credential {url} does not verify ({codes})")


def require_list_issuer(url: str, list_credential: Mapping[str, Any], credential: Mapping[str, Any]) -> None:
    """Chopmark policy, for every verifier here: a status list counts only when the credential's own issuer
    issued it; else ``StatusVerificationError`` naming the list."""
    if issuer_id(list_credential) != issuer_id(credential):
        raise StatusVerificationError(f"the status list {url} was issued by another issuer than the credential")


def status_checker(fetch: Callable[[str], Mapping[str, Any]], *, now: datetime | None = None,
                   min_entries: int = MIN_ENTRIES, decode: Callable[[str], bytes] | None = None) -> StatusChecker:
    """The ``status_checker`` hook for :func:`chopmark.vc.credentials.verify_credential`.

    ``fetch(url)`` dereferences the status list credential AND verifies its proofs and issuer (§3.2 step 4),
    raising :class:`ChopmarkError` subclasses, which propagate; any other exception becomes
    :class:`StatusRetrievalError`. A set status raises :class:`CredentialStatusSet` (``REVOKED``, ``SUSPENDED``,
    or ``STATUS_SET`` for purposes of unknown meaning); ``refresh`` and ``message`` only report. Fails closed.
    """

    def check(entry: Mapping[str, Any], credential: Mapping[str, Any]) -> Mapping[str, Any]:
        parsed = check_entry(entry, credential)
        try:
            document = fetch(parsed.list_url)
        except ChopmarkError:
            raise
        except Exception as exc:  # §3.2 step 4: the dereference failed
            raise StatusRetrievalError(f"could not retrieve {parsed.list_url}: {exc}",
                                       pointer=f"{parsed.pointer}/statusListCredential") from exc
        if not isinstance(document, Mapping):
            raise StatusRetrievalError(f"{parsed.list_url} did not yield a credential",
                                       pointer=f"{parsed.pointer}/statusListCredential")
        try:
            outcome = evaluate(parsed, document, now=now, min_entries=min_entries, decode=decode)
        except ChopmarkError:
            raise
        except Exception as exc:  # fail closed on anything unexpected in the list credential
            raise StatusVerificationError(f"could not validate {parsed.list_url}: {exc!r}",
                                          pointer=parsed.pointer) from exc
        details: dict[str, Any] = {"purpose": outcome.purpose, "index": outcome.index,
                                   "listCredential": parsed.list_url, "status": outcome.status,
                                   "valid": outcome.valid}
        if outcome.message is not None:
            details["message"] = outcome.message
        if outcome.status != 0 and outcome.purpose not in _INFORMATIVE:
            code = _FAILING.get(outcome.purpose, "STATUS_SET")
            raise CredentialStatusSet(f"status {outcome.status} is set for purpose {outcome.purpose!r} in "
                                      f"{parsed.list_url} at index {outcome.index}", pointer=parsed.pointer,
                                      code=code, **details)
        return details

    return check
