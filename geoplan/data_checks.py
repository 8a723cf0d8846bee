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
``no_facility``
    Standards with no facility of some kind in the context area (they score 0).
``unreached_facility``
    Facilities no walkway reaches (they count for the buffer share only).
``mapping_gap``
    Road ends a few metres from another road without a shared node (dead-end category
    ``data_check``): shown apart, never ranked as openings.
``demand_off_network``
    Residential demand points farther than the snapping limit from any walkway.

:func:`write_data_checks` writes ``data_checks.csv`` and the ``data_checks`` layer of
``data_checks.gpkg``; :func:`add_workbook_sheet` adds the sheet to the report workbook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan import chinese_coords as cc
from geoplan._io import atomic_path, write_csv, write_gpkg
from geoplan.results.data_checks import DATA_CHECKS

logger = logging.getLogger(__name__)

__all__ = ["DatumCheck", "add_workbook_sheet", "data_checks", "datum_check", "write_data_checks"]

DATUM_OFFSET_M = (100.0, 700.0)
"""A median offset in this range that another datum removes is the GCJ-02/BD-09 signature."""

DATUM_GAIN = 0.4
"""The other datum must bring the median offset below this share of the declared one."""

SAMPLE_STEP_M = 25.0
"""Reference lines are sampled every this many metres."""

ADMIN_LEVELS = ("5", "6", "7")
"""OSM ``admin_level`` values of city districts and counties (区/县) in China."""

MIN_ADMIN_KM = 1.0
"""Below this length of OSM administrative boundary inside the data, the street grid is used."""

_Transform = Callable[[np.ndarray, np.ndarray], tuple[Any, Any]]


class DatumCheck(dict[str, Any]):
    """Result of :func:`datum_check`: ``declared``, ``reference``, ``median_m`` per datum,
    ``best``, ``suspect`` (bool) and ``message``."""


def _alternatives(declared: str) -> dict[str, _Transform | None]:
    """How to re-read the loaded (WGS 84) boundaries as if the file were in another datum."""
    ident = None
    if declared == "gcj02":
        return {"gcj02": ident, "wgs84": cc.wgs84_to_gcj02,
                "bd09": lambda x, y: cc.bd09_to_wgs84(*cc.wgs84_to_gcj02(x, y))}
    if declared == "bd09":
        return {"bd09": ident, "wgs84": cc.wgs84_to_bd09,
                "gcj02": lambda x, y: cc.gcj02_to_wgs84(*cc.wgs84_to_bd09(x, y))}
    return {declared: ident, "gcj02": cc.gcj02_to_wgs84, "bd09": cc.bd09_to_wgs84}


def _apply(geoms: np.ndarray, fn: _Transform | None) -> np.ndarray:
    if fn is None:
        return geoms

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = fn(xy[:, 0], xy[:, 1])
        return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])

    return np.asarray(shapely.transform(geoms, move), dtype=object)


def _samples(lines: np.ndarray, step: float) -> np.ndarray:
    lines = lines[~shapely.is_empty(lines)]
    parts = shapely.get_parts(lines)
    parts = parts[shapely.get_type_id(parts) == 1]
    if len(parts) == 0:
        return np.zeros(0, dtype=object)
    length = shapely.length(parts)
    n = np.maximum(np.round(length / step), 1).astype(int)
    rep = np.repeat(np.arange(len(parts)), n + 1)
    k = np.concatenate([np.arange(m + 1) for m in n])
    return shapely.line_interpolate_point(parts[rep], k * length[rep] / n[rep])


