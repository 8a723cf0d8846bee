"""The coverage engine: every service-radius standard, per district, by buffer, network, population.

For each standard and district :func:`run_coverage` measures, side by side:

* ``share_buffer``: the official indicator, the share of residential land (or street length for
  the linear toilet standards) inside the union of straight-line buffers around the facilities,
  by exact overlay (:mod:`geoplan.coverage.buffers`);
* ``share_network``: the share of demand (grid pieces of residential land, or street samples)
  whose walking distance to the nearest facility is within the radius, on one city-wide walking
  graph built once per run (:mod:`geoplan.network`), with facilities reached at their access
  points (:mod:`geoplan.coverage.access`);
* ``share_population_buffer`` / ``share_population_network``: the same weighted by population
  (:mod:`geoplan.coverage.population`).

Facilities come from the whole context area (study area + margin), so a facility just across a
district line serves it. Gap polygons come from :mod:`geoplan.coverage.gaps`.

The standards are measured in groups (:func:`_pass_groups`): the network flags and reach areas
of a group's standards city-wide, then one pass over the districts for all of them
(:mod:`geoplan.coverage.by_district`), then each standard's tables and walk bands.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm.std import tqdm

from geoplan._errors import StandardError
from geoplan._frames import geo_frame
from geoplan.config import DemandSettings
from geoplan.coverage.access import as_reached
from geoplan.coverage.baskets import BasketFlags, basket_flags, default_min_items
from geoplan.coverage.buffers import BufferSet
from geoplan.coverage.by_district import DistrictWork, Measured, measure_districts
from geoplan.coverage.context import CoverageContext, Timer, set_key
from geoplan.coverage.demand import Demand
from geoplan.coverage.gaps import GAP_COLUMNS, STREET_GAP_COLUMNS, rank_gaps, rank_street_gaps
from geoplan.coverage.items import (
    district_share_pair,
    item_fractions,
    item_gap_frame,
    item_gaps,
    item_rows,
)
from geoplan.coverage.on_disk import hold, on_disk
from geoplan.coverage.people import PeopleInputs, measure_people, people_inputs, school_standards
from geoplan.coverage.population import PopulationWeights
from geoplan.coverage.reach import reach_areas
from geoplan.coverage.reached import ReachedPieces, keep_reached_edges, merged_by_standard, reached_frame
from geoplan.coverage.shares import district_shares, district_totals, uncovered_amount
from geoplan.coverage.walk_bands import walk_band_frame
from geoplan.crs import check_projected_crs
from geoplan.results import (
    COVERAGE_TABLE,
    FACILITIES,
    ITEM_GAPS,
    ITEMS,
    REACH_AREAS,
    WALK_BANDS,
    CoverageResult,
    join_items,
)
from geoplan.results._spill import GeometryStore
from geoplan.standards import (
    FacilitySet,
    Standard,
    item_name,
    resolve_standards,
    standard_source_title,
)
from geoplan.vocab import DEFAULT_UNIT

if TYPE_CHECKING:
    from geoplan.coverage.chunks import CityView
    from geoplan.coverage.city_facts import CityFacts
    from geoplan.layers.layerset import LayerSet
    from geoplan.network import Snapped


logger = logging.getLogger(__name__)

__all__ = ["TABLE_COLUMNS", "ChunkMeasure", "measure_chunk", "run_coverage", "run_standards"]

TABLE_COLUMNS = COVERAGE_TABLE.names
"""Columns of :attr:`CoverageResult.table` (see :data:`geoplan.results.COVERAGE_TABLE`)."""

def run_standards(standards: Sequence[Standard | str] | None) -> list[Standard]:
    """The standards a run measures: catalog ids resolved, radii checked, each once."""
    if standards is None:
        return resolve_standards(None)
    ids = [s for s in standards if isinstance(s, str)]
    resolved = iter(resolve_standards(ids)) if ids else iter(())
    out = [next(resolved) if isinstance(s, str) else s for s in standards]
    unique: dict[str, Standard] = {}
    for s in out:
        if not isinstance(s, Standard):
            raise StandardError(f"not a standard: {s!r}")
        if s.radius_m is not None and not s.radius_m > 0:
            raise StandardError(f"standard {s.id!r}: radius_m must be > 0, got {s.radius_m}")
        for rule in s.radius_rule or ():
            if not rule.radius_m > 0:
                raise StandardError(f"standard {s.id!r}: radius_rule radius must be > 0")
        if s.id in unique:
            logger.warning("standard %s is listed twice: measured once", s.id)
        else:
            unique[s.id] = s
    return list(unique.values())


def _kind_column(rows: gpd.GeoDataFrame, layer: str) -> np.ndarray:
    if "kind" in rows.columns:
        return rows["kind"].astype(str).to_numpy()
    if "levels" in rows.columns:
        return rows["levels"].astype(str).to_numpy()
    return np.full(len(rows), layer.rstrip("s"), dtype=object)


def run_coverage(
    layerset: LayerSet,
    standards: Sequence[Standard | str] | None = None,
    demand_settings: DemandSettings | None = None,
    *,
    progress: bool = False,
    reached_edges: str = "auto",
    store: GeometryStore | None = None,
    facts: CityFacts | None = None,
) -> CoverageResult:
    """Measure every standard in every district by buffer, walking network and population.

    Parameters
    ----------
    layerset
        A :class:`~geoplan.layers.LayerSet` (canonical layers in a projected CRS, clipped to the
        context area).
    standards
        :class:`~geoplan.standards.Standard` objects or catalog ids; None means the whole
        default catalog.
    demand_settings
        The config's ``demand`` section (grid spacing, street sampling step, snapping limit,
        population source); defaults when None.
    progress
        Show a progress bar over the standards.
    reached_edges
        Whether :attr:`CoverageResult.reached` keeps the walked network edge by edge: ``all``,
        ``none``, or ``auto`` (up to
        :data:`~geoplan.coverage.reached.REACHED_EDGES_AUTO_MAX` walking-graph edges). The
        reach areas are always made; ``meta['reached_edges']`` says what was kept.
    store
        Where the large frames (:data:`geoplan.results.coverage.ON_DISK`) go as each
        standard finishes, so that a whole city's do not stay in memory; None keeps them in
        memory. Either way the result reads the same.
    facts
        When ``layerset`` holds some of a city's districts (a job of ``geoplan batch``): the
        whole city's figures they take as they are (:func:`geoplan.coverage.city_facts.city_facts`:
        which basket items have data, the units' census residents), so that each district
        reads as in the whole city's run.

    Returns
    -------
    CoverageResult

    Raises
    ------
    geoplan._errors.ConfigError
        For an unknown standard id or an invalid field (radius <= 0) given by id.
    geoplan._errors.StandardError
        For a standard object with a radius <= 0 or a filter on a missing column.
    geoplan._errors.InputDataError
        For an unusable population raster.
    """
    check_projected_crs(layerset.crs, "layer set")
    return _run(layerset, run_standards(standards), demand_settings or DemandSettings(),
                progress=progress, reached_edges=reached_edges, store=store, facts=facts).result


@dataclass
class ChunkMeasure:
    """One chunk of a city's districts measured (:func:`measure_chunk`), to be put together
    with the others (:mod:`geoplan.coverage.chunked`).

    Attributes
    ----------
    result
        The chunk's coverage, its frames in the store; its facilities frame counts only the
        access points the chunk owns, and it has no people (see ``people``).
    facility_rows
        Per row block of ``result.facilities``: (standard id, facility set position, the
        facilities' rows in the chunk's layer), in the frame's order.
    people
        What the people step needs of the chunk (:class:`~geoplan.coverage.people.PeopleInputs`),
        or None without people.
    population
        The chunk's population weights without the weights (source, note, residents, the
        census note's sums).
    """

    result: CoverageResult
    facility_rows: list[tuple[str, int, np.ndarray]]
    people: PeopleInputs | None
    population: PopulationWeights | None


def measure_chunk(layerset: LayerSet, stds: list[Standard], settings: DemandSettings,
                  city: CityView, store: GeometryStore) -> ChunkMeasure:
    """Measure one chunk of a city's districts (``layerset`` holds them and their margin) as
    the whole city's run measures them; see :mod:`geoplan.coverage.chunked`."""
    check_projected_crs(layerset.crs, "layer set")
    run = _run(layerset, stds, settings, progress=False, reached_edges="none", store=store,
               city=city)
    pop = run.population
    if pop is not None:  # the weights stay with the chunk
        run.population = PopulationWeights(np.zeros(0), pop.source, pop.note, pop.people,
                                           pop.residents, pop.cover_sums)
    return run


