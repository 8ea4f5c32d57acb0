"""Fixtures of the wallet tests: the offline ecosystem, a clock the tests move, a wallet configured for both
(test modules may define their own ``eco`` or ``wallet`` instead)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.wallet.support import Clock, Ecosystem, new_wallet
from wallet.core import Wallet


@pytest.fixture
def eco() -> Ecosystem:
    """The did:key authority, site and registry with their signed credentials and trust list."""
    return Ecosystem()


@pytest.fixture
def clock() -> Clock:
    """The wallet's clock, moved by tests."""
    return Clock()


@pytest.fixture
def wallet(tmp_path: Path, eco: Ecosystem, clock: Clock) -> Wallet:
    """A fresh wallet trusting ``eco``'s registry."""
    return new_wallet(tmp_path / "w.cmw", eco, clock)
