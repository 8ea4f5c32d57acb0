"""End to end against a real gunicorn server (2 workers), on SQLite and on Redis: issue, verify, status,
status lists, storage of issued credentials, idempotency, DID documents, presentations and key rotation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from chopmark.dids.key import did_key_signer
from chopmark.keys import KeyPair, KeyType
from chopmark.vc import statuslist
from chopmark.vc.presentations import create_presentation, sign_presentation
from tests.support.live import (
    BACKENDS,
    PROBLEM_JSON,
    Deployment,
    backend_deployment,
    get,
    post,
    problem_codes,
    status_entries,
    unsigned,
)

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("e2e-server")]

SUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022", "ecdsa-rdfc-2019", "ecdsa-jcs-2019")


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One server per backend for the whole module, with issuer ``acme``."""
    with backend_deployment(request, tmp_path_factory, "e2e") as deployment:
        yield deployment


def assert_verifies(live: Deployment, credential: dict[str, Any]) -> None:
    """POST /credentials/verify answers 200 verified."""
    reply = live.verify(credential)
    assert (reply.status, reply.json["verified"]) == (200, True), reply.json


def assert_status_problem(live: Deployment, credential: dict[str, Any], code: str) -> None:
    """POST /credentials/verify answers 400 with ``code`` reported by the status check."""
    reply = live.verify(credential)
    assert reply.status == 400 and reply.json["verified"] is False, reply.json
    assert code in problem_codes(reply.json, "status"), reply.json


def flip(live: Deployment, credential_id: str, purpose: str, value: bool) -> None:
    """Set or clear a status bit; the answer reports the change."""
    reply = live.set_status(credential_id, purpose, value)
    assert reply.status == 200, reply.json
    assert (reply.json["statusPurpose"], reply.json["status"], reply.json["previous"]) == (purpose, value, not value)


@pytest.mark.parametrize("suite", SUITES)
def test_status_lifecycle(live: Deployment, suite: str) -> None:
    credential_id, vc = live.issued(suite)
    assert vc["proof"]["cryptosuite"] == suite
    assert vc["issuer"] == live.issuer["did"]
    assert set(status_entries(vc)) == {"revocation", "suspension"}
    assert_verifies(live, vc)
    flip(live, credential_id, "suspension", True)
    assert_status_problem(live, vc, "SUSPENDED")
    flip(live, credential_id, "suspension", False)
    assert_verifies(live, vc)
    flip(live, credential_id, "revocation", True)
    assert_status_problem(live, vc, "REVOKED")
    undo = live.set_status(credential_id, "revocation", False)  # Bitstring Status List §2.1: not reversible
    assert (undo.status, undo.json["code"]) == (409, "REVOCATION_PERMANENT"), undo.json
    assert_status_problem(live, vc, "REVOKED")


@pytest.mark.parametrize("suite", SUITES)
def test_vc11_credential_gets_status_and_data_integrity_terms(live: Deployment, suite: str) -> None:
    """A VC 1.1 credential: the status entries' and the proof's terms are defined by the contexts the service
    appends (Bitstring Status List ``status/v1``, Data Integrity ``v2``), so it issues, verifies and revokes."""
    legacy = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
              "issuanceDate": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:merchant-11"}}
    reply = live.issue(suite, legacy)
    assert reply.status == 201, reply.json
    vc = reply.json["verifiableCredential"]
    assert vc["@context"][0] == "https://www.w3.org/2018/credentials/v1"
    assert "https://www.w3.org/ns/credentials/status/v1" in vc["@context"]
    assert set(status_entries(vc)) == {"revocation", "suspension"}
    assert_verifies(live, vc)
    flip(live, reply.json["credentialId"], "revocation", True)
    assert_status_problem(live, vc, "REVOKED")


def served_bit(list_url: str, index: int, etag: str | None = None) -> tuple[int, str, int | None]:
    """GET a status list: (HTTP status, ETag, the bit at ``index`` or None on 304)."""
    reply = get(list_url, headers={"If-None-Match": etag} if etag else None)
    if reply.status == 304:
        return 304, reply.headers["ETag"], None
    assert reply.status == 200, reply.json
    bits = statuslist.decode_list(reply.json["credentialSubject"]["encodedList"])
    return 200, reply.headers["ETag"], statuslist.get_status(bits, index)


def test_served_status_list_reflects_flip(live: Deployment) -> None:
    credential_id, vc = live.issued()
    list_url, index = status_entries(vc)["revocation"]
    status, before, bit = served_bit(list_url, index)
    assert (status, bit) == (200, 0) and before
    assert served_bit(list_url, index, before)[0] == 304
    flip(live, credential_id, "revocation", True)
    status, after, bit = served_bit(list_url, index, before)
    assert (status, bit) == (200, 1)
    assert after != before
    assert served_bit(list_url, index, after)[0] == 304
    listed = get(list_url).json
    assert listed["credentialSubject"]["statusPurpose"] == "revocation"
    assert_verifies(live, listed)  # the served list is a credential signed by the issuer
    assert live.set_status(credential_id, "revocation", False).status == 409  # revocation is permanent
    assert served_bit(list_url, index, after)[0] == 304


