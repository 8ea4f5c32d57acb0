"""Receipt verification as a new user does it, on a real server (gunicorn, SQLite): get a buyer's receipt with
``GET /campaigns/{id}/receipts/{order}`` and post that exact body to ``POST /rank-receipts/verify``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.live import PROBLEM_JSON, Deployment, deployed, get, http, post

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.xdist_group("campaigns-live-server")]
WINDOW = {"windowStart": "2026-01-01T00:00:00Z", "windowEnd": "2026-01-02T00:00:00Z"}
ORDERS = [{"orderNumber": str(500 + i), "paymentTime": f"2026-01-01T10:00:{i:02d}Z", "buyerReference": f"buyer-{i}"}
          for i in range(5)]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A server with issuer ``acme`` (the merchant) and its token."""
    with deployed(tmp_path_factory.mktemp("campaigns-live")) as deployed_server:
        yield deployed_server


@pytest.fixture(scope="module")
def receipt(deployment: Deployment) -> dict[str, Any]:
    """The receipt of the third order of a closed five-order campaign, as the buyer gets it."""
    created = post(deployment.at("/issuers/acme/campaigns"), {"sku": "TEA-1", "gifts": 2, **WINDOW},
                   token=deployment.token)
    assert created.status == 201, created.json
    campaign = created.json["id"]
    added = post(deployment.at(f"/campaigns/{campaign}/orders"), {"orders": ORDERS}, token=deployment.token)
    assert added.status == 200 and added.json["accepted"] == len(ORDERS), added.json
    closed = post(deployment.at(f"/campaigns/{campaign}/close"), None, token=deployment.token)
    assert closed.status == 200, closed.json
    reply = get(deployment.at(f"/campaigns/{campaign}/receipts/502"), headers={"Buyer-Reference": "buyer-2"})
    assert reply.status == 200, reply.json
    body: dict[str, Any] = reply.json
    return body


def test_the_receipt_exactly_as_served_verifies(deployment: Deployment, receipt: dict[str, Any]) -> None:
    """Issue 11: the body of GET …/receipts/{order}, posted unchanged, is verified (it used to be refused with
    400 NOT_A_RECEIPT: only ``{"receipt": …}`` was accepted)."""
    answer = post(deployment.at("/rank-receipts/verify"), receipt)
    assert answer.status == 200, answer.json
    assert answer.json["verified"] and answer.json["rank"] == 3 and answer.json["withinGifts"] is False


def test_the_wrapped_receipt_still_verifies(deployment: Deployment, receipt: dict[str, Any]) -> None:
    answer = post(deployment.at("/rank-receipts/verify"), {"receipt": receipt})
    assert answer.status == 200 and answer.json["verified"] and answer.json["rank"] == 3


def test_a_tampered_bare_receipt_is_not_verified(deployment: Deployment, receipt: dict[str, Any]) -> None:
    answer = post(deployment.at("/rank-receipts/verify"), {**receipt, "rank": 1})
    assert answer.status == 200 and not answer.json["verified"]
    assert [c["check"] for c in answer.json["checks"] if not c["passed"]] == ["campaignInclusion"]


@pytest.mark.parametrize("body", [{}, {"type": "Other"}, {"receipt": 5}, {"receipt": {}, "extra": 1}],
                         ids=["empty", "other-type", "receipt-not-object", "extra-member"])
def test_what_is_neither_shape_is_a_problem(deployment: Deployment, body: dict[str, Any]) -> None:
    answer = http("POST", deployment.at("/rank-receipts/verify"), body)
    assert answer.status == 400 and answer.content_type == PROBLEM_JSON
    assert answer.json["code"] == "NOT_A_RECEIPT" and "RankReceipt" in answer.json["detail"]

