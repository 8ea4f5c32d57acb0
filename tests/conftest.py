"""Shared fixtures: the official vectors folder, fixed clocks and fixed randomness."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

_DEFAULT_VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"


def vectors_root() -> Path | None:
    """Return the vectors folder (``CHOPMARK_VECTORS`` or ``../shared/vectors``), or None when absent."""
    root = Path(os.environ.get("CHOPMARK_VECTORS", str(_DEFAULT_VECTORS)))
    return root if root.is_dir() else None


@pytest.fixture(scope="session")
def vectors() -> Path:
    """The official W3C vectors. Skips when absent, but under ``CI=true`` their absence fails."""
    root = vectors_root()
    if root is None:
        msg = "official vectors not found (set CHOPMARK_VECTORS or place ../shared/vectors)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " and CI=true requires them")
        pytest.skip(msg)
    return root


def load_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def fixed_now() -> datetime:
    """A fixed clock value used by tests instead of the wall clock."""
    return datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def seeded_rng() -> Callable[[int], bytes]:
    """Deterministic randomness: ``rng(n)`` returns n bytes from a seeded generator."""
    gen = random.Random(20261124)

    def rng(n: int) -> bytes:
        return gen.randbytes(n)

    return rng


def require_check(result: Any, name: str) -> Any:
    """The check called ``name`` in a VerificationResult; fails the test when it did not run."""
    check = result.check(name)
    assert check is not None, (name, result.to_dict())
    return check


def codes_of(check: Any) -> list[str]:
    """The problem codes of a CheckResult."""
    return [p.code for p in check.problems]


def private_jwk(pair: Any) -> dict[str, str]:
    """A private JWK of a KeyPair, built by hand: the library only ever outputs public JWKs."""
    from chopmark import multibase

    return {**pair.to_jwk(), "d": multibase.base64url_encode(pair.secret_bytes())}
