"""Issue and verify W3C Verifiable Credentials (VC Data Model 2.0; VC 1.1 dates verified too).

Everything that does I/O or depends on time is a parameter: the document loader, the DID resolver, the status
checker and ``now``. :func:`verify_credential` never raises for a bad credential; it returns a
:class:`~chopmark.vc.results.VerificationResult` naming every failed check.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chopmark.codecs.dates import parse_datetime
from chopmark.errors import ChopmarkError, CryptographicSecurityError, RangeError
from chopmark.integrity.checks import CheckResult
from chopmark.integrity.proofs import MethodResolver, ProofOptions, SignerLike, VerifyOptions, add_proof, verify_proofs
from chopmark.integrity.suites import DEFAULT_ACCEPTED
from chopmark.jsonld import DocumentLoader
from chopmark.jsonld.validation import check_jsonld, check_plain_json
from chopmark.jsonld.values import as_list
from chopmark.vc import datamodel
from chopmark.vc.datamodel import CHECKABLE_SCHEMA_TYPES, data_model_check, split_schemas
from chopmark.vc.related import ResourceLookup, check_related, lookup_with, pinned_revisions, related_errors
from chopmark.vc.results import VerificationResult

#: ``status_checker(entry, credential) -> details``; raises a ChopmarkError when the status is not good.
StatusChecker = Callable[[Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any]]
#: ``schema_checker(credential) -> CheckResult`` (e.g. :func:`chopmark.vocab.schema.check_schemas`).
SchemaChecker = Callable[[Mapping[str, Any]], CheckResult]


def issue(credential: Mapping[str, Any], signer: SignerLike, *, suite: str = "eddsa-rdfc-2022",
          loader: DocumentLoader | None = None, created: str | None = None, issuer: str | None = None,
          proof_id: str | None = None, previous_proof: str | list[str] | None = None,
          allow_legacy: bool = False, resources: ResourceLookup = pinned_revisions) -> dict[str, Any]:
    """Secure ``credential`` with a Data Integrity proof after checking the data model.

    ``issuer`` (when given) replaces the issuer URL, keeping the object form. ``created`` is the proof's
    creation time (callers pass their clock's value; the kernel reads no clock). Raises the first
    data-model or JSON-LD error found, or the first ``relatedResource`` whose digest does not match the
    revisions ``resources`` can obtain (VCDM 2.0 §5.3).
    """
    loader = loader or DocumentLoader.pinned()
    check_plain_json(credential)
    document = copy.deepcopy(dict(credential))
    if issuer is not None:
        if isinstance(document.get("issuer"), Mapping):
            document["issuer"] = {**document["issuer"], "id": issuer}
        else:
            document["issuer"] = issuer
    errors = datamodel.check_credential(document)
    if errors:
        raise errors[0]
    check_jsonld(document, loader)
    if "relatedResource" in document:  # VCDM 2.0 §5.3: never sign a digest that does not match
        mismatches, _, _ = related_errors(document, resources)
        if mismatches:
            raise mismatches[0]
    options = ProofOptions(suite=suite, created=created, id=proof_id, previous_proof=previous_proof,
                           allow_legacy=allow_legacy)
    return add_proof(document, signer, options, loader)


@dataclass(frozen=True)
class CredentialPolicy:
    """How a credential is verified. ``now`` is required: validity is checked against a clock unless
    ``validity`` is False. Every check the policy leaves out is reported as a warning in the result."""

    now: datetime
    accepted_suites: Collection[str] = DEFAULT_ACCEPTED
    max_clock_skew: timedelta = timedelta(minutes=5)
    issuer_binding: bool = True
    status_checker: StatusChecker | None = None
    related_resources: Mapping[str, bytes] = field(default_factory=dict)
    expected_purpose: str = "assertionMethod"
    schema_checker: SchemaChecker | None = None
    validity: bool = True
    resources: ResourceLookup = pinned_revisions
    schema_types: frozenset[str] = CHECKABLE_SCHEMA_TYPES


def verify_credential(credential: Any, *, resolver: MethodResolver, now: datetime,
                      loader: DocumentLoader | None = None, accepted_suites: Collection[str] = DEFAULT_ACCEPTED,
                      max_clock_skew: timedelta = timedelta(minutes=5), issuer_binding: bool = True,
                      status_checker: StatusChecker | None = None,
                      related_resources: Mapping[str, bytes] | None = None,
                      schema_checker: SchemaChecker | None = None, validity: bool = True,
                      resources: ResourceLookup = pinned_revisions) -> VerificationResult:
    """Verify a credential: data model, every proof, validity period, issuer binding, status, related resources
    (``related_resources`` supplied by the caller, then what ``resources`` can obtain) and, when
    ``schema_checker`` is given and the credential names a ``credentialSchema``, its schemas."""
    policy = CredentialPolicy(now=now, accepted_suites=tuple(accepted_suites), max_clock_skew=max_clock_skew,
                              issuer_binding=issuer_binding, status_checker=status_checker,
                              related_resources=dict(related_resources or {}), schema_checker=schema_checker,
                              validity=validity, resources=resources)
    return verify_with_policy(credential, resolver, loader or DocumentLoader.pinned(), policy)


def verify_with_policy(credential: Any, resolver: MethodResolver, loader: DocumentLoader,
                       policy: CredentialPolicy) -> VerificationResult:
    """Verify ``credential`` under ``policy`` (used directly by presentations)."""
    result = VerificationResult(kind="credential")
    data_model, processable = data_model_check(credential, datamodel.check_credential, loader)
    result.add(data_model)
    if not processable:
        return result
    options = VerifyOptions(accepted_suites=policy.accepted_suites, expected_purpose=policy.expected_purpose,
                            now=policy.now, max_clock_skew=policy.max_clock_skew)
    outcomes = verify_proofs(credential, resolver, loader, options)
    for outcome in outcomes:
        result.add(outcome.check)
    apply_validity(result, credential, policy)
    if policy.issuer_binding:
        controllers = {o.controller for o in outcomes if o.check.passed and o.controller}
        result.add(_issuer_binding(credential, controllers))
    else:
        result.warn("ISSUER_BINDING_NOT_CHECKED", "the issuer was not checked against the signing key's "
                    "controller: the credential may be signed by anyone", check="issuerBinding")
    if "credentialStatus" in credential:
        if policy.status_checker is not None:
            result.add(_status(credential, policy.status_checker))
        else:
            result.warn("STATUS_NOT_CHECKED", "credentialStatus was not checked (revocation, suspension)",
                        check="status")
    if "relatedResource" in credential:
        _apply_related(result, credential, policy)
    apply_schema(result, credential, policy)
    return result


def apply_validity(result: VerificationResult, credential: Mapping[str, Any], policy: CredentialPolicy) -> None:
    """Add the validity check, or the ``VALIDITY_NOT_CHECKED`` warning when the policy leaves it out."""
    if policy.validity:
        result.add(check_validity(credential, policy))
    else:
        result.warn("VALIDITY_NOT_CHECKED", "the validity period (validFrom/validUntil) was not checked",
                    check="validity")


def _apply_related(result: VerificationResult, credential: Mapping[str, Any], policy: CredentialPolicy) -> None:
    # VCDM 2.0 §5.3: compare the digests of every resource obtainable here (caller-supplied, then the lookup)
    check, unchecked = check_related(credential, lookup_with(policy.related_resources, policy.resources))
    if check is not None:
        result.add(check)
    for url in unchecked:
        result.warn("RELATED_RESOURCE_NOT_CHECKED", f"the digest of {url[:200]} was not checked: the resource "
                    "cannot be obtained without the network, or its digest algorithm is not supported",
                    check="relatedResource", resource=url[:200])


def apply_schema(result: VerificationResult, credential: Mapping[str, Any], policy: CredentialPolicy) -> None:
    """The ``schema`` check (VCDM 2.0 §4.11 Data Schemas) of the entries whose type the policy's checker
    handles; a ``SCHEMA_NOT_CHECKED`` warning naming each other type, or every entry when there is no checker.
    """
    if "credentialSchema" not in credential:
        return
    checkable, others = split_schemas(credential, policy.schema_types)
    if policy.schema_checker is None:
        result.warn("SCHEMA_NOT_CHECKED", "credentialSchema was not checked", check="schema")
        return
    for kind in others:  # §4.11: validity is determined by the rules of each type; these are unknown here
        result.warn("SCHEMA_NOT_CHECKED", f"credentialSchema of type {kind!r} cannot be checked by this "
                    "verifier", check="schema", schemaType=kind)
    if checkable is None:
        return
    try:
        result.add(policy.schema_checker(checkable))
    except ChopmarkError as exc:  # a checker should report, not raise; verification never raises
        result.add(CheckResult.failed("schema", [exc]))


def check_validity(credential: Mapping[str, Any], policy: CredentialPolicy) -> CheckResult:
    """The validity-period check of ``credential`` against ``policy.now`` (with the allowed skew)."""
    # VCDM 2.0 §4.9: now must lie within [validFrom, validUntil]; VC 1.1 uses issuanceDate/expirationDate
    v1 = datamodel.context_version(credential) == 1
    start_key, end_key = ("issuanceDate", "expirationDate") if v1 else ("validFrom", "validUntil")
    errors: list[ChopmarkError] = []
    skew = policy.max_clock_skew
    try:
        if start_key in credential:
            start = parse_datetime(credential[start_key], require_zone=not v1, name=start_key)
            if start - policy.now > skew:  # a difference of datetimes never overflows
                errors.append(RangeError(f"the credential is not valid before {credential[start_key]}",
                                         pointer=start_key, code="NOT_YET_VALID"))
        if end_key in credential:
            end = parse_datetime(credential[end_key], require_zone=not v1, name=end_key)
            if policy.now - end > skew:
                errors.append(RangeError(f"the credential expired at {credential[end_key]}",
                                         pointer=end_key, code="EXPIRED"))
    except ChopmarkError as exc:
        errors.append(exc)
    return CheckResult.failed("validity", errors) if errors else CheckResult.ok("validity")


def _issuer_binding(credential: Mapping[str, Any], controllers: set[str]) -> CheckResult:
    # The issuer must control a key that signed an assertionMethod proof (as CredentialIssuancePurpose does)
    issuer = datamodel.issuer_id(credential)
    if issuer is not None and issuer in controllers:
        return CheckResult.ok("issuerBinding", issuer=issuer)
    detail = f"issuer {issuer!r} is not the controller of any verified proof's verification method"
    error = CryptographicSecurityError(detail, pointer="issuer", code="ISSUER_MISMATCH")
    return CheckResult.failed("issuerBinding", [error], issuer=issuer, controllers=sorted(controllers))


def _status(credential: Mapping[str, Any], checker: StatusChecker) -> CheckResult:
    errors: list[ChopmarkError] = []
    details: list[Mapping[str, Any]] = []
    for entry in as_list(credential["credentialStatus"]):
        try:
            details.append(checker(entry, credential))
        except ChopmarkError as exc:
            errors.append(exc)
    if errors:  # the entries that did pass are still reported
        return CheckResult.failed("status", errors, entries=[dict(d) for d in details])
    return CheckResult.ok("status", entries=[dict(d) for d in details])
