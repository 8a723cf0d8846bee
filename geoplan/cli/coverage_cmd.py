"""``geoplan coverage``: every service-radius standard per district; coverage.csv and .gpkg."""

from __future__ import annotations

import argparse
import time

from geoplan.cli._common import (
    add_input_args,
    config_from_args,
    coverage_as_run,
    load_layerset,
    progress_enabled,
    staged_output,
    with_standards,
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``coverage`` command."""
    parser = sub.add_parser(
        "coverage", help="measure every standard per district (buffer, walking network, population)",
        description="For each service-radius standard and district: the share of residential land "
        "(street length for the toilet standards) within reach by straight-line buffers (the "
        "official indicator), by the walking network, and weighted by population. Prints the "
        "table and writes coverage.csv (UTF-8 with BOM, opens in Excel), coverage.gpkg "
        "(districts with shares, facilities, walking reach, gap polygons), the life circles item "
        "by item, the per-person indicators and, with census population, residents, children "
        "and school seats (CSV).",
    )
    add_input_args(parser)
    parser.add_argument("--standards", metavar="IDS",
                        help="comma-separated standard ids (default: the config's; "
                        "see `geoplan standards`)")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh",
                        help="language of the printed table (default: zh)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan coverage``."""
    from geoplan.cli._format import coverage_text, heading, items_text, written_text
    from geoplan.coverage import write_coverage
    from geoplan.standards import check_config_standards

    config = with_standards(config_from_args(args), getattr(args, "standards", None))
    standards = check_config_standards(config)  # unknown ids fail before any work
    with staged_output(args, config, "coverage") as run:
        out = run.target
        t0 = time.perf_counter()
        layerset = load_layerset(config)
        t_layers = time.perf_counter() - t0
        result = coverage_as_run(config, layerset, standards, run.path, progress_enabled())
        written = run.commit(write_coverage(result, run.path).values())
    t_total = time.perf_counter() - t0
    lang = getattr(args, "lang", "zh")
    print(f"\n{config.name}: {heading(lang, config.districts.unit)}")
    print(coverage_text(result.table, lang, config.districts.unit))
    items = items_text(result.items, result.table, lang, config.districts.unit)
    if items:
        print("\n" + items)
    print(f"\nlayers {t_layers:.1f} s, coverage {t_total - t_layers:.1f} s")
    print(written_text(out, written))
    return 0


__all__ = ["register", "run"]
