"""Where a verifier learns which issuers the ecosystem trusts: the trust registry's signed trust list.

:class:`TrustLookup` is what KYB issuance and site onboarding ask. Two sources implement it:

- :class:`LocalTrust`: the trust registry runs in this service; its current list is read from the store on each
  decision (one small read), so a suspension takes effect at once.
- :class:`RemoteTrust`: the registry runs elsewhere; its signed ``TrustListCredential`` is fetched through the
  SSRF-safe fetcher, verified against the registry's DID, and kept. When the registry is down the last verified
  copy is used until its own ``validUntil`` passes (the list is signed, so a copy is as good as the original
  until then); after that every decision fails closed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from chopmark import trust
from chopmark.dates import parse_datetime
from chopmark.dids.resolver import Resolver
from chopmark.dids.web import loads_strict_json
from chopmark.errors import ChopmarkError, StatusRetrievalError
from chopmark.jsonld import DocumentLoader
from chopmark.trust import TrustDecision
from chopmark.vocab.schema import check_schemas


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
    """The SSRF-safe fetcher's shape (only the body is needed here)."""

    def fetch(self, url: str, *, etag: str | None = None) -> Any:
        """GET ``url``."""


class RemoteTrust:
    """Decisions over a remote registry's signed trust list, with a last-good copy for outages."""

    def __init__(self, url: str, registry_did: str, fetcher: Fetch, *, resolver: Resolver,
                 loader: DocumentLoader, clock: Callable[[], datetime], refresh_seconds: float = 60) -> None:
        """``url`` is the registry's ``/trust/list``; the list must be signed by ``registry_did``."""
        self._url = url
        self._did = registry_did
        self._fetcher = fetcher
        self._resolver = resolver
        self._loader = loader
        self._clock = clock
        self._refresh = refresh_seconds
        self._lock = threading.Lock()
        self._subject: dict[str, Any] | None = None
        self._valid_until: datetime | None = None
        self._fetched = float("-inf")

    def _current(self) -> Mapping[str, Any]:
        now = self._clock()
        with self._lock:
            if time.monotonic() - self._fetched >= self._refresh:
                self._fetched = time.monotonic()
                with contextlib.suppress(ChopmarkError):  # keep the last verified copy; its validUntil bounds
                    self._refresh_list(now)                # how long it is used
            if self._subject is None or self._valid_until is None or now > self._valid_until:
                raise StatusRetrievalError(f"no valid trust list from {self._url} (registry unreachable and no "
                                           "unexpired verified copy)", code="TRUST_LIST_UNAVAILABLE")
            return self._subject

    def _refresh_list(self, now: datetime) -> None:
        body = loads_strict_json(self._fetcher.fetch(self._url).body, StatusRetrievalError)
        subject, result = trust.verify_trust_list(body, resolver=self._resolver, now=now, loader=self._loader,
                                                  expected_issuer=self._did, schema_checker=check_schemas)
        valid_until = body.get("validUntil") if isinstance(body, dict) else None
        if subject is not None and result.verified and isinstance(valid_until, str):
            self._subject = dict(subject)
            self._valid_until = parse_datetime(valid_until, name="validUntil")

    def decide(self, entity_id: str, action: str, resource: str, *, at: datetime,
               jurisdiction: str | None = None) -> TrustDecision:
        """See :class:`TrustLookup`; an unavailable list means not authorized, with the reason."""
        try:
            subject = self._current()
        except ChopmarkError as exc:
            return TrustDecision(authorized=False, reason="trust-list-unavailable", entry=None, message=exc.detail)
        return trust.evaluate(subject, entity_id, action, resource, at=at, jurisdiction=jurisdiction)

    def member(self, did: str) -> Mapping[str, Any] | None:
        """See :class:`TrustLookup`."""
        try:
            return trust.member(self._current(), did, active_only=True)
        except ChopmarkError:
            return None
