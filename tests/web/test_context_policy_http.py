"""The verifier's context policy over real HTTP: inline context objects are refused unless the service opts in
(``CHOPMARK_VERIFIER_INLINE_CONTEXTS``; Data Integrity 1.0 §2.4.1 "Validating Contexts"); issuing with one is
fine, and an inline redefinition of a protected term is refused at issue."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.live import LiveServer, post

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("context-policy-server")]

INLINE = {"ExampleCredential": "https://example.org/#ExampleCredential"}


def test_inline_contexts_need_the_verifier_setting(tmp_path: Path) -> None:
    contexts: list[object] = ["https://www.w3.org/ns/credentials/v2", INLINE]
    credential = {"@context": contexts,
                  "type": ["VerifiableCredential", "ExampleCredential"],
                  "credentialSubject": {"id": "did:example:alice"}}
    with LiveServer(tmp_path / "strict") as strict:
        strict.admin("issuer", "create", "acme", "--did-method", "key", "--no-status")
        token = strict.admin("token", "create", "--issuer", "acme", "--scope", "issue")["token"]
        status, _, issued = post(strict.url + "/credentials/issue", {"credential": credential}, token=token)
        assert status == 201, issued
        secured = issued["verifiableCredential"]
        status, _, result = post(strict.url + "/credentials/verify", {"verifiableCredential": secured})
        assert status == 400 and "INLINE_CONTEXT_NOT_ALLOWED" in [p["code"] for p in result["problemDetails"]]
        hostile = {**credential, "@context": [*contexts, {"issuer": "https://evil.example/i"}]}
        status, _, problem = post(strict.url + "/credentials/issue", {"credential": hostile}, token=token)
        assert status in (400, 422) and problem["code"] == "PROTECTED_TERM_REDEFINITION"
    with LiveServer(tmp_path / "open", env={"CHOPMARK_VERIFIER_INLINE_CONTEXTS": "true"}) as open_:
        status, _, result = post(open_.url + "/credentials/verify", {"verifiableCredential": secured})
        assert status == 200 and result["verified"], result
