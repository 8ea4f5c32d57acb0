"""did:key issuers over real HTTP (``chopmark serve``): created with the CLI and the admin API, issuing VC 1.1
credentials with Data Integrity suites, verified with no DID document fetched; admin key routes refuse unknown
members and did:key rotation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.live import LiveServer, get, http, post

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("did-key-server")]

PREFIXES = {"Ed25519": "did:key:z6Mk", "P-256": "did:key:zDn", "P-384": "did:key:z82L"}
SUITES = {"Ed25519": ["eddsa-rdfc-2022", "eddsa-jcs-2022"], "P-256": ["ecdsa-rdfc-2019", "ecdsa-jcs-2019"],
          "P-384": ["ecdsa-rdfc-2019", "ecdsa-jcs-2019"]}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """One server and a global admin token."""
    with LiveServer(tmp_path_factory.mktemp("didkey")) as server:
        yield server, server.admin("token", "create", "--scope", "admin")["token"]


def _vc11() -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
            "issuanceDate": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:alice"}}


@pytest.mark.parametrize("key_type", ["Ed25519", "P-256", "P-384"])
def test_cli_did_key_issuer_issues_vc11_credentials(live: tuple[LiveServer, str], key_type: str) -> None:
    server, _ = live
    name = f"dk-{key_type.lower()}"
    record = server.admin("issuer", "create", name, "--did-method", "key", "--key-type", key_type, "--no-status")
    did = record["did"]
    assert did.startswith(PREFIXES[key_type]) and record["suites"] == SUITES[key_type]
    token = server.admin("token", "create", "--issuer", name, "--scope", "issue")["token"]
    for suite in SUITES[key_type]:
        credential = {**_vc11(), "issuer": did}
        status, _, body = post(server.url + "/credentials/issue",
                               {"credential": credential, "options": {"cryptosuite": suite}}, token=token)
        assert status == 201, body
        secured = body["verifiableCredential"]
        assert secured["issuer"] == did and secured["@context"][-1] == "https://w3id.org/security/data-integrity/v2"
        assert secured["proof"]["verificationMethod"] == f"{did}#{did[len('did:key:'):]}"
        status, _, result = post(server.url + "/credentials/verify", {"verifiableCredential": secured})
        assert status == 200 and result["verified"], result
    other = "ecdsa-rdfc-2019" if key_type == "Ed25519" else "eddsa-rdfc-2022"
    status, _, problem = post(server.url + "/credentials/issue",
                              {"credential": _vc11(), "options": {"cryptosuite": other}}, token=token)
    assert status in (400, 422) and problem["code"] == "KEY_TYPE_NOT_AVAILABLE"
    assert get(server.url + f"/issuers/{name}/did.json").status == 404


def test_admin_api_creates_did_key_issuers(live: tuple[LiveServer, str]) -> None:
    server, admin = live
    status, _, record = post(server.url + "/admin/issuers",
                             {"name": "api-p384", "didMethod": "key", "keyTypes": ["P-384"]}, token=admin)
    assert status == 201 and record["did"].startswith("did:key:z82L") and record["didMethod"] == "key"
    assert [k["type"] for k in record["keys"]] == ["P-384"]
    status, _, problem = post(server.url + "/admin/issuers/api-p384/keys", {"type": "P-384"}, token=admin)
    assert status == 409 and problem["code"] == "DID_KEY_NO_ROTATION"
    status, _, problem = post(server.url + "/admin/issuers",
                              {"name": "api-two", "didMethod": "key", "keyTypes": ["P-256", "Ed25519"]}, token=admin)
    assert status == 400 and problem["code"] == "DID_KEY_ONE_KEY_TYPE"
    status, _, problem = post(server.url + "/admin/issuers", {"name": "api-bad", "keyTypes": ["RSA"]}, token=admin)
    assert status == 400 and problem["code"] == "INVALID_KEY_TYPE"


def test_rotation_refuses_unknown_members(live: tuple[LiveServer, str]) -> None:
    # issue 11: {"typ": "P-256"} rotated the Ed25519 key (the default) instead of being refused
    server, admin = live
    status, _, created = post(server.url + "/admin/issuers", {"name": "rot"}, token=admin)
    assert status == 201
    status, _, problem = post(server.url + "/admin/issuers/rot/keys", {"typ": "P-256"}, token=admin)
    assert status == 400 and problem["code"] == "UNKNOWN_MEMBER"
    after = http("GET", server.url + "/admin/issuers/rot", token=admin).json
    assert after["keys"] == created["keys"]
    status, _, rotated = post(server.url + "/admin/issuers/rot/keys", {"type": "P-256"}, token=admin)
    assert status == 201 and len(rotated["keys"]) == 3


def test_cli_refuses_rotation_of_a_did_key_issuer(live: tuple[LiveServer, str]) -> None:
    server, _ = live
    server.admin("issuer", "create", "cli-dk", "--did-method", "key")
    done = server.cli("issuer", "rotate-key", "cli-dk", check=False)
    assert done.returncode != 0 and "DID_KEY_NO_ROTATION" in done.stdout + done.stderr


def test_did_key_issuer_with_status_lists(live: tuple[LiveServer, str]) -> None:
    # the status list credential of a did:key instance is issued and signed by that did:key
    server, _ = live
    did = server.admin("issuer", "create", "dk-status", "--did-method", "key", "--key-type", "P-256")["did"]
    token = server.admin("token", "create", "--issuer", "dk-status", "--scope", "issue,status")["token"]
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                  "credentialSubject": {"id": "did:example:alice"}}
    status, _, body = post(server.url + "/credentials/issue", {"credential": credential}, token=token)
    assert status == 201, body
    secured = body["verifiableCredential"]
    entries = secured["credentialStatus"]
    listed = get(entries[0]["statusListCredential"]).json
    assert secured["issuer"] == listed["issuer"] == did
    status, _, result = post(server.url + "/credentials/verify", {"verifiableCredential": secured})
    assert status == 200 and result["verified"], result
