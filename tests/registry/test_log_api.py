"""The evidence log over HTTP: appends (auth, validation, 201 with a proof or 202 while the sequencer is busy),
entries, proofs, the signed checkpoint and key (also in the host DID document), no way to delete or rewrite,
issued credentials logged by hash; then a real two-worker server on SQLite and Redis under concurrent appends."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from chopmark import tlog
from chopmark.codecs import jcs
from chopmark.keys import PublicKey
from chopmark.tlog import note
from registry import evidence
from registry.service import Registry
from tests.support.live import BACKENDS, Deployment, backend_deployment, get, http, post
from tests.support.service import Tenants, unsigned_credential
from tests.web.test_errors import assert_problem

# the module's tests share its servers: under xdist one worker runs them all
pytestmark = pytest.mark.xdist_group("log-api-server")


def key(client: FlaskClient) -> str:
    reply = client.get("/log/key")
    assert reply.status_code == 200 and reply.mimetype == "text/plain"
    return reply.get_data(as_text=True).strip()


def opened(client: FlaskClient, signed_note: str) -> note.Checkpoint:
    vkey = key(client)
    return note.open_checkpoint(signed_note, note.parse_verifier_key(vkey).name, vkey)


def verifies(proof: dict[str, Any], checkpoint: note.Checkpoint, leaf: bytes) -> bool:
    return proof["size"] == checkpoint.size and tlog.verify_inclusion(
        proof["index"], proof["size"], tlog.leaf_hash(leaf), [bytes.fromhex(h) for h in proof["hashes"]],
        checkpoint.root_hash)


def test_append_one_entry_answers_201_with_checkpoint_and_proof(client: FlaskClient, tenants: Tenants) -> None:
    reply = client.post("/log/entries", json={"type": "photo", "data": base64.b64encode(b"pixels").decode()},
                        headers=tenants.auth("alpha"))
    assert reply.status_code == 201, reply.json
    body = reply.json
    assert body["index"] == 0 and reply.headers["Location"] == "/log/entries/0"
    checkpoint = opened(client, body["checkpoint"])
    assert checkpoint.origin == "127.0.0.1:8000/log" and checkpoint.size >= 1
    leaf = b'{"data":"cGl4ZWxz","type":"photo"}'
    assert body["inclusionProof"]["leafHash"] == tlog.leaf_hash(leaf).hex()
    assert verifies(body["inclusionProof"], checkpoint, leaf)
    entry = client.get("/log/entries/0").json
    assert (entry["index"], entry["type"], base64.b64decode(entry["data"])) == (0, "photo", leaf)
    assert entry["integratedAt"].endswith("Z")


def test_batches_hashes_and_who_may_append(client: FlaskClient, tenants: Tenants) -> None:
    batch = {"entries": [{"type": "order", "sha256": f"{i:064x}"} for i in range(5)]}
    for token in ("alpha:issue", "alpha:admin", "admin"):
        reply = client.post("/log/entries", json=batch, headers=tenants.auth(token))
        assert reply.status_code == 201, reply.json
        first = reply.json["indexes"][0]
        assert reply.json["indexes"] == list(range(first, first + 5)) and "inclusionProof" not in reply.json
        assert opened(client, reply.json["checkpoint"]).size >= first + 5
    assert_problem(client.post("/log/entries", json=batch), 401)
    assert_problem(client.post("/log/entries", json=batch, headers=tenants.auth("alpha:status")), 403, "SCOPE_MISSING")
    credential = {"type": "credential", "sha256": "00" * 32}
    assert_problem(client.post("/log/entries", json=credential, headers=tenants.auth("admin")), 403,
                   "RESERVED_ENTRY_TYPE")


@pytest.mark.parametrize(("body", "code"), [
    ({"type": "t", "data": "AA"}, "INVALID_BASE64"), ({"type": "t", "data": "AB=="}, "INVALID_BASE64"),
    ({"type": "t", "data": 5}, "INVALID_BASE64"), ({"type": "T", "sha256": "00" * 32}, "INVALID_ENTRY_TYPE"),
    ({"data": "AA=="}, "INVALID_ENTRY_TYPE"), ({"type": "t"}, "INVALID_ENTRY"),
    ({"type": "t", "data": "AA==", "sha256": "00" * 32}, "INVALID_ENTRY"),
    ({"type": "t", "sha256": 7}, "INVALID_SHA256"),
    ({"type": "t", "sha256": "0" * 63}, "INVALID_SHA256"), ({"type": "t", "data": "AA==", "x": 1}, "UNKNOWN_MEMBER"),
    ({"type": "t", "data": base64.b64encode(bytes(65537)).decode()}, "ENTRY_TOO_LARGE"),
    ({"entries": []}, "INVALID_BATCH"), ({"entries": {}}, "INVALID_BATCH"),
    ({"entries": [{"type": "t", "sha256": "00" * 32}] * 1001}, "INVALID_BATCH"),
    ({"entries": [{"type": "t", "sha256": "00" * 32}, 3]}, "INVALID_ENTRY"),
    ({"entries": [{"type": "t", "sha256": "00" * 32}], "type": "t"}, "UNKNOWN_MEMBER")])
def test_bad_bodies_are_400_and_append_nothing(client: FlaskClient, tenants: Tenants, body: Any, code: str) -> None:
    assert_problem(client.post("/log/entries", json=body, headers=tenants.auth("alpha")), 400, code)
    assert tenants.registry.evidence.length() == 0


def test_a_busy_sequencer_gives_202_and_the_entry_is_integrated_later(app: Flask, client: FlaskClient,
                                                                      tenants: Tenants) -> None:
    store = tenants.registry.store
    assert store.create(evidence.NS_LOCK, evidence.LOG, b"another process", ttl=30)
    reply = client.post("/log/entries", json={"type": "t", "sha256": "ab" * 32}, headers=tenants.auth("alpha"))
    assert reply.status_code == 202 and reply.json == {"index": 0}, reply.json
    assert reply.headers["Location"] == "/log/entries/0"
    assert client.get("/log/entries/0").json["integratedAt"] is None
    assert_problem(client.get("/log/proofs/inclusion?index=0"), 400, "NOT_IN_TREE")
    store.delete(evidence.NS_LOCK, evidence.LOG)
    assert client.get("/log/entries/0").json["integratedAt"] is not None  # polling integrates it
    assert client.get("/log/proofs/inclusion?index=0&size=1").status_code == 200


@pytest.fixture
def filled(client: FlaskClient, tenants: Tenants) -> list[bytes]:
    """300 entries (two level-0 tiles), integrated; returns their leaves."""
    items = [{"type": "t", "data": base64.b64encode(str(i).encode()).decode()} for i in range(300)]
    assert client.post("/log/entries", json={"entries": items}, headers=tenants.auth("alpha")).status_code == 201
    return [jcs.canonicalize_general({"type": "t", "data": item["data"]}) for item in items]


def test_proofs_by_index_and_by_hash(client: FlaskClient, filled: list[bytes]) -> None:
    checkpoint = opened(client, client.get("/log/checkpoint").get_data(as_text=True))
    assert checkpoint.size == 300
    for query in ("index=257", f"hash={tlog.leaf_hash(filled[257]).hex()}", "index=257&size=300"):
        reply = client.get(f"/log/proofs/inclusion?{query}")
        assert reply.status_code == 200, reply.json
        assert verifies(reply.json, checkpoint, filled[257])
    small = client.get("/log/proofs/inclusion?index=3&size=10").json
    assert [bytes.fromhex(h) for h in small["hashes"]] == tlog.inclusion_proof_for(
        [tlog.leaf_hash(leaf) for leaf in filled], 3, 10)
    proof = client.get("/log/proofs/consistency?from=10&to=300").json
    old_root = tlog.root([tlog.leaf_hash(leaf) for leaf in filled[:10]])
    assert (proof["from"], proof["to"]) == (10, 300)
    assert tlog.verify_consistency(10, 300, [bytes.fromhex(h) for h in proof["hashes"]], old_root,
                                   checkpoint.root_hash)
    assert client.get("/log/proofs/consistency?from=10").json == proof


def test_entries_and_proofs_by_the_sha256_an_entry_carries(client: FlaskClient, tenants: Tenants) -> None:
    """Issue 11: the holder of a photo's SHA-256 finds its entry and inclusion proof by that hash."""
    photo = hashlib.sha256(b"a photo").hexdigest()
    logged = client.post("/log/entries", json={"type": "photo", "sha256": photo}, headers=tenants.auth("alpha")).json
    client.post("/log/entries", json={"type": "raw", "data": base64.b64encode(b"a photo").decode()},
                headers=tenants.auth("alpha"))
    size = opened(client, client.get("/log/checkpoint").get_data(as_text=True)).size
    found = client.get(f"/log/entries?sha256={photo}")
    assert found.status_code == 200, found.json
    assert found.json == client.get(f"/log/entries/{logged['index']}").json
    assert client.get(f"/log/entries?sha256={photo}&type=raw").json["index"] == logged["index"] + 1
    proof = client.get(f"/log/proofs/inclusion?sha256={photo}&size={size}")
    assert proof.status_code == 200 and proof.json["index"] == logged["index"] and proof.json["size"] == size
    checkpoint = opened(client, client.get("/log/checkpoint").get_data(as_text=True))
    assert verifies(proof.json, checkpoint, jcs.canonicalize_general({"type": "photo", "sha256": photo}))
    assert client.get(f"/log/proofs/inclusion?sha256={photo}&type=raw").json["index"] == logged["index"] + 1
    for url, status, code in [(f"/log/entries?sha256={'0' * 64}", 404, "ENTRY_NOT_FOUND"),
                              ("/log/entries?sha256=xyz", 400, "INVALID_SHA256"),
                              ("/log/entries", 400, "MISSING_PARAMETER"),
                              (f"/log/entries?sha256={photo}&type=note", 404, "ENTRY_NOT_FOUND"),
                              (f"/log/proofs/inclusion?sha256={photo}&index=0", 400, "MISSING_PARAMETER"),
                              ("/log/proofs/inclusion?index=0&type=photo", 400, "INVALID_PARAMETER"),
                              (f"/log/proofs/inclusion?sha256={photo}&size={logged['index']}", 404,
                               "ENTRY_NOT_FOUND")]:
        assert_problem(client.get(url), status, code)


