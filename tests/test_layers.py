"""The house rules, checked on the source (DEVELOPERS.md, "The map of the house").

* The kernel (``chopmark/<package>/`` for the packages of :data:`LAYERS`) is pure: no web framework, store, sockets,
  environment, clock or randomness, and layers only point down: a module imports its own package or a lower layer.
* The seams stay seams: ``store/`` and ``net/`` import only the kernel; ``web/`` the kernel, ``store/`` and ``net/``;
  ``app.py`` (the composition root) and ``cli/`` (the root command) may import anything, but ``app.py`` not ``cli/``.
* Roles stay apart: ``issuer/``, ``verifier/``, ``wallet/`` and ``registry/`` import the kernel, the seams and
  ``chopmark.cli.kit``, never another role, ``chopmark.app`` or the rest of ``chopmark.cli``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KERNEL = ROOT / "chopmark"

#: The kernel's packages and their layers: a module may import its own package or a package of a lower layer.
LAYERS = {"errors": 0, "codecs": 1, "gs1": 1, "labels": 1, "keys": 2, "jsonld": 3, "dids": 4, "integrity": 5, "vc": 6,
          "tlog": 7, "vocab": 7, "trust": 8, "ranking": 8}
#: The seams of ``chopmark/`` and what each may import besides the kernel.
SEAMS: dict[str, frozenset[str]] = {
    "store": frozenset(), "net": frozenset(), "web": frozenset({"store", "net"}),
    "cli": frozenset({"store", "net", "web", "app", "cli", "roles"}),
    "app": frozenset({"store", "net", "web", "roles"}),
}
ROLES = ("issuer", "verifier", "wallet", "registry")
#: What a role may import of ``chopmark`` besides the kernel.
ROLE_SEAMS = frozenset({"store", "net", "web", "cli.kit"})

FORBIDDEN_MODULES = {
    "flask", "redis", "sqlite3", "socket", "ssl", "http", "urllib.request", "requests", "aiohttp", "httpx",
    "random", "secrets", "gunicorn", "werkzeug", "selectors", "asyncio", "click", "rich",
}
FORBIDDEN_CALLS = {
    ("os", "environ"), ("os", "getenv"), ("os", "urandom"), ("os", "putenv"),
    ("time", "time"), ("time", "time_ns"), ("time", "monotonic"), ("time", "perf_counter"),
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
    ("uuid", "uuid1"), ("uuid", "uuid4"),
}


def imported(source: str) -> Iterator[str]:
    """Every module ``source`` imports, at any depth (``from chopmark import x`` imports ``chopmark.x``)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module != "chopmark":  # ``from chopmark import x`` depends on chopmark.x only
                yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def area(module: str) -> str | None:
    """Where an imported module lives: a kernel package, a seam, ``cli.kit``, ``roles``, the package root
    ``chopmark`` itself, or None (a third-party or standard module)."""
    parts = module.split(".")
    if parts[0] in ROLES:
        return "roles"
    if parts[0] != "chopmark":
        return None
    if len(parts) == 1:
        return "chopmark"
    if parts[1] == "cli" and len(parts) > 2 and parts[2] == "kit":
        return "cli.kit"
    return parts[1]


def layer_violations(package: str, source: str) -> list[str]:
    """Imports of a kernel module of ``package`` that are not its own package or a lower layer."""
    out = []
    for module in imported(source):
        where = area(module)
        if where is None or where == package:
            continue
        if where not in LAYERS or LAYERS[where] >= LAYERS[package]:
            out.append(module)
    return out


def purity_violations(source: str) -> list[str]:
    """Forbidden imports (frameworks, stores, sockets, randomness) and calls (environment, clock) in ``source``."""
    found = [m for m in imported(source) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN_MODULES)]
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and (node.value.id, node.attr) in FORBIDDEN_CALLS):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def seam_violations(seam: str, source: str) -> list[str]:
    """Imports of a seam's module beyond the kernel and what :data:`SEAMS` allows it."""
    allowed = SEAMS[seam] | {seam}
    out = []
    for module in imported(source):
        where = area(module)
        if where is None or where in LAYERS:
            continue
        if where == "cli.kit":
            where = "cli"
        if where not in allowed:
            out.append(module)
    return out


def role_violations(role: str, source: str) -> list[str]:
    """Imports of a role's module of another role, of ``chopmark.app`` or of ``chopmark.cli`` beyond its kit."""
    out = []
    for module in imported(source):
        where = area(module)
        if where is None or where in LAYERS or where in ROLE_SEAMS:
            continue
        if where == "roles" and module.split(".")[0] == role:
            continue
        out.append(module)
    return out


def modules(folder: Path) -> list[Path]:
    """The Python modules under ``folder``."""
    return sorted(folder.rglob("*.py"))


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


