"""Merchant identity across hosts, over real HTTP and TLS on loopback.

* Domain linkage: a did:web merchant hosts its DID document and DID Configuration on its own HTTPS origin (a
  static file server in this process); a site whose profile requires ``domainLinkage`` fetches and verifies it.
* A remote trust registry: server B decides with server A's signed trust list (``CHOPMARK_TRUST_REGISTRY_URL``)
  and keeps deciding with the last verified copy while A is down (in memory, and from the store after a restart).
* :class:`verifier.trust.RemoteTrust` on its own (fake clocks, a fake fetcher) and its settings.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chopmark.codecs.dates import format_datetime
from chopmark.dids import Resolver
from chopmark.errors import ConfigurationError, FetchError
from chopmark.jsonld import DocumentLoader
from chopmark.net.fetch import Fetched
from chopmark.store.sqlite import SQLiteStore
from chopmark.vc.credentials import issue
from chopmark.vocab import MERCHANT_IDENTITY
from chopmark.web.settings import Settings
from tests.support.identity import FAST_KDF, PASSPHRASE, Ecosystem, codes, identified_merchant
from tests.support.live import LiveServer, get, http, post
from tests.support.tls import StaticHttpsServer, TlsServer, self_signed
from tests.wallet.support import NOW, Clock
from tests.wallet.support import Ecosystem as Parties
from verifier.trust import UNAVAILABLE, RemoteTrust
from wallet.client import WalletClient
from wallet.core import Wallet
from wallet.demo import demo_application

# the module's tests share its servers: under xdist one worker runs them all
pytestmark = pytest.mark.xdist_group("identity-remote-servers")

CONFIG = "/.well-known/did-configuration.json"
FETCH_LOOPBACK = {"CHOPMARK_FETCH_ALLOWED_HOSTS": "127.0.0.1", "CHOPMARK_FETCH_ALLOW_LOOPBACK": "true"}


@contextmanager
def seeded(server: LiveServer) -> Iterator[Ecosystem]:
    """Start a server (``CHOPMARK_SEED_DEMO=true`` in its env) and yield it with its demo tokens."""
    with server:
        yield Ecosystem(server, json.loads((server.data_dir / "demo-tokens.json").read_text(encoding="utf-8")))


def set_profile(eco: Ecosystem, site: str, **changes: Any) -> dict[str, Any]:
    """Merge ``changes`` into a site's stored profile (GET, then PUT with the global admin token)."""
    url = f"{eco.url}/admin/sites/{site}/profile"
    current = get(url, token=eco.tokens["admin"])
    assert current.status == 200, current.json
    replaced = http("PUT", url, {**current.json, **changes}, token=eco.tokens["admin"])
    assert replaced.status == 200, replaced.json
    return dict(replaced.json)


# --- A) domain linkage ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def linkage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Ecosystem, StaticHttpsServer]]:
    """A seeded server allowed to fetch https://127.0.0.1 (trusting the static server's certificate), and the
    merchant's static HTTPS origin. site-c requires domain linkage."""
    root = tmp_path_factory.mktemp("linkage")
    cert, key = self_signed(root / "tls")
    env = {"CHOPMARK_SEED_DEMO": "true", "CHOPMARK_FETCH_CA_FILE": str(cert), **FETCH_LOOPBACK}
    with StaticHttpsServer(root / "www", cert, key) as web, seeded(LiveServer(root / "server", env=env)) as eco:
        profile = set_profile(eco, "site-c", domainLinkage=True)
        assert profile["domainLinkage"] is True and profile["maxStatusAgeSeconds"] == 0  # merged, not replaced
        yield eco, web


