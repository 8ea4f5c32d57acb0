"""The wallet's conversations with the services (issue 4 design, "HTTP contract the wallet talks to").

* KYB (:meth:`WalletClient.request_identity`): ``POST {authority}/exchanges`` -> a DIDAuthentication request;
  the wallet checks the authority (the request's ``domain``) is the host it talks to and is authorized by the
  trust list to issue MerchantIdentityCredential, answers with a DID-Auth presentation carrying
  ``kybApplication`` to ``POST {authority}/exchanges/{id}``, then checks and stores the returned credential.
* Onboarding (:meth:`WalletClient.onboard`): ``POST {site}/onboarding`` -> a request whose ``domain`` (the
  site DID) must be an active member of the trust list and the host it talks to (else
  :class:`UntrustedSiteError`: nothing is presented). The site's public profile (``GET {site}``) names the
  types it accepts (``acceptedTypes``, any one of them): the presentation carries exactly one credential of an
  accepted type (the first the wallet holds, in the site's order), never the rest of the wallet. It goes to
  ``POST {site}/onboarding/{id}``; an accepted decision's MarketplaceSellerCredential is checked and stored.
* did:web resolution: a DID whose host (and port) is the host of a service the user named (the registry, the
  authority, the sites of this run) is fetched from that service's origin, plain http included; any other
  did:web document is fetched over https by :class:`chopmark.net.fetch.SafeFetcher`. did:key is offline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from chopmark import trust
from chopmark.dids import Resolver
from chopmark.jsonld import DocumentLoader
from chopmark.jsonld.values import as_list
from chopmark.net.fetch import SafeFetcher
from chopmark.vocab import MERCHANT_IDENTITY
from wallet import checks, query
from wallet.core import Wallet, same_host
from wallet.errors import (
    CredentialRefusedError,
    RemoteError,
    TrustListUnavailableError,
    UnsupportedRequestError,
    UntrustedSiteError,
    WalletConfigError,
)
from wallet.http import DEFAULT_TIMEOUT, Http, check_service_url

_DID_ACCEPT = "application/did+json"
#: Seconds a client reuses the trust list it fetched before asking the registry again.
TRUST_MAX_AGE = 60.0


def credentials_in(document: Any) -> list[Mapping[str, Any]]:
    """The credentials of an answer: a credential, ``{"verifiableCredential": ...}`` (VC API), a
    presentation, or ``{"verifiablePresentation": ...}`` (VC API exchanges)."""
    if not isinstance(document, Mapping):
        return []
    if isinstance(document.get("verifiablePresentation"), Mapping):
        document = document["verifiablePresentation"]
    types = as_list(document.get("type"))
    if "VerifiableCredential" in types:
        return [document]
    return [c for c in as_list(document.get("verifiableCredential")) if isinstance(c, Mapping)]


def _member(document: Any, name: str, kind: type) -> Any:
    value = document.get(name) if isinstance(document, Mapping) else None
    if not isinstance(value, kind):
        raise RemoteError(f"the service's answer has no {name}", code="REMOTE_BAD_ANSWER")
    return value


class _WebFetch:
    """``fetch(url) -> bytes`` for did:web documents: the named services' origins first, else SafeFetcher."""

    def __init__(self, http: Http, safe: Callable[[str], bytes]) -> None:
        self.origins: dict[tuple[str | None, int | None], str] = {}
        self._http, self.safe = http, safe
        self._memo: dict[str, bytes] = {}

    def add(self, base_url: str) -> None:
        """Serve did:web documents of ``base_url``'s host and port from its origin."""
        parts = urlsplit(base_url)
        self.origins[(parts.hostname, parts.port)] = f"{parts.scheme}://{parts.netloc}"

    def __call__(self, url: str) -> bytes:
        """The document bytes (memoised for the client's lifetime)."""
        if url not in self._memo:
            parts = urlsplit(url)
            origin = self.origins.get((parts.hostname, parts.port))
            self._memo[url] = (self._http.request("GET", origin + parts.path, None, accept=_DID_ACCEPT)
                               if origin is not None else self.safe(url))
        return self._memo[url]


