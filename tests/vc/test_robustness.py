"""Hostile and malformed input: verification never raises, issuing raises only ChopmarkError."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chopmark.dids import Resolver, did_key_signer
from chopmark.errors import ChopmarkError
from chopmark.keys import KeyPair, KeyType
from chopmark.vc.credentials import issue, verify_credential
from chopmark.vc.presentations import verify_presentation
from chopmark.vc.samples import merchant_credential

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DID, SIGNER = did_key_signer(KeyPair.from_seed(KeyType.ED25519, bytes(32)))
VM = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def _nested(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(depth):
        node["a"] = {}
        node = node["a"]
    return root


def _proof(**extra: Any) -> dict[str, Any]:
    return {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "verificationMethod": VM,
            "proofPurpose": "assertionMethod", "proofValue": "z111", **extra}


HOSTILE: dict[str, tuple[dict[str, Any], str]] = {
    "nesting-3000": ({"credentialSubject": _nested(3000)}, "INVALID_JSON"),
    "nan": ({"credentialSubject": {"x": float("nan")}}, "INVALID_JSON"),
    "huge-int": ({"credentialSubject": {"x": 10**400}}, "INVALID_JSON"),
    "context-null": ({"@context": None}, "MALFORMED_VALUE_ERROR"),
    "context-version-2": ({"@context": ["https://www.w3.org/ns/credentials/v2", {"@version": 2.0}]},
                          "INVALID_JSON_LD"),
    "protected-override": ({"@context": ["https://www.w3.org/ns/credentials/v2", {"id": "@type"}]},
                           "PROTECTED_TERM_REDEFINITION"),
    "type-object": ({"type": {"a": 1}}, "MALFORMED_VALUE_ERROR"),
    "proofs-garbage": ({"proof": [1, "x", None, {"type": []}]}, "MALFORMED_VALUE_ERROR"),
    "previous-proof-object": ({"proof": _proof(previousProof={"a": 1})}, "MALFORMED_PROOF_ERROR"),
    "vm-not-a-did": ({"proof": _proof(verificationMethod="did:key:zzzz\u0000")}, "INVALID_VERIFICATION_METHOD"),
    "vm-bad-jwk": ({"proof": _proof(verificationMethod="did:jwk:eyJrdHkiOiJPS1AifQ#0")}, "invalidPublicKeyType"),
    "proof-times-garbage": ({"proof": _proof(created=["x"], expires=5)}, "INVALID_PROOF_DATETIME"),
    "reverse-keyword": ({"credentialSubject": {"@reverse": {"x": 1}}}, "INVALID_JSON_LD"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_credential_is_refused_without_raising(name: str) -> None:
    patch, code = HOSTILE[name]
    doc = {**merchant_credential(DID), **patch}
    result = verify_credential(doc, resolver=Resolver(), now=NOW)
    assert not result.verified
    assert code in [p.code for p in result.problems]
    json.dumps(result.to_dict())
    if "proof" in patch and code != "MALFORMED_VALUE_ERROR":
        # another party's unusable proof does not stop an issuer adding its own to the proof set; the set
        # then still fails verification because of that proof
        secured = issue(doc, SIGNER, issuer=DID, created="2026-01-01T00:00:00Z")
        again = verify_credential(secured, resolver=Resolver(), now=NOW)
        assert code in [p.code for p in again.problems]
        assert [c.passed for c in again.checks if c.check.startswith("proof")] == [False, True]
        return
    with pytest.raises(ChopmarkError):
        issue(doc, SIGNER)


def test_hostile_presentation_is_refused_without_raising() -> None:
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
          "verifiableCredential": [_nested(500)]}
    result = verify_presentation(vp, resolver=Resolver(), now=NOW, challenge=None)
    assert not result.verified
    assert [p.code for p in result.problems] == ["INVALID_JSON"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["@id", "@type", "@context", "@value", "@list", "@graph", "id", "type", "name", "proof",
                         "issuer", "validFrom", "credentialSubject", "x"]) | st.text(max_size=6), inner, max_size=3),
    max_leaves=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(["@context", "type", "issuer", "credentialSubject", "validFrom", "proof", "id",
                            "name", "credentialStatus", "relatedResource", "evidence"]), value=json_values)
def test_fuzzed_member_never_crashes(key: str, value: Any) -> None:
    doc = merchant_credential(DID)
    doc[key] = value
    result = verify_credential(doc, resolver=Resolver(), now=NOW)
    json.dumps(result.to_dict())
    with contextlib.suppress(ChopmarkError):
        issue(doc, SIGNER, created="2026-01-01T00:00:00Z")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(["credentialStatus", "credentialSchema", "relatedResource", "evidence", "termsOfUse",
                            "refreshService", "issuer", "credentialSubject", "proof", "name"]),
       member=st.sampled_from(["id", "type", "@value", "@language", "@direction", "digestSRI", "digestMultibase",
                               "verificationMethod", "proofPurpose", "cryptosuite", "proofValue", "created",
                               "previousProof", "domain", "name"]),
       value=json_values, as_list=st.booleans())
def test_fuzzed_nested_member_never_crashes(key: str, member: str, value: Any, as_list: bool) -> None:
    doc = merchant_credential(DID)
    item: dict[str, Any] = _proof() if key == "proof" else {"id": "urn:x:1", "type": "Thing"}
    item[member] = value
    doc[key] = [item, dict(item)] if as_list else item
    result = verify_credential(doc, resolver=Resolver(), now=NOW, related_resources={"urn:x:1": b"x"})
    json.dumps(result.to_dict())
    with contextlib.suppress(ChopmarkError):
        issue(doc, SIGNER, created="2026-01-01T00:00:00Z")
