"""Load generation and server plumbing for ``bench/http.py`` (standard library, plus redis-py for cleanup).

Two load generators: ApacheBench (``ab``, C, cheap; one fixed body) and a Python client (threads and
``http.client``, one new connection per request like ``ab``, since gunicorn's sync workers close each
connection; bodies cycled from a list). Both report throughput and the 50th and 99th latency percentiles.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
REQUEST_TIMEOUT = 60.0


# --- figures -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stats:
    """One measured run: requests per second, latency percentiles in ms, requests sent and failures."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Rounded for printing and JSON."""
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ascending ``sorted_values``, nearest rank."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def from_latencies(latencies_s: Sequence[float], elapsed_s: float, errors: int = 0) -> Stats:
    """Stats of a run from per-request latencies (seconds) and its wall-clock duration."""
    ordered = sorted(latencies_s)
    return Stats(rps=len(ordered) / elapsed_s if elapsed_s > 0 else 0.0, p50_ms=percentile(ordered, 50) * 1000,
                 p99_ms=percentile(ordered, 99) * 1000, requests=len(ordered), errors=errors)


def median_stats(runs: Sequence[Stats]) -> Stats:
    """The median of each figure over ``runs`` (errors are summed)."""
    def med(values: list[float]) -> float:
        ordered = sorted(values)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return Stats(rps=med([r.rps for r in runs]), p50_ms=med([r.p50_ms for r in runs]),
                 p99_ms=med([r.p99_ms for r in runs]), requests=runs[0].requests, errors=sum(r.errors for r in runs))


def time_calls(call: Callable[[int], None], count: int, warmup: int, runs: int) -> Stats:
    """In-process: ``call(i)`` ``warmup`` times, then ``runs`` runs of ``count`` calls; the medians."""
    for i in range(warmup):
        call(i)
    results, offset = [], warmup
    for _ in range(runs):
        latencies = []
        started = time.perf_counter()
        for i in range(offset, offset + count):
            t0 = time.perf_counter()
            call(i)
            latencies.append(time.perf_counter() - t0)
        results.append(from_latencies(latencies, time.perf_counter() - started))
        offset += count
    return median_stats(results)


