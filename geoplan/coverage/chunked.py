"""A whole city's coverage measured chunk by chunk, each chunk in a process of its own.

:func:`run_coverage_chunked` cuts the districts into chunks (:func:`geoplan.coverage.chunks.plan_chunks`),
tells each what it must know of the city (:class:`~geoplan.coverage.chunks.CityView`),
measures each in a forked process that ends with it (:func:`geoplan._child.in_children`,
one per core at a time: the chunk's demand, graph and district passes go back to the system),
and puts the chunks' results together in the order and ranks of the whole city's run. What a
run holds at once is then a chunk's per core, not the city's: at 196 tiles of the embedded
extract the whole city's coverage held 2.1 GB before its first standard.

The figures are those of the whole run (``tests/test_chunked.py`` compares them), with three
notes: a school's seats are shared among the children of every chunk (the two-step catchment
runs once, on every chunk's pairs); each facility's access points are counted once, by the
chunk of the district nearest each point; and ``meta['reached_edges']['rows']`` counts the
pieces each chunk walked, those in two chunks' margins twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._child import in_child, in_children
from geoplan._frames import geo_frame
from geoplan._threads import thread_count
from geoplan.config import DemandSettings
from geoplan.coverage.census_areas import census_unit_figures
from geoplan.coverage.chunks import (
    CityView,
    chunk_layers,
    chunk_margin,
    city_access,
    district_order,
    facility_counts,
    in_input,
    main_nodes,
    plan_chunks,
    subset_layerset,
)
from geoplan.coverage.context import Timer
from geoplan.coverage.demand import residential_grid, residential_land
from geoplan.coverage.engine import (
    TABLE_COLUMNS,
    ChunkMeasure,
    district_share_columns,
    log_cpu_and_memory,
    measure_chunk,
    run_standards,
)
from geoplan.coverage.gaps import GAP_COLUMNS, STREET_GAP_COLUMNS
from geoplan.coverage.on_disk import on_disk
from geoplan.coverage.people import PeopleInputs, people_result
from geoplan.coverage.population import (
    SourceChoice,
    building_cover_sums,
    census_note,
    choose_source,
)
from geoplan.coverage.reached import reached_frame
from geoplan.crs import check_projected_crs
from geoplan.results import FACILITIES, ITEM_GAPS, ITEMS, REACH_AREAS, WALK_BANDS, CoverageResult
from geoplan.results._spill import SpilledFrame
from geoplan.vocab import DEFAULT_UNIT

if TYPE_CHECKING:
    from geoplan.coverage.city_facts import CityFacts
    from geoplan.layers.layerset import LayerSet
    from geoplan.results._spill import GeometryStore
    from geoplan.standards import Standard

logger = logging.getLogger(__name__)

__all__ = ["CHUNK_MIN_WALKWAYS", "run_coverage_chunked"]

CHUNK_MIN_WALKWAYS = 80_000
"""From this many walkway features on (about 34 tiles of the embedded extract, 160,000 graph
edges), ``geoplan run`` measures the coverage chunk by chunk."""

_FIX = ("run again with GEOPLAN_THREADS=1 to measure one chunk at a time, or try a coarser "
        "demand grid (demand.grid_m)")


def run_coverage_chunked(layerset: LayerSet, standards: Sequence[Standard | str] | None,
                         settings: DemandSettings | None,
                         store: GeometryStore, *, budget: int | None = None,
                         reached_edges: str = "auto", progress: bool = False,
                         facts: CityFacts | None = None) -> CoverageResult | None:
    """The coverage of a whole city, measured chunk by chunk (see the module notes).

    Parameters
    ----------
    layerset
        The city's layers.
    standards
        :class:`~geoplan.standards.Standard` objects or catalog ids (None: the default
        catalog), as :func:`~geoplan.coverage.run_coverage` takes them.
    settings
        The config's demand settings (defaults when None).
    store
        Where the chunks' large frames go (a chunk's process writes them there).
    budget
        Walkways per chunk (:data:`~geoplan.coverage.chunks.CHUNK_WALKWAYS` when None).
    reached_edges
        The config's ``gpkg.reached_edges``; the chunks never keep the edge-by-edge layer.
    progress
        Show a progress bar over the chunks.
    facts
        The whole city's figures when ``layerset`` holds some of its districts (a batch
        job), as :func:`~geoplan.coverage.run_coverage` takes them.

    Returns
    -------
    CoverageResult or None
        None when the city cannot be measured in chunks: one chunk only, the edge-by-edge
        reached layer asked for (``all``), or relative weights by building floor area (a
        building off residential land gives its floor to the nearest home piece of the whole
        city); the caller then measures the city whole.
    """
    from geoplan.coverage.chunks import CHUNK_WALKWAYS

    check_projected_crs(layerset.crs, "layer set")
    timer = Timer()
    settings = settings or DemandSettings()
    stds = run_standards(standards)
    districts = layerset.districts.reset_index(drop=True)
    chunks = plan_chunks(districts, layerset["walkways"], budget or CHUNK_WALKWAYS)
    if len(chunks) < 2 or reached_edges == "all":
        return None
    margin = chunk_margin(layerset, settings.max_snap_m)
    parts = chunk_layers(layerset, chunks, margin)
    timer.lap("chunk layers")
    choice = None
    if any(s.demand == "residential" for s in stds):
        choice = choose_source(lambda: districts["district"].astype(str).tolist(), settings,
                               lambda: census_unit_figures(
                                   layerset, settings, facts.census if facts is not None else None))
        if choice.source == "auto":
            choice = _settle(choice, layerset, parts, settings, progress)
        if choice.source == "buildings":
            logger.info("coverage measured whole, not in chunks: weights by building floor "
                        "area give the floor of a building off residential land to the "
                        "nearest home piece of the whole city")
            return None
    timer.lap("population source")
    logger.info("coverage in %d chunks of districts (%s districts each; margin %.0f m)",
                len(chunks), "–".join(str(f(len(c) for c in chunks)) for f in (min, max)),
                margin)
    counts = facility_counts(layerset, stds)
    if facts is not None:  # a batch job's districts count the whole city's facilities
        counts = {key: facts.facility_counts.get(key, n) for key, n in counts.items()}
    # the sets with no facility in the city: whether the input holds one farther away
    present = {(std.id, k): in_input(layerset, std, fs) for std in stds
               for k, fs in enumerate(std.facility_sets) if counts[(std.id, k)] == 0}
    for std in stds:
        for k, fs in enumerate(std.facility_sets):
            if not present.get((std.id, k), True):
                logger.warning("standard %s: no data for %s (no %s facility in the input)",
                               std.id, fs.said, fs.layer)
    access = city_access(layerset, stds, chunks)
    timer.lap("access points")
    main, graph_summary = in_child(lambda: main_nodes(layerset["walkways"], layerset.districts),
                                   "building the city's walking graph", _FIX)
    timer.lap("city graph")
    def measure(c: int) -> Callable[[], ChunkMeasure]:
        area, rows = parts[c]
        view = CityView(c, chunks[c], rows, counts, choice, access, main, layerset.reached_from,
                        present)
        return lambda: measure_chunk(subset_layerset(layerset, area, rows), stds, settings,
                                     view, store)

    # one chunk per core (GEOPLAN_THREADS): a chunk's work is mostly Python holding its
    # process's lock between GEOS calls, and one chunk at a time kept 1.4 of 2 cores busy
    measured = in_children([measure(c) for c in range(len(parts))],
                           lambda c: f"measuring coverage chunk {c + 1} of {len(parts)}", _FIX,
                           at_once=thread_count(), desc="coverage chunks",
                           unit="chunk", show=progress or None)
    timer.lap("chunks")
    result = _merge(measured, parts, layerset, stds, settings, store, counts, choice,
                    graph_summary, reached_edges,
                    facts.school_children if facts is not None else None)
    timer.lap("merge")
    _log_timings(timer, result, stds, len(districts))
    return result


def _log_timings(timer: Timer, result: CoverageResult, stds: list[Standard], n_d: int) -> None:
    """The city's coverage line: the chunks' sub-steps added up, and what the city did around
    them (the chunks' own lines are logged by each)."""
    steps = {k: v for k, v in timer.timings.items() if k != "chunks"}
    chunk_steps = dict(result.meta["timings"])
    # what the chunks' processes spent beyond their sub-steps (forking, handing back)
    chunk_steps["chunk processes"] = max(
        timer.timings.get("chunks", 0.0) - sum(chunk_steps.values()), 0.0)
    whole = {**chunk_steps, **steps}
    logger.info("coverage: %d standards × %d districts in %.1f s (%s)", len(stds), n_d,
                sum(whole.values()), ", ".join(f"{k} {v:.1f} s" for k, v in whole.items()))
    log_cpu_and_memory("coverage (this process, around the chunks)", timer)


def _settle(choice: SourceChoice, layerset: LayerSet, parts: list[tuple[Any, dict[str, np.ndarray]]],
            settings: DemandSettings, progress: bool) -> SourceChoice:
    """``auto`` settled by the city's building coverage, added up chunk by chunk."""

    def sums(area: Any, rows: dict[str, np.ndarray]) -> tuple[float, float]:
        chunk = subset_layerset(layerset, area, rows)
        land = residential_land(chunk["residential"], chunk.districts)
        demand = residential_grid(chunk["residential"], chunk.districts, settings.grid_m,
                                  land=land)
        return building_cover_sums(demand, chunk["buildings"])

    def chunk_sums(c: int) -> Callable[[], tuple[float, float]]:
        return lambda: sums(*parts[c])

    weighed = in_children([chunk_sums(c) for c in range(len(parts))],
                          lambda c: f"weighing homes, chunk {c + 1} of {len(parts)}", _FIX,
                          at_once=thread_count(), desc="building coverage",
                          unit="chunk", show=progress or None)
    on, total = sum(a for a, _ in weighed), sum(b for _, b in weighed)
    settled = choice.settled(on / total if total else 0.0)
    logger.info("population source: %s (residential buildings on %.0f%% of the residential "
                "land)", settled.source, 100.0 * (on / total if total else 0.0))
    return settled


def _merge(measured: list[ChunkMeasure], parts: list[tuple[Any, dict[str, np.ndarray]]],
           layerset: LayerSet, stds: list[Standard], settings: DemandSettings,
           store: GeometryStore, counts: dict[tuple[str, int], int],
           choice: SourceChoice | None, graph_summary: dict[str, float],
           reached_setting: str, city_children: dict[str, dict[str, float]] | None = None
           ) -> CoverageResult:
    """The chunks' results as the whole city's run gives them."""
    districts = layerset.districts.reset_index(drop=True)
    crs = districts.crs
    dpos = district_order(districts["district"].astype(str))
    spos = {s.id: i for i, s in enumerate(stds)}
    ipos = {(s.id, fs.item): k for s in stds for k, fs in enumerate(s.facility_sets)}
    results = [m.result for m in measured]

    def keys(frame: pd.DataFrame, *extra: np.ndarray) -> np.ndarray:
        """Stable order by standard, the ``extra`` keys, then district."""
        std = frame["standard"].astype(str).map(spos).to_numpy(dtype=np.int64)
        dist = frame["district"].astype(str).map(dpos).to_numpy(dtype=np.int64)
        return np.lexsort((dist, *reversed(extra), std))

    table = pd.concat([r.table for r in results], ignore_index=True)
    table = table.iloc[keys(table)].reset_index(drop=True)
    n_fac = {s.id: sum(counts[(s.id, k)] for k in range(len(s.facility_sets))) for s in stds}
    table["n_facilities"] = table["standard"].map(n_fac).astype(table["n_facilities"].dtype)
    table = table[[*TABLE_COLUMNS, *[c for c in table.columns if c not in TABLE_COLUMNS]]]

    items = pd.concat([r.items for r in results], ignore_index=True)
    if len(items):
        item_k = np.array([ipos[(s, i)] for s, i in zip(items["standard"], items["item"],
                                                        strict=True)], dtype=np.int64)
        items = items.iloc[keys(items, item_k)].reset_index(drop=True)
    items = items[ITEMS.names]

    facilities = _facilities(measured, parts, stds, districts, crs)
    off = {}
    for (sid, item), n in (facilities.loc[facilities["n_access"] == 0]
                           .groupby(["standard", "item"], sort=False).size().items()):
        off[f"{sid}/{item}"] = int(n)
    pops = [m.population for m in measured if m.population is not None]
    residents = _residents(pops, districts)
    result = CoverageResult(
        table=table,
        gaps=results[0].gaps.iloc[:0],
        reached=reached_frame(None, [], crs),
        facilities=facilities,
        districts=district_share_columns(districts, table, stds),
        street_gaps=results[0].street_gaps.iloc[:0],
        reach_areas=results[0].reach_areas.iloc[:0],
        items=items,
        meta=_meta(measured, pops, residents, choice, settings, graph_summary, off,
                   reached_setting, len(parts)),
    )
    result.keep_on_disk("gaps", on_disk([r.held("gaps") for r in results], GAP_COLUMNS, crs,
                                        store, "area_m2"))
    result.keep_on_disk("street_gaps", on_disk([r.held("street_gaps") for r in results],
                                               STREET_GAP_COLUMNS, crs, store, "length_m"))

    def in_order(name: str, columns: list[str], extra: str | None = None) -> SpilledFrame:
        whole = on_disk([r.held(name) for r in results], columns, crs, store)
        if not len(whole):
            return whole
        attrs = whole.attrs
        more = []
        if extra == "item":
            more = [np.array([ipos[(s, i)] for s, i in zip(attrs["standard"], attrs["item"],
                                                           strict=True)], dtype=np.int64)]
        order = keys(attrs, *more)
        whole = whole.take(order)
        whole.attrs = whole.attrs.reset_index(drop=True)
        return whole

    result.keep_on_disk("item_gaps", in_order("item_gaps", ITEM_GAPS.names, "item"))
    result.keep_on_disk("walk_bands", in_order("walk_bands", WALK_BANDS.names))
    result.keep_on_disk("reach_areas", in_order("reach_areas", REACH_AREAS.names))
    people = [m.people for m in measured if m.people is not None]
    if people:
        result.people = people_result(PeopleInputs.concat(people, residents), stds, districts,
                                      layerset["schools"], layerset.reached_from, settings,
                                      city_children)
    return result


def _facilities(measured: list[ChunkMeasure], parts: list[tuple[Any, dict[str, np.ndarray]]],
                stds: list[Standard], districts: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    """Every facility once, in the whole run's order; access points added up over the chunks
    (each counted by one); the district it lies in among all the city's."""
    spos = {s.id: i for i, s in enumerate(stds)}
    layer_of = {(s.id, k): fs.layer for s in stds for k, fs in enumerate(s.facility_sets)}
    frames, key_s, key_k, key_row = [], [], [], []
    for m, (_, rows) in zip(measured, parts, strict=True):
        fac = m.result.facilities
        if not len(fac):
            continue
        frames.append(fac)
        for sid, pos, chosen in m.facility_rows:
            city = rows[layer_of[(sid, pos)]][np.asarray(chosen, dtype=np.int64)]
            key_s.append(np.full(len(city), spos[sid], dtype=np.int64))
            key_k.append(np.full(len(city), pos, dtype=np.int64))
            key_row.append(city)
    if not frames:
        return measured[0].result.facilities
    whole = pd.concat(frames, ignore_index=True)
    s, k, r = (np.concatenate(a) for a in (key_s, key_k, key_row))
    if len(s) != len(whole):
        raise AssertionError("facility rows and frames differ in length")
    order: np.ndarray = np.lexsort((r, k, s))
    s, k, r = s[order], k[order], r[order]
    whole = whole.iloc[order].reset_index(drop=True)
    first = np.r_[True, (s[1:] != s[:-1]) | (k[1:] != k[:-1]) | (r[1:] != r[:-1])]
    group = np.cumsum(first) - 1
    n_access = np.bincount(group, weights=whole["n_access"].to_numpy(dtype=float))
    out = whole.loc[first].reset_index(drop=True)
    out["n_access"] = n_access.astype(np.int64)
    pts = out.geometry.to_numpy()
    district = np.full(len(pts), "", dtype=object)
    if len(pts):
        di, pi = shapely.STRtree(pts).query(districts.geometry.to_numpy(), predicate="intersects")
        district[pi] = districts["district"].astype(str).to_numpy()[di]
    out["district"] = district
    return geo_frame(out[FACILITIES.names], out.geometry.to_numpy(), crs)


def _residents(pops: list[Any], districts: pd.DataFrame) -> pd.DataFrame | None:
    """The census estimate per district, the chunks' tables in the city's district order."""
    tables = [p.residents for p in pops if p.residents is not None]
    if not tables:
        return None
    whole = pd.concat(tables, ignore_index=True)
    order = whole["district"].astype(str).map(district_order(districts["district"].astype(str)))
    return whole.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


def _meta(measured: list[ChunkMeasure], pops: list[Any], residents: pd.DataFrame | None,
          choice: SourceChoice | None, settings: DemandSettings, graph: dict[str, float],
          off: dict[str, int], reached_setting: str, n_chunks: int) -> dict[str, Any]:
    """The whole run's ``meta`` from the chunks'."""
    metas = [m.result.meta for m in measured]
    note = pops[0].note if pops else None
    if pops and choice is not None and choice.source == "census":
        on = sum(p.cover_sums[0] for p in pops if p.cover_sums is not None)
        total = sum(p.cover_sums[1] for p in pops if p.cover_sums is not None)
        note = census_note(on / total if total else 0.0, float(settings.default_levels),
                           choice.figures is not None)
    snapping: dict[str, dict[str, int]] = {}
    demand_points: dict[str, int] = {}
    timings: dict[str, float] = {}
    rows = 0
    for meta in metas:
        for kind, counts in meta.get("snapping", {}).items():
            mine = snapping.setdefault(kind, {})
            for status, n in counts.items():
                mine[status] = mine.get(status, 0) + n
        for kind, n in meta.get("demand_points", {}).items():
            demand_points[kind] = demand_points.get(kind, 0) + n
        for step, sec in meta.get("timings", {}).items():
            timings[step] = timings.get(step, 0.0) + sec
        rows += meta.get("reached_edges", {}).get("rows", 0)
    return {
        "population_source": pops[0].source if pops else None,
        "population_note": note,
        "population_people": bool(pops[0].people) if pops else False,
        "residents": residents,
        "graph": graph or None,
        "snapping": snapping,
        "demand_points": demand_points,
        "facilities_off_network": off,
        "reached_edges": {"kept": False, "rows": rows, "setting": reached_setting},
        "timings": timings,
        "unit": metas[0].get("unit", DEFAULT_UNIT) if metas else DEFAULT_UNIT,
        "chunks": n_chunks,
    }