def log_cpu_and_memory(what: str, timer: Timer) -> None:
    """Log CPU seconds and resident memory by sub-step of ``timer``."""
    logger.info("%s CPU and memory by sub-step: %s", what,
                ", ".join(f"{k} {v:.1f} CPU s" + (f" {timer.rss_mb[k]:.0f} MB" if k in timer.rss_mb
                                                  else "") for k, v in timer.cpu.items()))


def _run(layerset: LayerSet, stds: list[Standard], settings: DemandSettings, *, progress: bool,
         reached_edges: str, store: GeometryStore | None, city: CityView | None = None,
         facts: CityFacts | None = None) -> ChunkMeasure:
    """:func:`run_coverage` (of one chunk of a city's districts, with ``city``): the result,
    with what :mod:`geoplan.coverage.chunked` needs of a chunk."""
    timer = Timer()
    eng = CoverageContext(layerset, settings, {s.demand for s in stds}, timer, city, facts)
    n_edges = eng.graph.n_edges if eng.graph is not None else 0
    acc = _Collected(keep_reached=keep_reached_edges(reached_edges, n_edges),
                     schools=frozenset(s.id for s, _, _ in school_standards(stds)),
                     store=store)
    names = eng.districts["district"].astype(str).to_numpy()
    acc.chosen = _snap_facilities(eng, stds)
    timer.lap("snap facilities")
    with tqdm(total=len(stds), desc="coverage", unit="standard", disable=not progress) as bar:
        for group in _pass_groups(stds, {k: len(d) for k, d in eng.demand.items()}):
            # the group's standards on the network (city-wide), then one pass over the
            # districts for all of them (each district's pieces built once), then each
            # standard's tables and areas
            plans = [_plan_standard(eng, std, acc, timer) for std in group]
            measured = measure_districts(eng, [p.work for p in plans], names, store)
            timer.lap("gaps")
            for plan, got in zip(plans, measured, strict=True):
                _finish_standard(eng, plan, got, acc, timer)
                bar.update()
            del plans, measured
    result, people = _assemble(eng, stds, acc, timer, reached_edges)
    # a chunk's lines are its own; the city's come from geoplan.coverage.chunked
    what = "coverage" if city is None else f"coverage chunk {city.chunk + 1}"
    logger.info("%s: %d standards × %d districts in %.1f s (%s)", what, len(stds), eng.n_d,
                sum(timer.timings.values()),
                ", ".join(f"{k} {v:.1f} s" for k, v in timer.timings.items()))
    log_cpu_and_memory(what, timer)
    return ChunkMeasure(result, acc.facility_rows, people, eng.population)


