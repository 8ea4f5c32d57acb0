"""HTTP plumbing shared by every role blueprint: problem details, JSON bodies, bearer tokens, rate limits.

The one place where errors become HTTP responses (:func:`install`): every :class:`~chopmark.errors.ChopmarkError`
and every werkzeug HTTP exception (unknown route, wrong method, oversize body) is answered as RFC 9457
``application/problem+json`` with a stable ``type``; an unexpected exception is logged and answered as a 500
problem without internals.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from chopmark.codecs import jcs
from chopmark.errors import (
    BadRequest,
    ChopmarkError,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Problem,
    RateLimited,
    ServiceError,
    StoreUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)

log = logging.getLogger("chopmark.service")
PROBLEM_JSON = "application/problem+json"
INTERNAL = "https://chopmark.dev/problems#INTERNAL_ERROR"
#: Seconds a client should wait before retrying after a 503 STORE_UNAVAILABLE (RFC 9110 §10.2.3).
STORE_RETRY_AFTER_SECONDS = 2

_HTTP_ERRORS: dict[int, type[ServiceError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 405: MethodNotAllowed,
    413: PayloadTooLarge, 415: UnsupportedMediaType, 429: RateLimited,
}


@dataclass(frozen=True)
class Client:
    """Who is calling: a token's id, its issuer (None for a global admin token) and scopes."""

    id: str
    issuer: str | None
    scopes: frozenset[str]

    def require(self, scope: str, issuer: str | None = None) -> None:
        """Raise Forbidden unless the client has ``scope`` and (when given) acts for ``issuer``. A global
        admin token (no issuer, scope ``admin``) may act for every issuer."""
        if "admin" in self.scopes and self.issuer is None:
            return
        if scope not in self.scopes:
            raise Forbidden(f"this token lacks the {scope!r} scope", code="SCOPE_MISSING")
        if issuer is not None and self.issuer != issuer:
            raise Forbidden(f"this token may not act for issuer {issuer!r}", code="WRONG_ISSUER")


class TokenLookup(Protocol):
    """``lookup(token) -> Client | None``: the registry's token service."""

    def authenticate(self, token: str) -> Client | None:
        """The client of a bearer token, or None when unknown or revoked."""


def problem_response(problem: Problem, status: int, headers: Mapping[str, str] | None = None) -> Response:
    """An RFC 9457 response: the problem's members plus ``status``."""
    body = {**problem.to_dict(), "status": status}
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(error: ChopmarkError) -> Response:
    """Map any Chopmark error to its problem response (status from the error class; 500s are never
    caused by input, so kernel errors that suggest 500 are answered 400)."""
    status = error.status if 400 <= error.status < 600 else 400
    if status == 500 and not isinstance(error, ServiceError):
        status = 400
    headers = {}
    retry = error.extra.get("retryAfter")
    if isinstance(error, RateLimited) and retry is not None:
        headers["Retry-After"] = str(retry)
    if isinstance(error, StoreUnavailable):  # a transient outage: tell clients when to try again
        headers["Retry-After"] = str(STORE_RETRY_AFTER_SECONDS)
    if isinstance(error, Unauthorized):  # RFC 9110 §15.5.2: a 401 carries a challenge (RFC 6750 §3)
        reason = {"INVALID_TOKEN": "invalid_token", "BAD_AUTHORIZATION": "invalid_request"}.get(error.instance_code)
        headers["WWW-Authenticate"] = 'Bearer realm="chopmark"' + (f', error="{reason}"' if reason else "")
    if isinstance(error, MethodNotAllowed) and error.extra.get("allow"):
        headers["Allow"] = ", ".join(error.extra["allow"])
    return problem_response(error.to_problem(), status, headers)


