"""The whole analysis as one function: what ``geoplan run`` and ``geoplan batch`` execute.

layers → coverage → site suggestions → dead ends → meeting map → reports, into one folder.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoplan._io import ensure_writable_dir, write_csv, write_gpkg
from geoplan.config import AnalysisConfig
from geoplan.layers.load import LayerSet, district_summary, load_layers
from geoplan.standards import Standard, check_config_standards

logger = logging.getLogger(__name__)

STEPS = ("layers", "coverage", "sites", "deadends", "map", "report")
"""The steps of :func:`run_analysis`, in order."""


@dataclass
class RunResult:
    """What one analysis run produced.

    Attributes
    ----------
    layerset, coverage, deadends, sites
        The in-memory results (see :mod:`geoplan.layers`, :mod:`geoplan.coverage`,
        :mod:`geoplan.deadends`, :mod:`geoplan.siting`).
    written
        Every file written, in order.
    timings
        Seconds per step.
    """

    config: AnalysisConfig
    out: Path
    layerset: LayerSet
    standards: list[Standard]
    coverage: Any = None
    deadends: Any = None
    sites: Any = None
    summary: Any = None
    written: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def run_analysis(
    config: AnalysisConfig,
    out: str | Path | None = None,
    *,
    steps: tuple[str, ...] = STEPS,
    progress: bool = False,
    map_options: dict[str, Any] | None = None,
    baseline: str | Path | None = None,
) -> RunResult:
    """Run the analysis of ``config`` and write every output into ``out``.

    Parameters
    ----------
    config
        A validated analysis config.
    out
        Output folder (default: the config's ``output``); checked writable before any work.
    steps
        Which of :data:`STEPS` to run (``layers`` always runs).
    progress
        Show progress bars.
    map_options
        Keyword arguments for :func:`geoplan.report.maps.write_map` (lang, tiles, …).
    baseline
        An older OSM extract: dead-end progress (opened 断头路) is measured against it.
    """
    from geoplan.coverage.output import write_coverage
    from geoplan.deadends import write_deadends

    unknown = set(steps) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown steps {sorted(unknown)}; choose from {STEPS}")
    standards = check_config_standards(config)
    out_dir = ensure_writable_dir(Path(out) if out else config.output)

    clock = time.perf_counter()
    layerset = load_layers(config)
    result = RunResult(config, out_dir, layerset, standards)
    result.summary = district_summary(layerset)
    result.written += [write_gpkg(layerset.layers, out_dir / "layers.gpkg"),
                       write_csv(result.summary, out_dir / "layers.csv")]
    if len(layerset.issues):
        result.written.append(write_csv(layerset.issues, out_dir / "layer_issues.csv"))
    _lap(result, "layers", clock)

    result.coverage, result.deadends, result.sites = compute_results(
        config, layerset, standards=standards, steps=steps, progress=progress, baseline=baseline,
        timings=result.timings)
    clock = time.perf_counter()
    roads = layerset.layers.get("roads")
    if result.coverage is not None:
        result.written += [Path(p) for p in _paths(write_coverage(result.coverage, out_dir))]
        if result.coverage.gaps is not None and len(result.coverage.gaps):
            result.written.append(write_csv(located_table(result.coverage.gaps, roads),
                                            out_dir / "gaps.csv"))
    if result.sites is not None:
        sites = result.sites.table
        result.written += [write_gpkg({"suggested_sites": sites}, out_dir / "sites.gpkg"),
                           write_csv(located_table(sites, roads), out_dir / "sites.csv")]
    if result.deadends is not None:
        result.written += [Path(p) for p in _paths(write_deadends(result.deadends, out_dir))]
    clock = _lap(result, "tables", clock)
    if "map" in steps and result.coverage is not None:
        from geoplan.report.maps import write_map

        result.written.append(Path(write_map(layerset, result.coverage, result.deadends, config, out_dir,
                                             sites=result.sites, **(map_options or {}))))
        clock = _lap(result, "map", clock)
    if "report" in steps and result.coverage is not None:
        from geoplan.report.html import write_reports

        reports = write_reports(layerset, result.coverage, result.deadends, config, out_dir,
                                progress=progress, sites=result.sites)
        result.written += [Path(p) for p in _paths(reports)]
        clock = _lap(result, "report", clock)
    return result


def compute_results(
    config: AnalysisConfig,
    layerset: LayerSet,
    *,
    standards: list[Standard] | None = None,
    steps: tuple[str, ...] = ("coverage", "sites", "deadends"),
    progress: bool = False,
    baseline: str | Path | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[Any, Any, Any]:
    """Coverage, dead ends and suggested sites of an analysis, in memory (nothing is written).

    The one place the analysis steps are sequenced: ``geoplan run``, ``map`` and ``report``
    all come here. Steps not in ``steps`` give None; sites need coverage. Seconds per step are
    added to ``timings`` when given.
    """
    from geoplan.coverage import run_coverage
    from geoplan.deadends.run import deadends_for_config
    from geoplan.siting import suggest_sites

    standards = standards if standards is not None else check_config_standards(config)
    timings = timings if timings is not None else {}
    coverage = deadends = sites = None
    clock = time.perf_counter()
    if "coverage" in steps:
        coverage = run_coverage(layerset, standards, config.demand, progress=progress)
        clock = _tick(timings, "coverage", clock)
    if "sites" in steps and coverage is not None:
        sites = suggest_sites(coverage, standards)
        clock = _tick(timings, "sites", clock)
    if "deadends" in steps:
        # noexit nodes, gates and closed grounds come from the OSM file, as in every command
        deadends = deadends_for_config(config, layerset, baseline_path=baseline)
        clock = _tick(timings, "deadends", clock)
    return coverage, deadends, sites


def _tick(timings: dict[str, float], step: str, start: float) -> float:
    now = time.perf_counter()
    timings[step] = now - start
    logger.info("%s done in %.1f s", step, now - start)
    return now


def _lap(result: RunResult, step: str, start: float) -> float:
    return _tick(result.timings, step, start)


def located_table(gdf: Any, roads: Any) -> Any:
    """``gdf`` as a plain table for CSV: its columns, the point it is found at in the analysis
    CRS (``x``, ``y``, metres), in WGS 84, GCJ-02 and BD-09 (each column named with its datum),
    and the nearest named street (see :func:`geoplan.locate.locate`)."""
    from geoplan.locate import locate

    pts = gdf.geometry.representative_point()
    table = gdf.drop(columns="geometry").assign(x=pts.x.round(1), y=pts.y.round(1))
    return table.join(locate(gdf, roads))


def _paths(value: Any) -> list[Any]:
    if isinstance(value, dict):
        out: list[Any] = []
        for item in value.values():
            out += _paths(item)
        return out
    if isinstance(value, list | tuple):
        return [p for item in value for p in _paths(item)]
    return [value]
