"""What the registry tests share: a clock the tests move, starting at :data:`START`."""

from __future__ import annotations

from datetime import UTC, datetime

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A settable clock (the registry's injected ``clock``); tests move ``now``."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now
