"""``ecdsa-jcs-2019`` (vc-di-ecdsa §3.3): ECDSA P-256/SHA-256 or P-384/SHA-384 over JCS forms.

Like ``eddsa-jcs-2022`` the created proof carries the document's ``@context``.
"""

from chopmark.integrity.suites._canon import jcs_canon
from chopmark.integrity.suites.base import Cryptosuite
from chopmark.keys import KeyType

SUITE: Cryptosuite = Cryptosuite(
    name="ecdsa-jcs-2019",
    proof_type="DataIntegrityProof",
    key_types=frozenset({KeyType.P256, KeyType.P384}),
    canonicalize=jcs_canon,
    proof_has_context=True,
)
