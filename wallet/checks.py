"""What the wallet checks before it stores a credential, and how it adopts a trust list.

A received credential is stored only when all of these hold (every failure is reported, none short-circuits):

1. ``chopmark.vc.credentials.verify_credential``: data model, every proof, validity period (VCDM 2.0 §4.9),
   issuer binding (the issuer controls the signing key) and the JSON Schemas the credential names
   (``chopmark.vocab.schema.check_schemas``; a schema that is not pinned is refused);
2. ``subject``: a credential subject is this wallet's holder DID;
3. ``trust``: for each of the credential's types, the issuer is authorized to ``issue`` it by the trust list
   at the current time, in ``credentialSubject.jurisdiction`` when the credential names one
   (``chopmark.trust.evaluate``; member sites are implicitly authorized for MarketplaceSellerCredential).

The trust list is the registry's signed ``TrustListCredential``: it is verified against the configured registry
DID (``chopmark.trust.verify_trust_list``) and cached in the wallet file, so receiving and presenting keep
working from the cache while its ``validUntil`` has not passed. A list older than the cached one (an earlier
``validFrom``) is never adopted: a replayed old list cannot undo a suspension.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chopmark import trust
from chopmark.codecs.dates import parse_datetime
from chopmark.errors import ChopmarkError
from chopmark.integrity.proofs import MethodResolver
from chopmark.jsonld import DocumentLoader
from chopmark.jsonld.values import as_list
from chopmark.vc import datamodel
from chopmark.vc.credentials import verify_credential
from chopmark.vc.results import VerificationResult
from chopmark.vocab.schema import check_schemas
from wallet import query
from wallet.core import Wallet
from wallet.errors import CredentialRefusedError, TrustListUnavailableError, WalletConfigError

Reason = dict[str, Any]


def reason(code: str, check: str, detail: str) -> Reason:
    """One refusal reason, in the shape the service's decisions use."""
    return {"code": code, "check": check, "detail": detail}


def result_reasons(result: VerificationResult) -> list[Reason]:
    """A reason per problem of every failed check of a verification result."""
    out: list[Reason] = []
    for check in result.checks:
        if check.passed:
            continue
        problems = check.problems or []
        out.extend(reason(p.code, check.check, p.detail) for p in problems)
        if not problems:
            out.append(reason(check.check.upper(), check.check, f"the {check.check} check failed"))
    for enclosed in result.credentials:
        out.extend(result_reasons(enclosed))
    return out


def _subject_reasons(credential: Mapping[str, Any], holder: str) -> list[Reason]:
    subjects = query.subject_ids(credential)
    if holder in subjects:
        return []
    return [reason("SUBJECT_NOT_HOLDER", "subject",
                   f"the credential is about {', '.join(subjects) or 'no identified subject'}, not this wallet's "
                   f"DID {holder}")]


def jurisdiction_of(credential: Mapping[str, Any]) -> str | None:
    """``credentialSubject.jurisdiction`` of the first subject that has one (None when absent)."""
    for subject in as_list(credential.get("credentialSubject")):
        if isinstance(subject, Mapping) and isinstance(subject.get("jurisdiction"), str):
            return str(subject["jurisdiction"])
    return None


def trust_reasons(credential: Mapping[str, Any], trust_subject: Mapping[str, Any], wallet: Wallet) -> list[Reason]:
    """A reason per credential type its issuer is not authorized to issue (``chopmark.trust.evaluate``)."""
    issuer = datamodel.issuer_id(credential)
    types = [t for t in as_list(credential.get("type")) if isinstance(t, str) and t != "VerifiableCredential"]
    if issuer is None or not types:
        return [reason("ISSUER_NOT_AUTHORIZED", "trust", "the credential has no issuer or no specific type")]
    jurisdiction = jurisdiction_of(credential)
    out: list[Reason] = []
    for credential_type in types:
        decision = trust.evaluate(trust_subject, issuer, trust.ISSUE, credential_type, at=wallet.now(),
                                  jurisdiction=jurisdiction)
        if not decision.authorized:
            where = f" in {jurisdiction}" if jurisdiction else ""
            out.append(reason("ISSUER_NOT_AUTHORIZED", "trust",
                              f"{issuer} is not authorized to issue {credential_type}{where} "
                              f"({decision.reason}: {decision.message})"))
    return out


