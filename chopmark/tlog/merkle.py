"""RFC 9162 §2.1 Merkle tree hashing, inclusion and consistency proofs (generation and verification).

The tree is the RFC 6962 / RFC 9162 SHA-256 tree: a leaf hash is ``SHA-256(0x00 || data)``, an interior node
``SHA-256(0x01 || left || right)`` and the tree of n > 1 leaves splits at k, the largest power of two below n
(RFC 9162 §2.1.1). The empty tree's root is ``SHA-256("")``.

Proof generation never needs the whole tree. A tree held in storage is described by a :data:`SubtreeHashes`
function ``subtree(start, level)`` returning the hash of the *complete, aligned* subtree of the leaves
``[start, start + 2**level)`` (``start`` a multiple of ``2**level``; level 0 is the leaf hash itself). Every
range the RFC recursion visits decomposes into O(log n) such subtrees, so an inclusion or consistency proof
costs O(log n) lookups at any tree size. :class:`MerkleTree` is that function over an in-memory list of leaf
hashes; :class:`CompactRange` is the right edge ("frontier") of complete subtrees an appender needs to extend
a tree and compute its new root without reading anything else.

Verification (:func:`verify_inclusion`, :func:`verify_consistency`) follows RFC 9162 §2.1.3.2 and §2.1.4.2
step by step, never raises for bad input data and allocates only the running hashes. Two edge cases follow
the official vectors (transparency-dev/merkle): a consistency proof from the empty tree is always rejected,
and equal sizes with an empty proof and equal roots are accepted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from chopmark.errors import TreeRangeError, UsageError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeHashes = Callable[[int, int], bytes]
"""``subtree(start, level)``: the hash of the complete subtree of leaves ``[start, start + 2**level)``."""

NodeCallback = Callable[[int, int, bytes], None]
"""``on_node(start, level, hash)``: told of every complete subtree an append creates (leaves are level 0)."""

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of a leaf, ``SHA-256(0x00 || data)``."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of an interior node, ``SHA-256(0x01 || left || right)``."""
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """RFC 9162 §2.1.1: k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def mth(start: int, end: int, subtree: SubtreeHashes) -> bytes:
    """RFC 9162 §2.1.1 MTH of the leaves ``[start, end)`` built from complete subtrees.

    A range the RFC recursion produces (``start`` a multiple of the largest power of two <= its size) costs
    one lookup per set bit of its size; any other range is still computed correctly, from smaller subtrees.
    """
    if not 0 <= start <= end:
        raise TreeRangeError(f"invalid leaf range [{start}, {end})")
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        return subtree(start, n.bit_length() - 1)
    if n == 1:
        return subtree(start, 0)
    k = _split(n)
    return node_hash(mth(start, start + k, subtree), mth(start + k, end, subtree))


def inclusion_proof(index: int, size: int, subtree: SubtreeHashes) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]): the audit path of leaf ``index``, leaf's sibling first.

    Raises :class:`TreeRangeError` unless ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise TreeRangeError(f"leaf index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            path.append(mth(start + k, end, subtree))
            end = start + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            path.append(mth(start, start + k, subtree))
            start += k
    path.reverse()
    return path


def consistency_proof(old: int, new: int, subtree: SubtreeHashes) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(old, D[0:new]) = SUBPROOF(old, D[0:new], true).

    ``old == new`` gives the empty proof. Raises :class:`TreeRangeError` unless ``0 < old <= new``
    (a proof from the empty tree proves nothing and is never produced).
    """
    if not 0 < old <= new:
        raise TreeRangeError(f"no consistency proof from size {old} to size {new}")
    proof: list[bytes] = []
    start, end, m, complete = 0, new, old, True
    while True:
        n = end - start
        if m == n:  # SUBPROOF(m, D[0:m], b): empty when b is true, else MTH(D[0:m])
            if not complete:
                proof.append(mth(start, end, subtree))
            break
        k = _split(n)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            proof.append(mth(start + k, end, subtree))
            end = start + k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            proof.append(mth(start, start + k, subtree))
            start, m, complete = start + k, m - k, False
    proof.reverse()
    return proof


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2 steps 1-5 without the final comparison: the root ``proof`` implies for ``leaf``
    (a leaf hash) at ``index`` in a tree of ``size``, or None when the proof cannot be valid."""
    if not 0 <= index < size or len(leaf) != HASH_SIZE:  # step 1
        return None
    fn, sn, r = index, size - 1, leaf  # steps 2-3
    for p in proof:  # step 4
        if sn == 0 or len(p) != HASH_SIZE:  # 4a
            return None
        if fn & 1 or fn == sn:  # 4b
            r = _sha256(b"\x01" + p + r).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1  # 4c
        sn >>= 1
    return r if sn == 0 else None  # step 5: sn must be 0


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: True iff ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree of ``size``
    leaves whose root is ``root``. Never raises for bad data."""
    computed = root_from_inclusion(index, size, leaf, proof)
    return computed is not None and hmac.compare_digest(computed, root)


def verify_consistency(old: int, new: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> bool:
    """RFC 9162 §2.1.4.2: True iff ``proof`` shows the tree (``new``, ``new_root``) extends (``old``,
    ``old_root``). ``old == 0`` is always rejected; ``old == new`` needs an empty proof and equal roots."""
    if not 0 < old <= new:
        return False
    if old == new:
        return not proof and hmac.compare_digest(old_root, new_root)
    if not proof or any(len(p) != HASH_SIZE for p in proof):  # step 1: an empty path fails
        return False
    # step 2: when old is an exact power of two, old_root is prepended to the path (here: a start offset).
    prepend = old & (old - 1) == 0
    first = old_root if prepend else proof[0]
    rest = 0 if prepend else 1
    fn, sn = old - 1, new - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = first  # step 5
    for i in range(rest, len(proof)):  # step 6
        c = proof[i]
        if sn == 0:  # 6a
            return False
        if fn & 1 or fn == sn:  # 6b
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1  # 6c
        sn >>= 1
    # step 7: fr equals old_root, sr equals new_root, sn is 0
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)


