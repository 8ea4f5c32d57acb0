"""Rank receipts: what a buyer keeps to prove their rank in a first-N campaign, verified offline (pure).

A ``RankReceipt`` holds the buyer's order (number, buyer reference, salt, payment time), their rank, the
inclusion proof of their leaf in the campaign's tree, the signed ``RankingCommitmentCredential`` with its issuer's
DID document, the evidence-log entry that anchors the commitment, its inclusion proof and the signed checkpoint.
:func:`verify_receipt` needs only public keys (the log's verifier key; the issuer key comes from the DID
document in the receipt unless the caller resolves it) and runs every check, in this order:

1. ``receipt``: the members have the right types.
2. ``commitmentCredential``: the credential verifies (Data Integrity proof, validity, issuer binding); it is a
   ``RankingCommitmentCredential`` whose subject is the receipt's campaign with an RFC 9162 root and leaf count.
3. ``leaf``: the commitment recomputed from salt, order number and buyer reference, and the leaf built from it
   (:mod:`chopmark.ranking`).
4. ``campaignInclusion``: RFC 9162 §2.1.3.2, the leaf at index rank - 1 of the committed tree.
5. ``logEntry``: the log leaf is a ``ranking-commitment`` entry naming this credential's SHA-256, campaign, root
   and leaf count.
6. ``logInclusion``: RFC 9162 §2.1.3.2, the log leaf under the checkpoint's root.
7. ``checkpoint``: the C2SP checkpoint note is signed by the log key, its origin is the key's name and its size
   is the proof's tree size.

Each check is done once (the credential's proof is verified once; nothing is parsed twice), so a receipt
verifies in well under a millisecond of work beyond its JSON parsing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chopmark import ranking, tlog
from chopmark.codecs import jcs
from chopmark.dids import Resolver
from chopmark.errors import ChopmarkError, CryptographicSecurityError, MalformedValueError
from chopmark.integrity.checks import CheckResult
from chopmark.integrity.proofs import MethodResolver
from chopmark.jsonld import DocumentLoader
from chopmark.tlog import note
from chopmark.vc.credentials import verify_credential
from chopmark.vocab import RANKING_COMMITMENT

RECEIPT_TYPE = "RankReceipt"
_STRINGS = ("campaign", "orderNumber", "buyerReference", "salt", "paymentTime", "checkpoint")
_OBJECTS = ("commitmentCredential", "logEntry", "logProof")


# --- the commitment's evidence-log entry -------------------------------------------------------------------------

COMMITMENT_ENTRY_TYPE = "ranking-commitment"


def commitment_entry_payload(campaign: str, credential_sha256: str, merkle_root: str,
                             leaf_count: int) -> dict[str, Any]:
    """What the evidence-log entry anchoring a commitment says: ``{"campaign", "credentialSha256",
    "leafCount", "merkleRoot"}``. No personal data; enough for anyone scanning the log to see two different
    commitments for one campaign."""
    return {"campaign": campaign, "credentialSha256": credential_sha256, "leafCount": leaf_count,
            "merkleRoot": merkle_root}


def commitment_entry(campaign: str, credential_sha256: str, merkle_root: str, leaf_count: int) -> bytes:
    """The entry's data: the JCS bytes of :func:`commitment_entry_payload`."""
    return jcs.canonicalize(commitment_entry_payload(campaign, credential_sha256, merkle_root, leaf_count))


