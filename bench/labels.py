"""Label benchmark (issue 12): QR labels of item Digital Links per second, SVG and PNG, one core.

Usage: ``python bench/labels.py [--labels 2000] [--runs 5] [--json]``

Each run makes ``--labels`` labels of distinct item links (a lot's serials) and times them; the medians of the
runs are printed with the ratio to the goal of 1,000 labels a second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from chopmark.gs1 import ItemKey, digital_link
from chopmark.labels import label_png, label_svg

GOAL_PER_SECOND = 1000
BASE = "https://chopmark.example"


def links(count: int) -> list[str]:
    """``count`` item links of one lot, serials 000000, 000001, ..."""
    return [digital_link(BASE, ItemKey("4012345000009", "LOT-2026-11", f"{i:06d}")) for i in range(count)]


def rate(make: Callable[[str], object], uris: list[str]) -> float:
    """Labels per second of one run."""
    started = time.perf_counter()
    for uri in uris:
        make(uri)
    return len(uris) / (time.perf_counter() - started)


def main() -> None:
    """Run and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    uris = links(args.labels)
    kinds: dict[str, Callable[[str], object]] = {"svg": label_svg, "png": label_png}
    for make in kinds.values():  # warm-up
        rate(make, uris[:50])
    rows = []
    for kind, make in kinds.items():
        median = statistics.median(rate(make, uris) for _ in range(args.runs))
        rows.append({"format": kind, "labels_per_second": round(median),
                     "ratio_to_goal": round(median / GOAL_PER_SECOND, 2)})
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"QR labels (scale 4, level M), {args.labels} labels x {args.runs} runs, medians, one core")
    print(f"{'format':8}{'labels/s':>10}{'x goal (1,000/s)':>18}")
    for row in rows:
        print(f"{row['format']:8}{row['labels_per_second']:>10}{row['ratio_to_goal']:>18}")


if __name__ == "__main__":
    main()