class WalletClient:
    """One wallet talking to the services; the trust list is reused for ``trust_max_age`` seconds."""

    def __init__(self, wallet: Wallet, *, timeout: float = DEFAULT_TIMEOUT, http: Http | None = None,
                 safe_fetch: Callable[[str], bytes] | None = None, loader: DocumentLoader | None = None,
                 trust_max_age: float = TRUST_MAX_AGE) -> None:
        """``timeout`` applies to every request; the trust list is fetched again once it is older than
        ``trust_max_age`` seconds; ``http`` / ``safe_fetch`` / ``loader`` may be injected."""
        self.wallet = wallet
        self.trust_max_age = trust_max_age
        self._trust_at = 0.0
        self.http = http or Http(timeout=timeout)
        self.loader = loader or DocumentLoader.pinned()
        self._fetch = _WebFetch(self.http, safe_fetch or SafeFetcher(timeout=timeout))
        self.resolver = Resolver(web_fetch=self._fetch)
        self._trust: dict[str, Any] | None = None
        self.trust_source: str | None = None  # "registry" or "cache" once a trust list was obtained
        registry = wallet.settings.get("registryUrl")
        if isinstance(registry, str):
            self._fetch.add(registry)

    def add_service(self, url: str) -> str:
        """Name a service for did:web resolution; returns its checked base URL."""
        base = check_service_url(url)
        self._fetch.add(base)
        return base

    def fetch_json(self, url: str) -> Any:
        """The JSON document at ``url`` (a status list): from a named service's origin (plain http allowed),
        else over HTTPS through the SSRF-safe fetcher. RemoteError / FetchError when it cannot be had."""
        parts = urlsplit(url)
        origin = self._fetch.origins.get((parts.hostname, parts.port))
        if origin is None:
            return Http.parse_json(url, self._fetch.safe(url))
        return self.http.get_json(origin + parts.path + (f"?{parts.query}" if parts.query else ""))

    # --- trust ------------------------------------------------------------------------------------------

    def trust_subject(self) -> dict[str, Any]:
        """The verified trust list subject: fetched from ``{registry}/trust/list`` and verified against the
        registry DID, or the valid cached list when the registry is unreachable or its answer does not verify."""
        if self._trust is not None and time.monotonic() - self._trust_at < self.trust_max_age:
            return self._trust
        registry = self.wallet.settings.get("registryUrl")
        if not isinstance(registry, str):
            raise WalletConfigError("no trust registry is configured (use --registry)")
        try:
            listed = self.http.get_json(f"{self.add_service(registry)}/trust/list")
            self._trust = checks.adopt_trust_list(self.wallet, listed, resolver=self.resolver, loader=self.loader)
            self.trust_source = "registry"
        except (RemoteError, TrustListUnavailableError) as exc:
            cached = checks.cached_trust_subject(self.wallet)
            if cached is None:
                raise TrustListUnavailableError(f"{exc.detail}; no valid cached trust list either") from None
            self._trust, self.trust_source = cached, "cache"
        self._trust_at = time.monotonic()
        return self._trust

    def _trust_or_none(self) -> dict[str, Any] | None:
        try:
            return self.trust_subject()
        except (TrustListUnavailableError, WalletConfigError):
            return None

    def sites(self) -> list[dict[str, Any]]:
        """The active member sites of the trust list that have an ``onboardingUrl``."""
        members = self.trust_subject().get("members", [])
        return [dict(m) for m in members if isinstance(m, Mapping) and m.get("role") == trust.SITE
                and m.get("entryStatus") == trust.ACTIVE and isinstance(m.get("onboardingUrl"), str)]

    # --- receiving --------------------------------------------------------------------------------------

    def receive(self, credential: Any) -> dict[str, Any]:
        """Check and store one credential (:class:`CredentialRefusedError` lists every failed check)."""
        return checks.receive(self.wallet, credential, resolver=self.resolver, trust_subject=self._trust_or_none(),
                              loader=self.loader)

    def receive_url(self, url: str) -> list[dict[str, Any]]:
        """Fetch a credential (or a VC API answer / presentation holding credentials) and receive each one.

        Acceptable credentials are stored even when another one of the answer is refused; the refusals are
        then raised together."""
        found = credentials_in(self.http.get_json(check_service_url(url)))
        if not found:
            raise RemoteError(f"{url} returned no credential", code="REMOTE_BAD_ANSWER")
        stored: list[dict[str, Any]] = []
        reasons: list[dict[str, Any]] = []
        for credential in found:
            try:
                stored.append(self.receive(credential))
            except CredentialRefusedError as exc:
                reasons.extend(exc.reasons)
        if reasons:
            codes = ", ".join(dict.fromkeys(r["code"] for r in reasons))
            raise CredentialRefusedError(f"credential refused: {codes}", reasons=reasons,
                                         stored=[e["id"] for e in stored])
        return stored

    # --- KYB --------------------------------------------------------------------------------------------

    def request_identity(self, authority_url: str, application: Mapping[str, Any]) -> dict[str, Any]:
        """Run the KYB exchange; return the MerchantIdentityCredential (checked and stored)."""
        base = self.add_service(authority_url)
        offer = self.http.post_json(f"{base}/exchanges", None)
        vpr = _member(offer, "verifiablePresentationRequest", Mapping)
        exchange = _member(offer, "exchangeId", str)
        self._check_authority(vpr, base, application)
        presentation = self.wallet.did_auth(vpr, application)
        answer = self.http.post_json(f"{base}/exchanges/{quote(exchange, safe='')}",
                                     {"verifiablePresentation": presentation})
        identity = [c for c in credentials_in(answer) if MERCHANT_IDENTITY in as_list(c.get("type"))]
        if not identity:
            raise RemoteError(f"{base} returned no {MERCHANT_IDENTITY}", code="REMOTE_BAD_ANSWER")
        self.receive(identity[0])
        return dict(identity[0])

    def _check_authority(self, vpr: Mapping[str, Any], base: str, application: Mapping[str, Any]) -> None:
        # The application (personal data) goes only to the host we talk to, and only when the trust list
        # authorizes that authority to issue identity credentials in the applicant's jurisdiction.
        domain = vpr.get("domain")
        if not isinstance(domain, str) or not domain.startswith("did:"):
            raise UnsupportedRequestError("the authority's request has no DID domain")
        if not same_host(domain, base):
            raise UntrustedSiteError(f"the request's domain {domain} is not the authority {base}")
        jurisdiction = application.get("jurisdiction") if isinstance(application, Mapping) else None
        decision = trust.evaluate(self.trust_subject(), domain, trust.ISSUE, MERCHANT_IDENTITY, at=self.wallet.now(),
                                  jurisdiction=jurisdiction if isinstance(jurisdiction, str) else None)
        if not decision.authorized:
            raise UntrustedSiteError(f"{domain} is not authorized to issue {MERCHANT_IDENTITY}: {decision.message}",
                                     code="UNTRUSTED_AUTHORITY")

    # --- onboarding -------------------------------------------------------------------------------------

    def onboard(self, site_url: str) -> dict[str, Any]:
        """Onboard at one site; return its decision, plus ``wallet``: ``{"stored": id}`` when the returned
        MarketplaceSellerCredential was stored or ``{"refused": reasons}`` when it failed the wallet's checks."""
        base = self.add_service(site_url)
        session = self.http.post_json(f"{base}/onboarding", None)
        vpr = _member(session, "verifiablePresentationRequest", Mapping)
        session_id = _member(session, "id", str)
        domain = vpr.get("domain")
        if not isinstance(domain, str) or session.get("site", domain) != domain:
            raise UntrustedSiteError(f"the onboarding request of {base} names no consistent site DID")
        if not trust.is_member(self.trust_subject(), domain):
            raise UntrustedSiteError(f"{domain} is not an active member of the trust list; nothing was presented")
        presentation = self.wallet.present(vpr, site_base_url=base, accepted_types=self._accepted_types(base, vpr))
        decision = dict(self.http.post_json(f"{base}/onboarding/{quote(session_id, safe='')}",
                                            {"verifiablePresentation": presentation}))
        credential = decision.get("verifiableCredential")
        if decision.get("accepted") is True and isinstance(credential, Mapping):
            try:
                decision["wallet"] = {"stored": self.receive(credential)["id"]}
            except CredentialRefusedError as exc:
                decision["wallet"] = {"refused": exc.reasons}
        return decision

    def _accepted_types(self, base: str, vpr: Mapping[str, Any]) -> list[str]:
        """The site profile's ``acceptedTypes`` (``GET {site}``); a site that publishes no profile is taken to
        accept any one of the types its request names."""
        try:
            profile = self.http.get_json(base)
        except RemoteError:
            profile = None
        accepted = profile.get("acceptedTypes") if isinstance(profile, Mapping) else None
        if isinstance(accepted, list) and all(isinstance(t, str) for t in accepted):
            did = profile.get("did", vpr.get("domain")) if profile is not None else None
            if did != vpr.get("domain"):
                raise UntrustedSiteError(f"the request's domain {vpr.get('domain')} is not the site {base} (its "
                                         f"profile names {did})")
            return list(accepted)
        return [query.ANY_TYPE]


def request_identity(wallet: Wallet, authority_url: str, application: Mapping[str, Any], *,
                     timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """The KYB round trip (see :meth:`WalletClient.request_identity`)."""
    return WalletClient(wallet, timeout=timeout).request_identity(authority_url, application)


def onboard(wallet: Wallet, site_url: str, *, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Onboard at one site (see :meth:`WalletClient.onboard`)."""
    return WalletClient(wallet, timeout=timeout).onboard(site_url)


def receive_url(wallet: Wallet, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> list[dict[str, Any]]:
    """Fetch and receive the credentials at ``url`` (see :meth:`WalletClient.receive_url`)."""
    return WalletClient(wallet, timeout=timeout).receive_url(url)


def sites(wallet: Wallet, *, timeout: float = DEFAULT_TIMEOUT) -> list[dict[str, Any]]:
    """The active member sites with an onboarding URL (see :meth:`WalletClient.sites`)."""
    return WalletClient(wallet, timeout=timeout).sites()


__all__ = ["WalletClient", "credentials_in", "onboard", "receive_url", "request_identity", "sites"]
