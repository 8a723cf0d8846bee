"""``geoplan scenario``: coverage before and after planned facilities (挂图作战)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geoplan._errors import ConfigError, InputDataError
from geoplan.cli._common import (
    add_input_args,
    config_from_args,
    coverage_as_run,
    given_file,
    output_dir,
    progress_enabled,
    staged_output,
)

if TYPE_CHECKING:
    import pandas as pd

    from geoplan._outdir import OutputRun
    from geoplan.config import AnalysisConfig
    from geoplan.layers.layerset import LayerSet
    from geoplan.standards import Standard


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``scenario`` command."""
    parser = sub.add_parser(
        "scenario", help="coverage before and after a scenario of planned facilities",
        description="Add the planned facility files of one of the config's `scenarios:` to the "
        "current layers and compare every standard's shares before and after, per district. "
        "Writes scenario_<NAME>.csv and the scenario's meeting map "
        "(scenario_<NAME>/map.html). Without --name, lists the config's scenarios. "
        "With --planned FILE.csv (the meeting map's live-scenario export, 导出 CSV), adds "
        "the facilities of that file instead and writes scenario_<FILE>.csv. Several "
        "scenarios (--name A B, or --all) are each measured against today and then side by "
        "side for the whole area (方案比选): scenarios_compared.csv.",
    )
    add_input_args(parser)
    parser.add_argument("--name", nargs="+", metavar="NAME",
                        help="scenario name (a key of `scenarios:`); two or more are also "
                        "compared side by side for the whole area (方案比选, "
                        "scenarios_compared.csv); leave out to list them")
    parser.add_argument("--all", action="store_true",
                        help="every scenario of the config, compared side by side")
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
    from geoplan._progress import set_progress
    from geoplan.cli._format import scenarios_compared_text, scenarios_text, written_text
    from geoplan.layers import load_layers
    from geoplan.report._data import file_stem
    from geoplan.results.coverage import partial_districts
    from geoplan.scenario import (
        compare_scenarios,
        load_planned_layers,
        load_scenario_layers,
        planned_config,
        read_planned,
        scenario_config,
    )
    from geoplan.standards import check_config_standards

    config = config_from_args(args)
    lang = getattr(args, "lang", "zh")
    planned_file = getattr(args, "planned", None)
    names = list(config.scenarios) if getattr(args, "all", False) else list(args.name or [])
    if planned_file and names:
        raise ConfigError("command line", ["give either --name (or --all) or --planned, not both"])
    if getattr(args, "all", False) and args.name:
        raise ConfigError("command line", ["give either --all or --name, not both"])
    if getattr(args, "all", False) and not names:
        raise ConfigError(str(config.source_file or "config"), [
            "scenarios: --all found none; add a `scenarios:` section (see "
            "analyses/chengdu_core.yaml)"])
    given_file(planned_file, "--planned", "the CSV of planned facilities that the meeting map's "
               "live scenario exports (导出 CSV in map.html), or a CSV of the same columns")
    if not names and not planned_file:
        print(scenarios_text(config, lang))
        return 0
    standards = check_config_standards(config)
    with tempfile.TemporaryDirectory(prefix="geoplan-planned-") as work, \
            _named_as_the_planned_file(work, planned_file):
        plans: list[_Plan] = []
        if planned_file:
            n_planned = len(read_planned(Path(planned_file)))
            plans.append(_Plan(
                file_stem(Path(planned_file).stem, fallback="planned"),
                planned_config(config, Path(planned_file), Path(work), standards),
                f"{n_planned} 个规划设施（{Path(planned_file).name}）" if lang != "en"
                else f"{n_planned} planned facilities ({Path(planned_file).name})",
                lambda c: load_planned_layers(c, Path(work), Path(planned_file)),
                frozenset({Path(planned_file).name})))
        for name in dict.fromkeys(names):  # unknown names fail before any work
            plans.append(_Plan(name, scenario_config(config, name),
                               config.scenarios[name].description or name,
                               functools.partial(load_scenario_layers, name=name),
                               frozenset(src.path.name for sources in
                                         config.scenarios[name].layers.values()
                                         for src in sources)))
        stems = _stems([p.name for p in plans])
        compares = len(plans) > 1 or getattr(args, "all", False)
        output_dir(args, config)  # refused before any work when it cannot be written
        with staged_output(args, config, "scenario") as run:
            # measured as `geoplan run` measures: a city chunk by chunk of districts, its
            # largest frames held on disk in the staging folder; of today only the table stays
            if not compares:
                _drop_stale_comparison(run)
            set_progress(progress_enabled())  # a city's scenarios take minutes each
            today = coverage_as_run(config, load_layers(config), standards, run.path,
                                    progress_enabled())
            before = today.table
            written: list[Path] = []
            afters = {}
            failed: dict[str, str] = {}
            for k, (plan, stem) in enumerate(zip(plans, stems, strict=True), start=1):
                logging.getLogger("geoplan").info("scenario %s (%d of %d)", plan.name, k,
                                                  len(plans))
                try:
                    afters[plan.name] = _measure_plan(args, config, plan, stem, before,
                                                      standards, run.path, written,
                                                      today_seats=_seats(today))
                except InputDataError as exc:
                    if not compares:
                        raise
                    # one plan's bad file does not throw away the plans measured: the
                    # others are compared and written, and the run ends with exit code 1
                    failed[plan.name] = str(exc)
                    logging.getLogger("geoplan").error("scenario %s not measured: %s",
                                                       plan.name, exc)
            if compares and afters:
                city = compare_scenarios(before, afters, _residents(today.meta))
                print(scenarios_compared_text(city, lang, config.districts.unit,
                                              partial_districts(before)))
                written.append(write_csv(city, run.path / COMPARED_CSV))
            committed = run.commit(written)
    print(written_text(run.target, committed))
    if failed:
        raise InputDataError(
            f"{len(failed)} of {len(plans)} scenario(s) not measured, the others written: "
            + "; ".join(f"{name}: {why}" for name, why in failed.items()))
    return 0


