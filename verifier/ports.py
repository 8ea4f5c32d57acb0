"""What the verifier role needs from the rest of the service, as Protocols.

The verifier never imports another role. ``create_app`` hands the sites' onboarding an object that satisfies
:class:`SellerCredentialIssuer` (the issuer role's issuance service): the site issues its seller credentials
through it and mirrors an identity credential's revocation or suspension onto them. In the other direction the
onboarding is the issuer's ``StatusListener`` (``Onboarding.status_changed``, subscribed by ``create_app``): a
status bit the issuer writes reaches the seller credentials derived from that credential at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from chopmark.web.plumbing import Client


class SellerCredentialIssuer(Protocol):
    """Issue a site's seller credentials and change their status, on behalf of the onboarding flow."""

    def issue_for(self, issuer: str, credential: Mapping[str, Any], *, actor: str) -> dict[str, Any]:
        """Issue ``credential`` as issuer instance ``issuer`` (no API token: ``actor`` names the flow); returns
        the issuance record (``id``, ``credential``, ``status``, ...)."""

    def record(self, credential_id: str) -> dict[str, Any]:
        """The issuance record of ``credential_id`` (NotFound when unknown)."""

    def update_status(self, client: Client, body: Mapping[str, Any]) -> dict[str, Any]:
        """Set or clear one status bit, as ``POST /credentials/status`` with ``body`` would for ``client`` (a set
        revocation bit is never cleared: 409 ``REVOCATION_PERMANENT``)."""
