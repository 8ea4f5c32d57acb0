"""HTTP routes of the issuer role (VC API): issue, get, delete, update status."""

from __future__ import annotations

from urllib.parse import unquote

from flask import Blueprint, Flask, Response, current_app, request

from chopmark.errors import BadRequest
from chopmark.service.web import current_client, json_body, json_response
from issuer.service import Issuance

bp = Blueprint("issuer", __name__)


def register(app: Flask, issuance: Issuance) -> None:
    """Attach the issuer routes and service to ``app``."""
    app.extensions["chopmark.issuer"] = issuance
    app.register_blueprint(bp)


def _service() -> Issuance:
    service: Issuance = current_app.extensions["chopmark.issuer"]
    return service


@bp.post("/credentials/issue")
@bp.post("/issuers/<name>/credentials/issue")
def issue_credential(name: str | None = None) -> Response:
    """``POST /credentials/issue``: 201 ``{verifiableCredential}``; the instance comes from the URL or the
    token's default issuer."""
    client = current_client("issue", name)
    body = json_body()
    issuer = name or client.issuer
    if issuer is None:
        raise BadRequest("a global admin token must name the issuer: POST /issuers/NAME/credentials/issue",
                         code="ISSUER_REQUIRED")
    issued = _service().issue(client, issuer, body, request.headers.get("Idempotency-Key"))
    headers = {"Location": f"/credentials/{issued.record['id']}"}
    if issued.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(issued.response(), 201, headers=headers)


@bp.get("/credentials/<path:credential_id>")
def get_credential(credential_id: str) -> Response:
    """``GET /credentials/{id}`` (the id URL-encoded): 200 ``{verifiableCredential}``, 404, 410."""
    record = _service().get(current_client("issue"), unquote(credential_id))
    return json_response({"verifiableCredential": record["credential"]})


@bp.delete("/credentials/<path:credential_id>")
def delete_credential(credential_id: str) -> Response:
    """``DELETE /credentials/{id}``: 202; the status entries stay usable."""
    _service().delete(current_client("issue"), unquote(credential_id))
    return Response(status=202)


@bp.post("/credentials/status")
def update_status() -> Response:
    """``POST /credentials/status``: flip one status bit; 200 with what changed."""
    client = current_client("status")
    return json_response(_service().update_status(client, json_body()))
