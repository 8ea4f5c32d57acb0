"""Slow-client benchmark (issue 11): ``GET /health`` and ``POST /credentials/verify`` with and without many
clients that send their request head slowly.

Usage: ``python bench/slowclients.py [--slow 200] [--interval 2] [--settle 12] [--requests 200] [--concurrency 4]
[--runs 3] [--timeout 10] [--stores sqlite,redis] [--quick] [--json]``

For each store, ``chopmark serve --workers 2`` runs on a loopback port (rate limiting off, default header and
body timeouts) with one issuer, ``bench``, and one credential it issued (eddsa-rdfc-2022). Measured, first with
no other clients, then while ``--slow`` connections each send a request line and then one header line every
``--interval`` seconds, never ending the head (a slowloris; a connection the server cuts off is opened again at
once, so ``--slow`` stay open all along; measuring starts after ``--settle`` s): ``--requests`` requests per run
from ``--concurrency`` threads, one new connection each; a request that gets no answer within ``--timeout`` s
counts as an error with that latency. Figures are medians over ``--runs`` runs: p50/p99 latency in ms, and the
ratio of p99 with slow clients to p99 without. The goal: p99 at most 1 s with 200 slow clients.
"""

from __future__ import annotations

import os
import sys

_BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
# bench/http.py would shadow the standard library's http package (http.client): look in bench/ last.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _BENCH_DIR] + [_BENCH_DIR]

import argparse  # noqa: E402
import http.client  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from _http_load import Server, Stats, from_latencies, median_stats, on_each_store, run_threads  # noqa: E402

GOAL_P99_MS = 1000.0
UNSIGNED = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:merchant-1"}}


class SlowClients:
    """``count`` connections to ``port`` sending a request head one line per ``interval`` seconds, never ending
    it; one thread feeds them all and reopens each connection the server closes (``cuts`` counts those)."""

    def __init__(self, port: int, count: int, interval: float) -> None:
        self.port, self.interval = port, interval
        self.sockets: list[socket.socket | None] = [None] * count
        self.cuts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, daemon=True)

    def _open(self, i: int) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.sockets[i] = sock
        except OSError:
            self.sockets[i] = None

    def _send_line(self, i: int, line: int) -> None:
        sock = self.sockets[i]
        try:
            if sock is None:
                raise ConnectionError("not open")
            sock.sendall(f"X-Slow-{line}: {'a' * 20}\r\n".encode())
            sock.setblocking(False)
            try:
                if sock.recv(4096) == b"":
                    raise ConnectionError("closed by the server")
            except BlockingIOError:
                pass  # nothing to read: still open
            sock.setblocking(True)
        except OSError:
            if sock is not None:
                sock.close()
                self.cuts += 1
            self._open(i)

    def _feed(self) -> None:
        for line in itertools.count():
            if self._stop.wait(self.interval):
                return
            for i in range(len(self.sockets)):
                self._send_line(i, line)

    def __enter__(self) -> SlowClients:
        for i in range(len(self.sockets)):
            self._open(i)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        for sock in self.sockets:
            if sock is not None:
                sock.close()

    @property
    def open_count(self) -> int:
        """How many slow connections are open now."""
        return sum(s is not None for s in self.sockets)