class MerkleTree:
    """An in-memory tree over a list of leaf hashes, keeping every complete subtree hash.

    Each level is one ``bytes`` of concatenated 32-byte hashes (level 0 = the leaf hashes), so a tree of a
    million leaves holds about 64 MB and answers :meth:`subtree` in O(1); proofs then cost O(log n).
    """

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        level = b"".join(leaf_hashes)
        if len(level) != HASH_SIZE * len(leaf_hashes):
            raise UsageError("every leaf hash must be 32 bytes")
        self.size = len(leaf_hashes)
        self._levels = [level]
        while len(level) >= 2 * HASH_SIZE:  # the complete subtrees one level up, RFC 9162 §2.1.1
            level = b"".join([_sha256(b"\x01" + level[i:i + 64]).digest() for i in range(0, len(level) - 63, 64)])
            self._levels.append(level)

    def subtree(self, start: int, level: int) -> bytes:
        """The hash of the complete subtree ``[start, start + 2**level)`` (a :data:`SubtreeHashes`)."""
        if level < 0 or level >= len(self._levels) or start % (1 << level) or start < 0:
            raise TreeRangeError(f"no complete subtree at start {start}, level {level}")
        offset = (start >> level) * HASH_SIZE
        data = self._levels[level]
        if offset + HASH_SIZE > len(data):
            raise TreeRangeError(f"no complete subtree at start {start}, level {level}")
        return data[offset:offset + HASH_SIZE]

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise TreeRangeError(f"tree size {size} is beyond the {self.size} leaves held")
        return size

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all)."""
        return mth(0, self._size(size), self.subtree)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
        return inclusion_proof(index, self._size(size), self.subtree)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 consistency proof between the first ``old`` and the first ``new`` leaves."""
        return consistency_proof(old, self._size(new), self.subtree)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH of a list of leaf hashes (``EMPTY_ROOT`` for none)."""
    return MerkleTree(leaf_hashes).root()


def inclusion_proof_for(leaf_hashes: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """:func:`inclusion_proof` over a list of leaf hashes (size defaults to the whole list)."""
    size = len(leaf_hashes) if size is None else size
    if not 0 <= size <= len(leaf_hashes):
        raise TreeRangeError(f"tree size {size} is beyond the {len(leaf_hashes)} leaves given")
    return MerkleTree(leaf_hashes[:size]).inclusion_proof(index)


def consistency_proof_for(leaf_hashes: Sequence[bytes], old: int, new: int | None = None) -> list[bytes]:
    """:func:`consistency_proof` over a list of leaf hashes (new defaults to the whole list)."""
    new = len(leaf_hashes) if new is None else new
    if not 0 <= new <= len(leaf_hashes):
        raise TreeRangeError(f"tree size {new} is beyond the {len(leaf_hashes)} leaves given")
    return MerkleTree(leaf_hashes[:new]).consistency_proof(old)


# --- the right edge of a growing tree -------------------------------------------------------------------------

@dataclass(frozen=True)
class CompactRange:
    """The right-edge frontier of a tree of ``size`` leaves: the hashes of its maximal complete subtrees,
    largest (leftmost) first, one per set bit of ``size``. Enough to append and to compute the root."""

    size: int = 0
    hashes: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if self.size < 0 or len(self.hashes) != self.size.bit_count():
            raise UsageError(f"a frontier of size {self.size} holds {self.size.bit_count()} hashes")

    def root(self) -> bytes:
        """The tree's root (:func:`frontier_root`)."""
        return frontier_root(self)


def frontier_root(frontier: CompactRange) -> bytes:
    """RFC 9162 §2.1.1 MTH from the frontier: fold the complete subtrees from the right."""
    if not frontier.hashes:
        return EMPTY_ROOT
    r = frontier.hashes[-1]
    for h in reversed(frontier.hashes[:-1]):
        r = node_hash(h, r)
    return r


def frontier_extend(frontier: CompactRange, leaf_hashes: Iterable[bytes],
                    on_node: NodeCallback | None = None) -> CompactRange:
    """Append leaf hashes; ``on_node(start, level, hash)`` hears of every complete subtree created,
    the leaves included (what a store of subtree hashes needs to persist)."""
    hashes = list(frontier.hashes)
    size = frontier.size
    for leaf in leaf_hashes:
        if len(leaf) != HASH_SIZE:
            raise UsageError("a leaf hash must be 32 bytes")
        h, level = leaf, 0
        if on_node is not None:
            on_node(size, 0, h)
        while (size >> level) & 1:  # the left sibling at this level is complete: merge
            h = _sha256(b"\x01" + hashes.pop() + h).digest()
            level += 1
            if on_node is not None:
                on_node(size + 1 - (1 << level), level, h)
        hashes.append(h)
        size += 1
    return CompactRange(size, tuple(hashes))


def frontier_append(frontier: CompactRange, leaf: bytes) -> CompactRange:
    """Append one leaf hash and return the new frontier."""
    return frontier_extend(frontier, (leaf,))


def frontier_at(size: int, subtree: SubtreeHashes) -> CompactRange:
    """The frontier of the tree of ``size`` leaves read from storage (one lookup per set bit of size)."""
    if size < 0:
        raise TreeRangeError(f"invalid tree size {size}")
    hashes: list[bytes] = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if (size >> level) & 1:
            hashes.append(subtree(start, level))
            start += 1 << level
    return CompactRange(size, tuple(hashes))
