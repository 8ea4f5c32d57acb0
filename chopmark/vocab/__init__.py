"""Chopmark's own vocabulary: the JSON-LD context, the credential types and their JSON Schemas.

The context (``https://chopmark.org/contexts/chopmark/v1``) is pinned in ``chopmark/jsonld/contexts/`` like every
other context and is also served by the service at ``/contexts/chopmark/v1``. Later capabilities add their types
to the same context and a schema each to ``schemas/`` (:mod:`.schema` validates them; :mod:`.identifiers` checks
LEIs and jurisdictions). May import: ``chopmark.vc`` and the layers below.
"""

from __future__ import annotations

CONTEXT_URL = "https://chopmark.org/contexts/chopmark/v1"
VOCAB = "https://chopmark.org/vocab#"
SCHEMA_BASE = "https://chopmark.org/schemas/"

MERCHANT_IDENTITY = "MerchantIdentityCredential"
MARKETPLACE_SELLER = "MarketplaceSellerCredential"
TRUST_LIST = "TrustListCredential"
RANKING_COMMITMENT = "RankingCommitmentCredential"

#: credential type -> the id of its JSON Schema (VC JSON Schema, type ``JsonSchema``)
SCHEMA_FOR_TYPE = {
    MERCHANT_IDENTITY: SCHEMA_BASE + "merchant-identity/v1",
    MARKETPLACE_SELLER: SCHEMA_BASE + "marketplace-seller/v1",
    TRUST_LIST: SCHEMA_BASE + "trust-list/v1",
    RANKING_COMMITMENT: SCHEMA_BASE + "ranking-commitment/v1",
}


def credential_schema(credential_type: str) -> dict[str, str]:
    """The ``credentialSchema`` member for a Chopmark credential type."""
    return {"id": SCHEMA_FOR_TYPE[credential_type], "type": "JsonSchema"}
