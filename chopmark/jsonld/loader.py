"""The document loader: serves the JSON-LD contexts pinned in ``chopmark/jsonld/contexts/`` (checked against their
SHA-256) and documents registered explicitly, and refuses everything else: nothing is ever fetched (VC Data
Model 2.0 §4.3 / JSON-LD Best Practices "cache contexts"; Data Integrity 1.0 §2.4.1 "Context Injection").

Each loader owns its pyld caches (processed contexts, expansions, canonical results): pyld's global context cache
and its default (network) document loader are never used.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import threading
import weakref
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from pyld.context_resolver import ContextResolver

from chopmark.codecs import jcs
from chopmark.errors import UnknownContextError, UsageError
from chopmark.jsonld.pyld_adapter import Lru, Processor

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
        self._allowed: frozenset[str] = self._urls  # context URLs a verified document may use
        self._inline = False  # whether a verified document may carry inline context objects
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
        loader = DocumentLoader(documents, _token=_TOKEN)
        loader._inline = self._inline  # the verification policy carries over; a narrowed allow-list stays narrow
        loader._allowed = loader._urls if self._allowed == self._urls else self._allowed
        return loader

    def with_context_policy(self, *, inline_contexts: bool | None = None,
                            allowed_urls: Collection[str] | None = None) -> DocumentLoader:
        """Return a loader serving the same documents (sharing this loader's caches) whose verification policy
        (Data Integrity 1.0 §2.4.1 "Validating Contexts", :func:`chopmark.jsonld.contextcheck.check_allowed_contexts`)
        allows inline context objects (``inline_contexts``) and/or only the context URLs ``allowed_urls`` (a
        subset of :meth:`urls`; default unchanged). The policy never changes what the loader serves."""
        derived = copy.copy(self)
        if inline_contexts is not None:
            derived._inline = bool(inline_contexts)
        if allowed_urls is not None:
            urls = frozenset(allowed_urls)
            if not urls <= self._urls:
                raise UsageError(f"allowed_urls names URLs this loader does not serve: {sorted(urls - self._urls)}")
            derived._allowed = urls
        _LOADERS.add(derived)
        return derived

    def allowed_context_urls(self) -> frozenset[str]:
        """The context URLs a verified document may use (default: every URL this loader serves)."""
        return self._allowed

    def inline_contexts_allowed(self) -> bool:
        """Whether a verified document may carry inline context objects (default: no)."""
        return self._inline

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
