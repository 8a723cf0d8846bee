"""The share maths, on plain arrays: no geometry, no CRS, testable by hand.

Every coverage figure geoplan reports reduces to the same sum. Demand comes in pieces (a grid
piece of residential land, a stretch of street); each piece carries an ``amount`` (m², m or
people), belongs to one district (``district`` index) and is covered by some fraction (the
share of its area inside the buffers, or 0/1 for "walkable within the radius"). A district's
share is ``sum(amount * covered) / sum(amount)`` over its pieces.

The geometry side (:mod:`geoplan.coverage.engine`) builds these arrays and calls these
functions, in the way spopt keeps ``from_cost_matrix`` apart from ``from_geodataframe``.

Examples
--------
Two districts; district 0 has pieces of 100 m² (half covered) and 300 m² (covered), district 1
one piece of 50 m² (not covered):

>>> import numpy as np
>>> district_shares(np.array([100.0, 300.0, 50.0]), np.array([0, 0, 1]),
...                 np.array([0.5, 1.0, 0.0]), 2)
array([0.875, 0.   ])
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["district_shares", "district_totals", "uncovered_amount", "within_radius"]

FloatArray = NDArray[np.float64]


def _check(amount: FloatArray, district: NDArray[np.int64], n_districts: int) -> None:
    if amount.shape != district.shape:
        raise ValueError(f"amount and district differ in length: {amount.shape} vs {district.shape}")
    if len(district) and (district.min() < 0 or district.max() >= n_districts):
        raise ValueError(f"district index outside 0..{n_districts - 1}")


def district_totals(amount: ArrayLike, district: ArrayLike, n_districts: int) -> FloatArray:
    """Total demand per district.

    Parameters
    ----------
    amount
        Amount per demand piece (m², m or people); NaN counts as 0.
    district
        District index (0 … ``n_districts`` − 1) per piece.
    n_districts
        Number of districts.

    Returns
    -------
    numpy.ndarray
        Float array of length ``n_districts``.
    """
    a = np.nan_to_num(np.asarray(amount, dtype=float))
    d = np.asarray(district, dtype=np.int64)
    _check(a, d, n_districts)
    return np.bincount(d, weights=a, minlength=n_districts).astype(float)


def district_shares(amount: ArrayLike, district: ArrayLike, covered: ArrayLike,
                    n_districts: int) -> FloatArray:
    """Covered share of demand per district.

    Parameters
    ----------
    amount
        Amount per demand piece (m², m or people).
    district
        District index per piece.
    covered
        Covered fraction per piece in [0, 1] (buffer overlay), or booleans (within the radius
        by walking). Values outside [0, 1] are clipped.
    n_districts
        Number of districts.

    Returns
    -------
    numpy.ndarray
        Shares in [0, 1] per district; NaN where a district has no demand (share undefined,
        not 0).
    """
    a = np.nan_to_num(np.asarray(amount, dtype=float))
    d = np.asarray(district, dtype=np.int64)
    c = np.clip(np.asarray(covered, dtype=float), 0.0, 1.0)
    _check(a, d, n_districts)
    if c.shape != a.shape:
        raise ValueError(f"covered and amount differ in length: {c.shape} vs {a.shape}")
    total = np.bincount(d, weights=a, minlength=n_districts)
    part = np.bincount(d, weights=a * c, minlength=n_districts)
    share = np.divide(part, total, out=np.full(n_districts, np.nan), where=total > 0)
    return np.clip(share, 0.0, 1.0)


def uncovered_amount(total: ArrayLike, share: ArrayLike) -> FloatArray:
    """Demand left uncovered per district: ``total × (1 − share)``, 0 where there is none.

    Parameters
    ----------
    total
        Demand per district (:func:`district_totals`).
    share
        Covered share per district (:func:`district_shares`), NaN where undefined.

    Returns
    -------
    numpy.ndarray
    """
    t = np.asarray(total, dtype=float)
    s = np.asarray(share, dtype=float)
    return np.where(t > 0, t * (1.0 - np.nan_to_num(s)), 0.0)


def within_radius(distance: ArrayLike, radius: float | ArrayLike) -> NDArray[np.bool_]:
    """Whether each distance is within the radius (NaN and inf: not reached).

    Parameters
    ----------
    distance
        Walking (or straight-line) distance per demand piece in metres; NaN or inf where no
        facility is reached.
    radius
        Radius in metres, one for all or one per piece.

    Returns
    -------
    numpy.ndarray of bool
    """
    dist = np.asarray(distance, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(dist) & (dist <= np.asarray(radius, dtype=float))
