"""Trust decisions over a trust list: who may issue which credential type, where and when.

The input is the ``credentialSubject`` of a ``TrustListCredential`` (the whole trust registry, signed by the
registry's host DID). It holds *authorizations* (``entityId`` may ``action`` the ``resource`` in
``jurisdictions`` within ``[authorizedFrom, authorizedUntil)``) and *members* (marketplace sites). In the spirit
of the ToIP Trust Registry Query Protocol, a decision answers one question — is ``entity_id`` authorized to
``action`` the ``resource`` at time ``at`` — and absence means "not authorized", never an error.

Everything here is pure: the evaluation time is a parameter, and :func:`verify_trust_list` takes the resolver
and loader it uses, so a site or wallet can decide offline from a cached signed list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chopmark.codecs.dates import parse_datetime
from chopmark.errors import ChopmarkError, MalformedValueError, UsageError
from chopmark.integrity.checks import CheckResult
from chopmark.integrity.proofs import MethodResolver
from chopmark.jsonld import DocumentLoader
from chopmark.vc.credentials import SchemaChecker, verify_credential
from chopmark.vc.results import VerificationResult
from chopmark.vocab import MARKETPLACE_SELLER, TRUST_LIST, credential_schema
from chopmark.vocab.identifiers import jurisdiction_covers

ACTIVE = "active"
SUSPENDED = "suspended"
ISSUE = "issue"
SITE = "site"

# Decision reasons (stable codes; the decision's ``message`` says the same in words).
AUTHORIZED = "authorized"
MEMBER_SITE = "member-site"
NOT_LISTED = "not-listed"
ENTRY_SUSPENDED = "suspended"
NOT_YET_VALID = "not-yet-valid"
EXPIRED = "expired"
JURISDICTION_NOT_COVERED = "jurisdiction-not-covered"
INVALID_ENTRY = "invalid-entry"

#: When several entries match and none authorizes, the one that got furthest through the checks explains why.
_PROGRESS = {INVALID_ENTRY: 0, ENTRY_SUSPENDED: 1, EXPIRED: 2, NOT_YET_VALID: 2, JURISDICTION_NOT_COVERED: 3}


@dataclass(frozen=True)
class TrustDecision:
    """The answer to one authorization question: ``reason`` is a stable code, ``message`` explains it and
    ``entry`` is the authorization or member entry the decision rests on (None when nothing matched)."""

    authorized: bool
    reason: str
    entry: dict[str, Any] | None
    message: str = ""


def _entries(subject: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = subject.get(name)
    return [e for e in value if isinstance(e, Mapping)] if isinstance(value, list) else []


def member(subject: Mapping[str, Any], did: str, *, active_only: bool = False) -> dict[str, Any] | None:
    """The member entry whose ``id`` is ``did`` (with ``active_only``: only when its status is active)."""
    for entry in _entries(subject, "members"):
        if entry.get("id") == did and (not active_only or entry.get("entryStatus") == ACTIVE):
            return dict(entry)
    return None


def is_member(subject: Mapping[str, Any], did: str) -> bool:
    """True iff ``did`` is an active member of the trust list."""
    return member(subject, did, active_only=True) is not None


def evaluate(subject: Mapping[str, Any], entity_id: str, action: str, resource: str, *, at: datetime,
             jurisdiction: str | None = None) -> TrustDecision:
    """Is ``entity_id`` authorized to ``action`` the ``resource`` at ``at`` (in ``jurisdiction`` when given)?

    Authorized iff an authorization entry for exactly that entity, action and resource is active, its window
    ``[authorizedFrom, authorizedUntil)`` contains ``at`` and one of its jurisdictions covers ``jurisdiction``
    (``"*"`` covers all; a country covers its subdivisions). An active member site is implicitly authorized to
    issue ``MarketplaceSellerCredential`` in every jurisdiction.
    """
    if at.tzinfo is None:
        raise UsageError("at must be a timezone-aware datetime")
    best: TrustDecision | None = None
    for entry in _entries(subject, "authorizations"):
        if (entry.get("entityId"), entry.get("action"), entry.get("resource")) != (entity_id, action, resource):
            continue
        decision = _judge(entry, at, jurisdiction)
        if decision.authorized:
            return decision
        if best is None or _PROGRESS[decision.reason] > _PROGRESS[best.reason]:
            best = decision
    implied = _membership(subject, entity_id, action, resource)
    if implied is not None and (implied.authorized or best is None):
        return implied
    if best is not None:
        return best
    return TrustDecision(False, NOT_LISTED, None,
                         f"{entity_id} is not listed as authorized to {action} {resource}")


def _judge(entry: Mapping[str, Any], at: datetime, jurisdiction: str | None) -> TrustDecision:
    """One matching authorization entry: status, then validity window, then jurisdiction."""
    found = dict(entry)
    status = entry.get("entryStatus")
    if status != ACTIVE:
        return TrustDecision(False, ENTRY_SUSPENDED, found, f"the authorization {entry.get('id')} is {status}")
    try:
        start = parse_datetime(entry.get("authorizedFrom"), name="authorizedFrom")
        end = parse_datetime(entry["authorizedUntil"], name="authorizedUntil") if "authorizedUntil" in entry \
            else None
    except ChopmarkError as exc:
        return TrustDecision(False, INVALID_ENTRY, found, f"the authorization {entry.get('id')}: {exc.detail}")
    if at < start:
        return TrustDecision(False, NOT_YET_VALID, found, f"the authorization starts at {entry['authorizedFrom']}")
    if end is not None and at >= end:
        return TrustDecision(False, EXPIRED, found, f"the authorization ended at {entry['authorizedUntil']}")
    granted = entry.get("jurisdictions")
    if not isinstance(granted, list):
        return TrustDecision(False, INVALID_ENTRY, found, f"the authorization {entry.get('id')} has no jurisdictions")
    if jurisdiction is not None and not any(jurisdiction_covers(g, jurisdiction) for g in granted):
        return TrustDecision(False, JURISDICTION_NOT_COVERED, found,
                             f"the authorization covers {', '.join(map(str, granted))}, not {jurisdiction}")
    return TrustDecision(True, AUTHORIZED, found, "an active authorization covers the request")


def _membership(subject: Mapping[str, Any], entity_id: str, action: str, resource: str) -> TrustDecision | None:
    """The implied authorization of a member site to issue MarketplaceSellerCredential (None: not applicable)."""
    if (action, resource) != (ISSUE, MARKETPLACE_SELLER):
        return None
    entry = member(subject, entity_id)
    if entry is None or entry.get("role") != SITE:
        return None
    if entry.get("entryStatus") != ACTIVE:
        return TrustDecision(False, ENTRY_SUSPENDED, entry,
                             f"the member site {entity_id} is {entry.get('entryStatus')}")
    return TrustDecision(True, MEMBER_SITE, entry, f"{entity_id} is an active member site")


def verify_trust_list(credential: Any, *, resolver: MethodResolver, now: datetime,
                      loader: DocumentLoader | None = None, expected_issuer: str,
                      schema_checker: SchemaChecker | None = None) -> tuple[dict[str, Any] | None, VerificationResult]:
    """Verify a signed ``TrustListCredential`` and return its subject (None unless verified) and the result.

    Beyond :func:`chopmark.vc.credentials.verify_credential` (data model, proof, validity period, issuer binding)
    a ``trustList`` check requires the type ``TrustListCredential``, the issuer ``expected_issuer`` (the
    registry the caller trusts), a subject about that issuer, and lists of authorization and member entries.
    ``schema_checker`` (e.g. :func:`chopmark.vocab.schema.check_schemas`) adds the ``schema`` check.
    """
    result = verify_credential(credential, resolver=resolver, now=now, loader=loader, schema_checker=schema_checker)
    result.add(_trust_list_check(credential, expected_issuer))
    if not result.verified:
        return None, result
    return dict(credential["credentialSubject"]), result


def _trust_list_check(credential: Any, expected_issuer: str) -> CheckResult:
    if not isinstance(credential, Mapping):
        return CheckResult.failed("trustList", [MalformedValueError("the trust list is not a JSON object",
                                                                    code="NOT_A_TRUST_LIST")])
    errors: list[ChopmarkError] = []
    types = credential.get("type")
    if not isinstance(types, list) or TRUST_LIST not in types:
        errors.append(MalformedValueError(f"the credential is not a {TRUST_LIST}", pointer="/type",
                                          code="NOT_A_TRUST_LIST"))
    schemas = credential.get("credentialSchema")
    if credential_schema(TRUST_LIST) not in (schemas if isinstance(schemas, list) else [schemas]):
        # without it a schema checker would have nothing to check: the list must name its own schema
        errors.append(MalformedValueError(f"the trust list must name the {TRUST_LIST} JSON Schema",
                                          pointer="/credentialSchema", code="TRUST_LIST_MALFORMED"))
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if issuer_id != expected_issuer:
        errors.append(MalformedValueError(f"the trust list is issued by {issuer_id!r}, not by {expected_issuer}",
                                          pointer="/issuer", code="UNEXPECTED_TRUST_LIST_ISSUER"))
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        errors.append(MalformedValueError("credentialSubject must be one object", pointer="/credentialSubject",
                                          code="TRUST_LIST_MALFORMED"))
    else:
        errors.extend(_subject_errors(subject, expected_issuer))
    if errors:
        return CheckResult.failed("trustList", errors)
    return CheckResult.ok("trustList", trustListVersion=credential["credentialSubject"]["trustListVersion"])


def _subject_errors(subject: Mapping[str, Any], expected_issuer: str) -> list[ChopmarkError]:
    errors: list[ChopmarkError] = []
    if subject.get("id") != expected_issuer:
        errors.append(MalformedValueError("the trust list must be about its issuer", pointer="/credentialSubject/id",
                                          code="TRUST_LIST_MALFORMED"))
    version = subject.get("trustListVersion")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        errors.append(MalformedValueError("trustListVersion must be a non-negative integer",
                                          pointer="/credentialSubject/trustListVersion", code="TRUST_LIST_MALFORMED"))
    for name in ("authorizations", "members"):
        value = subject.get(name)
        if not isinstance(value, list) or not all(isinstance(e, Mapping) for e in value):
            errors.append(MalformedValueError(f"{name} must be a list of objects",
                                              pointer=f"/credentialSubject/{name}", code="TRUST_LIST_MALFORMED"))
    return errors
