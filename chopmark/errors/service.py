"""Errors of the service layer (requests, access, storage, configuration)."""

from __future__ import annotations

from chopmark.errors.base import CHOPMARK, ChopmarkError

# --- The service (HTTP API): one class per outcome, mapped to a response by the one error handler ----------

class ServiceError(ChopmarkError):
    """Base of the errors of the service layer (requests, access, storage)."""


class BadRequest(ServiceError):
    """The request is malformed: not JSON, wrong shape, invalid parameter."""

    type = CHOPMARK + "BAD_REQUEST"
    title = "Bad request"
    code = "BAD_REQUEST"
    status = 400


class Unprocessable(ServiceError):
    """The request is well-formed JSON but its content cannot be processed (not a credential at all, an
    idempotency key reused with another body)."""

    type = CHOPMARK + "UNPROCESSABLE"
    title = "Unprocessable content"
    code = "UNPROCESSABLE"
    status = 422


class Unauthorized(ServiceError):
    """No valid bearer token was presented."""

    type = CHOPMARK + "UNAUTHORIZED"
    title = "Authentication required"
    code = "UNAUTHORIZED"
    status = 401


class Forbidden(ServiceError):
    """The token is valid but may not do this (wrong scope or another issuer's resource)."""

    type = CHOPMARK + "FORBIDDEN"
    title = "Forbidden"
    code = "FORBIDDEN"
    status = 403


class NotFound(ServiceError):
    """No such resource (or route)."""

    type = CHOPMARK + "NOT_FOUND"
    title = "Not found"
    code = "NOT_FOUND"
    status = 404


class MethodNotAllowed(ServiceError):
    """The route exists but not with this HTTP method."""

    type = CHOPMARK + "METHOD_NOT_ALLOWED"
    title = "Method not allowed"
    code = "METHOD_NOT_ALLOWED"
    status = 405


class Conflict(ServiceError):
    """The resource already exists or is being changed by a concurrent request."""

    type = CHOPMARK + "CONFLICT"
    title = "Conflict"
    code = "CONFLICT"
    status = 409


class Gone(ServiceError):
    """The resource existed and was deleted."""

    type = CHOPMARK + "GONE"
    title = "Gone"
    code = "GONE"
    status = 410


class PayloadTooLarge(ServiceError):
    """The request body exceeds the configured cap."""

    type = CHOPMARK + "PAYLOAD_TOO_LARGE"
    title = "Payload too large"
    code = "PAYLOAD_TOO_LARGE"
    status = 413


class UnsupportedMediaType(ServiceError):
    """The request body is not ``application/json``."""

    type = CHOPMARK + "UNSUPPORTED_MEDIA_TYPE"
    title = "Unsupported media type"
    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415


class RateLimited(ServiceError):
    """Too many requests from this client in the current window (``retry_after`` seconds)."""

    type = CHOPMARK + "RATE_LIMITED"
    title = "Too many requests"
    code = "RATE_LIMITED"
    status = 429


class StoreUnavailable(ServiceError):
    """The storage backend cannot be reached or refused the operation."""

    type = CHOPMARK + "STORE_UNAVAILABLE"
    title = "Storage unavailable"
    code = "STORE_UNAVAILABLE"
    status = 503


class ConfigurationError(ServiceError):
    """A setting is missing or invalid (reported at start-up, before serving)."""

    type = CHOPMARK + "CONFIGURATION_ERROR"
    title = "Invalid configuration"
    code = "CONFIGURATION_ERROR"
    status = 500
