"""How fast this machine is right now: a fixed workload, timed, to print beside any benchmark.

The same code on the same (shared) machine has run 2.5 times slower in the afternoon than in
the morning (a batch job of the synthetic city: 205 ms at 07:20, 492-573 ms at 15:15 on
2026-12-07, and the checkout of 07:20 as slow as the newest one at 15:15). A figure without
the machine's speed beside it cannot be compared with another day's. This times three small
pieces of the kinds of work geoplan does (pure Python, GEOS through shapely, NumPy) and prints
the milliseconds of each, the median of ``--repeats`` runs; benchmarks print it before and
after they measure.

Usage::

    python benchmarks/machine_speed.py
    python benchmarks/machine_speed.py --repeats 7 --json speed.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable


def _python() -> int:
    total = 0
    for i in range(1_500_000):
        total += i * i % 7
    return total


def _geos() -> float:
    import numpy as np
    import shapely

    rng = np.random.default_rng(0)
    points = shapely.points(rng.uniform(0, 2000, 1500), rng.uniform(0, 2000, 1500))
    return float(shapely.area(shapely.union_all(shapely.buffer(points, 40.0, quad_segs=4))))


def _numpy() -> float:
    import numpy as np

    values = np.random.default_rng(0).random(3_000_000)
    return float(np.sort(values)[1_500_000])


WORKLOADS: dict[str, Callable[[], object]] = {"python": _python, "geos": _geos, "numpy": _numpy}
"""The timed pieces: 125-195, 100-161 and 69-96 CPU ms on this machine on the afternoon of
2026-12-07 (BENCHMARKS.md)."""


def machine_speed(repeats: int = 5) -> dict[str, float]:
    """Milliseconds of each workload (median of ``repeats`` runs, after one untimed run).

    Parameters
    ----------
    repeats
        Timed runs of each workload.

    Returns
    -------
    dict of str to float
        Median CPU milliseconds by workload name (:data:`WORKLOADS`), and ``total``.
    """
    out: dict[str, float] = {}
    for name, work in WORKLOADS.items():
        work()
        times = []
        for _ in range(repeats):
            start = time.process_time()
            work()
            times.append(1000 * (time.process_time() - start))
        out[name] = round(statistics.median(times), 1)
    out["total"] = round(sum(out[name] for name in WORKLOADS), 1)
    return out


def describe(speed: dict[str, float]) -> str:
    """One line for a benchmark's output:
    ``machine speed (CPU ms, lower is faster): python 170, geos 130, numpy 80, total 380``."""
    return "machine speed (CPU ms, lower is faster): " + ", ".join(
        f"{name} {ms:.0f}" for name, ms in speed.items())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="timed runs of each workload")
    ap.add_argument("--json", metavar="FILE", help="also write the milliseconds as JSON")
    args = ap.parse_args(argv)
    speed = machine_speed(args.repeats)
    print(describe(speed))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(speed, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