def datum_check(districts_wgs: gpd.GeoDataFrame, declared: str, reference_wgs: np.ndarray,
                reference: str, extent_wgs: Any, crs: Any) -> DatumCheck:
    """Whether the district boundaries line up with OSM better in another Chinese datum.

    Parameters
    ----------
    districts_wgs
        The districts as loaded (converted from the declared CRS to WGS 84).
    declared
        The declared CRS label (``wgs84``, ``gcj02``, ``bd09`` or another).
    reference_wgs
        OSM lines the district edges should follow: administrative boundaries, or roads.
    reference
        ``'administrative boundaries'`` or ``'street grid'``.
    extent_wgs
        The data's extent: only edges inside it are compared.
    crs
        A metric CRS to measure in.

    Returns
    -------
    DatumCheck
        With the median distance (m) to the reference for each datum and ``shift_m``, how far
        the best datum moves the boundaries; ``suspect`` when that shift is 100–700 m and the
        best datum brings the distance under 40% of the declared one's (and under half the
        shift).
    """
    result = DatumCheck(declared=declared, reference=reference, median_m={}, best=declared,
                        suspect=False, message="")
    inner = shapely.buffer(extent_wgs, -0.002)  # ~200 m: edges cut by the data's box are not edges
    ref = shapely.intersection(np.asarray(reference_wgs, dtype=object), inner)
    ref_m = gpd.GeoSeries(ref, crs="EPSG:4326").to_crs(crs).to_numpy()
    admin = reference.startswith("admin")
    for label, fn in _alternatives(declared).items():
        polys = _apply(districts_wgs.geometry.to_numpy(), fn)
        edges = shapely.intersection(shapely.boundary(polys), inner)
        edges_m = gpd.GeoSeries(edges, crs="EPSG:4326").to_crs(crs).to_numpy()
        edges_m = edges_m[~shapely.is_empty(edges_m)]
        if len(edges_m) == 0 or len(ref_m) == 0:
            return result
        # administrative lines: how far each OSM boundary point is from a district edge;
        # streets: how far the district edges are from a street (the closest quarter of them,
        # since a district edge also runs along rivers and through blocks)
        if admin:
            pts, targets = _samples(ref_m, SAMPLE_STEP_M), edges_m
        else:
            pts, targets = _samples(edges_m, SAMPLE_STEP_M), ref_m[~shapely.is_empty(ref_m)]
        if len(pts) < 20 or len(targets) == 0:
            return result
        _, dist = shapely.STRtree(targets).query_nearest(pts, return_distance=True,
                                                         all_matches=False)
        result["median_m"][label] = float(np.median(dist) if admin else np.percentile(dist, 25))
    medians = result["median_m"]
    best = min(medians, key=medians.get)
    d0 = medians[declared]
    result["best"] = best
    shift = _shift_m(districts_wgs.geometry.to_numpy(), _alternatives(declared)[best], crs)
    result["shift_m"] = shift
    if best != declared and DATUM_OFFSET_M[0] <= shift <= DATUM_OFFSET_M[1] \
            and medians[best] <= DATUM_GAIN * d0 and medians[best] < 0.5 * shift:
        result["suspect"] = True
        result["message"] = (
            f"DISTRICT BOUNDARIES LOOK LIKE {best.upper()}, NOT {declared.upper()}: read as "
            f"{declared} they lie a median {d0:.0f} m from OpenStreetMap's {reference}; read as "
            f"{best} (a systematic shift of {shift:.0f} m) {medians[best]:.0f} m. District areas "
            f"and every share may be wrong. Fix: --districts-crs {best} (or districts.crs: "
            f"{best} in the config)."
        )
    return result


def _shift_m(polys: np.ndarray, fn: _Transform | None, crs: Any) -> float:
    """Median distance (m) every boundary vertex moves when re-read with ``fn``."""
    if fn is None:
        return 0.0
    xy = shapely.get_coordinates(np.asarray(polys, dtype=object))[::10]
    if len(xy) == 0:
        return 0.0
    x, y = fn(xy[:, 0], xy[:, 1])
    a = gpd.GeoSeries(shapely.points(xy), crs="EPSG:4326").to_crs(crs)
    b = gpd.GeoSeries(shapely.points(np.asarray(x, float), np.asarray(y, float)),
                      crs="EPSG:4326").to_crs(crs)
    return float(np.median(a.distance(b, align=False)))