def timed_run(port: int, path: str, body: bytes | None, requests: int, concurrency: int, timeout: float) -> Stats:
    """``requests`` requests (GET, or POST ``body``) from ``concurrency`` threads, one connection each; an answer
    other than 200 or none within ``timeout`` s is an error (its latency counts, capped at ``timeout``)."""
    counter, lock = itertools.count(), threading.Lock()
    latencies: list[float] = []
    errors = [0]

    def worker() -> None:
        while next(counter) < requests:
            t0 = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            try:
                conn.request("GET" if body is None else "POST", path, body=body,
                             headers={"Content-Type": "application/json", "Connection": "close"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
            finally:
                conn.close()
            with lock:
                latencies.append(min(time.perf_counter() - t0, timeout))
                errors[0] += not ok

    return from_latencies(latencies, run_threads(worker, concurrency), errors[0])


def measure(port: int, verify_body: bytes, args: argparse.Namespace) -> dict[str, Stats]:
    """Median stats of ``--runs`` runs for each endpoint."""
    targets: Sequence[tuple[str, str, bytes | None]] = (("GET /health", "/health", None),
                                                        ("POST /credentials/verify", "/credentials/verify",
                                                         verify_body))
    return {name: median_stats([timed_run(port, path, body, args.requests, args.concurrency, args.timeout)
                                for _ in range(args.runs)]) for name, path, body in targets}


def run_store(label: str, store_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    """Start a server on one store, measure without and with slow clients."""
    with tempfile.TemporaryDirectory(prefix=f"bench-slow-{label}-") as tmp, Server(Path(tmp), store_url) as server:
        server.cli("issuer", "create", "bench")
        token = server.cli("token", "create", "--issuer", "bench", "--scope", "issue,status")["token"]
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.request("POST", "/credentials/issue", body=json.dumps({"credential": UNSIGNED, "options": {}}),
                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        issued = json.loads(conn.getresponse().read())
        conn.close()
        verify_body = json.dumps({"verifiableCredential": issued["verifiableCredential"], "options": {}}).encode()
        timed_run(server.port, "/credentials/verify", verify_body, args.warmup, args.concurrency, 60)  # warm-up
        quiet = measure(server.port, verify_body, args)
        with SlowClients(server.port, args.slow, args.interval) as slow:
            time.sleep(args.settle)  # past the header timeout: the server has cut the first ones, they came back
            loaded = measure(server.port, verify_body, args)
            held, cuts = slow.open_count, slow.cuts
    rows = [{"store": label, "endpoint": name, "quiet": quiet[name].to_dict(), "slow": loaded[name].to_dict(),
             "p99_ratio": round(loaded[name].p99_ms / quiet[name].p99_ms, 2) if quiet[name].p99_ms else None,
             "goal_met": loaded[name].p99_ms <= GOAL_P99_MS and not loaded[name].errors} for name in quiet]
    return {"store": label, "rows": rows, "slow_open_at_end": held, "slow_cut_by_server": cuts}


def print_tables(meta: dict[str, Any], results: list[dict[str, Any]]) -> None:
    """Human-readable tables."""
    print(f"# slow clients: {meta['slow']} connections, one header line every {meta['interval']} s; "
          f"{meta['requests']} requests x {meta['runs']} runs, concurrency {meta['concurrency']}, "
          f"timeout {meta['timeout']} s; {meta['python']} on {meta['cpus']} CPUs, {meta['date']}")
    print(f"{'store':8} {'endpoint':26} {'quiet p50':>10} {'quiet p99':>10} {'slow p50':>10} {'slow p99':>10} "
          f"{'p99 ratio':>9} {'errors':>7}  goal p99<=1s")
    for result in results:
        for row in result["rows"]:
            quiet, slow = row["quiet"], row["slow"]
            print(f"{row['store']:8} {row['endpoint']:26} {quiet['p50_ms']:10.1f} {quiet['p99_ms']:10.1f} "
                  f"{slow['p50_ms']:10.1f} {slow['p99_ms']:10.1f} {row['p99_ratio'] or 0:9.2f} "
                  f"{slow['errors']:7d}  {'met' if row['goal_met'] else 'MISSED'}")
        print(f"{result['store']:8} slow connections open at the end: {result['slow_open_at_end']}, "
              f"closed by the server (header timeout) and reopened: {result['slow_cut_by_server']}")


def main() -> None:
    """Parse arguments, run, print tables or JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=200, help="slow connections held open")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a slow client's header lines")
    parser.add_argument("--settle", type=float, default=12.0,
                        help="seconds the slow clients run before measuring (default: past the 10 s header timeout)")
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint and run")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a request counts as failed")
    parser.add_argument("--stores", default="sqlite,redis", help="comma-separated: sqlite, redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--json", action="store_true", help="JSON lines instead of tables")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: the servers' process groups are stopped
    if args.quick:
        args.requests, args.runs, args.warmup, args.settle = 40, 1, 10, 2.0
    results = on_each_store(args.stores, args.redis_url, "bench-slow", lambda label, url: run_store(label, url, args))
    meta = {"slow": args.slow, "interval": args.interval, "requests": args.requests, "runs": args.runs,
            "concurrency": args.concurrency, "timeout": args.timeout, "python": platform.python_version(),
            "cpus": len(os.sched_getaffinity(0)), "date": date.today().isoformat()}
    if args.json:
        print(json.dumps({"meta": meta}))
        for result in results:
            print(json.dumps(result))
    else:
        print_tables(meta, results)


if __name__ == "__main__":
    main()