@pytest.mark.parametrize(("url", "status", "code"), [
    ("/log/proofs/inclusion", 400, "MISSING_PARAMETER"), ("/log/proofs/inclusion?index=1&hash=" + "0" * 64, 400,
                                                          "MISSING_PARAMETER"),
    ("/log/proofs/inclusion?index=-1", 400, "INVALID_PARAMETER"), ("/log/proofs/inclusion?index=01", 400,
                                                                   "INVALID_PARAMETER"),
    ("/log/proofs/inclusion?index=x", 400, "INVALID_PARAMETER"), ("/log/proofs/inclusion?index=9&size=5", 400,
                                                                  "NOT_IN_TREE"),
    ("/log/proofs/inclusion?index=1&size=301", 404, "TREE_SIZE_UNKNOWN"), ("/log/proofs/inclusion?index=300", 404,
                                                                          "ENTRY_NOT_FOUND"),
    ("/log/proofs/inclusion?hash=xyz", 400, "INVALID_HASH"), ("/log/proofs/inclusion?hash=" + "0" * 64, 404,
                                                              "ENTRY_NOT_FOUND"),
    ("/log/proofs/consistency", 400, "MISSING_PARAMETER"), ("/log/proofs/consistency?from=0&to=5", 400,
                                                            "INVALID_TREE_SIZES"),
    ("/log/proofs/consistency?from=6&to=5", 400, "INVALID_TREE_SIZES"), ("/log/proofs/consistency?from=1&to=999",
                                                                         404, "TREE_SIZE_UNKNOWN"),
    ("/log/entries/300", 404, "ENTRY_NOT_FOUND"), ("/log/entries/99999999999999999999", 400, "INVALID_PARAMETER"),
    ("/log/entries/-1", 404, None)])
