"""Errors of the kernel: VC Data Model 2.0, JSON-LD, Data Integrity 1.0, Controlled Identifiers 1.0, keys, DIDs."""

from __future__ import annotations

from chopmark.errors.base import CHOPMARK, DID, SEC, VCDM, ChopmarkError

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


class SchemaValidationError(ChopmarkError):
    """A credential does not conform to the JSON Schema its ``credentialSchema`` names (VC JSON Schema §3),
    or names a schema that is not pinned (``UNKNOWN_SCHEMA``) or of an unsupported type."""

    type = CHOPMARK + "SCHEMA_INVALID"
    title = "Schema validation failed"
    code = "SCHEMA_INVALID"
    status = 422


# --- Transparency logs: RFC 9162 trees, C2SP signed notes and checkpoints --------------------------------------

class TreeRangeError(RangeError):
    """A Merkle tree position or size is out of range (leaf index >= size, proof from size 0, old > new)."""

    code = "TREE_RANGE"


class NoteError(ChopmarkError):
    """A C2SP signed note or checkpoint was refused; the instance code says why: ``MALFORMED_NOTE``,
    ``UNVERIFIED_NOTE`` (no signature by a known key), ``AMBIGUOUS_KEY`` (two known keys share name and ID),
    ``INVALID_SIGNATURE`` (a known key's signature fails), ``MALFORMED_CHECKPOINT``, ``ORIGIN_MISMATCH``."""

    type = CHOPMARK + "NOTE_ERROR"
    title = "Signed note refused"
    code = "MALFORMED_NOTE"
    status = 400
