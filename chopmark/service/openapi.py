"""The OpenAPI 3.0 description of the service, served at ``/openapi.json``.

Built from small helpers so every operation lists exactly the statuses its handler can produce: the shared
plumbing (:mod:`chopmark.service.web`) adds 401 to every operation (a malformed or unknown ``Authorization``
header is refused before any handler runs), 429 (rate limit) and 503 (store unreachable) to every operation, and
400/413/415 to every operation that reads a JSON body. Errors are ``application/problem+json`` (RFC 9457).
Schemas live in :mod:`chopmark.service.openapi_schemas`.
"""

from __future__ import annotations

from typing import Any

from chopmark.service.openapi_campaigns import TAG as CAMPAIGNS_TAG
from chopmark.service.openapi_campaigns import campaign_paths, campaign_schemas
from chopmark.service.openapi_identity import identity_paths, identity_schemas
from chopmark.service.openapi_log import TAG as LOG_TAG
from chopmark.service.openapi_log import log_paths, log_schemas
from chopmark.service.openapi_schemas import ISSUER_NAME, STATUS_LIST_ID, Schema, ref, schemas

PROBLEM = "application/problem+json"
JSON = "application/json"
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]

_ERRORS: dict[int, str] = {
    400: "Bad request: the body or a parameter is invalid (problem details say which member).",
    401: "Missing, malformed or unknown bearer token. Public operations answer 401 too when an Authorization "
         "header is sent but is not a valid `Bearer <token>`.",
    403: "The token lacks the needed scope or may not act for this issuer.",
    404: "Not found.",
    405: "Method not allowed on this resource; the `Allow` header lists the allowed methods.",
    409: "Conflict with the current state.",
    410: "Gone: the resource was deleted.",
    413: "The request body exceeds the configured maximum (max_body_bytes, 1 MiB by default).",
    415: "The request body is not `application/json`.",
    422: "The body is JSON but not the expected kind of document.",
    429: "Too many requests for this client in the current minute; see `Retry-After`.",
    503: "The store is unavailable; retry later.",
}
_ERROR_NAMES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
                409: "Conflict", 410: "Gone", 413: "PayloadTooLarge", 415: "UnsupportedMediaType",
                422: "Unprocessable", 429: "RateLimited", 503: "ServiceUnavailable"}
ALWAYS = (401, 429, 503)
BODY = (400, 413, 415)


def _header(description: str, schema: Schema | None = None, *, required: bool = False) -> dict[str, Any]:
    """A response header object (a string unless ``schema`` says otherwise)."""
    return {"description": description, "required": required, "schema": schema or {"type": "string"}}


def _problem(status: int) -> dict[str, Any]:
    """A problem-details response whose ``status`` member equals the HTTP status."""
    schema = {"allOf": [ref("ProblemDetails"), {"type": "object", "properties": {"status": {"enum": [status]}}}]}
    out: dict[str, Any] = {"description": _ERRORS[status], "content": {PROBLEM: {"schema": schema}}}
    if status == 429:
        out["headers"] = {"Retry-After": _header("Seconds until the next window.", {"type": "integer"},
                                                 required=True)}
    if status == 401:
        out["headers"] = {"WWW-Authenticate": _header("`Bearer realm=\"chopmark\"`, with `error=\"invalid_token\"` "
                                                      "or `error=\"invalid_request\"` when a token was sent.",
                                                      required=True)}
    if status == 405:
        out["headers"] = {"Allow": _header("The allowed methods.", required=True)}
    return out


def _error_refs(*codes: int) -> dict[str, Any]:
    """References to the shared problem responses of ``codes``."""
    return {str(code): {"$ref": f"#/components/responses/{_ERROR_NAMES[code]}"} for code in sorted(set(codes))}


def _ok(description: str, schema_name: str | None, *, media: tuple[str, ...] = (JSON,),
        headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A success response: ``schema_name`` under each media type (none: no body)."""
    out: dict[str, Any] = {"description": description}
    if schema_name is not None:
        out["content"] = {m: {"schema": ref(schema_name)} for m in media}
    if headers:
        out["headers"] = headers
    return out


def _path_param(name: str, description: str, schema: Schema, example: str | None = None) -> dict[str, Any]:
    """A required path parameter."""
    param: dict[str, Any] = {"name": name, "in": "path", "required": True, "description": description,
                             "schema": schema}
    if example is not None:
        param["example"] = example
    return param


ISSUER_PARAM = _path_param("name", "The issuer name (a DNS label).", {"type": "string", "pattern": ISSUER_NAME},
                           "alpha")
LOCATION = {"Location": _header("Where the created resource is served.", required=True)}


def operation(op_id: str, tag: str, summary: str, *, ok: dict[str, dict[str, Any]], errors: tuple[int, ...] = (),
              body: str | None = None, secured: bool = False,
              params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One operation: its success responses, the listed error statuses plus the ones every operation has."""
    codes = set(errors) | set(ALWAYS) | (set(BODY) if body else set())
    if secured:
        codes |= {401, 403}
    op: dict[str, Any] = {"operationId": op_id, "tags": [tag], "summary": summary,
                          "security": BEARER if secured else [],
                          "responses": dict(sorted({**_error_refs(*codes), **ok}.items()))}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(body)}}}
    return op


