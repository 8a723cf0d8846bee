"""The live scenario on the meeting map (挂图作战): place planned facilities, see shares at once.

In the meeting a planner picks a standard, switches on "规划设施" and clicks the map to place
planned facilities (drag to move, click to delete). The page (``assets/geoplan_scenario.js``)
recomputes each district's straight-line share at once, from what this module embeds:

* per standard whose facilities are points and whose demand is residential land, with one
  fixed radius (bus stops, schools, kindergartens, …), and per district: its residential
  demand (m²), its current straight-line share, and the uncovered residential land (the
  ``buffer`` gap polygons of the coverage result, which are residential land minus the
  served area, by exact overlay);
* the polygons in the analysis CRS, in units of 0.1 mm relative to one origin, polyline
  encoded; and a polynomial from WGS 84 to the analysis CRS (and back, for drawing), fitted
  here with pyproj and checked on a finer grid (its largest error is embedded).

Gap slivers under 1 m² (:data:`geoplan.coverage.gaps.MIN_GAP_AREA_M2`) are not in the result,
so the page cannot cover them: their area per district is embedded as ``lost_m2`` (0 on the
default run, where the page matches geoplan to about 1e-8).

The page adds, for each district, the area of (uncovered land ∩ union of the new facilities'
buffers) to the covered area. Each buffer is the same 128-gon shapely draws
(:data:`geoplan.vocab.QUAD_SEGS` segments per quarter circle), clipped exactly;
overlapping buffers are counted once by inclusion–exclusion. This is the figure
``geoplan scenario --planned`` gives for the exported CSV, to rounding (tested to 1e-6).

Standards with street-length demand (toilets), baskets (life circles), radius rules (park
size classes) and area facilities (parks, green space: a planned park needs its outline)
are left out; the panel says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import folium
import numpy as np
import numpy.typing as npt
import shapely
from branca.element import Figure, MacroElement
from jinja2 import Template
from pyproj import Transformer
from threadpoolctl import threadpool_limits

from geoplan._errors import ConfigError, StandardError
from geoplan._groups import frames_by
from geoplan.report._data import frame
from geoplan.report._labels import standard_name, unit_of
from geoplan.report._map_detail import current as current_detail
from geoplan.report._map_layers import polyline_runs, script_json
from geoplan.report._map_render import PlainRender, text_element
from geoplan.standards import (
    Standard,
    check_config_standards,
    planned_attributes,
    resolve_standards,
)
from geoplan.vocab import GEOMETRY, QUAD_SEGS

if TYPE_CHECKING:
    from geoplan.config import AnalysisConfig
    from geoplan.layers.layerset import LayerSet
    from geoplan.results import CoverageResult

logger = logging.getLogger(__name__)

__all__ = ["LiveScenario", "add_live_scenario", "eligible", "fit_projection",
           "planned_attributes", "scenario_js", "scenario_spec"]

UNIT_M = 1e-4
CITY_UNIT_M = 1e-2
"""The unit of the gap polygons on city-sized maps (see :mod:`geoplan.report._map_detail`)."""
"""Embedded coordinates are integers of this many metres (0.1 mm) from the origin."""

POLY_DEGREE = 5
"""Degree of the WGS 84 → analysis CRS polynomial (its error is far below 0.1 mm in a city)."""

MAX_FIT_ERROR_M = 1e-4
"""A projection fit worse than this is logged: the page's shares would drift from geoplan's."""


def eligible(std: Standard) -> str | None:
    """Why ``std`` cannot be placed live (a short reason), or None when it can.

    Placeable: one facility set of a layer of points (or points and outlines), residential
    demand, one fixed radius.
    """
    if std.demand != "residential":
        return "street"
    if std.basket:
        return "basket"
    if std.radius_rule or std.radius_m is None or not std.radius_m > 0:
        return "radius_rule"
    # a point layer, or one of points and outlines (schools): a planned one is a point
    if std.facility is None or GEOMETRY.get(std.facility.layer, "area") in ("line", "area"):
        return "area_facility"
    return None


def _monomials(u: npt.NDArray[np.float64], v: npt.NDArray[np.float64],
               degree: int) -> npt.NDArray[np.float64]:
    cols = [u ** (i - j) * v ** j for i in range(degree + 1) for j in range(i + 1)]
    return np.stack(cols, axis=1)


def fit_projection(crs: Any, bounds: Sequence[float], origin: Sequence[float],
                   degree: int = POLY_DEGREE) -> dict[str, Any]:
    """Polynomials between WGS 84 and ``crs`` over ``bounds`` (lon/lat), for the page.

    Forward: millimetres x − origin_x, y − origin_y from u = (lon − lon0)·10,
    v = (lat − lat0)·10; inverse: microdegrees lon − lon0, lat − lat0 from (x − origin)/1000
    (km). Both are least-squares fits of pyproj on a 41 × 41 grid; the coefficients are
    rounded to 6 decimals (1e-9 m, 1e-12°: like every number in the map, no more decimals
    than that), and the forward fit is checked, rounded, on a 57 × 57 grid in between.

    Returns
    -------
    dict
        ``lon0``, ``lat0``, ``deg``, ``fx``, ``fy`` (forward coefficients), ``ix``, ``iy``
        (inverse), ``err_m`` (largest forward error on the check grid, metres).
    """
    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    minx, miny, maxx, maxy = bounds
    lon0, lat0 = round((minx + maxx) / 2, 4), round((miny + maxy) / 2, 4)

    def grid(n: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        lon, lat = np.meshgrid(np.linspace(minx, maxx, n), np.linspace(miny, maxy, n))
        return lon.ravel(), lat.ravel()

    def coef(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.round(np.linalg.lstsq(a, b, rcond=None)[0], 6)

    lon, lat = grid(41)
    x, y = fwd.transform(lon, lat)
    x, y = np.asarray(x) - origin[0], np.asarray(y) - origin[1]
    clon, clat = grid(57)
    cx, cy = fwd.transform(clon, clat)
    # One BLAS thread for these small systems (1,681 × 21): with more, OpenBLAS's threads
    # spin-wait between the many small calls of the solver and cost far more CPU than the
    # fit itself (0.5 CPU s instead of 0.02 on two busy cores). Same coefficients either way.
    with threadpool_limits(limits=1, user_api="blas"):
        a = _monomials((lon - lon0) * 10, (lat - lat0) * 10, degree)
        fx, fy = coef(a, x * 1000), coef(a, y * 1000)
        b = _monomials(x / 1000, y / 1000, degree)
        ix, iy = coef(b, (lon - lon0) * 1e6), coef(b, (lat - lat0) * 1e6)
        ca = _monomials((clon - lon0) * 10, (clat - lat0) * 10, degree)
        err = float(np.max(np.hypot(ca @ fx / 1000 - (np.asarray(cx) - origin[0]),
                                    ca @ fy / 1000 - (np.asarray(cy) - origin[1]))))
    if err > MAX_FIT_ERROR_M:
        logger.warning("live scenario: the map's projection fit errs by up to %.2g m; placed "
                       "facilities' shares may differ from geoplan scenario's", err)
    return {"lon0": lon0, "lat0": lat0, "deg": degree, "err_m": float(f"{err:.1e}"),
            "fx": fx.tolist(), "fy": fy.tolist(), "ix": ix.tolist(), "iy": iy.tolist()}


def _encode_polygons(geoms: Any, origin: Sequence[float], unit: float = UNIT_M
                     ) -> list[list[str]]:
    """The polygons of ``geoms``, each a list of rings (exterior first), each polyline-encoded
    in ``unit`` metres (0.1 mm) from ``origin`` without its closing point (all rings in one
    pass)."""
    parts = shapely.get_parts(np.asarray(list(geoms), dtype=object))
    parts = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
    if not len(parts):
        return []
    rings, poly = shapely.get_rings(parts, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    counts = np.bincount(ring, minlength=len(rings))
    last = np.cumsum(counts) - 1
    keep = np.ones(len(xy), dtype=bool)
    keep[last] = False  # the closing point
    ints = np.rint((xy[keep] - np.asarray(origin)) / unit).astype(np.int64)
    enc = polyline_runs(ints, counts - 1)
    bounds = np.searchsorted(poly, np.arange(len(parts) + 1))
    return [enc[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]


def _standards(coverage_ids: list[str], config: AnalysisConfig | None) -> dict[str, Standard]:
    found: list[Standard] = []
    try:
        found = check_config_standards(config) if config is not None else []
    except (ConfigError, StandardError) as exc:  # the map still draws, without these
        logger.info("live scenario: the config's standards did not resolve (%s)", exc)
    known = {s.id: s for s in found}
    for sid in coverage_ids:
        if sid not in known:
            try:
                known[sid] = resolve_standards([sid])[0]
            except (ConfigError, StandardError):  # not in the catalog: not placed live
                continue
    return known


def scenario_spec(layerset: LayerSet, coverage: CoverageResult | None,
                  config: AnalysisConfig | None, lang: str,
                  order: Sequence[str]) -> dict[str, Any] | None:
    """The data the page's live scenario needs (see the module docstring); None without data."""
    table = frame(coverage, "table")
    if coverage is None or "standard" not in table.columns:
        return None
    crs = layerset.districts.crs
    if crs is None or not crs.is_projected:
        return None
    stds = _standards([str(s) for s in order], config)
    gaps = frame(coverage, "gaps")
    if len(gaps) and "view" in gaps.columns:
        gaps = gaps[gaps["view"] == "buffer"]
    dist = layerset.districts
    minx, miny, _, _ = dist.total_bounds
    origin = [float(np.floor(minx / 1000) * 1000), float(np.floor(miny / 1000) * 1000)]
    wgs = dist.to_crs("EPSG:4326").total_bounds
    pad = 0.03
    proj = fit_projection(crs, [wgs[0] - pad, wgs[1] - pad, wgs[2] + pad, wgs[3] + pad], origin)
    standards: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    # a city-sized map stores the gap polygons to 1 cm (an area error under 1e-4 of a gap's)
    unit = UNIT_M if current_detail().factor <= 1.0 else CITY_UNIT_M
    for sid in order:
        std = stds.get(sid)
        rows = table[table["standard"] == sid]
        if std is None or not len(rows):
            continue
        reason = eligible(std)
        if reason is not None:
            skipped[sid] = reason
            continue
        sgaps = gaps[gaps["standard"] == sid] if len(gaps) else gaps
        # each district's gaps, grouped once per standard
        gaps_of = frames_by(sgaps, sgaps["district"].astype(str)) if len(sgaps) else {}
        districts = []
        for _, row in rows.iterrows():
            name = str(row["district"])
            total = float(row["demand_total"])
            share = float(row["share_buffer"]) if np.isfinite(row["share_buffer"]) else 0.0
            polys: list[list[str]] = []
            mine = gaps_of.get(name, sgaps.iloc[:0])
            # gap slivers under 1 m² are not in the result: the page cannot cover them
            lost = float(np.nan_to_num(row["uncovered_area_m2"]))
            lost -= float(mine["area_m2"].sum()) if len(mine) else 0.0
            if len(mine):
                polys = _encode_polygons(mine.geometry, origin, unit)
            # m² to 1e-6 (no number in the map has more decimals): the page's share before
            # is covered / total, geoplan's to about 1e-12
            districts.append({"name": name, "total": round(total, 6),
                              "covered": round(share * total, 6), "gaps": polys,
                              "target": float(row["target"]), "lost_m2": round(max(lost, 0), 3)})
        assert std.facility is not None and std.radius_m is not None
        standards.append({
            "id": sid, "name": standard_name(dict(rows.iloc[0]), lang),
            "radius": float(std.radius_m), "layer": std.facility.layer,
            "attrs": planned_attributes(std), "districts": districts,
        })
    if not standards and not skipped:
        return None
    return {"unit": unit, "origin": origin, "segs": 4 * QUAD_SEGS, "proj": proj,
            "crs": crs.to_string(), "standards": standards, "skipped": skipped,
            "lang": "en" if lang == "en" else "zh", "unitWord": unit_of(layerset, coverage),
            # a scenario's map (geoplan.scenario.with_before): its figures are the scenario's
            "ofScenario": "share_buffer_before" in table.columns}


class LiveScenario(PlainRender, MacroElement):
    """Calls ``geoplan.liveScenario(map, spec)`` (the page's live scenario panel)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        geoplan.liveScenario({{ this._parent.get_name() }}, {{ this.spec_json }});
        {% endmacro %}
    """)

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__()
        self._name = "GeoplanLiveScenario"
        self.spec_json = script_json(dict(spec))


def scenario_js() -> str:
    """The live scenario's script, safe to put inside a ``<script>`` element."""
    from importlib import resources

    js = (resources.files("geoplan.report") / "assets" / "geoplan_scenario.js").read_text(
        encoding="utf-8")
    return js.replace("</script", "<\\/script")


def add_live_scenario(m: folium.Map, layerset: LayerSet, coverage: CoverageResult | None,
                      config: AnalysisConfig | None, lang: str, order: Sequence[str]) -> None:
    """Add the live scenario (script, panel and data) to the meeting map ``m``."""
    spec = scenario_spec(layerset, coverage, config, lang, order)
    if spec is None:
        return
    root = m.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(text_element(f"<script>{scenario_js()}</script>"),
                          name="geoplan_scenario_js")
    LiveScenario(spec).add_to(m)
