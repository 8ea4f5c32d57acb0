"""The OpenAPI document (``GET /openapi.json``): valid OpenAPI 3.0, complete (every Flask route and nothing else),
truthful (schemathesis over the WSGI app: no 5xx, only documented statuses and content types, bodies matching
their schemas, declared auth enforced) and aligned with the official VCALM schemas: our real responses validate
against ``/work/shared/vectors/vcalm/components/*.yml`` and ``oas.yaml``."""

from __future__ import annotations

import contextlib
import copy
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import schemathesis
import yaml
from flask import Flask
from flask.testing import FlaskClient
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.specs.openapi.definitions import OPENAPI_30

from chopmark.app import API_FRAGMENTS
from chopmark.dids.key import did_key_signer
from chopmark.errors import UsageError
from chopmark.keys import KeyPair, KeyType
from chopmark.vc.presentations import create_presentation, sign_presentation
from chopmark.web.openapi import SERVICE, Fragment, document
from chopmark.web.settings import Settings
from tests.support.service import Tenants, unsigned_credential
from verifier.sites import Sites

DOC = document(Settings.load({}, env={}).public_url, API_FRAGMENTS)
METHODS = ("get", "put", "post", "delete", "patch")
PUBLIC = {("get", "/.well-known/did.json"), ("get", "/issuers/{name}/did.json"), ("get", "/status-lists/{id}"),
          ("post", "/credentials/verify"), ("post", "/presentations/verify"), ("post", "/challenges"),
          ("get", "/health"), ("get", "/"), ("get", "/openapi.json"),
          ("get", "/contexts/chopmark/v1"), ("get", "/schemas/{schema}/v1"), ("post", "/issuers/{name}/exchanges"),
          ("post", "/issuers/{name}/exchanges/{exchange_id}"), ("get", "/sites"), ("get", "/sites/{site}"),
          ("post", "/sites/{site}/onboarding"), ("post", "/sites/{site}/onboarding/{exchange_id}"),
          ("get", "/sites/{site}/onboarding/{exchange_id}"), ("post", "/trust/authorization"),
          ("get", "/trust/list"), ("get", "/log/entries/{index}"), ("get", "/log/proofs/inclusion"),
          ("get", "/log/proofs/consistency"), ("get", "/log/checkpoint"), ("get", "/log/key"), ("get", "/log/entries"),
          ("get", "/campaigns/{campaign_id}"), ("get", "/campaigns/{campaign_id}/leaves"),
          ("get", "/campaigns/{campaign_id}/receipts/{order_number}"), ("post", "/rank-receipts/verify")}


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every ``(method, path, operation)`` of an OpenAPI document."""
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method, path, op


def shape(path: str) -> str:
    """A path with every Flask ``<param>`` or OpenAPI ``{param}`` replaced by ``{}``."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


# --- (a) a valid, complete document -----------------------------------------------------------------------

