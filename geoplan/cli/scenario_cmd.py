"""``geoplan scenario``: coverage before and after planned facilities (挂图作战)."""

from __future__ import annotations

import argparse

import pandas as pd

from geoplan._io import write_csv
from geoplan.cli._common import add_input_args, config_from_args, output_dir, print_table
from geoplan.standards import check_config_standards


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``scenario`` command."""
    parser = sub.add_parser(
        "scenario", help="coverage before and after a scenario of planned facilities",
        description="Add the planned facility files of one of the config's `scenarios:` to the "
        "current layers and compare every standard's shares before and after, per district. "
        "Writes scenario_<NAME>.csv.",
    )
    add_input_args(parser)
    parser.add_argument("--name", required=True, help="scenario name (a key of `scenarios:`)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan scenario``."""
    from geoplan.scenario import run_scenario

    config = config_from_args(args)
    standards = check_config_standards(config)
    out = output_dir(args, config)
    table = run_scenario(config, args.name, standards)
    path = write_csv(table, out / f"scenario_{args.name}.csv")
    show = pd.DataFrame({
        "district": table["district"], "standard": table["standard"],
        "facilities": [f"{b}→{a}" for b, a in zip(table["n_facilities_before"],
                                                  table["n_facilities_after"], strict=True)],
        "buffer": _arrow(table["share_buffer_before"], table["share_buffer_after"]),
        "network": _arrow(table["share_network_before"], table["share_network_after"]),
        "meets": table["meets_target_after"].map({True: "yes", False: "no"}),
    })
    changed = show.loc[table["share_buffer_change"].abs().fillna(0).gt(1e-9)
                       | table["share_network_change"].abs().fillna(0).gt(1e-9)]
    description = config.scenarios[args.name].description or args.name
    print_table(changed if len(changed) else show,
                title=f"scenario {args.name}: {description} (rows that change)")
    print(f"wrote {path}")
    return 0


def _arrow(before: pd.Series, after: pd.Series) -> list[str]:
    return [f"{100 * b:.1f}% → {100 * a:.1f}%" if pd.notna(b) and pd.notna(a) else "–"
            for b, a in zip(before, after, strict=True)]
