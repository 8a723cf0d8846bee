"""GeoDataFrames built without geopandas' slow general path.

``gpd.GeoDataFrame(columns, geometry=array, crs="EPSG:32648")`` parses the CRS text again
each time (about 1 ms) and, while it sets the geometry, builds an error message it then
discards, comparing every column's dtype with ``"geometry"``: 2.4 ms for a frame of 15
columns and 50 rows, against 0.6–0.8 ms for the same frame built here. Small cities are made
of many small frames: in one profiled run of the test suite (py-spy, every process), 48 of
770 sampled seconds were in GeoDataFrame's constructor, 15 of them from
:func:`geoplan.layers.schema.conform`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    import pyproj


@functools.lru_cache(maxsize=128)
def _crs_from_input(value: str | int) -> pyproj.CRS:
    import pyproj

    return pyproj.CRS.from_user_input(value)


def as_crs(crs: Any) -> pyproj.CRS | None:
    """``crs`` as a :class:`pyproj.CRS` (None stays None); a text or an EPSG number is parsed
    once per process and the same object given back afterwards."""
    import pyproj

    if crs is None or isinstance(crs, pyproj.CRS):
        return crs
    if isinstance(crs, str | int):
        return _crs_from_input(crs)
    return pyproj.CRS.from_user_input(crs)


def geo_frame(columns: Mapping[str, Any] | pd.DataFrame, geometry: Any,
              crs: Any) -> gpd.GeoDataFrame:
    """A GeoDataFrame of ``columns`` with ``geometry`` (shapely geometries, matched by
    position) as its ``geometry`` column, in ``crs``.

    The same frame as ``gpd.GeoDataFrame(columns, geometry=geometry, crs=crs)``: a mapping
    gives a default index, a DataFrame keeps its own (its columns are not copied: pandas
    copies on write).

    Raises
    ------
    ValueError
        If ``columns`` already has a column named ``geometry``, or the lengths differ.
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from geopandas.array import from_shapely

    if "geometry" in columns:
        raise ValueError("the columns already hold one named 'geometry'")
    # a new array always: the caller's own (a frame's column) keeps its CRS
    geoms = from_shapely(np.asarray(geometry, dtype=object), crs=as_crs(crs))
    data: pd.DataFrame | dict[str, Any]
    if isinstance(columns, pd.DataFrame):
        data = columns.copy(deep=False)
        if len(data) != len(geoms):
            raise ValueError(f"{len(geoms)} geometries for {len(data)} rows")
        data["geometry"] = geoms
    else:
        data = {**columns, "geometry": geoms}
    return gpd.GeoDataFrame(data, geometry="geometry")
