"""Each geometry's part inside an area, without cutting the many that lie wholly inside."""

from __future__ import annotations

import numpy as np
import shapely

from geoplan._threads import prepared_for

__all__ = ["parts_inside"]


def parts_inside(geoms: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """``shapely.intersection(geoms, areas)`` pair by pair, geometries wholly inside kept as are.

    Cutting a line with a district polygon costs the polygon's whole outline; most features of
    a district lie inside it, and a prepared containment test tells them apart cheaply (on the
    196-tile city, the layers table's cuts went from 18 s to 2 s). A line that runs over
    itself is cut even when inside, as the cut dissolves the stretch run twice: the result is
    the plain cut's for every pair (lengths and areas equal to the last bits).

    Parameters
    ----------
    geoms, areas
        Arrays of the same length: the geometries and, for each, the area to keep it to.
        ``areas`` may repeat one object many times; it is left unprepared as it was found.
    """
    geoms = np.asarray(geoms, dtype=object)
    areas = np.asarray(areas, dtype=object)
    out = geoms.copy()
    if not len(geoms):
        return out
    with prepared_for(areas):
        crossing = ~shapely.contains_properly(areas, geoms)
    lines = np.isin(shapely.get_type_id(geoms), (1, 5))
    crossing[lines] |= ~shapely.is_simple(geoms[lines])
    out[crossing] = shapely.intersection(geoms[crossing], areas[crossing])
    return out
