"""JSON Schemas of the Chopmark credentials (VC JSON Schema ``JsonSchema``): the pinned files, the ``schema``
check, issuance validation, hostile input, and the ``schema_checker`` hook of credential/presentation verify."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from chopmark import vocab
from chopmark.dids import Resolver, did_key_signer
from chopmark.errors import SchemaValidationError
from chopmark.integrity.checks import CheckResult
from chopmark.keys import KeyPair, KeyType
from chopmark.vc.credentials import issue, verify_credential
from chopmark.vc.presentations import create_presentation, sign_presentation, verify_presentation
from chopmark.vocab import schema as schema_module
from chopmark.vocab.schema import (
    MAX_PROBLEMS,
    check_schemas,
    schema_document,
    validate_for_issuance,
    validate_or_raise,
)
from tests.conftest import codes_of, require_check

MERCHANT = vocab.SCHEMA_FOR_TYPE[vocab.MERCHANT_IDENTITY]
SELLER = vocab.SCHEMA_FOR_TYPE[vocab.MARKETPLACE_SELLER]
TRUST = vocab.SCHEMA_FOR_TYPE[vocab.TRUST_LIST]
NOW = datetime(2026, 12, 1, tzinfo=UTC)
PAIR = KeyPair.from_seed(KeyType.ED25519, bytes([41]) * 32)


def example(url: str) -> dict[str, Any]:
    """A fresh copy of the schema's own example credential."""
    document: dict[str, Any] = schema_document(url)["examples"][0]
    return document


def pointers(result: CheckResult) -> list[str | None]:
    return [p.pointer for p in result.problems]


# --- the pinned files ---------------------------------------------------------------------------------------

def test_the_schema_folder_holds_exactly_the_pinned_schemas() -> None:
    folder = Path(schema_module.__file__).resolve().parent / "schemas"
    assert {p.name for p in folder.iterdir()} == {"merchant-identity-v1.json", "marketplace-seller-v1.json",
                                                 "trust-list-v1.json", "ranking-commitment-v1.json"}


@pytest.mark.parametrize("url", sorted(vocab.SCHEMA_FOR_TYPE.values()))
def test_each_schema_is_valid_2020_12_with_its_own_id(url: str) -> None:
    document = schema_document(url)
    Draft202012Validator.check_schema(document)
    assert document["$id"] == url
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("url", sorted(vocab.SCHEMA_FOR_TYPE.values()))
def test_each_example_passes_and_names_its_schema(url: str) -> None:
    document = example(url)
    assert document["credentialSchema"] == {"id": url, "type": "JsonSchema"}
    result = check_schemas(document)
    assert result.passed, result.to_dict()
    assert result.details == {"schemas": [url]}


def test_schema_document_is_a_copy_and_unknown_urls_are_refused() -> None:
    schema_document(MERCHANT)["$id"] = "changed"
    assert schema_document(MERCHANT)["$id"] == MERCHANT
    with pytest.raises(SchemaValidationError) as info:
        schema_document("https://chopmark.org/schemas/merchant-identity/v2")
    assert info.value.instance_code == "UNKNOWN_SCHEMA"


def test_the_seller_example_digest_is_the_identity_example_digest() -> None:
    # identityCredential.digestMultibase = "u" + base64url(multihash sha2-256 of JCS(identity credential))
    import hashlib

    from chopmark.codecs import jcs, multibase
    digest = hashlib.sha256(jcs.canonicalize(example(MERCHANT))).digest()
    expected = "u" + multibase.base64url_encode(b"\x12\x20" + digest)
    assert example(SELLER)["credentialSubject"]["identityCredential"]["digestMultibase"] == expected


# --- violations -------------------------------------------------------------------------------------------------

def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is DELETE:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return change


DELETE = object()
S = "credentialSubject"

