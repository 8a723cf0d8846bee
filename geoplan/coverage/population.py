"""Population weights of residential demand points.

Sources, in the order ``auto`` tries them:

1. a **population raster** (WorldPop / GHS-POP GeoTIFF, people per pixel), read with rasterio.
   Demand points are reprojected to the raster CRS and each pixel's people are shared among the
   demand points inside that pixel in proportion to their land area (so the people of pixels
   that hold residential land are kept exactly);
2. the **2020 census** residents of each district (shipped with geoplan, see
   :mod:`geoplan.census`), spread over its residential land by residential floor area where
   buildings stand and by land area elsewhere (:mod:`geoplan.coverage.census`); for a district
   only partly inside the data the part's residents are an estimate, and say so;
3. without people, only relative weights: **residential building floor area** (footprint ×
   levels, ``default_levels`` when untagged), spread over the demand pieces each building
   overlaps (in proportion to the overlap), or given to the nearest demand point when the
   building lies outside residential land; else the **residential land area** itself. These are
   not people: :attr:`PopulationWeights.people` is False and every population figure is left
   empty (NaN), with the reason in :attr:`PopulationWeights.note`.

``auto`` uses buildings only when they cover enough of the residential land to describe it (see
:data:`MIN_BUILDING_COVERAGE`); otherwise a handful of mapped blocks would carry the whole
population. The result says which source was used and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geoplan._errors import InputDataError
from geoplan.census import UNITS_NOTE_START
from geoplan.coverage.census import census_weights
from geoplan.coverage.census_areas import census_unit_figures
from geoplan.coverage.demand import Demand
from geoplan.crs import parse_declared_crs

logger = logging.getLogger(__name__)

__all__ = ["MIN_BUILDING_COVERAGE", "PopulationWeights", "SourceChoice", "building_cover_sums",
           "choose_source", "population_weights", "raster_weights"]

PIECES_PER_BLOCK = 200_000
"""Residential pieces built at a time to find the buildings on them."""

MIN_BUILDING_COVERAGE = 0.3
"""With ``population_weight: auto``, buildings are used only when residential land pieces that
hold residential buildings make up at least this share of the residential land area."""


@dataclass(frozen=True)
class PopulationWeights:
    """Population weight per demand point and where it came from.

    Attributes
    ----------
    weights
        One non-negative weight per demand point (people, m² of floor area, or m² of land);
        NaN where people are unknown (a district without a census figure).
    source
        ``'raster'``, ``'census'``, ``'buildings'`` or ``'area'``.
    note
        Human-readable explanation (file used, method, why a fallback was chosen).
    people
        True when ``weights`` are people (raster, census); False for the relative weights,
        which must never be shown as people.
    residents
        For the census source, one row per district saying how its residents were estimated
        and placed (:data:`geoplan.results.RESIDENTS`); None otherwise.
    """

    weights: np.ndarray
    source: str
    note: str
    people: bool = False
    residents: pd.DataFrame | None = None
    cover_sums: tuple[float, float] | None = None
    """For census weights of one chunk of a city: the residential land with residential
    buildings on it and all of it (m²), added up over the chunks for the census note."""


def population_weights(demand: Demand, layers: Any, settings: Any,
                       choice: SourceChoice | None = None,
                       census: Mapping[str, tuple[float, str]] | None = None
                       ) -> PopulationWeights:
    """Choose the population source and weigh the residential demand points.

    Parameters
    ----------
    demand
        Residential demand from :func:`geoplan.coverage.demand.residential_grid`.
    layers
        A :class:`~geoplan.layers.LayerSet` (or mapping of canonical layers with ``buildings``).
    settings
        The config's demand settings (``population_weight``, ``population_raster``,
        ``population_raster_crs``, ``population_census``, ``census_city``, ``default_levels``).
    choice
        The source as chosen for the whole city (:func:`choose_source`), when ``demand`` is
        one chunk of its districts: only ``raster``, ``census`` and ``area`` are weighed
        chunk by chunk. None chooses here, from ``demand`` and ``layers``.
    census
        The units' census figures measured over all the units of the config
        (:class:`geoplan.coverage.city_facts.CityFacts`) when ``layers`` holds some of them;
        None measures them from ``layers``.

    Returns
    -------
    PopulationWeights

    Raises
    ------
    InputDataError
        If a raster is configured but cannot be read or does not overlap the demand.
    """
    whole = choice is None
    if choice is None:  # the districts are read only when the census is looked up
        choice = choose_source(lambda: layers["districts"]["district"].astype(str).tolist(),
                               settings, lambda: census_unit_figures(layers, settings, census))
    if choice.source == "raster":
        raster = _raster_to_use(settings)
        w = raster_weights(demand, raster, getattr(settings, "population_raster_crs", None))
        return PopulationWeights(w, "raster", f"population raster {Path(raster).name}", True)
    levels = float(getattr(settings, "default_levels", 6.0))
    if choice.source == "census":
        # the floor area standing on each piece; the census says how many live there
        on_land, coverage = building_weights(demand, layers["buildings"], levels, nearest=False)
        spread = census_weights(demand, on_land, layers["districts"].reset_index(drop=True),
                                getattr(settings, "census_city", None), any_figure=False,
                                figures=choice.figures)
        if spread is None:  # pragma: no cover - any_figure=False always spreads
            raise ValueError("no census spread")
        note = census_note(coverage, levels, choice.figures is not None)
        if whole:
            logger.info("population weights: %s", note)
        total = float(demand.amount.sum())
        # a chunk's note has the chunk's building share until the chunks are put together
        return PopulationWeights(spread.weights, "census", note, True, spread.table,
                                 cover_sums=(coverage * total, total))
    if choice.source in ("auto", "buildings"):
        if not whole:
            raise ValueError(f"population source {choice.source!r} is not weighed chunk by "
                             "chunk")
        w, coverage = building_weights(demand, layers["buildings"], levels)
        if choice.source == "buildings" and not w.sum() > 0:
            raise InputDataError(
                "demand.population_weight is 'buildings' but no residential building stands on "
                "the residential land (none mapped, or none tagged as homes); use 'auto' or "
                "'area', or add the buildings")
        if choice.settled(coverage).source == "buildings":
            return PopulationWeights(
                w, "buildings",
                f"no population source ({choice.why}, no demand.population_raster); relative "
                f"weights only: residential building floor area (buildings on {coverage:.0%} "
                "of residential land)",
            )
    note = area_note(choice.why)
    if whole:
        logger.info("population weights: %s", note)
    return PopulationWeights(demand.amount.astype(float).copy(), "area", note)


def _raster_to_use(settings: Any) -> Any:
    """The population raster the settings ask for (None: no raster, or not in this mode)."""
    mode = getattr(settings, "population_weight", "auto")  # 'raster' without one: a config error
    return getattr(settings, "population_raster", None) if mode in ("auto", "raster") else None


def census_note(coverage: float, levels: float, units: bool = False) -> str:
    """The note of census weights, ``coverage`` being the share of the residential land with
    residential buildings on it; ``units``: the districts got their figures from the census's
    区县 (``demand.census_districts``)."""
    spread = (f"residential floor area where buildings stand on it ({coverage:.0%} of the land; "
              f"{levels:g} levels where untagged), by land area elsewhere")
    if units:
        return (f"{UNITS_NOTE_START} (demand.census_districts; 区县 partly inside the analysis "
                f"area: census density × area inside), then over each unit's residential land "
                f"by {spread}")
    return (f"2020 census residents of each district spread over its residential land by "
            f"{spread}; districts partly inside the data: estimate = census density × area "
            "inside")


def area_note(why: str) -> str:
    """The note of weights by residential land area, ``why`` there are no people."""
    return (f"no population source ({why}, no demand.population_raster); relative weights only: "
            "residential land area")


def _why_no_census(settings: Any) -> str:
    mode = getattr(settings, "population_weight", "auto")
    if not getattr(settings, "population_census", True):
        return "demand.population_census is off"
    if not getattr(settings, "census_city", None):
        return "no city to look the census up for (config 'city')"
    return f"demand.population_weight is {mode!r}"


@dataclass(frozen=True)
class SourceChoice:
    """The population source of a whole city, chosen before its districts are weighed chunk
    by chunk (:func:`choose_source`).

    Attributes
    ----------
    source
        ``raster``, ``census``, ``buildings``, ``area``, or ``auto``: buildings or land area,
        by the share of the residential land buildings stand on
        (:data:`MIN_BUILDING_COVERAGE`), which only the demand can tell
        (:meth:`settled`).
    why
        Why there are no people (the notes of relative weights); empty for people.
    figures
        With ``demand.census_districts``: the census estimate of each analysis unit (unit ->
        (residents, source)) from :func:`geoplan.coverage.census_areas.census_unit_figures`;
        None: the units are looked up in the census by name.
    """

    source: str
    why: str = ""
    figures: Mapping[str, tuple[float, str]] | None = field(default=None, compare=False)

    def settled(self, coverage: float) -> SourceChoice:
        """``auto`` settled by the city's building coverage (others as they are)."""
        if self.source != "auto":
            return self
        return SourceChoice("buildings" if coverage >= MIN_BUILDING_COVERAGE else "area", self.why)


