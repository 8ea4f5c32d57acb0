"""RFC 9162 §2.1 Merkle trees: the transparency-dev/merkle vectors, the RFC 6962 reference values, every proof
of trees up to 70 leaves against a naive RFC recursion, tampering, the frontier and O(log n) subtree lookups."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chopmark import tlog
from chopmark.errors import ChopmarkError, TreeRangeError, UsageError
from tests.conftest import vectors_root

MAX = 70


# --- a naive oracle: the RFC 9162 §2.1 recursions written out literally ---------------------------------------

def naive_mth(d: Sequence[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = 1
    while k * 2 < len(d):
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:])).digest()


def naive_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m < k:
        return [*naive_path(m, d[:k]), naive_mth(d[k:])]
    return [*naive_path(m - k, d[k:]), naive_mth(d[:k])]


def naive_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [naive_mth(d)]
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m <= k:
        return [*naive_subproof(m, d[:k], b), naive_mth(d[k:])]
    return [*naive_subproof(m - k, d[k:], False), naive_mth(d[:k])]


LEAVES = [tlog.leaf_hash(i.to_bytes(4, "big")) for i in range(MAX)]
TREE = tlog.MerkleTree(LEAVES)
ROOTS = [naive_mth(LEAVES[:n]) for n in range(MAX + 1)]


def flip(h: bytes, bit: int = 0) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


# --- hashing --------------------------------------------------------------------------------------------------

def test_empty_root() -> None:
    assert tlog.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert tlog.root([]) == tlog.EMPTY_ROOT
    assert tlog.CompactRange().root() == tlog.EMPTY_ROOT


def test_leaf_and_node_are_domain_separated() -> None:
    a, b = tlog.leaf_hash(b"a"), tlog.leaf_hash(b"b")
    assert tlog.leaf_hash(a + b) != tlog.node_hash(a, b)
    assert tlog.node_hash(a, b) != tlog.node_hash(b, a)


# --- rfc6962-reference.json -----------------------------------------------------------------------------------

def reference(vectors: Path) -> Any:
    return json.loads((vectors / "tlog" / "rfc6962-reference.json").read_text(encoding="utf-8"))


def test_reference_hasher_vectors(vectors: Path) -> None:
    ops = {"emptyRoot": lambda v: tlog.EMPTY_ROOT,
           "hashLeaf": lambda v: tlog.leaf_hash(bytes.fromhex(v["input"])),
           "hashChildren": lambda v: tlog.node_hash(bytes.fromhex(v["left"]), bytes.fromhex(v["right"]))}
    vecs = reference(vectors)["hasherVectors"]
    assert len(vecs) == 4
    for v in vecs:
        assert ops[v["op"]](v).hex() == v["want"], v["desc"]


def test_reference_tree(vectors: Path) -> None:
    ref = reference(vectors)
    leaves = [tlog.leaf_hash(bytes.fromhex(x)) for x in ref["leafInputs"]]
    tree = tlog.MerkleTree(leaves)
    for level, hashes in enumerate(ref["nodeHashes"]["levels"]):
        for index, want in enumerate(hashes):
            assert tree.subtree(index << level, level).hex() == want
    assert len(ref["rootHashesBySize"]) == 9
    for size, want in ref["rootHashesBySize"].items():
        assert tlog.root(leaves[:int(size)]).hex() == want
        assert tree.root(int(size)).hex() == want


def test_reference_inclusion_proofs(vectors: Path) -> None:
    ref = reference(vectors)
    leaves = [tlog.leaf_hash(bytes.fromhex(x)) for x in ref["leafInputs"]]
    assert len(ref["inclusionProofs"]) == 5
    for v in ref["inclusionProofs"]:
        proof = [bytes.fromhex(p) for p in v["proof"]]
        assert tlog.leaf_hash(bytes.fromhex(v["leafInput"])).hex() == v["leafHash"]
        assert tlog.inclusion_proof_for(leaves, v["leafIndex"], v["treeSize"]) == proof
        assert tlog.verify_inclusion(v["leafIndex"], v["treeSize"], bytes.fromhex(v["leafHash"]), proof,
                                     bytes.fromhex(v["root"])) is v["valid"]


def test_reference_consistency_proofs(vectors: Path) -> None:
    ref = reference(vectors)
    leaves = [tlog.leaf_hash(bytes.fromhex(x)) for x in ref["leafInputs"]]
    assert len(ref["consistencyProofs"]) == 5
    for v in ref["consistencyProofs"]:
        proof = [bytes.fromhex(p) for p in v["proof"]]
        assert tlog.consistency_proof_for(leaves, v["size1"], v["size2"]) == proof
        assert tlog.verify_consistency(v["size1"], v["size2"], proof, bytes.fromhex(v["root1"]),
                                       bytes.fromhex(v["root2"])) is v["valid"]


# --- merkle-testdata/ (every file; wantErr respected) ---------------------------------------------------------

_ROOT = vectors_root()
_DATA = _ROOT / "tlog" / "merkle-testdata" if _ROOT else None
FILES = sorted(p.relative_to(_DATA).as_posix() for p in _DATA.rglob("*.json")) if _DATA else ["(vectors absent)"]


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def test_merkle_testdata_complete(vectors: Path) -> None:
    files = list((vectors / "tlog" / "merkle-testdata").rglob("*.json"))
    assert len(files) == 196
    loaded = [json.loads(p.read_text(encoding="utf-8")) for p in files]
    assert sum(not d["wantErr"] for d in loaded) == 12


@pytest.mark.parametrize("relpath", FILES)
def test_merkle_testdata(vectors: Path, relpath: str) -> None:
    d = json.loads((vectors / "tlog" / "merkle-testdata" / relpath).read_text(encoding="utf-8"))
    proof = [_b64(p) for p in d["proof"] or []]
    if relpath.startswith("inclusion/"):
        ok = tlog.verify_inclusion(d["leafIdx"], d["treeSize"], _b64(d["leafHash"]), proof, _b64(d["root"]))
    else:
        ok = tlog.verify_consistency(d["size1"], d["size2"], proof, _b64(d["root1"]), _b64(d["root2"]))
    assert ok is not d["wantErr"], d["desc"]


@pytest.mark.parametrize("folder", ["0", "1", "2", "3", "4"])
def test_happy_paths_are_the_proofs_we_generate(vectors: Path, folder: str) -> None:
    ref = reference(vectors)
    leaves = [tlog.leaf_hash(bytes.fromhex(x)) for x in ref["leafInputs"]]
    base = vectors / "tlog" / "merkle-testdata"
    inc = json.loads((base / "inclusion" / folder / "happy-path.json").read_text(encoding="utf-8"))
    assert tlog.inclusion_proof_for(leaves, inc["leafIdx"], inc["treeSize"]) == [_b64(p) for p in inc["proof"] or []]
    con = json.loads((base / "consistency" / folder / "happy-path.json").read_text(encoding="utf-8"))
    assert tlog.consistency_proof_for(leaves, con["size1"], con["size2"]) == [_b64(p) for p in con["proof"] or []]


# --- every inclusion proof of trees of 1..70 leaves -----------------------------------------------------------

@pytest.mark.parametrize("size", range(1, MAX + 1))
def test_inclusion_every_index(size: int) -> None:
    root = ROOTS[size]
    assert TREE.root(size) == root
    for index in range(size):
        proof = TREE.inclusion_proof(index, size)
        assert proof == naive_path(index, LEAVES[:size])
        leaf = LEAVES[index]
        assert tlog.verify_inclusion(index, size, leaf, proof, root)
        assert tlog.root_from_inclusion(index, size, leaf, proof) == root
        # tampering: every bit position class of every element, the leaf, the root
        for i in range(len(proof)):
            bad = [*proof[:i], flip(proof[i], i % 8), *proof[i + 1:]]
            assert not tlog.verify_inclusion(index, size, leaf, bad, root)
        assert not tlog.verify_inclusion(index, size, flip(leaf), proof, root)
        assert not tlog.verify_inclusion(index, size, leaf, proof, flip(root, 7))
        # wrong index, wrong size, truncated, extended
        for other in (index - 1, index + 1, index ^ 2, -1, size):
            if other != index:
                assert not tlog.verify_inclusion(other, size, leaf, proof, root)
        # a wrong size is caught against the root of that size (the checkpoint binds size and root); the same
        # hashes can only serve another size when that size's own proof is identical
        for other_size in (size - 1, size + 1, size * 2, index, 0):
            if other_size != size and other_size <= MAX:
                same = index < other_size and naive_path(index, LEAVES[:other_size]) == proof
                assert tlog.verify_inclusion(index, other_size, leaf, proof, ROOTS[other_size]) is same
        if proof:
            assert not tlog.verify_inclusion(index, size, leaf, proof[:-1], root)
            assert not tlog.verify_inclusion(index, size, leaf, proof[1:], root)
        assert not tlog.verify_inclusion(index, size, leaf, [*proof, root], root)
        assert not tlog.verify_inclusion(index, size, leaf, [*proof, b""], root)
        assert not tlog.verify_inclusion(index, size, leaf, [b"", *proof], root)


# --- every consistency proof 1 <= m <= n <= 70 ----------------------------------------------------------------

@pytest.mark.parametrize("new", range(1, MAX + 1))
def test_consistency_every_pair(new: int) -> None:
    new_root = ROOTS[new]
    for old in range(1, new + 1):
        old_root = ROOTS[old]
        proof = TREE.consistency_proof(old, new)
        assert proof == naive_subproof(old, LEAVES[:new], True)
        assert tlog.verify_consistency(old, new, proof, old_root, new_root)
        assert not tlog.verify_consistency(old, new, proof, flip(old_root), new_root)
        assert not tlog.verify_consistency(old, new, proof, old_root, flip(new_root))
        if old == new:
            assert proof == []
            assert not tlog.verify_consistency(old, new, [old_root], old_root, new_root)
            continue
        assert not tlog.verify_consistency(old, new, proof, new_root, old_root)
        for i in range(len(proof)):
            bad = [*proof[:i], flip(proof[i], i % 8), *proof[i + 1:]]
            assert not tlog.verify_consistency(old, new, bad, old_root, new_root)
        assert not tlog.verify_consistency(old, new, proof[:-1], old_root, new_root)
        assert not tlog.verify_consistency(old, new, proof[1:], old_root, new_root)
        assert not tlog.verify_consistency(old, new, [*proof, new_root], old_root, new_root)
        assert not tlog.verify_consistency(old, new, [old_root, *proof], old_root, new_root)
        assert not tlog.verify_consistency(old, new, [], old_root, new_root)
        # wrong sizes, checked against the roots of those sizes: accepted only where their own proof is the same
        for o2, n2 in ((old - 1, new), (old + 1, new), (old, new + 1), (old, new - 1), (0, new), (new, old)):
            if (o2, n2) != (old, new) and n2 <= MAX:
                same = 0 < o2 <= n2 and naive_subproof(o2, LEAVES[:n2], True) == proof
                assert tlog.verify_consistency(o2, n2, proof, ROOTS[o2], ROOTS[n2]) is same, (o2, n2)
        assert not tlog.verify_consistency(new, old, proof, new_root, old_root)


def test_consistency_from_empty_tree_is_refused() -> None:
    assert not tlog.verify_consistency(0, 0, [], tlog.EMPTY_ROOT, tlog.EMPTY_ROOT)
    assert not tlog.verify_consistency(0, 5, [], tlog.EMPTY_ROOT, ROOTS[5])
    with pytest.raises(TreeRangeError):
        TREE.consistency_proof(0, 5)


@pytest.mark.parametrize(("call", "args"), [
    (tlog.inclusion_proof, (5, 5)), (tlog.inclusion_proof, (-1, 5)), (tlog.inclusion_proof, (0, 0)),
    (tlog.consistency_proof, (0, 3)), (tlog.consistency_proof, (4, 3)), (tlog.consistency_proof, (-1, 3)),
])
def test_out_of_range_requests_raise(call: Any, args: tuple[int, int]) -> None:
    with pytest.raises(TreeRangeError) as err:
        call(*args, TREE.subtree)
    assert isinstance(err.value, ChopmarkError) and err.value.instance_code == "TREE_RANGE"


def test_tree_bounds() -> None:
    with pytest.raises(TreeRangeError):
        TREE.root(MAX + 1)
    with pytest.raises(TreeRangeError):
        TREE.subtree(64, 3)  # [64, 72) is not complete in a tree of 70
    with pytest.raises(TreeRangeError):
        TREE.subtree(3, 1)  # not aligned
    with pytest.raises(TreeRangeError):
        tlog.inclusion_proof_for(LEAVES, 0, MAX + 1)
    with pytest.raises(UsageError):
        tlog.MerkleTree([b"short"])


def test_verify_never_raises_on_garbage() -> None:
    root, leaf = ROOTS[5], LEAVES[0]
    for args in [(-5, 5), (0, -1), (2**70, 2**71), (0, 2**64)]:
        assert not tlog.verify_inclusion(*args, leaf, [], root)
    assert not tlog.verify_inclusion(0, 5, b"", [b"", b"", b""], b"")
    assert not tlog.verify_consistency(-3, 2**80, [b"x" * 32], b"", b"")
    assert not tlog.verify_consistency(3, 5, [b""], root, root)


# --- mth from complete subtrees -------------------------------------------------------------------------------

def test_mth_of_any_range_matches_the_definition() -> None:
    for start in range(0, 20):
        for end in range(start, 40):
            assert tlog.mth(start, end, TREE.subtree) == naive_mth(LEAVES[start:end]), (start, end)


# --- the frontier -----------------------------------------------------------------------------------------------

def test_frontier_roots_and_nodes() -> None:
    frontier = tlog.CompactRange()
    seen: dict[tuple[int, int], bytes] = {}
    for n in range(MAX):
        frontier = tlog.frontier_extend(frontier, [LEAVES[n]], lambda s, lv, h: seen.__setitem__((s, lv), h))
        assert frontier.size == n + 1
        assert tlog.frontier_root(frontier) == ROOTS[n + 1]
        assert tlog.frontier_at(n + 1, TREE.subtree) == frontier
    # every complete subtree of the 70-leaf tree was reported exactly as the tree holds it
    expected = {(s, lv) for lv in range(7) for s in range(0, MAX - (1 << lv) + 1, 1 << lv)}
    assert set(seen) == expected
    assert all(TREE.subtree(s, lv) == h for (s, lv), h in seen.items())


def test_frontier_batches_equal_single_appends() -> None:
    one = tlog.CompactRange()
    for leaf in LEAVES:
        one = tlog.frontier_append(one, leaf)
    batched = tlog.frontier_extend(tlog.frontier_extend(tlog.CompactRange(), LEAVES[:37]), LEAVES[37:])
    assert one == batched and batched.root() == ROOTS[MAX]
    with pytest.raises(UsageError):
        tlog.CompactRange(3, (LEAVES[0],))
    with pytest.raises(UsageError):
        tlog.frontier_append(one, b"short")


# --- O(log n) lookups at a million entries (storage-like subtree function) ---------------------------------------

class CountingStore:
    """Subtree hashes of a virtual tree of ``size`` leaves, computed lazily; counts lookups and checks each
    is a complete, aligned subtree inside the tree."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.calls = 0

    def __call__(self, start: int, level: int) -> bytes:
        self.calls += 1
        assert start % (1 << level) == 0 and start + (1 << level) <= self.size, (start, level)
        return hashlib.sha256(f"{start}/{level}".encode()).digest()


