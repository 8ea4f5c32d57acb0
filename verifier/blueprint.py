"""HTTP routes of the verifier role (VC API): verify credentials and presentations, create challenges."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app

from chopmark.service.web import json_body, json_response
from verifier.service import Verification

bp = Blueprint("verifier", __name__)


def register(app: Flask, verification: Verification) -> None:
    """Attach the verifier routes and service to ``app``."""
    app.extensions["chopmark.verifier"] = verification
    app.register_blueprint(bp)


def _service() -> Verification:
    service: Verification = current_app.extensions["chopmark.verifier"]
    return service


@bp.post("/credentials/verify")
def verify_credential() -> Response:
    """200 ``{verified: true, ...}`` only when every requested check passed; 400 (422: not a credential)
    with the same body shape otherwise."""
    status, body = _service().verify_credential(json_body())
    return json_response(body, status)


@bp.post("/presentations/verify")
def verify_presentation() -> Response:
    """Verify a presentation with ``options.challenge`` (single use) and ``options.domain``."""
    status, body = _service().verify_presentation(json_body())
    return json_response(body, status)


@bp.post("/challenges")
def create_challenge() -> Response:
    """A single-use challenge with a TTL (public)."""
    return json_response({"challenge": _service().create_challenge()})
