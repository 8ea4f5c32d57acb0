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
* Bitstring Status List 1.0 §3.5: ``STATUS_RETRIEVAL_ERROR``, ``STATUS_VERIFICATION_ERROR``,
  ``STATUS_LIST_LENGTH_ERROR`` (:mod:`chopmark.errors.status`).
* The service's own outcomes (bad request, unauthorized, forbidden, not found, conflict, rate limited, store
  unavailable, ...) under ``https://chopmark.dev/problems#`` (:mod:`chopmark.errors.service`).
"""

from __future__ import annotations

from chopmark.errors.base import CHOPMARK, DID, SEC, VCDM, ChopmarkError, Problem
from chopmark.errors.kernel import (
    CanonicalizationError,
    CryptographicSecurityError,
    DidError,
    DidNotFoundError,
    FetchError,
    InvalidChallengeError,
    InvalidControllerDocumentError,
    InvalidDidError,
    InvalidDomainError,
    InvalidProofConfigurationError,
    InvalidProofDatetimeError,
    InvalidPublicKeyError,
    InvalidPublicKeyLengthError,
    InvalidPublicKeyTypeError,
    InvalidRelationshipError,
    InvalidVerificationMethodError,
    JsonError,
    KeyFormatError,
    MalformedProofError,
    MalformedValueError,
    MethodNotSupportedError,
    MismatchedProofPurposeError,
    NoteError,
    ParsingError,
    ProofGenerationError,
    ProofTransformationError,
    ProofVerificationError,
    RangeError,
    SchemaValidationError,
    TreeRangeError,
    UndefinedTermError,
    UnknownContextError,
    UsageError,
)
from chopmark.errors.provenance import Gs1Error, LabelError
from chopmark.errors.service import (
    BadRequest,
    ConfigurationError,
    Conflict,
    Forbidden,
    Gone,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceError,
    StoreUnavailable,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)
from chopmark.errors.status import (
    STATUS,
    CredentialStatusSet,
    RevocationPermanent,
    StatusEntryMismatch,
    StatusListLengthError,
    StatusRangeError,
    StatusRetrievalError,
    StatusVerificationError,
)

__all__ = [
    "CHOPMARK",
    "DID",
    "SEC",
    "STATUS",
    "VCDM",
    "BadRequest",
    "CanonicalizationError",
    "ChopmarkError",
    "ConfigurationError",
    "Conflict",
    "CredentialStatusSet",
    "CryptographicSecurityError",
    "DidError",
    "DidNotFoundError",
    "FetchError",
    "Forbidden",
    "Gone",
    "Gs1Error",
    "InvalidChallengeError",
    "InvalidControllerDocumentError",
    "InvalidDidError",
    "InvalidDomainError",
    "InvalidProofConfigurationError",
    "InvalidProofDatetimeError",
    "InvalidPublicKeyError",
    "InvalidPublicKeyLengthError",
    "InvalidPublicKeyTypeError",
    "InvalidRelationshipError",
    "InvalidVerificationMethodError",
    "JsonError",
    "KeyFormatError",
    "LabelError",
    "MalformedProofError",
    "MalformedValueError",
    "MethodNotAllowed",
    "MethodNotSupportedError",
    "MismatchedProofPurposeError",
    "NotFound",
    "NoteError",
    "ParsingError",
    "PayloadTooLarge",
    "Problem",
    "ProofGenerationError",
    "ProofTransformationError",
    "ProofVerificationError",
    "RangeError",
    "RateLimited",
    "RevocationPermanent",
    "SchemaValidationError",
    "ServiceError",
    "StatusEntryMismatch",
    "StatusListLengthError",
    "StatusRangeError",
    "StatusRetrievalError",
    "StatusVerificationError",
    "StoreUnavailable",
    "TreeRangeError",
    "Unauthorized",
    "UndefinedTermError",
    "UnknownContextError",
    "Unprocessable",
    "UnsupportedMediaType",
    "UsageError",
]
