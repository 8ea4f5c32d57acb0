"""``eddsa-jcs-2022`` (vc-di-eddsa §3.4): Ed25519 over SHA-256 hashes of JCS canonical forms.

The created proof carries the document's ``@context`` (§3.4.1 Create Proof, step 3).
"""

from chopmark.integrity.suites._canon import jcs_canon
from chopmark.integrity.suites.base import Cryptosuite
from chopmark.keys import KeyType

SUITE: Cryptosuite = Cryptosuite(
    name="eddsa-jcs-2022",
    proof_type="DataIntegrityProof",
    key_types=frozenset({KeyType.ED25519}),
    canonicalize=jcs_canon,
    proof_has_context=True,
)
