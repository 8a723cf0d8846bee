"""Gated compounds (小区) and closed grounds, where a dead end is not a public 断头路.

In this data gated compounds show up as ``landuse=residential`` polygons (one per 小区 when
small; whole neighbourhoods when large), facility grounds as ``amenity=school/university/
hospital`` areas, and their gates as ``barrier=gate`` nodes (the ``entrances`` layer). A dead
end counts as inside a compound when most of its segment lies inside one polygon that holds
its end.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.deadends.params import DeadEndParams


def compound_polygons(
    residential: gpd.GeoDataFrame | None,
    grounds: gpd.GeoDataFrame | None,
    params: DeadEndParams | None = None,
) -> gpd.GeoDataFrame | None:
    """Gated compounds: residential polygons up to ``compound_max_area_m2``, plus grounds.

    Parameters
    ----------
    residential
        The canonical ``residential`` layer (landuse=residential).
    grounds
        Facility grounds and access-restricted areas (:attr:`OsmExtras.grounds`).
    params
        ``compound_max_area_m2``.

    Returns
    -------
    geopandas.GeoDataFrame or None
        Columns ``source_id``, ``kind`` and the polygons; None when there are none.
    """
    params = params or DeadEndParams()
    parts = []
    if residential is not None and len(residential):
        area = residential.geometry.area.to_numpy()
        small = residential.loc[area <= params.compound_max_area_m2]
        parts.append(gpd.GeoDataFrame({"source_id": small["source_id"].astype(str).to_numpy(),
                                       "kind": "residential compound"},
                                      geometry=small.geometry.to_numpy(), crs=residential.crs))
    if grounds is not None and len(grounds):
        parts.append(gpd.GeoDataFrame(
            {"source_id": grounds["source_id"].astype(str).to_numpy() if "source_id" in grounds else "",
             "kind": grounds["kind"].astype(str).to_numpy() if "kind" in grounds else "grounds"},
            geometry=grounds.geometry.to_numpy(), crs=grounds.crs))
    parts = [p for p in parts if len(p)]
    if not parts:
        return None
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)


def inside_share(
    segments: np.ndarray, ends: np.ndarray, compounds: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Share of each segment's length inside a compound whose polygon holds the end.

    Parameters
    ----------
    segments
        Dead-end segments (LineStrings).
    ends
        Their end points.
    compounds
        Compound polygons (:func:`compound_polygons`).

    Returns
    -------
    share : numpy.ndarray
        The largest share of each segment inside one compound holding its end (0 if none).
    label : numpy.ndarray
        That compound's kind and id ("residential compound w123").
    """
    polys = compounds.geometry.to_numpy()
    n = len(compounds)
    labels = compounds["kind"].astype(str) if "kind" in compounds else pd.Series(["compound"] * n)
    ids = compounds["source_id"].astype(str) if "source_id" in compounds else pd.Series([""] * n)
    tree = shapely.STRtree(polys)
    i_end, i_poly = tree.query(ends, predicate="intersects")
    share = np.zeros(len(ends))
    label = np.full(len(ends), "", dtype=object)
    lengths = shapely.length(segments)
    for i, j in zip(i_end, i_poly, strict=True):
        inside = shapely.length(shapely.intersection(segments[i], polys[j]))
        s = inside / lengths[i] if lengths[i] > 0 else 1.0
        if s > share[i]:
            share[i] = s
            label[i] = f"{labels.iat[j]!s} {ids.iat[j]!s}".strip()
    return share, label
