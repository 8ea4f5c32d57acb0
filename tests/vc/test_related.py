"""relatedResource digests (VCDM 2.0 §5.3) against the resources obtainable without the network, unknown
credentialSchema types (§4.11) reported as not checked, and the warnings of checks a policy leaves out."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from chopmark.codecs import multibase
from chopmark.dids import Resolver, did_key_from_public_key
from chopmark.errors import MalformedValueError, RangeError
from chopmark.integrity.checks import CheckResult
from chopmark.jsonld.loader import pinned_bytes
from chopmark.keys import KeyPair, KeyType, Signer
from chopmark.vc.credentials import issue, verify_credential
from chopmark.vc.datamodel import check_credential, split_schemas
from chopmark.vc.related import Revision, check_related, lookup_with, pinned_revisions
from chopmark.vc.samples import merchant_credential
from tests.conftest import codes_of, require_check

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
V2 = "https://www.w3.org/ns/credentials/v2"
RES = "https://resources.example/terms.html"
CONTENT = b"<html>terms</html>"
# The W3C VCDM 2.0 test suite's fixture (tests/fixtures.js): digests of the v2 context as published in 2024-07
SUITE_SRI = "sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg"
SUITE_MULTIBASE = "uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k"
# ... and its "wrong digest" fixtures (5-advanced-concepts.js)
SUITE_WRONG_MULTIBASE = "uM4RgWQc3RUDtjJCSgTJtTfvpZ7SPEg_LNO0ESlovQC0"
SUITE_WRONG_SRI = "sha384-_rCVIV7fSXXTNIvpiq26jRDyj8JG8TDjij-tD0ewLk4JpnXEz6a5AeeY_1qQ0d0P"


def sri(content: bytes, alg: str = "sha384") -> str:
    return f"{alg}-" + base64.b64encode(hashlib.new(alg, content).digest()).decode()


def multihash(content: bytes, code: int = 0x12, alg: str = "sha256", base: str = "base58btc") -> str:
    digest = hashlib.new(alg, content).digest()
    return multibase.encode(bytes([code, len(digest)]) + digest, base)


PAIR = KeyPair.from_seed(KeyType.ED25519, bytes([31]) * 32)
DID = did_key_from_public_key(PAIR.public_key)


def signer() -> Signer:
    return PAIR.signer(f"{DID}#{PAIR.public_key.multibase()}")


def credential(resources: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    doc = merchant_credential()
    if resources is not None:
        doc["relatedResource"] = resources
    doc.update(extra)
    return doc


def signed(doc: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return issue(doc, signer(), issuer=DID, created="2026-01-01T00:00:00Z", **kwargs)


def verify(doc: Any, **kwargs: Any) -> Any:
    return verify_credential(doc, resolver=Resolver(), now=NOW, **kwargs)


# --- digests of the pinned contexts -----------------------------------------------------------------------------

@pytest.mark.parametrize("digest", [
    {"digestSRI": sri(pinned_bytes(V2))},
    {"digestSRI": sri(pinned_bytes(V2), "sha256") + " " + sri(pinned_bytes(V2), "sha512")},
    {"digestMultibase": multihash(pinned_bytes(V2))},
    {"digestMultibase": multihash(pinned_bytes(V2), 0x16, "sha3_256", "base64url")},
    {"digestSRI": SUITE_SRI},
    {"digestMultibase": SUITE_MULTIBASE},
    {"digestSRI": SUITE_SRI, "digestMultibase": SUITE_MULTIBASE},
], ids=["sri-pinned", "sri-strongest", "multihash", "sha3-multihash", "suite-sri", "suite-bare", "suite-both"])
def test_pinned_context_digest_matches_at_issue_and_verify(digest: dict[str, str]) -> None:
    vc = signed(credential([{"id": V2, **digest}]))
    result = verify(vc)
    assert result.verified, result.to_dict()
    assert require_check(result, "relatedResource").details == {"checked": [V2]}


@pytest.mark.parametrize("digest,error", [
    ({"digestMultibase": SUITE_WRONG_MULTIBASE}, RangeError),
    ({"digestSRI": SUITE_WRONG_SRI}, MalformedValueError),  # base64url is not SRI's base64
    ({"digestSRI": sri(b"other bytes")}, RangeError),
    ({"digestSRI": SUITE_SRI, "digestMultibase": multihash(pinned_bytes(V2))}, RangeError),  # two revisions
], ids=["suite-wrong-multibase", "suite-wrong-sri", "sri-mismatch", "mixed-revisions"])
def test_wrong_digest_of_pinned_context_refuses_issue(digest: dict[str, str], error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        signed(credential([{"id": V2, **digest}]))
    assert str(getattr(info.value, "pointer", "")).startswith("relatedResource")


def test_wrong_digest_fails_verification_with_the_vcdm_error() -> None:
    doc = credential([{"id": V2, "digestMultibase": SUITE_WRONG_MULTIBASE}])
    vc = signed(doc, resources=lambda url: ())  # an issuer that could not check it
    result = verify(vc)
    assert not result.verified
    related = require_check(result, "relatedResource")
    assert codes_of(related) == ["DIGEST_MISMATCH"]
    assert related.problems[0].type.endswith("#RANGE_ERROR")


def test_unobtainable_resource_is_a_warning_not_a_pass() -> None:
    vc = signed(credential([{"id": RES, "digestSRI": sri(CONTENT)}]))
    result = verify(vc)
    assert result.verified and result.check("relatedResource") is None
    assert [(w.code, w.extra["resource"]) for w in result.warnings] == [("RELATED_RESOURCE_NOT_CHECKED", RES)]
    supplied = verify(vc, related_resources={RES: CONTENT})
    assert require_check(supplied, "relatedResource").passed and not supplied.warnings


def test_unknown_algorithms_are_not_checked() -> None:
    unknown = multibase.encode(bytes([0x1b, 0x20]) + bytes(32))  # keccak-256: a multihash we do not compute
    doc = credential([{"id": V2, "digestSRI": "md5-AAAA", "digestMultibase": unknown}])
    check, unchecked = check_related(doc, pinned_revisions)
    assert check is None and unchecked == [V2]


@pytest.mark.parametrize("value", ["sha384-", "sha384-@@@", 7, "", "zz", "u" + "A" * 10, ["u"]])
def test_malformed_digests_are_data_model_errors(value: Any) -> None:
    key = "digestMultibase" if value in ("zz", "u" + "A" * 10, ["u"]) else "digestSRI"
    errors = check_credential(credential([{"id": V2, key: value}]))
    assert errors and all(isinstance(e, MalformedValueError) for e in errors)


def test_lookup_prefers_supplied_documents_then_the_fallback() -> None:
    lookup = lookup_with({RES: CONTENT})
    assert [r.source for r in lookup(RES)] == ["supplied"]
    assert lookup(V2)[0] == Revision.of(pinned_bytes(V2), "pinned context")
    assert len(lookup(V2)) == 4  # pinned + three published revisions
    assert lookup("https://nowhere.example/") == ()


# --- credentialSchema of types this service cannot check -------------------------------------------------------

SUITE_SCHEMA = {"type": "https://example.org/#ExampleTestSuiteSchema", "id": "did:example:schemas/1"}


def always_passes(doc: Any) -> CheckResult:
    return CheckResult.ok("schema", schemas=[s["id"] for s in doc["credentialSchema"]]
                          if isinstance(doc["credentialSchema"], list) else [doc["credentialSchema"]["id"]])


def test_unknown_schema_type_is_a_warning_never_a_pass() -> None:
    vc = signed(credential(credentialSchema=SUITE_SCHEMA))
    result = verify(vc, schema_checker=always_passes)
    assert result.verified and result.check("schema") is None
    assert [(w.code, w.extra["schemaType"]) for w in result.warnings] == [
        ("SCHEMA_NOT_CHECKED", "https://example.org/#ExampleTestSuiteSchema")]


def test_known_schema_types_still_go_to_the_checker() -> None:
    json_schema = {"type": "JsonSchema", "id": "https://chopmark.org/schemas/x/v1"}
    doc = credential(credentialSchema=[SUITE_SCHEMA, json_schema])
    checkable, others = split_schemas(doc)
    assert checkable is not None and checkable["credentialSchema"] == [json_schema]
    assert others == ["https://example.org/#ExampleTestSuiteSchema"]
    result = verify(signed(doc), schema_checker=always_passes)
    assert require_check(result, "schema").details == {"schemas": [json_schema["id"]]}
    assert [w.code for w in result.warnings] == ["SCHEMA_NOT_CHECKED"]
    assert split_schemas(credential(credentialSchema=json_schema)) == (credential(credentialSchema=json_schema), [])


def test_policy_without_checks_lists_each_as_a_warning() -> None:
    vc = signed(credential(credentialSchema=SUITE_SCHEMA))
    result = verify_credential(vc, resolver=Resolver(), now=NOW, issuer_binding=False, validity=False)
    codes = {w.code for w in result.warnings}
    assert codes == {"ISSUER_BINDING_NOT_CHECKED", "VALIDITY_NOT_CHECKED", "SCHEMA_NOT_CHECKED"}
    assert result.check("validity") is None and result.check("issuerBinding") is None
