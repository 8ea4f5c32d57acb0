"""HTTP routes of first-N ranking campaigns (merchant, buyers, auditors); see :mod:`issuer.campaigns`."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, request

from chopmark.errors import BadRequest
from chopmark.web.plumbing import current_client, json_body, json_response
from issuer.campaigns import Campaigns
from issuer.campaigns_ingest import parse_csv
from issuer.campaigns_views import CampaignViews

bp = Blueprint("campaigns", __name__)
CSV = "text/csv"


def register(app: Flask, campaigns: Campaigns) -> None:
    """Attach the campaign routes and service to ``app``."""
    app.extensions["chopmark.campaigns"] = campaigns
    app.extensions["chopmark.campaign-views"] = CampaignViews(campaigns)
    app.register_blueprint(bp)


def _campaigns() -> Campaigns:
    service: Campaigns = current_app.extensions["chopmark.campaigns"]
    return service


def _views() -> CampaignViews:
    views: CampaignViews = current_app.extensions["chopmark.campaign-views"]
    return views


@bp.post("/issuers/<name>/campaigns")
def create_campaign(name: str) -> Response:
    """Create a campaign (token with scope ``issue`` for the issuer): 201 with the campaign."""
    client = current_client("issue", name)
    created = _campaigns().create(client, name, json_body())
    return json_response(created, 201, headers={"Location": f"/campaigns/{created['id']}"})


@bp.get("/campaigns/<campaign_id>")
def get_campaign(campaign_id: str) -> Response:
    """The public summary of a campaign."""
    return json_response(_views().summary(campaign_id))


@bp.post("/campaigns/<campaign_id>/orders")
def add_orders(campaign_id: str) -> Response:
    """Ingest a batch of orders: JSON ``{"orders": [...]}`` or ``text/csv`` with a header line."""
    client = current_client("issue")
    if request.mimetype == CSV:
        try:
            text = request.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the CSV body must be UTF-8", code="MALFORMED_CSV") from None
        items: object = parse_csv(text)
    else:
        body = json_body()
        if set(body) != {"orders"}:
            raise BadRequest("the body must be {\"orders\": [...]}", code="UNKNOWN_MEMBER")
        items = body["orders"]
    return json_response(_campaigns().add_orders(client, campaign_id, items))


@bp.post("/campaigns/<campaign_id>/close")
def close_campaign(campaign_id: str) -> Response:
    """Rank and commit (once): the commitment credential, its log index, the root and the leaf count."""
    return json_response(_campaigns().close(current_client("issue"), campaign_id))


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise BadRequest(f"{name} must be a non-negative integer", code="BAD_RANGE")
    return int(raw)


@bp.get("/campaigns/<campaign_id>/leaves")
def get_leaves(campaign_id: str) -> Response:
    """The committed leaves (public: salted commitments only), ``start`` and ``limit`` (at most 10,000)."""
    return json_response(_views().leaves(campaign_id, _int_arg("start", 0), _int_arg("limit", 1000)))


@bp.get("/campaigns/<campaign_id>/receipts/<path:order_number>")
def get_receipt(campaign_id: str, order_number: str) -> Response:
    """A buyer's RankReceipt: for the merchant's token or with the buyer's ``Buyer-Reference`` header."""
    receipt = _views().receipt(campaign_id, order_number, client=g.get("client"),
                               buyer_reference=request.headers.get("Buyer-Reference"))
    return json_response(receipt)


@bp.get("/campaigns/<campaign_id>/export")
def export_campaign(campaign_id: str) -> Response:
    """The full export with salts (merchant's token), for auditors."""
    return json_response(_views().export(current_client("issue"), campaign_id))


@bp.post("/rank-receipts/verify")
def verify_rank_receipt() -> Response:
    """Verify a RankReceipt (public): 200 with ``verified``, the rank and every check."""
    return json_response(_views().verify(json_body()))
