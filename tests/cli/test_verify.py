"""``chopmark verify`` checks status (issue 11): a credential issued by a real server and then revoked is verified
by ``python -m chopmark.cli verify`` as a separate process, offline with the documents given by ``--doc``, and
online through the SSRF-safe fetcher over loopback http. Status fails closed: an unchecked status list is a
failure (``STATUS_NOT_CHECKED``) unless ``--no-status`` skips it, which the result reports as a warning."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chopmark.dids import did_key_signer
from chopmark.keys import KeyPair, KeyType
from chopmark.vc.presentations import create_presentation, sign_presentation
from tests.support.live import Deployment, deployed, get, status_entries

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("cli-verify")]


@dataclass(frozen=True)
class World:
    """A live issuer, one revoked and one good credential, and the files the offline verifier is given."""

    deployment: Deployment
    folder: Path
    revoked: Path
    good: Path
    did_url: str  # the http:// loopback URL the server serves the issuer's DID document at
    did: str  # the issuer's did:web DID
    lists: dict[str, str]  # purpose -> status list credential URL
    other: tuple[str, str]  # another issuer of the same server: (its revocation list URL, its DID document URL)

    def doc(self, url: str, key: str | None = None) -> list[str]:
        """``--doc KEY=FILE`` for a document saved by the fixture under ``url`` (``KEY`` defaults to ``url``)."""
        return ["--doc", f"{key or url}={self.folder / _file_name(url)}"]

    def all_docs(self, did_key: str | None = None) -> list[str]:
        """``--doc`` for the DID document (by ``did_key``, default its http URL) and every status list."""
        return [*self.doc(self.did_url, did_key), *[arg for url in self.lists.values() for arg in self.doc(url)]]


def _file_name(url: str) -> str:
    path = url.split("://", 1)[-1].split("/", 1)[-1]  # e.g. issuers/acme/did.json
    return path.replace("/", "_").replace(".", "_") + ".json"


def _save(folder: Path, name: str, document: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("cli-verify")
    with deployed(folder / "server") as deployment:
        revoked_id, revoked = deployment.issued()
        _, good = deployment.issued()
        assert deployment.set_status(revoked_id, "revocation", True).status == 200
        did_url = deployment.at("/issuers/acme/did.json")
        lists = {purpose: url for purpose, (url, _) in status_entries(revoked).items()}
        _, other_token = deployment.server.new_issuer("other")
        other_vc = deployment.issue(token=other_token).json["verifiableCredential"]
        other = (status_entries(other_vc)["revocation"][0], deployment.at("/issuers/other/did.json"))
        for url in [did_url, *lists.values(), *other]:
            reply = get(url)
            assert reply.status == 200, reply.json
            _save(folder, _file_name(url), reply.json)
        yield World(deployment, folder, _save(folder, "revoked.json", revoked), _save(folder, "good.json", good),
                    did_url, revoked["issuer"], lists, other)


def verify(*args: str | Path) -> tuple[int, dict[str, Any], str]:
    """``python -m chopmark.cli verify ARGS`` in its own process: (exit code, JSON result, stderr)."""
    done = subprocess.run([sys.executable, "-m", "chopmark.cli", "verify", *map(str, args)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def check(result: dict[str, Any], name: str) -> dict[str, Any]:
    """The check called ``name`` of a JSON result (it must be there: every check is named)."""
    found: list[dict[str, Any]] = [c for c in result["checks"] if c["check"] == name]
    assert len(found) == 1, result
    return found[0]


def codes(result: dict[str, Any], name: str) -> list[str]:
    """The problem codes of check ``name``."""
    return [p["code"] for p in check(result, name).get("problems", [])]


@pytest.mark.parametrize("did_key", ["did", "https", "http"])
def test_offline_with_the_status_lists_a_revoked_credential_is_refused(world: World, did_key: str) -> None:
    # regression (issue 11): the offline verifier never checked status, so a revoked credential verified true;
    # and a DID document given by its http:// loopback URL (the URL the server serves it at) was not used
    key = {"did": world.did, "https": world.did_url.replace("http://", "https://"), "http": world.did_url}[did_key]
    code, result, _ = verify(world.revoked, *world.all_docs(key))
    assert (code, result["verified"]) == (1, False), result
    assert codes(result, "status") == ["REVOKED"]
    assert check(result, "proof")["passed"] and check(result, "issuerBinding")["passed"]


def test_offline_with_the_status_lists_a_good_credential_verifies(world: World) -> None:
    code, result, _ = verify(world.good, *world.all_docs())
    assert (code, result["verified"]) == (0, True), result
    entries = check(result, "status")["details"]["entries"]
    assert sorted((e["purpose"], e["status"]) for e in entries) == [("revocation", 0), ("suspension", 0)]
    assert result.get("warnings", []) == []


def test_without_the_status_lists_status_fails_closed(world: World) -> None:
    code, result, _ = verify(world.revoked, *world.doc(world.did_url))
    assert (code, result["verified"]) == (1, False), result
    assert codes(result, "status") == ["STATUS_NOT_CHECKED", "STATUS_NOT_CHECKED"]
    detail = check(result, "status")["problems"][0]["detail"]
    assert "--doc" in detail and "--online" in detail and "--no-status" in detail


def test_a_missing_list_fails_closed_even_when_another_is_given(world: World) -> None:
    code, result, _ = verify(world.good, *world.doc(world.did_url), *world.doc(world.lists["revocation"]))
    assert (code, result["verified"]) == (1, False), result
    assert codes(result, "status") == ["STATUS_NOT_CHECKED"]


def test_no_status_verifies_and_warns_that_status_was_not_checked(world: World) -> None:
    code, result, stderr = verify(world.revoked, *world.doc(world.did_url), "--no-status")
    assert (code, result["verified"]) == (0, True), result
    assert check(result, "status")["details"]["skipped"] is True
    assert [(w["check"], w["code"]) for w in result["warnings"]] == [("status", "STATUS_NOT_CHECKED")]
    assert "status" in stderr and "not checked" in stderr


def test_a_tampered_status_list_is_not_trusted(world: World) -> None:
    # the status list credential's own proof is verified: clearing the revoked bit breaks it
    url = world.lists["revocation"]
    tampered = json.loads((world.folder / _file_name(url)).read_text(encoding="utf-8"))
    good_list = json.loads((world.folder / _file_name(world.lists["suspension"])).read_text(encoding="utf-8"))
    tampered["credentialSubject"]["encodedList"] = good_list["credentialSubject"]["encodedList"]  # all zero
    path = _save(world.folder, "tampered.json", tampered)
    others = [*world.doc(world.did_url), *world.doc(world.lists["suspension"])]
    code, result, _ = verify(world.revoked, *others, "--doc", f"{url}={path}")
    assert (code, result["verified"]) == (1, False), result
    assert codes(result, "status") == ["STATUS_VERIFICATION_ERROR"]


def test_a_list_given_for_another_url_is_not_used(world: World) -> None:
    # the suspension list offered as the revocation list: its id and purpose do not match the entry
    revocation, suspension = world.lists["revocation"], world.lists["suspension"]
    swapped = ["--doc", f"{revocation}={world.folder / _file_name(suspension)}", *world.doc(suspension)]
    code, result, _ = verify(world.revoked, *world.doc(world.did_url), *swapped)
    assert (code, result["verified"]) == (1, False), result
    assert "REVOKED" not in codes(result, "status") and codes(result, "status")


def test_a_list_of_another_issuer_is_not_used(world: World) -> None:
    # a genuine, verifying revocation list, but of another issuer: it cannot clear (or set) this credential's status
    other_list, other_did = world.other
    offered = ["--doc", f"{world.lists['revocation']}={world.folder / _file_name(other_list)}", *world.doc(other_did)]
    code, result, _ = verify(world.good, *world.doc(world.did_url), *world.doc(world.lists["suspension"]), *offered)
    assert (code, result["verified"]) == (1, False), result
    assert codes(result, "status") == ["STATUS_VERIFICATION_ERROR"]
    assert "another issuer" in check(result, "status")["problems"][0]["detail"]


def test_a_presentation_checks_the_status_of_each_credential(world: World) -> None:
    holder = KeyPair.from_seed(KeyType.ED25519, bytes(range(32)))
    did, signer = did_key_signer(holder)
    vp = sign_presentation(create_presentation([json.loads(world.revoked.read_text(encoding="utf-8"))], holder=did),
                           signer, challenge="c-1", domain="example.com")
    path = _save(world.folder, "vp.json", vp)
    code, result, _ = verify(path, "--challenge", "c-1", "--domain", "example.com", *world.all_docs())
    assert (code, result["verified"], result["kind"]) == (1, False, "presentation"), result
    assert codes(result["credentials"][0], "status") == ["REVOKED"]
    code, result, _ = verify(path, "--challenge", "c-1", "--domain", "example.com", *world.doc(world.did_url))
    assert code == 1 and codes(result["credentials"][0], "status") == ["STATUS_NOT_CHECKED"] * 2


def test_online_over_loopback_http_finds_the_revocation(world: World) -> None:
    code, result, _ = verify(world.revoked, "--online", "--allow-loopback-http")
    assert (code, result["verified"]) == (1, False), result
    assert codes(result, "status") == ["REVOKED"]
    assert check(result, "issuerBinding")["passed"]
    good_code, good, _ = verify(world.good, "--online", "--allow-loopback-http")
    assert (good_code, good["verified"]) == (0, True), good


def test_online_refuses_loopback_http_without_the_flag(world: World) -> None:
    code, result, _ = verify(world.good, "--online")
    assert (code, result["verified"]) == (1, False), result
    assert codes(result, "status") == ["STATUS_RETRIEVAL_ERROR", "STATUS_RETRIEVAL_ERROR"]
    hints = [p["detail"] for p in result["problems"] if p["code"] in ("FETCH_ERROR", "STATUS_RETRIEVAL_ERROR")]
    assert len(hints) == 3 and all("--allow-loopback-http" in hint for hint in hints), result  # did.json + 2 lists


def test_a_did_web_without_its_document_says_pass_doc_or_online(world: World) -> None:
    code, result, _ = verify(world.good, "--no-status")
    assert (code, result["verified"]) == (1, False), result
    detail = " ".join(p["detail"] for p in result["problems"])
    assert "pass --doc" in detail and "--online" in detail
    assert world.did_url.replace("http://", "https://") in detail  # names the URL to give --doc for


def test_allow_loopback_http_needs_online(world: World) -> None:
    done = subprocess.run([sys.executable, "-m", "chopmark.cli", "verify", str(world.good), "--allow-loopback-http"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "--online" in done.stderr
