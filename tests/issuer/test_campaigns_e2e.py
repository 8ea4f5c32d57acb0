"""Ranking campaigns end to end on a real server (gunicorn; SQLite and Redis): 10,000 orders over HTTP, the close,
buyers' receipts verified offline and by the command line, the auditor's command, a restart, and the demo."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chopmark.ranking.receipts import verify_receipt
from tests.support.live import BACKENDS, Deployment, Reply, backend_deployment, get, http, post

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.xdist_group("campaigns-e2e-server")]
WINDOW = {"windowStart": "2026-01-01T00:00:00Z", "windowEnd": "2026-01-02T00:00:00Z"}
ORDERS = 10_000


@pytest.fixture(scope="module", params=BACKENDS)
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A server with issuer ``acme`` (the merchant) and its token."""
    with backend_deployment(request, tmp_path_factory, "campaigns") as deployed:
        yield deployed


def orders(count: int) -> list[dict[str, str]]:
    gen = random.Random(11)
    out = []
    for i in range(count):
        ms = gen.randrange(86_400_000) if i % 25 else 43_200_000  # every 25th in the same millisecond
        seconds, millis = divmod(ms, 1000)
        stamp = f"2026-01-01T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{millis:03d}Z"
        buyer = f"b-{gen.getrandbits(40):x}"
        out.append({"orderNumber": str(700000 + i), "paymentTime": stamp, "buyerReference": buyer})
    return out


def csv_body(rows: list[dict[str, str]]) -> bytes:
    lines = ["orderNumber,paymentTime,buyerReference", *(f"{r['orderNumber']},{r['paymentTime']},{r['buyerReference']}"
                                                          for r in rows)]
    return ("\n".join(lines) + "\n").encode()


def post_csv(url: str, data: bytes, token: str) -> Reply:
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "text/csv", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return Reply(reply.status, reply.headers, json.loads(reply.read()), b"")


def chopmark(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chopmark.cli", *args], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture(scope="module")
def closed(deployment: Deployment) -> dict[str, Any]:
    """A campaign fed 10,000 orders over HTTP (nine JSON batches and one CSV batch of 1,000), then closed."""
    created = post(deployment.at("/issuers/acme/campaigns"), {"sku": "TEA-1", "gifts": 100, **WINDOW},
                   token=deployment.token)
    assert created.status == 201, created.json
    campaign = created.json["id"]
    placed = orders(ORDERS)
    started = time.perf_counter()
    accepted = 0
    for start in range(0, ORDERS, 1000):
        batch = placed[start:start + 1000]
        if start == ORDERS - 1000:
            reply = post_csv(deployment.at(f"/campaigns/{campaign}/orders"), csv_body(batch), deployment.token)
        else:
            reply = post(deployment.at(f"/campaigns/{campaign}/orders"), {"orders": batch}, token=deployment.token)
        assert reply.status == 200 and not reply.json["refused"], reply.json
        accepted += reply.json["accepted"]
    ingest = time.perf_counter() - started
    replay = post(deployment.at(f"/campaigns/{campaign}/orders"), {"orders": placed[:1000]}, token=deployment.token)
    started = time.perf_counter()
    close = post(deployment.at(f"/campaigns/{campaign}/close"), None, token=deployment.token)
    closing = time.perf_counter() - started
    assert close.status == 200, close.json
    print(f"\n10,000 orders ingested in {ingest:.2f} s ({ORDERS / ingest:,.0f}/s), closed in {closing:.2f} s")
    assert accepted == ORDERS and replay.json == {"accepted": 0, "duplicates": 1000, "refused": []}
    assert ingest < 30, ingest  # about a second on an idle machine
    export = get(deployment.at(f"/campaigns/{campaign}/export"), token=deployment.token).json
    return {"id": campaign, "close": close.json, "export": export, "placed": placed}


def test_the_ranking_follows_the_rule(closed: dict[str, Any]) -> None:
    rows = closed["export"]["orders"]
    assert len(rows) == ORDERS and [r["rank"] for r in rows] == list(range(1, ORDERS + 1))
    keys = [(r["paymentTime"], int(r["orderNumber"])) for r in rows]
    assert keys == sorted(keys)  # time first, then the smaller order number (all numeric here)
    assert closed["close"]["leafCount"] == ORDERS


def test_buyers_verify_their_receipts_offline_and_online(deployment: Deployment, closed: dict[str, Any],
                                                         tmp_path: Path) -> None:
    key = get(deployment.at("/log/key")).raw.decode().strip()
    rows = closed["export"]["orders"]
    for row in (rows[0], rows[99], rows[100], rows[5000], rows[-1]):
        reply = get(deployment.at(f"/campaigns/{closed['id']}/receipts/{row['orderNumber']}"),
                    headers={"Buyer-Reference": row["buyerReference"]})
        assert reply.status == 200, reply.json
        result = verify_receipt(reply.json, log_key=key, now=datetime.now(UTC))
        assert result.verified and result.rank == row["rank"] and result.within_gifts == (row["rank"] <= 100)
        online = post(deployment.at("/rank-receipts/verify"), {"receipt": reply.json})
        assert online.status == 200 and online.json["verified"] and online.json["rank"] == row["rank"]
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(reply.json))
    done = chopmark("verify-rank", str(path), "--key", key)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["rank"] == ORDERS and json.loads(done.stdout)["withinGifts"] is False
    tampered = {**reply.json, "rank": 1}
    path.write_text(json.dumps(tampered))
    done = chopmark("verify-rank", str(path), "--key", key)
    assert done.returncode == 1 and not json.loads(done.stdout)["verified"]


