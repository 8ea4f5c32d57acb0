"""The pinned JSON-LD contexts in ``chopmark/jsonld/contexts/``: pins, provenance, agreement with the W3C copies."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from chopmark import jsonld, vocab
from chopmark.errors import ChopmarkError, UndefinedTermError, UnknownContextError
from chopmark.jsonld import DocumentLoader, loader
from chopmark.vocab.schema import schema_document

CONTEXTS = Path(loader.__file__).resolve().parent / "contexts"

# URLs of the vectors' context folder that no registry package ships (see DEVELOPERS.md, "Pinned JSON-LD
# contexts"): they are deliberately not pinned; tests register the W3C copies with with_documents().
UNSOURCED = {
    "https://www.w3.org/ns/cid/v1",
    "https://w3id.org/security/jwk/v1",
}


def _index() -> dict[str, dict[str, str]]:
    index: dict[str, dict[str, str]] = json.loads((CONTEXTS / "index.json").read_text(encoding="utf-8"))
    return index


def _vector_contexts(vectors: Path) -> dict[str, Any]:
    folder = vectors / "contexts"
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    return {url: json.loads((folder / name).read_text(encoding="utf-8"))
            for url, name in index.items() if not url.startswith("_")}


def test_every_pinned_file_matches_its_sha256() -> None:
    index = _index()
    assert len(index) >= 20
    for url, pin in index.items():
        data = (CONTEXTS / pin["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == pin["sha256"], url
        assert isinstance(json.loads(data), dict), url


def test_every_pin_names_a_registry_source() -> None:
    for url, pin in _index().items():
        kind, _, rest = pin["source"].partition(":")
        if kind == "chopmark":
            # our own vocabulary is the one context written here, and only under our own namespace
            assert url.startswith("https://chopmark.org/contexts/"), url
            continue
        assert kind in {"npm", "pyld", "spec"}, url
        assert "@" in rest or kind in {"pyld", "spec"}, url


def test_only_the_chopmark_context_is_our_own() -> None:
    own = {url for url, pin in _index().items() if pin["source"].startswith("chopmark:")}
    assert own == {vocab.CONTEXT_URL}


def test_chopmark_context_protects_every_term() -> None:
    context = json.loads((CONTEXTS / _index()[vocab.CONTEXT_URL]["file"]).read_text(encoding="utf-8"))["@context"]
    assert context["@protected"] is True
    # no term opts out of protection, and no term redefines a VCDM 2.0 term the design reserves
    assert not [term for term, value in context.items() if isinstance(value, dict) and "@protected" in value]
    assert not {"id", "type", "name", "digestMultibase"} & set(context)


@pytest.mark.parametrize("url", sorted(vocab.SCHEMA_FOR_TYPE.values()))
def test_schema_examples_expand_without_dropping_terms(url: str) -> None:
    example = schema_document(url)["examples"][0]
    expanded = jsonld.expand(example, DocumentLoader.pinned())  # safe mode: an undefined term raises
    subject = expanded[0]["https://www.w3.org/2018/credentials#credentialSubject"][0]
    # every member of the subject (except the keyword-mapped id/type) expanded to an IRI property
    assert len([k for k in subject if not k.startswith("@")]) == len(set(example["credentialSubject"]) - {"id", "type"})
    assert all(k.startswith(("https://chopmark.org/vocab#", "https://schema.org/")) for k in subject
               if not k.startswith("@")), sorted(subject)


def test_undefined_subject_term_is_refused() -> None:
    example = schema_document(vocab.SCHEMA_FOR_TYPE[vocab.MERCHANT_IDENTITY])["examples"][0]
    example["credentialSubject"]["leiCode"] = "529900T8BM49AURSDO55"
    with pytest.raises(UndefinedTermError):
        jsonld.check_expands(example, DocumentLoader.pinned())


def test_protected_chopmark_term_cannot_be_redefined() -> None:
    example = schema_document(vocab.SCHEMA_FOR_TYPE[vocab.MERCHANT_IDENTITY])["examples"][0]
    example["@context"] = [*example["@context"], {"lei": "https://evil.example/lei"}]
    with pytest.raises(ChopmarkError, match="protected term"):
        jsonld.check_expands(example, DocumentLoader.pinned())
    example["@context"][-1] = {"unrelatedTerm": "https://other.example/term"}  # the same shape is otherwise fine
    jsonld.check_expands(example, DocumentLoader.pinned())


def test_no_stray_files_in_the_contexts_folder() -> None:
    shipped = {path.name for path in CONTEXTS.iterdir() if path.suffix in {".json", ".jsonld"}}
    assert shipped == {pin["file"] for pin in _index().values()} | {"index.json"}


@pytest.mark.vectors
def test_pinned_contexts_equal_the_w3c_copies(vectors: Path) -> None:
    """Every shipped URL that the vectors also carry is the same JSON (the registry bytes may be formatted
    differently: e.g. credentials/v2 from @digitalbazaar/credentials-context@3.2.0 has other whitespace than
    the W3C file, so its SHA-256 differs but the JSON is equal). Older registry versions that differ from the
    W3C copy were not chosen (e.g. credentials-context 3.1.0's v2, multikey-context 1.0.0)."""
    official = _vector_contexts(vectors)
    shared = set(official) & set(_index())
    assert len(shared) >= 16
    for url in sorted(shared):
        pinned = json.loads((CONTEXTS / _index()[url]["file"]).read_text(encoding="utf-8"))
        assert pinned == official[url], url


@pytest.mark.vectors
def test_only_the_documented_urls_are_unsourced(vectors: Path) -> None:
    assert set(_vector_contexts(vectors)) - set(_index()) == UNSOURCED


def test_loader_serves_every_pin() -> None:
    loader = DocumentLoader.pinned()
    assert set(_index()) <= loader.urls()
    for url in _index():
        remote = loader(url)
        assert remote["documentUrl"] == url
        assert remote["contextUrl"] is None
        assert remote["tag"] == "static"
        assert "@context" in remote["document"]


def test_tampered_pinned_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "contexts"
    shutil.copytree(CONTEXTS, copy)
    target = copy / _index()["https://www.w3.org/ns/credentials/v2"]["file"]
    target.write_bytes(target.read_bytes().replace(b"VerifiableCredential", b"VerifiableCredentiaI", 1))
    loader._pinned_document.cache_clear()
    monkeypatch.setattr(loader, "_CONTEXTS", copy)
    try:
        with pytest.raises(UnknownContextError) as info:
            DocumentLoader.pinned()("https://www.w3.org/ns/credentials/v2")
        assert info.value.instance_code == "CONTEXT_INTEGRITY"
    finally:
        loader._pinned_document.cache_clear()


def test_spec_pins_match_the_digest_printed_in_the_recommendation() -> None:
    # examples/v2 ships in no registry package: it is written from the VC 2.0 Recommendation and accepted only
    # because its bytes hash to the digestSRI the Recommendation prints for it.
    spec_pins = {url: pin for url, pin in _index().items() if pin["source"].startswith("spec:")}
    assert set(spec_pins) == {"https://www.w3.org/ns/credentials/examples/v2"}
    for pin in spec_pins.values():
        sri = pin["source"].rsplit(":", 1)[1]
        alg, _, expected = sri.partition("-")
        data = (CONTEXTS / pin["file"]).read_bytes()
        assert base64.b64encode(hashlib.new(alg, data).digest()).decode() == expected
        assert sri == "sha384-zNNbQTWCSUSi0bbz7dbua+RcENv7C6FvlmYJ1Y+I727HsPOHdzwELMYO9Mz68M26"
