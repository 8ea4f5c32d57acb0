"""A complete first-N campaign built offline (no service): a did:web merchant with its DID document, a signed
RankingCommitmentCredential, an evidence log held in memory with a C2SP note key, and receipts for its buyers."""

from __future__ import annotations

import base64
import copy
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chopmark import ranking, tlog
from chopmark.codecs import jcs
from chopmark.keys import KeyPair, KeyType
from chopmark.ranking import receipts
from chopmark.ranking.receipts import build_receipt
from chopmark.tlog import note
from chopmark.vc.credentials import issue
from chopmark.vocab import CONTEXT_URL, RANKING_COMMITMENT, credential_schema

CAMPAIGN = "https://shop.example/campaigns/cmp-00000000000000aa"
MERCHANT = "did:web:shop.example:issuers:mueller"
LOG_NAME = "log.example/log"
NOW = datetime(2026, 11, 12, 12, 0, tzinfo=UTC)
RULE = ranking.RankingRule()
SECRET = bytes(range(32))
START = ranking.parse_time("2026-11-11T00:00:00Z", RULE)


def orders(count: int, seed: int = 7, ties: int = 5) -> list[ranking.Order]:
    """``count`` orders in a two-hour window; every ``ties``-th order shares its millisecond with the next."""
    gen = random.Random(seed)
    out = []
    for i in range(count):
        paid = START + (gen.randrange(7_200_000) if i % ties else 3_600_000 + i // 1000)
        out.append(ranking.Order(str(5000 + i), paid, f"buyer-{gen.getrandbits(32):08x}"))
    return out


def log_key_pair(seed: int = 3) -> tuple[KeyPair, str]:
    """The log's Ed25519 key and its C2SP verifier key."""
    pair = KeyPair.from_seed(KeyType.ED25519, bytes([seed]) * 32)
    return pair, note.verifier_key(LOG_NAME, pair.public_key.raw)


def did_document(pair: KeyPair) -> dict[str, Any]:
    """The merchant's DID document (one Multikey for assertionMethod)."""
    method = {"id": MERCHANT + "#key-1", "type": "Multikey", "controller": MERCHANT,
              "publicKeyMultibase": pair.public_key.multibase()}
    return {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"], "id": MERCHANT,
            "verificationMethod": [method], "assertionMethod": [method["id"]]}


def commitment_credential(pair: KeyPair, tree: ranking.RankingTree, gifts: int) -> dict[str, Any]:
    """The signed RankingCommitmentCredential of ``tree``."""
    subject = {"id": CAMPAIGN, "type": "RankingCampaign", "sku": "TEA-1", "gifts": gifts,
               "windowStart": "2026-11-11T00:00:00.000Z", "windowEnd": "2026-11-12T00:00:00.000Z",
               "rankingRule": RULE.to_json(), "leafCount": tree.size, "merkleRoot": tree.root.hex(),
               "treeAlgorithm": ranking.TREE_ALGORITHM}
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2", CONTEXT_URL],
                  "id": "urn:uuid:3b0d6c2e-1f4a-4d7b-9e8c-5a6b7c8d9e0f",
                  "type": ["VerifiableCredential", RANKING_COMMITMENT], "issuer": MERCHANT,
                  "validFrom": "2026-11-12T00:05:00Z", "credentialSchema": credential_schema(RANKING_COMMITMENT),
                  "credentialSubject": subject}
    return issue(credential, pair.signer(MERCHANT + "#key-1"), suite="eddsa-jcs-2022", created="2026-11-12T00:05:00Z")


def log_leaf(entry_type: str, data: bytes) -> bytes:
    """An evidence-log leaf: JCS({"type", "data": base64})."""
    return jcs.canonicalize({"type": entry_type, "data": base64.b64encode(data).decode()})


