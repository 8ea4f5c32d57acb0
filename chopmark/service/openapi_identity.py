"""OpenAPI paths and schemas of merchant identity: vocabulary, trust registry, KYB exchanges, sites, onboarding.

Kept apart from :mod:`chopmark.service.openapi` (which merges them into the one document) so each module stays
small; the helpers that build operations come from there.
"""

from __future__ import annotations

from typing import Any

from chopmark.service.openapi_schemas import ISSUER_NAME, Schema, array, obj, ref

STRING: Schema = {"type": "string"}
ANY_OBJECT: Schema = {"type": "object"}
TRUST_ID: Schema = {"type": "string", "minLength": 1, "maxLength": 512}


def identity_schemas() -> dict[str, Schema]:
    """The component schemas of this part."""
    reason = obj({"code": STRING, "check": STRING, "detail": STRING}, ["code", "check", "detail"])
    request = obj({"query": array(ANY_OBJECT), "challenge": STRING, "domain": STRING},
                  ["query", "challenge", "domain"])
    presentation_body = obj({"verifiablePresentation": ANY_OBJECT}, ["verifiablePresentation"], closed=True)
    entry = obj({"id": STRING, "entryStatus": {"enum": ["active", "suspended"]}}, ["id", "entryStatus"])
    profile = obj({"site": STRING, "displayName": STRING, "acceptedTypes": array(STRING),
                   "acceptSellerCredentialsFrom": array(STRING), "requiredClaims": array(STRING),
                   "jurisdictions": array(STRING), "acceptedSuites": array(STRING),
                   "maxStatusAgeSeconds": {"type": "integer"}, "holderBinding": {"type": "boolean"},
                   "domainLinkage": {"type": "boolean"}, "sellerCredentialDays": {"type": "integer"}})
    return {
        "PresentationRequest": request,
        "ExchangeStart": obj({"exchangeId": STRING, "verifiablePresentationRequest": ref("PresentationRequest"),
                              "expires": STRING}, ["exchangeId", "verifiablePresentationRequest", "expires"]),
        "PresentationBody": presentation_body,
        "ExchangeResult": obj({"verifiablePresentation": obj({"verifiableCredential": array(ANY_OBJECT)},
                                                             ["verifiableCredential"]),
                               "credentialId": STRING}, ["verifiablePresentation"]),
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
        "TrustQuery": obj({"entity_id": STRING, "authority_id": STRING, "action": STRING, "resource": STRING,
                           "jurisdiction": STRING, "time": STRING},
                          ["entity_id", "authority_id", "action", "resource"]),
        "TrustQueryResult": obj({"entity_id": STRING, "authority_id": STRING, "action": STRING,
                                 "resource": STRING, "authorized": {"type": "boolean"}, "message": STRING,
                                 "time_requested": STRING, "time_evaluated": STRING},
                                ["authorized", "entity_id", "authority_id", "action", "resource"]),
        "TrustEntry": entry,
        "TrustAuthorizationRequest": obj({"entityId": STRING, "action": STRING, "resource": STRING,
                                          "jurisdictions": array(STRING), "authorizedFrom": STRING,
                                          "authorizedUntil": STRING}, ["entityId", "resource"]),
        "TrustMemberRequest": obj({"id": STRING, "name": STRING, "onboardingUrl": STRING, "role": STRING},
                                  ["id", "name", "onboardingUrl"]),
        "TrustAuthorizationList": obj({"authorizations": array(ref("TrustEntry")),
                                       "trustListVersion": {"type": "integer"}}, ["authorizations"]),
        "TrustMemberList": obj({"members": array(ref("TrustEntry")), "trustListVersion": {"type": "integer"}},
                               ["members"]),
        "JsonLdContext": obj({"@context": ANY_OBJECT}, ["@context"]),
        "JsonSchemaDocument": obj({"$id": STRING, "$schema": STRING}, ["$id"]),
    }


