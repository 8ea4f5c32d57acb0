"""The composite Resolver: dispatch, dereferencing (CID §3.3), relationships and public keys."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chopmark.dids import (
    Resolver,
    did_jwk_from_jwk,
    did_key_from_public_key,
    did_web_to_url,
    public_key_for_method,
)
from chopmark.errors import (
    DidNotFoundError,
    InvalidControllerDocumentError,
    InvalidDidError,
    InvalidRelationshipError,
    InvalidVerificationMethodError,
    MethodNotSupportedError,
)
from chopmark.keys import KeyPair, KeyType
from tests.conftest import private_jwk

WEB = "did:web:issuer.example"
ALICE = KeyPair.generate(KeyType.ED25519, lambda n: b"\x11" * n)
BOB = KeyPair.generate(KeyType.P256, lambda n: b"\x22" * n)
CAROL = KeyPair.generate(KeyType.P384, lambda n: b"\x33" * n)


def web_document() -> dict[str, Any]:
    """A did:web document with a listed method, a relative one, an embedded one and a JWK one."""
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": WEB,
        "verificationMethod": [
            ALICE.to_multikey(include_secret=False, id=f"{WEB}#key-1", controller=WEB),
            {"id": "#key-2", "type": "JsonWebKey", "controller": WEB,
             "publicKeyJwk": BOB.public_key.to_jwk()},
            {"id": f"{WEB}#no-controller", "type": "Multikey",
             "publicKeyMultibase": ALICE.public_key.multibase()},
            {"id": f"{WEB}#legacy", "type": "Ed25519VerificationKey2020", "controller": WEB,
             "publicKeyMultibase": ALICE.public_key.multibase()},
        ],
        "assertionMethod": [f"{WEB}#key-1", "#key-2", f"{WEB}#legacy",
                            CAROL.to_multikey(include_secret=False, id=f"{WEB}#embedded", controller=WEB)],
        "authentication": ["#key-2"],
    }


@pytest.fixture
def resolver() -> Resolver:
    return Resolver(documents={WEB: web_document()})


# --- resolve ------------------------------------------------------------------------------------------------

def test_resolve_did_key_and_did_jwk_offline() -> None:
    resolver = Resolver()
    did_key = did_key_from_public_key(ALICE.public_key)
    did_jwk = did_jwk_from_jwk(BOB.public_key.to_jwk())
    assert resolver.resolve(did_key)["id"] == did_key
    assert resolver.resolve(did_jwk)["id"] == did_jwk


def test_memoised_documents_are_returned_as_copies() -> None:
    resolver = Resolver()
    did = did_key_from_public_key(ALICE.public_key)
    first = resolver.resolve(did)
    first["verificationMethod"].clear()
    first["assertionMethod"].append("did:example:evil#k")
    second = resolver.resolve(did)
    assert len(second["verificationMethod"]) == 1
    assert second["assertionMethod"] == [second["verificationMethod"][0]["id"]]


def test_did_web_from_documents_by_did_or_url() -> None:
    by_did = Resolver(documents={WEB: web_document()})
    by_url = Resolver(documents={did_web_to_url(WEB): web_document()})
    assert by_did.resolve(WEB) == by_url.resolve(WEB) == web_document()


def test_did_web_document_id_must_match() -> None:
    resolver = Resolver(documents={"did:web:other.example": web_document()})
    with pytest.raises(InvalidControllerDocumentError):
        resolver.resolve("did:web:other.example")


def test_did_web_without_fetcher_is_not_found() -> None:
    with pytest.raises(DidNotFoundError):
        Resolver().resolve("did:web:unknown.example")


def test_did_web_through_the_injected_fetcher() -> None:
    urls: list[str] = []

    def fetch(url: str) -> bytes:
        urls.append(url)
        return json.dumps(web_document()).encode()

    resolver = Resolver(web_fetch=fetch)
    _, key = resolver.resolve_verification_method(f"{WEB}#key-1", "assertionMethod")
    assert key == ALICE.public_key
    assert urls and all(u == "https://issuer.example/.well-known/did.json" for u in urls)


def test_url_controllers_and_other_methods_from_documents() -> None:
    controller = "https://controller.example/"
    key_url = "https://controller.example/keys/1"
    documents = {
        controller: {"id": controller, "assertionMethod": [key_url]},
        key_url: ALICE.to_multikey(include_secret=False, id=key_url, controller=controller),
        "did:example:123": {"id": "did:example:123", "verificationMethod": [
            ALICE.to_multikey(include_secret=False, id="did:example:123#k", controller="did:example:123")],
            "assertionMethod": ["#k"]},
    }
    resolver = Resolver(documents=documents)
    assert resolver.resolve(controller)["id"] == controller
    method, key = resolver.resolve_verification_method(key_url, "assertionMethod")
    assert (method["id"], key) == (key_url, ALICE.public_key)
    assert resolver.get_controller_document(key_url)["id"] == controller
    with pytest.raises(InvalidRelationshipError):
        resolver.check_relationship(key_url, "authentication")
    assert resolver.resolve_verification_method("did:example:123#k", "assertionMethod")[1] == ALICE.public_key


@pytest.mark.parametrize(("did", "error"), [
    ("did:example:123", MethodNotSupportedError),
    ("did:ion:EiA", MethodNotSupportedError),
    ("did:Bad:123", InvalidDidError),
    ("did:example:", InvalidDidError),
    ("not a did", InvalidDidError),
    ("", InvalidDidError),
    ("http://controller.example/", InvalidDidError),
    ("https://unknown.example/", DidNotFoundError),
    (f"{WEB}#key-1", InvalidDidError),
])
def test_resolve_errors(did: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        Resolver().resolve(did)


# --- dereference --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fragment", ["key-1", "key-2", "embedded", "legacy"])
def test_dereference_listed_relative_and_embedded(resolver: Resolver, fragment: str) -> None:
    method = resolver.dereference(f"{WEB}#{fragment}")
    assert method["id"] == f"{WEB}#{fragment}"
    assert method["controller"] == WEB


@pytest.mark.parametrize("vm_url", [f"{WEB}#missing", f"{WEB}#no-controller", WEB, "", f"{WEB}#"])
def test_dereference_errors(resolver: Resolver, vm_url: str) -> None:
    with pytest.raises(InvalidVerificationMethodError):
        resolver.dereference(vm_url)


def test_conflicting_duplicate_methods_are_refused() -> None:
    document = web_document()
    clash = BOB.to_multikey(include_secret=False, id=f"{WEB}#key-1", controller=WEB)
    document["authentication"].append(clash)
    with pytest.raises(InvalidVerificationMethodError):
        Resolver(documents={WEB: document}).dereference(f"{WEB}#key-1")


# --- relationships ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("fragment", "relationship"), [
    ("key-1", "assertionMethod"), ("key-2", "assertionMethod"), ("key-2", "authentication"),
    ("embedded", "assertionMethod"), ("legacy", "assertionMethod"),
])
def test_listed_relationships(resolver: Resolver, fragment: str, relationship: str) -> None:
    resolver.check_relationship(f"{WEB}#{fragment}", relationship)


@pytest.mark.parametrize(("fragment", "relationship"), [
    ("key-1", "authentication"), ("key-1", "capabilityInvocation"), ("key-1", "keyAgreement"),
    ("embedded", "authentication"), ("key-1", "assertion"), ("key-1", "verificationMethod"),
])
def test_unlisted_relationships(resolver: Resolver, fragment: str, relationship: str) -> None:
    with pytest.raises(InvalidRelationshipError):
        resolver.check_relationship(f"{WEB}#{fragment}", relationship)


def test_did_key_relationships() -> None:
    resolver = Resolver()
    did = did_key_from_public_key(BOB.public_key)
    vm = f"{did}#{did.split(':')[-1]}"
    for relationship in ("assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"):
        resolver.check_relationship(vm, relationship)
    with pytest.raises(InvalidRelationshipError):
        resolver.check_relationship(vm, "keyAgreement")


def test_relationship_is_checked_in_the_controllers_document() -> None:
    other = "did:web:other.example"
    method = ALICE.to_multikey(include_secret=False, id=f"{other}#k", controller=WEB)
    other_doc = {"id": other, "verificationMethod": [method], "assertionMethod": [f"{other}#k"]}
    # the method claims WEB as controller, but WEB's document does not list it
    resolver = Resolver(documents={WEB: web_document(), other: other_doc})
    with pytest.raises(InvalidRelationshipError):
        resolver.resolve_verification_method(f"{other}#k", "assertionMethod")
    # once WEB lists it, WEB authorises it
    authorising = web_document()
    authorising["assertionMethod"].append(f"{other}#k")
    resolver = Resolver(documents={WEB: authorising, other: other_doc})
    assert resolver.resolve_verification_method(f"{other}#k", "assertionMethod")[1] == ALICE.public_key
    assert resolver.get_controller_document(f"{other}#k")["id"] == WEB


# --- public keys --------------------------------------------------------------------------------------------

def test_resolve_verification_method_returns_a_usable_key(resolver: Resolver) -> None:
    method, key = resolver.resolve_verification_method(f"{WEB}#key-2", "assertionMethod")
    assert method["type"] == "JsonWebKey"
    assert key.verify(BOB.sign(b"data"), b"data")
    method, key = resolver.resolve_verification_method(f"{WEB}#embedded", "assertionMethod")
    assert key == CAROL.public_key


@pytest.mark.parametrize("method", [
    {"type": "Multikey", "publicKeyMultibase": ALICE.public_key.multibase()},
    {"type": "Ed25519VerificationKey2020", "publicKeyMultibase": ALICE.public_key.multibase()},
    {"type": "JsonWebKey2020", "publicKeyJwk": ALICE.public_key.to_jwk()},
    {"type": "JsonWebKey", "publicKeyJwk": ALICE.public_key.to_jwk()},
])
def test_public_key_for_supported_methods(method: dict[str, Any]) -> None:
    assert public_key_for_method(method) == ALICE.public_key
    assert Resolver.public_key_for_method(method) == ALICE.public_key


@pytest.mark.parametrize("method", [
    {"type": "Ed25519VerificationKey2018", "publicKeyBase58": "abc"},
    {"type": "EcdsaSecp256k1VerificationKey2019", "publicKeyMultibase": ALICE.public_key.multibase()},
    {"publicKeyMultibase": ALICE.public_key.multibase()},
    {"type": "Multikey"},
    {"type": "Multikey", "publicKeyMultibase": "z6Mk"},
    {"type": "Multikey", "publicKeyMultibase": ALICE.public_key.multibase(), "publicKeyJwk": {}},
    {"type": "Ed25519VerificationKey2020", "publicKeyMultibase": BOB.public_key.multibase()},
    {"type": "JsonWebKey", "publicKeyJwk": private_jwk(ALICE)},
    {"type": "JsonWebKey", "publicKeyJwk": "x"},
    {"type": "JsonWebKey2020", "publicKeyMultibase": ALICE.public_key.multibase()},
    [],
])
def test_public_key_for_bad_methods(method: Any) -> None:
    with pytest.raises(InvalidVerificationMethodError):
        public_key_for_method(method)
