"""The registry role's part of the OpenAPI document (assembled by :func:`chopmark.web.openapi.document`):

* :data:`DOCUMENTS`: DID documents and status lists;
* :data:`ADMIN`: issuer, key and token administration;
* :data:`VOCABULARY` and :data:`VOCABULARY_DOCUMENTS`: the Chopmark JSON-LD context and JSON Schemas (their paths
  and their schemas are two fragments so the document keeps its published order: the schemas follow the trust
  registry's);
* :data:`TRUST`: the trust registry;
* :data:`LOG`: the evidence log (``/log/...``): appends, entries, RFC 9162 proofs, the C2SP signed checkpoint and
  verifier key.
"""

from __future__ import annotations

from typing import Any

from chopmark.web.openapi import ISSUER_PARAM, JSON, LOCATION, Fragment, header, ok, operation, path_param
from chopmark.web.openapi_schemas import STATUS_LIST_ID, Schema, array, obj, ref

INTEGER: Schema = {"type": "integer", "minimum": 0, "maximum": 2**62}
HEX_HASH: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
ENTRY_TYPE: Schema = {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,31}$"}
STRING: Schema = {"type": "string"}
ANY_OBJECT: Schema = {"type": "object"}
TRUST_ID: Schema = {"type": "string", "minLength": 1, "maxLength": 512}


def log_schemas() -> dict[str, Schema]:
    """The component schemas of the evidence log."""
    data_entry = obj({"type": ENTRY_TYPE, "data": {"type": "string", "format": "byte", "maxLength": 87384,
                                                   "description": "Standard base64 (padded) of at most 64 KiB."}},
                     ["type", "data"], closed=True)
    hash_entry = obj({"type": ENTRY_TYPE, "sha256": HEX_HASH}, ["type", "sha256"], closed=True,
                     description="An entry carrying only a SHA-256 hash (no personal data in the log).")
    entry = {"oneOf": [ref("LogDataEntry"), ref("LogHashEntry")]}
    proof = obj({"index": INTEGER, "size": INTEGER, "leafHash": HEX_HASH, "hashes": array(HEX_HASH)},
                ["index", "size", "leafHash", "hashes"],
                description="RFC 9162 §2.1.3.1 audit path of the leaf at `index` in the tree of `size` leaves.")
    text: Schema = {"type": "string"}
    return {
        "LogDataEntry": data_entry,
        "LogHashEntry": hash_entry,
        "LogEntryBatch": obj({"entries": array(entry, minItems=1, maxItems=1000)}, ["entries"], closed=True),
        "AppendLogEntriesRequest": {"oneOf": [ref("LogDataEntry"), ref("LogHashEntry"), ref("LogEntryBatch")]},
        "AppendLogEntriesResult": obj({"index": INTEGER, "indexes": array(INTEGER),
                                       "checkpoint": {"type": "string", "description": "The signed note."},
                                       "inclusionProof": ref("LogInclusionProof")},
                                      description="`index` for one entry, `indexes` for a batch; `checkpoint` "
                                                  "(and for one entry `inclusionProof`) once integrated."),
        "LogEntry": obj({"index": INTEGER, "type": ENTRY_TYPE,
                         "data": {"type": "string", "format": "byte", "description": "Base64 of the exact leaf."},
                         "integratedAt": {"type": "string", "nullable": True,
                                          "description": "When the entry entered a checkpoint (null: pending)."}},
                        ["index", "type", "data", "integratedAt"]),
        "LogInclusionProof": proof,
        "LogConsistencyProof": obj({"from": INTEGER, "to": INTEGER, "hashes": array(HEX_HASH)},
                                   ["from", "to", "hashes"],
                                   description="RFC 9162 §2.1.4.1 proof that tree `to` extends tree `from`."),
        "SignedNote": {**text, "description": "A C2SP signed note holding a tlog checkpoint."},
        "VerifierKey": {**text, "description": "A C2SP verifier key `name+keyid+base64(0x01 || key)`."},
    }


