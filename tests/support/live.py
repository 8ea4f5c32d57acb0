"""A real Chopmark server for tests: ``chopmark serve`` (gunicorn) as a child process on a free loopback port.

:class:`LiveServer` starts the server in its own process group (so :meth:`LiveServer.kill9` takes the master and
every worker down at once, like a power cut), waits for ``GET /health``, and runs the admin CLI against the
same store. The HTTP helpers use only the standard library and return ``(status, headers, json)``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import IO, Any

import pytest

from chopmark.web.server import READY_LINE
from tests.support.redis import free_port, purge_prefix

START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
HTTP_TIMEOUT = 60.0
CLI_TIMEOUT = 60.0
PROBLEM_JSON = "application/problem+json"


# --- HTTP ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    """An HTTP answer: unpacks as ``status, headers, json`` (``json`` is None when the body is not JSON)."""

    status: int
    headers: Message
    json: Any
    raw: bytes = field(repr=False)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.status, self.headers, self.json))

    @property
    def content_type(self) -> str:
        """The media type without parameters."""
        return (self.headers.get("Content-Type") or "").split(";")[0].strip()


def http(method: str, url: str, body: Any = None, *, token: str | None = None,
         headers: Mapping[str, str] | None = None, timeout: float = HTTP_TIMEOUT) -> Reply:
    """Send one request (``body`` as JSON when given). HTTP error statuses are returned, not raised; network
    failures (refused, reset) raise ``OSError`` or ``http.client.HTTPException``."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return _reply(error.code, error.headers, error.read())


def _reply(status: int, headers: Message, raw: bytes) -> Reply:
    """A Reply, with the body parsed as JSON when it is JSON."""
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return Reply(status, headers, parsed, raw)


def get(url: str, **kwargs: Any) -> Reply:
    """``GET url``."""
    return http("GET", url, **kwargs)


def post(url: str, body: Any, **kwargs: Any) -> Reply:
    """``POST url`` with a JSON body."""
    return http("POST", url, body, **kwargs)


# --- the server ------------------------------------------------------------------------------------------------

def _group_alive(pgid: int) -> bool:
    """True while a live (non-zombie) process of process group ``pgid`` exists (Linux /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and fields[0] != "Z" and fields[2] == str(pgid):
            return True
    return False


class LiveServer:
    """``chopmark serve`` on a free loopback port with ``data_dir`` and ``store`` (default: SQLite in the data
    dir). Rate limiting is off unless ``env`` sets it. Use as a context manager, or call start/close."""

    def __init__(self, data_dir: Path, *, store: str | None = None, env: Mapping[str, str] | None = None,
                 workers: int = 2) -> None:
        self.data_dir = Path(data_dir)
        self.store = store
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = self._environment(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.log_path = self.data_dir / "server.log"

    def _environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        """Our environment without CHOPMARK_* settings, rate limiting off, then ``extra``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHOPMARK_")}
        env.update({"CHOPMARK_RATE_LIMIT_PER_MINUTE": "0", "PYTHONUNBUFFERED": "1"})
        env.update(extra)
        return env

    def _store_args(self) -> list[str]:
        """The options ``serve`` and the admin commands share."""
        args = ["--data-dir", str(self.data_dir), "--public-url", self.url]
        return args + (["--store", self.store] if self.store else [])

    def start(self) -> None:
        """Start the server and wait until ``GET /health`` answers 200 (else fail with its log)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._log is None:
            self._log = self.log_path.open("ab")
        command = [sys.executable, "-m", "chopmark.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", str(self.workers), *self._store_args()]
        self._log.flush()
        log_start = self.log_path.stat().st_size
        self.proc = subprocess.Popen(command, env=self.env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.wait_healthy()
            self.wait_workers_ready(log_start)
        except BaseException:
            self.kill9()  # never leave a half-started server behind
            raise

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        """Poll ``GET /health`` until it answers 200; raise with the server log on timeout or exit."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"chopmark serve exited early:\n{self.log_tail()}")
            try:
                if get(self.url + "/health", timeout=2).status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"chopmark serve did not become healthy in {timeout} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def wait_workers_ready(self, log_start: int, timeout: float = 5.0) -> None:
        """Wait until every worker logged that it handles signals, so a stop right after the start is not lost on
        a worker still booting (which would make the stop wait for gunicorn's graceful timeout). Best effort: a
        log level above INFO hides the lines, and then this returns after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with suppress(OSError), self.log_path.open("rb") as log:
                log.seek(log_start)
                if log.read().count(READY_LINE.encode()) >= self.workers:
                    return
            time.sleep(0.05)

    def log_tail(self, size: int = 4000) -> str:
        """The end of the server's combined stdout/stderr."""
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return "(no log)"

    def kill9(self) -> None:
        """SIGKILL the whole process group (master and workers), then wait until none of them runs."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.proc = None

    def stop(self) -> None:
        """SIGTERM the master (graceful shutdown) and wait; SIGKILL the group if it does not stop in time."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=STOP_TIMEOUT)
        if self.proc.poll() is None:
            self.kill9()  # still running: take the group down (the master is not reaped yet, so its id is ours)
        self.proc = None

    def restart(self) -> None:
        """Stop (if running) and start again on the same port, data dir and store."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and close its log."""
        self.stop()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LiveServer:
        for attempt in range(3):  # the free port may be taken between the probe and the bind
            try:
                self.start()
                return self
            except RuntimeError:
                if attempt == 2 or "already in use" not in self.log_tail(1000):
                    self.close()
                    raise
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
        raise AssertionError("unreachable")

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- admin CLI --------------------------------------------------------------------------------------------
    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``chopmark ARGS --json`` against this server's store and data dir."""
        command = [sys.executable, "-m", "chopmark.cli", *args, *self._store_args(), "--json"]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=CLI_TIMEOUT,
                              check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def admin(self, *args: str) -> Any:
        """Run an admin command that must succeed and return its JSON output."""
        return json.loads(self.cli(*args).stdout)

    def new_issuer(self, name: str) -> tuple[dict[str, Any], str]:
        """Create issuer ``name`` and an issue+status token for it; returns (issuer record, token)."""
        record = self.admin("issuer", "create", name)
        token = self.admin("token", "create", "--issuer", name, "--scope", "issue,status")["token"]
        return record, token


