"""Issue and verify W3C Verifiable Credentials (VC Data Model 2.0; VC 1.1 dates verified too).

Everything that does I/O or depends on time is a parameter: the document loader, the DID resolver, the status
checker and ``now``. :func:`verify_credential` never raises for a bad credential; it returns a
:class:`~chopmark.vc.results.VerificationResult` naming every failed check.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chopmark.codecs import multibase
from chopmark.codecs.dates import parse_datetime
from chopmark.errors import ChopmarkError, CryptographicSecurityError, RangeError
from chopmark.integrity.checks import CheckResult
from chopmark.integrity.proofs import MethodResolver, ProofOptions, SignerLike, VerifyOptions, add_proof, verify_proofs
from chopmark.integrity.suites import DEFAULT_ACCEPTED
from chopmark.jsonld import DocumentLoader
from chopmark.jsonld.validation import check_jsonld, check_plain_json
from chopmark.jsonld.values import as_list
from chopmark.vc import datamodel
from chopmark.vc.datamodel import data_model_check
from chopmark.vc.results import VerificationResult

#: ``status_checker(entry, credential) -> details``; raises a ChopmarkError when the status is not good.
StatusChecker = Callable[[Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any]]
#: ``schema_checker(credential) -> CheckResult`` (e.g. :func:`chopmark.vocab.schema.check_schemas`).
SchemaChecker = Callable[[Mapping[str, Any]], CheckResult]


def issue(credential: Mapping[str, Any], signer: SignerLike, *, suite: str = "eddsa-rdfc-2022",
          loader: DocumentLoader | None = None, created: str | None = None, issuer: str | None = None,
          proof_id: str | None = None, previous_proof: str | list[str] | None = None,
          allow_legacy: bool = False) -> dict[str, Any]:
    """Secure ``credential`` with a Data Integrity proof after checking the data model.

    ``issuer`` (when given) replaces the issuer URL, keeping the object form. ``created`` is the proof's
    creation time (callers pass their clock's value; the kernel reads no clock). Raises the first
    data-model or JSON-LD error found.
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
    options = ProofOptions(suite=suite, created=created, id=proof_id, previous_proof=previous_proof,
                           allow_legacy=allow_legacy)
    return add_proof(document, signer, options, loader)


@dataclass(frozen=True)
class CredentialPolicy:
    """How a credential is verified. ``now`` is required: validity is always checked against a clock."""

    now: datetime
    accepted_suites: Collection[str] = DEFAULT_ACCEPTED
    max_clock_skew: timedelta = timedelta(minutes=5)
    issuer_binding: bool = True
    status_checker: StatusChecker | None = None
    related_resources: Mapping[str, bytes] = field(default_factory=dict)
    expected_purpose: str = "assertionMethod"
    schema_checker: SchemaChecker | None = None


def verify_credential(credential: Any, *, resolver: MethodResolver, now: datetime,
                      loader: DocumentLoader | None = None, accepted_suites: Collection[str] = DEFAULT_ACCEPTED,
                      max_clock_skew: timedelta = timedelta(minutes=5), issuer_binding: bool = True,
                      status_checker: StatusChecker | None = None,
                      related_resources: Mapping[str, bytes] | None = None,
                      schema_checker: SchemaChecker | None = None) -> VerificationResult:
    """Verify a credential: data model, every proof, validity period, issuer binding, status, resources and,
    when ``schema_checker`` is given and the credential names a ``credentialSchema``, its schemas."""
    policy = CredentialPolicy(now=now, accepted_suites=tuple(accepted_suites), max_clock_skew=max_clock_skew,
                              issuer_binding=issuer_binding, status_checker=status_checker,
                              related_resources=dict(related_resources or {}), schema_checker=schema_checker)
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
    result.add(check_validity(credential, policy))
    if policy.issuer_binding:
        controllers = {o.controller for o in outcomes if o.check.passed and o.controller}
        result.add(_issuer_binding(credential, controllers))
    if policy.status_checker is not None and "credentialStatus" in credential:
        result.add(_status(credential, policy.status_checker))
    if policy.related_resources and "relatedResource" in credential:
        result.add(_related(credential, policy.related_resources))
    schema = check_schema(credential, policy)
    if schema is not None:
        result.add(schema)
    return result


def check_schema(credential: Mapping[str, Any], policy: CredentialPolicy) -> CheckResult | None:
    """The ``schema`` check (VCDM 2.0 §4.11 Data Schemas) when the policy has a schema checker and the
    credential names a ``credentialSchema``; ``None`` when it does not apply."""
    if policy.schema_checker is None or "credentialSchema" not in credential:
        return None
    try:
        return policy.schema_checker(credential)
    except ChopmarkError as exc:  # a checker should report, not raise; verification never raises
        return CheckResult.failed("schema", [exc])


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


def _related(credential: Mapping[str, Any], supplied: Mapping[str, bytes]) -> CheckResult:
    # VCDM 2.0 §5.3: each supplied resource must match its digestSRI and/or digestMultibase
    errors: list[ChopmarkError] = []
    checked = []
    for item in as_list(credential["relatedResource"]):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str) or item["id"] not in supplied:
            continue
        content = supplied[item["id"]]
        checked.append(item["id"])
        for key, fn in (("digestSRI", _sri_matches), ("digestMultibase", _multibase_digest_matches)):
            if key in item and not fn(item[key], content):
                errors.append(RangeError(f"{key} of {item['id']} does not match the resource",
                                         pointer="relatedResource", code="DIGEST_MISMATCH"))
    if errors:
        return CheckResult.failed("relatedResource", errors, checked=checked)
    return CheckResult.ok("relatedResource", checked=checked)


_SRI = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
# multihash codes (multicodec table): sha2-256 0x12, sha2-512 0x13, sha2-384 0x20
_MULTIHASH = {0x12: hashlib.sha256, 0x13: hashlib.sha512, 0x20: hashlib.sha384}


def _sri_matches(value: Any, content: bytes) -> bool:
    # Subresource Integrity §3.5: "alg-base64", several may be given separated by whitespace
    if not isinstance(value, str):
        return False
    for token in value.split():
        alg, _, digest = token.partition("-")
        fn = _SRI.get(alg)
        if fn is not None and base64.b64encode(fn(content).digest()).decode() == digest.split("?")[0]:
            return True
    return False


def _multibase_digest_matches(value: Any, content: bytes) -> bool:
    if not isinstance(value, str):
        return False
    try:
        raw = multibase.decode(value)
        code, used = multibase.varint_decode(raw)
        length, used2 = multibase.varint_decode(raw[used:])
    except ChopmarkError:
        return False
    fn = _MULTIHASH.get(code)
    digest = raw[used + used2:]
    return fn is not None and len(digest) == length and fn(content).digest() == digest