@dataclass
class _Collected:
    """What the standards of one run add up, assembled into the result at the end."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[pd.DataFrame] = field(default_factory=list)
    street_gaps: list[pd.DataFrame] = field(default_factory=list)
    # (standard, item, pieces) per facility set and radius, kept only for the edge-by-edge
    # reached layer (keep_reached): arrays, lines built when needed
    reached: list[tuple[str, str, ReachedPieces]] = field(default_factory=list)
    keep_reached: bool = True
    n_reached: int = 0
    facilities: list[gpd.GeoDataFrame] = field(default_factory=list)
    # (standard, set position, layer rows) of each block of ``facilities``
    facility_rows: list[tuple[str, int, np.ndarray]] = field(default_factory=list)
    items: list[pd.DataFrame] = field(default_factory=list)
    item_gaps: list[pd.DataFrame] = field(default_factory=list)
    off_network: dict[str, int] = field(default_factory=dict)
    # the school standards' buffer fractions and walking flags, for the people step (only
    # theirs: one float and one flag per home piece and standard add up in a city)
    covers: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    schools: frozenset[str] = frozenset()
    walk_bands: list[gpd.GeoDataFrame] = field(default_factory=list)
    # each standard's reach areas, made once it is walked (the same edges in the same order
    # as from the whole run's reached edges)
    reach_areas: list[gpd.GeoDataFrame] = field(default_factory=list)
    # with a store, the frames above go to disk as they are added (geoplan.coverage.on_disk)
    store: GeometryStore | None = None
    # each standard's facility sets as chosen (and snapped) before the first pass, by
    # standard and set position; each taken when its standard is measured
    chosen: dict[tuple[str, int], tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]] = field(
        default_factory=dict)


@dataclass
class _Sets:
    """One standard's facility sets, measured: buffers, walking flags, facility counts."""

    buffers: list[BufferSet] = field(default_factory=list)
    covered: list[np.ndarray] = field(default_factory=list)
    bands: list[np.ndarray] = field(default_factory=list)
    items: list[tuple[FacilitySet, int]] = field(default_factory=list)
    # per item: whether the data hold it (near these districts, or anywhere in the input)
    has_data: list[bool] = field(default_factory=list)
    # (standard, item, pieces) per facility set and radius, for the standard's reach areas
    reached: list[tuple[str, str, ReachedPieces]] = field(default_factory=list)

    @property
    def n_facilities(self) -> int:
        return sum(n for _, n in self.items)


