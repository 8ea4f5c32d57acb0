"""Issue 11: clients that send their request slowly must not stop the service.

A real ``chopmark serve`` with 2 workers; 20 connections each send a request line and then one header line at
a time, never finishing the head (a "slowloris"). Under gunicorn's sync workers two of them blocked both
workers and ``GET /health`` waited 30 s. Now each connection waits in its own greenlet, the service keeps
answering, and the server cuts every slow sender off once ``header_timeout_seconds`` has passed.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from chopmark.web.server import ChopmarkServer
from chopmark.web.settings import Settings
from chopmark.web.worker import ChopmarkWorker
from tests.support.live import Deployment, LiveServer, get, post, status_entries
from tests.support.tls import TlsServer, self_signed

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.xdist_group("slow-clients-server")]

SLOW_CONNECTIONS = 20
#: One header line per connection every LINE_INTERVAL seconds, at most MAX_LINES lines: the head is never done.
LINE_INTERVAL = 1.0
MAX_LINES = 40
HEADER_TIMEOUT = 3
BODY_TIMEOUT = 2
#: The one timing bound of these tests, generous: a healthy service answers in milliseconds.
ANSWER_WITHIN = 5.0


def test_gunicorn_runs_the_gevent_worker_with_the_limits() -> None:
    settings = Settings.load({}, env={"CHOPMARK_HEADER_TIMEOUT_SECONDS": "7", "CHOPMARK_WORKER_CONNECTIONS": "300"})
    cfg = ChopmarkServer(settings, lambda _: None).cfg
    assert cfg.worker_class is ChopmarkWorker
    assert (cfg.worker_connections, cfg.keepalive, cfg.workers) == (300, 7, 2)


class SlowClients:
    """``count`` connections to ``port`` that send a request head one line per ``interval`` seconds and never
    end it; a thread feeds them. ``closed`` counts the connections the server closed (EOF or reset)."""

    def __init__(self, port: int, count: int, interval: float = LINE_INTERVAL) -> None:
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        self.open = [True] * count
        self.interval = interval
        self.answers: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, daemon=True)

    @property
    def closed(self) -> int:
        """How many connections the server has closed."""
        return self.open.count(False)

    def _send(self, i: int, data: bytes) -> None:
        """Send ``data`` on connection ``i``; note a connection the server closed."""
        sock = self.sockets[i]
        try:
            sock.setblocking(False)
            try:
                answer = sock.recv(4096)
                self.answers.append(answer)
                if not answer:
                    self.open[i] = False
                    return
            except BlockingIOError:
                pass  # nothing to read: still open
            sock.setblocking(True)
            sock.sendall(data)
        except OSError:
            self.open[i] = False

    def _feed(self) -> None:
        for i in range(len(self.sockets)):
            self._send(i, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for line in range(MAX_LINES):
            if self._stop.wait(self.interval):
                return
            for i in range(len(self.sockets)):
                if self.open[i]:
                    self._send(i, f"X-Slow-{line}: {'a' * 20}\r\n".encode())

    def __enter__(self) -> SlowClients:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, dict[str, Any]]]:
    """A 2-worker server with a short header timeout, an issuer and one credential it issued."""
    data_dir: Path = tmp_path_factory.mktemp("slow-clients")
    env = {"CHOPMARK_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT), "CHOPMARK_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT)}
    with LiveServer(data_dir, env=env, workers=2) as server:
        record, token = server.new_issuer("acme")
        deployment = Deployment(server, record, token)
        credential = deployment.issued("eddsa-jcs-2022")[1]
        for _ in range(4):  # warm both workers' verification paths
            assert deployment.verify(credential).status == 200
        yield deployment, credential


def test_health_and_verify_answer_while_slow_clients_hold_connections(
        live: tuple[Deployment, dict[str, Any]]) -> None:
    deployment, credential = live
    with SlowClients(deployment.server.port, SLOW_CONNECTIONS) as slow:
        time.sleep(0.5)  # every slow connection has been accepted and has sent part of its head
        for _ in range(3):
            health = get(deployment.at("/health"), timeout=ANSWER_WITHIN)
            assert health.status == 200, health.json
            verdict = post(deployment.at("/credentials/verify"), {"verifiableCredential": credential, "options": {}},
                           timeout=ANSWER_WITHIN)
            assert verdict.status == 200 and verdict.json["verified"] is True, verdict.json
        assert slow.closed < SLOW_CONNECTIONS, "the slow connections were refused, not held open"


def test_parallel_issuances_on_interleaved_greenlets_stay_distinct(live: tuple[Deployment, dict[str, Any]]) -> None:
    """Requests of one worker now run interleaved (a greenlet each, SQLite connections per greenlet): parallel
    issuances still get distinct credentials and status entries, and each verifies."""
    deployment, _ = live
    with SlowClients(deployment.server.port, SLOW_CONNECTIONS), ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda i: deployment.issue("eddsa-jcs-2022"), range(32)))
    assert [r.status for r in replies] == [201] * 32, [r.json for r in replies if r.status != 201][:2]
    assert len({r.json["credentialId"] for r in replies}) == 32
    entries = [status_entries(r.json["verifiableCredential"])["revocation"] for r in replies]
    assert len(set(entries)) == 32, "two credentials share a revocation status entry"
    assert deployment.verify(replies[-1].json["verifiableCredential"]).json["verified"] is True


def test_slow_header_senders_are_cut_off(live: tuple[Deployment, dict[str, Any]]) -> None:
    deployment, _ = live
    with SlowClients(deployment.server.port, 4, interval=0.5) as slow:
        deadline = time.monotonic() + MAX_LINES * 0.5  # the clients would go on sending this long
        while slow.closed < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert slow.closed == 4, "the server kept connections open whose request head never ended"
        assert not [a for a in slow.answers if a.startswith(b"HTTP/1.1 2")], slow.answers


def read_answer(sock: socket.socket) -> tuple[bytes, dict[str, str], bytes]:
    """Read one HTTP answer with a Content-Length (or until the server closes): status line, headers, body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *fields = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (f.partition(":") for f in fields)}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return status.encode(), headers, body


