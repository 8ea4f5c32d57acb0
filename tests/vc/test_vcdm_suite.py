"""The inputs of the W3C VC Data Model 2.0 test suite (vc-data-model-2.0-test-suite/input).

Every ``*-ok`` input issues and verifies; every ``*-fail`` (and ``*-fail-or-inject``: we never inject) input is
rejected, by the side named in ``EXPECTED``. Verification runs "as of" a moment inside the credential's
validity period. Inputs whose ``holder``/``issuer`` is a did:key we hold no secret for are rewritten to our own
test DIDs, as the W3C suite does with its own issuers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chopmark.codecs.dates import parse_datetime
from chopmark.dids import Resolver, did_key_from_public_key
from chopmark.errors import ChopmarkError
from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyPair, KeyType
from chopmark.vc.credentials import issue, verify_credential
from chopmark.vc.presentations import sign_presentation, verify_presentation
from tests.conftest import vectors_root

ISSUER, VERIFIER, OK = "rejected by the issuer", "rejected by the verifier", "issues and verifies"
FOREIGN_PROOF = "issues; the verifier rejects only the pre-existing proof (it has no verificationMethod)"
ENVELOPED = "issues; the enveloped (JOSE) credential is reported as not verifiable here"

#: Who rejects each failing input, and the two documented special cases among the ``-ok`` inputs.
EXPECTED: dict[str, str] = {
    "credential-context-combo3-fail": ISSUER,        # context item "https ://not-a-url/..." is not a URL
    "credential-context-combo4-fail": ISSUER,        # context item is a number
    "credential-evidence-missing-type-fail": ISSUER,
    "credential-id-multi-fail": ISSUER,
    "credential-id-nonidentifier-fail": ISSUER,      # id: null
    "credential-id-not-url-fail": ISSUER,
    "credential-id-subject-multi-fail": ISSUER,
    "credential-issuer-no-url-fail": ISSUER,
    "credential-issuer-null-fail": ISSUER,
    "credential-issuer-object-id-no-url-fail": ISSUER,
    "credential-issuer-object-id-null-fail": ISSUER,
    "credential-missing-base-context-fail-or-inject": ISSUER,
    "credential-missing-required-type-fail": ISSUER,
    "credential-no-context-fail-or-inject": ISSUER,
    "credential-no-issuer-fail": ISSUER,             # issuer explicitly absent: we do not inject it here
    "credential-no-subject-fail": ISSUER,
    "credential-no-type-fail": ISSUER,
    "credential-proof-missing-type-fail": ISSUER,
    "credential-redef-type-fail": ISSUER,            # @protected VerifiableCredential redefined
    "credential-redef-type2-fail": ISSUER,
    "credential-refresh-no-type-fail": ISSUER,
    "credential-schema-no-id-fail": ISSUER,
    "credential-schema-no-type-fail": ISSUER,
    "credential-schema-non-url-id-fail": ISSUER,
    "credential-status-missing-type-fail": ISSUER,
    "credential-status-multiple-id-fail": ISSUER,
    "credential-status-nonurl-id-fail": ISSUER,
    "credential-status-type-nonurl-fail": ISSUER,
    "credential-subject-multiple-empty-fail": ISSUER,
    "credential-subject-no-claims-fail": ISSUER,
    "credential-termsofuse-missing-type-fail": ISSUER,
    "credential-termsofuse-no-type-fail": ISSUER,
    "credential-type-mapped-nonurl-fail": ISSUER,    # type maps to "https ://not-a-url#..."
    "credential-type-unmapped-fail": ISSUER,         # @vocab: null leaves the type undefined
    "credential-validUntil-validFrom-fail": ISSUER,
    "credential-validfrom-invalid-fail": ISSUER,
    "credential-validuntil-invalid-fail": ISSUER,
    "credential-description-extra-prop-en-fail": ISSUER,
    "credential-name-extra-prop-en-fail": ISSUER,
    "issuer-description-extra-prop-en-fail": ISSUER,
    "issuer-name-extra-prop-en-fail": ISSUER,
    "presentation-context-order-fail": ISSUER,       # the holder's signer refuses it
    "presentation-enveloped-vc-missing-type-fail": ISSUER,
    "presentation-holder-fail": ISSUER,
    "presentation-holder-name-fail": ISSUER,
    "presentation-holder-object-fail": ISSUER,
    "presentation-missing-base-context-fail": ISSUER,
    "presentation-missing-required-type-fail": ISSUER,
    "presentation-no-context-fail-or-inject": ISSUER,
    "presentation-no-type-fail": ISSUER,
    "presentation-vc-as-string-fail": ISSUER,
    "presentation-vc-missing-required-type-fail": ISSUER,
    "presentation-self-asserted-vc-holder-mismatch": VERIFIER,  # holder did not issue the unsecured VC
    "presentation-self-asserted-vc-issuer-mismatch": VERIFIER,
    "presentation-self-asserted-vc-no-holder": VERIFIER,
    "credential-proof-ok": FOREIGN_PROOF,
    "presentation-enveloped-vc-ok": ENVELOPED,
}

SAMPLE_DID = "did:key:z6MkpJySvETLnxhQG9DzEdmKJtysBDjuuTeDfUj1uNNCUqcj"
ISSUER_KEY = KeyPair.from_seed(KeyType.ED25519, bytes(range(32)))
HOLDER_KEY = KeyPair.from_seed(KeyType.ED25519, bytes(range(1, 33)))
BASE_NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _did(pair: KeyPair) -> str:
    return did_key_from_public_key(pair.public_key)


def _signer(pair: KeyPair) -> Any:
    return pair.signer(f"{_did(pair)}#{pair.public_key.multibase()}")


def inputs(root: Path) -> list[Path]:
    """Every input file (96 at the top level and 24 under names-and-descriptions/)."""
    folder = root / "vc-data-model-2.0-test-suite" / "input"
    return sorted([*folder.glob("*.json"), *folder.glob("names-and-descriptions/*.json")])


_ROOT = vectors_root()
NAMES = [p.relative_to(_ROOT / "vc-data-model-2.0-test-suite" / "input").as_posix()
         for p in inputs(_ROOT)] if _ROOT else ["(vectors absent)"]


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8").replace(SAMPLE_DID, _did(HOLDER_KEY))
    text = text.replace('"FUTURE DATE"', '"2099-01-01T00:00:00Z"').replace('"PAST DATE"', '"2020-01-01T00:00:00Z"')
    return json.loads(text)


def _now_for(doc: dict[str, Any]) -> datetime:
    """A moment inside the credential's validity period."""
    if "validFrom" in doc:
        return parse_datetime(doc["validFrom"]) + timedelta(seconds=1)
    if "validUntil" in doc:
        return parse_datetime(doc["validUntil"]) - timedelta(seconds=1)
    return BASE_NOW


