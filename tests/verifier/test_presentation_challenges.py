"""Issue 11 over real HTTP: presentations with the caller's challenge, single use of this service's challenges,
``CHALLENGE_NOT_CHECKED``, and the warnings that name every check ``options.checks`` leaves out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chopmark.dids.key import did_key_signer
from chopmark.keys import KeyPair, KeyType
from chopmark.vc.credentials import issue
from chopmark.vc.presentations import create_presentation, sign_presentation
from tests.support.live import Deployment, Reply, deployed, post, problem_codes, unsigned

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("verifier-challenges")]

DOMAIN = "verifier.example"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One server (SQLite) with issuer ``acme`` for the module."""
    with deployed(Path(tmp_path_factory.mktemp("challenges"))) as deployment:
        yield deployment


def presented(credentials: list[dict[str, Any]], challenge: str | None, domain: str | None = DOMAIN
              ) -> dict[str, Any]:
    """A presentation by a fresh did:key holder, proved for ``challenge`` and ``domain``."""
    holder, signer = did_key_signer(KeyPair.generate(KeyType.ED25519, os.urandom))
    return sign_presentation(create_presentation(credentials, holder=holder), signer, challenge=challenge,
                             domain=domain)


def verify_vp(live: Deployment, vp: dict[str, Any], **options: Any) -> Reply:
    """``POST /presentations/verify`` with ``options``."""
    return post(live.at("/presentations/verify"), {"verifiablePresentation": vp, "options": options})


def warnings(body: Any) -> list[dict[str, Any]]:
    """A result's warnings: the problem details with ``severity: warning`` (checks not performed)."""
    return [p for p in body.get("problemDetails", []) if p.get("severity") == "warning"]


def warning_codes(body: Any) -> list[str]:
    """The codes of a result's warnings."""
    return [w["code"] for w in warnings(body)]


def test_caller_chosen_challenge_is_accepted(live: Deployment) -> None:
    # The W3C VCDM suite picks its own challenge and names it in options.challenge
    _, vc = live.issued()
    vp = presented([vc], "u-suite-chosen-123")
    reply = verify_vp(live, vp, challenge="u-suite-chosen-123", domain=DOMAIN)
    assert (reply.status, reply.json["verified"]) == (200, True), reply.json
    assert reply.json["results"]["presentation"]["challenge"] == {"verified": True, "input": "u-suite-chosen-123"}
    assert "CHALLENGE_NOT_CHECKED" not in warning_codes(reply.json)


def test_caller_challenge_must_equal_the_proofs(live: Deployment) -> None:
    vp = presented([], "u-one")
    reply = verify_vp(live, vp, challenge="u-other", domain=DOMAIN)
    assert reply.status == 400, reply.json
    assert "INVALID_CHALLENGE_ERROR" in problem_codes(reply.json), reply.json
    wrong_domain = verify_vp(live, vp, challenge="u-one", domain="elsewhere.example")
    assert wrong_domain.status == 400, wrong_domain.json


def test_service_challenge_is_consumed_even_when_not_named(live: Deployment) -> None:
    challenge = post(live.at("/challenges"), {}).json["challenge"]
    vp = presented([], challenge)
    first = verify_vp(live, vp, domain=DOMAIN)  # the caller does not name it: it is still single use
    assert (first.status, first.json["verified"]) == (200, True), first.json
    assert "CHALLENGE_NOT_CHECKED" not in warning_codes(first.json)
    replayed = verify_vp(live, vp, domain=DOMAIN)
    assert (replayed.status, replayed.json["verified"]) == (400, False), replayed.json
    assert "INVALID_CHALLENGE_ERROR" in problem_codes(replayed.json, "challenge"), replayed.json
    named = verify_vp(live, vp, challenge=challenge, domain=DOMAIN)
    assert named.status == 400, named.json


def test_presentation_without_checked_challenge_warns(live: Deployment) -> None:
    vp = presented([], "u-not-ours")
    reply = verify_vp(live, vp)
    assert (reply.status, reply.json["verified"]) == (200, True), reply.json
    assert "CHALLENGE_NOT_CHECKED" in warning_codes(reply.json), reply.json
    bare = verify_vp(live, presented([], None, None))
    assert bare.status == 200 and "CHALLENGE_NOT_CHECKED" in warning_codes(bare.json), bare.json


def test_unsigned_presentation_is_refused(live: Deployment) -> None:
    _, vc = live.issued()
    reply = verify_vp(live, create_presentation([vc]), challenge="u-x", domain=DOMAIN)
    assert reply.status == 400, reply.json


