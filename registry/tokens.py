"""Bearer API tokens per client, with scopes, stored only as SHA-256 hashes.

A token is ``cmk_`` + 32 random bytes in base64url: unguessable, so a fast hash (not a password hash) is the
right way to store it. Scopes: ``issue`` (issue, read and delete an issuer's credentials), ``status`` (flip
status bits, create status lists), ``admin`` (with an issuer: manage that issuer; without: everything).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from chopmark.codecs.dates import format_datetime
from chopmark.errors import BadRequest, NotFound
from chopmark.store import Store
from chopmark.store.records import create_json, get_json
from chopmark.web.plumbing import Client

NS = "token"
SCOPES = ("issue", "status", "admin")
PREFIX = "cmk_"


def parse_scopes(scopes: Iterable[str] | str) -> list[str]:
    """Validate scopes given as a list or a comma-separated string."""
    items = scopes.split(",") if isinstance(scopes, str) else list(scopes)
    if not all(isinstance(s, str) for s in items):
        raise BadRequest(f"scopes must be strings; got {items!r}", code="INVALID_SCOPE")
    cleaned = sorted({s.strip() for s in items if s.strip()})
    unknown = [s for s in cleaned if s not in SCOPES]
    if unknown or not cleaned:
        raise BadRequest(f"scopes must be a non-empty subset of {', '.join(SCOPES)}; got {items!r}",
                         code="INVALID_SCOPE")
    return cleaned


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    """Create, authenticate, list and revoke API tokens."""

    def __init__(self, store: Store, *, rng: Callable[[int], bytes], clock: Callable[[], datetime]) -> None:
        """``rng(n)``: n random bytes; ``clock()``: the current time."""
        self._store = store
        self._rng = rng
        self._clock = clock

    def create(self, *, issuer: str | None, scopes: Iterable[str] | str, label: str = "") -> dict[str, Any]:
        """Create a token; the returned dict holds the token itself (shown once, never stored)."""
        chosen = parse_scopes(scopes)
        if issuer is None and chosen != ["admin"]:
            raise BadRequest("a token without --issuer must have exactly the admin scope", code="INVALID_SCOPE")
        token = PREFIX + base64.urlsafe_b64encode(self._rng(32)).rstrip(b"=").decode()
        digest = _digest(token)
        record = {"id": digest[:16], "issuer": issuer, "scopes": chosen, "label": label,
                  "created": format_datetime(self._clock())}
        create_json(self._store, NS, digest, record)
        return {"token": token, **record}

    def authenticate(self, token: str) -> Client | None:
        """The client of ``token``, or None when unknown or revoked."""
        if not token.startswith(PREFIX) or len(token) > 100:
            return None
        record = get_json(self._store, NS, _digest(token))
        if record is None:
            return None
        return Client(id=record["id"], issuer=record["issuer"], scopes=frozenset(record["scopes"]))

    def list(self, issuer: str | None = None) -> list[dict[str, Any]]:
        """Token records (never the tokens), optionally of one issuer."""
        records = [json.loads(value) for _, value in self._store.scan(NS)]
        return sorted((r for r in records if issuer is None or r["issuer"] == issuer), key=lambda r: r["created"])

    def revoke(self, token_id: str) -> dict[str, Any]:
        """Revoke the token whose id (the first 16 hex digits of its hash) is ``token_id``."""
        for digest, value in self._store.scan(NS, token_id):
            record = json.loads(value)
            if record["id"] == token_id:
                self._store.delete(NS, digest)
                return dict(record)
        raise NotFound(f"no token with id {token_id!r}", code="TOKEN_NOT_FOUND")
