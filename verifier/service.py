"""Verifying over the VC API: credentials, presentations, single-use challenges, status and DID sources.

Nothing here trusts a document's own claims about where to look: DID documents and status lists of this
service come from the store directly; everything else goes through the SSRF-safe fetcher, allow-listed by
the settings, with a cache. Status fails closed: an unreachable or invalid list fails the status check.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chopmark.dids.resolver import Resolver
from chopmark.dids.web import loads_strict_json
from chopmark.errors import (
    BadRequest,
    ChopmarkError,
    CredentialStatusSet,
    DidNotFoundError,
    StatusRangeError,
    StatusRetrievalError,
    StatusVerificationError,
    Unprocessable,
)
from chopmark.integrity.suites import DEFAULT_ACCEPTED
from chopmark.jsonld import DocumentLoader
from chopmark.jsonld.values import as_list
from chopmark.net.fetch import Fetched
from chopmark.store import Store
from chopmark.vc import statuslist
from chopmark.vc.credentials import CredentialPolicy, check_validity, verify_credential
from chopmark.vc.datamodel import issuer_id
from chopmark.vc.presentations import verify_presentation
from chopmark.vc.related import Revision, pinned_revisions
from chopmark.vc.results import VerificationResult
from chopmark.vocab.schema import check_schemas
from verifier.challenges import Challenges
from verifier.results import credential_response, presentation_response

CREDENTIAL_CHECKS = ("proof", "validity", "issuerBinding", "status", "schema")
CREDENTIAL_OPTIONS = frozenset({"checks", "returnResults", "returnProblemDetails", "returnCredential"})
PRESENTATION_OPTIONS = frozenset({"challenge", "domain", "returnPresentation", "checks"})


@dataclass(frozen=True)
class LocalList:
    """A status list served by this service: who issued it, for what, and its live bits."""

    issuer: str
    purpose: str
    size: int
    bit: Callable[[int], bool]


class LocalSources(Protocol):
    """What this service serves itself (answered from the store, never over the network)."""

    def did_document(self, url: str) -> bytes | None:
        """The did.json bytes when ``url`` is one of our DID documents, else None."""

    def status_list(self, url: str, max_age: float | None = None) -> LocalList | None:
        """The list when ``url`` is one of our status list URLs, else None; its bits read at most
        ``max_age`` seconds ago (None: the service's own freshness setting)."""


class RemoteFetcher(Protocol):
    """The SSRF-safe fetcher (:class:`chopmark.net.fetch.SafeFetcher`): conditional GETs with ETags."""

    def fetch(self, url: str, *, etag: str | None = None) -> Fetched:
        """GET ``url`` (If-None-Match ``etag`` when given)."""


@dataclass
class _CachedList:
    fetched: float
    expires: float
    etag: str | None
    credential: dict[str, Any]


class TtlCache:
    """A small thread-safe cache with per-entry expiry (monotonic clock)."""

    def __init__(self, seconds: float, max_entries: int = 4096) -> None:
        """Entries live ``seconds``; the oldest are dropped past ``max_entries``."""
        self._seconds = seconds
        self._max = max_entries
        self._data: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        """The live value or None."""
        with self._lock:
            hit = self._data.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` for the configured time."""
        with self._lock:
            if len(self._data) >= self._max:
                self._data.pop(next(iter(self._data)))
            self._data[key] = (time.monotonic() + self._seconds, value)


class Verification:
    """The verifier role's domain service."""

    def __init__(self, store: Store, local: LocalSources, *, clock: Callable[[], datetime],
                 rng: Callable[[int], bytes], loader: DocumentLoader,
                 remote_fetch: RemoteFetcher | None, challenge_ttl: int = 300,
                 cache_seconds: int = 60) -> None:
        """``remote_fetch`` is the SSRF-safe fetcher (None: no network at all)."""
        self._store = store
        self._local = local
        self._clock = clock
        self._rng = rng
        self._loader = loader
        self._remote = remote_fetch
        self._challenges = Challenges(store, rng, challenge_ttl)
        self._remote_docs = TtlCache(cache_seconds)
        self._cache_seconds = cache_seconds
        self._remote_lists: dict[str, _CachedList] = {}
        self.resolver = Resolver(web_fetch=self._fetch_did)

    # -- sources -----------------------------------------------------------------------------------------
    def request_resolver(self) -> Resolver:
        """A resolver for one verification: each DID document is read once per request (a credential's
        proof and issuer binding name the same DID), and fresh for the next request."""
        seen: dict[str, bytes] = {}

        def fetch(url: str) -> bytes:
            if url not in seen:
                seen[url] = self._fetch_did(url)
            return seen[url]

        return Resolver(web_fetch=fetch)

    def _fetch_did(self, url: str) -> bytes:
        # Our own DID documents come straight from the store, uncached: after a key rotation (by another worker
        # or the admin CLI) a credential signed with the new key must verify at once in every worker.
        local = self._local.did_document(url)
        if local is not None:
            return local
        fetcher = self._remote
        if fetcher is not None:
            cached = self._remote_docs.get(url)
            if cached is not None:
                return bytes(cached)
            body = fetcher.fetch(url).body
            self._remote_docs.put(url, body)
            return body
        raise DidNotFoundError(f"{url} is not served here and fetching other hosts is disabled "
                               "(CHOPMARK_FETCH_ALLOWED_HOSTS)")

    # -- challenges --------------------------------------------------------------------------------------
    def create_challenge(self) -> str:
        """``POST /challenges``: a fresh single-use challenge (see :class:`verifier.challenges.Challenges`)."""
        return self._challenges.create()

    # -- status ------------------------------------------------------------------------------------------
    def status_checker(self, now: datetime, max_age: float | None = None
                       ) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any]]:
        """The ``status_checker`` hook for the kernel: local lists from the store, remote ones fetched. A list
        is never used older than ``max_age`` seconds (a site profile's maximum status-list age)."""
        def check(entry: Mapping[str, Any], credential: Mapping[str, Any]) -> Mapping[str, Any]:
            position = _position(entry, credential)
            try:
                parsed = statuslist.check_entry(entry, credential)
                local = self._local.status_list(parsed.list_url, max_age)
                if local is not None:
                    return _check_local(parsed, local, credential)
                return self._check_remote(parsed, credential, now, max_age)
            except ChopmarkError as exc:
                exc.extra.setdefault("entry", position)
                raise
        return check

    def _check_remote(self, parsed: statuslist.ParsedEntry, credential: Mapping[str, Any],
                      now: datetime, max_age: float | None) -> Mapping[str, Any]:
        list_credential = self._remote_list(parsed.list_url, credential, now, max_age)
        validity = check_validity(list_credential, CredentialPolicy(now=now))  # with the usual clock skew
        if not validity.passed:
            raise StatusVerificationError(f"the status list is outside its validity period: "
                                          f"{validity.problems[0].detail}")
        outcome = statuslist.evaluate(parsed, list_credential)
        return _outcome_details(parsed, outcome)

    def _remote_list(self, url: str, credential: Mapping[str, Any], now: datetime,
                     max_age: float | None = None) -> dict[str, Any]:
        """A verified remote status list: cached for the TTL, then revalidated with its ETag (304 keeps the
        verified copy). Any failure fails closed: a stale copy is never used."""
        cached = self._remote_lists.get(url)
        clock = time.monotonic()
        if cached is not None and cached.expires > clock and (max_age is None or clock - cached.fetched <= max_age):
            statuslist.require_list_issuer(url, cached.credential, credential)
            return cached.credential
        if self._remote is None:
            raise StatusRetrievalError(f"{url} is not served here and fetching other hosts is disabled")
        try:
            fetched = self._remote.fetch(url, etag=cached.etag if cached is not None else None)
            if fetched.status == 304 and cached is not None:
                list_credential = cached.credential
            else:
                list_credential = loads_strict_json(fetched.body, StatusRetrievalError)
        except ChopmarkError as exc:
            raise StatusRetrievalError(f"could not retrieve {url}: {exc.detail}") from None
        if not isinstance(list_credential, dict):
            raise StatusRetrievalError(f"{url} did not return a JSON object")
        if cached is None or list_credential is not cached.credential:
            statuslist.require_list_verified(url, self._list_problems(list_credential, now))
        statuslist.require_list_issuer(url, list_credential, credential)
        if len(self._remote_lists) > 4096:
            self._remote_lists.clear()
        self._remote_lists[url] = _CachedList(clock, clock + self._cache_seconds, fetched.etag, list_credential)
        return list_credential

    def _list_problems(self, list_credential: Any, now: datetime) -> list[str]:
        """The codes of the problems of a status list credential's own verification (none: it verifies)."""
        result = verify_credential(list_credential, resolver=self.resolver, now=now, loader=self._loader)
        return [] if result.verified else [p.code for p in result.problems] or ["NOT_VERIFIED"]

    # -- verify ------------------------------------------------------------------------------------------
    def verify_credential(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """``POST /credentials/verify``: 200 when every requested check passed, else 400 (422: not a
        credential at all). Every check ``options.checks`` leaves out is a warning in the result."""
        credential, options = _split(body, "verifiableCredential", CREDENTIAL_OPTIONS)
        checks = _checks(options)
        now = self._clock()
        result = verify_credential(credential, resolver=self.request_resolver(), now=now, loader=self._loader,
                                   issuer_binding="issuerBinding" in checks, validity="validity" in checks,
                                   status_checker=self.status_checker(now) if "status" in checks else None,
                                   schema_checker=check_schemas if "schema" in checks else None,
                                   resources=self.related_revisions)
        _warn_skipped(result, checks)
        response = credential_response(result, credential,
                                       return_credential=options.get("returnCredential") is True,
                                       return_results=options.get("returnResults", True) is not False,
                                       return_problems=options.get("returnProblemDetails", True) is not False)
        return (200 if result.verified else 400), response

    def check_presentation(self, presentation: Any, *, challenge: str, domain: str, now: datetime,
                           accepted_suites: Collection[str] = DEFAULT_ACCEPTED,
                           max_status_age: float | None = None) -> VerificationResult:
        """Every verifier check of a presentation for an exchange that owns its (single-use) challenge: the
        presentation proof with ``challenge`` and ``domain``, and each credential's proof, validity, issuer
        binding, status (no list older than ``max_status_age`` seconds) and JSON Schema."""
        return verify_presentation(
            presentation, resolver=self.request_resolver(), now=now, challenge=challenge, domain=domain,
            loader=self._loader, accepted_suites=accepted_suites,
            status_checker=self.status_checker(now, max_status_age), schema_checker=check_schemas,
            resources=self.related_revisions)

    def check_credential(self, credential: Any, *, now: datetime,
                         accepted_suites: Collection[str] = DEFAULT_ACCEPTED,
                         max_status_age: float | None = None) -> VerificationResult:
        """Every verifier check of one credential (proof, validity, issuer binding, status, JSON Schema)."""
        return verify_credential(credential, resolver=self.request_resolver(), now=now, loader=self._loader,
                                 accepted_suites=accepted_suites,
                                 status_checker=self.status_checker(now, max_status_age), schema_checker=check_schemas,
                                 resources=self.related_revisions)

    def fetch_remote(self, url: str) -> bytes:
        """GET ``url`` through the SSRF-safe fetcher (allow-listed hosts only); raises when fetching is off."""
        if self._remote is None:
            raise DidNotFoundError(f"{url} cannot be fetched: fetching other hosts is disabled "
                                   "(CHOPMARK_FETCH_ALLOWED_HOSTS)", code="FETCH_DISABLED")
        return self._remote.fetch(url).body

    def verify_presentation(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """``POST /presentations/verify``: the proof's challenge must equal ``options.challenge`` (the caller's
        own, or one from ``POST /challenges``) and its domain ``options.domain``. A challenge of this service
        is consumed on first use, named or not; with no challenge to check the result warns
        ``CHALLENGE_NOT_CHECKED``."""
        presentation, options = _split(body, "verifiablePresentation", PRESENTATION_OPTIONS)
        named, domain = options.get("challenge"), options.get("domain")
        for name, value in (("challenge", named), ("domain", domain)):
            if value is not None and not isinstance(value, str):
                raise BadRequest(f"options.{name} must be a string", pointer=f"/options/{name}")
        checks = _checks(options)
        now = self._clock()
        challenge, single_use = self._challenges.use(presentation, named)
        result: VerificationResult = verify_presentation(
            presentation, resolver=self.request_resolver(), now=now, challenge=challenge, domain=domain,
            loader=self._loader, issuer_binding="issuerBinding" in checks, validity="validity" in checks,
            status_checker=self.status_checker(now) if "status" in checks else None,
            schema_checker=check_schemas if "schema" in checks else None, resources=self.related_revisions)
        if single_use is not None:
            result.add(single_use)
        for credential in result.credentials:
            _warn_skipped(credential, checks)
        response = presentation_response(result, presentation, challenge=challenge, domain=domain,
                                         return_presentation=options.get("returnPresentation") is True)
        return (200 if result.verified else 400), response

    def related_revisions(self, url: str) -> Sequence[Revision]:
        """The revisions of a related resource obtainable without the network (VCDM 2.0 §5.3): this
        service's own DID documents, then the pinned contexts and their published revisions."""
        try:
            own = self._local.did_document(url)
        except ChopmarkError:
            own = None
        mine = (Revision.of(own, "this service's DID document"),) if own is not None else ()
        return mine + pinned_revisions(url)


_SKIPPED = {"validity": ("VALIDITY_NOT_CHECKED", "the validity period was not checked (options.checks)"),
            "issuerBinding": ("ISSUER_BINDING_NOT_CHECKED", "the issuer was not checked against the signing key's "
                              "controller (options.checks): the credential may be signed by anyone"),
            "status": ("STATUS_NOT_CHECKED", "credentialStatus was not checked (options.checks)"),
            "schema": ("SCHEMA_NOT_CHECKED", "credentialSchema was not checked (options.checks)")}


def _warn_skipped(result: VerificationResult, checks: frozenset[str]) -> None:
    """One warning per check ``options.checks`` left out, whether or not the credential would need it."""
    for name in CREDENTIAL_CHECKS:
        if name not in checks:
            code, detail = _SKIPPED[name]
            result.warn(code, detail, check=name)


def _position(entry: Mapping[str, Any], credential: Mapping[str, Any]) -> int:
    entries = as_list(credential.get("credentialStatus"))
    return next((i for i, e in enumerate(entries) if e is entry), 0)


def _check_local(parsed: statuslist.ParsedEntry, local: LocalList, credential: Mapping[str, Any]) -> dict[str, Any]:
    """A list served here: the same rules as §3.2, read straight from the store (no signature round trip)."""
    if local.purpose != parsed.purpose:
        raise StatusVerificationError(f"the list is for {local.purpose}, the entry says {parsed.purpose}")
    if local.issuer != issuer_id(credential):
        raise StatusVerificationError("the status list was issued by another issuer than the credential")
    if parsed.size != 1:
        raise StatusVerificationError("this service's lists hold 1-bit entries")
    if not 0 <= parsed.index < local.size:
        raise StatusRangeError(f"index {parsed.index} is outside the list of {local.size} entries")
    status = int(local.bit(parsed.index))
    outcome = statuslist.StatusOutcome(parsed.purpose, parsed.index, status, status == 0, None)
    return _outcome_details(parsed, outcome)


def _outcome_details(parsed: statuslist.ParsedEntry, outcome: statuslist.StatusOutcome) -> dict[str, Any]:
    details = {"purpose": parsed.purpose, "index": parsed.index, "listCredential": parsed.list_url,
               "status": outcome.status, "valid": outcome.valid}
    if outcome.status and parsed.purpose not in ("refresh", "message"):  # those two only inform (§2.1)
        code = {"revocation": "REVOKED", "suspension": "SUSPENDED"}.get(parsed.purpose, "STATUS_SET")
        raise CredentialStatusSet(f"the credential's {parsed.purpose} status is set ({parsed.list_url} index "
                                  f"{parsed.index})",
                                  code=code, statusPurpose=parsed.purpose, statusListIndex=str(parsed.index))
    return details


def _split(body: Mapping[str, Any], member: str, allowed: frozenset[str]) -> tuple[Any, dict[str, Any]]:
    unknown = set(body) - {member, "options"}
    if unknown:
        raise BadRequest(f"unknown members {sorted(unknown)}; expected {member} and options", code="UNKNOWN_MEMBER")
    if member not in body or not isinstance(body[member], dict):
        raise Unprocessable(f"{member} must be a JSON object", pointer=f"/{member}", code="NOT_A_CREDENTIAL"
                            if member == "verifiableCredential" else "NOT_A_PRESENTATION")
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise BadRequest("options must be an object", pointer="/options")
    unknown = set(options) - allowed
    if unknown:
        raise BadRequest(f"unknown options {sorted(unknown)}; supported: {sorted(allowed)}", pointer="/options",
                         code="UNKNOWN_OPTION")
    return body[member], options


def _checks(options: Mapping[str, Any]) -> frozenset[str]:
    """``options.checks`` narrows the checks (``["proof"]``: no dates, issuer binding or status); default all."""
    checks = options.get("checks")
    if checks is None:
        return frozenset(CREDENTIAL_CHECKS)
    if not isinstance(checks, list) or not checks or not all(c in CREDENTIAL_CHECKS for c in checks):
        raise BadRequest(f"options.checks must be a non-empty list drawn from {list(CREDENTIAL_CHECKS)}",
                         pointer="/options/checks", code="INVALID_CHECKS")
    return frozenset(checks) | {"proof"}