def attacker_credential(issuer_did: str) -> dict[str, Any]:
    """A credential naming ``issuer_did`` but signed by an attacker's did:key."""
    _, signer = did_key_signer(KeyPair.generate(KeyType.ED25519, os.urandom))
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return issue(unsigned(), signer, issuer=issuer_did, created=created)


def test_narrowed_checks_warn_about_the_issuer_binding(live: Deployment) -> None:
    forged = attacker_credential(live.issuer["did"])
    full = live.verify(forged)
    assert full.status == 400 and "ISSUER_MISMATCH" in problem_codes(full.json, "issuerBinding"), full.json
    body = {"verifiableCredential": forged, "options": {"checks": ["proof", "status"]}}
    narrowed = post(live.at("/credentials/verify"), body)
    assert narrowed.status == 200, narrowed.json  # the option is kept ...
    skipped = {w["code"]: w["check"] for w in warnings(narrowed.json)}  # ... but says what it skipped
    assert skipped == {"ISSUER_BINDING_NOT_CHECKED": "issuerBinding", "VALIDITY_NOT_CHECKED": "validity",
                        "SCHEMA_NOT_CHECKED": "schema"}, narrowed.json


def test_narrowed_checks_warn_inside_presentations(live: Deployment) -> None:
    vp = presented([attacker_credential(live.issuer["did"])], "u-narrow")
    reply = verify_vp(live, vp, challenge="u-narrow", domain=DOMAIN, checks=["proof"])
    assert reply.status == 200, reply.json
    inner = warning_codes(reply.json["results"]["credentials"][0])
    assert "ISSUER_BINDING_NOT_CHECKED" in inner and "STATUS_NOT_CHECKED" in inner, reply.json


def test_full_verification_has_no_warnings(live: Deployment) -> None:
    _, vc = live.issued()
    reply = live.verify(vc)
    assert (reply.status, reply.json["problemDetails"]) == (200, []), reply.json


# --- credentialSchema of other types, relatedResource digests (issue and verify) ---------------------------------

SUITE_SCHEMAS = [{"type": "https://example.org/#ExampleTestSuiteSchema", "id": "did:example:schemas/1"},
                 {"type": "https://example.org/#ExampleTestSuiteSchema", "id": "did:example:schemas/2"}]


def test_schema_of_an_unknown_type_is_issued_and_reported_not_checked(live: Deployment) -> None:
    issued = live.issue(credential={**unsigned(), "credentialSchema": SUITE_SCHEMAS})
    assert issued.status == 201, issued.json
    reply = live.verify(issued.json["verifiableCredential"])
    assert reply.status == 200, reply.json
    assert [(w["code"], w["schemaType"]) for w in warnings(reply.json)] == [
        ("SCHEMA_NOT_CHECKED", "https://example.org/#ExampleTestSuiteSchema")], reply.json
    unknown_json_schema = {"type": "JsonSchema", "id": "https://schemas.example/unknown.json"}
    refused = live.issue(credential={**unsigned(), "credentialSchema": unknown_json_schema})
    assert refused.status == 422, refused.json  # JsonSchema is validated as before


# The W3C VCDM 2.0 suite's fixtures: digests of the v2 context as the W3C served it in 2024-07, and a wrong one
V2 = "https://www.w3.org/ns/credentials/v2"
SUITE_SRI = "sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg"
SUITE_MULTIBASE = "uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k"
WRONG_MULTIBASE = "uM4RgWQc3RUDtjJCSgTJtTfvpZ7SPEg_LNO0ESlovQC0"


def test_related_resource_digests_are_compared_at_issue(live: Deployment) -> None:
    for digest in ({"digestSRI": SUITE_SRI}, {"digestMultibase": SUITE_MULTIBASE}):
        good = live.issue(credential={**unsigned(), "relatedResource": {"id": V2, **digest}})
        assert good.status == 201, good.json
        assert live.verify(good.json["verifiableCredential"]).status == 200
    wrong = live.issue(credential={**unsigned(), "relatedResource": [{"id": V2, "digestMultibase": WRONG_MULTIBASE}]})
    assert (wrong.status, wrong.json["code"]) == (422, "DIGEST_MISMATCH"), wrong.json


def test_related_resource_digest_mismatch_fails_verification(live: Deployment) -> None:
    holder, signer = did_key_signer(KeyPair.generate(KeyType.ED25519, os.urandom))
    doc = {**unsigned(), "relatedResource": [{"id": V2, "digestMultibase": WRONG_MULTIBASE}]}
    vc = issue(doc, signer, issuer=holder, created="2026-01-01T00:00:00Z", resources=lambda url: ())
    reply = live.verify(vc)
    assert reply.status == 400, reply.json
    assert problem_codes(reply.json, "relatedResource") == ["DIGEST_MISMATCH"], reply.json
