"""A site's onboarding policy applied to a verified presentation: which credential qualifies, and why not.

Input is the verifier's :class:`~chopmark.vc.results.VerificationResult` (every cryptographic and data-model
check, status, schema) plus the site's :class:`~verifier.sites.SiteProfile` and the trust registry. Output is a
list of reasons, each ``{code, check, detail}``; no reasons and one qualifying credential means accepted.
A decision is "held" rather than "rejected" when every reason is a suspension: the merchant may come back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chopmark.jsonld.values import as_list
from chopmark.vc.datamodel import issuer_id
from chopmark.vc.presentations import holder_id
from chopmark.vc.results import VerificationResult
from chopmark.vocab import MARKETPLACE_SELLER, MERCHANT_IDENTITY
from chopmark.vocab.identifiers import jurisdiction_covers
from verifier.sites import SELLER_CLAIMS, SiteProfile
from verifier.trust import TrustLookup

Reason = dict[str, str]
HELD_CODES = frozenset({"SUSPENDED"})


def reason(code: str, check: str, detail: str) -> Reason:
    """One reason of a decision."""
    return {"code": code, "check": check, "detail": detail}


@dataclass
class Evaluation:
    """The outcome of applying a profile: the qualifying credential (if any) and every reason."""

    reasons: list[Reason] = field(default_factory=list)
    credential: Mapping[str, Any] | None = None

    @property
    def decision(self) -> str:
        """``accepted``, ``held`` (only suspensions stand in the way) or ``rejected``."""
        if self.credential is not None and not self.reasons:
            return "accepted"
        if self.reasons and all(r["code"] in HELD_CODES for r in self.reasons):
            return "held"
        return "rejected"


@dataclass(frozen=True)
class PolicyContext:
    """What the policy needs besides the presentation: the profile, trust, the clock value, site DIDs."""

    profile: SiteProfile
    trust: TrustLookup
    now: datetime
    site_did: Callable[[str], str | None]
    #: for a reused seller credential: the reasons the identity credential it relied on no longer holds (status)
    identity_status: Callable[[Mapping[str, Any]], list[Reason]] = lambda _: []


def result_reasons(result: VerificationResult) -> list[Reason]:
    """Every failed check of a verification result (not of its enclosed credentials) as reasons."""
    return [reason(p.code, check.check, p.detail) for check in result.checks if not check.passed
            for p in check.problems]


def evaluate_presentation(presentation: Mapping[str, Any], result: VerificationResult,
                          ctx: PolicyContext) -> Evaluation:
    """Apply the site's policy to a verified presentation. The first credential that passes every check
    qualifies; when none does, the reasons of every candidate are reported."""
    outcome = Evaluation(reasons=result_reasons(result))
    holder = holder_id(presentation)
    candidates = []
    for vc, vc_result in zip(as_list(presentation.get("verifiableCredential")), result.credentials, strict=False):
        if isinstance(vc, Mapping) and _credential_type(vc) in ctx.profile.accepted_types:
            candidates.append((vc, vc_result))
    if not candidates:
        wanted = " or ".join(ctx.profile.accepted_types)
        outcome.reasons.append(reason("CREDENTIAL_MISSING", "policy", f"the presentation holds no {wanted}"))
        return outcome
    failures: list[Reason] = []
    for vc, vc_result in candidates:
        reasons = evaluate_credential(vc, vc_result, ctx, holder=holder)
        if not reasons and not outcome.reasons:
            outcome.credential = vc
            return outcome
        failures.extend(reasons)
    outcome.reasons.extend(failures)
    return outcome


def evaluate_credential(vc: Mapping[str, Any], vc_result: VerificationResult, ctx: PolicyContext, *,
                        holder: str | None) -> list[Reason]:
    """The reasons ``vc`` does not satisfy the profile (verifier checks, trust, binding, claims)."""
    reasons = result_reasons(vc_result)
    kind = _credential_type(vc)
    subject = _subject(vc)
    issuer = issuer_id(vc) or ""
    jurisdiction = subject.get("jurisdiction") if isinstance(subject.get("jurisdiction"), str) else None
    if kind == MARKETPLACE_SELLER:
        reasons += _seller_source(issuer, ctx) + ctx.identity_status(subject)
    decision = ctx.trust.decide(issuer, "issue", kind or "", at=ctx.now, jurisdiction=jurisdiction)
    if not decision.authorized:
        code = "TRUST_LIST_UNAVAILABLE" if decision.reason == "trust-list-unavailable" else "ISSUER_NOT_AUTHORIZED"
        reasons.append(reason(code, "trust",
                              f"the trust registry does not authorize {issuer} to issue {kind}"
                              f"{' for ' + jurisdiction if jurisdiction else ''}: "
                              f"{decision.message} ({decision.reason})"))
    if ctx.profile.holder_binding and (holder is None or subject.get("id") != holder):
        reasons.append(reason("SUBJECT_NOT_HOLDER", "holderBinding",
                              f"the credential's subject {subject.get('id')!r} is not the presenter {holder!r}"))
    required = [c for c in ctx.profile.required_claims if kind != MARKETPLACE_SELLER or c in SELLER_CLAIMS]
    missing = [c for c in required if c not in subject]
    if missing:
        reasons.append(reason("CLAIM_MISSING", "policy", f"required claims missing: {', '.join(missing)}"))
    if jurisdiction is not None and not any(jurisdiction_covers(j, jurisdiction) for j in ctx.profile.jurisdictions):
        reasons.append(reason("JURISDICTION_NOT_ACCEPTED", "policy",
                              f"this site does not onboard merchants from {jurisdiction}"))
    return reasons


def _seller_source(issuer: str, ctx: PolicyContext) -> list[Reason]:
    """Cross-site reuse: another member site's seller credential counts only if this profile names it."""
    allowed = ctx.profile.accept_seller_credentials_from
    names = {ctx.site_did(name) or name for name in allowed if name != "*"}
    if "*" not in allowed and issuer not in names:
        return [reason("SITE_NOT_ACCEPTED", "policy",
                       f"this site does not accept seller credentials issued by {issuer}")]
    if ctx.trust.member(issuer) is None:
        return [reason("SITE_NOT_MEMBER", "trust", f"{issuer} is not an active member site of the trust registry")]
    return []


def merchant_claims(vc: Mapping[str, Any], profile: SiteProfile) -> dict[str, Any]:
    """The claims a decision reports: the merchant's DID, the credential used, the claims the site relies on."""
    subject = _subject(vc)
    wanted = {"legalName", "jurisdiction", *profile.required_claims}
    claims = {name: subject[name] for name in sorted(wanted) if name in subject}
    return {"did": subject.get("id"), "credentialType": _credential_type(vc), "credentialId": vc.get("id"),
            "issuer": issuer_id(vc), **claims}


def _credential_type(vc: Mapping[str, Any]) -> str | None:
    types = as_list(vc.get("type"))
    return next((t for t in (MERCHANT_IDENTITY, MARKETPLACE_SELLER) if t in types), None)


def _subject(vc: Mapping[str, Any]) -> Mapping[str, Any]:
    subjects = as_list(vc.get("credentialSubject"))
    first = subjects[0] if subjects else {}
    return first if isinstance(first, Mapping) else {}
