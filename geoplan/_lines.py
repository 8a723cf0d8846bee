"""Vectorised line helpers shared by demand sampling and walking reach."""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["line_substrings"]


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
    pa = shapely.get_coordinates(shapely.line_interpolate_point(lines, a))
    pb = shapely.get_coordinates(shapely.line_interpolate_point(lines, b))
    # order: start point, inner vertices, end point; stable sort by (line, rank)
    ids = np.concatenate([np.arange(n), gi[inner], np.arange(n)])
    rank = np.concatenate([np.zeros(n), np.ones(int(inner.sum())), np.full(n, 2.0)])
    pts = np.concatenate([pa, xy[inner], pb])
    order = np.lexsort((rank, ids))
    return shapely.linestrings(pts[order], indices=ids[order])