@pytest.mark.parametrize("size", [1_000_000, 2**20, 2**20 + 1, 100_000_007])
def test_proofs_use_logarithmic_lookups(size: int) -> None:
    store = CountingStore(size)
    depth = (size - 1).bit_length()
    for index in (0, 1, size // 2, size - 2, size - 1):
        store.calls = 0
        assert len(tlog.inclusion_proof(index, size, store)) <= depth
        assert store.calls <= 2 * depth
    for old in (1, 2, size // 3, size - 1):
        store.calls = 0
        tlog.consistency_proof(old, size, store)
        assert store.calls <= 3 * depth
    store.calls = 0
    tlog.frontier_at(size, store)
    assert store.calls == size.bit_count()


def test_large_tree_round_trip() -> None:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(100_003)]
    tree = tlog.MerkleTree(leaves)
    root = tree.root()
    assert root == tlog.frontier_extend(tlog.CompactRange(), leaves).root()
    for index in (0, 65_535, 65_536, 100_002):
        assert tlog.verify_inclusion(index, tree.size, leaves[index], tree.inclusion_proof(index), root)
    for old in (1, 65_536, 99_999):
        assert tlog.verify_consistency(old, tree.size, tree.consistency_proof(old), tree.root(old), root)


# --- properties -----------------------------------------------------------------------------------------------

BIG = [hashlib.sha256(b"p" + i.to_bytes(4, "big")).digest() for i in range(1500)]
BIG_TREE = tlog.MerkleTree(BIG)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_property_inclusion(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, len(BIG)))
    index = data.draw(st.integers(0, size - 1))
    root = BIG_TREE.root(size)
    proof = BIG_TREE.inclusion_proof(index, size)
    assert tlog.verify_inclusion(index, size, BIG[index], proof, root)
    other = data.draw(st.integers(0, len(BIG) - 1))
    assert tlog.verify_inclusion(index, size, BIG[other], proof, root) is (other == index)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        bad = bytearray(proof[i])
        bad[bit // 8] ^= 1 << (bit % 8)
        assert not tlog.verify_inclusion(index, size, BIG[index], [*proof[:i], bytes(bad), *proof[i + 1:]], root)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_property_consistency(data: st.DataObject) -> None:
    new = data.draw(st.integers(1, len(BIG)))
    old = data.draw(st.integers(1, new))
    proof = BIG_TREE.consistency_proof(old, new)
    assert tlog.verify_consistency(old, new, proof, BIG_TREE.root(old), BIG_TREE.root(new))
    # a different history of the same sizes is caught
    forked = tlog.MerkleTree([*BIG[:old - 1], hashlib.sha256(b"fork").digest(), *BIG[old:new]])
    assert not tlog.verify_consistency(old, new, proof, forked.root(old), BIG_TREE.root(new))
    assert not tlog.verify_consistency(old, new, proof, BIG_TREE.root(old), forked.root(new))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=8), max_size=80), st.integers(0, 80))
def test_property_frontier_split(items: list[bytes], cut: int) -> None:
    leaves = [tlog.leaf_hash(x) for x in items]
    cut = min(cut, len(leaves))
    frontier = tlog.frontier_extend(tlog.frontier_extend(tlog.CompactRange(), leaves[:cut]), leaves[cut:])
    assert frontier.root() == tlog.root(leaves) == naive_mth(leaves)
