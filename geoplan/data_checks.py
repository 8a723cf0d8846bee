"""What a planner should check before trusting a figure: the data-check report.

:func:`data_checks` gathers, from one run's layers and results, every reason a figure may be
off because of the data rather than the city:

``datum``
    District boundaries lie a systematic 100–700 m off OpenStreetMap's administrative
    boundaries (or, without them, its street grid) as declared, and line up once read in
    another Chinese datum: GCJ-02 boundaries declared as WGS 84 change district areas by up to
    20% with no other sign. Also warned loudly on the terminal, with the fix.
``truncated_data``
    Features kept from ways with nodes missing from the file (a hard-clipped extract).
``partial_district``
    Districts only partly inside the data: their figures cover that part.
``tiny_district``
    Districts smaller than :data:`TINY_DISTRICT_M2` (a sliver of a boundary, a polygon
    collapsed by a conversion): their shares stand for almost nothing.
``overlapping_units``
    Districts that overlap (:func:`geoplan.layers.overlaps.district_overlaps`): homes there
    count in both.
``no_facility``
    Standards with no facility of some kind in the input (an item of a life circle has no
    data; a standard of one kind scores 0).
``unreached_facility``
    Facilities no walkway reaches (they count for the buffer share only).
``mapping_gap``
    Road ends a few metres from another road without a shared node (dead-end category
    ``data_check``): shown apart, never ranked as openings.
``demand_off_network``
    Residential demand points with no walkway of the network within the snapping limit.

:func:`write_data_checks` writes ``data_checks.csv`` and the ``data_checks`` layer of
``data_checks.gpkg``; :func:`geoplan.report.tables.write_workbook` writes the sheet of the
report workbook (:func:`add_workbook_sheet` adds it to an existing one).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._io import atomic_path, write_csv, write_gpkg
from geoplan._text import area_text, share_text
from geoplan.results.coverage import split_items
from geoplan.results.data_checks import DATA_CHECKS
from geoplan.standards import item_name
from geoplan.vocab import DEFAULT_UNIT, WHOLE_DISTRICT_SHARE

logger = logging.getLogger(__name__)

__all__ = ["add_workbook_sheet", "data_checks", "write_data_checks"]

TINY_DISTRICT_M2 = 10_000.0
"""A district smaller than this (1 ha: a block; a 社区 or a 网格 is larger) is said to be a
sliver: a reviewer's zero-area polygon became 800 m² after the datum conversion and was
reported at 86 % coverage."""


def _row(check: str, severity: str, district: str, subject: str, count: int, measure: float,
         detail: str, fix: str, geometry: Any = None, subject_en: str = "") -> dict[str, Any]:
    return {"check": check, "severity": severity, "district": district, "subject": subject,
            "subject_en": subject_en, "count": int(count), "measure": float(measure),
            "detail": detail, "fix": fix, "geometry": geometry}


def data_checks(layerset: Any, coverage: Any = None, deadends: Any = None,
                standards: Sequence[Any] = (), datum: dict[str, Any] | None = None,
                overlaps: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Every data check of one run, as a table with a point per located check.

    Parameters
    ----------
    layerset
        The loaded layers (issues log, districts).
    coverage
        The :class:`~geoplan.results.CoverageResult` (facilities, table), or None.
    deadends
        The :class:`~geoplan.results.DeadEndResult`, or None.
    standards
        The standards checked (for facility kinds with no facility).
    datum
        The :func:`datum_check` result, or None.
    overlaps
        The districts that overlap (:func:`~geoplan.layers.overlaps.district_overlaps`) over
        the whole city, as a batch job is told them; None finds them among the layer set's.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns of :data:`geoplan.results.data_checks.DATA_CHECKS`, in the analysis CRS.
    """
    from geoplan.layers.districts import LEFT_OUT_ISSUE
    from geoplan.layers.file_datum import FILE_DATUM_CHECK
    from geoplan.layers.from_osm import TRUNCATED_ISSUE

    rows: list[dict[str, Any]] = []
    if datum is not None and datum.get("suspect"):
        rows.append(_row("datum", "warning", "", "districts", 0, datum["median_m"][datum["declared"]],
                         datum["message"], f"--districts-crs {datum['best']}"))
    issues = layerset.issues
    if len(issues):
        datums = issues.loc[issues["issue"].astype(str).str.startswith(f"{FILE_DATUM_CHECK}: ")]
        for rec in datums.itertuples(index=False):
            detail = str(rec.issue).removeprefix(f"{FILE_DATUM_CHECK}: ")
            what, _, fix = detail.partition(" Fix: ")
            rows.append(_row(FILE_DATUM_CHECK, "warning", "", str(rec.layer), int(rec.count),
                             np.nan, what, fix.removesuffix(".")))
        left = issues.loc[issues["issue"].astype(str).str.startswith(f"{LEFT_OUT_ISSUE}: ")]
        for rec in left.itertuples(index=False):
            names = str(rec.issue).removeprefix(f"{LEFT_OUT_ISSUE}: ")
            rows.append(_row(LEFT_OUT_ISSUE, "note", "", "districts", int(rec.count), np.nan,
                             f"{rec.count} district(s) of {rec.source} are not analysed: they lie "
                             f"outside the data, or too little of them inside: {names}",
                             "use data that covers them, or lower districts.min_inside_km2 for "
                             "those barely inside"))
        cut = issues.loc[issues["issue"] == TRUNCATED_ISSUE]
        for rec in cut.itertuples(index=False):
            rows.append(_row("truncated_data", "note", "", str(rec.layer), int(rec.count), np.nan,
                             f"{rec.count} {rec.layer} feature(s) built from ways with nodes "
                             "missing from the file: their parts inside the data are kept",
                             "use an extract cut with complete ways where these matter"))
    for d in layerset.districts.itertuples(index=False):
        whole = float(getattr(d, "full_area_m2", getattr(d, "area_m2", np.nan)))
        if whole < TINY_DISTRICT_M2:
            rows.append(_row("tiny_district", "warning", str(d.district), "districts", 0, whole,
                             f"{d.district} covers only {whole:,.0f} m²: a sliver of a boundary "
                             "or a polygon collapsed by a conversion, not an area to measure",
                             "check the district's boundary in the file"))
        share = float(getattr(d, "inside_share", 1.0))
        if share < WHOLE_DISTRICT_SHARE:
            km2 = float(d.area_m2) / 1e6
            rows.append(_row("partial_district", "note", str(d.district), "districts", 0, share,
                             f"only {km2:.2f} km² ({share_text(share)}) of {d.district} lies inside the "
                             "data: its figures cover that part, not the whole district",
                             "use data covering the whole district for district-wide figures"))
    rows += _overlap_checks(layerset, overlaps)
    rows += _twice_mapped_schools(layerset)
    if coverage is not None:
        rows += _coverage_checks(coverage, standards)
    if deadends is not None and len(deadends.dead_ends):
        gaps = deadends.dead_ends.loc[deadends.dead_ends["category"] == "data_check"]
        for rec in gaps.itertuples(index=False):
            rows.append(_row("mapping_gap", "note", str(rec.district), str(rec.id), 1,
                             float(getattr(rec, "length_m", np.nan)),
                             f"{rec.name or rec.highway}: {rec.reason}",
                             "check on the ground or imagery; join the way in OSM if it connects",
                             shapely.Point(rec.end_x, rec.end_y)))
    frame = gpd.GeoDataFrame(rows or None, columns=[*DATA_CHECKS.names, "geometry"],
                             geometry="geometry", crs=layerset.crs)
    frame["count"] = frame["count"].astype("int64")
    frame["measure"] = frame["measure"].astype("float64")
    n_warn = int((frame["severity"] == "warning").sum())
    logger.info("data checks: %d (%d warnings); see data_checks.csv", len(frame), n_warn)
    return frame