@contextmanager
def redis_prefix(base_url: str) -> Iterator[str]:
    """``base_url`` with a fresh ``?prefix=cmlive-<hex>``; afterwards only that prefix's keys are deleted."""
    url = f"{base_url}?prefix=cmlive-{secrets.token_hex(6)}"
    try:
        yield url
    finally:
        purge_prefix(url)


# --- what the tests need of credentials -------------------------------------------------------------------------

UNSIGNED: dict[str, Any] = {"@context": ["https://www.w3.org/ns/credentials/v2"],
                            "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:merchant-1"}}


def unsigned(subject: str = "did:example:merchant-1") -> dict[str, Any]:
    """A minimal unsigned VCDM 2.0 credential (fresh copy)."""
    return {**UNSIGNED, "credentialSubject": {"id": subject}}


def status_entries(credential: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    """``{purpose: (statusListCredential, index)}`` of a credential's status entries."""
    entries = credential.get("credentialStatus", [])
    entries = entries if isinstance(entries, list) else [entries]
    return {e["statusPurpose"]: (e["statusListCredential"], int(e["statusListIndex"])) for e in entries}


def problem_codes(body: Any, check: str | None = None) -> list[str]:
    """The problem codes of a VC API verification response (optionally of one ``check``)."""
    details = body.get("problemDetails", []) if isinstance(body, Mapping) else []
    return [p.get("code") for p in details if check is None or p.get("check") == check]


# --- a deployed server with one issuer ---------------------------------------------------------------------------

@dataclass
class Deployment:
    """A running server, an issuer on it and an issue+status token for that issuer."""

    server: LiveServer
    issuer: dict[str, Any]
    token: str

    def at(self, path: str) -> str:
        """The absolute URL of ``path`` on the server."""
        return self.server.url + path

    def issue(self, suite: str | None = None, credential: Mapping[str, Any] | None = None, *,
              headers: Mapping[str, str] | None = None, token: str | None = None) -> Reply:
        """``POST /credentials/issue`` (``suite``: options.cryptosuite)."""
        options = {} if suite is None else {"cryptosuite": suite}
        body = {"credential": dict(credential or unsigned()), "options": options}
        return post(self.at("/credentials/issue"), body, token=token or self.token, headers=headers)

    def issued(self, suite: str | None = None) -> tuple[str, dict[str, Any]]:
        """Issue (must answer 201) and return ``(credentialId, verifiableCredential)``."""
        reply = self.issue(suite)
        assert reply.status == 201, reply.json
        return reply.json["credentialId"], reply.json["verifiableCredential"]

    def verify(self, credential: Mapping[str, Any]) -> Reply:
        """``POST /credentials/verify``."""
        return post(self.at("/credentials/verify"), {"verifiableCredential": credential, "options": {}})

    def set_status(self, credential_id: str, purpose: str, value: bool, *, token: str | None = None) -> Reply:
        """``POST /credentials/status``: set or clear one status bit."""
        body = {"credentialId": credential_id, "credentialStatus": {"statusPurpose": purpose}, "status": value}
        return post(self.at("/credentials/status"), body, token=token or self.token)

    def fetch(self, credential_id: str, *, token: str | None = None) -> Reply:
        """``GET /credentials/{id}`` (the id URL-encoded)."""
        return get(self.at("/credentials/" + urllib.parse.quote(credential_id, safe="")), token=token or self.token)

    def delete(self, credential_id: str, *, token: str | None = None) -> Reply:
        """``DELETE /credentials/{id}``."""
        url = self.at("/credentials/" + urllib.parse.quote(credential_id, safe=""))
        return http("DELETE", url, token=token or self.token)


@contextmanager
def deployed(data_dir: Path, store: str | None = None, issuer: str = "acme") -> Iterator[Deployment]:
    """A :class:`LiveServer` on ``data_dir`` / ``store`` with issuer ``issuer`` and its token."""
    with LiveServer(data_dir, store=store) as server:
        record, token = server.new_issuer(issuer)
        yield Deployment(server, record, token)


#: The store backends the server tests run on (Redis tests carry the ``redis`` marker).
BACKENDS = ["sqlite", pytest.param("redis", marks=pytest.mark.redis)]


@contextmanager
def backend_store(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The store of the backend ``request.param`` names: None for SQLite (the server's data directory), or a
    Redis URL under a fresh prefix whose keys are deleted afterwards."""
    if request.param == "sqlite":
        yield None
        return
    with redis_prefix(request.getfixturevalue("redis_base_url")) as store:
        yield store


@contextmanager
def backend_deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                       label: str) -> Iterator[Deployment]:
    """A deployed server on the backend of ``request.param`` (SQLite, or Redis under a fresh prefix)."""
    data_dir = tmp_path_factory.mktemp(f"{label}-{request.param}")
    with backend_store(request) as store, deployed(data_dir, store) as deployment:
        yield deployment
