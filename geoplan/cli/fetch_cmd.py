"""``geoplan fetch``: download the OSM data a config needs (online only)."""

from __future__ import annotations

import argparse
from pathlib import Path

from geoplan.cli._common import add_input_args


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``fetch`` command."""
    parser = sub.add_parser(
        "fetch", help="download the OSM data for a config's districts (needs the internet)",
        description="Download OpenStreetMap data around the config's districts and save it as the "
        "OSM file the config's osm.path names (or --target). Fails at once when offline.",
    )
    add_input_args(parser)
    parser.add_argument("--target", metavar="FILE", help="where to save (default: osm.path)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan fetch``."""
    from geoplan.config import load_config
    from geoplan.fetch import fetch_osm

    if not args.config:
        print("geoplan fetch needs an analysis CONFIG (its districts define the area)")
        return 2
    config = load_config(args.config, check_files=False)
    path = fetch_osm(config, Path(args.target) if args.target else None)
    print(f"wrote {path}")
    return 0
