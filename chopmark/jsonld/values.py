"""Shapes of JSON-LD values: a member may hold one value or an array of them (JSON-LD 1.1 §4.3 "Sets")."""

from __future__ import annotations

from typing import Any


def as_list(value: Any) -> list[Any]:
    """Wrap a single value in a list; ``None`` becomes an empty list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
