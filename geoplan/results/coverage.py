"""The shape of a coverage result: :class:`CoverageResult` and its tables' columns."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._io import geometry_kinds
from geoplan.results._schema import INSIDE_COLUMNS, Column, Schema, raise_problems, table_problems
from geoplan.results._spill import GeometryStore, SpilledFrame, row_blocks
from geoplan.results.indicators import INDICATORS, IndicatorResult
from geoplan.results.people import PeopleResult
from geoplan.vocab import WHOLE_DISTRICT_SHARE

BLOCK_ROWS = 50_000
"""Rows per block when a frame is written or scanned a block at a time
(:meth:`CoverageResult.in_blocks`)."""

__all__ = [
    "COVERAGE_TABLE",
    "FACILITIES",
    "GAPS",
    "ITEMS",
    "ITEM_GAPS",
    "ON_DISK",
    "REACHED",
    "REACH_AREAS",
    "STREET_GAPS",
    "WALK_BANDS",
    "CoverageResult",
    "demand_weighted",
    "item_names",
    "items_in",
    "join_items",
    "partial_districts",
    "split_items",
    "verdict",
    "verdicts",
]

def verdict(meets_target: Any, share_buffer: Any) -> bool | None:
    """Whether a coverage row meets its target: True, False, or None where there is nothing
    to measure (no demand in the district, so ``share_buffer`` has no value).

    Examples
    --------
    >>> verdict(True, 0.9), verdict(False, 0.4), verdict(False, float("nan"))
    (True, False, None)
    """
    try:
        measured = share_buffer is not None and bool(np.isfinite(float(share_buffer)))
    except (TypeError, ValueError):
        measured = False
    return bool(meets_target) if measured and not pd.isna(meets_target) else None


def verdicts(table: pd.DataFrame) -> pd.Series:
    """:func:`verdict` of every row of a coverage table (object dtype: True, False or None)."""
    return pd.Series([verdict(m, s) for m, s in zip(table["meets_target"], table["share_buffer"],
                                                     strict=True)],
                     index=table.index, dtype=object)


def demand_weighted(share: pd.Series, weight: pd.Series) -> float:
    """The districts' ``share`` weighted by their demand ``weight`` (``demand_total``): the
    demand covered in all of them over their demand; NaN where nothing is known."""
    share = pd.to_numeric(share, errors="coerce")
    ok = share.notna() & weight.notna() & (weight > 0)
    total = float(weight[ok].sum())
    return float((share[ok] * weight[ok]).sum() / total) if total > 0 else math.nan


def item_names(items: pd.DataFrame | None, lang: str) -> dict[str, str]:
    """Item id → the item's name in ``lang`` (``coverage.items``): in English its ``name_en``
    where the catalog gives one, else (and in Chinese) its ``name_zh``.

    Examples
    --------
    >>> items = pd.DataFrame({"item": ["toilet"], "name_zh": ["公共厕所"], "name_en": ["Public toilet"]})
    >>> item_names(items, "en"), item_names(items, "zh")
    ({'toilet': 'Public toilet'}, {'toilet': '公共厕所'})
    """
    if items is None or len(items) == 0:
        return {}
    zh = items["name_zh"].astype(str).to_numpy()
    if lang != "zh" and "name_en" in items:
        en = items["name_en"].to_numpy()
        names = [e if isinstance(e, str) and e else z for z, e in zip(zh, en, strict=True)]
    else:
        names = list(zh)
    return dict(zip(items["item"].astype(str), names, strict=True))


def join_items(names_zh: Iterable[str]) -> str:
    """Items' Chinese names as a table's ``items_no_data`` holds them (joined by 、).

    >>> split_items(join_items(["幼儿园", "养老院"])), split_items("")
    (['幼儿园', '养老院'], [])
    """
    return "、".join(names_zh)


def split_items(names_zh: str) -> list[str]:
    """The names of a table's ``items_no_data`` (:func:`join_items`); none for ''."""
    return names_zh.split("、") if names_zh else []


