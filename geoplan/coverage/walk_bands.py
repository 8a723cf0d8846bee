"""Homes by walking distance to the nearest facility: within the radius, up to 1.5×, beyond.

Every residential demand piece gets a band from its walking distance ``d`` to the nearest
facility of a standard, relative to that facility's radius ``r``: ``within`` (d ≤ r),
``near`` (r < d ≤ 1.5 r) and ``beyond`` (farther, off the walkways or unreachable). The pieces
of one band are drawn as one shape per district: they show where the gaps are better than gap
outlines do, and where a facility just out of reach would close them.

The shapes are built on the demand grid: the grid cells of one band are merged into runs along
each grid row, runs over the same columns in consecutive rows into one rectangle, the
rectangles of one band and land part are dissolved into polygons, and each polygon is cut to
that part of the residential land. Every shape is valid: rectangles that share an edge are
never two parts of one MultiPolygon (QGIS's processing tools stop at such a layer), and the
parts of the district's land meet at most at points, so the polygons of different parts do not
share edges either. No city-wide union is made; the work grows with the number of demand
pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._frames import geo_frame
from geoplan._threads import thread_count, thread_map
from geoplan.coverage.demand import Demand
from geoplan.vocab import NEAR_FACTOR

__all__ = ["BANDS", "NEAR_FACTOR", "BandLayout", "band_codes", "band_layout", "walk_band_frame"]


BANDS: tuple[str, str, str] = ("within", "near", "beyond")
"""Band names by code 0, 1, 2."""


def band_codes(distance: np.ndarray, radius: float) -> np.ndarray:
    """Band code (0 within, 1 near, 2 beyond) of each walking distance for one radius.

    ``inf`` or NaN (off the walkways, unreachable, or farther than the search limit) is 2.
    """
    d = np.asarray(distance, dtype=float)
    out = np.full(d.shape, 2, dtype=np.int8)
    out[d <= NEAR_FACTOR * radius] = 1
    out[d <= radius] = 0
    return out


def _runs(ix: np.ndarray, iy: np.ndarray, group: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs of consecutive grid columns in one row and group: (group, row, first, last)."""
    order = np.lexsort((ix, iy, group))
    g, y, x = group[order], iy[order], ix[order]
    dup = np.zeros(len(x), dtype=bool)  # one cell cut by two land parts
    dup[1:] = (g[1:] == g[:-1]) & (y[1:] == y[:-1]) & (x[1:] == x[:-1])
    g, y, x = g[~dup], y[~dup], x[~dup]
    new = np.ones(len(x), dtype=bool)
    new[1:] = (g[1:] != g[:-1]) | (y[1:] != y[:-1]) | (x[1:] != x[:-1] + 1)
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(x)) - 1
    return g[starts], y[starts], x[starts], x[ends]


def _stack(g: np.ndarray, row: np.ndarray, first: np.ndarray, last: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs with the same columns in consecutive rows stacked into one rectangle:
    (group, first row, last row, first column, last column)."""
    order = np.lexsort((row, last, first, g))
    g, row, first, last = g[order], row[order], first[order], last[order]
    new = np.ones(len(g), dtype=bool)
    new[1:] = ((g[1:] != g[:-1]) | (first[1:] != first[:-1]) | (last[1:] != last[:-1])
               | (row[1:] != row[:-1] + 1))
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(g)) - 1
    return g[starts], row[starts], row[ends], first[starts], last[starts]


def _dissolve(rects: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The union of each group of ``count`` consecutive rectangles, as one (Multi)Polygon each.

    The rectangles of a group never overlap but may share edges or parts of edges. ``buffer(0)``
    of their MultiPolygon (invalid only where parts touch along an edge) is their union: it
    drops pieces only of self-intersecting rings, which a rectangle has not; measured on a
    16-tile city it is twice as fast as ``union_all`` per group and gives the same polygons.
    """
    single = count == 1
    out = np.empty(len(count), dtype=object)
    first = np.cumsum(count) - count
    out[single] = rects[first[single]]
    many = np.flatnonzero(~single)
    if len(many):
        keep = np.repeat(~single, count)
        groups = shapely.multipolygons(rects[keep], indices=np.repeat(np.arange(len(many)),
                                                                       count[many]))
        out[many] = shapely.buffer(groups, 0.0)
    return out


_THREADED_MIN_RECTS = 20_000
"""Below this many rectangles the bands are made on one thread (the pool costs more)."""


def _band_shapes(rects: np.ndarray, count: np.ndarray, mine: np.ndarray) -> np.ndarray:
    """Each group of ``count`` consecutive rectangles dissolved and cut to its land part.

    The groups are split into one block of about equal rectangles per thread (GEOS runs
    without the interpreter's lock); the parts are not prepared, so no thread shares a
    prepared geometry (:mod:`geoplan._threads`): each part is tested once per band, where
    preparing it costs more than it saves.
    """
    start = np.concatenate([[0], np.cumsum(count)])  # group g's rectangles: start[g]:start[g + 1]
    n = thread_count() if len(rects) >= _THREADED_MIN_RECTS else 1
    cuts = np.searchsorted(start[1:], np.arange(1, n) * len(rects) / n, side="right")
    bounds = list(zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [len(count)]]),
                      strict=True))

    def block(b: tuple[int, int]) -> np.ndarray:
        lo, hi = int(b[0]), int(b[1])
        merged = _dissolve(rects[start[lo]:start[hi]], count[lo:hi])
        whole = shapely.contains(mine[lo:hi], merged)
        cut = np.asarray(merged, dtype=object)
        if (~whole).any():
            cut[~whole] = shapely.intersection(merged[~whole], mine[lo:hi][~whole])
        return cut

    return np.concatenate([np.zeros(0, dtype=object), *thread_map(block, bounds)])


