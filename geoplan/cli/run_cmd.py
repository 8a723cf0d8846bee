"""``geoplan run``: the main job: layers, coverage, sites, dead ends, meeting map and reports."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from geoplan.cli._common import (
    BASELINE_FILE,
    add_input_args,
    config_from_args,
    given_file,
    output_dir,
    progress_enabled,
)

if TYPE_CHECKING:
    import pandas as pd


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` command."""
    parser = sub.add_parser(
        "run", help="run everything: layers, coverage, sites, dead ends, map, reports",
        description="Run the whole analysis into one output folder: layers.gpkg, coverage "
        "tables and GeoPackage, suggested sites, dead-end roads, the offline meeting map and "
        "the per-district gap reports; then print where each file is.",
    )
    add_input_args(parser)
    parser.add_argument("--standards", metavar="IDS",
                        help="comma-separated standard ids (default: the config's)")
    parser.add_argument("--no-map", action="store_true", help="skip the meeting map")
    parser.add_argument("--no-report", action="store_true", help="skip the per-district reports")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh",
                        help="language of the map, the reports and the printed tables "
                        "(default: zh)")
    parser.add_argument("--baseline", metavar="OLD_OSM",
                        help="older OSM extract: measure dead ends opened since then")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan run``."""
    from geoplan.cli._format import coverage_text, heading, items_text, written_text
    from geoplan.deadends import format_table as format_deadends
    from geoplan.pipeline import STEPS, run_analysis

    config = config_from_args(args)
    given_file(args.baseline, "--baseline", BASELINE_FILE)
    if args.standards:
        ids = [s.strip() for s in args.standards.split(",") if s.strip()]
        config = config.model_copy(update={"standards": ids})
    out = output_dir(args, config)
    skip = {"map"} if args.no_map else set()
    skip |= {"report"} if args.no_report else set()
    steps = tuple(s for s in STEPS if s not in skip)
    result = run_analysis(config, out, steps=steps, progress=progress_enabled(),
                          map_options={"lang": args.lang}, baseline=args.baseline)

    unit = config.districts.unit
    print(f"\n{config.name}: {heading(args.lang, unit)}")
    if result.coverage is not None:
        print(coverage_text(result.coverage.table, args.lang, unit))
        items = items_text(result.coverage.items, result.coverage.table, args.lang, unit)
        if items:
            print("\n" + items)
    if result.sites is not None and len(result.sites):
        print("\n" + sites_line(result.sites.table, args.lang, unit))
    if result.deadends is not None:
        print()
        print(format_deadends(result.deadends, lang=args.lang))
    print("\nsteps: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()))
    print(written_text(out, result.written))
    return 0


def sites_line(sites: pd.DataFrame, lang: str = "en", unit: str = "区县") -> str:
    """One true line about the suggested sites: how many, for how many standards and districts.

    Sites of different standards may stand for the same land (a gap of 500米见园 is often one
    of 公园绿地服务半径覆盖率 too), so their covered areas are not summed across standards;
    the gains of each site are in sites.csv.
    """
    std = sites["standard"].astype(str)
    groups = sites.assign(item=sites["item"].fillna("") if "item" in sites else "")
    sizes = groups.groupby(["district", "standard", "item"]).size()
    if lang == "zh":
        return (f"建议新增设施选址：{len(sites)} 处，涉及 {std.nunique()} 项标准、"
                f"{sites['district'].nunique()} 个{unit}（{len(sizes)} 组缺口，每组为一个{unit}的一项"
                f"标准或生活圈项目，每组至多 {int(sizes.max())} 处，按成效排序；见 sites.csv）")
    return (f"suggested sites: {len(sites)} for {std.nunique()} standards in "
            f"{sites['district'].nunique()} districts ({len(sizes)} gaps of a district and a "
            f"standard or life-circle item, {int(sizes.max())} sites at most each, best first; "
            "sites.csv)")