def items_in(names_zh: str, items: pd.DataFrame | None, lang: str) -> str:
    """A table's ``items_no_data`` (Chinese names joined by 、) in ``lang``: English names
    joined by commas where ``items`` gives them; unknown names kept."""
    if lang == "zh" or not names_zh:
        return names_zh
    if items is None or len(items) == 0 or "name_en" not in items:
        return names_zh.replace("、", ", ")
    english = dict(zip(items["name_zh"].astype(str), items["name_en"], strict=True))
    return ", ".join(e if isinstance(e := english.get(n), str) and e else n
                     for n in split_items(names_zh))


COVERAGE_TABLE = Schema("coverage.table", (
    Column("district", "str", "", "District name."),
    Column("standard", "str", "", "Standard id from the catalog (geoplan standards)."),
    Column("name_zh", "str", "", "The standard's Chinese name."),
    Column("name_en", "str", "", "The standard's English name."),
    Column("radius_m", "any", "m", "Service radius; a rule such as '500/300' when it depends on "
           "facility size."),
    Column("target", "float", "share 0–1", "Target share the documents set."),
    Column("demand_kind", "str", "", "residential, street_main, street_general or "
           "riverside_park_paths."),
    Column("demand_total", "float", "m² or m", "Residential land (m²) or street length (m) of the "
           "district inside the data."),
    Column("demand_unit", "str", "", "Unit of demand_total: m2 or m."),
    Column("n_facilities", "int", "facilities", "Facilities of the standard in the context area."),
    Column("share_buffer", "float", "share 0–1", "Official indicator: share of demand inside "
           "straight-line buffers (NaN: no demand)."),
    Column("share_network", "float", "share 0–1", "Share of demand within the radius by walking."),
    Column("share_population_buffer", "float", "share 0–1", "share_buffer weighted by people "
           "(NaN: no population source, no census figure for the district, or street demand)."),
    Column("share_population_network", "float", "share 0–1", "share_network weighted by "
           "people (NaN as share_population_buffer)."),
    Column("meets_target", "bool", "", "share_buffer >= target (False where share_buffer is NaN: "
           "nothing to measure, which reports show as neither; see verdicts)."),
    Column("uncovered_area_m2", "float", "m²", "Residential land outside the buffers (NaN for "
           "street standards)."),
    Column("uncovered_population", "float", "people", "People outside the buffers (NaN without "
           "a population source)."),
    Column("unreachable_points", "int", "points", "Demand points with no walkway of the "
           "network within the snapping limit (none near, or only a stray path joined to "
           "nothing; counted as not reached by walking)."),
    Column("population_source", "str", "", "Where the people came from: census (2020 census "
           "spread over homes; an estimate where a district is partly inside, see "
           "meta['residents']), raster, or none / buildings / area (no people: the population "
           "columns are NaN)."),
    Column("uncovered_length_m", "float", "m", "Street length outside the buffers (NaN for area "
           "standards)."),
    Column("inside_km2", "float", "km²", "Area of the district inside the data: the part every "
           "figure of the row covers."),
    Column("inside_share", "float", "share 0–1", "That area's share of the whole district (below 1: "
           "a partial figure, not the district's)."),
    Column("target_year", "any", "year", "Year the target applies by (from the config's pack; "
           "<NA> when no document sets one)."),
    Column("pack", "str", "", "Pack that set the target ('' when none)."),
    Column("source_title", "str", "", "The standard's source documents by full title and clause "
           "(geoplan.standards.standard_source_title)."),
    Column("n_items", "int", "items", "Facility items of the standard (1, or a life circle's "
           "basket)."),
    Column("min_items", "int", "items", "The k of 'at least k of n items' used (lowered to the "
           "items with data)."),
    Column("items_no_data", "str", "", "Items with no facility at all in the data, by Chinese "
           "name ('、'-joined; '' when every item has data). They are left out of the basket "
           "shares and named, never counted as 0% coverage."),
    Column("share_min_items_network", "float", "share 0–1", "Share of demand reaching at least "
           "min_items items by walking (equals share_network for a single facility)."),
    Column("share_min_items_population_network", "float", "share 0–1",
           "share_min_items_network weighted by population."),
))

