"""The whole analysis as one function: what ``geoplan run`` and ``geoplan batch`` execute.

layers → dead ends → coverage → site suggestions → tables → meeting map → reports, into one
folder (a small run writes its tables, its one-page map and its reports at the same time).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geoplan._child import in_child, in_children
from geoplan._io import check_output_folder, write_csv, write_gpkg
from geoplan._memory import release_free_memory, status_mb
from geoplan._outdir import OutputRun
from geoplan._processes import can_fork, combined_peak_mb, cpu_seconds
from geoplan._progress import set_progress
from geoplan._threads import thread_count
from geoplan.config import AnalysisConfig
from geoplan.data_checks import data_checks, write_data_checks
from geoplan.layers.load import LayerSet, district_summary, load_layers
from geoplan.results import CoverageResult, DeadEndResult, RunResult, SiteResult
from geoplan.results._spill import GeometryStore
from geoplan.standards import Standard, check_config_standards

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import geopandas as gpd
    import pandas as pd

    from geoplan.coverage.city_facts import CityFacts

logger = logging.getLogger(__name__)

STEPS = ("layers", "coverage", "sites", "deadends", "map", "report")
"""The steps of :func:`run_analysis`, in order."""


def run_analysis(
    config: AnalysisConfig,
    out: str | Path | None = None,
    *,
    steps: tuple[str, ...] = STEPS,
    progress: bool = False,
    map_options: dict[str, Any] | None = None,
    baseline: str | Path | None = None,
    command: str = "run",
    facts: CityFacts | None = None,
) -> RunResult:
    """Run the analysis of ``config`` and write every output into ``out``.

    The folder ends up holding this run's files and nothing else, with ``run.json``
    describing them; it is written as a whole at the end (see :class:`geoplan._outdir.OutputRun`),
    so a failed, interrupted or killed run leaves the previous content as it was, and a second
    run into the same folder at the same time stops at once.

    Parameters
    ----------
    config
        A validated analysis config.
    out
        Output folder (default: the config's ``output``); checked writable before any work.
    steps
        Which of :data:`STEPS` to run. The layers are always loaded; ``layers.gpkg`` and
        ``layers.csv`` are written with ``layers`` only (a batch job that needs only its
        coverage leaves them out: 17 GeoPackage layers a district).
    progress
        Show progress bars.
    map_options
        Keyword arguments for :func:`geoplan.report.maps.write_maps` (lang, tiles, …); its
        ``lang`` is the reports' language too.
    baseline
        An older OSM extract: dead-end progress (opened 断头路) is measured against it.
    command
        The command name recorded in ``run.json``.
    facts
        When ``config`` includes some of a city's districts (a job of ``geoplan batch``): the
        whole city's figures they take as they are
        (:func:`geoplan.coverage.city_facts.city_facts`).

    Raises
    ------
    geoplan._outdir.OutputBusyError
        If another run is writing into the same folder.
    """
    unknown = set(steps) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown steps {sorted(unknown)}; choose from {STEPS}")
    standards = check_config_standards(config)
    target = check_output_folder(Path(out) if out else config.output)
    extra = [("baseline", Path(baseline))] if baseline else []
    # the scenarios of the same analysis stay: `geoplan run` measures today again, the same
    # today they were compared with (a run of a changed config drops them with the rest)
    with OutputRun(target, command=command, config=config, extra_inputs=extra,
                   keep_scenarios=True) as staging:
        result = _run_steps(config, staging.path, standards, steps=steps, progress=progress,
                            map_options=map_options, baseline=baseline, facts=facts)
        result.written = staging.commit(result.written)
    result.out = target
    return result


def _run_steps(
    config: AnalysisConfig,
    out_dir: Path,
    standards: list[Standard],
    *,
    steps: tuple[str, ...],
    progress: bool,
    map_options: dict[str, Any] | None,
    baseline: str | Path | None,
    facts: CityFacts | None = None,
) -> RunResult:
    """Every step of :func:`run_analysis`, writing into ``out_dir`` (the staging folder)."""
    set_progress(progress)
    step_peak_rss_mb()  # start the per-step high-water marks (and CPU clock) here
    _CPU["last"] = cpu_seconds()
    clock = time.perf_counter()
    told_datum = facts.datum if facts is not None else None
    layerset = load_layers(config, datum_check=told_datum is None, part_of_city=facts is not None)
    if told_datum is not None:  # a batch job: the whole city's check, as geoplan run makes it
        layerset.datum = told_datum
    if facts is not None:
        layerset.overlaps = facts.overlaps
    result = RunResult(config, out_dir, layerset, standards)
    result.summary = district_summary(layerset)
    if "layers" in steps:
        from geoplan.report.qgis_styles import styler

        result.written += [write_gpkg(layerset.layers, out_dir / "layers.gpkg",
                                      styles=styler(unit=layerset.unit)),
                           write_csv(result.summary, out_dir / "layers.csv")]
    if len(layerset.issues):
        result.written.append(write_csv(layerset.issues, out_dir / "layer_issues.csv"))
    _lap(result, "layers", clock)

    result.coverage, result.deadends, result.sites = compute_results(
        config, layerset, standards=standards, steps=steps, progress=progress, baseline=baseline,
        timings=result.timings, spill_dir=out_dir, facts=facts)
    clock = time.perf_counter()
    # a city's tables are written side by side in forked processes, which start from what
    # this process holds: the layers no later step reads are let go first
    side_by_side = _walkway_count(layerset) >= TABLES_SIDE_BY_SIDE_MIN_WALKWAYS
    _drop_undrawn_layers(layerset, written="layers" in steps)
    cpu = cpu_seconds()
    gap_places, checks, other_tables = _tables_the_drawings_read(result, out_dir,
                                                                 side_by_side=side_by_side)
    coverage = result.coverage
    drawings: list[tuple[str, Callable[[], list[Path]]]] = []
    if "map" in steps and coverage is not None:
        def draw_map() -> list[Path]:
            from geoplan.report.maps import write_maps

            return write_maps(layerset, coverage, result.deadends, config, out_dir,
                              sites=result.sites, checks=checks, **(map_options or {}))

        drawings.append(("map", draw_map))
    if "report" in steps and coverage is not None:
        def draw_reports() -> list[Path]:
            from geoplan.report.html import write_reports

            reports = write_reports(layerset, coverage, result.deadends, config, out_dir,
                                    progress=progress, sites=result.sites, checks=checks,
                                    gap_places=gap_places,
                                    lang=(map_options or {}).get("lang", "zh"),
                                    map_link="map" in steps)
            return [Path(p) for p in _paths(reports)]

        drawings.append(("report", draw_reports))
    if len(drawings) == 2 and thread_count() > 1 and can_fork() and _one_page_map(
            layerset, coverage, config, map_options):
        head_start = (time.perf_counter() - clock, cpu_seconds() - cpu)
        _write_side_by_side(result, [("tables", other_tables), *drawings], clock, head_start)
    else:
        result.written += other_tables()
        clock = _lap(result, "tables", clock)
        for step, draw in drawings:
            result.written += draw()
            clock = _lap(result, step, clock)
    return result


def _one_page_map(layerset: LayerSet, coverage: CoverageResult | None, config: AnalysisConfig,
                  map_options: dict[str, Any] | None) -> bool:
    """Whether the meeting map is one page (not an index with a page per district), as
    :func:`geoplan.report.maps.write_maps` will decide."""
    from geoplan.report.map_size import map_budget_mb, needs_index

    budget = map_budget_mb(config, (map_options or {}).get("max_mb"))
    return not needs_index(layerset, coverage, budget, say=False)


def _write_side_by_side(result: RunResult, steps: list[tuple[str, Callable[[], list[Path]]]],
                        start: float, head_start: tuple[float, float]) -> None:
    """The tables, the meeting map and the reports of a small run, each written in a forked
    process of its own at the same time; each step's line says its own time, CPU and peak.

    A one-page map keeps one core busy, and no step reads what another writes: what the map
    and the reports read of the tables (where each gap is, the data checks) was made before,
    in ``head_start`` (wall and CPU seconds, counted in the first step's line), and the
    reports' index is told that the map is being drawn. A map with a page per district
    spreads its pages over the cores already (:func:`geoplan._processes.process_map`): then
    the steps run one after the other.
    """

    def timed(write: Callable[[], list[Path]]) -> Callable[[], tuple[list[Path], float, float,
                                                                       float | None]]:
        def run() -> tuple[list[Path], float, float, float | None]:
            wall, cpu = time.perf_counter(), cpu_seconds()
            step_peak_rss_mb()
            written = write()
            return (written, time.perf_counter() - wall, cpu_seconds() - cpu,
                    step_peak_rss_mb(reset=False))
        return run

    done = in_children([timed(write) for _, write in steps],
                       lambda i: f"writing the {steps[i][0]}", _SIDE_BY_SIDE_FIX,
                       at_once=len(steps))
    for i, ((step, _), (written, wall, cpu, peak)) in enumerate(zip(steps, done, strict=True)):
        if i == 0:
            wall, cpu = wall + head_start[0], cpu + head_start[1]
        result.written += written
        result.timings[step] = wall
        _say_step(step, wall, cpu, peak, "written side by side")
    release_free_memory()
    step_peak_rss_mb()
    _CPU["last"] = cpu_seconds()
    logger.info("%s written side by side in %.1f s", ", ".join(s for s, _ in steps),
                time.perf_counter() - start)


_SIDE_BY_SIDE_FIX = ("run again with GEOPLAN_THREADS=1 to write the tables, the map and the "
                     "reports one after the other")


def _drop_undrawn_layers(layerset: LayerSet, *, written: bool = True) -> None:
    """In a city large enough to be measured in chunks (:data:`CHUNK_MIN_WALKWAYS` walkways),
    the layers neither the tables nor a later step read are let go.

    The map and the reports draw only :data:`geoplan.report._map_index.DRAWN_LAYERS`; the
    walking graph, buildings, residential land, railways, waterways and entrances are in
    ``layers.gpkg`` and were held to the end of the run (about 380 MB at 196 tiles of the
    embedded extract, when the map's workers need the room).
    """
    from geoplan.coverage.chunked import CHUNK_MIN_WALKWAYS

    if _walkway_count(layerset) < CHUNK_MIN_WALKWAYS:
        return
    # imported only here: the map's modules take about a second to import (folium), which a
    # batch worker running only the coverage step never needs
    from geoplan.report._map_index import DRAWN_LAYERS

    dropped = [k for k in layerset.layers if k not in DRAWN_LAYERS]
    layerset.layers = {k: v for k, v in layerset.layers.items() if k in DRAWN_LAYERS}
    logger.info("let go of the layers no later step reads (%s)%s", ", ".join(dropped),
                "; they are in layers.gpkg" if written else "")


def _walkway_count(layerset: LayerSet) -> int:
    walkways = layerset.layers.get("walkways")
    return 0 if walkways is None else len(walkways)


def write_tables(result: RunResult, out_dir: Path, *, side_by_side: bool | None = None,
                 ) -> tuple[pd.DataFrame | None, gpd.GeoDataFrame]:
    """The run's tables: coverage, ``gaps.csv``, sites, dead ends and the data checks.

    Writes into ``out_dir`` and adds each file to ``result.written``. ``coverage.gpkg`` and
    ``gaps.csv`` are written side by side in forked processes when ``side_by_side`` is true
    (None: from :data:`TABLES_SIDE_BY_SIDE_MIN_WALKWAYS` walkways on in the layers).

    Returns
    -------
    gap_places, checks
        :func:`geoplan.locate.locate` of the coverage's gaps (None without gaps), for the
        workbook; and the data checks (:func:`geoplan.data_checks.data_checks`).
    """
    gap_places, checks, rest = _tables_the_drawings_read(result, out_dir, side_by_side=side_by_side)
    result.written += rest()
    return gap_places, checks


def _tables_the_drawings_read(result: RunResult, out_dir: Path, *, side_by_side: bool | None
                              ) -> tuple[pd.DataFrame | None, gpd.GeoDataFrame,
                                         Callable[[], list[Path]]]:
    """``gaps.csv`` written now, with where each gap is, and the data checks: what the map
    and the reports read (see :func:`write_tables`); and the writing of the other tables
    (``coverage.gpkg``, unless written beside ``gaps.csv``, sites, dead ends, data checks),
    which returns their files and may run beside the drawing."""
    from geoplan.coverage.output import write_coverage

    layerset = result.layerset
    roads = layerset.layers.get("roads")
    gap_places = None  # where each gap is: for gaps.csv and again for the workbook
    coverage = result.coverage
    coverage_files: list[Path] | None = None
    if coverage is not None:
        jobs: list[Callable[[], Any]] = []
        if len(coverage.attributes("gaps")):
            jobs.append(lambda: _write_gaps_csv(coverage, roads, out_dir / "gaps.csv"))
        if side_by_side is None:
            side_by_side = _walkway_count(layerset) >= TABLES_SIDE_BY_SIDE_MIN_WALKWAYS
        if side_by_side and jobs:
            jobs.append(lambda: _paths(write_coverage(coverage, out_dir)))
            done = in_children(jobs, lambda i: ("writing gaps.csv", "writing coverage.gpkg")[i],
                               _TABLES_FIX, at_once=thread_count())
            coverage_files = [Path(p) for p in done[1]]
        else:
            done = [job() for job in jobs]
        if done:
            gap_places, gaps_csv = done[0]
            result.written.append(gaps_csv)
    checks = data_checks(layerset, result.coverage, result.deadends, result.standards,
                         layerset.datum, layerset.overlaps)

    def rest() -> list[Path]:
        from geoplan.deadends import write_deadends
        from geoplan.report.qgis_styles import styler

        written: list[Path] = []
        if coverage is not None:
            written += (coverage_files if coverage_files is not None
                        else [Path(p) for p in _paths(write_coverage(coverage, out_dir))])
        if result.sites is not None:
            sites = result.sites.table
            written += [write_gpkg({"suggested_sites": sites}, out_dir / "sites.gpkg",
                                   styles=styler(unit=layerset.unit)),
                        write_csv(located_table(sites, roads), out_dir / "sites.csv")]
        if result.deadends is not None:
            written += [Path(p) for p in _paths(write_deadends(result.deadends, out_dir))]
        return written + write_data_checks(checks, out_dir, unit=layerset.unit)

    return gap_places, checks, rest


TABLES_SIDE_BY_SIDE_MIN_WALKWAYS = 50_000
"""From this many walkway features on, ``coverage.gpkg`` and ``gaps.csv`` are written side by
side, each in a forked process of its own (:func:`geoplan._child.in_children`): the two take
about the same time in a city (the GeoPackage 60 %, the located gaps 40 % of the tables step
at 64 tiles of the embedded extract), and each reads the coverage's frames from disk on its
own. A smaller run writes them one after the other (a fork costs more than it saves)."""

_TABLES_FIX = "run again with GEOPLAN_THREADS=1 to write the tables one at a time"


def _write_gaps_csv(coverage: CoverageResult, roads: gpd.GeoDataFrame | None, target: Path
                    ) -> tuple[pd.DataFrame, Path]:
    """``gaps.csv``, where each gap is with it, a block of gaps at a time (a city's gaps are
    never read whole); returns where each gap is (:func:`geoplan.locate.locate`, for the
    workbook) and the file."""
    import pandas as pd

    from geoplan.locate import located_blocks

    places: list[pd.DataFrame] = []

    def tables() -> Iterator[pd.DataFrame]:
        for gaps, inside, where in located_blocks(coverage.in_blocks("gaps"), roads):
            places.append(where)
            yield located_table(gaps, roads, places=where, points=inside)

    path = write_csv(tables(), target)
    return pd.concat(places), path


SPILL_MIN_WALKWAYS = 20_000
"""From this many walkway features on (about 8 tiles of the embedded extract) a run holds the
coverage's gaps, street gaps, item gaps, walk bands and reach areas on disk as each standard
finishes. Below it they are tens of MB, and writing their shapes to disk and reading them back
for the tables, the map and the reports cost the default run (2,251 walkways) more than
holding them."""

CHILD_COVERAGE_MIN_WALKWAYS = 50_000
"""From this many walkway features on (about 100,000 graph edges), with its large frames
spilled to disk, coverage is measured in a forked process (:func:`geoplan._child.in_child`):
the demand, the graph and the district passes' freed memory go back to the system when it
ends, instead of staying with the run through the map and the reports (1M-edge city: the
steps after coverage started from about 2.3 GB)."""


def compute_results(
    config: AnalysisConfig,
    layerset: LayerSet,
    *,
    standards: list[Standard] | None = None,
    steps: tuple[str, ...] = ("coverage", "sites", "deadends"),
    progress: bool = False,
    baseline: str | Path | None = None,
    timings: dict[str, float] | None = None,
    spill_dir: str | Path | None = None,
    facts: CityFacts | None = None,
) -> tuple[CoverageResult | None, DeadEndResult | None, SiteResult | None]:
    """Dead ends, coverage and suggested sites of an analysis (nothing is written).

    The one place the analysis steps are sequenced: ``geoplan run``, ``map`` and ``report``
    all come here. Steps not in ``steps`` give None; sites need coverage. Seconds per step are
    added to ``timings`` when given. With ``spill_dir`` the coverage's large frames of a city
    (from :data:`SPILL_MIN_WALKWAYS` walkways on) are held on disk there, in an unnamed file
    that goes when the result goes (:meth:`geoplan.results.CoverageResult.keep_on_disk`); a
    smaller area's, and any without ``spill_dir``, in memory. A city's
    coverage (see :data:`CHILD_COVERAGE_MIN_WALKWAYS`) is measured in a forked process; a
    larger city's (:data:`geoplan.coverage.chunked.CHUNK_MIN_WALKWAYS`) chunk by chunk, each
    chunk of districts in a forked process of its own. ``facts``: the whole city's figures
    when ``layerset`` holds some of its districts (see :func:`run_analysis`).
    """
    from geoplan.coverage import run_coverage
    from geoplan.coverage.chunked import CHUNK_MIN_WALKWAYS, run_coverage_chunked
    from geoplan.deadends.run import deadends_for_config
    from geoplan.layers.checks import require_walkways
    from geoplan.siting import suggest_sites

    standards = standards if standards is not None else check_config_standards(config)
    timings = timings if timings is not None else {}
    coverage: CoverageResult | None = None
    deadends: DeadEndResult | None = None
    sites: SiteResult | None = None
    clock = time.perf_counter()
    if "deadends" in steps:
        # first: they free the OSM context features read with the layers (noexit nodes,
        # gates, closed grounds), which would otherwise stay through coverage and sites
        deadends = deadends_for_config(config, layerset, baseline_path=baseline)
        clock = _tick(timings, "deadends", clock)
    if "coverage" in steps:
        require_walkways(layerset, config)
        walkways = len(layerset["walkways"])
        store = (GeometryStore(spill_dir) if spill_dir is not None
                 and walkways >= SPILL_MIN_WALKWAYS else None)

        def measure() -> CoverageResult:
            return run_coverage(layerset, standards, config.demand, progress=progress,
                                reached_edges=config.gpkg.reached_edges, store=store, facts=facts)

        if store is not None and walkways >= CHUNK_MIN_WALKWAYS:
            coverage = run_coverage_chunked(layerset, standards, config.demand, store,
                                            reached_edges=config.gpkg.reached_edges,
                                            progress=progress, facts=facts)
        if coverage is None and store is not None and walkways >= CHILD_COVERAGE_MIN_WALKWAYS:
            coverage = in_child(measure, "measuring coverage",
                                "try a coarser demand grid (demand.grid_m) or fewer districts "
                                "at a time")
        elif coverage is None:
            coverage = measure()
        from geoplan.indicators import measure_indicators

        coverage.indicators = measure_indicators(layerset, coverage.meta.get("residents"),
                                                 {str(k): v for k, v in config.indicators.items()})
        clock = _tick(timings, "coverage", clock)
    if "sites" in steps and coverage is not None:
        sites = suggest_sites(coverage, standards)
        clock = _tick(timings, "sites", clock)
    return coverage, deadends, sites


_CPU = {"last": cpu_seconds()}


def _tick(timings: dict[str, float], step: str, start: float) -> float:
    now = time.perf_counter()
    timings[step] = now - start
    cpu = cpu_seconds()
    release_free_memory()  # the next step's peak starts from what is in use
    peak = step_peak_rss_mb()
    if peak is not None:  # with what forked workers and children held (an upper bound)
        peak = combined_peak_mb(peak)
    held = status_mb("VmRSS")
    _say_step(step, now - start, cpu - _CPU["last"], peak,
              f"held after {'?' if held is None else f'{held:.0f}'} MB")
    _CPU["last"] = cpu_seconds()
    return time.perf_counter()


def _say_step(step: str, wall: float, cpu: float, peak: float | None, tail: str) -> None:
    """A step's log line, as the benchmarks read it: ``<step> done in … s (CPU … s, peak RSS
    … MB, <tail>)``."""
    logger.info("%s done in %.1f s (CPU %.1f s, peak RSS %s MB, %s)", step, wall, cpu,
                "?" if peak is None else f"{peak:.0f}", tail)


def step_peak_rss_mb(reset: bool = True) -> float | None:
    """Peak resident memory of this process since the last reset, in MB (Linux only).

    Reads ``VmHWM`` from ``/proc/self/status`` and, with ``reset``, resets the high-water
    mark (``/proc/self/clear_refs``), so that each step's log line shows that step's own peak.
    None where the kernel does not offer this.
    """
    hwm = status_mb("VmHWM")
    if hwm is None:
        return None
    if reset:
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
                fh.write("5")
        except OSError:
            pass
    return hwm


def _lap(result: RunResult, step: str, start: float) -> float:
    return _tick(result.timings, step, start)


def located_table(gdf: Any, roads: Any, *, places: Any = None, points: Any = None) -> Any:
    """``gdf`` as a plain table for CSV: its columns, the point it is found at in the analysis
    CRS (``x``, ``y``, metres), in WGS 84, GCJ-02 and BD-09 (each column named with its datum),
    and the nearest named street (see :func:`geoplan.locate.locate`; ``places`` is its answer
    for ``gdf`` and ``points`` the point inside each feature, when already known)."""
    import shapely

    from geoplan.locate import locate

    if points is None:
        points = shapely.point_on_surface(gdf.geometry.to_numpy())
    table = gdf.drop(columns="geometry").assign(x=shapely.get_x(points).round(1),
                                                y=shapely.get_y(points).round(1))
    return table.join(places if places is not None else locate(gdf, roads, points=points))


def _paths(value: Any) -> list[Any]:
    if isinstance(value, dict):
        out: list[Any] = []
        for item in value.values():
            out += _paths(item)
        return out
    if isinstance(value, list | tuple):
        return [p for item in value for p in _paths(item)]
    return [value]
