"""JSON-LD processing with a :class:`~chopmark.jsonld.loader.DocumentLoader`: safe-mode expansion and RDFC-1.0
canonical N-Quads.

* :func:`expand` is JSON-LD 1.1 Expansion (JSON-LD 1.1 API §4.1) in *safe mode* (Data Integrity 1.0 §4.2,
  "Safe mode"): a property or type that does not expand to an absolute IRI, or a relative ``@id``, is an
  error instead of being dropped silently.
* :func:`canonize` is Deserialize JSON-LD to RDF (JSON-LD 1.1 API §6.1, no base IRI, no generalized RDF)
  followed by RDFC-1.0 (:mod:`chopmark.jsonld.rdfc`) with a work budget.

pyld does the JSON-LD work, always with the loader's own options: ``base`` is always None (pyld would otherwise
resolve relative IRIs against ``http://example.org/base/``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, NoReturn

from pyld.jsonld import JsonLdError

from chopmark.codecs import jcs
from chopmark.errors import ChopmarkError, ParsingError, UndefinedTermError
from chopmark.jsonld import rdfc
from chopmark.jsonld.loader import DocumentLoader
from chopmark.jsonld.pyld_adapter import ABSOLUTE_IRI
from chopmark.jsonld.rdfc import DEFAULT_BUDGET

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
        if isinstance(cause, JsonLdError) and cause.code == "protected term redefinition":
            # JSON-LD 1.1 API §4.2.2 Create Term Definition step 27.2: a protected term is redefined
            raise ParsingError(f"invalid JSON-LD: {cause.args[0] if cause.args else ''} (protected term "
                               "redefinition)", code="PROTECTED_TERM_REDEFINITION") from error
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
