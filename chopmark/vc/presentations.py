"""Verifiable Presentations (VC Data Model 2.0 §4.13): create, sign, verify.

A presentation is signed for the ``authentication`` purpose with the verifier's ``challenge`` and ``domain``.
Verifying it checks the data model, the presentation proof, that the holder controls the presentation key,
and every enclosed credential. A credential without a proof is accepted only when it is self-asserted: its
issuer is the holder, who signed the presentation (§4.13.1 "Presentations Including Holder Claims").
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from chopmark.errors import ChopmarkError, CryptographicSecurityError, MalformedValueError
from chopmark.integrity.checks import CheckResult
from chopmark.integrity.proofs import MethodResolver, ProofOptions, SignerLike, VerifyOptions, add_proof, verify_proofs
from chopmark.integrity.suites import DEFAULT_ACCEPTED
from chopmark.jsonld import DocumentLoader
from chopmark.jsonld.validation import check_jsonld, check_plain_json
from chopmark.jsonld.values import as_list
from chopmark.vc import datamodel
from chopmark.vc.credentials import (
    CredentialPolicy,
    SchemaChecker,
    StatusChecker,
    apply_schema,
    apply_validity,
    verify_with_policy,
)
from chopmark.vc.datamodel import data_model_check
from chopmark.vc.related import ResourceLookup, pinned_revisions
from chopmark.vc.results import VerificationResult

ENVELOPED_VC = "EnvelopedVerifiableCredential"


def create_presentation(credentials: Sequence[Mapping[str, Any]], *, holder: str | None = None,
                        presentation_id: str | None = None,
                        extra_contexts: Sequence[str | Mapping[str, Any]] = ()) -> dict[str, Any]:
    """Build an unsigned presentation around ``credentials``."""
    vp: dict[str, Any] = {"@context": [datamodel.V2_CONTEXT, *extra_contexts], "type": ["VerifiablePresentation"]}
    if presentation_id is not None:
        vp["id"] = presentation_id
    if holder is not None:
        vp["holder"] = holder
    if credentials:
        vp["verifiableCredential"] = [copy.deepcopy(dict(c)) for c in credentials]
    return vp


def sign_presentation(presentation: Mapping[str, Any], signer: SignerLike, *, suite: str = "eddsa-rdfc-2022",
                      challenge: str | None = None, domain: str | None = None, created: str | None = None,
                      loader: DocumentLoader | None = None) -> dict[str, Any]:
    """Secure a presentation with an ``authentication`` proof after checking its data model."""
    loader = loader or DocumentLoader.pinned()
    check_plain_json(presentation)
    errors = check_presentation(presentation)
    if errors:
        raise errors[0]
    check_jsonld(presentation, loader)
    options = ProofOptions(suite=suite, proof_purpose="authentication", challenge=challenge, domain=domain,
                           created=created)
    return add_proof(presentation, signer, options, loader)


def check_presentation(document: Any) -> list[ChopmarkError]:
    """Data-model rules of a presentation (§4.13): contexts, type, id, holder, verifiableCredential."""
    if not isinstance(document, Mapping):
        return [MalformedValueError("a presentation must be a JSON object")]
    errors = datamodel.check_contexts(document) + datamodel.check_types(document, "VerifiablePresentation")
    if "id" in document:
        errors += datamodel.check_id(document["id"], "id")
    if "holder" in document:
        holder = document["holder"]
        if isinstance(holder, Mapping):
            errors += datamodel.check_id(holder.get("id"), "holder/id")
        else:
            errors += datamodel.check_id(holder, "holder")
    for index, vc in enumerate(as_list(document.get("verifiableCredential"))):
        errors += _check_enclosed(vc, f"verifiableCredential/{index}")
    return errors


def _check_enclosed(vc: Any, where: str) -> list[ChopmarkError]:
    if not isinstance(vc, Mapping):
        return [MalformedValueError(f"{where} must be a credential object, not a string", pointer=where)]
    if ENVELOPED_VC in as_list(vc.get("type")):
        # §4.13.2 Enveloped Verifiable Credentials: @context, id (a data: URL) and type
        errors = datamodel.check_contexts(vc)
        if not (isinstance(vc.get("id"), str) and vc["id"].startswith("data:")):
            errors.append(MalformedValueError(f"{where}/id must be a data: URL", pointer=f"{where}/id"))
        return errors
    return datamodel.check_types(vc, "VerifiableCredential", f"{where}/type")


def holder_id(document: Mapping[str, Any]) -> str | None:
    """The holder URL from the string or object form."""
    holder = document.get("holder")
    value = holder.get("id") if isinstance(holder, Mapping) else holder
    return value if isinstance(value, str) else None


def verify_presentation(presentation: Any, *, resolver: MethodResolver, now: datetime,
                        challenge: str | None, domain: str | None = None, loader: DocumentLoader | None = None,
                        accepted_suites: Collection[str] = DEFAULT_ACCEPTED,
                        max_clock_skew: timedelta = timedelta(minutes=5), issuer_binding: bool = True,
                        status_checker: StatusChecker | None = None,
                        schema_checker: SchemaChecker | None = None, validity: bool = True,
                        resources: ResourceLookup = pinned_revisions) -> VerificationResult:
    """Verify the presentation proof (``authentication``, challenge, domain), holder binding, and every VC.

    ``challenge`` is keyword-required: pass the challenge you expect, or ``None`` deliberately (the result then
    carries the ``CHALLENGE_NOT_CHECKED`` warning: nothing shows the presentation is not a replay).
    ``schema_checker`` is applied to each enclosed credential that names a ``credentialSchema``.
    """
    loader = loader or DocumentLoader.pinned()
    result = VerificationResult(kind="presentation")
    data_model, processable = data_model_check(presentation, check_presentation, loader)
    result.add(data_model)
    if not processable:
        return result
    options = VerifyOptions(accepted_suites=tuple(accepted_suites), expected_purpose="authentication",
                            challenge=challenge, domain=domain, now=now, max_clock_skew=max_clock_skew)
    outcomes = verify_proofs(presentation, resolver, loader, options)
    for outcome in outcomes:
        result.add(outcome.check)
    if challenge is None:  # Data Integrity §4.4 step 6 applies only when the verifier expects a challenge
        result.warn("CHALLENGE_NOT_CHECKED", "no expected challenge was given: the presentation may be a replay",
                    check="challenge")
    holder = holder_id(presentation)
    signers = {o.controller for o in outcomes if o.check.passed and o.controller}
    result.add(_holder_binding(holder, signers))
    policy = CredentialPolicy(now=now, accepted_suites=tuple(accepted_suites), max_clock_skew=max_clock_skew,
                              issuer_binding=issuer_binding, status_checker=status_checker,
                              schema_checker=schema_checker, validity=validity, resources=resources)
    for vc in as_list(presentation.get("verifiableCredential")):
        result.credentials.append(_verify_enclosed(vc, holder, signers, resolver, loader, policy))
    return result


def _holder_binding(holder: str | None, signers: set[str]) -> CheckResult:
    # The holder must control the key that signed the presentation
    if holder is None or holder in signers:
        return CheckResult.ok("holderBinding", holder=holder)
    error = CryptographicSecurityError(f"holder {holder!r} did not sign the presentation", pointer="holder",
                                       code="HOLDER_MISMATCH")
    return CheckResult.failed("holderBinding", [error], holder=holder, signers=sorted(signers))


def _verify_enclosed(vc: Any, holder: str | None, signers: set[str], resolver: MethodResolver,
                     loader: DocumentLoader, policy: CredentialPolicy) -> VerificationResult:
    if isinstance(vc, Mapping) and ENVELOPED_VC in as_list(vc.get("type")):
        out = VerificationResult(kind="credential")
        error = CryptographicSecurityError("enveloped credentials (VC-JOSE-COSE) are not verified by this "
                                           "verifier", code="UNSUPPORTED_ENVELOPE")
        out.add(CheckResult.failed("envelope", [error], id=str(vc.get("id", ""))[:64]))
        return out
    if isinstance(vc, Mapping) and "proof" not in vc:
        return _self_asserted(vc, holder, signers, loader, policy)
    return verify_with_policy(vc, resolver, loader, policy)


def _self_asserted(vc: Mapping[str, Any], holder: str | None, signers: set[str], loader: DocumentLoader,
                   policy: CredentialPolicy) -> VerificationResult:
    out = VerificationResult(kind="credential")
    out.add(data_model_check(vc, datamodel.check_credential, loader)[0])
    issuer = datamodel.issuer_id(vc)
    if holder is not None and issuer == holder and holder in signers:
        out.add(CheckResult.ok("selfAsserted", issuer=issuer))
    else:
        error = CryptographicSecurityError(
            "a credential without a proof is acceptable only when its issuer is the holder who signed the "
            "presentation", code="UNSECURED_CREDENTIAL")
        out.add(CheckResult.failed("selfAsserted", [error], issuer=issuer, holder=holder))
    apply_validity(out, vc, policy)
    apply_schema(out, vc, policy)
    return out