def test_bad_reads(client: FlaskClient, filled: list[bytes], url: str, status: int, code: str | None) -> None:
    assert_problem(client.get(url), status, code)


def test_nothing_can_be_deleted_or_rewritten(client: FlaskClient, tenants: Tenants, filled: list[bytes]) -> None:
    before = client.get("/log/checkpoint").get_data()
    paths = ("/log/entries", "/log/entries/0", "/log/checkpoint", "/log/key", "/log/proofs/inclusion")
    for path, method, token in itertools.product(paths, ("DELETE", "PUT", "PATCH"), ("admin", "alpha")):
        reply = client.open(path, method=method, json={"type": "t", "data": "AA=="}, headers=tenants.auth(token))
        assert_problem(reply, 405)
    assert client.get("/log/checkpoint").get_data() == before
    assert base64.b64decode(client.get("/log/entries/0").json["data"]) == filled[0]


def test_the_log_key_is_served_and_in_the_host_did_document(client: FlaskClient, app: Flask) -> None:
    vkey = key(client)
    verifier = note.parse_verifier_key(vkey)
    assert verifier.name == "127.0.0.1:8000/log"
    document = client.get("/.well-known/did.json").json
    method = next(m for m in document["verificationMethod"] if m["id"].endswith("#log-key"))
    assert method["id"] == "did:web:127.0.0.1%3A8000#log-key" and method["id"] not in document["assertionMethod"]
    assert document["https://chopmark.org/vocab#logSigning"] == [method["id"]]
    assert PublicKey.from_multibase(method["publicKeyMultibase"]).raw == verifier.public_key
    registry: Registry = app.extensions["chopmark.registry"]
    assert registry.evidence.verifier_key() == vkey
    checkpoint = client.get("/log/checkpoint")
    assert checkpoint.mimetype == "text/plain" and opened(client, checkpoint.get_data(as_text=True)).size == 0