def _http_exception(exc: HTTPException) -> Response:
    code = exc.code or 500
    cls = _HTTP_ERRORS.get(code)
    if cls is None:
        problem = Problem(type=INTERNAL if code >= 500 else BadRequest.type, title=exc.name,
                          detail=exc.description or exc.name, code="HTTP_" + str(code))
        return problem_response(problem, code)
    detail = {404: f"no route for {request.method} {request.path}",
              405: f"{request.method} is not allowed on {request.path}",
              413: f"the request body exceeds {current_app.config.get('MAX_CONTENT_LENGTH')} bytes"}.get(
        code, exc.description or exc.name)
    extra: dict[str, Any] = {}
    allowed = getattr(exc, "valid_methods", None)
    if code == 405 and allowed:
        extra["allow"] = sorted(allowed)
    return error_response(cls(detail, **extra))


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.path)
    problem = Problem(type=INTERNAL, title="Internal server error",
                      detail="the server failed to process the request; it has been logged", code="INTERNAL_ERROR")
    return problem_response(problem, 500)


def install(app: Flask, *, tokens: TokenLookup, rate_limit: Callable[[str], None] | None) -> None:
    """Install the one error handler, authentication and rate limiting on ``app``."""
    app.register_error_handler(ChopmarkError, error_response)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(Exception, _unexpected)
    app.extensions["chopmark.tokens"] = tokens

    @app.before_request
    def _authenticate_and_limit() -> None:
        g.client = _client_from_header(tokens)
        if rate_limit is not None:
            key = g.client.id if g.client is not None else "ip:" + (request.remote_addr or "unknown")
            rate_limit(key)


def _client_from_header(tokens: TokenLookup) -> Client | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'", code="BAD_AUTHORIZATION")
    client = tokens.authenticate(token.strip())
    if client is None:
        raise Unauthorized("the bearer token is unknown or revoked", code="INVALID_TOKEN")
    return client


def current_client(scope: str, issuer: str | None = None) -> Client:
    """The authenticated client, checked for ``scope`` (and issuer); 401 without a token, 403 when not allowed."""
    client: Client | None = g.get("client")
    if client is None:
        raise Unauthorized("this endpoint needs a bearer token (Authorization: Bearer <token>)")
    client.require(scope, issuer)
    return client


def global_admin() -> Client:
    """The authenticated client, which must hold a global admin token (``admin`` scope, no issuer); else 401/403."""
    client = current_client("admin")
    if client.issuer is not None:
        raise Forbidden("this needs a global admin token (one created without an issuer)", code="NOT_GLOBAL_ADMIN")
    return client


def json_body() -> dict[str, Any]:
    """The request body as a JSON object: ``application/json`` (or ``+json``), UTF-8, no duplicate members, no
    NaN, nesting capped. Raises UnsupportedMediaType or BadRequest with the reason."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType(f"expected Content-Type application/json, got {mimetype or 'none'!r}")
    raw = request.get_data(cache=True)
    if not raw:
        raise BadRequest("the request body is empty; a JSON object is required", code="EMPTY_BODY")
    try:
        value = jcs.loads_strict(raw)
    except ChopmarkError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc.detail}", code="MALFORMED_JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("the request body must be a JSON object", code="NOT_AN_OBJECT")
    return value


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None,
                  mimetype: str = "application/json") -> Response:
    """A JSON response (compact, UTF-8)."""
    response = Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status=status,
                        mimetype=mimetype)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def body_digest(value: Any) -> str:
    """SHA-256 (hex) of the JCS form of a JSON value (idempotency, records)."""
    return hashlib.sha256(jcs.canonicalize_general(value)).hexdigest()


class FixedWindowLimiter:
    """``limiter(client_key)``: at most ``per_minute`` requests per client per clock minute, counted in the
    store (shared by every worker and node); the 429 carries ``Retry-After``."""

    def __init__(self, incr: Callable[[str, int], int], per_minute: int,
                 clock: Callable[[], float] = time.time) -> None:
        """``incr(key, ttl_seconds) -> count`` is the store's ephemeral counter."""
        self._incr = incr
        self._limit = per_minute
        self._clock = clock

    def __call__(self, client_key: str) -> None:
        """Count one request; raise RateLimited past the limit."""
        now = self._clock()
        window = int(now // 60)
        count = self._incr(f"{client_key}:{window}", 120)
        if count > self._limit:
            retry = max(1, int((window + 1) * 60 - now) + 1)
            raise RateLimited(f"more than {self._limit} requests per minute; retry in {retry} s",
                              retryAfter=retry)
