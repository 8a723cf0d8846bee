"""Nearest edge of many points at once, with arrays: a grid of cells over short segment pieces.

Every edge LineString is split into its straight segments, and long segments into pieces of at
most :data:`PIECE_M` metres for the index only. Each piece is filed under the square cell
(:data:`CELL_M`) holding its midpoint. A point's candidates are the pieces filed in its cell and
the eight around it. Every point of a piece lies within ``h`` (half the longest piece) of its
midpoint, so a segment at distance ``<= b`` from the point has a piece whose midpoint lies within
``b + h``; when that disc fits inside the 3 x 3 block of cells, the candidates hold every segment
as near as the nearest one found, ``b`` (points it does not fit are tried again with the 5 x 5
block). The point-to-segment distance and the position along the
edge are computed with the formulas GEOS uses (``Distance::pointToSegment``,
``LineSegment::projectionFactor``, lengths summed segment by segment), so they match
``STRtree.query_nearest`` and ``line_locate_point``.

What the arrays cannot decide the same way GEOS does is left to GEOS by the caller (the
``undecided`` points): points whose nearest two edges are within :data:`TIE_M` of each other
(GEOS measures them, and of exactly equally near edges the lowest index wins), points within
:data:`TIE_M` of the distance limit, points whose position along the winning edge is ambiguous
(two segments of the edge equally near), and points too far from every edge for the 5 x 5 block
to be sure. GEOS looks at the edges near those points only (:meth:`SegmentIndex.edges_near`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np
import shapely

from geoplan._threads import compiled_loops

__all__ = ["CELL_M", "COMPILED_MIN_POINTS", "PIECE_M", "TIE_M", "NearestResult", "SegmentIndex"]

PIECE_M = 45.0
"""Longest indexed piece of a segment (metres): the sure radius shrinks by half of it."""
CELL_M = 60.0
"""Side of a grid cell (metres)."""
TIE_M = 1e-7
"""Two distances closer than this (metres) are treated as a tie and decided by GEOS."""
CHUNK = 8192
"""Points per step (small steps keep the candidate arrays in cache)."""
DENSE_CELLS = 4_000_000
"""Up to this many cells (or 4 per piece) a table holds each cell's first piece."""
COMPILED_MIN_POINTS = 100_000
"""From this many points (or segments) on, the compiled loops are used when numba is installed:
below it, loading numba and the cached machine code costs more than it saves (once loaded, they
are used at any size)."""


def _compiled(required: bool | None, size: int) -> ModuleType | None:
    """The compiled loops (:mod:`geoplan.network._nearest_compiled`) for a batch of ``size``.

    ``required`` True: they must be used (ImportError without numba); False: never; None: from
    :data:`COMPILED_MIN_POINTS` on, when numba is installed, and at any size once something
    in this process has loaded them (their cost is loading, which is then paid).
    """
    return compiled_loops("geoplan.network._nearest_compiled", required,
                          size >= COMPILED_MIN_POINTS)