def test_issued_credentials_are_logged_by_hash(client: FlaskClient, tenants: Tenants) -> None:
    headers = {**tenants.auth("alpha"), "Idempotency-Key": "k1"}
    issued = client.post("/credentials/issue", json={"credential": unsigned_credential()}, headers=headers)
    assert issued.status_code == 201, issued.json
    digest = hashlib.sha256(jcs.canonicalize_general(issued.json["verifiableCredential"])).hexdigest()
    index = issued.json["logIndex"]
    entry = client.get(f"/log/entries/{index}").json
    assert json.loads(base64.b64decode(entry["data"])) == {"type": "credential", "sha256": digest}
    leaf = base64.b64decode(entry["data"])
    proof = client.get(f"/log/proofs/inclusion?hash={tlog.leaf_hash(leaf).hex()}").json
    assert proof["index"] == index
    assert verifies(proof, opened(client, client.get("/log/checkpoint").get_data(as_text=True)), leaf)
    replay = client.post("/credentials/issue", json={"credential": unsigned_credential()}, headers=headers)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json["logIndex"] == index
    second = client.post("/credentials/issue", json={"credential": unsigned_credential()},
                         headers=tenants.auth("alpha"))
    assert second.json["logIndex"] == index + 1


# --- a real server: two workers, concurrent appends -------------------------------------------------------------

@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with backend_deployment(request, tmp_path_factory, "log") as deployment:
        yield deployment


