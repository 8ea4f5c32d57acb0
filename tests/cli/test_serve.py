"""``chopmark serve`` as an operator runs it (issue 11): a port already taken is a one-line error, and restarting
on another port keeps the public URL the store's did:web identifiers were made under."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import LiveServer, get
from tests.support.redis import free_port

pytestmark = pytest.mark.server


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port another process listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def test_port_already_taken_is_a_one_line_error(tmp_path: Path, taken_port: int) -> None:
    command = [sys.executable, "-m", "chopmark.cli", "serve", "--host", "127.0.0.1", "--port", str(taken_port),
               "--data-dir", str(tmp_path / "data")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(taken_port) in lines[0] and "already in use" in lines[0], lines[0]
    assert "Traceback" not in done.stderr + done.stdout


class DerivedUrlServer(LiveServer):
    """A server started like ``make run PORT=...``: no ``--public-url``, so the URL comes from host and port."""

    def _store_args(self) -> list[str]:
        return ["--data-dir", str(self.data_dir)]


def test_restart_on_another_port_keeps_the_recorded_public_url(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with DerivedUrlServer(data, workers=1) as first:
        first_url = first.url
        first_host = f"127.0.0.1%3A{first.port}"
    # an admin command given no public URL makes its issuer under the recorded one, not the default port's
    admin = [sys.executable, "-m", "chopmark.cli", "issuer", "create", "acme", "--data-dir", str(data), "--json"]
    made = subprocess.run(admin, capture_output=True, text=True, timeout=60, check=False, env=first.env)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["did"] == f"did:web:{first_host}:issuers:acme", made.stdout
    second = DerivedUrlServer(data, workers=1)
    while second.port == int(first_url.rsplit(":", 1)[1]):
        second.port = free_port()
    second.url = f"http://127.0.0.1:{second.port}"
    with second:
        document = get(second.url + "/issuers/acme/did.json")
        assert document.status == 200, document.json
        assert document.json["id"] == f"did:web:{first_host}:issuers:acme", document.json
        log = second.log_tail()
    assert f"keeping the public URL {first_url}" in log and "--public-url" in log, log


def test_explicit_public_url_replaces_the_recorded_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with DerivedUrlServer(data, workers=1) as first:
        first_url = first.url
    with LiveServer(data, workers=1) as second:  # passes --public-url explicitly
        assert get(second.url + "/health").status == 200
        log = second.log_tail()
    if second.url != first_url:
        assert f"the public URL changes from {first_url} to {second.url}" in log, log


def test_make_run_passes_the_port_through() -> None:
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "PORT"}
    lines = {port: subprocess.run(["make", "-n", "-C", str(root), "run", *([f"PORT={port}"] if port else [])],
                                  capture_output=True, text=True, timeout=60, check=True, env=env).stdout.splitlines()
             for port in ("8010", "")}
    assert any("chopmark serve" in line and line.rstrip().endswith("--port 8010") for line in lines["8010"])
    assert any("chopmark serve" in line and "--port" not in line for line in lines[""])  # CHOPMARK_PORT or 8000
