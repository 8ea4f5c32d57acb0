"""Reading closed ranking campaigns: public summary and leaves, buyers' receipts, the auditor's export, and
server-side receipt verification. Everything reads the latest commitment of a campaign (normally its only one)."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

from chopmark.dids import Resolver
from chopmark.errors import BadRequest, Conflict, Forbidden, NotFound
from chopmark.ranking.receipts import RECEIPT_TYPE, build_receipt, verify_receipt
from chopmark.store.records import get_json
from chopmark.web.plumbing import Client
from issuer.campaigns import NS_COMMITMENT, Campaigns

MAX_LEAVES = 10_000


class CampaignViews:
    """The read side of :class:`~issuer.campaigns.Campaigns`."""

    def __init__(self, campaigns: Campaigns) -> None:
        """Read what ``campaigns`` wrote."""
        self.campaigns = campaigns

    def summary(self, campaign_id: str) -> dict[str, Any]:
        """``GET /campaigns/{id}`` (public)."""
        return self.campaigns.summary(self.campaigns.record(campaign_id))

    def _closed(self, campaign_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        record = self.campaigns.record(campaign_id)
        if not record["commitments"]:
            raise Conflict("the campaign has no committed ranking yet (it is not closed)", code="NOT_CLOSED")
        return record, record["commitments"][-1]

    def leaves(self, campaign_id: str, start: int, limit: int) -> dict[str, Any]:
        """``GET /campaigns/{id}/leaves?start=&limit=`` (public): the committed leaves from index ``start``."""
        if start < 0 or not 1 <= limit <= MAX_LEAVES:
            raise BadRequest(f"start must be >= 0 and limit 1-{MAX_LEAVES}", code="BAD_RANGE")
        _, latest = self._closed(campaign_id)
        key = f"{campaign_id}/{latest['generation']}"
        stop = min(latest["leafCount"], start + limit)
        leaves = [json.loads(leaf) for leaf in self.campaigns.artifacts.leaves(key, start, stop)]
        return {"campaign": self.campaigns.url(campaign_id), "leafCount": latest["leafCount"],
                "merkleRoot": latest["merkleRoot"], "start": start, "leaves": leaves}

    def receipt(self, campaign_id: str, order_number: str, *, client: Client | None,
                buyer_reference: str | None) -> dict[str, Any]:
        """``GET /campaigns/{id}/receipts/{orderNumber}``: the RankReceipt, for the merchant (its token) or the
        buyer (the ``Buyer-Reference`` header). A wrong buyer reference answers 404 like an unknown order."""
        record, latest = self._closed(campaign_id)
        merchant = client is not None
        if client is not None:
            client.require("issue", record["issuer"])
        elif not buyer_reference:
            raise Forbidden("send the merchant's token or the buyer's reference (Buyer-Reference header)",
                            code="BUYER_REFERENCE_REQUIRED")
        key = f"{campaign_id}/{latest['generation']}"
        artifacts = self.campaigns.artifacts
        rank = artifacts.rank_of(key, order_number, latest["leafCount"]) or 0
        row = artifacts.rows(key, rank - 1, rank)[0] if rank else None
        if row is None or not (merchant or hmac.compare_digest(row[1].encode(), (buyer_reference or "").encode())):
            raise NotFound(f"no ranked order {order_number!r} with this buyer reference", code="ORDER_NOT_FOUND")
        leaf = json.loads(artifacts.leaves(key, rank - 1, rank)[0])
        stored = get_json(self.campaigns.store, NS_COMMITMENT, key)
        if stored is None:
            raise Conflict("the commitment is still being recorded; retry shortly", code="COMMITMENT_PENDING")
        log = self.campaigns.registry.evidence
        signed = log.wait_integrated(stored["logIndex"], self.campaigns.log_wait_seconds)
        if signed is None:
            raise Conflict("the commitment is not in a signed checkpoint yet; retry shortly", code="LOG_PENDING")
        return build_receipt(
            campaign=self.campaigns.url(campaign_id), order_number=order_number, buyer_reference=row[1],
            salt=self.campaigns.salts(record)(order_number), payment_time=leaf["paymentTime"], rank=rank,
            campaign_proof=artifacts.proof(key, rank - 1, latest["leafCount"]), credential=stored["credential"],
            did_document=stored["didDocument"], log_entry=log.entry(stored["logIndex"]),
            log_proof=log.inclusion_proof(stored["logIndex"], signed.checkpoint.size), checkpoint=signed.note,
            log_key=log.verifier_key())

    def export(self, client: Client, campaign_id: str) -> dict[str, Any]:
        """``GET /campaigns/{id}/export`` (the merchant's token): every ranked order with its salt, the campaign
        and the commitment credential, for an auditor to re-derive the ranking (``chopmark campaign audit``)."""
        record, latest = self._closed(campaign_id)
        client.require("issue", record["issuer"])
        key = f"{campaign_id}/{latest['generation']}"
        count = latest["leafCount"]
        salts = self.campaigns.salts(record)
        rows = self.campaigns.artifacts.rows(key, 0, count)
        leaves = self.campaigns.artifacts.leaves(key, 0, count)
        orders = []
        for rank, ((number, buyer), text) in enumerate(zip(rows, leaves, strict=True), 1):
            leaf = json.loads(text)
            orders.append({"rank": rank, "orderNumber": number, "paymentTime": leaf["paymentTime"],
                           "buyerReference": buyer, "salt": salts(number).hex()})
        stored = get_json(self.campaigns.store, NS_COMMITMENT, key) or {}
        return {"type": "RankingCampaignExport", "campaign": self.campaigns.summary(record),
                "commitmentCredential": stored.get("credential"), "orders": orders}

    def verify(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /rank-receipts/verify`` (public): the receipt exactly as ``GET /campaigns/{id}/receipts/{order}``
        returns it (a ``RankReceipt``), or wrapped as ``{"receipt": {...}}``, verified against this service's
        evidence log key. An issuer DID of this service is resolved from the registry, never from the receipt."""
        receipt: Any = body.get("receipt") if "receipt" in body else body
        wrapped_ok = "receipt" in body and not set(body) - {"receipt"} and isinstance(receipt, Mapping)
        if not (wrapped_ok or body.get("type") == RECEIPT_TYPE):
            raise BadRequest("the body must be a RankReceipt (as GET /campaigns/{id}/receipts/{order} returns it) "
                             "or {\"receipt\": {...}}", pointer="/receipt" if "receipt" in body else "",
                             code="NOT_A_RECEIPT")
        result = verify_receipt(receipt, log_key=self.campaigns.registry.evidence.verifier_key(),
                                now=self.campaigns.clock(), resolver=self._resolver(receipt),
                                loader=self.campaigns.loader)
        return result.to_dict()

    def _resolver(self, receipt: Mapping[str, Any]) -> Resolver | None:
        credential = receipt.get("commitmentCredential")
        issuer = credential.get("issuer") if isinstance(credential, Mapping) else None
        issuers = self.campaigns.registry.issuers
        prefix = issuers.did_for("x")[:-len("x")]
        if not isinstance(issuer, str) or not issuer.startswith(prefix):
            return None  # not one of ours: the DID document the receipt carries
        try:
            document = issuers.did_document(issuer[len(prefix):])
        except NotFound:
            return Resolver()  # claims to be ours but is not: nothing to resolve, the proof fails
        return Resolver(documents={issuer: document})

