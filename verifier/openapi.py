"""The verifier role's part of the OpenAPI document (assembled by :func:`chopmark.web.openapi.document`):

* :data:`VERIFICATION`: verify credentials and presentations, challenges (VCALM);
* :data:`SITES`: marketplace sites: their policies, onboarding exchanges, sellers and profiles.
"""

from __future__ import annotations

from typing import Any

from chopmark.web.openapi import EXCHANGE_PARAM, JSON, PROBLEM, Fragment, ok, operation, path_param, problem
from chopmark.web.openapi_schemas import ISSUER_NAME, Schema, array, obj, ref

STRING: Schema = {"type": "string"}
ANY_OBJECT: Schema = {"type": "object"}


def _verify_responses(result: str, what: str) -> dict[str, dict[str, Any]]:
    """200 and 400 of the verify operations: a failed verification is 400 with the result body."""
    return {"200": ok(f"The {what} verified: every requested check passed.", result),
            "400": {"description": f"The {what} did not verify (a `{result}` with `verified: false`), or the "
                                   "request is invalid (problem details).",
                    "content": {JSON: {"schema": ref(result)}, PROBLEM: problem(400)["content"][PROBLEM]}}}


_CHECKS_NOTE = ("`options.checks` narrows the checks (`proof` always runs); every check it leaves out is listed "
                "in the result's `problemDetails` as a warning (`severity: warning`; ISSUER_BINDING_NOT_CHECKED, "
                "VALIDITY_NOT_CHECKED, STATUS_NOT_CHECKED, SCHEMA_NOT_CHECKED), so `verified: true` never hides a "
                "skipped check. Checks that cannot be performed are warnings too: a `credentialSchema` of a type "
                "other than JsonSchema or JsonSchemaCredential (SCHEMA_NOT_CHECKED, naming the type), a "
                "`relatedResource` this service cannot obtain without the network (RELATED_RESOURCE_NOT_CHECKED). "
                "The digests of related resources it can obtain (pinned contexts and their published revisions, "
                "its own DID documents) are compared (VCDM 2.0 §5.3).")
_CHALLENGE_NOTE = ("The proof's challenge must equal `options.challenge`, which the caller may choose itself or "
                   "take from POST /challenges, and its domain `options.domain`. A challenge from POST /challenges "
                   "is consumed on first use whether or not the caller names it. When no challenge is checked "
                   "(no `options.challenge` and the proof's challenge is not one of this service's) the result "
                   "carries the warning CHALLENGE_NOT_CHECKED (in `problemDetails`, `severity: warning`).")


def _described(op: dict[str, Any], description: str) -> dict[str, Any]:
    """``op`` with a longer ``description`` than its summary."""
    return {**op, "description": description}


def _verification_paths() -> dict[str, Any]:
    """Verify credentials and presentations; challenges (VCALM paths)."""
    return {
        "/credentials/verify": {"post": _described(operation(
            "verifyCredential", "verifier", "Verify a credential (VCALM).",
            ok=_verify_responses("VerificationResult", "credential"), errors=(422,),
            body="VerifyCredentialRequest"), _CHECKS_NOTE)},
        "/presentations/verify": {"post": _described(operation(
            "verifyPresentation", "verifier", "Verify a presentation and the credentials in it (VCALM).",
            ok=_verify_responses("PresentationVerificationResult", "presentation"), errors=(422,),
            body="VerifyPresentationRequest"), _CHALLENGE_NOTE + " " + _CHECKS_NOTE)},
        "/challenges": {"post": operation(
            "challenge", "verifier", "A single-use challenge for options.challenge (VCALM).",
            ok={"200": ok("A fresh challenge.", "CreateChallengeResult")})},
    }


