"""School seats (学位) on plain arrays: capacity, two-step floating catchment (2SFCA), 学位缺口.

No geometry here: the adapter (:mod:`geoplan.coverage.people`) turns homes and schools into
arrays of children, seats and (home, school, walking distance) pairs.

Two-step floating catchment (Luo & Wang 2003), with an optional distance-decay weight
(the "enhanced" form):

1. every school ``j`` shares its seats ``S_j`` among the children within its catchment:
   ``R_j = S_j / Σ_{i: d_ij ≤ d0} w(d_ij) · P_i``;
2. every home piece ``i`` sums the shares of the schools it reaches:
   ``A_i = Σ_{j: d_ij ≤ d0} w(d_ij) · R_j`` (seats per child).

Without decay (``w = 1``) the children of all homes together reach ``Σ_i P_i · A_i = Σ_j S_j``
seats over the schools with any child in reach: no seat is counted twice. The 学位缺口 of a
group of homes is ``Σ_i P_i · max(0, 1 − A_i)``: children for whom the seats within reach do not
suffice (a surplus in one place does not fill a shortfall elsewhere).

Examples
--------
Two homes (10 and 30 children), two schools (20 and 10 seats); home 0 reaches school 0, home 1
reaches both:

>>> import numpy as np
>>> r, a = two_step_fca([10.0, 30.0], [20.0, 10.0], [0, 1, 1], [0, 0, 1], [100.0, 200.0, 50.0],
...                     max_cost=500.0)
>>> r.tolist(), a.tolist()
([0.5, 0.3333333333333333], [0.5, 0.8333333333333333])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = ["CLASS_SIZE_NOTE", "school_seats", "seat_gap", "two_step_fca"]

FloatArray = NDArray[np.float64]

CLASS_SIZE_NOTE = ("45 pupils per primary class, 50 per junior class: 建标102-2002 城市普通中小学校"
                   "校舍建设标准 (its table 4-1: a 12-class complete primary school of 3,569 m² at "
                   "6.6 m² per pupil = 540 pupils = 12 × 45)")
"""Where the default class sizes come from."""

CLASS_SIZE_NOTE_ZH = ("小学每班45人、初中每班50人：建标102-2002《城市普通中小学校校舍建设标准》"
                      "（表4-1：12班完全小学校舍3,569 m²，生均6.6 m²，即540人 = 12 × 45）")
"""The same in Chinese."""


def two_step_fca(demand: ArrayLike, supply: ArrayLike, pair_demand: ArrayLike,
                 pair_supply: ArrayLike, pair_cost: ArrayLike, *, max_cost: float | ArrayLike,
                 weight: Callable[[FloatArray], FloatArray] | None = None,
                 catchment: ArrayLike | None = None,
                 ) -> tuple[FloatArray, FloatArray]:
    """Two-step floating catchment over sparse (demand, supply, cost) pairs.

    Parameters
    ----------
    demand
        Children (or any demand) per home piece, length n (NaN counts as 0).
    supply
        Seats per school, length m.
    pair_demand, pair_supply, pair_cost
        One entry per (home, school) pair with a known cost (walking metres); pairs absent are
        out of reach.
    max_cost
        Catchment size ``d0``: one for all, or one per school (length m).
    weight
        Distance-decay weight ``w(cost)`` in [0, 1] (enhanced 2SFCA); None for none.
    catchment
        Each school's (weighted) children in its catchment when more children than these
        pairs' compete for it (length m, NaN: only these pairs'): the homes of other
        districts, measured elsewhere (a batch job, :mod:`geoplan.coverage.seat_demand`).
        Step 1 divides by the larger of it and these pairs' own sum.

    Returns
    -------
    ratio, access
        Seats per child in each school's catchment (length m, NaN where no child is in reach),
        and seats per child within reach of each home piece (length n, 0 where no school).
    """
    p = np.nan_to_num(np.asarray(demand, dtype=float))
    s = np.asarray(supply, dtype=float)
    i = np.asarray(pair_demand, dtype=np.int64)
    j = np.asarray(pair_supply, dtype=np.int64)
    c = np.asarray(pair_cost, dtype=float)
    if not (len(i) == len(j) == len(c)):
        raise ValueError("pair_demand, pair_supply and pair_cost differ in length")
    limit = np.broadcast_to(np.asarray(max_cost, dtype=float), s.shape)
    keep = np.isfinite(c) & (c <= limit[j]) if len(j) else np.zeros(0, dtype=bool)
    i, j, c = i[keep], j[keep], c[keep]
    w = np.ones(len(c)) if weight is None else np.clip(np.asarray(weight(c), dtype=float), 0, 1)
    reached = np.bincount(j, weights=w * p[i], minlength=len(s)).astype(float)
    if catchment is not None:
        known = np.asarray(catchment, dtype=float)
        reached = np.fmax(reached, known)  # NaN: not known elsewhere
    ratio = np.divide(s, reached, out=np.full(len(s), np.nan), where=reached > 0)
    access = np.bincount(i, weights=w * np.nan_to_num(ratio[j]), minlength=len(p)).astype(float)
    return ratio, access


def seat_gap(children: ArrayLike, access: ArrayLike, district: ArrayLike,
             n_districts: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Children, seats reached and 学位缺口 per district.

    Parameters
    ----------
    children
        Children per home piece (NaN counts as 0).
    access
        Seats per child within reach of each piece (:func:`two_step_fca`).
    district
        District index per piece.
    n_districts
        Number of districts.

    Returns
    -------
    children, seats_reached, gap
        Per district: Σ children, Σ children × access (each seat counted once), and
        Σ children × max(0, 1 − access).

    Examples
    --------
    >>> seat_gap([10.0, 30.0], [0.5, 0.8333333333333333], [0, 0], 1)
    (array([40.]), array([30.]), array([10.]))
    """
    p = np.nan_to_num(np.asarray(children, dtype=float))
    a = np.asarray(access, dtype=float)
    d = np.asarray(district, dtype=np.int64)
    total = np.bincount(d, weights=p, minlength=n_districts).astype(float)
    reached = np.bincount(d, weights=p * a, minlength=n_districts).astype(float)
    gap = np.bincount(d, weights=p * np.clip(1.0 - a, 0.0, None), minlength=n_districts).astype(float)
    return total, reached, gap


