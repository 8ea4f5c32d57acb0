"""Where a verifier learns which issuers the ecosystem trusts: the trust registry's signed trust list.

:class:`TrustLookup` is what KYB issuance and site onboarding ask. Two sources implement it:

- :class:`LocalTrust`: the trust registry runs in this service; its current list is read from the store on each
  decision (one small read), so a suspension takes effect at once.
- :class:`RemoteTrust`: the registry runs elsewhere; its signed ``TrustListCredential`` is fetched through the
  SSRF-safe fetcher at most once per ``refresh_seconds``, verified against the registry's DID, and kept (in
  memory, and in the store so that every worker and a restarted service share it). When the registry is down
  the last verified copy is used until its own ``validUntil`` passes (the list is signed, so a copy is as good as
  the original until then); after that every decision fails closed with the reason ``trust-list-unavailable``.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chopmark import trust
from chopmark.codecs.dates import format_datetime, parse_datetime
from chopmark.dids.resolver import Resolver
from chopmark.dids.web import loads_strict_json
from chopmark.errors import ChopmarkError, StatusRetrievalError
from chopmark.jsonld import DocumentLoader
from chopmark.jsonld.values import as_list
from chopmark.net.fetch import Fetched
from chopmark.store import Store
from chopmark.store.records import get_json, update_json
from chopmark.trust import TrustDecision
from chopmark.vocab import TRUST_LIST, credential_schema
from chopmark.vocab.schema import check_schemas

#: The decision reason when no usable trust list is available (registry unreachable, no unexpired copy).
UNAVAILABLE = "trust-list-unavailable"
#: Store namespace of the last verified remote trust list (one record per registry URL and DID).
NS_REMOTE_TRUST = "remote-trust"


class TrustLookup(Protocol):
    """Is ``entity_id`` allowed to ``action`` ``resource`` (for ``jurisdiction``) at ``at``? And who is a member?"""

    def decide(self, entity_id: str, action: str, resource: str, *, at: datetime,
               jurisdiction: str | None = None) -> TrustDecision:
        """The trust registry's answer; never raises for an unknown entity (absence means not authorized)."""

    def member(self, did: str) -> Mapping[str, Any] | None:
        """The active member entry of ``did`` (a marketplace site), or None."""


class LocalTrust:
    """Decisions over the trust list subject of the registry running in this service."""

    def __init__(self, subject: Callable[[], Mapping[str, Any]]) -> None:
        """``subject()`` returns the current trust list's ``credentialSubject``."""
        self._subject = subject

    def decide(self, entity_id: str, action: str, resource: str, *, at: datetime,
               jurisdiction: str | None = None) -> TrustDecision:
        """See :class:`TrustLookup`."""
        return trust.evaluate(self._subject(), entity_id, action, resource, at=at, jurisdiction=jurisdiction)

    def member(self, did: str) -> Mapping[str, Any] | None:
        """See :class:`TrustLookup`."""
        return trust.member(self._subject(), did, active_only=True)


class Fetch(Protocol):
    """The SSRF-safe fetcher's shape (:class:`chopmark.net.fetch.SafeFetcher`)."""

    def fetch(self, url: str, *, etag: str | None = None) -> Fetched:
        """GET ``url``."""


@dataclass(frozen=True)
class _Snapshot:
    """A verified trust list: its subject (never changed once built) and validity period."""

    subject: Mapping[str, Any]
    valid_from: datetime
    valid_until: datetime

    def usable(self, now: datetime) -> bool:
        # The copy counts only inside its own validity period, validUntil included, with no grace after it.
        return self.valid_from <= now <= self.valid_until

    def newer_than(self, other: _Snapshot | None) -> bool:
        # Rollback defence: an older signed list (a replay) never replaces a newer one.
        return other is None or self.valid_from > other.valid_from

    def to_json(self) -> dict[str, Any]:
        return {"subject": dict(self.subject), "validFrom": format_datetime(self.valid_from),
                "validUntil": format_datetime(self.valid_until)}

    @classmethod
    def from_json(cls, data: Any) -> _Snapshot | None:
        try:
            return cls(dict(data["subject"]), parse_datetime(data["validFrom"], name="validFrom"),
                       parse_datetime(data["validUntil"], name="validUntil"))
        except (ChopmarkError, KeyError, TypeError, ValueError):
            return None