def check_credential(wallet: Wallet, credential: Any, *, resolver: MethodResolver,
                     trust_subject: Mapping[str, Any] | None,
                     loader: DocumentLoader | None = None) -> tuple[list[Reason], VerificationResult]:
    """Run every receiving check; return the reasons for refusal (empty: acceptable) and the verification
    result. ``trust_subject`` None means no trust list could be obtained (a refusal reason)."""
    result = verify_credential(credential, resolver=resolver, now=wallet.now(), loader=loader,
                               schema_checker=check_schemas)
    reasons = result_reasons(result)
    if not isinstance(credential, Mapping):
        return reasons or [reason("NOT_A_CREDENTIAL", "dataModel", "not a JSON object")], result
    reasons += _subject_reasons(credential, wallet.did)
    if trust_subject is None:
        reasons.append(reason("TRUST_LIST_UNAVAILABLE", "trust", "no verified trust list is available"))
    else:
        reasons += trust_reasons(credential, trust_subject, wallet)
    return reasons, result


def receive(wallet: Wallet, credential: Any, *, resolver: MethodResolver, trust_subject: Mapping[str, Any] | None,
            loader: DocumentLoader | None = None) -> dict[str, Any]:
    """Check ``credential`` and store it; raise :class:`CredentialRefusedError` with every reason otherwise."""
    reasons, result = check_credential(wallet, credential, resolver=resolver, trust_subject=trust_subject,
                                       loader=loader)
    if reasons:
        codes = ", ".join(dict.fromkeys(r["code"] for r in reasons))
        raise CredentialRefusedError(f"credential refused: {codes}", reasons=reasons)
    settings = wallet.settings
    verified_by = {"checks": [c.check for c in result.checks] + ["subject", "trust"],
                   "registry": settings.get("registryDid"),
                   "trustListVersion": trust_subject.get("trustListVersion") if trust_subject else None}
    return wallet.add(credential, verified_by)


def _valid_from(credential: Mapping[str, Any]) -> Any:
    try:
        return parse_datetime(credential.get("validFrom"), name="validFrom")
    except ChopmarkError:
        return None


def cached_trust_subject(wallet: Wallet) -> dict[str, Any] | None:
    """The subject of the cached trust list when it was issued by the configured registry and is still valid
    (its ``validUntil`` has not passed); otherwise None."""
    cached = wallet.trust_cache()
    registry = wallet.settings.get("registryDid")
    if cached is None or registry is None or cached.get("registryDid") != registry:
        return None
    credential = cached["credential"]
    if not query.valid_at(credential, wallet.now()) or not isinstance(credential.get("credentialSubject"), dict):
        return None
    return dict(credential["credentialSubject"])


def adopt_trust_list(wallet: Wallet, credential: Any, *, resolver: MethodResolver,
                     loader: DocumentLoader | None = None) -> dict[str, Any]:
    """Verify a freshly fetched trust list against the configured registry DID, cache it and return its
    subject. Raises :class:`TrustListUnavailableError` (with the reasons) when it does not verify."""
    registry = wallet.settings.get("registryDid")
    if not isinstance(registry, str):
        raise WalletConfigError("no trust registry is configured (set one with `chopmark wallet config --registry`)")
    subject, result = trust.verify_trust_list(credential, resolver=resolver, now=wallet.now(), loader=loader,
                                              expected_issuer=registry, schema_checker=check_schemas)
    if subject is None:
        reasons = result_reasons(result)
        codes = ", ".join(dict.fromkeys(r["code"] for r in reasons))
        raise TrustListUnavailableError(f"the trust list of {registry} does not verify: {codes}", reasons=reasons)
    cached = wallet.trust_cache()
    if cached is not None and cached.get("registryDid") == registry:
        if cached["credential"] == credential:
            return subject
        older, newer = _valid_from(credential), _valid_from(cached["credential"])
        if older is not None and newer is not None and older < newer:
            cached_subject = cached_trust_subject(wallet)
            if cached_subject is not None:
                return cached_subject  # rollback defence: keep the newer cached list
    wallet.cache_trust_list(credential, fetched=wallet.now())
    return subject
