"""Sample documents used by the demo, the benchmarks and the tests."""

from __future__ import annotations

import copy
from typing import Any

_MERCHANT: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
    ],
    "id": "urn:uuid:8a1d3c52-6f0e-4a7b-9c2d-1e5f7a9b3c4d",
    "type": ["VerifiableCredential", "ExampleMerchantCredential"],
    "issuer": "did:example:placeholder",
    "validFrom": "2026-01-01T00:00:00Z",
    "validUntil": "2031-01-01T00:00:00Z",
    "credentialSubject": {
        "id": "did:web:shop.example.com",
        "legalName": "Hangzhou Example Trading Co., Ltd.",
        "registrationNumber": "91330100MA2XXXXX1X",
        "jurisdiction": "CN-ZJ",
        "lei": "5493001KJTIIGC8Y1R12",
        "website": "https://shop.example.com",
        "address": {"streetAddress": "1 Example Road", "addressLocality": "Hangzhou", "addressCountry": "CN"},
        "marketplaceAccounts": ["site-a:seller-1001", "site-b:seller-77", "site-c:seller-5"],
    },
}


def merchant_credential(issuer: str | None = None) -> dict[str, Any]:
    """The merchant-identity credential of the kernel benchmark (a fresh copy), optionally with an issuer."""
    doc = copy.deepcopy(_MERCHANT)
    if issuer is not None:
        doc["issuer"] = issuer
    return doc
