"""Load every layer an analysis needs: OSM and planners' files, projected, repaired and clipped."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._clip import parts_inside
from geoplan._errors import InputDataError
from geoplan._text import first_named
from geoplan._threads import prepared_for
from geoplan.config import AnalysisConfig
from geoplan.crs import resolve_analysis_crs
from geoplan.layers import cache
from geoplan.layers.checks import check_file_sources_inside
from geoplan.layers.districts import LEFT_OUT_ISSUE, clip_districts, declared_crs, read_districts
from geoplan.layers.file_datum import check_file_datum
from geoplan.layers.files import load_file_layer
from geoplan.layers.from_osm import osm_layers, tag_keys
from geoplan.layers.layerset import CONTEXT_MARGIN_M, LayerSet
from geoplan.layers.merge import merge_facilities, merge_points_by_source
from geoplan.layers.osm import (
    BOUNDARY_KEYS,
    CONTEXT_KEYS,
    CONTEXT_TABLES,
    CONTEXT_TAGS,
    OsmData,
    read_osm_sets,
)
from geoplan.layers.repair import IssueLog, repair
from geoplan.layers.rules import catalog_keys, load_catalog, reached_from
from geoplan.layers.schema import LAYER_ORDER, conform, empty_layer
from geoplan.vocab import GEOMETRY, LAYER_KINDS

logger = logging.getLogger(__name__)

FACILITY_AREA_KINDS = ("parks", "green_space")
"""Area layers that are facilities: kept whole (never cut to the context area or the data's
edge), since a park reaches people from its whole outline and its size sets its radius."""


SCHOOL_MERGE_M = 40.0
"""School records of one name (or unnamed) this close are one school: two nodes merge, and a
node this close to a school's grounds joins the grounds (:func:`merge_facilities`)."""


def context_margin(config: AnalysisConfig) -> float:
    """How far beyond the districts facilities and walkways are kept, in metres.

    The largest radius of the standards ``config`` checks, plus the farthest a facility may
    lie from a walkway and still be reached (``FACILITY_SNAP_FACTOR × demand.max_snap_m``): a
    facility any farther from the study area cannot serve it, one nearer may.
    """
    from geoplan.config import FACILITY_SNAP_FACTOR
    from geoplan.standards import check_config_standards

    radii = [s.max_radius_m for s in check_config_standards(config)]
    radius = max(radii) if radii else CONTEXT_MARGIN_M
    return float(radius + FACILITY_SNAP_FACTOR * config.demand.max_snap_m)


@dataclass(frozen=True)
class _Parsed:
    """What the cache keeps of one parsed OSM file."""

    layers: dict[str, gpd.GeoDataFrame]
    extent: BaseGeometry
    bounds_note: str
    cut_points: np.ndarray
    issues: tuple[tuple[str, str, int, str], ...]
    context: OsmData | None = None
    """The dead-end context features, read in the same pass (None from the cache)."""
    boundaries: OsmData | None = None
    """The administrative boundaries for the datum check, read in the same pass (None from
    the cache; then kept in the cache on their own, as the datum check would keep them)."""


def _parse_osm(path: Any, catalog: dict[str, Any], bounds: tuple[float, ...] | None) -> _Parsed:
    key = cache.cache_key(path, catalog["_hash"]) + ("-" + "_".join(map(str, bounds)) if bounds else "")
    hit = cache.load_frames(key)
    if hit is not None:
        frames, extra = hit
        cut = np.asarray(extra["cut_points"], dtype=float).reshape(-1, 2)
        issues = extra["issues"] if isinstance(extra["issues"], list) else []
        return _Parsed(frames, shapely.from_wkb(str(extra["extent"])), str(extra["bounds_note"]),
                       cut, tuple((str(r[0]), str(r[1]), int(cast(Any, r[2])), str(r[3]))
                                  for r in issues if isinstance(r, list)))
    # one pass for the layers, the dead ends' context (noexit nodes, gates, grounds) and the
    # administrative boundaries the datum check compares the districts with
    # only the tags something reads are kept: the rest cannot change a layer
    osm, context, boundaries = read_osm_sets(
        path, [catalog_keys(catalog), CONTEXT_KEYS, BOUNDARY_KEYS], bounds,
        keep_tags=tag_keys(catalog) | CONTEXT_TAGS | BOUNDARY_KEYS,
        tables=[None, CONTEXT_TABLES, None])
    disk = cache.worth_storing(path)
    cache.store_osm(cache.osm_cache_key(path, BOUNDARY_KEYS, bounds), boundaries, disk=disk)
    counts: list[tuple[str, str, int, str]] = [("osm", *i) for i in osm.read_issues]
    layers = osm_layers(osm, catalog, counts)
    result = _Parsed(layers, osm.bounds, osm.bounds_note, osm.cut_points, tuple(counts), context,
                     boundaries)
    cache.store_frames(key, layers, {
        "extent": shapely.to_wkb(osm.bounds, hex=True), "bounds_note": osm.bounds_note,
        "cut_points": cast(Any, np.asarray(osm.cut_points, dtype=float).reshape(-1, 2).tolist()),
        "issues": cast(Any, [list(i) for i in counts])}, disk=disk)
    return result


