"""did:web: the DID <-> URL mapping (with its refusals) and the resolver over an injected fetcher."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chopmark.dids import DidWebResolver, did_web_to_url, loads_strict_json, url_to_did_web
from chopmark.errors import InvalidControllerDocumentError, InvalidDidError, JsonError


@pytest.mark.parametrize(("did", "url"), [
    # did:web specification, "Read (Resolve)" examples
    ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
    ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
    ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
    ("did:web:example.com%3a8443", "https://example.com:8443/.well-known/did.json"),
    ("did:web:127.0.0.1%3A8443", "https://127.0.0.1:8443/.well-known/did.json"),
    ("did:web:example.com:a%20b:c_d.e-f", "https://example.com/a%20b/c_d.e-f/did.json"),
    ("did:web:Example.COM", "https://example.com/.well-known/did.json"),
])
def test_did_to_url(did: str, url: str) -> None:
    assert did_web_to_url(did) == url


@pytest.mark.parametrize(("url", "did"), [
    ("https://w3c-ccg.github.io/.well-known/did.json", "did:web:w3c-ccg.github.io"),
    ("https://w3c-ccg.github.io", "did:web:w3c-ccg.github.io"),
    ("https://w3c-ccg.github.io/", "did:web:w3c-ccg.github.io"),
    ("https://w3c-ccg.github.io/user/alice/did.json", "did:web:w3c-ccg.github.io:user:alice"),
    ("https://w3c-ccg.github.io/user/alice", "did:web:w3c-ccg.github.io:user:alice"),
    ("https://example.com:3000/user/alice/did.json", "did:web:example.com%3A3000:user:alice"),
])
def test_url_to_did(url: str, did: str) -> None:
    assert url_to_did_web(url) == did
    assert url_to_did_web(did_web_to_url(did)) == did


@pytest.mark.parametrize("did", [
    "did:web:", "did:web", "did:key:example.com", "did:web:example.com:", "did:web:example.com::alice",
    "did:web::alice", "did:web:example.com:..", "did:web:example.com:.", "did:web:example.com:a:..:b",
    "did:web:example.com:%2e%2e", "did:web:example.com:%2E", "did:web:example.com:a%2Fb",
    "did:web:example.com:a%2fb", "did:web:example.com:a%5Cb", "did:web:example.com:a%00b",
    "did:web:example.com:a%zz", "did:web:example.com:a/b", "did:web:example.com/path",
    "did:web:example.com#key-1", "did:web:example.com?service=x", "did:web:user@example.com",
    "did:web:user%40example.com", "did:web:exa%6Dple.com", "did:web:example.com%3A",
    "did:web:example.com%3A0", "did:web:example.com%3A65536", "did:web:example.com%3A08",
    "did:web:example.com%3A80%3A81", "did:web:example.com%2F", "did:web:-example.com",
    "did:web:example-.com", "did:web:exa_mple.com", "did:web:[::1]", "did:web:%5B%3A%3A1%5D",
    "did:web:example..com", "did:web:.example.com", "did:web:256.1.1.1", "did:web:1.2.3",
    "did:web:example.com:a b", "did:web:ex ample.com", "did:web:example.com:al\u00efce",
    "did:web:" + "a" * 64 + ".com", "did:web:" + ".".join(["a" * 60] * 5),
])
def test_invalid_did_web(did: str) -> None:
    with pytest.raises(InvalidDidError):
        did_web_to_url(did)


@pytest.mark.parametrize("url", [
    "http://example.com/did.json", "ftp://example.com/did.json", "https://user@example.com/did.json",
    "https://user:pw@example.com/did.json", "https://example.com/did.json?x=1", "https://example.com/did.json#k",
    "https://[::1]/did.json", "https://example.com/a/../did.json", "https://example.com//did.json",
    "https://example.com/a%2Fb/did.json", "https://example.com:99999/did.json", "https:///did.json",
])
def test_invalid_urls(url: str) -> None:
    with pytest.raises(InvalidDidError):
        url_to_did_web(url)


class FakeFetch:
    """Records requested URLs and serves fixed bodies."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return self.body


def doc(did: str, **extra: Any) -> bytes:
    return json.dumps({"@context": ["https://www.w3.org/ns/did/v1"], "id": did, **extra}).encode()


def test_resolver_fetches_the_mapped_url() -> None:
    fetch = FakeFetch(doc("did:web:example.com:user:alice"))
    document = DidWebResolver(fetch).resolve("did:web:example.com:user:alice")
    assert document["id"] == "did:web:example.com:user:alice"
    assert fetch.urls == ["https://example.com/user/alice/did.json"]


@pytest.mark.parametrize("body", [
    doc("did:web:evil.example"),
    doc("did:web:example.com:other"),
    b'{"id": "did:web:example.com"',
    b"[]",
    b'"did:web:example.com"',
    b'{"id": "did:web:example.com", "id": "did:web:example.com"}',
    b'{"id": "did:web:example.com", "x": NaN}',
    b'{"id": "did:web:example.com", "x": Infinity}',
    b'{"id": "did:web:example.com", "x": "\\udc00"}',
    b'{"id": "did:web:example.com", "\\ud800": 1}',
    b"\xff\xfe",
    b"\xef\xbb\xbf" + doc("did:web:example.com"),  # a UTF-8 BOM is not JSON
    b"[" * 100_000 + b"]" * 100_000,
])
def test_resolver_refuses_bad_documents(body: bytes) -> None:
    with pytest.raises(InvalidControllerDocumentError):
        DidWebResolver(FakeFetch(body)).resolve("did:web:example.com")


def test_resolver_refuses_invalid_dids_before_fetching() -> None:
    fetch = FakeFetch(doc("did:web:example.com"))
    with pytest.raises(InvalidDidError):
        DidWebResolver(fetch).resolve("did:web:example.com:..")
    assert fetch.urls == []


def test_loads_strict_json_error_class() -> None:
    assert loads_strict_json('{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    with pytest.raises(JsonError):
        loads_strict_json('{"a": 1, "a": 2}', JsonError)
