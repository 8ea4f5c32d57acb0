"""DIF Well-Known DID Configuration (JWT Domain Linkage Credentials): creation, verification, and each way a
linkage can be forged, misdirected, expired or malformed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from chopmark.codecs import multibase
from chopmark.dids import Resolver, did_key_signer
from chopmark.errors import UsageError
from chopmark.integrity.checks import CheckResult
from chopmark.keys import KeyPair, KeyType, Signer
from chopmark.trust import domainlinkage
from chopmark.trust.domainlinkage import (
    create_configuration,
    create_linkage_jwt,
    normalize_origin,
    verify_configuration,
)
from tests.conftest import codes_of

ORIGIN = "https://shop.example.com"
ISSUED = datetime(2026, 11, 1, tzinfo=UTC)
EXPIRES = datetime(2027, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 1, tzinfo=UTC)
ED = KeyPair.from_seed(KeyType.ED25519, bytes([51]) * 32)
OTHER = KeyPair.from_seed(KeyType.ED25519, bytes([52]) * 32)
P256 = KeyPair.from_seed(KeyType.P256, bytes([53]) * 32)
P384 = KeyPair.from_seed(KeyType.P384, bytes([54]) * 48)
WEB_DID = "did:web:shop.example.com"


def _config(pair: KeyPair = ED, origin: str = ORIGIN) -> tuple[str, dict[str, Any]]:
    did, signer = did_key_signer(pair)
    return did, create_configuration(did, origin, signer, issued=ISSUED, expires=EXPIRES)


def _verify(document: Any, did: str, *, origin: str = ORIGIN, now: datetime = NOW,
            resolver: Resolver | None = None) -> CheckResult:
    return verify_configuration(document, did, origin, resolver or Resolver(), now)


def _segment(value: Any) -> str:
    return multibase.base64url_encode(json.dumps(value).encode())


def _parts(jwt: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = jwt.split(".")
    return json.loads(multibase.base64url_decode(head)), json.loads(multibase.base64url_decode(body))


def _forge(header: dict[str, Any], payload: dict[str, Any], signer: Signer | KeyPair) -> str:
    """A JWT with any header and payload, properly signed by ``signer``."""
    signing_input = f"{_segment(header)}.{_segment(payload)}"
    return f"{signing_input}.{multibase.base64url_encode(signer.sign(signing_input.encode()))}"


def _with(jwt: str) -> dict[str, Any]:
    return {"@context": domainlinkage.CONFIG_CONTEXT, "linked_dids": [jwt]}


# --- round trips ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("pair", "alg"), [(ED, "EdDSA"), (P256, "ES256"), (P384, "ES384")])
def test_create_then_verify_with_did_key(pair: KeyPair, alg: str) -> None:
    did, config = _config(pair)
    assert config["@context"] == "https://identity.foundation/.well-known/did-configuration/v1"
    header, _ = _parts(config["linked_dids"][0])
    assert header == {"alg": alg, "kid": f"{did}#{pair.public_key.multibase()}"}
    result = _verify(config, did)
    assert result.passed, result.to_dict()
    assert result.check == "domainLinkage" and result.details["origin"] == ORIGIN


def test_jwt_claims_follow_the_specification() -> None:
    did, config = _config()
    _, payload = _parts(config["linked_dids"][0])
    assert payload == {
        "exp": int(EXPIRES.timestamp()), "iss": did, "nbf": int(ISSUED.timestamp()), "sub": did,
        "vc": {"@context": ["https://www.w3.org/2018/credentials/v1",
                            "https://identity.foundation/.well-known/did-configuration/v1"],
               "issuer": did, "issuanceDate": "2026-11-01T00:00:00Z", "expirationDate": "2027-11-01T00:00:00Z",
               "type": ["VerifiableCredential", "DomainLinkageCredential"],
               "credentialSubject": {"id": did, "origin": ORIGIN}}}


def test_bytes_and_text_are_parsed() -> None:
    did, config = _config()
    assert _verify(json.dumps(config).encode(), did).passed
    assert _verify(json.dumps(config), did).passed


def _web_document(pair: KeyPair, *, relationship: str = "assertionMethod", jwk: bool = False) -> dict[str, Any]:
    method: dict[str, Any] = {"id": f"{WEB_DID}#key-1", "controller": WEB_DID}
    if jwk:
        method.update(type="JsonWebKey", publicKeyJwk=pair.public_key.to_jwk())
    else:
        method.update(type="Multikey", publicKeyMultibase=pair.public_key.multibase())
    return {"@context": ["https://www.w3.org/ns/did/v1"], "id": WEB_DID, "verificationMethod": [method],
            relationship: [f"{WEB_DID}#key-1"]}


def _web_resolver(document: dict[str, Any]) -> tuple[Resolver, list[str]]:
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        assert url == "https://shop.example.com/.well-known/did.json"
        return json.dumps(document).encode()
    return Resolver(web_fetch=fetch), fetched


@pytest.mark.parametrize(("pair", "jwk"), [(ED, False), (P256, True)])
def test_create_then_verify_with_did_web(pair: KeyPair, jwk: bool) -> None:
    resolver, fetched = _web_resolver(_web_document(pair, jwk=jwk))
    config = create_configuration(WEB_DID, ORIGIN, pair.signer(f"{WEB_DID}#key-1"), issued=ISSUED, expires=EXPIRES)
    result = _verify(config, WEB_DID, resolver=resolver)
    assert result.passed, result.to_dict()
    assert set(fetched) == {"https://shop.example.com/.well-known/did.json"}


def test_did_web_key_not_under_assertion_method_is_refused() -> None:
    resolver, _ = _web_resolver(_web_document(ED, relationship="authentication"))
    config = create_configuration(WEB_DID, ORIGIN, ED.signer(f"{WEB_DID}#key-1"), issued=ISSUED, expires=EXPIRES)
    assert codes_of(_verify(config, WEB_DID, resolver=resolver)) == ["INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD"]


def test_did_web_signed_by_a_key_it_does_not_list() -> None:
    resolver, _ = _web_resolver(_web_document(ED))
    config = create_configuration(WEB_DID, ORIGIN, OTHER.signer(f"{WEB_DID}#key-1"), issued=ISSUED,
                                  expires=EXPIRES)
    assert codes_of(_verify(config, WEB_DID, resolver=resolver)) == ["DOMAIN_LINKAGE_SIGNATURE"]


# --- forgeries and mismatches -----------------------------------------------------------------------------------

def test_tampered_payload_fails_the_signature() -> None:
    did, config = _config(origin="https://evil.example")
    head, _, signature = config["linked_dids"][0].split(".")
    _, payload = _parts(config["linked_dids"][0])
    payload["vc"]["credentialSubject"]["origin"] = ORIGIN  # re-point the linkage at the victim origin
    forged = f"{head}.{_segment(payload)}.{signature}"
    assert codes_of(_verify(_with(forged), did)) == ["DOMAIN_LINKAGE_SIGNATURE"]


def test_other_origin() -> None:
    did, config = _config()
    result = _verify(config, did, origin="https://other.example.com")
    assert codes_of(result) == ["DOMAIN_LINKAGE_INVALID"]
    assert result.problems[0].pointer == "linked_dids/0/vc/credentialSubject/origin"


def test_other_did_is_missing() -> None:
    _, config = _config()
    other_did, _ = did_key_signer(OTHER)
    assert codes_of(_verify(config, other_did)) == ["DOMAIN_LINKAGE_MISSING"]


def test_origin_comparison_is_on_serialized_origins() -> None:
    did, config = _config(origin="https://Shop.Example.com:443")
    assert _parts(config["linked_dids"][0])[1]["vc"]["credentialSubject"]["origin"] == ORIGIN
    assert _verify(config, did, origin="HTTPS://shop.example.COM").passed
    assert not _verify(config, did, origin="https://shop.example.com:8443").passed
    assert not _verify(config, did, origin="http://shop.example.com").passed


@pytest.mark.parametrize(("now", "code"), [
    (EXPIRES + timedelta(minutes=6), "DOMAIN_LINKAGE_EXPIRED"),
    (ISSUED - timedelta(minutes=6), "DOMAIN_LINKAGE_NOT_YET_VALID"),
    (EXPIRES + timedelta(minutes=4), None),   # within the default five minutes of skew
    (ISSUED - timedelta(minutes=4), None),
])
def test_validity_window(now: datetime, code: str | None) -> None:
    did, config = _config()
    result = _verify(config, did, now=now)
    assert codes_of(result) == ([code] if code else [])


def _resigned(pair: KeyPair, change_header: dict[str, Any] | None = None,
              change_payload: dict[str, Any] | None = None) -> tuple[str, str]:
    did, config = _config(pair)
    header, payload = _parts(config["linked_dids"][0])
    header.update(change_header or {})
    payload.update(change_payload or {})
    return did, _forge(header, payload, pair)


def test_alg_none_is_refused() -> None:
    did, config = _config()
    header, payload = _parts(config["linked_dids"][0])
    header["alg"] = "none"
    unsigned = f"{_segment(header)}.{_segment(payload)}."
    assert codes_of(_verify(_with(unsigned), did)) == ["DOMAIN_LINKAGE_INVALID"]
    with_signature = _forge(header, payload, ED)
    result = _verify(_with(with_signature), did)
    assert codes_of(result) == ["DOMAIN_LINKAGE_INVALID"] and result.problems[0].pointer == "linked_dids/0/alg"


@pytest.mark.parametrize(("pair", "alg"), [(ED, "ES256"), (ED, "HS256"), (P256, "EdDSA"), (P256, "ES384"),
                                           (P384, "ES256")])
def test_alg_must_fit_the_key(pair: KeyPair, alg: str) -> None:
    did, jwt = _resigned(pair, {"alg": alg})
    result = _verify(_with(jwt), did)
    assert codes_of(result) == ["DOMAIN_LINKAGE_INVALID"] and result.problems[0].pointer == "linked_dids/0/alg"


def test_fully_specified_ed25519_alg_is_accepted() -> None:
    did, jwt = _resigned(ED, {"alg": "Ed25519"})
    assert _verify(_with(jwt), did).passed


def test_kid_of_another_did() -> None:
    _, other_signer = did_key_signer(OTHER)
    did, jwt = _resigned(ED, {"kid": other_signer.id})
    result = _verify(_with(jwt), did)
    assert codes_of(result) == ["DOMAIN_LINKAGE_INVALID"] and result.problems[0].pointer == "linked_dids/0/kid"


def test_kid_naming_no_method_of_the_did() -> None:
    did, jwt = _resigned(ED, {"kid": f"{did_key_signer(ED)[0]}#key-9"})
    assert codes_of(_verify(_with(jwt), did)) == ["INVALID_VERIFICATION_METHOD"]


def test_missing_kid_and_relative_kid() -> None:
    did, config = _config()
    header, payload = _parts(config["linked_dids"][0])
    assert codes_of(_verify(_with(_forge({"alg": "EdDSA"}, payload, ED)), did)) == ["DOMAIN_LINKAGE_INVALID"]
    relative = {"alg": "EdDSA", "kid": "#" + header["kid"].split("#")[1]}
    assert _verify(_with(_forge(relative, payload, ED)), did).passed


def test_crit_header_is_refused() -> None:
    did, jwt = _resigned(ED, {"crit": ["exp"]})
    assert codes_of(_verify(_with(jwt), did)) == ["DOMAIN_LINKAGE_INVALID"]


@pytest.mark.parametrize("change", [
    {"sub": "did:example:someone-else"},
    {"iss": "did:example:someone-else", "sub": "did:example:someone-else"},
    {"nbf": int(ISSUED.timestamp()) + 60},        # nbf must equal issuanceDate
    {"exp": int(EXPIRES.timestamp()) + 60},
    {"exp": "2027-11-01T00:00:00Z"},               # not a NumericDate
    {"nbf": True},
    {"vc": None},
])
def test_inconsistent_claims_are_invalid(change: dict[str, Any]) -> None:
    did, config = _config()
    _, payload = _parts(config["linked_dids"][0])
    payload.update(change)
    header, _ = _parts(config["linked_dids"][0])
    result = _verify(_with(_forge(header, payload, ED)), did)
    assert "DOMAIN_LINKAGE_INVALID" in codes_of(result)
    assert not result.passed


@pytest.mark.parametrize(("member", "value"), [
    ("@context", ["https://www.w3.org/2018/credentials/v1"]),
    ("type", ["VerifiableCredential"]),
    ("issuer", "did:example:someone-else"),
    ("credentialSubject", {"origin": ORIGIN}),
    ("expirationDate", None),
])
def test_credential_rules(member: str, value: Any) -> None:
    did, config = _config()
    header, payload = _parts(config["linked_dids"][0])
    payload["vc"][member] = value
    result = _verify(_with(_forge(header, payload, ED)), did)
    assert codes_of(result) and set(codes_of(result)) == {"DOMAIN_LINKAGE_INVALID"}, result.to_dict()


# --- encoding strictness --------------------------------------------------------------------------------------

def test_padded_or_standard_base64_is_refused() -> None:
    did, config = _config()
    head, body, signature = config["linked_dids"][0].split(".")
    padded = base64.urlsafe_b64encode(multibase.base64url_decode(signature)).decode()
    assert padded.endswith("=")
    for forged in (f"{head}.{body}.{padded}", f"{head}=.{body}.{signature}"):
        assert codes_of(_verify(_with(forged), did)) == ["DOMAIN_LINKAGE_INVALID"]
    # an unreadable payload names no DID at all
    assert codes_of(_verify(_with(f"{head}.{body}+.{signature}"), did)) == ["DOMAIN_LINKAGE_MISSING"]


def test_non_canonical_trailing_bits_in_the_signature() -> None:
    did, config = _config()
    head, body, signature = config["linked_dids"][0].split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet[alphabet.index(signature[-1]) ^ 1]  # 64 bytes -> 86 chars: the low 4 bits are padding
    assert codes_of(_verify(_with(f"{head}.{body}.{signature[:-1]}{last}"), did)) == ["DOMAIN_LINKAGE_INVALID"]


def test_duplicate_members_in_the_payload_are_refused() -> None:
    did, config = _config()
    head, body, _ = config["linked_dids"][0].split(".")
    text = multibase.base64url_decode(body).decode()
    duplicated = text[:-1] + ',"iss":"did:example:x"}'
    signing_input = f"{head}.{multibase.base64url_encode(duplicated.encode())}"
    forged = f"{signing_input}.{multibase.base64url_encode(ED.sign(signing_input.encode()))}"
    # the duplicate makes the payload unreadable, so no JWT names the DID
    assert codes_of(_verify(_with(forged), did)) == ["DOMAIN_LINKAGE_MISSING"]


def test_ecdsa_signature_of_the_wrong_length_or_der_form() -> None:
    did, config = _config(P256)
    head, body, signature = config["linked_dids"][0].split(".")
    raw = multibase.base64url_decode(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    for bad in (raw + b"\x00", b"\x00" + raw, der, raw[:63]):
        forged = f"{head}.{body}.{multibase.base64url_encode(bad)}"
        assert codes_of(_verify(_with(forged), did)) == ["DOMAIN_LINKAGE_SIGNATURE"]


# --- the configuration resource -------------------------------------------------------------------------------

@pytest.mark.parametrize(("document", "code"), [
    (b"{not json", "INVALID_JSON"),
    (b'{"@context": 1, "@context": 2}', "INVALID_JSON"),
    ({"linked_dids": []}, "DOMAIN_LINKAGE_INVALID"),
    ({"@context": "https://www.w3.org/2018/credentials/v1", "linked_dids": []}, "DOMAIN_LINKAGE_INVALID"),
    ({"@context": domainlinkage.CONFIG_CONTEXT}, "DOMAIN_LINKAGE_INVALID"),
    ({"@context": domainlinkage.CONFIG_CONTEXT, "linked_dids": "jwt"}, "DOMAIN_LINKAGE_INVALID"),
    ({"@context": domainlinkage.CONFIG_CONTEXT, "linked_dids": []}, "DOMAIN_LINKAGE_MISSING"),
    ([], "DOMAIN_LINKAGE_INVALID"),
])
def test_malformed_configurations(document: Any, code: str) -> None:
    did, _ = _config()
    assert codes_of(_verify(document, did)) == [code]


def test_the_matching_jwt_is_found_among_others() -> None:
    did, config = _config()
    _, elsewhere = _config(origin="https://elsewhere.example")
    _, other = _config(OTHER)
    ld_proof = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"]}
    document = {"@context": domainlinkage.CONFIG_CONTEXT,
                "linked_dids": [ld_proof, "garbage", other["linked_dids"][0], elsewhere["linked_dids"][0],
                                config["linked_dids"][0]]}
    result = _verify(document, did)
    assert result.passed and result.details["index"] == 4


def test_bad_origin_argument_never_passes() -> None:
    did, config = _config()
    for origin in ("shop.example.com", "https://shop.example.com/", "https://shop.example.com/path", ""):
        assert codes_of(_verify(config, did, origin=origin)) == ["DOMAIN_LINKAGE_INVALID"]


@pytest.mark.parametrize("document", [None, 5, "", b"", b"\xff", {"@context": domainlinkage.CONFIG_CONTEXT,
                                       "linked_dids": [None, 5, "a.b.c", "..", "a" * 20_000, {"x": 1}]},
                                      {"@context": domainlinkage.CONFIG_CONTEXT, "linked_dids": [[[[[]]]]] * 3}])
def test_garbage_never_raises(document: Any) -> None:
    did, _ = _config()
    result = _verify(document, did)
    assert isinstance(result, CheckResult) and not result.passed


# --- creation misuse and origins ------------------------------------------------------------------------------

def test_create_refuses_misuse() -> None:
    did, signer = did_key_signer(ED)
    _, other_signer = did_key_signer(OTHER)
    with pytest.raises(UsageError):
        create_linkage_jwt(did, ORIGIN, other_signer, issued=ISSUED, expires=EXPIRES)
    with pytest.raises(UsageError):
        create_linkage_jwt(did, ORIGIN + "/path", signer, issued=ISSUED, expires=EXPIRES)
    with pytest.raises(UsageError):
        create_linkage_jwt(did, ORIGIN, signer, issued=EXPIRES, expires=ISSUED)
    with pytest.raises(UsageError):
        create_linkage_jwt(did, ORIGIN, signer, issued=ISSUED.replace(tzinfo=None), expires=EXPIRES)
    with pytest.raises(UsageError):
        create_linkage_jwt("not-a-did", ORIGIN, signer, issued=ISSUED, expires=EXPIRES)


@pytest.mark.parametrize(("value", "origin"), [
    ("https://shop.example.com", "https://shop.example.com"),
    ("HTTPS://Shop.Example.COM:443", "https://shop.example.com"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("http://localhost:80", "http://localhost"),
    ("https://shop.example.com/", None),
    ("https://shop.example.com/a", None),
    ("https://user@shop.example.com", None),
    ("https://shop.example.com:0", None),
    ("https://shop.example.com:99999", None),
    ("ftp://shop.example.com", None),
    ("shop.example.com", None),
    (None, None),
])
def test_normalize_origin(value: object, origin: str | None) -> None:
    assert normalize_origin(value) == origin
