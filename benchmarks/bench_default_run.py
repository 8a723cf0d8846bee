"""Time the default run (``geoplan run analyses/chengdu_core.yaml``) step by step.

Each repeat runs ``geoplan run`` in a subprocess with the parsed layers cached (one untimed
warm-up run fills the cache), and reads the wall and CPU seconds of every step from the run's
own log lines (``<step> done in … s (CPU … s, …)``). With ``--trees`` two or more source trees
(checkouts of the repository, e.g. main and a branch) run in turn, interleaved, so that each
sees the same load from other jobs on the machine; the outputs of every tree are then compared
with the first tree's (``benchmarks/compare_runs.py``: shares, gaps, sites and dead ends to
1e-9).

Usage::

    python benchmarks/bench_default_run.py                        # this tree, 3 repeats
    python benchmarks/bench_default_run.py --repeats 5
    python benchmarks/bench_default_run.py --trees /src/main /src/branch --keep /tmp/bench

The table shows, per tree and step, the median wall seconds and the median CPU seconds over
the repeats (CPU time is the steadier measure on a shared machine), and the load average.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "analyses/chengdu_core.yaml"
STEPS = ("layers", "coverage", "sites", "deadends", "tables", "map", "report")
_STEP = re.compile(r"INFO: (\w+) done in ([\d.]+) s \(CPU ([\d.]+) s")


def run_once(tree: Path, out: Path) -> dict[str, tuple[float, float]]:
    """One ``geoplan run`` of the default analysis from ``tree``: step -> (wall s, CPU s).

    The whole process is recorded as ``total`` (wall and CPU of the subprocess, start-up and
    the terminal summary included).
    """
    env = dict(os.environ, PYTHONPATH=str(tree), GEOPLAN_NO_PROGRESS="1")
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "geoplan", "run", CONFIG, "--out", str(out)],
                          cwd=tree, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"geoplan run in {tree} failed ({proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}")
    steps = {m[1]: (float(m[2]), float(m[3])) for m in _STEP.finditer(proc.stderr)}
    steps["total"] = (wall, (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime))
    return steps


def table(results: dict[str, list[dict[str, tuple[float, float]]]]) -> str:
    """Markdown table: per tree, the median wall / CPU seconds of each step."""
    names = [*STEPS, "total"]
    lines = ["| tree | runs | " + " | ".join(names) + " |",
             "|---|---:|" + "---:|" * len(names)]
    for tree, runs in results.items():
        cells = []
        for step in names:
            walls = [r[step][0] for r in runs if step in r]
            cpus = [r[step][1] for r in runs if step in r]
            cells.append(f"{statistics.median(walls):.1f} / {statistics.median(cpus):.1f}"
                         if walls else "–")
        lines.append(f"| {tree} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Warm up, run the repeats interleaved, print the table, compare the outputs."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trees", nargs="+", type=Path, default=[ROOT],
                    help="source trees to time, interleaved (default: this checkout)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per tree (default 3)")
    ap.add_argument("--keep", type=Path, help="write the run folders here and keep them")
    args = ap.parse_args(argv)
    if args.keep:
        return _bench(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="geoplan-default-run-") as tmp:
        return _bench(args, Path(tmp))


def _bench(args: argparse.Namespace, folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    trees = [t.resolve() for t in args.trees]
    outs = {t: folder / f"out{i}" for i, t in enumerate(trees)}
    for t in trees:  # warm-up: fills the layer cache, not timed
        run_once(t, outs[t])
    from machine_speed import describe, machine_speed

    print(f"before: {describe(machine_speed())}", flush=True)
    results: dict[str, list[dict[str, tuple[float, float]]]] = {str(t): [] for t in trees}
    for i in range(args.repeats):
        for t in trees:
            steps = run_once(t, outs[t])
            results[str(t)].append(steps)
            print(f"run {i + 1} {t}: " + ", ".join(f"{k} {w:.1f}/{c:.1f}"
                                                   for k, (w, c) in steps.items())
                  + f"; load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"after: {describe(machine_speed())}")
    print()
    print("Median wall s / CPU s per step")
    print(table(results))
    status = 0
    for t in trees[1:]:
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare_runs.py"),
                               str(outs[trees[0]]), str(outs[t])],
                              capture_output=True, text=True, check=False)
        print(f"\noutputs of {t} against {trees[0]}: {proc.stdout.strip().splitlines()[-1]}")
        status |= proc.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
