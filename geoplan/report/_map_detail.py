"""How much detail the meeting map draws: geometry fitted to the zoom the map opens at.

A district-sized map opens at about zoom 13 (10–12 m per screen pixel) and draws its shapes
simplified by 2–8 m, well under a pixel. A whole city (hundreds of km², a million walking
edges) opens at zoom 9–10, where a pixel covers 100–150 m: the same shapes at the same detail
would weigh hundreds of MB and take minutes to draw, for vertices no screen can show. So the map
scales its detail with the ground size of a screen pixel at the opening view:

- every simplification tolerance is multiplied by :attr:`Detail.factor` (the pixel size at
  the opening zoom over :data:`REFERENCE_M_PER_PX`, never below 1);
- above factor 1, coordinates are stored at 1e-5 degrees (about 1 m) instead of 1e-6, area
  pieces smaller than :data:`MIN_PIECE_PX` pixels across at the opening view and street-gap
  pieces shorter than that are left out of the drawing, and area shapes are snapped to a grid
  of :data:`GRID_PX` pixels; fewer gap polygons are drawn per district. Every figure in a
  popup or table still comes from the exact results, never from the drawn shapes.

Maps of the size of the default analysis (factor 1) are drawn exactly as before.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geoplan.report._data import simplify_drawn, to_wgs84, wgs84_rounded
from geoplan.report._map_cache import MapCache
from geoplan.report._map_cache import current as shared_work

REFERENCE_M_PER_PX = 12.0
"""Ground metres per screen pixel at the opening view for which the base tolerances were set
(the default analysis, central Chengdu, opens at about 10 m per pixel)."""
VIEW_PX = (926.0, 840.0)
"""The part of a 1366 × 860 screen the data is fitted into (legend and layer panel aside)."""
MIN_PIECE_PX = 0.5
"""Above factor 1, area pieces smaller than this many pixels across at the opening view are not
drawn (a piece is dropped when its area is below (MIN_PIECE_PX · pixel)²)."""


GRID_PX = 0.5
"""Above factor 1, area shapes are snapped to a grid of this many pixels of the opening view."""


@dataclass(frozen=True)
class Detail:
    """The map's level of detail.

    Attributes
    ----------
    factor
        Multiplier of every simplification tolerance (1 for district-sized maps).
    m_per_px
        Ground metres per screen pixel at the opening view.
    """

    factor: float = 1.0
    m_per_px: float = REFERENCE_M_PER_PX

    @property
    def scale(self) -> int:
        """Integer units per degree in which coordinates are stored."""
        return 1_000_000 if self.factor <= 1.0 else 100_000

    def tolerance(self, base_m: float) -> float:
        """The simplification tolerance (metres) for a layer whose base tolerance is ``base_m``."""
        return base_m * self.factor

    @property
    def min_length_m(self) -> float:
        """Line pieces shorter than this (m) are not drawn; 0 at factor 1."""
        return 0.0 if self.factor <= 1.0 else MIN_PIECE_PX * self.m_per_px

    @property
    def min_area_m2(self) -> float:
        """Area pieces below this (m²) are not drawn; 0 at factor 1."""
        return 0.0 if self.factor <= 1.0 else (MIN_PIECE_PX * self.m_per_px) ** 2


def detail_for_bounds(bounds: Sequence[float]) -> Detail:
    """The detail of a map fitted to ``bounds`` (minx, miny, maxx, maxy in WGS 84 degrees)."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        return Detail()
    lat = math.radians((miny + maxy) / 2)
    width_m = (maxx - minx) * 111_320.0 * math.cos(lat)
    height_m = (maxy - miny) * 110_574.0
    m_per_px = max(width_m / VIEW_PX[0], height_m / VIEW_PX[1], 1e-9)
    return Detail(factor=max(1.0, m_per_px / REFERENCE_M_PER_PX), m_per_px=m_per_px)


_CURRENT: ContextVar[Detail | None] = ContextVar("geoplan_map_detail", default=None)


def current() -> Detail:
    """The detail of the map being built (factor 1 outside :func:`using`)."""
    return _CURRENT.get() or Detail()


@contextlib.contextmanager
def using(detail: Detail) -> Iterator[Detail]:
    """Build a map at ``detail`` (restored afterwards)."""
    token = _CURRENT.set(detail)
    try:
        yield detail
    finally:
        _CURRENT.reset(token)


