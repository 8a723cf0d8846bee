"""``geoplan standards``: list the standards catalog with its sources."""

from __future__ import annotations

import argparse

import pandas as pd

from geoplan.standards import catalog_table, resolve_standards


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``standards`` command."""
    parser = sub.add_parser(
        "standards", help="list the service-radius standards catalog with sources",
        description="List every standard geoplan can check: id, Chinese and English name, "
        "facilities, demand, radius, target and the policy document and clause it comes from. "
        "Analysis configs choose standards by id (standards: [...]) and may override any field.",
    )
    parser.add_argument("config", nargs="?", metavar="CONFIG",
                        help="an analysis config: list its standards, overrides and custom "
                        "entries included (default: the shipped catalog)")
    parser.add_argument("--csv", metavar="FILE", help="also write the table as CSV (UTF-8 BOM)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan standards``."""
    if getattr(args, "config", None):
        from geoplan.config import load_config
        from geoplan.standards import check_config_standards

        config = load_config(args.config, check_files=False)
        table = catalog_table({s.id: s for s in check_config_standards(config)})
    else:
        table = catalog_table({s.id: s for s in resolve_standards(None)})
    with pd.option_context("display.width", 250, "display.max_columns", 20,
                           "display.max_colwidth", 80, "display.max_rows", 200,
                           "display.unicode.east_asian_width", True):
        print(table.to_string(index=False))
    print(f"\n{len(table)} standards. Choose them by id in a config (standards: [...]) or with "
          "--standards id1,id2; override any field with {id: ..., radius_m: ...}.")
    if getattr(args, "csv", None):
        from geoplan._io import write_csv

        path = write_csv(table, args.csv)
        print(f"wrote {path}")
    return 0


__all__ = ["register", "run"]
