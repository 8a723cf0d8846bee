"""The nearest-edge search of :class:`~geoplan.network.nearest.SegmentIndex` as a compiled loop.

The array version in :mod:`geoplan.network.nearest` spends most of its time in numpy's per-call
overhead and in the temporaries of about twenty operations on every candidate piece. This module
does the same arithmetic, operation by operation and in the same order, one point at a time in a
loop compiled by numba, so it gives bit for bit the same edges, distances, offsets and undecided
points (``tests/test_snap_index.py`` checks this).

Importing this module needs numba (the ``fast`` extra); :mod:`geoplan.network.nearest` imports
it only for large batches of points, because the first call on a fresh install compiles the
loop (a few seconds; the machine code is then cached on disk).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = ["build_pieces", "nearest_points", "segment_starts"]


@njit(cache=True, nogil=True)
def nearest_points(x: np.ndarray, y: np.ndarray, max_distance: float, tie: float,
                   x0: float, y0: float, cell: float, nx: int, ny: int,
                   cell_start: np.ndarray, key: np.ndarray,
                   piece_seg: np.ndarray, piece_edge: np.ndarray, pxy: np.ndarray,
                   ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray,
                   seg_start: np.ndarray, seg_length: np.ndarray,
                   half: float, edge: np.ndarray, dist: np.ndarray, offset: np.ndarray,
                   undecided: np.ndarray) -> None:
    """Fill ``edge``, ``dist``, ``offset`` and ``undecided`` for every point (see the caller).

    ``cell_start`` is the first piece of every cell, or empty when the grid is searched in
    ``key`` instead. Every formula follows :meth:`SegmentIndex._nearest_chunk` and
    :func:`~geoplan.network.nearest._point_segment` step by step.
    """
    n_seg = len(ax)
    cap = 256
    cand_d = np.empty(cap)
    cand_r = np.empty(cap)
    cand_s = np.empty(cap, dtype=np.int64)
    cand_e = np.empty(cap, dtype=np.int64)
    for i in range(len(x)):
        px = x[i]
        py = y[i]
        for r in range(1, 3):
            fx = (px - x0) / cell
            fy = (py - y0) / cell
            cxf = np.floor(fx)
            cyf = np.floor(fy)
            margin = cell * (r + min(min(fx - cxf, 1.0 - (fx - cxf)),
                                     min(fy - cyf, 1.0 - (fy - cyf))))
            cx = int(cxf)
            cy = int(cyf)
            # every piece of the (2 r + 1) columns of cells around the point, in candidate
            # order. The array search first drops pieces that cannot be within 2 TIE_M of the
            # nearest; keeping them changes nothing (their distances are larger than the
            # nearest + 2 TIE_M, and a segment met twice has the same distance both times).
            k = 0
            best_d = np.inf
            best_edge = -1
            for dx in range(-r, r + 1):
                lo, hi = _column(cx + dx, cy, r, nx, ny, cell_start, key)
                if k + hi - lo > cap:
                    cap = 2 * (k + hi - lo)
                    cand_d = _grow(cand_d, cap, k)
                    cand_r = _grow(cand_r, cap, k)
                    cand_s = _grow(cand_s, cap, k)
                    cand_e = _grow(cand_e, cap, k)
                for p in range(lo, hi):
                    d, frac = _point_segment(px, py, pxy[p, 0], pxy[p, 1], pxy[p, 2], pxy[p, 3])
                    cand_d[k] = d
                    cand_r[k] = frac
                    cand_s[k] = piece_seg[p]
                    cand_e[k] = piece_edge[p]
                    if d < best_d:
                        best_d = d
                        best_edge = piece_edge[p]
                    k += 1
            has = k > 0
            second = np.inf
            lo_m = np.inf
            hi_m = -np.inf
            first_seg = n_seg
            for j in range(k):
                d = cand_d[j]
                if cand_e[j] != best_edge:
                    if d < second:
                        second = d
                elif d - best_d <= tie:
                    s = cand_s[j]
                    frac = min(max(cand_r[j], 0.0), 1.0)
                    meas = seg_start[s] + frac * seg_length[s]
                    if meas < lo_m:
                        lo_m = meas
                    if meas > hi_m:
                        hi_m = meas
                    if s < first_seg:
                        first_seg = s
            open_ = False
            if second < np.inf and second - best_d <= tie:
                open_ = True
            if abs(best_d - max_distance) <= tie:
                open_ = True
            if min(best_d, max_distance) + half + tie >= margin:
                open_ = True
            if has and hi_m - lo_m > 1e-9:
                open_ = True
            undecided[i] = open_
            if has and best_d <= max_distance and not open_:
                edge[i] = best_edge
                dist[i] = best_d
                offset[i] = _measure(px, py, first_seg, ax, ay, bx, by, seg_start, seg_length)
            else:
                edge[i] = -1
                dist[i] = np.nan
                offset[i] = np.nan
            if not open_:
                break


@njit(cache=True, nogil=True)
def _grow(a: np.ndarray, cap: int, k: int) -> np.ndarray:
    """A copy of ``a`` with room for ``cap`` entries (the first ``k`` kept)."""
    out = np.empty(cap, dtype=a.dtype)
    out[:k] = a[:k]
    return out


@njit(cache=True, nogil=True)
def _column(ix: int, iy: int, r: int, nx: int, ny: int, cell_start: np.ndarray,
            key: np.ndarray) -> tuple[int, int]:
    """First and past-the-end piece of the cells (ix, iy - r .. iy + r)."""
    if ix < 0 or ix >= nx or iy + r < 0 or iy - r >= ny:
        return 0, 0
    y_lo = min(max(iy - r, 0), ny - 1)
    y_hi = min(max(iy + r, 0), ny - 1)
    base = ix * ny
    if len(cell_start):
        return cell_start[base + y_lo], cell_start[base + y_hi + 1]
    return int(np.searchsorted(key, base + y_lo)), int(np.searchsorted(key, base + y_hi + 1))


@njit(cache=True, nogil=True)
def _point_segment(px: float, py: float, ax: float, ay: float, bx: float,
                   by: float) -> tuple[float, float]:
    """Distance from a point to segment A-B and the projection factor, as GEOS computes them."""
    ux = bx - ax
    uy = by - ay
    len2 = ux * ux + uy * uy
    if len2 == 0.0:
        return np.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay)), 0.0
    r = ((px - ax) * ux + (py - ay) * uy) / len2
    if r <= 0.0:
        return np.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay)), r
    if r >= 1.0:
        return np.sqrt((px - bx) * (px - bx) + (py - by) * (py - by)), r
    s = ((ay - py) * ux - (ax - px) * uy) / len2
    return abs(s) * np.sqrt(len2), r


@njit(cache=True, nogil=True)
def _measure(px: float, py: float, s: int, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray,
             by: np.ndarray, seg_start: np.ndarray,
             seg_length: np.ndarray) -> float:
    """Metres along the edge to the projection of the point on segment ``s`` (as GEOS)."""
    ux = bx[s] - ax[s]
    uy = by[s] - ay[s]
    len2 = ux * ux + uy * uy
    if len2 == 0.0:
        return seg_start[s]
    r = ((px - ax[s]) * ux + (py - ay[s]) * uy) / len2
    if r <= 0.0:
        return seg_start[s]
    if r > 1.0:
        return seg_start[s] + seg_length[s]
    return seg_start[s] + r * seg_length[s]


@njit(cache=True, nogil=True)
def segment_starts(length: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Metres from the edge's start to each segment's start, summed one segment at a time."""
    out = np.zeros(len(length))
    for i in range(1, len(length)):
        if owner[i] == owner[i - 1]:
            out[i] = out[i - 1] + length[i - 1]
    return out


