"""The demo ecosystem ``make run`` seeds into an empty store: issuers with API tokens, printed once."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from registry.service import Registry

DEMO_ISSUERS = (
    ("kyb-authority", "business registry: vouches for merchants' identity"),
    ("site-a", "marketplace A"),
    ("site-b", "marketplace B"),
    ("site-c", "marketplace C"),
    ("producer", "producer of goods (provenance)"),
    ("bonded-warehouse", "bonded warehouse (provenance)"),
    ("customs", "customs authority (provenance)"),
    ("copyright-office", "registers product photos (copyright)"),
)


def seed_demo(registry: Registry, data_dir: Path) -> list[dict[str, Any]] | None:
    """Create the demo issuers and one ``issue,status`` token each, plus a global admin token, when the store
    has no issuers yet. Tokens are written to ``<data_dir>/demo-tokens.env`` and ``.json`` (mode 0600).
    Returns the rows created, or None when the store was not empty."""
    if registry.issuers.list():
        return None
    rows: list[dict[str, Any]] = []
    for name, role in DEMO_ISSUERS:
        record = registry.issuers.create(name)
        token = registry.tokens.create(issuer=name, scopes="issue,status", label="demo")
        rows.append({"name": name, "role": role, "did": record["did"], "token": token["token"]})
    admin = registry.tokens.create(issuer=None, scopes="admin", label="demo admin")
    rows.append({"name": "admin", "role": "global admin (issuers, tokens)", "did": "", "token": admin["token"]})
    _write_private(data_dir / "demo-tokens.json", json.dumps({r["name"]: r["token"] for r in rows}, indent=2))
    env_lines = [f"{r['name'].upper().replace('-', '_')}_TOKEN={r['token']}" for r in rows]
    _write_private(data_dir / "demo-tokens.env", "\n".join(env_lines) + "\n")
    return rows


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
