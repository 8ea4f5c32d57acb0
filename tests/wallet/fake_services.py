"""A small stand-in for the Chopmark service on a loopback port, speaking the wallet's HTTP contract (design doc
"HTTP contract the wallet talks to"): trust list, did:web documents, the KYB exchange and site onboarding.

It is real HTTP over a real socket and real signatures (the kernel signs and verifies); only the business logic
is minimal. The lead's end-to-end tests run the wallet against the real server.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chopmark.dids import Resolver
from chopmark.keys import KeyPair, KeyType
from chopmark.vc.credentials import issue
from chopmark.vc.presentations import verify_presentation
from chopmark.vocab import CONTEXT_URL, MARKETPLACE_SELLER, MERCHANT_IDENTITY, TRUST_LIST, credential_schema
from tests.wallet.support import IDENTITY_REFERENCE, V2, stamp
from wallet.core import DID_CONTEXTS


@dataclass
class WebParty:
    """A did:web party with one Ed25519 key (``#key-1``)."""

    did: str
    pair: KeyPair

    def document(self) -> dict[str, Any]:
        vm = f"{self.did}#key-1"
        return {"@context": list(DID_CONTEXTS), "id": self.did, "authentication": [vm], "assertionMethod": [vm],
                "verificationMethod": [{"id": vm, "type": "Multikey", "controller": self.did,
                                        "publicKeyMultibase": self.pair.public_key.multibase()}]}

    def sign(self, credential: dict[str, Any], now: datetime) -> dict[str, Any]:
        return issue(credential, self.pair.signer(f"{self.did}#key-1"), issuer=self.did, created=stamp(now))


def _party(did: str, seed: int) -> WebParty:
    return WebParty(did, KeyPair.from_seed(KeyType.ED25519, bytes([seed]) * 32))


@dataclass
class Services:
    """The fake service's state; tests change ``authority_status``, ``relay_domain``... between calls."""

    port: int
    clock: Callable[[], datetime]
    authority_status: str = "active"
    relay_domain: str | None = None  # the onboarding request names this domain instead of the site's DID
    fail_exchange: bool = False
    answered: list[str] = field(default_factory=list)  # paths that received a presentation

    def __post_init__(self) -> None:
        host = f"127.0.0.1%3A{self.port}"
        self.base = f"http://127.0.0.1:{self.port}"
        self.registry = _party(f"did:web:{host}", 61)
        self.parties = {"kyb": _party(f"did:web:{host}:issuers:kyb", 62),
                        "site-a": _party(f"did:web:{host}:issuers:site-a", 63),
                        "rogue": _party(f"did:web:{host}:issuers:rogue", 64)}
        self.resolver = Resolver(documents={p.did: p.document() for p in self.parties.values()})
        self.pending: dict[str, tuple[str, str]] = {}  # exchange / session id -> (party name, challenge)

    def trust_list(self) -> dict[str, Any]:
        now = self.clock()
        subject = {"id": self.registry.did, "type": "TrustRegistry", "trustListVersion": 7,
                   "authorizations": [{"id": "urn:uuid:00000000-0000-4000-8000-000000000001",
                                       "entityId": self.parties["kyb"].did, "action": "issue",
                                       "resource": MERCHANT_IDENTITY, "jurisdictions": ["DE"],
                                       "authorizedFrom": "2020-01-01T00:00:00Z", "entryStatus": self.authority_status}],
                   "members": [{"id": self.parties["site-a"].did, "name": "Marketplace A", "role": "site",
                                "onboardingUrl": f"{self.base}/sites/site-a", "entryStatus": "active"},
                               {"id": "did:web:shop.example:issuers:far", "name": "Far away", "role": "site",
                                "onboardingUrl": "https://127.0.0.1:9/sites/far", "entryStatus": "active"}]}
        return self.registry.sign({"@context": [V2, CONTEXT_URL], "type": ["VerifiableCredential", TRUST_LIST],
                                   "validFrom": stamp(now - timedelta(minutes=5)),
                                   "validUntil": stamp(now + timedelta(hours=24)),
                                   "credentialSchema": credential_schema(TRUST_LIST), "credentialSubject": subject},
                                  now - timedelta(minutes=5))

    def request(self, name: str, query: list[dict[str, Any]]) -> dict[str, Any]:
        ident, challenge = str(uuid.uuid4()), str(uuid.uuid4())
        self.pending[ident] = (name, challenge)
        domain = self.relay_domain if name != "kyb" and self.relay_domain else self.parties[name].did
        return {"id": ident, "exchangeId": ident, "site": domain, "expires": stamp(self.clock() + timedelta(minutes=5)),
                "verifiablePresentationRequest": {"query": query, "challenge": challenge, "domain": domain}}

    def check(self, ident: str, body: Any) -> tuple[dict[str, Any], Any]:
        name, challenge = self.pending.pop(ident)
        vp = body["verifiablePresentation"]
        result = verify_presentation(vp, resolver=self.resolver, now=self.clock(), challenge=challenge,
                                     domain=self.parties[name].did)
        return vp, result

    def identity(self, holder: str, application: dict[str, Any]) -> dict[str, Any]:
        now = self.clock()
        return self.parties["kyb"].sign({
            "@context": [V2, CONTEXT_URL], "type": ["VerifiableCredential", MERCHANT_IDENTITY],
            "validFrom": stamp(now - timedelta(minutes=1)), "validUntil": stamp(now + timedelta(days=365)),
            "credentialSchema": credential_schema(MERCHANT_IDENTITY),
            "credentialSubject": {"id": holder, "type": "Merchant", **application}}, now - timedelta(minutes=1))

    def seller(self, name: str, holder: str, claims: dict[str, Any]) -> dict[str, Any]:
        now, site = self.clock(), self.parties[name]
        return site.sign({
            "@context": [V2, CONTEXT_URL], "type": ["VerifiableCredential", MARKETPLACE_SELLER],
            "validFrom": stamp(now - timedelta(minutes=1)), "credentialSchema": credential_schema(MARKETPLACE_SELLER),
            "credentialSubject": {"id": holder, "type": "MarketplaceSeller", "site": site.did,
                                  "sellerAccountId": "acct_42", "onboardedAt": stamp(now),
                                  "identityCredential": IDENTITY_REFERENCE, **claims}},
            now - timedelta(minutes=1))


DID_AUTH = {"type": "DIDAuthentication", "acceptedMethods": [{"method": "key"}, {"method": "web"}]}
QBE = {"type": "QueryByExample", "credentialQuery": [
    {"reason": "KYB", "example": {"@context": [V2, CONTEXT_URL], "type": [MERCHANT_IDENTITY]}}]}


class Handler(BaseHTTPRequestHandler):
    """Routes of the contract (and a redirect and a slow route for the client's error paths)."""

    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def services(self) -> Services:
        return self.server.services  # type: ignore[attr-defined, no-any-return]

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _problem(self, status: int, code: str, detail: str, **extra: Any) -> None:
        self._send(status, {"type": "https://chopmark.dev/problems#" + code, "title": code, "detail": detail,
                            "code": code, **extra}, "application/problem+json")

    def do_GET(self) -> None:
        s, parts = self.services, self.path.strip("/").split("/")
        if self.path == "/.well-known/did.json":
            self._send(200, s.registry.document())
        elif len(parts) == 3 and parts[0] == "issuers" and parts[2] == "did.json" and parts[1] in s.parties:
            self._send(200, s.parties[parts[1]].document())
        elif self.path == "/trust/list":
            self._send(200, s.trust_list())
        elif len(parts) == 2 and parts[0] == "sites" and parts[1] in s.parties:
            self._send(200, {"site": parts[1], "did": s.parties[parts[1]].did, "acceptedTypes": [MERCHANT_IDENTITY]})
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/trust/list")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/slow":
            time.sleep(1.5)
            self._send(200, {})
        else:
            self._problem(404, "NOT_FOUND", f"no route {self.path}")

    def do_POST(self) -> None:
        s, parts = self.services, self.path.strip("/").split("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        if parts[:3] == ["issuers", "kyb", "exchanges"]:
            self._kyb(s, parts[3] if len(parts) == 4 else None, body)
        elif len(parts) in (3, 4) and parts[0] == "sites" and parts[2] == "onboarding" and parts[1] in s.parties:
            self._onboard(s, parts[1], parts[3] if len(parts) == 4 else None, body)
        else:
            self._problem(404, "NOT_FOUND", f"no route {self.path}")

    def _kyb(self, s: Services, ident: str | None, body: Any) -> None:
        if ident is None:
            self._send(201, {k: v for k, v in s.request("kyb", [DID_AUTH]).items() if k not in ("id", "site")})
            return
        if s.fail_exchange:
            self._problem(422, "KYB_REFUSED", "the register has no such company",
                          reasons=[{"code": "NOT_REGISTERED", "check": "register", "detail": "HRB 123456 unknown"}])
            return
        s.answered.append(self.path)
        vp, result = s.check(ident, body)
        if not result.verified:
            self._problem(400, "PRESENTATION_INVALID", "the presentation does not verify")
            return
        credential = s.identity(vp["holder"], vp["kybApplication"])
        self._send(200, {"verifiablePresentation": {"@context": [V2], "type": ["VerifiablePresentation"],
                                                    "verifiableCredential": [credential]}})

    def _onboard(self, s: Services, name: str, ident: str | None, body: Any) -> None:
        if ident is None:
            self._send(201, s.request(name, [QBE, DID_AUTH]))
            return
        s.answered.append(self.path)
        vp, result = s.check(ident, body)
        credentials = vp.get("verifiableCredential", [])
        if not result.verified or not credentials:
            self._send(200, {"id": ident, "site": s.parties[name].did, "accepted": False, "decision": "rejected",
                             "reasons": [{"code": "PRESENTATION_INVALID", "check": "presentation", "detail": "no"}]})
            return
        claims = {k: credentials[0]["credentialSubject"][k] for k in ("legalName", "jurisdiction")}
        self._send(200, {"id": ident, "site": s.parties[name].did, "accepted": True, "decision": "accepted",
                         "merchant": claims, "reasons": [], "sellerAccountId": "acct_42", "elapsedMs": 3,
                         "verifiableCredential": s.seller(name, vp["holder"], claims)})


class _Server(ThreadingHTTPServer):
    """Quiet about clients that went away (the timeout test hangs up on the slow route)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@contextmanager
def running(clock: Callable[[], datetime]) -> Iterator[Services]:
    """Serve on a free loopback port for the duration of the block."""
    server = _Server(("127.0.0.1", 0), Handler)
    services = Services(server.server_address[1], clock)
    server.services = services  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield services
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