def choose_source(names: Callable[[], Sequence[str]], settings: Any,
                  unit_figures: Callable[[], Any] | None = None) -> SourceChoice:
    """The population source :func:`population_weights` would choose for ``districts``, as far
    as it can be told without the demand.

    Parameters
    ----------
    names
        Gives the names of every district of the city (called only to look the census up).
    settings
        The config's demand settings.
    unit_figures
        Gives the units' census estimates from ``demand.census_districts``
        (:func:`geoplan.coverage.census_areas.census_unit_figures` of the city's layers);
        called only when that is configured.

    Returns
    -------
    SourceChoice

    Raises
    ------
    InputDataError
        As :func:`population_weights` would.
    """
    from geoplan.census import district_census

    mode = getattr(settings, "population_weight", "auto")
    if _raster_to_use(settings) is not None:
        return SourceChoice("raster")
    city = getattr(settings, "census_city", None)
    zones = getattr(settings, "census_districts", None)
    if mode in ("auto", "census") and getattr(settings, "population_census", True) and city:
        if zones is not None and unit_figures is not None:
            found = unit_figures()
            if found is not None and found.figures:
                return SourceChoice("census", figures=found.figures)
            why = f"no 2020 census figure for the districts of {zones.path.name} in {city}"
        elif district_census(city, list(names())):
            return SourceChoice("census")
        else:
            why = f"no 2020 census figure for the districts of {city}"
    else:
        why = _why_no_census(settings)
    if mode == "census":
        raise InputDataError(f"demand.population_weight is 'census' but {why}")
    return SourceChoice("auto" if mode == "auto" else ("buildings" if mode == "buildings"
                                                       else "area"), why)


