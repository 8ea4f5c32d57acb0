"""Issue 11: a 503 STORE_UNAVAILABLE tells the client when to try again (RFC 9110 §10.2.3 ``Retry-After``)."""

from __future__ import annotations

import json
from pathlib import Path

from chopmark.app import create_app
from chopmark.web.plumbing import STORE_RETRY_AFTER_SECONDS
from chopmark.web.settings import Settings
from tests.support.redis import free_port


def test_store_unavailable_answer_carries_retry_after(tmp_path: Path) -> None:
    # A real Redis client against a loopback port where nothing listens: every store call fails.
    settings = Settings.load({"store": f"redis://127.0.0.1:{free_port()}/0", "data_dir": str(tmp_path)}, env={})
    reply = create_app(settings).test_client().get("/health")
    assert reply.status_code == 503, reply.get_data(as_text=True)[:300]
    assert reply.mimetype == "application/problem+json"
    assert json.loads(reply.get_data())["code"] == "STORE_UNAVAILABLE"
    assert reply.headers.get("Retry-After") == str(STORE_RETRY_AFTER_SECONDS)
    assert 1 <= STORE_RETRY_AFTER_SECONDS <= 5
