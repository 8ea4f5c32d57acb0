"""``chopmark verify-rank`` and ``chopmark campaign audit`` (offline): exit codes, key and DID pinning, inputs."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from chopmark.cli.main import main
from chopmark.keys import KeyPair, KeyType
from chopmark.ranking import receipts
from tests.support.ranking import CAMPAIGN, build_campaign, did_document, log_key_pair, log_leaf

SHOP = build_campaign(count=30, gifts=5)
FIRST = SHOP.tree.ranking.orders[0].order_number


def run(*args: str, stdin: str | None = None) -> tuple[Result, Any]:
    result = CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)
    try:
        return result, json.loads(result.output)
    except ValueError:
        return result, None


def write(tmp_path: Path, name: str, value: Any) -> str:
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return str(path)


def test_verify_rank(tmp_path: Path) -> None:
    receipt = write(tmp_path, "r.json", SHOP.receipt(FIRST))
    result, out = run("verify-rank", receipt, "--key", SHOP.vkey, "--now", "2026-11-12T12:00:00Z")
    assert result.exit_code == 0 and out["verified"] and out["rank"] == 1 and out["withinGifts"]
    assert (out["logKeySource"], out["issuerKeySource"]) == ("caller", "receipt")
    keyfile = write(tmp_path, "log.vkey", SHOP.vkey + "\n")
    assert run("verify-rank", receipt, "--key", keyfile)[0].exit_code == 0
    result, out = run("verify-rank", "-", stdin=json.dumps(SHOP.receipt(FIRST)))
    assert result.exit_code == 0 and out["logKeySource"] == "receipt"


def test_verify_rank_refusals(tmp_path: Path) -> None:
    tampered = {**SHOP.receipt(FIRST), "buyerReference": "someone else"}
    result, out = run("verify-rank", write(tmp_path, "t.json", tampered), "--key", SHOP.vkey)
    assert result.exit_code == 1 and not out["verified"] and out["withinGifts"] is False
    receipt = write(tmp_path, "r.json", SHOP.receipt(FIRST))
    assert run("verify-rank", receipt, "--key", log_key_pair(seed=8)[1])[0].exit_code == 1
    impostor = did_document(KeyPair.from_seed(KeyType.ED25519, bytes([2]) * 32))
    result, out = run("verify-rank", receipt, "--did-doc", write(tmp_path, "did.json", impostor))
    assert result.exit_code == 1 and out["issuerKeySource"] == "caller"
    assert run("verify-rank", receipt, "--did-doc", write(tmp_path, "d.json", SHOP.document))[0].exit_code == 0
    for args in (["verify-rank", str(tmp_path / "missing.json")], ["verify-rank", write(tmp_path, "x", "{oops")],
                 ["verify-rank", receipt, "--now", "tomorrow"], ["verify-rank", receipt, "--did-doc", receipt]):
        assert run(*args)[0].exit_code == 2, args


def test_campaign_audit(tmp_path: Path) -> None:
    export = write(tmp_path, "export.json", SHOP.export())
    leaves = write(tmp_path, "leaves.json", {"leaves": SHOP.leaves()})
    result, out = run("campaign", "audit", export, "--leaves", leaves)
    assert result.exit_code == 0 and out["matches"] and out["leafCount"] == 30
    commitment = write(tmp_path, "receipt.json", SHOP.receipt(FIRST))  # a document carrying the credential
    entries = write(tmp_path, "entries.json", SHOP.log_entries())
    result, out = run("campaign", "audit", export, "--leaves", write(tmp_path, "l.json", SHOP.leaves()),
                      "--commitment", commitment, "--log-entries", entries)
    assert result.exit_code == 0 and out["matches"], out


def test_campaign_audit_names_the_differing_ranks(tmp_path: Path) -> None:
    doctored = SHOP.export()
    doctored["orders"][20]["paymentTime"] = "2026-11-11T00:00:00.000Z"
    leaves = write(tmp_path, "leaves.json", SHOP.leaves())
    result, out = run("campaign", "audit", write(tmp_path, "d.json", doctored), "--leaves", leaves, "--limit", "3")
    assert result.exit_code == 1 and out["firstDifferingRank"] == 1
    assert out["differingRanks"] == [1, 2, 3] and out["differingRankCount"] == 21
    assert {"ROOT_MISMATCH", "LEAF_MISMATCH"} <= {p["code"] for p in out["problems"]}


def test_campaign_audit_finds_a_second_commitment(tmp_path: Path) -> None:
    payload = receipts.commitment_entry(CAMPAIGN, "ab" * 32, "cd" * 32, 29)
    entries = [*SHOP.log_entries(), {"index": 8, "data": base64.b64encode(log_leaf("ranking-commitment", payload))
                                     .decode()}]
    result, out = run("campaign", "audit", write(tmp_path, "e.json", SHOP.export()), "--log-entries",
                      write(tmp_path, "entries.json", {"entries": entries}))
    assert result.exit_code == 1 and [p["code"] for p in out["problems"]] == ["COMMITTED_TWICE"]


def test_campaign_audit_usage_errors(tmp_path: Path) -> None:
    export = write(tmp_path, "export.json", SHOP.export())
    assert run("campaign", "audit", export, "--leaves", write(tmp_path, "n.json", {"no": 1}))[0].exit_code == 2
    assert run("campaign", "audit", export, "--log-entries", write(tmp_path, "m.json", 5))[0].exit_code == 2
    assert run("campaign", "audit", str(tmp_path / "none.json"))[0].exit_code == 2
    result, out = run("campaign", "audit", write(tmp_path, "bad.json", {"orders": 1}))
    assert result.exit_code == 1 and out["problems"][0]["code"] == "EXPORT_MALFORMED"