def expectation(name: str) -> str:
    """The expected outcome: from the table, else ``OK`` for ``-ok`` inputs."""
    if name in EXPECTED:
        return EXPECTED[name]
    if name.endswith("-ok"):
        return OK
    raise AssertionError(f"{name} has no expectation in the table")


def _issue_credential(doc: dict[str, Any], name: str) -> dict[str, Any]:
    keep = "issuer" in doc and not name.endswith("-ok")
    return issue(doc, _signer(ISSUER_KEY), issuer=None if keep else _did(ISSUER_KEY),
                 created="2000-01-01T00:00:00Z")


def _secure_presentation(doc: dict[str, Any], name: str) -> dict[str, Any]:
    if name.endswith("-ok") and "self-asserted" not in name:
        doc["verifiableCredential"] = [
            vc if not isinstance(vc, dict) or "EnvelopedVerifiableCredential" in str(vc.get("type"))
            else _issue_credential(vc, name) for vc in doc.get("verifiableCredential", [])]
    return sign_presentation(doc, _signer(HOLDER_KEY), challenge="c-123", domain="site-a.example",
                             created="2000-01-01T00:00:00Z")


#: The suite's valid inputs carry inline contexts: a verifier that accepts them opts in (Data Integrity 1.0 §2.4.1).
INLINE_OK = DocumentLoader.pinned().with_context_policy(inline_contexts=True)


def _verify(secured: dict[str, Any], name: str) -> Any:
    if name.startswith("presentation"):
        return verify_presentation(secured, resolver=Resolver(), now=BASE_NOW, challenge="c-123",
                                   domain="site-a.example", loader=INLINE_OK)
    return verify_credential(secured, resolver=Resolver(), now=_now_for(secured), loader=INLINE_OK)


def test_all_inputs_present(vectors: Path) -> None:
    # The issue speaks of 97 inputs; the pinned suite commit holds 96 top-level files plus 24 for names.
    assert len(inputs(vectors)) == 120


def test_every_failing_input_is_in_the_table(vectors: Path) -> None:
    names = {p.stem for p in inputs(vectors)}
    assert {n for n in names if "fail" in n or "mismatch" in n or "no-holder" in n} <= set(EXPECTED)


@pytest.mark.parametrize("relpath", NAMES)
def test_input(vectors: Path, relpath: str) -> None:
    path = vectors / "vc-data-model-2.0-test-suite" / "input" / relpath
    name, doc = path.stem, _load(path)
    expected = expectation(name)
    secure = _secure_presentation if name.startswith("presentation") else _issue_credential
    if expected == ISSUER:
        with pytest.raises(ChopmarkError):
            secure(doc, name)
        return
    result = _verify(secure(doc, name), name)
    if expected == OK:
        assert result.verified, (name, result.to_dict())
    elif expected == VERIFIER:
        assert not result.verified, name
    elif expected == FOREIGN_PROOF:
        assert [(c.check, c.passed) for c in result.checks if c.check.startswith("proof")] == [
            ("proof[0]", False), ("proof[1]", True)]
        assert [p.code for p in result.problems] == ["MALFORMED_PROOF_ERROR"]
    else:
        assert expected == ENVELOPED
        assert all(c.passed for c in result.checks), result.to_dict()
        assert [p.code for p in result.problems] == ["UNSUPPORTED_ENVELOPE"]
