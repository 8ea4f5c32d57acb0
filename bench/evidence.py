"""Evidence-log and ranking benchmark (issue 5): batched appends, proofs at 1 M entries, rank and commit 1 M
orders, rank-receipt verification.

Usage: ``python bench/evidence.py [--entries 1000000] [--http-entries 1000000] [--orders 1000000]
[--receipts 300] [--threads 4] [--stores sqlite,redis] [--quick]``

Per store (SQLite in a temp data dir; Redis under a fresh ``?prefix=``, purged afterwards), on the service's own
evidence log (the app built in this process over the store a ``chopmark serve`` then serves):

1. Appends/s with batching. In-process: ``EvidenceLog.append_many`` of 1,000 entries then ``integrate`` (the
   sequencer takes every pending entry), ``--entries`` in all, from an empty log. Over HTTP: ``chopmark serve
   --workers 2`` and ``--threads`` client threads POSTing ``{"entries": [...]}`` batches of 1,000 to
   ``/log/entries`` (token with scope issue), timed from the first POST until ``GET /log/checkpoint`` shows
   every entry integrated. Goal: ≥ 10,000 entries/s.
2. Proofs in the tree of the first ``--entries`` entries (1 M): inclusion-proof generation
   (``EvidenceLog.inclusion_proof``) for random indexes with nothing cached (a fresh log object per proof: every
   tile read from the store) and with the tiles cached; verification (``chopmark.tlog.verify_inclusion``,
   including decoding the hex of the proof); consistency proofs from a random older size, generated and verified;
   ``GET /log/proofs/inclusion?index=&size=`` latency from one client.

Then, without a store: 3. rank and commit ``--orders`` orders: ``ranking.seal_all`` (done once per order at
ingestion) timed apart, then ``ranking.commit(url, sealed).root`` (sort, leaves, tree), median of 3 runs; goal
≤ 5 s. 4. Receipt verification: ``--receipts`` distinct RankReceipts of a 10,000-order campaign
(``tests/support/ranking.build_campaign``), each timed from its JSON text (``json.loads`` +
``verify_receipt`` with the pinned log key), warm and with the kernel's memos cleared before each; goal ≤ 1 ms.
Times are medians and 99th percentiles in milliseconds.
"""

from __future__ import annotations

import os
import sys

_BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
# bench/http.py would shadow the standard library's http package: look in bench/ last; the repository root
# (for tests/support/ranking.py) first.
sys.path[:] = ([os.path.dirname(_BENCH_DIR)] + [p for p in sys.path if os.path.abspath(p or os.curdir) != _BENCH_DIR]
               + [_BENCH_DIR])

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402
from datetime import UTC, date, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from statistics import median  # noqa: E402
from typing import Any  # noqa: E402

from _http_load import Server, _send, on_each_store, percentile  # noqa: E402

from chopmark import jsonld, ranking, tlog  # noqa: E402
from chopmark.jsonld import validation  # noqa: E402
from chopmark.keys import Signer  # noqa: E402
from chopmark.ranking.receipts import verify_receipt  # noqa: E402
from registry.evidence import EvidenceLog  # noqa: E402

BATCH = 1000
GOAL_APPENDS, GOAL_COMMIT_S, GOAL_RECEIPT_MS = 10_000.0, 5.0, 1.0


def stats_ms(samples_s: Iterable[float]) -> dict[str, float]:
    """Median and 99th percentile, in ms, of durations in seconds."""
    ordered = sorted(s * 1000 for s in samples_s)
    return {"p50": percentile(ordered, 50), "p99": percentile(ordered, 99), "n": float(len(ordered))}


def timed(call: Callable[[Any], Any], items: Iterable[Any]) -> tuple[list[float], list[Any]]:
    """``call(item)`` for each item: the durations (s) and the results."""
    durations, results = [], []
    for item in items:
        t0 = time.perf_counter()
        results.append(call(item))
        durations.append(time.perf_counter() - t0)
    return durations, results


def entries(tag: str, first: int, count: int) -> list[dict[str, str]]:
    """``count`` distinct ``{"type": "bench", "sha256": hex}`` entries (distinct leaves, like real hashes)."""
    return [{"type": "bench", "sha256": f"{tag}{i:016x}".rjust(64, "0")} for i in range(first, first + count)]


# --- in-process ------------------------------------------------------------------------------------------------