def identity_paths(op: Any, ok: Any, path_param: Any) -> dict[str, Any]:
    """The paths; ``op``/``ok``/``path_param`` are :mod:`chopmark.service.openapi`'s builders."""
    name = path_param("name", "The issuer name (a DNS label).", {"type": "string", "pattern": ISSUER_NAME}, "alpha")
    site = path_param("site", "The site (an issuer name with a profile).", {"type": "string", "pattern": ISSUER_NAME},
                      "site-a")
    exchange = path_param("exchange_id", "The exchange id.", {"type": "string", "maxLength": 64})
    account = path_param("account", "The seller account id.", {"type": "string", "maxLength": 64})
    entry = path_param("entry_id", "The authorization id (urn:uuid:...).", TRUST_ID)
    member = path_param("member_id", "The member's DID.", TRUST_ID)
    decision = {"200": ok("The decision (accepted, held or rejected, with reasons).", "OnboardingDecision")}
    paths: dict[str, Any] = {
        "/contexts/chopmark/v1": {"get": op("getChopmarkContext", "registry", "The Chopmark JSON-LD context.",
                                            ok={"200": ok("The context.", "JsonLdContext",
                                                          media=("application/ld+json",))})},
        "/schemas/{schema}/v1": {"get": op(
            "getCredentialSchema", "registry", "A Chopmark credential type's JSON Schema.",
            ok={"200": ok("The schema.", "JsonSchemaDocument", media=("application/schema+json",))},
            errors=(404,), params=[path_param("schema", "The schema name.", STRING, "merchant-identity")])},
        "/issuers/{name}/exchanges": {"post": op(
            "startKybExchange", "issuer", "Open a KYB exchange: a DIDAuthentication presentation request.",
            ok={"201": ok("The exchange and its request.", "ExchangeStart")}, errors=(404,), params=[name])},
        "/issuers/{name}/exchanges/{exchange_id}": {"post": op(
            "continueKybExchange", "issuer", "Answer with a DID-Auth presentation carrying kybApplication; the "
            "authority issues a MerchantIdentityCredential.", ok={"200": ok("The issued credential.",
                                                                            "ExchangeResult")},
            errors=(404, 409, 422), body="PresentationBody", params=[name, exchange])},
        "/sites": {"get": op("listSites", "sites", "Every marketplace site with its policy.",
                             ok={"200": ok("The sites.", "SiteList")})},
        "/sites/{site}": {"get": op("getSite", "sites", "A site's policy and onboarding URL.",
                                    ok={"200": ok("The site.", "Site")}, errors=(404,), params=[site])},
        "/sites/{site}/onboarding": {"post": op(
            "startOnboarding", "sites", "Open an onboarding exchange: the presentation request.",
            ok={"201": ok("The exchange and its request.", "OnboardingStart")}, errors=(404,), params=[site])},
        "/sites/{site}/onboarding/{exchange_id}": {
            "post": op("finishOnboarding", "sites", "Answer with the merchant's presentation: the decision.",
                       ok=decision, errors=(404, 409, 422), body="PresentationBody", params=[site, exchange]),
            "get": op("getOnboardingDecision", "sites", "A decision made earlier.", ok=decision, errors=(404,),
                      params=[site, exchange])},
        "/sites/{site}/sellers/{account}": {"get": op(
            "getSeller", "sites", "An onboarded seller (the site's token).", ok={"200": ok("The seller.",
                                                                                          "SellerRecord")},
            errors=(404,), secured=True, params=[site, account])},
        "/sites/{site}/sellers/{account}/verify": {"post": op(
            "recheckSeller", "sites", "Verify an onboarded merchant again (status, validity, trust, policy).",
            ok=decision, errors=(404, 409), secured=True, params=[site, account])},
        "/admin/sites/{site}/profile": {
            "get": op("adminGetSiteProfile", "admin", "A site's profile (its admin token or a global one).",
                      ok={"200": ok("The profile.", "SiteProfile")}, errors=(404,), secured=True, params=[site]),
            "put": op("adminPutSiteProfile", "admin", "Create or replace a site's profile.",
                      ok={"200": ok("The stored profile.", "SiteProfile")}, errors=(404,), body="SiteProfile",
                      secured=True, params=[site])},
    }
    paths.update(_trust_paths(op, ok, entry, member))
    return paths


def _trust_paths(op: Any, ok: Any, entry: dict[str, Any], member: dict[str, Any]) -> dict[str, Any]:
    list_ok = {"200": ok("The signed TrustListCredential.", "VerifiableCredential"),
               "304": {"description": "Not modified (If-None-Match matched)."}}
    if_none_match = {"name": "If-None-Match", "in": "header", "required": False, "schema": STRING}
    out: dict[str, Any] = {
        "/trust/authorization": {"post": op(
            "queryTrustAuthorization", "trust", "TRQP-style query: is the entity authorized? (absent: no).",
            ok={"200": ok("The answer.", "TrustQueryResult")}, body="TrustQuery")},
        "/trust/list": {"get": op("getTrustList", "trust", "The whole trust registry as a signed credential.",
                                  ok=list_ok, params=[if_none_match])},
    }
    for kind, param, request, listing in (("authorizations", entry, "TrustAuthorizationRequest",
                                           "TrustAuthorizationList"),
                                          ("members", member, "TrustMemberRequest", "TrustMemberList")):
        single = kind[:-1].title()
        base = f"/admin/trust/{kind}"
        key = "{" + param["name"] + "}"
        out[base] = {
            "get": op(f"adminList{single}s", "admin", f"Every trust {kind[:-1]} (global admin).",
                      ok={"200": ok("The entries.", listing)}, secured=True),
            "post": op(f"adminAdd{single}", "admin", f"Add a trust {kind[:-1]} (global admin).",
                       ok={"201": ok("The entry.", "TrustEntry")}, errors=(404, 409), body=request, secured=True)}
        for action in ("suspend", "resume"):
            out[f"{base}/{key}/{action}"] = {"post": op(
                f"admin{action.title()}{single}", "admin", f"{action.title()} a trust {kind[:-1]}.",
                ok={"200": ok("The entry.", "TrustEntry")}, errors=(404, 409), secured=True, params=[param])}
        out[f"{base}/{key}"] = {"delete": op(
            f"adminRemove{single}", "admin", f"Remove a trust {kind[:-1]} for good.",
            ok={"204": {"description": "Removed."}}, errors=(404,), secured=True, params=[param])}
    return out
