"""HTTP routes of the verifier role (VC API): verify credentials and presentations, create challenges."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app

from chopmark.web.plumbing import current_client, json_body, json_response
from chopmark.web.settings import Settings
from verifier.onboarding import Onboarding
from verifier.service import Verification
from verifier.sites import Sites

bp = Blueprint("verifier", __name__)


def register(app: Flask, verification: Verification, sites: Sites, onboarding: Onboarding) -> None:
    """Attach the verifier routes and services (VC API verification, sites, onboarding) to ``app``."""
    app.extensions["chopmark.verifier"] = verification
    app.extensions["chopmark.sites"] = sites
    app.extensions["chopmark.onboarding"] = onboarding
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


# --- marketplace sites: profiles and onboarding --------------------------------------------------------------

def _sites() -> Sites:
    sites: Sites = current_app.extensions["chopmark.sites"]
    return sites


def _onboarding() -> Onboarding:
    service: Onboarding = current_app.extensions["chopmark.onboarding"]
    return service


def _base_url() -> str:
    settings: Settings = current_app.extensions["chopmark.settings"]
    return settings.public_url


@bp.get("/sites")
def list_sites() -> Response:
    """Every marketplace site of this service, with its policy and onboarding URL (public)."""
    sites = _sites()
    return json_response({"sites": [sites.public_view(p, _base_url()) for p in sites.list()]})


@bp.get("/sites/<site>")
def get_site(site: str) -> Response:
    """One site's public policy (what a merchant needs to onboard there)."""
    sites = _sites()
    return json_response(sites.public_view(sites.get(site), _base_url()))


@bp.post("/sites/<site>/onboarding")
def start_onboarding(site: str) -> Response:
    """Open an onboarding exchange (public): 201 with the presentation request."""
    started = _onboarding().start(site)
    return json_response(started, 201, headers={"Location": f"/sites/{site}/onboarding/{started['id']}"})


@bp.post("/sites/<site>/onboarding/<exchange_id>")
def finish_onboarding(site: str, exchange_id: str) -> Response:
    """Answer with the merchant's presentation: 200 with the decision (accepted, held or rejected)."""
    return json_response(_onboarding().decide(site, exchange_id, json_body()))


@bp.get("/sites/<site>/onboarding/<exchange_id>")
def get_decision(site: str, exchange_id: str) -> Response:
    """A decision made earlier (public: the exchange id is the capability)."""
    return json_response(_onboarding().decision(site, exchange_id))


@bp.get("/sites/<site>/sellers/<account>")
def get_seller(site: str, account: str) -> Response:
    """A seller record (the site's token)."""
    return json_response(_onboarding().seller(current_client("issue", site), site, account))


@bp.post("/sites/<site>/sellers/<account>/verify")
def recheck_seller(site: str, account: str) -> Response:
    """Verify an onboarded merchant again (status, validity, trust, policy): 200 with the decision."""
    return json_response(_onboarding().recheck(current_client("issue", site), site, account))


@bp.get("/admin/sites/<site>/profile")
def admin_get_profile(site: str) -> Response:
    """A site's stored profile (the site's admin token or a global admin)."""
    current_client("admin", site)
    return json_response(_sites().get(site).to_json())


@bp.put("/admin/sites/<site>/profile")
def admin_put_profile(site: str) -> Response:
    """Create or replace a site's profile (the site's admin token or a global admin)."""
    current_client("admin", site)
    return json_response(_sites().put(site, json_body()).to_json())