ITEMS = Schema("coverage.items", (
    Column("district", "str", "", "District name."),
    Column("standard", "str", "", "Standard id."),
    Column("item", "str", "", "Item id (the basket label, or the layer)."),
    Column("name_zh", "str", "", "The item's Chinese name as the source lists it."),
    Column("name_en", "str", "", "The item's English name (the catalog's; its Chinese name "
           "where the catalog gives none)."),
    Column("layer", "str", "", "Canonical layer its facilities come from."),
    Column("radius_m", "float", "m", "Radius used (the standard's)."),
    Column("n_facilities", "int", "facilities", "Facilities of the item in the context area."),
    Column("no_data", "bool", "", "True when the data hold no facility of the item at all: its "
           "shares are NaN and reports say 'no data for <item>'."),
    Column("share_buffer", "float", "share 0–1", "Share of residential land inside the item's "
           "straight-line buffers (NaN: no data or no demand)."),
    Column("share_network", "float", "share 0–1", "Share within the radius by walking."),
    Column("share_population_network", "float", "share 0–1", "share_network weighted by "
           "population."),
    *INSIDE_COLUMNS,
))

GAPS = Schema("coverage.gaps", (
    Column("standard", "str", "", "Standard id."),
    Column("district", "str", "", "District name."),
    Column("view", "str", "", "buffer (official, straight line) or network (walking)."),
    Column("rank", "int", "", "1 = the largest gap of its standard, district and view."),
    Column("area_m2", "float", "m²", "Uncovered residential land of the gap."),
    Column("population", "float", "people", "People living in the gap (NaN when no population "
           "source exists: land area is never shown as people)."),
), geometry="Polygon")

ITEM_GAPS = Schema("coverage.item_gaps", (
    Column("standard", "str", "", "Standard id (a life circle)."),
    Column("item", "str", "", "Item id whose buffers leave the land uncovered."),
    Column("district", "str", "", "District name."),
    Column("view", "str", "", "buffer (the official straight-line view)."),
    Column("rank", "int", "", "1 = the largest gap of its standard, item and district."),
    Column("area_m2", "float", "m²", "Uncovered residential land of the gap."),
    Column("population", "float", "people or m²", "Population weight of the gap."),
), geometry="Polygon")

STREET_GAPS = Schema("coverage.street_gaps", (
    Column("standard", "str", "", "Standard id (toilet standards)."),
    Column("district", "str", "", "District name."),
    Column("view", "str", "", "buffer or network."),
    Column("rank", "int", "", "1 = the longest uncovered stretch of its group."),
    Column("length_m", "float", "m", "Length of the uncovered street stretch."),
), geometry="LineString")

REACHED = Schema("coverage.reached", (
    Column("standard", "str", "", "Standard id."),
    Column("item", "str", "", "Facility set (basket item) the edges were reached from."),
    Column("radius_m", "float", "m", "Radius walked."),
    Column("distance_from", "float", "m", "Walking distance from the nearest facility at the "
           "edge's start."),
), geometry="LineString")

REACH_AREAS = Schema("coverage.reach_areas", (
    Column("standard", "str", "", "Standard id."),
    Column("district", "str", "", "District the part lies in (its part of the reach, clipped "
           "to the district)."),
), geometry="Polygon")

WALK_BANDS = Schema("coverage.walk_bands", (
    Column("standard", "str", "", "Standard id (single facility kinds with residential demand; "
           "not the life circles, whose baskets have no one nearest facility)."),
    Column("district", "str", "", "District name."),
    Column("band", "str", "", "within (walking distance to the nearest facility ≤ its radius), "
           "near (≤ 1.5 × the radius) or beyond (farther, off the walkways or unreachable)."),
    Column("area_m2", "float", "m²", "Residential land of the band in the district."),
), geometry="MultiPolygon")