def building_cover_sums(demand: Demand, buildings: gpd.GeoDataFrame) -> tuple[float, float]:
    """The residential land with residential buildings on it and all of it (m²): the sums
    whose ratio :func:`building_weights` gives as its coverage."""
    _, coverage = building_weights(demand, buildings, nearest=False)
    total = float(demand.amount.sum())
    return coverage * total, total


def building_weights(
    demand: Demand, buildings: gpd.GeoDataFrame, default_levels: float = 6.0,
    *, nearest: bool = True,
) -> tuple[np.ndarray, float]:
    """Residential floor area spread over the demand points.

    Parameters
    ----------
    demand
        Residential demand.
    buildings
        The canonical ``buildings`` layer.
    default_levels
        Levels assumed where a residential building has none tagged.
    nearest
        Give the floor area of buildings (or their parts) outside residential land to the
        nearest demand point; False keeps only the floor area standing on each piece.

    Returns
    -------
    tuple of numpy.ndarray and float
        Floor area per demand point (m²), and the share of the residential land area lying in
        pieces that received floor area from an overlapping building.
    """
    n = len(demand)
    w = np.zeros(n)
    if n == 0 or len(buildings) == 0:
        return w, 0.0
    res = buildings["is_residential"].to_numpy(dtype=bool)
    geoms = buildings.geometry.to_numpy()[res]
    if len(geoms) == 0:
        return w, 0.0
    levels = buildings["levels"].to_numpy(dtype=float)[res]
    levels = np.where(np.isfinite(levels) & (levels > 0), levels, default_levels)
    footprint = shapely.area(geoms)
    floor = footprint * levels
    bi, pi, overlap = _overlaps(demand, geoms)
    share = np.divide(overlap, footprint[bi], out=np.zeros(len(bi)), where=footprint[bi] > 0)
    np.add.at(w, pi, floor[bi] * share)
    placed = np.zeros(len(geoms))
    np.add.at(placed, bi, share)
    rest = floor * np.clip(1.0 - placed, 0.0, 1.0)
    left = rest > 1e-9 * np.maximum(floor, 1.0)
    if nearest and left.any():  # outside residential land: to the nearest demand point
        pts = shapely.point_on_surface(geoms[left])
        nearest = shapely.STRtree(demand.points).query_nearest(pts, all_matches=False)[1]
        np.add.at(w, nearest, rest[left])
    touched = np.zeros(n, dtype=bool)
    touched[pi[overlap > 0]] = True
    total = float(demand.amount.sum())
    coverage = float(demand.amount[touched].sum()) / total if total else 0.0
    return w, coverage


