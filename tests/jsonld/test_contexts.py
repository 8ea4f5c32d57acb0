"""The pinned JSON-LD contexts in ``chopmark/contexts/``: pins, provenance, agreement with the W3C copies."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from chopmark import jsonld
from chopmark.errors import UnknownContextError
from chopmark.jsonld import DocumentLoader

CONTEXTS = Path(jsonld.__file__).resolve().parent / "contexts"

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
        assert kind in {"npm", "pyld", "spec"}, url
        assert "@" in rest or kind in {"pyld", "spec"}, url


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
    jsonld._pinned_document.cache_clear()
    monkeypatch.setattr(jsonld, "_CONTEXTS", copy)
    try:
        with pytest.raises(UnknownContextError) as info:
            DocumentLoader.pinned()("https://www.w3.org/ns/credentials/v2")
        assert info.value.instance_code == "CONTEXT_INTEGRITY"
    finally:
        jsonld._pinned_document.cache_clear()


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
