"""The demo ecosystem ``make run`` seeds into an empty store: issuers with API tokens, printed once."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chopmark.store import Store
from chopmark.vocab import MARKETPLACE_SELLER, MERCHANT_IDENTITY
from registry.service import Registry
from verifier.sites import Sites

DEMO_ISSUERS = (
    ("kyb-authority", "business registry: vouches for merchants' identity"),
    ("site-a", "marketplace A"),
    ("site-b", "marketplace B"),
    ("site-c", "marketplace C"),
    ("producer", "producer of goods (provenance)"),
    ("bonded-warehouse", "bonded warehouse (provenance)"),
    ("customs", "customs authority (provenance)"),
    ("copyright-office", "registers product photos (copyright)"),
)


#: The demo sites' onboarding policies: A takes identity credentials; B also takes A's seller credentials; C also
#: wants the registered address and reads status lists live (maximum age 0).
SITE_PROFILES: dict[str, dict[str, Any]] = {
    "site-a": {"displayName": "Marketplace A", "acceptedTypes": [MERCHANT_IDENTITY]},
    "site-b": {"displayName": "Marketplace B", "acceptedTypes": [MERCHANT_IDENTITY, MARKETPLACE_SELLER],
               "acceptSellerCredentialsFrom": ["site-a"], "requiredClaims": ["legalName", "jurisdiction"]},
    "site-c": {"displayName": "Marketplace C", "acceptedTypes": [MERCHANT_IDENTITY], "maxStatusAgeSeconds": 0,
               "requiredClaims": ["legalName", "registrationNumber", "jurisdiction", "registeredAddress"]},
}
KYB_AUTHORITY = "kyb-authority"


def ensure_identity_ecosystem(registry: Registry, store: Store, public_url: str) -> list[str]:
    """Create what the merchant-identity ecosystem lacks (idempotent): the KYB authority's authorization in the
    trust registry, sites A-C as members, and their profiles. Issuers must exist already. Returns what was
    added, in words."""
    added = []
    trust = registry.trust
    kyb_did = registry.issuers.did_of(KYB_AUTHORITY)
    if not any(a["entityId"] == kyb_did and a["resource"] == MERCHANT_IDENTITY for a in trust.list_authorizations()):
        trust.add_authorization(kyb_did, "issue", MERCHANT_IDENTITY, ["*"])
        added.append(f"trust: {KYB_AUTHORITY} may issue {MERCHANT_IDENTITY} (all jurisdictions)")
    members = {m["id"] for m in trust.list_members()}
    sites = Sites(store, did_for=registry.issuers.did_of)
    for name, profile in SITE_PROFILES.items():
        did = registry.issuers.did_of(name)
        if did not in members:
            trust.add_member(did, profile["displayName"], f"{public_url}/sites/{name}")
            added.append(f"trust: {name} is a member site")
        if name not in {p.site for p in sites.list()}:
            sites.put(name, profile)
            added.append(f"site profile: {name}")
    return added


def ensure_demo_issuers(registry: Registry) -> list[str]:
    """Create the demo issuers that do not exist yet (without tokens). Returns their names."""
    existing = {r["name"] for r in registry.issuers.list()}
    created = [name for name, _ in DEMO_ISSUERS if name not in existing]
    for name in created:
        registry.issuers.create(name)
    return created


def seed_demo(registry: Registry, data_dir: Path, public_url: str | None = None) -> list[dict[str, Any]] | None:
    """Create the demo issuers and one ``issue,status`` token each, plus a global admin token, when the store
    has no issuers yet, then the identity ecosystem (trust registry entries, site profiles) when ``public_url``
    is given. Tokens are written to ``<data_dir>/demo-tokens.env`` and ``.json`` (mode 0600).
    Returns the rows created, or None when the store had issuers already."""
    if registry.issuers.list():
        if public_url is not None and not set(dict(DEMO_ISSUERS)) - {r["name"] for r in registry.issuers.list()}:
            ensure_identity_ecosystem(registry, registry.store, public_url)
        return None
    rows: list[dict[str, Any]] = []
    for name, role in DEMO_ISSUERS:
        record = registry.issuers.create(name)
        token = registry.tokens.create(issuer=name, scopes="issue,status", label="demo")
        rows.append({"name": name, "role": role, "did": record["did"], "token": token["token"]})
    admin = registry.tokens.create(issuer=None, scopes="admin", label="demo admin")
    rows.append({"name": "admin", "role": "global admin (issuers, tokens)", "did": "", "token": admin["token"]})
    if public_url is not None:
        ensure_identity_ecosystem(registry, registry.store, public_url)
    _write_private(data_dir / "demo-tokens.json", json.dumps({r["name"]: r["token"] for r in rows}, indent=2))
    env_lines = [f"{r['name'].upper().replace('-', '_')}_TOKEN={r['token']}" for r in rows]
    _write_private(data_dir / "demo-tokens.env", "\n".join(env_lines) + "\n")
    return rows


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