def _overlaps(demand: Demand, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (building, demand piece) pair that intersects, and their overlap area (m²), in
    building order.

    The pieces are built :data:`PIECES_PER_BLOCK` at a time and freed (a city's pieces as
    polygons, with their index, were about 550 MB made and freed at once at 64 tiles); each
    block meets only the buildings near it.
    """
    near = shapely.STRtree(geoms)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for lo in range(0, len(demand), PIECES_PER_BLOCK):
        positions = np.arange(lo, min(lo + PIECES_PER_BLOCK, len(demand)))
        pieces = demand.pieces_of(positions)
        bounds = shapely.bounds(pieces)
        box = shapely.box(*np.nanmin(bounds[:, :2], axis=0), *np.nanmax(bounds[:, 2:], axis=0))
        mine = np.sort(near.query(box))
        bj, pj = shapely.STRtree(pieces).query(geoms[mine], predicate="intersects")
        found.append((mine[bj], positions[pj],
                      shapely.area(shapely.intersection(geoms[mine[bj]], pieces[pj]))))
    if not found:
        return np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0)
    bi, pi, overlap = (np.concatenate(parts) for parts in zip(*found, strict=True))
    order = np.argsort(bi, kind="stable")  # each piece's buildings added in building order
    return bi[order], pi[order], overlap[order]


def raster_weights(demand: Demand, path: str | Path, raster_crs: Any = None) -> np.ndarray:
    """People per demand point from a population raster (people per pixel).

    Parameters
    ----------
    demand
        Residential demand (analysis CRS).
    path
        A GeoTIFF (or any raster rasterio reads) of people per pixel.
    raster_crs
        The raster's CRS when the file has none (or to override it).

    Returns
    -------
    numpy.ndarray
        People per demand point. Each pixel's people go to the demand points inside it in
        proportion to their area; nodata and negative values count as 0.

    Raises
    ------
    InputDataError
        If the file cannot be read, has no CRS, or does not overlap the demand points.
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.windows import Window

    path = Path(path)
    n = len(demand)
    try:
        src = rasterio.open(path)
    except (RasterioIOError, OSError) as exc:
        raise InputDataError(f"cannot read the population raster {path}: {exc}") from exc
    with src:
        if raster_crs is not None:
            declared = parse_declared_crs(raster_crs)
            if declared.kind != "pyproj":
                logger.warning("population raster declared %s: read as WGS 84 (pixels are far "
                               "larger than the offset)", declared.label)
            crs = declared.crs
        elif src.crs is not None:
            crs = pyproj.CRS.from_user_input(src.crs.to_wkt())
        else:
            raise InputDataError(
                f"the population raster {path.name} has no CRS; declare it with "
                "demand.population_raster_crs"
            )
        if n == 0:
            return np.zeros(0)
        pts = gpd.GeoSeries(demand.points, crs=demand.crs).to_crs(crs)
        x, y = pts.x.to_numpy(), pts.y.to_numpy()
        left, bottom, right, top = src.bounds
        inside = (x >= min(left, right)) & (x <= max(left, right)) & (y >= min(bottom, top)) & (
            y <= max(bottom, top))
        if not inside.any():
            raise InputDataError(
                f"the population raster {path.name} "
                f"(bounds {tuple(round(b, 4) for b in src.bounds)} "
                f"in {crs.to_string()}) does not overlap the residential demand of the study area; "
                "check the file and its CRS (demand.population_raster_crs)"
            )
        t = src.transform
        inv = np.linalg.inv(np.array([[t.a, t.b], [t.d, t.e]], dtype=float))
        dx, dy = x[inside] - t.c, y[inside] - t.f
        cols = np.floor(inv[0, 0] * dx + inv[0, 1] * dy).astype(np.int64)
        rows = np.floor(inv[1, 0] * dx + inv[1, 1] * dy).astype(np.int64)
        rows = np.clip(rows, 0, src.height - 1)
        cols = np.clip(cols, 0, src.width - 1)
        # read only the window around the demand (a national WorldPop grid is gigabytes)
        r0, c0 = int(rows.min()), int(cols.min())
        window = Window(c0, r0, int(cols.max()) - c0 + 1, int(rows.max()) - r0 + 1)
        band = src.read(1, window=window, masked=True)
        holds = ~np.ma.getmaskarray(band)[rows - r0, cols - c0]
        values = np.ma.filled(band.astype("float64"), 0.0)[rows - r0, cols - c0]
        if not holds.any() or not (np.isfinite(values) & (values > 0)).any():
            raise InputDataError(
                f"the population raster {path} holds no people over the residential land of the "
                f"study area ({'every pixel there is nodata' if not holds.any() else 'all zero'}"
                f"); check that it covers the city and that demand.population_raster_crs is "
                "right, or remove demand.population_raster to weight by buildings or land area"
            )
    values = np.where(np.isfinite(values) & (values > 0), values, 0.0)
    # share each pixel's people among the demand points inside it, by area
    pixel = rows.astype(np.int64) * int(src.width) + cols.astype(np.int64)
    uniq, inv = np.unique(pixel, return_inverse=True)
    amount = demand.amount[inside]
    area_sum = np.bincount(inv, weights=amount, minlength=len(uniq))
    w = np.zeros(n)
    w[inside] = values * np.divide(amount, area_sum[inv], out=np.zeros(len(amount)),
                                   where=area_sum[inv] > 0)
    outside = int((~inside).sum())
    if outside:
        logger.warning("%d of %d demand points lie outside the population raster: weight 0",
                       outside, n)
    logger.info("population raster %s: %.0f people on residential land", path.name, w.sum())
    return w
