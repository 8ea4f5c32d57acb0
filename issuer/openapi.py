"""The issuer role's part of the OpenAPI document (assembled by :func:`chopmark.web.openapi.document`):

* :data:`CREDENTIALS`: issue, read, delete credentials and update their status (VCALM);
* :data:`KYB`: the KYB authority's exchanges (DID Authentication, then the identity credential);
* :data:`CAMPAIGNS`: first-N ranking campaigns (``/issuers/{name}/campaigns``, ``/campaigns/...``,
  ``/rank-receipts/verify``).
"""

from __future__ import annotations

from typing import Any

from chopmark.web.openapi import EXCHANGE_PARAM, ISSUER_PARAM, LOCATION, Fragment, header, ok, operation, path_param
from chopmark.web.openapi_schemas import Schema, array, obj, ref

STRING: Schema = {"type": "string"}
ANY_OBJECT: Schema = {"type": "object"}
COUNT: Schema = {"type": "integer", "minimum": 0}
HEX_HASH: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
CAMPAIGN_ID: Schema = {"type": "string", "pattern": "^cmp-[0-9a-f]{16}$"}


def _credential_paths() -> dict[str, Any]:
    """Issue, read, delete and update the status of credentials (VCALM paths)."""
    id_param = path_param("id", "The credentialId (URL-encoded).", {"type": "string", "minLength": 1,
                                                                      "maxLength": 512})
    idem = {"name": "Idempotency-Key", "in": "header", "required": False,
            "description": "Replays of the same key and body return the first credential (201, "
                           "`Idempotent-Replayed: true`); another body with the key is 422.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255}}
    issued = {"201": ok("Issued; the credential is recorded.", "IssueCredentialResponse", headers={
        **LOCATION, "Idempotent-Replayed": header("`true` when this answers a replayed Idempotency-Key.")})}
    issue_errors = (404, 409, 422)
    return {
        "/credentials/issue": {"post": operation(
            "issueCredential", "issuer", "Issue a credential as the token's issuer (VCALM).", ok=issued,
            errors=issue_errors, body="IssueCredentialRequest", secured=True, params=[idem])},
        "/issuers/{name}/credentials/issue": {"post": operation(
            "issueCredentialForIssuer", "issuer", "Issue a credential as the named issuer.", ok=issued,
            errors=issue_errors, body="IssueCredentialRequest", secured=True, params=[ISSUER_PARAM, idem])},
        "/credentials/{id}": {
            "get": operation("getCredential", "issuer", "A credential this issuer issued (VCALM).",
                             ok={"200": ok("The stored credential.", "VerifiableCredentialResponse")},
                             errors=(404, 405, 410), secured=True, params=[id_param]),
            "delete": operation("deleteCredential", "issuer", "Delete a stored credential; its status entries "
                                "stay usable (VCALM).", ok={"202": {"description": "Deleted (no body)."}},
                                errors=(404, 405, 410), secured=True, params=[id_param])},
        "/credentials/status": {"post": operation(
            "updateCredentialStatus", "issuer", "Set or clear one status bit of a credential (VCALM). 409: the "
            "credentialStatus is not the credential's entry (STATUS_ENTRY_MISMATCH, NO_STATUS_ENTRY), or it would "
            "clear a revocation (REVOCATION_PERMANENT: revocation is not reversible).",
            ok={"200": ok("The bit was written; the body says what changed.", "UpdateCredentialStatusResult")},
            errors=(404, 409), body="UpdateCredentialStatusRequest", secured=True)},
    }


def campaign_schemas() -> dict[str, Schema]:
    """The component schemas of ranking campaigns."""
    rule = obj({"order": {"type": "array", "items": STRING, "example": ["paymentTime", "orderNumber"]},
                "direction": {"type": "string", "enum": ["ascending"]},
                "timePrecision": {"type": "string", "enum": ["millisecond", "second"]}}, closed=True,
               description="Payment time ascending at timePrecision, ties by the smaller order number (numeric "
                           "order numbers by value and before all others, the others by code points).")
    committed = obj({"generation": COUNT, "logIndex": COUNT, "merkleRoot": HEX_HASH, "leafCount": COUNT,
                     "credentialId": STRING, "committedAt": STRING},
                    ["generation", "logIndex", "merkleRoot", "leafCount", "credentialId", "committedAt"])
    leaf = obj({"campaign": STRING, "commitment": HEX_HASH, "paymentTime": STRING, "rank": COUNT},
               ["campaign", "commitment", "paymentTime", "rank"])
    refusal = obj({"orderNumber": {"type": "string", "nullable": True}, "code": STRING, "reason": STRING},
                  ["orderNumber", "code", "reason"])
    exported = obj({"rank": COUNT, "orderNumber": STRING, "paymentTime": STRING, "buyerReference": STRING,
                    "salt": HEX_HASH}, ["rank", "orderNumber", "paymentTime", "buyerReference", "salt"])
    receipt_members = {"type": {"type": "string", "enum": ["RankReceipt"]}, "campaign": STRING, "orderNumber": STRING,
                       "buyerReference": STRING, "salt": HEX_HASH, "paymentTime": STRING, "rank": COUNT,
                       "gifts": COUNT, "withinGifts": {"type": "boolean"}, "campaignProof": array(HEX_HASH),
                       "commitmentCredential": ANY_OBJECT, "issuerDidDocument": ANY_OBJECT, "logEntry": ANY_OBJECT,
                       "logProof": ANY_OBJECT, "checkpoint": STRING, "logKey": STRING}
    return {
        "RankingRule": rule,
        "CreateCampaignRequest": obj({"sku": {"type": "string", "minLength": 1, "maxLength": 128},
                                      "gifts": {"type": "integer", "minimum": 1, "maximum": 10**9},
                                      "windowStart": {"type": "string", "format": "date-time"},
                                      "windowEnd": {"type": "string", "format": "date-time"},
                                      "rule": ref("RankingRule")},
                                     ["sku", "gifts", "windowStart", "windowEnd"], closed=True),
        "Campaign": obj({"id": STRING, "url": STRING, "issuer": STRING, "sku": STRING, "gifts": COUNT,
                         "windowStart": STRING, "windowEnd": STRING, "rule": ref("RankingRule"),
                         "state": {"type": "string", "enum": ["open", "closing", "closed"]}, "created": STRING,
                         "commitments": array(committed), "leafCount": COUNT, "merkleRoot": HEX_HASH,
                         "logIndex": COUNT},
                        ["id", "url", "issuer", "sku", "gifts", "windowStart", "windowEnd", "rule", "state",
                         "created", "commitments"]),
        "CampaignOrder": obj({"orderNumber": STRING, "paymentTime": STRING, "buyerReference": STRING},
                             ["orderNumber", "paymentTime", "buyerReference"], closed=True),
        "CampaignOrderBatch": obj({"orders": array(ref("CampaignOrder"), minItems=1, maxItems=10_000)}, ["orders"],
                                  closed=True),
        "CampaignOrderResult": obj({"accepted": COUNT, "duplicates": COUNT, "refused": array(refusal)},
                                   ["accepted", "duplicates", "refused"]),
        "CampaignCommitment": obj({"campaign": STRING, "state": STRING, "commitmentCredential": ANY_OBJECT,
                                   "logIndex": COUNT, "root": HEX_HASH, "leafCount": COUNT,
                                   "checkpoint": {"type": "string", "nullable": True}},
                                  ["campaign", "state", "commitmentCredential", "logIndex", "root", "leafCount"]),
        "CampaignLeaves": obj({"campaign": STRING, "leafCount": COUNT, "merkleRoot": HEX_HASH, "start": COUNT,
                               "leaves": array(leaf)}, ["campaign", "leafCount", "merkleRoot", "start", "leaves"]),
        "RankReceipt": obj(receipt_members, sorted(receipt_members)),
        "CampaignExport": obj({"type": STRING, "campaign": ref("Campaign"),
                               "commitmentCredential": {"type": "object", "nullable": True},
                               "orders": array(exported)}, ["type", "campaign", "orders"]),
        "VerifyRankReceiptRequest": {
            "description": "The receipt exactly as getRankReceipt returns it, or wrapped as {\"receipt\": {...}}.",
            "oneOf": [ref("RankReceipt"), obj({"receipt": ANY_OBJECT}, ["receipt"], closed=True)]},
        "RankReceiptVerification": obj({"verified": {"type": "boolean"}, "rank": {"type": "integer", "nullable": True},
                                        "gifts": {"type": "integer", "nullable": True},
                                        "withinGifts": {"type": "boolean"}, "logKeySource": STRING,
                                        "checks": array(ANY_OBJECT)},
                                       ["verified", "rank", "gifts", "withinGifts", "logKeySource", "checks"]),
    }


def _query(name: str, description: str, schema: Schema) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def campaign_paths() -> dict[str, Any]:
    """The paths of ranking campaigns."""
    campaign = path_param("campaign_id", "The campaign id.", CAMPAIGN_ID, "cmp-0123456789abcdef")
    order = path_param("order_number", "The order number.", {"type": "string", "minLength": 1, "maxLength": 64})
    location = {"Location": {"description": "The campaign.", "required": True, "schema": STRING}}
    buyer = {"name": "Buyer-Reference", "in": "header", "required": False, "schema": STRING,
             "description": "The buyer's reference, proving the order is theirs (or send the merchant's token)."}
    orders = operation("addCampaignOrders", "campaigns", "Ingest a batch of orders, idempotently (the merchant's "
                       "token): JSON {orders} or text/csv with the header orderNumber,paymentTime,buyerReference.",
                       ok={"200": ok("Accepted, duplicate and refused (with reasons) orders.", "CampaignOrderResult")},
                       errors=(404, 409), body="CampaignOrderBatch", secured=True, params=[campaign])
    orders["requestBody"]["content"]["text/csv"] = {"schema": STRING}
    return {
        "/issuers/{name}/campaigns": {"post": operation(
            "createCampaign", "campaigns", "Create a first-N campaign (token with scope issue for the issuer).",
            ok={"201": ok("The open campaign.", "Campaign", headers=location)}, errors=(404,),
            body="CreateCampaignRequest", secured=True, params=[ISSUER_PARAM])},
        "/campaigns/{campaign_id}": {"get": operation(
            "getCampaign", "campaigns", "A campaign: parameters, state and its commitments (public).",
            ok={"200": ok("The campaign.", "Campaign")}, errors=(404,), params=[campaign])},
        "/campaigns/{campaign_id}/orders": {"post": orders},
        "/campaigns/{campaign_id}/close": {"post": operation(
            "closeCampaign", "campaigns", "Rank the orders, commit the ranking (RankingCommitmentCredential) and "
            "anchor it in the evidence log; once (the merchant's token).",
            ok={"200": ok("The commitment.", "CampaignCommitment")}, errors=(404, 409, 422), secured=True,
            params=[campaign])},
        "/campaigns/{campaign_id}/leaves": {"get": operation(
            "getCampaignLeaves", "campaigns", "The committed leaves (salted commitments only; public).",
            ok={"200": ok("A page of leaves.", "CampaignLeaves")}, errors=(400, 404, 409),
            params=[campaign, _query("start", "The first leaf index (rank - 1).", COUNT),
                    _query("limit", "At most this many leaves (1-10000, default 1000).",
                           {"type": "integer", "minimum": 1, "maximum": 10_000})])},
        "/campaigns/{campaign_id}/receipts/{order_number}": {"get": operation(
            "getRankReceipt", "campaigns", "A buyer's RankReceipt: for the buyer (Buyer-Reference header) or the "
            "merchant (its token).", ok={"200": ok("The receipt.", "RankReceipt")}, errors=(403, 404, 409),
            params=[campaign, order, buyer])},
        "/campaigns/{campaign_id}/export": {"get": operation(
            "exportCampaign", "campaigns", "Every ranked order with its salt, for auditors (the merchant's token).",
            ok={"200": ok("The export.", "CampaignExport")}, errors=(404, 409), secured=True, params=[campaign])},
        "/rank-receipts/verify": {"post": operation(
            "verifyRankReceipt", "campaigns", "Verify a RankReceipt against this service's evidence log key "
            "(public).", ok={"200": ok("The result (verified or not) with every check.", "RankReceiptVerification")},
            body="VerifyRankReceiptRequest")},
    }


def _kyb_paths() -> dict[str, Any]:
    """The KYB authority's exchanges (VCALM "Exchanges" with DID Authentication)."""
    return {
        "/issuers/{name}/exchanges": {"post": operation(
            "startKybExchange", "issuer", "Open a KYB exchange: a DIDAuthentication presentation request.",
            ok={"201": ok("The exchange and its request.", "ExchangeStart")}, errors=(404,), params=[ISSUER_PARAM])},
        "/issuers/{name}/exchanges/{exchange_id}": {"post": operation(
            "continueKybExchange", "issuer", "Answer with a DID-Auth presentation carrying kybApplication; the "
            "authority issues a MerchantIdentityCredential.", ok={"200": ok("The issued credential.",
                                                                            "ExchangeResult")},
            errors=(404, 409, 422), body="PresentationBody", params=[ISSUER_PARAM, EXCHANGE_PARAM])},
    }


CREDENTIALS = Fragment(paths=_credential_paths,
                       tag={"name": "issuer", "description": "Issue, read, delete credentials and update their "
                                                             "status (VCALM)."})
KYB = Fragment(paths=_kyb_paths)
CAMPAIGNS = Fragment(paths=campaign_paths, schemas=campaign_schemas,
                     tag={"name": "campaigns", "description": "First-N ranking campaigns: orders, committed rankings, "
                                                              "buyers' receipts, audits."})