def _point_segment(px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray,
                   bx: np.ndarray, by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance from points to segments A-B and the projection factor of each point.

    Follows GEOS's ``Distance::pointToSegment`` (and ``LineSegment::projectionFactor``, 0 for a
    zero-length segment) operation by operation.
    """
    ux, uy = bx - ax, by - ay
    len2 = ux * ux + uy * uy
    zero = len2 == 0.0
    safe = np.where(zero, 1.0, len2)
    r = ((px - ax) * ux + (py - ay) * uy) / safe
    r = np.where(zero, 0.0, r)
    s = ((ay - py) * ux - (ax - px) * uy) / safe
    d_a = np.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
    d_b = np.sqrt((px - bx) * (px - bx) + (py - by) * (py - by))
    d = np.abs(s) * np.sqrt(len2)
    d = np.where(r >= 1.0, d_b, d)
    d = np.where((r <= 0.0) | zero, d_a, d)
    return d, r


@dataclass(frozen=True)
class NearestResult:
    """Nearest edge per point as found by :meth:`SegmentIndex.nearest`.

    Attributes
    ----------
    edge : numpy.ndarray
        Edge id per point (int64), -1 where no edge is within the limit.
    distance : numpy.ndarray
        Distance to that edge (NaN where none).
    offset : numpy.ndarray
        Metres along the edge from its start (NaN where none or where ``undecided``).
    undecided : numpy.ndarray
        Boolean mask of the points left to GEOS: a tie between edges, a distance at the limit,
        or an ambiguous position along the edge.
    """

    edge: np.ndarray
    distance: np.ndarray
    offset: np.ndarray
    undecided: np.ndarray


class SegmentIndex:
    """A grid of cells over short pieces of the straight segments of some edges.

    Parameters
    ----------
    geometry : numpy.ndarray
        LineStrings, one per indexed edge.
    edge_ids : numpy.ndarray
        The edge id reported for each geometry.
    piece_m : float
        Longest indexed piece of a segment in metres.
    cell_m : float
        Side of a grid cell in metres.
    compiled : bool or None
        Build with the compiled loop (needs numba; the same index). None (default): from
        :data:`COMPILED_MIN_POINTS` segments on, when numba is installed (at any size once loaded).
    """

    def __init__(self, geometry: np.ndarray, edge_ids: np.ndarray,
                 piece_m: float = PIECE_M, cell_m: float = CELL_M, *,
                 compiled: bool | None = None) -> None:
        geometry = np.asarray(geometry, dtype=object)
        #: False when some geometry is not a LineString: then nothing is decided here
        self.usable = bool((shapely.get_type_id(geometry) == 1).all())
        xy, part = shapely.get_coordinates(geometry, return_index=True)
        self.cell = float(cell_m)
        self._by_piece: tuple[np.ndarray, np.ndarray] | None = None
        # as many segments as coordinates less one per line (when all are lines)
        loops = _compiled(compiled, len(xy) - len(geometry)) if len(xy) > len(geometry) else None
        if loops is not None:
            self.ax, self.ay, self.bx, self.by, owner, self.length = loops.segments(xy, part)
            self.edge = np.asarray(edge_ids, dtype=np.int64)[owner]
            if len(self.length):
                _compiled_build(self, loops, owner, piece_m)
                return
        first = np.flatnonzero(part[1:] == part[:-1])
        self.ax, self.ay = xy[first, 0], xy[first, 1]
        self.bx, self.by = xy[first + 1, 0], xy[first + 1, 1]
        owner = part[first]
        self.edge = np.asarray(edge_ids, dtype=np.int64)[owner]
        ux, uy = self.bx - self.ax, self.by - self.ay
        self.length = np.sqrt(ux * ux + uy * uy)
        n = len(self.length)
        # metres from the edge start to each segment's start, summed in order as GEOS does
        start_of_edge = np.ones(n, dtype=bool)
        start_of_edge[1:] = owner[1:] != owner[:-1]
        self.start = _restart_cumsum(self.length, start_of_edge)
        pieces = np.maximum(1, np.ceil(self.length / piece_m)).astype(np.int64)
        piece_seg = np.repeat(np.arange(n), pieces)
        first_piece = np.cumsum(pieces) - pieces
        k = np.arange(len(piece_seg)) - np.repeat(first_piece, pieces)
        t = (k + 0.5) / np.repeat(pieces, pieces)
        mx = self.ax[piece_seg] + t * ux[piece_seg]
        my = self.ay[piece_seg] + t * uy[piece_seg]
        # every point of a piece is within half its length of its midpoint (plus rounding)
        self.half = _half(float((self.length / pieces).max())) if n else 0.0
        self.x0 = float(mx.min()) - cell_m if n else 0.0
        self.y0 = float(my.min()) - cell_m if n else 0.0
        ix = np.floor((mx - self.x0) / cell_m).astype(np.int64)
        iy = np.floor((my - self.y0) / cell_m).astype(np.int64)
        self.nx = int(ix.max()) + 2 if n else 1
        self.ny = int(iy.max()) + 2 if n else 1
        key = ix * self.ny + iy
        order = np.argsort(key)  # the order inside a cell does not matter
        #: segment and midpoint of each piece, grouped by cell
        self.piece_seg = piece_seg[order]
        self.mx, self.my = mx[order], my[order]
        #: cell key of each piece, sorted
        self.key = key[order]
        n_cells = self.nx * self.ny
        #: first piece of every cell when the grid is small enough for a table (else searched)
        self.cell_start = (np.searchsorted(self.key, np.arange(n_cells + 1))
                           if n_cells <= max(DENSE_CELLS, 4 * len(self.key)) else None)

    def __len__(self) -> int:
        return len(self.piece_seg)

    def nearest(self, x: np.ndarray, y: np.ndarray, max_distance: float, *,
                compiled: bool | None = None) -> NearestResult:
        """Nearest indexed edge of each point within ``max_distance`` (see the module notes).

        Parameters
        ----------
        x, y
            Point coordinates.
        max_distance
            Points farther than this from every edge get edge -1.
        compiled
            Use the compiled loop (:mod:`geoplan.network._nearest_compiled`, needs numba): the
            same answers bit for bit, several times faster. None (default) uses it from
            :data:`COMPILED_MIN_POINTS` points on when numba is installed, and at any size
            once loaded; True requires it.

        Returns
        -------
        NearestResult
        """
        n = len(x)
        edge = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.nan)
        offset = np.full(n, np.nan)
        if not self.usable:
            return NearestResult(edge, dist, offset, np.ones(n, dtype=bool))
        undecided = np.zeros(n, dtype=bool)
        if len(self.piece_seg) == 0 or n == 0:
            return NearestResult(edge, dist, offset, undecided)
        x = np.ascontiguousarray(x, dtype=np.float64)
        y = np.ascontiguousarray(y, dtype=np.float64)
        loops = _compiled(compiled, n)
        # points in the order of their cells, so that neighbours find the same pieces in cache
        # (each point's answer is independent of the others)
        if loops is not None and self.cell_start is not None:  # a table's worth of cells
            order = loops.cell_order(x, y, self.x0, self.y0, self.cell, self.nx, self.ny)
        else:
            order = np.argsort(np.floor((x - self.x0) / self.cell) * self.ny
                               + np.floor((y - self.y0) / self.cell), kind="stable")
        x, y = x[order], y[order]
        if loops is not None:
            empty = np.zeros(0, dtype=np.int64)
            piece_edge, piece_xy = self._piece_segments()
            loops.nearest_points(x, y, float(max_distance), TIE_M, self.x0, self.y0, self.cell, self.nx,
                   self.ny, empty if self.cell_start is None else self.cell_start, self.key,
                   self.piece_seg, piece_edge, piece_xy, self.ax, self.ay, self.bx, self.by,
                   self.start, self.length, self.half, edge, dist, offset, undecided)
        else:
            todo = np.arange(n)
            # the 3 x 3 cells first; the points it leaves open get the 5 x 5 cells (ties stay
            # open)
            for r in (1, 2):
                step = CHUNK // (r * r)
                for lo in range(0, len(todo), step):
                    sl = todo[lo:lo + step]
                    e, d, o, u = self._nearest_chunk(x[sl], y[sl], max_distance, r)
                    edge[sl], dist[sl], offset[sl], undecided[sl] = e, d, o, u
                todo = np.flatnonzero(undecided)
        back = np.empty_like(order)
        back[order] = np.arange(n)
        edge, dist, offset, undecided = edge[back], dist[back], offset[back], undecided[back]
        return NearestResult(edge, dist, offset, undecided)

    def edges_near(self, x: np.ndarray, y: np.ndarray, radius: float
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Every indexed edge with a point within ``radius`` of each point, and maybe more.

        The candidates a nearest-edge search within ``radius`` needs (a superset: whole
        cells are taken), for a few points at a time.

        Parameters
        ----------
        x, y
            Point coordinates.
        radius
            Metres.

        Returns
        -------
        tuple of numpy.ndarray
            Point position and edge id of each (point, edge) pair, each pair once.
        """
        if len(self.piece_seg) == 0 or len(x) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        # a segment within the radius has a piece whose midpoint lies within radius + half;
        # the midpoint's cell is then within r cells of the point's cell in each direction
        r = int(np.ceil((radius + self.half + 2 * TIE_M) / self.cell))
        pts, edges = [], []
        step = max(1, CHUNK // ((2 * r + 1) ** 2))
        for lo in range(0, len(x), step):
            cx = np.floor((np.asarray(x[lo:lo + step]) - self.x0) / self.cell).astype(np.int64)
            cy = np.floor((np.asarray(y[lo:lo + step]) - self.y0) / self.cell).astype(np.int64)
            for dx in range(-r, r + 1):
                first, past = self._column_ranges(cx + dx, cy, r)
                count = past - first
                piece = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count - first,
                                                                count)
                pts.append(np.repeat(np.arange(len(cx)) + lo, count))
                edges.append(self.edge[self.piece_seg[piece]])
        # each pair once, sorted by point then edge: one integer key sorts far faster than rows
        span = int(self.edge.max()) + 1
        key = np.unique(np.concatenate(pts) * span + np.concatenate(edges))
        return key // span, key % span

    def maybe_near(self, x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
        """False where no indexed edge comes within ``radius`` of the point (True: it may).

        From a count of the pieces in the block of cells around each point (a summed-area table
        of the cell grid), so a search over a few edges (a city's fragments) skips the points
        far from all of them. Every point is True when the grid has no cell table.
        """
        n = len(x)
        if len(self.piece_seg) == 0:
            return np.zeros(n, dtype=bool)
        if self.cell_start is None:
            return np.ones(n, dtype=bool)
        r = int(np.ceil((radius + self.half + 2 * TIE_M) / self.cell))
        counts = np.diff(self.cell_start).reshape(self.nx, self.ny)
        table = np.zeros((self.nx + 1, self.ny + 1), dtype=np.int64)
        table[1:, 1:] = counts.cumsum(axis=0).cumsum(axis=1)
        cx = np.floor((np.asarray(x, dtype=np.float64) - self.x0) / self.cell)
        cy = np.floor((np.asarray(y, dtype=np.float64) - self.y0) / self.cell)
        ok = np.isfinite(cx) & np.isfinite(cy)
        cx, cy = np.where(ok, cx, 0).astype(np.int64), np.where(ok, cy, 0).astype(np.int64)
        x_lo, x_hi = np.clip(cx - r, 0, self.nx), np.clip(cx + r + 1, 0, self.nx)
        y_lo, y_hi = np.clip(cy - r, 0, self.ny), np.clip(cy + r + 1, 0, self.ny)
        inside = (table[x_hi, y_hi] - table[x_lo, y_hi] - table[x_hi, y_lo]
                  + table[x_lo, y_lo])
        return ~ok | (inside > 0)

    def _piece_segments(self) -> tuple[np.ndarray, np.ndarray]:
        """Edge, segment end points and midpoint (ax, ay, bx, by, mx, my) of every piece,
        for the compiled loop.

        Read in the order the cells are visited rather than through ``piece_seg``: one cache
        line per candidate on a city-sized index, for 56 bytes more per piece (the compiled
        build holds the midpoints only here).
        """
        if self._by_piece is None:
            s = self.piece_seg
            self._by_piece = (self.edge[s],
                              np.column_stack([self.ax[s], self.ay[s], self.bx[s], self.by[s],
                                               self.mx, self.my]))
        return self._by_piece

    def _column_ranges(self, ix: np.ndarray, iy: np.ndarray,
                       r: int) -> tuple[np.ndarray, np.ndarray]:
        """First and past-the-end piece of cells (ix, iy - r .. iy + r), consecutive keys."""
        inside = (ix >= 0) & (ix < self.nx)
        y_lo = np.clip(iy - r, 0, self.ny - 1)
        y_hi = np.clip(iy + r, 0, self.ny - 1)
        empty = ~inside | (iy + r < 0) | (iy - r >= self.ny)
        base = np.clip(ix, 0, self.nx - 1) * self.ny
        if self.cell_start is not None:
            lo, hi = self.cell_start[base + y_lo], self.cell_start[base + y_hi + 1]
        else:
            lo = np.searchsorted(self.key, base + y_lo)
            hi = np.searchsorted(self.key, base + y_hi + 1)
        return lo, np.where(empty, lo, hi)

    def _nearest_chunk(self, x: np.ndarray, y: np.ndarray, max_distance: float, r: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Nearest edges of a few points from the (2 r + 1)^2 cells around each."""
        n = len(x)
        c = self.cell
        fx, fy = (x - self.x0) / c, (y - self.y0) / c
        cx, cy = np.floor(fx), np.floor(fy)
        # how far the block of cells reaches around the point in every direction
        margin = c * (r + np.minimum(np.minimum(fx - cx, 1.0 - (fx - cx)),
                                       np.minimum(fy - cy, 1.0 - (fy - cy))))
        cx, cy = cx.astype(np.int64), cy.astype(np.int64)
        los, his = [], []
        for dx in range(-r, r + 1):
            lo, hi = self._column_ranges(cx + dx, cy, r)
            los.append(lo)
            his.append(hi)
        lo9 = np.column_stack(los).ravel()
        cnt9 = np.column_stack(his).ravel() - lo9
        total = int(cnt9.sum())
        per_pt = cnt9.reshape(n, 2 * r + 1).sum(axis=1)
        pt = np.repeat(np.arange(n), per_pt)
        block_first = np.cumsum(cnt9) - cnt9
        piece = np.arange(total) - np.repeat(block_first - lo9, cnt9)
        has = per_pt > 0
        if total:
            # prune: a midpoint is on its segment, so the nearest midpoint bounds the answer;
            # a piece whose midpoint is farther than that bound + half a piece cannot win
            ex, ey = self.mx[piece] - x[pt], self.my[piece] - y[pt]
            dm = np.sqrt(ex * ex + ey * ey)
            row_start = (np.cumsum(per_pt) - per_pt)[has]
            bound = np.full(n, np.inf)
            bound[has] = np.minimum.reduceat(dm, row_start)
            keep = dm <= bound[pt] + self.half + 2 * TIE_M
            pt, piece = pt[keep], piece[keep]
            per_pt = np.bincount(pt, minlength=n)
            has = per_pt > 0
        seg = self.piece_seg[piece]
        total = len(seg)
        d, frac = _point_segment(x[pt], y[pt], self.ax[seg], self.ay[seg], self.bx[seg], self.by[seg])
        row_start = (np.cumsum(per_pt) - per_pt)[has]
        best_d = np.full(n, np.inf)
        if total:
            best_d[has] = np.minimum.reduceat(d, row_start)
        is_min = np.flatnonzero(d == best_d[pt])
        lead = np.ones(len(is_min), dtype=bool)
        lead[1:] = pt[is_min[1:]] != pt[is_min[:-1]]
        best_edge = np.full(n, -1, dtype=np.int64)
        best_edge[pt[is_min[lead]]] = self.edge[seg[is_min[lead]]]
        seg_edge = self.edge[seg]
        mine = seg_edge == best_edge[pt]
        # the nearest other edge: a tie within TIE_M is left to GEOS
        second = np.full(n, np.inf)
        if total:
            second[has] = np.minimum.reduceat(np.where(mine, np.inf, d), row_start)
        undecided = np.zeros(n, dtype=bool)
        other = np.isfinite(second)  # then best_d is finite too
        undecided[other] = second[other] - best_d[other] <= TIE_M
        undecided |= np.abs(best_d - max_distance) <= TIE_M
        # sure only when the disc of radius (best or limit) + half a piece fits in the block
        undecided |= np.minimum(best_d, max_distance) + self.half + TIE_M >= margin
        # position along the edge from the first of its segments at the best distance (GEOS
        # keeps the first strictly nearer one); ambiguous when two such positions differ
        near = mine & (d - best_d[pt] <= TIE_M)
        meas = self.start[seg] + np.clip(frac, 0.0, 1.0) * self.length[seg]
        if total:
            lo_m = np.minimum.reduceat(np.where(near, meas, np.inf), row_start)
            hi_m = np.maximum.reduceat(np.where(near, meas, -np.inf), row_start)
            undecided[has] |= (hi_m - lo_m) > 1e-9
            first_seg = np.minimum.reduceat(np.where(near, seg, len(self.ax)), row_start)
        ok = has & (best_d <= max_distance) & ~undecided
        edge = np.where(ok, best_edge, -1)
        dist = np.where(ok, best_d, np.nan)
        offset = np.full(n, np.nan)
        if total:
            at = np.flatnonzero(ok[has])
            rows = np.flatnonzero(has)[at]
            offset[rows] = self._measure(x[rows], y[rows], first_seg[at])
        return edge, dist, offset, undecided

    def _measure(self, x: np.ndarray, y: np.ndarray, seg: np.ndarray) -> np.ndarray:
        """Metres along the edge to the projection of each point on its segment (as GEOS)."""
        ax, ay = self.ax[seg], self.ay[seg]
        ux, uy = self.bx[seg] - ax, self.by[seg] - ay
        len2 = ux * ux + uy * uy
        zero = len2 == 0.0
        r = ((x - ax) * ux + (y - ay) * uy) / np.where(zero, 1.0, len2)
        r = np.where(zero, 0.0, r)
        start, length = self.start[seg], self.length[seg]
        out = start + r * length
        out = np.where(r <= 0.0, start, out)
        return np.where(r > 1.0, start + length, out)


def _restart_cumsum(values: np.ndarray, restart: np.ndarray) -> np.ndarray:
    """Exclusive running sum of ``values`` that restarts at 0 where ``restart`` is True.

    Sums one value at a time in order (as GEOS does along a line), so the rounding matches.
    """
    n = len(values)
    out = np.zeros(n)
    # group by position within its run: add the previous value of the same run, step by step
    run_start = np.maximum.accumulate(np.where(restart, np.arange(n), 0))
    pos = np.arange(n) - run_start
    idx = np.flatnonzero(pos > 0)
    step = 1
    while len(idx):
        sel = idx[pos[idx] == step]
        out[sel] = out[sel - 1] + values[sel - 1]
        idx = idx[pos[idx] > step]
        step += 1
    return out


def _half(longest: float) -> float:
    """Half the longest piece, widened for rounding: every point of a piece is this near its
    midpoint."""
    return longest / 2.0 * (1 + 1e-9) + 1e-6


def _compiled_build(index: SegmentIndex, loops: ModuleType, owner: np.ndarray,
                    piece_m: float) -> None:
    """Fill ``index``'s segment starts, pieces and cells with the compiled build."""
    index.start = loops.segment_starts(index.length, owner)
    (index.piece_seg, index.key, cell_start, piece_edge, piece_xy, longest,
     index.x0, index.y0, index.nx, index.ny) = loops.build_pieces(
        index.ax, index.ay, index.bx, index.by, index.length, index.edge, piece_m, index.cell,
        DENSE_CELLS)
    index.half = _half(longest)
    index.mx, index.my = piece_xy[:, 4], piece_xy[:, 5]  # views: the midpoints are held once
    index.cell_start = cell_start if len(cell_start) else None
    index._by_piece = (piece_edge, piece_xy)
