"""``chopmark log ...``: offline verification of inclusion and consistency (accepting the real thing, refusing each
kind of tampering), and the monitor following a real server, then refusing a second server that presents another
history under the same log key (a split view)."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from chopmark.cli.main import main
from chopmark.keys import KeyPair, KeyType
from chopmark.tlog import note
from tests.support.live import Deployment, LiveServer, deployed, get, post

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("log-cli-server")]


def chopmark(*args: str) -> Result:
    return CliRunner().invoke(main, ["log", *args], catch_exceptions=False)


def outcome(result: Result) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def append(live: Deployment, *data: bytes) -> list[int]:
    reply = post(live.at("/log/entries"), {"entries": [{"type": "t", "data": base64.b64encode(d).decode()}
                                                      for d in data]}, token=live.token)
    assert reply.status == 201, reply.json
    return list(reply.json["indexes"])


def write(path: Path, value: Any) -> str:
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with deployed(tmp_path_factory.mktemp("logcli")) as deployment:
        append(deployment, *(f"entry {i}".encode() for i in range(300)))
        yield deployment


@pytest.fixture
def files(live: Deployment, tmp_path: Path) -> dict[str, Any]:
    """Entry 257, its proof, the checkpoint and the key, as the server serves them, saved to files."""
    checkpoint = get(live.at("/log/checkpoint")).raw.decode()
    size = note.Checkpoint.parse(note.parse_note(checkpoint)[0]).size
    entry = get(live.at("/log/entries/257")).json
    proof = get(live.at(f"/log/proofs/inclusion?index=257&size={size}")).json
    vkey = get(live.at("/log/key")).raw.decode()
    return {"entry": entry, "proof": proof, "checkpoint": checkpoint, "vkey": vkey.strip(), "dir": tmp_path,
            "key_file": write(tmp_path / "log.vkey", vkey)}


def verify_inclusion(files: dict[str, Any], **changed: Any) -> Result:
    d, parts = files["dir"], {**files, **changed}
    return chopmark("verify-inclusion", write(d / "entry.json", parts["entry"]),
                    write(d / "proof.json", parts["proof"]), write(d / "checkpoint.txt", parts["checkpoint"]),
                    "--key", parts.get("key", files["key_file"]))


def test_verify_inclusion_accepts_what_the_server_serves(files: dict[str, Any]) -> None:
    for key in (files["key_file"], files["vkey"]):
        result = verify_inclusion(files, key=key)
        assert result.exit_code == 0, result.output
        assert outcome(result)["verified"] is True and outcome(result)["index"] == 257


def _flip(hex_hash: str) -> str:
    return ("0" if hex_hash[0] != "0" else "1") + hex_hash[1:]


def tamperings(files: dict[str, Any]) -> dict[str, dict[str, Any]]:
    entry, proof, checkpoint = files["entry"], files["proof"], files["checkpoint"]
    other = KeyPair.generate(KeyType.ED25519, os.urandom)
    name = note.parse_verifier_key(files["vkey"]).name
    forged = note.Checkpoint.parse(note.parse_note(checkpoint)[0]).sign(name, other.sign, other.public_key.raw)
    text, signature = checkpoint.split("\n\n")
    return {
        "entry data": {"entry": {**entry, "data": base64.b64encode(b'{"data":"eA==","type":"t"}').decode()}},
        "entry index": {"entry": {**entry, "index": 256}},
        "proof hash": {"proof": {**proof, "hashes": [_flip(proof["hashes"][0]), *proof["hashes"][1:]]}},
        "proof truncated": {"proof": {**proof, "hashes": proof["hashes"][:-1]}},
        "proof size": {"proof": {**proof, "size": proof["size"] - 1}},
        "proof garbage": {"proof": {**proof, "hashes": ["zz"]}},
        "checkpoint by another key": {"checkpoint": forged},
        "checkpoint text": {"checkpoint": text.replace("\n3", "\n4", 1) + "\n\n" + signature},
        "wrong key": {"key": note.verifier_key(name, other.public_key.raw)},
    }


@pytest.mark.parametrize("what", ["entry data", "entry index", "proof hash", "proof truncated", "proof size",
                                  "proof garbage", "checkpoint by another key", "checkpoint text", "wrong key"])
def test_verify_inclusion_refuses_tampering(files: dict[str, Any], what: str) -> None:
    result = verify_inclusion(files, **tamperings(files)[what])
    assert result.exit_code == 1, (what, result.output)
    assert outcome(result)["verified"] is False and outcome(result)["failure"]


def test_verify_consistency(live: Deployment, files: dict[str, Any]) -> None:
    d = files["dir"]
    old = write(d / "old.txt", files["checkpoint"])
    size = note.Checkpoint.parse(note.parse_note(files["checkpoint"])[0]).size
    append(live, b"later")
    new_text = get(live.at("/log/checkpoint")).raw.decode()
    new = write(d / "new.txt", new_text)
    new_size = note.Checkpoint.parse(note.parse_note(new_text)[0]).size
    proof = get(live.at(f"/log/proofs/consistency?from={size}&to={new_size}")).json
    good = write(d / "proof.json", proof)
    for extra in ((), ("--key", files["key_file"])):
        result = chopmark("verify-consistency", old, new, good, *extra)
        assert result.exit_code == 0, result.output
        assert outcome(result)["consistent"] is True and outcome(result)["signaturesChecked"] == bool(extra)
    bad = write(d / "bad.json", {**proof, "hashes": [_flip(proof["hashes"][0]), *proof["hashes"][1:]]})
    other = KeyPair.generate(KeyType.ED25519, os.urandom)
    wrong_key = note.verifier_key(note.parse_verifier_key(files["vkey"]).name, other.public_key.raw)
    for args in ((new, old, good), (old, new, bad), (old, new, good, "--key", wrong_key)):
        result = chopmark("verify-consistency", *args)
        assert result.exit_code == 1 and outcome(result)["consistent"] is False, (args, result.output)


def test_key_and_checkpoint_commands(live: Deployment, files: dict[str, Any]) -> None:
    assert chopmark("key", "--url", live.server.url).stdout.strip() == files["vkey"]
    shown = chopmark("checkpoint", "--url", live.server.url).stdout
    assert note.open_checkpoint(shown, note.parse_verifier_key(files["vkey"]).name, files["vkey"]).size >= 300


def test_monitor_follows_the_log_and_refuses_a_split_view(tmp_path: Path) -> None:
    state = str(tmp_path / "monitor" / "last-checkpoint")
    with deployed(tmp_path / "honest") as live:
        key = get(live.at("/log/key")).raw.decode().strip()
        watch = ("monitor", "--url", live.server.url, "--key", key, "--state", state)
        append(live, b"one", b"two", b"three")
        assert outcome(chopmark(*watch))["status"] == "first"
        live.server.stop()
        shutil.copytree(tmp_path / "honest", tmp_path / "fork")  # same store, same sealed key, then two histories
        live.server.start()
        append(live, b"four", b"five", b"six", b"seven")
        result = chopmark(*watch)
        assert (result.exit_code, outcome(result)["status"], outcome(result)["size"]) == (0, "consistent", 7)
        assert outcome(chopmark(*watch))["status"] == "unchanged"
        wrong = chopmark("monitor", "--url", live.server.url, "--key", note.verifier_key(
            note.parse_verifier_key(key).name, KeyPair.generate(KeyType.ED25519, os.urandom).public_key.raw),
            "--state", state)
        assert wrong.exit_code == 1 and outcome(wrong)["status"] == "refused"
        honest = Path(state).read_text()
        port, url, token = live.server.port, live.server.url, live.token
    fork = LiveServer(tmp_path / "fork")
    fork.port, fork.url = port, url  # the same address and origin: what a client cannot tell apart
    with fork:
        forked = Deployment(fork, {}, token)
        assert get(forked.at("/log/key")).raw.decode().strip() == key
        append(forked, b"FOUR", b"FIVE", b"SIX", b"SEVEN")  # same size, other tree
        same_size = chopmark(*watch)
        assert same_size.exit_code == 1 and "SPLIT VIEW" in same_size.stderr
        assert outcome(same_size)["status"] == "split-view"
        append(forked, b"EIGHT")  # larger, but not an extension of what the monitor saw
        larger = chopmark(*watch)
        assert larger.exit_code == 1 and "SPLIT VIEW" in larger.stderr and "not consistent" in larger.stderr
    assert Path(state).read_text() == honest  # a refused checkpoint is never remembered
