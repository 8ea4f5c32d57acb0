"""Key types and their parameters: Ed25519 (RFC 8032), ECDSA P-256 / P-384 (FIPS 186-5), and the Multikey
multicodec headers of each (Controlled Identifiers 1.0 §2.2.2)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from chopmark.codecs import multibase


class KeyType(StrEnum):
    """The supported key types; the value is also the algorithm name used by signers and verifiers."""

    ED25519 = "Ed25519"
    P256 = "P-256"
    P384 = "P-384"


@dataclass(frozen=True)
class KeySpec:
    """The parameters of one key type: multicodecs, lengths and (EC) the group order."""

    public_codec: int
    secret_codec: int
    public_len: int  # compressed for EC (CID §2.2.2: "compressed public key")
    secret_len: int
    order: int  # group order n (0 for Ed25519, unused)


SPECS: dict[KeyType, KeySpec] = {
    KeyType.ED25519: KeySpec(multibase.ED25519_PUB, multibase.ED25519_PRIV, 32, 32, 0),
    # FIPS 186-5 / SEC 2: group orders of P-256 and P-384
    KeyType.P256: KeySpec(multibase.P256_PUB, multibase.P256_PRIV, 33, 32,
                        0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551),
    KeyType.P384: KeySpec(multibase.P384_PUB, multibase.P384_PRIV, 49, 48,
                        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973),
}
#: Public-key multicodec -> key type (CID §2.2.2 Multikey headers 0xed01, 0x8024, 0x8124).
PUBLIC_CODECS: dict[int, KeyType] = {spec.public_codec: kt for kt, spec in SPECS.items()}
#: Secret-key multicodec -> key type (0x8026, 0x8626, 0x8726).
SECRET_CODECS: dict[int, KeyType] = {spec.secret_codec: kt for kt, spec in SPECS.items()}
#: Expected raw public key length per public multicodec (did:key "Signature Method Creation Algorithm").
PUBLIC_KEY_LENGTHS: dict[int, int] = {spec.public_codec: spec.public_len for spec in SPECS.values()}

CURVES: dict[KeyType, ec.EllipticCurve] = {KeyType.P256: ec.SECP256R1(), KeyType.P384: ec.SECP384R1()}
HASHES: dict[KeyType, type[hashes.HashAlgorithm]] = {KeyType.P256: hashes.SHA256,
                                                      KeyType.P384: hashes.SHA384}
PublicKeyObject = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKeyObject = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
