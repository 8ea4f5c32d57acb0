"""chopmark.jsonld: the pinned document loader, safe-mode expansion and RDFC-1.0 canonical N-Quads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyld.jsonld
import pytest

from chopmark import jsonld
from chopmark.errors import (
    CanonicalizationError,
    JsonError,
    ParsingError,
    UndefinedTermError,
    UnknownContextError,
    UsageError,
)
from chopmark.jsonld import DocumentLoader, canonize, expand

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def loader(vectors: Path) -> DocumentLoader:
    """The pinned contexts (examples/v2 included: it is pinned from the VC 2.0 Recommendation)."""
    del vectors
    return DocumentLoader.pinned()


# --- official vectors -------------------------------------------------------------------------------------

EDDSA = "vc-di-eddsa/TestVectors"
ECDSA = "vc-di-ecdsa/TestVectors"
CASES = [
    # (unsigned document, proof configuration, canonical document, canonical proof configuration)
    (f"{EDDSA}/unsigned.json", f"{EDDSA}/eddsa-rdfc-2022/proofConfigDataInt.json",
     f"{EDDSA}/eddsa-rdfc-2022/canonDocDataInt.txt", f"{EDDSA}/eddsa-rdfc-2022/proofCanonDataInt.txt"),
    (f"{EDDSA}/employmentAuth.json", f"{EDDSA}/eddsa-rdfc-2022/employ/proofConfigDataInt.json",
     f"{EDDSA}/eddsa-rdfc-2022/employ/canonDocDataInt.txt",
     f"{EDDSA}/eddsa-rdfc-2022/employ/proofCanonDataInt.txt"),
    (f"{EDDSA}/unsigned.json", f"{EDDSA}/Ed25519Signature2020/proofConfigEdSig.json",
     f"{EDDSA}/Ed25519Signature2020/canonDocEdSig.txt", f"{EDDSA}/Ed25519Signature2020/proofCanonEdSig.txt"),
] + [
    (f"{ECDSA}/{doc}", f"{ECDSA}/ecdsa-rdfc-2019-{curve.lower()}{sub}/proofConfigECDSA{curve}.json",
     f"{ECDSA}/ecdsa-rdfc-2019-{curve.lower()}{sub}/canonDocECDSA{curve}.txt",
     f"{ECDSA}/ecdsa-rdfc-2019-{curve.lower()}{sub}/proofCanonECDSA{curve}.txt")
    for curve in ("P256", "P384") for doc, sub in (("unsigned.json", ""), ("employmentAuth.json", "/employ"))
]


@pytest.mark.vectors
@pytest.mark.parametrize(("document", "config", "canon_doc", "canon_config"), CASES,
                         ids=lambda path: str(path).split("TestVectors/")[1])
def test_rdfc_vectors(vectors: Path, loader: DocumentLoader, document: str, config: str, canon_doc: str,
                      canon_config: str) -> None:
    """canonize() reproduces the canonical N-Quads of the Data Integrity test vectors byte for byte."""
    # ecdsa-rdfc-2019 with P-384 hashes with SHA-384, also inside RDFC-1.0 (vc-di-ecdsa §3.3.3): with three
    # look-alike blank nodes the employ vector shows it, its canonical labels differ from the P-256 one.
    algorithm = "sha384" if "P384" in canon_doc else "sha256"
    assert canonize(_json(vectors / document), loader, hash_algorithm=algorithm) == (
        vectors / canon_doc).read_text(encoding="utf-8")
    assert canonize(_json(vectors / config), loader, hash_algorithm=algorithm) == (
        vectors / canon_config).read_text(encoding="utf-8")


@pytest.mark.vectors
def test_cached_and_fresh_results_agree(vectors: Path, loader: DocumentLoader) -> None:
    document = _json(vectors / EDDSA / "unsigned.json")
    first = canonize(document, loader)
    fresh = DocumentLoader.pinned().with_documents({"https://example.org/unused/v1": {"@context": {}}})
    assert canonize(document, fresh) == first == canonize(document, loader)
    document["credentialSubject"]["alumniOf"] = "Another School"
    assert "Another School" in canonize(document, loader)


# --- document loader --------------------------------------------------------------------------------------

def test_unknown_context_is_refused_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pyld's default (network) document loader was used")

    default = pyld.jsonld._default_document_loader
    monkeypatch.setattr(pyld.jsonld, "_default_document_loader", network)
    document = {"@context": ["https://example.com/unknown/v1"], "id": "urn:x", "type": "Thing"}
    with pytest.raises(UnknownContextError) as info:
        canonize(document, DocumentLoader.pinned())
    assert "https://example.com/unknown/v1" in info.value.detail
    with pytest.raises(UnknownContextError):
        expand(document, DocumentLoader.pinned())
    monkeypatch.undo()
    assert pyld.jsonld._default_document_loader is default


def test_pyld_global_context_cache_is_not_used() -> None:
    before = dict(pyld.jsonld._resolved_context_cache)
    canonize({"@context": [V2, {"@vocab": "https://example.org/global-cache-test#"}], "type": "Thing",
              "id": "urn:y", "name": "x"}, DocumentLoader.pinned())
    assert dict(pyld.jsonld._resolved_context_cache) == before


def test_loader_call_contract() -> None:
    loader = DocumentLoader.pinned()
    assert loader is DocumentLoader.pinned()
    remote = loader(V2)
    assert remote["contextUrl"] is None and remote["documentUrl"] == V2 and remote["tag"] == "static"
    remote["document"]["@context"]["injected"] = "https://evil.example/"
    assert "injected" not in loader(V2)["document"]["@context"]
    with pytest.raises(UnknownContextError):
        loader("https://www.w3.org/ns/credentials/v2/")
    with pytest.raises(UsageError):
        DocumentLoader()


def test_with_documents_returns_a_new_loader() -> None:
    base = DocumentLoader.pinned()
    context = {"@context": {"ex": "https://example.org/ns#", "Widget": "ex:Widget", "size": "ex:size"}}
    extended = base.with_documents({"https://example.org/ctx/v1": context})
    assert extended is not base
    assert "https://example.org/ctx/v1" in extended.urls()
    assert "https://example.org/ctx/v1" not in base.urls()
    context["@context"]["size"] = "ex:changed"  # the loader kept its own copy
    document = {"@context": "https://example.org/ctx/v1", "@id": "urn:w", "@type": "Widget", "size": 3}
    assert canonize(document, extended) == (
        '<urn:w> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://example.org/ns#Widget> .\n'
        '<urn:w> <https://example.org/ns#size> "3"^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
    with pytest.raises(UnknownContextError):
        canonize(document, base)


def test_loaders_do_not_share_contexts() -> None:
    url = "https://example.org/ctx/shared"
    one = DocumentLoader.pinned().with_documents({url: {"@context": {"p": "https://one.example/p"}}})
    two = DocumentLoader.pinned().with_documents({url: {"@context": {"p": "https://two.example/p"}}})
    document = {"@context": url, "@id": "urn:s", "p": "v"}
    assert "https://one.example/p" in canonize(document, one)
    assert "https://two.example/p" in canonize(document, two)
    assert "https://one.example/p" in canonize(document, one)


def test_pinned_contexts_cannot_be_replaced() -> None:
    with pytest.raises(UsageError):
        DocumentLoader.pinned().with_documents({V2: {"@context": {}}})


# --- safe mode ----------------------------------------------------------------------------------------------

V1_CREDENTIAL: dict[str, Any] = {
    "@context": [V1], "id": "urn:uuid:1", "type": ["VerifiableCredential"], "issuer": "did:example:issuer",
    "issuanceDate": "2024-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:subject"},
}


def test_undefined_property_without_vocab_is_refused() -> None:
    document = json.loads(json.dumps(V1_CREDENTIAL))
    document["credentialSubject"]["favoriteColor"] = "blue"
    with pytest.raises(UndefinedTermError) as info:
        canonize(document, DocumentLoader.pinned())
    assert "favoriteColor" in info.value.detail
    with pytest.raises(UndefinedTermError):
        expand(document, DocumentLoader.pinned())
    assert "favoriteColor" not in canonize(document, DocumentLoader.pinned(), safe=False)


def test_undefined_type_is_refused() -> None:
    document = dict(V1_CREDENTIAL, type=["VerifiableCredential", "MerchantCredential"])
    with pytest.raises(UndefinedTermError) as info:
        canonize(document, DocumentLoader.pinned())
    assert "MerchantCredential" in info.value.detail


def test_undefined_term_of_an_inline_context_is_refused() -> None:
    document = {"@context": {"name": "https://schema.org/name"}, "@id": "urn:x", "name": "n", "nickname": "m"}
    with pytest.raises(UndefinedTermError) as info:
        expand(document, DocumentLoader.pinned())
    assert "nickname" in info.value.detail
    with pytest.raises(UndefinedTermError):
        expand({"@context": {"name": "https://schema.org/name"}, "@type": "Person", "name": "n"},
               DocumentLoader.pinned())


def test_relative_iri_reference_is_refused() -> None:
    document = dict(V1_CREDENTIAL, id="credentials/1")
    with pytest.raises(ParsingError) as info:
        canonize(document, DocumentLoader.pinned())
    assert info.value.instance_code == "RELATIVE_IRI_REFERENCE"
    # without safe mode nothing is resolved against a base: the relative subject is simply left out
    assert "example.org/base" not in canonize(document, DocumentLoader.pinned(), safe=False)


def test_v2_has_no_vocab_but_undefined_terms_v2_has() -> None:
    """The VC 2.0 Recommendation's v2 context has no @vocab (it moved to undefined-terms/v2, VC Data Model 2.0
    §5.2 "Extensibility"): undefined terms of a v2-only credential are errors in safe mode."""
    document = {"@context": [V2], "id": "urn:uuid:2", "type": ["VerifiableCredential"],
                "issuer": "did:example:issuer", "credentialSubject": {"id": "did:example:s", "color": "red"}}
    with pytest.raises(UndefinedTermError) as info:
        canonize(document, DocumentLoader.pinned())
    assert "color" in info.value.detail
    document["@context"] = [V2, "https://www.w3.org/ns/credentials/undefined-terms/v2"]
    document["type"] = ["VerifiableCredential", "Anything"]
    nquads = canonize(document, DocumentLoader.pinned())
    assert "<https://www.w3.org/ns/credentials/undefined-term#color>" in nquads
    assert "<https://www.w3.org/ns/credentials/undefined-term#Anything>" in nquads


def test_protected_term_redefinition_is_a_parsing_error() -> None:
    document = {"@context": [V2, {"name": "https://evil.example/name"}], "id": "urn:x",
                "type": "VerifiableCredential", "name": "x"}
    with pytest.raises(ParsingError) as info:
        canonize(document, DocumentLoader.pinned())
    assert "protected" in info.value.detail.lower()


@pytest.mark.parametrize("document", [{"@context": 5, "@id": "urn:x"}, {"@context": [V2], "@id": 5}])
def test_invalid_json_ld_is_a_parsing_error(document: dict[str, Any]) -> None:
    with pytest.raises(ParsingError):
        canonize(document, DocumentLoader.pinned())


def test_document_must_be_an_object() -> None:
    with pytest.raises(ParsingError):
        canonize([{"@id": "urn:x"}], DocumentLoader.pinned())  # type: ignore[arg-type]


def test_non_json_input_is_refused() -> None:
    with pytest.raises(JsonError):
        canonize({"@context": [V2], "x": {1, 2}}, DocumentLoader.pinned())
    with pytest.raises(JsonError):
        canonize({1: "x"}, DocumentLoader.pinned())


def test_poisoned_json_ld_is_refused() -> None:
    """A 10-node blank-node clique written as JSON-LD: the RDFC-1.0 budget stops it."""
    nodes = [{"@id": f"_:n{a}", "https://example.org/p": [{"@id": f"_:n{b}"} for b in range(10)]}
             for a in range(10)]
    with pytest.raises(CanonicalizationError):
        canonize({"@graph": nodes}, DocumentLoader.pinned())


def test_literal_escaping_and_numbers() -> None:
    document = {"@context": {"@vocab": "https://example.org/#"}, "@id": "urn:x", "text": "a\bb\u0001\"",
                "n": 1.0, "d": 2.5, "big": 1e21, "flag": True}
    assert canonize(document, DocumentLoader.pinned()) == (
        '<urn:x> <https://example.org/#big> "1.0E21"^^<http://www.w3.org/2001/XMLSchema#double> .\n'
        '<urn:x> <https://example.org/#d> "2.5E0"^^<http://www.w3.org/2001/XMLSchema#double> .\n'
        '<urn:x> <https://example.org/#flag> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n'
        '<urn:x> <https://example.org/#n> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
        '<urn:x> <https://example.org/#text> "a\\bb\\u0001\\"" .\n')


def test_expand_returns_expanded_form() -> None:
    expanded = expand({"@context": {"@vocab": "https://example.org/#"}, "@id": "urn:x", "k": "v"},
                      DocumentLoader.pinned())
    assert expanded == [{"@id": "urn:x", "https://example.org/#k": [{"@value": "v"}]}]


def test_public_names() -> None:
    assert jsonld.DEFAULT_BUDGET > 0
    assert callable(jsonld.canonize_nquads) and callable(jsonld.issued_identifiers)


def test_string_typed_double_keeps_its_lexical_form() -> None:
    """JSON-LD 1.1 API §8.6 step 10 rewrites only *numbers* as canonical xsd:double (pyld also rewrote
    strings; jsonld.js does not, and signatures must agree with it)."""
    double = "http://www.w3.org/2001/XMLSchema#double"
    document = {"@id": "urn:x", "https://example.org/#d": [{"@value": "1.5", "@type": double},
                                                           {"@value": 1.5}]}
    assert canonize(document, DocumentLoader.pinned()) == (
        f'<urn:x> <https://example.org/#d> "1.5"^^<{double}> .\n'
        f'<urn:x> <https://example.org/#d> "1.5E0"^^<{double}> .\n')


def test_lists_and_relative_iris_without_safe_mode() -> None:
    context = {"@vocab": "https://example.org/#", "l": {"@container": "@list", "@type": "@id"}}
    document = {"@context": context, "@id": "urn:x", "l": ["urn:a", "relative", "urn:b"],
                "lang": {"@value": "x", "@language": "en"}}
    nquads = canonize(document, DocumentLoader.pinned(), safe=False)
    assert "relative" not in nquads
    assert nquads.count("rdf-syntax-ns#first") == 2 and nquads.count("rdf-syntax-ns#rest") == 3
    assert '"x"@en' in nquads
    with pytest.raises(ParsingError):
        canonize(document, DocumentLoader.pinned())


@pytest.mark.vectors
def test_rdf_conversion_agrees_with_pyld(vectors: Path, loader: DocumentLoader) -> None:
    """Our leaner graph-to-RDF step (§8.1/§8.6) gives the same dataset as pyld's to_rdf on every JSON-LD
    document of the vectors (expanded without safe mode, so that more documents take part)."""
    from pyld.jsonld import JsonLdProcessor

    from chopmark.jsonld import rdfc

    folders = ["vc-di-eddsa", "vc-di-ecdsa", "vc-data-model-2.0-test-suite", "bitstring-status-list"]
    compared = 0
    for path in sorted(p for folder in folders for p in (vectors / folder).rglob("*.json")):
        document = _json(path)
        if not isinstance(document, dict) or "@context" not in document:
            continue
        try:
            ours = canonize(document, loader, safe=False)
        except ParsingError:
            continue
        dataset = JsonLdProcessor().to_rdf(document, loader._options())
        assert rdfc.canonicalize_quads(rdfc.quads_from_dataset(dataset))[0] == ours, path.name
        compared += 1
    assert compared >= 100


def test_lang_string_without_language_does_not_crash() -> None:
    langstring = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
    document = {"@id": "urn:x", "https://example.org/#p": {"@value": "v", "@type": langstring}}
    assert canonize(document, DocumentLoader.pinned()) == f'<urn:x> <https://example.org/#p> "v"^^<{langstring}> .\n'
