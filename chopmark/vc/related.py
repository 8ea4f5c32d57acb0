"""Integrity of related resources (VC Data Model 2.0 §5.3): each ``relatedResource`` carries ``digestSRI``
and/or ``digestMultibase``; the digests are computed over the resource as this service can obtain it and
compared.

The kernel never fetches: a :data:`ResourceLookup` (injected) returns the revisions of a resource the caller can
obtain without the network: the pinned JSON-LD contexts, the service's own documents, documents the caller
supplies. A resource no lookup knows is reported as not checked, never as passed.

Formats:

* ``digestSRI``: Subresource Integrity §3.5 ``hash-expression`` (``sha256|sha384|sha512 "-" base64``), one or
  more separated by whitespace; per SRI §3.3.4 only the strongest algorithm present is compared, and a token
  of an unknown algorithm is ignored (§3.3.3).
* ``digestMultibase``: Data Integrity 1.0 §2.6, a string or list of strings, each a multibase-encoded multihash
  (sha2-256 0x12, sha2-384 0x20, sha2-512 0x13, sha3-256 0x16, sha3-384 0x15, sha3-512 0x14). A bare SHA-2
  digest without the multihash header (as the W3C VCDM 2.0 test suite's fixtures carry) is compared too: its
  length names the algorithm, and equality with a computed digest cannot happen by accident.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chopmark.codecs import multibase
from chopmark.errors import ChopmarkError, MalformedValueError, RangeError, UnknownContextError
from chopmark.integrity.checks import CheckResult
from chopmark.jsonld.loader import pinned_bytes
from chopmark.jsonld.values import as_list

CHECK = "relatedResource"
_HASHES: Mapping[str, Callable[[bytes], Any]] = {
    "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512,
    "sha3-256": hashlib.sha3_256, "sha3-384": hashlib.sha3_384, "sha3-512": hashlib.sha3_512,
}
#: SRI §3.2: the hash functions user agents must support, weakest first (§3.3.4 picks the strongest).
_SRI_ORDER = ("sha256", "sha384", "sha512")
#: Multihash codes (multicodec table) of the algorithms Data Integrity §2.6 allows.
_MULTIHASH = {0x12: "sha256", 0x20: "sha384", 0x13: "sha512", 0x16: "sha3-256", 0x15: "sha3-384", 0x14: "sha3-512"}
_BARE = {32: "sha256", 48: "sha384", 64: "sha512"}
# SRI §3.5: hash-algo "-" base64-value ["?" option-expression]; base64-value per CSP (standard alphabet, padded)
_SRI_TOKEN = re.compile(r"^([A-Za-z0-9]+)-([A-Za-z0-9+/]+={0,2})(\?.*)?$")


@dataclass(frozen=True)
class Revision:
    """One revision of a resource, known by its digests (algorithm name -> raw digest) and where it comes from."""

    source: str
    digests: Mapping[str, bytes]

    @classmethod
    def of(cls, content: bytes, source: str) -> Revision:
        """The revision whose bytes are ``content`` (every supported digest computed)."""
        return cls(source, {name: fn(content).digest() for name, fn in _HASHES.items()})

    @classmethod
    def known(cls, source: str, **hex_digests: str) -> Revision:
        """A revision known only by its digests (hex), e.g. an earlier published revision of a context."""
        return cls(source, {name.replace("_", "-"): bytes.fromhex(v) for name, v in hex_digests.items()})


#: ``lookup(url) -> revisions``: every revision of ``url`` the caller can obtain without the network (empty:
#: none, the resource cannot be checked).
ResourceLookup = Callable[[str], Sequence[Revision]]

_V2 = "https://www.w3.org/ns/credentials/v2"
_W3C_GIT = "w3c/vc-data-model git, contexts/credentials/v2 at "
#: Revisions of pinned contexts that were published at their URL but differ from the pinned bytes (the W3C
#: serves the bytes of its git repository; the pinned file comes from npm and differs in whitespace). Credentials
#: issued while a revision was live carry its digests. Computed from ``git show <commit>:contexts/credentials/v2``.
PUBLISHED: Mapping[str, tuple[Revision, ...]] = {
    _V2: (
        Revision.known(_W3C_GIT + "8d0ee107 (2024-07-20)",
                       sha256="24a18c90e9856d526111f29376e302d970b2bd10182e33959995b0207d7043b9",
                       sha384="35239c36999d2155312091af194a1edb61634d6ad789a5e5b19f2aebdd762dd9"
                              "d1dcaada40eda7ef921c6b8c0ae107a0",
                       sha512="cb1336dfa8670d80d03344b3b0cc25faf4d45201823c35f39bb1afe5a9f911f6"
                              "15ff4ec80ec5f2f89e33d14e96bec8be78e38df35b918c9cd5f3b3449bd6c88f"),
        Revision.known(_W3C_GIT + "b4d990ee (2025-02-24)",
                       sha256="38a45430b8127b45a5eff5c0045fa01b8a743e982f82a382a57e50a474e50156",
                       sha384="067581be60d63234a3f2e56750f9c0125285b81ed04483169e5e6329a279abb0"
                              "fd29b81c230fe7f60de20d0c3b9e9512",
                       sha512="04d39f14e912042b143f1063932ebd3d3399e2828b2265cfb60797a2379212336"
                              "ca1ce8947e342cebbb729cfce01d1e870dbd81f1d9ffec4ca18270d8424c8c8"),
        Revision.known(_W3C_GIT + "08b83e46 (2025-02-24, the Recommendation's)",
                       sha256="59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
                       sha384="97f1eb8e5042356c805fdd61afa2c557663785e0794dcafa21e138fd38def18c"
                              "b360133c221aa31d6896a6bf3e65b614",
                       sha512="5d55452bd2dcf8a29f5a290473eb242b1c5fb77d4e68f1a0aa87baa4dba26948"
                              "52d65ec63d48ac04a99d956f9f7153b9406f84d2d04c74869b02c239a1d81305"),
    ),
}


@functools.lru_cache(maxsize=64)
def pinned_revisions(url: str) -> tuple[Revision, ...]:
    """The revisions of ``url`` known without the network: the pinned context file and its published
    revisions (:data:`PUBLISHED`); empty for any other URL."""
    try:
        pinned: tuple[Revision, ...] = (Revision.of(pinned_bytes(url), "pinned context"),)
    except (UnknownContextError, KeyError, OSError):
        pinned = ()
    return pinned + PUBLISHED.get(url, ())


def lookup_with(documents: Mapping[str, bytes], fallback: ResourceLookup | None = pinned_revisions
                ) -> ResourceLookup:
    """A lookup serving ``documents`` (url -> bytes, e.g. supplied by the caller), then ``fallback``."""
    def lookup(url: str) -> Sequence[Revision]:
        own = (Revision.of(documents[url], "supplied"),) if url in documents else ()
        return own + tuple(fallback(url) if fallback is not None else ())
    return lookup


# --- parsing ----------------------------------------------------------------------------------------------------

def _sri_digests(value: Any, where: str) -> list[tuple[str, bytes]]:
    """The digests of a ``digestSRI`` to compare (the strongest algorithm's); raises when malformed."""
    if not isinstance(value, str) or not value.split():
        raise MalformedValueError(f"{where} must be an SRI hash expression string", pointer=where)
    found: list[tuple[str, bytes]] = []
    for token in value.split():
        match = _SRI_TOKEN.match(token)
        if match is None:
            raise MalformedValueError(f"{where}: {token[:80]!r} is not an SRI hash expression (alg-base64)",
                                      pointer=where)
        if match.group(1) not in _SRI_ORDER:
            continue  # SRI §3.3.3: tokens of an unknown algorithm are ignored
        try:
            raw = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            raise MalformedValueError(f"{where}: invalid base64 in {token[:80]!r}", pointer=where) from None
        if len(raw) != hashlib.new(match.group(1)).digest_size:
            raise MalformedValueError(f"{where}: wrong digest length for {match.group(1)}", pointer=where)
        found.append((match.group(1), raw))
    if not found:
        return []
    strongest = max(_SRI_ORDER.index(alg) for alg, _ in found)  # SRI §3.3.4 "get the strongest metadata"
    return [(alg, raw) for alg, raw in found if _SRI_ORDER.index(alg) == strongest]


def _multibase_digest(value: Any, where: str) -> tuple[str, bytes] | None:
    """One ``digestMultibase`` value as (algorithm, digest); None for a well-formed multihash of an algorithm
    this service does not compute; raises when malformed."""
    if not isinstance(value, str):
        raise MalformedValueError(f"{where} must be a multibase string", pointer=where)
    try:
        raw = multibase.decode(value)
    except ChopmarkError:
        raise MalformedValueError(f"{where} is not a valid multibase value", pointer=where) from None
    try:
        code, used = multibase.varint_decode(raw)
        length, used2 = multibase.varint_decode(raw[used:])
        digest = raw[used + used2:]
    except ChopmarkError:
        code, length, digest = -1, -1, b""
    if len(digest) == length and length > 0:  # a multihash (Data Integrity §2.6)
        name = _MULTIHASH.get(code)
        if name is not None and len(digest) == hashlib.new(name.replace("-", "_")).digest_size:
            return name, digest
        if name is None and len(raw) not in _BARE:
            return None
    if len(raw) in _BARE:  # a bare SHA-2 digest, no multihash header
        return _BARE[len(raw)], raw
    raise MalformedValueError(f"{where} is neither a multihash nor a SHA-2 digest", pointer=where)


def _expected(item: Mapping[str, Any], where: str) -> tuple[list[list[tuple[str, bytes]]], bool]:
    """The digest groups of one related resource (each group must match: SRI alternatives are one group) and
    whether some digest could not be computed here."""
    groups: list[list[tuple[str, bytes]]] = []
    uncomputable = False
    if "digestSRI" in item:
        sri = _sri_digests(item["digestSRI"], f"{where}/digestSRI")
        uncomputable |= not sri
        if sri:
            groups.append(sri)
    if "digestMultibase" in item:
        values = as_list(item["digestMultibase"])
        if not values:
            raise MalformedValueError(f"{where}/digestMultibase must not be empty", pointer=f"{where}/digestMultibase")
        for index, value in enumerate(values):
            pointer = f"{where}/digestMultibase" + (f"/{index}" if isinstance(item["digestMultibase"], list) else "")
            digest = _multibase_digest(value, pointer)
            uncomputable |= digest is None
            if digest is not None:
                groups.append([digest])
    return groups, uncomputable


def _entries(document: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    value = document.get("relatedResource")
    for index, item in enumerate(as_list(value)):
        yield ("relatedResource" if not isinstance(value, list) else f"relatedResource/{index}"), item


def digest_syntax_errors(document: Mapping[str, Any]) -> list[ChopmarkError]:
    """§5.3 digest formats of every related resource (used by the data-model rules, at issue and verify)."""
    errors: list[ChopmarkError] = []
    for where, item in _entries(document):
        if isinstance(item, Mapping):
            try:
                _expected(item, where)
            except ChopmarkError as exc:
                errors.append(exc)
    return errors


# --- checking ---------------------------------------------------------------------------------------------------

def _matches(revision: Revision, groups: list[list[tuple[str, bytes]]]) -> bool:
    return all(any(revision.digests.get(alg) == raw for alg, raw in group) for group in groups)


def related_errors(document: Mapping[str, Any], lookup: ResourceLookup
                   ) -> tuple[list[ChopmarkError], list[str], list[str]]:
    """Compare every related resource of ``document`` with the revisions ``lookup`` can obtain.

    Returns the errors (``DIGEST_MISMATCH`` when no obtainable revision matches every digest a resource names;
    malformed digests are left to the data-model rules), the ids checked, and the ids not checked: not
    obtainable here, or named only by digests of algorithms this service does not compute.
    """
    errors: list[ChopmarkError] = []
    checked: list[str] = []
    unchecked: list[str] = []
    for where, item in _entries(document):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            continue  # the data-model check reports it
        try:
            groups, uncomputable = _expected(item, where)
        except ChopmarkError:
            continue  # a malformed digest: the data-model check reports it (digest_syntax_errors)
        revisions = lookup(item["id"])
        if not revisions or not groups:
            unchecked.append(item["id"])
            continue
        if uncomputable:
            unchecked.append(item["id"])
        checked.append(item["id"])
        # §5.3: "If the digest provided by the issuer does not match the digest computed for the retrieved
        # resource, the conforming verifier implementation MUST produce an error."
        if not any(_matches(r, groups) for r in revisions):
            errors.append(RangeError(
                f"the digest of {item['id'][:200]} does not match the resource ({len(revisions)} known "
                "revision(s) compared)", pointer=where, code="DIGEST_MISMATCH"))
    return errors, checked, unchecked


def check_related(document: Mapping[str, Any], lookup: ResourceLookup) -> tuple[CheckResult | None, list[str]]:
    """The ``relatedResource`` check (None when no resource could be checked) and the ids not checked."""
    errors, checked, unchecked = related_errors(document, lookup)
    if errors:
        return CheckResult.failed(CHECK, errors, checked=checked), unchecked
    return (CheckResult.ok(CHECK, checked=checked) if checked else None), unchecked