def reference_lines(osm_path: Path | None, roads: gpd.GeoDataFrame,
                    bounds: tuple[float, ...] | None) -> tuple[np.ndarray, str]:
    """OSM administrative boundary lines of the file (WGS 84), or the roads when too few."""
    if osm_path is not None:
        from geoplan.layers.cache import read_osm_cached

        osm = read_osm_cached(Path(osm_path), {"boundary", "admin_level"}, bounds)
        tags = osm.lines["tags"]
        keep = np.array([t.get("boundary") == "administrative" and t.get("admin_level") in ADMIN_LEVELS
                         for t in tags], dtype=bool)
        lines = osm.lines.geometry.to_numpy()[keep]
        km = float(gpd.GeoSeries(lines, crs="EPSG:4326").to_crs(roads.crs).length.sum() / 1000) \
            if len(lines) else 0.0
        if km >= MIN_ADMIN_KM:
            return lines, "administrative boundaries"
    return roads.to_crs("EPSG:4326").geometry.to_numpy(), "street grid"


def _row(check: str, severity: str, district: str, subject: str, count: int, measure: float,
         detail: str, fix: str, geometry: Any = None) -> dict[str, Any]:
    return {"check": check, "severity": severity, "district": district, "subject": subject,
            "count": int(count), "measure": float(measure), "detail": detail, "fix": fix,
            "geometry": geometry}


