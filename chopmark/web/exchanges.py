"""Single-use VC API exchanges: what the KYB authority and the marketplace sites both open and take.

An exchange is a stored record with a fresh challenge and the verifier's DID as domain, kept for a TTL. The
presentation that answers it is checked against exactly that challenge and domain, and the record is *taken*
(atomic get-and-delete), so a replayed presentation finds nothing: 404 ``EXCHANGE_NOT_FOUND``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from chopmark.codecs.dates import format_datetime
from chopmark.errors import BadRequest, NotFound
from chopmark.store import Store
from chopmark.store.records import create_json

#: The presentation request's DID Authentication query (VP Request spec): did:key and did:web holders.
DID_AUTHENTICATION = {"type": "DIDAuthentication", "acceptedMethods": [{"method": "key"}, {"method": "web"}]}
MAX_ID = 64


def token(rng: Callable[[int], bytes], size: int) -> str:
    """``size`` random bytes as unpadded base64url (exchange ids, challenges, account ids)."""
    return base64.urlsafe_b64encode(rng(size)).rstrip(b"=").decode()


def presentation_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """The ``verifiablePresentation`` of an answer body ``{"verifiablePresentation": {...}}`` (400 otherwise)."""
    presentation = body.get("verifiablePresentation")
    if set(body) - {"verifiablePresentation"} or not isinstance(presentation, dict):
        raise BadRequest("the body must be {\"verifiablePresentation\": {...}}", pointer="/verifiablePresentation",
                         code="NOT_A_PRESENTATION")
    return presentation


class Exchanges:
    """Open and take single-use exchanges of one kind (``owner`` names the issuer or site they belong to)."""

    def __init__(self, store: Store, ns: str, *, owner: str, clock: Callable[[], datetime],
                 rng: Callable[[int], bytes], ttl: int) -> None:
        """Records live in namespace ``ns`` for ``ttl`` seconds; ``owner`` is the record member naming the owner."""
        self._store = store
        self._ns = ns
        self._owner = owner
        self._clock = clock
        self._rng = rng
        self._ttl = ttl

    def open(self, owner: str, domain: str) -> tuple[str, str, str]:
        """A new exchange of ``owner`` whose presentation must be for ``domain``: ``(id, challenge, expires)``."""
        exchange_id, challenge = token(self._rng, 18), token(self._rng, 24)
        create_json(self._store, self._ns, exchange_id,
                    {self._owner: owner, "challenge": challenge, "domain": domain}, ttl=self._ttl)
        return exchange_id, challenge, format_datetime(self._clock() + timedelta(seconds=self._ttl))

    def take(self, owner: str, exchange_id: str) -> dict[str, Any]:
        """The open exchange ``exchange_id`` of ``owner``, removed atomically: exactly one answer may use it."""
        raw = self._store.take(self._ns, exchange_id) if 0 < len(exchange_id) <= MAX_ID else None
        exchange = json.loads(raw) if raw is not None else None
        if not isinstance(exchange, dict) or exchange.get(self._owner) != owner:
            raise NotFound(f"no open exchange {exchange_id!r} at {owner!r} (unknown, expired or already used)",
                           code="EXCHANGE_NOT_FOUND")
        return exchange
