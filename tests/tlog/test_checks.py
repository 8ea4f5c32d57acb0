"""The auditor's offline checks of what a log publishes (chopmark.tlog.checks): an entry under a signed checkpoint,
and one checkpoint extending another. Bad data gives a result naming the failure, never an exception."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from chopmark.tlog import merkle, note
from chopmark.tlog.checks import check_consistency, check_inclusion

ORIGIN = "example.com/log"
SIGNER = note.parse_signer_key(note.signer_key(ORIGIN, bytes(range(32))))
OTHER = note.parse_signer_key(note.signer_key(ORIGIN, bytes(range(1, 33))))
LEAVES = [f"entry {i}".encode() for i in range(7)]
TREE = merkle.MerkleTree([merkle.leaf_hash(leaf) for leaf in LEAVES])


def signed(size: int, signer: note.NoteSigner = SIGNER, origin: str = ORIGIN) -> str:
    """The checkpoint of the first ``size`` leaves, signed by ``signer``."""
    text = note.Checkpoint(origin, size, TREE.root(size)).format()
    return note.sign_note(text, signer.name, signer.sign, signer.public_key)


def entry(index: int) -> dict[str, Any]:
    """An entry as ``GET /log/entries/{index}`` serves it."""
    return {"index": index, "type": "photo", "data": base64.b64encode(LEAVES[index]).decode()}


def inclusion(index: int, size: int) -> dict[str, Any]:
    """An inclusion proof as ``GET /log/proofs/inclusion`` serves it."""
    return {"index": index, "size": size, "leafHash": merkle.leaf_hash(LEAVES[index]).hex(),
            "hashes": [h.hex() for h in TREE.inclusion_proof(index, size)]}


def opened(size: int) -> note.Checkpoint:
    return note.open_checkpoint(signed(size), ORIGIN, note.parse_verifier_key(SIGNER.vkey))


@pytest.mark.parametrize(("index", "size"), [(0, 1), (3, 7), (6, 7), (4, 5)])
def test_an_included_entry_verifies(index: int, size: int) -> None:
    result = check_inclusion(entry(index), inclusion(index, size), signed(size), note.parse_verifier_key(SIGNER.vkey))
    assert result["verified"], result
    assert result["index"] == index and result["size"] == size and result["origin"] == ORIGIN


def test_inclusion_failures_are_named_not_raised() -> None:
    verifier = note.parse_verifier_key(SIGNER.vkey)
    proof = inclusion(3, 7)
    cases = {
        "checkpoint refused": (entry(3), proof, signed(7, OTHER)),  # another key signed it
        "not base64": ({**entry(3), "data": "%%%"}, proof, signed(7)),
        "malformed": (entry(3), {**proof, "hashes": ["zz"]}, signed(7)),
        "another entry": (entry(2), proof, signed(7)),
        "tree of size 7": (entry(3), proof, signed(6)),
        "does not lead": (entry(3), {**proof, "hashes": list(reversed(proof["hashes"]))}, signed(7)),
    }
    for expected, (item, candidate, checkpoint) in cases.items():
        result = check_inclusion(item, candidate, checkpoint, verifier)
        assert not result["verified"] and expected in result["failure"], (expected, result)


def test_a_grown_log_is_consistent() -> None:
    proof = {"from": 3, "to": 7, "hashes": [h.hex() for h in TREE.consistency_proof(3, 7)]}
    assert check_consistency(opened(3), opened(7), proof) == {"consistent": True, "from": 3, "to": 7}


def test_consistency_failures_are_named_not_raised() -> None:
    good = {"from": 3, "to": 7, "hashes": [h.hex() for h in TREE.consistency_proof(3, 7)]}
    other_log = note.Checkpoint("other.example/log", 7, TREE.root(7))
    assert "different logs" in check_consistency(opened(3), other_log, good)["failure"]
    assert "other tree sizes" in check_consistency(opened(3), opened(6), good)["failure"]
    assert "malformed" in check_consistency(opened(3), opened(7), {**good, "hashes": "x"})["failure"]
    forked = note.Checkpoint(ORIGIN, 7, merkle.leaf_hash(b"another history"))
    assert "does not connect" in check_consistency(opened(3), forked, good)["failure"]