def _verify_responses(result: str, what: str) -> dict[str, dict[str, Any]]:
    """200 and 400 of the verify operations: a failed verification is 400 with the result body."""
    return {"200": _ok(f"The {what} verified: every requested check passed.", result),
            "400": {"description": f"The {what} did not verify (a `{result}` with `verified: false`), or the "
                                   "request is invalid (problem details).",
                    "content": {JSON: {"schema": ref(result)}, PROBLEM: _problem(400)["content"][PROBLEM]}}}


def _credential_paths() -> dict[str, Any]:
    """The issuer and verifier roles (VCALM paths)."""
    id_param = _path_param("id", "The credentialId (URL-encoded).", {"type": "string", "minLength": 1,
                                                                      "maxLength": 512})
    idem = {"name": "Idempotency-Key", "in": "header", "required": False,
            "description": "Replays of the same key and body return the first credential (201, "
                           "`Idempotent-Replayed: true`); another body with the key is 422.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255}}
    issued = {"201": _ok("Issued; the credential is recorded.", "IssueCredentialResponse", headers={
        **LOCATION, "Idempotent-Replayed": _header("`true` when this answers a replayed Idempotency-Key.")})}
    issue_errors = (404, 409, 422)
    return {
        "/credentials/issue": {"post": operation(
            "issueCredential", "issuer", "Issue a credential as the token's issuer (VCALM).", ok=issued,
            errors=issue_errors, body="IssueCredentialRequest", secured=True, params=[idem])},
        "/issuers/{name}/credentials/issue": {"post": operation(
            "issueCredentialForIssuer", "issuer", "Issue a credential as the named issuer.", ok=issued,
            errors=issue_errors, body="IssueCredentialRequest", secured=True, params=[ISSUER_PARAM, idem])},
        "/credentials/{id}": {
            "get": operation("getCredential", "issuer", "A credential this issuer issued (VCALM).",
                             ok={"200": _ok("The stored credential.", "VerifiableCredentialResponse")},
                             errors=(404, 405, 410), secured=True, params=[id_param]),
            "delete": operation("deleteCredential", "issuer", "Delete a stored credential; its status entries "
                                "stay usable (VCALM).", ok={"202": {"description": "Deleted (no body)."}},
                                errors=(404, 405, 410), secured=True, params=[id_param])},
        "/credentials/status": {"post": operation(
            "updateCredentialStatus", "issuer", "Set or clear one status bit of a credential (VCALM).",
            ok={"200": _ok("The bit was written; the body says what changed.", "UpdateCredentialStatusResult")},
            errors=(404,), body="UpdateCredentialStatusRequest", secured=True)},
        "/credentials/verify": {"post": operation(
            "verifyCredential", "verifier", "Verify a credential (VCALM).",
            ok=_verify_responses("VerificationResult", "credential"), errors=(422,),
            body="VerifyCredentialRequest")},
        "/presentations/verify": {"post": operation(
            "verifyPresentation", "verifier", "Verify a presentation and the credentials in it (VCALM).",
            ok=_verify_responses("PresentationVerificationResult", "presentation"), errors=(422,),
            body="VerifyPresentationRequest")},
        "/challenges": {"post": operation(
            "challenge", "verifier", "A single-use challenge for options.challenge (VCALM).",
            ok={"200": _ok("A fresh challenge.", "CreateChallengeResult")})},
    }


def _registry_paths() -> dict[str, Any]:
    """DID documents and status lists."""
    list_param = _path_param("id", "The status list id.", {"type": "string", "pattern": STATUS_LIST_ID})
    validators = {"ETag": _header("Weak validator of the list's bits.", required=True),
                  "Cache-Control": _header("`public, max-age=0, must-revalidate`.", required=True)}
    if_none_match = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
                     "description": "An ETag from an earlier response: 304 when the list has not changed."}
    created_list = {"201": _ok("Created; it becomes the issuer's current list for the purpose.",
                               "CreateStatusListResponse", headers=LOCATION)}
    did = {"200": _ok("The DID document.", "DidDocument", media=("application/did+json",))}
    return {
        "/.well-known/did.json": {"get": operation("getHostDidDocument", "registry", "The host's DID document.",
                                                   ok=did)},
        "/issuers/{name}/did.json": {"get": operation(
            "getIssuerDidDocument", "registry", "An issuer's DID document (did:web).", ok=did, errors=(404,),
            params=[ISSUER_PARAM])},
        "/status-lists/{id}": {"get": operation(
            "getStatusList", "registry", "The signed BitstringStatusListCredential (public, VCALM).",
            ok={"200": _ok("The status list credential (`application/vc+ld+json` when the Accept header asks "
                           "for application/vc...).", "VerifiableCredential",
                           media=(JSON, "application/vc+ld+json"), headers=validators),
                "304": {"description": "Not modified (If-None-Match matched).", "headers": validators}},
            errors=(404,), params=[list_param, if_none_match])},
        "/status-lists": {"post": operation(
            "createStatusList", "registry", "Create a status list for the token's issuer (VCALM).",
            ok=created_list, errors=(404, 409), body="CreateStatusListRequest", secured=True)},
        "/issuers/{name}/status-lists": {"post": operation(
            "createStatusListForIssuer", "registry", "Create a status list for the named issuer.",
            ok=created_list, errors=(404, 409), body="CreateStatusListRequest", secured=True,
            params=[ISSUER_PARAM])},
    }


