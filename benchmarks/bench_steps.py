"""CPU seconds of the steps after coverage (sites, dead ends, tables, report) on saved results.

The results of a config are computed once and pickled by ``benchmarks/bench_map.py``
(``results(config, work)``: layers, coverage, sites, dead ends, data checks). This script loads
such a pickle and runs, each timed on its own (CPU seconds of this process, and the seconds
spent in Python's garbage collector, from ``gc.callbacks``):

- ``sites``: :func:`geoplan.siting.suggest_sites` on the coverage;
- ``deadends``: :func:`geoplan.deadends.run.deadends_for_config` (the OSM context read before
  the clock starts, as the layers' pass hands it over in a run);
- ``tables``: :func:`geoplan.pipeline.write_tables` (coverage tables, ``gaps.csv`` with its
  streets, sites, dead ends, data checks);
- ``report``: :func:`geoplan.report.html.write_reports` (district pages, index, workbook).

Usage::

    python benchmarks/bench_steps.py /tmp/w16/results.pkl --out /tmp/steps16 --json a.json
    python benchmarks/bench_steps.py PKL --steps sites,report --gc freeze
    py-spy record --format raw -o s.txt -- python benchmarks/bench_steps.py PKL --steps sites

``--gc`` runs each step with the collector as usual (``on``), with every object alive before
the step frozen out of it (``freeze``), or switched off (``off``), to tell the collector's share
of a step's time from the step's own work.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STEPS = ("sites", "deadends", "tables", "report")


class _GcClock:
    """Seconds and number of collections per generation, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.process_time()
        else:
            gen = info["generation"]
            self.seconds[gen] += time.process_time() - self._start
            self.count[gen] += 1


def _step(name: str, res: dict[str, Any], out: Path) -> Callable[[], Any]:
    from geoplan.results import RunResult
    from geoplan.standards import check_config_standards

    config, layerset = res["config"], res["layerset"]
    standards = check_config_standards(config)
    if name == "sites":
        from geoplan.siting import suggest_sites

        return lambda: suggest_sites(res["coverage"], standards)
    if name == "deadends":
        from geoplan.deadends.run import deadends_for_config
        from geoplan.layers.cache import read_osm_cached
        from geoplan.layers.osm import CONTEXT_KEYS

        if config.osm.path is not None:  # what the layers' pass hands over in a run
            layerset.osm_context = read_osm_cached(Path(config.osm.path), CONTEXT_KEYS,
                                                   config.osm.bounds)
        return lambda: deadends_for_config(config, layerset)
    if name == "tables":
        from geoplan.pipeline import write_tables

        def tables() -> Any:
            result = RunResult(config, out, layerset, standards, coverage=res["coverage"],
                               deadends=res["deadends"], sites=res["sites"])
            return write_tables(result, out)

        return tables
    if name == "report":
        from geoplan.locate import locate
        from geoplan.report.html import write_reports

        gaps = res["coverage"].gaps  # located in the tables step of a run, not timed here
        places = locate(gaps, layerset.layers.get("roads")) if len(gaps) else None

        def report() -> Any:
            return write_reports(layerset, res["coverage"], res["deadends"], config, out,
                                 sites=res["sites"], checks=res["checks"], gap_places=places)

        return report
    raise ValueError(f"unknown step {name!r}; choose from {STEPS}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", type=Path, help="results.pkl written by bench_map.results")
    ap.add_argument("--steps", default=",".join(STEPS), help="comma-separated, in this order")
    ap.add_argument("--out", type=Path, default=Path("/tmp/geoplan-bench-steps"),
                    help="folder the tables and reports are written into")
    ap.add_argument("--gc", choices=("on", "freeze", "off"), default="on")
    ap.add_argument("--json", type=Path, help="append the figures as one JSON line")
    ap.add_argument("--ballast", type=float, default=0.0, metavar="MILLIONS",
                    help="hold this many million extra small tracked objects (lists) while the "
                         "steps run: a bigger heap for the collector to walk, as in a big city")
    ap.add_argument("--cprofile", type=Path, metavar="DIR",
                    help="profile each step with cProfile on the CPU clock into DIR/<step>.pstats")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with args.results.open("rb") as f:
        res = pickle.load(f)
    ballast = [[i] for i in range(int(args.ballast * 1e6))]
    clock = _GcClock()
    gc.callbacks.append(clock)
    row: dict[str, Any] = {"results": str(args.results), "gc": args.gc,
                           "tracked_objects": len(gc.get_objects()),
                           "walk_edges": res.get("walk_edges"),
                           "districts": len(res["layerset"].districts)}
    for name in args.steps.split(","):
        run = _step(name, res, args.out)
        gc.collect()
        before_s, before_n = list(clock.seconds), list(clock.count)
        if args.gc == "freeze":
            gc.freeze()
        elif args.gc == "off":
            gc.disable()
        profiler = cProfile.Profile(time.process_time) if args.cprofile else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.runcall(run)
        else:
            run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if profiler is not None:
            args.cprofile.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(args.cprofile / f"{name}.pstats")
        gc.enable()
        gc.unfreeze()
        gc_s = sum(clock.seconds) - sum(before_s)
        gc_n = [a - b for a, b in zip(clock.count, before_n, strict=True)]
        row[name] = {"cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "gc_s": round(gc_s, 2),
                     "collections": gc_n}
        print(f"{name}: CPU {cpu:.2f} s, wall {wall:.2f} s, GC {gc_s:.2f} s "
              f"(collections per generation {gc_n}), load {os.getloadavg()[0]:.1f}", flush=True)
    del ballast
    if args.json:
        with args.json.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