def _query(name: str, description: str, schema: Schema, *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def log_paths() -> dict[str, Any]:
    """The paths of the evidence log."""
    location = {"Location": {"description": "The first appended entry.", "required": True,
                             "schema": {"type": "string"}}}
    size = _query("size", "The tree size (default: the current checkpoint's).", INTEGER)
    sha256 = ("The SHA-256 (hex) the entry carries: its sha256 member, or the SHA-256 of its data bytes (e.g. a "
              "photo's hash logged as {type: photo, sha256}); the first such entry is found")
    entry_type = _query("type", "Only entries of this type (with sha256).", ENTRY_TYPE)
    text = ("text/plain",)
    return {
        "/log/entries": {"post": operation(
            "appendLogEntries", "log", "Append one entry or a batch (token with scope issue or admin).",
            ok={"201": ok("Appended and integrated: the checkpoint (and the inclusion proof of a single entry).",
                          "AppendLogEntriesResult", headers=location),
                "202": ok("Appended durably, not yet in a checkpoint: poll GET /log/entries/{index}.",
                          "AppendLogEntriesResult", headers=location)},
            body="AppendLogEntriesRequest", secured=True), "get": operation(
            "findLogEntry", "log", "Find the first entry in the current checkpoint carrying a SHA-256 (an index "
            "lookup, not a scan); the answer is the entry with its index.",
            ok={"200": ok("The entry.", "LogEntry")}, errors=(400, 404),
            params=[_query("sha256", sha256 + ".", {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                           required=True), entry_type])},
        "/log/entries/{index}": {"get": operation(
            "getLogEntry", "log", "One entry: its type, exact leaf bytes and integration time.",
            ok={"200": ok("The entry.", "LogEntry")}, errors=(400, 404),
            params=[path_param("index", "The entry index.", INTEGER)])},
        "/log/proofs/inclusion": {"get": operation(
            "getLogInclusionProof", "log", "RFC 9162 inclusion proof of an entry, by index, by leaf hash or by "
            "the SHA-256 it carries (exactly one of index, hash, sha256).",
            ok={"200": ok("The audit path.", "LogInclusionProof")}, errors=(400, 404),
            params=[_query("index", "The entry index.", INTEGER),
                    _query("hash", "The leaf hash, hex.", HEX_HASH),
                    _query("sha256", sha256 + " (first in the tree of `size`).",
                           {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}), entry_type, size])},
        "/log/proofs/consistency": {"get": operation(
            "getLogConsistencyProof", "log", "RFC 9162 consistency proof between two tree sizes.",
            ok={"200": ok("The proof.", "LogConsistencyProof")}, errors=(400, 404),
            params=[_query("from", "The older tree size (> 0).", INTEGER, required=True),
                    _query("to", "The newer tree size (default: the current checkpoint's).", INTEGER)])},
        "/log/checkpoint": {"get": operation(
            "getLogCheckpoint", "log", "The current checkpoint as a C2SP signed note (pending entries first).",
            ok={"200": ok("The signed checkpoint.", "SignedNote", media=text)})},
        "/log/key": {"get": operation(
            "getLogKey", "log", "The log's C2SP verifier key (also in the host DID document as #log-key).",
            ok={"200": ok("The verifier key.", "VerifierKey", media=text)})},
    }


def _registry_paths() -> dict[str, Any]:
    """DID documents and status lists."""
    list_param = path_param("id", "The status list id.", {"type": "string", "pattern": STATUS_LIST_ID})
    validators = {"ETag": header("Weak validator of the list's bits.", required=True),
                  "Cache-Control": header("`public, max-age=0, must-revalidate`.", required=True)}
    if_none_match = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
                     "description": "An ETag from an earlier response: 304 when the list has not changed."}
    created_list = {"201": ok("Created; it becomes the issuer's current list for the purpose.",
                               "CreateStatusListResponse", headers=LOCATION)}
    did = {"200": ok("The DID document.", "DidDocument", media=("application/did+json",))}
    return {
        "/.well-known/did.json": {"get": operation("getHostDidDocument", "registry", "The host's DID document.",
                                                   ok=did)},
        "/issuers/{name}/did.json": {"get": operation(
            "getIssuerDidDocument", "registry", "An issuer's DID document (did:web; 404 for a did:key instance, "
            "whose document is derived from its DID).", ok=did, errors=(404,),
            params=[ISSUER_PARAM])},
        "/status-lists/{id}": {"get": operation(
            "getStatusList", "registry", "The signed BitstringStatusListCredential (public, VCALM).",
            ok={"200": ok("The status list credential (`application/vc+ld+json` when the Accept header asks "
                           "for application/vc...).", "VerifiableCredential",
                           media=(JSON, "application/vc+ld+json"), headers=validators),
                "304": {"description": "Not modified (If-None-Match matched).", "headers": validators}},
            errors=(404,), params=[list_param, if_none_match])},
        "/status-lists": {"post": operation(
            "createStatusList", "registry", "Create a status list for the token's issuer (VCALM).",
            ok=created_list, errors=(404, 409), body="CreateStatusListRequest", secured=True)},
        "/issuers/{name}/status-lists": {"post": operation(
            "createStatusListForIssuer", "registry", "Create a status list for the named issuer.",
            ok=created_list, errors=(404, 409), body="CreateStatusListRequest", secured=True,
            params=[ISSUER_PARAM])},
    }


def _admin_paths() -> dict[str, Any]:
    """Issuer, key and token administration."""
    key_param = path_param("key_id", "The key id (key-N).", {"type": "string"}, "key-1")
    token_param = path_param("token_id", "The token id (16 hex digits).", {"type": "string"})
    issuer = {"200": ok("The issuer.", "Issuer")}
    return {
        "/admin/issuers": {
            "post": operation("adminCreateIssuer", "admin",
                              "Create an issuer (global admin token). `didMethod` `key` makes its DID the did:key "
                              "of its one key (one key type: `keyTypes` or the suites decide, Ed25519 by default); "
                              "`keyTypes` chooses the key types of a did:web instance (default: those its `suites` "
                              "need, else Ed25519 and P-256).",
                              ok={"201": ok("Created.", "Issuer", headers=LOCATION)}, errors=(409,),
                              body="CreateIssuerRequest", secured=True),
            "get": operation("adminListIssuers", "admin", "Every issuer (global admin token).",
                             ok={"200": ok("The issuers.", "IssuerList")}, secured=True)},
        "/admin/issuers/{name}": {"get": operation(
            "adminGetIssuer", "admin", "One issuer (its admin token, or a global one).", ok=issuer,
            errors=(404,), secured=True, params=[ISSUER_PARAM])},
        "/admin/issuers/{name}/keys": {"post": operation(
            "adminRotateKey", "admin", "Add a key and make it the signing key for its type (409 "
            "`DID_KEY_NO_ROTATION` for a did:key instance: a new key would be a new DID).",
            ok={"201": ok("The issuer with its new key.", "Issuer")}, errors=(404, 409), body="RotateKeyRequest",
            secured=True, params=[ISSUER_PARAM])},
        "/admin/issuers/{name}/keys/{key_id}": {"delete": operation(
            "adminRemoveKey", "admin", "Remove a key that is not a current signing key.", ok=issuer,
            errors=(404, 409), secured=True, params=[ISSUER_PARAM, key_param])},
        "/admin/tokens": {
            "post": operation("adminCreateToken", "admin", "Create a token (global admin); shown once.",
                              ok={"201": ok("The token and its record.", "CreatedToken")}, errors=(404,),
                              body="CreateTokenRequest", secured=True),
            "get": operation("adminListTokens", "admin", "Token records, never the tokens (global admin).",
                             ok={"200": ok("The token records.", "TokenList")}, secured=True)},
        "/admin/tokens/{token_id}": {"delete": operation(
            "adminRevokeToken", "admin", "Revoke a token (global admin).",
            ok={"200": ok("The revoked token's record.", "TokenRecord")}, errors=(404,), secured=True,
            params=[token_param])},
    }


def _vocabulary_paths() -> dict[str, Any]:
    """The Chopmark JSON-LD context and the JSON Schemas of its credential types."""
    return {
        "/contexts/chopmark/v1": {"get": operation("getChopmarkContext", "registry", "The Chopmark JSON-LD context.",
                                            ok={"200": ok("The context.", "JsonLdContext",
                                                          media=("application/ld+json",))})},
        "/schemas/{schema}/v1": {"get": operation(
            "getCredentialSchema", "registry", "A Chopmark credential type's JSON Schema.",
            ok={"200": ok("The schema.", "JsonSchemaDocument", media=("application/schema+json",))},
            errors=(404,), params=[path_param("schema", "The schema name.", STRING, "merchant-identity")])},
    }


def _vocabulary_schemas() -> dict[str, Schema]:
    """The documents the vocabulary paths serve."""
    return {
        "JsonLdContext": obj({"@context": ANY_OBJECT}, ["@context"]),
        "JsonSchemaDocument": obj({"$id": STRING, "$schema": STRING}, ["$id"]),
    }


def _trust_schemas() -> dict[str, Schema]:
    """The component schemas of the trust registry."""
    entry = obj({"id": STRING, "entryStatus": {"enum": ["active", "suspended"]}}, ["id", "entryStatus"])
    return {
        "TrustQuery": obj({"entity_id": STRING, "authority_id": STRING, "action": STRING, "resource": STRING,
                           "jurisdiction": STRING, "time": STRING},
                          ["entity_id", "authority_id", "action", "resource"]),
        "TrustQueryResult": obj({"entity_id": STRING, "authority_id": STRING, "action": STRING,
                                 "resource": STRING, "authorized": {"type": "boolean"}, "message": STRING,
                                 "time_requested": STRING, "time_evaluated": STRING},
                                ["authorized", "entity_id", "authority_id", "action", "resource"]),
        "TrustEntry": entry,
        "TrustAuthorizationRequest": obj({"entityId": STRING, "action": STRING, "resource": STRING,
                                          "jurisdictions": array(STRING), "authorizedFrom": STRING,
                                          "authorizedUntil": STRING}, ["entityId", "resource"]),
        "TrustMemberRequest": obj({"id": STRING, "name": STRING, "onboardingUrl": STRING, "role": STRING},
                                  ["id", "name", "onboardingUrl"]),
        "TrustAuthorizationList": obj({"authorizations": array(ref("TrustEntry")),
                                       "trustListVersion": {"type": "integer"}}, ["authorizations"]),
        "TrustMemberList": obj({"members": array(ref("TrustEntry")), "trustListVersion": {"type": "integer"}},
                               ["members"]),
    }


def _trust_paths() -> dict[str, Any]:
    """The trust registry: TRQP-style queries, the signed trust list, and its administration."""
    entry = path_param("entry_id", "The authorization id (urn:uuid:...).", TRUST_ID)
    member = path_param("member_id", "The member's DID.", TRUST_ID)
    list_ok = {"200": ok("The signed TrustListCredential.", "VerifiableCredential"),
               "304": {"description": "Not modified (If-None-Match matched)."}}
    if_none_match = {"name": "If-None-Match", "in": "header", "required": False, "schema": STRING}
    out: dict[str, Any] = {
        "/trust/authorization": {"post": operation(
            "queryTrustAuthorization", "trust", "TRQP-style query: is the entity authorized? (absent: no).",
            ok={"200": ok("The answer.", "TrustQueryResult")}, body="TrustQuery")},
        "/trust/list": {"get": operation("getTrustList", "trust", "The whole trust registry as a signed credential.",
                                  ok=list_ok, params=[if_none_match])},
    }
    for kind, param, request, listing in (("authorizations", entry, "TrustAuthorizationRequest",
                                           "TrustAuthorizationList"),
                                          ("members", member, "TrustMemberRequest", "TrustMemberList")):
        single = kind[:-1].title()
        base = f"/admin/trust/{kind}"
        key = "{" + param["name"] + "}"
        out[base] = {
            "get": operation(f"adminList{single}s", "admin", f"Every trust {kind[:-1]} (global admin).",
                      ok={"200": ok("The entries.", listing)}, secured=True),
            "post": operation(f"adminAdd{single}", "admin", f"Add a trust {kind[:-1]} (global admin).",
                       ok={"201": ok("The entry.", "TrustEntry")}, errors=(404, 409), body=request, secured=True)}
        for action in ("suspend", "resume"):
            out[f"{base}/{key}/{action}"] = {"post": operation(
                f"admin{action.title()}{single}", "admin", f"{action.title()} a trust {kind[:-1]}.",
                ok={"200": ok("The entry.", "TrustEntry")}, errors=(404, 409), secured=True, params=[param])}
        out[f"{base}/{key}"] = {"delete": operation(
            f"adminRemove{single}", "admin", f"Remove a trust {kind[:-1]} for good.",
            ok={"204": {"description": "Removed."}}, errors=(404,), secured=True, params=[param])}
    return out


DOCUMENTS = Fragment(paths=_registry_paths, tag={"name": "registry", "description": "DID documents and status lists."})
ADMIN = Fragment(paths=_admin_paths, tag={"name": "admin", "description": "Issuer, key and token administration "
                                                                          "(registry role)."})
VOCABULARY = Fragment(paths=_vocabulary_paths)
TRUST = Fragment(paths=_trust_paths, schemas=_trust_schemas,
                 tag={"name": "trust", "description": "The trust registry: authorization queries and the signed trust "
                                                      "list."})
VOCABULARY_DOCUMENTS = Fragment(schemas=_vocabulary_schemas)
LOG = Fragment(paths=log_paths, schemas=log_schemas,
               tag={"name": "log", "description": "The evidence log: append-only Merkle log (RFC 9162) with signed "
                                                  "checkpoints (C2SP tlog-checkpoint)."})
