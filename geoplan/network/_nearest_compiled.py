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

__all__ = ["build_pieces", "cell_order", "nearest_points", "segment_starts", "segments"]


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
    ``key`` instead; ``pxy`` holds each piece's segment end points and its own midpoint
    (ax, ay, bx, by, mx, my). Every formula follows
    :meth:`SegmentIndex._nearest_chunk` and :func:`~geoplan.network.nearest._point_segment`
    step by step.

    A piece whose midpoint lies farther than the nearest distance found so far + half a piece
    + 2 ``tie`` is skipped without measuring its segment (while that distance is within
    ``max_distance``). Its segment cannot be within ``tie`` of the nearest through this piece;
    through another piece of the block it is measured there, to the same distance; and
    through a piece outside the block the point is left open whether or not it is skipped
    (the disc then reaches past the block). So the answers are those of measuring every
    piece, and the centre column of cells goes first, where the nearest usually is.
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
            reach = np.inf  # midpoints farther than this are skipped (squared)
            for j in range(2 * r + 1):
                dx = (j + 1) // 2 if j % 2 else -(j // 2)  # 0, 1, -1, 2, -2
                lo, hi = _column(cx + dx, cy, r, nx, ny, cell_start, key)
                if k + hi - lo > cap:
                    cap = 2 * (k + hi - lo)
                    cand_d = _grow(cand_d, cap, k)
                    cand_r = _grow(cand_r, cap, k)
                    cand_s = _grow(cand_s, cap, k)
                    cand_e = _grow(cand_e, cap, k)
                for p in range(lo, hi):
                    ex = pxy[p, 4] - px
                    ey = pxy[p, 5] - py
                    if ex * ex + ey * ey > reach:
                        continue
                    d, frac = _point_segment(px, py, pxy[p, 0], pxy[p, 1], pxy[p, 2], pxy[p, 3])
                    cand_d[k] = d
                    cand_r[k] = frac
                    cand_s[k] = piece_seg[p]
                    cand_e[k] = piece_edge[p]
                    if d < best_d:
                        best_d = d
                        best_edge = piece_edge[p]
                        if best_d <= max_distance:
                            bound = best_d + half + 2.0 * tie
                            reach = bound * bound
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
def segments(xy: np.ndarray, part: np.ndarray) -> tuple[Any, ...]:
    """The straight segments of lines given as coordinates and the line of each coordinate.

    Returns start x, start y, end x, end y, owning line and length of every segment, in the
    order of the lines, with the arithmetic of the array version.
    """
    n = 0
    for i in range(len(part) - 1):
        if part[i + 1] == part[i]:
            n += 1
    ax = np.empty(n)
    ay = np.empty(n)
    bx = np.empty(n)
    by = np.empty(n)
    owner = np.empty(n, dtype=part.dtype)
    length = np.empty(n)
    j = 0
    for i in range(len(part) - 1):
        if part[i + 1] == part[i]:
            ax[j] = xy[i, 0]
            ay[j] = xy[i, 1]
            bx[j] = xy[i + 1, 0]
            by[j] = xy[i + 1, 1]
            owner[j] = part[i]
            ux = bx[j] - ax[j]
            uy = by[j] - ay[j]
            length[j] = np.sqrt(ux * ux + uy * uy)
            j += 1
    return ax, ay, bx, by, owner, length


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
    Each piece's midpoint is computed again in every pass rather than held in a
    temporary array: a city's index has millions of pieces, and the memory a temporary
    touches for the first time (page faults) cost more than the arithmetic.
    Returns piece segment, cell key, cell table (empty when the grid is too large for one),
    piece edge, piece segment end points and midpoint (n, 6: ax, ay, bx, by, mx, my; one row
    per piece, so a search reads one cache line per candidate), the longest piece, x0, y0,
    nx, ny.
    """
    n = len(ax)
    total = 0
    longest = 0.0
    lo_x, lo_y, hi_x, hi_y = np.inf, np.inf, -np.inf, -np.inf
    for s in range(n):  # pass 1: how many pieces, and the midpoints' extent
        p = max(1, int(np.ceil(length[s] / piece_m)))
        total += p
        if length[s] / p > longest:
            longest = length[s] / p
        for k in range(p):
            t = (k + 0.5) / p
            mx = ax[s] + t * (bx[s] - ax[s])
            my = ay[s] + t * (by[s] - ay[s])
            lo_x, hi_x = min(lo_x, mx), max(hi_x, mx)
            lo_y, hi_y = min(lo_y, my), max(hi_y, my)
    x0 = lo_x - cell_m
    y0 = lo_y - cell_m
    # floor((m - x0) / cell) never decreases as m grows, so the largest midpoint has the last cell
    nx = int(np.floor((hi_x - x0) / cell_m)) + 2
    ny = int(np.floor((hi_y - y0) / cell_m)) + 2
    key = np.empty(total, dtype=np.int64)
    j = 0
    for s in range(n):  # pass 2: the cell of every piece
        p = max(1, int(np.ceil(length[s] / piece_m)))
        for k in range(p):
            t = (k + 0.5) / p
            ix = int(np.floor((ax[s] + t * (bx[s] - ax[s]) - x0) / cell_m))
            iy = int(np.floor((ay[s] + t * (by[s] - ay[s]) - y0) / cell_m))
            key[j] = ix * ny + iy
            j += 1
    n_cells = nx * ny
    dense = n_cells <= max(dense_cells, 4 * total)
    if dense:  # a counting sort: the pieces of a cell in the order they were made
        cell_start = np.zeros(n_cells + 1, dtype=np.int64)
        for j in range(total):
            cell_start[key[j] + 1] += 1
        for c in range(n_cells):
            cell_start[c + 1] += cell_start[c]
        slot = cell_start[:-1].copy()
        rank = np.empty(0, dtype=np.int64)
    else:
        cell_start = np.zeros(0, dtype=np.int64)
        slot = np.empty(0, dtype=np.int64)
        rank = np.empty(total, dtype=np.int64)
        rank[np.argsort(key)] = np.arange(total)
    s_seg = np.empty(total, dtype=np.int64)
    s_key = np.empty(total, dtype=np.int64)
    s_edge = np.empty(total, dtype=np.int64)
    s_xy = np.empty((total, 6))
    j = 0
    for s in range(n):  # pass 3: every piece written straight to its place
        p = max(1, int(np.ceil(length[s] / piece_m)))
        for k in range(p):
            t = (k + 0.5) / p
            c = key[j]
            if dense:
                i = slot[c]
                slot[c] += 1
            else:
                i = rank[j]
            s_seg[i] = s
            s_key[i] = c
            s_edge[i] = seg_edge[s]
            s_xy[i, 0] = ax[s]
            s_xy[i, 1] = ay[s]
            s_xy[i, 2] = bx[s]
            s_xy[i, 3] = by[s]
            s_xy[i, 4] = ax[s] + t * (bx[s] - ax[s])
            s_xy[i, 5] = ay[s] + t * (by[s] - ay[s])
            j += 1
    return (s_seg, s_key, cell_start, s_edge, s_xy, longest, x0, y0, nx, ny)


@njit(cache=True, nogil=True)
def cell_order(x: np.ndarray, y: np.ndarray, x0: float, y0: float, cell: float, nx: int,
               ny: int) -> np.ndarray:
    """Indices of the points grouped by grid cell (points outside the grid at its border).

    A counting sort: linear in the points and cells, where sorting float keys is n log n. Only
    the search's speed depends on the order, never an answer.
    """
    n = len(x)
    key = np.empty(n, dtype=np.int64)
    for i in range(n):
        fx = np.floor((x[i] - x0) / cell)
        fy = np.floor((y[i] - y0) / cell)
        ix = int(min(max(fx, 0.0), nx - 1.0)) if fx == fx else 0
        iy = int(min(max(fy, 0.0), ny - 1.0)) if fy == fy else 0
        key[i] = ix * ny + iy
    start = np.zeros(nx * ny + 1, dtype=np.int64)
    for i in range(n):
        start[key[i] + 1] += 1
    for c in range(nx * ny):
        start[c + 1] += start[c]
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[start[key[i]]] = i
        start[key[i]] += 1
    return order
