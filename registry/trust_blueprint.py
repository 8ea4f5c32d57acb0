"""HTTP routes of the trust registry: the public TRQP-style authorization query and signed trust list, and the
administration of authorizations and members (global admin token)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from chopmark.errors import BadRequest
from chopmark.vocab.identifiers import jurisdiction_valid
from chopmark.web.plumbing import global_admin, json_body, json_response
from registry.trust import TrustRegistry, parse_time

bp = Blueprint("trust", __name__)
QUERY_MEMBERS = {"entity_id", "authority_id", "action", "resource", "jurisdiction", "time", "context"}


def register(app: Flask, trust_registry: TrustRegistry) -> None:
    """Attach the trust routes and the trust registry to ``app``."""
    app.extensions["chopmark.trust"] = trust_registry
    app.register_blueprint(bp)


def _trust() -> TrustRegistry:
    registry: TrustRegistry = current_app.extensions["chopmark.trust"]
    return registry


# --- public -----------------------------------------------------------------------------------------------

@bp.post("/trust/authorization")
def query_authorization() -> Response:
    """TRQP authorization query: 200 with ``authorized`` true or false (an unknown entity is not authorized)."""
    body = json_body()
    unknown = set(body) - QUERY_MEMBERS
    if unknown:
        raise BadRequest(f"unknown members {sorted(unknown)}", code="UNKNOWN_MEMBER")
    context = body.get("context", {})
    if not isinstance(context, dict):
        raise BadRequest("context must be an object", pointer="/context")
    fields = {name: _required_string(body, name) for name in ("entity_id", "authority_id", "action", "resource")}
    # TRQP v2 carries the evaluation time in context.time; the top-level members are accepted as well
    jurisdiction = _optional(body, context, "jurisdiction")
    if jurisdiction is not None and not jurisdiction_valid(jurisdiction):
        raise BadRequest(f"jurisdiction {jurisdiction!r} is not an ISO 3166-1 alpha-2 or ISO 3166-2 code",
                         pointer="/jurisdiction", code="INVALID_JURISDICTION")
    time = _optional(body, context, "time")
    at = parse_time(time, "/time") if time is not None else None
    return json_response(_trust().query(fields["entity_id"], fields["authority_id"], fields["action"],
                                        fields["resource"], jurisdiction=jurisdiction, at=at))


@bp.get("/trust/list")
def trust_list() -> Response:
    """The signed TrustListCredential with a weak ETag (304 when the client's copy is current)."""
    served = _trust().serve()
    headers = {"ETag": served.etag, "Cache-Control": "public, max-age=60"}
    if _matches(served.etag):
        return Response(status=304, headers=headers)
    mimetype = "application/vc+ld+json" if "application/vc" in request.headers.get("Accept", "") \
        else "application/json"
    return json_response(served.credential, headers=headers, mimetype=mimetype)


def _matches(etag: str) -> bool:
    """RFC 9110 §13.1.2: If-None-Match uses the weak comparison (``W/"x"`` matches ``"x"``), ``*`` matches."""
    header = request.headers.get("If-None-Match", "")
    tags = {part.strip() for part in header.split(",")}
    return "*" in tags or etag in tags or etag[2:] in tags


def _required_string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} (a non-empty string) is required", pointer=f"/{name}", code="INVALID_QUERY")
    return value


def _optional(body: dict[str, Any], context: dict[str, Any], name: str) -> str | None:
    value = body.get(name, context.get(name))
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name} must be a string", pointer=f"/{name}", code="INVALID_QUERY")
    return value


# --- administration: authorizations -----------------------------------------------------------------------

@bp.get("/admin/trust/authorizations")
def admin_list_authorizations() -> Response:
    """Every authorization entry (global admin)."""
    global_admin()
    trust = _trust()
    return json_response({"authorizations": trust.list_authorizations(), "trustListVersion": trust.version()})


