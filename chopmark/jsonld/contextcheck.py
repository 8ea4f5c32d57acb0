"""Context validation: which ``@context`` values a document may carry (Data Integrity 1.0 §2.4.1 "Validating
Contexts" and §4.6 "Context Validation"; JSON-LD 1.1 §4.1.11 "Protected Term Definitions").

Two levels:

* :func:`check_inline_contexts`, always (issuing and verifying, through
  :func:`chopmark.jsonld.validation.check_jsonld`): an inline context object must not set ``@base`` (no base IRI
  is ever applied) and must not define a term that a context it is combined with protects. JSON-LD itself only
  raises "protected term redefinition" when the protected definition is active at that point; an inline
  ``{"issuer": ...}`` next to the VC contexts (which protect ``issuer`` in the ``VerifiableCredential``
  type-scoped context) is otherwise silently overridden, and a reader of the document is misled.
* :func:`check_allowed_contexts`, when verifying (:func:`chopmark.integrity.proofs.verify_proofs`): every
  context URL must be in the loader's allow-list (default: every URL it serves, i.e. the pinned set plus
  documents registered with ``with_documents``), and inline context objects, ``null`` and ``@context`` below the
  top level are refused unless the verifier opted in (``loader.with_context_policy(inline_contexts=True)``): the
  "Context Validation" algorithm step 3 ("any subtree ... contains an @context property ... add an error").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from chopmark.errors import ParsingError, UnknownContextError
from chopmark.jsonld.loader import DocumentLoader
from chopmark.jsonld.values import as_list

#: Members whose values are verified as documents of their own (the proof algorithm checks ``proof.@context``).
_SEPARATE = frozenset({"proof", "verifiableCredential"})


def _contexts(value: Any, top: bool = True) -> Iterator[tuple[Any, bool]]:
    """Every ``@context`` value in ``value`` with whether it is the top-level one (``proof`` and embedded
    ``verifiableCredential`` members are skipped: they are checked as documents of their own)."""
    stack: list[tuple[Any, bool]] = [(value, top)]
    while stack:
        item, is_top = stack.pop()
        if isinstance(item, Mapping):
            if "@context" in item:
                yield item["@context"], is_top
            stack.extend((v, False) for k, v in item.items() if k != "@context" and k not in _SEPARATE)
        elif isinstance(item, list):
            stack.extend((v, False) for v in item)


def _inline_objects(context: Any) -> Iterator[Mapping[str, Any]]:
    """Every inline context object in a context value, including scoped contexts of its term definitions."""
    stack = [c for c in as_list(context) if isinstance(c, Mapping)]
    while stack:
        inline = stack.pop()
        yield inline
        for key, definition in inline.items():
            if not key.startswith("@") and isinstance(definition, Mapping):
                stack.extend(c for c in as_list(definition.get("@context")) if isinstance(c, Mapping))


def _urls(context: Any) -> Iterator[str]:
    """Every context URL a context value references: its entries, ``@import`` and scoped contexts of inline
    objects."""
    yield from (c for c in as_list(context) if isinstance(c, str))
    for inline in _inline_objects(context):
        if isinstance(inline.get("@import"), str):
            yield inline["@import"]
        for key, definition in inline.items():
            if not key.startswith("@") and isinstance(definition, Mapping):
                yield from (c for c in as_list(definition.get("@context")) if isinstance(c, str))


def _protected_terms(context: Any, into: dict[str, list[Any]]) -> None:
    """Collect the protected term definitions of a context value, scoped contexts included (JSON-LD 1.1
    §4.1.11: ``@protected`` on the context protects every term it defines unless the term says otherwise)."""
    for local in as_list(context):
        if not isinstance(local, Mapping):
            continue
        protect_all = local.get("@protected") is True
        for term, definition in local.items():
            if term.startswith("@"):
                continue
            own = definition.get("@protected") if isinstance(definition, Mapping) else None
            if own is True or (protect_all and own is not False):
                into.setdefault(term, []).append(definition)
            if isinstance(definition, Mapping) and isinstance(definition.get("@context"), Mapping | list):
                _protected_terms(definition["@context"], into)


def _protected_by(urls: list[str], loader: DocumentLoader) -> dict[str, list[Any]]:
    protected: dict[str, list[Any]] = {}
    for url in urls:
        document = loader(url)["document"]
        if isinstance(document, Mapping):
            _protected_terms(document.get("@context"), protected)
    return protected


def check_inline_contexts(document: Any, loader: DocumentLoader) -> None:
    """Refuse an inline context with ``@base`` or one redefining a term protected by the document's context URLs
    (:class:`ParsingError`, codes ``INLINE_BASE_NOT_ALLOWED`` / ``PROTECTED_TERM_REDEFINITION``)."""
    found = list(_contexts(document))
    inline = [obj for context, _ in found for obj in _inline_objects(context)]
    if not inline:
        return
    for obj in inline:
        if "@base" in obj:
            # JSON-LD 1.1 §4.1.3: @base would make relative IRIs resolve against a document-chosen IRI
            raise ParsingError("an inline context may not set @base (no base IRI is applied)",
                               code="INLINE_BASE_NOT_ALLOWED")
    protected = _protected_by(sorted({url for context, _ in found for url in _urls(context)}), loader)
    for obj in inline:
        for term, definition in obj.items():
            if term in protected and not any(_same(definition, p) for p in protected[term]):
                raise ParsingError(f"an inline context redefines the protected term {term!r} (JSON-LD 1.1 "
                                   "\"protected term redefinition\")", code="PROTECTED_TERM_REDEFINITION",
                                   term=term)


def _same(definition: Any, protected: Any) -> bool:
    """JSON-LD 1.1 §4.1.11: redefining a protected term is allowed only with the same definition."""
    def strip(value: Any) -> Any:
        return {k: v for k, v in value.items() if k != "@protected"} if isinstance(value, Mapping) else value
    return bool(strip(definition) == strip(protected))


def check_allowed_contexts(document: Any, loader: DocumentLoader) -> None:
    """Data Integrity 1.0 §4.6 Context Validation with the loader's allow-list: every context URL must be
    allowed; inline objects, ``null`` and nested ``@context`` only when the loader allows inline contexts."""
    allowed = loader.allowed_context_urls()
    inline_ok = loader.inline_contexts_allowed()
    for context, top in _contexts(document):
        if not inline_ok and not top:
            raise ParsingError("an @context below the top level of the document is not allowed",
                               code="INLINE_CONTEXT_NOT_ALLOWED")
        for entry in context if isinstance(context, list) else [context]:  # null counts: it resets the context
            if not inline_ok and not isinstance(entry, str):
                raise ParsingError("inline context objects (and null) are not allowed by this verifier; "
                                   "use context URLs from its allow-list", code="INLINE_CONTEXT_NOT_ALLOWED")
        for url in _urls(context):
            if url not in allowed:
                raise UnknownContextError(f"the context {url!r} is not in this verifier's allow-list",
                                          code="CONTEXT_NOT_ALLOWED", url=url)
