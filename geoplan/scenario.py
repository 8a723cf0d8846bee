"""Scenarios (挂图作战): planned facilities on top of today's layers, coverage before and after.

A config's ``scenarios:`` section names sets of planned facility files; :func:`run_scenario`
adds them to the current layers, measures coverage again, and :func:`compare` lines the two
tables up per district and standard.

The meeting map's live scenario exports the facilities a planner placed as one CSV (columns
:data:`PLANNED_COLUMNS`, one row per facility, its layer kind in ``layer``);
:func:`planned_config` adds them to their layers (``geoplan scenario CONFIG --planned FILE``).
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from geoplan._errors import ConfigError, CRSError, InputDataError
from geoplan._text import first_named
from geoplan.config import AnalysisConfig, FileSource, file_problem
from geoplan.layers.files import check_field_counts, csv_text
from geoplan.layers.layerset import LayerSet
from geoplan.standards import Standard, planned_attributes
from geoplan.vocab import GEOMETRY

logger = logging.getLogger(__name__)

SHARES = ("share_buffer", "share_network", "share_population_buffer", "share_population_network")


def scenario_config(config: AnalysisConfig, name: str) -> AnalysisConfig:
    """``config`` with the planned facility files of scenario ``name`` added to its layers.

    Raises
    ------
    ConfigError
        If the config has no scenario of that name, or one of its files is not there
        (checked here, not when the config is read: a draft scenario without its file yet
        does not stop today's analysis).
    """
    if name not in config.scenarios:
        known = ", ".join(config.scenarios) or "none"
        raise ConfigError(str(config.source_file or "config"),
                          [f"scenarios: no scenario named {name!r} (the config has: {known})"])
    checked = [file_problem(f"scenarios.{name}.layers.{kind}[{i}].path", src.path)
               for kind, sources in config.scenarios[name].layers.items()
               for i, src in enumerate(sources)]
    missing = [p for p in checked if p is not None]
    if missing:
        raise ConfigError(str(config.source_file or "config"), missing)
    layers = {kind: list(sources) for kind, sources in config.layers.items()}
    for kind, sources in config.scenarios[name].layers.items():
        layers.setdefault(kind, []).extend(s.model_copy(update={"mode": "add"}) for s in sources)
    return config.model_copy(update={"layers": layers})


PLANNED_COLUMNS = ("standard", "layer", "name", "lon_wgs84", "lat_wgs84", "lon_gcj02",
                   "lat_gcj02")
"""Columns of a planned-facilities CSV (the map's export); ``layer``, ``lon_wgs84`` and
``lat_wgs84`` are required. Other columns (``levels``, ``kind``, ``area_m2`` …) are canonical
layer columns passed on as they are (they make a facility pass its standard's filter)."""

POINT_LAYERS = ("toilets", "schools", "bus_stops", "services")
"""Layer kinds a planned point can join (parks and green space need an outline)."""


def read_planned(path: Path) -> pd.DataFrame:
    """Read and check a planned-facilities CSV: every cell as text, rows in file order.

    Raises
    ------
    InputDataError
        If the file is missing or unreadable, lacks a required column, or a row has an
        unknown layer kind or coordinates that are not WGS 84 degrees (each named by line).
    """
    path = Path(path)
    if path.is_dir():
        raise InputDataError(f"planned facilities: {path} is a folder; give the CSV file inside it")
    if not path.is_file():
        raise InputDataError(f"planned facilities: file not found: {path}")
    text = csv_text(path, None)  # UTF-8 as the map exports it, or GBK from Excel
    _check_header(text, path)
    check_field_counts(text, f"planned facilities {path}")
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputDataError(f"planned facilities: cannot read {path} as a CSV: {exc}") from exc
    missing = [c for c in ("layer", "lon_wgs84", "lat_wgs84") if c not in table.columns]
    if missing:
        raise InputDataError(
            f"planned facilities {path}: no column {', '.join(missing)} (columns: "
            f"{list(table.columns)}). Export the file from the meeting map's live scenario "
            "(导出 CSV), or give these columns.")
    if not len(table):
        raise InputDataError(f"planned facilities {path}: no rows; place facilities first")
    problems = []
    for i, row in table.reset_index(drop=True).iterrows():
        line = int(str(i)) + 2
        layer = row["layer"].strip()
        if layer not in POINT_LAYERS:
            why = ("an area layer: a planned park or green space needs its outline (give a "
                   "polygon file in the config's `scenarios:`)" if GEOMETRY.get(layer) == "area"
                   else f"not a layer of planned points; use one of {', '.join(POINT_LAYERS)}")
            problems.append(f"line {line}: layer {layer!r} is {why}")
        try:
            lon, lat = float(row["lon_wgs84"]), float(row["lat_wgs84"])
        except ValueError:
            problems.append(f"line {line}: lon_wgs84/lat_wgs84 are not numbers "
                            f"({row['lon_wgs84']!r}, {row['lat_wgs84']!r})")
            continue
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180
                and -90 <= lat <= 90):
            problems.append(f"line {line}: lon_wgs84={lon}, lat_wgs84={lat} are not degrees")
    if problems:
        shown = first_named(problems, 5, "; ")
        raise InputDataError(f"planned facilities {path}: {shown}")
    table["layer"] = table["layer"].str.strip()
    return table


def _fill_from_standards(table: pd.DataFrame, standards: Sequence[Standard], path: Path) -> None:
    """Give each row that names a standard the columns its standard's filter reads, where the
    row leaves them empty (in place): a hand-made file's planned kindergarten in ``services``
    with no ``kind`` passes no filter and was left out of every standard in silence.

    Raises
    ------
    InputDataError
        A row names a standard the config does not check, or one of another layer.
    """
    if "standard" not in table.columns:
        return
    by_id = {s.id: s for s in standards}
    problems, filled = [], 0
    for i in range(len(table)):
        sid = str(table.at[i, "standard"]).strip()
        if not sid:
            continue
        std = by_id.get(sid)
        if std is None:
            problems.append(f"line {i + 2}: standard {sid!r} is not one this config checks "
                            f"({first_named(sorted(by_id), 8, ', ')})")
            continue
        if std.facility is None:  # a life circle: its items' filters differ; rows say the item
            continue
        layer = str(table.at[i, "layer"])
        if std.facility.layer != layer:
            problems.append(f"line {i + 2}: standard {sid} counts facilities of the layer "
                            f"{std.facility.layer}, not {layer}")
            continue
        for column, value in planned_attributes(std).items():
            if column not in table.columns:
                table[column] = ""
            if not str(table.at[i, column]).strip():
                table.at[i, column] = str(value)
                filled += 1
    if problems:
        raise InputDataError(f"planned facilities {path}: {first_named(problems, 5, '; ')}")
    if filled:
        logger.info("planned facilities: %d value(s) of kind, levels or area filled in from the "
                    "standard each row names", filled)


def _check_header(text: str, path: Path) -> None:
    """Refuse a header naming a column twice (the second would be read in silence)."""
    header = next(csv.reader(io.StringIO(text)), None) or []
    twice = sorted({h for h in header if header.count(h) > 1 and h.strip()})
    if twice:
        raise InputDataError(f"planned facilities {path}: the header names {twice} more than "
                             "once; keep one column of each name")


def planned_config(config: AnalysisConfig, path: Path, workdir: Path,
                   standards: Sequence[Standard] | None = None) -> AnalysisConfig:
    """``config`` with the facilities of a planned-facilities CSV added to their layers.

    Parameters
    ----------
    config
        The analysis.
    path
        The CSV (see :data:`PLANNED_COLUMNS`), e.g. exported from the meeting map.
    workdir
        An existing folder for one CSV per layer kind (read when the layers are loaded).
    standards
        The standards the rows' ``standard`` column names (None: the config's): a row gets
        the ``kind``, ``levels`` or area its standard's filter needs where it leaves them
        empty.

    Returns
    -------
    AnalysisConfig
        Each layer kind of the file gets one more source, ``mode: add``, in WGS 84.
    """
    table = read_planned(path).reset_index(drop=True)
    if standards is None:
        from geoplan.standards import check_config_standards

        standards = check_config_standards(config)
    _fill_from_standards(table, standards, path)
    layers = {kind: list(sources) for kind, sources in config.layers.items()}
    for kind, rows in table.groupby("layer", sort=False):
        keep = [c for c in rows.columns if c != "layer" and (rows[c] != "").any()]
        if "name" not in keep and "name" in rows.columns:
            keep.append("name")
        # named as the planner's file, so that the map's popups say where a facility came
        # from (the folder keeps the layers apart)
        target = Path(workdir) / f"planned_{kind}" / Path(path).name
        target.parent.mkdir(exist_ok=True)
        rows[keep].to_csv(target, index=False, encoding="utf-8")
        source = FileSource(path=target, crs="wgs84", lon="lon_wgs84", lat="lat_wgs84",
                            mode="add", encoding="utf-8")
        layers.setdefault(str(kind), []).append(source)
        logger.info("planned facilities: %d %s from %s", len(rows), kind, Path(path).name)
    return config.model_copy(update={"layers": layers})


SHARE_MOVED = 1e-6
"""A share that moves less than this has not moved: a planned toilet given on an existing one
(its GCJ-02 read back to WGS 84 lands millimetres off) moved one by 3e-8 and was listed as a
change, and marked the best plan. One millionth is 1 m² of a 100 ha district's homes."""


def changed(table: pd.DataFrame) -> pd.Series:
    """Which rows of :func:`compare`'s table change a straight-line or walking share (by
    :data:`SHARE_MOVED` or more)."""
    return (table["share_buffer_change"].abs().fillna(0).ge(SHARE_MOVED)
            | table["share_network_change"].abs().fillna(0).ge(SHARE_MOVED))


def compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Coverage tables side by side: each share before, after and the change, per district ×
    standard, with the district's demand (``demand_total`` in ``demand_unit``) where
    ``before`` has it, and after the plan (``demand_total_after``, where ``after`` has it)."""
    keys = ["district", "standard"]
    # each district's demand too, so that sums over districts can be made from the table
    extra = [c for c in ("demand_total", "demand_unit") if c in before]
    left = before[[*keys, "name_zh", "target", *extra, "n_facilities", *SHARES,
                   "meets_target"]]
    # a plan can change the demand itself (a riverside park adds riverside paths to the
    # toilets' 800 m standard): the shares after are of the demand after
    right = after[[*keys, *(["demand_total"] if "demand_total" in after else []),
                   "n_facilities", *SHARES, "meets_target"]].rename(
        columns={"demand_total": "demand_total_after"})
    table = left.merge(right, on=keys, suffixes=("_before", "_after"), how="outer")
    order = {sid: i for i, sid in enumerate(dict.fromkeys(before["standard"]))}
    table = table.sort_values("standard", key=lambda s: s.map(order), kind="stable",
                              ignore_index=True)  # today's order (an outer merge sorts by id)
    for share in SHARES:
        table[f"{share}_change"] = table[f"{share}_after"] - table[f"{share}_before"]
    table["newly_meets_target"] = ~table["meets_target_before"].astype(bool) & table[
        "meets_target_after"].astype(bool)
    return table


SEAT_COLUMNS = ("district", "level", "children", "seats_reached_before", "seats_reached_after",
                "seat_gap_before", "seat_gap_after", "seat_gap_change")
"""Columns of :func:`compare_seats`."""


def compare_seats(before: pd.DataFrame | None, after: pd.DataFrame | None) -> pd.DataFrame:
    """School seats (学位) before and after a plan, per district and level: the seats within
    walking reach and the 学位缺口 (``people.seats`` of the two results; the children do not
    change with a plan). Empty without seats on either side.

    >>> b = pd.DataFrame({"district": ["甲"], "level": ["primary"], "children": [100.0],
    ...                   "seats_reached": [40.0], "seat_gap": [60.0]})
    >>> compare_seats(b, b.assign(seats_reached=[90.0], seat_gap=[10.0]))[
    ...     ["seat_gap_before", "seat_gap_after", "seat_gap_change"]].values.tolist()
    [[60.0, 10.0, -50.0]]
    """
    if before is None or after is None or not len(before) or not len(after):
        return pd.DataFrame(columns=list(SEAT_COLUMNS))
    keys = ["district", "level"]
    cols = ["seats_reached", "seat_gap"]
    table = before[[*keys, "children", *cols]].merge(after[[*keys, *cols]], on=keys,
                                                     suffixes=("_before", "_after"), how="left")
    table["seat_gap_change"] = table["seat_gap_after"] - table["seat_gap_before"]
    return table[list(SEAT_COLUMNS)]


TODAY = "现状"
"""The ``scenario`` of today's rows in :func:`compare_scenarios`' table."""

CITY_COLUMNS = ("standard", "name_zh", "target", "scenario", "today", "share_buffer",
                "share_network", "share_buffer_change", "share_network_change",
                "share_population_buffer", "share_population_network",
                "share_population_buffer_change", "share_population_network_change",
                "uncovered_population", "uncovered_length_m", "districts_meeting",
                "districts_measured", "best")
"""Columns of :func:`compare_scenarios`' table."""


def compare_scenarios(before: pd.DataFrame, afters: Mapping[str, pd.DataFrame],
                      residents: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Today and each scenario side by side for the whole area measured (方案比选).

    Parameters
    ----------
    before
        Today's coverage table (:data:`geoplan.results.COVERAGE_TABLE`).
    afters
        Scenario name -> its coverage table, in the order to show.
    residents
        District -> its residents inside the data (``residents_inside`` of
        :data:`geoplan.results.RESIDENTS`), the weights of the population shares; None
        leaves those columns NaN.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CITY_COLUMNS`, per standard (in ``before``'s order) one row for today
        (``scenario`` :data:`TODAY`, ``today`` True) and one per scenario. ``share_buffer``
        and ``share_network`` are the districts' shares weighted by their demand
        (``demand_total``): the demand covered in all districts over their demand, within
        the data where a district is only partly inside it. ``share_population_*`` are
        the districts' population shares weighted by their ``residents``: the people covered
        over the people, straight-line and walking (NaN without people, and for the street
        standards). ``*_change`` is against today
        (0 for today's row); ``uncovered_population`` the districts' sum of people outside
        the straight-line buffers (NaN without population), ``uncovered_length_m`` of street
        outside them (the toilet standards; NaN for the others); ``districts_meeting`` of
        ``districts_measured`` (those with something to measure) meet the target; ``best``
        marks the plans with the highest straight-line share of the standard, when it is
        above today's (ties all marked).
    """
    from geoplan.results.coverage import demand_weighted, verdicts

    rows = []
    people_of = dict(residents or {})
    tables = [(True, TODAY, before), *((False, name, t) for name, t in afters.items())]
    for sid in dict.fromkeys(before["standard"]):
        today = None
        for is_today, name, table in tables:
            part = table.loc[table["standard"] == sid]
            weight = pd.to_numeric(part["demand_total"], errors="coerce")
            people = pd.to_numeric(part["district"].astype(str).map(people_of), errors="coerce")
            said = verdicts(part)
            row = {"standard": sid, "name_zh": part["name_zh"].iloc[0] if len(part) else "",
                   "target": part["target"].iloc[0] if len(part) else math.nan,
                   "scenario": name, "today": is_today,
                   "share_buffer": demand_weighted(part["share_buffer"], weight),
                   "share_network": demand_weighted(part["share_network"], weight),
                   **{share: demand_weighted(part[share], people) if share in part else math.nan
                      for share in ("share_population_buffer", "share_population_network")},
                   "uncovered_population": _total(part, "uncovered_population"),
                   "uncovered_length_m": _total(part, "uncovered_length_m"),
                   "districts_meeting": int((said == True).sum()),  # noqa: E712
                   "districts_measured": int(said.notna().sum())}
            today = today or row
            for share in SHARES:
                row[f"{share}_change"] = row[share] - today[share]
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(CITY_COLUMNS))
    plans = table.loc[~table["today"].astype(bool)]
    top = plans.groupby("standard", sort=False)["share_buffer"].transform("max")
    table["best"] = False
    table.loc[plans.index, "best"] = ((plans["share_buffer"] >= top - 1e-12)
                                      & (plans["share_buffer_change"] >= SHARE_MOVED))
    return table


def _total(part: pd.DataFrame, column: str) -> float:
    """The districts' sum of ``column`` (NaN when none has a value, or no such column)."""
    if column not in part:
        return math.nan
    return float(pd.to_numeric(part[column], errors="coerce").sum(min_count=1))


def with_before(after: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """The coverage table ``after`` with ``before``'s shares, verdict and uncovered land,
    street and people beside its own, as ``<column>_before`` (matched on district and
    standard).

    The scenario's map draws this table: its popups, tooltips, district labels and index say
    "39.4% → 47.4%" where a share moved (:func:`geoplan.report._data.fmt_share_change`).
    """
    keys = ["district", "standard"]
    cols = [c for c in (*SHARES, "meets_target", "uncovered_area_m2", "uncovered_length_m",
                        "uncovered_population") if c in before]
    then = before[[*keys, *cols]].rename(columns={c: f"{c}_before" for c in cols})
    return after.merge(then, on=keys, how="left", validate="one_to_one")


def run_scenario(config: AnalysisConfig, name: str, standards: Sequence[Standard]) -> pd.DataFrame:
    """Measure coverage without and with scenario ``name``; return :func:`compare`'s table."""
    return _before_after(config, scenario_config(config, name), standards, name=name)


def run_planned(config: AnalysisConfig, path: Path, standards: Sequence[Standard]) -> pd.DataFrame:
    """Measure coverage without and with the facilities of a planned-facilities CSV.

    The CSV is the meeting map's export (see :func:`planned_config`); returns :func:`compare`'s
    table.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="geoplan-planned-") as work:
        planned = planned_config(config, path, Path(work), standards)
        return _before_after(config, planned, standards,
                             load_planned_layers(planned, Path(work), path))


def as_planned_file(text: str, workdir: Path, source: Path) -> str:
    """``text`` with the per-layer files :func:`planned_config` made in ``workdir`` named as
    the rows of the planned CSV ``source`` they came from (the planner never made them)."""
    return re.sub(re.escape(str(Path(workdir))) + r"/planned_(\w+)/" + re.escape(Path(source).name)
                  + r"(?: \(\w+\))?", lambda m: f"{source} (its {m.group(1)} rows)", text)


def load_scenario_layers(planned: AnalysisConfig, name: str) -> LayerSet:
    """The layers of :func:`scenario_config`'s ``planned`` config, an error saying it comes
    from scenario ``name`` (read after today's layers, so what fails is one of its files)."""
    from geoplan.layers import load_layers

    try:
        return load_layers(planned)
    except (InputDataError, CRSError) as exc:
        raise type(exc)(f"scenario {name} (scenarios.{name}.layers): "
                        f"{_scenario_keys(str(exc), planned, name)}") from exc


def _scenario_keys(text: str, planned: AnalysisConfig, name: str) -> str:
    """``text`` with the keys of :func:`scenario_config`'s merged layers (``layers.toilets[2]``)
    that are the scenario's files named as the user wrote them
    (``scenarios.<name>.layers.toilets[0]``); today's own files keep their keys."""
    own = planned.scenarios[name].layers if name in planned.scenarios else {}

    def key(match: re.Match[str]) -> str:
        kind, i = match.group(1), int(match.group(2))
        base = len(planned.layers.get(kind, [])) - len(own.get(kind, []))
        return match.group(0) if i < base else f"scenarios.{name}.layers.{kind}[{i - base}]"

    return re.sub(r"(?<![\w.])layers\.(\w+)\[(\d+)\]", key, text)


def load_planned_layers(planned: AnalysisConfig, workdir: Path, source: Path) -> LayerSet:
    """The layers of a :func:`planned_config`, its errors naming the planned CSV ``source``
    (not the per-layer files made from it in ``workdir``)."""
    from geoplan.layers import load_layers
    from geoplan.layers.checks import CRS_HINT

    try:
        return load_layers(planned)
    except InputDataError as exc:
        text = as_planned_file(str(exc), workdir, source)
        if text == str(exc):
            raise
        text = text.replace(CRS_HINT.format(crs="wgs84"),  # planned_config declares wgs84
                            "its lon_wgs84/lat_wgs84 columns (WGS 84 degrees, as the meeting "
                            "map exports them)")
        raise InputDataError(text) from exc


def _before_after(config: AnalysisConfig, planned: AnalysisConfig,
                  standards: Sequence[Standard], planned_layers: LayerSet | None = None,
                  name: str = "") -> pd.DataFrame:
    from geoplan.coverage import run_coverage
    from geoplan.layers import load_layers
    from geoplan.layers.checks import require_walkways

    today = load_layers(config)
    require_walkways(today, config)
    if planned_layers is None:  # before any coverage work: a bad planned file fails at once
        planned_layers = load_scenario_layers(planned, name)
    before = run_coverage(today, standards, config.demand).table
    after = run_coverage(planned_layers, standards, config.demand).table
    return compare(before, after)
