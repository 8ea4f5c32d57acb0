"""Ranking campaigns over HTTP (Flask test client, SQLite and Redis): create, ingest, close, leaves, receipts,
export, receipt verification, and the rigging attempts the log and the auditor catch."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from chopmark import ranking
from chopmark.dids import Resolver
from chopmark.ranking import receipts
from chopmark.ranking.audit import audit
from chopmark.ranking.receipts import verify_receipt
from chopmark.vc.credentials import issue, verify_credential
from chopmark.vocab.schema import check_schemas
from chopmark.web.settings import Settings
from issuer.campaigns_ingest import NS_ORDERS
from tests.support.campaigns import AFTER, WINDOW, World, generated, make_world, order


@pytest.fixture
def sqlite_world(service_settings: Settings) -> World:
    """The app on SQLite only."""
    return make_world(service_settings)


def codes(answer: dict[str, Any]) -> dict[str | None, str]:
    return {r["orderNumber"]: r["code"] for r in answer["refused"]}


# --- create ------------------------------------------------------------------------------------------------------

def test_create_answers_the_public_campaign(world: World) -> None:
    reply = world.client.post("/issuers/shop/campaigns", json={"sku": "TEA-1", "gifts": 100, **WINDOW, "rule": {
        "timePrecision": "second"}}, headers=world.auth())
    assert reply.status_code == 201 and reply.headers["Location"] == f"/campaigns/{reply.json['id']}"
    campaign = reply.json
    assert campaign["state"] == "open" and campaign["gifts"] == 100 and campaign["commitments"] == []
    assert campaign["url"] == world.settings.public_url + "/campaigns/" + campaign["id"]
    assert campaign["issuer"] == world.registry.issuers.did_of("shop")
    assert campaign["windowStart"] == "2026-11-11T00:00:00.000Z"
    assert campaign["rule"] == {"order": ["paymentTime", "orderNumber"], "direction": "ascending",
                                "timePrecision": "second"}
    public = world.client.get(f"/campaigns/{campaign['id']}")
    assert public.status_code == 200 and public.json["id"] == campaign["id"] and "secret" not in public.json


@pytest.mark.parametrize(("body", "status"), [
    ({"gifts": 3, **WINDOW}, 400), ({"sku": "S", "gifts": 0, **WINDOW}, 400),
    ({"sku": "S", "gifts": True, **WINDOW}, 400),
    ({"sku": "S", "gifts": 3, "windowStart": WINDOW["windowEnd"], "windowEnd": WINDOW["windowStart"]}, 400),
    ({"sku": "S", "gifts": 3, **WINDOW, "rule": {"direction": "descending"}}, 400),
    ({"sku": "S", "gifts": 3, **WINDOW, "colour": "red"}, 400),
    ({"sku": "S", "gifts": 3, "windowStart": "yesterday", "windowEnd": WINDOW["windowEnd"]}, 400),
])
def test_create_refuses_bad_campaigns(sqlite_world: World, body: dict[str, Any], status: int) -> None:
    reply = sqlite_world.client.post("/issuers/shop/campaigns", json=body, headers=sqlite_world.auth())
    assert reply.status_code == status and reply.mimetype == "application/problem+json", reply.json


def test_only_the_merchant_creates_and_feeds_its_campaigns(sqlite_world: World) -> None:
    w = sqlite_world
    body = {"sku": "S", "gifts": 3, **WINDOW}
    assert w.client.post("/issuers/shop/campaigns", json=body).status_code == 401
    assert w.client.post("/issuers/shop/campaigns", json=body, headers=w.auth("rival")).status_code == 403
    assert w.client.post("/issuers/shop/campaigns", json=body, headers=w.auth("shop:status")).status_code == 403
    assert w.client.post("/issuers/ghost/campaigns", json=body, headers=w.auth("admin")).status_code == 404
    campaign = w.create()
    assert w.add(campaign, [order(1, 5)], who="rival").status_code == 403
    assert w.close(campaign, who="rival").status_code == 403
    assert w.client.post(f"/campaigns/{campaign}/orders", json={"orders": [order(1, 5)]}).status_code == 401
    assert w.add(campaign, [order(1, 5)], who="admin").json["accepted"] == 1  # a global admin may act for all
    assert w.client.get("/campaigns/cmp-0000000000000000").status_code == 404
    assert w.client.get("/campaigns/nonsense").json["code"] == "CAMPAIGN_NOT_FOUND"


# --- orders ------------------------------------------------------------------------------------------------------

def test_orders_are_refused_with_reasons(world: World) -> None:
    campaign = world.create()
    batch = [order(1, 5), order(2, 6), order(2, 7, "someone-else"), order(3, 8), order(3, 8),
             {**order(4, 0), "paymentTime": "2026-11-10T23:59:59.999Z"},
             {**order(5, 0), "paymentTime": "2026-11-12T00:00:00.000Z"},
             {**order(6, 0), "paymentTime": "2026-11-11T00:00:00.0001Z"},
             {**order(7, 0), "paymentTime": "11/11/2026"}, {**order(8, 0), "orderNumber": "with space"},
             {**order(9, 0), "coupon": "X"}, {**order(10, 0), "buyerReference": ""}, "not an order"]
    answer = world.add(campaign, batch).json
    assert (answer["accepted"], answer["duplicates"]) == (3, 1)
    assert codes(answer) == {"2": "DUPLICATE_CONFLICT", "4": "EARLY_ORDER", "5": "LATE_ORDER", "6": "MALFORMED_TIME",
                             "7": "MALFORMED_TIME", "with space": "MALFORMED_ORDER", "9": "MALFORMED_ORDER",
                             "10": "MALFORMED_ORDER", None: "MALFORMED_ORDER"}
    assert all(r["reason"] for r in answer["refused"])
    # a later batch: the same content is an idempotent duplicate, other content a conflict
    again = world.add(campaign, [order(1, 5), {**order(2, 6), "paymentTime": "2026-11-11T01:00:00.006+01:00"},
                                 order(3, 9), order(11, 9)]).json
    assert (again["accepted"], again["duplicates"], codes(again)) == (1, 2, {"3": "DUPLICATE_CONFLICT"})


def test_csv_batches(world: World) -> None:
    campaign = world.create()
    csv_body = ("buyerReference,orderNumber,paymentTime\r\n"
                "buyer-1,1,2026-11-11T00:00:00.005Z\r\n"
                '"buyer, with comma",2,2026-11-11T00:00:00.006Z\r\n'
                "late,3,2026-11-12T00:00:00Z\r\n")
    reply = world.client.post(f"/campaigns/{campaign}/orders", data=csv_body, content_type="text/csv; charset=utf-8",
                              headers=world.auth())
    assert reply.status_code == 200 and (reply.json["accepted"], codes(reply.json)) == (2, {"3": "LATE_ORDER"})
    for bad in ("orderNumber,paymentTime\r\n1,2026-11-11T00:00:00Z\r\n",
                "orderNumber,paymentTime,buyerReference\r\n1,2", "",
                "orderNumber,paymentTime,buyerReference\r\n\"1,2,3\r\n", "a\x00b"):
        reply = world.client.post(f"/campaigns/{campaign}/orders", data=bad, content_type="text/csv",
                                  headers=world.auth())
        assert reply.status_code == 400 and reply.json["code"] == "MALFORMED_CSV", (bad, reply.json)
    latin = world.client.post(f"/campaigns/{campaign}/orders", data=b"\xff\xfe", content_type="text/csv",
                              headers=world.auth())
    assert latin.status_code == 400
    xml = world.client.post(f"/campaigns/{campaign}/orders", data="<orders/>", content_type="application/xml",
                            headers=world.auth())
    assert xml.status_code == 415


@pytest.mark.parametrize("body", [{"orders": []}, {"orders": {}}, {"orders": [order(1, 1)], "more": 1}, {},
                                  {"orders": [order(i, i) for i in range(10_001)]}])
def test_batch_shape(sqlite_world: World, body: dict[str, Any]) -> None:
    campaign = sqlite_world.create()
    reply = sqlite_world.client.post(f"/campaigns/{campaign}/orders", json=body, headers=sqlite_world.auth())
    assert reply.status_code in (400, 413), reply.json


def test_one_store_write_per_batch(sqlite_world: World) -> None:
    campaign = sqlite_world.create()
    store = sqlite_world.registry.store
    for start in range(0, 3000, 1000):
        assert sqlite_world.add(campaign, generated(3000)[start:start + 1000]).json["accepted"] == 1000
    assert store.length(NS_ORDERS, campaign) == 3
    assert sqlite_world.add(campaign, generated(3000)[:1000]).json == {"accepted": 0, "duplicates": 1000,
                                                                       "refused": []}
    assert store.length(NS_ORDERS, campaign) == 3  # a replay writes nothing


# --- close -------------------------------------------------------------------------------------------------------

def test_close_commits_once_and_only_after_the_window(world: World) -> None:
    campaign = world.create()
    world.add(campaign, generated(50))
    world.clock.moment = AFTER.replace(day=11)
    assert world.close(campaign).json["code"] == "WINDOW_OPEN"
    world.clock.moment = AFTER
    closed = world.close(campaign)
    assert closed.status_code == 200
    body = closed.json
    assert body["leafCount"] == 50 and body["state"] == "closed" and body["checkpoint"].startswith(
        world.registry.evidence.origin + "\n")
    again = world.close(campaign)
    assert (again.status_code, again.json["code"]) == (409, "ALREADY_CLOSED")
    late = world.add(campaign, [order(99999, 5)])
    assert (late.status_code, late.json["code"]) == (409, "CAMPAIGN_CLOSED")
    credential = body["commitmentCredential"]
    subject = credential["credentialSubject"]
    assert subject == {"id": world.campaigns.url(campaign), "type": "RankingCampaign", "sku": "TEA-1", "gifts": 3,
                       "windowStart": "2026-11-11T00:00:00.000Z", "windowEnd": "2026-11-12T00:00:00.000Z",
                       "rankingRule": ranking.RankingRule().to_json(), "leafCount": 50, "merkleRoot": body["root"],
                       "treeAlgorithm": "RFC9162-SHA256"}
    assert credential["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    resolver = Resolver(documents={credential["issuer"]: world.registry.issuers.did_document("shop")})
    assert verify_credential(credential, resolver=resolver, now=AFTER, schema_checker=check_schemas).verified
    entry = world.registry.evidence.entry(body["logIndex"])
    assert entry["type"] == "ranking-commitment"
    summary = world.client.get(f"/campaigns/{campaign}").json
    assert (summary["state"], summary["merkleRoot"], summary["logIndex"]) == ("closed", body["root"], body["logIndex"])


def test_the_ranking_is_the_rule_whatever_the_batches(sqlite_world: World) -> None:
    orders = [*generated(700, seed=3), order("A-2", 1_800_000), order("A-10", 1_800_000), order("010", 1_800_000)]
    shuffled = orders[:]
    random.Random(9).shuffle(shuffled)
    first, _ = sqlite_world.closed(orders)
    second, _ = sqlite_world.closed(shuffled)
    export = [sqlite_world.client.get(f"/campaigns/{c}/export", headers=sqlite_world.auth()).json
              for c in (first, second)]
    ranked = [[row["orderNumber"] for row in e["orders"]] for e in export]
    assert ranked[0] == ranked[1]
    reference = sorted(orders, key=lambda o: ranking.sort_key(o["paymentTime"], o["orderNumber"]))
    assert ranked[0] == [o["orderNumber"] for o in reference]
    tied = [n for n in ranked[0] if any(o["orderNumber"] == n and o["paymentTime"] == "2026-11-11T00:30:00.000Z"
                                        for o in orders)]
    assert tied[:3] == ["010", *tied[1:3]] and tied[-2:] == ["A-10", "A-2"]  # numeric by value first, then the rest


def test_an_empty_campaign_commits_the_empty_tree(sqlite_world: World) -> None:
    campaign = sqlite_world.create()
    body = sqlite_world.close(campaign).json
    assert (body["leafCount"], body["root"]) == (0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert sqlite_world.receipt(campaign, "1").status_code == 404


def test_a_crashed_close_is_resumed_after_the_takeover_delay(sqlite_world: World) -> None:
    w = sqlite_world
    campaign = w.create()
    w.add(campaign, generated(30))
    now = w.clock().timestamp()

    def closing(since: float) -> None:
        record = w.campaigns.record(campaign)
        w.registry.store.put("campaign", campaign, _encode({**record, "state": "closing", "closing": since}))
    closing(now - 10)
    w.registry.store.append(NS_ORDERS, campaign, b'{"close":true}')  # the crashed close got this far
    assert w.close(campaign).json["code"] == "CLOSE_IN_PROGRESS"
    assert w.add(campaign, generated(5, first=9000)).status_code == 409
    closing(now - 1000)
    resumed = w.close(campaign)
    assert resumed.status_code == 200 and resumed.json["leafCount"] == 30


def _encode(value: Any) -> bytes:
    from chopmark.store.records import encode_json

    return encode_json(value)


# --- leaves, receipts, export ------------------------------------------------------------------------------------

def test_receipts_verify_for_every_chunk_of_a_large_campaign(world: World) -> None:
    campaign, closed = world.closed(generated(2600, seed=4))  # leaves in chunks of 1024: 1024 + 1024 + 552
    export = world.client.get(f"/campaigns/{campaign}/export", headers=world.auth()).json
    key = world.registry.evidence.verifier_key()
    for rank in (1, 3, 4, 1024, 1025, 2048, 2049, 2600):
        row = export["orders"][rank - 1]
        reply = world.receipt(campaign, row["orderNumber"], row["buyerReference"])
        assert reply.status_code == 200, reply.json
        result = verify_receipt(reply.json, log_key=key, now=AFTER)
        assert result.verified and result.rank == rank and result.within_gifts == (rank <= 3), result.to_dict()
    pages = [world.client.get(f"/campaigns/{campaign}/leaves?start={s}&limit=1000").json for s in (0, 1000, 2000)]
    assert [len(p["leaves"]) for p in pages] == [1000, 1000, 600] and pages[2]["leaves"][-1]["rank"] == 2600
    leaves = [leaf for page in pages for leaf in page["leaves"]]
    assert audit(export, leaves, closed["commitmentCredential"], log_entries=world.log_entries()).matches


def test_who_may_read_a_receipt(sqlite_world: World) -> None:
    w = sqlite_world
    campaign, _ = w.closed(generated(20))
    assert w.receipt(campaign, "1005").status_code == 200
    assert w.receipt(campaign, "1005", "buyer-1006").json["code"] == "ORDER_NOT_FOUND"  # not theirs: as unknown
    assert w.receipt(campaign, "77", "buyer-77").status_code == 404
    assert w.receipt(campaign, "1005", headers={}).json["code"] == "BUYER_REFERENCE_REQUIRED"
    assert w.receipt(campaign, "1005", headers=w.auth()).status_code == 200
    assert w.receipt(campaign, "1005", headers=w.auth("rival")).status_code == 403
    assert w.receipt(campaign, "1005", headers={"Authorization": "Bearer nope"}).status_code == 401
    open_campaign = w.create()
    assert w.receipt(open_campaign, "1005").json["code"] == "NOT_CLOSED"
    assert w.client.get(f"/campaigns/{open_campaign}/leaves").json["code"] == "NOT_CLOSED"
    assert w.client.get(f"/campaigns/{campaign}/export").status_code == 401
    assert w.client.get(f"/campaigns/{campaign}/export", headers=w.auth("rival")).status_code == 403
    assert w.client.get(f"/campaigns/{campaign}/leaves?limit=0").status_code == 400
    assert w.client.get(f"/campaigns/{campaign}/leaves?start=-1").status_code == 400
    assert w.client.get(f"/campaigns/{campaign}/leaves?start=500").json["leaves"] == []


def test_the_verify_endpoint(sqlite_world: World) -> None:
    w = sqlite_world
    campaign, _ = w.closed(generated(20))
    receipt = w.receipt(campaign, "1003").json
    good = w.client.post("/rank-receipts/verify", json={"receipt": receipt})
    assert good.status_code == 200 and good.json["verified"] and good.json["rank"] == receipt["rank"]
    tampered = copy.deepcopy(receipt)
    tampered["rank"] = 1 if receipt["rank"] != 1 else 2
    bad = w.client.post("/rank-receipts/verify", json={"receipt": tampered}).json
    assert not bad["verified"] and [c["check"] for c in bad["checks"] if not c["passed"]] == ["campaignInclusion"]
    assert w.client.post("/rank-receipts/verify", json={"receipt": 5}).status_code == 400
    assert not w.client.post("/rank-receipts/verify", json={"receipt": {}}).json["verified"]


def test_the_verify_endpoint_resolves_its_own_issuers_itself(sqlite_world: World) -> None:
    """Another tenant may append to the log, so it can anchor a commitment it signed itself in the merchant's
    name, with a DID document that claims its key is the merchant's. Offline, only a pinned DID document catches
    that; the service's endpoint resolves its own issuers from its registry and refuses it."""
    w = sqlite_world
    campaign, _ = w.closed(generated(10))
    receipt = w.receipt(campaign, "1002").json
    shop_did = receipt["commitmentCredential"]["issuer"]
    rival_key = w.registry.issuers.get("rival")["keys"][0]
    unsigned = {k: v for k, v in receipt["commitmentCredential"].items() if k != "proof"}
    forged = issue(unsigned, w.registry.keys.signer(rival_key["ref"], shop_did + "#key-1"), suite="eddsa-jcs-2022",
                   created="2026-11-12T12:00:00Z")
    subject = forged["credentialSubject"]
    index = w.registry.evidence.append(receipts.COMMITMENT_ENTRY_TYPE, data=receipts.commitment_entry(
        subject["id"], receipts.credential_sha256(forged), subject["merkleRoot"], subject["leafCount"]))
    signed = w.registry.evidence.wait_integrated(index, 5)
    assert signed is not None
    document = copy.deepcopy(receipt["issuerDidDocument"])
    for method in document["verificationMethod"]:
        method["publicKeyMultibase"] = rival_key["publicKeyMultibase"]
    receipt.update(commitmentCredential=forged, issuerDidDocument=document, logEntry=w.registry.evidence.entry(index),
                   logProof=w.registry.evidence.inclusion_proof(index, signed.checkpoint.size), checkpoint=signed.note)
    key = w.registry.evidence.verifier_key()
    assert verify_receipt(receipt, log_key=key, now=AFTER).verified  # the embedded document is the forger's word
    pinned = Resolver(documents={shop_did: w.registry.issuers.did_document("shop")})
    assert not verify_receipt(receipt, log_key=key, now=AFTER, resolver=pinned).verified
    answer = w.client.post("/rank-receipts/verify", json={"receipt": receipt}).json
    assert not answer["verified"] and [c["check"] for c in answer["checks"] if not c["passed"]] == [
        "commitmentCredential"]


