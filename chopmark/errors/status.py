"""Errors of Bitstring Status List 1.0 processing."""

from __future__ import annotations

from chopmark.errors.base import CHOPMARK, VCDM, ChopmarkError

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


# --- Refused status updates (POST /credentials/status): Chopmark's own outcomes, 409 ---------------------------

class RevocationPermanent(ChopmarkError):
    """Clearing a set ``revocation`` bit: Bitstring Status List 1.0 §2.1 (``statusPurpose``) says revocation
    "is not reversible". Suspension stays reversible; setting revocation again is idempotent."""

    type = CHOPMARK + "REVOCATION_PERMANENT"
    title = "Revocation is permanent"
    code = "REVOCATION_PERMANENT"
    status = 409


class StatusEntryMismatch(ChopmarkError):
    """A status update names a status entry the credential does not have: its ``statusListCredential``,
    ``statusListIndex`` or ``id`` differ from the credential's entry for that ``statusPurpose`` (code
    ``STATUS_ENTRY_MISMATCH``, ``member`` names the first one), or the credential has no entry for that purpose
    (code ``NO_STATUS_ENTRY``). Nothing is written."""

    type = CHOPMARK + "STATUS_ENTRY_MISMATCH"
    title = "Status entry does not match the credential"
    code = "STATUS_ENTRY_MISMATCH"
    status = 409
