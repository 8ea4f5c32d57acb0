"""Registry services on a real SQLite store: issuers, sealed keys, tokens, status lists."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chopmark.dids.resolver import Resolver
from chopmark.errors import BadRequest, ConfigurationError, Conflict, NotFound
from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyType
from chopmark.store.sqlite import SQLiteStore
from chopmark.vc import statuslist
from chopmark.vc.credentials import issue, verify_credential
from registry.issuers import Issuers
from registry.keystore import EncryptedKeyStore
from registry.service import Registry
from registry.statuslists import StatusLists

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEK = bytes(range(32))


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    """A registry on a fresh SQLite file."""
    return Registry.build(SQLiteStore(tmp_path / "r.db"), kek=KEK, public_url="https://vc.example",
                          public_host="vc.example", rng=os.urandom, clock=lambda: NOW,
                          loader=DocumentLoader.pinned())


def _resolver(registry: Registry) -> Resolver:
    docs = {r["did"]: registry.issuers.did_document(r["name"]) for r in registry.issuers.list()}
    return Resolver(documents=docs)


def _credential() -> dict[str, object]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:1"}}


def test_issuer_did_and_document(registry: Registry) -> None:
    record = registry.issuers.create("acme")
    assert record["did"] == "did:web:vc.example:issuers:acme"
    doc = registry.issuers.did_document("acme")
    assert doc["id"] == record["did"]
    assert [m["type"] for m in doc["verificationMethod"]] == ["Multikey", "Multikey"]
    assert doc["assertionMethod"] == [m["id"] for m in doc["verificationMethod"]]
    assert {k["type"] for k in record["keys"]} == {"Ed25519", "P-256"}
    assert "ref" not in json.dumps(registry.issuers.public_view(record))


@pytest.mark.parametrize("name", ["", "UPPER", "-lead", "trail-", "a/b", "x" * 64, "_host", "a b"])
def test_invalid_issuer_names(registry: Registry, name: str) -> None:
    with pytest.raises(BadRequest):
        registry.issuers.create(name)


def test_duplicate_issuer_conflicts(registry: Registry) -> None:
    registry.issuers.create("acme")
    with pytest.raises(Conflict):
        registry.issuers.create("acme")


def test_suite_choice_decides_keys(registry: Registry) -> None:
    record = registry.issuers.create("ec", suites=["ecdsa-rdfc-2019"])
    assert [k["type"] for k in record["keys"]] == ["P-256"]
    with pytest.raises(BadRequest):
        registry.issuers.signer("ec", "eddsa-rdfc-2022")


def test_rotation_keeps_old_proofs_valid(registry: Registry) -> None:
    registry.issuers.create("acme")
    signer, _ = registry.issuers.signer("acme", "eddsa-rdfc-2022")
    before = issue(_credential(), signer, issuer="did:web:vc.example:issuers:acme", created="2026-06-01T12:00:00Z")
    rotated = registry.issuers.rotate("acme", KeyType.ED25519)
    assert rotated["signing"]["Ed25519"] == "key-3"
    new_signer, _ = registry.issuers.signer("acme", "eddsa-rdfc-2022")
    after = issue(_credential(), new_signer, issuer="did:web:vc.example:issuers:acme",
                  created="2026-06-01T12:00:00Z")
    assert after["proof"]["verificationMethod"].endswith("#key-3")
    for vc in (before, after):
        assert verify_credential(vc, resolver=_resolver(registry), now=NOW).verified
    with pytest.raises(Conflict):
        registry.issuers.remove_key("acme", "key-3")  # the current signing key
    registry.issuers.remove_key("acme", "key-1")
    assert not verify_credential(before, resolver=_resolver(registry), now=NOW).verified
    assert verify_credential(after, resolver=_resolver(registry), now=NOW).verified
    with pytest.raises(NotFound):
        registry.issuers.remove_key("acme", "key-1")


def test_private_keys_are_sealed(registry: Registry, tmp_path: Path) -> None:
    registry.issuers.create("acme")
    rows = list(registry.store.scan("keys"))
    assert len(rows) == 2
    for _, raw in rows:
        record = json.loads(raw)
        assert set(record) == {"keyType", "kek", "nonce", "sealed", "public"}
    other = EncryptedKeyStore(registry.store, bytes(32), os.urandom)
    with pytest.raises(ConfigurationError, match="another key-encryption key"):
        other.signer(rows[0][0], "did:example:x#1")
    # a sealed key moved to another reference does not decrypt (the reference is associated data)
    registry.store.put("keys", "acme.moved", rows[0][1])
    fresh = EncryptedKeyStore(registry.store, KEK, os.urandom)
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        fresh.signer("acme.moved", "did:example:x#1")
    assert fresh.signer(rows[0][0], "did:example:x#1").sign(b"data")


def test_tokens_are_hashed_and_scoped(registry: Registry) -> None:
    registry.issuers.create("acme")
    created = registry.tokens.create(issuer="acme", scopes="issue, status")
    token = created["token"]
    assert token.startswith("cmk_")
    assert token not in json.dumps(list(registry.store.scan("token")), default=str)
    client = registry.tokens.authenticate(token)
    assert client is not None and client.issuer == "acme" and client.scopes == {"issue", "status"}
    assert registry.tokens.authenticate(token + "x") is None
    registry.tokens.revoke(created["id"])
    assert registry.tokens.authenticate(token) is None
    with pytest.raises(BadRequest):
        registry.tokens.create(issuer="acme", scopes="issue,root")
    with pytest.raises(BadRequest):
        registry.tokens.create(issuer=None, scopes="issue")


def test_status_indexes_unique_under_concurrency(registry: Registry) -> None:
    registry.issuers.create("acme")
    with ThreadPoolExecutor(16) as pool:
        pairs = list(pool.map(lambda _: registry.status_lists.allocate("acme", "revocation"), range(200)))
    indexes = [(record["id"], index) for record, index in pairs]
    assert len(set(indexes)) == 200
    assert len({list_id for list_id, _ in indexes}) == 1
    assert sorted(i for _, i in indexes) != list(range(200))  # random, not sequential


def test_full_list_rolls_over_to_one_successor(registry: Registry) -> None:
    registry.issuers.create("acme")
    small = StatusLists(registry.store, registry.issuers, public_url="https://vc.example", rng=os.urandom,
                        clock=lambda: NOW, loader=DocumentLoader.pinned(), size=32)
    with ThreadPoolExecutor(8) as pool:
        pairs = list(pool.map(lambda _: small.allocate("acme", "suspension"), range(80)))
    by_list: dict[str, set[int]] = {}
    for record, index in pairs:
        by_list.setdefault(record["id"], set()).add(index)
    assert sorted(len(v) for v in by_list.values()) == [16, 32, 32]
    assert all(len(v) == len(set(v)) for v in by_list.values())


def test_served_list_reflects_flips_and_verifies(registry: Registry) -> None:
    registry.issuers.create("acme")
    record, index = registry.status_lists.allocate("acme", "revocation")
    first = registry.status_lists.serve(record["id"])
    assert registry.status_lists.serve(record["id"]) is first  # unchanged bits: the cached copy
    assert registry.status_lists.set(record["id"], index, True) is False
    second = registry.status_lists.serve(record["id"])
    assert second.etag != first.etag
    subject = second.credential["credentialSubject"]
    assert subject["statusPurpose"] == "revocation"
    bits = statuslist.decode_list(subject["encodedList"])
    assert len(bits) * 8 == statuslist.MIN_ENTRIES
    assert statuslist.get_status(bits, index) == 1
    assert verify_credential(second.credential, resolver=_resolver(registry), now=NOW).verified
    with pytest.raises(NotFound):
        registry.status_lists.serve("nope")


def test_status_list_id_rules(registry: Registry) -> None:
    registry.issuers.create("acme")
    lists = registry.status_lists
    assert lists.id_for_url("https://vc.example/status-lists/abc") == "abc"
    assert lists.id_for_url("https://other.example/status-lists/abc") is None
    assert lists.id_for_url("https://vc.example/status-lists/../x") is None
    created = lists.create("acme", "revocation", list_id="my-list")
    assert lists.current("acme", "revocation")["id"] == created["id"]
    with pytest.raises(Conflict):
        lists.create("acme", "revocation", list_id="my-list")
    with pytest.raises(BadRequest):
        lists.create("acme", "expiry")
    with pytest.raises(NotFound):
        lists.create("ghost", "revocation")


def test_issuers_share_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    keys = EncryptedKeyStore(store, KEK, os.urandom)
    a = Issuers(store, keys, public_host="a.example", clock=lambda: NOW)
    a.create("one")
    assert a.did_for("one") == "did:web:a.example:issuers:one"
    assert a.did_for("_host") == "did:web:a.example"
    assert [r["name"] for r in a.list()] == ["one"]


def test_did_follows_the_serving_public_url(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    keys = EncryptedKeyStore(store, KEK, os.urandom)
    Issuers(store, keys, public_host="127.0.0.1%3A8000", clock=lambda: NOW).create("one")  # e.g. the CLI
    served = Issuers(store, keys, public_host="vc.example", clock=lambda: NOW)  # the server, another URL
    assert served.get("one")["did"] == "did:web:vc.example:issuers:one"
    assert served.did_document("one")["id"] == "did:web:vc.example:issuers:one"
    assert served.public_view(served.rotate("one", KeyType.P256))["did"] == "did:web:vc.example:issuers:one"
