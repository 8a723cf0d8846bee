"""``geoplan run``: the main job: layers, coverage, dead ends, meeting map and reports."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from geoplan.cli._common import (
    add_input_args,
    config_from_args,
    load_layerset,
    output_dir,
    print_table,
    progress_enabled,
)
from geoplan.cli.layers_cmd import write_layers
from geoplan.standards import check_config_standards

logger = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` command."""
    parser = sub.add_parser(
        "run", help="run everything: layers, coverage, dead ends, map, reports",
        description="Run the whole analysis into one output folder: layers.gpkg, coverage "
        "tables and GeoPackage, dead-end roads, the offline meeting map and the per-district "
        "gap reports; then print where each file is.",
    )
    add_input_args(parser)
    parser.add_argument("--standards", metavar="IDS",
                        help="comma-separated standard ids (default: the config's)")
    parser.add_argument("--no-map", action="store_true", help="skip the meeting map")
    parser.add_argument("--no-report", action="store_true", help="skip the per-district reports")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan run``."""
    from geoplan.coverage import format_table, run_coverage, write_coverage
    from geoplan.deadends import format_table as format_deadends
    from geoplan.deadends import run_deadends, write_deadends

    config = config_from_args(args)
    if args.standards:
        ids = [s.strip() for s in args.standards.split(",") if s.strip()]
        config = config.model_copy(update={"standards": ids})
    standards = check_config_standards(config)
    out = output_dir(args, config)
    progress = progress_enabled()
    timings: dict[str, float] = {}
    written: list[Path] = []

    t0 = time.perf_counter()
    layerset = load_layerset(config)
    _, paths = write_layers(layerset, out)
    written += paths
    timings["layers"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    coverage = run_coverage(layerset, standards, config.demand, progress=progress)
    written += list(write_coverage(coverage, out).values())
    timings["coverage"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    deadends = run_deadends(layerset, config.deadends)
    written += list(write_deadends(deadends, out).values())
    timings["dead ends"] = time.perf_counter() - t0

    if not args.no_map:
        from geoplan.report.maps import write_map

        t0 = time.perf_counter()
        written.append(write_map(layerset, coverage, deadends, config, out))
        timings["map"] = time.perf_counter() - t0
    if not args.no_report:
        from geoplan.report.html import write_reports

        t0 = time.perf_counter()
        reports = write_reports(layerset, coverage, deadends, config, out, progress=progress)
        written += [Path(p) for p in (reports.values() if isinstance(reports, dict) else reports)]
        timings["reports"] = time.perf_counter() - t0

    print(f"\n{config.name}: coverage per district (buffer share = official indicator / walking network)")
    print(format_table(coverage.table))
    print()
    print(format_deadends(deadends))
    print("\nsteps: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    print(f"\noutput folder: {out}")
    for path in written:
        try:
            print(f"  {Path(path).relative_to(out)}")
        except ValueError:
            print(f"  {path}")
    return 0


__all__ = ["print_table", "register", "run"]
