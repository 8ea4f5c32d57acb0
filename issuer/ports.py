"""What the issuer role needs from the rest of the service, as Protocols.

The issuer never imports another role. ``create_app`` (and the root command, for the demos) hands it objects
that satisfy these Protocols structurally: the registry's issuer instances, status lists and evidence log
(:class:`RegistryPort`); whoever must follow status changes (:class:`StatusListener`: the sites, whose seller
credentials derive from identity credentials); and, for KYB, the verifier's presentation checks
(:class:`PresentationChecker`) and the trust registry's decisions (:class:`TrustDecisions`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from chopmark.integrity.proofs import SignerLike
from chopmark.tlog.note import SignedCheckpoint
from chopmark.trust import TrustDecision
from chopmark.vc.results import VerificationResult


class Instances(Protocol):
    """The issuer instances (tenants): their records, DIDs, DID documents and signers."""

    def get(self, name: str) -> dict[str, Any]:
        """The record of instance ``name`` (NotFound when there is none)."""

    def did_for(self, name: str) -> str:
        """The DID instance ``name`` has (or would have)."""

    def did_document(self, name: str) -> dict[str, Any]:
        """The DID document of instance ``name``."""

    def signer(self, name: str, suite_name: str) -> tuple[SignerLike, dict[str, Any]]:
        """A signer of instance ``name`` for cryptosuite ``suite_name``, and the instance's record."""


class StatusAllocation(Protocol):
    """Bitstring status lists: an index for each new credential, and setting its bit later."""

    def allocate(self, issuer: str, purpose: str) -> tuple[dict[str, Any], int]:
        """A fresh index in ``issuer``'s current list for ``purpose``: ``(list record, index)``."""

    def set(self, list_id: str, index: int, value: bool) -> bool:
        """Set one bit durably; returns its previous value."""

    def url_for(self, list_id: str) -> str:
        """The URL the list credential is served at (``statusListCredential``)."""


class EvidenceLog(Protocol):
    """The append-only evidence log: entries, their inclusion proofs and signed checkpoints."""

    def append(self, entry_type: str, *, data: bytes | None = None, sha256: str | None = None) -> int:
        """Append one entry durably; returns its final index."""

    def wait_integrated(self, index: int, timeout: float) -> SignedCheckpoint | None:
        """The first signed checkpoint covering ``index``, waiting up to ``timeout`` seconds (None: not yet)."""

    def entry(self, index: int) -> dict[str, Any]:
        """The entry at ``index`` as ``GET /log/entries/{index}`` serves it."""

    def inclusion_proof(self, index: int, size: int | None = None) -> dict[str, Any]:
        """The inclusion proof of entry ``index`` in the tree of ``size`` entries."""

    def verifier_key(self) -> str:
        """The log's C2SP verifier key."""


class RegistryPort(Protocol):
    """What the issuer uses of the registry: instances and their signers, status allocation, evidence append."""

    @property
    def issuers(self) -> Instances:
        """The issuer instances."""

    @property
    def status_lists(self) -> StatusAllocation:
        """The status lists."""

    @property
    def evidence(self) -> EvidenceLog:
        """The evidence log."""


class PresentationChecker(Protocol):
    """The verifier's checks of a presentation answering an exchange (KYB's DID Authentication)."""

    def check_presentation(self, presentation: Any, *, challenge: str, domain: str,
                           now: datetime) -> VerificationResult:
        """Every check of ``presentation`` for the exchange's single-use ``challenge`` and ``domain``."""


class TrustDecisions(Protocol):
    """The trust registry's answer: may ``entity_id`` do ``action`` on ``resource`` for ``jurisdiction``?"""

    def decide(self, entity_id: str, action: str, resource: str, *, at: datetime,
               jurisdiction: str | None = None) -> TrustDecision:
        """Never raises for an unknown entity: absence means not authorized."""


class StatusListener(Protocol):
    """Told of every status bit the issuer writes, so credentials derived from that credential can follow it
    (the sites revoke or suspend the seller credentials they issued on the strength of an identity credential)."""

    def status_changed(self, *, credential_id: str, digest: str, purpose: str, value: bool) -> None:
        """Credential ``credential_id`` (``digest``: hex SHA-256 of its JCS form, as issued) now has its
        ``purpose`` bit ``value``. Also called when the bit already had that value; must be idempotent."""