class RemoteTrust:
    """Decisions over a remote registry's signed trust list, with a last-good copy for outages.

    Thread safe: one thread at a time refreshes the list while the others keep deciding with the current copy
    (only when there is no copy at all do they wait for that refresh).
    """

    def __init__(self, url: str, registry_did: str, fetcher: Fetch, *, resolver: Resolver,
                 loader: DocumentLoader, clock: Callable[[], datetime], refresh_seconds: float = 60,
                 store: Store | None = None, monotonic: Callable[[], float] = time.monotonic) -> None:
        """``url`` is the registry's ``/trust/list``; the list must be signed by ``registry_did``. It is fetched
        again at most every ``refresh_seconds`` (of ``monotonic``), whether the last attempt worked or not.
        ``store`` (optional) shares the last verified list between workers and restarts."""
        self._url = url
        self._did = registry_did
        self._fetcher = fetcher
        self._resolver = resolver
        self._loader = loader
        self._clock = clock
        self._refresh = refresh_seconds
        self._store = store
        self._monotonic = monotonic
        self._key = hashlib.sha256(f"{url} {registry_did}".encode()).hexdigest()
        self._lock = threading.Lock()  # guards the three fields below
        self._snapshot: _Snapshot | None = None
        self._next_refresh = float("-inf")
        self._problem = "not fetched yet"
        self._refreshing = threading.Lock()  # held by the one thread that refreshes

    def _current(self, now: datetime) -> _Snapshot | None:
        """The verified list to decide with at ``now`` (refreshed first when due), or None."""
        with self._lock:
            due = self._monotonic() >= self._next_refresh
            have = self._snapshot is not None
        # Without a copy, wait for the refresh (this thread's or the one in flight); with one, never wait.
        if (due or not have) and self._refreshing.acquire(blocking=not have):
            try:
                with self._lock:
                    due = self._monotonic() >= self._next_refresh  # another thread may have just refreshed
                    if due:
                        self._next_refresh = self._monotonic() + self._refresh
                if due:
                    self._update(now)
            finally:
                self._refreshing.release()
        with self._lock:
            snapshot = self._snapshot
        return snapshot if snapshot is not None and snapshot.usable(now) else None

    def _update(self, now: datetime) -> None:
        """Fetch and verify the list (and share it through the store); when that fails, take the copy another
        worker stored. A candidate replaces the current copy only when it is usable now and newer."""
        candidate: _Snapshot | None
        try:
            fetched = self._fetch(now)
        except ChopmarkError as exc:
            candidate, problem = self._stored(), exc.detail
        else:
            self._share(fetched)
            candidate, problem = fetched, ""
        with self._lock:
            if candidate is not None and candidate.usable(now) and candidate.newer_than(self._snapshot):
                self._snapshot = candidate
            elif candidate is not None and not problem:
                problem = "the registry's list is not valid now or older than the last verified one"
            self._problem = problem

    def _share(self, found: _Snapshot) -> None:
        if self._store is None:
            return
        with contextlib.suppress(ChopmarkError):  # the store only helps other workers: this one has the list
            update_json(self._store, NS_REMOTE_TRUST, self._key, lambda old: _newest(old, found).to_json())

    def _stored(self) -> _Snapshot | None:
        if self._store is None:
            return None
        try:
            return _Snapshot.from_json(get_json(self._store, NS_REMOTE_TRUST, self._key))
        except ChopmarkError:
            return None

    def _fetch(self, now: datetime) -> _Snapshot:
        """The registry's current list, verified (proof, validity, issuer = the registry DID, trust-list shape,
        JSON Schema); raises :class:`StatusRetrievalError` saying why not."""
        try:
            body = loads_strict_json(self._fetcher.fetch(self._url).body, StatusRetrievalError)
        except ChopmarkError as exc:
            raise StatusRetrievalError(f"could not fetch {self._url}: {exc.detail}") from None
        if not isinstance(body, dict) or credential_schema(TRUST_LIST) not in as_list(body.get("credentialSchema")):
            # the list must name the trust-list schema, so the schema check below cannot be skipped
            raise StatusRetrievalError(f"{self._url} did not return a trust list naming the {TRUST_LIST} schema")
        subject, result = trust.verify_trust_list(body, resolver=self._resolver, now=now, loader=self._loader,
                                                  expected_issuer=self._did, schema_checker=check_schemas)
        if subject is None:
            codes = ", ".join(dict.fromkeys(p.code for p in result.problems))
            raise StatusRetrievalError(f"the trust list at {self._url} does not verify ({codes})")
        if "validFrom" not in body or "validUntil" not in body:  # without an end a copy would be used forever
            raise StatusRetrievalError(f"the trust list at {self._url} lacks validFrom or validUntil")
        return _Snapshot(subject, parse_datetime(body["validFrom"], name="validFrom"),
                         parse_datetime(body["validUntil"], name="validUntil"))

    def _unavailable(self) -> str:
        with self._lock:
            problem = self._problem
        return f"no unexpired verified trust list from {self._url} ({problem})"

    def decide(self, entity_id: str, action: str, resource: str, *, at: datetime,
               jurisdiction: str | None = None) -> TrustDecision:
        """See :class:`TrustLookup`; an unavailable list means not authorized, with the reason
        :data:`UNAVAILABLE`."""
        snapshot = self._current(self._clock())
        if snapshot is None:
            return TrustDecision(authorized=False, reason=UNAVAILABLE, entry=None, message=self._unavailable())
        return trust.evaluate(snapshot.subject, entity_id, action, resource, at=at, jurisdiction=jurisdiction)

    def member(self, did: str) -> Mapping[str, Any] | None:
        """See :class:`TrustLookup` (None also when no usable list is available)."""
        snapshot = self._current(self._clock())
        return None if snapshot is None else trust.member(snapshot.subject, did, active_only=True)


def _newest(stored: Any, found: _Snapshot) -> _Snapshot:
    """The newer of the stored copy and ``found`` (a worker with an older list never overwrites a newer one)."""
    old = _Snapshot.from_json(stored) if stored is not None else None
    return found if old is None or found.newer_than(old) else old
