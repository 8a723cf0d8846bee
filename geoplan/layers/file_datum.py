"""The datum of a planner's facility file: named by its columns, or betrayed by its offset.

A facility table exported from a Baidu or Gaode map holds BD-09 or GCJ-02 coordinates. Read as
WGS 84 its points land 300–1,000 m off, and every share near them is wrong with no other sign.
Two checks run while the file loads:

- :func:`geoplan.layers.datum_names.datum_named_by_columns`: columns that say their datum
  (``bd_lng``, ``lon_gcj02``, ``百度经度`` …) are read in it when the config declares nothing,
  and a declaration that contradicts them is warned about;
- :func:`file_datum_check`: points that lie a systematic distance from OpenStreetMap's
  facilities of the same kind, and onto them once read in another datum, are warned about with
  the fix (as :mod:`geoplan.layers.datum` does for district boundaries).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree

from geoplan.layers.datum import DATUM_GAIN, DATUM_OFFSET_M, datum_alternatives
from geoplan.layers.datum_names import DATUM_NAMES, READ_AS
from geoplan.layers.repair import IssueLog

logger = logging.getLogger(__name__)

__all__ = ["FACILITY_KINDS", "FILE_DATUM_CHECK", "MIN_FEATURES", "check_file_datum",
           "file_datum_check", "suspect_file_message"]

FILE_DATUM_CHECK = "file_datum"
"""The data check (and the layer issue) of a facility file that looks like another datum."""

MIN_FEATURES = 5
"""Fewer features in the file or in OSM's layer of that kind than this: no offset check."""

MATCH_M = 60.0
MATCH_SHARE = 0.25
"""A file "lines up" with OSM in a datum when at least this share of its features lie within
:data:`MATCH_M` of an OSM feature of their kind read in it: the same places, mapped twice. A
list of places OSM does not hold (invented, planned) can be nearer OSM in another datum by
chance (a median of 405 m against 1,086 m, six made-up toilets), but never on it."""

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


def _metres(points: np.ndarray, lat0: float) -> np.ndarray:
    """Longitude/latitude points as local metres (plenty for distances of a few km)."""
    xy = shapely.get_coordinates(points)
    scale = np.array([_M_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat0)), _M_PER_DEG_LAT])
    return xy * scale


def file_datum_check(features_wgs: np.ndarray, reference_wgs: np.ndarray, declared: str
                     ) -> dict[str, Any] | None:
    """Whether a file's features sit on OSM's features of the same kind in another datum.

    Parameters
    ----------
    features_wgs
        The file's geometries as loaded (converted from the declared datum to WGS 84).
    reference_wgs
        OpenStreetMap's features of the same kind (WGS 84).
    declared
        The datum the file was read in: ``wgs84``, ``gcj02`` or ``bd09``.

    Returns
    -------
    dict or None
        ``median_m`` (the median distance from each feature to the nearest OSM feature, per
        datum the file is read in), ``best``, ``shift_m`` (how far reading it in ``best``
        moves the features) and ``suspect``: the best datum is another one, moves the
        features 100–1,600 m, brings the median under 40 % of the declared one's and under
        half the shift, and puts a quarter of the features on OSM's (:data:`MATCH_SHARE`;
        ``matched``: that share per datum). None when either side has fewer than
        :data:`MIN_FEATURES`.
    """
    mine = shapely.point_on_surface(np.asarray(features_wgs, dtype=object))
    ref = shapely.point_on_surface(np.asarray(reference_wgs, dtype=object))
    mine = mine[~shapely.is_empty(mine) & ~shapely.is_missing(mine)]
    ref = ref[~shapely.is_empty(ref) & ~shapely.is_missing(ref)]
    if len(mine) < MIN_FEATURES or len(ref) < MIN_FEATURES:
        return None
    lat0 = float(np.median(shapely.get_y(ref)))
    tree = cKDTree(_metres(ref, lat0))
    here = _metres(mine, lat0)
    medians: dict[str, float] = {}
    shifts: dict[str, float] = {}
    matched: dict[str, float] = {}
    for label, fn in datum_alternatives(declared).items():
        if fn is None:
            moved = here
        else:
            xy = shapely.get_coordinates(mine)
            x, y = fn(xy[:, 0], xy[:, 1])
            moved = _metres(shapely.points(np.asarray(x, float), np.asarray(y, float)), lat0)
        nearest = tree.query(moved)[0]
        medians[label] = float(np.median(nearest))
        matched[label] = float(np.mean(nearest <= MATCH_M))
        shifts[label] = float(np.median(np.hypot(*(moved - here).T)))
    best = min(medians, key=medians.__getitem__)
    d0, d1, shift = medians[declared], medians[best], shifts[best]
    suspect = (best != declared and DATUM_OFFSET_M[0] <= shift <= DATUM_OFFSET_M[1]
               and d1 <= DATUM_GAIN * d0 and d1 < 0.5 * shift
               and matched[best] >= MATCH_SHARE)
    return {"median_m": medians, "best": best, "declared": declared, "shift_m": shift,
            "matched": matched, "suspect": suspect, "count": len(mine)}


def suspect_file_message(path: str, key: str, kind: str, check: dict[str, Any]) -> str:
    """The warning of a facility file whose points line up with OSM in another datum."""
    declared, best = check["declared"], check["best"]
    return (f"{path} ({key}) looks like {DATUM_NAMES[best]}, not {DATUM_NAMES[declared]}: read as "
            f"{declared} its {check['count']} {kind} lie a median "
            f"{check['median_m'][declared]:.0f} m from OpenStreetMap's {kind}; read as {best} "
            f"(a shift of {check['shift_m']:.0f} m) {check['median_m'][best]:.0f} m. Every "
            f"share near them may be wrong. Fix: {key}.crs: {best} in the config.")


FACILITY_KINDS = ("toilets", "bus_stops", "schools", "parks", "services", "green_space")
"""The layers whose file features are checked against OSM's: places a planner's list and OSM
both hold (not roads, homes or water, which a file holds in other shapes than OSM)."""


def check_file_datum(path: Path, key: str, kind: str, frame: gpd.GeoDataFrame,
                     osm_features: gpd.GeoDataFrame, issues: IssueLog) -> dict[str, Any] | None:
    """Run :func:`file_datum_check` on a loaded facility file; warn loudly when suspect.

    The warning goes to the terminal and to ``issues`` (so to ``layer_issues.csv`` and the
    data checks, :data:`FILE_DATUM_CHECK`); the file stays read as declared.
    """
    from geoplan.crs import datum_label, parse_declared_crs

    if kind not in FACILITY_KINDS or not len(frame) or not len(osm_features):
        return None
    declared = datum_label(parse_declared_crs(frame.attrs.get(READ_AS)))
    if declared is None:
        return None  # a projected national CRS: not a web-map datum mix-up
    result = file_datum_check(frame.geometry.to_numpy(), osm_features.geometry.to_numpy(),
                              declared)
    if result is None:
        return None
    if result["suspect"]:
        message = suspect_file_message(path.name, key, kind, result)
        bar = "!" * 78
        logger.warning("\n%s\n%s\n%s", bar, message, bar)
        issues.add(kind, path.name, f"{FILE_DATUM_CHECK}: {message}", result["count"],
                   "kept as read", say=False)
    else:
        logger.info("datum check of %s: its %s lie a median %s from OpenStreetMap's", path.name,
                    kind, ", ".join(f"{round(v):,} m read as {k}"
                                    for k, v in result["median_m"].items()))
    return result
