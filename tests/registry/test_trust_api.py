"""The trust registry over HTTP (TRQP query, signed list with ETag, admin routes) and the ``chopmark trust`` CLI."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from chopmark import trust
from chopmark.dids.resolver import Resolver
from chopmark.jsonld import DocumentLoader
from chopmark.store import open_store
from chopmark.vc.credentials import verify_credential
from chopmark.vocab.schema import check_schemas
from chopmark.web.plumbing import PROBLEM_JSON
from chopmark.web.settings import Settings
from registry.cli import commands as registry_commands
from registry.cli import issuer as issuer_cli
from registry.service import Registry
from registry.trust import TrustRegistry
from registry.trust_cli import trust as trust_cli
from tests.support.service import Tenants

HOST = "did:web:127.0.0.1%3A8000"
ALPHA = f"{HOST}:issuers:alpha"
IDENTITY = "MerchantIdentityCredential"


@pytest.fixture
def trust_registry(app: Flask, tenants: Tenants) -> TrustRegistry:
    """The app's trust registry (with the issuers ``alpha`` and ``beta`` of ``tenants``)."""
    registry: TrustRegistry = app.extensions["chopmark.trust"]
    assert registry is tenants.registry.trust
    return registry


def http_resolver(client: FlaskClient) -> Resolver:
    """did:web resolution through the app's own HTTP routes (``https://127.0.0.1:8000/...`` -> test client)."""
    def fetch(url: str) -> bytes:
        reply = client.get(urlsplit(url).path)
        assert reply.status_code == 200, url
        return bytes(reply.data)

    return Resolver(web_fetch=fetch)


