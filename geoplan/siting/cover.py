"""The covering maths on plain arrays: which candidate sites cover the most demand.

:func:`greedy_max_cover` picks sites one at a time, each time the one that covers the most
still-uncovered demand (the classic greedy for the maximal covering location problem, within
a factor 1 − 1/e of the optimum and usually at it), on a sparse candidate × demand matrix
(:func:`cover_matrix`). No geometry: testable by hand and against spopt.
"""

from __future__ import annotations

import itertools
from types import ModuleType

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from geoplan._threads import compiled_loops

__all__ = ["MIN_SITE_DISC_SHARE", "MIN_SITE_DISTRICT_SHARE", "MIN_SITE_STREET_SHARE",
           "TIE_RTOL", "close_gap", "cover_matrix", "greedy_max_cover", "min_site_gain",
           "row_sums"]

MIN_SITE_DISC_SHARE = 0.01
"""A site that adds homes on less than this share of its radius's disc (1 %: 0.28 ha for
300 m, 0.79 ha for 500 m) ..."""

MIN_SITE_STREET_SHARE = 0.1
"""... (for street standards, street length under this share of its radius's diameter: 60 m
for a toilet every 300 m) ..."""

MIN_SITE_DISTRICT_SHARE = 0.005
"""... and under this share of the district's demand (0.5 %) is not suggested: a new school
for the last slivers of homes outside every radius (46 m² of a 青羊区 that is 99.97 %
covered) is not a site a planner would build. Either measure alone would drop sites a planner
wants: one that lifts a small district (or the part of one inside the data) by 12 points
covers less than 1 % of a 1000 m disc; one that covers 10 ha of a large district's homes,
less than 0.5 % of them."""


def min_site_gain(radius: float, linear: bool, total: float) -> float:
    """The least demand a suggested site must add in a district of demand ``total``: land
    (m²) or street length (m); see :data:`MIN_SITE_DISTRICT_SHARE`.

    >>> round(min_site_gain(500, False, 1e8)), min_site_gain(300, True, 1e6), min_site_gain(300, True, 4e3)
    (7854, 60.0, 20.0)
    """
    own = MIN_SITE_STREET_SHARE * 2 * radius if linear else MIN_SITE_DISC_SHARE * np.pi * radius**2
    return float(min(own, MIN_SITE_DISTRICT_SHARE * total))

TIE_RTOL = 1e-9
"""Gains this close to the best (relative) tie with it; the lowest candidate index wins."""

REFRESH_BATCH = 64
"""Stale gains the greedy refreshes at once: the ties it must check and the highest bounds."""

COMPILED_MIN_ENTRIES = 3_000_000
"""From this many (candidate, demand point) pairs in a cover pattern on, the greedy sums its
rows with the compiled loop (:mod:`geoplan.siting._cover_compiled`) when numba is installed,
and at any size once it is loaded. Loading numba costs about 0.5 CPU s: the default run's
sites (108 patterns, the largest 2.3 million pairs) took 1.7-1.9 CPU s without the loop and
2.3-2.5 s with it from 200,000 or 2 million pairs on; a 16-tile city's (528 patterns, median
48,000, largest 4.7 million) 29.1-30.2 s without and 23.2-25.9 s from this line on."""


def _compiled(required: bool | None, entries: int) -> ModuleType | None:
    """The compiled row sums for a pattern of ``entries`` pairs: ``required`` True, always
    (ImportError without numba); False, never; None, as :data:`COMPILED_MIN_ENTRIES` says."""
    return compiled_loops("geoplan.siting._cover_compiled", required,
                          entries >= COMPILED_MIN_ENTRIES)


