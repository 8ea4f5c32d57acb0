"""Context validation (Data Integrity 1.0 §2.4.1 "Validating Contexts", §4.6 "Context Validation"): protected
terms cannot be redefined inline, no inline ``@base``, and a verifier accepts only its allow-listed context URLs
and, unless it opts in, no inline context objects."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest

from chopmark.dids import Resolver, did_key_signer
from chopmark.errors import ChopmarkError, UsageError
from chopmark.jsonld import DocumentLoader
from chopmark.jsonld.validation import check_jsonld
from chopmark.keys import KeyPair, KeyType
from chopmark.vc.credentials import issue, verify_credential

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
PAIR = KeyPair.generate(KeyType.ED25519, os.urandom)
DID, SIGNER = did_key_signer(PAIR)
INLINE_OK = DocumentLoader.pinned().with_context_policy(inline_contexts=True)


def _credential(*contexts: Any, **members: Any) -> dict[str, Any]:
    return {"@context": [V2, *contexts], "type": ["VerifiableCredential"], "issuer": DID,
            "credentialSubject": {"id": "did:example:alice"}, **members}


def _code(document: dict[str, Any]) -> str:
    with pytest.raises(ChopmarkError) as caught:
        check_jsonld(document, DocumentLoader.pinned())
    return caught.value.instance_code


@pytest.mark.parametrize("inline", [{"issuer": "https://evil.example/issuer"},
                                    {"credentialSubject": {"@id": "https://evil.example/cs", "@type": "@id"}},
                                    {"name": "https://evil.example/name"}])
def test_inline_redefinition_of_a_protected_term_is_refused(inline: dict[str, Any]) -> None:
    # JSON-LD 1.1 §4.1.11: issuer and credentialSubject are protected in the VerifiableCredential scoped
    # context; an inline definition was silently overridden (issue 11), name raised a generic JSON-LD error
    assert _code(_credential(inline)) == "PROTECTED_TERM_REDEFINITION"
    if "name" not in inline:  # VC 1.1 protects issuer and credentialSubject too (it defines no name)
        vc11 = {**_credential(inline), "@context": [V1, inline], "issuanceDate": "2020-01-01T00:00:00Z"}
        assert _code(vc11) == "PROTECTED_TERM_REDEFINITION"
    with pytest.raises(ChopmarkError):
        issue(_credential(inline), SIGNER, created="2024-01-01T00:00:00Z")


def test_inline_base_is_refused() -> None:
    assert _code(_credential({"@base": "https://evil.example/"})) == "INLINE_BASE_NOT_ALLOWED"
    scoped = {"Thing": {"@id": "https://example.org/#Thing", "@context": {"@base": "https://evil.example/"}}}
    assert _code(_credential(scoped)) == "INLINE_BASE_NOT_ALLOWED"


def test_an_identical_or_new_inline_definition_is_accepted() -> None:
    check_jsonld(_credential({"ExampleCredential": "https://example.org/#ExampleCredential"},
                             type=["VerifiableCredential", "ExampleCredential"]), DocumentLoader.pinned())
    check_jsonld(_credential({"id": "@id"}), DocumentLoader.pinned())


def test_verifier_refuses_inline_contexts_unless_it_opts_in() -> None:
    inline = {"ExampleCredential": "https://example.org/#ExampleCredential"}
    secured = issue(_credential(inline, type=["VerifiableCredential", "ExampleCredential"]), SIGNER,
                    created="2024-01-01T00:00:00Z")  # issuing with an inline context is fine
    refused = verify_credential(secured, resolver=Resolver(), now=NOW)
    assert not refused.verified
    assert "INLINE_CONTEXT_NOT_ALLOWED" in [p.code for p in refused.problems]
    assert [c.check for c in refused.checks if not c.passed] == ["contexts"]
    assert verify_credential(secured, resolver=Resolver(), now=NOW, loader=INLINE_OK).verified


def test_nested_context_is_inline() -> None:
    document = _credential(credentialSubject={"@context": [EXAMPLES], "id": "did:example:alice", "nick": "a"})
    secured = issue(document, SIGNER, created="2024-01-01T00:00:00Z")
    refused = verify_credential(secured, resolver=Resolver(), now=NOW)
    assert "INLINE_CONTEXT_NOT_ALLOWED" in [p.code for p in refused.problems]
    assert verify_credential(secured, resolver=Resolver(), now=NOW, loader=INLINE_OK).verified


def test_verifier_allow_list_of_context_urls() -> None:
    secured = issue(_credential(EXAMPLES), SIGNER, created="2024-01-01T00:00:00Z")
    assert verify_credential(secured, resolver=Resolver(), now=NOW).verified  # default: every pinned URL
    narrow = DocumentLoader.pinned().with_context_policy(allowed_urls={V2})
    refused = verify_credential(secured, resolver=Resolver(), now=NOW, loader=narrow)
    assert "CONTEXT_NOT_ALLOWED" in [p.code for p in refused.problems]
    with pytest.raises(UsageError):
        DocumentLoader.pinned().with_context_policy(allowed_urls={"https://example.org/unknown"})
    registered = narrow.with_documents({"https://example.org/ctx": {"@context": {}}})
    assert registered.allowed_context_urls() == {V2}
