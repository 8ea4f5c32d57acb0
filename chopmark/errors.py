"""The one error hierarchy of Chopmark.

Every error carries a short stable ``code``, a problem-detail ``type`` URL (RFC 9457) and a suggested HTTP
``status``. The HTTP layer maps errors to responses in exactly one place using :meth:`ChopmarkError.to_problem`;
the kernel never speaks HTTP itself.

Problem types come from the specifications where one exists:

* VC Data Model 2.0 §7.1 (Verification, "Problem Details"): ``PARSING_ERROR`` (-64),
  ``CRYPTOGRAPHIC_SECURITY_ERROR`` (-65), ``MALFORMED_VALUE_ERROR`` (-66), ``RANGE_ERROR`` (-67).
* Data Integrity 1.0 §2.3 (Processing Errors): ``PROOF_GENERATION_ERROR`` (-16), ``PROOF_VERIFICATION_ERROR``,
  ``MALFORMED_PROOF_ERROR`` (-17), ``MISMATCHED_PROOF_PURPOSE_ERROR`` (-18), ``INVALID_DOMAIN_ERROR`` (-19),
  ``INVALID_CHALLENGE_ERROR`` (-20), plus ``PROOF_TRANSFORMATION_ERROR`` and ``INVALID_PROOF_CONFIGURATION``
  used by the cryptosuite specifications.
* Controlled Identifiers 1.0 §3.3 (Processing Errors): ``INVALID_VERIFICATION_METHOD`` (-24),
  ``INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD`` (-25), ...
* DID resolution errors (``invalidDid``, ``notFound``, ``methodNotSupported``, ...) from DID Core / did:key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

VCDM = "https://www.w3.org/TR/vc-data-model#"
SEC = "https://w3id.org/security#"
DID = "https://www.w3.org/ns/did#"
CHOPMARK = "https://chopmark.dev/problems#"


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem detail, as found in verification results and HTTP error bodies."""

    type: str
    title: str
    detail: str
    code: str
    spec_code: int | None = None
    pointer: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (``type``, ``title``, ``detail``, ``code`` and, when set, ``pointer``)."""
        out: dict[str, Any] = {"type": self.type, "title": self.title, "detail": self.detail, "code": self.code}
        if self.spec_code is not None:
            out["specCode"] = self.spec_code
        if self.pointer is not None:
            out["pointer"] = self.pointer
        out.update(self.extra)
        return out


class ChopmarkError(Exception):
    """Base of every error Chopmark raises on purpose.

    Subclasses set ``type`` (problem type URL), ``title``, ``code`` (short, stable), ``status`` (suggested
    HTTP status) and optionally ``spec_code`` (the negative integer code the specifications assign).
    """

    type: ClassVar[str] = CHOPMARK + "ERROR"
    title: ClassVar[str] = "Chopmark error"
    code: ClassVar[str] = "CHOPMARK_ERROR"
    status: ClassVar[int] = 500
    spec_code: ClassVar[int | None] = None

    def __init__(self, detail: str, *, pointer: str | None = None, code: str | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.pointer = pointer
        self.extra = extra
        if code is not None:
            self.instance_code = code
        else:
            self.instance_code = type(self).code

    def to_problem(self) -> Problem:
        """Return this error as a :class:`Problem`."""
        return Problem(type=self.type, title=self.title, detail=self.detail, code=self.instance_code,
                       spec_code=self.spec_code, pointer=self.pointer, extra=dict(self.extra))


# --- VC Data Model 2.0 §7.1 -------------------------------------------------------------------------------

class ParsingError(ChopmarkError):
    """The document could not be parsed (bad JSON, bad JSON-LD, unknown context, undefined term)."""

    type = VCDM + "PARSING_ERROR"
    title = "Parsing error"
    code = "PARSING_ERROR"
    status = 400
    spec_code = -64


class CryptographicSecurityError(ChopmarkError):
    """A cryptographic check failed (bad signature, unusable key)."""

    type = VCDM + "CRYPTOGRAPHIC_SECURITY_ERROR"
    title = "Cryptographic security error"
    code = "CRYPTOGRAPHIC_SECURITY_ERROR"
    status = 400
    spec_code = -65


class MalformedValueError(ChopmarkError):
    """A value does not follow the data model (wrong type, missing required property, bad URL)."""

    type = VCDM + "MALFORMED_VALUE_ERROR"
    title = "Malformed value error"
    code = "MALFORMED_VALUE_ERROR"
    status = 400
    spec_code = -66


class RangeError(ChopmarkError):
    """A value is outside its allowed range (validity period, status index, resource budget)."""

    type = VCDM + "RANGE_ERROR"
    title = "Range error"
    code = "RANGE_ERROR"
    status = 400
    spec_code = -67


# --- JSON-LD processing (parsing errors with our own codes) -------------------------------------------------

class UnknownContextError(ParsingError):
    """A JSON-LD context URL is not pinned and was not registered: it is refused, never fetched."""

    code = "UNKNOWN_CONTEXT"


class UndefinedTermError(ParsingError):
    """A property or type is not defined by the active context (JSON-LD safe mode)."""

    code = "UNDEFINED_TERM"


class CanonicalizationError(ParsingError):
    """RDF canonicalization failed or exceeded its work budget (poisoned graph)."""

    code = "CANONICALIZATION_ERROR"


class JsonError(ParsingError):
    """The input is not I-JSON (duplicate members, NaN, lone surrogates, not JSON at all)."""

    code = "INVALID_JSON"


# --- Data Integrity 1.0 ---------------------------------------------------------------------------------------

class ProofGenerationError(ChopmarkError):
    """A proof could not be created (misuse: wrong signer for the suite, unsupported options)."""

    type = SEC + "PROOF_GENERATION_ERROR"
    title = "Proof generation error"
    code = "PROOF_GENERATION_ERROR"
    status = 400
    spec_code = -16


class ProofVerificationError(ChopmarkError):
    """A proof did not verify (signature mismatch, suite not accepted)."""

    type = SEC + "PROOF_VERIFICATION_ERROR"
    title = "Proof verification error"
    code = "PROOF_VERIFICATION_ERROR"
    status = 400
    spec_code = -16


class MalformedProofError(ChopmarkError):
    """A proof is missing required properties or has values of the wrong form."""

    type = SEC + "MALFORMED_PROOF_ERROR"
    title = "Malformed proof error"
    code = "MALFORMED_PROOF_ERROR"
    status = 400
    spec_code = -17


class MismatchedProofPurposeError(ChopmarkError):
    """``proofPurpose`` differs from the expected one or the method is not listed under it."""

    type = SEC + "MISMATCHED_PROOF_PURPOSE_ERROR"
    title = "Mismatched proof purpose error"
    code = "MISMATCHED_PROOF_PURPOSE_ERROR"
    status = 400
    spec_code = -18


class InvalidDomainError(ChopmarkError):
    """The proof's ``domain`` does not match the expected domain."""

    type = SEC + "INVALID_DOMAIN_ERROR"
    title = "Invalid domain error"
    code = "INVALID_DOMAIN_ERROR"
    status = 400
    spec_code = -19


