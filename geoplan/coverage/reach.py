"""Walking reach as areas: the reached edges of each standard buffered into one polygon.

The map and the reports draw these; they are computed once, where the coverage result is made.
Service areas come from buffering the reached edges (partial edges clipped at the cutoff), not
from convex hulls of nodes, which would claim land across rivers and rail lines.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geoplan.results import REACH_AREAS

__all__ = ["REACH_BUFFER_M", "reach_areas"]

REACH_BUFFER_M = 15.0
"""Half-width of the band drawn around reached walking edges (map and report maps)."""

_SIMPLIFY_M = 2.0


def reach_areas(reached: gpd.GeoDataFrame, standards: list[str], crs: CRS | None) -> gpd.GeoDataFrame:
    """One polygon per standard: its reached edges buffered by :data:`REACH_BUFFER_M`.

    Parameters
    ----------
    reached
        Reached edges (:data:`geoplan.results.REACHED`), analysis CRS in metres.
    standards
        Standard ids, in order; those with no reached edge get no row.
    crs
        The analysis CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`geoplan.results.REACH_AREAS`.
    """
    ids: list[str] = []
    polys: list[object] = []
    sid_col = reached["standard"].astype(str).to_numpy() if len(reached) else np.zeros(0, dtype=object)
    for sid in standards:
        lines = reached.geometry.to_numpy()[sid_col == sid]
        lines = lines[~shapely.is_empty(lines)]
        if not len(lines):
            continue
        # buffering each edge then dissolving is ~5x faster than buffering their union
        ids.append(sid)
        polys.append(shapely.union_all(shapely.buffer(shapely.simplify(lines, _SIMPLIFY_M),
                                                      REACH_BUFFER_M, quad_segs=2)))
    return gpd.GeoDataFrame({name: ids for name in REACH_AREAS.names},
                            geometry=gpd.GeoSeries(polys, crs=crs), crs=crs)
