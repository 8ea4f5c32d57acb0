"""The did:key method (W3C CCG "The did:key Method v0.7"), Multikey form, signature keys only.

Supported key types: Ed25519 (``z6Mk…``), P-256 (``zDna…``) and P-384 (``z82L…``). Other multicodec key types
(secp256k1, BLS12-381, X25519, P-521, RSA, …) decode but raise ``InvalidPublicKeyTypeError``: Chopmark cannot
verify signatures with them, and an X25519 key is a key-agreement key with no signature method.

The document uses ``publicKeyFormat`` = ``Multikey`` and no derived key-agreement key
(``enableEncryptionKeyDerivation`` = false), so it has the four signature relationships only.
"""

from __future__ import annotations

import re
from typing import Any

from chopmark.codecs import multibase
from chopmark.errors import (
    InvalidDidError,
    InvalidPublicKeyError,
    InvalidPublicKeyLengthError,
    InvalidPublicKeyTypeError,
    KeyFormatError,
    MalformedValueError,
)
from chopmark.keys import PUBLIC_CODECS, PUBLIC_KEY_LENGTHS, KeyPair, PublicKey, Signer

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
#: The four verification relationships of a did:key document (Document Creation Algorithm step 7).
SIGNATURE_RELATIONSHIPS = ("authentication", "assertionMethod", "capabilityInvocation",
                           "capabilityDelegation")

# "The did:key Format": mb-value := z[a-km-zA-HJ-NP-Z1-9]+
_MB_VALUE = re.compile(r"z[1-9A-HJ-NP-Za-km-z]+")
_VERSION = re.compile(r"[1-9][0-9]{0,8}")


def did_key_from_public_key(pk: PublicKey) -> str:
    """``did:key:`` + MULTIBASE(base58-btc, MULTICODEC(public-key-type, raw-public-key-bytes))."""
    return "did:key:" + pk.multibase()


def did_key_signer(pair: KeyPair) -> tuple[str, Signer]:
    """The did:key of ``pair`` and a signer whose id is its verification method (``did#<multibase>``)."""
    did = did_key_from_public_key(pair.public_key)
    return did, pair.signer(f"{did}#{pair.public_key.multibase()}")


def _split(did: str) -> str:
    # Document Creation Algorithm steps 2-3: split on ":" into scheme, method, [version,] multibaseValue;
    # scheme must be "did", method "key", version a positive integer, multibaseValue start with "z".
    if not isinstance(did, str):
        raise InvalidDidError("a DID must be a string")
    parts = did.split(":")
    if len(parts) == 3:
        parts.insert(2, "1")
    if len(parts) != 4 or parts[0] != "did" or parts[1] != "key":
        raise InvalidDidError(f"not a did:key DID: {did!r}")
    if not _VERSION.fullmatch(parts[2]):
        raise InvalidDidError(f"did:key version must be a positive integer: {parts[2]!r}")
    if not _MB_VALUE.fullmatch(parts[3]):
        raise InvalidDidError("the did:key multibase value must be base58-btc and start with 'z'")
    return parts[3]


def decode_did_key(did: str) -> PublicKey:
    """Decode the public key of a did:key DID, raising the typed errors of the did:key specification."""
    mb_value = _split(did)
    # Decode Public Key Algorithm step 2: base58-btc decode and read the varint multicodec header
    try:
        data = multibase.decode(mb_value)
        codec, used = multibase.varint_decode(data)
    except MalformedValueError as exc:
        raise InvalidDidError(f"the did:key multibase value does not decode: {exc.detail}") from None
    raw = data[used:]
    key_type = PUBLIC_CODECS.get(codec)
    if key_type is None:
        name = multibase.CODEC_NAMES.get(codec, hex(codec))
        raise InvalidPublicKeyTypeError(f"unsupported did:key public key type {name}")
    # Signature Method Creation Algorithm step 3: the length must match the multicodec
    if len(raw) != PUBLIC_KEY_LENGTHS[codec]:
        raise InvalidPublicKeyLengthError(
            f"a {key_type.value} did:key holds {PUBLIC_KEY_LENGTHS[codec]} key bytes, not {len(raw)}")
    # Step 4: the bytes must be a proper encoding of the key (a point on the curve)
    try:
        return PublicKey.from_raw(key_type, raw)
    except KeyFormatError as exc:
        raise InvalidPublicKeyError(exc.detail) from None


def verification_method_for(did: str, pk: PublicKey) -> dict[str, Any]:
    """The Multikey verification method of a did:key (Signature Method Creation Algorithm steps 5-12)."""
    fragment = pk.multibase()
    return {"id": f"{did}#{fragment}", "type": "Multikey", "controller": did, "publicKeyMultibase": fragment}


def resolve_did_key(did: str) -> dict[str, Any]:
    """Expand a did:key DID (not a DID URL) into its DID document (Document Creation Algorithm)."""
    pk = decode_did_key(did)
    method = verification_method_for(did, pk)
    document: dict[str, Any] = {"@context": [DID_CONTEXT, MULTIKEY_CONTEXT], "id": did,
                                "verificationMethod": [method]}
    for relationship in SIGNATURE_RELATIONSHIPS:
        document[relationship] = [method["id"]]
    return document