COMPARED_CSV = "scenarios_compared.csv"


def _residents(meta: dict[str, Any]) -> dict[str, float] | None:
    """District -> residents inside the data, from a coverage result's ``meta`` (None
    without people)."""
    table = meta.get("residents")
    if table is None or not {"district", "residents_inside"} <= set(table.columns):
        return None
    return dict(zip(table["district"].astype(str), table["residents_inside"], strict=True))


def _drop_stale_comparison(run: OutputRun) -> None:
    """A comparison of an earlier ``--all`` goes when one scenario is measured again: it
    summed the scenario tables as they were then, and would disagree with the new one."""
    stale = run.path / COMPARED_CSV
    if stale.is_file():
        stale.unlink()
        if COMPARED_CSV in run.carried:
            run.carried.remove(COMPARED_CSV)
        logging.getLogger("geoplan").warning(
            "%s of an earlier --all is removed: it compared the scenarios as they were then; "
            "`geoplan scenario CONFIG --all` compares them again", COMPARED_CSV)


def _drop_stale_map(folder: Path) -> None:
    """A scenario measured again with --no-map loses the map an earlier run drew of it: the
    map showed the scenario's files as they were then, and would disagree with its table."""
    if folder.is_dir():
        shutil.rmtree(folder)
        logging.getLogger("geoplan").warning(
            "%s/ of an earlier run is removed: its map showed the scenario as it was then; "
            "run without --no-map to draw it again", folder.name)


@dataclasses.dataclass
class _Plan:
    """One scenario to measure: its name, config with the planned files, words, and how its
    layers are read (their errors naming the scenario or the planned CSV)."""

    name: str
    config: AnalysisConfig
    description: str
    load: Callable[[AnalysisConfig], LayerSet]
    sources: frozenset[str]
    """The names of its files (the ``source`` of its facilities), drawn apart on its map."""


