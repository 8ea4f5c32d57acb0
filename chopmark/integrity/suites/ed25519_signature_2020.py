"""Legacy ``Ed25519Signature2020`` (W3C CCG): verified by default, issued only behind an explicit option.

The document must use the ``https://w3id.org/security/suites/ed25519-2020/v1`` context, which defines the proof
type; hashing and signing follow the same ``hash(config) || hash(document)`` layout over RDFC-1.0 forms.
"""

from chopmark.integrity.suites._canon import rdfc
from chopmark.integrity.suites.base import Cryptosuite
from chopmark.keys import KeyType

ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"

SUITE: Cryptosuite = Cryptosuite(
    name="Ed25519Signature2020",
    proof_type="Ed25519Signature2020",
    key_types=frozenset({KeyType.ED25519}),
    canonicalize=rdfc,
    required_context=ED25519_2020_CONTEXT,
    legacy=True,
)
