"""Transparency logs: RFC 9162 Merkle trees (leaf and node hashes, audit paths, consistency proofs, compact ranges)
in :mod:`.merkle`, re-exported here, and C2SP signed notes and ``tlog-checkpoint`` checkpoints in :mod:`.note`.
Pure: no store, no clock. May import: ``chopmark.codecs``, ``chopmark.errors`` (and any layer below ``tlog``).
"""

from chopmark.tlog.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    MerkleTree,
    NodeCallback,
    SubtreeHashes,
    consistency_proof,
    consistency_proof_for,
    frontier_append,
    frontier_at,
    frontier_extend,
    frontier_root,
    inclusion_proof,
    inclusion_proof_for,
    leaf_hash,
    mth,
    node_hash,
    root,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MerkleTree",
    "NodeCallback",
    "SubtreeHashes",
    "consistency_proof",
    "consistency_proof_for",
    "frontier_append",
    "frontier_at",
    "frontier_extend",
    "frontier_root",
    "inclusion_proof",
    "inclusion_proof_for",
    "leaf_hash",
    "mth",
    "node_hash",
    "root",
    "root_from_inclusion",
    "verify_consistency",
    "verify_inclusion",
]
