"""Hand-built LayerSets for coverage tests (EPSG:32648, coordinates offset to Chengdu).

Coordinates in the helpers are local metres; ``X0, Y0`` are added so nothing depends on lying
near the origin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj
import shapely

from geoplan.layers.load import LayerSet
from geoplan.layers.schema import LAYER_ORDER, conform, empty_layer

X0, Y0 = 400_000.0, 3_390_000.0
CRS = "EPSG:32648"


def P(x: float, y: float) -> shapely.Point:
    """A point at local coordinates."""
    return shapely.Point(X0 + x, Y0 + y)


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A rectangle at local coordinates."""
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def line(*pts: tuple[float, float]) -> shapely.LineString:
    """A line through local coordinates."""
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in pts])


def grid_lines(x0: float, y0: float, x1: float, y1: float, step: float) -> list[shapely.LineString]:
    """A street grid: one way per row and per column, sharing a vertex at every crossing."""
    xs = [x0 + i * step for i in range(round((x1 - x0) / step) + 1)]
    ys = [y0 + j * step for j in range(round((y1 - y0) / step) + 1)]
    rows = [line(*[(x, y) for x in xs]) for y in ys]
    cols = [line(*[(x, y) for y in ys]) for x in xs]
    return rows + cols


def frame(kind: str, geoms: Sequence[Any], /, **columns: Iterable[Any]) -> gpd.GeoDataFrame:
    """A canonical layer of ``kind`` from geometries and column values."""
    geoms = list(geoms)
    data = {k: list(v) for k, v in columns.items()}
    gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)
    if "area_m2" in conform(gdf.iloc[:0], kind).columns and "area_m2" not in data:
        gdf["area_m2"] = gdf.geometry.area
    if "length_m" in conform(gdf.iloc[:0], kind).columns and "length_m" not in data:
        gdf["length_m"] = gdf.geometry.length
    if "name" not in data:
        gdf["name"] = [f"{kind}{i}" for i in range(len(gdf))]
    return conform(gdf, kind)


def layerset(
    districts: Mapping[str, shapely.Polygon],
    margin: float = 1000.0,
    **layers: gpd.GeoDataFrame | Sequence[Any],
) -> LayerSet:
    """A LayerSet with the given districts and layers; every other layer is empty.

    A layer may be given as a GeoDataFrame or as a list of geometries (default columns).
    """
    d = frame("districts", list(districts.values()), district=list(districts))
    d["full_area_m2"] = d["area_m2"]
    d["inside_share"] = 1.0
    out: dict[str, gpd.GeoDataFrame] = {}
    for kind in LAYER_ORDER:
        if kind == "districts":
            out[kind] = d
        elif kind in layers:
            value = layers[kind]
            out[kind] = value if isinstance(value, gpd.GeoDataFrame) else frame(kind, value)
        else:
            out[kind] = empty_layer(kind, CRS)
    study = shapely.union_all(d.geometry.to_numpy())
    context = study.buffer(margin)
    return LayerSet(out, pyproj.CRS(CRS), study, context, context, pd.DataFrame(), [])