_LAYOUT_BLOCK = 100_000
"""Demand points built at a time for the band layout."""


def _part_of(points: np.ndarray, tree: shapely.STRtree) -> np.ndarray:
    """The land part (in ``tree``) each demand point lies in (the nearest part for a point on
    no part)."""
    out = np.full(len(points), -1, dtype=np.int64)
    pi, ti = tree.query(points, predicate="intersects")
    out[pi[::-1]] = ti[::-1]  # the first part found, for a point on a shared edge
    lost = np.flatnonzero(out < 0)
    if len(lost):
        li, lt = tree.query_nearest(points[lost], return_distance=False, all_matches=False)
        out[lost[li]] = lt
    return out


@dataclass(frozen=True)
class BandLayout:
    """Where each residential piece is drawn, the same for every standard of a run.

    Attributes
    ----------
    parts
        The parts (Polygons) of the residential land of every district.
    part_district
        The district (position) of each part.
    part
        The land part of each demand piece.
    ix, iy
        The grid column and row of each demand piece's cell.
    """

    parts: np.ndarray
    part_district: np.ndarray
    part: np.ndarray
    ix: np.ndarray
    iy: np.ndarray


def band_layout(dem: Demand, land: np.ndarray, grid_m: float) -> BandLayout:
    """The :class:`BandLayout` of the residential demand ``dem`` on ``land`` (per district).

    Made once per run: the demand points are built (and the land parts searched) once, not
    once per standard.
    """
    # the land part of each piece (a cell cut by two parts gives a piece in each, each with
    # its own band): runs are made and cut per part, so no piece is drawn twice
    parts, part_district = shapely.get_parts(np.asarray(land, dtype=object), return_index=True)
    x, y = dem.xy()
    part = np.zeros(len(x), dtype=np.int64)
    if len(x):
        tree = shapely.STRtree(parts)
        # the points built a block at a time: a city's millions at once are a few hundred MB
        for lo in range(0, len(x), _LAYOUT_BLOCK):
            hi = lo + _LAYOUT_BLOCK
            part[lo:hi] = _part_of(shapely.points(x[lo:hi], y[lo:hi]), tree)
    # the grid cell of each piece: its point lies inside the piece, so inside the cell
    ix = np.floor(x / grid_m).astype(np.int64)
    iy = np.floor(y / grid_m).astype(np.int64)
    return BandLayout(parts, part_district, part, ix, iy)


def walk_band_frame(sid: str, dem: Demand, bands: np.ndarray, land: np.ndarray,
                    names: Sequence[str], grid_m: float,
                    layout: BandLayout | None = None) -> gpd.GeoDataFrame:
    """One standard's homes by walking-distance band, one shape per district and band.

    Parameters
    ----------
    sid
        The standard's id.
    dem
        The residential demand (grid pieces, their points and districts).
    bands
        Band code of every demand piece (:func:`band_codes`, lowest over the facility radii).
    land
        Residential land per district (:func:`geoplan.coverage.demand.residential_land`).
    names
        District names by position.
    grid_m
        The demand grid's spacing in metres.
    layout
        :func:`band_layout` of ``dem``, ``land`` and ``grid_m`` when already made (the same
        for every standard of a run); made here when None.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``standard``, ``district``, ``band`` (:data:`BANDS`), ``area_m2`` (the land of
        the band, from the demand pieces) and ``geometry`` (a MultiPolygon of the band's land).
    """
    cols = ["standard", "district", "band", "area_m2"]
    if len(dem) == 0 or dem.is_linear:
        return gpd.GeoDataFrame(columns=[*cols, "geometry"], geometry="geometry", crs=dem.crs)
    code = np.asarray(bands, dtype=np.int64)
    nb = len(BANDS)
    area = pd.Series(dem.amount).groupby(np.asarray(dem.district, dtype=np.int64) * nb
                                         + code).sum()
    lay = layout if layout is not None else band_layout(dem, land, grid_m)
    parts, part_district = lay.parts, lay.part_district
    g, row, first, last = _runs(lay.ix, lay.iy, lay.part * nb + code)
    g, row, top, first, last = _stack(g, row, first, last)
    rects = shapely.box(first * grid_m, row * grid_m, (last + 1) * grid_m, (top + 1) * grid_m)
    group, count = np.unique(g, return_counts=True)  # (part, band); _stack sorted by it
    cut = _band_shapes(rects, count, parts[group // nb])
    key_of_run = part_district[group // nb] * nb + group % nb
    polys, owner = shapely.get_parts(cut, return_index=True)
    keep = (shapely.get_type_id(polys) == 3) & (shapely.area(polys) > 0)
    polys, key = polys[keep], key_of_run[owner[keep]]
    order = np.argsort(key, kind="stable")
    polys, key = polys[order], key[order]
    uniq, start = np.unique(key, return_index=True)
    geoms = shapely.multipolygons(polys, indices=np.repeat(np.arange(len(uniq)),
                                                           np.diff(np.append(start, len(key)))))
    frame = geo_frame({
        "standard": sid,
        "district": np.asarray(names, dtype=object)[uniq // len(BANDS)],
        "band": np.asarray(BANDS, dtype=object)[uniq % len(BANDS)],
        "area_m2": area.reindex(uniq).to_numpy(dtype=float),
    }, geoms, dem.crs)
    return frame
