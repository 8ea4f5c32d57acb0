"""Registry role: publishes DID documents, status (revocation) lists, the trust registry and the evidence log.

It will own issuer instances and their keys, ``did:web`` documents, Bitstring Status List credentials, the
trust registry of which issuer may issue what, and the append-only Merkle evidence log with signed checkpoints.
"""
