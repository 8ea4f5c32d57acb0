"""``ecdsa-rdfc-2019`` (vc-di-ecdsa §3.2): ECDSA P-256/SHA-256 or P-384/SHA-384 over RDFC-1.0 forms."""

from chopmark.integrity.suites._canon import rdfc
from chopmark.integrity.suites.base import Cryptosuite
from chopmark.keys import KeyType

SUITE: Cryptosuite = Cryptosuite(
    name="ecdsa-rdfc-2019",
    proof_type="DataIntegrityProof",
    key_types=frozenset({KeyType.P256, KeyType.P384}),
    canonicalize=rdfc,
)