def _facility_rows(eng: CoverageContext, std: Standard, fs: FacilitySet
                   ) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """The facilities of one set of ``std`` with a radius, as reached (outlines or points),
    their radii and their row positions in the layer."""
    layer = eng.layers[fs.layer]
    chosen = np.flatnonzero(fs.select(layer))
    rows_fs = layer.iloc[chosen].reset_index(drop=True)
    radii = std.radii_for(rows_fs).astype(float)
    keep = np.isfinite(radii) & (radii > 0)
    rows_fs, radii = rows_fs.loc[keep].reset_index(drop=True), radii[keep]
    rows_fs = as_reached(rows_fs, fs.reached_from_for(eng.layers.reached_from))
    return rows_fs, radii, chosen[keep]


def _snap_facilities(eng: CoverageContext, stds: list[Standard]
                     ) -> dict[tuple[str, int], tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]]:
    """Every standard's facility sets (:func:`_facility_rows`, by standard and set position),
    snapped now; then the graph's snapping indexes are freed.

    Snapping needs the indexes; the district passes, where the step's memory peaks, do not.
    """
    chosen = {(std.id, k): _facility_rows(eng, std, fs)
              for std in stds for k, fs in enumerate(std.facility_sets)}
    if eng.graph is None:
        return chosen
    for std in stds:
        for k, fs in enumerate(std.facility_sets):
            rows_fs, _, rows = chosen[(std.id, k)]
            if len(rows_fs):
                eng.access(set_key(fs, rows), rows_fs, fs, rows)
    eng.graph.drop_snapping_indexes()
    return chosen


def _measure_sets(eng: CoverageContext, std: Standard, acc: _Collected, timer: Timer) -> _Sets:
    """Buffers and walking coverage of each facility set (basket item) of ``std``."""
    out = _Sets()
    for k, fs in enumerate(std.facility_sets):
        rows_fs, radii, chosen = acc.chosen.pop((std.id, k))
        item = fs.item
        # a chunk of a city (or a batch job) counts the city's facilities: an item with none
        # near the chunk still has data
        n_set = eng.facility_count(std.id, k, len(rows_fs))
        # none near these districts but some elsewhere in the input: a gap, not missing data
        in_data = n_set > 0 or eng.in_input(std, k)
        if not in_data and eng.city is None:  # a city in chunks says so once, for the city
            logger.warning("standard %s: no data for %s (no %s facility in the input)",
                           std.id, fs.said, fs.layer)
        elif n_set == 0 and eng.city is None:
            logger.info("standard %s: no %s facility near the districts (the input has some "
                        "farther away): it scores 0", std.id, fs.said)
        out.buffers.append(BufferSet(rows_fs.geometry.to_numpy(), radii))
        out.items.append((fs, n_set))
        out.has_data.append(in_data)
        timer.lap("buffers")
        key = set_key(fs, chosen)
        cov, reached = eng.covered(std.demand, key, rows_fs, radii, fs, chosen)
        out.covered.append(cov)
        out.bands.append(eng.bands[(std.demand, key)])
        out.reached += [(std.id, item, pieces) for pieces in reached]
        if acc.keep_reached:  # the edge-by-edge layer: every standard's until the end
            acc.reached += [(std.id, item, pieces) for pieces in reached]
        acc.n_reached += sum(len(p) for p in reached)
        fac = _facility_frame(std.id, item, fs.layer, rows_fs, radii, eng, key)
        acc.facilities.append(fac)
        acc.facility_rows.append((std.id, k, chosen))
        n_off = int((fac["n_access"] == 0).sum()) if eng.graph is not None else len(fac)
        if n_off and eng.city is None:  # a chunk counts only its own access points
            acc.off_network[f"{std.id}/{item}"] = n_off
            logger.info("standard %s: %d of %d %s facilities have no access point within "
                        "reach of a walkway: they count for the straight-line share only",
                        std.id, n_off, len(fac), item)
        timer.lap("network")
    return out


