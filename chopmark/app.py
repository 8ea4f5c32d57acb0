"""``create_app``: the one place that knows every role. It wires the store, the registry, the issuer and the
verifier into one Flask application with the shared HTTP plumbing (errors, auth, limits)."""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response

from chopmark.errors import ConfigurationError
from chopmark.jsonld import DocumentLoader
from chopmark.net.fetch import SafeFetcher
from chopmark.store import Store, open_store
from chopmark.web import openapi, plumbing
from chopmark.web.settings import Settings
from issuer import openapi as issuer_api
from issuer.blueprint import register as register_issuer
from issuer.campaigns import Campaigns
from issuer.campaigns_blueprint import register as register_campaigns
from issuer.kyb import KybCheck, KybExchanges
from issuer.service import Issuance
from registry import openapi as registry_api
from registry.blueprint import register as register_registry
from registry.evidence_blueprint import register as register_evidence
from registry.service import Registry
from registry.trust_blueprint import register as register_trust
from verifier import openapi as verifier_api
from verifier.blueprint import register as register_verifier
from verifier.onboarding import Onboarding
from verifier.service import LocalList, RemoteFetcher, Verification
from verifier.sites import Sites
from verifier.trust import LocalTrust, RemoteTrust, TrustLookup

#: The API description: each role's fragments, in the order the document lists them.
API_FRAGMENTS = (issuer_api.CREDENTIALS, verifier_api.VERIFICATION, registry_api.DOCUMENTS, registry_api.ADMIN,
                 openapi.SERVICE, registry_api.VOCABULARY, openapi.EXCHANGES, issuer_api.KYB, verifier_api.SITES,
                 registry_api.TRUST, registry_api.VOCABULARY_DOCUMENTS, registry_api.LOG, issuer_api.CAMPAIGNS)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _RegistrySources:
    """The verifier's view of what this service serves itself (DID documents, status lists)."""

    def __init__(self, registry: Registry, settings: Settings) -> None:
        self._registry = registry
        self._freshness = settings.status_freshness_ms / 1000
        self._bits: dict[str, tuple[float, bytes]] = {}
        self._did_base = f"https://{settings.public_host.replace('%3A', ':')}{settings.public_path}"

    def did_document(self, url: str) -> bytes | None:
        if not url.startswith(self._did_base + "/"):
            return None
        path = url[len(self._did_base):]
        if path == "/.well-known/did.json":
            self._registry.issuers.ensure_host()
            name = "_host"
        elif path.startswith("/issuers/") and path.endswith("/did.json") and path.count("/") == 3:
            name = path[len("/issuers/"):-len("/did.json")]
        else:
            return None
        return self._registry.issuers.document_bytes(name)

    def status_list(self, url: str, max_age: float | None = None) -> LocalList | None:
        lists = self._registry.status_lists
        list_id = lists.id_for_url(url)
        if list_id is None:
            return None
        record = lists.metadata(list_id)
        freshness = self._freshness if max_age is None else min(self._freshness, max_age)
        bit = (lambda index: lists.get(list_id, index)) if not freshness else self._cached_bit(list_id, freshness)
        return LocalList(issuer=self._registry.issuers.did_for(record["issuer"]), purpose=record["purpose"],
                         size=record["size"], bit=bit)

    def _cached_bit(self, list_id: str, freshness: float) -> Callable[[int], bool]:
        """With ``status_freshness_ms`` > 0: the list's bits as read at most that long ago (one read per list
        and period instead of one per check); a flip is then seen within the period."""
        now = time.monotonic()
        cached = self._bits.get(list_id)
        if cached is None or now - cached[0] > freshness:
            cached = (now, self._registry.status_lists.bits(list_id))
            if len(self._bits) >= 1024:
                self._bits.clear()
            self._bits[list_id] = cached
        bits = cached[1]
        return lambda index: bool(bits[index >> 3] & (0x80 >> (index & 7)))


def build_fetcher(settings: Settings) -> SafeFetcher | None:
    """The SSRF-safe fetcher for other hosts, or None when no host is allow-listed (the default)."""
    if not settings.fetch_allowed_hosts:
        return None
    hosts = None if "*" in settings.fetch_allowed_hosts else frozenset(settings.fetch_allowed_hosts)
    context = ssl.create_default_context(cafile=settings.fetch_ca_file or None)
    return SafeFetcher(allowed_hosts=hosts, max_bytes=1_000_000, ssl_context=context,
                       allow_http_loopback=settings.fetch_allow_loopback)


