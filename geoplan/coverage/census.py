"""Census residents spread over homes (dasymetric mapping).

Each district's 2020 census residents are spread over its residential land:

1. **How many live inside the data.** A district wholly inside the data keeps its census total.
   For a district only partly inside, the part's residents are *estimated* as the census
   density of the whole district (residents per km² of its area) times the district's area
   inside the data. The assumption: the residential share of the land, and the people per
   hectare of it, are the same inside the data as across the whole district. The figure is
   labelled an estimate everywhere it is shown.
2. **Where they live.** The part's residents go to its residential grid pieces in proportion
   to residential floor area (footprint × levels, :data:`DEFAULT_LEVELS_NOTE`) where mapped
   residential buildings stand on the piece; pieces without buildings get their land area times
   the district's floor-area ratio measured where buildings are mapped (so the two kinds of
   piece are on one scale), or their land area alone where no building is mapped at all.

The maths (:func:`relative_weights`, :func:`spread`, :func:`residents_inside`) is on plain
arrays; :func:`census_weights` is the geometry adapter.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from geoplan._text import share_text
from geoplan.census import district_census
from geoplan.coverage.demand import Demand
from geoplan.vocab import WHOLE_DISTRICT_SHARE

logger = logging.getLogger(__name__)

__all__ = ["UNIT_SHARE_METHOD", "WHOLE_DISTRICT_SHARE", "CensusSpread", "census_weights", "relative_weights",
           "residents_inside", "spread"]


UNIT_SHARE_METHOD = ("each 区县's residents inside the analysis area shared among its units by "
                     "residential land")
"""How units the census does not name get their figures (:mod:`geoplan.coverage.census_areas`),
as the notes and logs say it."""

DEFAULT_LEVELS_NOTE = "levels from the building:levels tag, demand.default_levels where untagged"

FloatArray = NDArray[np.float64]


def residents_inside(census: ArrayLike, full_area_m2: ArrayLike,
                     inside_area_m2: ArrayLike) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Residents of the part of each district inside the data.

    Parameters
    ----------
    census
        Census residents of each whole district (NaN where unknown).
    full_area_m2, inside_area_m2
        Area of the whole district and of its part inside the data.

    Returns
    -------
    residents, estimated
        Residents inside (the census total when the district is wholly inside, else census
        density × area inside), and whether the figure is an estimate.

    Examples
    --------
    >>> r, e = residents_inside([1000.0, 500.0], [10.0, 4.0], [2.5, 4.0])
    >>> r.tolist(), e.tolist()
    ([250.0, 500.0], [True, False])
    """
    p = np.asarray(census, dtype=float)
    full = np.asarray(full_area_m2, dtype=float)
    inside = np.asarray(inside_area_m2, dtype=float)
    share = np.divide(inside, full, out=np.ones_like(inside), where=full > 0)
    whole = share >= WHOLE_DISTRICT_SHARE
    residents = np.where(whole, p, p * np.clip(share, 0.0, 1.0))
    return residents, ~whole & np.isfinite(p)


