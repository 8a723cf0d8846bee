"""``geoplan scenario``: coverage before and after planned facilities (挂图作战)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from geoplan._errors import ConfigError
from geoplan.cli._common import (
    add_input_args,
    config_from_args,
    coverage_as_run,
    output_dir,
    staged_output,
)

if TYPE_CHECKING:
    import pandas as pd


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``scenario`` command."""
    parser = sub.add_parser(
        "scenario", help="coverage before and after a scenario of planned facilities",
        description="Add the planned facility files of one of the config's `scenarios:` to the "
        "current layers and compare every standard's shares before and after, per district. "
        "Writes scenario_<NAME>.csv and the scenario's meeting map "
        "(scenario_<NAME>/map.html). Without --name, lists the config's scenarios. "
        "With --planned FILE.csv (the meeting map's live-scenario export, 导出 CSV), adds "
        "the facilities of that file instead and writes scenario_<FILE>.csv.",
    )
    add_input_args(parser)
    parser.add_argument("--name", help="scenario name (a key of `scenarios:`); "
                        "leave out to list them")
    parser.add_argument("--planned", metavar="FILE.csv",
                        help="planned facilities exported from the meeting map (columns "
                        "standard, layer, name, lon_wgs84, lat_wgs84, …); instead of --name")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh",
                        help="language of the printed table and the map (default: zh)")
    parser.add_argument("--no-map", action="store_true", help="skip the scenario's map")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan scenario``."""
    from geoplan._io import write_csv
    from geoplan._text import as_text
    from geoplan.cli._format import scenario_text, scenarios_text, written_text
    from geoplan.layers import load_layers
    from geoplan.report._data import file_stem
    from geoplan.scenario import (
        changed,
        compare,
        load_planned_layers,
        load_scenario_layers,
        planned_config,
        read_planned,
        scenario_config,
        with_before,
    )
    from geoplan.standards import check_config_standards

    config = config_from_args(args)
    lang = getattr(args, "lang", "zh")
    planned_file = getattr(args, "planned", None)
    if planned_file and args.name:
        raise ConfigError("command line", ["give either --name or --planned, not both"])
    if not args.name and not planned_file:
        print(scenarios_text(config, lang))
        return 0
    standards = check_config_standards(config)
    with tempfile.TemporaryDirectory(prefix="geoplan-planned-") as work, \
            _named_as_the_planned_file(work, planned_file):
        if planned_file:
            name = file_stem(Path(planned_file).stem, fallback="planned")
            n_planned = len(read_planned(Path(planned_file)))
            planned = planned_config(config, Path(planned_file), Path(work), standards)
            description = (f"{n_planned} 个规划设施（{Path(planned_file).name}）" if lang != "en"
                           else f"{n_planned} planned facilities ({Path(planned_file).name})")
        else:
            name = args.name
            planned = scenario_config(config, args.name)  # unknown names fail before any work
            description = config.scenarios[args.name].description or args.name
        output_dir(args, config)  # refused before any work when it cannot be written
        # one safe name for the table and the map: a scenario's name never leaves --out
        stem = f"scenario_{file_stem(name, fallback='scenario')}"
        with staged_output(args, config, "scenario") as run:
            # measured as `geoplan run` measures: a city chunk by chunk of districts, its
            # largest frames held on disk in the staging folder; of today only the table stays
            before = coverage_as_run(config, load_layers(config), standards, run.path).table
            layers_after = (load_planned_layers(planned, Path(work), Path(planned_file))
                            if planned_file else load_scenario_layers(planned, name))
            after = coverage_as_run(planned, layers_after, standards, run.path)
            table = compare(before, after.table)
            moves = bool(changed(table).any())
            if not moves:
                _say_nothing_changed(name, table)
            shown = {("zh", True): "只列出有变化的行", ("zh", False): "没有任何覆盖率变化，列出全部行",
                     ("en", True): "rows that change", ("en", False): "no share changes; every row"}
            title = (f"情景 {name}：{description}（{shown['zh', moves]}）" if lang != "en"
                     else f"scenario {name}: {description} ({shown['en', moves]})")
            print(as_text(title))
            print(scenario_text(table, lang, config.districts.unit))
            written = [write_csv(table, run.path / f"{stem}.csv")]
            if not getattr(args, "no_map", False):
                from geoplan.report.maps import write_maps

                folder = run.path / stem
                folder.mkdir(parents=True, exist_ok=True)
                heading = (f"{config.name} · 情景：{description}" if lang != "en"
                           else f"{config.name} · scenario: {description}")
                # a city's scenario map is an index with a page per district, as its run's
                # opened on the first standard the scenario changes, not the config's first
                moved = set(table.loc[changed(table), "standard"])
                first = next((s for s in dict.fromkeys(after.table["standard"]) if s in moved),
                             None)  # in the config's order
                after.table = with_before(after.table, before)  # the map says before → after
                written += write_maps(layers_after, after, None, config, folder, lang=lang,
                                      title=heading, standard=first)
            committed = run.commit(written)
    print(written_text(run.target, committed))
    return 0


def _say_nothing_changed(name: str, table: pd.DataFrame) -> None:
    """Warn that a scenario moves no share, with the likely reason."""
    counted = bool((table["n_facilities_after"] != table["n_facilities_before"]).any())
    logging.getLogger("geoplan").warning(
        "scenario %s changes no share: %s", name,
        "its planned facilities are counted, but the land around them was covered already"
        if counted else "no standard of this config counts its planned facilities (a layer "
        "no standard uses, such as water; or a facility its standard's filter leaves out: a "
        "school's levels, a service's kind, a park under the area minimum). Check the "
        "file's layer and columns against `geoplan standards`")


@contextlib.contextmanager
def _named_as_the_planned_file(work: str, planned: str | None) -> Iterator[None]:
    """Warnings about the per-layer files a planned CSV is split into name the CSV itself
    (:func:`geoplan.scenario.as_planned_file`; :func:`~geoplan.scenario.load_planned_layers`
    does it for errors): ``/tmp/geoplan-planned-…/planned_bus_stops.csv`` would send the
    planner looking for a file they never made."""
    if planned is None:
        yield
        return
    from geoplan.scenario import as_planned_file

    source = Path(planned)

    class _Rename(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg = as_planned_file(record.getMessage(), Path(work), source)
            record.args = None
            return True

    rename = _Rename()
    handlers = logging.getLogger("geoplan").handlers
    for handler in handlers:
        handler.addFilter(rename)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(rename)
