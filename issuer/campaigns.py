"""First-N ranking campaigns: a merchant ranks "the first N buyers get a gift" and commits the ranking publicly.

Why ``issuer/``: the merchant is an issuer instance of this service; it signs the ``RankingCommitmentCredential``
with its own DID, exactly as it signs any credential, and the registry's evidence log (``registry.evidence``,
reached through :class:`issuer.ports.RegistryPort`) anchors the commitment so that no later change goes
unnoticed. The registry stays the neutral witness.

The flow (the pure parts are :mod:`chopmark.ranking`, :mod:`chopmark.ranking.receipts`):

1. ``create``: sku, N gifts, window ``[start, end)`` and the published rule. A 32-byte campaign secret, sealed
   with the service KEK (AES-256-GCM, the campaign id as associated data), derives each order's salt.
2. ``add_orders``: batches (JSON or CSV), idempotent; see :mod:`issuer.campaigns_ingest`.
3. ``close`` (after the window ends): a close marker is appended to the order log (later batches are refused),
   the orders before it are ranked, the leaves and tree are stored (:mod:`issuer.campaigns_store`), the
   commitment credential is signed (a JCS suite: receipts verify in well under a millisecond) and appended to
   the evidence log as a ``ranking-commitment`` entry. A crashed close is resumed by the next ``close`` after
   :data:`CLOSE_TAKEOVER_SECONDS`; it recomputes the identical ranking.
4. Reading (summary, leaves, receipts, export, receipt verification): :mod:`issuer.campaigns_views`.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chopmark import ranking
from chopmark.codecs.dates import format_datetime
from chopmark.errors import BadRequest, ChopmarkError, Conflict, NotFound, Unprocessable
from chopmark.jsonld import DocumentLoader
from chopmark.ranking import Order, RankingRule, receipts
from chopmark.store import Store
from chopmark.store.records import create_json, get_json, put_json, update_json
from chopmark.vc.credentials import issue
from chopmark.vc.datamodel import V2_CONTEXT
from chopmark.vocab import CONTEXT_URL, RANKING_COMMITMENT, credential_schema
from chopmark.vocab.schema import validate_for_issuance
from chopmark.web.plumbing import Client
from issuer.campaigns_ingest import (
    CLOSE_MARKER,
    NS_ORDERS,
    KnownOrders,
    Window,
    check_batch,
    parse_batch,
    read_campaign_orders,
)
from issuer.campaigns_store import Artifacts
from issuer.ports import RegistryPort

NS_CAMPAIGN = "campaign"
NS_COMMITMENT = "campaign-commitment"
CLOSE_TAKEOVER_SECONDS = 120
#: the suites a commitment is signed with (the first the issuer has): JCS suites verify fast
COMMIT_SUITES = ("eddsa-jcs-2022", "ecdsa-jcs-2019")
CREATE_FIELDS = frozenset({"sku", "gifts", "windowStart", "windowEnd", "rule"})


class Campaigns:
    """The ranking campaigns of this service's issuer instances."""

    def __init__(self, store: Store, registry: RegistryPort, *, kek: bytes, public_url: str,
                 clock: Callable[[], datetime], rng: Callable[[int], bytes], loader: DocumentLoader,
                 log_wait_seconds: float = 3.0) -> None:
        """``kek`` seals the campaign secrets; ``public_url`` makes the campaign URLs (the commitment's subject)."""
        self.store = store
        self.registry = registry
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self.loader = loader
        self.log_wait_seconds = log_wait_seconds
        self.artifacts = Artifacts(store)
        self._rng = rng
        self._aead = AESGCM(hashlib.sha256(b"chopmark-campaign-secrets|" + kek).digest())
        self._known = KnownOrders(store)
        self._salts: dict[str, ranking.Salts] = {}
        self._lock = threading.Lock()

    # -- records ---------------------------------------------------------------------------------------------
    def url(self, campaign_id: str) -> str:
        """The campaign's URL (the commitment credential's subject id and the ``campaign`` of every leaf)."""
        return f"{self.public_url}/campaigns/{campaign_id}"

    def record(self, campaign_id: str) -> dict[str, Any]:
        """The stored campaign (NotFound when unknown)."""
        found = get_json(self.store, NS_CAMPAIGN, campaign_id) if _plausible_id(campaign_id) else None
        if found is None:
            raise NotFound(f"no campaign {campaign_id!r}", code="CAMPAIGN_NOT_FOUND")
        return dict(found)

    def salts(self, record: Mapping[str, Any]) -> ranking.Salts:
        """The salt derivation of a campaign (its secret unsealed once per process)."""
        with self._lock:
            cached = self._salts.get(record["id"])
        if cached is None:
            sealed = record["secret"]
            secret = self._aead.decrypt(base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["sealed"]),
                                        _aad(record["id"]))
            cached = ranking.Salts(secret)
            with self._lock:
                self._salts[record["id"]] = cached
        return cached

    # -- create ----------------------------------------------------------------------------------------------
    def create(self, client: Client, issuer: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /issuers/{issuer}/campaigns``: a new open campaign."""
        client.require("issue", issuer)
        self.registry.issuers.get(issuer)
        unknown = set(body) - CREATE_FIELDS
        if unknown:
            raise BadRequest(f"unknown members {sorted(unknown)}", code="UNKNOWN_MEMBER")
        rule = _invalid_to_400(lambda: ranking.parse_rule(body.get("rule", {})))
        sku, gifts = body.get("sku"), body.get("gifts")
        if not isinstance(sku, str) or not 0 < len(sku) <= 128 or not sku.isprintable():
            raise BadRequest("sku must be 1-128 printable characters", pointer="/sku")
        if not isinstance(gifts, int) or isinstance(gifts, bool) or not 1 <= gifts <= 10**9:
            raise BadRequest("gifts must be an integer from 1 to 10^9", pointer="/gifts")
        precise = RankingRule("millisecond")
        start = _invalid_to_400(lambda: ranking.parse_time(body.get("windowStart"), precise, name="windowStart"))
        end = _invalid_to_400(lambda: ranking.parse_time(body.get("windowEnd"), precise, name="windowEnd"))
        if end <= start:
            raise BadRequest("windowEnd must be after windowStart", pointer="/windowEnd", code="BAD_WINDOW")
        campaign_id = "cmp-" + self._rng(8).hex()
        secret, nonce = self._rng(32), self._rng(12)
        record = {"id": campaign_id, "issuer": issuer, "sku": sku, "gifts": gifts,
                  "windowStart": ranking.format_time(start, precise), "windowEnd": ranking.format_time(end, precise),
                  "rule": rule.to_json(), "state": "open", "created": format_datetime(self.clock()),
                  "secret": {"nonce": base64.b64encode(nonce).decode(),
                             "sealed": base64.b64encode(self._aead.encrypt(nonce, secret, _aad(campaign_id))).decode()},
                  "commitments": []}
        if not create_json(self.store, NS_CAMPAIGN, campaign_id, record):
            raise Conflict("campaign id collision; retry", code="CAMPAIGN_EXISTS")  # 64 random bits: never
        return self.summary(record)

    def summary(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The public view of a campaign: parameters, state and its commitments (latest last)."""
        out = {"id": record["id"], "url": self.url(record["id"]), "issuer": self.registry.issuers.did_for(
            record["issuer"]), "sku": record["sku"], "gifts": record["gifts"], "windowStart": record["windowStart"],
            "windowEnd": record["windowEnd"], "rule": record["rule"], "state": record["state"],
            "created": record["created"], "commitments": record["commitments"]}
        if record["commitments"]:
            latest = record["commitments"][-1]
            out.update(leafCount=latest["leafCount"], merkleRoot=latest["merkleRoot"], logIndex=latest["logIndex"])
        return out

    # -- orders ----------------------------------------------------------------------------------------------
    def add_orders(self, client: Client, campaign_id: str, items: Any) -> dict[str, Any]:
        """``POST /campaigns/{id}/orders``: ``{accepted, duplicates, refused: [{orderNumber, code, reason}]}``."""
        record = self.record(campaign_id)
        client.require("issue", record["issuer"])
        if record["state"] != "open":
            raise Conflict("the campaign is closed; no more orders are accepted", code="CAMPAIGN_CLOSED")
        parsed = parse_batch(check_batch(items), _window(record))
        salts = self.salts(record)
        rule = ranking.parse_rule(record["rule"])

        def seal(orders: Iterable[Order]) -> list[list[str]]:
            return [[o.order_number, ranking.format_time(o.payment_time, rule), o.buyer_reference,
                     ranking.commitment(salts(o.order_number), o.order_number, o.buyer_reference)] for o in orders]

        return self._known.ingest(campaign_id, parsed, seal).to_json()

    # -- close -----------------------------------------------------------------------------------------------
    def close(self, client: Client, campaign_id: str) -> dict[str, Any]:
        """``POST /campaigns/{id}/close``: rank, commit, anchor in the evidence log. 409 when closed already,
        while another close runs, or before the window ends."""
        record = self.record(campaign_id)
        client.require("issue", record["issuer"])
        if record["state"] == "closed":
            raise Conflict("the campaign is closed already; a ranking is committed once", code="ALREADY_CLOSED")
        now = self.clock()
        if ranking.parse_time(record["windowEnd"], RankingRule()) > now.timestamp() * 1000:
            raise Conflict(f"the campaign window is open until {record['windowEnd']}", code="WINDOW_OPEN")
        self._begin_close(campaign_id, now)
        entries = self.store.read(NS_ORDERS, campaign_id, 0, self.store.length(NS_ORDERS, campaign_id))
        if CLOSE_MARKER not in entries:  # the first close marker ends the campaign's orders
            marker = self.store.append(NS_ORDERS, campaign_id, CLOSE_MARKER)
            entries += self.store.read(NS_ORDERS, campaign_id, len(entries), marker + 1)
        sealed, buyers = read_campaign_orders(entries)
        return self._commit(campaign_id, sealed, buyers)

    def _begin_close(self, campaign_id: str, now: datetime) -> None:
        def begin(current: Any) -> Any:
            if current["state"] == "closed":
                raise Conflict("the campaign is closed already", code="ALREADY_CLOSED")
            if current["state"] == "closing" and now.timestamp() - current["closing"] < CLOSE_TAKEOVER_SECONDS:
                raise Conflict("the campaign is being closed; retry later", code="CLOSE_IN_PROGRESS")
            return {**current, "state": "closing", "closing": now.timestamp()}
        update_json(self.store, NS_CAMPAIGN, campaign_id, begin)

    def recommit(self, campaign_id: str, orders: Sequence[Order]) -> dict[str, Any]:
        """Commit another order set for a campaign: what a merchant trying to rig a closed campaign would do
        with its own database. No HTTP route reaches this; tests and ``chopmark demo ranking`` use it to show
        that the evidence log then holds two commitments for the campaign and audits fail."""
        record = self.record(campaign_id)
        rule = ranking.parse_rule(record["rule"])
        sealed = ranking.seal_all(orders, self.salts(record).of, rule)
        return self._commit(campaign_id, sealed, {o.order_number: o.buyer_reference for o in orders})

    def _commit(self, campaign_id: str, sealed: list[ranking.SealedOrder], buyers: Mapping[str, str]) -> dict[str, Any]:
        record = self.record(campaign_id)
        generation = len(record["commitments"])
        key = f"{campaign_id}/{generation}"
        tree = ranking.commit(self.url(campaign_id), sealed)
        self.artifacts.write(key, tree, buyers)
        root = tree.root.hex()
        credential = self._sign(record, tree.size, root)
        digest = receipts.credential_sha256(credential)
        entry = receipts.commitment_entry(self.url(campaign_id), digest, root, tree.size)
        log_index = self.registry.evidence.append(receipts.COMMITMENT_ENTRY_TYPE, data=entry)
        committed = format_datetime(self.clock())
        put_json(self.store, NS_COMMITMENT, key, {  # a resumed close overwrites a crashed run's record
            "credential": credential, "didDocument": self.registry.issuers.did_document(record["issuer"]),
            "logIndex": log_index, "credentialSha256": digest})
        summary = {"generation": generation, "logIndex": log_index, "merkleRoot": root, "leafCount": tree.size,
                   "credentialId": credential["id"], "committedAt": committed}

        def closed(current: Any) -> Any:
            return {**current, "state": "closed", "commitments": [*current["commitments"], summary]}
        update_json(self.store, NS_CAMPAIGN, campaign_id, closed)
        signed = self.registry.evidence.wait_integrated(log_index, self.log_wait_seconds)
        return {"campaign": self.url(campaign_id), "state": "closed", "commitmentCredential": credential,
                "logIndex": log_index, "root": root, "leafCount": tree.size,
                "checkpoint": signed.note if signed is not None else None}

    def _sign(self, record: Mapping[str, Any], leaf_count: int, root: str) -> dict[str, Any]:
        issuer = self.registry.issuers.get(record["issuer"])
        suite = next((s for s in COMMIT_SUITES if s in issuer["suites"]), None)
        if suite is None:
            raise Unprocessable(f"issuer {record['issuer']!r} has no JCS cryptosuite ({', '.join(COMMIT_SUITES)}) "
                                "to sign ranking commitments with", code="NO_COMMITMENT_SUITE")
        signer, _ = self.registry.issuers.signer(record["issuer"], suite)
        now = format_datetime(self.clock())
        subject = {"id": self.url(record["id"]), "type": "RankingCampaign", "sku": record["sku"],
                   "gifts": record["gifts"], "windowStart": record["windowStart"], "windowEnd": record["windowEnd"],
                   "rankingRule": record["rule"], "leafCount": leaf_count, "merkleRoot": root,
                   "treeAlgorithm": ranking.TREE_ALGORITHM}
        credential = {"@context": [V2_CONTEXT, CONTEXT_URL], "id": "urn:uuid:" + str(uuid.UUID(bytes=self._rng(16),
                                                                                               version=4)),
                      "type": ["VerifiableCredential", RANKING_COMMITMENT], "issuer": issuer["did"],
                      "validFrom": now, "credentialSchema": credential_schema(RANKING_COMMITMENT),
                      "credentialSubject": subject}
        validate_for_issuance(credential)
        return issue(credential, signer, suite=suite, loader=self.loader, created=now)


def _aad(campaign_id: str) -> bytes:
    return f"chopmark-campaign|{campaign_id}".encode()


def _plausible_id(campaign_id: str) -> bool:
    return isinstance(campaign_id, str) and len(campaign_id) == 20 and campaign_id.startswith("cmp-") and all(
        c in "0123456789abcdef" for c in campaign_id[4:])


def _window(record: Mapping[str, Any]) -> Window:
    precise = RankingRule("millisecond")
    return Window(ranking.parse_time(record["windowStart"], precise), ranking.parse_time(record["windowEnd"], precise),
                  ranking.parse_rule(record["rule"]))


def _invalid_to_400(parse: Callable[[], Any]) -> Any:
    """Run a kernel parser; its MalformedValueError becomes a 400 naming the member."""
    try:
        return parse()
    except ChopmarkError as exc:
        raise BadRequest(exc.detail, pointer=exc.pointer, code=exc.instance_code) from None