KERNEL_MODULES = [p for p in modules(KERNEL) if p.relative_to(KERNEL).parts[0] in LAYERS]
SEAM_MODULES = [p for p in modules(KERNEL) if p.relative_to(KERNEL).parts[0] in SEAMS
                or (p.name == "app.py" and p.parent == KERNEL)]
ROLE_MODULES = [p for role in ROLES for p in modules(ROOT / role)]


def test_every_package_has_its_place() -> None:
    packages = {p.name for p in KERNEL.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(LAYERS) | (set(SEAMS) - {"app"})
    top = {p.name for p in KERNEL.glob("*.py")}
    assert top == {"__init__.py", "app.py"}, "a module at the top of chopmark/ belongs in a package"
    assert len(KERNEL_MODULES) > 40 and len(ROLE_MODULES) > 40


@pytest.mark.parametrize("path", KERNEL_MODULES, ids=_id)
def test_kernel_module_is_pure(path: Path) -> None:
    assert purity_violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", KERNEL_MODULES, ids=_id)
def test_kernel_module_imports_only_down(path: Path) -> None:
    package = path.relative_to(KERNEL).parts[0]
    assert layer_violations(package, path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", SEAM_MODULES, ids=_id)
def test_seam_stays_a_seam(path: Path) -> None:
    rel = path.relative_to(KERNEL)
    seam = "app" if rel.parts == ("app.py",) else rel.parts[0]
    assert seam_violations(seam, path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", ROLE_MODULES, ids=_id)
def test_role_imports_no_other_role(path: Path) -> None:
    role = path.relative_to(ROOT).parts[0]
    assert role_violations(role, path.read_text(encoding="utf-8")) == []


def test_package_root_is_only_a_facade() -> None:
    source = (KERNEL / "__init__.py").read_text(encoding="utf-8")
    assert purity_violations(source) == []
    assert all(area(m) in LAYERS or area(m) is None for m in imported(source) if m != "chopmark")


@pytest.mark.parametrize("snippet", [
    "import flask", "from redis import Redis", "import sqlite3", "import socket", "from http import client",
    "import os\nos.environ['X']", "import os\nos.getenv('X')", "from datetime import datetime\ndatetime.now()",
    "import time\ntime.time()", "import random", "import os\nos.urandom(3)", "import click",
])
def test_purity_checker_catches(snippet: str) -> None:
    assert purity_violations(snippet) != []


@pytest.mark.parametrize(("package", "snippet"), [
    ("keys", "from chopmark.vc.credentials import issue"),  # a higher layer
    ("jsonld", "from chopmark import integrity"),  # a higher layer, through the package root
    ("vc", "from chopmark.trust import evaluate"),
    ("tlog", "from chopmark.ranking import rule"),
    ("trust", "from chopmark.ranking import receipts"),  # the same layer, another package
    ("vc", "from chopmark.store import Store"),  # a seam
    ("integrity", "from chopmark.net.fetch import SafeFetcher"),
    ("dids", "from chopmark.web.plumbing import Client"),
    ("codecs", "import chopmark.app"),
    ("vocab", "from registry.service import Registry"),  # a role
    ("vc", "def f():\n    from issuer.service import Issuance\n"),  # also inside a function
    ("keys", "import chopmark"),  # the package root pulls in every layer
])
def test_layer_checker_catches(package: str, snippet: str) -> None:
    assert layer_violations(package, snippet) != []


@pytest.mark.parametrize("snippet", ["from chopmark.codecs import jcs", "from chopmark.keys.types import KeyType",
                                     "from chopmark.vc import statuslist", "import json"])
def test_layer_checker_allows_down_and_within(snippet: str) -> None:
    assert layer_violations("vc", snippet) == []


@pytest.mark.parametrize(("role", "snippet"), [
    ("issuer", "from registry.service import Registry"),
    ("verifier", "from issuer.service import Issuance"),
    ("wallet", "def f():\n    import verifier.sites\n"),
    ("registry", "from chopmark.app import create_app"),
    ("issuer", "from chopmark.cli.main import main"),
    ("verifier", "from chopmark.cli import seed"),
])
def test_role_checker_catches(role: str, snippet: str) -> None:
    assert role_violations(role, snippet) != []


@pytest.mark.parametrize("snippet", ["from issuer.ports import RegistryPort", "from chopmark.cli.kit import handled",
                                     "from chopmark.web.plumbing import Client", "from chopmark.store import Store"])
def test_role_checker_allows_own_role_kernel_and_seams(snippet: str) -> None:
    assert role_violations("issuer", snippet) == []


@pytest.mark.parametrize(("seam", "snippet"), [
    ("store", "from chopmark.web.plumbing import Client"), ("net", "from chopmark.store import Store"),
    ("web", "from chopmark.app import create_app"), ("web", "from issuer.service import Issuance"),
    ("app", "from chopmark.cli.main import main"),
])
def test_seam_checker_catches(seam: str, snippet: str) -> None:
    assert seam_violations(seam, snippet) != []