def relative_weights(land: ArrayLike, floor: ArrayLike, district: ArrayLike,
                     n_districts: int) -> tuple[FloatArray, list[str]]:
    """Relative residential weight of each piece: floor area, or land area on the same scale.

    Parameters
    ----------
    land
        Residential land area of each piece (m²).
    floor
        Residential floor area placed on each piece (m²; 0 where no building stands).
    district
        District index per piece.
    n_districts
        Number of districts.

    Returns
    -------
    weights, method
        Weight per piece (m² of floor area, measured or estimated), and per district how it
        was weighted.

    Examples
    --------
    District 0: a piece of 100 m² with 300 m² of floor (ratio 3) and a bare piece of 50 m²
    (weighted 150); district 1 has no buildings (land area):

    >>> w, m = relative_weights([100.0, 50.0, 40.0], [300.0, 0.0, 0.0], [0, 0, 1], 2)
    >>> w.tolist()
    [300.0, 150.0, 40.0]
    >>> m[0]
    'floor area (land area × ratio 3.00 where unmapped; buildings on 66.7% of the land)'
    >>> m[1]
    'land area'

    """
    a = np.asarray(land, dtype=float)
    f = np.nan_to_num(np.asarray(floor, dtype=float))
    d = np.asarray(district, dtype=np.int64)
    built = f > 0
    land_built = np.bincount(d[built], weights=a[built], minlength=n_districts)
    floor_built = np.bincount(d[built], weights=f[built], minlength=n_districts)
    ratio = np.divide(floor_built, land_built, out=np.zeros(n_districts), where=land_built > 0)
    w = np.where(built, f, np.where(ratio[d] > 0, a * ratio[d], a))
    n_bare = np.bincount(d[~built], minlength=n_districts)
    land_all = np.bincount(d, weights=a, minlength=n_districts)
    built_share = np.divide(land_built, land_all, out=np.zeros(n_districts), where=land_all > 0)
    method = []
    for i in range(n_districts):
        if ratio[i] <= 0:
            method.append("land area")
        elif n_bare[i]:
            # the share of the land built on says how much the floor area decides: three
            # buildings on 0.004 % of a district's homes leave it weighted by land area
            share = f"{built_share[i]:.1%}" if built_share[i] >= 0.001 else "under 0.1%"
            method.append(f"floor area (land area × ratio {ratio[i]:.2f} where unmapped; "
                          f"buildings on {share} of the land)")
        else:
            method.append("floor area")
    return w, method


def spread(residents: ArrayLike, weights: ArrayLike, district: ArrayLike) -> FloatArray:
    """Share each district's residents among its pieces in proportion to their weights.

    Parameters
    ----------
    residents
        Residents per district (NaN where unknown: its pieces get NaN).
    weights
        Relative weight per piece (>= 0).
    district
        District index per piece.

    Returns
    -------
    numpy.ndarray
        People per piece; they sum to each district's residents wherever it has weight.

    Examples
    --------
    >>> spread([90.0, np.nan], [1.0, 2.0, 5.0], [0, 0, 1]).tolist()
    [30.0, 60.0, nan]
    """
    r = np.asarray(residents, dtype=float)
    w = np.asarray(weights, dtype=float)
    d = np.asarray(district, dtype=np.int64)
    total = np.bincount(d, weights=w, minlength=len(r))
    return np.divide(r[d] * w, total[d], out=np.zeros(len(w)), where=total[d] > 0) + np.where(
        np.isfinite(r[d]), 0.0, np.nan)


@dataclass(frozen=True)
class CensusSpread:
    """Census people per demand piece and the per-district account of how they were placed.

    Attributes
    ----------
    weights
        People per residential demand piece (NaN in districts without a census figure).
    table
        One row per district (:data:`geoplan.results.RESIDENTS`).
    """

    weights: FloatArray
    table: pd.DataFrame