def test_linked_did_web_merchant_onboards_and_a_broken_linkage_is_refused(
        linkage: tuple[Ecosystem, StaticHttpsServer], tmp_path: Path) -> None:
    eco, web = linkage
    wallet = Wallet.create(tmp_path / "shop.cmw", PASSPHRASE, domain=f"127.0.0.1:{web.port}", registry_url=eco.url,
                           kdf=FAST_KDF)
    assert wallet.did == f"did:web:127.0.0.1%3A{web.port}" and wallet.did_origin() == web.url
    web.put("/.well-known/did.json", json.dumps(wallet.did_document()).encode())
    linked = json.dumps(wallet.domain_linkage_configuration(web.url)).encode()
    web.put(CONFIG, linked)
    # The wallet client never resolves its own DID (it signs; the services resolve it), so it needs no loopback
    # allowance: the KYB authority resolves did:web:127.0.0.1%3A<port> over https through the service's fetcher.
    client = WalletClient(wallet, timeout=60)
    identity = client.request_identity(eco.authority(), demo_application())
    assert identity["credentialSubject"]["id"] == wallet.did

    accepted = client.onboard(eco.site("site-c"))
    assert accepted["decision"] == "accepted", accepted["reasons"]
    assert accepted["merchant"]["did"] == wallet.did and "stored" in accepted["wallet"]

    elsewhere = wallet.domain_linkage_configuration("https://127.0.0.1:1")  # links another origin
    web.put(CONFIG, json.dumps(elsewhere).encode())
    mismatch = client.onboard(eco.site("site-c"))
    assert mismatch["decision"] == "rejected" and codes(mismatch) == {"DOMAIN_LINKAGE_INVALID"}
    assert "verifiableCredential" not in mismatch
    impostor = Wallet.create(tmp_path / "impostor.cmw", PASSPHRASE, domain=f"127.0.0.1:{web.port}", kdf=FAST_KDF)
    web.put(CONFIG, json.dumps(impostor.domain_linkage_configuration(web.url)).encode())  # same DID, wrong key
    assert codes(client.onboard(eco.site("site-c"))) == {"DOMAIN_LINKAGE_SIGNATURE"}
    web.remove(CONFIG)
    missing = client.onboard(eco.site("site-c"))
    assert missing["decision"] == "rejected" and codes(missing) == {"DOMAIN_LINKAGE_UNAVAILABLE"}
    assert client.onboard(eco.site("site-a"))["decision"] == "accepted"  # site-a does not require the linkage
    web.put(CONFIG, linked)
    assert client.onboard(eco.site("site-c"))["decision"] == "accepted"


def test_did_key_merchant_cannot_satisfy_domain_linkage(linkage: tuple[Ecosystem, StaticHttpsServer],
                                                        tmp_path: Path) -> None:
    eco, _ = linkage
    merchant, _ = identified_merchant(tmp_path, eco)
    refused = merchant.client.onboard(eco.site("site-c"))
    assert refused["decision"] == "rejected" and codes(refused) == {"DOMAIN_LINKAGE_REQUIRED"}
    assert merchant.client.onboard(eco.site("site-a"))["decision"] == "accepted"


# --- B) a remote trust registry -------------------------------------------------------------------------------

