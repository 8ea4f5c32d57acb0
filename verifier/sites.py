"""Marketplace sites' verifier profiles: what each site requires before it onboards a seller.

A site is an issuer instance of this service (it signs the ``MarketplaceSellerCredential`` it gives onboarded
merchants) plus a stored profile. Profiles are validated strictly: an unknown member or a wrong type is a 400
naming the member, so a typo can never silently weaken a site's policy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from chopmark.errors import BadRequest, NotFound
from chopmark.integrity.suites import SUITES
from chopmark.store import Store
from chopmark.store.records import get_json, put_json
from chopmark.vocab import MARKETPLACE_SELLER, MERCHANT_IDENTITY
from chopmark.vocab.identifiers import jurisdiction_valid

NS_SITE = "site-profile"
CLAIMS = ("legalName", "registrationNumber", "register", "jurisdiction", "lei", "registeredAddress", "website")
SELLER_CLAIMS = ("legalName", "jurisdiction")
DEFAULT_SUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022", "ecdsa-rdfc-2019", "ecdsa-jcs-2019")


@dataclass(frozen=True)
class SiteProfile:
    """A site's onboarding policy (the JSON form uses these names in camelCase)."""

    site: str
    display_name: str = ""
    accepted_types: tuple[str, ...] = (MERCHANT_IDENTITY,)
    accept_seller_credentials_from: tuple[str, ...] = ()
    required_claims: tuple[str, ...] = ("legalName", "registrationNumber", "jurisdiction")
    jurisdictions: tuple[str, ...] = ("*",)
    accepted_suites: tuple[str, ...] = DEFAULT_SUITES
    max_status_age_seconds: int = 60
    holder_binding: bool = True
    domain_linkage: bool = False
    seller_credential_days: int = 365
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The profile as stored and served."""
        data = asdict(self)
        data.pop("extra")
        return {_camel(k): list(v) if isinstance(v, tuple) else v for k, v in data.items()}



def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _strings(allowed: Callable[[str], bool], what: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, list) or not all(isinstance(v, str) and allowed(v) for v in value):
            return f"must be a list of {what}"
        return None
    return check


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _seconds(low: int, high: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return None if ok else f"must be an integer from {low} to {high}"
    return check


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and len(value) <= 200 else "must be a string of at most 200 characters"


RULES: dict[str, Callable[[Any], str | None]] = {
    "displayName": _text,
    "acceptedTypes": _strings(lambda v: v in (MERCHANT_IDENTITY, MARKETPLACE_SELLER),
                              f"{MERCHANT_IDENTITY} / {MARKETPLACE_SELLER}"),
    "acceptSellerCredentialsFrom": _strings(lambda v: 0 < len(v) <= 200, "site names, site DIDs or \"*\""),
    "requiredClaims": _strings(lambda v: v in CLAIMS, f"claims from {list(CLAIMS)}"),
    "jurisdictions": _strings(lambda v: v == "*" or jurisdiction_valid(v), "ISO 3166 codes or \"*\""),
    "acceptedSuites": _strings(lambda v: v in SUITES, f"cryptosuites from {sorted(SUITES)}"),
    "maxStatusAgeSeconds": _seconds(0, 86_400),
    "holderBinding": _bool,
    "domainLinkage": _bool,
    "sellerCredentialDays": _seconds(1, 3650),
}


def parse_profile(site: str, body: Mapping[str, Any]) -> SiteProfile:
    """Validate a profile document (every member optional; defaults as in :class:`SiteProfile`)."""
    unknown = sorted(set(body) - set(RULES) - {"site"})
    if unknown:
        raise BadRequest(f"unknown profile members {unknown}; allowed: {sorted(RULES)}", code="UNKNOWN_MEMBER")
    if "site" in body and body["site"] != site:
        raise BadRequest("the profile's site does not match the URL", pointer="/site", code="SITE_MISMATCH")
    values: dict[str, Any] = {}
    for name, rule in RULES.items():
        if name in body:
            problem = rule(body[name])
            if problem:
                raise BadRequest(f"{name} {problem}", pointer=f"/{name}", code="INVALID_PROFILE")
            value = body[name]
            values[_snake(name)] = tuple(value) if isinstance(value, list) else value
    if not values.get("accepted_types", (MERCHANT_IDENTITY,)):
        raise BadRequest("acceptedTypes must not be empty", pointer="/acceptedTypes", code="INVALID_PROFILE")
    if not values.get("accepted_suites", DEFAULT_SUITES):
        raise BadRequest("acceptedSuites must not be empty", pointer="/acceptedSuites", code="INVALID_PROFILE")
    return SiteProfile(site=site, **values)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


class Sites:
    """Stored site profiles."""

    def __init__(self, store: Store, *, did_for: Callable[[str], str]) -> None:
        """``did_for(name)`` is the site's issuer DID (NotFound for an unknown issuer)."""
        self._store = store
        self._did_for = did_for

    def get(self, site: str) -> SiteProfile:
        """The profile of ``site``; NotFound when the site has none (it does not onboard sellers)."""
        data = get_json(self._store, NS_SITE, site) if 0 < len(site) <= 64 else None
        if data is None:
            raise NotFound(f"no marketplace site {site!r}", code="SITE_NOT_FOUND")
        return parse_profile(site, data)

    def put(self, site: str, body: Mapping[str, Any]) -> SiteProfile:
        """Create or replace the profile of ``site`` (which must be an issuer instance)."""
        self._did_for(site)
        profile = parse_profile(site, body)
        put_json(self._store, NS_SITE, site, profile.to_json())
        return profile

    def list(self) -> list[SiteProfile]:
        """Every site's profile, by name."""
        return sorted((parse_profile(key, value) for key, value in _scan(self._store)), key=lambda p: p.site)

    def public_view(self, profile: SiteProfile, base_url: str) -> dict[str, Any]:
        """What a merchant may read about a site before onboarding: its DID, policy and onboarding URL."""
        return {"site": profile.site, "did": self._did_for(profile.site), **profile.to_json(),
                "onboardingUrl": f"{base_url}/sites/{profile.site}/onboarding"}


def _scan(store: Store) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for key, raw in store.scan(NS_SITE):
        data = json.loads(raw)
        if isinstance(data, dict):
            out.append((key, data))
    return out
