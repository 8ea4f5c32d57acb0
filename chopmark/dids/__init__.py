"""DID methods (did:key, did:jwk, did:web) and the composite :class:`Resolver`. Resolution is offline; did:web
documents come from a document map or an injected fetcher. May import: ``chopmark.keys``, ``chopmark.codecs``,
``chopmark.errors`` (and ``chopmark.jsonld``)."""

from chopmark.dids.jwk import did_jwk_from_jwk, resolve_did_jwk
from chopmark.dids.key import decode_did_key, did_key_from_public_key, did_key_signer, resolve_did_key
from chopmark.dids.resolver import RELATIONSHIPS, DidResolver, Resolver, public_key_for_method
from chopmark.dids.web import DidWebResolver, did_web_to_url, loads_strict_json, url_to_did_web

__all__ = [
    "RELATIONSHIPS",
    "DidResolver",
    "DidWebResolver",
    "Resolver",
    "decode_did_key",
    "did_jwk_from_jwk",
    "did_key_from_public_key",
    "did_key_signer",
    "did_web_to_url",
    "loads_strict_json",
    "public_key_for_method",
    "resolve_did_jwk",
    "resolve_did_key",
    "url_to_did_web",
]