def problem(reply: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The problem+json body of ``reply``, checked for ``status`` and ``code``."""
    assert reply.status_code == status, reply.get_data(as_text=True)
    assert reply.mimetype == PROBLEM_JSON
    body: dict[str, Any] = reply.get_json(force=True)
    assert code is None or body["code"] == code, body
    return body


def query(client: FlaskClient, **body: Any) -> Any:
    """POST /trust/authorization."""
    base = {"entity_id": ALPHA, "authority_id": HOST, "action": "issue", "resource": IDENTITY}
    return client.post("/trust/authorization", json={**base, **body})


def add_authorization(client: FlaskClient, tenants: Tenants, **body: Any) -> dict[str, Any]:
    """Authorize issuer ``alpha`` (by name) for MerchantIdentityCredential in DE and FR."""
    reply = client.post("/admin/trust/authorizations", headers=tenants.auth("admin"),
                        json={"entityId": "alpha", "resource": IDENTITY, "jurisdictions": ["DE", "FR"], **body})
    assert reply.status_code == 201, reply.get_data(as_text=True)
    record: dict[str, Any] = reply.get_json()
    assert reply.headers["Location"] == f"/admin/trust/authorizations/{record['id']}"
    return record


# --- public: TRQP query --------------------------------------------------------------------------------------

def test_query_unknown_entity_is_not_authorized(client: FlaskClient, trust_registry: TrustRegistry) -> None:
    reply = query(client, entity_id="did:web:nobody.example")
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["authorized"] is False and body["reason"] == trust.NOT_LISTED and body["entry"] is None
    assert {"entity_id", "authority_id", "action", "resource", "time_requested", "time_evaluated",
            "message"} <= set(body)


def test_query_after_authorization(client: FlaskClient, tenants: Tenants, trust_registry: TrustRegistry) -> None:
    record = add_authorization(client, tenants, authorizedFrom="2026-01-01T00:00:00Z",
                               authorizedUntil="2099-01-01T00:00:00Z")
    assert record["entityId"] == ALPHA
    body = query(client, jurisdiction="DE").get_json()
    assert body["authorized"] is True and body["entry"]["id"] == record["id"]
    assert query(client, jurisdiction="GB").get_json()["reason"] == trust.JURISDICTION_NOT_COVERED
    early = query(client, context={"time": "2025-12-31T00:00:00Z"}).get_json()
    assert early["reason"] == trust.NOT_YET_VALID and early["time_requested"] == "2025-12-31T00:00:00Z"
    assert query(client, time="2099-01-01T00:00:00Z").get_json()["reason"] == trust.EXPIRED
    other = query(client, authority_id="did:web:elsewhere.example").get_json()
    assert other["authorized"] is False and HOST in other["message"]


@pytest.mark.parametrize(("body", "code", "pointer"), [
    ({"entity_id": None}, "INVALID_QUERY", "/entity_id"),
    ({"authority_id": 5}, "INVALID_QUERY", "/authority_id"),
    ({"resource": ""}, "INVALID_QUERY", "/resource"),
    ({"time": "yesterday"}, "INVALID_DATETIME", "/time"),
    ({"jurisdiction": "Germany"}, "INVALID_JURISDICTION", "/jurisdiction"),
    ({"context": []}, "BAD_REQUEST", "/context"),
    ({"extra": 1}, "UNKNOWN_MEMBER", None)])
def test_query_bad_requests(client: FlaskClient, trust_registry: TrustRegistry, body: dict[str, Any], code: str,
                            pointer: str | None) -> None:
    base = {"entity_id": ALPHA, "authority_id": HOST, "action": "issue", "resource": IDENTITY}
    payload = {k: v for k, v in {**base, **body}.items() if v is not None}
    assert problem(client.post("/trust/authorization", json=payload), 400, code).get("pointer") == pointer


def test_query_needs_json(client: FlaskClient, trust_registry: TrustRegistry) -> None:
    problem(client.post("/trust/authorization", data="x", content_type="text/plain"), 415)


# --- public: the signed list ---------------------------------------------------------------------------------

def test_trust_list_verifies_and_is_conditional(client: FlaskClient, tenants: Tenants,
                                                trust_registry: TrustRegistry) -> None:
    add_authorization(client, tenants)
    reply = client.get("/trust/list")
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    assert reply.headers["Cache-Control"] == "public, max-age=60"
    etag = reply.headers["ETag"]
    assert etag.startswith('W/"')
    credential = reply.get_json()
    resolver = http_resolver(client)
    now = datetime.now(UTC)
    assert verify_credential(credential, resolver=resolver, now=now).verified
    listed, result = trust.verify_trust_list(credential, resolver=resolver, now=now, expected_issuer=HOST,
                                             schema_checker=check_schemas)
    assert result.verified and result.check("schema") is not None, result.to_dict()
    assert listed is not None and trust.evaluate(listed, ALPHA, "issue", IDENTITY, at=now, jurisdiction="FR").authorized
    for header in (etag, etag[2:], f'"other", {etag}', "*"):
        cached = client.get("/trust/list", headers={"If-None-Match": header})
        assert cached.status_code == 304 and cached.data == b"" and cached.headers["ETag"] == etag
    assert client.get("/trust/list", headers={"If-None-Match": '"stale"'}).status_code == 200
    client.post("/admin/trust/members", headers=tenants.auth("admin"),
                json={"id": "did:web:site.example", "name": "Site", "onboardingUrl": "https://site.example/onboarding"})
    changed = client.get("/trust/list", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["credentialSubject"]["trustListVersion"] == 2


def test_tampered_list_is_rejected(client: FlaskClient, tenants: Tenants, trust_registry: TrustRegistry) -> None:
    add_authorization(client, tenants)
    credential = client.get("/trust/list").get_json()
    credential["credentialSubject"]["authorizations"][0]["resource"] = "MarketplaceSellerCredential"
    listed, result = trust.verify_trust_list(credential, resolver=http_resolver(client), now=datetime.now(UTC),
                                             expected_issuer=HOST)
    assert listed is None and not result.verified


# --- administration ------------------------------------------------------------------------------------------

ADMIN_ROUTES = [("GET", "/admin/trust/authorizations"), ("POST", "/admin/trust/authorizations"),
                ("POST", "/admin/trust/authorizations/{a}/suspend"), ("POST", "/admin/trust/authorizations/{a}/resume"),
                ("DELETE", "/admin/trust/authorizations/{a}"), ("GET", "/admin/trust/members"),
                ("POST", "/admin/trust/members"), ("POST", "/admin/trust/members/{m}/suspend"),
                ("POST", "/admin/trust/members/{m}/resume"), ("DELETE", "/admin/trust/members/{m}")]


@pytest.mark.parametrize(("method", "route"), ADMIN_ROUTES)
def test_admin_auth_matrix(client: FlaskClient, tenants: Tenants, trust_registry: TrustRegistry, method: str,
                           route: str) -> None:
    entry = trust_registry.add_authorization(ALPHA, "issue", IDENTITY, ["DE"])
    site = "did:web:127.0.0.1%3A8000:issuers:beta"
    trust_registry.add_member(site, "Beta", "http://127.0.0.1:8000/sites/beta")
    path = route.format(a=entry["id"], m=quote(site, safe=""))
    body = {"entityId": "beta", "resource": IDENTITY, "jurisdictions": ["*"]} if route.endswith("authorizations") \
        else {"id": "alpha", "name": "Alpha", "onboardingUrl": "http://127.0.0.1:8000/sites/alpha"}
    kwargs: dict[str, Any] = {"json": body} if method == "POST" else {}
    problem(client.open(path, method=method, **kwargs), 401)
    problem(client.open(path, method=method, headers=tenants.auth("alpha:admin"), **kwargs), 403, "NOT_GLOBAL_ADMIN")
    problem(client.open(path, method=method, headers=tenants.auth("alpha"), **kwargs), 403, "SCOPE_MISSING")
    reply = client.open(path, method=method, headers=tenants.auth("admin"), **kwargs)
    expected = {"GET": 200, "DELETE": 204}.get(method, 201 if route.endswith(("authorizations", "members")) else 200)
    assert reply.status_code == expected, reply.get_data(as_text=True)


def test_admin_authorization_lifecycle(client: FlaskClient, tenants: Tenants, trust_registry: TrustRegistry) -> None:
    auth = tenants.auth("admin")
    record = add_authorization(client, tenants)
    listed = client.get("/admin/trust/authorizations", headers=auth).get_json()
    assert listed == {"authorizations": [record], "trustListVersion": 1}
    suspended = client.post(f"/admin/trust/authorizations/{record['id']}/suspend", headers=auth).get_json()
    assert suspended["entryStatus"] == "suspended"
    assert query(client).get_json()["reason"] == trust.ENTRY_SUSPENDED
    assert client.post(f"/admin/trust/authorizations/{record['id']}/resume", headers=auth).get_json()[
        "entryStatus"] == "active"
    assert query(client).get_json()["authorized"] is True
    assert client.delete(f"/admin/trust/authorizations/{record['id']}", headers=auth).status_code == 204
    problem(client.delete(f"/admin/trust/authorizations/{record['id']}", headers=auth), 404, "TRUST_ENTRY_NOT_FOUND")
    assert query(client).get_json()["reason"] == trust.NOT_LISTED
    assert trust_registry.version() == 4


@pytest.mark.parametrize(("body", "code", "pointer"), [
    ({"entityId": None}, "INVALID_ENTITY_ID", "/entityId"),
    ({"entityId": "ghost"}, "ISSUER_NOT_FOUND", None),
    ({"resource": None}, "INVALID_RESOURCE", "/resource"),
    ({"jurisdictions": "DE"}, "INVALID_JURISDICTION", "/jurisdictions"),
    ({"jurisdictions": ["DE", "Germany"]}, "INVALID_JURISDICTION", "/jurisdictions/1"),
    ({"action": "delete"}, "INVALID_ACTION", "/action"),
    ({"authorizedUntil": "soon"}, "INVALID_DATETIME", "/authorizedUntil"),
    ({"authorizedFrom": "2030-01-01T00:00:00Z", "authorizedUntil": "2029-01-01T00:00:00Z"}, "INVALID_WINDOW",
     "/authorizedUntil"),
    ({"note": "x"}, "UNKNOWN_MEMBER", None)])
def test_admin_authorization_validation(client: FlaskClient, tenants: Tenants, trust_registry: TrustRegistry,
                                        body: dict[str, Any], code: str, pointer: str | None) -> None:
    base = {"entityId": "alpha", "resource": IDENTITY, "jurisdictions": ["DE"]}
    payload = {k: v for k, v in {**base, **body}.items() if v is not None}
    reply = client.post("/admin/trust/authorizations", headers=tenants.auth("admin"), json=payload)
    status = 404 if code == "ISSUER_NOT_FOUND" else 400
    assert problem(reply, status, code).get("pointer") == pointer
    assert trust_registry.version() == 0


def test_admin_member_lifecycle(client: FlaskClient, tenants: Tenants, trust_registry: TrustRegistry) -> None:
    auth = tenants.auth("admin")
    reply = client.post("/admin/trust/members", headers=auth,
                        json={"id": "beta", "name": "Marketplace B", "onboardingUrl": "http://127.0.0.1:8000/sites/b"})
    assert reply.status_code == 201
    member = reply.get_json()
    beta = f"{HOST}:issuers:beta"
    assert member["id"] == beta and member["role"] == "site" and member["entryStatus"] == "active"
    problem(client.post("/admin/trust/members", headers=auth, json={"id": beta, "name": "B", "onboardingUrl":
                                                                     "https://b.example"}), 409, "MEMBER_EXISTS")
    seller = {"entity_id": beta, "resource": "MarketplaceSellerCredential"}
    assert query(client, **seller).get_json()["reason"] == trust.MEMBER_SITE
    path = f"/admin/trust/members/{quote(beta, safe='')}"
    assert client.post(f"{path}/suspend", headers=auth).get_json()["entryStatus"] == "suspended"
    assert query(client, **seller).get_json()["reason"] == trust.ENTRY_SUSPENDED
    assert client.post(f"{path}/resume", headers=auth).get_json()["entryStatus"] == "active"
    assert client.get("/admin/trust/members", headers=auth).get_json()["members"][0]["entryStatus"] == "active"
    assert client.delete(path, headers=auth).status_code == 204
    problem(client.post(f"{path}/suspend", headers=auth), 404, "MEMBER_NOT_FOUND")
    problem(client.post("/admin/trust/members", headers=auth, json={"id": "did:web:x.example", "name": "X",
                                                                     "onboardingUrl": "mailto:x"}),
            400, "INVALID_ONBOARDING_URL")


# --- the command line ----------------------------------------------------------------------------------------

def cli(command: Any, args: list[str], data_dir: Path, *, code: int = 0) -> Any:
    """Run a CLI group with ``--data-dir`` and parse JSON output when there is some."""
    result = CliRunner().invoke(command, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)
    assert result.exit_code == code, (result.output, result.stderr)
    return json.loads(result.stdout) if result.stdout.strip().startswith(("{", "[")) else result.stdout


def test_cli_authorizations(tmp_path: Path) -> None:
    assert trust_cli in registry_commands()
    cli(issuer_cli, ["create", "kyb-authority", "--json"], tmp_path)
    kyb = f"{HOST}:issuers:kyb-authority"
    record = cli(trust_cli, ["authorize", "kyb-authority", "--type", IDENTITY, "--jurisdiction", "DE",
                             "--jurisdiction", "FR", "--from", "2026-01-01T00:00:00Z", "--json"], tmp_path)
    assert record["entityId"] == kyb and record["jurisdictions"] == ["DE", "FR"]
    assert cli(trust_cli, ["list", "--json"], tmp_path) == [record]
    assert record["id"] in cli(trust_cli, ["list"], tmp_path)
    decision = cli(trust_cli, ["check", kyb, "--type", IDENTITY, "--jurisdiction", "DE"], tmp_path)
    assert decision["authorized"] is True and decision["entry"]["id"] == record["id"]
    refused = cli(trust_cli, ["check", "kyb-authority", "--type", IDENTITY, "--jurisdiction", "GB"], tmp_path, code=1)
    assert refused["reason"] == trust.JURISDICTION_NOT_COVERED
    assert cli(trust_cli, ["suspend", record["id"], "--json"], tmp_path)["entryStatus"] == "suspended"
    cli(trust_cli, ["check", "kyb-authority", "--type", IDENTITY], tmp_path, code=1)
    assert cli(trust_cli, ["resume", record["id"], "--json"], tmp_path)["entryStatus"] == "active"
    cli(trust_cli, ["remove", record["id"]], tmp_path, code=2)  # --yes is required
    assert cli(trust_cli, ["remove", record["id"], "--yes", "--json"], tmp_path)["id"] == record["id"]
    assert cli(trust_cli, ["list", "--json"], tmp_path) == []
    missing = cli(trust_cli, ["suspend", record["id"], "--json"], tmp_path, code=1)
    assert missing["code"] == "TRUST_ENTRY_NOT_FOUND"
    bad = cli(trust_cli, ["authorize", kyb, "--type", IDENTITY, "--jurisdiction", "Germany", "--json"], tmp_path,
              code=1)
    assert bad["code"] == "INVALID_JURISDICTION"
    ghost = cli(trust_cli, ["authorize", "ghost", "--type", IDENTITY, "--jurisdiction", "DE", "--json"], tmp_path,
                code=1)
    assert ghost["code"] == "ISSUER_NOT_FOUND"


def test_cli_members_and_export(tmp_path: Path) -> None:
    cli(issuer_cli, ["create", "site-a", "--json"], tmp_path)
    site = f"{HOST}:issuers:site-a"
    added = cli(trust_cli, ["member", "add", "site-a", "--name", "Marketplace A", "--url",
                            "http://127.0.0.1:8000/sites/site-a", "--json"], tmp_path)
    assert added["id"] == site and added["entryStatus"] == "active"
    assert "Marketplace A" in cli(trust_cli, ["member", "list"], tmp_path)
    assert cli(trust_cli, ["member", "suspend", site, "--json"], tmp_path)["entryStatus"] == "suspended"
    assert cli(trust_cli, ["member", "resume", "site-a", "--json"], tmp_path)["entryStatus"] == "active"
    exported = cli(trust_cli, ["export"], tmp_path)
    settings = Settings.load({"data_dir": str(tmp_path)}, env={})
    registry = Registry.build(open_store(settings.store), kek=settings.load_kek(), public_url=settings.public_url,
                              public_host=settings.public_host, rng=os.urandom, clock=lambda: datetime.now(UTC),
                              loader=DocumentLoader.pinned())
    resolver = Resolver(documents={HOST: registry.issuers.did_document("_host")})
    listed, result = trust.verify_trust_list(exported, resolver=resolver, now=datetime.now(UTC), expected_issuer=HOST)
    assert result.verified, result.to_dict()
    assert listed is not None and trust.is_member(listed, site) and listed["trustListVersion"] == 3
    cli(trust_cli, ["member", "remove", site], tmp_path, code=2)
    assert cli(trust_cli, ["member", "remove", site, "--yes", "--json"], tmp_path)["id"] == site
    assert cli(trust_cli, ["member", "list", "--json"], tmp_path) == []
