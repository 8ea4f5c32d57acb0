"""JSON-LD for Chopmark: pinned contexts, safe-mode expansion, RDFC-1.0 canonical N-Quads, safe-mode checks.

Owns: :mod:`.loader` (the :class:`DocumentLoader` of the pinned contexts in ``contexts/``), :mod:`.processing`
(:func:`expand`, :func:`canonize`), :mod:`.pyld_adapter` (pyld, memoised per loader), :mod:`.rdfc` (RDFC-1.0
with a work budget), :mod:`.validation` (safe-mode and plain-JSON checks of whole documents), :mod:`.contextcheck`
(protected terms, inline ``@base`` and the verifier's context allow-list).
May import: ``chopmark.codecs``, ``chopmark.keys``, ``chopmark.errors``.
"""

from chopmark.jsonld.loader import DocumentLoader, clear_caches, pinned_bytes
from chopmark.jsonld.processing import canonize, check_expands, expand
from chopmark.jsonld.rdfc import DEFAULT_BUDGET, canonize_nquads, issued_identifiers

__all__ = ["DEFAULT_BUDGET", "DocumentLoader", "canonize", "canonize_nquads", "check_expands", "clear_caches",
           "expand", "issued_identifiers", "pinned_bytes"]