FACILITIES = Schema("coverage.facilities", (
    Column("standard", "str", "", "Standard id."),
    Column("item", "str", "", "Facility set (basket item)."),
    Column("layer", "str", "", "Canonical layer the facility came from."),
    Column("source_id", "str", "", "The input's id (OSM type/id or the planner's row id)."),
    Column("name", "str", "", "Facility name."),
    Column("kind", "str", "", "Facility kind (park, toilet, primary, …)."),
    Column("radius_m", "float", "m", "Radius this facility serves."),
    Column("district", "str", "", "District it lies in ('' outside every district)."),
    Column("n_access", "int", "points", "Access points within reach of a walkway (0: buffer "
           "share only)."),
), geometry="Point")

DISTRICTS = Schema("coverage.districts", (
    Column("district", "str", "", "District name."),
), geometry="Polygon", extra_columns=True)


@dataclass
class CoverageResult:
    """Everything :func:`geoplan.coverage.run_coverage` measured.

    Attributes
    ----------
    table
        One row per district × standard (:data:`COVERAGE_TABLE`). Shares are fractions in
        [0, 1], NaN only when the district has no demand of that kind (population shares are
        NaN for the street standards, whose demand is length, not people).
    gaps
        Uncovered residential land per standard × district × view (:data:`GAPS`).
    reached
        Walked network within each standard's radius, edge by edge (:data:`REACHED`); empty
        when the run did not keep it (``meta['reached_edges']['kept']`` False: a city above
        :data:`geoplan.coverage.reached.REACHED_EDGES_AUTO_MAX` walking edges with
        ``gpkg.reached_edges: auto``, or ``none``), the reach areas standing for it.
    reach_areas
        One polygon per standard and district: the reached edges buffered and clipped to the
        district (:data:`REACH_AREAS`), drawn by the map and the reports.
    facilities
        The facilities each standard used, as points (:data:`FACILITIES`).
    districts
        The districts with ``share_buffer__<id>`` and ``share_network__<id>`` columns.
    street_gaps
        Uncovered stretches of street of the toilet standards (:data:`STREET_GAPS`).
    items
        Coverage of every facility item of every standard per district (:data:`ITEMS`): the
        life circles item by item, with the items that have no data flagged.
    item_gaps
        Uncovered residential land of each life-circle item with data, per district where the
        item misses the target (:data:`ITEM_GAPS`, buffer view): what siting closes per item.
    walk_bands
        Residential land by walking distance to the nearest facility of each standard:
        within the radius, up to 1.5 × it, beyond (:data:`WALK_BANDS`).
    meta
        ``population_source``, ``population_note``, ``population_people`` (True when the
        weights are people), ``residents`` (the census estimate per district,
        :data:`~geoplan.results.RESIDENTS`, or None), ``graph`` (sizes), ``snapping`` (counts per
        demand kind), ``demand_points``, ``facilities_off_network`` ("standard/item" -> number
        of facilities no walkway reaches), ``reached_edges`` (``kept``: whether :attr:`reached`
        holds the edges, ``rows``: the reached pieces measured, ``setting``: auto, all or
        none), ``timings`` (seconds per step), ``unit`` (what the districts are called,
        :attr:`geoplan.layers.LayerSet.unit`); ``planned_sources`` on a scenario's result
        (set by ``geoplan scenario``: the file names of its planned facilities, which its
        map draws apart).
    people
        Residents, school-age children beyond the school radius, seats and the 学位缺口
        (:class:`~geoplan.results.PeopleResult`); None when the run has no people.
    indicators
        Per-person and ratio indicators per district (:class:`~geoplan.results.IndicatorResult`),
        set by :func:`geoplan.pipeline.compute_results`; None until then.

    Notes
    -----
    The frames named in :data:`ON_DISK` may be held on disk (:meth:`keep_on_disk`; ``geoplan
    run`` does so for the whole run): reading the attribute then reads the frame from disk,
    whole, each time. Code that needs a district's rows only asks :meth:`held` and reads those.
    """

    table: pd.DataFrame
    gaps: gpd.GeoDataFrame
    reached: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    street_gaps: gpd.GeoDataFrame
    reach_areas: gpd.GeoDataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    people: PeopleResult | None = None
    indicators: IndicatorResult | None = None
    items: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ITEMS.names))
    item_gaps: gpd.GeoDataFrame = field(default_factory=lambda: gpd.GeoDataFrame(
        {c: [] for c in ITEM_GAPS.names}, geometry=gpd.GeoSeries([])))
    walk_bands: gpd.GeoDataFrame = field(default_factory=lambda: gpd.GeoDataFrame(
        {c: [] for c in WALK_BANDS.names}, geometry=gpd.GeoSeries([])))

    SCHEMAS: ClassVar[dict[str, Schema]] = {"table": COVERAGE_TABLE, "gaps": GAPS, "street_gaps": STREET_GAPS,
               "reached": REACHED, "reach_areas": REACH_AREAS, "facilities": FACILITIES,
               "districts": DISTRICTS, "items": ITEMS, "item_gaps": ITEM_GAPS,
               "walk_bands": WALK_BANDS}
    """Attribute name -> its :class:`~geoplan.results._schema.Schema`."""

    def held(self, name: str) -> gpd.GeoDataFrame | SpilledFrame:
        """Frame ``name`` of :data:`ON_DISK` as held: in memory, or a :class:`SpilledFrame`
        whose rows can be read a few at a time."""
        value: gpd.GeoDataFrame | SpilledFrame = self.__dict__["_held"][name]
        return value

    def keep_on_disk(self, name: str, value: gpd.GeoDataFrame | SpilledFrame,
                     store: GeometryStore | None = None) -> None:
        """Hold frame ``name`` of :data:`ON_DISK` on disk: ``value`` already there, or a
        GeoDataFrame whose geometries are written to ``store``."""
        if isinstance(value, gpd.GeoDataFrame):
            if store is None:
                raise ValueError("a GeoDataFrame is kept on disk in a GeometryStore")
            value = SpilledFrame.write(value, store)
        _set_held(self, name, value)

    def attributes(self, name: str) -> pd.DataFrame:
        """Frame ``name`` of :data:`ON_DISK` without its geometry column (nothing read from
        disk)."""
        held = self.held(name)
        if isinstance(held, SpilledFrame):
            return held.attrs
        return pd.DataFrame(held.drop(columns=held.geometry.name))

    def in_blocks(self, name: str, rows: int = BLOCK_ROWS) -> Iterator[gpd.GeoDataFrame]:
        """Frame ``name`` of :data:`ON_DISK` as consecutive blocks of at most ``rows`` rows, in
        order (one empty block when it has none); held on disk, a block is read at a time."""
        held = self.held(name)
        if isinstance(held, SpilledFrame):
            yield from held.blocks(rows)
            return
        for lo, hi in row_blocks(len(held), rows):
            yield held.iloc[lo:hi]

    def geometries(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The geometries of the rows at positions ``rows`` of frame ``name`` of
        :data:`ON_DISK` (only those read when it is held on disk)."""
        held = self.held(name)
        rows = np.asarray(rows, dtype=np.intp)
        if isinstance(held, SpilledFrame):
            return held.store.get(held.starts[rows], held.lengths[rows])
        return held.geometry.to_numpy()[rows]

    def geometry_kinds(self, name: str) -> np.ndarray:
        """Every row's geometry kind of frame ``name`` of :data:`ON_DISK`
        (:func:`geoplan._io.geometry_kinds`)."""
        held = self.held(name)
        if isinstance(held, SpilledFrame):
            return held.kinds
        return geometry_kinds(held.geometry.to_numpy())

    def rows_where(self, name: str, **values: str) -> gpd.GeoDataFrame:
        """The rows of frame ``name`` (of :data:`ON_DISK`) whose columns equal ``values``
        (e.g. ``standard="park_500", view="buffer"``), in order, index kept; only those are
        read when the frame is held on disk."""
        held = self.held(name)
        attrs = held.attrs if isinstance(held, SpilledFrame) else held
        mask = np.ones(len(attrs), dtype=bool)
        for column, value in values.items():
            mask &= (attrs[column] == value).to_numpy()
        return held.load(mask) if isinstance(held, SpilledFrame) else held.loc[mask]

    def in_memory(self) -> CoverageResult:
        """A shallow copy holding every frame in memory (read from disk once, for work that
        reads them over and over: the single-file map of a small city)."""
        out = copy.copy(self)
        for name in ON_DISK:
            setattr(out, name, getattr(self, name))
        return out

    def validate(self) -> None:
        """Raise :class:`~geoplan._errors.ResultSchemaError` naming every missing or mistyped
        column of every table."""
        problems = table_problems(self, self.SCHEMAS)
        if self.indicators is not None:
            problems += INDICATORS.problems(self.indicators.table)
        if self.people is not None:
            problems += table_problems(self.people, self.people.SCHEMAS)
        raise_problems(problems)

    def reach_area(self, standard: str, district: str | None = None) -> Any:
        """The walking reach of ``standard`` as one (Multi)Polygon, or None.

        With ``district``, that district's part. Without, the parts of every district gathered
        into one MultiPolygon, not dissolved (neighbouring parts meet along district lines):
        fit for drawing; use the per-district parts for overlay.
        """
        mine = self.rows_where("reach_areas", standard=standard)  # only those read from disk
        if district is not None and "district" in mine.columns:
            mine = mine.loc[mine["district"].astype(str) == str(district)]
        if not len(mine):
            return None
        if len(mine) == 1:
            return mine.geometry.iloc[0]
        parts = shapely.get_parts(mine.geometry.to_numpy())
        return shapely.multipolygons(parts[shapely.get_type_id(parts) == 3])


ON_DISK = ("gaps", "street_gaps", "reach_areas", "item_gaps", "walk_bands")
"""The frames of :class:`CoverageResult` that may be held on disk: the large ones, which grow
with the city (at 64 tiles of the embedded extract they were 0.9 GB of a 1.7 GB run)."""


def _set_held(result: CoverageResult, name: str, value: gpd.GeoDataFrame | SpilledFrame) -> None:
    # a new dict each time: a shallow copy of the result (a map page's) gets its own frames
    result.__dict__["_held"] = {**result.__dict__.get("_held", {}), name: value}


class _HeldFrame:
    """Attribute access to a frame of :data:`ON_DISK`: read from disk when held there."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: CoverageResult | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.held(self.name)
        return value.load() if isinstance(value, SpilledFrame) else value

    def __set__(self, obj: CoverageResult, value: gpd.GeoDataFrame) -> None:
        _set_held(obj, self.name, value)


# Set after the dataclass is made: its __init__ (and dataclasses.replace) assigns the fields
# through these, so a frame may live on disk while the attribute still reads as a GeoDataFrame.
for _name in ON_DISK:
    setattr(CoverageResult, _name, _HeldFrame(_name))


def partial_districts(table: pd.DataFrame) -> list[tuple[str, float]]:
    """The districts only partly inside the data, with the share of their area that is, in
    the table's order."""
    if "inside_share" not in table or "district" not in table:
        return []
    first = table.drop_duplicates("district")
    return [(str(d), float(s)) for d, s in zip(first["district"], first["inside_share"],
                                               strict=True)
            if pd.notna(s) and float(s) < WHOLE_DISTRICT_SHARE]