class InvalidChallengeError(ChopmarkError):
    """The proof's ``challenge`` does not match the expected challenge."""

    type = SEC + "INVALID_CHALLENGE_ERROR"
    title = "Invalid challenge error"
    code = "INVALID_CHALLENGE_ERROR"
    status = 400
    spec_code = -20


class ProofTransformationError(ChopmarkError):
    """The document could not be transformed for the cryptosuite (wrong type/cryptosuite)."""

    type = SEC + "PROOF_TRANSFORMATION_ERROR"
    title = "Proof transformation error"
    code = "PROOF_TRANSFORMATION_ERROR"
    status = 400


class InvalidProofConfigurationError(ChopmarkError):
    """The proof options are not valid for the cryptosuite."""

    type = SEC + "INVALID_PROOF_CONFIGURATION"
    title = "Invalid proof configuration"
    code = "INVALID_PROOF_CONFIGURATION"
    status = 400


class InvalidProofDatetimeError(ChopmarkError):
    """``created`` or ``expires`` is not a valid dateTimeStamp or is out of range."""

    type = SEC + "INVALID_PROOF_DATETIME"
    title = "Invalid proof datetime"
    code = "INVALID_PROOF_DATETIME"
    status = 400


# --- Controlled Identifiers 1.0 §3.3 ---------------------------------------------------------------------------

class InvalidVerificationMethodError(ChopmarkError):
    """A verification method is malformed or cannot be dereferenced."""

    type = SEC + "INVALID_VERIFICATION_METHOD"
    title = "Invalid verification method"
    code = "INVALID_VERIFICATION_METHOD"
    status = 400
    spec_code = -24


class InvalidRelationshipError(ChopmarkError):
    """The verification method is not listed under the required verification relationship."""

    type = SEC + "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD"
    title = "Invalid relationship for verification method"
    code = "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD"
    status = 400
    spec_code = -25


