"""``eddsa-rdfc-2022`` (vc-di-eddsa §3.3): Ed25519 over SHA-256 hashes of RDFC-1.0 canonical forms."""

from chopmark.keys import KeyType
from chopmark.suites._canon import rdfc
from chopmark.suites.base import Cryptosuite

SUITE: Cryptosuite = Cryptosuite(
    name="eddsa-rdfc-2022",
    proof_type="DataIntegrityProof",
    key_types=frozenset({KeyType.ED25519}),
    canonicalize=rdfc,
)
