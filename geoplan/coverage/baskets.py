"""Basket maths (life circles) on plain arrays: all items, at least k of n, items without data.

A life-circle tier (GB 50180-2018 五分钟/十分钟/十五分钟生活圈) is a basket of facility items
(kindergarten, clinic, market, …). For each demand piece the engine knows, per item, whether
the item is within the radius (walking) or the share of the piece inside the item's buffers.
This module turns that item × piece matrix into per-piece basket flags:

* ``all_of``: every item **with data** reaches the piece;
* ``at_least_k``: at least ``k`` of the items with data reach it;
* ``n_reached``: how many items reach it.

An item with no facility at all in the data ("no data for <item>") is left out of both
counts, and the caller reports it by name: a city that has not mapped its elderly day-care
centres learns that, rather than reading 0% for the whole tier.

Examples
--------
Three items (rows) over four pieces (columns); the third item has no facility at all:

>>> import numpy as np
>>> reached = np.array([[1, 1, 0, 1],
...                     [1, 0, 0, 1],
...                     [0, 0, 0, 0]], dtype=bool)
>>> res = basket_flags(reached, has_data=np.array([True, True, False]), k=1)
>>> res.all_of.tolist(), res.at_least_k.tolist(), res.n_reached.tolist()
([True, False, False, True], [True, True, False, True], [2, 1, 0, 2])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geoplan.standards import default_min_items

__all__ = ["BasketFlags", "basket_flags", "default_min_items"]



@dataclass(frozen=True)
class BasketFlags:
    """Per-piece basket flags (see :func:`basket_flags`)."""

    all_of: NDArray[np.bool_]
    at_least_k: NDArray[np.bool_]
    n_reached: NDArray[np.int64]
    n_with_data: int
    k: int


def basket_flags(reached: ArrayLike, has_data: ArrayLike, k: int) -> BasketFlags:
    """All-of and at-least-k flags of a basket, per demand piece.

    Parameters
    ----------
    reached
        Boolean (or 0/1) matrix, one row per item and one column per demand piece: whether the
        item reaches the piece.
    has_data
        One flag per item: False when the data hold no facility of that item at all. Such
        items are ignored (their row is not counted).
    k
        The "at least k" threshold, counted over all items of the basket; when fewer than k
        items have data it is lowered to the number that do, and no lower than 1 (reported
        in ``BasketFlags.k``).

    Returns
    -------
    BasketFlags
        ``all_of`` (every item with data reaches the piece; all False when no item has data),
        ``at_least_k``, ``n_reached`` per piece, the number of items with data and the k used.

    Raises
    ------
    ValueError
        When the shapes disagree or k < 1.
    """
    mat = np.asarray(reached, dtype=bool)
    if mat.ndim != 2:
        raise ValueError(f"reached must be a 2-D item × piece matrix, got shape {mat.shape}")
    data = np.asarray(has_data, dtype=bool)
    if data.shape != (mat.shape[0],):
        raise ValueError(f"has_data needs one flag per item ({mat.shape[0]}), got {data.shape}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    usable = mat[data]
    n_data = int(data.sum())
    n_reached = usable.sum(axis=0).astype(np.int64) if n_data else np.zeros(mat.shape[1], np.int64)
    k_used = min(k, n_data)
    if n_data == 0:  # no item to reach: none is reached, and the one asked for is still one
        none = np.zeros(mat.shape[1], dtype=bool)
        return BasketFlags(none, none.copy(), n_reached, 0, 1)
    return BasketFlags(n_reached == n_data, n_reached >= k_used, n_reached, n_data, k_used)
