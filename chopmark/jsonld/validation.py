"""JSON-LD validation of credentials and presentations (VC Data Model 2.0 §4.3, §6.3 "JSON-LD" processing).

A document is expanded in safe mode: every term must be defined by its contexts, protected terms must not be
redefined (not even by an inline context that JSON-LD would silently override, nor with ``@base``: see
:mod:`chopmark.jsonld.contextcheck`), and every expanded property and type must be an absolute IRI. Expansion
is pure given the document and the (immutable) loader, so results are memoised in a bounded LRU keyed by the
loader and a sorted-keys JSON dump of the document.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from chopmark.codecs import jcs
from chopmark.errors import ChopmarkError, JsonError, ParsingError
from chopmark.jsonld.contextcheck import check_inline_contexts
from chopmark.jsonld.loader import DocumentLoader
from chopmark.jsonld.processing import check_expands

_CACHE_SIZE = 4096
_cache: OrderedDict[tuple[object, str], ChopmarkError | None] = OrderedDict()


def check_jsonld(document: Any, loader: DocumentLoader) -> None:
    """Raise a :class:`ParsingError` (or subclass) unless ``document`` expands cleanly in safe mode.

    The ``proof`` member is left out: proofs are checked by the Data Integrity algorithm, which canonicalizes
    each proof configuration in safe mode with the document's contexts, and a document may carry another
    party's proof this verifier does not understand (the proof then fails, not the document).
    """
    if not isinstance(document, Mapping):
        raise ParsingError("a JSON-LD document must be a JSON object")
    if "proof" in document:
        document = {k: v for k, v in document.items() if k != "proof"}
    key = (loader, _cache_key(document))
    if key in _cache:
        _cache.move_to_end(key)
        cached = _cache[key]
        if cached is not None:
            raise cached
        return
    error = _validate(document, loader)
    _cache[key] = error
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    if error is not None:
        raise error


def _cache_key(document: Mapping[str, Any]) -> str:
    try:
        return jcs.memo_key(document)
    except (TypeError, ValueError) as exc:
        raise JsonError(f"not a JSON document: {exc}") from None


def _validate(document: Mapping[str, Any], loader: DocumentLoader) -> ChopmarkError | None:
    # Safe-mode expansion (processing.py checks that every property and type is an absolute IRI); the expansion
    # is memoised in the loader, so canonicalizing the same document next reuses it.
    try:
        check_inline_contexts(document, loader)
        check_expands(document, loader)
    except ChopmarkError as exc:
        return exc
    return None


#: Deepest nesting of objects and arrays accepted in a credential or presentation (a real one nests < 15).
MAX_DEPTH = 64
#: Largest integer magnitude accepted: JSON numbers are IEEE-754 doubles (RFC 8259 §6, RFC 7493 §2.2).
_MAX_INT = 2**1023


def check_plain_json(document: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`JsonError` unless ``document`` is plain JSON within the nesting limit.

    Plain JSON: dicts with string keys, lists, strings, booleans, None, finite floats and integers a double
    can hold. Checked iteratively, before any recursive processing, so hostile nesting cannot exhaust the stack.
    """
    level: list[Any] = [document]
    depth = 0
    while level:  # breadth-first, one nesting level at a time
        if depth > max_depth:
            raise JsonError(f"JSON nested deeper than {max_depth} levels")
        below: list[Any] = []
        for item in level:
            kind = type(item)
            if kind is dict:
                for key in item:
                    if type(key) is not str:
                        raise JsonError("object member names must be strings")
                below.extend(item.values())
            elif kind is list:
                below.extend(item)
            elif kind is str or kind is bool or item is None:
                continue
            else:
                below.extend(_other(item))
        level = below
        depth += 1


def _other(item: Any) -> list[Any]:
    """Check a value that is not an exact dict/list/str/bool/None; return its children if it is a container."""
    if isinstance(item, bool | str):
        return []
    if isinstance(item, int):
        if abs(item) >= _MAX_INT:
            raise JsonError("integer too large for a JSON number (IEEE-754 double)")
        return []
    if isinstance(item, float):
        if item != item or item in (float("inf"), float("-inf")):
            raise JsonError("NaN and Infinity are not JSON numbers")
        return []
    if isinstance(item, Mapping):
        if not all(isinstance(key, str) for key in item):
            raise JsonError("object member names must be strings")
        return list(item.values())
    if isinstance(item, list | tuple):
        return list(item)
    raise JsonError(f"{type(item).__name__} is not a JSON value")


def clear_cache() -> None:
    """Forget memoised validations (tests and benchmarks of cold paths use this)."""
    _cache.clear()
