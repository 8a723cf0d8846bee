"""The greedy's row sums (:func:`geoplan.siting.cover.row_sums`) as a compiled loop.

The array version gathers each row's values into a temporary matrix per row length and sums
it with numpy; on a city's districts that was a quarter of the sites step (10.7 of 45 CPU s at
16 tiles of the embedded extract). This loop gathers one row at a time and adds it up as
numpy's own sum does (pairwise: eight running sums in blocks of up to 128 values, halves
above that), so each sum is the same to the last bit (``tests/test_cover_compiled.py``).

Importing this module needs numba (the ``fast`` extra); :mod:`geoplan.siting.cover` imports
it only for large cover patterns (see :data:`geoplan.siting.cover.COMPILED_MIN_ENTRIES`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = ["row_sums"]


@njit(cache=True, nogil=True)
def _block(v: Any, lo: int, n: int) -> float:  # pragma: no cover - compiled
    """numpy's sum of ``v[lo:lo + n]`` for ``n`` up to 128: one by one below 8 values, else
    eight running sums added up in pairs, then the rest one by one."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += v[i]
        return res
    r0, r1, r2, r3 = v[lo], v[lo + 1], v[lo + 2], v[lo + 3]
    r4, r5, r6, r7 = v[lo + 4], v[lo + 5], v[lo + 6], v[lo + 7]
    i = lo + 8
    whole = lo + n - n % 8
    while i < whole:
        r0 += v[i]
        r1 += v[i + 1]
        r2 += v[i + 2]
        r3 += v[i + 3]
        r4 += v[i + 4]
        r5 += v[i + 5]
        r6 += v[i + 6]
        r7 += v[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < lo + n:
        res += v[i]
        i += 1
    return res


@njit(cache=True, nogil=True)
def _pairwise(v: Any, lo: int, n: int) -> float:  # pragma: no cover - compiled
    """numpy's pairwise sum of ``v[lo:lo + n]`` (float64), in its order of additions: above
    128 values, the sum of the first ``half`` (n // 2, down to a multiple of 8) plus the sum
    of the rest, each summed the same way.

    Walked with a stack of halves instead of calling itself: numba's cache of a recursive
    function crashed the process that loaded it (a segmentation fault on the second run).
    """
    if n <= 128:
        return _block(v, lo, n)
    starts = np.empty(64, np.int64)  # 64 halvings reach one value from any length
    sizes = np.empty(64, np.int64)
    lefts = np.empty(64)
    waiting = np.zeros(64, np.bool_)  # the entry's first half is summed; its second is next
    top = 0
    starts[0], sizes[0] = lo, n
    while True:
        m = sizes[top]
        if m > 128:  # split: the first half goes on top
            half = m // 2
            half -= half % 8
            top += 1
            starts[top], sizes[top], waiting[top] = starts[top - 1], half, False
            continue
        value = _block(v, starts[top], m)
        top -= 1
        while top >= 0 and waiting[top]:  # both halves summed: add them, go up
            value = lefts[top] + value
            top -= 1
        if top < 0:
            return value
        # the entry on top has its first half: keep it, sum the second half next
        lefts[top] = value
        waiting[top] = True
        half = sizes[top] // 2
        half -= half % 8
        top += 1
        starts[top], sizes[top], waiting[top] = starts[top - 1] + half, sizes[top - 1] - half, False


@njit(cache=True, nogil=True)
def row_sums(indptr: Any, indices: Any, values: Any, rows: Any) -> Any:  # pragma: no cover
    """``values`` summed over the columns of each row in ``rows`` of a CSR pattern
    (``indptr`` and ``indices`` of one integer type, int32 or int64; ``values`` float64)."""
    longest = 0
    for k in range(len(rows)):
        longest = max(longest, indptr[rows[k] + 1] - indptr[rows[k]])
    row = np.empty(longest)
    out = np.zeros(len(rows))
    for k in range(len(rows)):
        start = indptr[rows[k]]
        n = indptr[rows[k] + 1] - start
        for j in range(n):
            row[j] = values[indices[start + j]]
        out[k] = 0.0 + _pairwise(row, 0, n)  # numpy's sum starts from 0.0 too
    return out
