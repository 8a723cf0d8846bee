"""Gap geometry as weighted points: the demand and candidate sites of the covering."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geoplan._rects import clip_to_rects

__all__ = ["population_density", "sample_lines", "sample_polygons"]

def sample_lines(lines: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing`` metres along lines, each carrying the length it stands for."""
    xy: list[np.ndarray] = []
    weight: list[np.ndarray] = []
    for length, geom in zip(shapely.length(lines), lines, strict=True):
        n = max(int(np.ceil(length / spacing)), 1)
        at = (np.arange(n) + 0.5) * (length / n)
        pts = shapely.line_interpolate_point(geom, at)
        xy.append(shapely.get_coordinates(pts))
        weight.append(np.full(n, length / n))
    if not xy:
        return np.empty((0, 2)), np.empty(0)
    return np.concatenate(xy), np.concatenate(weight)


def sample_polygons(polygons: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid points inside polygons, each carrying the area of its grid cell inside them."""
    if len(polygons) == 0:
        return np.empty((0, 2)), np.empty(0)
    polygons = np.asarray(polygons, dtype=object)
    b = shapely.bounds(polygons)
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    x1, y1 = b[:, 2].max(), b[:, 3].max()
    xs = np.arange(x0 + spacing / 2, x1, spacing)
    ys = np.arange(y0 + spacing / 2, y1, spacing)
    if len(xs) == 0 or len(ys) == 0:
        union = shapely.union_all(polygons)
        point = shapely.point_on_surface(union)
        return np.array([[point.x, point.y]]), np.array([union.area])
    # only the cells each gap polygon's box meets, by index (gap polygons are disjoint, so a
    # cell's area inside them is the sum over the polygons it meets)
    cells_x, cells_y = _cells_near(b, xs, ys, spacing)
    cells = shapely.box(cells_x - spacing / 2, cells_y - spacing / 2,
                        cells_x + spacing / 2, cells_y + spacing / 2)
    ci, gi = shapely.STRtree(polygons).query(cells, predicate="intersects")
    area = np.zeros(len(cells))
    np.add.at(area, ci, _cell_areas(cells[ci], polygons[gi]))
    hit = np.zeros(len(cells), dtype=bool)
    hit[ci] = True
    keep = hit & (area > 0)
    return np.column_stack([cells_x[keep], cells_y[keep]]), area[keep]


def _cell_areas(cells: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Area of each cell inside its polygon (pairwise).

    A cell lying wholly in the polygon's interior is its own intersection (the same four
    corners, so the same area to the last bit): only the cells on an outline are cut, by the
    rectangle clipper (:func:`geoplan._rects.clip_to_rects`; a cell is a rectangle): on the
    16-tile city 3.9-4.1x less time than the overlay for the 976k pairs of its sites (the whole
    function, containment test included), areas equal to 6e-8 m² of a 2,500 m² cell.
    """
    shapely.prepare(polygons)
    inside = shapely.contains_properly(polygons, cells)
    out = np.empty(len(cells))
    out[inside] = shapely.area(cells[inside])
    cut = ~inside
    out[cut] = shapely.area(clip_to_rects(polygons[cut], cells[cut]))
    shapely.destroy_prepared(polygons)
    return out


def _cells_near(bounds: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the grid cells that the boxes ``bounds`` touch, in row-major grid order."""
    x0, y0 = xs[0] - spacing / 2, ys[0] - spacing / 2
    c0 = np.clip(np.floor((bounds[:, 0] - x0) / spacing).astype(np.int64), 0, len(xs) - 1)
    c1 = np.clip(np.floor((bounds[:, 2] - x0) / spacing).astype(np.int64), 0, len(xs) - 1)
    r0 = np.clip(np.floor((bounds[:, 1] - y0) / spacing).astype(np.int64), 0, len(ys) - 1)
    r1 = np.clip(np.floor((bounds[:, 3] - y0) / spacing).astype(np.int64), 0, len(ys) - 1)
    # every (row, column) of every box, without a Python loop: box k has h[k] rows of w[k] cells
    w, h = c1 - c0 + 1, r1 - r0 + 1
    n = w * h
    box = np.repeat(np.arange(len(w)), n)
    at = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)  # position inside its box
    row = r0[box] + at // w[box]
    col = c0[box] + at % w[box]
    cell = np.unique(row * len(xs) + col)
    return xs[cell % len(xs)], ys[cell // len(xs)]


def population_density(gaps: pd.DataFrame) -> float:
    """People per m² of gap area in these gaps (NaN when the gaps carry no people).

    The gaps' ``population`` is NaN when the run had no population source; the sites then
    say nothing about people rather than showing land area under a people column.
    """
    if "population" not in gaps.columns:
        return np.nan
    pop = gaps["population"].to_numpy(dtype=float)
    area = float(gaps["area_m2"].sum())
    if not np.isfinite(pop).any() or area <= 0:
        return np.nan
    return float(np.nansum(pop)) / area