def append_inprocess(log: EvidenceLog, total: int) -> float:
    """Append ``total`` entries in batches of 1,000, integrating after each; entries/s (all integrated)."""
    tag, start_size = secrets.token_hex(8), log.tree_size()
    started = time.perf_counter()
    for first in range(0, total, BATCH):
        log.append_many(entries(tag, first, min(BATCH, total - first)))
        log.integrate()
    while log.tree_size() < start_size + total:  # only when another sequencer held the lock
        log.integrate()
    return total / (time.perf_counter() - started)


def _no_signer() -> Signer:
    raise RuntimeError("a read-only log object does not sign")


def proofs_inprocess(log: EvidenceLog, store: Any, size: int, samples: int, rng: random.Random) -> dict[str, Any]:
    """Inclusion and consistency proofs in the tree of ``size`` entries: generation (cold, cached), verification."""
    root = log.root(size)
    indexes = [rng.randrange(size) for _ in range(samples)]

    def cold(index: int) -> dict[str, Any]:  # a new log object: an empty tile cache
        fresh = EvidenceLog(store, _no_signer, origin=log.origin, clock=lambda: datetime.now(UTC))
        return fresh.inclusion_proof(index, size)

    cold_s, _ = timed(cold, indexes)
    for index in indexes:  # fill the tile cache
        log.inclusion_proof(index, size)
    warm_s, found = timed(lambda i: log.inclusion_proof(i, size), indexes)

    def verify(proof: dict[str, Any]) -> bool:
        return tlog.verify_inclusion(proof["index"], proof["size"], bytes.fromhex(proof["leafHash"]),
                                     [bytes.fromhex(h) for h in proof["hashes"]], root)

    verify_s, ok = timed(verify, found)
    olds = [rng.randrange(1, size) for _ in range(max(50, samples // 5))]
    old_roots = {old: log.root(old) for old in olds}
    cons_s, cons = timed(lambda old: log.consistency_proof(old, size), olds)
    cverify_s, cok = timed(lambda p: tlog.verify_consistency(
        p["from"], p["to"], [bytes.fromhex(h) for h in p["hashes"]], old_roots[p["from"]], root), cons)
    if not all(ok) or not all(cok):
        raise RuntimeError("a proof from the log did not verify")
    return {"size": size, "incl_cold": stats_ms(cold_s), "incl_warm": stats_ms(warm_s),
            "incl_verify": stats_ms(verify_s), "proof_len": len(found[0]["hashes"]), "cons_gen": stats_ms(cons_s),
            "cons_verify": stats_ms(cverify_s)}


# --- HTTP --------------------------------------------------------------------------------------------------------

def checkpoint_size(base: str) -> int:
    """The size line of ``GET /log/checkpoint`` (tlog-checkpoint: origin, size, root)."""
    port = int(base.rsplit(":", 1)[1])
    status, body = _send("127.0.0.1", port, "/log/checkpoint", None, {"Connection": "close"})
    if status != 200:
        raise RuntimeError(f"GET /log/checkpoint: {status} {body[:300]!r}")
    return int(body.decode().splitlines()[1])


def append_http(server: Server, token: str, total: int, threads: int) -> dict[str, float]:
    """POST ``total`` entries in batches of 1,000 from ``threads`` threads; entries/s until all are integrated."""
    tag, start_size = secrets.token_hex(8), checkpoint_size(server.url)
    bodies = [json.dumps({"entries": entries(tag, first, min(BATCH, total - first))}).encode()
              for first in range(0, total, BATCH)]
    headers = {"Content-Type": "application/json", "Connection": "close", "Authorization": f"Bearer {token}"}
    lock, pending, failures, latencies = threading.Lock(), list(range(len(bodies))), [], []

    def worker() -> None:
        while True:
            with lock:
                if not pending:
                    return
                body = bodies[pending.pop(0)]
            t0 = time.perf_counter()
            status, reply = _send("127.0.0.1", server.port, "/log/entries", body, headers)
            with lock:
                latencies.append(time.perf_counter() - t0)
                if status not in (201, 202):
                    failures.append(f"{status} {reply[:200]!r}")

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    posted = time.perf_counter() - started
    while checkpoint_size(server.url) < start_size + total:
        if failures or time.perf_counter() - started > 600:
            raise RuntimeError(f"appends over HTTP failed or never integrated: {failures[:3]}")
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    return {"rate": total / elapsed, "posted_s": posted, "elapsed_s": elapsed, "post_p50": stats_ms(latencies)["p50"]}


def proofs_http(server: Server, size: int, samples: int, rng: random.Random) -> dict[str, float]:
    """``GET /log/proofs/inclusion?index=&size=`` for random indexes, one client, new connection each."""
    def get(index: int) -> None:
        status, body = _send("127.0.0.1", server.port, f"/log/proofs/inclusion?index={index}&size={size}", None,
                             {"Connection": "close"})
        if status != 200:
            raise RuntimeError(f"GET /log/proofs/inclusion: {status} {body[:200]!r}")

    return stats_ms(timed(get, [rng.randrange(size) for _ in range(samples)])[0])


def run_store(label: str, store_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    """In-process appends and proofs on the service's log, then the same store served over HTTP."""
    from chopmark.app import create_app
    from chopmark.web.settings import Settings

    rng = random.Random(5)
    with tempfile.TemporaryDirectory(prefix=f"cmbench-ev-{label}-") as tmp:
        server = Server(Path(tmp), store_url, workers=2)
        server.cli("issuer", "create", "bench")
        token = server.cli("token", "create", "--issuer", "bench", "--scope", "issue,status")["token"]
        app = create_app(Settings.load({"data_dir": tmp, "store": store_url, "public_url": server.url,
                                        "rate_limit_per_minute": 0}, env={}))
        log: EvidenceLog = app.extensions["chopmark.evidence"]
        store = app.extensions["chopmark.store"]
        try:
            log.checkpoint()  # the empty log's first checkpoint (and its key)
            appends = append_inprocess(log, args.entries)
            proofs = proofs_inprocess(log, store, args.entries, args.proofs, rng)
        finally:
            store.close()
        with server:
            checkpoint_size(server.url)  # warm both workers' imports a little
            http = append_http(server, token, args.http_entries, args.threads)
            http_proofs = proofs_http(server, args.entries, args.http_proofs, rng)
    return {"store": label, "appends": appends, "proofs": proofs, "http": http, "http_proofs": http_proofs}


# --- rankings and receipts -------------------------------------------------------------------------------------

def rank_and_commit(count: int, runs: int) -> dict[str, float]:
    """Seal ``count`` generated orders once, then commit them ``runs`` times (median)."""
    from tests.support import ranking as support

    orders = support.orders(count)
    started = time.perf_counter()
    sealed = ranking.seal_all(orders, ranking.Salts(support.SECRET).of, support.RULE)
    seal_s = time.perf_counter() - started
    commit_s, roots = timed(lambda _: ranking.commit(support.CAMPAIGN, sealed).root, range(runs))
    if len(set(roots)) != 1:
        raise RuntimeError("committing the same orders gave different roots")
    return {"orders": count, "seal_s": seal_s, "commit_s": median(commit_s), "commit_max_s": max(commit_s)}


def receipts(count: int) -> dict[str, Any]:
    """Verify ``count`` distinct receipts from their JSON text, warm and with the kernel memos cleared."""
    from tests.support import ranking as support

    campaign = support.build_campaign(10_000, gifts=100)
    texts = [json.dumps(campaign.receipt(order.order_number))
             for order in campaign.tree.ranking.orders[:: max(1, 10_000 // count)][:count]]

    def verify(text: str) -> bool:
        return verify_receipt(json.loads(text), log_key=campaign.vkey, now=support.NOW).verified

    cold_s: list[float] = []

    def verify_cold(text: str) -> bool:
        validation.clear_cache()
        jsonld.clear_caches()
        t0 = time.perf_counter()
        ok = verify(text)
        cold_s.append(time.perf_counter() - t0)
        return ok

    timed(verify, texts[:20])  # warm-up
    warm_s, ok = timed(verify, texts)
    ok += [verify_cold(text) for text in texts]
    if not all(ok):
        raise RuntimeError("a receipt did not verify")
    return {"n": len(texts), "bytes": median(len(t) for t in texts), "warm": stats_ms(warm_s),
            "cold": stats_ms(cold_s)}


# --- report ------------------------------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    """``met`` or ``missed``."""
    return "met" if ok else "missed"


def report(meta: dict[str, Any], results: list[dict[str, Any]], ranked: dict[str, float],
           signed: dict[str, Any], args: argparse.Namespace) -> None:
    """Print every figure and the goals."""
    print(f"Evidence-log benchmark {meta['date']}: {meta['cpus']} CPU cores (shared by the server's 2 workers, "
          f"Redis and this client); load average before {meta['load0']:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"\nAppends (batches of {BATCH}), entries/s until integrated in a signed checkpoint")
    print(f"{'store':<7} {'in-process':>10} {'n':>8} | {'HTTP':>8} {'n':>7} {'threads':>7} {'POST p50 ms':>11}")
    for r in results:
        h = r["http"]
        print(f"{r['store']:<7} {r['appends']:>10.0f} {args.entries:>8} | {h['rate']:>8.0f} {args.http_entries:>7} "
              f"{args.threads:>7} {h['post_p50']:>11.1f}")
    print(f"\nProofs in the tree of {args.entries} entries, ms: p50 / p99")
    for r in results:
        p, q = r["proofs"], r["http_proofs"]
        print(f"[{r['store']}] inclusion ({p['proof_len']} hashes): generate, nothing cached "
              f"{p['incl_cold']['p50']:.3f} / {p['incl_cold']['p99']:.3f}; tiles cached {p['incl_warm']['p50']:.3f} / "
              f"{p['incl_warm']['p99']:.3f}; verify {p['incl_verify']['p50']:.4f} / {p['incl_verify']['p99']:.4f}; "
              f"GET /log/proofs/inclusion {q['p50']:.2f} / {q['p99']:.2f} (n={q['n']:.0f})")
        print(f"[{r['store']}] consistency from a random size: generate {p['cons_gen']['p50']:.3f} / "
              f"{p['cons_gen']['p99']:.3f}; verify {p['cons_verify']['p50']:.4f} / {p['cons_verify']['p99']:.4f}")
    print(f"\nRank and commit {ranked['orders']} orders: sealing (at ingestion) {ranked['seal_s']:.2f} s; "
          f"commit (sort, leaves, tree, root) median {ranked['commit_s']:.2f} s (max {ranked['commit_max_s']:.2f})")
    w, c = signed["warm"], signed["cold"]
    print(f"Receipt verification ({signed['n']} receipts, ~{signed['bytes']:.0f} bytes of JSON each, parse + verify), "
          f"ms: warm {w['p50']:.3f} / {w['p99']:.3f}; memos cleared {c['p50']:.3f} / {c['p99']:.3f}")
    print()
    for r in results:
        for kind, rate in (("in-process", r["appends"]), ("HTTP", r["http"]["rate"])):
            print(f"[{r['store']}] goal appends >= {GOAL_APPENDS:,.0f}/s {kind}: {verdict(rate >= GOAL_APPENDS)} "
                  f"({rate:,.0f}/s)")
    print(f"goal rank and commit {ranked['orders']:,} orders <= {GOAL_COMMIT_S:.0f} s: "
          f"{verdict(ranked['commit_s'] <= GOAL_COMMIT_S)} ({ranked['commit_s']:.2f} s; "
          f"{ranked['seal_s'] + ranked['commit_s']:.2f} s with sealing)")
    print(f"goal receipt verification <= {GOAL_RECEIPT_MS:.0f} ms: {verdict(w['p50'] <= GOAL_RECEIPT_MS)} "
          f"(median {w['p50']:.3f} ms warm, {c['p50']:.3f} ms with memos cleared)")


def main() -> None:
    """Parse arguments, run every store, rankings and receipts, print."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="in-process appends; the proofs' tree size")
    parser.add_argument("--http-entries", type=int, default=1_000_000, help="entries appended over HTTP")
    parser.add_argument("--threads", type=int, default=4, help="HTTP client threads")
    parser.add_argument("--proofs", type=int, default=1000, help="inclusion proofs per measurement")
    parser.add_argument("--http-proofs", type=int, default=300, help="GET /log/proofs/inclusion requests")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="commits of the orders (median)")
    parser.add_argument("--receipts", type=int, default=300)
    parser.add_argument("--stores", default="sqlite,redis", help="comma-separated: sqlite, redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--quick", action="store_true", help="a smoke run (small sizes, about 30 s)")
    args = parser.parse_args()
    if args.quick:
        args.entries, args.http_entries, args.proofs, args.http_proofs = 20_000, 10_000, 200, 50
        args.orders, args.runs, args.receipts = 50_000, 1, 200
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: servers stopped, Redis prefixes purged
    meta = {"date": date.today().isoformat(), "cpus": os.cpu_count(), "load0": os.getloadavg()[0]}
    results = on_each_store(args.stores, args.redis_url, "cmbench-ev", lambda label, url: run_store(label, url, args))
    report(meta, results, rank_and_commit(args.orders, args.runs), receipts(args.receipts), args)


if __name__ == "__main__":
    main()