@bp.post("/admin/trust/authorizations")
def admin_add_authorization() -> Response:
    """Add an authorization entry (global admin); 201 with the entry."""
    global_admin()
    body = json_body()
    _only(body, {"entityId", "action", "resource", "jurisdictions", "authorizedFrom", "authorizedUntil"})
    trust = _trust()
    entity = body.get("entityId")
    if not isinstance(entity, str):
        raise BadRequest("entityId (a DID or an issuer name of this service) is required", pointer="/entityId",
                         code="INVALID_ENTITY_ID")
    action = body.get("action", "issue")
    resource = body.get("resource")
    if not isinstance(resource, str):
        raise BadRequest("resource (a credential type) is required", pointer="/resource", code="INVALID_RESOURCE")
    jurisdictions = body.get("jurisdictions")
    if not isinstance(jurisdictions, list):
        raise BadRequest("jurisdictions (a list of ISO 3166 codes or '*') is required", pointer="/jurisdictions",
                         code="INVALID_JURISDICTION")
    record = trust.add_authorization(trust.entity_did(entity), action, resource, jurisdictions,
                                     _time(body, "authorizedFrom"), _time(body, "authorizedUntil"))
    return json_response(record, 201, headers={"Location": f"/admin/trust/authorizations/{record['id']}"})


@bp.post("/admin/trust/authorizations/<entry_id>/suspend")
def admin_suspend_authorization(entry_id: str) -> Response:
    """Suspend an authorization (global admin)."""
    global_admin()
    return json_response(_trust().suspend_authorization(entry_id))


@bp.post("/admin/trust/authorizations/<entry_id>/resume")
def admin_resume_authorization(entry_id: str) -> Response:
    """Resume a suspended authorization (global admin)."""
    global_admin()
    return json_response(_trust().resume_authorization(entry_id))


@bp.delete("/admin/trust/authorizations/<entry_id>")
def admin_remove_authorization(entry_id: str) -> Response:
    """Remove an authorization (global admin); 204."""
    global_admin()
    _trust().remove_authorization(entry_id)
    return Response(status=204)


# --- administration: members ------------------------------------------------------------------------------

@bp.get("/admin/trust/members")
def admin_list_members() -> Response:
    """Every member entry (global admin)."""
    global_admin()
    trust = _trust()
    return json_response({"members": trust.list_members(), "trustListVersion": trust.version()})


@bp.post("/admin/trust/members")
def admin_add_member() -> Response:
    """Add a member site (global admin); 201 with the entry."""
    global_admin()
    body = json_body()
    _only(body, {"id", "name", "onboardingUrl", "role"})
    trust = _trust()
    member = body.get("id")
    if not isinstance(member, str):
        raise BadRequest("id (the member's DID or an issuer name of this service) is required", pointer="/id",
                         code="INVALID_ENTITY_ID")
    record = trust.add_member(trust.entity_did(member), body.get("name", ""), body.get("onboardingUrl", ""),
                              body.get("role", "site"))
    return json_response(record, 201, headers={"Location": f"/admin/trust/members/{record['id']}"})


@bp.post("/admin/trust/members/<member_id>/suspend")
def admin_suspend_member(member_id: str) -> Response:
    """Suspend a member (global admin)."""
    global_admin()
    return json_response(_trust().suspend_member(member_id))


@bp.post("/admin/trust/members/<member_id>/resume")
def admin_resume_member(member_id: str) -> Response:
    """Resume a suspended member (global admin)."""
    global_admin()
    return json_response(_trust().resume_member(member_id))


@bp.delete("/admin/trust/members/<member_id>")
def admin_remove_member(member_id: str) -> Response:
    """Remove a member (global admin); 204."""
    global_admin()
    _trust().remove_member(member_id)
    return Response(status=204)


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(body) - allowed
    if unknown:
        raise BadRequest(f"unknown members {sorted(unknown)}", code="UNKNOWN_MEMBER")


def _time(body: dict[str, Any], name: str) -> datetime | None:
    return parse_time(body[name], f"/{name}") if body.get(name) is not None else None
