"""``eddsa-rdfc-2022`` (vc-di-eddsa §3.3): Ed25519 over SHA-256 hashes of RDFC-1.0 canonical forms."""

from chopmark.integrity.suites._canon import rdfc
from chopmark.integrity.suites.base import Cryptosuite
from chopmark.keys import KeyType

SUITE: Cryptosuite = Cryptosuite(
    name="eddsa-rdfc-2022",
    proof_type="DataIntegrityProof",
    key_types=frozenset({KeyType.ED25519}),
    canonicalize=rdfc,
)
