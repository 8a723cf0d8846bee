"""Analysis units that overlap: homes in both are counted in both.

Each unit is measured on its own, so its shares stay right; but where two units overlap, the
homes and residents there are counted in both units' figures, and residents shared from
``demand.census_districts`` by residential land go partly to the wrong unit. Boundaries from
two sources often overlap by a digitising sliver; only overlaps of at least
:data:`MIN_OVERLAP_SHARE` of the smaller unit are said.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._text import area_text, first_named, share_text

__all__ = ["MIN_OVERLAP_SHARE", "OVERLAP_COLUMNS", "district_overlaps"]

logger = logging.getLogger(__name__)

MIN_OVERLAP_SHARE = 0.01
"""An overlap this share of the smaller unit's area or more is said."""

OVERLAP_COLUMNS = ("district", "other", "area_m2", "share", "x", "y")
"""The overlaps' table: the two units, the overlap's area (m²) and share of the smaller unit,
and a point inside it (analysis CRS)."""


def district_overlaps(districts: gpd.GeoDataFrame,
                      min_share: float = MIN_OVERLAP_SHARE) -> pd.DataFrame:
    """Each pair of units that overlap by ``min_share`` of the smaller one or more.

    Parameters
    ----------
    districts
        The units (``district``, geometry in a CRS in metres).
    min_share
        The smallest overlap said, as a share of the smaller unit's area.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OVERLAP_COLUMNS`, one row per pair, in the units' order.
    """
    geoms = districts.geometry.to_numpy()
    names = districts["district"].astype(str).to_numpy()
    rows: list[dict[str, Any]] = []
    if len(geoms) > 1:
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        pair = left < right
        left, right = left[pair], right[pair]
        shared = shapely.intersection(geoms[left], geoms[right])
        area = shapely.area(shared)
        smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
        share = np.divide(area, smaller, out=np.zeros_like(area), where=smaller > 0)
        for k in np.flatnonzero((share >= min_share) & (area > 0)):
            point = shapely.point_on_surface(shared[k])
            rows.append({"district": names[left[k]], "other": names[right[k]],
                         "area_m2": float(area[k]), "share": float(share[k]),
                         "x": point.x, "y": point.y})
    if rows:
        said = first_named([f"{r['district']} / {r['other']} ({area_text(r['area_m2'])}, "
                            f"{share_text(r['share'])})" for r in rows], 5)
        logger.warning("%d pair(s) of districts overlap: %s. Homes there count in both; residents "
                       "shared by residential land go partly to the wrong one. Correct the "
                       "boundaries so that they tile the city (see data_checks.csv)",
                       len(rows), said)
    return pd.DataFrame(rows, columns=list(OVERLAP_COLUMNS))