CHILD_LOAD_MIN_BYTES = 8_000_000
"""From this much input (the OSM file and the layer files, in bytes) the layers are loaded in a
forked process (:func:`geoplan._child.in_child`): reading a large file leaves most of the
memory it used held by the reading process for the rest of the run (1,362 MB resident after
loading the 1M-edge benchmark city in the run's process, 792 MB once the same layers came
back from a child). Below it, forking and packing the result cost more than it frees."""


def load_layers(config: AnalysisConfig, *, margin_m: float | None = None,
                kinds: Collection[str] | None = None, datum_check: bool = True,
                part_of_city: bool = False) -> LayerSet:
    """Build every canonical layer of ``config``.

    Steps: read districts (declared CRS converted to WGS84); parse the OSM file (cached by
    content hash) and planners' files; choose the analysis CRS; project; repair geometries
    (counting every change); clip to the districts buffered by ``margin_m`` within the data
    extent (facility areas stay whole); compute areas and lengths; merge duplicate bus stops
    and schools. ``margin_m`` defaults to :func:`context_margin` of the config's standards.
    ``kinds``: only these layers (and the land their features are excluded inside) are
    prepared, the others left empty, for a caller that reads only those (None: all).
    ``datum_check``: False leaves out the datum check of the boundaries against OSM's
    (:func:`geoplan.layers.datum.check_datum`; ``layerset.datum`` stays None), for a caller
    that only counts and whose run checks them anyway.
    ``part_of_city``: the config's districts are some of a city's (a batch job), so a
    planner's file may well have no feature near them: that is neither an error nor said
    (the city's own run checks every file against all its districts); nor are districts
    partly inside the data said (the city's run says them all once).
    From :data:`CHILD_LOAD_MIN_BYTES` of input on, this runs in a forked process (the same
    layers, logs and errors).

    Raises
    ------
    InputDataError
        For unreadable, empty or non-overlapping inputs, with the file and the fix.
    """
    if _input_bytes(config) >= CHILD_LOAD_MIN_BYTES:
        from geoplan._child import in_child

        return in_child(lambda: _load_layers(config, margin_m, kinds, datum_check, part_of_city),
                        "loading the layers",
                        "the input files may need more memory than this machine has: cut them "
                        "to the study area plus the context margin")
    return _load_layers(config, margin_m, kinds, datum_check, part_of_city)


def _input_bytes(config: AnalysisConfig) -> int:
    """Size of the OSM file and the layer files of ``config`` (0 for any not found)."""
    paths = [config.osm.path] if config.osm.path is not None else []
    paths += [src.path for sources in config.layers.values() for src in sources]
    total = 0
    for path in paths:
        try:
            total += Path(path).stat().st_size
        except OSError:  # reported with its fix when it is read
            pass
    return total


