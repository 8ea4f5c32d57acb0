"""JSON-LD for Chopmark: pinned contexts, safe-mode expansion and RDFC-1.0 canonical N-Quads.

* :class:`DocumentLoader` serves the contexts pinned in ``chopmark/contexts/`` (checked against their
  SHA-256) and documents registered explicitly, and refuses everything else: nothing is ever fetched (VC Data
  Model 2.0 §4.3 / JSON-LD Best Practices "cache contexts"; Data Integrity 1.0 §2.4.1 "Context Injection").
* :func:`expand` is JSON-LD 1.1 Expansion (JSON-LD 1.1 API §4.1) in *safe mode* (Data Integrity 1.0 §4.2,
  "Safe mode"): a property or type that does not expand to an absolute IRI, or a relative ``@id``, is an
  error instead of being dropped silently.
* :func:`canonize` is Deserialize JSON-LD to RDF (JSON-LD 1.1 API §6.1, no base IRI, no generalized RDF)
  followed by RDFC-1.0 (``chopmark.rdfc``) with a work budget.

pyld does the JSON-LD work. It is never given its default (network) document loader, its global context cache
is never used (each loader owns a pyld ``ContextResolver`` cache) and ``base`` is always None: pyld would
otherwise resolve relative IRIs against ``http://example.org/base/``.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from pyld.context_resolver import ContextResolver
from pyld.jsonld import JsonLdError

from chopmark import jcs, rdfc
from chopmark.errors import (
    ChopmarkError,
    ParsingError,
    UndefinedTermError,
    UnknownContextError,
    UsageError,
)
from chopmark.jsonld_pyld import ABSOLUTE_IRI, Lru, Processor
from chopmark.rdfc import DEFAULT_BUDGET, canonize_nquads, issued_identifiers

__all__ = ["DEFAULT_BUDGET", "DocumentLoader", "canonize", "canonize_nquads", "clear_caches", "expand",
           "issued_identifiers", "pinned_bytes"]

_CONTEXTS = Path(__file__).resolve().parent / "contexts"
_RESULT_CACHE_SIZE = 256
_CONTEXT_CACHE_SIZE = 512


# --- pinned contexts --------------------------------------------------------------------------------------

@functools.cache
def _pin_index() -> Mapping[str, Mapping[str, str]]:
    """The shipped ``contexts/index.json``: URL → {"file", "sha256", "source"}."""
    index: dict[str, dict[str, str]] = json.loads((_CONTEXTS / "index.json").read_text(encoding="utf-8"))
    return index


def pinned_bytes(url: str) -> bytes:
    """The exact bytes of a pinned context, checked against its SHA-256 pin (to serve it, e.g. Chopmark's own)."""
    pin = _pin_index().get(url)
    if pin is None:
        raise UnknownContextError(f"{url!r} is not a pinned context", url=str(url))
    data = (_CONTEXTS / pin["file"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != pin["sha256"]:
        raise UnknownContextError(f"pinned context {url} does not match its SHA-256 pin",
                                  code="CONTEXT_INTEGRITY")
    return data


@functools.cache
def _pinned_document(url: str) -> Any:
    """Read a pinned context, check its SHA-256 against the pin and parse it (once per process)."""
    return json.loads(pinned_bytes(url))


class DocumentLoader:
    """A pyld document loader serving only the pinned contexts and explicitly registered documents.

    Calling it with a URL returns a pyld RemoteDocument; any other URL raises :class:`UnknownContextError`.
    Loaders are immutable: :meth:`with_documents` returns a new one. Each loader owns its caches (processed
    contexts, canonical results), so one loader's documents never leak into another's results.
    """

    def __init__(self, documents: Mapping[str, Any] | None = None, *, _token: object = None) -> None:
        if _token is not _TOKEN:
            raise UsageError("use DocumentLoader.pinned() or loader.with_documents(...) to make a loader")
        self._documents: Mapping[str, Any] = dict(documents or {})
        self._urls = frozenset(_pin_index()) | frozenset(self._documents)
        self._lock = threading.RLock()
        self._contexts = Lru(_CONTEXT_CACHE_SIZE)  # pyld ContextResolver cache: URL/JCS → tag → context
        self._processed = Lru(_CONTEXT_CACHE_SIZE)  # _Processor._process_context memo
        self._results = Lru(_RESULT_CACHE_SIZE)  # (options, document serialization) → canonical N-Quads
        self._expansions = Lru(_RESULT_CACHE_SIZE)  # (safe, document serialization) → expanded form
        iris: dict[tuple[Any, ...], Any] = {}  # _Processor._expand_iri memo, shared by both modes
        self._processors = {mode: Processor(self._processed, iris, safe=mode) for mode in (True, False)}
        _LOADERS.add(self)

    @classmethod
    def pinned(cls) -> DocumentLoader:
        """Return the shared loader of the pinned contexts only (immutable, created once)."""
        return _pinned_loader()

    def with_documents(self, extra: Mapping[str, Mapping[str, Any]]) -> DocumentLoader:
        """Return a NEW loader that also serves ``extra`` (URL → JSON object); this loader is unchanged."""
        documents = dict(self._documents)
        for url, document in extra.items():
            if not isinstance(url, str) or not isinstance(document, Mapping):
                raise UsageError("with_documents expects a mapping of URL strings to JSON objects")
            if url in _pin_index():
                raise UsageError(f"{url} is a pinned context and cannot be replaced")
            documents[url] = jcs.to_plain(document)
        return DocumentLoader(documents, _token=_TOKEN)

    def urls(self) -> frozenset[str]:
        """Return every URL this loader serves."""
        return self._urls

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Return the pyld RemoteDocument for ``url``; raise UnknownContextError for any other URL."""
        if url in self._documents:
            document = self._documents[url]
        elif url in _pin_index():
            document = _pinned_document(url)
        else:
            raise UnknownContextError(f"JSON-LD context or document {url!r} is not pinned nor registered",
                                      url=str(url))
        # pyld may modify what it receives (context URL resolution, @import): hand out a copy. Thanks to the
        # "static" tag pyld keeps the resolved context in this loader's cache, so this runs once per URL.
        return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(document),
                "contentType": "application/ld+json", "tag": "static"}

    def _options(self) -> dict[str, Any]:
        """pyld options for one operation with this loader (never pyld's defaults)."""
        return {"documentLoader": self, "contextResolver": ContextResolver(self._contexts, self),
                "base": None, "processingMode": "json-ld-1.1", "produceGeneralizedRdf": False,
                "extractAllScripts": False, "isFrame": False, "keepFreeFloatingNodes": False}


_TOKEN = object()
_LOADERS: weakref.WeakSet[DocumentLoader] = weakref.WeakSet()


def clear_caches() -> None:
    """Forget the canonical results memoised by every loader (processed contexts stay cached).

    Only for measurements: the caches hold pure results, so clearing them never changes an answer.
    """
    for loader in list(_LOADERS):
        with loader._lock:
            loader._results.clear()
            loader._expansions.clear()


@functools.cache
def _pinned_loader() -> DocumentLoader:
    """The module-level default loader (see :meth:`DocumentLoader.pinned`)."""
    return DocumentLoader(_token=_TOKEN)


# --- input handling ---------------------------------------------------------------------------------------

class _Owned(dict[str, Any]):
    """A private JSON object copy: pyld's ``expand`` deep-copies its input, which for this copy is wasted."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Owned:
        return self


def _owned(document: Any) -> _Owned:
    """A private plain copy of a JSON-LD document (a JSON object); refuse anything else."""
    if not isinstance(document, Mapping):
        raise ParsingError("a JSON-LD document must be a JSON object")
    return _Owned(jcs.to_plain(document))


def _reraise(error: Exception) -> NoReturn:
    """Raise a pyld failure as our error: the ChopmarkError that caused it (pyld wraps loader and handler
    exceptions in JsonLdError; walk ``__cause__``/``__context__``), else a ParsingError with pyld's messages."""
    messages = []
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ChopmarkError):
            raise cause.with_traceback(None) from None
        if isinstance(cause, JsonLdError):
            messages.append(f"{cause.args[0] if cause.args else ''} ({cause.code or cause.type})")
        else:
            messages.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__ or cause.__context__
    raise ParsingError("invalid JSON-LD: " + " <- ".join(messages), code="INVALID_JSON_LD") from error


_PYLD_ERRORS = (JsonLdError, ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError)


# --- safe mode ----------------------------------------------------------------------------------------------

def _check_reference(value: Any) -> None:
    """A node identifier must be an absolute IRI or a blank node identifier (no base IRI is ever applied)."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and not (item.startswith("_:") or ABSOLUTE_IRI.fullmatch(item)):
            raise ParsingError(f"relative IRI reference {item!r} (no base IRI is used)",
                               code="RELATIVE_IRI_REFERENCE")


def _check_safe(value: Any) -> None:
    """Safe mode over expanded JSON-LD: every property and type is an absolute IRI, every ``@id`` too.

    pyld reports dropped properties through ``on_property_dropped``, but keeps undefined ``@type`` values and
    relative ``@id`` values as relative IRIs which Deserialize JSON-LD to RDF later drops without a word.
    """
    if isinstance(value, list):
        for item in value:
            _check_safe(item)
        return
    if not isinstance(value, dict) or "@value" in value:
        return  # scalars, and value objects (pyld already requires an absolute datatype IRI)
    for key, item in value.items():
        if key == "@id":
            _check_reference(item)
        elif key == "@type":
            for type_ in item if isinstance(item, list) else [item]:
                if isinstance(type_, str) and not (type_.startswith("_:") or ABSOLUTE_IRI.fullmatch(type_)):
                    raise UndefinedTermError(f"type {type_!r} is not defined by the active context",
                                             term=type_)
        elif key.startswith("@"):
            if key not in ("@index", "@language", "@direction"):
                _check_safe(item)
        elif key.startswith("_:") or not ABSOLUTE_IRI.fullmatch(key):
            raise UndefinedTermError(f"property {key!r} does not expand to an absolute IRI", term=key)
        else:
            _check_safe(item)


# --- public API ---------------------------------------------------------------------------------------------

def _expand_owned(document: _Owned, loader: DocumentLoader, safe: bool, options: dict[str, Any]) -> list[Any]:
    """Expand a private copy of a document with the loader's processor (caller holds the loader's lock)."""
    expanded: list[Any] = loader._processors[safe].expand(document, options)
    if safe:
        _check_safe(expanded)
    return expanded


def _dump(plain: _Owned) -> str:
    # the memo key of checked plain JSON (to_plain has refused NaN and non-JSON values already)
    return jcs.memo_key(plain)


def _expanded(plain: _Owned, dump: str, loader: DocumentLoader, safe: bool, options: dict[str, Any]) -> list[Any]:
    """The memoised expansion of ``plain`` (caller holds the loader's lock; the result must not be mutated)."""
    key = (safe, dump)
    cached: list[Any] | None = loader._expansions.get(key)
    if cached is None:
        cached = _expand_owned(plain, loader, safe, options)
        loader._expansions[key] = cached
    return cached


def expand(document: Mapping[str, Any], loader: DocumentLoader, *, safe: bool = True) -> list[Any]:
    """JSON-LD 1.1 Expansion of ``document`` with contexts from ``loader`` only.

    In safe mode (the default) an undefined property or type raises :class:`UndefinedTermError` and a
    relative ``@id`` raises :class:`ParsingError`. An unknown context URL raises :class:`UnknownContextError`;
    any other JSON-LD error a :class:`ParsingError` carrying pyld's message. The expansion is memoised per
    loader (a later :func:`canonize` of the same document reuses it); the caller gets its own copy.
    """
    owned = _owned(document)
    with loader._lock:
        try:
            return copy.deepcopy(_expanded(owned, _dump(owned), loader, safe, loader._options()))
        except _PYLD_ERRORS as error:
            _reraise(error)


def check_expands(document: Mapping[str, Any], loader: DocumentLoader) -> None:
    """Raise as :func:`expand` (safe mode) would; return nothing, so no copy of the expansion is made."""
    owned = _owned(document)
    with loader._lock:
        try:
            _expanded(owned, _dump(owned), loader, True, loader._options())
        except _PYLD_ERRORS as error:
            _reraise(error)


def canonize(document: Mapping[str, Any], loader: DocumentLoader, *, safe: bool = True,
             budget: int = DEFAULT_BUDGET, hash_algorithm: str = "sha256") -> str:
    """Return the RDFC-1.0 canonical N-Quads of a JSON-LD document (each line ends with "\\n").

    JSON-LD → RDF uses no base IRI and no generalized RDF; canonicalization is RDFC-1.0 with
    ``hash_algorithm`` (SHA-256; ecdsa-rdfc-2019 with P-384 uses SHA-384) and at most ``budget`` calls of
    Hash N-Degree Quads (else :class:`CanonicalizationError`). Other errors as in :func:`expand`. The result
    is a pure function of (document, loader, options), so each loader keeps a bounded cache of recent results.
    """
    plain = _owned(document)
    # Cache key: the options and an injective serialization of the checked plain JSON (sorted keys, exact
    # numbers); the cache lives in the (immutable) loader, so the loader is part of the key.
    dump = _dump(plain)
    key = (safe, budget, hash_algorithm, dump)
    with loader._lock:
        cached: str | None = loader._results.get(key)
        if cached is not None:
            return cached
        options = loader._options()
        try:
            # the node map may annotate what it walks: work on a copy of the (possibly shared) expansion
            expanded = copy.deepcopy(_expanded(plain, dump, loader, safe, options))
            dataset = loader._processors[safe].to_dataset(expanded, options)
        except _PYLD_ERRORS as error:
            _reraise(error)
    quads = rdfc.quads_from_dataset(dataset)
    nquads = rdfc.canonicalize_quads(quads, budget=budget, hash_algorithm=hash_algorithm)[0]
    with loader._lock:
        loader._results[key] = nquads
    return nquads
