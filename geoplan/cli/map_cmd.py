"""``geoplan map``: the offline meeting map (one self-contained HTML file)."""

from __future__ import annotations

import argparse
import time

from geoplan.cli._common import (
    add_input_args,
    config_from_args,
    load_layerset,
    progress_enabled,
    staged_output,
    with_standards,
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``map`` command."""
    parser = sub.add_parser(
        "map", help="the offline meeting map (map.html)",
        description="Write <out>/map.html: districts coloured by each standard's coverage "
        "against its target, facilities, walking reach, gaps, dead-end roads and suggested "
        "openings, with a Chinese legend and layer switcher. The file needs no internet: "
        "copy it to a USB stick and open it in any browser. Basemap tiles are optional.",
    )
    add_input_args(parser)
    parser.add_argument("--standards", metavar="IDS",
                        help="comma-separated standard ids (default: the config's)")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh",
                        help="language of labels, legend and popups (default: zh)")
    parser.add_argument("--tiles", choices=("none", "osm", "tianditu"), default="none",
                        help="basemap tiles, which need the internet (default: none, a plain "
                        "background with the analysis' roads and water)")
    parser.add_argument("--tianditu-key", metavar="KEY",
                        help="your Tianditu (天地图) key, for --tiles tianditu")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan map``."""
    from geoplan.pipeline import compute_results
    from geoplan.standards import check_config_standards

    config = with_standards(config_from_args(args), getattr(args, "standards", None))
    check_config_standards(config)
    # bad tile options fail before any work
    if args.tiles == "tianditu" and not args.tianditu_key:
        from geoplan._errors import ConfigError

        raise ConfigError("command line", [
            "--tiles tianditu needs --tianditu-key KEY (free from https://console.tianditu.gov.cn)"])
    from geoplan.data_checks import data_checks
    from geoplan.report.maps import write_map

    with staged_output(args, config, "map") as run:
        t0 = time.perf_counter()
        layerset = load_layerset(config)
        coverage, deadends, sites = compute_results(config, layerset, progress=progress_enabled())
        checks = data_checks(layerset, coverage, deadends, check_config_standards(config),
                             layerset.datum)
        staged = write_map(layerset, coverage, deadends, config, run.path, lang=args.lang,
                           tiles=args.tiles, tianditu_key=args.tianditu_key, sites=sites,
                           checks=checks)
        (path,) = run.commit([staged])
    print(f"\n{config.name}: meeting map written in {time.perf_counter() - t0:.1f} s")
    print(f"  {path}  ({path.stat().st_size / 1024:.0f} kB, works offline)")
    return 0


__all__ = ["register", "run"]
