"""Where a closed campaign's ranking lives: chunked leaves, private rows, a rank index and the tree's chunk roots.

A commitment (generation ``g`` of campaign ``id``; a campaign normally has one) is written once, at close, as
four records under the key ``id/g``, so that serving a receipt reads a handful of records at any campaign size:

* ``campaign-leaves``: a store log; entry ``c`` is the JSON list of the leaves (their exact JCS text) of ranks
  ``c * 1024 + 1`` to ``(c + 1) * 1024``. Public (``GET /campaigns/{id}/leaves``).
* ``campaign-rows``: a store log in the same chunks; ``[orderNumber, buyerReference]`` per rank. Private (receipts
  check the buyer reference against it; the export reads it).
* ``campaign-index``: a store log of hash buckets; entry ``b`` maps each order number whose SHA-256 falls in
  bucket ``b`` to its rank (about 512 per bucket), so finding an order's rank is one read.
* ``campaign-tree``: the roots of the complete 1024-leaf chunks, concatenated. With them an RFC 9162 inclusion
  proof needs at most two chunks of leaves (the leaf's and the last, partial one): every complete subtree of
  more than 1024 leaves is a subtree of the chunk-root tree, every smaller one lies inside one chunk
  (:func:`chopmark.tlog.inclusion_proof` over that :data:`~chopmark.tlog.SubtreeHashes`).

Each log is written with one atomic ``append_many`` and only when still empty, so re-running a crashed close
writes nothing twice (the content is a function of the ranking).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from chopmark import tlog
from chopmark.errors import TreeRangeError
from chopmark.ranking import RankingTree
from chopmark.store import Store

NS_LEAVES = "campaign-leaves"
NS_ROWS = "campaign-rows"
NS_INDEX = "campaign-index"
NS_TREE = "campaign-tree"
CHUNK_LEVEL = 10
CHUNK = 1 << CHUNK_LEVEL
BUCKET = 512


def bucket_count(leaf_count: int) -> int:
    """The number of rank-index buckets of a ranking of ``leaf_count`` leaves."""
    return max(1, -(-leaf_count // BUCKET))


def bucket_of(order_number: str, buckets: int) -> int:
    """The rank-index bucket of an order number."""
    return int.from_bytes(hashlib.sha256(order_number.encode()).digest()[:8], "big") % buckets


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class Artifacts:
    """The records of committed rankings (module docstring)."""

    def __init__(self, store: Store) -> None:
        """Read and write on ``store``."""
        self._store = store

    def write(self, key: str, tree: RankingTree, buyers: Mapping[str, str]) -> None:
        """Persist a committed ranking (``buyers``: order number -> buyer reference) under ``key``."""
        orders = tree.ranking.orders
        size = len(orders)
        leaves = [_dumps([leaf.decode() for leaf in tree.leaves[i:i + CHUNK]]) for i in range(0, size, CHUNK)]
        rows = [_dumps([[o[1], buyers[o[1]]] for o in orders[i:i + CHUNK]]) for i in range(0, size, CHUNK)]
        buckets: list[dict[str, int]] = [{} for _ in range(bucket_count(size))]
        for position, order in enumerate(orders, 1):
            buckets[bucket_of(order[1], len(buckets))][order[1]] = position
        complete = size // CHUNK
        roots = b"".join(tree.tree.subtree(c * CHUNK, CHUNK_LEVEL) for c in range(complete))
        for ns, values in ((NS_LEAVES, leaves), (NS_ROWS, rows), (NS_INDEX, [_dumps(b) for b in buckets])):
            if self._store.length(ns, key) == 0:
                self._store.append_many(ns, key, values)
        self._store.put(NS_TREE, key, roots)

    def rank_of(self, key: str, order_number: str, leaf_count: int) -> int | None:
        """The rank of ``order_number`` in the ranking ``key`` (None when it is not ranked)."""
        if leaf_count == 0:
            return None
        bucket = bucket_of(order_number, bucket_count(leaf_count))
        found = self._store.read(NS_INDEX, key, bucket, bucket + 1)
        rank = json.loads(found[0]).get(order_number) if found else None
        return rank if isinstance(rank, int) else None

    def leaves(self, key: str, start: int, stop: int) -> list[str]:
        """The leaves (JCS text) of indexes ``[start, stop)`` (index = rank - 1)."""
        return self._chunked(NS_LEAVES, key, start, stop)

    def rows(self, key: str, start: int, stop: int) -> list[list[str]]:
        """``[orderNumber, buyerReference]`` of indexes ``[start, stop)``."""
        return self._chunked(NS_ROWS, key, start, stop)

    def _chunked(self, ns: str, key: str, start: int, stop: int) -> list[Any]:
        if stop <= start:
            return []
        first, last = start // CHUNK, (stop - 1) // CHUNK
        out: list[Any] = []
        for chunk in self._store.read(ns, key, first, last + 1):
            out.extend(json.loads(chunk))
        return out[start - first * CHUNK:stop - first * CHUNK]

    def proof(self, key: str, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 inclusion proof of leaf ``index`` in the ranking's tree of ``size`` leaves."""
        roots_raw = self._store.get(NS_TREE, key) or b""
        roots = [roots_raw[i:i + 32] for i in range(0, len(roots_raw), 32)]
        upper = tlog.MerkleTree(roots) if roots else None
        chunks: dict[int, tlog.MerkleTree] = {}

        def subtree(start: int, level: int) -> bytes:
            if level > CHUNK_LEVEL:  # a complete subtree of whole chunks: a node of the chunk-root tree
                if upper is None:
                    raise TreeRangeError("no complete chunk")
                return upper.subtree(start >> CHUNK_LEVEL, level - CHUNK_LEVEL)
            chunk = start >> CHUNK_LEVEL
            if chunk not in chunks:
                data = self.leaves(key, chunk * CHUNK, min(size, (chunk + 1) * CHUNK))
                chunks[chunk] = tlog.MerkleTree([tlog.leaf_hash(leaf.encode()) for leaf in data])
            return chunks[chunk].subtree(start - chunk * CHUNK, level)

        return tlog.inclusion_proof(index, size, subtree)