FRACTIONS_PER_PASS = 12
"""Standards share a district pass while their fraction arrays (one per standard, one more
per item of a basket: 8 bytes per demand piece each) are at most this many, or at most
:data:`FRACTION_BYTES_PER_PASS`; the 5-minute life circle alone has 12."""

FRACTION_BYTES_PER_PASS = 64e6
"""... or while those arrays hold at most this many bytes. A pass rebuilds each district's
pieces, so fewer passes cost less: the 16-tile city's coverage in one pass instead of five
took 61.7–63.4 CPU s instead of 65.0–72.0 (each extra pass builds about 140,000 home pieces
and 250,000 street pieces again). A chunk of a larger city (about 40,000 pieces) has one pass,
which saved nothing measurable at 196 tiles; a city measured whole near the chunking size
keeps passes of about 12."""


def _pass_groups(stds: list[Standard], pieces: Mapping[str, int] | None = None
                 ) -> list[list[Standard]]:
    """The standards in order, cut into groups that share one district pass; ``pieces``:
    demand pieces of each demand kind (None: grouped by count alone)."""
    groups: list[list[Standard]] = []
    held, held_bytes = FRACTIONS_PER_PASS, np.inf
    for std in stds:
        n = 1 + (len(std.facility_sets) if std.basket or len(std.facility_sets) > 1 else 0)
        size = 8.0 * n * pieces.get(std.demand, 0) if pieces is not None else np.inf
        if held + n > FRACTIONS_PER_PASS and held_bytes + size > FRACTION_BYTES_PER_PASS:
            groups.append([])
            held, held_bytes = 0, 0.0
        groups[-1].append(std)
        held, held_bytes = held + n, held_bytes + size
    return groups


@dataclass(eq=False)
class _Planned:
    """One standard measured on the network, waiting for the district pass."""

    std: Standard
    sets: _Sets
    flags: BasketFlags
    work: DistrictWork


def _plan_standard(eng: CoverageContext, std: Standard, acc: _Collected,
                   timer: Timer) -> _Planned:
    """Buffers, walking coverage and reach areas of one standard, city-wide (before the
    district pass)."""
    dem = eng.demand[std.demand]
    sets = _measure_sets(eng, std, acc, timer)
    # its reach areas now, its lines built for them only: the reached pieces are then freed,
    # never held through the district pass (in a city each item of a basket walks most of
    # the graph)
    acc.reach_areas += hold([reach_areas(_reach_area_lines(eng, sets.reached), [std.id],
                                         eng.crs, eng.districts)], acc.store, eng.crs)
    timer.lap("reach areas")
    sets.reached = []
    items = sets.items
    has_data = np.array(sets.has_data, dtype=bool)
    # k of "at least k of n": the config's min_items, else all but one of the items with data
    k = std.min_items if std.min_items is not None else default_min_items(int(has_data.sum()))
    flags = basket_flags(np.array(sets.covered).reshape(len(items), len(dem)), has_data, max(k, 1))
    # a single facility with no data still scores its 0 (and is named); a basket leaves
    # the items without data out and names them
    if std.basket:
        used = [b for b, ok in zip(sets.buffers, has_data, strict=True) if ok]
        covered = flags.all_of
    else:
        used, covered = sets.buffers, sets.covered[0]
    # the items measured on their own (each item of a basket with data; a single item reuses
    # the standard's fraction); the items of street demand are not measured on their own
    own = {j: sets.buffers[j] for j in range(len(items))
           if has_data[j] and (std.basket or len(items) > 1) and not dem.is_linear}
    work = DistrictWork(std.id, std.demand, used, covered, own)
    return _Planned(std, sets, flags, work)


