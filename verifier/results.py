"""Shape kernel verification results as the VC API's ``VerificationResult`` (VCALM components
``VerifyCredentialResult.yml`` and ``VerifyPresentationResult.yml``).

``results`` carries exactly the members the VC API defines (``proof``, ``validFrom``, ``validUntil``,
``credentialStatus``; for presentations ``presentation`` and ``credentials``); ``problemDetails`` lists every
problem of every failed check, each with a ``check`` member naming the check (``dataModel``, ``proof``,
``validity``, ``issuerBinding``, ``status``, ``holderBinding``, ``challenge``, ...), then one problem with
``severity: "warning"`` per check that was not performed (``VALIDITY_NOT_CHECKED``, ``CHALLENGE_NOT_CHECKED``,
...): warnings never make ``verified`` false.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chopmark.integrity.checks import CheckResult
from chopmark.jsonld.values import as_list
from chopmark.vc.results import VerificationResult


def _problems(check: CheckResult) -> list[dict[str, Any]]:
    return [{**p.to_dict(), "check": check.check} for p in check.problems]


def problem_details(result: VerificationResult) -> list[dict[str, Any]]:
    """Every problem of ``result``'s own checks (not of enclosed credentials)."""
    return [p for check in result.checks for p in _problems(check)]


def warnings(result: VerificationResult) -> list[dict[str, Any]]:
    """``result``'s own warnings (checks not performed) as problem details with ``severity: warning``: VCALM's
    result has no other member for them, and they do not make ``verified`` false."""
    return [{**w.to_dict(), "severity": "warning"} for w in result.warnings]


def _proof_items(result: VerificationResult, document: Any) -> list[dict[str, Any]]:
    proofs = as_list(document.get("proof")) if isinstance(document, Mapping) else []
    items = []
    for check in result.checks:
        if check.check == "proof" or check.check.startswith("proof["):
            index = int(check.check[6:-1]) if check.check.startswith("proof[") else 0
            proof = proofs[index] if index < len(proofs) and isinstance(proofs[index], Mapping) else {}
            items.append({"verified": check.passed, "input": proof, "problemDetails": _problems(check)})
    return items


def _dates(result: VerificationResult, document: Mapping[str, Any]) -> dict[str, Any]:
    check = result.check("validity")
    out: dict[str, Any] = {}
    if check is None:
        return out
    for name, legacy in (("validFrom", "issuanceDate"), ("validUntil", "expirationDate")):
        field = name if name in document else legacy if legacy in document else None
        if field is None:
            continue
        value = document[field]
        # VCALM: ``input`` is a string; a date that is not a string is malformed, so it never verifies.
        failed = not isinstance(value, str) or any(p.pointer in (None, field) for p in check.problems)
        out[name] = {"verified": not failed, "input": value if isinstance(value, str) else json.dumps(value)}
    return out


def _status_items(result: VerificationResult, document: Mapping[str, Any]) -> list[dict[str, Any]]:
    check = result.check("status")
    if check is None:
        return []
    details = {(d.get("purpose"), str(d.get("index"))): d for d in check.details.get("entries", [])}
    items = []
    for position, entry in enumerate(as_list(document.get("credentialStatus"))):
        if not isinstance(entry, Mapping):
            continue
        key = (entry.get("statusPurpose"), str(entry.get("statusListIndex")))
        mine = [p for p in _problems(check) if p.get("entry") == position]
        item: dict[str, Any] = {"verified": key in details and not mine, "input": dict(entry),
                                "problemDetails": mine}
        if key in details and isinstance(details[key].get("status"), int):
            item["value"] = details[key]["status"]
        elif any(p.get("code") in ("REVOKED", "SUSPENDED", "STATUS_SET") for p in mine):
            item["value"] = 1  # the bit is set
        items.append(item)
    return items


def credential_response(result: VerificationResult, credential: Any, *, return_credential: bool = False,
                        return_results: bool = True, return_problems: bool = True) -> dict[str, Any]:
    """The VC API body for ``POST /credentials/verify`` (and for each credential of a presentation)."""
    out: dict[str, Any] = {"verified": result.verified}
    if return_credential and isinstance(credential, Mapping):  # VCALM: ``credential`` is an object
        out["credential"] = credential
    out["problemDetails"] = problem_details(result) + warnings(result) if return_problems else []
    if return_results and isinstance(credential, Mapping):
        results: dict[str, Any] = {"proof": _proof_items(result, credential)}
        results.update(_dates(result, credential))
        statuses = _status_items(result, credential)
        if statuses:
            results["credentialStatus"] = statuses
        out["results"] = results
    return out


def presentation_response(result: VerificationResult, presentation: Any, *, challenge: str | None,
                          domain: str | None, return_presentation: bool = False) -> dict[str, Any]:
    """The VC API body for ``POST /presentations/verify``."""
    out: dict[str, Any] = {"verified": result.verified}
    if return_presentation:
        out["verifiablePresentation"] = presentation
    out["problemDetails"] = problem_details(result) + warnings(result)  # each credential's: in its own result
    if not isinstance(presentation, Mapping):
        return out
    own: dict[str, Any] = {"proof": _proof_items(result, presentation)}
    proof_codes = {p.code for c in result.checks if c.check.startswith("proof") for p in c.problems}
    single_use = result.check("challenge")
    if challenge is not None:
        ok = "INVALID_CHALLENGE_ERROR" not in proof_codes and (single_use is None or single_use.passed)
        own["challenge"] = {"verified": ok, "input": challenge}
    if domain is not None:
        own["domain"] = {"verified": "INVALID_DOMAIN_ERROR" not in proof_codes, "input": domain}
    holder = result.check("holderBinding")
    if holder is not None and isinstance(presentation.get("holder"), str | Mapping):
        holder_value = presentation["holder"]
        own["holder"] = {"verified": holder.passed,
                         "input": holder_value if isinstance(holder_value, str) else str(holder_value.get("id"))}
    credentials = [credential_response(sub, vc, return_credential=True)
                   for sub, vc in zip(result.credentials, as_list(presentation.get("verifiableCredential")),
                                      strict=False)]
    out["results"] = {"presentation": own, "credentials": credentials}
    return out