SAME_SCHOOL_M = 200.0
"""Two schools of one name closer than this are one campus mapped twice (or a school and its
second building): its seats would count twice."""


def _twice_mapped_schools(layerset: Any) -> list[dict[str, Any]]:
    """A note per pair of schools with the same name within :data:`SAME_SCHOOL_M` of each
    other: two OSM objects for one school each get the seats of a whole school."""
    schools = layerset["schools"] if "schools" in getattr(layerset, "layers", {}) else None
    if schools is None or len(schools) < 2 or "name" not in schools:
        return []
    geoms = schools.geometry.to_numpy()
    names = schools["name"].fillna("").astype(str).str.strip().to_numpy()
    ids = (schools["source_id"].astype(str).to_numpy() if "source_id" in schools
           else np.arange(len(schools)).astype(str))
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=SAME_SCHOOL_M)
    pair = (left < right) & (names[left] == names[right]) & (names[left] != "")
    districts = layerset.districts
    rows = []
    for a, b in zip(left[pair].tolist(), right[pair].tolist(), strict=True):
        gap = float(shapely.distance(geoms[a], geoms[b]))
        mid = shapely.centroid(shapely.MultiPoint([shapely.point_on_surface(geoms[a]),
                                                   shapely.point_on_surface(geoms[b])]))
        inside = districts.loc[districts.geometry.contains(mid), "district"]
        rows.append(_row("school_mapped_twice", "note", str(inside.iloc[0]) if len(inside) else "",
                         names[a], 2, gap,
                         f"{names[a]} is mapped twice, {gap:.0f} m apart ({ids[a]}, {ids[b]}): "
                         "each gets the seats of a whole school, so its seats may count twice",
                         "check in OSM whether they are one school; if so, merge them there, or "
                         "list the schools in a file of your own (layers.schools, mode: replace)",
                         mid))
    return rows


