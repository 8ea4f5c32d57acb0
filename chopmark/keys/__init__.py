"""Keys: key types, public keys, key pairs, signers and verifiers (Controlled Identifiers 1.0 §2.2.2 Multikey,
RFC 7517 JWK). Ed25519 (RFC 8032) and ECDSA P-256 / P-384 (FIPS 186-5); randomness is injected.

Owns: :mod:`.types` (key types and their multicodecs), :mod:`.encoding` (JWK and Multikey members),
:mod:`.public` (:class:`PublicKey`), :mod:`.pair` (:class:`KeyPair`, key files), :mod:`.signing`
(:class:`Signer`, :class:`Verifier`). May import: ``chopmark.codecs``, ``chopmark.errors``.
"""

from chopmark.keys.encoding import PRIVATE_JWK_MEMBERS
from chopmark.keys.pair import KeyPair, load_key_file
from chopmark.keys.public import PublicKey
from chopmark.keys.signing import Signer, Verifier
from chopmark.keys.types import PUBLIC_CODECS, PUBLIC_KEY_LENGTHS, SECRET_CODECS, KeyType

__all__ = ["PRIVATE_JWK_MEMBERS", "PUBLIC_CODECS", "PUBLIC_KEY_LENGTHS", "SECRET_CODECS", "KeyPair", "KeyType",
           "PublicKey", "Signer", "Verifier", "load_key_file"]
