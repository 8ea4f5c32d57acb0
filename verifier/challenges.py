"""Single-use challenges of ``POST /challenges`` and how a presentation's challenge is checked (VC API
``/presentations/verify``; Data Integrity 1.0 §4.4 step 6 compares the proof's challenge with the expected one).

A challenge may come from this service or from the caller. This service's challenges carry
:data:`CHALLENGE_PREFIX`, so one that was used or has expired is still recognised as ours and refused: it is
consumed on first use whether or not the caller names it, and cannot be replayed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chopmark.errors import InvalidChallengeError
from chopmark.integrity.checks import CheckResult
from chopmark.jsonld.values import as_list
from chopmark.store import Store
from chopmark.web.exchanges import token

NS_CHALLENGE = "challenge"
#: Every challenge ``POST /challenges`` returns starts with this; a caller's own challenges must not.
CHALLENGE_PREFIX = "chopmark-challenge:"
_MAX_LENGTH = 256


class Challenges:
    """The challenge store: create single-use challenges, consume them when a presentation uses them."""

    def __init__(self, store: Store, rng: Callable[[int], bytes], ttl: int) -> None:
        """Challenges live in ``store`` for ``ttl`` seconds; ``rng`` makes them."""
        self._store = store
        self._rng = rng
        self._ttl = ttl

    def create(self) -> str:
        """A fresh single-use challenge, valid for the TTL."""
        challenge = CHALLENGE_PREFIX + token(self._rng, 24)
        self._store.create(NS_CHALLENGE, challenge, b"1", ttl=self._ttl)
        return challenge

    def use(self, presentation: Mapping[str, Any], named: str | None) -> tuple[str | None, CheckResult | None]:
        """Consume every challenge of this service that the request uses (in a proof or as ``named``, the
        caller's ``options.challenge``), whether or not the caller names it.

        Returns the challenge every proof must carry (``named``; else this service's challenge found in a
        proof; else None: not checked) and the ``challenge`` check (None when no challenge of ours is used;
        failed when one is unknown, expired or already used).
        """
        proofs = as_list(presentation.get("proof"))
        used = {p["challenge"] for p in proofs if isinstance(p, Mapping) and isinstance(p.get("challenge"), str)}
        if named is not None:
            used.add(named)
        ours = sorted(c for c in used if c.startswith(CHALLENGE_PREFIX))
        if not ours:
            return named, None
        # take() is atomic: of two concurrent verifications of one challenge, exactly one succeeds
        spent = [c for c in ours if not (len(c) <= _MAX_LENGTH and self._store.take(NS_CHALLENGE, c) is not None)]
        expected = named if named is not None else ours[0]
        if not spent:
            return expected, CheckResult.ok("challenge")
        error = InvalidChallengeError("the challenge is unknown, expired or already used; request one from "
                                      "POST /challenges", code="INVALID_CHALLENGE_ERROR")
        return expected, CheckResult.failed("challenge", [error])
