"""HTTP routes of the registry: DID documents, status lists (public), issuer and token administration."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from chopmark.errors import BadRequest, NotFound
from chopmark.jsonld import pinned_bytes
from chopmark.keys import KeyType
from chopmark.vocab import CONTEXT_URL, SCHEMA_BASE, SCHEMA_FOR_TYPE
from chopmark.vocab.schema import schema_document
from chopmark.web.plumbing import Client, current_client, global_admin, json_body, json_response
from registry.service import Registry

bp = Blueprint("registry", __name__)
DID_JSON = "application/did+json"


def register(app: Flask, registry: Registry) -> None:
    """Attach the registry routes and service to ``app``."""
    app.extensions["chopmark.registry"] = registry
    app.register_blueprint(bp)


def _registry() -> Registry:
    registry: Registry = current_app.extensions["chopmark.registry"]
    return registry


@bp.get("/.well-known/did.json")
def host_did() -> Response:
    """The host's own DID document (did:web:<host>)."""
    registry = _registry()
    registry.issuers.ensure_host()
    return json_response(registry.issuers.did_document("_host"), mimetype=DID_JSON)


@bp.get("/contexts/chopmark/v1")
def chopmark_context() -> Response:
    """The Chopmark JSON-LD context, byte for byte the pinned file (verifiers never fetch it: it is pinned)."""
    return _static(pinned_bytes(CONTEXT_URL), "application/ld+json")


@bp.get("/schemas/<name>/v1")
def credential_schema(name: str) -> Response:
    """A Chopmark credential type's JSON Schema (VC JSON Schema, type JsonSchema)."""
    url = f"{SCHEMA_BASE}{name}/v1"
    if url not in SCHEMA_FOR_TYPE.values():
        raise NotFound(f"no schema {name!r}", code="SCHEMA_NOT_FOUND")
    data = json.dumps(schema_document(url), indent=2, ensure_ascii=False).encode()
    return _static(data, "application/schema+json")