def _finish_standard(eng: CoverageContext, plan: _Planned, measured: Measured,
                     acc: _Collected, timer: Timer) -> None:
    """Items, table rows and walk bands of one standard, added to ``acc``."""
    std, sets, flags, covered = plan.std, plan.sets, plan.flags, plan.work.covered
    dem, dsnap = eng.demand[std.demand], eng.snapped[std.demand]
    names = eng.districts["district"].astype(str).to_numpy()
    pop = eng.population
    items, frac = sets.items, measured.frac
    if not dem.is_linear:
        fracs = item_fractions(sets.has_data, None if std.basket else frac,
                               measured.item_frac.__getitem__)
        irows = item_rows(std, dem, items, sets.has_data, fracs, sets.covered, pop, names,
                          eng.n_d)
        acc.items.append(irows)
        if std.basket:
            acc.item_gaps += hold(item_gaps(std, eng.land, dem, _weights(eng), items,
                                            sets.buffers, fracs, irows, names), acc.store, eng.crs)
    timer.lap("items")
    new_rows = _table_rows(std, dem, dsnap, frac, covered, pop, names, eng.n_d, sets.n_facilities)
    # by Chinese name: a standard of one kind of facility by its own (not its layer, 'toilets')
    no_data = join_items(item_name(std, fs)
                         for (fs, _), ok in zip(items, sets.has_data, strict=True) if not ok)
    k_of_n = district_share_pair(flags.at_least_k, dem, pop, eng.n_d)
    for i, r in enumerate(new_rows):
        r.update({"n_items": len(items), "min_items": flags.k, "items_no_data": no_data,
                  "share_min_items_network": k_of_n[0][i],
                  "share_min_items_population_network": k_of_n[1][i]})
    acc.rows += new_rows
    if dem.is_linear:
        acc.street_gaps += measured.gaps  # held (on disk with a store) by the district pass
    else:
        if std.id in acc.schools:
            acc.covers[std.id] = (frac, covered)
        acc.gaps += measured.gaps
        if not std.basket:
            acc.walk_bands += hold([walk_band_frame(std.id, dem, sets.bands[0], eng.land, names,
                                                    eng.settings.grid_m, eng.band_layout)],
                                   acc.store, eng.crs)
            timer.lap("walk bands")
    timer.lap("gaps")


def _assemble(eng: CoverageContext, stds: list[Standard], acc: _Collected,
              timer: Timer, reached_setting: str = "auto",
              ) -> tuple[CoverageResult, PeopleInputs | None]:
    """The coverage result from what the standards added up; reach areas and people last
    (for a chunk of a city, what the people step needs of it instead)."""
    pop = eng.population
    table = pd.DataFrame(acc.rows, columns=TABLE_COLUMNS)
    _add_inside(table, eng.districts)  # how much of the district the figures cover
    table["target_year"] = table["target_year"].astype("Int64")
    dshares = district_share_columns(eng.districts, table, stds)
    held = acc.store is None
    areas = _concat_reach_areas(acc.reach_areas if held else [], eng.crs)
    # the edge-by-edge lines only when the result keeps them (gpkg.reached_edges)
    reached = _reached_lines(eng, acc.reached if acc.keep_reached else [])
    acc.reached.clear()
    eng.free_reached()
    timer.lap("reach areas")
    result = CoverageResult(
        table=table,
        gaps=rank_gaps(acc.gaps if held else [], eng.crs),
        reached=reached,
        facilities=_concat(acc.facilities, FACILITIES.names, eng.crs),
        districts=dshares,
        street_gaps=rank_street_gaps(acc.street_gaps if held else [], eng.crs),
        reach_areas=areas,
        items=_items_frame(acc.items, eng.districts),
        item_gaps=item_gap_frame(acc.item_gaps if held else [], eng.crs),
        walk_bands=_concat(acc.walk_bands if held else [], WALK_BANDS.names, eng.crs),
        meta={
            "population_source": pop.source if pop else None,
            "population_note": pop.note if pop else None,
            "population_people": bool(pop.people) if pop else False,
            "residents": pop.residents if pop else None,
            "graph": eng.graph.summary() if eng.graph is not None else None,
            "snapping": {k: s.counts() for k, s in eng.snapped.items()},
            "demand_points": {k: len(d) for k, d in eng.demand.items()},
            "facilities_off_network": acc.off_network,
            "reached_edges": {"kept": acc.keep_reached, "rows": acc.n_reached,
                              "setting": reached_setting},
            "timings": timer.timings,
            "unit": getattr(eng.layers, "unit", DEFAULT_UNIT),
        },
    )
    if acc.store is not None:
        _keep_on_disk(result, acc, eng.crs, acc.store)
    acc.reach_areas.clear()
    timer.lap("assemble")
    inputs = None
    if eng.city is None:
        result.people = measure_people(eng, stds, acc.covers)
    else:
        inputs = people_inputs(eng, stds, acc.covers, eng.city.row_of.get("schools"),
                               eng.city.district_positions)
    timer.lap("people")
    return result, inputs


