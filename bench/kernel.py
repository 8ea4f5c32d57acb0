"""Kernel benchmark: issue and verify the merchant-identity credential with every suite and key type.

Usage: ``python bench/kernel.py [--iterations 200] [--json] [--cold]``

Each (suite, key type) pair is warmed up, then issued and verified ``--iterations`` times; the medians are
printed in milliseconds. ``--cold`` clears the memoised pure work (JSON-LD validation and canonical forms)
before every operation, to show the cost of a credential never seen before.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chopmark import jsonld
from chopmark.dids import Resolver, did_key_signer
from chopmark.integrity.suites import ISSUABLE, SUITES
from chopmark.jsonld import validation
from chopmark.keys import KeyPair
from chopmark.vc.credentials import issue, verify_credential
from chopmark.vc.samples import merchant_credential

NOW = datetime(2026, 6, 1, tzinfo=UTC)
CREATED = "2026-06-01T00:00:00Z"


def _median_ms(fn: Callable[[], Any], iterations: int, cold: bool) -> float:
    samples = []
    for _ in range(iterations):
        if cold:
            validation.clear_cache()
            jsonld.clear_caches()
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def run(iterations: int, warmup: int, cold: bool) -> list[dict[str, Any]]:
    """Measure every issuable suite with each key type it accepts; return one row per pair."""
    rows = []
    resolver = Resolver()
    for suite in ISSUABLE:
        for key_type in sorted(SUITES[suite].key_types, key=lambda k: k.value):
            did, signer = did_key_signer(KeyPair.generate(key_type, os.urandom))
            unsigned = merchant_credential(issuer=did)

            def do_issue(s: str = suite, sg: Any = signer, u: Any = unsigned) -> Any:
                return issue(u, sg, suite=s, created=CREATED)

            signed = do_issue()

            def do_verify(d: Any = signed) -> Any:
                result = verify_credential(d, resolver=resolver, now=NOW)
                if not result.verified:
                    raise SystemExit(f"benchmark credential did not verify: {result.to_dict()}")
                return result

            for _ in range(warmup):
                do_issue()
                do_verify()
            rows.append({"suite": suite, "key": key_type.value,
                         "issue_ms": round(_median_ms(do_issue, iterations, cold), 3),
                         "verify_ms": round(_median_ms(do_verify, iterations, cold), 3)})
    return rows


def main() -> None:
    """Parse arguments, run, print a table or JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="one JSON line per suite and key type")
    parser.add_argument("--cold", action="store_true", help="clear memoised pure work before each operation")
    args = parser.parse_args()
    rows = run(args.iterations, args.warmup, args.cold)
    if args.json:
        for row in rows:
            print(json.dumps({**row, "cold": args.cold}))
        return
    mode = "cold (caches cleared before each operation)" if args.cold else "warm"
    print(f"Kernel benchmark, merchant credential, {args.iterations} iterations, medians in ms, {mode}")
    print(f"{'suite':<18} {'key':<8} {'issue_ms':>9} {'verify_ms':>10}")
    for row in rows:
        print(f"{row['suite']:<18} {row['key']:<8} {row['issue_ms']:>9.3f} {row['verify_ms']:>10.3f}")


if __name__ == "__main__":
    main()
