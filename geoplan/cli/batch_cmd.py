"""``geoplan batch``: many cities and districts over Dask."""

from __future__ import annotations

import argparse
from pathlib import Path

from geoplan.cli._common import add_verbosity_args, print_table, progress_enabled
from geoplan.config import load_config


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``batch`` command."""
    parser = sub.add_parser(
        "batch", help="run many configs, one job per (city, district), over Dask",
        description="Run each config's districts as separate jobs on a Dask LocalCluster (or the "
        "scheduler given with --scheduler), writing <out>/<city>/<district>/ per job and "
        "batch_summary.csv with every coverage row. A failed district is reported; the others "
        "complete.",
    )
    parser.add_argument("configs", nargs="+", metavar="CONFIG", help="analysis configs")
    parser.add_argument("--out", metavar="DIR", required=True, help="output folder")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--workers", type=int, metavar="N", help="LocalCluster worker processes")
    parser.add_argument("--with-map", action="store_true", help="also write a meeting map per district")
    add_verbosity_args(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan batch``."""
    from geoplan.batch import run_batch, summarise

    configs = [load_config(path) for path in args.configs]  # every config checked before any work
    steps = ("layers", "coverage", "sites", "deadends", "report") + (("map",) if args.with_map else ())
    summary = run_batch(configs, Path(args.out), scheduler=args.scheduler, workers=args.workers,
                        steps=steps, progress=progress_enabled())
    print_table(summarise(summary), title="batch results")
    print(f"wrote {Path(args.out) / 'batch_summary.csv'}")
    failed = int((summary["status"] != "ok").sum()) if "status" in summary else 0
    return 1 if failed else 0
