"""Where a facility is reached from the walking network.

Point facilities (toilets, bus stops, most services, schools mapped as nodes) are reached at
their point. Facilities drawn as areas and reached from their outline (parks, green space,
schools' grounds, kindergartens and sports grounds: the layer catalog's ``reached_from``) are
reached at their tagged entrances (``entrances`` points within
:data:`ENTRANCE_DISTANCE_M` of the boundary); a park without tagged entrances is reached at
points every :data:`BOUNDARY_STEP_M` along its boundary that lie within
:data:`BOUNDARY_NEAR_WALKWAY_M` of a walkway (all its boundary points when none does; snapping
then decides). Never at the centroid: a large park's centre is far from anyone's door.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import shapely

__all__ = [
    "BOUNDARY_NEAR_WALKWAY_M",
    "BOUNDARY_STEP_M",
    "ENTRANCE_DISTANCE_M",
    "access_points",
    "as_reached",
    "boundary_points",
]

logger = logging.getLogger(__name__)

ENTRANCE_DISTANCE_M = 20.0
BOUNDARY_STEP_M = 50.0
BOUNDARY_NEAR_WALKWAY_M = 30.0


def boundary_points(
    polygons: np.ndarray, step_m: float = BOUNDARY_STEP_M
) -> tuple[np.ndarray, np.ndarray]:
    """Points every <= ``step_m`` along the exterior rings of polygons.

    Parameters
    ----------
    polygons
        Polygons or MultiPolygons.
    step_m
        Spacing in metres.

    Returns
    -------
    tuple of numpy.ndarray
        The points and, for each, the index of its polygon.
    """
    parts, owner = shapely.get_parts(np.asarray(polygons, dtype=object), return_index=True)
    if len(parts) == 0:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64)
    poly = shapely.get_type_id(parts) == 3
    parts, owner = parts[poly], owner[poly]
    rings = shapely.get_exterior_ring(parts)
    length = shapely.length(rings)
    n = np.maximum(np.ceil(length / step_m), 1).astype(np.int64)
    rep = np.repeat(np.arange(len(rings)), n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    pts = shapely.line_interpolate_point(rings[rep], k * (length[rep] / n[rep]))
    return pts, owner[rep].astype(np.int64)


def access_points(
    facilities: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame | None = None,
    walkways: gpd.GeoDataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points where each facility is reached.

    Parameters
    ----------
    facilities
        Selected facility rows (points, or polygons for parks and green space).
    entrances
        The canonical ``entrances`` layer (used for polygon facilities).
    walkways
        The canonical ``walkways`` layer (used to keep boundary points near the network).

    Returns
    -------
    tuple of numpy.ndarray
        Access points, the row position of their facility, and how each was found
        (``'point'``, ``'entrance'`` or ``'boundary'``).
    """
    geoms = facilities.geometry.to_numpy()
    n = len(geoms)
    if n == 0:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    is_area = np.isin(shapely.get_type_id(geoms), (3, 6))
    pts = [geoms[~is_area]]
    owner = [np.flatnonzero(~is_area)]
    how = [np.full(int((~is_area).sum()), "point", dtype=object)]
    area_idx = np.flatnonzero(is_area)
    if len(area_idx):
        areas = geoms[area_idx]
        has_entrance = np.zeros(len(area_idx), dtype=bool)
        if entrances is not None and len(entrances):
            ent = entrances.geometry.to_numpy()
            tree = shapely.STRtree(ent)
            ai, ei = tree.query(shapely.boundary(areas), predicate="dwithin",
                                distance=ENTRANCE_DISTANCE_M)
            if len(ai):
                pts.append(ent[ei])
                owner.append(area_idx[ai])
                how.append(np.full(len(ai), "entrance", dtype=object))
                has_entrance[ai] = True
        rest = np.flatnonzero(~has_entrance)
        if len(rest):
            bp, bo = boundary_points(areas[rest])
            near = np.ones(len(bp), dtype=bool)
            if walkways is not None and len(walkways) and len(bp):
                wtree = shapely.STRtree(walkways.geometry.to_numpy())
                qi, _ = wtree.query(bp, predicate="dwithin", distance=BOUNDARY_NEAR_WALKWAY_M)
                near = np.zeros(len(bp), dtype=bool)
                near[qi] = True
                # a park with no boundary point near a walkway keeps all of them
                any_near = np.bincount(bo, weights=near, minlength=len(rest)) > 0
                near |= ~any_near[bo]
            pts.append(bp[near])
            owner.append(area_idx[rest[bo[near]]])
            how.append(np.full(int(near.sum()), "boundary", dtype=object))
    return (np.concatenate(pts).astype(object), np.concatenate(owner).astype(np.int64),
            np.concatenate(how).astype(object))


def as_reached(facilities: gpd.GeoDataFrame, mode: str | None) -> gpd.GeoDataFrame:
    """``facilities`` as a standard uses them: areas become a point inside them when ``mode``
    is ``'point'``; with ``'outline'`` or None they stay as the layer gives them.

    Parameters
    ----------
    facilities
        Selected facility rows.
    mode
        Where the facility set is reached from
        (:meth:`geoplan.standards.FacilitySet.reached_from_for`).

    Returns
    -------
    geopandas.GeoDataFrame
        The same rows, in the same order.
    """
    if mode != "point" or not len(facilities):
        return facilities
    geoms = facilities.geometry.to_numpy()
    area = np.isin(shapely.get_type_id(geoms), (3, 6))
    if not area.any():
        return facilities
    geoms = geoms.copy()
    geoms[area] = shapely.point_on_surface(geoms[area])
    return facilities.set_geometry(gpd.GeoSeries(geoms, index=facilities.index,
                                                 crs=facilities.crs))