def drop_small_pieces(geoms: np.ndarray, min_area_m2: float) -> np.ndarray:
    """``geoms`` (projected) with polygon pieces under ``min_area_m2`` left out.

    Lines and points pass unchanged; a geometry whose pieces are all small becomes empty.
    """
    geoms = np.asarray(geoms, dtype=object)
    if min_area_m2 <= 0 or len(geoms) == 0:
        return geoms
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    if not polygonal.any():
        return geoms
    parts, index = shapely.get_parts(geoms[polygonal], return_index=True)
    keep = shapely.area(parts) >= min_area_m2
    rows = np.flatnonzero(polygonal)
    kept = np.full(int(polygonal.sum()), None, dtype=object)
    if keep.any():
        present = np.unique(index[keep])
        kept[present] = shapely.multipolygons(parts[keep], indices=np.searchsorted(
            present, index[keep]))
    out = geoms.copy()
    out[rows] = [g if g is not None else shapely.Polygon() for g in kept]
    return out


def generalise(geoms: np.ndarray, detail: Detail | None = None) -> np.ndarray:
    """Area shapes (projected) fitted to a city-sized map's opening view; others unchanged.

    Pieces under :attr:`Detail.min_area_m2` are left out, then the polygons are snapped to a
    grid of :data:`GRID_PX` pixels (``shapely.set_precision``: neighbouring parcels a street
    apart merge into blocks, vertices closer than the grid go). At factor 1 ``geoms`` are
    returned as they are.
    """
    detail = detail or current()
    geoms = np.asarray(geoms, dtype=object)
    if detail.factor <= 1.0 or len(geoms) == 0:
        return geoms
    geoms = drop_small_pieces(geoms, detail.min_area_m2)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)
    if polygonal.any():
        geoms = geoms.copy()
        geoms[polygonal] = shapely.set_precision(geoms[polygonal], GRID_PX * detail.m_per_px)
    return geoms


PAGE_ROWS = "geoplan_page_rows"
"""Key of ``GeoDataFrame.attrs`` marking rows read from disk for one map page (pandas carries
``attrs`` through selections): :func:`to_map` does not share their drawing with other pages."""


def to_map(gdf: gpd.GeoDataFrame, base_m: float = 0.0) -> gpd.GeoDataFrame:
    """``gdf`` (projected) simplified at the current detail and reprojected to WGS 84.

    At factor 1 this is :func:`geoplan.report._data.to_wgs84` with ``simplify_m=base_m``;
    above, the tolerance grows with the factor and small area pieces are left out.
    """
    detail = current()
    # rows a page read for itself are drawn by it alone: shared, they would only fill the cache
    cache = None if gdf.attrs.get(PAGE_ROWS) else shared_work()
    if cache is not None and gdf.crs is not None and gdf.crs.is_projected and len(gdf):
        return _to_map_shared(cache, gdf, base_m, detail)
    if detail.factor > 1.0 and gdf.crs is not None and gdf.crs.is_projected and len(gdf):
        geoms = generalise(gdf.geometry.to_numpy(), detail)
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
        gdf = gdf.loc[~shapely.is_empty(geoms)]
    return to_wgs84(gdf, simplify_m=detail.tolerance(base_m) if base_m > 0 else 0.0)


def _to_map_shared(cache: MapCache, gdf: gpd.GeoDataFrame, base_m: float, detail: Detail
                   ) -> gpd.GeoDataFrame:
    """:func:`to_map` feature by feature, each feature drawn once for all pages that show it.

    The same steps as :func:`to_map` (generalise above factor 1, simplify, reproject, round),
    each of which works on every geometry on its own, so the shapes are those a page drew
    itself; rows left empty are dropped, as there.
    """
    crs = gdf.crs
    assert crs is not None
    tolerance = detail.tolerance(base_m) if base_m > 0 else 0.0

    def draw(geoms: np.ndarray) -> np.ndarray:
        geoms = generalise(geoms, detail)
        if tolerance > 0:
            geoms = simplify_drawn(geoms, tolerance)
        return wgs84_rounded(geoms, crs)

    key = (detail.factor, detail.m_per_px, tolerance, crs.to_string())
    drawn = cache.drawn(gdf.geometry.to_numpy(), key, draw)
    out = gdf.set_geometry(gpd.GeoSeries(drawn, index=gdf.index, crs="EPSG:4326"))
    return out.loc[~out.geometry.is_empty & out.geometry.notna()]


__all__ = [
    "MIN_PIECE_PX",
    "PAGE_ROWS",
    "REFERENCE_M_PER_PX",
    "Detail",
    "current",
    "detail_for_bounds",
    "drop_small_pieces",
    "to_map",
    "using",
]
