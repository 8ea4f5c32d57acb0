"""The OpenAPI 3.0 description of the service, served at ``/openapi.json``."""

from __future__ import annotations

from typing import Any


def document(public_url: str) -> dict[str, Any]:
    """The OpenAPI document for a service published at ``public_url``."""
    return {"openapi": "3.0.3", "info": {"title": "Chopmark", "version": "0.1.0"},
            "servers": [{"url": public_url}], "paths": {}}
