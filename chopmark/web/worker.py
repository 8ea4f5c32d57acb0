"""The gunicorn worker of ``chopmark serve``: gevent, with deadlines on the request head and body (issue 11).

Each connection is a greenlet, so a client that sends its request slowly holds only its own greenlet, never a
worker. Before the application sees a request:

* the TLS handshake and the request head (request line and header fields, or the wait for the next request on
  a kept-alive connection) must arrive within ``header_timeout_seconds``; otherwise the connection is closed
  without an answer (nothing was asked yet);
* the body, up to ``max_body_bytes`` + 1 bytes, is read ahead into memory within ``body_timeout_seconds``;
  otherwise the client gets a 408 ``application/problem+json`` and the connection is closed.

A graceful stop (SIGTERM) lets the requests in progress finish but closes at once the connections that are only
waiting: for a TLS handshake, for a request head, or idle between two requests. Otherwise each of them would hold
the stop for up to the header deadline.

The application (sync Flask) then reads its body from memory. ``monkey.patch_all`` (done by gunicorn's gevent
worker before the application is built) makes ``threading.local`` greenlet-local, so the SQLite store opens
its connections per greenlet, and redis-py's pool hands each greenlet its own connection.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import ssl
import warnings
from collections.abc import Iterator
from typing import Any

import gevent  # type: ignore[import-untyped]
from gevent.monkey import MonkeyPatchWarning  # type: ignore[import-untyped]
from gunicorn import util  # type: ignore[import-untyped]
from gunicorn.http.body import Body  # type: ignore[import-untyped]
from gunicorn.workers.ggevent import GeventWorker  # type: ignore[import-untyped]

from chopmark.errors import CHOPMARK, BadRequest, Problem
from chopmark.web.server import READY_LINE
from chopmark.web.settings import Settings

REQUEST_TIMEOUT = Problem(type="https://chopmark.dev/problems#REQUEST_TIMEOUT", title="Request timeout",
                          detail="", code="REQUEST_TIMEOUT")
BAD_BODY = Problem(type=BadRequest.type, title=BadRequest.title, detail="the request body is malformed",
                   code="BAD_REQUEST")


class _ReadAhead:
    """A body reader: first the bytes read ahead, then whatever the connection still has."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self.head = io.BytesIO(head)
        self.rest = rest

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes."""
        data = self.head.read(size)
        return data if data else bytes(self.rest.read(size))


#: The stable codes of the answers gunicorn's HTTP parser gives before the application runs.
PARSER_CODES = {400: "BAD_REQUEST", 403: "FORBIDDEN", 414: "URI_TOO_LONG", 417: "EXPECTATION_FAILED",
                431: "HEADER_FIELDS_TOO_LARGE", 500: "INTERNAL_ERROR", 501: "NOT_IMPLEMENTED"}


def write_parser_problem(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """Stands in for ``gunicorn.util.write_error`` in Chopmark's workers: the requests gunicorn's parser refuses
    (a malformed request line or header, a line or head over the limits) get RFC 9457 problem+json, as every
    other error of the service, instead of an HTML page."""
    code = PARSER_CODES.get(status_int, "BAD_REQUEST" if status_int < 500 else "INTERNAL_ERROR")
    detail = mesg or reason
    problem = Problem(type=CHOPMARK + code, title=reason, detail=detail, code=code)
    util.write_nonblock(sock, problem_answer(status_int, reason, problem))


def problem_answer(status: int, reason: str, problem: Problem) -> bytes:
    """A raw HTTP/1.1 ``application/problem+json`` answer that closes the connection."""
    body = json.dumps({**problem.to_dict(), "status": status}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


class ChopmarkWorker(GeventWorker):  # type: ignore[misc]
    """Gunicorn's gevent worker with deadlines on the TLS handshake, the request head and the body."""

    _waiting: set[Any] | None = None

    @property
    def waiting(self) -> set[Any]:
        """The greenlets of connections that are waiting for the client (no request in progress)."""
        if self._waiting is None:
            self._waiting = set()
        return self._waiting

    @contextlib.contextmanager
    def _waiting_for_client(self) -> Iterator[None]:
        """Mark this connection's greenlet as waiting (a graceful stop may close it), under the header deadline."""
        current = gevent.getcurrent()
        self.waiting.add(current)
        try:
            with gevent.Timeout(self.limits.header_timeout_seconds, False):
                yield
        finally:
            self.waiting.discard(current)

    def run(self) -> None:
        """Serve until stopped. The line logged first says the worker handles signals now (a SIGTERM that reaches
        a worker still booting is taken by the master's inherited handler and lost, so the stop would wait for
        the graceful timeout): tests wait for it before stopping a server they just started."""
        self.log.info("%s (pid: %s)", READY_LINE, self.pid)
        super().run()

    def handle_exit(self, sig: Any, frame: Any) -> None:
        """SIGTERM: stop accepting (gunicorn's graceful stop) and close the connections that only wait."""
        super().handle_exit(sig, frame)
        gevent.spawn(self._close_waiting)

    def _close_waiting(self) -> None:
        """Kill the greenlets that wait for a client; a connection mid-request is left to finish (it is closed
        after its answer, as ``alive`` is now false)."""
        for greenlet in list(self.waiting):
            greenlet.kill(block=False)

    @property
    def limits(self) -> Settings:
        """The service's settings (the gunicorn application is :class:`chopmark.web.server.ChopmarkServer`)."""
        settings: Settings = self.app.settings
        return settings

    def init_process(self) -> None:
        """After the fork, in this worker only: the parser's refusals are written as problems."""
        util.write_error = write_parser_problem
        super().init_process()

    def patch(self) -> None:
        """gevent's ``monkey.patch_all``, after the fork. The master imported ssl first, so gevent warns about
        modules that hold direct references into it: only urllib3 and ``redis.asyncio`` do, and neither serves a
        request here (``redis.connection``, the fetcher and gunicorn look ``ssl`` up when they use it)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=MonkeyPatchWarning)
            super().patch()

    def timeout_ctx(self) -> contextlib.AbstractContextManager[None]:
        """Gunicorn reads each request head (and waits for the next one) under this deadline: on expiry it
        stops reading and closes the connection. Meanwhile the connection counts as waiting."""
        return self._waiting_for_client()

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        """Serve one connection; a TLS handshake must end within the header deadline."""
        if isinstance(client, ssl.SSLSocket):
            client.setblocking(True)
            done = False
            with self._waiting_for_client():
                try:
                    client.do_handshake()
                    done = True
                except OSError as exc:  # ssl.SSLError too: not TLS, or a client that gave up
                    self.log.debug("TLS handshake with %s failed: %s", addr, exc)
            if not done:
                util.close(client)
                return
        super().handle(listener, client, addr)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        """Read the body ahead under the body deadline, then run the application."""
        if getattr(req, "_expected_100_continue", False):  # the client waits for this before sending the body
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            req._expected_100_continue = False
        seconds = self.limits.body_timeout_seconds
        head, answer = None, b""
        with gevent.Timeout(seconds, False):
            try:
                head = req.body.read(self.limits.max_body_bytes + 1)
            except Exception as exc:  # gunicorn's parser: a malformed chunked body, say
                self.log.debug("malformed request body from %s: %s", addr, exc)
                answer = problem_answer(400, "Bad Request", BAD_BODY)
        if head is None:
            if not answer:
                self.log.info("closing %s: request body not received within %s s", addr, seconds)
                detail = f"the request body did not arrive within {seconds} s"
                answer = problem_answer(408, "Request Timeout", dataclasses.replace(REQUEST_TIMEOUT, detail=detail))
            with gevent.Timeout(1, False):
                sock.sendall(answer)
            raise StopIteration()
        req.body = Body(_ReadAhead(head, req.body))
        return super().handle_request(listener_name, req, sock, addr)
