"""Mutation tests: any single change to a signed credential makes verification fail with the right type."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chopmark.codecs import multibase
from chopmark.dids import Resolver, did_key_from_public_key
from chopmark.errors import ChopmarkError
from chopmark.integrity.suites import SUITES
from chopmark.keys import KeyPair, KeyType
from chopmark.vc.credentials import issue, verify_credential
from chopmark.vc.samples import merchant_credential

NOW = datetime(2026, 6, 1, tzinfo=UTC)
VCDM = "https://www.w3.org/TR/vc-data-model#"
SEC = "https://w3id.org/security#"
KEYS = {kt: KeyPair.from_seed(kt, bytes([7]) * (48 if kt is KeyType.P384 else 32)) for kt in KeyType}
PAIRS = [(suite, kt) for suite, s in SUITES.items() for kt in sorted(s.key_types, key=lambda k: k.value)]


def _signed(suite: str, kt: KeyType, doc: dict[str, Any] | None = None) -> dict[str, Any]:
    pair = KEYS[kt]
    did = did_key_from_public_key(pair.public_key)
    unsigned = doc if doc is not None else merchant_credential()
    if SUITES[suite].required_context:
        unsigned = {**unsigned, "@context": [*unsigned["@context"], SUITES[suite].required_context]}
    return issue(unsigned, pair.signer(f"{did}#{pair.public_key.multibase()}"), suite=suite, issuer=did,
                 created="2026-01-01T00:00:00Z", allow_legacy=True)


def _verify(doc: Any) -> Any:
    return verify_credential(doc, resolver=Resolver(), now=NOW)


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if path == () and key == "proof":
                continue
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    else:
        yield path


def _set(doc: Any, path: tuple[Any, ...], fn: Callable[[Any], Any]) -> None:
    for step in path[:-1]:
        doc = doc[step]
    doc[path[-1]] = fn(doc[path[-1]])


def _change(value: Any) -> Any:
    if isinstance(value, str):
        return value[:-1] + ("X" if not value.endswith("X") else "Y")
    return value + 1 if isinstance(value, int) else "changed"


@pytest.mark.parametrize(("suite", "kt"), PAIRS, ids=[f"{s}-{k.value}" for s, k in PAIRS])
def test_signed_verifies(suite: str, kt: KeyType) -> None:
    assert _verify(_signed(suite, kt)).verified


@pytest.mark.parametrize(("suite", "kt"), PAIRS, ids=[f"{s}-{k.value}" for s, k in PAIRS])
def test_every_leaf_change_fails(suite: str, kt: KeyType) -> None:
    signed = _signed(suite, kt)
    paths = [p for p in _leaves(signed) if p[0] != "@context"]
    assert len(paths) > 15
    for path in paths:
        doc = copy.deepcopy(signed)
        _set(doc, path, _change)
        result = _verify(doc)
        assert not result.verified, path
        types = {p.type for p in result.problems}
        assert SEC + "PROOF_VERIFICATION_ERROR" in types or VCDM + "MALFORMED_VALUE_ERROR" in types, (path, types)


PROOF_MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "type": (lambda p: p.__setitem__("type", "Ed25519Signature2018"), SEC + "PROOF_VERIFICATION_ERROR"),
    "cryptosuite": (lambda p: p.__setitem__("cryptosuite", "bbs-2023"), SEC + "PROOF_VERIFICATION_ERROR"),
    "verificationMethod": (
        lambda p: p.__setitem__("verificationMethod", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
                                "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
        SEC + "PROOF_VERIFICATION_ERROR"),
    "proofPurpose": (lambda p: p.__setitem__("proofPurpose", "authentication"),
                     SEC + "MISMATCHED_PROOF_PURPOSE_ERROR"),
    "created": (lambda p: p.__setitem__("created", "2026-01-02T00:00:00Z"), SEC + "PROOF_VERIFICATION_ERROR"),
    "proofValue": (lambda p: p.__setitem__("proofValue", p["proofValue"][:-2]), SEC + "PROOF_VERIFICATION_ERROR"),
    "proofValue-base": (lambda p: p.__setitem__("proofValue", "u" + p["proofValue"][1:]),
                        SEC + "MALFORMED_PROOF_ERROR"),
}


@pytest.mark.parametrize("mutation", sorted(PROOF_MUTATIONS))
@pytest.mark.parametrize(("suite", "kt"), PAIRS, ids=[f"{s}-{k.value}" for s, k in PAIRS])
def test_proof_mutations(suite: str, kt: KeyType, mutation: str) -> None:
    signed = _signed(suite, kt)
    mutate, expected = PROOF_MUTATIONS[mutation]
    if mutation == "cryptosuite" and not SUITES[suite].is_data_integrity:
        signed["proof"]["cryptosuite"] = "eddsa-rdfc-2022"  # a legacy proof does not name a cryptosuite
    else:
        mutate(signed["proof"])
    result = _verify(signed)
    assert not result.verified
    assert expected in {p.type for p in result.problems}, result.to_dict()


@pytest.mark.parametrize(("suite", "kt"), PAIRS, ids=[f"{s}-{k.value}" for s, k in PAIRS])
def test_swapped_and_unknown_contexts(suite: str, kt: KeyType) -> None:
    signed = _signed(suite, kt)
    swapped = copy.deepcopy(signed)
    swapped["@context"][1] = "https://www.w3.org/ns/credentials/undefined-terms/v2"
    assert not _verify(swapped).verified
    unknown = copy.deepcopy(signed)
    unknown["@context"][1] = "https://evil.example/context/v1"
    result = _verify(unknown)
    assert not result.verified
    assert "UNKNOWN_CONTEXT" in {p.code for p in result.problems}


@pytest.mark.parametrize(("suite", "kt"), PAIRS, ids=[f"{s}-{k.value}" for s, k in PAIRS])
def test_added_term(suite: str, kt: KeyType) -> None:
    # Under the v2 context @vocab maps unknown terms to issuer-dependent IRIs: the signature then fails.
    signed = _signed(suite, kt)
    signed["credentialSubject"]["addedClaim"] = "x"
    result = _verify(signed)
    assert SEC + "PROOF_VERIFICATION_ERROR" in {p.type for p in result.problems}


def test_undefined_term_without_vocab_is_a_parsing_error() -> None:
    # A VC 1.1 credential has no @vocab: an undefined term is refused, never silently unsigned.
    v1 = {"@context": ["https://www.w3.org/2018/credentials/v1", "https://www.w3.org/2018/credentials/examples/v1",
                       "https://w3id.org/security/data-integrity/v2"],
          "type": ["VerifiableCredential"], "issuanceDate": "2026-01-01T00:00:00Z",
          "credentialSubject": {"id": "did:example:abc", "alumniOf": "Example University"}}
    with pytest.raises(ChopmarkError) as info:
        _signed("eddsa-rdfc-2022", KeyType.ED25519, {**v1, "credentialSubject": {"undefinedTerm": "x"}})
    assert info.value.instance_code == "UNDEFINED_TERM"
    v1_signed = _signed("eddsa-rdfc-2022", KeyType.ED25519, v1)
    assert _verify(v1_signed).verified
    v1_signed["credentialSubject"]["undefinedTerm"] = "x"
    result = _verify(v1_signed)
    assert VCDM + "PARSING_ERROR" in {p.type for p in result.problems}
    assert "UNDEFINED_TERM" in {p.code for p in result.problems}


claims = st.dictionaries(
    keys=st.from_regex(r"[a-z][a-zA-Z]{2,12}", fullmatch=True).filter(lambda k: k not in {"id", "type"}),
    values=st.one_of(st.text(min_size=1, max_size=20), st.integers(-1000, 1000), st.booleans()),
    min_size=1, max_size=5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=claims, suite=st.sampled_from(PAIRS), pick=st.integers(min_value=0))
def test_property_sign_verify_then_any_mutation_fails(claims: dict[str, Any], suite: tuple[str, KeyType],
                                                     pick: int) -> None:
    doc = merchant_credential()
    doc["credentialSubject"] = {"id": "did:web:shop.example.com", **claims}
    signed = _signed(suite[0], suite[1], doc)
    assert _verify(signed).verified
    paths = [p for p in _leaves(signed) if p[0] != "@context"]
    mutated = copy.deepcopy(signed)
    _set(mutated, paths[pick % len(paths)], lambda v: (not v) if isinstance(v, bool) else _change(v))
    assert not _verify(mutated).verified


def test_proof_value_is_base58btc() -> None:
    signed = _signed("eddsa-rdfc-2022", KeyType.ED25519)
    assert len(multibase.decode(signed["proof"]["proofValue"])) == 64