def greedy_max_cover(
    candidates: np.ndarray,
    demand: np.ndarray,
    weights: np.ndarray,
    radius: float,
    *,
    max_sites: int,
    stop_at: float | None = None,
    min_gain: float = 0.0,
    compiled: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Choose up to ``max_sites`` candidate sites that cover the most demand weight.

    Parameters
    ----------
    candidates
        (n, 2) candidate site coordinates (metres).
    demand
        (m, 2) demand point coordinates (metres).
    weights
        (m,) demand weight of each point (area or population).
    radius
        A site covers the demand points within this straight-line distance.
    max_sites
        Most sites to choose.
    stop_at
        Stop early once this much weight is covered in total.
    min_gain
        Stop before a site that would add less weight than this.
    compiled
        Sum the gains with the compiled loop (needs numba; the same sums to the last bit):
        True, False, or None (default) from :data:`COMPILED_MIN_ENTRIES` pairs on.

    Returns
    -------
    chosen, gains
        Indices into ``candidates`` in the order chosen, and the weight each one added.

    Notes
    -----
    Candidates whose gains are within :data:`TIE_RTOL` of the best tie, and the lowest index
    wins: the same choice whether a cell's area came from the overlay or the rectangle
    clipper (they differ in the last bits).

    Examples
    --------
    >>> import numpy as np
    >>> demand = np.array([[0, 0], [10, 0], [100, 0]], float)
    >>> greedy_max_cover(demand, demand, np.array([1.0, 1.0, 5.0]), 15.0, max_sites=2)
    (array([2, 0]), array([5., 2.]))
    """
    if len(candidates) == 0 or len(demand) == 0 or max_sites <= 0:
        return np.array([], dtype=int), np.array([], dtype=float)
    indptr, indices = _cover_pattern(candidates, demand, radius)
    uncovered = np.asarray(weights, dtype=float).copy()
    loops = _compiled(compiled, len(indices))
    gain = row_sums(indptr, indices, uncovered, loops=loops)
    stale = np.zeros(len(candidates), dtype=bool)

    def row(i: int) -> np.ndarray:  # candidate i's demand points: a slice, no Python lists
        return indices[indptr[i]:indptr[i + 1]]

    chosen: list[int] = []
    gains: list[float] = []
    total = 0.0
    while len(chosen) < max_sites:
        # lazy greedy: a stale gain is an upper bound, refresh it before trusting it; gains
        # within TIE_RTOL of the best are a tie, won by the lowest index, so that rounding in
        # the cell areas never decides between two equal sites
        while True:
            top = float(gain.max())
            near = np.flatnonzero(gain >= top - TIE_RTOL * abs(top))
            old = near[stale[near]]
            if not len(old):
                best = int(near[0])
                break
            # refresh the stale ties and, in the same array calls, the stale candidates with
            # the next highest bounds (they are the next to be asked): a fresh gain is exact,
            # so refreshing more never changes the choice, only how many rounds find it
            bound = np.where(stale, gain, -np.inf)
            if len(bound) > REFRESH_BATCH:
                ahead = np.argpartition(bound, -REFRESH_BATCH)[-REFRESH_BATCH:]
                old = np.union1d(old, ahead[stale[ahead]])
            else:
                old = np.flatnonzero(stale)
            gain[old] = row_sums(indptr, indices, uncovered, old, loops=loops)
            stale[old] = False
        if gain[best] <= 0 or gain[best] < min_gain:
            break
        chosen.append(best)
        gains.append(float(gain[best]))
        total += gain[best]
        uncovered[row(best)] = 0.0
        stale[:] = True
        gain[best] = 0.0
        stale[best] = False
        if stop_at is not None and total >= stop_at - 1e-9:
            break
    return np.asarray(chosen, dtype=int), np.asarray(gains, dtype=float)


def row_sums(indptr: np.ndarray, indices: np.ndarray, values: np.ndarray,
             rows: np.ndarray | None = None, *, loops: ModuleType | None = None) -> np.ndarray:
    """``values[indices[indptr[i]:indptr[i + 1]]].sum()`` for every row ``i`` of a CSR pattern
    (or for each of ``rows``, in their order).

    Bit for bit the per-row ``ndarray.sum`` (numpy's pairwise summation, whose rounding
    depends on the row's length): rows of one length are gathered into a 2-D array and summed
    along their contiguous axis, which runs the same summation per row. The greedy's ties
    therefore resolve exactly as with a Python loop over the rows, in a few array calls.
    With ``loops`` (:mod:`geoplan.siting._cover_compiled`, see :func:`_compiled`) the same
    sums come from its compiled loop, one row at a time.

    Examples
    --------
    >>> row_sums(np.array([0, 2, 2, 3]), np.array([0, 2, 1]), np.array([1.0, 2.0, 4.0]))
    array([5., 0., 2.])
    >>> row_sums(np.array([0, 2, 2, 3]), np.array([0, 2, 1]), np.array([1.0, 2.0, 4.0]), np.array([2, 0]))
    array([2., 5.])
    """
    if rows is not None:
        rows = np.asarray(rows, dtype=np.int64)
    if loops is not None:
        every = np.arange(len(indptr) - 1) if rows is None else rows
        return loops.row_sums(indptr, indices, values, every)
    starts = indptr[:-1] if rows is None else indptr[rows]
    lens = (np.diff(indptr) if rows is None else indptr[rows + 1] - starts).astype(np.int64)
    out = np.zeros(len(lens))
    if not len(lens):
        return out
    # the rows ordered by length once, then taken a length at a time (a scan of every row per
    # length was a third of this function on rows of a thousand lengths)
    order = np.argsort(lens, kind="stable")
    sizes, first = np.unique(lens[order], return_index=True)
    ends = np.append(first[1:], len(order))
    for n, a, b in zip(sizes.tolist(), first.tolist(), ends.tolist(), strict=True):
        if n == 0:
            continue
        these = order[a:b]
        at = starts[these][:, None] + np.arange(n)
        out[these] = np.ascontiguousarray(values[indices[at]]).sum(axis=1)
    return out


def cover_matrix(candidates: np.ndarray, demand: np.ndarray, radius: float) -> sparse.csr_array:
    """Sparse candidate × demand matrix: 1 where the demand point is within ``radius``.

    Parameters
    ----------
    candidates
        (n, 2) coordinates.
    demand
        (m, 2) coordinates.
    radius
        Straight-line reach in metres (points at exactly ``radius`` count).

    Returns
    -------
    scipy.sparse.csr_array
        Shape (n, m), float ones, columns ascending within each row (the order a KD-tree's
        multi-point ball query returns them in).

    Notes
    -----
    When the candidates are the demand points themselves (the sites' case), the pairs come
    from one self-join of the KD-tree (:meth:`scipy.spatial.cKDTree.query_pairs`, straight into
    arrays, both directions and the diagonal added): the same distance test on the same
    coordinates as the ball query, without a Python list per candidate, which made most of
    the time and memory of the sites step on big districts.
    """
    indptr, cols = _cover_pattern(candidates, demand, radius)
    return sparse.csr_array((np.ones(len(cols)), cols, indptr),
                            shape=(len(candidates), len(demand)))


def _cover_pattern(candidates: np.ndarray, demand: np.ndarray, radius: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cover_matrix`'s ``indptr`` and ``indices`` (the greedy needs no values)."""
    cand = np.asarray(candidates, dtype=float)
    dem = np.asarray(demand, dtype=float)
    if cand.shape == dem.shape and np.array_equal(cand, dem):
        return _self_cover(dem, radius)
    nb = cKDTree(dem).query_ball_point(cand, r=radius)
    lens = np.fromiter((len(x) for x in nb), dtype=np.int64, count=len(nb))
    cols = np.fromiter(itertools.chain.from_iterable(nb), dtype=np.int64, count=int(lens.sum()))
    return np.concatenate([[0], np.cumsum(lens)]), cols


def _self_cover(xy: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_cover_pattern` of points against themselves, from one KD-tree self-join."""
    n = len(xy)
    index = np.int32 if n < np.iinfo(np.int32).max else np.int64
    pairs = cKDTree(xy).query_pairs(radius, output_type="ndarray").astype(index, copy=False)
    diag = np.arange(n, dtype=index)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], diag])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], diag])
    del pairs
    # Two counting passes, no sort: the rows counted into place (scipy's COO -> CSR; every
    # entry is there once, so the COO is declared free of duplicates and scipy skips its sort
    # of each row), then the transpose (CSR -> CSC), which visits the rows in order and so
    # leaves each column's rows ascending. The matrix is symmetric: the CSC's arrays are the
    # CSR with sorted columns. 2.3x faster than sorting each row (scipy's per-row sort was 15
    # of the sites step's profiled 100 s at 64 tiles), the same indptr and indices.
    pattern = sparse.coo_array((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    del rows, cols
    pattern.has_canonical_format = True
    by_column = pattern.tocsr().tocsc()
    return by_column.indptr, by_column.indices


def close_gap(xy: np.ndarray, weights: np.ndarray, radius: float, before: float, total: float,
              target: float, max_sites: int, min_gain: float = 0.0
              ) -> list[tuple[int, float, float, float]]:
    """Sites among the demand points ``xy`` that lift a share from ``before`` towards ``target``.

    Parameters
    ----------
    xy, weights
        Demand points (also the candidate sites) and the amount each stands for.
    radius
        Service radius (metres).
    before, total, target
        The share today, the district's total demand, and the target share.
    max_sites
        Most sites to suggest; fewer when the target is reached sooner, or when the next
        site would add less than ``min_gain`` (see :func:`min_site_gain`).

    Returns
    -------
    list of (int, float, float, float)
        Per site, best first: the chosen point's index, the demand it adds, and the share before
        and after it (capped at 1).
    """
    needed = (target - before) * total
    chosen, gains = greedy_max_cover(xy, xy, weights, radius, max_sites=max_sites, stop_at=needed,
                                     min_gain=min_gain)
    covered = before * total
    out = []
    for idx, gain in zip(chosen, gains, strict=True):
        share_now = covered / total
        covered += gain
        out.append((int(idx), float(gain), share_now, min(covered / total, 1.0)))
    return out