VIOLATIONS: list[tuple[str, str, Callable[[dict[str, Any]], None], str]] = [
    ("typo in a subject member", MERCHANT, _set(f"{S}/leiCode", "529900T8BM49AURSDO55"), S),
    ("bad LEI check digits", MERCHANT, _set(f"{S}/lei", "529900T8BM49AURSDO56"), f"{S}/lei"),
    ("lower-case LEI", MERCHANT, _set(f"{S}/lei", "529900t8bm49aursdo55"), f"{S}/lei"),
    ("unknown jurisdiction", MERCHANT, _set(f"{S}/jurisdiction", "XX"), f"{S}/jurisdiction"),
    ("lower-case jurisdiction", MERCHANT, _set(f"{S}/jurisdiction", "de"), f"{S}/jurisdiction"),
    ("missing legalName", MERCHANT, _set(f"{S}/legalName", DELETE), S),
    ("plain-string legalName", MERCHANT, _set(f"{S}/legalName", "Müller Handels GmbH"), f"{S}/legalName"),
    ("empty legalName list", MERCHANT, _set(f"{S}/legalName", []), f"{S}/legalName"),
    ("language tag with underscore", MERCHANT, _set(f"{S}/legalName/@language", "de_DE"),
     f"{S}/legalName/@language"),
    ("extra member in a language value", MERCHANT, _set(f"{S}/legalName/@type", "x"), f"{S}/legalName"),
    ("register without name", MERCHANT, _set(f"{S}/register/name", DELETE), f"{S}/register"),
    ("register as a string", MERCHANT, _set(f"{S}/register", "Handelsregister"), f"{S}/register"),
    ("address without country", MERCHANT, _set(f"{S}/registeredAddress/addressCountry", DELETE),
     f"{S}/registeredAddress"),
    ("alpha-3 address country", MERCHANT, _set(f"{S}/registeredAddress/addressCountry", "DEU"),
     f"{S}/registeredAddress/addressCountry"),
    ("subdivision as address country", MERCHANT, _set(f"{S}/registeredAddress/addressCountry", "DE-BY"),
     f"{S}/registeredAddress/addressCountry"),
    ("typo in the address", MERCHANT, _set(f"{S}/registeredAddress/postcode", "80331"), f"{S}/registeredAddress"),
    ("http website", MERCHANT, _set(f"{S}/website", "http://mueller-handel.example"), f"{S}/website"),
    ("javascript website", MERCHANT, _set(f"{S}/website", "javascript:alert(1)"), f"{S}/website"),
    ("subject id not a DID", MERCHANT, _set(f"{S}/id", "https://mueller-handel.example"), f"{S}/id"),
    ("wrong subject type", MERCHANT, _set(f"{S}/type", "Person"), f"{S}/type"),
    ("subject as a list", MERCHANT, lambda d: d.update(credentialSubject=[d["credentialSubject"]]), S),
    ("missing credential type", MERCHANT, _set("type", ["VerifiableCredential"]), "type"),
    ("chopmark context missing", MERCHANT, _set("@context", ["https://www.w3.org/ns/credentials/v2",
                                                             "https://www.w3.org/ns/credentials/examples/v2"]),
     "@context"),
    ("v2 context not first", MERCHANT, _set("@context", ["https://chopmark.org/contexts/chopmark/v1",
                                                         "https://www.w3.org/ns/credentials/v2"]), "@context/0"),
    ("validFrom without zone", MERCHANT, _set("validFrom", "2026-11-25T00:00:00"), "validFrom"),
    ("impossible validUntil", MERCHANT, _set("validUntil", "2027-02-30T00:00:00Z"), "validUntil"),
    ("bad onboardedAt", SELLER, _set(f"{S}/onboardedAt", "2026-11-25"), f"{S}/onboardedAt"),
    ("seller without identity credential", SELLER, _set(f"{S}/identityCredential", DELETE), S),
    ("identity digest not multibase", SELLER, _set(f"{S}/identityCredential/digestMultibase", "zQm123"),
     f"{S}/identityCredential/digestMultibase"),
    ("seller site not a DID", SELLER, _set(f"{S}/site", "site-a"), f"{S}/site"),
    ("unknown entry status", TRUST, _set(f"{S}/authorizations/0/entryStatus", "revoked"),
     f"{S}/authorizations/0/entryStatus"),
    ("empty jurisdiction list", TRUST, _set(f"{S}/authorizations/0/jurisdictions", []),
     f"{S}/authorizations/0/jurisdictions"),
    ("bad jurisdiction in a grant", TRUST, _set(f"{S}/authorizations/0/jurisdictions/1", "France"),
     f"{S}/authorizations/0/jurisdictions/1"),
    ("version as a string", TRUST, _set(f"{S}/trustListVersion", "12"), f"{S}/trustListVersion"),
    ("negative version", TRUST, _set(f"{S}/trustListVersion", -1), f"{S}/trustListVersion"),
    ("typo in a member", TRUST, _set(f"{S}/members/0/onboardingURL", "https://x.example"), f"{S}/members/0"),
    ("member without status", TRUST, _set(f"{S}/members/0/entryStatus", DELETE), f"{S}/members/0"),
]


