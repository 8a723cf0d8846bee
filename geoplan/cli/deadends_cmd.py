"""``geoplan deadends``: dead-end roads (断头路), opening candidates, connectivity, progress."""

from __future__ import annotations

import argparse

from geoplan.cli._common import (
    BASELINE_FILE,
    add_input_args,
    config_from_args,
    given_file,
    load_layerset,
    staged_output,
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``deadends`` command."""
    parser = sub.add_parser(
        "deadends", help="dead-end roads (断头路): list, rank, connectivity, progress",
        description="Find dead-end roads on the public road network, sort out edge artifacts, "
        "cul-de-sacs (noexit) and gated compounds, rank the public ones by the detour a short "
        "link would save (weighted by housing nearby), measure connectivity per district and, "
        "with --baseline, how many of an older network's dead ends have been opened (targets "
        "50%/70%, at least 3 per district). Writes deadends.csv and deadends.gpkg.",
    )
    add_input_args(parser)
    parser.add_argument("--baseline", metavar="OLD.osm", help="an older OSM extract of the same area "
                        "(.osm, .osm.bz2, .pbf) to measure progress against")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh",
                        help="language of the printed tables (default: zh, as geoplan run)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan deadends``."""
    from geoplan.deadends import deadends_for_config, format_table, write_deadends

    config = config_from_args(args)
    given_file(args.baseline, "--baseline", BASELINE_FILE)
    with staged_output(args, config, "deadends") as run:
        layerset = load_layerset(config)
        result = deadends_for_config(config, layerset, baseline_path=args.baseline)
        staged = write_deadends(result, run.path)
        written = dict(zip(staged, run.commit(staged.values()), strict=True))
    print(f"{config.name}")
    print(format_table(result, lang=args.lang))
    for path in written.values():
        print(f"wrote {path}")
    return 0