def build_trust(settings: Settings, registry: Registry, verification: Verification, remote: RemoteFetcher | None, *,
                store: Store, loader: DocumentLoader, clock: Callable[[], datetime]) -> TrustLookup:
    """The trust source: this service's own registry, or the remote registry ``trust_registry_url`` (its signed
    list fetched through ``remote``, verified against ``trust_registry_did``, the last good copy kept)."""
    if not settings.trust_registry_url:
        return LocalTrust(registry.trust.subject)
    if remote is None:
        raise ConfigurationError("trust_registry_url (CHOPMARK_TRUST_REGISTRY_URL) needs fetching enabled "
                                 "(CHOPMARK_FETCH_ALLOWED_HOSTS)")
    return RemoteTrust(settings.trust_registry_url + "/trust/list", settings.trust_registry_did, remote,
                       resolver=verification.resolver, loader=loader, clock=clock,
                       refresh_seconds=settings.trust_refresh_seconds, store=store)


def create_app(settings: Settings | None = None, *, store: Store | None = None,
               clock: Callable[[], datetime] = _utc_now, rng: Callable[[int], bytes] = os.urandom,
               fetcher: RemoteFetcher | None = None, loader: DocumentLoader | None = None,
               kyb_check: KybCheck | None = None) -> Flask:
    """Build the Chopmark application. Everything that does I/O or depends on time can be injected, and so
    can the KYB authority's application check (default :class:`issuer.kyb.RegistrationRules`)."""
    settings = settings or Settings.load()
    store = store or open_store(settings.store)
    loader = loader or DocumentLoader.pinned()
    registry = Registry.build(store, kek=settings.load_kek(), public_url=settings.public_url,
                              public_host=settings.public_host, rng=rng, clock=clock, loader=loader)
    issuance = Issuance(store, registry, clock=clock, rng=rng, loader=loader)
    remote = fetcher or build_fetcher(settings)
    verifying = loader.with_context_policy(inline_contexts=settings.verifier_inline_contexts)
    verification = Verification(store, _RegistrySources(registry, settings), clock=clock, rng=rng, loader=verifying,
                                remote_fetch=remote, challenge_ttl=settings.challenge_ttl_seconds,
                                cache_seconds=settings.status_cache_seconds)
    trust = build_trust(settings, registry, verification, remote, store=store, loader=loader, clock=clock)
    did_for = registry.issuers.did_of
    kyb = KybExchanges(store, issuance, verification, trust, did_for=did_for, clock=clock, rng=rng, check=kyb_check,
                       ttl=settings.challenge_ttl_seconds)
    sites = Sites(store, did_for=did_for)
    onboarding = Onboarding(store, sites, issuance, verification, trust, did_for=did_for, clock=clock, rng=rng,
                            ttl=settings.challenge_ttl_seconds)
    issuance.add_status_listener(onboarding)  # a status change reaches the seller credentials derived from it

    app = _plumbed_app(settings, store, registry)
    register_registry(app, registry)
    register_trust(app, registry.trust)
    register_evidence(app, registry.evidence)
    register_issuer(app, issuance, kyb)
    register_campaigns(app, Campaigns(store, registry, kek=settings.load_kek(), public_url=settings.public_url,
                                      clock=clock, rng=rng, loader=loader))
    register_verifier(app, verification, sites, onboarding)
    return app


def _plumbed_app(settings: Settings, store: Store, registry: Registry) -> Flask:
    """The Flask app with the shared plumbing (limits, auth, errors) and the service's own routes."""
    app = Flask("chopmark")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["chopmark.settings"] = settings
    app.extensions["chopmark.store"] = store
    limiter = None
    if settings.rate_limit_per_minute:
        limiter = plumbing.FixedWindowLimiter(lambda key, ttl: store.incr("rate", key, ttl=ttl),
                                         settings.rate_limit_per_minute)
    plumbing.install(app, tokens=registry.tokens, rate_limit=limiter)

    @app.get("/openapi.json")
    def openapi_document() -> Response:
        return plumbing.json_response(openapi.document(settings.public_url, API_FRAGMENTS))

    @app.get("/health")
    def health() -> Response:
        store.ping()
        return plumbing.json_response({"status": "ok"})

    @app.get("/")
    def index() -> Response:
        return plumbing.json_response(_index(settings))

    return app


def _index(settings: Settings) -> dict[str, Any]:
    return {"service": "chopmark", "publicUrl": settings.public_url, "openapi": "/openapi.json",
            "did": f"did:web:{settings.public_host}"}
