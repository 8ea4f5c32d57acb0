"""Service benchmark: issue and verify over HTTP (gunicorn, 2 workers) and in-process, on SQLite and Redis.

Usage: ``python bench/http.py [--requests 2000] [--issue-requests 300] [--concurrency 8] [--runs 3] [--pool 500]
[--stores sqlite,redis] [--generator auto|ab|python] [--install-ab] [--quick] [--json]``

For each store, ``chopmark serve --workers 2`` runs on a loopback port (rate limiting off) with one issuer,
``bench``, and an issue+status token made by the admin CLI beforehand. Measured: ``POST /credentials/issue``
(eddsa-rdfc-2022, eddsa-jcs-2022) and ``POST /credentials/verify`` of credentials issued with each suite, with
``options.checks = ["proof", "validity", "issuerBinding"]`` ("no status") and with every check ("all": the status
check reads the service's own list), for one credential sent again and again ("same": the kernel's memos are
warm) and for a pool of ``--pool`` distinct credentials, cycled ("distinct"). Then the same operations
in-process on the same store, single thread: through the domain services and through the Flask test client.
Figures are medians over ``--runs`` runs after a warm-up: requests per second and p50/p99 latency in ms.
"""

from __future__ import annotations

import os
import sys

_BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
# This file is named http.py: run as a script, bench/ comes first on sys.path and would shadow the standard
# library's http package (http.client, werkzeug, urllib). Look in bench/ last instead.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _BENCH_DIR] + [_BENCH_DIR]

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from _http_load import (  # noqa: E402
    Server,
    Stats,
    ab_run,
    find_ab,
    median_stats,
    on_each_store,
    own_cpu_seconds,
    python_run,
    time_calls,
)

SUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
NO_STATUS = ["proof", "validity", "issuerBinding"]
UNSIGNED = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:merchant-1"}}
ISSUE, VERIFY = "/credentials/issue", "/credentials/verify"
PATHS = {"baseline": "/", "issue": ISSUE, "verify": VERIFY}
GOAL_RATIO, GOAL_STATUS = 0.70, 0.05


@dataclass(frozen=True)
class Scenario:
    """One measured operation: ``op`` baseline (``GET /``: gunicorn and Flask, no work) | issue | verify,
    ``checks`` "-" | "no status" | "all", ``creds`` "-" | "same" | "distinct", and the generator used over HTTP."""

    op: str
    suite: str
    checks: str = "-"
    creds: str = "-"
    generator: str = "python"

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The operation without the generator (what in-process rows are matched on)."""
        return self.op, self.suite, self.checks, self.creds


@dataclass
class Workload:
    """A store's token and credentials: one per suite sent repeatedly, and a pool of distinct ones."""

    token: str
    pools: dict[str, list[dict[str, Any]]]


def scenarios(fixed_generator: str) -> list[Scenario]:
    """Issue with each suite; verify same (with ``fixed_generator``, and the Python client too when that is ab,
    to show the generators side by side) and distinct (the Python client: ab cannot vary bodies)."""
    out = [Scenario("baseline", "-", generator=fixed_generator)]
    out += [Scenario("issue", suite, generator=fixed_generator) for suite in SUITES]
    generators = [fixed_generator] + (["python"] if fixed_generator == "ab" else [])
    for creds, gens in (("same", generators), ("distinct", ["python"])):
        for generator in gens:
            out += [Scenario("verify", suite, checks, creds, generator)
                    for suite in SUITES for checks in ("no status", "all")]
    return out