@pytest.mark.server
def test_concurrent_appends_on_a_real_server(live: Deployment) -> None:
    vkey = get(live.at("/log/key")).raw.decode().strip()
    origin = note.parse_verifier_key(vkey).name

    def append(i: int) -> dict[str, Any]:
        reply = post(live.at("/log/entries"), {"type": "t", "data": base64.b64encode(str(i).encode()).decode()},
                     token=live.token)
        assert reply.status in (201, 202), reply.json
        if reply.status == 201:
            return dict(reply.json)
        return integrated_later(reply.json["index"])  # not integrated within the POST's wait (a loaded machine)

    def integrated_later(index: int) -> dict[str, Any]:
        """A 202's entry, once a checkpoint covers it: the checkpoint and the inclusion proof at its size."""
        for _ in range(600):
            signed = get(live.at("/log/checkpoint")).raw.decode()
            size = note.open_checkpoint(signed, origin, vkey).size
            if size > index:
                proof = get(live.at(f"/log/proofs/inclusion?index={index}&size={size}")).json
                return {"index": index, "checkpoint": signed, "inclusionProof": proof}
            time.sleep(0.05)
        raise AssertionError(f"entry {index} was never integrated")

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(append, range(160)))
    first = min(a["index"] for a in answers)
    assert sorted(a["index"] for a in answers) == list(range(first, first + 160))
    checkpoints = sorted({(c.size, c.root_hash) for c in (note.open_checkpoint(a["checkpoint"], origin, vkey)
                                                            for a in answers)})
    assert len({size for size, _ in checkpoints}) == len(checkpoints)  # one root per size
    for i, answer in enumerate(answers):
        leaf = jcs.canonicalize_general({"type": "t", "data": base64.b64encode(str(i).encode()).decode()})
        assert verifies(answer["inclusionProof"], note.open_checkpoint(answer["checkpoint"], origin, vkey), leaf)
    for (old, old_root), (new, new_root) in itertools.pairwise(checkpoints):
        proof = get(live.at(f"/log/proofs/consistency?from={old}&to={new}")).json
        assert tlog.verify_consistency(old, new, [bytes.fromhex(h) for h in proof["hashes"]], old_root, new_root)
    assert http("DELETE", live.at(f"/log/entries/{first}"), token=live.token).status == 405


@pytest.mark.server
def test_a_photo_is_found_by_its_sha256_on_a_real_server(live: Deployment) -> None:
    """Issue 11 on SQLite and Redis: log a photo's hash, then find its entry and inclusion proof by that hash."""
    photo = hashlib.sha256(b"photo on " + live.server.url.encode()).hexdigest()
    logged = post(live.at("/log/entries"), {"type": "photo", "sha256": photo}, token=live.token)
    assert logged.status == 201, logged.json
    found = get(live.at(f"/log/entries?sha256={photo}"))
    assert found.status == 200 and found.json["index"] == logged.json["index"] and found.json["type"] == "photo"
    proof = get(live.at(f"/log/proofs/inclusion?sha256={photo}"))
    assert proof.status == 200 and proof.json["index"] == logged.json["index"]
    missing = get(live.at(f"/log/entries?sha256={'0' * 64}"))
    assert missing.status == 404 and missing.content_type == "application/problem+json"
    vkey = get(live.at("/log/key")).raw.decode().strip()
    done = log_command("find", photo, "--url", live.server.url, "--type", "photo", "--key", vkey)
    result = json.loads(done.stdout)
    assert done.returncode == 0 and result["verified"] is True and result["entry"]["index"] == logged.json["index"]
    unknown = log_command("find", "0" * 64, "--url", live.server.url)
    assert unknown.returncode == 1 and "no entry with sha256" in unknown.stderr
    assert live.server.admin("log", "reindex")["indexed"] >= 1


def log_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chopmark.cli", "log", *args], capture_output=True, text=True,
                          timeout=60, check=False)
