"""Unit-level checks of the identity parts that the end-to-end tests reach only through one path: the KYB rules,
site profile parsing, the status freshness a profile asks for, the decision verdicts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pytest
from flask import Flask

from chopmark.app import _RegistrySources, create_app
from chopmark.dids import did_key_signer
from chopmark.errors import BadRequest
from chopmark.keys import KeyPair, KeyType
from chopmark.vc.datamodel import V2_CONTEXT
from chopmark.vc.presentations import sign_presentation
from chopmark.vocab import CONTEXT_URL
from chopmark.web.settings import Settings
from issuer.kyb import RegistrationRules
from tests.support.service import Tenants
from verifier.policy import Evaluation, reason
from verifier.sites import SiteProfile, parse_profile

GOOD = {"legalName": {"@value": "Acme SAS", "@language": "fr"}, "registrationNumber": "732 829 320",
        "register": {"name": "RCS Paris"}, "jurisdiction": "FR",
        "registeredAddress": {"type": "PostalAddress", "addressCountry": "FR"}}


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, []),
    ({"registrationNumber": "732 829 321"}, ["fails the SIREN check digit"]),
    ({"registrationNumber": "HRB 1"}, ["does not have the FR register's format"]),
    ({"jurisdiction": "XX"}, ["not an ISO 3166-1 or ISO 3166-2 code"]),
    ({"lei": "529900T8BM49AURSDO55"}, []),
    ({"lei": "529900T8BM49AURSDO56"}, ["not a valid ISO 17442 LEI"]),
    ({"jurisdiction": "DE", "registrationNumber": "HRB 123456"}, []),
    ({"jurisdiction": "DE-BY", "registrationNumber": "HRB12345"}, ["does not have the DE register's format"]),
])
def test_registration_rules(changes: dict[str, Any], expected: list[str]) -> None:
    reasons = RegistrationRules()({**GOOD, **changes})
    assert len(reasons) == len(expected), reasons
    for got, want in zip(reasons, expected, strict=True):
        assert want in got


def test_registration_rules_name_missing_fields() -> None:
    reasons = RegistrationRules()({"jurisdiction": "FR"})
    assert [r.split()[0] for r in reasons] == ["legalName", "registrationNumber", "register", "registeredAddress"]


def test_profile_parsing_is_strict() -> None:
    assert parse_profile("site-a", {}) == SiteProfile(site="site-a")
    parsed = parse_profile("site-a", {"jurisdictions": ["DE", "DE-BY"], "maxStatusAgeSeconds": 0})
    assert parsed.jurisdictions == ("DE", "DE-BY") and parsed.max_status_age_seconds == 0
    assert parse_profile("site-a", parsed.to_json()) == parsed
    for bad in ({"acceptedTypes": []}, {"acceptedTypes": ["VerifiableCredential"]}, {"requiredClaims": ["email"]},
                {"jurisdictions": ["Germany"]}, {"acceptedSuites": ["rsa"]}, {"maxStatusAgeSeconds": True},
                {"holderBinding": "yes"}, {"site": "other"}, {"colour": "red"}):
        with pytest.raises(BadRequest):
            parse_profile("site-a", bad)


def test_verdicts() -> None:
    suspended = reason("SUSPENDED", "status", "x")
    assert Evaluation(reasons=[suspended]).decision == "held"
    assert Evaluation(reasons=[suspended, reason("EXPIRED", "validity", "y")]).decision == "rejected"
    assert Evaluation(credential={"id": "x"}).decision == "accepted"
    assert Evaluation().decision == "rejected"


def test_a_profile_s_status_age_overrides_the_service_freshness(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                                 app: Flask, tenants: Tenants) -> None:
    """With CHOPMARK_STATUS_FRESHNESS_MS the service may read its own status bits up to that old; a site whose
    profile allows a status age of 0 always reads them live."""
    settings = Settings.load({"data_dir": str(tmp_path / "d"), "status_freshness_ms": 1000}, env={})
    registry = tenants.registry
    sources = _RegistrySources(registry, settings)
    record, index = registry.status_lists.allocate("alpha", "revocation")
    clock = [100.0]
    monkeypatch.setattr("chopmark.app.time.monotonic", lambda: clock[0])
    cached = sources.status_list(record["url"])
    assert cached is not None and cached.bit(index) is False
    registry.status_lists.set(record["id"], index, True)
    clock[0] += 0.5
    assert sources.status_list(record["url"]).bit(index) is False  # type: ignore[union-attr]  # within 1 s
    assert sources.status_list(record["url"], max_age=0).bit(index) is True  # type: ignore[union-attr]
    clock[0] += 0.6
    assert sources.status_list(record["url"]).bit(index) is True  # type: ignore[union-attr]


def test_the_kyb_check_is_pluggable(tmp_path: Any) -> None:
    """An operator's own KYB check (e.g. a register lookup) replaces the format rules through create_app."""
    seen: list[dict[str, Any]] = []

    def register_lookup(application: Mapping[str, Any]) -> list[str]:
        seen.append(dict(application))
        return ["not found in the register"]

    app = create_app(Settings.load({"data_dir": str(tmp_path / "d"), "rate_limit_per_minute": 0}, env={}),
                     kyb_check=register_lookup)
    app.extensions["chopmark.registry"].issuers.create("kyb")
    client = app.test_client()
    opened = client.post("/issuers/kyb/exchanges").json
    request = opened["verifiablePresentationRequest"]
    did, signer = did_key_signer(KeyPair.generate(KeyType.ED25519, os.urandom))
    vp = sign_presentation({"@context": [V2_CONTEXT, CONTEXT_URL], "type": ["VerifiablePresentation"],
                            "holder": did, "kybApplication": GOOD}, signer, challenge=request["challenge"],
                           domain=request["domain"])
    refused = client.post(f"/issuers/kyb/exchanges/{opened['exchangeId']}", json={"verifiablePresentation": vp})
    assert refused.status_code == 422 and refused.json["code"] == "KYB_REJECTED"
    assert refused.json["reasons"] == ["not found in the register"] and seen == [GOOD]
