"""A small offline ecosystem for wallet tests: did:key authority, site and registry, real signed credentials
and a real signed trust list (no mocks: the kernel signs and verifies everything)."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chopmark.codecs.dates import format_datetime
from chopmark.dids import did_key_signer
from chopmark.keys import KeyPair, KeyType, Signer
from chopmark.vc.credentials import issue
from chopmark.vocab import CONTEXT_URL, MARKETPLACE_SELLER, MERCHANT_IDENTITY, TRUST_LIST, credential_schema
from wallet.core import Wallet
from wallet.vault import KdfParams

V2 = "https://www.w3.org/ns/credentials/v2"
NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
PASSPHRASE = "correct horse battery staple"
#: scrypt cost for tests only (the default is 2**15)
FAST_KDF = KdfParams(n=2**4, r=8, p=1)
#: A registry URL nothing listens on: the wallet must use its cached trust list.
DEAD_REGISTRY = "http://127.0.0.1:9"
ADDRESS = {"type": "PostalAddress", "streetAddress": "Marienplatz 1", "postalCode": "80331",
           "addressLocality": "München", "addressCountry": "DE"}
#: what a seller credential says about the identity credential it relied on (the digest is not checked here)
IDENTITY_REFERENCE = {"id": "urn:uuid:2f0e3c1a-8b7d-4e6f-9a5b-1c2d3e4f5a6b",
                      "digestMultibase": "uEiB" + "A" * 40}


def seeded_rng(seed: int = 20261125) -> Callable[[int], bytes]:
    """Deterministic randomness for reproducible wallets."""
    gen = random.Random(seed)
    return gen.randbytes


@dataclass
class Party:
    """A did:key party that signs credentials."""

    pair: KeyPair
    did: str = ""
    signer: Signer | None = None

    def __post_init__(self) -> None:
        self.did, self.signer = did_key_signer(self.pair)

    @classmethod
    def seeded(cls, seed: int) -> Party:
        """A party with a fixed Ed25519 key."""
        return cls(KeyPair.from_seed(KeyType.ED25519, bytes([seed]) * 32))


def stamp(moment: datetime) -> str:
    """XML Schema dateTimeStamp."""
    return format_datetime(moment)


@dataclass
class Ecosystem:
    """Registry, KYB authority and a site, with helpers to issue their credentials."""

    registry: Party = field(default_factory=lambda: Party.seeded(41))
    authority: Party = field(default_factory=lambda: Party.seeded(42))
    site: Party = field(default_factory=lambda: Party.seeded(43))
    rogue: Party = field(default_factory=lambda: Party.seeded(44))

    def identity(self, subject: str, *, issuer: Party | None = None, valid_from: datetime = NOW - timedelta(days=1),
                 valid_until: datetime | None = NOW + timedelta(days=365), jurisdiction: str = "DE",
                 name: str = "Müller Handels GmbH", **extra: Any) -> dict[str, Any]:
        """A signed MerchantIdentityCredential about ``subject``."""
        issuer = issuer or self.authority
        doc: dict[str, Any] = {
            "@context": [V2, CONTEXT_URL], "type": ["VerifiableCredential", MERCHANT_IDENTITY],
            "validFrom": stamp(valid_from), "credentialSchema": credential_schema(MERCHANT_IDENTITY),
            "credentialSubject": {"id": subject, "type": "Merchant", "legalName": {"@value": name, "@language": "de"},
                                  "registrationNumber": "HRB 123456", "jurisdiction": jurisdiction,
                                  "register": {"name": "Handelsregister (Amtsgericht München)"},
                                  "registeredAddress": ADDRESS}}
        if valid_until is not None:
            doc["validUntil"] = stamp(valid_until)
        doc.update(extra)
        assert issuer.signer is not None
        return issue(doc, issuer.signer, issuer=issuer.did, created=stamp(valid_from))

    def seller(self, subject: str, *, issuer: Party | None = None) -> dict[str, Any]:
        """A signed MarketplaceSellerCredential about ``subject`` from the site."""
        issuer = issuer or self.site
        doc = {"@context": [V2, CONTEXT_URL], "type": ["VerifiableCredential", MARKETPLACE_SELLER],
               "validFrom": stamp(NOW - timedelta(hours=1)), "validUntil": stamp(NOW + timedelta(days=30)),
               "credentialSchema": credential_schema(MARKETPLACE_SELLER),
               "credentialSubject": {"id": subject, "type": "MarketplaceSeller", "site": issuer.did,
                                     "sellerAccountId": "acct_1", "onboardedAt": stamp(NOW - timedelta(hours=1)),
                                     "jurisdiction": "DE", "identityCredential": IDENTITY_REFERENCE}}
        assert issuer.signer is not None
        return issue(doc, issuer.signer, issuer=issuer.did, created=stamp(NOW - timedelta(hours=1)))

    def trust_subject(self, *, jurisdictions: list[str] | None = None, authority_status: str = "active",
                      site_status: str = "active", version: int = 3) -> dict[str, Any]:
        """The trust list subject: the authority may issue identities, the site is a member."""
        return {"id": self.registry.did, "type": "TrustRegistry", "trustListVersion": version,
                "authorizations": [{"id": "urn:uuid:6f1c1f4e-0000-4000-8000-000000000001",
                                    "entityId": self.authority.did, "action": "issue",
                                    "resource": MERCHANT_IDENTITY, "jurisdictions": jurisdictions or ["DE", "FR"],
                                    "authorizedFrom": "2026-01-01T00:00:00Z", "entryStatus": authority_status}],
                "members": [{"id": self.site.did, "name": "Marketplace A", "role": "site",
                             "onboardingUrl": "http://127.0.0.1:8000/sites/site-a", "entryStatus": site_status}]}

    def trust_list(self, subject: dict[str, Any] | None = None, *, valid_from: datetime = NOW - timedelta(hours=1),
                   signer: Party | None = None) -> dict[str, Any]:
        """The signed TrustListCredential (24 h validity)."""
        signer = signer or self.registry
        doc = {"@context": [V2, CONTEXT_URL], "type": ["VerifiableCredential", TRUST_LIST],
               "validFrom": stamp(valid_from), "validUntil": stamp(valid_from + timedelta(hours=24)),
               "credentialSchema": credential_schema(TRUST_LIST),
               "credentialSubject": copy.deepcopy(subject or self.trust_subject())}
        assert signer.signer is not None
        return issue(doc, signer.signer, issuer=signer.did, created=stamp(valid_from))


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def new_wallet(path: Path, eco: Ecosystem, clock: Clock | None = None, *, cache: bool = True,
               **options: Any) -> Wallet:
    """A fresh did:key wallet whose registry is ``eco.registry`` at a dead URL (so the cache is used)."""
    wallet = Wallet.create(path, PASSPHRASE, rng=seeded_rng(), clock=clock or Clock(), kdf=FAST_KDF,
                           registry_url=DEAD_REGISTRY, registry_did=eco.registry.did, **options)
    if cache:
        wallet.cache_trust_list(eco.trust_list(), fetched=NOW)
    return wallet
