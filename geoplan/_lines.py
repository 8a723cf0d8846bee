"""Vectorised line helpers shared by demand sampling and walking reach."""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["interpolate_xy", "line_substrings"]


def interpolate_xy(xy: np.ndarray, first: np.ndarray, count: np.ndarray,
                   distance: np.ndarray) -> np.ndarray:
    """The point at ``distance`` along each line, as GEOS places it, from the lines' coordinates.

    Bit for bit the point of ``shapely.line_interpolate_point`` (GEOS's length-indexed line):
    segment lengths ``sqrt(dx*dx + dy*dy)`` added one by one from the line's start, the first
    segment whose running end passes the distance, ``x0 + (x1 - x0) * frac``; the start for a
    distance ≤ 0, the end for one beyond the line. Without making a point geometry per line,
    it takes about half the time.

    Parameters
    ----------
    xy
        Coordinates of all lines, line after line (``shapely.get_coordinates``).
    first, count
        Per line: the row of its first coordinate in ``xy`` and its number of coordinates
        (NaN for a line without any).
    distance
        Per line: the distance along it, in the units of the coordinates (not negative).

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 2)``: the points' coordinates.
    """
    n = len(first)
    out = np.empty((n, 2))
    for k in np.unique(count):
        rows = np.flatnonzero(count == k)
        idx = first[rows][:, None] + np.arange(k)[None, :]
        x, y = xy[idx, 0], xy[idx, 1]
        d = distance[rows]
        if k == 0:  # an empty line has no point
            out[rows] = np.nan
            continue
        if k == 1:
            out[rows] = np.column_stack([x[:, 0], y[:, 0]])
            continue
        dx, dy = x[:, 1:] - x[:, :-1], y[:, 1:] - y[:, :-1]
        seg = np.sqrt(dx * dx + dy * dy)
        run = np.cumsum(seg, axis=1)  # sequential sums: the same roundings as GEOS's loop
        past = run > d[:, None]
        inside = past.any(axis=1)
        j = np.where(inside, past.argmax(axis=1), k - 2)
        r = np.arange(len(rows))
        before = np.where(j > 0, run[r, np.maximum(j - 1, 0)], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = (d - before) / seg[r, j]
        x0, y0, x1, y1 = x[r, j], y[r, j], x[r, j + 1], y[r, j + 1]
        px = np.where(frac <= 0.0, x0, np.where(frac >= 1.0, x1, (x1 - x0) * frac + x0))
        py = np.where(frac <= 0.0, y0, np.where(frac >= 1.0, y1, (y1 - y0) * frac + y0))
        px = np.where(inside, px, x[:, -1])
        py = np.where(inside, py, y[:, -1])
        start = d <= 0.0
        out[rows, 0] = np.where(start, x[:, 0], px)
        out[rows, 1] = np.where(start, y[:, 0], py)
    return out


def line_substrings(lines: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The part of each line between distances ``a < b`` along it, for all lines at once.

    Parameters
    ----------
    lines
        LineStrings.
    a, b
        Start and end distance along each line (same units as its coordinates), ``a < b``.

    Returns
    -------
    numpy.ndarray
        LineStrings: the start point, every vertex strictly between, and the end point.
    """
    xy, gi = shapely.get_coordinates(lines, return_index=True)
    seg = np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1]))
    seg[gi[1:] != gi[:-1]] = 0.0
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    n = len(lines)
    first = np.searchsorted(gi, np.arange(n))
    cum = cum - cum[first][gi]  # distance of each vertex from the start of its own line
    inner = (cum > a[gi]) & (cum < b[gi])
    count = np.bincount(gi, minlength=n)
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    pa = interpolate_xy(xy, first, count, a)
    pb = interpolate_xy(xy, first, count, b)
    # order: start point, inner vertices, end point; stable sort by (line, rank)
    ids = np.concatenate([np.arange(n), gi[inner], np.arange(n)])
    rank = np.concatenate([np.zeros(n), np.ones(int(inner.sum())), np.full(n, 2.0)])
    pts = np.concatenate([pa, xy[inner], pb])
    order = np.lexsort((rank, ids))
    return shapely.linestrings(pts[order], indices=ids[order])
