"""The datum check: do the district boundaries sit on OpenStreetMap as declared?

District boundaries that lie a systematic 100–700 m off OSM's administrative boundaries (or,
without them, its street grid) and line up once read in another Chinese datum are GCJ-02 or
BD-09 data declared as WGS 84: that mistake changes district areas by up to 20% with no other
sign. :func:`check_datum` runs the check while layers load and warns loudly with the fix; the
data-check report (:mod:`geoplan.data_checks`) lists its result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from geoplan import chinese_coords as cc
from geoplan.crs import datum_label
from geoplan.layers.osm import BOUNDARY_KEYS

if TYPE_CHECKING:
    from geoplan.config import AnalysisConfig
    from geoplan.layers.layerset import LayerSet
    from geoplan.layers.osm import OsmData

logger = logging.getLogger(__name__)

__all__ = ["DatumCheck", "check_datum", "datum_alternatives", "datum_check", "reference_lines",
           "suspect_message"]

DATUM_OFFSET_M = (100.0, 1600.0)
"""A median offset in this range that another datum removes is the GCJ-02/BD-09 signature.

Across China the datums lie 250–600 m apart between WGS 84 and GCJ-02, 860–950 m between
GCJ-02 and BD-09 and 860–1,400 m between WGS 84 and BD-09 (geoplan's own conversions at ten
cities from Kashgar to Harbin and Sanya): the range takes them all. Up to 700 m, a BD-09 file
read as WGS 84 or GCJ-02 (a 950 m shift in Chengdu) was never said, and every share was off."""

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


def datum_alternatives(declared: str) -> dict[str, _Transform | None]:
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
                reference: str, extent_wgs: Any, crs: Any, key: str = "districts") -> DatumCheck:
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
    key
        The config key of the boundary file, as the message names it (``districts``, or
        ``demand.census_districts`` for the census's 区县).

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
    for label, fn in datum_alternatives(declared).items():
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
        dist = dist[np.isfinite(dist)]
        if len(dist) == 0:  # nothing measurable (boundaries of another place)
            return DatumCheck(declared=declared, reference=reference, median_m={},
                              best=declared, suspect=False, message="")
        result["median_m"][label] = float(np.median(dist) if admin else np.percentile(dist, 25))
    medians = result["median_m"]
    best = min(medians, key=medians.get)
    d0 = medians[declared]
    result["best"] = best
    shift = _shift_m(districts_wgs.geometry.to_numpy(), datum_alternatives(declared)[best], crs)
    result["shift_m"] = shift
    if best != declared and DATUM_OFFSET_M[0] <= shift <= DATUM_OFFSET_M[1] \
            and medians[best] <= DATUM_GAIN * d0 and medians[best] < 0.5 * shift:
        result["suspect"] = True
        result["message"] = suspect_message(key, declared, best, d0, medians[best], shift,
                                            reference)
    return result


def suspect_message(key: str, declared: str, best: str, declared_m: float, best_m: float,
                    shift_m: float, reference: str) -> str:
    """The warning of a boundary file that looks like datum ``best``, not ``declared``
    (the reports word it in Chinese from this sentence:
    :func:`geoplan.report._map_checks.datum_warning`)."""
    what, harm, fix = (
        ("DISTRICT BOUNDARIES", "District areas and every share may be wrong",
         f"--districts-crs {best} (or districts.crs: {best} in the config)")
        if key == "districts" else
        (f"THE BOUNDARIES OF {key.upper()}", "The residents each unit gets may be wrong",
         f"{key}.crs: {best} in the config"))
    return (f"{what} LOOK LIKE {best.upper()}, NOT {declared.upper()}: read as "
            f"{declared} they lie a median {declared_m:.0f} m from OpenStreetMap's {reference}; "
            f"read as {best} (a systematic shift of {shift_m:.0f} m) {best_m:.0f} m. {harm}. "
            f"Fix: {fix}.")


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
                    bounds: tuple[float, ...] | None,
                    boundaries: OsmData | None = None) -> tuple[np.ndarray, str]:
    """OSM administrative boundary lines of the file (WGS 84), or the roads when too few.

    ``boundaries`` is the file's :data:`~geoplan.layers.osm.BOUNDARY_KEYS` features when they
    were read already (in the layers' pass); otherwise they are read (or taken from the cache).
    """
    if osm_path is not None:
        from geoplan.layers.cache import read_osm_cached

        osm = boundaries if boundaries is not None else \
            read_osm_cached(Path(osm_path), BOUNDARY_KEYS, bounds)
        tags = osm.lines["tags"]
        keep = np.array([t.get("boundary") == "administrative" and t.get("admin_level") in ADMIN_LEVELS
                         for t in tags], dtype=bool)
        lines = osm.lines.geometry.to_numpy()[keep]
        km = float(gpd.GeoSeries(lines, crs="EPSG:4326").to_crs(roads.crs).length.sum() / 1000) \
            if len(lines) else 0.0
        if km >= MIN_ADMIN_KM:
            return lines, "administrative boundaries"
    return roads.to_crs("EPSG:4326").geometry.to_numpy(), "street grid"


def check_datum(config: AnalysisConfig, layerset: LayerSet, *,
                boundaries: OsmData | None = None,
                districts: gpd.GeoDataFrame | None = None) -> DatumCheck | None:
    """Run :func:`datum_check` for a loaded analysis; warn loudly on the terminal if suspect.

    ``boundaries``: the OSM file's administrative boundaries when already read (see
    :func:`reference_lines`). ``districts``: the district file as
    :func:`geoplan.layers.districts.read_districts` read it, when it has been (else read
    here). Returns None when there is nothing to compare with (no OSM roads or boundaries).
    """
    from geoplan.layers.districts import declared_crs, read_districts

    label = datum_label(declared_crs(config.districts))
    if label is None:
        return None  # a projected national CRS: not a web-map datum mix-up
    roads = layerset["roads"]
    if config.osm.path is None and not len(roads):
        return None
    try:
        ref, what = reference_lines(config.osm.path, roads, config.osm.bounds, boundaries)
    except Exception as exc:  # the check must never stop a run
        logger.info("datum check skipped: %s", exc)
        return None
    if len(ref) == 0:
        return None
    if districts is None:
        districts = read_districts(config.districts)
    extent = gpd.GeoSeries([layerset.data_extent], crs=layerset.crs).to_crs("EPSG:4326").iat[0]
    result = datum_check(districts, label, ref, what, extent, layerset.crs)
    _say(result, "district", what)
    census = config.demand.census_districts
    if census is not None:  # the census's 区县, when given, are checked the same way
        try:
            zones = read_districts(census.as_districts(), key="demand.census_districts")
        except Exception as exc:  # read again, and explained, when the residents are counted
            logger.info("datum check of demand.census_districts skipped: %s", exc)
        else:
            zone_label = datum_label(declared_crs(census.as_districts()))
            if zone_label is not None:
                _say(datum_check(zones, zone_label, ref, what, extent, layerset.crs,
                                 key="demand.census_districts"), "census district", what)
    return result


def _say(result: DatumCheck, edges: str, reference: str) -> None:
    """Warn loudly when the check is suspect, else log the medians."""
    if result["suspect"]:
        bar = "!" * 78
        logger.warning("\n%s\n%s\n%s", bar, result["message"], bar)
    elif not result["median_m"]:
        logger.info("datum check: the %s edges could not be compared with OSM's %s", edges,
                    reference)
    else:
        logger.info("datum check: %s edges lie a median %s from OSM's %s", edges,
                    ", ".join(f"{round(v):,} m read as {k}" for k, v in result["median_m"].items()),
                    reference)