def census_weights(demand: Demand, floor: ArrayLike, districts: gpd.GeoDataFrame,
                   city: str | None, *, any_figure: bool = True,
                   figures: Mapping[str, tuple[float, str]] | None = None) -> CensusSpread | None:
    """Spread the 2020 census residents of each district over its residential demand pieces.

    Parameters
    ----------
    demand
        Residential demand (grid pieces with land area).
    floor
        Residential floor area per piece (m²) from
        :func:`geoplan.coverage.population.building_weights`.
    districts
        The districts layer (``district``, ``full_area_m2``, ``area_m2``).
    city
        The city's Chinese name, to find its districts in the census table.
    any_figure
        Give None when the census has no figure for any of ``districts``; False spreads
        anyway (no people where there is no figure), for one chunk of a city whose other
        districts have figures.
    figures
        District -> (residents, source) estimated for the part inside the data from the
        census's 区县 (:mod:`geoplan.coverage.census_areas`), for units the census does not
        name; None looks the districts up in the census by name.

    Returns
    -------
    CensusSpread or None
        None when the census has no figure for any district of the analysis.
    """
    names = districts["district"].astype(str).tolist()
    found = (district_census(city, names) if figures is None
             else {n: figures[n] for n in names if n in figures})
    if not found and any_figure:
        return None
    n_d = len(names)
    census = np.array([found[n][0] if n in found else np.nan for n in names])
    full = districts["full_area_m2"].to_numpy(dtype=float)
    inside = districts["area_m2"].to_numpy(dtype=float)
    if figures is None:
        residents, estimated = residents_inside(census, full, inside)
    else:  # already the part inside the data, an estimate from the 区县 it lies in
        residents, estimated = census.copy(), np.isfinite(census)
    rel, method = relative_weights(demand.amount, floor, demand.district, n_d)
    people = spread(residents, rel, demand.district)
    land = np.bincount(demand.district, weights=demand.amount, minlength=n_d)
    floor_d = np.bincount(demand.district, weights=np.nan_to_num(np.asarray(floor, dtype=float)),
                          minlength=n_d)
    placed = np.bincount(demand.district, weights=np.nan_to_num(people), minlength=n_d)
    density = (np.divide(census, full / 1e6, out=np.full(n_d, np.nan), where=full > 0)
               if figures is None else
               np.divide(census, inside / 1e6, out=np.full(n_d, np.nan), where=inside > 0))
    est_density = np.divide(residents, inside / 1e6, out=np.full(n_d, np.nan), where=inside > 0)
    notes = []
    for i in range(n_d):
        if not np.isfinite(census[i]):
            notes.append("no 2020 census figure for this district: no people")
        elif land[i] <= 0:
            notes.append("no residential land mapped inside the data: residents not placed")
        else:
            notes.append(
                (f"estimate: {found[names[i]][1]} ({UNIT_SHARE_METHOD})" if figures is not None else
                 f"estimate: {share_text(inside[i] / full[i])} of the district lies inside the data; "
                 "residents = census density of the whole district × area inside"
                 if estimated[i] else "census total (the district lies wholly inside the data)")
                + f"; mapped residential land is {land[i] / inside[i]:.1%} of the area inside, "
                f"so {placed[i] / (land[i] / 1e4):,.0f} residents per ha of it (a low share means "
                "homes are under-mapped and the people crowd onto the mapped land)")
    table = pd.DataFrame({
        "district": names,
        "census_2020": census,
        "census_source": [found[n][1] if n in found else "" for n in names],
        "full_area_km2": full / 1e6,
        "inside_km2": inside / 1e6,
        "inside_share": np.divide(inside, full, out=np.ones(n_d), where=full > 0),
        "census_density_km2": density,
        "residents_inside": residents,
        "is_estimate": estimated,
        "estimate_density_km2": est_density,
        "residents_placed": np.where(np.isfinite(census), placed, np.nan),
        "residential_land_m2": land,
        "residential_floor_m2": floor_d,
        "residents_per_ha": np.divide(placed, land / 1e4, out=np.full(n_d, np.nan),
                                      where=(land > 0) & np.isfinite(census)),
        "weighting": method,
        "note": notes,
    })
    for row in table.to_dict("records"):
        if np.isfinite(row["census_2020"]) and figures is not None:
            # a unit's residents are its share of its 区县's: there is no census density of it
            logger.info("census 2020 %s (its share of its 区县's residents): %.0f residents "
                        "inside the data (%.0f/km²), "
                        "%.0f per ha of residential land; %s", row["district"],
                        row["residents_inside"], row["estimate_density_km2"],
                        row["residents_per_ha"], row["weighting"])
        elif np.isfinite(row["census_2020"]):
            logger.info("census 2020 %s: %.0f residents, %s%.0f inside the data (%.0f/km², census "
                        "%.0f/km²), %.0f per ha of residential land; %s", row["district"],
                        row["census_2020"], "estimated " if row["is_estimate"] else "",
                        row["residents_inside"], row["estimate_density_km2"],
                        row["census_density_km2"], row["residents_per_ha"], row["weighting"])
    return CensusSpread(people, table)
