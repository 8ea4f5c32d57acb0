"""did:key issuer instances, key types per instance, and the log key's own verification relationship."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chopmark.dids import Resolver, resolve_did_key
from chopmark.errors import BadRequest, Conflict, NotFound
from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyType
from chopmark.store.sqlite import SQLiteStore
from chopmark.vc.credentials import issue, verify_credential
from registry.evidence_key import LogKey
from registry.issuers import LOG_SIGNING
from registry.service import Registry

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PREFIXES = {KeyType.ED25519: "did:key:z6Mk", KeyType.P256: "did:key:zDn", KeyType.P384: "did:key:z82L"}
SUITE_FOR = {KeyType.ED25519: "eddsa-rdfc-2022", KeyType.P256: "ecdsa-rdfc-2019", KeyType.P384: "ecdsa-rdfc-2019"}


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    """A registry on a fresh SQLite file."""
    return Registry.build(SQLiteStore(tmp_path / "r.db"), kek=bytes(range(32)), public_url="https://vc.example",
                          public_host="vc.example", rng=os.urandom, clock=lambda: NOW,
                          loader=DocumentLoader.pinned())


def _vc11() -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
            "issuanceDate": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:alice"}}


@pytest.mark.parametrize("key_type", list(KeyType))
def test_did_key_instance_issues_verifiable_credentials(registry: Registry, key_type: KeyType) -> None:
    record = registry.issuers.create("dk", did_method="key", key_types=[key_type])
    did = record["did"]
    assert did.startswith(PREFIXES[key_type]) and [k["type"] for k in record["keys"]] == [key_type.value]
    assert registry.issuers.did_for("dk") == did == registry.issuers.get("dk")["did"]
    assert registry.issuers.did_document("dk") == resolve_did_key(did)
    assert registry.issuers.public_view(record)["didMethod"] == "key"
    signer, _ = registry.issuers.signer("dk", SUITE_FOR[key_type])
    assert signer.id == f"{did}#{did[len('did:key:'):]}"
    secured = issue(_vc11(), signer, suite=SUITE_FOR[key_type], issuer=did, created="2026-06-01T12:00:00Z")
    assert secured["proof"]["verificationMethod"] == signer.id
    assert verify_credential(secured, resolver=Resolver(), now=NOW).verified  # no document, no fetch
    with pytest.raises(NotFound):
        registry.issuers.document_bytes("dk")  # there is no did:web document for it


def test_did_key_instance_has_one_key_and_no_rotation(registry: Registry) -> None:
    record = registry.issuers.create("dk", did_method="key")  # Ed25519 by default
    assert [k["type"] for k in record["keys"]] == ["Ed25519"] and record["suites"] == ["eddsa-rdfc-2022",
                                                                                       "eddsa-jcs-2022"]
    with pytest.raises(BadRequest) as wrong:
        registry.issuers.signer("dk", "ecdsa-rdfc-2019")
    assert wrong.value.instance_code == "KEY_TYPE_NOT_AVAILABLE"
    with pytest.raises(Conflict) as rotate:
        registry.issuers.rotate("dk", KeyType.ED25519)
    assert rotate.value.instance_code == "DID_KEY_NO_ROTATION"
    assert len(registry.issuers.get("dk")["keys"]) == 1
    with pytest.raises(BadRequest) as two:
        registry.issuers.create("two", did_method="key", suites=["eddsa-rdfc-2022", "ecdsa-rdfc-2019"])
    assert two.value.instance_code == "DID_KEY_ONE_KEY_TYPE"
    with pytest.raises(BadRequest):
        registry.issuers.create("three", did_method="key", key_types=[KeyType.ED25519, KeyType.P256])
    with pytest.raises(BadRequest):
        registry.issuers.create("four", did_method="plc")


def test_key_types_per_instance(registry: Registry) -> None:
    only = registry.issuers.create("p384", key_types=[KeyType.P384])
    assert [k["type"] for k in only["keys"]] == ["P-384"]
    assert only["suites"] == ["ecdsa-rdfc-2019", "ecdsa-jcs-2019"]
    assert only["did"] == "did:web:vc.example:issuers:p384"
    with pytest.raises(BadRequest) as mismatch:
        registry.issuers.create("bad", key_types=[KeyType.P384], suites=["eddsa-rdfc-2022"])
    assert mismatch.value.instance_code == "KEY_TYPE_MISMATCH"
    with pytest.raises(BadRequest):
        registry.issuers.create("unused", key_types=[KeyType.P384, KeyType.ED25519], suites=["ecdsa-rdfc-2019"])


def test_log_key_cannot_sign_a_credential(registry: Registry) -> None:
    # issue 11: the log key was listed under assertionMethod of the host DID, so it could sign credentials
    registry.issuers.ensure_host()
    host = registry.issuers.did_for("_host")
    document = registry.issuers.did_document("_host")
    log_vm = f"{host}#log-key"
    assert log_vm in [m["id"] for m in document["verificationMethod"]]
    assert log_vm not in document["assertionMethod"] and document[LOG_SIGNING] == [log_vm]
    log_signer = LogKey(registry.store, registry.keys, host_did=host).signer()
    assert log_signer.id == log_vm
    forged = issue(_vc11(), log_signer, issuer=host, created="2026-06-01T12:00:00Z")
    result = verify_credential(forged, resolver=Resolver(documents={host: document}), now=NOW)
    assert not result.verified
    assert "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD" in [p.code for p in result.problems]