@njit(cache=True, nogil=True)
def build_pieces(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray,
                 length: np.ndarray, seg_edge: np.ndarray, piece_m: float, cell_m: float,
                 dense_cells: int) -> tuple[Any, ...]:
    """The pieces of :class:`~geoplan.network.nearest.SegmentIndex`, filed by cell.

    The same pieces, midpoints, cells and cell table as the array build, with the same
    arithmetic; the pieces of one cell may come in another order, which no answer depends on.
    Returns piece segment, midpoint x and y, cell key, cell table (empty when the grid is too
    large for one), piece edge, piece end points (n, 4), the longest piece, x0, y0, nx, ny.
    """
    n = len(ax)
    pieces = np.empty(n, dtype=np.int64)
    total = 0
    longest = 0.0
    for s in range(n):
        p = max(1, int(np.ceil(length[s] / piece_m)))
        pieces[s] = p
        total += p
        if length[s] / p > longest:
            longest = length[s] / p
    mx = np.empty(total)
    my = np.empty(total)
    seg = np.empty(total, dtype=np.int64)
    j = 0
    for s in range(n):
        p = pieces[s]
        ux = bx[s] - ax[s]
        uy = by[s] - ay[s]
        for k in range(p):
            t = (k + 0.5) / p
            mx[j] = ax[s] + t * ux
            my[j] = ay[s] + t * uy
            seg[j] = s
            j += 1
    x0 = mx.min() - cell_m
    y0 = my.min() - cell_m
    key = np.empty(total, dtype=np.int64)
    nx = 0
    ny = 0
    for j in range(total):
        ix = int(np.floor((mx[j] - x0) / cell_m))
        iy = int(np.floor((my[j] - y0) / cell_m))
        nx = max(nx, ix)
        ny = max(ny, iy)
        key[j] = ix
    nx += 2
    ny += 2
    for j in range(total):
        key[j] = key[j] * ny + int(np.floor((my[j] - y0) / cell_m))
    n_cells = nx * ny
    if n_cells <= max(dense_cells, 4 * total):
        cell_start = np.zeros(n_cells + 1, dtype=np.int64)
        for j in range(total):
            cell_start[key[j] + 1] += 1
        for c in range(n_cells):
            cell_start[c + 1] += cell_start[c]
        fill = cell_start[:-1].copy()
        order = np.empty(total, dtype=np.int64)
        for j in range(total):
            order[fill[key[j]]] = j
            fill[key[j]] += 1
    else:
        cell_start = np.zeros(0, dtype=np.int64)
        order = np.argsort(key)
    s_seg = np.empty(total, dtype=np.int64)
    s_mx = np.empty(total)
    s_my = np.empty(total)
    s_key = np.empty(total, dtype=np.int64)
    s_edge = np.empty(total, dtype=np.int64)
    s_xy = np.empty((total, 4))
    for i in range(total):
        j = order[i]
        s = seg[j]
        s_seg[i] = s
        s_mx[i] = mx[j]
        s_my[i] = my[j]
        s_key[i] = key[j]
        s_edge[i] = seg_edge[s]
        s_xy[i, 0] = ax[s]
        s_xy[i, 1] = ay[s]
        s_xy[i, 2] = bx[s]
        s_xy[i, 3] = by[s]
    return (s_seg, s_mx, s_my, s_key, cell_start, s_edge, s_xy, longest, x0, y0, nx, ny)
