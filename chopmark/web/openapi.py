"""The OpenAPI 3.0 description of the service, served at ``/openapi.json``, assembled from the roles' fragments.

Each role describes its own operations in its ``openapi`` module as :class:`Fragment` values (one per area: its
tag, paths and the component schemas it adds); ``create_app`` passes them to :func:`document` in the order
the document lists them. The helpers here build every operation so it lists exactly the statuses its handler can
produce: the shared plumbing (:mod:`chopmark.web.plumbing`) adds 401 to every operation (a malformed or unknown
``Authorization`` header is refused before any handler runs), 429 (rate limit) and 503 (store unreachable) to
every operation, and 400/413/415 to every operation that reads a JSON body. Errors are
``application/problem+json`` (RFC 9457). The VC API's shared schemas live in :mod:`chopmark.web.openapi_schemas`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chopmark.errors import UsageError
from chopmark.web.openapi_schemas import ISSUER_NAME, Schema, exchange_schemas, ref, schemas

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


def header(description: str, schema: Schema | None = None, *, required: bool = False) -> dict[str, Any]:
    """A response header object (a string unless ``schema`` says otherwise)."""
    return {"description": description, "required": required, "schema": schema or {"type": "string"}}


def problem(status: int) -> dict[str, Any]:
    """A problem-details response whose ``status`` member equals the HTTP status."""
    schema = {"allOf": [ref("ProblemDetails"), {"type": "object", "properties": {"status": {"enum": [status]}}}]}
    out: dict[str, Any] = {"description": _ERRORS[status], "content": {PROBLEM: {"schema": schema}}}
    if status == 429:
        out["headers"] = {"Retry-After": header("Seconds until the next window.", {"type": "integer"},
                                                 required=True)}
    if status == 401:
        out["headers"] = {"WWW-Authenticate": header("`Bearer realm=\"chopmark\"`, with `error=\"invalid_token\"` "
                                                      "or `error=\"invalid_request\"` when a token was sent.",
                                                      required=True)}
    if status == 405:
        out["headers"] = {"Allow": header("The allowed methods.", required=True)}
    return out


def _error_refs(*codes: int) -> dict[str, Any]:
    """References to the shared problem responses of ``codes``."""
    return {str(code): {"$ref": f"#/components/responses/{_ERROR_NAMES[code]}"} for code in sorted(set(codes))}


def ok(description: str, schema_name: str | None, *, media: tuple[str, ...] = (JSON,),
        headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A success response: ``schema_name`` under each media type (none: no body)."""
    out: dict[str, Any] = {"description": description}
    if schema_name is not None:
        out["content"] = {m: {"schema": ref(schema_name)} for m in media}
    if headers:
        out["headers"] = headers
    return out


def path_param(name: str, description: str, schema: Schema, example: str | None = None) -> dict[str, Any]:
    """A required path parameter."""
    param: dict[str, Any] = {"name": name, "in": "path", "required": True, "description": description,
                             "schema": schema}
    if example is not None:
        param["example"] = example
    return param


ISSUER_PARAM = path_param("name", "The issuer name (a DNS label).", {"type": "string", "pattern": ISSUER_NAME},
                           "alpha")
#: The ``{exchange_id}`` of a VC API exchange (:mod:`chopmark.web.exchanges`): KYB's and the sites' onboarding.
EXCHANGE_PARAM = path_param("exchange_id", "The exchange id.", {"type": "string", "maxLength": 64})
LOCATION = {"Location": header("Where the created resource is served.", required=True)}


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


def _service_paths() -> dict[str, Any]:
    """Health, index and this document."""
    return {
        "/health": {"get": operation("getHealth", "service", "Liveness and store reachability.",
                                     ok={"200": ok("The store answers.", "Health")})},
        "/": {"get": operation("getIndex", "service", "Service description and links.",
                               ok={"200": ok("The index.", "ServiceIndex")})},
        "/openapi.json": {"get": operation("getOpenApi", "service", "This document.",
                                           ok={"200": ok("The OpenAPI document.", "OpenApiDocument")})},
    }


SERVICE_TAG = {"name": "service", "description": "Health, index and this document."}


def _nothing() -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Fragment:
    """One area of a role's API for the document: the tag it introduces, its paths and the component schemas it
    adds (each a function, called when the document is built)."""

    paths: Callable[[], dict[str, Any]] = _nothing
    schemas: Callable[[], dict[str, Schema]] = _nothing
    tag: dict[str, str] | None = None


#: The service's own operations (health, index, this document); its tag closes the tag list.
SERVICE = Fragment(paths=_service_paths)
#: The component schemas of VC API exchanges (the presentation request and the exchange's answers), shared by
#: the issuer's KYB exchanges and the sites' onboarding.
EXCHANGES = Fragment(schemas=exchange_schemas)


def document(public_url: str, fragments: Sequence[Fragment]) -> dict[str, Any]:
    """The OpenAPI document for a service published at ``public_url``, with the roles' ``fragments`` in order:
    their tags (then the service's own), their paths, and the VC API's shared schemas followed by theirs."""
    tags = [f.tag for f in fragments if f.tag is not None] + [SERVICE_TAG]
    paths: dict[str, Any] = {}
    components = schemas()
    for fragment in fragments:
        _merge(paths, fragment.paths(), "path")
        _merge(components, fragment.schemas(), "schema")
    return {
        "openapi": "3.0.3",
        "info": {"title": "Chopmark", "version": "0.1.0",
                 "description": "W3C Verifiable Credentials (VC Data Model 2.0, Data Integrity) over the VC API "
                                "(VCALM). Errors are RFC 9457 problem details; a wrong method on a known path "
                                "is 405 with `Allow`, an unknown path 404."},
        "servers": [{"url": public_url}],
        "tags": tags,
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API token (`cmk_...`) with scopes issue, "
                                                              "status or admin."}},
            "schemas": components,
            "responses": {name: problem(code) for code, name in _ERROR_NAMES.items()},
        },
    }


def _merge(into: dict[str, Any], more: Mapping[str, Any], what: str) -> None:
    """Add ``more`` to ``into``; two fragments may not describe the same path or schema."""
    clash = sorted(set(into) & set(more))
    if clash:
        raise UsageError(f"OpenAPI fragments describe the same {what} twice: {', '.join(clash)}")
    into.update(more)