def credential_sha256(credential: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of a credential's JCS form (what the log entry names)."""
    return hashlib.sha256(jcs.canonicalize_general(credential)).hexdigest()


@dataclass
class ReceiptResult:
    """The outcome of :func:`verify_receipt`: every check, the rank and whether it wins a gift."""

    checks: list[CheckResult] = field(default_factory=list)
    rank: int | None = None
    gifts: int | None = None
    log_key_source: str = "caller"

    @property
    def verified(self) -> bool:
        """True only when every check ran and passed."""
        return len(self.checks) == 7 and all(c.passed for c in self.checks)

    @property
    def within_gifts(self) -> bool:
        """True when the receipt verified and its rank is at most the number of gifts."""
        return self.verified and self.rank is not None and self.gifts is not None and self.rank <= self.gifts

    def failed(self) -> list[str]:
        """The names of the failed checks."""
        return [c.check for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``verified``, ``rank``, ``gifts``, ``withinGifts``, ``logKeySource``, ``checks``."""
        return {"verified": self.verified, "rank": self.rank, "gifts": self.gifts, "withinGifts": self.within_gifts,
                "logKeySource": self.log_key_source, "checks": [c.to_dict() for c in self.checks]}


def build_receipt(*, campaign: str, order_number: str, buyer_reference: str, salt: bytes, payment_time: str,
                  rank: int, campaign_proof: Sequence[bytes], credential: Mapping[str, Any],
                  did_document: Mapping[str, Any], log_entry: Mapping[str, Any], log_proof: Mapping[str, Any],
                  checkpoint: str, log_key: str) -> dict[str, Any]:
    """Assemble a receipt (the shape :func:`verify_receipt` reads)."""
    subject = credential["credentialSubject"]
    return {"type": RECEIPT_TYPE, "campaign": campaign, "orderNumber": order_number,
            "buyerReference": buyer_reference, "salt": salt.hex(), "paymentTime": payment_time, "rank": rank,
            "gifts": subject["gifts"], "withinGifts": rank <= subject["gifts"],
            "campaignProof": [h.hex() for h in campaign_proof], "commitmentCredential": dict(credential),
            "issuerDidDocument": dict(did_document), "logEntry": dict(log_entry), "logProof": dict(log_proof),
            "checkpoint": checkpoint, "logKey": log_key}


def _fail(check: str, detail: str, code: str, **details: Any) -> CheckResult:
    error = CryptographicSecurityError(detail, code=code)
    return CheckResult.failed(check, [error], **details)


def _malformed(check: str, detail: str, code: str = "RECEIPT_MALFORMED") -> CheckResult:
    return CheckResult.failed(check, [MalformedValueError(detail, code=code)])


def _hashes(value: Any) -> list[bytes] | None:
    """A list of 32-byte hashes from hex strings, or None."""
    if not isinstance(value, list) or len(value) > 64:
        return None
    out = []
    for item in value:
        if not ranking.is_hex_digest(item):
            return None
        out.append(bytes.fromhex(item))
    return out


def _shape(receipt: Any) -> CheckResult:
    if not isinstance(receipt, Mapping) or receipt.get("type") != RECEIPT_TYPE:
        return _malformed("receipt", "not a RankReceipt (type must be \"RankReceipt\")")
    bad = [name for name in _STRINGS if not isinstance(receipt.get(name), str)]
    bad += [name for name in _OBJECTS if not isinstance(receipt.get(name), Mapping)]
    rank = receipt.get("rank")
    if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
        bad.append("rank")
    if not ranking.is_hex_digest(receipt.get("salt")):
        bad.append("salt")
    if _hashes(receipt.get("campaignProof")) is None:
        bad.append("campaignProof")
    if "issuerDidDocument" in receipt and not isinstance(receipt["issuerDidDocument"], Mapping):
        bad.append("issuerDidDocument")
    if bad:
        return _malformed("receipt", f"malformed members: {', '.join(sorted(set(bad)))}")
    return CheckResult.ok("receipt")


def _subject(credential: Mapping[str, Any], campaign: str) -> Mapping[str, Any] | str:
    """The commitment's subject, or why it is not one for ``campaign``."""
    types = credential.get("type")
    if not isinstance(types, list) or RANKING_COMMITMENT not in types:
        return f"the credential is not a {RANKING_COMMITMENT}"
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        return "the credential has no single credentialSubject"
    if subject.get("id") != campaign:
        return f"the commitment is for {subject.get('id')!r}, not the receipt's campaign {campaign!r}"
    if subject.get("treeAlgorithm") != ranking.TREE_ALGORITHM or not ranking.is_hex_digest(subject.get("merkleRoot")):
        return f"the commitment needs treeAlgorithm {ranking.TREE_ALGORITHM} and a hex merkleRoot"
    for name in ("leafCount", "gifts"):
        value = subject.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"the commitment's {name} is not a non-negative integer"
    return subject


def _credential(receipt: Mapping[str, Any], resolver: MethodResolver | None, now: datetime,
                loader: DocumentLoader | None) -> tuple[CheckResult, Mapping[str, Any] | None]:
    credential = receipt["commitmentCredential"]
    subject = _subject(credential, receipt["campaign"])
    if isinstance(subject, str):
        return _fail("commitmentCredential", subject, "NOT_A_COMMITMENT"), None
    if resolver is None:
        document = receipt.get("issuerDidDocument")
        issuer = document.get("id") if isinstance(document, Mapping) else None
        resolver = Resolver(documents={issuer: document} if isinstance(issuer, str) and isinstance(document, Mapping)
                            else {})
    result = verify_credential(credential, resolver=resolver, now=now, loader=loader)
    if not result.verified:
        return CheckResult(check="commitmentCredential", passed=False, problems=result.problems,
                           details={"failed": [c.check for c in result.checks if not c.passed]}), None
    return CheckResult.ok("commitmentCredential", issuer=credential.get("issuer")), subject


def _leaf(receipt: Mapping[str, Any], subject: Mapping[str, Any]) -> tuple[CheckResult, bytes | None]:
    rank = receipt["rank"]
    if rank > subject["leafCount"]:
        return _fail("leaf", f"rank {rank} is beyond the {subject['leafCount']} committed leaves",
                     "RANK_OUT_OF_RANGE"), None
    try:
        digest = ranking.commitment(bytes.fromhex(receipt["salt"]), receipt["orderNumber"], receipt["buyerReference"])
        data = ranking.leaf(receipt["campaign"], rank, digest, receipt["paymentTime"])
    except (ChopmarkError, UnicodeError) as exc:
        return _malformed("leaf", f"the leaf cannot be built: {exc}"), None
    return CheckResult.ok("leaf", commitment=digest), data


def _inclusion(receipt: Mapping[str, Any], subject: Mapping[str, Any], data: bytes) -> CheckResult:
    proof = _hashes(receipt["campaignProof"]) or []
    root = bytes.fromhex(subject["merkleRoot"])
    # RFC 9162 §2.1.3.2 with leaf index rank - 1 in the tree of leafCount leaves
    if not tlog.verify_inclusion(receipt["rank"] - 1, subject["leafCount"], tlog.leaf_hash(data), proof, root):
        return _fail("campaignInclusion", "the leaf is not at this rank under the committed root",
                     "CAMPAIGN_PROOF_INVALID")
    return CheckResult.ok("campaignInclusion", leafCount=subject["leafCount"])


def _log_leaf(receipt: Mapping[str, Any], subject: Mapping[str, Any]) -> tuple[CheckResult, bytes | None]:
    entry = receipt["logEntry"]
    try:
        leaf = base64.b64decode(entry.get("data", ""), validate=True)
        outer = jcs.loads_strict(leaf)  # I-JSON, nesting capped
        inner = jcs.loads_strict(base64.b64decode(outer["data"], validate=True))
    except (ChopmarkError, binascii.Error, ValueError, TypeError, KeyError):
        return _malformed("logEntry", "the log entry's data is not a ranking-commitment leaf"), None
    expected = commitment_entry_payload(subject["id"], credential_sha256(
        receipt["commitmentCredential"]), subject["merkleRoot"], subject["leafCount"])
    if not isinstance(outer, dict) or outer.get("type") != COMMITMENT_ENTRY_TYPE or inner != expected:
        return _fail("logEntry", "the log entry does not anchor this commitment credential", "LOG_ENTRY_MISMATCH"), None
    if jcs.canonicalize_general(outer) != leaf:
        return _malformed("logEntry", "the log leaf is not in canonical (JCS) form"), None
    return CheckResult.ok("logEntry", index=entry.get("index")), leaf


def _log_inclusion(receipt: Mapping[str, Any], leaf: bytes) -> tuple[CheckResult, tuple[int, bytes] | None]:
    proof = receipt["logProof"]
    index, size, hashes = proof.get("index"), proof.get("size"), _hashes(proof.get("hashes"))
    if not isinstance(index, int) or not isinstance(size, int) or hashes is None:
        return _malformed("logInclusion", "logProof needs integer index and size and hex hashes"), None
    if receipt["logEntry"].get("index") != index:
        return _fail("logInclusion", "the log proof is for another entry", "LOG_PROOF_INVALID"), None
    computed = tlog.root_from_inclusion(index, size, tlog.leaf_hash(leaf), hashes)  # RFC 9162 §2.1.3.2
    if computed is None:
        return _fail("logInclusion", "the log inclusion proof is invalid", "LOG_PROOF_INVALID"), None
    return CheckResult.ok("logInclusion", index=index, size=size), (size, computed)


def _checkpoint(receipt: Mapping[str, Any], verifier: note.NoteVerifier, tree: tuple[int, bytes]) -> CheckResult:
    try:
        checkpoint = note.open_checkpoint(receipt["checkpoint"], verifier.name, verifier)
    except ChopmarkError as exc:
        return CheckResult.failed("checkpoint", [exc])
    size, root = tree
    if checkpoint.size != size or checkpoint.root_hash != root:
        return _fail("checkpoint", f"the log proof does not lead to the signed checkpoint (size {checkpoint.size})",
                     "CHECKPOINT_MISMATCH")
    return CheckResult.ok("checkpoint", origin=checkpoint.origin, size=checkpoint.size)


def _log_verifier(receipt: Any, log_key: str | None) -> tuple[note.NoteVerifier | None, str, CheckResult | None]:
    source = "caller"
    if log_key is None:
        source = "receipt"
        log_key = receipt.get("logKey") if isinstance(receipt, Mapping) else None
    try:
        return note.parse_verifier_key(log_key if isinstance(log_key, str) else ""), source, None
    except ChopmarkError as exc:
        return None, source, CheckResult.failed("checkpoint", [exc])


def verify_receipt(receipt: Any, *, log_key: str | None, now: datetime, resolver: MethodResolver | None = None,
                   loader: DocumentLoader | None = None) -> ReceiptResult:
    """Verify a RankReceipt offline (module docstring). ``log_key``: the evidence log's C2SP verifier key
    (None: the receipt's own ``logKey`` is used and ``logKeySource`` says so: a pinned key is stronger);
    ``resolver``: resolves the issuer's key (default: the DID document carried in the receipt). Never raises
    for a bad receipt."""
    verifier, source, key_problem = _log_verifier(receipt, log_key)
    result = ReceiptResult(log_key_source=source)
    shape = _shape(receipt)
    result.checks.append(shape)
    if not shape.passed:
        return result
    result.rank = receipt["rank"]
    check, subject = _credential(receipt, resolver, now, loader)
    result.checks.append(check)
    if subject is None:
        return result
    result.gifts = subject["gifts"]
    check, data = _leaf(receipt, subject)
    result.checks.append(check)
    if data is None:
        return result
    result.checks.append(_inclusion(receipt, subject, data))
    check, log_leaf = _log_leaf(receipt, subject)
    result.checks.append(check)
    if log_leaf is None:
        return result
    check, tree = _log_inclusion(receipt, log_leaf)
    result.checks.append(check)
    if tree is None:
        return result
    result.checks.append(key_problem or _checkpoint(receipt, verifier, tree))  # type: ignore[arg-type]
    return result
