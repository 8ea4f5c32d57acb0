"""RDFC-1.0: the W3C rdf-canon test suite, the work budget against poisoned graphs, the N-Quads reader."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from chopmark.errors import CanonicalizationError, ParsingError
from chopmark.jsonld import canonize_nquads, issued_identifiers, rdfc
from chopmark.jsonld.rdfc import DEFAULT_BUDGET

SUITE_SIZE = 86  # entries of rdf-canon/manifest.jsonld: 64 eval, 21 map, 1 negative


def _entry(vectors: Path, index: int) -> dict[str, Any]:
    manifest = json.loads((vectors / "rdf-canon" / "manifest.jsonld").read_text(encoding="utf-8"))
    entry: dict[str, Any] = manifest["entries"][index]
    return entry


def _read(vectors: Path, relative: str) -> str:
    return (vectors / "rdf-canon" / relative).read_bytes().decode("utf-8")


@pytest.mark.vectors
def test_suite_size(vectors: Path) -> None:
    manifest = json.loads((vectors / "rdf-canon" / "manifest.jsonld").read_text(encoding="utf-8"))
    kinds = [entry["type"] for entry in manifest["entries"]]
    assert len(kinds) == SUITE_SIZE
    assert kinds.count("rdfc:RDFC10EvalTest") == 64
    assert kinds.count("rdfc:RDFC10MapTest") == 21
    assert kinds.count("rdfc:RDFC10NegativeEvalTest") == 1


@pytest.mark.vectors
@pytest.mark.parametrize("index", range(SUITE_SIZE))
def test_rdf_canon_suite(vectors: Path, index: int) -> None:
    """Every entry with the DEFAULT budget: eval tests byte for byte, map tests exactly, 074c must raise."""
    entry = _entry(vectors, index)
    source = _read(vectors, entry["action"])
    algorithm = entry.get("hashAlgorithm", "SHA256")
    if entry["type"] == "rdfc:RDFC10NegativeEvalTest":
        with pytest.raises(CanonicalizationError):
            canonize_nquads(source, hash_algorithm=algorithm)
    elif entry["type"] == "rdfc:RDFC10MapTest":
        expected = json.loads(_read(vectors, entry["result"]))
        assert issued_identifiers(source, hash_algorithm=algorithm) == expected, entry["id"]
    else:
        expected = _read(vectors, entry["result"])
        assert canonize_nquads(source, hash_algorithm=algorithm) == expected, entry["id"]


def _clique(size: int) -> str:
    """A blank-node clique: every node linked to every node (itself included) by the same predicate."""
    return "".join(f"_:n{a} <http://example.org/p> _:n{b} .\n" for a in range(size) for b in range(size))


def test_poison_clique_is_stopped_by_the_budget() -> None:
    started = time.perf_counter()
    with pytest.raises(CanonicalizationError) as info:
        canonize_nquads(_clique(10))
    elapsed = time.perf_counter() - started  # informative only: the budget, not a timer, stops the work
    assert info.value.extra["budget"] == DEFAULT_BUDGET
    print(f"10-node clique rejected after {elapsed:.3f} s")


def test_small_clique_fits_the_budget() -> None:
    assert canonize_nquads(_clique(3)).count("\n") == 9


@pytest.mark.vectors
def test_evil_graph_needs_more_than_a_tiny_budget(vectors: Path) -> None:
    source = _read(vectors, "rdfc10/test044-in.nq")
    with pytest.raises(CanonicalizationError):
        canonize_nquads(source, budget=100)
    assert canonize_nquads(source) == _read(vectors, "rdfc10/test044-rdfc10.nq")


def test_zero_budget_allows_graphs_without_look_alike_blank_nodes() -> None:
    text = '_:a <http://e/p> "1" .\n_:b <http://e/p> "2" .\n'
    assert canonize_nquads(text, budget=0) == '_:c14n0 <http://e/p> "1" .\n_:c14n1 <http://e/p> "2" .\n'
    with pytest.raises(CanonicalizationError):
        canonize_nquads('_:a <http://e/p> "1" .\n_:b <http://e/p> "1" .\n', budget=0)


def test_issued_identifiers_use_input_labels() -> None:
    text = '_:x <http://e/p> _:y .\n_:y <http://e/q> "v" .\n'
    # both first-degree hashes are unique; the canonical order follows the hashes, not the labels
    assert issued_identifiers(text) == {"x": "c14n0", "y": "c14n1"}
    renamed = text.replace("_:x", "_:zz").replace("_:y", "_:aa")
    assert issued_identifiers(renamed) == {"zz": "c14n0", "aa": "c14n1"}


def test_canonical_literal_escaping() -> None:
    """RDFC-1.0 §4.3 canonical N-Quads: ECHAR for \\b \\t \\n \\f \\r \\" \\\\, upper-case UCHAR otherwise."""
    quad = {"subject": {"type": "IRI", "value": "http://e/s"},
            "predicate": {"type": "IRI", "value": "http://e/p"},
            "object": {"type": "literal", "value": "\b\t\n\f\r\"\\\u0000\u001f\u007f\u00e9",
                       "datatype": rdfc.XSD_STRING}}
    assert rdfc.serialize_quad(quad) == (
        '<http://e/s> <http://e/p> "\\b\\t\\n\\f\\r\\"\\\\\\u0000\\u001F\\u007F\u00e9" .\n')


def test_duplicate_quads_collapse() -> None:
    text = '<http://e/s> <http://e/p> "o" .\n<http://e/s> <http://e/p> "o" .\n'
    assert canonize_nquads(text) == '<http://e/s> <http://e/p> "o" .\n'


@pytest.mark.parametrize("text", [
    "<http://e/s> <http://e/p> .\n",
    '<http://e/s> _:p "o" .\n',
    '"s" <http://e/p> "o" .\n',
    '<http://e/s> <http://e/p> "\\ud800" .\n',
    '<http://e/s> <http://e/p> "o"\n',
    "<http://e/s x> <http://e/p> <http://e/o> .\n",
])
def test_invalid_nquads_are_parsing_errors(text: str) -> None:
    with pytest.raises(ParsingError):
        canonize_nquads(text)


def test_comments_and_blank_lines_are_ignored() -> None:
    text = "# comment\n\n<http://e/s> <http://e/p> <http://e/o> <http://e/g> . # trailing\r\n"
    assert canonize_nquads(text) == "<http://e/s> <http://e/p> <http://e/o> <http://e/g> .\n"


@pytest.mark.parametrize(("name", "ok"), [("sha256", True), ("SHA-256", True), ("SHA384", True),
                                          ("sha-384", True), ("md5", False), ("sha512", False)])
def test_hash_algorithm_names(name: str, ok: bool) -> None:
    text = '_:a <http://e/p> _:b .\n'
    if ok:
        assert canonize_nquads(text, hash_algorithm=name).startswith("_:c14n")
    else:
        with pytest.raises(CanonicalizationError):
            canonize_nquads(text, hash_algorithm=name)
