"""Keys (CID 1.0 §2.2.2 Multikey, RFC 7517 JWK): vector key pairs, round trips, refusals, signing."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from chopmark.codecs import multibase
from chopmark.errors import KeyFormatError, UsageError
from chopmark.keys import (
    KeyPair,
    KeyType,
    PublicKey,
    Signer,
    Verifier,
    load_key_file,
)
from tests.conftest import private_jwk

KEY_FILES = {
    KeyType.ED25519: "vc-di-eddsa/TestVectors/keyPair.json",
    KeyType.P256: "vc-di-ecdsa/TestVectors/p256KeyPair.json",
    KeyType.P384: "vc-di-ecdsa/TestVectors/p384KeyPair.json",
}
ORDERS = {
    KeyType.P256: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    KeyType.P384: int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
                      "C7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16),
}
SIZES = {KeyType.ED25519: 32, KeyType.P256: 32, KeyType.P384: 48}
ALL_TYPES = list(KeyType)


def load(vectors: Path, rel: str) -> Any:
    return json.loads((vectors / rel).read_text(encoding="utf-8"))


def make_rng(seed: int) -> Callable[[int], bytes]:
    gen = random.Random(seed)
    return gen.randbytes


def sample_pair(key_type: KeyType) -> KeyPair:
    return KeyPair.generate(key_type, make_rng(7))


def off_curve_compressed(key_type: KeyType) -> bytes:
    """A compressed encoding whose x has no y on the curve."""
    curve = ec.SECP256R1() if key_type is KeyType.P256 else ec.SECP384R1()
    for x in range(1, 100):
        candidate = b"\x02" + x.to_bytes(SIZES[key_type], "big")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(curve, candidate)
        except ValueError:
            return candidate
    raise AssertionError("no off-curve x found")


def off_curve_ed25519() -> bytes:
    """A 32-byte string that decodes to no edwards25519 point (RFC 8032 §5.1.3 step 3 fails)."""
    p = 2**255 - 19
    d = -121665 * pow(121666, -1, p) % p
    for y in range(2, 100):
        x2 = (y * y - 1) * pow(d * y * y + 1, -1, p) % p
        if pow(x2, (p - 1) // 2, p) == p - 1:
            return y.to_bytes(32, "little")
    raise AssertionError("no off-curve y found")


def multikey(codec: int, raw: bytes) -> str:
    return multibase.encode(multibase.varint_encode(codec) + raw)


# --- the W3C vector key pairs -----------------------------------------------------------------------------

@pytest.mark.vectors
@pytest.mark.parametrize("key_type", ALL_TYPES)
def test_vector_key_pairs_decode_and_match(vectors: Path, key_type: KeyType) -> None:
    doc = load(vectors, KEY_FILES[key_type])
    pair = KeyPair.from_multikey(doc)
    assert pair.key_type is key_type
    assert pair.public_key.multibase() == doc["publicKeyMultibase"]
    secret = doc.get("secretKeyMultibase") or doc["privateKeyMultibase"]
    assert pair.secret_multibase() == secret
    assert PublicKey.from_multibase(doc["publicKeyMultibase"]) == pair.public_key
    assert len(pair.public_key.raw) == {KeyType.ED25519: 32, KeyType.P256: 33, KeyType.P384: 49}[key_type]


@pytest.mark.vectors
@pytest.mark.parametrize("key_type", ALL_TYPES)
def test_load_key_file_with_id_and_controller(vectors: Path, key_type: KeyType) -> None:
    doc = dict(load(vectors, KEY_FILES[key_type]))
    pair, ident, controller = load_key_file(doc)
    assert (ident, controller) == (None, None)
    doc.update(id="did:example:issuer#key-1", controller="did:example:issuer")
    pair2, ident, controller = load_key_file(doc)
    assert pair2.public_key == pair.public_key
    assert (ident, controller) == ("did:example:issuer#key-1", "did:example:issuer")
    # a private JWK file is accepted too
    pair3, _, _ = load_key_file({"privateKeyJwk": private_jwk(pair)})
    assert pair3.public_key == pair.public_key


def test_load_key_file_refusals() -> None:
    with pytest.raises(KeyFormatError):
        load_key_file({"publicKeyMultibase": "z6Mk"})
    with pytest.raises(KeyFormatError):
        load_key_file([])  # type: ignore[arg-type]
    pair = sample_pair(KeyType.ED25519)
    doc = pair.to_multikey(include_secret=True)
    with pytest.raises(KeyFormatError):
        load_key_file({**doc, "id": 5})


@pytest.mark.vectors
def test_eddsa_signature_matches_the_vector(vectors: Path) -> None:
    # vc-di-eddsa test vectors: Ed25519 is deterministic, so the signature must be byte-identical
    pair = KeyPair.from_multikey(load(vectors, KEY_FILES[KeyType.ED25519]))
    base = vectors / "vc-di-eddsa/TestVectors/eddsa-rdfc-2022"
    data = bytes.fromhex((base / "combinedHashDataInt.txt").read_text().strip())
    signature = bytes.fromhex((base / "sigHexDataInt.txt").read_text().strip())
    assert pair.sign(data) == signature
    assert pair.public_key.verify(signature, data)


@pytest.mark.vectors
@pytest.mark.parametrize(("key_type", "suffix"), [(KeyType.P256, "P256"), (KeyType.P384, "P384")])
def test_ecdsa_vector_signature_verifies(vectors: Path, key_type: KeyType, suffix: str) -> None:
    # vc-di-ecdsa: randomized signatures, so verify rather than compare
    pair = KeyPair.from_multikey(load(vectors, KEY_FILES[key_type]))
    base = vectors / f"vc-di-ecdsa/TestVectors/ecdsa-rdfc-2019-{suffix.lower()}"
    data = bytes.fromhex((base / f"combinedHashECDSA{suffix}.txt").read_text().strip())
    signature = bytes.fromhex((base / f"sigHexECDSA{suffix}.txt").read_text().strip())
    assert len(signature) == 2 * SIZES[key_type]
    assert pair.public_key.verify(signature, data)
    assert not pair.public_key.verify(signature, data + b"x")
    assert pair.public_key.verify(pair.sign(data), data)


# --- round trips --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key_type", ALL_TYPES)
def test_multibase_raw_jwk_round_trips(key_type: KeyType) -> None:
    pk = sample_pair(key_type).public_key
    assert PublicKey.from_multibase(pk.multibase()) == pk
    assert PublicKey.from_raw(key_type, pk.raw) == pk
    jwk = pk.to_jwk()
    assert PublicKey.from_jwk(jwk) == pk
    assert "d" not in jwk
    assert list(jwk) == (["kty", "crv", "x"] if key_type is KeyType.ED25519 else ["kty", "crv", "x", "y"])
    assert pk.algorithm == key_type.value


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.P384])
def test_uncompressed_points_are_stored_compressed(key_type: KeyType) -> None:
    pk = sample_pair(key_type).public_key
    size = SIZES[key_type]
    x = multibase.base64url_decode(pk.to_jwk()["x"])
    y = multibase.base64url_decode(pk.to_jwk()["y"])
    uncompressed = PublicKey.from_raw(key_type, b"\x04" + x + y)
    assert uncompressed == pk
    assert len(uncompressed.raw) == size + 1
    assert uncompressed.raw[0] in (2, 3)


@pytest.mark.parametrize("key_type", ALL_TYPES)
def test_private_jwk_and_multikey_round_trips(key_type: KeyType) -> None:
    pair = sample_pair(key_type)
    again = KeyPair.from_jwk(private_jwk(pair))
    assert again.public_key == pair.public_key
    assert again.secret_bytes() == pair.secret_bytes()
    assert KeyPair.from_multikey(pair.to_multikey(include_secret=True)).secret_bytes() == pair.secret_bytes()


def test_to_multikey_member_order() -> None:
    pair = sample_pair(KeyType.ED25519)
    full = pair.to_multikey(include_secret=True, id="did:ex:a#k", controller="did:ex:a")
    assert list(full) == ["id", "type", "controller", "publicKeyMultibase", "secretKeyMultibase"]
    assert list(pair.to_multikey(include_secret=False)) == ["type", "publicKeyMultibase"]


def test_key_type_values() -> None:
    assert [k.value for k in KeyType] == ["Ed25519", "P-256", "P-384"]
    assert KeyType("P-256") is KeyType.P256


# --- refusals -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("codec", "raw"), [
    (multibase.ED25519_PUB, b"\x01" * 31),
    (multibase.ED25519_PUB, b"\x01" * 33),
    (multibase.P256_PUB, b"\x02" + b"\x01" * 31),
    (multibase.P384_PUB, b"\x02" + b"\x01" * 47),
    (multibase.SECP256K1_PUB, b"\x02" + b"\x01" * 32),    # unsupported key type
    (multibase.X25519_PUB, b"\x09" * 32),
    (0x1234, b"\x01" * 32),                                # unknown multicodec
    (multibase.ED25519_PRIV, b"\x01" * 32),                # a secret key is not a public key
])
def test_from_multibase_refuses_bad_headers_and_lengths(codec: int, raw: bytes) -> None:
    with pytest.raises(KeyFormatError):
        PublicKey.from_multibase(multikey(codec, raw))


def test_from_multibase_refuses_uncompressed_ec_points() -> None:
    # CID §2.2.2: Multikey EC public keys are compressed
    pk = sample_pair(KeyType.P256).public_key
    jwk = pk.to_jwk()
    point = b"\x04" + multibase.base64url_decode(jwk["x"]) + multibase.base64url_decode(jwk["y"])
    with pytest.raises(KeyFormatError):
        PublicKey.from_multibase(multikey(multibase.P256_PUB, point))


@pytest.mark.parametrize("text", [
    "", "6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "uAe0B", "z", "z0OIl", "z1",
    multibase.encode(b"\xed", "base58btc"),
])
def test_from_multibase_refuses_malformed_values(text: str) -> None:
    with pytest.raises(KeyFormatError):
        PublicKey.from_multibase(text)


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.P384])
def test_off_curve_points_are_refused(key_type: KeyType) -> None:
    bad = off_curve_compressed(key_type)
    codec = multibase.P256_PUB if key_type is KeyType.P256 else multibase.P384_PUB
    with pytest.raises(KeyFormatError):
        PublicKey.from_raw(key_type, bad)
    with pytest.raises(KeyFormatError):
        PublicKey.from_multibase(multikey(codec, bad))


def test_off_curve_ed25519_is_refused() -> None:
    bad = off_curve_ed25519()
    with pytest.raises(KeyFormatError):
        PublicKey.from_raw(KeyType.ED25519, bad)
    with pytest.raises(KeyFormatError):
        PublicKey.from_raw(KeyType.ED25519, b"\xff" * 31 + b"\x7f")  # y >= p
    with pytest.raises(KeyFormatError):
        PublicKey.from_raw(KeyType.ED25519, (1).to_bytes(32, "little")[:31] + b"\x80")  # x = 0, sign bit set


@pytest.mark.parametrize("raw", [b"", b"\x04", b"\x05" + b"\x01" * 32, b"\x06" + b"\x01" * 64, b"\x00"])
def test_malformed_raw_ec_points(raw: bytes) -> None:
    with pytest.raises(KeyFormatError):
        PublicKey.from_raw(KeyType.P256, raw)


def test_public_key_constructor_validates() -> None:
    with pytest.raises(KeyFormatError):
        PublicKey(KeyType.ED25519, b"\x00" * 5)
    with pytest.raises(KeyFormatError):
        PublicKey("Ed25519", b"\x00" * 32)  # type: ignore[arg-type]


@pytest.mark.parametrize("mutate", [
    lambda j: j.update(d="AAAA"),
    lambda j: j.update(kty="RSA"),
    lambda j: j.update(crv="P-521"),
    lambda j: j.update(crv="secp256k1"),
    lambda j: j.pop("y"),
    lambda j: j.update(x=j["x"] + "="),
    lambda j: j.update(x=j["x"].replace("-", "+").replace("_", "/") + "+/"),
    lambda j: j.update(x=j["x"][:-2]),
    lambda j: j.update(x=5),
    lambda j: j.update(alg="ES384"),
    lambda j: j.update(y=j["x"]),  # (x, x) is not on the curve
])
def test_from_jwk_refusals(mutate: Callable[[dict[str, Any]], Any]) -> None:
    jwk: dict[str, Any] = sample_pair(KeyType.P256).public_key.to_jwk()
    mutate(jwk)
    with pytest.raises(KeyFormatError):
        PublicKey.from_jwk(jwk)


def test_from_jwk_private_allowed_only_on_request() -> None:
    pair = sample_pair(KeyType.ED25519)
    private = private_jwk(pair)
    with pytest.raises(KeyFormatError):
        PublicKey.from_jwk(private)
    assert PublicKey.from_jwk(private, allow_private=True) == pair.public_key
    assert PublicKey.from_jwk({**pair.public_key.to_jwk(), "alg": "EdDSA", "kid": "k1"}) == pair.public_key
    with pytest.raises(KeyFormatError):
        PublicKey.from_jwk("not a jwk")  # type: ignore[arg-type]


def test_private_jwk_must_match_its_public_members() -> None:
    a, b = sample_pair(KeyType.P256), KeyPair.generate(KeyType.P256, make_rng(8))
    mixed = {**b.public_key.to_jwk(), "d": private_jwk(a)["d"]}
    with pytest.raises(KeyFormatError):
        KeyPair.from_jwk(mixed)
    with pytest.raises(KeyFormatError):
        KeyPair.from_jwk(a.public_key.to_jwk())  # no d


def test_from_multikey_refusals() -> None:
    a, b = sample_pair(KeyType.ED25519), KeyPair.generate(KeyType.ED25519, make_rng(8))
    mismatched = {"publicKeyMultibase": b.public_key.multibase(), "secretKeyMultibase": a.secret_multibase()}
    with pytest.raises(KeyFormatError):
        KeyPair.from_multikey(mismatched)
    both = {"secretKeyMultibase": a.secret_multibase(), "privateKeyMultibase": b.secret_multibase()}
    with pytest.raises(KeyFormatError):
        KeyPair.from_multikey(both)
    with pytest.raises(KeyFormatError):
        KeyPair.from_multikey({"publicKeyMultibase": a.public_key.multibase()})
    with pytest.raises(KeyFormatError):
        KeyPair.from_multikey({**a.to_multikey(include_secret=True), "type": "JsonWebKey"})
    with pytest.raises(KeyFormatError):  # a public key where the secret belongs
        KeyPair.from_multikey({"secretKeyMultibase": a.public_key.multibase()})
    with pytest.raises(KeyFormatError):  # P-384 header with a P-256-sized secret
        KeyPair.from_multikey({"secretKeyMultibase": multikey(multibase.P384_PRIV, b"\x01" * 32)})
    # the same secret under both names is fine
    same = {"secretKeyMultibase": a.secret_multibase(), "privateKeyMultibase": a.secret_multibase()}
    assert KeyPair.from_multikey(same).public_key == a.public_key


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.P384])
def test_ec_secret_scalar_range(key_type: KeyType) -> None:
    n, size = ORDERS[key_type], SIZES[key_type]
    for bad in (0, n, n + 1, 2 ** (8 * size) - 1):
        with pytest.raises(KeyFormatError):
            KeyPair.from_seed(key_type, bad.to_bytes(size, "big"))
    assert KeyPair.from_seed(key_type, (n - 1).to_bytes(size, "big")).key_type is key_type
    assert KeyPair.from_seed(key_type, (1).to_bytes(size, "big")).key_type is key_type
    with pytest.raises(KeyFormatError):
        KeyPair.from_seed(key_type, b"\x01" * (size - 1))


# --- generation ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key_type", ALL_TYPES)
def test_seeded_generation_is_deterministic(key_type: KeyType) -> None:
    a = KeyPair.generate(key_type, make_rng(20261124))
    b = KeyPair.generate(key_type, make_rng(20261124))
    c = KeyPair.generate(key_type, make_rng(1))
    assert a.public_key == b.public_key
    assert a.secret_bytes() == b.secret_bytes()
    assert a.public_key != c.public_key


def test_generation_uses_the_conftest_rng(seeded_rng: Callable[[int], bytes]) -> None:
    assert KeyPair.generate(KeyType.ED25519, seeded_rng).public_key.multibase().startswith("z6Mk")


def test_ed25519_generation_uses_the_rng_bytes_as_seed() -> None:
    pair = KeyPair.generate(KeyType.ED25519, lambda n: b"\x07" * n)
    assert pair.secret_bytes() == b"\x07" * 32


def test_ec_generation_rejection_samples() -> None:
    outputs = [b"\xff" * 32, b"\x00" * 32, (5).to_bytes(32, "big")]
    pair = KeyPair.generate(KeyType.P256, lambda n: outputs.pop(0))
    assert pair.secret_bytes() == (5).to_bytes(32, "big")
    with pytest.raises(UsageError):
        KeyPair.generate(KeyType.P256, lambda n: b"\xff" * n)
    with pytest.raises(UsageError):
        KeyPair.generate(KeyType.P384, lambda n: b"\x01" * (n - 1))


# --- signing and verifying --------------------------------------------------------------------------------

@pytest.mark.parametrize("key_type", ALL_TYPES)
def test_sign_verify_round_trip(key_type: KeyType) -> None:
    pair, other = sample_pair(key_type), KeyPair.generate(key_type, make_rng(99))
    data = b"chopmark \x00 data"
    signature = pair.sign(data)
    assert len(signature) == 2 * SIZES[key_type]
    assert pair.sign(data) == signature  # Ed25519 and RFC 6979 ECDSA are deterministic
    assert pair.public_key.verify(signature, data)
    assert not pair.public_key.verify(signature, data + b"!")
    assert not other.public_key.verify(signature, data)
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    assert not pair.public_key.verify(tampered, data)
    assert not pair.public_key.verify(b"", data)
    assert not pair.public_key.verify("sig", data)  # type: ignore[arg-type]


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.P384])
def test_wrong_length_and_der_ecdsa_signatures_are_rejected(key_type: KeyType) -> None:
    pair = sample_pair(key_type)
    data = b"payload"
    signature = pair.sign(data)
    size = SIZES[key_type]
    r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    der = encode_dss_signature(r, s)
    assert not pair.public_key.verify(der, data)                  # DER is not P1363
    assert not pair.public_key.verify(signature[:-1], data)
    assert not pair.public_key.verify(signature + b"\x00", data)
    assert not pair.public_key.verify(b"\x00" + signature, data)
    # r = 0, s = 0 and r = n are out of range
    n = ORDERS[key_type].to_bytes(size, "big")
    for bad in (b"\0" * size + signature[size:], signature[:size] + b"\0" * size, n + signature[size:]):
        assert not pair.public_key.verify(bad, data)
    # high-s is valid plain ECDSA
    high_s = signature[:size] + (ORDERS[key_type] - s).to_bytes(size, "big")
    assert pair.public_key.verify(high_s, data)


def test_ecdsa_hashes_follow_the_curve() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    for key_type, digest in ((KeyType.P256, hashes.SHA256()), (KeyType.P384, hashes.SHA384())):
        secret = sample_pair(key_type).secret_bytes()
        curve = ec.SECP256R1() if key_type is KeyType.P256 else ec.SECP384R1()
        private = ec.derive_private_key(int.from_bytes(secret, "big"), curve)
        r, s = decode_dss_signature(private.sign(b"m", ec.ECDSA(digest)))
        size = SIZES[key_type]
        raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        assert KeyPair.from_seed(key_type, secret).public_key.verify(raw, b"m")


def test_signer_and_verifier() -> None:
    pair = sample_pair(KeyType.P256)
    signer = pair.signer("did:example:a#k1")
    assert isinstance(signer, Signer)
    assert (signer.id, signer.algorithm) == ("did:example:a#k1", "P-256")
    signature = signer.sign(b"data")
    verifier = pair.public_key.verifier("did:example:a#k1")
    assert isinstance(verifier, Verifier)
    assert verifier.verify(b"data", signature)
    assert not verifier.verify(signature, b"data")
    assert verifier.algorithm == "P-256"
    assert "secret" not in repr(pair) and pair.secret_multibase() not in repr(signer)


def test_public_keys_pickle_and_copy_by_value() -> None:
    import copy
    import pickle

    pk = sample_pair(KeyType.P384).public_key
    again = pickle.loads(pickle.dumps(pk))
    assert again == pk and copy.deepcopy(pk) == pk
    assert again.verify(sample_pair(KeyType.P384).sign(b"m"), b"m")
