"""``geoplan run``: the main job: layers, coverage, sites, dead ends, meeting map and reports."""

from __future__ import annotations

import argparse
from pathlib import Path

from geoplan.cli._common import add_input_args, config_from_args, output_dir, progress_enabled


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
                        help="language of the map and the printed tables (default: zh)")
    parser.add_argument("--baseline", metavar="OLD_OSM",
                        help="older OSM extract: measure dead ends opened since then")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan run``."""
    from geoplan.cli._format import coverage_text
    from geoplan.deadends import format_table as format_deadends
    from geoplan.pipeline import STEPS, run_analysis

    config = config_from_args(args)
    if args.standards:
        ids = [s.strip() for s in args.standards.split(",") if s.strip()]
        config = config.model_copy(update={"standards": ids})
    out = output_dir(args, config)
    skip = {"map"} if args.no_map else set()
    skip |= {"report"} if args.no_report else set()
    steps = tuple(s for s in STEPS if s not in skip)
    result = run_analysis(config, out, steps=steps, progress=progress_enabled(),
                          map_options={"lang": args.lang}, baseline=args.baseline)

    heading = ("各区县覆盖率" if args.lang != "en" else "coverage per district")
    print(f"\n{config.name}: {heading}")
    if result.coverage is not None:
        print(coverage_text(result.coverage.table, args.lang))
        from geoplan.coverage.output import format_items

        items_text = format_items(result.coverage.items, result.coverage.table)
        if items_text:
            print("\nLife circles item by item (GB 50180-2018)\n" + items_text)
    if result.sites is not None and len(result.sites):
        best = result.sites.table.loc[result.sites.table["rank"] == 1]
        print(f"\nsuggested sites: {len(result.sites)} in all; the first site per district and "
              f"standard would cover {best['covered_m2'].sum() / 1e4:.1f} ha of residential gaps "
              f"and {best['covered_length_m'].sum() / 1e3:.1f} km of streets without a toilet "
              "(sites.csv)")
    if result.deadends is not None:
        print()
        print(format_deadends(result.deadends))
    print("\nsteps: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()))
    print(f"\noutput folder: {out}")
    for path in result.written:
        try:
            print(f"  {Path(path).relative_to(out)}")
        except ValueError:
            print(f"  {path}")
    return 0