def test_document_is_valid_openapi_30() -> None:
    """Validates against the OpenAPI 3.0 meta-schema (bundled by schemathesis) and, when installed, against
    openapi-spec-validator; schemathesis loads every operation without a schema error."""
    errors = sorted(jsonschema.Draft4Validator(OPENAPI_30).iter_errors(DOC), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    with contextlib.suppress(ImportError):  # not a test dependency; used when present
        from openapi_spec_validator import validate  # type: ignore[import-not-found]
        validate(DOC)
    results = list(schemathesis.openapi.from_dict(copy.deepcopy(DOC)).get_all_operations())
    assert all(isinstance(r, Ok) for r in results), [r for r in results if not isinstance(r, Ok)]
    assert len(results) == len(list(operations(DOC))) == 64


def test_served_document_is_the_builder_output(client: FlaskClient, service_settings: Settings) -> None:
    """``GET /openapi.json`` serves ``document(public_url, API_FRAGMENTS)`` with the configured public URL as its
    server."""
    reply = client.get("/openapi.json")
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    assert reply.json == document(service_settings.public_url, API_FRAGMENTS)
    assert reply.json["servers"] == [{"url": service_settings.public_url}]


def test_every_route_is_documented_and_nothing_else(app: Flask) -> None:
    """The Flask URL map (without ``static``, HEAD and OPTIONS) and the document's operations are the same set,
    and every ``{param}`` of a path is declared as a path parameter of each of its operations."""
    routes = {(method.lower(), shape(rule.rule)) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    documented = {(method, shape(path)) for method, path, _ in operations(DOC)}
    assert routes == documented, {"undocumented": routes - documented, "not served": documented - routes}
    for _, path, op in operations(DOC):
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{([^}]+)\}", path)), path


def test_operations_have_ids_tags_and_the_right_security() -> None:
    """Unique operationIds, one known tag each, bearer security exactly on the protected operations (and an
    explicit empty ``security`` on public ones)."""
    ids = [op["operationId"] for _, _, op in operations(DOC)]
    assert len(ids) == len(set(ids))
    tags = {t["name"] for t in DOC["tags"]}
    schemes = DOC["components"]["securitySchemes"]
    assert list(schemes) == ["bearerAuth"]
    assert (schemes["bearerAuth"]["type"], schemes["bearerAuth"]["scheme"]) == ("http", "bearer")
    for method, path, op in operations(DOC):
        assert len(op["tags"]) == 1 and op["tags"][0] in tags, (method, path)
        expected = [] if (method, path) in PUBLIC else [{"bearerAuth": []}]
        assert op["security"] == expected, (method, path)
        if path.startswith("/admin/"):
            assert op["tags"] == ["admin"]


def test_errors_are_problem_details_and_shared_statuses_are_listed() -> None:
    """Every 4xx/5xx response offers ``application/problem+json`` with ProblemDetails (type, title, detail,
    status, code required; other members allowed); every operation lists 401, 429 and 503, and every operation
    with a JSON body 400, 413 and 415; protected ones 403."""
    problem = DOC["components"]["schemas"]["ProblemDetails"]
    assert problem["required"] == ["type", "title", "detail", "status", "code"]
    assert problem.get("additionalProperties", True) is not False
    for method, path, op in operations(DOC):
        codes = set(op["responses"])
        assert {"401", "429", "503"} <= codes, (method, path)
        if "requestBody" in op:
            assert {"400", "413", "415"} <= codes, (method, path)
        if (method, path) not in PUBLIC:
            assert "403" in codes, (method, path)
        assert any(code.startswith("2") for code in codes), (method, path)
        for code, response in op["responses"].items():
            if int(code) >= 400:
                if "$ref" in response:
                    response = DOC["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
                content = response["content"]
                schema = content["application/problem+json"]["schema"]
                assert schema["allOf"][0] == {"$ref": "#/components/schemas/ProblemDetails"}
                assert schema["allOf"][1]["properties"]["status"] == {"enum": [int(code)]}
    assert "Retry-After" in DOC["components"]["responses"]["RateLimited"]["headers"]
    assert "Allow" in DOC["components"]["responses"]["MethodNotAllowed"]["headers"]


def test_security_declarations_match_behaviour(client: FlaskClient, tenants: Tenants) -> None:
    """Without a token, every protected operation answers 401 and no public one does."""
    for method, path, op in operations(DOC):
        url = path.replace("{name}", "alpha").replace("{key_id}", "key-1").replace("{token_id}", "0" * 16)
        url = url.replace("{id}", "alpha.revocation.0").replace("{site}", "alpha").replace("{exchange_id}", "x")
        url = url.replace("{account}", "acct_x").replace("{entry_id}", "urn:uuid:x").replace("{member_id}", "did:x:y")
        url = url.replace("{schema}", "merchant-identity").replace("{index}", "0")
        url = url.replace("{campaign_id}", "cmp-0123456789abcdef").replace("{order_number}", "1")
        kwargs: dict[str, Any] = {"json": {}} if "requestBody" in op else {}
        reply = client.open(url, method=method.upper(), **kwargs)
        assert (reply.status_code == 401) == ((method, path) not in PUBLIC), (method, path, reply.status_code)
        if reply.status_code == 401:
            assert reply.mimetype == "application/problem+json"


# --- (b) schemathesis over the WSGI app ----------------------------------------------------------------------

class CurrentApp:
    """A WSGI callable forwarding to the running test's Flask app: the schemathesis schema is built at import
    time, the app per test (the ``app`` fixture, on a temporary store)."""

    app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Serve the request with the bound app."""
        assert self.app is not None, "no app bound"
        return self.app(environ, start_response)


CURRENT = CurrentApp()
CONFIG = SchemathesisConfig.from_dict({
    "seed": 20261124,
    "suppress-health-check": ["all"],  # function-scoped fixtures are shared by a test's examples on purpose
    "generation": {"max-examples": 30, "deterministic": True, "mode": "all", "database": "none"},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
               "stateful": {"enabled": False}},
})
SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(DOC), config=CONFIG)
SCHEMA.app = CURRENT
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, ignored_auth, unsupported_method]


@dataclass
class Existing:
    """Resources that exist, so a share of the generated cases reaches the success paths."""

    credential_id: str
    verifiable_credential: dict[str, Any]
    status_list_id: str
    token_id: str
    client: FlaskClient
    calls: int = field(default=0)
    campaign_id: str = ""

    def aim(self, case: Any) -> None:
        """Point every other case at an existing credential, status list or token (deterministically)."""
        self.calls += 1
        if self.calls % 2:
            return
        path, params, body = case.operation.path, case.path_parameters, case.body
        if path == "/credentials/{id}":
            params["id"] = self.credential_id
        elif path == "/status-lists/{id}":
            params["id"] = self.status_list_id
        elif path == "/admin/tokens/{token_id}":
            params["token_id"] = self.token_id
        elif path == "/credentials/status" and isinstance(body, dict):
            body["credentialId"] = self.credential_id
        elif path == "/credentials/verify" and isinstance(body, dict):
            body["verifiableCredential"] = copy.deepcopy(self.verifiable_credential)
        elif path == "/log/entries/{index}":  # the issued credential's log entry
            params["index"] = 0
        elif path == "/log/proofs/inclusion" and isinstance(case.query, dict):
            case.query.pop("hash", None)
            case.query.update(index=0, size=1)
        elif "{campaign_id}" in path:
            params["campaign_id"] = self.campaign_id
        else:
            self._aim_identity(path, params)

    def _aim_identity(self, path: str, params: dict[str, Any]) -> None:
        """Sites, onboarding and KYB exchanges: an existing site (alpha has a profile) and an open exchange."""
        if "{site}" in path:
            params["site"] = "alpha"
        if path == "/sites/{site}/onboarding/{exchange_id}":
            params["exchange_id"] = self.client.post("/sites/alpha/onboarding").json["id"]
        elif path == "/issuers/{name}/exchanges/{exchange_id}":
            params["name"] = "alpha"
            params["exchange_id"] = self.client.post("/issuers/alpha/exchanges").json["exchangeId"]
        elif path == "/schemas/{schema}/v1":
            params["schema"] = "merchant-identity"


@pytest.fixture
def existing(app: Flask, client: FlaskClient, tenants: Tenants) -> Iterator[Existing]:
    """An issued credential of ``alpha``, a status list and a spare token; the schema's requests go to ``app``."""
    issued = client.post("/credentials/issue", json={"credential": unsigned_credential()},
                         headers=tenants.auth("alpha"))
    assert issued.status_code == 201, issued.json
    listed = client.post("/status-lists", json={"statusPurpose": "revocation"}, headers=tenants.auth("alpha"))
    assert listed.status_code == 201, listed.json
    spare = tenants.registry.tokens.create(issuer="beta", scopes="issue")
    Sites(tenants.registry.store, did_for=tenants.registry.issuers.did_of).put("alpha", {})
    CURRENT.app = app
    yield Existing(issued.json["credentialId"], issued.json["verifiableCredential"],
                   listed.json["id"].rsplit("/", 1)[1], spare["id"], client,
                   campaign_id=closed_campaign(client, tenants))
    CURRENT.app = None


def closed_campaign(client: FlaskClient, tenants: Tenants) -> str:
    """A closed ranking campaign of ``alpha`` with three orders (its window is in the past)."""
    created = client.post("/issuers/alpha/campaigns", json={"sku": "S-1", "gifts": 2, "windowStart":
                          "2026-01-01T00:00:00Z", "windowEnd": "2026-01-02T00:00:00Z"}, headers=tenants.auth("alpha"))
    orders = [{"orderNumber": str(n), "paymentTime": f"2026-01-01T00:00:0{n}Z", "buyerReference": f"b{n}"}
              for n in (1, 2, 3)]
    client.post(f"/campaigns/{created.json['id']}/orders", json={"orders": orders}, headers=tenants.auth("alpha"))
    assert client.post(f"/campaigns/{created.json['id']}/close", headers=tenants.auth("alpha")).status_code == 200
    return str(created.json["id"])


def token_for(case: Any, tenants: Tenants) -> dict[str, str]:
    """A valid Authorization header for protected operations: the global admin token for administration and
    for ``/issuers/{name}/...`` (it may act for every issuer), alpha's ``issue,status`` token otherwise."""
    if not case.operation.definition.raw.get("security"):
        return {}
    if case.operation.path.startswith(("/admin/", "/issuers/")):
        return tenants.auth("admin")
    return tenants.auth("alpha")


@SCHEMA.parametrize()
def test_api_conforms_to_its_document(case: Any, existing: Existing, tenants: Tenants) -> None:
    """Generated requests (examples, coverage and fuzzing phases; valid and invalid data; with a valid token and,
    in negative cases and ignored_auth probes, without one): never 5xx, only documented statuses, content types
    and bodies; declared auth enforced; undocumented methods 405."""
    existing.aim(case)
    case.call_and_validate(headers=token_for(case, tenants), checks=CHECKS)


# --- (c) real responses against the official VCALM schemas --------------------------------------------------

@cache
def _load(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def _resolve(node: Any, base: Path, load: Callable[[Path], dict[str, Any]]) -> Any:
    """Inline every ``$ref`` (relative file and/or JSON pointer) and turn OpenAPI 3.0 ``nullable`` into a JSON
    Schema type list."""
    if isinstance(node, list):
        return [_resolve(item, base, load) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target, _, pointer = node["$ref"].partition("#")
        where = (base.parent / target).resolve() if target else base
        found: Any = load(where)
        for part in pointer.strip("/").split("/"):
            found = found[part.replace("~1", "/").replace("~0", "~")]
        return _resolve(found, where, load)
    out = {key: _resolve(value, base, load) for key, value in node.items()}
    if out.pop("nullable", False) is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def vcalm(vectors: Path, name: str) -> dict[str, Any]:
    """VCALM schema ``name``: ``File.yml#Schema`` for a component file, or a schema of ``oas.yaml``."""
    file, _, schema = name.rpartition("#")
    path = vectors / "vcalm" / (f"components/{file}" if file else "oas.yaml")
    if not path.is_file():
        pytest.fail(f"VCALM file missing: {path}")
    return dict(_resolve({"$ref": f"#/components/schemas/{schema}"}, path, _load))


def ours(name: str) -> dict[str, Any]:
    """Schema ``name`` of our own document, references inlined."""
    return dict(_resolve({"$ref": f"#/components/schemas/{name}"}, Path("/openapi.json"), lambda _: DOC))


def assert_valid(instance: Any, schema: dict[str, Any]) -> None:
    """Fail with every validation error of ``instance`` (JSON Schema draft 4, as OpenAPI 3.0)."""
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft4Validator(schema).iter_errors(instance)]
    assert not errors, errors


def test_request_schemas_align_with_vcalm(vectors: Path) -> None:
    """Our request schemas accept every member VCALM defines (with the same required ones) and shared
    operations keep VCALM's operationId and success status."""
    names = ["IssueCredentialRequest", "VerifyCredentialRequest", "VerifyPresentationRequest",
             "UpdateCredentialStatusRequest", "CreateStatusListRequest", "Challenge.yml#CreateChallengeResult",
             *(f"{n}.yml#{n}" for n in ("IssueCredentialOptions", "VerifyCredentialOptions",
                                        "VerifyPresentationOptions"))]
    for theirs in names:
        official, mine = vcalm(vectors, theirs), theirs.rpartition("#")[2]
        assert set(official["properties"]) <= set(ours(mine)["properties"]), mine
        assert set(official.get("required", [])) <= set(ours(mine).get("required", [])), mine
    official_doc = _load(vectors / "vcalm" / "oas.yaml")
    shared = 0
    for method, path, op in operations(official_doc):
        mine_op = DOC["paths"].get(path, {}).get(method)
        if mine_op is None:
            continue
        shared += 1
        assert mine_op["operationId"] == op["operationId"], (method, path)
        success = {code for code in op["responses"] if code.startswith("2")}
        assert success <= set(mine_op["responses"]), (method, path)
    assert shared == 9  # issue, status, status-lists (2), credentials (2), verify (2), challenges


def test_issue_and_get_responses_match_vcalm(client: FlaskClient, tenants: Tenants, vectors: Path) -> None:
    """The issue request is a VCALM IssueCredentialRequest; the 201 and ``GET /credentials/{id}`` bodies are
    VCALM VerifiableCredentialResponses (and match our document)."""
    body = {"credential": unsigned_credential(id="urn:example:vcalm-1"), "options": {"mandatoryPointers": ["/issuer"]}}
    assert_valid(body, vcalm(vectors, "IssueCredentialRequest"))
    issued = client.post("/credentials/issue", json=body, headers=tenants.auth("alpha"))
    assert issued.status_code == 201, issued.json
    for schema in (vcalm(vectors, "VerifiableCredentialResponse.yml#VerifiableCredentialResponse"),
                   vcalm(vectors, "IssueCredentialResponse"), ours("IssueCredentialResponse")):
        assert_valid(issued.json, schema)
    fetched = client.get("/credentials/urn:example:vcalm-1", headers=tenants.auth("alpha"))
    assert fetched.status_code == 200
    assert_valid(fetched.json, vcalm(vectors, "VerifiableCredentialResponse.yml#VerifiableCredentialResponse"))
    assert fetched.json == {"verifiableCredential": issued.json["verifiableCredential"]}


def test_verify_responses_match_vcalm(client: FlaskClient, tenants: Tenants, vectors: Path) -> None:
    """VerificationResult (additionalProperties false) holds for a verified credential, a tampered one, one with
    malformed dates and one whose status is set; requests are VCALM VerifyCredentialRequests."""
    official, mine = vcalm(vectors, "VerifyCredentialResult.yml#VerificationResult"), ours("VerificationResult")
    issued = client.post("/credentials/issue", json={"credential": unsigned_credential(
        validFrom="2026-01-01T00:00:00Z", validUntil="2036-01-01T00:00:00Z")}, headers=tenants.auth("alpha")).json
    vc = issued["verifiableCredential"]
    tampered = {**vc, "credentialSubject": {"id": "did:example:someone-else"}}
    malformed = {**vc, "validFrom": 5, "validUntil": {"not": "a date"}}
    cases = [(vc, {"returnCredential": True}, 200), (tampered, {}, 400), (malformed, {"returnCredential": True}, 400),
             (vc, {"returnResults": False, "returnProblemDetails": False}, 200)]
    for credential, options, status in cases:
        body = {"verifiableCredential": credential, "options": options}
        assert_valid(body, vcalm(vectors, "VerifyCredentialRequest"))
        reply = client.post("/credentials/verify", json=body)
        assert (reply.status_code, reply.json["verified"]) == (status, status == 200), reply.json
        assert_valid(reply.json, official)
        assert_valid(reply.json, mine)
    dates = client.post("/credentials/verify", json={"verifiableCredential": malformed}).json["results"]
    assert dates["validFrom"] == {"verified": False, "input": "5"}
    assert dates["validUntil"]["verified"] is False
    update = {"credentialId": issued["credentialId"], "status": True,
              "credentialStatus": {"type": "BitstringStatusList", "statusPurpose": "revocation"}}
    assert_valid(update, vcalm(vectors, "UpdateCredentialStatusRequest"))
    assert client.post("/credentials/status", json=update, headers=tenants.auth("alpha")).status_code == 200
    revoked = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert revoked.status_code == 400
    by_purpose = {item["input"]["statusPurpose"]: item for item in revoked.json["results"]["credentialStatus"]}
    assert by_purpose["revocation"]["verified"] is False
    assert [p["code"] for p in by_purpose["revocation"]["problemDetails"]] == ["REVOKED"]
    assert_valid(revoked.json, official)


def test_presentation_and_challenge_responses_match_vcalm(client: FlaskClient, tenants: Tenants,
                                                           vectors: Path) -> None:
    """CreateChallengeResult, then VerifyPresentationResult for a verified presentation, for the replay of its
    (single-use) challenge, and for a presentation holding a credential that is not an object."""
    challenge = client.post("/challenges")
    assert challenge.status_code == 200
    assert_valid(challenge.json, vcalm(vectors, "Challenge.yml#CreateChallengeResult"))
    vc = client.post("/credentials/issue", json={"credential": unsigned_credential()},
                     headers=tenants.auth("alpha")).json["verifiableCredential"]
    holder, signer = did_key_signer(KeyPair.generate(KeyType.ED25519, os.urandom))
    vp = sign_presentation(create_presentation([vc], holder=holder), signer, challenge=challenge.json["challenge"],
                           domain="verifier.example")
    body = {"verifiablePresentation": vp, "options": {"challenge": challenge.json["challenge"],
                                                      "domain": "verifier.example", "returnPresentation": True}}
    assert_valid(body, vcalm(vectors, "VerifyPresentationRequest"))
    official = vcalm(vectors, "VerifyPresentationResult.yml#VerificationResult")
    mine = ours("PresentationVerificationResult")
    first, replay = client.post("/presentations/verify", json=body), client.post("/presentations/verify", json=body)
    assert (first.status_code, first.json["verified"]) == (200, True), first.json
    assert (replay.status_code, replay.json["verified"]) == (400, False)
    assert replay.json["results"]["presentation"]["challenge"]["verified"] is False
    odd = {"@context": vp["@context"], "type": vp["type"], "verifiableCredential": [vc, "not-an-object", 7]}
    mixed = client.post("/presentations/verify", json={"verifiablePresentation": odd})
    assert mixed.status_code == 400
    for reply in (first, replay, mixed):
        assert_valid(reply.json, official)
        assert_valid(reply.json, mine)


def test_status_list_and_problem_responses_match_vcalm(client: FlaskClient, tenants: Tenants,
                                                        vectors: Path) -> None:
    """CreateStatusListRequest/Response, the served list as a VCALM VerifiableCredential, and error bodies as
    VCALM ProblemDetails."""
    body = {"statusPurpose": "suspension"}
    assert_valid(body, vcalm(vectors, "CreateStatusListRequest"))
    created = client.post("/status-lists", json=body, headers=tenants.auth("alpha"))
    assert created.status_code == 201 and created.headers["Location"] == created.json["id"]
    assert_valid(created.json, vcalm(vectors, "CreateStatusListResponse"))
    served = client.get(urlsplit(created.json["id"]).path)
    assert served.status_code == 200
    assert_valid(served.json, vcalm(vectors, "VerifiableCredential.yml#VerifiableCredential"))
    assert_valid(served.json, ours("VerifiableCredential"))
    unchanged = client.get(urlsplit(created.json["id"]).path, headers={"If-None-Match": served.headers["ETag"]})
    assert (unchanged.status_code, unchanged.data, unchanged.headers["ETag"]) == (304, b"", served.headers["ETag"])
    assert "304" in DOC["paths"]["/status-lists/{id}"]["get"]["responses"]
    problems = [client.get("/credentials/nope", headers=tenants.auth("alpha")), client.get("/nowhere"),
                client.post("/credentials/verify", data="{", content_type="application/json")]
    for reply in problems:
        assert reply.mimetype == "application/problem+json"
        assert_valid(reply.json, vcalm(vectors, "ProblemDetails.yml#ProblemDetails"))
        assert_valid(reply.json, ours("ProblemDetails"))


def test_fragments_may_not_describe_the_same_path_or_schema_twice() -> None:
    """Two roles describing one path (or one schema name) is a wiring mistake: the assembler refuses it."""
    twice = Fragment(paths=lambda: {"/x": {}})
    with pytest.raises(UsageError, match="same path twice: /x"):
        document("https://example.com", [twice, twice])
    shadow = Fragment(schemas=lambda: {"ProblemDetails": {}})  # a shared schema of the VC API
    with pytest.raises(UsageError, match="same schema twice: ProblemDetails"):
        document("https://example.com", [shadow])


def test_fragments_order_the_document() -> None:
    """Tags, paths and schemas follow the fragments' order; the service's own tag closes the tag list."""
    first = Fragment(paths=lambda: {"/b": {}}, schemas=lambda: {"B": {}}, tag={"name": "b", "description": "B"})
    second = Fragment(paths=lambda: {"/a": {}}, schemas=lambda: {"A": {}}, tag={"name": "a", "description": "A"})
    doc = document("https://example.com", [first, SERVICE, second])
    assert [t["name"] for t in doc["tags"]] == ["b", "a", "service"]
    assert list(doc["paths"]) == ["/b", "/health", "/", "/openapi.json", "/a"]
    assert list(doc["components"]["schemas"])[-2:] == ["B", "A"]