def test_get_returns_identical_credential_and_delete_makes_it_gone(live: Deployment) -> None:
    credential_id, vc = live.issued()
    reply = live.fetch(credential_id)
    assert reply.status == 200
    assert reply.json["verifiableCredential"] == vc
    assert get(live.at("/credentials/urn%3Auuid%3Anever-issued"), token=live.token).status == 404
    assert live.delete(credential_id).status == 202
    gone = live.fetch(credential_id)
    assert gone.status == 410 and gone.content_type == PROBLEM_JSON
    assert gone.json["code"] == "CREDENTIAL_DELETED"
    assert live.delete(credential_id).status == 410
    flip(live, credential_id, "revocation", True)  # the status entries stay usable after deletion
    assert_status_problem(live, vc, "REVOKED")


def test_idempotency_key_replays_and_rejects_other_bodies(live: Deployment) -> None:
    key = {"Idempotency-Key": "order-" + os.urandom(8).hex()}
    first = live.issue("eddsa-jcs-2022", headers=key)
    assert first.status == 201, first.json
    again = live.issue("eddsa-jcs-2022", headers=key)
    assert again.status == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json == first.json
    other = live.issue("eddsa-jcs-2022", unsigned("did:example:someone-else"), headers=key)
    assert other.status == 422 and other.content_type == PROBLEM_JSON
    assert other.json["code"] == "IDEMPOTENCY_KEY_REUSED"
    fresh = live.issue("eddsa-jcs-2022")
    assert fresh.json["credentialId"] != first.json["credentialId"]


def test_did_documents(live: Deployment) -> None:
    _, vc = live.issued("ecdsa-rdfc-2019")
    name, did = live.issuer["name"], live.issuer["did"]
    reply = get(live.at(f"/issuers/{name}/did.json"))
    assert reply.status == 200 and reply.content_type == "application/did+json"
    document = reply.json
    assert document["id"] == did == f"did:web:127.0.0.1%3A{live.server.port}:issuers:{name}"
    methods = {m["id"]: m for m in document["verificationMethod"]}
    assert {f"{did}#{k['id']}" for k in live.issuer["keys"]} == set(methods)
    assert vc["proof"]["verificationMethod"] in methods
    assert vc["proof"]["verificationMethod"] in document["assertionMethod"]
    host = get(live.at("/.well-known/did.json"))
    assert host.status == 200 and host.json["id"] == f"did:web:127.0.0.1%3A{live.server.port}"
    assert host.json["verificationMethod"][0]["publicKeyMultibase"].startswith("z")
    missing = get(live.at("/issuers/nobody/did.json"))
    assert missing.status == 404 and missing.content_type == PROBLEM_JSON


def signed_presentation(credentials: list[dict[str, Any]], challenge: str, domain: str) -> dict[str, Any]:
    """A presentation of ``credentials`` by a fresh did:key holder, proved for ``challenge`` and ``domain``."""
    holder, signer = did_key_signer(KeyPair.generate(KeyType.ED25519, os.urandom))
    presentation = create_presentation(credentials, holder=holder)
    return sign_presentation(presentation, signer, challenge=challenge, domain=domain)


def test_presentation_challenge_is_single_use(live: Deployment) -> None:
    _, vc = live.issued("eddsa-rdfc-2022")
    reply = post(live.at("/challenges"), {})
    assert reply.status == 200, reply.json
    challenge = reply.json["challenge"]
    vp = signed_presentation([vc], challenge, "verifier.example")
    body = {"verifiablePresentation": vp, "options": {"challenge": challenge, "domain": "verifier.example"}}
    first = post(live.at("/presentations/verify"), body)
    assert (first.status, first.json["verified"]) == (200, True), first.json
    assert first.json["results"]["credentials"][0]["verified"] is True
    replayed = post(live.at("/presentations/verify"), body)
    assert (replayed.status, replayed.json["verified"]) == (400, False)
    assert "INVALID_CHALLENGE_ERROR" in problem_codes(replayed.json, "challenge"), replayed.json
    invented = signed_presentation([vc], "chopmark-challenge:never-handed-out", "verifier.example")
    unknown = post(live.at("/presentations/verify"), {"verifiablePresentation": invented, "options": {
        "challenge": "chopmark-challenge:never-handed-out", "domain": "verifier.example"}})
    assert unknown.status == 400, unknown.json  # looks like ours but was never issued


def test_key_rotation_while_serving(live: Deployment) -> None:
    issuer, token = live.server.new_issuer("rotor")
    before = live.issue("eddsa-rdfc-2022", token=token)
    assert before.status == 201, before.json
    old_vc = before.json["verifiableCredential"]
    old_key = issuer["signing"]["Ed25519"]
    assert old_vc["proof"]["verificationMethod"] == f"{issuer['did']}#{old_key}"
    for _ in range(4):  # both workers have now resolved the DID document before the rotation
        assert_verifies(live, old_vc)
    rotated = live.server.admin("issuer", "rotate-key", "rotor")
    new_key = rotated["signing"]["Ed25519"]
    assert new_key != old_key and {k["id"] for k in rotated["keys"]} >= {old_key, new_key}
    after = live.issue("eddsa-rdfc-2022", token=token)
    assert after.status == 201, after.json
    new_vc = after.json["verifiableCredential"]
    assert new_vc["proof"]["verificationMethod"].endswith("#" + new_key)
    for _ in range(4):  # every worker must know the new key at once (no stale copy of its own DID document)
        assert_verifies(live, new_vc)
        assert_verifies(live, old_vc)
    document = get(live.at("/issuers/rotor/did.json")).json
    assert {m["id"] for m in document["verificationMethod"]} >= {f"{issuer['did']}#{old_key}",
                                                                  f"{issuer['did']}#{new_key}"}
