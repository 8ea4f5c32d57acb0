"""Another host's credentials: did:web and status lists fetched over TLS through the SSRF-safe fetcher, with a
cache and ETag revalidation, failing closed when the other host is gone. Two real servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import LiveServer, post, problem_codes, unsigned
from tests.support.tls import TlsServer, self_signed


@pytest.fixture
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LiveServer, LiveServer, str]]:
    """Server A (https, the issuer's host) and server B (a verifier allowed to fetch from 127.0.0.1)."""
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # this test process trusts A's certificate
    fetch = {"CHOPMARK_FETCH_ALLOWED_HOSTS": "127.0.0.1", "CHOPMARK_FETCH_ALLOW_LOOPBACK": "true",
             "CHOPMARK_FETCH_CA_FILE": str(cert), "CHOPMARK_STATUS_CACHE_SECONDS": "0"}
    with TlsServer(tmp_path / "a", cert, key) as a, LiveServer(tmp_path / "b", env=fetch) as b:
        _, token = a.new_issuer("remote")
        yield a, b, token


@pytest.mark.server
def test_remote_issuer_status_and_fail_closed(pair: tuple[LiveServer, LiveServer, str]) -> None:
    a, b, token = pair
    issued = post(a.url + "/credentials/issue", {"credential": unsigned()}, token=token)
    assert issued.status == 201, issued.json
    vc = issued.json["verifiableCredential"]
    assert vc["issuer"].startswith("did:web:127.0.0.1%3A")
    first = post(b.url + "/credentials/verify", {"verifiableCredential": vc})
    assert first.status == 200, first.json
    assert [s["verified"] for s in first.json["results"]["credentialStatus"]] == [True, True]
    again = post(b.url + "/credentials/verify", {"verifiableCredential": vc})  # revalidated by ETag (304)
    assert again.status == 200, again.json
    flip = {"credentialId": issued.json["credentialId"], "credentialStatus": {"statusPurpose": "suspension"},
            "status": True}
    assert post(a.url + "/credentials/status", flip, token=token).status == 200
    suspended = post(b.url + "/credentials/verify", {"verifiableCredential": vc})
    assert suspended.status == 400 and problem_codes(suspended.json, "status") == ["SUSPENDED"]
    a.stop()
    gone = post(b.url + "/credentials/verify", {"verifiableCredential": vc})
    assert gone.status == 400 and gone.json["verified"] is False
    assert "STATUS_RETRIEVAL_ERROR" in problem_codes(gone.json, "status")


@pytest.mark.server
def test_fetching_is_off_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with TlsServer(tmp_path / "a", cert, key) as a, LiveServer(tmp_path / "b") as b:
        _, token = a.new_issuer("remote")
        vc = post(a.url + "/credentials/issue", {"credential": unsigned()}, token=token).json["verifiableCredential"]
        refused = post(b.url + "/credentials/verify", {"verifiableCredential": vc})
        assert refused.status == 400
        assert "notFound" in problem_codes(refused.json, "proof")
        assert "STATUS_RETRIEVAL_ERROR" in problem_codes(refused.json, "status")