@dataclass
class Campaign:
    """Everything a campaign publishes, and what buyers and auditors get."""

    tree: ranking.RankingTree
    credential: dict[str, Any]
    document: dict[str, Any]
    buyers: dict[str, str]
    log_leaves: list[bytes]
    log_index: int
    checkpoint: str
    vkey: str
    gifts: int

    def receipt(self, order_number: str) -> dict[str, Any]:
        """The RankReceipt of an order (a fresh copy)."""
        rank = next(r for r, o in enumerate(self.tree.ranking.orders, 1) if o.order_number == order_number)
        sealed = self.tree.ranking.orders[rank - 1]
        hashes = [tlog.leaf_hash(leaf) for leaf in self.log_leaves]
        entry = {"index": self.log_index, "type": receipts.COMMITMENT_ENTRY_TYPE,
                 "data": base64.b64encode(self.log_leaves[self.log_index]).decode(), "integratedAt": None}
        proof = {"index": self.log_index, "size": len(hashes), "leafHash": hashes[self.log_index].hex(),
                 "hashes": [h.hex() for h in tlog.inclusion_proof_for(hashes, self.log_index)]}
        return copy.deepcopy(build_receipt(
            campaign=CAMPAIGN, order_number=order_number, buyer_reference=self.buyers[order_number],
            salt=ranking.salt(SECRET, order_number), payment_time=sealed.payment_time, rank=rank,
            campaign_proof=self.tree.proof(rank), credential=self.credential, did_document=self.document,
            log_entry=entry, log_proof=proof, checkpoint=self.checkpoint, log_key=self.vkey))

    def export(self) -> dict[str, Any]:
        """The merchant's export (every order with its salt, in rank order)."""
        rows = [{"rank": r, "orderNumber": o.order_number, "paymentTime": o.payment_time,
                 "buyerReference": self.buyers[o.order_number], "salt": ranking.salt(SECRET, o.order_number).hex()}
                for r, o in enumerate(self.tree.ranking.orders, 1)]
        summary = {"id": "cmp-00000000000000aa", "url": CAMPAIGN, "gifts": self.gifts,
                   "windowStart": "2026-11-11T00:00:00.000Z", "windowEnd": "2026-11-12T00:00:00.000Z",
                   "rule": RULE.to_json()}
        return {"type": "RankingCampaignExport", "campaign": summary, "commitmentCredential": self.credential,
                "orders": rows}

    def leaves(self) -> list[dict[str, Any]]:
        """The published leaves (as ``GET /campaigns/{id}/leaves`` gives them)."""
        return [jcs.loads_strict(leaf) for leaf in self.tree.leaves]

    def log_entries(self) -> list[dict[str, Any]]:
        """Every log entry as ``GET /log/entries/{i}`` gives it."""
        return [{"index": i, "data": base64.b64encode(leaf).decode()} for i, leaf in enumerate(self.log_leaves)]


def build_campaign(count: int = 40, gifts: int = 10, *, other_entries: int = 6) -> Campaign:
    """A closed campaign of ``count`` orders anchored at index ``other_entries`` of a log with a few more entries."""
    merchant = KeyPair.from_seed(KeyType.ED25519, bytes([9]) * 32)
    placed = orders(count)
    sealed = ranking.seal_all(placed, ranking.Salts(SECRET).of, RULE)
    tree = ranking.commit(CAMPAIGN, sealed)
    credential = commitment_credential(merchant, tree, gifts)
    digest = receipts.credential_sha256(credential)
    payload = receipts.commitment_entry(CAMPAIGN, digest, tree.root.hex(), tree.size)
    leaves = [log_leaf("credential", bytes([i]) * 8) for i in range(other_entries)]
    leaves += [log_leaf(receipts.COMMITMENT_ENTRY_TYPE, payload), log_leaf("credential", b"after")]
    key, vkey = log_key_pair()
    root = tlog.root([tlog.leaf_hash(leaf) for leaf in leaves])
    signed = note.Checkpoint(LOG_NAME, len(leaves), root).sign(LOG_NAME, key.sign, key.public_key.raw)
    return Campaign(tree, credential, did_document(merchant), {o.order_number: o.buyer_reference for o in placed},
                    leaves, other_entries, signed, vkey, gifts)
