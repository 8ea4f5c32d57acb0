"""Codecs: bytes <-> text and nothing else. Multibase, base58 and varint multicodec headers (:mod:`.multibase`),
JSON Canonicalization Scheme RFC 8785 and strict I-JSON parsing (:mod:`.jcs`), XML Schema ``dateTimeStamp``
(:mod:`.dates`). The lowest layer: may import only ``chopmark.errors``.
"""
