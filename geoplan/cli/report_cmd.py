"""``geoplan report``: per-district HTML gap reports, their index and the Excel workbook."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from geoplan.cli._common import (
    add_input_args,
    config_from_args,
    load_layerset,
    progress_enabled,
    staged_output,
    with_standards,
)

logger = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` command."""
    parser = sub.add_parser(
        "report", help="per-district gap reports (HTML) and the Excel workbook",
        description="Measure every standard and the dead-end roads, then write for every "
        "district an HTML report (targets, buffer / walking-network / population shares, pass "
        "or fail, the gap in m² and people, the five largest gaps with a map each, dead-end "
        "roads and openings, sources) into <out>/reports/, an index page, and "
        "<out>/geoplan_report.xlsx.",
    )
    add_input_args(parser)
    parser.add_argument("--standards", metavar="IDS",
                        help="comma-separated standard ids (default: the config's)")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh",
                        help="language of the reports (default: zh)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan report``."""
    from geoplan.data_checks import data_checks
    from geoplan.pipeline import compute_results
    from geoplan.report.html import write_reports
    from geoplan.standards import check_config_standards

    config = with_standards(config_from_args(args), getattr(args, "standards", None))
    check_config_standards(config)  # unknown ids fail before any work
    # a folder that cannot be written fails before any work
    with staged_output(args, config, "report") as run:
        out = run.target
        t0 = time.perf_counter()
        layerset = load_layerset(config)
        coverage, deadends, sites = compute_results(config, layerset, progress=progress_enabled(),
                                                    spill_dir=run.path)
        checks = data_checks(layerset, coverage, deadends, check_config_standards(config),
                             layerset.datum)
        t1 = time.perf_counter()
        files = write_reports(layerset, coverage, deadends, config, run.path,
                              progress=progress_enabled(), lang=getattr(args, "lang", "zh"),
                              sites=sites, checks=checks)
        t2 = time.perf_counter()
        final = dict(zip(("index", "workbook"), run.commit([files["index"], files["workbook"]]),
                         strict=True))
    print(f"\n{config.name}: {len(files) - 2} district reports "
          f"(analysis {t1 - t0:.1f} s, reports {t2 - t1:.1f} s)")
    print(f"output folder: {out}")
    for key in ("index", "workbook"):
        print(f"  {_relative(final[key], out)}")
    print(f"  reports/ ({len(files) - 2} district pages)")
    if files.failures:
        print(f"\n{len(files.failures)} district report(s) failed (see reports/index.html):")
        for name, error in files.failures.items():
            print(f"  {name}: {error}")
        return 1
    return 0


def _relative(path: Path, base: Path) -> Path:
    try:
        return Path(path).relative_to(base)
    except ValueError:
        return Path(path)


__all__ = ["register", "run"]