def test_a_body_that_stops_arriving_gets_a_408_problem(live: tuple[Deployment, dict[str, Any]]) -> None:
    deployment, _ = live
    with socket.create_connection(("127.0.0.1", deployment.server.port), timeout=30) as sock:
        sock.sendall(b"POST /credentials/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"verifiableCredential\": ")  # 26 of the 100 bytes, then nothing
        status, headers, body = read_answer(sock)
    assert status.startswith(b"HTTP/1.1 408"), (status, body)
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 408 and problem["code"] == "REQUEST_TIMEOUT", problem
    assert problem["type"] and problem["title"] and problem["detail"]


def test_a_malformed_chunked_body_gets_a_400_problem(live: tuple[Deployment, dict[str, Any]]) -> None:
    deployment, _ = live
    with socket.create_connection(("127.0.0.1", deployment.server.port), timeout=30) as sock:
        sock.sendall(b"POST /credentials/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
        status, headers, body = read_answer(sock)
    assert status.startswith(b"HTTP/1.1 400"), (status, body)
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 400


def test_expect_100_continue_gets_its_interim_answer(live: tuple[Deployment, dict[str, Any]]) -> None:
    deployment, credential = live
    body = json.dumps({"verifiableCredential": credential, "options": {}}).encode()
    with socket.create_connection(("127.0.0.1", deployment.server.port), timeout=30) as sock:
        sock.sendall(b"POST /credentials/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        interim = sock.recv(25)  # the server must ask for the body before it waits for it
        assert interim.startswith(b"HTTP/1.1 100"), interim
        sock.sendall(body)
        status, _, answer = read_answer(sock)
    assert status.startswith(b"HTTP/1.1 200"), (status, answer[:300])
    assert json.loads(answer)["verified"] is True


def test_over_tls_stalled_handshakes_neither_block_nor_stay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # this test process trusts the server's certificate
    env = {"CHOPMARK_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT)}
    with TlsServer(tmp_path / "data", cert, key, env=env, workers=2) as server:
        stalled = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(SLOW_CONNECTIONS)]
        try:
            time.sleep(0.5)  # accepted, each waiting for a ClientHello that never comes
            assert get(server.url + "/health", timeout=ANSWER_WITHIN).status == 200
            for sock in stalled:  # the server gives up on each handshake: end of stream (or a reset)
                with suppress(ConnectionResetError):
                    assert sock.recv(1) == b""
        finally:
            for sock in stalled:
                sock.close()
        context = ssl.create_default_context(cafile=str(cert))
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as raw, \
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert read_answer(tls)[0].startswith(b"HTTP/1.1 200")


def test_a_graceful_stop_closes_waiting_connections_at_once(tmp_path: Path) -> None:
    """SIGTERM lets requests finish but does not wait for connections that only wait for the client: one that
    never sent a request and one kept alive after its answer. Before, each held the worker's graceful stop until
    gunicorn's graceful timeout (10 s, shorter than this header deadline) ran out and the master killed it."""
    server = LiveServer(tmp_path / "data", env={"CHOPMARK_HEADER_TIMEOUT_SECONDS": "60"}, workers=1)
    server.start()
    try:
        silent = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        kept = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        kept.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert kept.recv(4096).startswith(b"HTTP/1.1 200"), "the kept-alive connection got its answer"
        assert server.proc is not None
        server.proc.terminate()
        server.proc.wait(timeout=30)
        for connection in (silent, kept):
            while connection.recv(4096):  # the rest of the answer, then the end: closed by the stop
                pass
            connection.close()
        log = server.log_tail()  # the worker stopped by itself, not SIGKILLed by the master after the timeout
        assert "Worker exiting" in log and "graceful timeout" not in log.lower(), log
    finally:
        server.close()


@pytest.mark.parametrize(("raw", "status", "code"), [
    (b"NOT A REQUEST LINE\r\n\r\n", 400, "BAD_REQUEST"),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414, "URI_TOO_LONG"),
    (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n", 400, "BAD_REQUEST"),
    (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Many: y\r\n" * 200 + b"\r\n", 431,
     "HEADER_FIELDS_TOO_LARGE"),
])
def test_requests_the_http_parser_refuses_get_problem_json(live: tuple[Deployment, dict[str, Any]], raw: bytes,
                                                            status: int, code: str) -> None:
    """Gunicorn's parser answers these before the application runs; they are problems too, never HTML pages."""
    deployment, _ = live
    with socket.create_connection(("127.0.0.1", deployment.server.port), timeout=30) as sock:
        sock.sendall(raw)
        line, headers, body = read_answer(sock)
    assert line.startswith(f"HTTP/1.1 {status}".encode()), (line, body)
    assert headers["content-type"] == "application/problem+json", (headers, body)
    problem = json.loads(body)
    assert (problem["status"], problem["code"]) == (status, code), problem
    assert problem["type"] == f"https://chopmark.dev/problems#{code}" and problem["detail"], problem