def _overlap_checks(layerset: Any, overlaps: pd.DataFrame | None) -> list[dict[str, Any]]:
    """For each of this run's districts, a row per district it overlaps (a pair of this run's
    gives two rows, one in each district's report)."""
    from geoplan.layers.overlaps import district_overlaps

    if overlaps is None:
        overlaps = district_overlaps(layerset.districts)
    mine = set(layerset.districts["district"].astype(str))
    rows = []
    for rec in overlaps.to_dict("records"):
        km2, share = rec["area_m2"] / 1e6, rec["share"]
        for district, other in ((rec["district"], rec["other"]), (rec["other"], rec["district"])):
            if district not in mine:
                continue
            rows.append(_row("overlapping_units", "warning", district, other, 1, km2,
                             f"{district} and {other} overlap by {area_text(km2 * 1e6)} "
                             f"({share_text(share)} of the smaller): homes there count in "
                             "both, and residents shared by residential land go partly to the "
                             "wrong one",
                             "correct the boundaries so that the districts do not overlap",
                             shapely.Point(rec["x"], rec["y"])))
    return rows


def _coverage_checks(coverage: Any, standards: Sequence[Any]) -> list[dict[str, Any]]:
    rows = []
    fac = coverage.facilities
    table = coverage.table
    # the standards with a share somewhere (the others have nothing to measure: no homes or
    # no such streets in the districts)
    scored = (set(table.loc[table["share_buffer"].notna(), "standard"].astype(str))
              if "share_buffer" in table else None)
    # the items the coverage found in no input file (one with none near the districts but
    # some farther away scores 0 there: a gap, not missing data)
    absent = ({str(s): set(split_items(str(v or ""))) for s, v in
               zip(table["standard"], table["items_no_data"], strict=True)}
              if "items_no_data" in table and "standard" in table else None)
    sets: dict[tuple[str, str], Any] = {}
    for std in standards:
        basket = len(std.facility_sets) > 1
        for fs in std.facility_sets:
            item = fs.label or fs.layer
            zh, en = item_name(std, fs, "zh"), item_name(std, fs, "en")
            sets[(std.id, item)] = (zh, en)
            n = int(((fac["standard"] == std.id) & (fac["item"] == item)).sum()) if len(fac) else 0
            if n == 0 and (absent is None or zh in absent.get(std.id, {zh})):
                # a life circle leaves an item without data out of its shares; a standard of
                # one kind of facility scores 0
                measured = scored is None or std.id in scored
                what = ("so the item has no data and is left out of the life circle's shares"
                        if basket else "so it scores 0" if measured else
                        "and nothing it measures lies in the districts either: it has no share")
                rows.append(_row("no_facility", "warning", "",
                                 f"{std.name_zh}/{zh}" if basket else std.name_zh, 0,
                                 np.nan if basket or not measured else 0.0,
                                 f"{std.name_en}: no {fs.said} facility in the input, "
                                 f"{what} (missing in the data, or none exists)",
                                 "check the data; add planners' files (layers:) if OSM lacks them",
                                 subject_en=f"{std.name_en}/{en}" if basket else std.name_en))
    if len(fac):
        off = fac.loc[fac["n_access"] == 0]
        seen: set[tuple[str, str]] = set()
        for rec in off.itertuples(index=False):
            key = (str(rec.source_id), str(rec.item))
            if key in seen:
                continue
            seen.add(key)
            zh, en = sets.get((str(rec.standard), str(rec.item)), (str(rec.item), str(rec.item)))
            ident = str(rec.name or "").strip() or str(rec.source_id)
            rows.append(_row("unreached_facility", "note", str(rec.district), f"{zh} {ident}",
                             1, float(rec.radius_m),
                             f"{en} {ident}: no walkway within reach; it counts for the "
                             "straight-line share only",
                             "check the paths to it in the data", rec.geometry,
                             subject_en=f"{en} {ident}"))
    table = coverage.table
    res = table.loc[table["demand_kind"] == "residential"]
    if len(res):
        worst = res.groupby("district")["unreachable_points"].max()
        for district, n in worst.items():
            if n > 0:
                rows.append(_row("demand_off_network", "note", str(district), "residential",
                                 int(n), np.nan,
                                 f"{n} residential demand point(s) have no walkway of the "
                                 "network within the snapping limit (none near, or only a stray "
                                 "path joined to nothing): they count as not reached by walking",
                                 "check paths inside the compounds and where they meet the "
                                 "streets; raise demand.max_snap_m"))
    return rows