def _load_layers(config: AnalysisConfig, margin_m: float | None,
                 kinds: Collection[str] | None = None, datum_check: bool = True,
                 part_of_city: bool = False) -> LayerSet:
    """:func:`load_layers`, in this process."""
    catalog = load_catalog(str(config.layers_catalog) if config.layers_catalog else None)
    wanted = _wanted_kinds(kinds, catalog)
    issues = IssueLog()
    districts_wgs = read_districts(config.districts)

    wgs_layers: dict[str, gpd.GeoDataFrame] = {k: empty_layer(k, "EPSG:4326") for k in LAYER_KINDS}
    extent_wgs: BaseGeometry | None = None
    sources: list[str] = []
    cut_wgs = np.zeros((0, 2))
    osm_context: OsmData | None = None
    boundaries: OsmData | None = None
    if margin_m is None:
        margin_m = context_margin(config)
    if config.osm.path is not None:
        parsed = _parse_osm(config.osm.path, catalog, config.osm.bounds)
        wgs_layers, extent_wgs, cut_wgs = dict(parsed.layers), parsed.extent, parsed.cut_points
        osm_context, boundaries = parsed.context, parsed.boundaries
        if parsed.bounds_note:  # said on every run, from the cache too: dead ends depend on that edge
            logger.warning(parsed.bounds_note)
        for layer, issue, count, action in parsed.issues:
            issues.add(layer, config.osm.path.name, issue, count, action)
        date = f", data of {config.osm.date}" if config.osm.date else ""
        sources.append(
            f"OpenStreetMap extract {config.osm.path.name}{date} (© OpenStreetMap contributors, ODbL)"
        )
    from_osm_file = dict(wgs_layers)  # OSM's own features: what a file's points are checked on
    green_files = {(src.path.resolve(), src.layer) for src in config.layers.get("green_space", [])}
    parks_green: list[tuple[str, gpd.GeoDataFrame]] = []
    for kind, file_sources in config.layers.items():
        for i, src in enumerate(file_sources):
            frame = load_file_layer(src, kind, catalog["layers"]["schools"]["levels"],
                                    key=f"layers.{kind}[{i}]")
            check_file_datum(src.path, f"layers.{kind}[{i}]", kind, frame, from_osm_file[kind],
                             issues)
            frame = repair(frame, kind, issues)
            base = wgs_layers[kind] if src.mode == "add" else empty_layer(kind, "EPSG:4326")
            wgs_layers[kind] = conform(
                gpd.GeoDataFrame(pd.concat([base, frame], ignore_index=True), crs="EPSG:4326"), kind
            )
            sources.append(f"{kind}: {src.path.name} ({src.mode})")
            if kind == "parks" and (src.path.resolve(), src.layer) not in green_files:
                parks_green.append((src.path.name, frame))
            if config.osm.path is None:
                # without an OSM extract the files themselves say where the data is; with one,
                # planned facilities must not move the study area
                ext = shapely.box(*frame.total_bounds)
                extent_wgs = ext if extent_wgs is None else shapely.union(extent_wgs, ext)
    for name, frame in parks_green:
        # a park is public green space, as the catalog's green_space takes OSM's parks: a
        # planner's park (a planned one too) counts for 300米见绿 without being listed twice
        wgs_layers["green_space"] = conform(gpd.GeoDataFrame(
            pd.concat([wgs_layers["green_space"], frame], ignore_index=True), crs="EPSG:4326"),
            "green_space")
        sources.append(f"green_space: {name} (its parks, added)")
    if extent_wgs is None:
        raise InputDataError("no data source: give an OSM file (osm.path) or layer files (layers:)")
    declared = config.districts.crs
    own = "" if declared is not None else f": {declared_crs(config.districts).label}"
    sources.append(f"districts: {config.districts.path.name} "
                   + (f"(declared {declared})" if declared is not None else f"(the file's own CRS{own})"))

    crs = resolve_analysis_crs(config.crs, shapely.union_all(districts_wgs.geometry.to_numpy()))
    extent = project_extent(extent_wgs, crs)
    districts = clip_districts(
        districts_wgs.to_crs(crs), extent, config.districts.min_overlap_share,
        data_source=str(config.osm.path or "the layer files"),
        min_inside_km2=config.districts.min_inside_km2, say_partial=not part_of_city,
    )
    if not part_of_city:
        _note_left_out(districts_wgs, districts, config.districts.path.name, issues)
    study_area = shapely.union_all(districts.geometry.to_numpy())
    context = shapely.intersection(study_area.buffer(margin_m), extent)
    if not part_of_city:
        check_file_sources_inside(config, wgs_layers, context, crs)

    layers: dict[str, gpd.GeoDataFrame] = {"districts": districts}
    in_data: dict[str, pd.DataFrame] = {}
    with prepared_for(context):  # the layer set keeps it: not left prepared (see _threads)
        for kind in LAYER_KINDS:
            layers[kind] = (_prepare(wgs_layers[kind], kind, crs, context, issues, catalog,
                                     in_data)
                            if kind in wanted else empty_layer(kind, crs))
    own_files = {src.path.name for sources in config.layers.values() for src in sources}
    for kind in LAYER_KINDS:
        layers[kind] = _exclude_inside(layers, kind, catalog["layers"][kind], issues, own_files)
    for kind in ("toilets", "schools", "bus_stops", "parks", "residential", "roads", "walkways"):
        if kind in wanted and len(layers[kind]) == 0:
            logger.warning("layer %r is empty in the study area: standards using it will score 0 "
                           "or have no value", kind)
    ordered = {k: layers[k] for k in LAYER_ORDER}
    cut = (gpd.GeoSeries(shapely.points(cut_wgs), crs="EPSG:4326").to_crs(crs).to_numpy()
           if len(cut_wgs) else np.zeros(0, dtype=object))
    logger.info("context margin %.0f m (largest radius + facility snapping distance)", margin_m)
    layerset = LayerSet(ordered, pyproj.CRS(crs), study_area, context, extent, issues.frame(),
                        sources, cut_points=cut, margin_m=margin_m,
                        reached_from=reached_from_map(catalog), osm_context=osm_context,
                        unit=config.districts.unit, in_data=in_data)
    if not part_of_city:  # said by every command (`coverage` too), found once for the run
        from geoplan.layers.overlaps import district_overlaps

        layerset.overlaps = district_overlaps(districts)
    if datum_check:
        from geoplan.layers.datum import check_datum

        layerset.datum = check_datum(config, layerset, boundaries=boundaries,
                                     districts=districts_wgs)
    return layerset