def data_checks(layerset: Any, coverage: Any = None, deadends: Any = None,
                standards: Sequence[Any] = (), datum: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
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

    Returns
    -------
    geopandas.GeoDataFrame
        Columns of :data:`geoplan.results.data_checks.DATA_CHECKS`, in the analysis CRS.
    """
    from geoplan.layers.from_osm import TRUNCATED_ISSUE

    rows: list[dict[str, Any]] = []
    if datum is not None and datum.get("suspect"):
        rows.append(_row("datum", "warning", "", "districts", 0, datum["median_m"][datum["declared"]],
                         datum["message"], f"--districts-crs {datum['best']}"))
    issues = layerset.issues
    if len(issues):
        cut = issues.loc[issues["issue"] == TRUNCATED_ISSUE]
        for rec in cut.itertuples(index=False):
            rows.append(_row("truncated_data", "note", "", str(rec.layer), int(rec.count), np.nan,
                             f"{rec.count} {rec.layer} feature(s) built from ways with nodes "
                             "missing from the file: their parts inside the data are kept",
                             "use an extract cut with complete ways where these matter"))
    for d in layerset.districts.itertuples(index=False):
        share = float(getattr(d, "inside_share", 1.0))
        if share < 0.999:
            km2 = float(d.area_m2) / 1e6
            rows.append(_row("partial_district", "note", str(d.district), "districts", 0, share,
                             f"only {km2:.2f} km² ({share:.0%}) of {d.district} lies inside the "
                             "data: its figures cover that part, not the whole district",
                             "use data covering the whole district for district-wide figures"))
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


def _coverage_checks(coverage: Any, standards: Sequence[Any]) -> list[dict[str, Any]]:
    rows = []
    fac = coverage.facilities
    for std in standards:
        for fs in std.facility_sets:
            item = fs.label or fs.layer
            n = int(((fac["standard"] == std.id) & (fac["item"] == item)).sum()) if len(fac) else 0
            if n == 0:
                rows.append(_row("no_facility", "warning", "", f"{std.id}/{item}", 0, 0.0,
                                 f"standard {std.id}: no {item} facility in the context area, "
                                 "so it scores 0 (missing in the data, or none exists)",
                                 "check the data; add planners' files (layers:) if OSM lacks them"))
    if len(fac):
        off = fac.loc[fac["n_access"] == 0]
        seen: set[tuple[str, str]] = set()
        for rec in off.itertuples(index=False):
            key = (str(rec.source_id), str(rec.item))
            if key in seen:
                continue
            seen.add(key)
            rows.append(_row("unreached_facility", "note", str(rec.district), f"{rec.item} {rec.name}",
                             1, float(rec.radius_m),
                             f"{rec.item} {rec.name or rec.source_id}: no walkway within reach; it "
                             "counts for the buffer share only",
                             "check the paths to it in the data", rec.geometry))
    table = coverage.table
    res = table.loc[table["demand_kind"] == "residential"]
    if len(res):
        worst = res.groupby("district")["unreachable_points"].max()
        for district, n in worst.items():
            if n > 0:
                rows.append(_row("demand_off_network", "note", str(district), "residential",
                                 int(n), np.nan,
                                 f"{n} residential demand point(s) lie farther than the snapping "
                                 "limit from any walkway: they count as not reached by walking",
                                 "check paths inside the compounds; raise demand.max_snap_m"))
    return rows


def write_data_checks(checks: gpd.GeoDataFrame, out_dir: Path) -> list[Path]:
    """Write ``data_checks.csv`` and ``data_checks.gpkg`` (layer ``data_checks``)."""
    table = checks.drop(columns="geometry")
    table = table.assign(x=checks.geometry.x, y=checks.geometry.y) if len(checks) else table
    return [write_csv(table, out_dir / "data_checks.csv"),
            write_gpkg({"data_checks": checks}, out_dir / "data_checks.gpkg")]


def _safe_cell(value: Any) -> Any:
    """A cell value Excel will not run: text starting with = + - @ is kept as text."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def add_workbook_sheet(workbook: Path, checks: gpd.GeoDataFrame, title: str = "数据核查") -> Path:
    """Add (or replace) the data-check sheet of an existing report workbook."""
    from openpyxl import load_workbook
    from openpyxl.styles import Font

    wb = load_workbook(workbook)
    if title in wb.sheetnames:
        del wb[title]
    ws = wb.create_sheet(title)
    cols = DATA_CHECKS.names
    ws.append(cols)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for rec in pd.DataFrame(checks.drop(columns="geometry")).itertuples(index=False):
        ws.append([_safe_cell(v) for v in rec])
    for letter, width in zip("ABCDEFGH", (18, 10, 10, 22, 8, 10, 80, 50), strict=True):
        ws.column_dimensions[letter].width = width
    with atomic_path(workbook) as tmp:
        wb.save(tmp)
    return workbook


def check_datum(config: Any, layerset: Any) -> DatumCheck | None:
    """Run :func:`datum_check` for a loaded analysis; warn loudly on the terminal if suspect.

    Returns None when there is nothing to compare with (no OSM roads or boundaries).
    """
    from geoplan.crs import parse_declared_crs
    from geoplan.layers.districts import read_districts

    declared = parse_declared_crs(config.districts.crs)
    label = declared.kind if declared.kind in ("gcj02", "bd09") else "wgs84"
    if label == "wgs84" and declared.kind == "pyproj" and not declared.crs.is_geographic:
        return None  # a projected national CRS: not a web-map datum mix-up
    roads = layerset["roads"]
    if config.osm.path is None and not len(roads):
        return None
    try:
        ref, what = reference_lines(config.osm.path, roads, config.osm.bounds)
    except Exception as exc:  # the check must never stop a run
        logger.info("datum check skipped: %s", exc)
        return None
    if len(ref) == 0:
        return None
    districts = read_districts(config.districts)
    extent = gpd.GeoSeries([layerset.data_extent], crs=layerset.crs).to_crs("EPSG:4326").iat[0]
    result = datum_check(districts, label, ref, what, extent, layerset.crs)
    if result["suspect"]:
        bar = "!" * 78
        logger.warning("\n%s\n%s\n%s", bar, result["message"], bar)
    else:
        logger.info("datum check: district edges lie a median %s m from OSM's %s",
                    {k: round(v) for k, v in result["median_m"].items()}, what)
    return result