def district_share_columns(districts: gpd.GeoDataFrame, table: pd.DataFrame,
                           stds: list[Standard]) -> gpd.GeoDataFrame:
    """The districts with ``share_buffer__<id>`` and ``share_network__<id>`` of every standard
    (:attr:`CoverageResult.districts`)."""
    names = districts["district"].astype(str).to_numpy()
    out = districts.copy()
    for std in stds:
        sub = table[table["standard"] == std.id].set_index("district")
        out[f"share_buffer__{std.id}"] = sub["share_buffer"].reindex(names).to_numpy()
        out[f"share_network__{std.id}"] = sub["share_network"].reindex(names).to_numpy()
    return out


def _keep_on_disk(result: CoverageResult, acc: _Collected, crs: Any,
                  store: GeometryStore) -> None:
    """The frames ``acc`` wrote to ``store``, held by ``result`` on disk, in the same order
    and ranks as in memory."""
    result.keep_on_disk("gaps", on_disk(acc.gaps, GAP_COLUMNS, crs, store, "area_m2"))
    result.keep_on_disk("street_gaps", on_disk(acc.street_gaps, STREET_GAP_COLUMNS, crs, store,
                                               "length_m"))
    result.keep_on_disk("item_gaps", on_disk(acc.item_gaps, ITEM_GAPS.names, crs, store))
    result.keep_on_disk("walk_bands", on_disk(acc.walk_bands, WALK_BANDS.names, crs, store))
    result.keep_on_disk("reach_areas", on_disk(acc.reach_areas, REACH_AREAS.names, crs, store))
    acc.gaps, acc.street_gaps, acc.item_gaps, acc.walk_bands = [], [], [], []


def _items_frame(items: list[pd.DataFrame], districts: pd.DataFrame) -> pd.DataFrame:
    """The item rows of every standard, with the area of their district inside the data."""
    if not items:
        return pd.DataFrame(columns=ITEMS.names)
    out = pd.concat(items, ignore_index=True)
    _add_inside(out, districts)
    return out[ITEMS.names]


def _add_inside(table: pd.DataFrame, districts: pd.DataFrame) -> None:
    """Add ``inside_km2`` and ``inside_share`` of each row's district to ``table`` (NaN unknown)."""
    names = districts["district"].astype(str)
    for col in ("inside_km2", "inside_share"):
        values = districts[col] if col in districts else pd.Series(np.nan, index=districts.index)
        table[col] = table["district"].astype(str).map(dict(zip(names, values, strict=True)))


def _concat(frames: list[gpd.GeoDataFrame], cols: list[str], crs: Any) -> gpd.GeoDataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    df = pd.concat(frames, ignore_index=True)
    return geo_frame(df[cols], df.geometry.to_numpy(), crs)


def _reached_lines(eng: CoverageContext, sets: list[tuple[str, str, ReachedPieces]]
                   ) -> gpd.GeoDataFrame:
    """The reached lines of ``sets`` (:data:`geoplan.results.REACHED`), built from the graph."""
    return reached_frame(eng.graph.edge_geometry if eng.graph is not None else None, sets,
                         eng.crs, eng.simple_edges)


def _reach_area_lines(eng: CoverageContext, sets: list[tuple[str, str, ReachedPieces]]
                 ) -> gpd.GeoDataFrame:
    """The lines a reach area buffers: each standard's reached stretches, items merged."""
    if eng.graph is None:
        return _reached_lines(eng, [])
    return _reached_lines(eng, merged_by_standard(sets, eng.graph.edge_length))


