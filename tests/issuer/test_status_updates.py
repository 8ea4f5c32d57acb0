"""``POST /credentials/status`` over real HTTP: revocation is permanent (Bitstring Status List 1.0 §2.1, "This
status is not reversible"), suspension is not; a request naming a status entry the credential does not have is
refused (409) and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.live import (
    BACKENDS,
    PROBLEM_JSON,
    Deployment,
    Reply,
    backend_deployment,
    post,
    problem_codes,
    status_entries,
)

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("status-updates-server")]


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One server per backend for the module, with issuer ``acme``."""
    with backend_deployment(request, tmp_path_factory, "status-updates") as deployment:
        yield deployment


def update(live: Deployment, credential_id: str, status: dict[str, Any], value: bool) -> Reply:
    """``POST /credentials/status`` with a whole ``credentialStatus`` member."""
    body = {"credentialId": credential_id, "credentialStatus": status, "status": value}
    return post(live.at("/credentials/status"), body, token=live.token)


def entry_of(vc: dict[str, Any], purpose: str) -> dict[str, Any]:
    """The credential's status entry for ``purpose``."""
    entries = vc["credentialStatus"] if isinstance(vc["credentialStatus"], list) else [vc["credentialStatus"]]
    return dict(next(e for e in entries if e["statusPurpose"] == purpose))


def assert_refused(reply: Reply, code: str, pointer: str | None = None) -> dict[str, Any]:
    """A 409 problem with ``code`` (and ``pointer``)."""
    assert reply.status == 409 and reply.content_type == PROBLEM_JSON, reply.json
    assert reply.json["code"] == code, reply.json
    assert reply.json["type"].startswith("https://chopmark.dev/problems#"), reply.json
    if pointer is not None:
        assert reply.json["pointer"] == pointer, reply.json
    return dict(reply.json)


def verified(live: Deployment, vc: dict[str, Any]) -> tuple[bool, list[str]]:
    """``POST /credentials/verify``: (verified, status problem codes)."""
    reply = live.verify(vc)
    return reply.json["verified"], problem_codes(reply.json, "status")


def test_clearing_a_revocation_is_refused_and_the_credential_stays_revoked(live: Deployment) -> None:
    credential_id, vc = live.issued()
    assert live.set_status(credential_id, "revocation", True).status == 200
    refused = assert_refused(live.set_status(credential_id, "revocation", False), "REVOCATION_PERMANENT")
    assert refused["type"] == "https://chopmark.dev/problems#REVOCATION_PERMANENT"
    assert verified(live, vc) == (False, ["REVOKED"])
    again = live.set_status(credential_id, "revocation", True)  # revoking twice is idempotent
    assert again.status == 200 and (again.json["status"], again.json["previous"]) == (True, True)
    list_url, index = status_entries(vc)["revocation"]
    assert (again.json["statusListCredential"], again.json["statusListIndex"]) == (list_url, str(index))


def test_clearing_an_unset_revocation_bit_is_a_no_op(live: Deployment) -> None:
    credential_id, vc = live.issued()
    cleared = live.set_status(credential_id, "revocation", False)
    assert cleared.status == 200 and (cleared.json["status"], cleared.json["previous"]) == (False, False)
    assert verified(live, vc) == (True, [])


def test_suspension_stays_reversible(live: Deployment) -> None:
    credential_id, vc = live.issued()
    assert live.set_status(credential_id, "suspension", True).status == 200
    assert verified(live, vc) == (False, ["SUSPENDED"])
    lifted = live.set_status(credential_id, "suspension", False)
    assert lifted.status == 200 and lifted.json["previous"] is True
    assert verified(live, vc) == (True, [])


@pytest.mark.parametrize(("member", "value"), [
    ("statusListCredential", "http://127.0.0.1:1/status-lists/elsewhere"),
    ("statusListIndex", "7"),
    ("id", "urn:uuid:another-entry")])
def test_a_mismatching_entry_member_is_refused_and_nothing_is_written(live: Deployment, member: str,
                                                                       value: str) -> None:
    credential_id, vc = live.issued()
    entry = entry_of(vc, "revocation")
    wrong = {**entry, member: value if member != "statusListIndex" else str(int(entry[member]) ^ 1)}
    refused = assert_refused(update(live, credential_id, wrong, True), "STATUS_ENTRY_MISMATCH",
                             f"/credentialStatus/{member}")
    assert refused["member"] == member and member in refused["detail"]
    assert verified(live, vc) == (True, [])  # the bit was not set


def test_the_matching_entry_is_accepted(live: Deployment) -> None:
    credential_id, vc = live.issued()
    reply = update(live, credential_id, entry_of(vc, "suspension"), True)
    assert reply.status == 200, reply.json
    assert verified(live, vc) == (False, ["SUSPENDED"])


@pytest.mark.parametrize("purpose", ["refresh", "message", "no-such-purpose"])
def test_a_purpose_the_credential_has_no_entry_for_is_refused(live: Deployment, purpose: str) -> None:
    credential_id, vc = live.issued()
    refused = assert_refused(update(live, credential_id, {"statusPurpose": purpose}, True), "NO_STATUS_ENTRY",
                             "/credentialStatus/statusPurpose")
    assert purpose in refused["detail"]
    assert verified(live, vc) == (True, [])
