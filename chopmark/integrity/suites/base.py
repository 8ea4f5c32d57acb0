"""The cryptosuite seam: a suite is a small value, the Data Integrity algorithm is generic over it.

A :class:`Cryptosuite` names itself, the key types it accepts, how it canonicalizes (the suite's
*transformation*), which hash it applies per key type and how it builds the proof configuration. Adding a suite
means one new module that builds a ``Cryptosuite`` and one line in :mod:`chopmark.integrity.suites`.
Selective-disclosure suites (``ecdsa-sd-2023``, ``bbs-2023``) will override ``create_proof_value`` /
``verify_proof_value`` through the optional hooks below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyType

#: ``canonicalize(document, loader, key_type) -> bytes``: the suite's transformation (RDFC-1.0 or JCS).
Canonicalizer = Callable[[Mapping[str, Any], DocumentLoader, KeyType], bytes]


@dataclass(frozen=True)
class Cryptosuite:
    """A Data Integrity cryptosuite as a value.

    ``proof_type`` is ``DataIntegrityProof`` for modern suites (then ``name`` goes into ``cryptosuite``) or the
    legacy proof type itself (``Ed25519Signature2020``, where ``name`` equals ``proof_type``).
    """

    name: str
    proof_type: str
    key_types: frozenset[KeyType]
    canonicalize: Canonicalizer
    #: Whether the created proof itself carries ``@context`` (the ``-jcs-`` suites, vc-di-eddsa §3.3.1 step 3).
    proof_has_context: bool = False
    #: A context URL the secured document must include (legacy suites), or None.
    required_context: str | None = None
    #: Legacy suites are verified by default but issue only behind an explicit option.
    legacy: bool = False

    @property
    def is_data_integrity(self) -> bool:
        """True for ``DataIntegrityProof`` suites."""
        return self.proof_type == "DataIntegrityProof"

    def hash(self, key_type: KeyType, data: bytes) -> bytes:
        """Hash per the suite: SHA-384 for P-384 keys (vc-di-ecdsa §3.3.4), otherwise SHA-256."""
        if key_type is KeyType.P384:
            return hashlib.sha384(data).digest()
        return hashlib.sha256(data).digest()

    def matches(self, proof: Mapping[str, Any]) -> bool:
        """True when ``proof`` names this suite (``type`` and, for Data Integrity, ``cryptosuite``)."""
        if proof.get("type") != self.proof_type:
            return False
        return not self.is_data_integrity or proof.get("cryptosuite") == self.name


def suite_id_of(proof: Mapping[str, Any]) -> str:
    """The suite a proof names: its ``cryptosuite`` for ``DataIntegrityProof``, else its ``type``."""
    ptype = proof.get("type")
    if ptype == "DataIntegrityProof":
        suite = proof.get("cryptosuite")
        return suite if isinstance(suite, str) else ""
    return ptype if isinstance(ptype, str) else ""
