"""Bitstring Status Lists (W3C Bitstring Status List 1.0) per issuer and purpose, on the shared store.

* Each list has 131,072 entries (§6.1 "herd privacy" minimum, 16 KB uncompressed) and its bits in the store
  (``SETBIT`` on Redis), so a flip is one atomic write and the served credential reflects it at once.
* Indexes are allocated at random and never reused, also under concurrency and after a crash: an atomic
  counter numbers the allocations of a list and a keyed pseudo-random permutation
  (:class:`chopmark.vc.statuslist.IndexPermutation`) maps allocation ``n`` to its index. A counter value that was
  taken by a request that then crashed is simply skipped; no index is ever handed out twice.
* A ``revocation`` bit, once set, is never cleared (§2.1: revocation "is not reversible"); suspension bits are.
* When a list fills, the next one is created and chained from the full list with compare-and-set, so
  concurrent requests agree on one successor.
* The served ``BitstringStatusListCredential`` (§3.4) is signed by the issuer, re-signed only when the bits
  change (cached per process by the digest of the bits) and carries a weak ``ETag`` of that digest.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chopmark.codecs.dates import format_datetime
from chopmark.errors import BadRequest, Conflict, NotFound, RevocationPermanent
from chopmark.jsonld import DocumentLoader
from chopmark.store import Store
from chopmark.store.records import create_json, get_json, update_json
from chopmark.vc import statuslist
from chopmark.vc.credentials import issue
from registry.issuers import PURPOSES, Issuers

NS_META = "slist"
NS_BITS = "slist-bits"
NS_ALLOC = "slist-alloc"
NS_CURRENT = "slist-current"
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
#: Bitstring Status List 1.0 §2.1: a ``revocation`` "status is not reversible"; its bits are only ever set.
PERMANENT_PURPOSES = frozenset({"revocation"})


@dataclass(frozen=True)
class Served:
    """A signed status list credential as served, with its validator."""

    credential: dict[str, Any]
    etag: str
    digest: str


class StatusLists:
    """Create lists, allocate indexes, flip bits and serve signed status list credentials."""

    def __init__(self, store: Store, issuers: Issuers, *, public_url: str, rng: Callable[[int], bytes],
                 clock: Callable[[], datetime], loader: DocumentLoader,
                 size: int = statuslist.MIN_ENTRIES) -> None:
        """``public_url``: the service's base URL (list URLs are ``<public_url>/status-lists/<id>``)."""
        self._store = store
        self._issuers = issuers
        self._base = public_url.rstrip("/") + "/status-lists/"
        self._rng = rng
        self._clock = clock
        self._loader = loader
        self._size = size
        self._served: dict[str, Served] = {}
        self._permutations: dict[tuple[str, str], statuslist.IndexPermutation] = {}
        self._records: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def url_for(self, list_id: str) -> str:
        """The public URL of a list."""
        return self._base + list_id

    def id_for_url(self, url: str) -> str | None:
        """The list id when ``url`` is one of this service's list URLs, else None."""
        if url.startswith(self._base):
            candidate = url[len(self._base):]
            if ID_RE.fullmatch(candidate):
                return candidate
        return None

    def record(self, list_id: str) -> dict[str, Any]:
        """The list's metadata (NotFound when absent)."""
        record = get_json(self._store, NS_META, list_id) if ID_RE.fullmatch(list_id) else None
        if record is None:
            raise NotFound(f"no status list {list_id!r}", code="STATUS_LIST_NOT_FOUND")
        return dict(record)

    def metadata(self, list_id: str) -> dict[str, Any]:
        """The immutable part of a list's metadata (id, issuer, purpose, size, url, permutation key), cached per
        process: a list never changes these, so hot paths (allocation, status checks, flips) skip the store read."""
        with self._lock:
            cached = self._records.get(list_id)
        if cached is None:
            record = self.record(list_id)
            cached = {k: record[k] for k in ("id", "issuer", "purpose", "size", "url", "permutationKey")}
            with self._lock:
                if len(self._records) >= 4096:
                    self._records.clear()
                self._records[list_id] = cached
        return cached

    def create(self, issuer: str, purpose: str, *, list_id: str | None = None,
               make_current: bool = True) -> dict[str, Any]:
        """Create a list for ``issuer`` and ``purpose``; it becomes the list new credentials use."""
        if purpose not in PURPOSES:
            raise BadRequest(f"statusPurpose must be one of {', '.join(PURPOSES)}, got {purpose!r}",
                             code="INVALID_STATUS_PURPOSE")
        self._issuers.get(issuer)
        chosen = list_id or f"{issuer}.{purpose}.{self._rng(8).hex()}"
        if not ID_RE.fullmatch(chosen):
            raise BadRequest(f"invalid status list id {chosen!r}", code="INVALID_STATUS_LIST_ID")
        record = {"id": chosen, "issuer": issuer, "purpose": purpose, "size": self._size,
                  "permutationKey": self._rng(32).hex(), "created": format_datetime(self._clock()),
                  "url": self.url_for(chosen)}
        if not create_json(self._store, NS_META, chosen, record):
            raise Conflict(f"status list {chosen!r} already exists", code="STATUS_LIST_EXISTS")
        if make_current:
            self._store.put(NS_CURRENT, f"{issuer}.{purpose}", chosen.encode())
        return record

    def current(self, issuer: str, purpose: str) -> dict[str, Any]:
        """The list new credentials of ``issuer`` get for ``purpose`` (created on first use)."""
        pointer = self._store.get(NS_CURRENT, f"{issuer}.{purpose}")
        if pointer is not None:
            return self.metadata(pointer.decode())
        fresh = self.create(issuer, purpose, make_current=False)
        if self._store.compare_and_set(NS_CURRENT, f"{issuer}.{purpose}", None, fresh["id"].encode()):
            return fresh
        self._store.delete(NS_META, fresh["id"])  # another request won the race; nothing points to ours
        return self.current(issuer, purpose)

    def allocate(self, issuer: str, purpose: str) -> tuple[dict[str, Any], int]:
        """Allocate a fresh, never-used index (at random) in the issuer's current list for ``purpose``."""
        record = self.current(issuer, purpose)
        for _ in range(1000):
            taken = self._store.incr(NS_ALLOC, record["id"])
            if taken <= record["size"]:
                return record, self._permutation(record).index(taken - 1)
            record = self._successor(record)
        raise Conflict("could not allocate a status index", code="STATUS_ALLOCATION_FAILED")

    def _permutation(self, record: dict[str, Any]) -> statuslist.IndexPermutation:
        """The list's permutation, built once per process (building precomputes its round tables)."""
        key = (record["id"], record["permutationKey"])
        with self._lock:
            permutation = self._permutations.get(key)
        if permutation is None:
            permutation = statuslist.IndexPermutation(bytes.fromhex(record["permutationKey"]), record["size"])
            with self._lock:
                if len(self._permutations) >= 64:
                    self._permutations.clear()
                self._permutations[key] = permutation
        return permutation

    def _successor(self, full: dict[str, Any]) -> dict[str, Any]:
        """The list after ``full``: created once and chained by compare-and-set, so racers agree."""
        nxt = self.record(full["id"]).get("next")
        if nxt is None:
            candidate = self.create(full["issuer"], full["purpose"], make_current=False)

            def chain(meta: dict[str, Any] | None) -> dict[str, Any]:
                if meta is None:  # lists are never deleted; a missing one means the store lost data
                    raise NotFound(f"status list {full['id']!r} vanished", code="STATUS_LIST_NOT_FOUND")
                meta.setdefault("next", candidate["id"])
                return meta

            nxt = update_json(self._store, NS_META, full["id"], chain)["next"]
            if nxt != candidate["id"]:
                self._store.delete(NS_META, candidate["id"])
        key = f"{full['issuer']}.{full['purpose']}"
        self._store.compare_and_set(NS_CURRENT, key, full["id"].encode(), nxt.encode())
        return self.record(nxt)

    def set(self, list_id: str, index: int, value: bool) -> bool:
        """Set or clear one status bit atomically; returns the previous value.

        A ``revocation`` bit is never cleared (Bitstring Status List 1.0 §2.1, ``statusPurpose`` "revocation":
        "This status is not reversible"): clearing a set one raises :class:`RevocationPermanent`, clearing an
        unset one writes nothing and returns False. Every other purpose (suspension) may be cleared."""
        record = self.metadata(list_id)
        if not 0 <= index < record["size"]:
            raise BadRequest(f"index {index} is outside list {list_id}", code="INDEX_OUT_OF_RANGE")
        if not value and record["purpose"] in PERMANENT_PURPOSES:
            if self._store.get_bit(NS_BITS, list_id, index):
                raise RevocationPermanent(f"index {index} of {record['purpose']} list {list_id} is set, and a "
                                          f"{record['purpose']} cannot be undone (Bitstring Status List 1.0 §2.1); "
                                          "issue a new credential instead", pointer="/status")
            return False  # never a write that clears: a concurrent revocation cannot be lost
        return self._store.set_bit(NS_BITS, list_id, index, value)

    def get(self, list_id: str, index: int) -> bool:
        """One status bit, read from the store (no caching)."""
        return self._store.get_bit(NS_BITS, list_id, index)

    def bits(self, list_id: str) -> bytes:
        """The whole bitstring of a list as it is now (bit 0 = most significant bit of byte 0)."""
        return self._store.get_bits(NS_BITS, list_id, self.metadata(list_id)["size"] // 8)

    def serve(self, list_id: str) -> Served:
        """The signed status list credential reflecting the bits as they are now."""
        record = self.metadata(list_id)
        bits = self.bits(list_id)
        digest = hashlib.sha256(bits).hexdigest()[:32]
        with self._lock:
            cached = self._served.get(list_id)
        if cached is not None and cached.digest == digest:
            return cached
        unsigned = statuslist.status_list_credential(
            record["url"], self._issuers.did_for(record["issuer"]), record["purpose"], bits,
            valid_from=format_datetime(self._clock()))
        issuer = self._issuers.get(record["issuer"])
        signer, _ = self._issuers.signer(record["issuer"], issuer["defaultSuite"])
        signed = issue(unsigned, signer, suite=issuer["defaultSuite"], loader=self._loader,
                       created=unsigned["validFrom"])
        served = Served(signed, f'W/"{digest}"', digest)
        with self._lock:
            self._served[list_id] = served
        return served
