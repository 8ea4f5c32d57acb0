"""Data Integrity 1.0: the generic algorithms (add a proof, verify proofs, proof sets and chains) in
:mod:`.proofs`, the cryptosuites as small values in :mod:`.suites` (one module each, one registry), and the
outcome of a named check in :mod:`.checks`. May import: ``chopmark.dids``, ``chopmark.jsonld``,
``chopmark.keys``, ``chopmark.codecs``, ``chopmark.errors``.
"""
