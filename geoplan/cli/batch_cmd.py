"""``geoplan batch``: many cities and districts over Dask."""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from geoplan._errors import ConfigError
from geoplan.cli._common import (
    add_verbosity_args,
    folder_name,
    positive_int,
    print_table,
    progress_enabled,
)

if TYPE_CHECKING:
    import pandas as pd

    from geoplan.config import AnalysisConfig


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``batch`` command."""
    parser = sub.add_parser(
        "batch", help="run many configs, one job per (city, district), over Dask",
        description="Run each config's districts as separate jobs on a Dask LocalCluster (or the "
        "scheduler given with --scheduler), writing <out>/<config>-<hash>/<district code>-<hash>/ "
        "per job, batch_summary.csv with every coverage row and index.html, one page with every "
        "job's shares and links to its report. Districts the whole config's run leaves out "
        "(too little inside the data) are listed as outside, not failed. A rerun skips jobs "
        "whose config, "
        "input files and geoplan version are unchanged and whose outputs are whole (--rerun "
        "runs them all). A failed district, or a config whose districts cannot be read, is "
        "reported with its full message and its traceback in <out>/_logs/; the others complete.",
    )
    parser.add_argument("configs", nargs="+", metavar="CONFIG", help="analysis configs")
    parser.add_argument("--out", metavar="DIR", required=True, type=folder_name,
                        help="output folder")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="LocalCluster worker processes (1 or more)")
    parser.add_argument("--with-map", action="store_true", help="also write a meeting map per district")
    parser.add_argument("--rerun", action="store_true",
                        help="run every job again, even those finished with unchanged inputs")
    parser.add_argument("--prune", action="store_true",
                        help="remove the job folders an earlier batch into --out wrote for "
                        "configs not in this one (without it, such folders stop the batch)")
    add_verbosity_args(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan batch``."""
    from geoplan.batch import run_batch, summarise

    given = Counter(Path(p).resolve() for p in args.configs)
    paths = list(given)
    twice = [f"{p.name} ({n} times)" for p, n in given.items() if n > 1]
    if twice:  # one config twice would run and count its jobs twice
        logging.getLogger("geoplan").warning("%d config(s) given more than once, run once: %s",
                                             len(twice), ", ".join(twice))
    configs = _load_all(paths)
    steps = ("layers", "coverage", "sites", "deadends", "report") + (("map",) if args.with_map else ())
    summary = run_batch(configs, Path(args.out), scheduler=args.scheduler, workers=args.workers,
                        steps=steps, progress=progress_enabled(), rerun=args.rerun,
                        prune=args.prune)
    table = summarise(summary)
    print_table(table, title="batch results", cut=("district", "result"))
    for line in failure_lines(table):  # each failure whole (the table cuts long cells)
        print(line)
    print(f"wrote {Path(args.out) / 'batch_summary.csv'} and {Path(args.out) / 'index.html'}")
    failed = int((summary["status"] == "failed").sum()) if "status" in summary else 0
    if "status" in summary:
        jobs = summarise(summary)["status"].value_counts()
        print("jobs: " + ", ".join(f"{n} {status}" for status, n in jobs.items()))
    return 1 if failed else 0


def _load_all(paths: list[Path]) -> list[AnalysisConfig]:
    """Every config, checked before any work; the problems of all of them in one error.

    Raises
    ------
    ConfigError
        Naming each config with a problem (a missing OSM file, a misspelt key) and each of its
        problems, so that one look shows what to fix before the batch runs.
    """
    from geoplan.config import load_config

    configs, errors = [], []
    for path in paths:
        try:
            configs.append(load_config(path))
        except ConfigError as exc:
            errors.append(exc)
    if len(errors) == 1 and len(paths) == 1:
        raise errors[0]
    if errors:
        raise ConfigError(
            f"{len(errors)} of the {len(paths)} configs (nothing was run; fix them, or leave "
            "them out of this batch)",
            [f"{Path(e.source).name}: {p}" for e in errors for p in e.problems])
    return configs


def failure_lines(table: pd.DataFrame) -> list[str]:
    """One terminal line per distinct error of :func:`geoplan.batch.summarise`'s table, with
    the districts it failed (a config whose city task failed fails each of its districts with
    the same words: said once, not once a district)."""
    from geoplan._text import as_text, first_named

    if "status" not in table:
        return []
    lines = []
    for result, part in table.loc[table["status"] == "failed"].groupby("result", sort=False):
        names = [_where(r) for r in part.to_dict("records")]
        where = names[0] if len(names) == 1 else f"{len(names)} districts ({first_named(names, 5)})"
        lines.append(as_text(f"failed: {where}: {result}"))
    return lines


def _where(row: dict) -> str:
    """A failed row's place: its district, or its city for a city's own task ("failed: : …"
    read empty); with the config's key when the batch has several (summarise's ``config``
    column), as two configs of one city would otherwise read alike."""
    from geoplan._text import as_text

    district, config = as_text(row.get("district")), as_text(row.get("config"))
    if not district:
        city = as_text(row.get("city")) or "the city"
        return f"{city} ({config})" if config else city
    return f"{config}/{district}" if config else district
