"""Time one small batch job: a district of a tiny city, as a Dask worker runs it.

A province batch is many jobs, most of them small districts: there the fixed cost of a job
(reading the city's cached layers, writing its GeoPackages and tables) is most of its time.
This runs the jobs of the synthetic city of ``tests/test_batch_cluster.py`` (a 2 km street
grid, 20 districts, one cheap standard) one after another in one process, as one worker does,
after one untimed job, and prints CPU and wall milliseconds per job. With ``--trees`` two or
more source trees (checkouts) run in turn, ``--rounds`` times, each in a subprocess of its own,
so that each sees the same load from other work on the machine.

Usage::

    python benchmarks/bench_batch_job.py
    python benchmarks/bench_batch_job.py --trees /src/old /src/new --rounds 3
    python benchmarks/bench_batch_job.py --steps coverage   # without the layers' GeoPackage
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _city(folder: Path) -> Path:
    from tests.test_batch_cluster import _config_text, _districts, _osm_xml

    (folder / "city.osm").write_text(_osm_xml(), encoding="utf-8")
    (folder / "districts.geojson").write_text(json.dumps(_districts(), ensure_ascii=False),
                                              encoding="utf-8")
    config = folder / "plan.yaml"
    config.write_text(_config_text("plan", "districts.geojson"), encoding="utf-8")
    return config


def measure(folder: Path, steps: tuple[str, ...] = ("layers", "coverage")) -> dict[str, float]:
    """Run every job of the synthetic city in this process; ms per job after the first."""
    from geoplan.batch import district_jobs, facts_log, measure_city_facts, run_job
    from geoplan.config import load_config

    config = load_config(_city(folder))
    jobs, _ = district_jobs([config], folder / "out", steps)
    city = measure_city_facts(config, facts_log(folder / "out", jobs[0].config_key))
    run_job(jobs[0], steps, city)  # imports, the parse and the cache entry: not timed
    cpu, wall = time.process_time(), time.perf_counter()
    for job in jobs[1:]:
        run_job(job, steps, city)
    n = len(jobs) - 1
    return {"jobs": n, "cpu_ms": 1000 * (time.process_time() - cpu) / n,
            "wall_ms": 1000 * (time.perf_counter() - wall) / n}


def _in_tree(tree: Path, steps: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree), GEOPLAN_THREADS="1", GEOPLAN_NO_PROGRESS="1")
    with tempfile.TemporaryDirectory() as tmp:
        env["GEOPLAN_CACHE_DIR"] = str(Path(tmp) / "cache")
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--here", tmp,
                               "--steps", steps],
                              cwd=tree, env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trees", nargs="+", type=Path, default=[ROOT])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--steps", default="layers,coverage",
                        help="the jobs' steps, comma-separated (default: layers,coverage)")
    parser.add_argument("--here", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.here:
        sys.path.insert(0, str(Path.cwd()))
        print(json.dumps(measure(Path(args.here), tuple(args.steps.split(",")))))
        return
    from machine_speed import describe, machine_speed

    before = machine_speed()
    results: dict[Path, list[dict[str, float]]] = {t: [] for t in args.trees}
    for _ in range(args.rounds):
        for tree in args.trees:
            results[tree].append(_in_tree(tree, args.steps))
    print(f"steps {args.steps}, load average {os.getloadavg()[0]:.1f}")
    print(f"before: {describe(before)}; after: {describe(machine_speed())}")
    print("| tree | jobs | CPU ms a job (each round) | wall ms a job (each round) |")
    print("|---|---:|---|---|")
    for tree, rows in results.items():
        cpu = ", ".join(f"{r['cpu_ms']:.0f}" for r in rows)
        wall = ", ".join(f"{r['wall_ms']:.0f}" for r in rows)
        print(f"| {tree} | {rows[0]['jobs']:.0f} | {cpu} | {wall} |")


if __name__ == "__main__":
    main()