def request_body(scenario: Scenario, credential: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body of ``scenario`` (``credential``: the credential to verify)."""
    if scenario.op == "issue":
        return {"credential": UNSIGNED, "options": {"cryptosuite": scenario.suite}}
    options = {"checks": NO_STATUS} if scenario.checks == "no status" else {}
    return {"verifiableCredential": credential, "options": options}


def bodies(scenario: Scenario, work: Workload) -> list[dict[str, Any]]:
    """The bodies cycled by ``scenario``: one for issue and "same", the whole pool for "distinct"."""
    if scenario.op == "issue":
        return [request_body(scenario)]
    pool = work.pools[scenario.suite]
    return [request_body(scenario, vc) for vc in (pool[:1] if scenario.creds == "same" else pool)]


def encoded(values: Sequence[dict[str, Any]]) -> list[bytes]:
    """JSON bodies as compact UTF-8 bytes."""
    return [json.dumps(v, separators=(",", ":")).encode() for v in values]


# --- over HTTP -----------------------------------------------------------------------------------------------

def provision(server: Server, token: str, pool_size: int, concurrency: int) -> Workload:
    """Issue ``pool_size`` credentials per suite over HTTP (the server runs; ``token`` issues for ``bench``)."""
    pools = {}
    for suite in SUITES:
        body = encoded([request_body(Scenario("issue", suite))])
        stats, replies = python_run(server.url + ISSUE, body, token, pool_size, concurrency, 201, collect=True)
        if stats.errors:
            raise RuntimeError(f"issuing the pool failed {stats.errors} times:\n{server.log_tail()}")
        pools[suite] = [json.loads(r)["verifiableCredential"] for r in replies]
    return Workload(token, pools)


def measure_http(scenario: Scenario, server: Server, work: Workload, args: argparse.Namespace,
                 ab: str | None) -> dict[str, Any]:
    """Warm up, then ``args.runs`` measured runs of ``scenario``: the medians, and the CPU time per request of
    the server (master and workers) and of the load generator."""
    payloads: list[bytes | None] = [None] if scenario.op == "baseline" else list(encoded(bodies(scenario, work)))
    token = work.token if scenario.op == "issue" else None
    count = args.issue_requests if scenario.op == "issue" else args.requests
    url = server.url + PATHS[scenario.op]

    def once(n: int) -> Stats:
        if scenario.generator == "ab" and ab is not None:
            return ab_run(ab, url, payloads[0], token, n, args.concurrency)
        return python_run(url, payloads, token, n, args.concurrency, 201 if scenario.op == "issue" else 200)[0]

    once(max(args.warmup, args.concurrency))
    server0, client0 = server.cpu_seconds(), own_cpu_seconds()
    stats = median_stats([once(count) for _ in range(args.runs)])
    per_request = 1000 / (count * args.runs)
    return {**stats.to_dict(), "server_cpu_ms": round((server.cpu_seconds() - server0) * per_request, 3),
            "client_cpu_ms": round((own_cpu_seconds() - client0) * per_request, 3)}


def http_phase(server: Server, token: str, args: argparse.Namespace,
               ab: str | None) -> tuple[Workload, list[dict[str, Any]]]:
    """Every scenario against the running ``server``; one row per scenario."""
    work = provision(server, token, args.pool, args.concurrency)
    rows = []
    for scenario in scenarios("ab" if ab else "python"):
        row = measure_http(scenario, server, work, args, ab)
        if row["errors"]:
            print(f"bench: {row['errors']} failed requests in {scenario}", file=sys.stderr)
        rows.append({"scenario": scenario, **row})
    return work, rows


# --- in-process ----------------------------------------------------------------------------------------------

def _callers(app: Any, scenario: Scenario, work: Workload) -> tuple[Callable[[int], None], Callable[[int], None]]:
    """(domain service call, Flask test client call) for request number ``i`` of ``scenario``."""
    values = bodies(scenario, work)
    raw = encoded(values)
    client = app.extensions["chopmark.tokens"].authenticate(work.token)
    tester = app.test_client()
    headers = {"Content-Type": "application/json"}
    if scenario.op == "issue":
        headers["Authorization"] = f"Bearer {work.token}"
    path, expect = (ISSUE, 201) if scenario.op == "issue" else (VERIFY, 200)

    def domain(i: int) -> None:
        if scenario.op == "issue":
            app.extensions["chopmark.issuer"].issue(client, "bench", values[i % len(values)], None)
            return
        status, result = app.extensions["chopmark.verifier"].verify_credential(values[i % len(values)])
        if status != expect:
            raise RuntimeError(f"in-process verification failed: {result}")

    def through_flask(i: int) -> None:
        response = tester.post(path, data=raw[i % len(raw)], headers=headers)
        if response.status_code != expect:
            raise RuntimeError(f"test client: {response.status_code} {response.get_data(as_text=True)[:500]}")

    return domain, through_flask


def inprocess_phase(server: Server, work: Workload, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every scenario (once per generator-free key) in this process on the server's store, server stopped."""
    from chopmark.app import create_app
    from chopmark.web.settings import Settings

    flags = {"data_dir": str(server.data_dir), "store": server.store, "public_url": server.url,
             "rate_limit_per_minute": 0,
             "status_freshness_ms": int(os.environ.get("CHOPMARK_STATUS_FRESHNESS_MS", "0"))}
    app = create_app(Settings.load(flags, env={}))
    rows, seen = [], set()
    for scenario in scenarios("python"):
        if scenario.key in seen or scenario.op == "baseline":
            continue
        seen.add(scenario.key)
        count = args.issue_requests if scenario.op == "issue" else args.requests
        domain, through_flask = _callers(app, scenario, work)
        rows.append({"scenario": scenario,
                     "domain": time_calls(domain, count, args.warmup, args.runs).to_dict(),
                     "flask": time_calls(through_flask, count, args.warmup, args.runs).to_dict()})
    app.extensions["chopmark.store"].close()
    return rows


# --- comparisons ---------------------------------------------------------------------------------------------

def primary(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """HTTP rows by operation, preferring ab where it ran (the cheaper client)."""
    out: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for row in rows:
        key = row["scenario"].key
        if key not in out or row["scenario"].generator == "ab":
            out[key] = row
    return out


def ratios(http_rows: list[dict[str, Any]], inproc_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """HTTP req/s over two workers' in-process rate (2 × the single-thread rate), domain and test client."""
    best = primary(http_rows)
    out = []
    for row in inproc_rows:
        http_row = best[row["scenario"].key]  # baseline has no in-process row
        two_domain, two_flask = 2 * row["domain"]["rps"], 2 * row["flask"]["rps"]
        out.append({"scenario": row["scenario"], "generator": http_row["scenario"].generator,
                    "http_rps": http_row["rps"], "domain_x2_rps": round(two_domain, 1),
                    "flask_x2_rps": round(two_flask, 1), "ratio_domain": round(http_row["rps"] / two_domain, 3),
                    "ratio_flask": round(http_row["rps"] / two_flask, 3)})
    return out


def _relative(table: dict[Any, Any], suite: str, creds: str, field: Callable[[Any], float]) -> float:
    without = field(table[("verify", suite, "no status", creds)])
    return round((field(table[("verify", suite, "all", creds)]) - without) / without, 3)


def status_overhead(http_rows: list[dict[str, Any]], inproc_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """(median latency with the status check − without) / without, in-process (domain, test client) and HTTP
    (p50, and server CPU per request)."""
    best = primary(http_rows)
    inproc = {row["scenario"].key: row for row in inproc_rows}
    return [{"suite": suite, "creds": creds,
             "domain": _relative(inproc, suite, creds, lambda r: r["domain"]["p50_ms"]),
             "flask": _relative(inproc, suite, creds, lambda r: r["flask"]["p50_ms"]),
             "http": _relative(best, suite, creds, lambda r: r["p50_ms"]),
             "http_cpu": _relative(best, suite, creds, lambda r: r["server_cpu_ms"])}
            for suite in SUITES for creds in ("same", "distinct")]


# --- running and printing ------------------------------------------------------------------------------------

def run_store(label: str, store_url: str | None, args: argparse.Namespace, ab: str | None) -> dict[str, Any]:
    """Serve one store, measure over HTTP, stop the server, measure in-process on the same store."""
    with tempfile.TemporaryDirectory(prefix=f"cmbench-{label}-") as tmp:
        server = Server(Path(tmp), store_url)
        server.cli("issuer", "create", "bench")
        token = server.cli("token", "create", "--issuer", "bench", "--scope", "issue,status")["token"]
        with server:
            work, http_rows = http_phase(server, token, args, ab)
        inproc_rows = inprocess_phase(server, work, args)
    return {"store": label, "http": http_rows, "inprocess": inproc_rows, "ratios": ratios(http_rows, inproc_rows),
            "status_overhead": status_overhead(http_rows, inproc_rows)}


def run(args: argparse.Namespace) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every requested store; returns (meta, per-store results)."""
    ab = find_ab(args.install_ab) if args.generator in ("auto", "ab") else None
    if args.generator == "ab" and ab is None:
        raise SystemExit("ab not found (install apache2-utils, or pass --install-ab)")
    meta = {"date": date.today().isoformat(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "generator": "ab (ApacheBench), Python client for distinct bodies" if ab else "Python client",
            "concurrency": args.concurrency, "requests": args.requests, "issue_requests": args.issue_requests,
            "runs": args.runs, "warmup": args.warmup, "pool": args.pool, "loadavg_before": os.getloadavg()}
    results = on_each_store(args.stores, args.redis_url, "cmbench",
                            lambda label, url: run_store(label, url, args, ab))
    meta["loadavg_after"] = os.getloadavg()
    return meta, results


def _name(scenario: Scenario) -> str:
    names = {"baseline": "GET / (no work)", "issue": "issue"}
    return names.get(scenario.op, f"verify {scenario.checks}, {scenario.creds}")


def _print_http(result: dict[str, Any], cpus: int) -> None:
    print(f"\n[{result['store']}] over HTTP; CPU ms per request of the server and of the generator, and the share "
          f"of the {cpus} CPUs the two use")
    print(f"{'operation':<28} {'suite':<16} {'gen':<6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'srv CPU':>7} "
          f"{'gen CPU':>7} {'busy':>5}")
    for row in result["http"]:
        s = row["scenario"]
        busy = row["rps"] * (row["server_cpu_ms"] + row["client_cpu_ms"]) / 1000 / cpus
        print(f"{_name(s):<28} {s.suite:<16} {s.generator:<6} {row['rps']:>7.1f} {row['p50_ms']:>7.2f} "
              f"{row['p99_ms']:>7.2f} {row['server_cpu_ms']:>7.3f} {row['client_cpu_ms']:>7.3f} {busy:>5.0%}")


def _print_inprocess(result: dict[str, Any]) -> None:
    print(f"\n[{result['store']}] in-process, single thread: domain services | Flask test client")
    print(f"{'operation':<28} {'suite':<16} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} | "
          f"{'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}")
    for row in result["inprocess"]:
        s, d, f = row["scenario"], row["domain"], row["flask"]
        print(f"{_name(s):<28} {s.suite:<16} {d['rps']:>8.1f} {d['p50_ms']:>7.2f} {d['p99_ms']:>7.2f} | "
              f"{f['rps']:>8.1f} {f['p50_ms']:>7.2f} {f['p99_ms']:>7.2f}")


def _print_comparisons(result: dict[str, Any]) -> None:
    print(f"\n[{result['store']}] HTTP req/s vs two workers' in-process rate (2 × single thread; goal ≥ "
          f"{GOAL_RATIO:.0%} of 2×domain)")
    print(f"{'operation':<28} {'suite':<16} {'HTTP':>8} {'2×domain':>9} {'ratio':>6} {'2×flask':>8} {'ratio':>6}")
    for row in result["ratios"]:
        s = row["scenario"]
        print(f"{_name(s):<28} {s.suite:<16} {row['http_rps']:>8.1f} {row['domain_x2_rps']:>9.1f} "
              f"{row['ratio_domain']:>6.0%} {row['flask_x2_rps']:>8.1f} {row['ratio_flask']:>6.0%}")
    print(f"\n[{result['store']}] status-check overhead on verify: p50 with − without, relative (goal ≤ "
          f"{GOAL_STATUS:.0%})")
    for row in result["status_overhead"]:
        print(f"{row['suite']:<16} {row['creds']:<9} domain {row['domain']:>+6.1%}  flask {row['flask']:>+6.1%}  "
              f"HTTP {row['http']:>+6.1%}  (HTTP server CPU/request {row['http_cpu']:>+6.1%})")


def print_tables(meta: dict[str, Any], results: list[dict[str, Any]]) -> None:
    """Human-readable tables per store: HTTP, in-process, ratios, status-check overhead."""
    print(f"HTTP service benchmark {meta['date']}: {meta['cpus']} CPUs (2 gunicorn workers and the load generator "
          f"share them), Python {meta['python']}, generator: {meta['generator']}")
    print(f"concurrency {meta['concurrency']}, {meta['requests']} verify / {meta['issue_requests']} issue requests "
          f"per run, medians of {meta['runs']} runs, pool {meta['pool']}, load average before "
          f"{meta['loadavg_before'][0]:.2f}, after {meta['loadavg_after'][0]:.2f}")
    for result in results:
        _print_http(result, meta["cpus"])
        _print_inprocess(result)
        _print_comparisons(result)


def print_json(meta: dict[str, Any], results: list[dict[str, Any]]) -> None:
    """One JSON line for the run, then one per row (``kind``: http, inprocess, ratio, status_overhead)."""
    print(json.dumps({"kind": "meta", **meta}))
    for result in results:
        for kind, field in (("http", "http"), ("inprocess", "inprocess"), ("ratio", "ratios"),
                            ("status_overhead", "status_overhead")):
            for row in result[field]:
                flat = {k: v for k, v in row.items() if k != "scenario"}
                if "scenario" in row:
                    s = row["scenario"]
                    flat = {"op": s.op, "suite": s.suite, "checks": s.checks, "creds": s.creds, **flat}
                    if kind == "http":
                        flat["generator"] = s.generator
                print(json.dumps({"kind": kind, "store": result["store"], **flat}))


def main() -> None:
    """Parse arguments, run, print tables or JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="verify requests per run")
    parser.add_argument("--issue-requests", type=int, default=300, help="issue requests per run")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=100, help="requests before the measured runs")
    parser.add_argument("--pool", type=int, default=500, help="distinct credentials per suite")
    parser.add_argument("--stores", default="sqlite,redis", help="comma-separated: sqlite, redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--generator", choices=("auto", "ab", "python"), default="auto")
    parser.add_argument("--install-ab", action="store_true", help="apt-get install apache2-utils if ab is missing")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (few hundred requests)")
    parser.add_argument("--json", action="store_true", help="JSON lines instead of tables")
    parser.add_argument("--status-freshness-ms", type=int, default=None,
                        help="CHOPMARK_STATUS_FRESHNESS_MS for the servers and in-process (default: 0, strict)")
    args = parser.parse_args()
    if args.status_freshness_ms is not None:
        os.environ["CHOPMARK_STATUS_FRESHNESS_MS"] = str(args.status_freshness_ms)
    # SIGTERM and SIGINT unwind like errors, so the servers' process groups are always stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.quick:
        args.requests, args.issue_requests, args.runs, args.warmup, args.pool = 150, 10, 1, 5, 20
    meta, results = run(args)
    (print_json if args.json else print_tables)(meta, results)


if __name__ == "__main__":
    main()