@pytest.mark.parametrize(("name", "url", "change", "pointer"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_violation_is_reported_at_its_location(name: str, url: str, change: Callable[[dict[str, Any]], None],
                                               pointer: str) -> None:
    document = example(url)
    change(document)
    result = check_schemas(document)
    assert not result.passed
    assert set(codes_of(result)) == {"SCHEMA_INVALID"}
    assert pointer in pointers(result), result.to_dict()
    problem = result.problems[pointers(result).index(pointer)]
    assert problem.detail.startswith(pointer + ":") and problem.extra["schema"] == url
    assert problem.type == "https://chopmark.dev/problems#SCHEMA_INVALID"


def test_one_problem_per_violation() -> None:
    document = example(MERCHANT)
    document[S]["lei"] = "529900T8BM49AURSDO56"
    document[S]["jurisdiction"] = "XX"
    document["validFrom"] = "yesterday"
    result = check_schemas(document)
    assert sorted(p or "" for p in pointers(result)) == [f"{S}/jurisdiction", f"{S}/lei", "validFrom"]


@pytest.mark.parametrize(("changes", "valid"), [
    ({"legalName": [{"@value": "Müller Handels GmbH", "@language": "de"},
                    {"@value": "Mueller Trading Ltd", "@language": "en-GB", "@direction": "ltr"}]}, True),
    ({"jurisdiction": "US-DE", "lei": "HWUPKR0MPOU8FGXBT394"}, True),
    ({"website": "https://shop.example:8443/path?q=1"}, True),
    ({"register": {"name": "Companies House"}}, True),
    ({"type": ["Merchant", "Organization"]}, True),
    ({"legalName": {"@value": "", "@language": "de"}}, False),
])
def test_variants(changes: dict[str, Any], valid: bool) -> None:
    document = example(MERCHANT)
    document[S].update(changes)
    for optional in ("lei", "website"):
        if optional not in changes:
            document[S].pop(optional)  # optional members may be left out
    assert check_schemas(document).passed is valid


def test_wildcard_jurisdiction_is_accepted_in_grants() -> None:
    document = example(TRUST)
    document[S]["authorizations"][0]["jurisdictions"] = ["*"]
    document[S]["authorizations"][0].pop("authorizedUntil")
    assert check_schemas(document).passed


def test_credential_level_additions_are_allowed() -> None:
    document = example(MERCHANT)
    document["credentialStatus"] = {"type": "BitstringStatusListEntry"}
    document["proof"] = {"type": "DataIntegrityProof"}
    assert check_schemas(document).passed


# --- schema references ------------------------------------------------------------------------------------------

@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the schema check opened a network connection")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_unknown_schema_is_reported_not_fetched(no_network: None) -> None:
    document = example(MERCHANT)
    document["credentialSchema"] = {"id": "https://schemas.example/merchant.json", "type": "JsonSchema"}
    result = check_schemas(document)
    assert codes_of(result) == ["UNKNOWN_SCHEMA"]
    assert pointers(result) == ["credentialSchema/id"]


def test_unsupported_schema_type() -> None:
    document = example(MERCHANT)
    document["credentialSchema"] = {"id": MERCHANT, "type": "JsonSchemaCredential"}
    result = check_schemas(document)
    assert codes_of(result) == ["UNSUPPORTED_SCHEMA_TYPE"]
    assert pointers(result) == ["credentialSchema/type"]


def test_every_listed_schema_is_applied() -> None:
    document = example(MERCHANT)
    document["credentialSchema"] = [{"id": MERCHANT, "type": "JsonSchema"}, {"id": SELLER, "type": "JsonSchema"}]
    result = check_schemas(document)
    assert not result.passed  # a merchant credential is no seller credential
    assert {p.extra.get("schema") for p in result.problems} == {SELLER}
    assert result.details["schemas"] == [MERCHANT]
    document["credentialSchema"][1] = {"id": "urn:x", "type": "JsonSchema"}
    assert pointers(check_schemas(document)) == ["credentialSchema/1/id"]


def test_credential_without_a_schema_passes_with_nothing_checked() -> None:
    document = example(MERCHANT)
    del document["credentialSchema"]
    document[S]["lei"] = "bad"
    result = check_schemas(document)
    assert result.passed and result.details == {"schemas": []}
    validate_for_issuance(document)


def test_validate_for_issuance_raises_the_first_violation() -> None:
    validate_for_issuance(example(TRUST))
    document = example(MERCHANT)
    document[S]["jurisdiction"] = "XX"
    with pytest.raises(SchemaValidationError) as info:
        validate_or_raise(document)
    error = info.value
    assert (error.instance_code, error.status, error.pointer) == ("SCHEMA_INVALID", 422, f"{S}/jurisdiction")
    assert error.to_problem().to_dict()["type"] == "https://chopmark.dev/problems#SCHEMA_INVALID"


# --- hostile input ------------------------------------------------------------------------------------------------

def _deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


def _hostile() -> list[Any]:
    base = example(MERCHANT)
    cases: list[Any] = [None, 5, "credential", [], [base], {}, {"credentialSchema": None},
                        {"credentialSchema": "https://chopmark.org/schemas/merchant-identity/v1"},
                        {"credentialSchema": [5, None, []]}, {"credentialSchema": {"id": 5, "type": "JsonSchema"}},
                        {**base, "credentialSchema": [{"id": MERCHANT, "type": "JsonSchema"}] * 100},
                        {**base, S: _deep(5000)}, {**base, "extra": _deep(5000)},
                        {**base, S: {**base[S], "legalName": {"@value": "x" * 1_000_000, "@language": "de"}}},
                        {**base, S: {**base[S], **{f"extra{i}": i for i in range(5000)}}},
                        {**base, S: {**base[S], "lei": float("nan")}},
                        {**base, 1: "non-string key"},
                        {**base, S: {**base[S], "registeredAddress": {"addressCountry": ("DE",)}}}]
    trust = example(TRUST)
    trust[S]["authorizations"] = [{"entryStatus": "bad"}] * 5000
    cases.append(trust)
    return cases


@pytest.mark.parametrize("document", _hostile(), ids=lambda d: type(d).__name__)
def test_hostile_input_never_raises(document: Any) -> None:
    result = check_schemas(document)
    assert isinstance(result, CheckResult)
    assert len(result.problems) <= MAX_PROBLEMS
    assert all(len(p.detail) < 1000 for p in result.problems)
    json.dumps(result.to_dict())


def test_problems_are_capped() -> None:
    document = example(TRUST)
    document[S]["authorizations"] = [{"entryStatus": "bad"}] * 500
    result = check_schemas(document)
    assert len(result.problems) == MAX_PROBLEMS


# --- the kernel hook -------------------------------------------------------------------------------------------------

def _issued(document: dict[str, Any]) -> dict[str, Any]:
    did, signer = did_key_signer(PAIR)
    return issue(document, signer, issuer=did, created="2026-11-25T00:00:00Z")


def test_verify_credential_runs_the_schema_check_only_when_asked() -> None:
    signed = _issued(example(MERCHANT))
    plain = verify_credential(signed, resolver=Resolver(), now=NOW)
    assert plain.verified and plain.check("schema") is None
    checked = verify_credential(signed, resolver=Resolver(), now=NOW, schema_checker=check_schemas)
    assert checked.verified, checked.to_dict()
    assert require_check(checked, "schema").details == {"schemas": [MERCHANT]}


def test_a_signed_credential_that_breaks_its_schema_fails_only_the_schema_check() -> None:
    document = example(MERCHANT)
    document[S]["lei"] = "529900T8BM49AURSDO56"
    signed = _issued(document)
    result = verify_credential(signed, resolver=Resolver(), now=NOW, schema_checker=check_schemas)
    assert not result.verified
    assert [c.check for c in result.checks if not c.passed] == ["schema"]
    assert pointers(require_check(result, "schema")) == [f"{S}/lei"]


def test_no_schema_check_without_credential_schema() -> None:
    document = example(MERCHANT)
    del document["credentialSchema"]
    result = verify_credential(_issued(document), resolver=Resolver(), now=NOW, schema_checker=check_schemas)
    assert result.verified and result.check("schema") is None


def test_a_raising_checker_becomes_a_failed_check() -> None:
    def broken(credential: Any) -> CheckResult:
        raise SchemaValidationError("checker failed")
    result = verify_credential(_issued(example(MERCHANT)), resolver=Resolver(), now=NOW, schema_checker=broken)
    assert codes_of(require_check(result, "schema")) == ["SCHEMA_INVALID"]


def test_presentations_pass_the_checker_to_each_credential() -> None:
    good = _issued(example(MERCHANT))
    bad_doc = example(MERCHANT)
    bad_doc[S]["jurisdiction"] = "XX"
    bad = _issued(bad_doc)
    did, signer = did_key_signer(PAIR)
    vp = create_presentation([good, bad], holder=did)
    signed = sign_presentation(vp, signer, challenge="c-1", domain="site-a", created="2026-11-30T00:00:00Z")
    result = verify_presentation(signed, resolver=Resolver(), now=NOW, challenge="c-1", domain="site-a",
                                 schema_checker=check_schemas)
    assert [require_check(c, "schema").passed for c in result.credentials] == [True, False]
    unchecked = verify_presentation(signed, resolver=Resolver(), now=NOW, challenge="c-1", domain="site-a")
    assert unchecked.verified and all(c.check("schema") is None for c in unchecked.credentials)


def test_self_asserted_credentials_are_schema_checked_too() -> None:
    did, signer = did_key_signer(PAIR)
    claim = copy.deepcopy(example(MERCHANT))
    claim["issuer"] = did
    claim[S]["lei"] = "bad"
    vp = create_presentation([claim], holder=did)
    signed = sign_presentation(vp, signer, challenge="c-2", created="2026-11-30T00:00:00Z")
    result = verify_presentation(signed, resolver=Resolver(), now=NOW, challenge="c-2", schema_checker=check_schemas)
    enclosed = result.credentials[0]
    assert require_check(enclosed, "selfAsserted").passed
    assert pointers(require_check(enclosed, "schema")) == [f"{S}/lei"]