def _concat_reach_areas(frames: list[gpd.GeoDataFrame], crs: Any) -> gpd.GeoDataFrame:
    """The reach areas of every standard, in order (:data:`geoplan.results.REACH_AREAS`)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return reach_areas(reached_frame(None, [], crs), [], crs)
    out = pd.concat(frames, ignore_index=True)
    return geo_frame(out[REACH_AREAS.names], out.geometry.to_numpy(), crs)


def _facility_frame(sid: str, item: str, layer: str, rows: gpd.GeoDataFrame, radii: np.ndarray,
                    eng: CoverageContext, key: str) -> gpd.GeoDataFrame:
    geoms = rows.geometry.to_numpy()
    pts = shapely.point_on_surface(geoms) if len(geoms) else geoms
    district = np.full(len(pts), "", dtype=object)
    if len(pts):
        di, pi = shapely.STRtree(pts).query(eng.districts.geometry.to_numpy(), predicate="intersects")
        district[pi] = eng.districts["district"].astype(str).to_numpy()[di]
    n_access = np.zeros(len(pts), dtype=np.int64)
    if key in eng._access and len(pts):
        owner, snapped = eng._access[key]
        counted = snapped.ok
        owned = eng.owned_access(key)
        if owned is not None:  # a chunk of a city: the points it owns
            counted = counted & owned
        n_access = np.bincount(owner[counted], minlength=len(pts)).astype(np.int64)
    return geo_frame({
        "standard": sid, "item": item, "layer": layer,
        "source_id": (rows["source_id"].astype(str).to_numpy() if "source_id" in rows.columns
                      else np.full(len(rows), "", dtype=object)),
        "name": rows["name"].astype(str).to_numpy() if len(rows) else np.zeros(0, dtype=object),
        "kind": _kind_column(rows, layer), "radius_m": radii, "district": district,
        "n_access": n_access,
    }, pts, eng.crs)


def _table_rows(std: Standard, dem: Demand, dsnap: Snapped, frac: np.ndarray, covered: np.ndarray,
                pop: PopulationWeights | None, names: np.ndarray, n_d: int,
                n_fac: int) -> list[dict[str, Any]]:
    d = dem.district
    total = district_totals(dem.amount, d, n_d)
    buf = district_shares(dem.amount, d, frac, n_d)
    net = district_shares(dem.amount, d, covered, n_d)
    unreachable = np.bincount(d[~dsnap.ok], minlength=n_d) if len(d) else np.zeros(n_d, int)
    sources = np.full(n_d, "none (street length)" if dem.is_linear else "none", dtype=object)
    pbuf = pnet = upop = np.full(n_d, np.nan)
    if not dem.is_linear and pop is not None:
        # relative weights (floor or land area) are not people: the columns stay empty
        sources[:] = pop.source
        if pop.people:
            known = np.bincount(d[np.isfinite(pop.weights)], minlength=n_d) > 0
            ptotal = district_totals(pop.weights, d, n_d)
            has = known & (ptotal > 0)
            pbuf = np.where(has, district_shares(pop.weights, d, frac, n_d), np.nan)
            pnet = np.where(has, district_shares(pop.weights, d, covered, n_d), np.nan)
            upop = np.where(has, uncovered_amount(ptotal, pbuf), np.nan)
            sources[~known] = "none"
    uncovered = uncovered_amount(total, buf)
    radius: Any = (std.radius_m if not std.radius_rule
                   else "/".join(f"{r.radius_m:g}" for r in std.radius_rule))
    rows = []
    for i in range(n_d):
        rows.append({
            "district": names[i], "standard": std.id, "name_zh": std.name_zh,
            "name_en": std.name_en, "radius_m": radius, "target": std.target,
            "demand_kind": std.demand, "demand_total": float(total[i]), "demand_unit": dem.unit,
            "n_facilities": n_fac, "share_buffer": buf[i], "share_network": net[i],
            "share_population_buffer": pbuf[i], "share_population_network": pnet[i],
            "meets_target": bool(np.isfinite(buf[i]) and buf[i] >= std.target - 1e-9),
            "uncovered_area_m2": np.nan if dem.is_linear else uncovered[i],
            "uncovered_population": upop[i], "unreachable_points": int(unreachable[i]),
            "population_source": sources[i],
            "uncovered_length_m": uncovered[i] if dem.is_linear else np.nan,
            "target_year": std.target_year, "pack": std.pack or "",
            "source_title": standard_source_title(std),
        })
    return rows


def _weights(eng: CoverageContext) -> np.ndarray:
    """Population weight of each residential piece (its area when there is no population)."""
    dem = eng.demand["residential"]
    return eng.population.weights if eng.population is not None else dem.amount