LEFT_OUT_NAMED = 30
"""At most this many left-out districts are named (a national file has thousands)."""


def _note_left_out(districts_wgs: gpd.GeoDataFrame, kept: gpd.GeoDataFrame, file: str,
                   issues: IssueLog) -> None:
    """Record the districts of the file that are not analysed (outside the data, or too
    little of them inside), so the data checks name them: a planner who gave 8 街道 and finds
    7 rows learns which one and why."""
    analysed = set(kept["district"].astype(str))
    left = [str(d) for d in districts_wgs["district"] if str(d) not in analysed]
    if left:
        issues.add("districts", file, f"{LEFT_OUT_ISSUE}: {first_named(left, LEFT_OUT_NAMED, '、')}",
                   len(left), "not analysed", say=False)


def reached_from_map(catalog: dict[str, Any]) -> dict[str, str]:
    """Where each facility layer, and each services kind, is reached from (the catalog's
    ``reached_from``): ``{'schools': 'outline', 'services:clinic': 'point', ...}``."""
    out: dict[str, str] = {}
    for kind, spec in catalog["layers"].items():
        if spec.get("reached_from") or spec.get("kinds_reached_from"):
            out[kind] = reached_from(spec)
        for sub in spec.get("kinds") or {}:
            out[f"{kind}:{sub}"] = reached_from(spec, sub)
    return out


def _wanted_kinds(kinds: Collection[str] | None, catalog: dict[str, Any]) -> set[str]:
    """The layers to prepare: ``kinds`` (all when None) and the land their features are
    excluded inside (:func:`_exclude_inside`)."""
    if kinds is None:
        return set(LAYER_KINDS)
    wanted = set(kinds)
    for kind in list(wanted):
        wanted |= set(catalog["layers"].get(kind, {}).get("exclude_inside") or ())
    return wanted


def _exclude_inside(layers: dict[str, gpd.GeoDataFrame], kind: str, spec: dict[str, Any],
                    issues: IssueLog, own_files: Collection[str] = ()) -> gpd.GeoDataFrame:
    """Drop OSM features of ``kind`` lying inside land of the catalog's ``exclude_inside`` kinds.

    A feature lies inside when its representative point does; features whose ``kind`` column
    is in ``exclude_inside_keep_kinds`` stay (a public park inside a residential polygon).
    Used for lawns inside gated compounds (附属绿地), which OSM rarely tags as private. The
    features of a planner's own files (``source`` in ``own_files``, their names) stay: the
    file says what is public green space, and a planned park on today's housing land is one
    (it was dropped from 300米见绿, and the log blamed the OSM file).
    """
    frame = layers[kind]
    others = [layers[k] for k in spec.get("exclude_inside") or () if k in layers and len(layers[k])]
    if not len(frame) or not others:
        return frame
    land = np.concatenate([o.geometry.to_numpy() for o in others])
    inside = _in_union(land, shapely.point_on_surface(frame.geometry.to_numpy()))
    source = frame["source"].astype(str) if "source" in frame.columns else \
        pd.Series("input", index=frame.index)
    inside &= ~source.isin(own_files).to_numpy()
    if "kind" in frame.columns:
        inside &= ~frame["kind"].isin(spec.get("exclude_inside_keep_kinds") or ()).to_numpy()
    for name, n in source[inside].value_counts(sort=False).items():  # each file its own count
        issues.add(kind, str(name),
                   f"inside {', '.join(spec['exclude_inside'])} land (not public: 附属绿地)",
                   int(n), "excluded")
    return frame.loc[~inside].reset_index(drop=True)