def school_seats(schools: pd.DataFrame, level: str, *, class_size: int, default_classes: int,
                 site_m2_per_pupil: float | None = None) -> tuple[FloatArray, list[str]]:
    """Seats (学位) of each school for one level, and where each figure came from.

    In order: the planner's ``capacity``; ``classes`` × ``class_size``; ``site_area_m2`` ÷
    ``site_m2_per_pupil`` (only when that norm is configured); else ``default_classes`` ×
    ``class_size`` (an assumption, labelled so). A school serving several levels (九年一贯制,
    完全中学) has each figure for the whole school split among its levels by years (primary
    6, junior 3, senior 3): its capacity, its classes, its site and the assumed school alike
    (a 完全中学 assumed at 24 classes has 12 junior classes, as one whose file says 24).

    Parameters
    ----------
    schools
        The schools of this level (columns ``capacity``, ``classes``, ``site_area_m2``,
        ``levels``; missing columns count as unknown).
    level
        ``'primary'`` or ``'junior'``.
    class_size, default_classes
        Pupils per class; classes assumed when nothing is known.
    site_m2_per_pupil
        Site area per pupil of the norm the planner uses, or None.

    Returns
    -------
    seats, seats_from

    Examples
    --------
    >>> df = pd.DataFrame({"capacity": [900.0, np.nan, np.nan], "classes": [np.nan, 12, np.nan],
    ...                    "levels": ["primary", "primary", "primary;junior"]})
    >>> school_seats(df, "primary", class_size=45, default_classes=24)
    (array([900., 540., 720.]), ['capacity', 'classes × class size', 'default size (assumed)'])
    """
    n = len(schools)

    def col(name: str) -> FloatArray:
        if name in schools.columns:
            return pd.to_numeric(schools[name], errors="coerce").to_numpy(dtype=float)
        return np.full(n, np.nan)

    years = {"primary": 6.0, "junior": 3.0, "senior": 3.0}
    levels = (schools["levels"].astype(str).tolist() if "levels" in schools.columns
              else [level] * n)
    part = np.array([years[level] / sum(years.get(x.strip(), 0.0) for x in lv.split(";"))
                     if sum(years.get(x.strip(), 0.0) for x in lv.split(";")) > 0 else 1.0
                     for lv in levels])
    cap, classes, site = col("capacity"), col("classes"), col("site_area_m2")
    seats = np.full(n, np.nan)
    source = [""] * n
    steps: list[tuple[FloatArray, str]] = [
        (cap * part, "capacity"), (classes * part * class_size, "classes × class size"),
    ]
    if site_m2_per_pupil:
        steps.append((site / site_m2_per_pupil * part, "site area ÷ norm"))
    steps.append((default_classes * class_size * part, "default size (assumed)"))
    for value, name in steps:
        use = np.isnan(seats) & np.isfinite(value) & (value > 0)
        seats[use] = value[use]
        for k in np.flatnonzero(use):
            source[k] = name
    return seats, source
