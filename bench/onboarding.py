"""Onboarding benchmark: 1,000 merchants onboard at 3 sites over HTTP (gunicorn, 2 workers), on SQLite and Redis.

Usage: ``python bench/onboarding.py [--merchants 1000] [--concurrency 8] [--kyb-concurrency 8] [--single 200]
[--stores sqlite,redis] [--quick]``

Per store, ``chopmark serve --workers 2`` runs seeded (``CHOPMARK_SEED_DEMO``: the KYB authority and the sites
site-a, site-b, site-c) on a loopback port with rate limiting off. Setup (timed apart): every merchant (a fresh
``did:key``, signing with the kernel directly) gets its MerchantIdentityCredential through the KYB exchange
(DID Auth), from a thread pool. Measured: every merchant onboards at the three sites from ``--concurrency``
client threads; per onboarding, the wall time from ``POST /sites/{site}/onboarding`` to the decision, including
the client's signing of the presentation (what a merchant experiences), and the server's ``elapsedMs``. Every
decision must be accepted. Then one client thread re-onboards ``--single`` (merchant, site) pairs: the
uncontended latency. Goal: median ≤ 20 ms per onboarding on loopback.
"""

from __future__ import annotations

import os
import sys

_BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
# bench/http.py would shadow the standard library's http package (http.client, urllib): look in bench/ last.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _BENCH_DIR] + [_BENCH_DIR]

import argparse  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402
from statistics import median  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

from _http_load import Server, _send, on_each_store, own_cpu_seconds, percentile  # noqa: E402

from chopmark.dids import did_key_signer  # noqa: E402
from chopmark.keys import KeyPair, KeyType, Signer  # noqa: E402
from chopmark.vc.presentations import create_presentation, sign_presentation  # noqa: E402
from chopmark.vocab import CONTEXT_URL  # noqa: E402
from wallet.demo import demo_application  # noqa: E402

SITES = ("site-a", "site-b", "site-c")
GOAL_MS = 20.0
T = TypeVar("T")


@dataclass
class Merchant:
    """A did:key merchant and, after KYB, its identity credential."""

    did: str
    signer: Signer
    identity: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    """One batch of onboardings: end-to-end and server latencies (ms), wall time, failures, CPU."""

    total_ms: list[float]
    server_ms: list[float]
    wall_s: float
    failures: list[str]
    server_cpu_s: float
    client_cpu_s: float

    def summary(self) -> dict[str, Any]:
        """Percentiles, throughput, CPU per onboarding."""
        ordered, n = sorted(self.total_ms), max(1, len(self.total_ms))
        return {"n": len(ordered), "p50": percentile(ordered, 50), "p90": percentile(ordered, 90),
                "p99": percentile(ordered, 99), "server_p50": median(self.server_ms) if self.server_ms else 0.0,
                "rate": len(ordered) / self.wall_s, "failed": len(self.failures),
                "srv_cpu_ms": self.server_cpu_s * 1000 / n, "cli_cpu_ms": self.client_cpu_s * 1000 / n}


def post(base: str, path: str, body: Any) -> tuple[int, Any]:
    """POST JSON (no body when ``body`` is None) on a new connection, as gunicorn's sync workers close each."""
    parts = urllib.parse.urlsplit(base + path)
    headers = {"Connection": "close"}
    raw = b""
    if body is not None:
        raw, headers["Content-Type"] = json.dumps(body, separators=(",", ":")).encode(), "application/json"
    status, data = _send(parts.hostname or "127.0.0.1", parts.port or 80, parts.path, raw, headers)
    try:
        return status, json.loads(data) if data else None
    except ValueError:
        return status, data[:300]


