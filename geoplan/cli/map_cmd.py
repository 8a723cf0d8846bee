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
        description="Write <out>/map.html (a city whose map would be over the config's "
        "map.max_mb, default 5 MB, gets an index map linking one page per district under "
        "<out>/maps/): districts coloured by each standard's coverage "
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
    from geoplan._progress import set_progress
    from geoplan.data_checks import data_checks
    from geoplan.report.maps import write_maps

    with staged_output(args, config, "map") as run:
        t0 = time.perf_counter()
        set_progress(progress_enabled())
        layerset = load_layerset(config)
        coverage, deadends, sites = compute_results(config, layerset, progress=progress_enabled(),
                                                    spill_dir=run.path)
        checks = data_checks(layerset, coverage, deadends, check_config_standards(config),
                             layerset.datum)
        staged = write_maps(layerset, coverage, deadends, config, run.path, lang=args.lang,
                            tiles=args.tiles, tianditu_key=args.tianditu_key, sites=sites,
                            checks=checks)
        path, *pages = run.commit(staged)
    print(f"\n{config.name}: meeting map written in {time.perf_counter() - t0:.1f} s")
    print(f"  {path}  ({path.stat().st_size / 1024:.0f} kB, works offline)")
    if pages:
        html_pages = [p for p in pages if p.suffix == ".html"]
        largest = max(p.stat().st_size for p in html_pages) if html_pages else 0
        print(f"  an index map: the map would be over {config.map.max_mb:g} MB as one file "
              f"(config map.max_mb); {len(html_pages)} district pages in {path.parent / 'maps'} "
              f"(largest {largest / 1024:.0f} kB). Copy map.html with its maps folder.")
    return 0


__all__ = ["register", "run"]