def _site_schemas() -> dict[str, Schema]:
    """The component schemas of sites and onboarding."""
    reason = obj({"code": STRING, "check": STRING, "detail": STRING}, ["code", "check", "detail"])
    profile = obj({"site": STRING, "displayName": STRING, "acceptedTypes": array(STRING),
                   "acceptSellerCredentialsFrom": array(STRING), "requiredClaims": array(STRING),
                   "jurisdictions": array(STRING), "acceptedSuites": array(STRING),
                   "maxStatusAgeSeconds": {"type": "integer"}, "holderBinding": {"type": "boolean"},
                   "domainLinkage": {"type": "boolean"}, "sellerCredentialDays": {"type": "integer"}})
    return {
        "OnboardingStart": obj({"id": STRING, "site": STRING, "verifiablePresentationRequest":
                                ref("PresentationRequest"), "expires": STRING},
                               ["id", "site", "verifiablePresentationRequest", "expires"]),
        "OnboardingDecision": obj({"id": STRING, "site": STRING, "accepted": {"type": "boolean"},
                                   "decision": {"enum": ["accepted", "held", "rejected"]},
                                   "merchant": ANY_OBJECT, "reasons": array(reason),
                                   "sellerAccountId": STRING, "verifiableCredential": ANY_OBJECT,
                                   "elapsedMs": {"type": "number"}},
                                  ["site", "accepted", "decision", "merchant", "reasons"]),
        "SellerRecord": obj({"account": STRING, "did": STRING, "site": STRING, "onboardedAt": STRING,
                             "identityCredential": ANY_OBJECT, "sellerCredentialIds": array(STRING)},
                            ["account", "did", "site"]),
        "SiteProfile": profile,
        "Site": {"allOf": [profile, obj({"did": STRING, "onboardingUrl": STRING}, ["site", "did", "onboardingUrl"])]},
        "SiteList": obj({"sites": array(ref("Site"))}, ["sites"]),
    }


def _site_paths() -> dict[str, Any]:
    """Sites, onboarding exchanges, sellers, and the sites' profiles (admin)."""
    site = path_param("site", "The site (an issuer name with a profile).", {"type": "string", "pattern": ISSUER_NAME},
                      "site-a")
    account = path_param("account", "The seller account id.", {"type": "string", "maxLength": 64})
    decision = {"200": ok("The decision (accepted, held or rejected, with reasons).", "OnboardingDecision")}
    return {
        "/sites": {"get": operation("listSites", "sites", "Every marketplace site with its policy.",
                             ok={"200": ok("The sites.", "SiteList")})},
        "/sites/{site}": {"get": operation("getSite", "sites", "A site's policy and onboarding URL.",
                                    ok={"200": ok("The site.", "Site")}, errors=(404,), params=[site])},
        "/sites/{site}/onboarding": {"post": operation(
            "startOnboarding", "sites", "Open an onboarding exchange: the presentation request.",
            ok={"201": ok("The exchange and its request.", "OnboardingStart")}, errors=(404,), params=[site])},
        "/sites/{site}/onboarding/{exchange_id}": {
            "post": operation("finishOnboarding", "sites", "Answer with the merchant's presentation: the decision.",
                       ok=decision, errors=(404, 409, 422), body="PresentationBody", params=[site, EXCHANGE_PARAM]),
            "get": operation("getOnboardingDecision", "sites", "A decision made earlier.", ok=decision, errors=(404,),
                      params=[site, EXCHANGE_PARAM])},
        "/sites/{site}/sellers/{account}": {"get": operation(
            "getSeller", "sites", "An onboarded seller (the site's token).", ok={"200": ok("The seller.",
                                                                                          "SellerRecord")},
            errors=(404,), secured=True, params=[site, account])},
        "/sites/{site}/sellers/{account}/verify": {"post": operation(
            "recheckSeller", "sites", "Verify an onboarded merchant again (status, validity, trust, policy).",
            ok=decision, errors=(404, 409), secured=True, params=[site, account])},
        "/admin/sites/{site}/profile": {
            "get": operation("adminGetSiteProfile", "admin", "A site's profile (its admin token or a global one).",
                      ok={"200": ok("The profile.", "SiteProfile")}, errors=(404,), secured=True, params=[site]),
            "put": operation("adminPutSiteProfile", "admin", "Create or replace a site's profile.",
                      ok={"200": ok("The stored profile.", "SiteProfile")}, errors=(404,), body="SiteProfile",
                      secured=True, params=[site])},
    }


VERIFICATION = Fragment(paths=_verification_paths,
                        tag={"name": "verifier", "description": "Verify credentials and presentations; challenges "
                                                                "(VCALM)."})
SITES = Fragment(paths=_site_paths, schemas=_site_schemas,
                 tag={"name": "sites", "description": "Marketplace sites: policies, onboarding exchanges, sellers."})
