"""The VC API result of a verification names each status entry's outcome, also when one of them fails."""

from __future__ import annotations

import time
from pathlib import Path

from flask.testing import FlaskClient

from chopmark.app import create_app
from chopmark.web.settings import Settings
from tests.support.service import Tenants, unsigned_credential


def test_revoked_entry_and_passing_entry_are_both_reported(client: FlaskClient, tenants: Tenants) -> None:
    issued = client.post("/credentials/issue", json={"credential": unsigned_credential()},
                         headers=tenants.auth("alpha"))
    assert issued.status_code == 201
    vc, credential_id = issued.json["verifiableCredential"], issued.json["credentialId"]
    flip = {"credentialId": credential_id, "credentialStatus": {"statusPurpose": "revocation"}, "status": True}
    assert client.post("/credentials/status", json=flip, headers=tenants.auth("alpha")).status_code == 200
    reply = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert reply.status_code == 400
    items = {i["input"]["statusPurpose"]: i for i in reply.json["results"]["credentialStatus"]}
    assert (items["revocation"]["verified"], items["revocation"]["value"]) == (False, 1)
    assert [p["code"] for p in items["revocation"]["problemDetails"]] == ["REVOKED"]
    assert (items["suspension"]["verified"], items["suspension"]["value"]) == (True, 0)
    assert reply.json["results"]["proof"][0]["verified"] is True


def test_proof_only_checks_skip_dates_binding_and_status(client: FlaskClient, tenants: Tenants) -> None:
    expired = unsigned_credential(validUntil="2020-01-01T00:00:00Z")
    vc = client.post("/credentials/issue", json={"credential": expired},
                     headers=tenants.auth("alpha")).json["verifiableCredential"]
    full = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert full.status_code == 400
    assert {p["check"] for p in full.json["problemDetails"]} == {"validity"}
    proof_only = client.post("/credentials/verify",
                             json={"verifiableCredential": vc, "options": {"checks": ["proof"]}})
    assert proof_only.status_code == 200, proof_only.json
    assert "credentialStatus" not in proof_only.json["results"]


def test_status_freshness_window_bounds_staleness(tmp_path: Path) -> None:
    settings = Settings.load({"data_dir": str(tmp_path / "d"), "rate_limit_per_minute": 0,
                              "status_freshness_ms": 300}, env={})
    app = create_app(settings)
    client = app.test_client()
    registry = app.extensions["chopmark.registry"]
    registry.issuers.create("alpha")
    token = {"Authorization": "Bearer " + registry.tokens.create(issuer="alpha", scopes="issue,status")["token"]}
    issued = client.post("/credentials/issue", json={"credential": unsigned_credential()}, headers=token)
    vc = issued.json["verifiableCredential"]
    assert client.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 200
    flip = {"credentialId": issued.json["credentialId"], "credentialStatus": {"statusPurpose": "revocation"},
            "status": True}
    assert client.post("/credentials/status", json=flip, headers=token).status_code == 200
    deadline = time.monotonic() + 5
    status = 200
    while status == 200 and time.monotonic() < deadline:  # seen once the window has passed
        time.sleep(0.1)
        status = client.post("/credentials/verify", json={"verifiableCredential": vc}).status_code
    assert status == 400


def test_action_paths_are_not_credential_ids(client: FlaskClient, tenants: Tenants) -> None:
    for method in ("get", "delete"):
        for action in ("issue", "verify", "status"):
            reply = getattr(client, method)(f"/credentials/{action}", headers=tenants.auth("alpha"))
            assert reply.status_code == 405 and reply.headers["Allow"] == "POST"
            assert reply.content_type == "application/problem+json"


def test_delete_answers_202_without_a_body(client: FlaskClient, tenants: Tenants) -> None:
    issued = client.post("/credentials/issue", json={"credential": unsigned_credential()},
                         headers=tenants.auth("alpha"))
    reply = client.delete(f"/credentials/{issued.json['credentialId']}", headers=tenants.auth("alpha"))
    assert reply.status_code == 202 and reply.data == b"" and "Content-Type" not in reply.headers
