"""Rows grouped by a code in one pass: for loops over districts that must not scan the city."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["frames_by", "positions_by_code", "positions_by_value"]


def positions_by_code(codes: np.ndarray, n: int) -> list[np.ndarray]:
    """For each code ``0 … n-1``, the positions in ``codes`` that hold it, ascending.

    The same arrays as ``np.flatnonzero(codes == k)`` for every ``k``, from one stable sort
    instead of ``n`` passes over the whole array; codes outside ``0 … n-1`` are left out.
    """
    codes = np.asarray(codes)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n + 1))
    return [order[bounds[k]:bounds[k + 1]] for k in range(n)]


def positions_by_value(values: np.ndarray) -> dict[object, np.ndarray]:
    """For each distinct value of ``values`` (None and NaN left out), its positions, ascending."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    return dict(zip(uniques, positions_by_code(codes, len(uniques)), strict=True))


def frames_by(frame: pd.DataFrame, key: str | pd.Series) -> dict[object, pd.DataFrame]:
    """The rows of ``frame`` for each value of the column (or series) ``key``, in their order.

    Look up a value missing here with ``.get(value, frame.iloc[:0])``.
    """
    if not len(frame):
        return {}
    return dict(iter(frame.groupby(key, sort=False)))
