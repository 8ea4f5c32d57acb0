"""The kernel is pure: no web framework, store, sockets, environment, clock or randomness.

Allowed seams: ``chopmark/store/`` (SQLite, Redis), ``chopmark/net/`` (the did:web fetcher, the only code that
opens sockets), ``chopmark/service/`` (settings, HTTP plumbing, admin CLI, gunicorn), ``chopmark/app.py`` and
``chopmark/cli.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KERNEL = Path(__file__).resolve().parents[2] / "chopmark"
SEAMS = ("store", "net", "service")
SEAM_FILES = ("app.py", "cli.py")

FORBIDDEN_MODULES = {
    "flask", "redis", "sqlite3", "socket", "ssl", "http", "urllib.request", "requests", "aiohttp", "httpx",
    "random", "secrets", "gunicorn", "werkzeug", "selectors", "asyncio",
}
FORBIDDEN_CALLS = {
    ("os", "environ"), ("os", "getenv"), ("os", "urandom"), ("os", "putenv"),
    ("time", "time"), ("time", "time_ns"), ("time", "monotonic"), ("time", "perf_counter"),
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
    ("uuid", "uuid1"), ("uuid", "uuid4"),
}


def kernel_files() -> list[Path]:
    """Every kernel module outside the seams."""
    out = []
    for path in sorted(KERNEL.rglob("*.py")):
        rel = path.relative_to(KERNEL)
        if rel.parts[0] in SEAMS or str(rel) in SEAM_FILES:
            continue
        out.append(path)
    return out


def violations(source: str) -> list[str]:
    """Names of forbidden imports and attribute uses in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in FORBIDDEN_CALLS:
                found.append(f"{node.value.id}.{node.attr}")
            continue
        else:
            continue
        for name in names:
            if any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES):
                found.append(name)
            if name.startswith("chopmark.") and name.split(".")[1] in ("store", "net", "service", "app", "cli"):
                found.append(name)
    return found


def test_kernel_has_modules() -> None:
    assert len(kernel_files()) > 10


@pytest.mark.parametrize("path", kernel_files(), ids=lambda p: str(p.relative_to(KERNEL)))
def test_module_is_pure(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("snippet", [
    "import flask", "from redis import Redis", "import sqlite3", "import socket", "from http import client",
    "import os\nos.environ['X']", "import os\nos.getenv('X')", "from datetime import datetime\ndatetime.now()",
    "import time\ntime.time()", "import random", "from chopmark.net import fetch", "import os\nos.urandom(3)",
])
def test_checker_catches(snippet: str) -> None:
    assert violations(snippet) != []