def test_the_auditor_command(deployment: Deployment, closed: dict[str, Any], tmp_path: Path) -> None:
    leaves: list[Any] = []
    while len(leaves) < ORDERS:
        leaves += get(deployment.at(f"/campaigns/{closed['id']}/leaves?start={len(leaves)}&limit=10000")).json["leaves"]
    (tmp_path / "leaves.json").write_text(json.dumps({"leaves": leaves}))
    (tmp_path / "export.json").write_text(json.dumps(closed["export"]))
    (tmp_path / "close.json").write_text(json.dumps(closed["close"]))
    done = chopmark("campaign", "audit", str(tmp_path / "export.json"), "--leaves", str(tmp_path / "leaves.json"),
                    "--commitment", str(tmp_path / "close.json"))
    assert done.returncode == 0 and json.loads(done.stdout)["matches"], done.stdout + done.stderr
    doctored = json.loads(json.dumps(closed["export"]))
    doctored["orders"][7000]["paymentTime"] = "2026-01-01T00:00:00.000Z"
    (tmp_path / "doctored.json").write_text(json.dumps(doctored))
    done = chopmark("campaign", "audit", str(tmp_path / "doctored.json"), "--leaves", str(tmp_path / "leaves.json"))
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["firstDifferingRank"] == 1 and report["differingRankCount"] == 7001


def test_the_commitment_survives_a_restart(deployment: Deployment, closed: dict[str, Any]) -> None:
    row = closed["export"]["orders"][41]
    deployment.server.kill9()
    deployment.server.start()
    reply = get(deployment.at(f"/campaigns/{closed['id']}/receipts/{row['orderNumber']}"),
                headers={"Buyer-Reference": row["buyerReference"]})
    key = get(deployment.at("/log/key")).raw.decode().strip()
    assert reply.status == 200 and verify_receipt(reply.json, log_key=key, now=datetime.now(UTC)).rank == 42
    again = http("POST", deployment.at(f"/campaigns/{closed['id']}/close"), token=deployment.token)
    assert again.status == 409 and again.json["code"] == "ALREADY_CLOSED"


def test_the_demo(deployment: Deployment) -> None:
    server = deployment.server
    args = ["--data-dir", str(server.data_dir), "--public-url", server.url]
    args += ["--store", server.store] if server.store else []
    done = chopmark("demo", "ranking", "--url", server.url, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    text = " ".join(done.stdout.split())
    assert "10000 orders accepted" in text and "3 refused" in text
    assert "matches True" in text and text.count("CAUGHT") == 2
    assert "verified True, within the first 100: True" in text
