"""Onboarding at a marketplace site: presentation request, verification against the site's policy, decision.

``POST /sites/{site}/onboarding`` opens an exchange: a Verifiable Presentation Request (QueryByExample for the
credential types the site accepts, DIDAuthentication) with a single-use challenge and the site's DID as domain.
``POST /sites/{site}/onboarding/{id}`` takes the exchange (atomically: a replay finds nothing), runs every
verifier check plus the site's policy, and answers a decision. On acceptance the site issues a
``MarketplaceSellerCredential`` to the merchant and keeps a seller record, so the site can re-verify the merchant
later (``POST /sites/{site}/sellers/{account}/verify``). A re-verification mirrors the identity credential's
status onto the seller credential it issued: revoked identity -> seller credential revoked (for good: revocation
is never undone, Bitstring Status List 1.0 §2.1), suspended -> suspended, suspension lifted -> lifted; other sites
that accepted that seller credential then see it too.

Within one deployment nobody has to re-check: each seller credential is indexed by the SHA-256 digest of the
credential it derives from (the one the seller credential names in ``identityCredential``), and
:meth:`Onboarding.status_changed` (the issuer's ``StatusListener``, wired by ``create_app``) sets the same bit on
every derived seller credential the moment the issuer writes it, down a chain of derivations. Identities issued
elsewhere are re-checked on a schedule: :meth:`Onboarding.recheck_due` (``chopmark site recheck``, for cron).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from chopmark.codecs import jcs, multibase
from chopmark.codecs.dates import format_datetime, parse_datetime
from chopmark.dids.web import did_web_to_url
from chopmark.errors import ChopmarkError, NotFound
from chopmark.jsonld.values import as_list
from chopmark.store import Store
from chopmark.store.records import create_json, decode_json, get_json, put_json, update_json
from chopmark.trust.domainlinkage import verify_configuration
from chopmark.vc.datamodel import V2_CONTEXT, issuer_id
from chopmark.vc.presentations import holder_id
from chopmark.vocab import CONTEXT_URL, MARKETPLACE_SELLER, credential_schema
from chopmark.web.exchanges import DID_AUTHENTICATION, Exchanges, presentation_of, token
from chopmark.web.plumbing import Client
from verifier.policy import Evaluation, PolicyContext, evaluate_credential, evaluate_presentation, merchant_claims
from verifier.policy import reason as make_reason
from verifier.ports import SellerCredentialIssuer
from verifier.service import Verification
from verifier.sites import SiteProfile, Sites
from verifier.trust import TrustLookup

NS_EXCHANGE = "onboarding"
NS_DECISION = "onboarding-decision"
NS_SELLER = "seller"
NS_ACCOUNT = "seller-account"
NS_DERIVED = "seller-derived"
#: Seller credentials whose suspension was set by following their identity credential (not by the site).
NS_FOLLOWED = "seller-followed-suspension"
DECISION_TTL = 7 * 86_400
#: The newest derived seller credentials kept per source credential (each onboarding adds one).
MAX_DERIVED = 1000
_LOG = logging.getLogger("chopmark.onboarding")


class Onboarding:
    """The sites' onboarding service."""

    def __init__(self, store: Store, sites: Sites, issuance: SellerCredentialIssuer, verification: Verification,
                 trust: TrustLookup, *, did_for: Callable[[str], str], clock: Callable[[], datetime],
                 rng: Callable[[int], bytes], ttl: int = 300) -> None:
        """``did_for(name)`` is an issuer instance's DID (NotFound for unknown names)."""
        self._store = store
        self._sites = sites
        self._issuance = issuance
        self._verification = verification
        self._trust = trust
        self._did_for = did_for
        self._clock = clock
        self._rng = rng
        self._exchanges = Exchanges(store, NS_EXCHANGE, owner="site", clock=clock, rng=rng, ttl=ttl)

    # -- the exchange ------------------------------------------------------------------------------------
    def start(self, site: str) -> dict[str, Any]:
        """Open an onboarding exchange: the presentation request the merchant's wallet answers."""
        profile = self._sites.get(site)
        domain = self._did_for(site)
        exchange_id, challenge, expires = self._exchanges.open(site, domain)
        examples = [{"reason": f"{profile.display_name or site} onboards sellers with a {kind}",
                     "example": {"@context": [V2_CONTEXT, CONTEXT_URL], "type": [kind]}}
                    for kind in profile.accepted_types]
        request = {"query": [{"type": "QueryByExample", "credentialQuery": examples}, DID_AUTHENTICATION],
                   "challenge": challenge, "domain": domain}
        return {"id": exchange_id, "site": domain, "verifiablePresentationRequest": request, "expires": expires}

    def decide(self, site: str, exchange_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Verify the merchant's presentation against the site's policy and answer the decision."""
        started = time.perf_counter()
        presentation = presentation_of(body)
        profile = self._sites.get(site)
        exchange = self._exchanges.take(site, exchange_id)
        now = self._clock()
        result = self._verification.check_presentation(
            presentation, challenge=exchange["challenge"], domain=exchange["domain"], now=now,
            accepted_suites=profile.accepted_suites, max_status_age=profile.max_status_age_seconds)
        evaluation = evaluate_presentation(presentation, result, self._context(profile, now))
        if evaluation.credential is not None and profile.domain_linkage:
            evaluation.reasons += self._domain_linkage(evaluation.credential, now)
        decision = self._decision(exchange_id, profile, evaluation)
        holder = holder_id(presentation)
        decision["merchant"] = decision["merchant"] or ({"did": holder} if holder is not None else {})
        if decision["accepted"] and evaluation.credential is not None:
            decision.update(self._accept(profile, evaluation.credential, exchange_id, now))
        decision["elapsedMs"] = round((time.perf_counter() - started) * 1000, 2)
        create_json(self._store, NS_DECISION, f"{site}|{exchange_id}", decision, ttl=DECISION_TTL)
        return decision

    def decision(self, site: str, exchange_id: str) -> dict[str, Any]:
        """A decision already made (kept for a week)."""
        found = get_json(self._store, NS_DECISION, f"{site}|{exchange_id}") if len(exchange_id) <= 64 else None
        if found is None:
            raise NotFound(f"no decision for onboarding {exchange_id!r} at {site!r}", code="DECISION_NOT_FOUND")
        return dict(found)

    def _context(self, profile: SiteProfile, now: datetime) -> PolicyContext:
        def site_did(name: str) -> str | None:
            try:
                return self._did_for(name)
            except ChopmarkError:
                return None
        checker = self._verification.status_checker(now, profile.max_status_age_seconds)

        def identity_status(subject: Mapping[str, Any]) -> list[dict[str, str]]:
            return _identity_status(subject.get("identityCredential"), checker)
        return PolicyContext(profile=profile, trust=self._trust, now=now, site_did=site_did,
                             identity_status=identity_status)

    @staticmethod
    def _decision(exchange_id: str, profile: SiteProfile, evaluation: Evaluation) -> dict[str, Any]:
        verdict = evaluation.decision
        decision: dict[str, Any] = {"id": exchange_id, "site": profile.site, "accepted": verdict == "accepted",
                                    "decision": verdict, "merchant": {}, "reasons": evaluation.reasons}
        if evaluation.credential is not None:
            decision["merchant"] = merchant_claims(evaluation.credential, profile)
        return decision

    # -- domain linkage ------------------------------------------------------------------------------------
    def _domain_linkage(self, credential: Mapping[str, Any], now: datetime) -> list[dict[str, str]]:
        """DIF Well-Known DID Configuration: the merchant's (the qualifying credential's subject) did:web origin
        must link back to its DID."""
        subject = credential.get("credentialSubject")
        holder = subject.get("id") if isinstance(subject, Mapping) else None
        if not isinstance(holder, str) or not holder.startswith("did:web:"):
            return [make_reason("DOMAIN_LINKAGE_REQUIRED", "domainLinkage",
                                "this site requires a did:web merchant whose domain links to its DID")]
        origin = _origin(did_web_to_url(holder))
        try:
            body = self._verification.fetch_remote(f"{origin}/.well-known/did-configuration.json")
        except ChopmarkError as exc:
            return [make_reason("DOMAIN_LINKAGE_UNAVAILABLE", "domainLinkage",
                                f"could not fetch {origin}/.well-known/did-configuration.json: {exc.detail}")]
        check = verify_configuration(body, holder, origin, self._verification.request_resolver(), now)
        return [make_reason(p.code, "domainLinkage", p.detail) for p in check.problems]

    # -- acceptance and sellers ------------------------------------------------------------------------------
    def _accept(self, profile: SiteProfile, identity: Mapping[str, Any], exchange_id: str,
                now: datetime) -> dict[str, Any]:
        subject = identity["credentialSubject"]
        did = subject["id"]
        account = self._account(profile.site, did)
        credential = _seller_credential(profile, account, identity, self._did_for(profile.site), now)
        credential["id"] = "urn:uuid:" + str(uuid.UUID(bytes=self._rng(16), version=4))
        record = self._issuance.issue_for(profile.site, credential, actor=f"onboarding:{exchange_id}")
        self._index_derived(identity, {"site": profile.site, "account": account, "credentialId": record["id"]})
        key = f"{profile.site}|{account}"
        issued = [*(get_json(self._store, NS_SELLER, key) or {}).get("sellerCredentialIds", []), record["id"]]
        put_json(self._store, NS_SELLER, key,
                 {"account": account, "did": did, "site": profile.site, "onboardedAt": format_datetime(now),
                  "checkedAt": format_datetime(now), "identityCredential": identity,
                  "sellerCredentialIds": issued[-50:], "mirrored": None})
        return {"sellerAccountId": account, "verifiableCredential": record["credential"]}

    def _index_derived(self, source: Mapping[str, Any], seller: dict[str, str]) -> None:
        """Remember that ``seller`` derives from ``source``, under the digest of ``source`` as presented (the
        issuer's record keeps the same SHA-256 of the JCS form, so only that very credential matches, whatever
        ``id`` another issuer might give its own credentials)."""
        digest = hashlib.sha256(jcs.canonicalize_general(source)).hexdigest()

        def add(current: Any) -> dict[str, Any]:
            sellers = [s for s in (current or {}).get("sellers", []) if s != seller]
            return {"sourceId": source.get("id"), "sellers": [*sellers, seller][-MAX_DERIVED:]}
        update_json(self._store, NS_DERIVED, digest, add)

    def _account(self, site: str, did: str) -> str:
        """The seller account of ``did`` at ``site``: created once, the same on every re-onboarding."""
        key = f"{site}|{hashlib.sha256(did.encode()).hexdigest()}"
        candidate = "acct_" + token(self._rng, 12)
        if create_json(self._store, NS_ACCOUNT, key, {"account": candidate, "did": did}):
            return candidate
        existing = get_json(self._store, NS_ACCOUNT, key) or {}
        return str(existing.get("account", candidate))

    def seller(self, client: Client, site: str, account: str) -> dict[str, Any]:
        """``GET /sites/{site}/sellers/{account}`` (the site's own token)."""
        client.require("issue", site)
        record = get_json(self._store, NS_SELLER, f"{site}|{account}") if len(account) <= 64 else None
        if record is None:
            raise NotFound(f"no seller account {account!r} at {site!r}", code="SELLER_NOT_FOUND")
        return dict(record)

    def recheck(self, client: Client, site: str, account: str) -> dict[str, Any]:
        """``POST /sites/{site}/sellers/{account}/verify``: verify the merchant's identity credential again (status,
        validity, trust, policy) and mirror its status onto the seller credential this site issued."""
        return self._recheck(self.seller(client, site, account))

    def recheck_due(self, interval: float, *, site: str | None = None) -> list[dict[str, Any]]:
        """Re-check every seller (of ``site``, or of every site) whose last check is more than ``interval``
        seconds old, as :meth:`recheck` does: the schedule for identities issued on other deployments, whose
        status changes this deployment does not hear of (``chopmark site recheck``). One line per seller."""
        cutoff = self._clock() - timedelta(seconds=interval)
        out = []
        for _, raw in self._store.scan(NS_SELLER, f"{site}|" if site else ""):
            record = decode_json(raw)
            last = record.get("checkedAt") or record.get("onboardedAt")
            if last and parse_datetime(last) > cutoff:
                continue
            line = {"site": record["site"], "sellerAccountId": record["account"]}
            try:
                decision = self._recheck(record)
            except ChopmarkError as exc:
                out.append({**line, "decision": "error", "reasons": [exc.instance_code]})
                continue
            out.append({**line, "decision": decision["decision"], "reasons": sorted(
                {r["code"] for r in decision["reasons"]})})
        return out

    def _recheck(self, record: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        site, account = record["site"], record["account"]
        profile = self._sites.get(site)
        now = self._clock()
        identity = record["identityCredential"]
        result = self._verification.check_credential(identity, now=now, accepted_suites=profile.accepted_suites,
                                                     max_status_age=profile.max_status_age_seconds)
        evaluation = Evaluation(reasons=evaluate_credential(identity, result, self._context(profile, now),
                                                            holder=record["did"]))
        if not evaluation.reasons:
            evaluation.credential = identity
        decision = self._decision(f"recheck:{account}", profile, evaluation)
        decision["sellerAccountId"] = account
        decision["merchant"] = merchant_claims(identity, profile)
        self._mirror(site, record, evaluation, now)
        decision["elapsedMs"] = round((time.perf_counter() - started) * 1000, 2)
        return decision

    def _mirror(self, site: str, record: dict[str, Any], evaluation: Evaluation, now: datetime) -> None:
        """Every seller credential of the account takes the identity's revocation and suspension (a revocation
        is never cleared: Bitstring Status List 1.0 §2.1, "not reversible"); the check time is recorded."""
        codes = {r["code"] for r in evaluation.reasons}
        wanted = {"revocation": "REVOKED" in codes, "suspension": "SUSPENDED" in codes}
        for credential_id in record["sellerCredentialIds"]:  # every seller credential of this account
            for purpose, value in wanted.items():
                if value or purpose != "revocation":
                    self._set_status(site, credential_id, purpose, value)
        put_json(self._store, NS_SELLER, f"{site}|{record['account']}",
                 {**record, "mirrored": wanted, "checkedAt": format_datetime(now)})

    def status_changed(self, *, credential_id: str, digest: str, purpose: str, value: bool) -> None:
        """``issuer.ports.StatusListener``: credential ``credential_id`` (SHA-256 ``digest``) now has its
        ``purpose`` bit ``value``; every seller credential derived from it takes the same bit at once (each write
        notifies again, so the seller credentials derived from those follow too). A failure on one is logged and
        the others still follow; repeating the identity's status request completes the rest."""
        derived = get_json(self._store, NS_DERIVED, digest) if len(digest) == 64 else None
        for seller in (derived or {}).get("sellers", []):
            try:
                self._set_status(seller["site"], seller["credentialId"], purpose, value)
            except ChopmarkError as exc:
                _LOG.warning("seller credential %s (derived from %s) kept its %s status: %s %s",
                             seller["credentialId"], credential_id, purpose, exc.instance_code, exc.detail)

    def _set_status(self, site: str, credential_id: str, purpose: str, value: bool) -> None:
        """Give a seller credential ``site`` issued its identity's ``purpose`` bit, when it has such an entry.
        A suspension is lifted only when following the identity set it: one the site set itself stays."""
        if not value and purpose == "revocation":
            return  # revocation is permanent (Bitstring Status List 1.0 §2.1)
        issued = self._issuance.record(credential_id)
        if not any(s["purpose"] == purpose for s in issued["status"]):
            return
        if purpose == "suspension" and not value and not self._store.delete(NS_FOLLOWED, credential_id):
            return  # not suspended by following the identity: the site's own decision
        actor = Client(id="onboarding", issuer=site, scopes=frozenset({"status"}))
        answer = self._issuance.update_status(actor, {"credentialId": credential_id, "status": value,
                                                      "credentialStatus": {"statusPurpose": purpose}})
        if purpose == "suspension" and value and not answer.get("previous"):
            self._store.put(NS_FOLLOWED, credential_id, b"1")  # set by following: lifted when the identity is


def _identity_status(relied: Any, checker: Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
                     ) -> list[dict[str, str]]:
    """A reused seller credential is only as good as the identity credential it relied on: check that
    credential's status entries (copied into the seller credential) as if it were presented, so a revocation by
    the KYB authority reaches every site at once, not only the sites that re-check their sellers."""
    if not isinstance(relied, Mapping) or not isinstance(relied.get("issuedBy"), str):
        return [make_reason("IDENTITY_STATUS_UNKNOWN", "identityStatus",
                            "the seller credential does not carry its identity credential's issuer and status")]
    stand_in = {"issuer": relied["issuedBy"], "credentialStatus": relied.get("statusEntries", [])}
    reasons = []
    for entry in as_list(stand_in["credentialStatus"]):
        if not isinstance(entry, Mapping):
            continue
        try:
            checker(entry, stand_in)
        except ChopmarkError as exc:
            reasons.append(make_reason(exc.instance_code, "identityStatus",
                                       f"the identity credential {relied.get('id')}: {exc.detail}"))
    return reasons


def _seller_credential(profile: SiteProfile, account: str, identity: Mapping[str, Any], site_did: str,
                       now: datetime) -> dict[str, Any]:
    subject = identity["credentialSubject"]
    digest = multibase.encode(b"\x12\x20" + hashlib.sha256(jcs.canonicalize_general(identity)).digest(), "base64url")
    claims = {name: subject[name] for name in ("legalName", "jurisdiction") if name in subject}
    relied = {"id": identity.get("id"), "digestMultibase": digest, "issuedBy": issuer_id(identity),
              "statusEntries": as_list(identity.get("credentialStatus"))}
    return {"@context": [V2_CONTEXT, CONTEXT_URL], "type": ["VerifiableCredential", MARKETPLACE_SELLER],
            "validFrom": format_datetime(now),
            "validUntil": format_datetime(now + timedelta(days=profile.seller_credential_days)),
            "credentialSchema": credential_schema(MARKETPLACE_SELLER),
            "credentialSubject": {"id": subject["id"], "type": "MarketplaceSeller", "site": site_did,
                                  "sellerAccountId": account, "onboardedAt": format_datetime(now), **claims,
                                  "identityCredential": relied}}


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
