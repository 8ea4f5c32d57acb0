"""HTTP routes of the issuer role (VC API): issue, get, delete, update status."""

from __future__ import annotations

from urllib.parse import unquote

from flask import Blueprint, Flask, Response, current_app, request

from chopmark.errors import BadRequest, MethodNotAllowed
from chopmark.web.plumbing import current_client, json_body, json_response
from issuer.kyb import KybExchanges
from issuer.service import Issuance

bp = Blueprint("issuer", __name__)


def register(app: Flask, issuance: Issuance, kyb: KybExchanges) -> None:
    """Attach the issuer routes and services (VC API issuance, KYB exchanges) to ``app``."""
    app.extensions["chopmark.issuer"] = issuance
    app.extensions["chopmark.kyb"] = kyb
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


#: The VC API's own POST-only paths under /credentials/ (not credential ids)
ACTIONS = frozenset({"issue", "verify", "status", "derive"})


def _credential_id(raw: str) -> str:
    if raw in ACTIONS:
        raise MethodNotAllowed(f"{request.method} is not allowed on {request.path}", allow=["POST"])
    return unquote(raw)


@bp.get("/credentials/<path:credential_id>")
def get_credential(credential_id: str) -> Response:
    """``GET /credentials/{id}`` (the id URL-encoded): 200 ``{verifiableCredential}``, 404, 410."""
    wanted = _credential_id(credential_id)
    record = _service().get(current_client("issue"), wanted)
    return json_response({"verifiableCredential": record["credential"]})


@bp.delete("/credentials/<path:credential_id>")
def delete_credential(credential_id: str) -> Response:
    """``DELETE /credentials/{id}``: 202 with no body; the status entries stay usable."""
    wanted = _credential_id(credential_id)
    _service().delete(current_client("issue"), wanted)
    response = Response(status=202)
    del response.headers["Content-Type"]
    return response


@bp.post("/credentials/status")
def update_status() -> Response:
    """``POST /credentials/status``: flip one status bit; 200 with what changed."""
    client = current_client("status")
    return json_response(_service().update_status(client, json_body()))


# --- KYB exchanges (DID Auth, then a MerchantIdentityCredential) -------------------------------------------

def _kyb() -> KybExchanges:
    service: KybExchanges = current_app.extensions["chopmark.kyb"]
    return service


@bp.post("/issuers/<name>/exchanges")
def start_exchange(name: str) -> Response:
    """Open a KYB exchange (public): 201 with a DIDAuthentication presentation request."""
    started = _kyb().start(name)
    return json_response(started, 201, headers={"Location": f"/issuers/{name}/exchanges/{started['exchangeId']}"})


@bp.post("/issuers/<name>/exchanges/<exchange_id>")
def continue_exchange(name: str, exchange_id: str) -> Response:
    """Answer the request with a DID-Auth presentation carrying the application: 200 with the credential."""
    return json_response(_kyb().complete(name, exchange_id, json_body()))
