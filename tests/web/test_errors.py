"""Every error path answers RFC 9457 problem details (``application/problem+json``; ``type``, ``title``,
``detail``, ``code`` and a ``status`` equal to the HTTP status; never HTML, never 500), and the tenant isolation
matrix: each protected endpoint with its own token, another issuer's, none and one of the wrong scope."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from chopmark.app import create_app
from chopmark.web.settings import Settings
from tests.support.service import Tenants, unsigned_credential

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPES = "https://chopmark.dev/problems#"

#: Every operation that reads a JSON body, with a token that passes authentication there.
JSON_ENDPOINTS = [("/credentials/issue", "alpha"), ("/issuers/alpha/credentials/issue", "alpha"),
                  ("/credentials/status", "alpha"), ("/credentials/verify", None), ("/presentations/verify", None),
                  ("/status-lists", "alpha"), ("/issuers/alpha/status-lists", "alpha"), ("/admin/issuers", "admin"),
                  ("/admin/issuers/alpha/keys", "admin"), ("/admin/tokens", "admin")]


def assert_problem(reply: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """``reply`` is a problem-details response with ``status`` (and ``code``); returns the body."""
    assert reply.status_code == status, (reply.status_code, reply.get_data(as_text=True)[:500])
    assert reply.mimetype == PROBLEM_JSON, reply.headers
    text = reply.get_data(as_text=True)
    assert "<html" not in text.lower()
    body = json.loads(text)
    assert isinstance(body, dict)
    for member in ("type", "title", "detail", "code"):
        assert isinstance(body.get(member), str) and body[member], (member, body)
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body


def auth(tenants: Tenants, token: str | None) -> dict[str, str]:
    """The Authorization header of ``token`` (none when None)."""
    return tenants.auth(token) if token else {}


def issue(client: FlaskClient, tenants: Tenants, token: str = "alpha", **extra: Any) -> dict[str, Any]:
    """Issue an unsigned credential with ``token``; returns the 201 body."""
    reply = client.post("/credentials/issue", json={"credential": unsigned_credential(**extra)},
                        headers=tenants.auth(token))
    assert reply.status_code == 201, reply.json
    body: dict[str, Any] = reply.json
    return body


# --- bodies -------------------------------------------------------------------------------------------------

BAD_BODIES: dict[str, tuple[bytes, str, int, str]] = {
    "malformed JSON": (b'{"credential": ', "application/json", 400, "MALFORMED_JSON"),
    "empty body": (b"", "application/json", 400, "EMPTY_BODY"),
    "array instead of object": (b"[]", "application/json", 400, "NOT_AN_OBJECT"),
    "string instead of object": (b'"credential"', "application/json", 400, "NOT_AN_OBJECT"),
    "duplicate members": (b'{"options": {}, "options": {}}', "application/json", 400, "MALFORMED_JSON"),
    "NaN": (b'{"options": NaN}', "application/json", 400, "MALFORMED_JSON"),
    "Infinity": (b'{"options": Infinity}', "application/json", 400, "MALFORMED_JSON"),
    "nested beyond the parser": (b'{"options": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json", 400,
                                 "MALFORMED_JSON"),
    "invalid UTF-8": (b'{"options": "\xff"}', "application/json", 400, "MALFORMED_JSON"),
    "byte order mark": (b'\xef\xbb\xbf{"options": {}}', "application/json", 400, "MALFORMED_JSON"),
    "lone surrogate": (b'{"options": "\\ud800"}', "application/json", 400, "MALFORMED_JSON"),
    "text/plain": (b'{"options": {}}', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
    "form": (b"options=1", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
    "multipart": (b"--x\r\n\r\n--x--", "multipart/form-data; boundary=x", 415, "UNSUPPORTED_MEDIA_TYPE"),
    "no content type": (b'{"options": {}}', "", 415, "UNSUPPORTED_MEDIA_TYPE"),
}


@pytest.mark.parametrize("kind", list(BAD_BODIES))
def test_bad_bodies_are_problems_on_every_json_endpoint(kind: str, client: FlaskClient, tenants: Tenants) -> None:
    """Malformed, empty, non-object, duplicate-member, NaN, too deep, non-UTF-8 and non-JSON bodies: 400/415."""
    data, content_type, status, code = BAD_BODIES[kind]
    for path, token in JSON_ENDPOINTS:
        headers = {**auth(tenants, token), **({"Content-Type": content_type} if content_type else {})}
        reply = client.post(path, data=data, headers=headers)
        assert_problem(reply, status, code)


def test_json_with_charset_and_plus_json_are_accepted(client: FlaskClient) -> None:
    """``application/json; charset=utf-8`` and ``+json`` media types reach validation (422: not a credential)."""
    for content_type in ("application/json; charset=utf-8", "application/ld+json"):
        reply = client.post("/credentials/verify", data=b'{"verifiableCredential": 1}', content_type=content_type)
        assert_problem(reply, 422, "NOT_A_CREDENTIAL")


def test_deeply_nested_credential_is_refused(client: FlaskClient, tenants: Tenants) -> None:
    """Nesting the parser accepts but the kernel refuses (64 levels) is a 400 problem when issuing."""
    deep: Any = "leaf"
    for _ in range(200):
        deep = [deep]
    reply = client.post("/credentials/issue", json={"credential": unsigned_credential(evidence=deep)},
                        headers=tenants.auth("alpha"))
    assert "nested deeper" in assert_problem(reply, 400, "INVALID_JSON")["detail"]


def test_oversize_bodies_are_413(client: FlaskClient, tenants: Tenants, service_settings: Settings) -> None:
    """A body over ``max_body_bytes`` (default 1 MiB) is 413 on every JSON endpoint; one just under is not."""
    assert service_settings.max_body_bytes == 1_048_576
    filler = service_settings.max_body_bytes
    oversize = json.dumps({"options": {"pad": "x" * filler}}).encode()
    for path, token in JSON_ENDPOINTS:
        reply = client.post(path, data=oversize, content_type="application/json", headers=auth(tenants, token))
        body = assert_problem(reply, 413, "PAYLOAD_TOO_LARGE")
        assert str(service_settings.max_body_bytes) in body["detail"]
    under = json.dumps({"verifiableCredential": 1, "pad": "x" * (filler - 100)}).encode()
    assert len(under) <= filler
    assert_problem(client.post("/credentials/verify", data=under, content_type="application/json"), 400,
                   "UNKNOWN_MEMBER")


# --- routing ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [("GET", "/nowhere"), ("POST", "/nowhere"), ("GET", "/credentials"),
                                         ("GET", "/issuers/alpha"), ("DELETE", "/admin/tokens/"),
                                         ("GET", "/static/openapi.json"), ("HEAD", "/nowhere")])
def test_unknown_routes_are_404(method: str, path: str, client: FlaskClient) -> None:
    """An unknown route is a 404 problem naming the method and path (HEAD: same status, no body)."""
    reply = client.open(path, method=method)
    if method == "HEAD":
        assert (reply.status_code, reply.mimetype, reply.data) == (404, PROBLEM_JSON, b"")
        return
    assert assert_problem(reply, 404, "NOT_FOUND")["detail"] == f"no route for {method} {path}"


@pytest.mark.parametrize("method,path,allowed", [
    ("GET", "/challenges", {"POST"}), ("GET", "/presentations/verify", {"POST"}),
    ("PUT", "/credentials/issue", {"POST", "GET", "DELETE"}), ("PATCH", "/credentials/urn:x", {"GET", "DELETE"}),
    ("DELETE", "/admin/issuers", {"GET", "POST"}), ("POST", "/health", {"GET"}), ("PUT", "/status-lists/x", {"GET"}),
    ("POST", "/.well-known/did.json", {"GET"}), ("GET", "/admin/tokens/abc", {"DELETE"})])
def test_wrong_method_is_405_with_allow(method: str, path: str, allowed: set[str], client: FlaskClient) -> None:
    """A known path with the wrong method is 405; ``Allow`` (and the body's ``allow``) lists the methods."""
    reply = client.open(path, method=method)
    body = assert_problem(reply, 405, "METHOD_NOT_ALLOWED")
    header = {m.strip() for m in reply.headers["Allow"].split(",")}
    assert allowed <= header and method not in header
    assert header == set(body["allow"])


# --- authentication and authorization -----------------------------------------------------------------------

@pytest.mark.parametrize("header,code,challenge", [
    (None, "UNAUTHORIZED", 'Bearer realm="chopmark"'),
    ("Basic YWxpY2U6c2VjcmV0", "BAD_AUTHORIZATION", 'Bearer realm="chopmark", error="invalid_request"'),
    ("Bearer", "BAD_AUTHORIZATION", 'Bearer realm="chopmark", error="invalid_request"'),
    ("Bearer    ", "BAD_AUTHORIZATION", 'Bearer realm="chopmark", error="invalid_request"'),
    ("Token cmk_abc", "BAD_AUTHORIZATION", 'Bearer realm="chopmark", error="invalid_request"'),
    ("Bearer cmk_unknown", "INVALID_TOKEN", 'Bearer realm="chopmark", error="invalid_token"'),
    ("Bearer not-a-chopmark-token", "INVALID_TOKEN", 'Bearer realm="chopmark", error="invalid_token"'),
    ("Bearer cmk_" + "A" * 500, "INVALID_TOKEN", 'Bearer realm="chopmark", error="invalid_token"')])
def test_missing_or_bad_authorization_is_401(header: str | None, code: str, challenge: str,
                                              client: FlaskClient, tenants: Tenants) -> None:
    """No token, a non-Bearer scheme, an empty or unknown token: 401 with a Bearer challenge."""
    headers = {"Authorization": header} if header is not None else {}
    reply = client.post("/credentials/issue", json={"credential": unsigned_credential()}, headers=headers)
    assert_problem(reply, 401, code)
    assert reply.headers["WWW-Authenticate"] == challenge


def test_bad_authorization_is_401_even_on_public_endpoints(client: FlaskClient, tenants: Tenants) -> None:
    """A sent but unusable token is refused everywhere (public endpoints too); a revoked token is unknown."""
    for path in ("/health", "/.well-known/did.json", "/openapi.json"):
        assert_problem(client.get(path, headers={"Authorization": "Bearer cmk_nope"}), 401, "INVALID_TOKEN")
    assert client.get("/health").status_code == 200
    record = tenants.registry.tokens.authenticate(tenants.tokens["beta"])
    assert record is not None
    revoked = client.delete(f"/admin/tokens/{record.id}", headers=tenants.auth("admin"))
    assert revoked.status_code == 200
    assert_problem(client.post("/credentials/issue", json={"credential": unsigned_credential()},
                               headers=tenants.auth("beta")), 401, "INVALID_TOKEN")


@pytest.mark.parametrize("method,path,token,code", [
    ("POST", "/credentials/issue", "alpha:status", "SCOPE_MISSING"),
    ("POST", "/issuers/alpha/credentials/issue", "beta", "WRONG_ISSUER"),
    ("POST", "/credentials/status", "alpha:issue", "SCOPE_MISSING"),
    ("GET", "/admin/issuers", "alpha:admin", "NOT_GLOBAL_ADMIN"),
    ("POST", "/admin/tokens", "alpha:admin", "NOT_GLOBAL_ADMIN"),
    ("GET", "/admin/issuers/beta", "alpha:admin", "WRONG_ISSUER"),
    ("DELETE", "/admin/tokens/0123456789abcdef", "alpha", "SCOPE_MISSING")])
def test_wrong_scope_or_issuer_is_403(method: str, path: str, token: str, code: str, client: FlaskClient,
                                      tenants: Tenants) -> None:
    """A valid token without the scope, or acting for another issuer, is 403 with the reason's code."""
    reply = client.open(path, method=method, json={"credential": unsigned_credential()}, headers=tenants.auth(token))
    assert_problem(reply, 403, code)


# --- resources ----------------------------------------------------------------------------------------------

def test_unknown_and_deleted_resources(client: FlaskClient, tenants: Tenants) -> None:
    """Unknown credential 404, deleted credential 410 (GET and DELETE), unknown status list 404 (also a
    malformed id), unknown issuer DID document 404, unknown token and key 404, key in use 409."""
    alpha = tenants.auth("alpha")
    assert_problem(client.get("/credentials/urn:uuid:nope", headers=alpha), 404, "CREDENTIAL_NOT_FOUND")
    assert_problem(client.delete("/credentials/urn:uuid:nope", headers=alpha), 404, "CREDENTIAL_NOT_FOUND")
    credential_id = issue(client, tenants)["credentialId"]
    assert client.delete(f"/credentials/{credential_id}", headers=alpha).status_code == 202
    assert_problem(client.get(f"/credentials/{credential_id}", headers=alpha), 410, "CREDENTIAL_DELETED")
    assert_problem(client.delete(f"/credentials/{credential_id}", headers=alpha), 410, "CREDENTIAL_DELETED")
    for list_id in ("alpha.revocation.0000", "..", "a" * 200):
        assert_problem(client.get(f"/status-lists/{list_id}"), 404, "STATUS_LIST_NOT_FOUND")
    for name in ("nobody", "Bad_Name", "-x"):
        assert_problem(client.get(f"/issuers/{name}/did.json"), 404, "ISSUER_NOT_FOUND")
    admin = tenants.auth("admin")
    assert_problem(client.post("/issuers/nobody/credentials/issue", json={"credential": unsigned_credential()},
                               headers=admin), 404, "ISSUER_NOT_FOUND")
    assert_problem(client.delete("/admin/tokens/0123456789abcdef", headers=admin), 404, "TOKEN_NOT_FOUND")
    assert_problem(client.delete("/admin/issuers/alpha/keys/key-99", headers=admin), 404, "KEY_NOT_FOUND")
    assert_problem(client.delete("/admin/issuers/alpha/keys/key-1", headers=admin), 409, "KEY_IN_USE")
    assert_problem(client.post("/admin/issuers", json={"name": "alpha"}, headers=admin), 409, "ISSUER_EXISTS")


@pytest.mark.parametrize("path,token,body,status,code", [
    ("/admin/issuers", "admin", {"name": "Bad_Name"}, 400, "INVALID_ISSUER_NAME"),
    ("/admin/issuers", "admin", {"name": "x" * 64}, 400, "INVALID_ISSUER_NAME"),
    ("/admin/issuers", "admin", {"name": 7}, 400, "INVALID_ISSUER_NAME"),
    ("/admin/issuers", "admin", {"name": "ok", "suites": ["nope-2099"]}, 400, "UNKNOWN_CRYPTOSUITE"),
    ("/admin/issuers", "admin", {"name": "ok", "colour": "red"}, 400, "UNKNOWN_MEMBER"),
    ("/admin/tokens", "admin", {"scopes": [1, ["admin"]]}, 400, "INVALID_SCOPE"),
    ("/admin/tokens", "admin", {"scopes": "issue,root", "issuer": "alpha"}, 400, "INVALID_SCOPE"),
    ("/admin/tokens", "admin", {"scopes": "issue"}, 400, "INVALID_SCOPE"),
    ("/admin/tokens", "admin", {"scopes": "issue", "issuer": "nobody"}, 404, "ISSUER_NOT_FOUND"),
    ("/admin/issuers/alpha/keys", "admin", {"type": ["Ed25519"]}, 400, "INVALID_KEY_TYPE"),
    ("/credentials/issue", "alpha", {"credential": unsigned_credential(), "options": {"proofType": "x"}}, 400,
     "UNKNOWN_OPTION"),
    ("/credentials/issue", "alpha", {"credential": unsigned_credential(), "extra": 1}, 400, "UNKNOWN_MEMBER"),
    ("/credentials/issue", "alpha", {"credential": [1]}, 422, "NOT_A_CREDENTIAL"),
    ("/credentials/issue", "alpha", {"credential": {**unsigned_credential(), "proof": {}}}, 400, "ALREADY_SECURED"),
    ("/credentials/verify", None, {"verifiableCredential": {}, "options": {"challenge": "x"}}, 400,
     "UNKNOWN_OPTION"),
    ("/credentials/verify", None, {"verifiableCredential": {}, "options": {"checks": ["magic"]}}, 400,
     "INVALID_CHECKS"),
    ("/presentations/verify", None, {"verifiablePresentation": {}, "options": {"returnCredential": True}}, 400,
     "UNKNOWN_OPTION"),
    ("/presentations/verify", None, {"presentation": {}}, 400, "UNKNOWN_MEMBER"),
    ("/credentials/status", "alpha", {"credentialId": "x", "status": True, "credentialStatus": {
        "statusPurpose": "revocation"}, "reason": "fraud"}, 400, "UNKNOWN_MEMBER"),
    ("/status-lists", "alpha", {"statusPurpose": "refresh"}, 400, "INVALID_STATUS_PURPOSE"),
    ("/status-lists", "alpha", {"statusPurpose": "revocation", "id": "https://elsewhere.example/x"}, 400,
     "INVALID_STATUS_LIST_ID"),
    ("/status-lists", "admin", {"statusPurpose": "revocation"}, 400, "ISSUER_REQUIRED"),
    ("/credentials/issue", "admin", {"credential": unsigned_credential()}, 400, "ISSUER_REQUIRED")])
def test_invalid_requests_are_problems(path: str, token: str | None, body: dict[str, Any], status: int, code: str,
                                       client: FlaskClient, tenants: Tenants) -> None:
    """Invalid issuer names, unknown members and options, wrong types: 4xx problems with the reason's code."""
    assert_problem(client.post(path, json=body, headers=auth(tenants, token)), status, code)


# --- rate limit ---------------------------------------------------------------------------------------------

def test_rate_limit_is_429_with_retry_after(tmp_path: Path) -> None:
    """With ``rate_limit_per_minute=3`` the 4th request of a client in a minute is 429 with ``Retry-After``
    (seconds, also in the body); other clients have their own budget. Retried once if a minute boundary fell
    in between (the window is the clock minute)."""
    settings = Settings.load({"data_dir": str(tmp_path / "data"), "rate_limit_per_minute": 3}, env={})
    app: Flask = create_app(settings)
    registry = app.extensions["chopmark.registry"]
    registry.issuers.create("alpha")
    for attempt in range(2):
        tokens = [registry.tokens.create(issuer="alpha", scopes="issue")["token"] for _ in range(2)]
        client = app.test_client()
        window = int(time.time() // 60)
        first, second = ({"Authorization": f"Bearer {t}"} for t in tokens)
        answers = [client.get("/health", headers=first).status_code for _ in range(3)]
        limited = client.get("/health", headers=first)
        other = client.get("/health", headers=second)
        anonymous = [client.post("/challenges", environ_base={"REMOTE_ADDR": f"192.0.2.{attempt}"})
                     for _ in range(4)]
        if int(time.time() // 60) != window and attempt == 0:
            continue
        assert answers == [200, 200, 200]
        body = assert_problem(limited, 429, "RATE_LIMITED")
        retry = int(limited.headers["Retry-After"])
        assert 1 <= retry <= 61 and body["retryAfter"] == retry
        assert other.status_code == 200
        assert [r.status_code for r in anonymous[:3]] == [200, 200, 200]
        assert_problem(anonymous[3], 429, "RATE_LIMITED")
        return


# --- tenant isolation ---------------------------------------------------------------------------------------

def _prepare(client: FlaskClient, tenants: Tenants, row: str) -> tuple[str, str, dict[str, Any] | None]:
    """The request of matrix row ``row``: method, path and JSON body (creating the credential it needs)."""
    credential = unsigned_credential()
    if row == "issue":
        return "POST", "/credentials/issue", {"credential": credential}
    if row == "issue for alpha":
        return "POST", "/issuers/alpha/credentials/issue", {"credential": credential}
    if row == "create status list":
        return "POST", "/status-lists", {"statusPurpose": "revocation", "options": {"issuer": "alpha"}}
    if row == "admin get issuer":
        return "GET", "/admin/issuers/alpha", None
    if row == "admin rotate key":
        return "POST", "/admin/issuers/alpha/keys", {"type": "P-256"}
    credential_id = issue(client, tenants)["credentialId"]
    if row == "update status":
        return "POST", "/credentials/status", {"credentialId": credential_id, "status": True, "credentialStatus": {
            "type": "BitstringStatusList", "statusPurpose": "suspension"}}
    return ("GET" if row == "get credential" else "DELETE"), f"/credentials/{credential_id}", None


#: row -> (own token, success status); the wrong-scope token of each row.
ROWS = {"issue": ("alpha", 201), "issue for alpha": ("alpha", 201), "get credential": ("alpha", 200),
        "delete credential": ("alpha", 202), "update status": ("alpha", 200), "create status list": ("alpha", 201),
        "admin get issuer": ("alpha:admin", 200), "admin rotate key": ("alpha:admin", 201)}
WRONG_SCOPE = {"update status": "alpha:issue", "create status list": "alpha:issue", "admin get issuer": "alpha",
               "admin rotate key": "alpha"}


@pytest.mark.parametrize("who", ["own", "other issuer", "no token", "wrong scope", "global admin"])
@pytest.mark.parametrize("row", list(ROWS))
def test_tenant_isolation_matrix(row: str, who: str, client: FlaskClient, tenants: Tenants) -> None:
    """Own token → 2xx; another issuer's token (of the same scopes) → 403 WRONG_ISSUER; no token → 401; wrong
    scope → 403 SCOPE_MISSING; a global admin token → 2xx for every issuer, except issuing without naming one
    (400). ``POST /credentials/issue`` always acts for the token's own issuer, so beta's token issues as beta."""
    own, success = ROWS[row]
    if own == "alpha:admin":
        tenants.tokens["beta:admin"] = tenants.registry.tokens.create(issuer="beta", scopes="admin")["token"]
    token = {"own": own, "other issuer": own.replace("alpha", "beta"), "no token": None,
             "wrong scope": WRONG_SCOPE.get(row, "alpha:status"), "global admin": "admin"}[who]
    method, path, body = _prepare(client, tenants, row)
    reply = client.open(path, method=method, json=body, headers=auth(tenants, token))
    if who == "no token":
        assert_problem(reply, 401, "UNAUTHORIZED")
    elif who == "wrong scope":
        assert_problem(reply, 403, "SCOPE_MISSING")
    elif who == "global admin" and row == "issue":
        assert_problem(reply, 400, "ISSUER_REQUIRED")
    elif who == "other issuer" and row == "issue":
        assert reply.status_code == 201
        assert reply.json["verifiableCredential"]["issuer"] == tenants.registry.issuers.did_for("beta")
    elif who == "other issuer":
        assert_problem(reply, 403, "WRONG_ISSUER")
    else:
        assert reply.status_code == success, reply.get_data(as_text=True)[:500]
        assert reply.data == b"" if success == 202 else reply.mimetype == "application/json"
        if row.startswith("issue"):
            assert reply.json["verifiableCredential"]["issuer"] == tenants.registry.issuers.did_for("alpha")
