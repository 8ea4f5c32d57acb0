"""The two transformations the suites share: RDFC-1.0 over JSON-LD, and JCS (RFC 8785)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chopmark import jsonld
from chopmark.codecs import jcs
from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyType


def rdfc(document: Mapping[str, Any], loader: DocumentLoader, key_type: KeyType) -> bytes:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document in safe mode (vc-di-eddsa §3.3.3 Transformation).

    vc-di-ecdsa §3.2.3: with a P-384 key the RDFC-1.0 hash algorithm is SHA-384 (the official P-384 vectors
    are reproduced only this way); every other key uses RDFC-1.0's default SHA-256.
    """
    algorithm = "sha384" if key_type is KeyType.P384 else "sha256"
    return jsonld.canonize(document, loader, hash_algorithm=algorithm).encode("utf-8")


def jcs_canon(document: Mapping[str, Any], loader: DocumentLoader, key_type: KeyType) -> bytes:
    """JCS canonical bytes (vc-di-eddsa §3.4.3 Transformation, eddsa-jcs-2022). Loader and key are unused."""
    del loader, key_type
    return jcs.canonicalize(document)