def signed(credentials: Sequence[dict[str, Any]], merchant: Merchant, request: dict[str, Any],
           extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A presentation by ``merchant`` for ``request`` (authentication proof over its challenge and domain)."""
    vp = create_presentation(credentials, holder=merchant.did, extra_contexts=[CONTEXT_URL])
    vp.update(extra or {})
    return sign_presentation(vp, merchant.signer, challenge=request["challenge"], domain=request["domain"])


def kyb(base: str, merchant: Merchant) -> None:
    """The KYB exchange: DID Auth with the application; keeps the issued identity credential."""
    authority = "/issuers/kyb-authority/exchanges"
    status, offer = post(base, authority, None)
    if status != 201:
        raise RuntimeError(f"KYB exchange: {status} {offer}")
    vp = signed([], merchant, offer["verifiablePresentationRequest"], {"kybApplication": demo_application()})
    status, answer = post(base, f"{authority}/{offer['exchangeId']}", {"verifiablePresentation": vp})
    if status != 200:
        raise RuntimeError(f"KYB: {status} {answer}")
    merchant.identity = answer["verifiablePresentation"]["verifiableCredential"][0]


def onboard(base: str, merchant: Merchant, site: str) -> tuple[float, float, str | None]:
    """One onboarding: (end-to-end ms, server elapsedMs, failure or None)."""
    started = time.perf_counter()
    status, opened = post(base, f"/sites/{site}/onboarding", None)
    if status != 201:
        return (time.perf_counter() - started) * 1000, 0.0, f"{site} open: {status} {opened}"
    vp = signed([merchant.identity], merchant, opened["verifiablePresentationRequest"])
    status, decision = post(base, f"/sites/{site}/onboarding/{opened['id']}", {"verifiablePresentation": vp})
    total = (time.perf_counter() - started) * 1000
    if status != 200 or not isinstance(decision, dict):
        return total, 0.0, f"{site} decide: {status} {decision}"
    ok = decision.get("accepted") is True and decision.get("verifiableCredential") and decision.get("sellerAccountId")
    return total, float(decision.get("elapsedMs", 0.0)), None if ok else f"{site}: {decision.get('reasons')}"


def in_pool(work: Sequence[T], call: Callable[[T], tuple[float, float, str | None]], threads: int,
            server: Server) -> Run:
    """``call`` on every item from ``threads`` threads; latencies, wall time and CPU."""
    server0, client0, started = server.cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(call, work))
    wall = time.perf_counter() - started
    return Run([r[0] for r in results], [r[1] for r in results if r[2] is None], wall,
               [r[2] for r in results if r[2] is not None], server.cpu_seconds() - server0, own_cpu_seconds() - client0)


def new_merchant() -> Merchant:
    """A fresh Ed25519 did:key."""
    did, signer = did_key_signer(KeyPair.generate(KeyType.ED25519, os.urandom))
    return Merchant(did, signer)


def run_store(label: str, store_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    """Serve one store seeded, KYB every merchant, onboard each at the three sites, then single-client."""
    with tempfile.TemporaryDirectory(prefix=f"cmbench-onb-{label}-") as tmp:
        server = Server(Path(tmp), store_url, workers=2)
        server.env["CHOPMARK_SEED_DEMO"] = "true"
        with server:
            base = server.url
            warm = [new_merchant() for _ in range(args.warmup)]
            merchants = [new_merchant() for _ in range(args.merchants)]
            started = time.perf_counter()
            with ThreadPoolExecutor(args.kyb_concurrency) as pool:
                list(pool.map(lambda m: kyb(base, m), warm + merchants))
            kyb_s = time.perf_counter() - started
            in_pool([(m, s) for m in warm for s in SITES], lambda t: onboard(base, *t), 2, server)  # warm-up
            tasks = [(m, s) for m in merchants for s in SITES]
            main = in_pool(tasks, lambda t: onboard(base, *t), args.concurrency, server)
            single = in_pool(tasks[:args.single], lambda t: onboard(base, *t), 1, server)
    return {"store": label, "kyb_n": len(warm) + len(merchants), "kyb_s": kyb_s,
            "main": main.summary(), "single": single.summary(), "failures": main.failures + single.failures}


def report(meta: dict[str, Any], results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """One table of all stores, then failures and the goal."""
    print(f"Onboarding benchmark {meta['date']}: {meta['cpus']} CPU cores shared by the 2 gunicorn workers, the "
          f"master, Redis and this load generator (which also signs every presentation); load average before "
          f"{meta['load0']:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"{args.merchants} merchants x {len(SITES)} sites; KYB from {args.kyb_concurrency} threads; onboarding "
          f"from {args.concurrency} threads, then {args.single} from 1 thread (re-onboardings)\n")
    print(f"{'store':<7} {'clients':>7} {'n':>5} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'srv p50':>7} "
          f"{'onb/s':>7} {'srvCPU':>7} {'cliCPU':>7} {'failed':>6}")
    for result in results:
        for key, clients in (("main", args.concurrency), ("single", 1)):
            s = result[key]
            print(f"{result['store']:<7} {clients:>7} {s['n']:>5} {s['p50']:>7.2f} {s['p90']:>7.2f} "
                  f"{s['p99']:>7.2f} {s['server_p50']:>7.2f} {s['rate']:>7.1f} {s['srv_cpu_ms']:>7.2f} "
                  f"{s['cli_cpu_ms']:>7.2f} {s['failed']:>6}")
    print("\n(ms: end to end, POST /onboarding to decision incl. client signing; srv p50: server elapsedMs; "
          "CPU: ms per onboarding)")
    for result in results:
        print(f"[{result['store']}] setup: {result['kyb_n']} KYB issuances in {result['kyb_s']:.1f} s = "
              f"{result['kyb_n'] / result['kyb_s']:.1f}/s")
        for failure in result["failures"][:5]:
            print(f"[{result['store']}] FAILED {failure}")
        for key, clients in (("main", args.concurrency), ("single", 1)):
            p50 = result[key]["p50"]
            verdict = "met" if p50 <= GOAL_MS else "missed"
            print(f"[{result['store']}] goal median <= {GOAL_MS:.0f} ms at {clients} client(s): {verdict} "
                  f"({p50:.2f} ms)")


def main() -> None:
    """Parse arguments, run every store, print."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--merchants", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8, help="client threads onboarding")
    parser.add_argument("--kyb-concurrency", type=int, default=8, help="client threads in the KYB setup")
    parser.add_argument("--single", type=int, default=200, help="onboardings from one thread afterwards")
    parser.add_argument("--warmup", type=int, default=4, help="extra merchants onboarded first, unmeasured")
    parser.add_argument("--stores", default="sqlite,redis", help="comma-separated: sqlite, redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 50 merchants, 50 single")
    args = parser.parse_args()
    if args.quick:
        args.merchants, args.single = 50, 50
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: the servers are always stopped
    meta = {"date": date.today().isoformat(), "cpus": os.cpu_count(), "load0": os.getloadavg()[0]}
    results = on_each_store(args.stores, args.redis_url, "cmbench-onb", lambda label, url: run_store(label, url, args))
    report(meta, results, args)


if __name__ == "__main__":
    main()