def _static(data: bytes, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["ETag"] = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    response.make_conditional(request)
    return response


@bp.get("/issuers/<name>/did.json")
def issuer_did(name: str) -> Response:
    """An issuer's DID document (did:web:<host>:issuers:<name>); 404 for a did:key instance (no document)."""
    issuers = _registry().issuers
    if issuers.get(name).get("didMethod") == "key":
        raise NotFound(f"issuer {name!r} is a did:key instance: its DID document is derived from the DID",
                       code="ISSUER_NOT_FOUND")
    return json_response(issuers.did_document(name), mimetype=DID_JSON)


@bp.get("/status-lists/<list_id>")
def get_status_list(list_id: str) -> Response:
    """The signed BitstringStatusListCredential, public, with a weak ETag (304 when unchanged)."""
    served = _registry().status_lists.serve(list_id)
    headers = {"ETag": served.etag, "Cache-Control": "public, max-age=0, must-revalidate"}
    if served.etag in request.if_none_match.as_set(True) or _weak_match(served.etag):
        return Response(status=304, headers=headers)
    return json_response(served.credential, headers=headers, mimetype="application/vc+ld+json"
                         if "application/vc" in request.headers.get("Accept", "") else "application/json")


def _weak_match(etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    return any(part.strip() in (etag, etag[2:]) for part in header.split(","))


def _acting_issuer(client: Client, options: dict[str, Any]) -> str:
    issuer = options.get("issuer", client.issuer)
    if not isinstance(issuer, str):
        raise BadRequest("options.issuer (the issuer name) is required with a global admin token",
                         code="ISSUER_REQUIRED")
    return issuer


@bp.post("/status-lists")
@bp.post("/issuers/<name>/status-lists")
def create_status_list(name: str | None = None) -> Response:
    """VC API ``POST /status-lists``: create a list for the token's issuer; it becomes the current list."""
    body = json_body()
    unknown = set(body) - {"statusPurpose", "id", "options"}
    if unknown:
        raise BadRequest(f"unknown members {sorted(unknown)}", code="UNKNOWN_MEMBER")
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise BadRequest("options must be an object")
    client = current_client("status")
    issuer = name or _acting_issuer(client, options)
    client.require("status", issuer)
    lists = _registry().status_lists
    list_id = None
    if "id" in body:
        if not isinstance(body["id"], str) or lists.id_for_url(body["id"]) is None:
            raise BadRequest(f"id must be a URL under {lists.url_for('')}", code="INVALID_STATUS_LIST_ID")
        list_id = lists.id_for_url(body["id"])
    purpose = body.get("statusPurpose")
    if not isinstance(purpose, str):
        raise BadRequest("statusPurpose (revocation or suspension) is required", pointer="/statusPurpose")
    record = lists.create(issuer, purpose, list_id=list_id)
    served = lists.serve(record["id"])
    return json_response({"id": record["url"], "verifiableCredential": served.credential}, 201,
                         headers={"Location": record["url"]})


# --- administration --------------------------------------------------------------------------------------

@bp.post("/admin/issuers")
def admin_create_issuer() -> Response:
    """Create an issuer instance (global admin token)."""
    global_admin()
    body = json_body()
    unknown = set(body) - {"name", "suites", "statusPurposes", "keyTypes", "didMethod"}
    if unknown:
        raise BadRequest(f"unknown members {sorted(unknown)}", code="UNKNOWN_MEMBER")
    suites, purposes = body.get("suites"), body.get("statusPurposes", ["revocation", "suspension"])
    if suites is not None and not _strings(suites):
        raise BadRequest("suites must be a list of cryptosuite names")
    if not _strings(purposes):
        raise BadRequest("statusPurposes must be a list of strings")
    did_method = body.get("didMethod", "web")
    if not isinstance(did_method, str):
        raise BadRequest("didMethod must be \"web\" or \"key\"", pointer="/didMethod", code="UNKNOWN_DID_METHOD")
    issuers = _registry().issuers
    name = body.get("name")
    if not isinstance(name, str):
        raise BadRequest("name (the issuer name) is required", pointer="/name", code="INVALID_ISSUER_NAME")
    record = issuers.create(name, suites=suites, status_purposes=purposes, did_method=did_method,
                            key_types=_key_types(body.get("keyTypes")))
    location = f"/admin/issuers/{record['name']}" if did_method == "key" else f"/issuers/{record['name']}/did.json"
    return json_response(issuers.public_view(record), 201, headers={"Location": location})


def _key_types(value: Any) -> list[KeyType] | None:
    """The ``keyTypes`` member: a list of key type names, or absent."""
    if value is None:
        return None
    if not _strings(value) or not all(v in KeyType.__members__.values() for v in value):
        raise BadRequest(f"keyTypes must be a list of {[k.value for k in KeyType]}", pointer="/keyTypes",
                         code="INVALID_KEY_TYPE")
    return [KeyType(v) for v in value]


@bp.get("/admin/issuers")
def admin_list_issuers() -> Response:
    """Every issuer (global admin token)."""
    global_admin()
    issuers = _registry().issuers
    return json_response({"issuers": [issuers.public_view(r) for r in issuers.list()]})


@bp.get("/admin/issuers/<name>")
def admin_get_issuer(name: str) -> Response:
    """One issuer (admin token of that issuer or global)."""
    current_client("admin", name)
    issuers = _registry().issuers
    return json_response(issuers.public_view(issuers.get(name)))


@bp.post("/admin/issuers/<name>/keys")
def admin_rotate_key(name: str) -> Response:
    """Rotate: add a key of ``type`` and make it the signing key; the old key stays in the DID document."""
    current_client("admin", name)
    body = json_body()
    unknown = set(body) - {"type"}
    if unknown:  # a typo must not rotate a key with the defaults
        raise BadRequest(f"unknown members {sorted(unknown)}", code="UNKNOWN_MEMBER")
    try:
        key_type = KeyType(body.get("type", "Ed25519"))
    except ValueError:
        raise BadRequest(f"type must be one of {[k.value for k in KeyType]}", code="INVALID_KEY_TYPE") from None
    issuers = _registry().issuers
    return json_response(issuers.public_view(issuers.rotate(name, key_type)), 201)


@bp.delete("/admin/issuers/<name>/keys/<key_id>")
def admin_remove_key(name: str, key_id: str) -> Response:
    """Remove a key that is not a current signing key (deliberate: its proofs stop verifying)."""
    current_client("admin", name)
    issuers = _registry().issuers
    return json_response(issuers.public_view(issuers.remove_key(name, key_id)))


@bp.post("/admin/tokens")
def admin_create_token() -> Response:
    """Create a token (global admin); the response holds the token, shown once."""
    global_admin()
    body = json_body()
    unknown = set(body) - {"issuer", "scopes", "label"}
    if unknown:
        raise BadRequest(f"unknown members {sorted(unknown)}", code="UNKNOWN_MEMBER")
    issuer, label = body.get("issuer"), body.get("label", "")
    if issuer is not None:
        if not isinstance(issuer, str):
            raise BadRequest("issuer must be a string")
        _registry().issuers.get(issuer)
    if not isinstance(label, str) or not (isinstance(body.get("scopes"), list | str)):
        raise BadRequest("scopes (list or comma-separated string) is required; label must be a string")
    created = _registry().tokens.create(issuer=issuer, scopes=body["scopes"], label=label)
    return json_response(created, 201)


@bp.get("/admin/tokens")
def admin_list_tokens() -> Response:
    """Token records, never the tokens (global admin)."""
    global_admin()
    return json_response({"tokens": _registry().tokens.list()})


@bp.delete("/admin/tokens/<token_id>")
def admin_revoke_token(token_id: str) -> Response:
    """Revoke a token by id (global admin)."""
    global_admin()
    return json_response(_registry().tokens.revoke(token_id))


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
