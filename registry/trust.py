"""The trust registry: which issuers may issue which credential types where, and which sites are members.

* Entries are JSON records on the shared store: authorizations in ``trust-auth`` (keyed by their
  ``urn:uuid:`` id), members in ``trust-member`` (keyed by their DID). Suspending keeps an entry with
  ``entryStatus: suspended``; removing deletes it.
* Every change bumps an atomic version counter *after* the record is written, so a trust list labelled with
  version ``n`` always reflects every change up to ``n``.
* Queries follow the ToIP Trust Registry Query Protocol (TRQP) authorization query: ``entity_id``,
  ``authority_id``, ``action``, ``resource`` in; ``authorized`` plus evaluation times out. An unknown entity is
  simply not authorized.
* The whole registry is published as a ``TrustListCredential`` signed by the host DID (``did:web:<host>``). The
  signed list is cached in the store per version and re-signed only when the version changed or the signature
  is older than 12 hours (the list is valid for 24), and served with a weak ``ETag``.
"""

from __future__ import annotations

import copy
import hashlib
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chopmark import trust
from chopmark.codecs.dates import format_datetime, parse_datetime
from chopmark.errors import BadRequest, ChopmarkError, Conflict, NotFound
from chopmark.jsonld import DocumentLoader
from chopmark.store import Store
from chopmark.store.base import parse_counter
from chopmark.store.records import create_json, decode_json, encode_json, get_json, update_json
from chopmark.vc.credentials import issue
from chopmark.vc.datamodel import V2_CONTEXT
from chopmark.vocab import CONTEXT_URL, TRUST_LIST, credential_schema
from chopmark.vocab.identifiers import WILDCARD, jurisdiction_valid
from registry.issuers import HOST, NAME_RE, Issuers

NS_AUTH = "trust-auth"
NS_MEMBER = "trust-member"
NS_META = "trust"
VERSION_KEY = "version"
LIST_KEY = "signed-list"
SUITE = "eddsa-rdfc-2022"
LIST_VALIDITY = timedelta(hours=24)
RESIGN_AFTER = timedelta(hours=12)
ACTIONS = (trust.ISSUE,)
ROLES = (trust.SITE,)
DID_RE = re.compile(r"did:[a-z0-9]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._%-]")
RESOURCE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")
HTTP_URL_RE = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#]\S*)?")
MAX_DID = 500  # store keys are at most 512 bytes; the trust-list schema allows 2048
_INTERNAL = ("created", "updated")


@dataclass(frozen=True)
class ServedTrustList:
    """The signed trust list as served: the credential, its version and its weak ETag."""

    credential: dict[str, Any]
    version: int
    etag: str


def parse_time(value: object, pointer: str) -> datetime:
    """An XML Schema dateTimeStamp from a request or command line (BadRequest naming ``pointer`` otherwise)."""
    try:
        return parse_datetime(value, name=pointer.lstrip("/"))
    except ChopmarkError as exc:
        raise BadRequest(exc.detail, pointer=pointer, code="INVALID_DATETIME") from None


def check_did(value: object, pointer: str) -> str:
    """A DID (DID Core §3.1 syntax), else BadRequest."""
    if not isinstance(value, str) or len(value) > MAX_DID or not DID_RE.fullmatch(value):
        raise BadRequest(f"{pointer.lstrip('/')} must be a DID of at most {MAX_DID} characters, got {value!r:.80}",
                         pointer=pointer,
                         code="INVALID_ENTITY_ID")
    return value


def check_jurisdictions(values: object, pointer: str = "/jurisdictions") -> list[str]:
    """A non-empty list of ISO 3166-1 alpha-2 / ISO 3166-2 codes, or ``["*"]``; duplicates dropped."""
    if not isinstance(values, list | tuple) or not values:
        raise BadRequest("jurisdictions must be a non-empty list of ISO 3166 codes or '*'", pointer=pointer,
                         code="INVALID_JURISDICTION")
    chosen: list[str] = []
    for index, code in enumerate(values):
        if code != WILDCARD and not jurisdiction_valid(code):
            raise BadRequest(f"{code!r} is not an ISO 3166-1 alpha-2 or ISO 3166-2 code", code="INVALID_JURISDICTION",
                             pointer=f"{pointer}/{index}")
        if code not in chosen:
            chosen.append(code)
    return [WILDCARD] if WILDCARD in chosen else chosen


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """An entry as the trust list carries it (bookkeeping members removed)."""
    return {k: v for k, v in record.items() if k not in _INTERNAL}


