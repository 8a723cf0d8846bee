"""Census residents for analysis units the census does not name (街道, 社区, a grid).

The 2020 census counts residents by 区县. A planner who analyses 街道 or 社区 gives the
census's own district polygons (``demand.census_districts``, e.g. the shipped
``layers/boundaries/<adcode>_districts_gcj02.geojson``), and each unit gets an estimate in two
steps, before the usual spreading over its homes (:mod:`geoplan.coverage.census`):

1. **Each 区县's residents inside the analysis area.** The 区县's census total when the
   analysis units cover all of it, else its census density (residents per km² of its whole
   area) times the area the units cover (:func:`~geoplan.coverage.census.residents_inside`,
   the assumption the partly covered districts already make).
2. **Shared among the units by residential land.** Each unit gets the 区县's residents in
   proportion to the residential land (the demand's ``residential`` layer, overlaps
   dissolved) that lies in both; where the 区县's part has no residential land mapped, by
   area.

A unit across two 区县 adds its shares of both. The maths (:func:`share_among_units`) is on
plain arrays; :func:`census_unit_figures` is the adapter from the layers and the settings.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from geoplan._clip import polygonal
from geoplan._groups import positions_by_code
from geoplan._text import first_named, share_text
from geoplan.census import UNIT_OUTSIDE, UNIT_SOURCE_PREFIX, district_census
from geoplan.coverage.census import WHOLE_DISTRICT_SHARE, residents_inside

logger = logging.getLogger(__name__)

_NAMED_AT_MOST = 12

ZONE_COLUMNS = ("census_district", "census_2020", "area_km2", "covered_km2", "residents_shared",
                "is_estimate", "residential_land_km2", "units")
"""The columns of :attr:`UnitFigures.zones`."""
"""Units named in a warning; the rest are counted."""

__all__ = ["ZONE_COLUMNS", "UnitFigures", "census_unit_figures", "share_among_units", "unit_figures"]

FloatArray = NDArray[np.float64]


def _share(part: float) -> str:
    """A 区县's part of a unit's residents: a sliver reads "<1%", never "0%".

    Examples
    --------
    >>> _share(0.004), _share(0.4), _share(0.996)
    ('<1%', '40%', '99.6%')
    """
    return "<1%" if part < 0.005 else share_text(part)


def share_among_units(residents: ArrayLike, zone: ArrayLike, unit: ArrayLike, land_m2: ArrayLike,
                      area_m2: ArrayLike, n_units: int) -> tuple[FloatArray, FloatArray]:
    """Share each 区县's residents among the units it meets.

    Parameters
    ----------
    residents
        Residents of each 区县 to share (NaN: no census figure, nothing shared).
    zone, unit
        One (区县, unit) pair per unit part lying in a 区县.
    land_m2
        Residential land of each pair (m²): the share's weight.
    area_m2
        Area of each pair (m²): the weight where the 区县's pairs have no residential land.
    n_units
        Number of units.

    Returns
    -------
    per_unit, per_pair
        Residents per unit (NaN where no 区县 with a figure meets it), and the residents each
        pair gives its unit.

    Examples
    --------
    区县 0 (1,000 residents) meets units 0 and 1 with 30 and 10 m² of residential land; 区县 1
    (600 residents) has no residential land mapped and meets units 1 and 2 with 200 and 100 m²:

    >>> per_unit, _ = share_among_units([1000.0, 600.0], [0, 0, 1, 1], [0, 1, 1, 2],
    ...                                 [30.0, 10.0, 0.0, 0.0], [50.0, 50.0, 200.0, 100.0], 4)
    >>> per_unit.tolist()
    [750.0, 650.0, 200.0, nan]
    """
    r = np.asarray(residents, dtype=float)
    z = np.asarray(zone, dtype=np.int64)
    u = np.asarray(unit, dtype=np.int64)
    land = np.asarray(land_m2, dtype=float)
    area = np.asarray(area_m2, dtype=float)
    land_z = np.bincount(z, weights=land, minlength=len(r))
    weight = np.where(land_z[z] > 0, land, area)
    total = np.bincount(z, weights=weight, minlength=len(r))
    figure = np.isfinite(r[z])
    per_pair = np.divide(np.where(figure, r[z], 0.0) * weight, total[z], out=np.zeros(len(z)),
                         where=total[z] > 0)
    per_unit = np.bincount(u, weights=per_pair, minlength=n_units)
    has = np.bincount(u[figure], minlength=n_units) > 0
    return np.where(has, per_unit, np.nan), per_pair


@dataclass(frozen=True)
class UnitFigures:
    """Census estimates for the analysis units, from the census's 区县 polygons.

    Attributes
    ----------
    figures
        Unit name -> (residents, where the figure comes from), for the units a 区县 with a
        census figure meets.
    zones
        One row per 区县 of the file (:data:`ZONE_COLUMNS`): ``census_district``,
        ``census_2020``, ``area_km2``, ``covered_km2`` (by the units), ``residents_shared``,
        ``is_estimate``, ``residential_land_km2``, ``units``; no rows when the figures were
        measured beforehand (``measured`` of :func:`census_unit_figures`).
    outside
        Unit name -> share of its area in no 区县 with a census figure, for the units with a
        figure that lie partly there (that part gets no residents).
    """

    figures: dict[str, tuple[float, str]]
    zones: pd.DataFrame
    outside: dict[str, float]


def unit_figures(zones: gpd.GeoDataFrame, census: dict[str, tuple[float, str]],
                 units: gpd.GeoDataFrame, land: np.ndarray) -> UnitFigures:
    """The units' census estimates from the 区县 polygons (the geometry of :func:`share_among_units`).

    Parameters
    ----------
    zones
        The census's 区县 (``district``, polygons), in the units' projected CRS.
    census
        区县 name -> (census residents, source), as :func:`geoplan.census.district_census`.
    units
        The analysis units (``district``, polygons clipped to the data).
    land
        Residential land of each unit (one geometry per unit), overlaps dissolved.

    Returns
    -------
    UnitFigures
    """
    # repaired outlines can carry lines beside their areas, which GEOS cannot overlay again
    zgeom = polygonal(shapely.make_valid(zones.geometry.to_numpy()))
    ugeom = polygonal(units.geometry.to_numpy())
    land = polygonal(land)
    znames = zones["district"].astype(str).to_numpy()
    unames = units["district"].astype(str).to_numpy()
    ui, zi = shapely.STRtree(zgeom).query(ugeom, predicate="intersects")
    area = shapely.area(shapely.intersection(ugeom[ui], zgeom[zi]))
    keep = area > 0
    ui, zi, area = ui[keep], zi[keep], area[keep]
    land_m2 = shapely.area(shapely.intersection(land[ui], zgeom[zi]))
    full = shapely.area(zgeom)
    covered = shapely.area(shapely.intersection(zgeom, shapely.union_all(ugeom)))
    figure = np.array([census[n][0] if n in census else np.nan for n in znames])
    residents, estimated = residents_inside(figure, full, covered)
    residents = np.where(covered > 0, residents, np.nan)
    per_unit, per_pair = share_among_units(residents, zi, ui, land_m2, area, len(ugeom))
    counted = np.isfinite(residents[zi])
    unit_area = shapely.area(ugeom)
    in_counted = np.divide(np.bincount(ui[counted], weights=area[counted], minlength=len(ugeom)),
                           unit_area, out=np.ones(len(ugeom)), where=unit_area > 0)
    figures: dict[str, tuple[float, str]] = {}
    outside_share: dict[str, float] = {}
    pairs_of = positions_by_code(np.where(counted, ui, -1), len(ugeom))  # counted 区县 only
    for u in np.flatnonzero(np.isfinite(per_unit)):
        mine = pairs_of[u]
        parts = "、".join(
            f"{znames[zi[k]]} {_share(per_pair[k] / per_unit[u])}" if per_unit[u] > 0
            else str(znames[zi[k]]) for k in mine[np.argsort(-per_pair[mine], kind="stable")])
        outside = ""
        if in_counted[u] < WHOLE_DISTRICT_SHARE:
            outside_share[str(unames[u])] = float(1.0 - in_counted[u])
            outside = UNIT_OUTSIDE.format(share=share_text(1.0 - in_counted[u]))
        figures[str(unames[u])] = (float(per_unit[u]), UNIT_SOURCE_PREFIX + parts + outside)
    land_z = np.bincount(zi, weights=land_m2, minlength=len(zgeom))
    n_units = np.bincount(zi, minlength=len(zgeom))
    table = pd.DataFrame({
        "census_district": znames,
        "census_2020": figure,
        "area_km2": full / 1e6,
        "covered_km2": covered / 1e6,
        "residents_shared": np.where(covered > 0, residents, 0.0),
        "is_estimate": estimated & (covered > 0),
        "residential_land_km2": land_z / 1e6,
        "units": n_units,
    })
    return UnitFigures(figures, table, outside_share)


def census_unit_figures(layers: Any, settings: Any,
                        measured: Mapping[str, tuple[float, str]] | None = None
                        ) -> UnitFigures | None:
    """The units' census estimates for a run, from ``demand.census_districts``.

    Parameters
    ----------
    layers
        A :class:`~geoplan.layers.LayerSet` (or mapping) with ``districts`` (the analysis units,
        projected) and ``residential``.
    settings
        The config's demand settings (``census_districts``, ``census_city``).
    measured
        Every unit's figure measured over all the units of the config
        (:class:`geoplan.coverage.city_facts.CityFacts`), for a run that sees some of them:
        ``layers``' units take theirs.

    Returns
    -------
    UnitFigures or None
        None when no ``census_districts`` is configured, or the census names none of its
        区县 (a warning says so).

    Raises
    ------
    InputDataError
        If the file cannot be read, has no name field, or its polygons are broken beyond
        repair (as for the districts file, naming ``demand.census_districts``).
    """
    from geoplan.coverage.demand import residential_land
    from geoplan.layers.districts import read_districts

    source = getattr(settings, "census_districts", None)
    if source is None:
        return None
    city = getattr(settings, "census_city", None)
    units = layers["districts"].reset_index(drop=True)
    if measured is not None:  # over all the units (a batch job sees one of them)
        names = units["district"].astype(str).tolist()
        mine = {n: measured[n] for n in names if n in measured}
        logger.info("demand.census_districts: %d of %d units' residents as measured over all "
                    "%d units of the config", len(mine), len(names), len(measured))
        if len(mine) < len(names):
            logger.warning("demand.census_districts: %d of %d units lie in no 区县 of %s with "
                           "a census figure, so they get no residents: %s",
                           len(names) - len(mine), len(names), source.path.name,
                           first_named([n for n in names if n not in mine], _NAMED_AT_MOST, "、"))
        return UnitFigures(mine, pd.DataFrame(columns=list(ZONE_COLUMNS)), {})
    zones = read_districts(source.as_districts(), key="demand.census_districts")
    zones = zones.to_crs(units.crs)
    census = district_census(city, zones["district"].astype(str).tolist(), advise=False)
    if not census:
        logger.warning("demand.census_districts: the 2020 census of %s names none of the %d "
                       "districts of %s, so no residents are counted", city, len(zones),
                       source.path.name)
        return None
    land = residential_land(layers["residential"], units)
    out = unit_figures(zones, census, units, land)
    z = out.zones
    for i in np.flatnonzero((z["covered_km2"].to_numpy() > 0)
                            & np.isfinite(z["census_2020"])).tolist():
        logger.info("census 2020 %s: %.0f residents, %s%.0f in the %.2f km² the units cover "
                    "(of %.2f km²), shared among %d units by %.2f km² of residential land",
                    z["census_district"].iat[i], z["census_2020"].iat[i],
                    "estimated " if z["is_estimate"].iat[i] else "", z["residents_shared"].iat[i],
                    z["covered_km2"].iat[i], z["area_km2"].iat[i], z["units"].iat[i],
                    z["residential_land_km2"].iat[i])
    missing = [n for n in units["district"].astype(str) if n not in out.figures]
    if missing:
        logger.warning("demand.census_districts: %d of %d units lie in no 区县 of %s with a "
                       "census figure, so they get no residents: %s", len(missing), len(units),
                       source.path.name, first_named(missing, _NAMED_AT_MOST, "、"))
    if out.outside:
        named = [f"{n} ({share_text(s)})" for n, s in out.outside.items()]
        logger.warning("demand.census_districts: units partly in no 区县 of %s with a census "
                       "figure get no residents in that part (%d): %s", source.path.name,
                       len(named), first_named(named, _NAMED_AT_MOST, "、"))
    return out