def _admin_paths() -> dict[str, Any]:
    """Issuer, key and token administration."""
    key_param = _path_param("key_id", "The key id (key-N).", {"type": "string"}, "key-1")
    token_param = _path_param("token_id", "The token id (16 hex digits).", {"type": "string"})
    issuer = {"200": _ok("The issuer.", "Issuer")}
    return {
        "/admin/issuers": {
            "post": operation("adminCreateIssuer", "admin", "Create an issuer (global admin token).",
                              ok={"201": _ok("Created.", "Issuer", headers=LOCATION)}, errors=(409,),
                              body="CreateIssuerRequest", secured=True),
            "get": operation("adminListIssuers", "admin", "Every issuer (global admin token).",
                             ok={"200": _ok("The issuers.", "IssuerList")}, secured=True)},
        "/admin/issuers/{name}": {"get": operation(
            "adminGetIssuer", "admin", "One issuer (its admin token, or a global one).", ok=issuer,
            errors=(404,), secured=True, params=[ISSUER_PARAM])},
        "/admin/issuers/{name}/keys": {"post": operation(
            "adminRotateKey", "admin", "Add a key and make it the signing key for its type.",
            ok={"201": _ok("The issuer with its new key.", "Issuer")}, errors=(404,), body="RotateKeyRequest",
            secured=True, params=[ISSUER_PARAM])},
        "/admin/issuers/{name}/keys/{key_id}": {"delete": operation(
            "adminRemoveKey", "admin", "Remove a key that is not a current signing key.", ok=issuer,
            errors=(404, 409), secured=True, params=[ISSUER_PARAM, key_param])},
        "/admin/tokens": {
            "post": operation("adminCreateToken", "admin", "Create a token (global admin); shown once.",
                              ok={"201": _ok("The token and its record.", "CreatedToken")}, errors=(404,),
                              body="CreateTokenRequest", secured=True),
            "get": operation("adminListTokens", "admin", "Token records, never the tokens (global admin).",
                             ok={"200": _ok("The token records.", "TokenList")}, secured=True)},
        "/admin/tokens/{token_id}": {"delete": operation(
            "adminRevokeToken", "admin", "Revoke a token (global admin).",
            ok={"200": _ok("The revoked token's record.", "TokenRecord")}, errors=(404,), secured=True,
            params=[token_param])},
    }


def _service_paths() -> dict[str, Any]:
    """Health, index and this document."""
    return {
        "/health": {"get": operation("getHealth", "service", "Liveness and store reachability.",
                                     ok={"200": _ok("The store answers.", "Health")})},
        "/": {"get": operation("getIndex", "service", "Service description and links.",
                               ok={"200": _ok("The index.", "ServiceIndex")})},
        "/openapi.json": {"get": operation("getOpenApi", "service", "This document.",
                                           ok={"200": _ok("The OpenAPI document.", "OpenApiDocument")})},
    }


TAGS = [{"name": "issuer", "description": "Issue, read, delete credentials and update their status (VCALM)."},
        {"name": "verifier", "description": "Verify credentials and presentations; challenges (VCALM)."},
        {"name": "registry", "description": "DID documents and status lists."},
        {"name": "admin", "description": "Issuer, key and token administration (registry role)."},
        {"name": "sites", "description": "Marketplace sites: policies, onboarding exchanges, sellers."},
        {"name": "trust", "description": "The trust registry: authorization queries and the signed trust list."},
        LOG_TAG,
        CAMPAIGNS_TAG,
        {"name": "service", "description": "Health, index and this document."}]


def document(public_url: str) -> dict[str, Any]:
    """The OpenAPI document for a service published at ``public_url``."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Chopmark", "version": "0.1.0",
                 "description": "W3C Verifiable Credentials (VC Data Model 2.0, Data Integrity) over the VC API "
                                "(VCALM). Errors are RFC 9457 problem details; a wrong method on a known path "
                                "is 405 with `Allow`, an unknown path 404."},
        "servers": [{"url": public_url}],
        "tags": TAGS,
        "paths": {**_credential_paths(), **_registry_paths(), **_admin_paths(), **_service_paths(),
                  **identity_paths(operation, _ok, _path_param), **log_paths(operation, _ok, _path_param),
                  **campaign_paths(operation, _ok, _path_param)},
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API token (`cmk_...`) with scopes issue, "
                                                              "status or admin."}},
            "schemas": {**schemas(), **identity_schemas(), **log_schemas(), **campaign_schemas()},
            "responses": {name: _problem(code) for code, name in _ERROR_NAMES.items()},
        },
    }
