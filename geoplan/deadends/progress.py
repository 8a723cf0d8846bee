"""Progress between two network versions: which baseline dead ends are now open.

Baseline dead ends are matched to the current network by location, never by OSM ids (ways are
split, merged and re-numbered between versions). For each baseline ``public`` dead end:

``opened``
    The current network has a road within ``match_tolerance_m`` of the old end, and that place
    is no longer on a dead-end segment: the end node now has degree >= 2 and the road goes on
    to a junction (or the road was re-drawn within the tolerance and connects).
``still_dead_end``
    A current dead end (any category) lies within the tolerance of the old end.
``extended``
    The road was lengthened but still ends without connecting (the old end lies on a current
    dead-end segment).
``road_gone``
    No current public road within the tolerance (removed, or re-tagged as private).

Per district: baseline count, opened count, share opened against each target (50%, 70%), and
whether at least ``min_opened`` (3) were opened.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._errors import InputDataError
from geoplan._groups import frames_by
from geoplan.config import DeadEndSettings
from geoplan.deadends.detect import RoadNetwork
from geoplan.deadends.params import DeadEndParams

logger = logging.getLogger(__name__)


def check_overlap(baseline_extent: BaseGeometry, current_extent: BaseGeometry,
                  baseline_name: str = "the baseline") -> None:
    """Raise unless the baseline data overlaps the current data.

    Raises
    ------
    geoplan._errors.InputDataError
        When the two extents do not intersect (a baseline file of another area).
    """
    if baseline_extent is None or baseline_extent.is_empty or not baseline_extent.intersects(current_extent):
        raise InputDataError(
            f"{baseline_name} does not overlap the current data: its roads lie outside the "
            "area analysed. Give a baseline extract of the same city (an older download of the "
            "same area), in the same projection."
        )


def match_progress(
    baseline: gpd.GeoDataFrame,
    current: gpd.GeoDataFrame,
    net: RoadNetwork,
    params: DeadEndParams | None = None,
) -> gpd.GeoDataFrame:
    """Classify each baseline public dead end against the current network.

    Parameters
    ----------
    baseline
        Dead ends detected on the baseline network (:func:`detect_dead_ends`); only
        ``public`` rows are assessed.
    current
        Dead ends detected on the current network (all categories, artifacts included).
    net
        The current public road network.
    params
        ``match_tolerance_m``.

    Returns
    -------
    geopandas.GeoDataFrame
        The baseline public dead ends (points at their ends) with ``status`` and ``opened``.
    """
    params = params or DeadEndParams()
    tol = params.match_tolerance_m
    base = baseline.loc[baseline["category"] == "public"].copy()
    pts = shapely.points(base["end_x"].to_numpy(float), base["end_y"].to_numpy(float))
    status = np.full(len(base), "opened", dtype=object)
    g = net.graph
    near_road = np.zeros(len(base), dtype=bool)
    if g is not None and len(base):
        i_pt, _ = shapely.STRtree(g.edge_geometry).query(pts, predicate="dwithin", distance=tol)
        near_road[np.unique(i_pt)] = True
    on_segment = np.zeros(len(base), dtype=bool)
    at_end = np.zeros(len(base), dtype=bool)
    if len(current) and len(base):
        cur_ends = shapely.points(current["end_x"].to_numpy(float), current["end_y"].to_numpy(float))
        i_pt, _ = shapely.STRtree(cur_ends).query(pts, predicate="dwithin", distance=tol)
        at_end[np.unique(i_pt)] = True
        # a segment passing the old end: the old end is now inside a (longer) dead end
        i_pt, _ = shapely.STRtree(current.geometry.to_numpy()).query(pts, predicate="dwithin",
                                                                     distance=min(tol, 1.0))
        on_segment[np.unique(i_pt)] = True
    status[on_segment] = "extended"
    status[at_end] = "still_dead_end"
    status[~near_road] = "road_gone"
    base["status"] = status
    base["opened"] = status == "opened"
    base = base.set_geometry(gpd.GeoSeries(pts, index=base.index, crs=baseline.crs))
    logger.info("progress: %d baseline dead ends, %s", len(base),
                pd.Series(status).value_counts().to_dict())
    return base.reset_index(drop=True)


def progress_table(
    matched: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    settings: DeadEndSettings,
) -> pd.DataFrame:
    """Per district: baseline count, opened count, share opened vs targets, at-least-N rule.

    Parameters
    ----------
    matched
        Output of :func:`match_progress` with a ``district`` column.
    districts
        The districts (``district`` column); every district gets a row, even without roads.
    settings
        ``targets`` (shares, e.g. [0.5, 0.7]) and ``min_opened`` (e.g. 3).

    Returns
    -------
    pandas.DataFrame
        ``district``, ``baseline``, ``opened``, ``still_dead_end``, ``extended``, ``road_gone``,
        ``share_opened`` (NaN without baseline dead ends), ``meets_<pct>`` per target (None
        without baseline dead ends),
        ``opened_needed_<pct>`` (how many more to open), ``meets_min_opened``.
    """
    rows = []
    names = list(districts["district"])
    by_district = frames_by(matched, "district")  # grouped once
    for name in names:
        mine = by_district.get(name, matched.iloc[:0])
        n = len(mine)
        opened = int(mine["opened"].sum())
        row: dict[str, object] = {
            "district": name,
            "baseline": n,
            "opened": opened,
            "still_dead_end": int((mine["status"] == "still_dead_end").sum()),
            "extended": int((mine["status"] == "extended").sum()),
            "road_gone": int((mine["status"] == "road_gone").sum()),
            "share_opened": opened / n if n else np.nan,
        }
        for target in settings.targets:
            pct = round(100 * target)
            row[f"meets_{pct}"] = bool(opened / n >= target) if n else None
            row[f"opened_needed_{pct}"] = max(0, int(np.ceil(target * n - 1e-9)) - opened)
        row["meets_min_opened"] = opened >= settings.min_opened
        rows.append(row)
    return pd.DataFrame(rows)