def _in_union(polygons: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``shapely.contains(shapely.union_all(polygons), points)``, without the union.

    A point inside one polygon is inside their union; a point on the outlines only is inside
    it when the polygons it touches together surround it (two lots sharing an edge), which
    only the union of those few polygons tells. The city's whole union was a quarter of the
    time of reading the 1M-edge benchmark city's layers.
    """
    inside = np.zeros(len(points), dtype=bool)
    tree = shapely.STRtree(polygons)
    inside[np.unique(tree.query(points, predicate="within")[0])] = True
    touch_p, touch_g = tree.query(points, predicate="intersects")
    edge = ~inside[touch_p]
    touch_p, touch_g = touch_p[edge], touch_g[edge]
    for p in np.unique(touch_p).tolist():
        inside[p] = shapely.contains(shapely.union_all(polygons[touch_g[touch_p == p]]), points[p])
    return inside


FACILITY_LAYERS = ("parks", "green_space", "toilets", "schools", "bus_stops", "services")
"""The layers standards take facilities from: :attr:`LayerSet.in_data` keeps what each holds
in the whole input."""


def _prepare(
    frame: gpd.GeoDataFrame,
    kind: str,
    crs: Any,
    context: BaseGeometry,
    issues: IssueLog,
    catalog: dict[str, Any],
    in_data: dict[str, pd.DataFrame] | None = None,
) -> gpd.GeoDataFrame:
    """One layer in the analysis CRS, repaired, kept to ``context`` (which the caller prepares
    once for all layers), merged and in the canonical columns; a facility layer's attributes
    before it is kept to ``context`` go to ``in_data``."""
    if len(frame) == 0:
        return empty_layer(kind, crs)
    frame = repair(frame.to_crs(crs), kind, issues)
    family = GEOMETRY[kind]
    if family == "area" and "area_m2" in frame.columns:
        frame["area_m2"] = frame.geometry.area  # before clipping: a park's whole size counts
    if in_data is not None and kind in FACILITY_LAYERS:
        whole = conform(frame, kind)
        in_data[kind] = pd.DataFrame(whole.drop(columns=whole.geometry.name))
    geoms = frame.geometry.to_numpy()
    if family == "point":
        frame = frame.loc[shapely.intersects(context, geoms)]
    elif family == "point_or_area" or kind in FACILITY_AREA_KINDS:
        # facilities keep the geometry the file gives (a school's whole grounds)
        frame = frame.loc[shapely.intersects(context, geoms)].copy()
        if kind == "schools":  # the grounds' area is the site area of the seat norms
            grounds = np.isin(shapely.get_type_id(frame.geometry.to_numpy()), (3, 6))
            site = (pd.to_numeric(frame["site_area_m2"], errors="coerce").to_numpy(dtype=float,
                                                                                  copy=True)
                    if "site_area_m2" in frame.columns else np.full(len(frame), np.nan))
            fill = grounds & ~np.isfinite(site)
            site[fill] = shapely.area(frame.geometry.to_numpy()[fill])
            frame["site_area_m2"] = site
    else:
        inside = shapely.intersects(context, geoms)
        frame = frame.loc[inside].copy()
        covered = shapely.covers(context, frame.geometry.to_numpy())
        clipped = frame.geometry.to_numpy().copy()
        clipped[~covered] = shapely.intersection(clipped[~covered], context)
        frame = frame.set_geometry(gpd.GeoSeries(clipped, index=frame.index, crs=crs))
        frame = repair(frame, kind, issues)
    if "length_m" in frame.columns:
        frame["length_m"] = frame.geometry.length
    if kind == "buildings":
        frame["area_m2"] = frame.geometry.area
        frame["floor_area_m2"] = frame["area_m2"] * frame["levels"]
    if kind == "bus_stops":
        frame = merge_points_by_source(
            frame, float(catalog["layers"]["bus_stops"].get("merge_distance_m", 30)))
    elif kind == "schools":
        frame = merge_facilities(frame, SCHOOL_MERGE_M)
    elif kind == "toilets":
        frame = merge_points_by_source(frame, 10.0)
    return conform(frame, kind)


def district_summary(layerset: LayerSet) -> pd.DataFrame:
    """Per district: the count of each layer, plus areas (ha) and lengths (km) where they matter.

    Features count in a district when they intersect it (points inside, lines and areas
    partly inside); areas and lengths are the parts inside the district. ``area_km2`` and
    ``inside_km2`` are the district's part inside the data, ``full_area_km2`` the whole
    district, ``inside_share`` their ratio. A layer kind with no feature gives 0 (never a
    missing column).
    """
    districts = layerset.districts
    dgeoms = districts.geometry.to_numpy()
    table: dict[str, Any] = {
        "district": districts["district"].to_numpy(),
        "area_km2": districts["area_m2"].to_numpy() / 1e6,
        "inside_km2": districts["area_m2"].to_numpy() / 1e6,
        "full_area_km2": (districts["full_area_m2"].to_numpy() / 1e6
                          if "full_area_m2" in districts else np.full(len(districts), np.nan)),
        "inside_share": districts["inside_share"].to_numpy(),
    }
    city: dict[str, int] = {}
    for kind in LAYER_KINDS:
        city[kind] = _summarise_layer(table, kind, layerset[kind].geometry.to_numpy(), dgeoms)
    columns = ["district", "area_km2", "inside_km2", "full_area_km2", "inside_share"]
    for kind in LAYER_KINDS:
        columns += [kind] + [f"{kind}_km"] * (kind in _SUMMARY_KM) + [f"{kind}_ha"] * (kind in _SUMMARY_HA)
    frame = pd.DataFrame({c: table[c] for c in columns}, index=range(len(districts)))
    # a feature across a district line counts in both districts; the city counts it once
    frame.attrs[CITY_COUNTS] = city
    return frame


CITY_COUNTS = "geoplan_city_counts"
"""Key of the :func:`district_summary` frame's ``attrs``: per layer kind, the features that
meet any district, each once (the districts' counts add a feature across a line twice)."""


def _summarise_layer(table: dict[str, Any], kind: str, geoms: np.ndarray, dgeoms: np.ndarray
                     ) -> int:
    """Add one layer's counts (and km or ha) per district to ``table``; return how many of
    its features meet any district."""
    # one tree query per layer, not every feature against every district
    d, f = (shapely.STRtree(geoms).query(dgeoms, predicate="intersects") if len(geoms)
            else (np.zeros(0, dtype=int), np.zeros(0, dtype=int)))
    table[kind] = np.bincount(d, minlength=len(dgeoms)).astype(int)
    if kind in _SUMMARY_KM or kind in _SUMMARY_HA:
        parts = parts_inside(geoms[f], dgeoms[d])
        if kind in _SUMMARY_KM:
            table[f"{kind}_km"] = np.bincount(d, shapely.length(parts),
                                              minlength=len(dgeoms)) / 1000
        if kind in _SUMMARY_HA:
            table[f"{kind}_ha"] = np.bincount(d, shapely.area(parts),
                                              minlength=len(dgeoms)) / 1e4
    return len(np.unique(f))


_SUMMARY_KM = ("roads", "walkways")
_SUMMARY_HA = ("parks", "green_space", "residential", "water")


EXTENT_STEP_DEG = 0.0005
"""Vertex spacing (about 50 m) of the data's lon/lat box before it is projected."""


def project_extent(extent_wgs: BaseGeometry, crs: Any) -> BaseGeometry:
    """The data's lon/lat extent in the analysis CRS, its edges following the parallels.

    An extract's edges are parallels and meridians; projected through its four corners only, a
    35 km edge would become a straight chord up to 13 m off the parallel in UTM (zone 48N at
    30.8° N), cutting data off or adding land with none. Densifying first keeps the edge on it.
    """
    dense = shapely.segmentize(extent_wgs, EXTENT_STEP_DEG)
    return gpd.GeoSeries([dense], crs="EPSG:4326").to_crs(crs).iloc[0]