class InvalidControllerDocumentError(ChopmarkError):
    """A controller (DID) document is malformed or its ``id`` is not the expected identifier."""

    type = SEC + "INVALID_CONTROLLED_IDENTIFIER_DOCUMENT"
    title = "Invalid controlled identifier document"
    code = "INVALID_CONTROLLED_IDENTIFIER_DOCUMENT"
    status = 400
    spec_code = -23


# --- Keys and DIDs ------------------------------------------------------------------------------------------

class KeyFormatError(MalformedValueError):
    """A key (Multikey, JWK, raw bytes) is malformed, of the wrong length, or off the curve."""

    code = "INVALID_KEY"


class DidError(ChopmarkError):
    """Base of DID resolution errors (DID Core §7.1.2 / did:key §"Read")."""

    type = DID + "INVALID_DID"
    title = "DID resolution error"
    code = "invalidDid"
    status = 400


class InvalidDidError(DidError):
    """The DID does not conform to its method's syntax."""

    type = DID + "INVALID_DID"
    title = "Invalid DID"
    code = "invalidDid"


class InvalidPublicKeyError(DidError):
    """The public key in a DID is not a valid point / key."""

    type = DID + "INVALID_PUBLIC_KEY"
    title = "Invalid public key"
    code = "invalidPublicKey"


class InvalidPublicKeyLengthError(DidError):
    """The public key in a DID has the wrong length for its multicodec."""

    type = DID + "INVALID_PUBLIC_KEY_LENGTH"
    title = "Invalid public key length"
    code = "invalidPublicKeyLength"


class InvalidPublicKeyTypeError(DidError):
    """The multicodec header names no supported key type."""

    type = DID + "INVALID_PUBLIC_KEY_TYPE"
    title = "Invalid public key type"
    code = "invalidPublicKeyType"


class MethodNotSupportedError(DidError):
    """The DID method is not supported by this resolver."""

    type = DID + "METHOD_NOT_SUPPORTED"
    title = "DID method not supported"
    code = "methodNotSupported"


class DidNotFoundError(DidError):
    """The DID (or the document behind it) could not be found."""

    type = DID + "NOT_FOUND"
    title = "DID not found"
    code = "notFound"
    status = 404


class FetchError(ChopmarkError):
    """A network fetch was refused (SSRF guard, scheme, redirect) or failed (size, timeout, status)."""

    type = CHOPMARK + "FETCH_ERROR"
    title = "Fetch refused or failed"
    code = "FETCH_ERROR"
    status = 502


class UsageError(ChopmarkError):
    """The API was called wrongly (a programming error, not a bad credential)."""

    type = CHOPMARK + "USAGE_ERROR"
    title = "Usage error"
    code = "USAGE_ERROR"
    status = 500


# --- Bitstring Status List 1.0 §3.6 (Processing Errors; the REC gives types, no integer codes) -------------

STATUS = "https://www.w3.org/ns/credentials/status-list#"


class StatusRetrievalError(ChopmarkError):
    """Retrieval of the status list failed (unreachable, not found, unparsable): status fails closed."""

    type = STATUS + "STATUS_RETRIEVAL_ERROR"
    title = "Status list retrieval failed"
    code = "STATUS_RETRIEVAL_ERROR"
    status = 400


class StatusVerificationError(ChopmarkError):
    """Validation of the status entry or of the status list credential failed (proof, purpose, issuer)."""

    type = STATUS + "STATUS_VERIFICATION_ERROR"
    title = "Status verification failed"
    code = "STATUS_VERIFICATION_ERROR"
    status = 400


class StatusListLengthError(ChopmarkError):
    """The status list is shorter than the minimum needed for herd privacy (131,072 entries)."""

    type = STATUS + "STATUS_LIST_LENGTH_ERROR"
    title = "Status list too short"
    code = "STATUS_LIST_LENGTH_ERROR"
    status = 400


class StatusRangeError(ChopmarkError):
    """The status list index is outside the list (Bitstring Status List §3.2 step 10, which raises the VC Data
    Model's RANGE_ERROR)."""

    type = VCDM + "RANGE_ERROR"
    title = "Status list index out of range"
    code = "RANGE_ERROR"
    status = 400


class CredentialStatusSet(ChopmarkError):
    """The credential's status bit is set: it is revoked or suspended (a failed status check, not an error of
    processing). ``code`` is ``REVOKED`` or ``SUSPENDED`` (or ``STATUS_SET`` for other purposes)."""

    type = CHOPMARK + "CREDENTIAL_STATUS_SET"
    title = "Credential revoked or suspended"
    code = "STATUS_SET"
    status = 400


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