# --- rigging -------------------------------------------------------------------------------------------------------

def test_a_second_commitment_is_caught_by_the_log_and_the_auditor(world: World) -> None:
    orders = generated(120, seed=8)
    campaign, first = world.closed(orders)
    export = world.client.get(f"/campaigns/{campaign}/export", headers=world.auth()).json
    friend = export["orders"][90]
    winner = export["orders"][0]
    receipt = world.receipt(campaign, winner["orderNumber"], winner["buyerReference"]).json
    rigged = [ranking.Order(o["orderNumber"], ranking.parse_time(o["paymentTime"], ranking.RankingRule()),
                            o["buyerReference"]) for o in orders if o["orderNumber"] != winner["orderNumber"]]
    second = world.campaigns.recommit(campaign, rigged)   # the merchant's database, behind the API
    assert second["root"] != first["root"] and second["leafCount"] == 119
    summary = world.client.get(f"/campaigns/{campaign}").json
    assert [c["logIndex"] for c in summary["commitments"]] == [first["logIndex"], second["logIndex"]]
    entries = world.log_entries()
    new_export = world.client.get(f"/campaigns/{campaign}/export", headers=world.auth()).json
    leaves = world.client.get(f"/campaigns/{campaign}/leaves?limit=10000").json["leaves"]
    report = audit(new_export, leaves, new_export["commitmentCredential"], log_entries=entries)
    assert {p["code"] for p in report.problems} == {"COMMITTED_TWICE"}
    against_first = audit(new_export, commitment=first["commitmentCredential"])
    assert "ROOT_MISMATCH" in {p["code"] for p in against_first.problems}
    key = world.registry.evidence.verifier_key()
    assert verify_receipt(receipt, log_key=key, now=AFTER).rank == 1  # the buyer keeps proof of the first rank
    moved = world.receipt(campaign, friend["orderNumber"], friend["buyerReference"]).json
    assert verify_receipt(moved, log_key=key, now=AFTER).verified and moved["rank"] == friend["rank"] - 1