class TrustRegistry:
    """Authorizations and members over the store; TRQP-style queries; the signed trust list."""

    def __init__(self, store: Store, issuers: Issuers, *, clock: Callable[[], datetime],
                 rng: Callable[[int], bytes], loader: DocumentLoader, public_url: str) -> None:
        """``issuers`` provides the host identity that signs the list; ``public_url`` the service base URL."""
        self._store = store
        self._issuers = issuers
        self._clock = clock
        self._rng = rng
        self._loader = loader
        self._list_url = public_url.rstrip("/") + "/trust/list"
        self._served: tuple[bytes, ServedTrustList] | None = None
        self._subject: tuple[int, dict[str, Any]] | None = None
        self._host_ready = False
        self._lock = threading.Lock()

    # --- identity and version -------------------------------------------------------------------------------

    def host_did(self) -> str:
        """This registry's own DID (``did:web:<host>``), the authority its answers are about."""
        if not self._host_ready:
            self._issuers.ensure_host()
            self._host_ready = True
        return self._issuers.did_for(HOST)

    def entity_did(self, value: str) -> str:
        """``value`` when it is a DID, else the DID of this service's issuer named ``value``."""
        if isinstance(value, str) and value.startswith("did:"):
            return check_did(value, "/entityId")
        if not isinstance(value, str) or not NAME_RE.fullmatch(value):
            raise BadRequest(f"{value!r} is neither a DID nor an issuer name", pointer="/entityId",
                             code="INVALID_ENTITY_ID")
        return str(self._issuers.get(value)["did"])

    def version(self) -> int:
        """The trust list version: bumped on every change (0 before the first)."""
        raw = self._store.get(NS_META, VERSION_KEY)
        return 0 if raw is None else parse_counter(raw)

    def _changed(self) -> int:
        return self._store.incr(NS_META, VERSION_KEY)

    # --- authorizations -------------------------------------------------------------------------------------

    def add_authorization(self, entity_id: str, action: str, resource: str, jurisdictions: Iterable[str],
                          authorized_from: datetime | None = None,
                          authorized_until: datetime | None = None) -> dict[str, Any]:
        """Authorize ``entity_id`` (a DID) to ``action`` (``issue``) the credential type ``resource`` in
        ``jurisdictions`` from ``authorized_from`` (default now) until ``authorized_until`` (default open)."""
        check_did(entity_id, "/entityId")
        if action not in ACTIONS:
            raise BadRequest(f"action must be one of {', '.join(ACTIONS)}, got {action!r}", pointer="/action",
                             code="INVALID_ACTION")
        if not isinstance(resource, str) or not RESOURCE_RE.fullmatch(resource):
            raise BadRequest(f"resource must be a credential type name, got {resource!r}", pointer="/resource",
                             code="INVALID_RESOURCE")
        codes = check_jurisdictions(list(jurisdictions))
        now = self._clock()
        start = authorized_from or now
        if authorized_until is not None and not start < authorized_until:
            raise BadRequest("authorizedUntil must be later than authorizedFrom", pointer="/authorizedUntil",
                             code="INVALID_WINDOW")
        entry_id = f"urn:uuid:{uuid.UUID(bytes=self._rng(16), version=4)}"
        record: dict[str, Any] = {"id": entry_id, "entityId": entity_id, "action": action, "resource": resource,
                                  "jurisdictions": codes, "authorizedFrom": format_datetime(start),
                                  "entryStatus": trust.ACTIVE, "created": format_datetime(now)}
        if authorized_until is not None:
            record["authorizedUntil"] = format_datetime(authorized_until)
        if not create_json(self._store, NS_AUTH, entry_id, record):
            raise Conflict(f"authorization {entry_id} already exists", code="TRUST_ENTRY_EXISTS")
        self._changed()
        return record

    def get_authorization(self, entry_id: str) -> dict[str, Any]:
        """One authorization (NotFound when absent)."""
        record = get_json(self._store, NS_AUTH, _auth_key(entry_id))
        if record is None:
            raise NotFound(f"no authorization {entry_id!r}", code="TRUST_ENTRY_NOT_FOUND")
        return dict(record)

    def list_authorizations(self) -> list[dict[str, Any]]:
        """Every authorization, oldest first."""
        return _sorted(self._store.scan(NS_AUTH))

    def suspend_authorization(self, entry_id: str) -> dict[str, Any]:
        """Suspend an authorization (kept in the list with ``entryStatus: suspended``)."""
        return self._set_status(NS_AUTH, _auth_key(entry_id), trust.SUSPENDED, "authorization")

    def resume_authorization(self, entry_id: str) -> dict[str, Any]:
        """Make a suspended authorization active again."""
        return self._set_status(NS_AUTH, _auth_key(entry_id), trust.ACTIVE, "authorization")

    def remove_authorization(self, entry_id: str) -> dict[str, Any]:
        """Delete an authorization; returns the removed record."""
        return self._remove(NS_AUTH, _auth_key(entry_id), "authorization")

    # --- members --------------------------------------------------------------------------------------------

    def add_member(self, did: str, name: str, onboarding_url: str, role: str = trust.SITE) -> dict[str, Any]:
        """Add a member (a marketplace site): its DID, display name and onboarding URL."""
        check_did(did, "/id")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise BadRequest("name must be a non-empty string of at most 200 characters", pointer="/name",
                             code="INVALID_MEMBER_NAME")
        if not isinstance(onboarding_url, str) or len(onboarding_url) > 2048 \
                or not HTTP_URL_RE.fullmatch(onboarding_url):
            raise BadRequest(f"onboardingUrl must be an http(s) URL, got {onboarding_url!r}",
                             pointer="/onboardingUrl", code="INVALID_ONBOARDING_URL")
        if role not in ROLES:
            raise BadRequest(f"role must be one of {', '.join(ROLES)}, got {role!r}", pointer="/role",
                             code="INVALID_ROLE")
        record = {"id": did, "name": name.strip(), "role": role, "onboardingUrl": onboarding_url,
                  "entryStatus": trust.ACTIVE, "created": format_datetime(self._clock())}
        if not create_json(self._store, NS_MEMBER, did, record):
            raise Conflict(f"{did} is already a member", code="MEMBER_EXISTS")
        self._changed()
        return record

    def get_member(self, did: str) -> dict[str, Any]:
        """One member (NotFound when absent)."""
        record = get_json(self._store, NS_MEMBER, _member_key(did))
        if record is None:
            raise NotFound(f"no member {did!r}", code="MEMBER_NOT_FOUND")
        return dict(record)

    def list_members(self) -> list[dict[str, Any]]:
        """Every member, oldest first."""
        return _sorted(self._store.scan(NS_MEMBER))

    def suspend_member(self, did: str) -> dict[str, Any]:
        """Suspend a member (it loses its implied authorization; the entry stays listed)."""
        return self._set_status(NS_MEMBER, _member_key(did), trust.SUSPENDED, "member")

    def resume_member(self, did: str) -> dict[str, Any]:
        """Make a suspended member active again."""
        return self._set_status(NS_MEMBER, _member_key(did), trust.ACTIVE, "member")

    def remove_member(self, did: str) -> dict[str, Any]:
        """Delete a member; returns the removed record."""
        return self._remove(NS_MEMBER, _member_key(did), "member")

    def _set_status(self, ns: str, key: str, status: str, what: str) -> dict[str, Any]:
        changed: list[bool] = []

        def change(record: dict[str, Any] | None) -> dict[str, Any]:
            if record is None:
                raise NotFound(f"no {what} {key!r}", code="MEMBER_NOT_FOUND" if ns == NS_MEMBER
                               else "TRUST_ENTRY_NOT_FOUND")
            changed[:] = [record["entryStatus"] != status]
            if changed[0]:
                record = {**record, "entryStatus": status, "updated": format_datetime(self._clock())}
            return record

        updated = dict(update_json(self._store, ns, key, change))
        if changed[0]:
            self._changed()
        return updated

    def _remove(self, ns: str, key: str, what: str) -> dict[str, Any]:
        raw = self._store.take(ns, key)
        if raw is None:
            raise NotFound(f"no {what} {key!r}", code="MEMBER_NOT_FOUND" if ns == NS_MEMBER
                           else "TRUST_ENTRY_NOT_FOUND")
        self._changed()
        return dict(decode_json(raw))

    # --- queries and the signed list ------------------------------------------------------------------------

    def subject(self) -> dict[str, Any]:
        """The trust list's ``credentialSubject`` as the store holds it now (unsigned; a copy)."""
        return copy.deepcopy(self._subject_at(self.version()))

    def _subject_at(self, version: int) -> dict[str, Any]:
        """The subject for ``version``. Entries are written before the version is bumped, so a subject read
        after seeing version ``n`` holds every change up to ``n``; it is kept per process until the version
        moves (callers must not change it)."""
        with self._lock:
            memo = self._subject
        if memo is not None and memo[0] == version:
            return memo[1]
        subject = {"id": self.host_did(), "type": "TrustRegistry", "trustListVersion": version,
                   "authorizations": [_public(r) for r in self.list_authorizations()],
                   "members": [_public(r) for r in self.list_members()]}
        with self._lock:
            self._subject = (version, subject)
        return subject

    def query(self, entity_id: str, authority_id: str, action: str, resource: str,
              jurisdiction: str | None = None, at: datetime | None = None) -> dict[str, Any]:
        """A TRQP authorization query: is ``entity_id`` authorized by ``authority_id`` (this registry's DID) to
        ``action`` the ``resource`` (in ``jurisdiction``, at ``at``, default now)? Never raises for an unknown
        entity or authority: the answer is then ``authorized: false`` with a message."""
        now = self._clock()
        moment = at or now
        answer: dict[str, Any] = {"entity_id": entity_id, "authority_id": authority_id, "action": action,
                                  "resource": resource, "authorized": False,
                                  "time_requested": format_datetime(moment), "time_evaluated": format_datetime(now),
                                  "message": "", "reason": trust.NOT_LISTED, "entry": None}
        if jurisdiction is not None:
            answer["jurisdiction"] = jurisdiction
        host = self.host_did()
        if authority_id != host:
            answer["message"] = f"this registry answers for the authority {host} only"
            return answer
        version = self.version()
        decision = trust.evaluate(self._subject_at(version), entity_id, action, resource, at=moment,
                                  jurisdiction=jurisdiction)
        answer.update(authorized=decision.authorized, message=decision.message, reason=decision.reason,
                      entry=decision.entry, trust_list_version=version)
        return answer

    def trust_list(self) -> dict[str, Any]:
        """The signed ``TrustListCredential`` (see :meth:`serve`; a copy the caller may change)."""
        return copy.deepcopy(self.serve().credential)

    def serve(self) -> ServedTrustList:
        """The signed trust list: the cached one when it has the current version and was signed less than
        12 hours ago, else a freshly signed one (which then replaces the cache unless a newer one is there)."""
        version = self.version()
        now = self._clock()
        raw = self._store.get(NS_META, LIST_KEY)
        if raw is not None:
            cached = decode_json(raw)
            signed_at = parse_datetime(cached["signedAt"])
            if cached["version"] >= version and timedelta(0) <= now - signed_at < RESIGN_AFTER:
                return self._served_from(raw, cached)
        fresh = {"version": version, "signedAt": format_datetime(now), "credential": self._sign(version, now)}

        def keep_newest(current: dict[str, Any] | None) -> dict[str, Any]:
            if current is not None and current["version"] > version:
                return current
            return fresh

        stored = update_json(self._store, NS_META, LIST_KEY, keep_newest)
        return self._served_from(encode_json(stored), stored)

    def _served_from(self, raw: bytes, cached: dict[str, Any]) -> ServedTrustList:
        with self._lock:
            memo = self._served
        if memo is not None and memo[0] == raw:
            return memo[1]
        digest = hashlib.sha256(encode_json(cached["credential"])).hexdigest()[:24]
        served = ServedTrustList(cached["credential"], cached["version"], f'W/"{cached["version"]}-{digest}"')
        with self._lock:
            self._served = (raw, served)
        return served

    def _sign(self, version: int, now: datetime) -> dict[str, Any]:
        """Build and sign the list with the host identity's Ed25519 key (eddsa-rdfc-2022)."""
        valid_from = format_datetime(now)
        unsigned = {"@context": [V2_CONTEXT, CONTEXT_URL], "id": self._list_url,
                    "type": ["VerifiableCredential", TRUST_LIST], "issuer": self.host_did(),
                    "validFrom": valid_from, "validUntil": format_datetime(now + LIST_VALIDITY),
                    "credentialSchema": credential_schema(TRUST_LIST),
                    "credentialSubject": self._subject_at(version)}
        signer, _ = self._issuers.signer(HOST, SUITE)
        return issue(unsigned, signer, suite=SUITE, loader=self._loader, created=valid_from)


def _auth_key(entry_id: str) -> str:
    """The store key of an authorization: its ``urn:uuid:`` id (a bare UUID is accepted too)."""
    if not isinstance(entry_id, str) or not entry_id:
        raise NotFound(f"no authorization {entry_id!r}", code="TRUST_ENTRY_NOT_FOUND")
    key = entry_id if entry_id.startswith("urn:uuid:") else f"urn:uuid:{entry_id}"
    if len(key) > 100:
        raise NotFound(f"no authorization {entry_id!r}", code="TRUST_ENTRY_NOT_FOUND")
    return key.lower()


def _member_key(did: str) -> str:
    if not isinstance(did, str) or len(did) > MAX_DID or not DID_RE.fullmatch(did):
        raise NotFound(f"no member {did!r}", code="MEMBER_NOT_FOUND")
    return did


def _sorted(rows: Iterable[tuple[str, bytes]]) -> list[dict[str, Any]]:
    records = [dict(decode_json(value)) for _, value in rows]
    return sorted(records, key=lambda r: (r["created"], r["id"]))