def _stems(names: list[str]) -> list[str]:
    """One safe file name per scenario (a name never leaves --out). A name that is not a
    safe file name as it is gets a short hash of itself, so that each name always has the
    same file whatever else was run (``a/b`` and ``a-b`` never take each other's)."""
    from geoplan.report._data import file_stem

    stems = []
    for name in names:
        stem = file_stem(name, fallback="scenario")
        if stem != name:
            stem += "_" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:6]
        stems.append(f"scenario_{stem}")
    return stems


def _seats(result: Any) -> pd.DataFrame | None:
    """A coverage result's school seats per district and level, or None without people."""
    people = getattr(result, "people", None)
    return getattr(people, "seats", None) if people is not None else None


def _measure_plan(args: argparse.Namespace, config: AnalysisConfig, plan: _Plan, stem: str,
                  before: pd.DataFrame, standards: list[Standard], folder: Path,
                  written: list[Path], today_seats: pd.DataFrame | None = None
                  ) -> pd.DataFrame:
    """Measure one scenario against ``before``: print its table, write its CSV and map (their
    paths added to ``written``), and its school seats against ``today_seats`` where a seat
    gap moves (``<stem>_seats.csv``); returns its coverage table."""
    from geoplan._io import write_csv
    from geoplan._text import as_text
    from geoplan.cli._format import scenario_text, seats_text
    from geoplan.scenario import changed, compare, compare_seats, with_before

    lang = getattr(args, "lang", "zh")
    layers_after = plan.load(plan.config)
    after = coverage_as_run(plan.config, layers_after, standards, folder, progress_enabled())
    after_table = after.table
    table = compare(before, after_table)
    moves = bool(changed(table).any())
    if not moves:
        _say_nothing_changed(plan.name, table)
    shown = {("zh", True): "只列出有变化的行", ("zh", False): "没有任何覆盖率变化，列出全部行",
             ("en", True): "rows that change", ("en", False): "no share changes; every row"}
    title = (f"情景 {plan.name}：{plan.description}（{shown['zh', moves]}）" if lang != "en"
             else f"scenario {plan.name}: {plan.description} ({shown['en', moves]})")
    print(as_text(title))
    print(scenario_text(table, lang, config.districts.unit))
    print()
    written.append(write_csv(table.assign(scenario=plan.name)[["scenario", *table.columns]],
                             folder / f"{stem}.csv"))
    seats = compare_seats(today_seats, _seats(after))
    seats = seats.loc[seats["seat_gap_change"].abs().fillna(0) >= 0.5]  # half a child
    if len(seats):  # 学位缺口 before → after: a plan of schools is judged by it
        print(seats_text(seats, lang, config.districts.unit))
        print()
        written.append(write_csv(seats.assign(scenario=plan.name)[["scenario", *seats.columns]],
                                 folder / f"{stem}_seats.csv"))
    else:  # an earlier version of the plan moved seats: its table would describe it still
        (folder / f"{stem}_seats.csv").unlink(missing_ok=True)
    if getattr(args, "no_map", False):
        _drop_stale_map(folder / stem)
    else:
        from geoplan.report.maps import write_maps

        (folder / stem).mkdir(parents=True, exist_ok=True)
        heading = (f"{config.name} · 情景：{plan.description}" if lang != "en"
                   else f"{config.name} · scenario: {plan.description}")
        # a city's scenario map is an index with a page per district, as its run's
        # opened on the first standard the scenario changes, not the config's first
        moved = set(table.loc[changed(table), "standard"])
        first = next((s for s in dict.fromkeys(after.table["standard"]) if s in moved),
                     None)  # in the config's order
        after.table = with_before(after.table, before)  # the map says before → after
        after.meta["planned_sources"] = sorted(plan.sources)
        written += write_maps(layers_after, after, None, config, folder / stem, lang=lang,
                              title=heading, standard=first)
    return after_table


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