@pytest.fixture
def registry_pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Ecosystem, Ecosystem]]:
    """A: https, seeded (the trust registry and the KYB authority). B: http, seeded, one worker (so the caches
    the test relies on are in one process), deciding with A's trust list, refreshed every second."""
    cert, key = self_signed(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the wallet (this process) talks to A over https
    env_b = {"CHOPMARK_SEED_DEMO": "true", "CHOPMARK_FETCH_CA_FILE": str(cert), "CHOPMARK_TRUST_REFRESH_SECONDS": "1",
             **FETCH_LOOPBACK}
    with seeded(TlsServer(tmp_path / "a", cert, key, env={"CHOPMARK_SEED_DEMO": "true"})) as a:
        env_b["CHOPMARK_TRUST_REGISTRY_URL"] = a.url
        with seeded(LiveServer(tmp_path / "b", env=env_b, workers=1)) as b:
            yield a, b


def test_site_decides_with_a_remote_registry_and_survives_its_outage(registry_pair: tuple[Ecosystem, Ecosystem],
                                                                     tmp_path: Path) -> None:
    a, b = registry_pair
    site_b = get(b.site("site-a")).json["did"]
    member = {"id": site_b, "name": "Marketplace B", "onboardingUrl": b.site("site-a")}
    assert post(f"{a.url}/admin/trust/members", member, token=a.tokens["admin"]).status == 201
    merchant, identity = identified_merchant(tmp_path, a)  # the wallet's registry is A as well
    kyb_a = identity["issuer"]

    accepted = merchant.client.onboard(b.site("site-a"))
    assert accepted["decision"] == "accepted", accepted["reasons"]
    assert accepted["merchant"]["issuer"] == kyb_a and accepted["site"] == "site-a"
    # B's own registry is not consulted: A's list does not authorize B's KYB authority, so B's authority refuses
    opened = post(b.authority() + "/exchanges", None).json
    vp = merchant.wallet.did_auth(opened["verifiablePresentationRequest"], demo_application())
    refused = post(f"{b.authority()}/exchanges/{opened['exchangeId']}", {"verifiablePresentation": vp})
    assert refused.status == 422 and refused.json["code"] == "AUTHORITY_NOT_AUTHORIZED", refused.json

    a.server.stop()
    time.sleep(1.5)  # past B's refresh interval: B tries A again, fails, and keeps its last verified list
    during = merchant.client.onboard(b.site("site-a"))  # A's DID document and status lists are cached too (60 s)
    assert during["decision"] == "accepted", during["reasons"]
    # With live status lists required, the (remote) status check fails closed: that is the only reason left,
    # trust still comes from the cached list
    set_profile(b, "site-a", maxStatusAgeSeconds=0)
    live = merchant.client.onboard(b.site("site-a"))
    assert live["decision"] == "rejected" and codes(live) == {"STATUS_RETRIEVAL_ERROR"}, live["reasons"]
    # A restarted B has no memory of A: the DID document cannot be resolved and status fails, but the last
    # verified trust list comes back from B's store
    b.server.restart()
    restarted = merchant.client.onboard(b.site("site-a"))
    assert restarted["decision"] == "rejected" and "STATUS_RETRIEVAL_ERROR" in codes(restarted)
    assert "ISSUER_NOT_AUTHORIZED" not in codes(restarted), restarted["reasons"]


# --- RemoteTrust on its own -----------------------------------------------------------------------------------

class ListHost:
    """Serves one trust list (JSON, or raw bytes as they are; ``down``: fails like an unreachable host); counts
    requests."""

    def __init__(self, body: Any, delay: float = 0.0) -> None:
        self.body, self.down, self.delay, self.calls = body, False, delay, 0

    def fetch(self, url: str, *, etag: str | None = None) -> Fetched:
        self.calls += 1
        time.sleep(self.delay)
        if self.down:
            raise FetchError(f"fetching {url} failed: ConnectionRefusedError")
        return Fetched(200, self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode(), None)


class Ticks:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


def remote(parties: Parties, host: ListHost, clock: Clock, ticks: Ticks | None = None, **options: Any) -> RemoteTrust:
    return RemoteTrust("https://registry.example/trust/list", parties.registry.did, host, resolver=Resolver(),
                       loader=DocumentLoader.pinned(), clock=clock, refresh_seconds=60,
                       monotonic=ticks or Ticks(), **options)


def authorized(trust: RemoteTrust, parties: Parties, clock: Clock) -> Any:
    return trust.decide(parties.authority.did, "issue", MERCHANT_IDENTITY, at=clock.now, jurisdiction="DE")


def test_last_verified_list_is_used_until_its_valid_until_then_fails_closed() -> None:
    parties, clock, ticks = Parties(), Clock(NOW), Ticks()
    host = ListHost(parties.trust_list(valid_from=NOW - timedelta(hours=1)))  # valid until NOW + 23 h
    trust = remote(parties, host, clock, ticks)
    assert authorized(trust, parties, clock).authorized and trust.member(parties.site.did) is not None
    clock.now += timedelta(seconds=30)
    assert authorized(trust, parties, clock).authorized and host.calls == 1  # not refreshed within 60 s
    host.down = True
    ticks.value += 61
    clock.now = NOW + timedelta(hours=23)  # exactly validUntil: still valid
    assert authorized(trust, parties, clock).authorized and host.calls == 2
    clock.now += timedelta(seconds=1)
    decision = authorized(trust, parties, clock)
    assert not decision.authorized and decision.reason == UNAVAILABLE
    assert "ConnectionRefusedError" in decision.message
    assert trust.member(parties.site.did) is None


def unsigned_list(parties: Parties, **changes: Any) -> dict[str, Any]:
    listed = parties.trust_list()
    listed.pop("proof")
    listed.update(changes)
    return {k: v for k, v in listed.items() if v is not None}


@pytest.mark.parametrize(("case", "expected"), [
    ("other-signer", "UNEXPECTED_TRUST_LIST_ISSUER"), ("tampered", "does not verify"),
    ("no-schema", "schema"), ("no-valid-until", "validUntil"), ("not-json", "not valid JSON"),
])
def test_a_list_that_does_not_verify_is_never_used(case: str, expected: str) -> None:
    parties = Parties()
    assert parties.registry.signer is not None
    bodies: dict[str, Any] = {
        "other-signer": parties.trust_list(signer=parties.rogue),
        "tampered": {**parties.trust_list(), "validUntil": format_datetime(NOW + timedelta(days=9))},
        "no-schema": issue(unsigned_list(parties, credentialSchema=None), parties.registry.signer),
        "no-valid-until": issue(unsigned_list(parties, validUntil=None), parties.registry.signer),
        "not-json": b"{",
    }
    decision = authorized(remote(parties, ListHost(bodies[case]), Clock(NOW)), parties, Clock(NOW))
    assert not decision.authorized and decision.reason == UNAVAILABLE
    assert expected in decision.message


def test_newer_lists_replace_the_copy_and_older_ones_never_do() -> None:
    parties, clock, ticks = Parties(), Clock(NOW), Ticks()
    host = ListHost(parties.trust_list(valid_from=NOW - timedelta(hours=1)))
    trust = remote(parties, host, clock, ticks)
    assert authorized(trust, parties, clock).authorized
    host.body = parties.trust_list(parties.trust_subject(authority_status="suspended", version=4),
                                   valid_from=NOW - timedelta(minutes=10))
    ticks.value += 60
    assert authorized(trust, parties, clock).reason == "suspended"
    host.body = parties.trust_list(valid_from=NOW - timedelta(hours=2))  # a replay of an older, signed list
    ticks.value += 60
    assert authorized(trust, parties, clock).reason == "suspended" and host.calls == 3


def test_the_last_list_is_shared_through_the_store(tmp_path: Path) -> None:
    parties, clock = Parties(), Clock(NOW)
    store = SQLiteStore(tmp_path / "shared.db")
    host = ListHost(parties.trust_list())
    assert authorized(remote(parties, host, clock, store=store), parties, clock).authorized
    host.down = True  # another worker (or a restarted service) starts while the registry is down
    assert authorized(remote(parties, host, clock, store=store), parties, clock).authorized
    assert authorized(remote(parties, host, clock), parties, clock).reason == UNAVAILABLE


def test_one_refresh_at_a_time() -> None:
    parties, clock = Parties(), Clock(NOW)
    host = ListHost(parties.trust_list(), delay=0.2)
    trust = remote(parties, host, clock)
    answers: list[bool] = []
    threads = [threading.Thread(target=lambda: answers.append(authorized(trust, parties, clock).authorized))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert answers == [True] * 8 and host.calls == 1


# --- settings ----------------------------------------------------------------------------------------------------

def test_trust_registry_settings_default_and_derive_the_did() -> None:
    assert Settings.load({}, env={}).trust_registry_url == ""
    settings = Settings.load({}, env={"CHOPMARK_TRUST_REGISTRY_URL": "https://127.0.0.1:8443/", **FETCH_LOOPBACK})
    assert settings.trust_registry_url == "https://127.0.0.1:8443"
    assert settings.trust_registry_did == "did:web:127.0.0.1%3A8443" and settings.trust_refresh_seconds == 60
    named = Settings.load({"trust_refresh_seconds": "5"}, env={
        "CHOPMARK_TRUST_REGISTRY_URL": "https://registry.example", "CHOPMARK_FETCH_ALLOWED_HOSTS": "*",
        "CHOPMARK_TRUST_REGISTRY_DID": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"})
    assert named.trust_registry_did.startswith("did:key:") and named.trust_refresh_seconds == 5


@pytest.mark.parametrize(("env", "message"), [
    ({"CHOPMARK_TRUST_REGISTRY_URL": "https://registry.example"}, "CHOPMARK_TRUST_REGISTRY_URL.*disabled"),
    ({"CHOPMARK_TRUST_REGISTRY_URL": "https://registry.example", "CHOPMARK_FETCH_ALLOWED_HOSTS": "other.example"},
     "registry.example is not in fetch_allowed_hosts"),
    ({"CHOPMARK_TRUST_REGISTRY_URL": "http://registry.example", "CHOPMARK_FETCH_ALLOWED_HOSTS": "*"}, "https unless"),
    ({"CHOPMARK_TRUST_REGISTRY_URL": "https://127.0.0.1:8443", "CHOPMARK_FETCH_ALLOWED_HOSTS": "127.0.0.1"},
     "CHOPMARK_FETCH_ALLOW_LOOPBACK"),
    ({"CHOPMARK_TRUST_REGISTRY_URL": "https://r.example/x?y=1", "CHOPMARK_FETCH_ALLOWED_HOSTS": "*"}, "query"),
    ({"CHOPMARK_TRUST_REGISTRY_URL": "https://r.example", "CHOPMARK_FETCH_ALLOWED_HOSTS": "r.example",
      "CHOPMARK_TRUST_REGISTRY_DID": "did:web:elsewhere.example"}, "CHOPMARK_TRUST_REGISTRY_DID.*elsewhere"),
    ({"CHOPMARK_TRUST_REGISTRY_URL": "https://r.example", "CHOPMARK_FETCH_ALLOWED_HOSTS": "*",
      "CHOPMARK_TRUST_REGISTRY_DID": "registry"}, "must be a DID"),
    ({"CHOPMARK_TRUST_REGISTRY_DID": "did:web:r.example"}, "needs trust_registry_url"),
    ({"CHOPMARK_TRUST_REFRESH_SECONDS": "0"}, "CHOPMARK_TRUST_REFRESH_SECONDS"),
])
def test_trust_registry_settings_are_validated(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.load({}, env=env)
