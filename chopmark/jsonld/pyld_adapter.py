"""pyld, adapted for Chopmark: a per-loader memoising processor and the conversion of expanded input to RDF.

Kept apart from :mod:`chopmark.jsonld.loader` (the document loader) and :mod:`chopmark.jsonld.processing`.
Nothing here touches pyld's globals: every processor is owned by one :class:`~chopmark.jsonld.DocumentLoader`.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from frozendict import frozendict
from pyld.identifier_issuer import IdentifierIssuer
from pyld.jsonld import JsonLdProcessor

from chopmark.errors import UndefinedTermError
from chopmark.jsonld import rdfc

ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S*")
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDF_LANGSTRING = rdfc.RDF_LANGSTRING
_IRI_MEMO_SIZE = 8192


class Lru:
    """A small bounded LRU mapping (``get`` / item assignment), used for per-loader caches."""

    def __init__(self, maxsize: int) -> None:
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._maxsize = maxsize

    def get(self, key: Hashable, default: Any = None) -> Any:
        """Return the value for ``key`` (marking it recently used), or ``default``."""
        try:
            self._data.move_to_end(key)
        except KeyError:
            return default
        return self._data[key]

    def __setitem__(self, key: Hashable, value: Any) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self._maxsize:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        """Forget every entry."""
        self._data.clear()


# --- pyld processor ---------------------------------------------------------------------------------------

def _raise_dropped(expanded_property: Any) -> None:
    """pyld ``on_property_dropped`` handler of safe mode (Data Integrity 1.0 §4.2): refuse, never drop."""
    if expanded_property is None:
        raise UndefinedTermError("a property is mapped to null or looks like an unknown keyword")
    raise UndefinedTermError(f"term {expanded_property!r} is not defined by the active context",
                             term=str(expanded_property))


def _ignore_dropped(expanded_property: Any) -> None:
    """pyld ``on_property_dropped`` handler outside safe mode: drop silently (JSON-LD 1.1 API §4.1)."""


class Processor(JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor with a per-loader memo of processed contexts, and RDF conversion of expanded input."""

    def __init__(self, memo: Lru, iris: dict[tuple[Any, ...], Any], *, safe: bool) -> None:
        super().__init__(on_property_dropped=_raise_dropped if safe else _ignore_dropped)
        self._memo = memo
        self._iris = iris

    def _expand_iri(self, active_ctx: Any, value: Any, base: Any = None, vocab: bool = False,
                    local_ctx: Any = None, defined: Any = None) -> Any:
        """JSON-LD 1.1 API §4.4 IRI Expansion, memoized for processed (frozen, immutable) active contexts.

        Outside context processing (no ``local_ctx``/``defined``) the result depends only on the active
        context, identified by its unique ``_uuid``, and on the arguments.
        """
        if (local_ctx is not None or defined is not None or type(active_ctx) is not frozendict
                or type(value) is not str or (base is not None and type(base) is not str)):
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        key = (active_ctx.get("_uuid"), value, base, vocab)
        try:
            return self._iris[key]
        except KeyError:
            pass
        result = super()._expand_iri(active_ctx, value, base, vocab)
        if key[0] is not None:
            if len(self._iris) >= _IRI_MEMO_SIZE:
                self._iris.clear()
            self._iris[key] = result
        return result

    def _process_context(self, active_ctx: Any, local_ctx: Any, options: Any,
                         override_protected: bool = False, propagate: bool = True,
                         validate_scoped: bool = True, cycles: Any = None) -> Any:
        """JSON-LD 1.1 API §4.1 Context Processing, memoized for scoped contexts.

        pyld caches processed remote contexts, but not type-scoped ones (``propagate`` false, as in every
        ``@type``-scoped context of the VC contexts): it clones the active context, gives it a fresh id and
        processes the scoped context again on each use. Processed contexts are immutable and identified by
        ``_uuid``; a scoped context (from a term definition) by identity, keeping a reference to it so that
        the identity stays valid. Other contexts (the document's own) are left to pyld's caches.
        """
        uuid = active_ctx.get("_uuid")
        scoped = not propagate or override_protected or isinstance(local_ctx, str)
        if cycles is not None or not validate_scoped or uuid is None or not scoped:
            return super()._process_context(active_ctx, local_ctx, options, override_protected, propagate,
                                             validate_scoped, cycles)
        ctx_key = local_ctx if isinstance(local_ctx, str) else id(local_ctx)
        key = (uuid, ctx_key, override_protected, propagate)
        hit = self._memo.get(key)
        if hit is not None and hit[0] is local_ctx:
            return hit[1]
        result = super()._process_context(active_ctx, local_ctx, options, override_protected, propagate,
                                          validate_scoped, cycles)
        self._memo[key] = (local_ctx, result)
        return result

    def to_dataset(self, expanded: list[Any], options: dict[str, Any]) -> Any:
        """JSON-LD 1.1 API §6.1 Deserialize JSON-LD to RDF from expanded input (pyld's ``to_rdf`` after its
        expansion): Node Map Generation (§7.2), then one RDF graph per absolute or blank graph name."""
        issuer = IdentifierIssuer("_:b")
        node_map: dict[str, Any] = {"@default": {}}
        self._create_node_map(expanded, node_map, "@default", issuer)
        # pyld's List to RDF (§8.5) keeps a triple whose object is a relative IRI (None); step 5.3 drops it
        return {name: [t for t in self._graph_to_rdf(graph, issuer, options) if t["object"] is not None]
                for name, graph in node_map.items() if name == "@default" or _is_node_id(name)}

    def _graph_to_rdf(self, graph: dict[str, Any], issuer: Any, options: Any) -> list[dict[str, Any]]:
        """§8.1 Deserialize JSON-LD to RDF step 1: the triples of one graph of the node map. pyld's version
        sorts nodes and properties, which canonicalization makes useless; relative IRIs and blank node
        predicates (no generalized RDF) are skipped as §8.1 steps 1.3.1 and 1.3.2.3 say."""
        triples: list[dict[str, Any]] = []
        for node_id, node in graph.items():
            if not _is_node_id(node_id):
                continue
            subject = {"type": "blank node" if node_id.startswith("_:") else "IRI", "value": node_id}
            for prop, items in node.items():
                if prop == "@type":
                    prop = _RDF_TYPE
                elif prop.startswith("@") or prop.startswith("_:") or not ABSOLUTE_IRI.fullmatch(prop):
                    continue
                predicate = {"type": "IRI", "value": prop}
                for item in items:
                    obj = self._object_to_rdf(item, issuer, triples, options)
                    if obj is not None:
                        triples.append({"subject": subject, "predicate": predicate, "object": obj})
        return triples

    def _object_to_rdf(self, item: Any, issuer: Any, triples: list[dict[str, Any]], options: Any) -> Any:
        """§8.6 Object to RDF Conversion; node references and string literals here, the rest in pyld.

        Strings keep their lexical form whatever the datatype (§8.6 step 10 converts only *numbers* to the
        canonical xsd:double form; pyld also rewrites a string typed xsd:double, jsonld.js does not).
        """
        if isinstance(item, str):  # the @type values of a node: IRIs or blank node identifiers
            item = {"@id": item}
        if "@id" in item and "@value" not in item:
            node_id = item["@id"]
            if node_id.startswith("_:"):
                return {"type": "blank node", "value": node_id}
            return {"type": "IRI", "value": node_id} if ABSOLUTE_IRI.fullmatch(node_id) else None
        value = item.get("@value")
        if not isinstance(value, str) or "@direction" in item or item.get("@type") == "@json":
            return super()._object_to_rdf(item, issuer, triples, options)
        if "@language" in item:
            language = item["@language"]
            return {"type": "literal", "value": value, "datatype": _RDF_LANGSTRING, "language": language}
        return {"type": "literal", "value": value, "datatype": item.get("@type") or rdfc.XSD_STRING}


def _is_node_id(value: str) -> bool:
    """True for a blank node identifier or an absolute IRI (what RDF can name)."""
    return value.startswith("_:") or ABSOLUTE_IRI.fullmatch(value) is not None
