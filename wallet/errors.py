"""The wallet's errors: a small family under :class:`chopmark.errors.ChopmarkError`, each with a stable code.

The CLI prints ``detail`` as one line (or the problem JSON under ``--json``); embedding code catches
:class:`WalletError` or a specific subclass.
"""

from __future__ import annotations

from typing import Any

from chopmark.errors import CHOPMARK, ChopmarkError


class WalletError(ChopmarkError):
    """Base of every error the wallet raises on purpose."""

    type = CHOPMARK + "WALLET_ERROR"
    title = "Wallet error"
    code = "WALLET_ERROR"
    status = 400


class WalletLockedError(WalletError):
    """Authenticated decryption failed: the passphrase is wrong or the file was modified (AEAD cannot tell
    the two apart)."""

    type = CHOPMARK + "WALLET_LOCKED"
    title = "Wallet locked"
    code = "WALLET_LOCKED"
    status = 401


class WalletCorruptError(WalletError):
    """The file is not a Chopmark wallet, or its header or body is truncated or garbled."""

    type = CHOPMARK + "WALLET_CORRUPT"
    title = "Not a Chopmark wallet or corrupt"
    code = "WALLET_CORRUPT"
    status = 422


class WalletExistsError(WalletError):
    """A wallet already exists where a new one was to be created."""

    type = CHOPMARK + "WALLET_EXISTS"
    title = "Wallet exists"
    code = "WALLET_EXISTS"
    status = 409


class WalletNotFoundError(WalletError):
    """No wallet file at the given path."""

    type = CHOPMARK + "WALLET_NOT_FOUND"
    title = "Wallet not found"
    code = "WALLET_NOT_FOUND"
    status = 404


class WalletConflictError(WalletError):
    """Another process changed the wallet file after this one opened it (the write was not made)."""

    type = CHOPMARK + "WALLET_CONFLICT"
    title = "Wallet changed concurrently"
    code = "WALLET_CONFLICT"
    status = 409


class WalletIOError(WalletError):
    """Reading or writing the wallet file failed (permissions, disk full, ...)."""

    type = CHOPMARK + "WALLET_IO_ERROR"
    title = "Wallet file error"
    code = "WALLET_IO_ERROR"
    status = 500


class WalletConfigError(WalletError):
    """The wallet lacks a setting the operation needs (e.g. no trust registry configured)."""

    type = CHOPMARK + "WALLET_NOT_CONFIGURED"
    title = "Wallet not configured"
    code = "WALLET_NOT_CONFIGURED"
    status = 400


class CredentialNotFoundError(WalletError):
    """No stored credential has that id (or the prefix is ambiguous)."""

    type = CHOPMARK + "CREDENTIAL_NOT_FOUND"
    title = "Credential not found"
    code = "CREDENTIAL_NOT_FOUND"
    status = 404


class CredentialRefusedError(WalletError):
    """A received credential failed the wallet's checks; ``reasons`` lists every failure
    (``{"code", "check", "detail"}``)."""

    type = CHOPMARK + "CREDENTIAL_REFUSED"
    title = "Credential refused"
    code = "CREDENTIAL_REFUSED"
    status = 422

    def __init__(self, detail: str, *, reasons: list[dict[str, Any]], **extra: Any) -> None:
        """``reasons``: every failed check, also carried in the problem JSON."""
        super().__init__(detail, reasons=reasons, **extra)
        self.reasons = reasons


class NoMatchingCredentialError(WalletError):
    """Nothing in the wallet answers the presentation request."""

    type = CHOPMARK + "NO_MATCHING_CREDENTIAL"
    title = "No matching credential"
    code = "NO_MATCHING_CREDENTIAL"
    status = 422


class UnsupportedRequestError(WalletError):
    """The presentation request asks for something this wallet cannot answer (unknown query type, DID
    method not accepted, malformed request)."""

    type = CHOPMARK + "UNSUPPORTED_REQUEST"
    title = "Unsupported presentation request"
    code = "UNSUPPORTED_REQUEST"
    status = 422


class UntrustedSiteError(WalletError):
    """The party asking for a presentation (or data) is not trusted by the configured trust list, or is not
    the party the wallet is talking to. The wallet never presents to it."""

    type = CHOPMARK + "UNTRUSTED_SITE"
    title = "Untrusted site"
    code = "UNTRUSTED_SITE"
    status = 403


class TrustListUnavailableError(WalletError):
    """No verified, unexpired trust list: the registry is unreachable or its list failed verification, and no
    usable cached copy exists."""

    type = CHOPMARK + "TRUST_LIST_UNAVAILABLE"
    title = "Trust list unavailable"
    code = "TRUST_LIST_UNAVAILABLE"
    status = 503


class RemoteError(WalletError):
    """A service answered with an error (its problem+json ``detail`` and ``code`` are kept) or could not be
    reached (code ``REMOTE_UNREACHABLE``)."""

    type = CHOPMARK + "REMOTE_ERROR"
    title = "Remote service error"
    code = "REMOTE_ERROR"
    status = 502