def write_data_checks(checks: gpd.GeoDataFrame, out_dir: Path, *,
                      unit: str = DEFAULT_UNIT) -> list[Path]:
    """Write ``data_checks.csv`` and ``data_checks.gpkg`` (layer ``data_checks``; its QGIS
    aliases call the districts ``unit``)."""
    from geoplan.locate import lonlat_columns
    from geoplan.report.qgis_styles import styler

    table = checks.drop(columns="geometry")
    if len(checks):
        # metres in the analysis CRS, and degrees a planner pastes into a web map (NaN where
        # a check has no place)
        geoms = checks.geometry.to_numpy()
        placed = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        lon = np.full(len(checks), np.nan)
        lat = np.full(len(checks), np.nan)
        if placed.any():
            wgs = gpd.GeoSeries(geoms[placed], crs=checks.crs).to_crs("EPSG:4326")
            lon[placed], lat[placed] = wgs.x.to_numpy(), wgs.y.to_numpy()
        table = table.assign(x=checks.geometry.x, y=checks.geometry.y, **lonlat_columns(lon, lat))
    return [write_csv(table, out_dir / "data_checks.csv"),
            write_gpkg({"data_checks": checks}, out_dir / "data_checks.gpkg",
                       styles=styler(unit=unit))]


def add_workbook_sheet(workbook: Path, checks: gpd.GeoDataFrame, title: str = "数据核查",
                       unit: str = DEFAULT_UNIT) -> Path:
    """Add (or replace) the data-check sheet of an existing report workbook.

    This reads and saves the whole workbook again; when writing a new workbook, pass the
    checks to :func:`geoplan.report.tables.write_workbook` instead (one save).
    """
    from openpyxl import load_workbook

    from geoplan.report._labels import labels
    from geoplan.report.checks_sheet import fill_checks_sheet
    from geoplan.report.tables import print_setup, values_only

    wb = load_workbook(workbook)
    if title in wb.sheetnames:
        del wb[title]
    ws = wb.create_sheet(title)
    fill_checks_sheet(ws, checks, unit)
    print_setup(ws, labels("zh", unit))
    values_only(wb)
    with atomic_path(workbook) as tmp:
        wb.save(tmp)
    return workbook