def own_cpu_seconds() -> float:
    """CPU time of this process (every thread) and of its reaped children (ab runs, CLI calls)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of the live processes of process group ``pgid`` (Linux /proc)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rfind(")") + 2:].split()
            if int(fields[2]) == pgid:
                total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


# --- ApacheBench -------------------------------------------------------------------------------------------

def find_ab(install: bool) -> str | None:
    """The path of ``ab``; with ``install``, try ``apt-get install -y apache2-utils`` when it is missing."""
    found = shutil.which("ab")
    if found or not install or shutil.which("apt-get") is None:
        return found
    print("bench: ab not found, installing apache2-utils ...", file=sys.stderr)
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "apache2-utils"]):
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    return shutil.which("ab")


def _ab_number(output: str, label: str) -> float:
    match = re.search(rf"^{re.escape(label)}:\s+([0-9.]+)", output, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def _ab_percentile(rows: dict[str, str], q: int, done: int) -> float:
    # ab's CSV row q is its sorted sample int(0.5 + done * q / 100), read past the end when that is >= done
    # (for q = 99: fewer than 51 requests); the largest sample (row 100) is the right answer there
    return float(rows[str(q)] if int(0.5 + done * q / 100) < done else rows["100"])


def ab_run(ab: str, url: str, body: bytes | None, token: str | None, requests: int, concurrency: int) -> Stats:
    """``ab -n requests -c concurrency``, POSTing ``body`` as JSON (GET when None); percentiles from its CSV."""
    with tempfile.TemporaryDirectory(prefix="cmbench-ab-") as tmp:
        body_file, csv_file = Path(tmp, "body.json"), Path(tmp, "percentiles.csv")
        command = [ab, "-q", "-l", "-r", "-n", str(requests), "-c", str(concurrency), "-e", str(csv_file)]
        if body is not None:
            body_file.write_bytes(body)
            command += ["-p", str(body_file), "-T", "application/json"]
        if token:
            command += ["-H", f"Authorization: Bearer {token}"]
        done = subprocess.run([*command, url], capture_output=True, text=True, timeout=3600, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"ab failed ({done.returncode}): {done.stderr.strip() or done.stdout[-800:]}")
        rows = dict(line.split(",", 1) for line in csv_file.read_text().splitlines()[1:] if "," in line)
    errors = _ab_number(done.stdout, "Failed requests") + _ab_number(done.stdout, "Non-2xx responses")
    complete = int(_ab_number(done.stdout, "Complete requests"))
    return Stats(rps=_ab_number(done.stdout, "Requests per second"), p50_ms=_ab_percentile(rows, 50, complete),
                 p99_ms=_ab_percentile(rows, 99, complete), requests=complete, errors=int(errors))


# --- the Python client -------------------------------------------------------------------------------------

def _send(host: str, port: int, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("GET" if body is None else "POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def python_run(url: str, bodies: Sequence[bytes | None], token: str | None, requests: int, concurrency: int,
               expect: int, *, collect: bool = False) -> tuple[Stats, list[bytes]]:
    """POST ``requests`` bodies (cycled from ``bodies``; None: GET) from ``concurrency`` threads; a status other than
    ``expect`` counts as an error. With ``collect``, also return the response bodies (in completion order)."""
    parts = urllib.parse.urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    headers = {"Content-Type": "application/json", "Connection": "close"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    counter, lock = itertools.count(), threading.Lock()
    latencies: list[float] = []
    replies: list[bytes] = []
    errors = [0]

    def worker() -> None:
        mine: list[float] = []
        while (i := next(counter)) < requests:
            t0 = time.perf_counter()
            try:
                status, data = _send(host, port, path, bodies[i % len(bodies)], headers)
            except (OSError, http.client.HTTPException):
                status, data = 0, b""
            mine.append(time.perf_counter() - t0)
            with lock:
                errors[0] += status != expect
                if collect and status == expect:
                    replies.append(data)
        with lock:
            latencies.extend(mine)

    elapsed = run_threads(worker, concurrency)
    return from_latencies(latencies, elapsed, errors[0]), replies


def run_threads(worker: Callable[[], None], concurrency: int) -> float:
    """Run ``worker`` in ``concurrency`` threads at once; the seconds until the last one ends."""
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


# --- the server --------------------------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CHOPMARK_") or k == "CHOPMARK_STATUS_FRESHNESS_MS"}
    env.update({"CHOPMARK_RATE_LIMIT_PER_MINUTE": "0", "PYTHONUNBUFFERED": "1"})
    return env


class Server:
    """``chopmark serve`` in its own process group on a free loopback port; ``cli`` runs admin commands
    against the same data dir and store. Use as a context manager: the group is always stopped."""

    def __init__(self, data_dir: Path, store: str | None, workers: int = 2) -> None:
        """Serve ``data_dir`` (and ``store``, default SQLite in it) with ``workers`` gunicorn workers."""
        self.data_dir, self.store, self.workers = data_dir, store, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = _environment()
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def store_args(self) -> list[str]:
        """``--data-dir``, ``--public-url`` and (when set) ``--store``."""
        args = ["--data-dir", str(self.data_dir), "--public-url", self.url]
        return args + (["--store", self.store] if self.store else [])

    def cli(self, *args: str) -> Any:
        """Run ``chopmark ARGS --json`` on this server's store; return its JSON output."""
        command = [sys.executable, "-m", "chopmark.cli", *args, *self.store_args(), "--json"]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"chopmark {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return json.loads(done.stdout)

    def start(self) -> None:
        """Start ``chopmark serve`` and wait for ``GET /health``."""
        self._log = (self.data_dir / "server.log").open("ab")
        command = [sys.executable, "-m", "chopmark.cli", "serve", "--workers", str(self.workers),
                   "--host", "127.0.0.1", "--port", str(self.port), *self.store_args()]
        self.proc = subprocess.Popen(command, env=self.env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._healthy():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chopmark serve did not start:\n{self.log_tail()}")
            time.sleep(0.1)

    def _healthy(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/health")
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's master and workers."""
        return group_cpu_seconds(self.proc.pid) if self.proc is not None else 0.0

    def log_tail(self, size: int = 3000) -> str:
        """The end of the server log."""
        with suppress(OSError):
            return (self.data_dir / "server.log").read_text(errors="replace")[-size:]
        return "(no log)"

    def stop(self) -> None:
        """SIGTERM the process group, wait; SIGKILL it if it lingers."""
        if self.proc is not None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_TIMEOUT)
            with suppress(ProcessLookupError):  # workers that outlived the master
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- Redis -------------------------------------------------------------------------------------------------

def redis_reachable(url: str) -> bool:
    """True when a Redis server answers PING at ``url``."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@contextmanager
def redis_prefix(base_url: str, prefix: str) -> Iterator[str]:
    """``base_url?prefix=PREFIX``; afterwards delete that prefix's keys (SCAN + DEL, never FLUSHDB)."""
    from chopmark.store import RedisStore

    url = f"{base_url}?prefix={prefix}"
    try:
        yield url
    finally:
        store = RedisStore(base_url, prefix=prefix)
        try:
            store.purge()
        finally:
            store.close()


def on_each_store(stores: str, redis_url: str, tag: str, run: Callable[[str, str | None], T]) -> list[T]:
    """``run(label, store_url)`` for each of the comma-separated ``stores`` (``sqlite``: store URL None, i.e. the
    server's default; ``redis``: a fresh ``?prefix=`` purged afterwards). An unknown store or an unreachable
    Redis is skipped with a message."""
    results = []
    for label in stores.split(","):
        if label == "sqlite":
            results.append(run(label, None))
        elif label == "redis" and redis_reachable(redis_url):
            with redis_prefix(redis_url, f"{tag}-{secrets.token_hex(6)}") as url:
                results.append(run(label, url))
        else:
            print(f"bench: skipping store {label!r} (unknown, or Redis unreachable)", file=sys.stderr)
    return results
