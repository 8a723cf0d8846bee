"""Where a site, gap or dead end is, in words and numbers a planner can paste.

Gaode (高德) and Tencent maps use GCJ-02 and Baidu uses BD-09; a WGS 84 coordinate pasted into
Gaode lands several hundred metres off in China (359 m for the default run's first site, more
than the 300 m radius it is meant to close). :func:`locate` gives each feature its point in all
three datums, every column named with its datum, and the name of the nearest named street.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.chinese_coords import wgs84_to_bd09, wgs84_to_gcj02

STREET_SEARCH_M = 300.0
"""Streets farther than this from a feature are not named as its nearest street."""

DATUMS = ("wgs84", "gcj02", "bd09")


def lonlat_columns(lon: np.ndarray, lat: np.ndarray, prefix: str = "") -> dict[str, np.ndarray]:
    """``<prefix>lon_<datum>`` and ``<prefix>lat_<datum>`` for WGS 84, GCJ-02 and BD-09.

    Parameters
    ----------
    lon, lat
        WGS 84 degrees.
    prefix
        Put before each column name, e.g. ``'end_'``.

    Returns
    -------
    dict
        Six columns, rounded to 6 decimals (about 0.1 m). Outside China GCJ-02 and BD-09 are
        defined as WGS 84 unchanged (what the map services do).
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    glon, glat = wgs84_to_gcj02(lon, lat)
    blon, blat = wgs84_to_bd09(lon, lat)
    out = {}
    for datum, (x, y) in zip(DATUMS, ((lon, lat), (glon, glat), (blon, blat)), strict=True):
        out[f"{prefix}lon_{datum}"] = np.round(np.asarray(x, dtype=float), 6)
        out[f"{prefix}lat_{datum}"] = np.round(np.asarray(y, dtype=float), 6)
    return out


class NamedRoads:
    """The named roads of a layer and their spatial index, built once for many questions of
    :meth:`nearest` (a city's gaps, a block at a time; an index map's pages).

    Parameters
    ----------
    roads
        The canonical roads layer (projected CRS, metres), or None.
    """

    def __init__(self, roads: gpd.GeoDataFrame | None) -> None:
        self.values: np.ndarray | None = None
        self.tree: shapely.STRtree | None = None
        if roads is None or len(roads) == 0 or "name" not in roads:
            return
        names = roads["name"].fillna("").astype(str).str.strip().to_numpy()
        keep = names != ""
        if not keep.any():
            return
        named = roads.geometry.to_numpy()[keep].copy()
        named[shapely.is_empty(named)] = None
        self.values = roads["name"].to_numpy()[keep]
        self.tree = shapely.STRtree(named)

    def nearest(self, points: np.ndarray, max_m: float = STREET_SEARCH_M) -> list[str]:
        """The name of the nearest named road to each point ('' when none within ``max_m``);
        among equidistant roads the first the index returns (what geopandas.sjoin_nearest
        gave)."""
        out = [""] * len(points)
        if self.tree is None or self.values is None or len(points) == 0:
            return out
        found = self.tree.query_nearest(np.asarray(points, dtype=object), max_distance=max_m,
                                        all_matches=True)
        inputs, first = np.unique(found[0], return_index=True)
        for i, j in zip(inputs.tolist(), found[1][first].tolist(), strict=True):
            v = self.values[j]
            out[i] = str(v) if isinstance(v, str) else ""
        return out


def nearest_street(points: gpd.GeoSeries, roads: gpd.GeoDataFrame | None,
                   max_m: float = STREET_SEARCH_M) -> list[str]:
    """The name of the nearest named road to each point ('' when none within ``max_m``).

    ``points`` and ``roads`` are in the same projected CRS (metres).
    """
    return NamedRoads(roads).nearest(points.to_numpy(), max_m)


def locate(gdf: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | NamedRoads | None, *,
           prefix: str = "", street: bool = True, points: np.ndarray | None = None
           ) -> pd.DataFrame:
    """A point inside each feature of ``gdf`` (projected CRS) in three datums, and its street.

    Parameters
    ----------
    gdf
        Sites (points), gaps (polygons) or any features, in the analysis CRS.
    roads
        The canonical roads layer (same CRS) for the street names, or its
        :class:`NamedRoads` when many frames are located against it, or None.
    prefix
        Put before each coordinate column name.
    street
        Whether to add the ``street`` column (nearest named road within
        :data:`STREET_SEARCH_M`).
    points
        ``shapely.point_on_surface`` of ``gdf``'s geometries when the caller has it already
        (a city's gaps: finding it is the cost).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``gdf``: ``lon_wgs84``, ``lat_wgs84``, ``lon_gcj02``, ``lat_gcj02``,
        ``lon_bd09``, ``lat_bd09`` (each with ``prefix``), then ``street``.
    """
    if len(gdf) == 0:
        cols = list(lonlat_columns(np.zeros(0), np.zeros(0), prefix)) + (["street"] if street
                                                                         else [])
        return pd.DataFrame(columns=cols, index=gdf.index)
    inside = shapely.point_on_surface(gdf.geometry.to_numpy()) if points is None else points
    pts = gpd.GeoSeries(inside, index=gdf.index, crs=gdf.crs)
    wgs = pts.to_crs("EPSG:4326")
    out = pd.DataFrame(lonlat_columns(wgs.x.to_numpy(), wgs.y.to_numpy(), prefix),
                       index=gdf.index)
    if street:
        streets = roads if isinstance(roads, NamedRoads) else NamedRoads(roads)
        out["street"] = streets.nearest(pts.to_numpy())
    return out


def located_blocks(blocks: Iterable[gpd.GeoDataFrame], roads: gpd.GeoDataFrame | None
                   ) -> Iterator[tuple[gpd.GeoDataFrame, np.ndarray, pd.DataFrame]]:
    """Each block of a frame read a block at a time, the point inside each of its features and
    :func:`locate`'s answer for it, the named roads indexed once for every block.

    Parameters
    ----------
    blocks
        Blocks of rows of one frame (:meth:`geoplan.results.CoverageResult.in_blocks`).
    roads
        The canonical roads layer, or None.

    Yields
    ------
    tuple
        The block, ``shapely.point_on_surface`` of its geometries, and where each row is.
    """
    streets = NamedRoads(roads)
    for block in blocks:
        inside = shapely.point_on_surface(block.geometry.to_numpy())
        yield block, inside, locate(block, streets, points=inside)


__all__ = ["DATUMS", "STREET_SEARCH_M", "NamedRoads", "locate", "located_blocks",
           "lonlat_columns", "nearest_street"]
