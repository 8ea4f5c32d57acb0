"""KYB issuance with DID Auth: a merchant proves control of its DID and applies for a MerchantIdentityCredential.

The flow is a VC API exchange (VCALM "Exchanges"):

1. ``POST /issuers/{authority}/exchanges`` -> a Verifiable Presentation Request asking for ``DIDAuthentication``
   with a fresh single-use ``challenge`` and the authority's DID as ``domain``.
2. ``POST /issuers/{authority}/exchanges/{id}`` with ``{verifiablePresentation}``: a presentation signed by the
   merchant for ``authentication`` over that challenge and domain, carrying the application as
   ``kybApplication``. The authority verifies control of the holder DID, runs the KYB checks, checks that the
   trust registry authorizes it for the merchant's jurisdiction, and answers with a presentation holding the
   issued credential (with status entries, so it can later be revoked or suspended).

The KYB check is pluggable (:class:`KybCheck`); :class:`RegistrationRules` is the default.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from chopmark.codecs.dates import format_datetime
from chopmark.errors import Unprocessable
from chopmark.store import Store
from chopmark.vc.datamodel import V2_CONTEXT
from chopmark.vc.presentations import holder_id
from chopmark.vocab import CONTEXT_URL, MERCHANT_IDENTITY, credential_schema
from chopmark.vocab.identifiers import jurisdiction_valid, lei_valid
from chopmark.web.exchanges import DID_AUTHENTICATION, Exchanges, presentation_of
from issuer.ports import PresentationChecker, TrustDecisions
from issuer.service import Issuance

NS_EXCHANGE = "kyb-exchange"
APPLICATION_FIELDS = frozenset({"legalName", "registrationNumber", "register", "jurisdiction", "lei",
                                "registeredAddress", "website"})
IDENTITY_VALIDITY = timedelta(days=365)

#: Registration number formats per jurisdiction (country part of the ISO 3166 code). Unlisted countries get the
#: generic rule. These are format checks only: a real authority would look the number up in its register.
REGISTRATION_FORMATS: dict[str, re.Pattern[str]] = {
    "DE": re.compile(r"HR[AB] \d{1,6}(?: [A-Z]{1,2})?"),       # Handelsregister A/B number
    "FR": re.compile(r"\d{3} ?\d{3} ?\d{3}"),                    # SIREN
    "GB": re.compile(r"(?:\d{8}|(?:SC|NI|OC|SO|NC|R0)\d{6})"),   # Companies House number
    "NL": re.compile(r"\d{8}"),                                  # KvK number
    "CN": re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}"),  # unified social credit code
    "JP": re.compile(r"\d{13}"),                                 # corporate number
    "US": re.compile(r"\d{4,12}"),                               # state file number
}
GENERIC_FORMAT = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./-]{2,39}")


class KybCheck(Protocol):
    """A KYB check: the reasons an application is refused (empty when it passes)."""

    def __call__(self, application: Mapping[str, Any]) -> list[str]:
        """Check ``application`` (the credential subject's fields)."""


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


class RegistrationRules:
    """The default KYB check: required fields, jurisdiction code, registration number format per country
    (SIREN numbers also pass the Luhn check), LEI check digits (ISO 17442)."""

    def __call__(self, application: Mapping[str, Any]) -> list[str]:
        """See the class docstring."""
        reasons = [f"{name} is required" for name in ("legalName", "registrationNumber", "register", "jurisdiction",
                                                       "registeredAddress") if name not in application]
        jurisdiction = application.get("jurisdiction")
        if isinstance(jurisdiction, str) and not jurisdiction_valid(jurisdiction):
            reasons.append(f"jurisdiction {jurisdiction!r} is not an ISO 3166-1 or ISO 3166-2 code")
        number = application.get("registrationNumber")
        if isinstance(number, str) and isinstance(jurisdiction, str):
            country = jurisdiction.split("-")[0]
            pattern = REGISTRATION_FORMATS.get(country, GENERIC_FORMAT)
            if not pattern.fullmatch(number):
                reasons.append(f"registrationNumber {number!r} does not have the {country} register's format")
            elif country == "FR" and not _luhn_ok(number.replace(" ", "")):
                reasons.append(f"registrationNumber {number!r} fails the SIREN check digit")
        lei = application.get("lei")
        if lei is not None and not (isinstance(lei, str) and lei_valid(lei)):
            reasons.append(f"lei {lei!r} is not a valid ISO 17442 LEI (check digits)")
        return reasons


class KybExchanges:
    """The KYB authority's exchanges: challenge, DID Auth, checks, issuance."""

    def __init__(self, store: Store, issuance: Issuance, verification: PresentationChecker, trust: TrustDecisions, *,
                 did_for: Callable[[str], str], clock: Callable[[], datetime], rng: Callable[[int], bytes],
                 check: KybCheck | None = None, ttl: int = 300) -> None:
        """``did_for(name)`` gives an issuer instance's DID (and raises NotFound for unknown names)."""
        self._issuance = issuance
        self._verification = verification
        self._trust = trust
        self._did_for = did_for
        self._clock = clock
        self._rng = rng
        self._check: KybCheck = check or RegistrationRules()
        self._exchanges = Exchanges(store, NS_EXCHANGE, owner="authority", clock=clock, rng=rng, ttl=ttl)

    def start(self, authority: str) -> dict[str, Any]:
        """Step 1: a new exchange with a DIDAuthentication request."""
        domain = self._did_for(authority)
        exchange_id, challenge, expires = self._exchanges.open(authority, domain)
        request = {"query": [DID_AUTHENTICATION], "challenge": challenge, "domain": domain}
        return {"exchangeId": exchange_id, "verifiablePresentationRequest": request, "expires": expires}

    def complete(self, authority: str, exchange_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Step 2: verify the DID-Auth presentation, check the application, issue."""
        presentation = presentation_of(body)
        exchange = self._exchanges.take(authority, exchange_id)
        now = self._clock()
        result = self._verification.check_presentation(presentation, challenge=exchange["challenge"],
                                                       domain=exchange["domain"], now=now)
        if not result.verified:
            problems = [{"code": p.code, "check": c.check, "detail": p.detail}
                        for c in result.checks if not c.passed for p in c.problems]
            raise Unprocessable("the DID Authentication presentation did not verify", code="DID_AUTH_FAILED",
                                reasons=problems)
        holder = _holder(presentation)
        application = presentation.get("kybApplication")
        if not isinstance(application, dict):
            raise Unprocessable("the presentation carries no kybApplication object", code="KYB_APPLICATION_MISSING",
                                pointer="/verifiablePresentation/kybApplication")
        self._screen(authority, application, now)
        credential = _identity_credential(holder, application, now)
        credential["id"] = "urn:uuid:" + str(uuid.UUID(bytes=self._rng(16), version=4))
        record = self._issuance.issue_for(authority, credential,
                                          actor=f"kyb-exchange:{exchange_id}")
        return {"verifiablePresentation": {"@context": [V2_CONTEXT], "type": ["VerifiablePresentation"],
                                           "verifiableCredential": [record["credential"]]},
                "credentialId": record["id"]}

    def _screen(self, authority: str, application: Mapping[str, Any], now: datetime) -> None:
        unknown = sorted(set(application) - APPLICATION_FIELDS)
        reasons = [f"unknown application field {name!r}" for name in unknown] + self._check(application)
        if reasons:
            raise Unprocessable("the KYB application was refused", code="KYB_REJECTED", reasons=reasons)
        jurisdiction = application["jurisdiction"]
        decision = self._trust.decide(self._did_for(authority), "issue", MERCHANT_IDENTITY, at=now,
                                      jurisdiction=jurisdiction)
        if not decision.authorized:
            raise Unprocessable(f"this authority is not authorized by the trust registry to issue {MERCHANT_IDENTITY} "
                                f"for {jurisdiction}: {decision.message} ({decision.reason})",
                                code="AUTHORITY_NOT_AUTHORIZED")


def _holder(presentation: Mapping[str, Any]) -> str:
    holder = holder_id(presentation)
    if holder is None:
        raise Unprocessable("the presentation must name its holder (the merchant's DID)", code="HOLDER_MISSING",
                            pointer="/verifiablePresentation/holder")
    return holder


def _identity_credential(holder: str, application: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    subject = {"id": holder, "type": "Merchant", **application}
    return {"@context": [V2_CONTEXT, CONTEXT_URL], "type": ["VerifiableCredential", MERCHANT_IDENTITY],
            "validFrom": format_datetime(now), "validUntil": format_datetime(now + IDENTITY_VALIDITY),
            "credentialSchema": credential_schema(MERCHANT_IDENTITY), "credentialSubject": subject}


__all__ = ["KybCheck", "KybExchanges", "RegistrationRules"]
