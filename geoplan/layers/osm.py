"""Read OpenStreetMap files (.osm, .osm.bz2, .osm.gz, .pbf) into raw feature tables.

One pass with pyosmium collects the tagged nodes, the ways as lines and the areas (closed ways
and multipolygon relations) whose tags the layer catalog may use; libosmium's key filter drops
every other object before Python sees it. The result keeps every tag (or the ones asked for),
so the catalog's rules (:mod:`geoplan.layers.rules`) decide what each feature is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import shapely
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from geoplan._errors import InputDataError
from geoplan._progress import counter
from geoplan.layers.osm_pass import (
    PROGRESS_EVERY,
    Coord,
    Extent,
    KeySetRows,
    NegativeIds,
    PartialWay,
    PassReader,
    Scan,
    dedupe,
)

logger = logging.getLogger(__name__)

MIN_WAYS_FOR_ESTIMATE = 50
"""Below this many ways, a headerless complete-ways file's extent is the box of all its nodes."""

CONTEXT_KEYS: frozenset[str] = frozenset({
    "noexit", "barrier", "amenity", "landuse", "access", "military", "highway", "place",
    "area:highway"})
"""Tag keys of the dead-end context (noexit nodes, gates, closed grounds, pedestrian areas:
:mod:`geoplan.deadends.osm_extras`), read in the same pass as the layers
(:func:`read_osm_sets`)."""

CONTEXT_TAGS: frozenset[str] = CONTEXT_KEYS | {"area"}
"""Tag keys the dead-end context reads from its features (``area=yes`` marks pedestrian
areas): what a read keeping only the tags in use must keep for it."""

CONTEXT_TABLES: frozenset[str] = frozenset({"nodes", "areas"})
"""The tables the dead-end context reads (noexit nodes and gates; grounds and pedestrian
areas): its lines are never built in the layers' pass, nor held until the dead-ends step."""

BOUNDARY_KEYS: frozenset[str] = frozenset({"boundary", "admin_level"})
"""Tag keys of the administrative boundaries the datum check compares the districts with
(:func:`geoplan.layers.datum.reference_lines`), read in the same pass as the layers."""

OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".pbf", ".osm.pbf", ".xml", ".osm.xml")


@dataclass(frozen=True)
class OsmData:
    """Raw OSM features in WGS84 (EPSG:4326), tags kept as dicts.

    Attributes
    ----------
    nodes, lines, areas
        GeoDataFrames with columns ``osm_id`` ("n123", "w45", "r6"), ``tags`` (dict),
        ``truncated`` (built from a way that references nodes the file does not contain) and
        ``geometry``. ``lines`` holds every tagged way as a LineString (closed ways too); a way
        with missing nodes gives one line per run of consecutive present nodes. ``areas``
        holds closed ways and multipolygon relations as (Multi)Polygons; a closed way with
        missing nodes is closed along the data's edge. ``lines`` also has
        ``first_node``/``last_node`` (OSM node ids of the line's ends).
    bounds
        The data's extent (see :func:`derive_extent`). Roads cut by this edge are not real
        dead ends.
    source
        The file the data came from.
    bounds_note
        How the extent was derived when it was not given or read from the header: shown by
        the loader on every run, cached or not.
    cut_points
        (n, 2) array of lon/lat of the present nodes next to a missing node: the ends that
        the cut of the data created (never dead ends).
    read_issues
        What the reader repaired or dropped: (issue, count, action) triples.
    """

    nodes: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    bounds: BaseGeometry
    source: str
    bounds_note: str = ""
    cut_points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    read_issues: tuple[tuple[str, int, str], ...] = ()


def close_along_edge(parts: list[list[Coord]], edge: BaseGeometry) -> BaseGeometry:
    """Close the runs of a ring cut by the data's edge into a polygon within ``edge``.

    Each missing stretch between one run's last point and the next run's first point is
    replaced by the way out to the nearest point of the edge, along the edge (the shorter way
    round) and back in. Where the cut removed a stretch lying outside the data (a bbox cut),
    this restores the part of the area that lies inside it.

    Returns
    -------
    shapely geometry
        A (Multi)Polygon clipped to ``edge``, or an empty polygon when too little is left.
    """
    parts = [p for p in parts if p]
    if not parts or sum(len(p) for p in parts) < 2:
        return Polygon()
    ring = edge.exterior if isinstance(edge, Polygon) else shapely.convex_hull(edge).exterior
    perimeter = ring.length
    coords: list[Coord] = []
    for i, part in enumerate(parts):
        coords.extend(part)
        nxt = parts[(i + 1) % len(parts)]
        a, b = Point(part[-1]), Point(nxt[0])
        la, lb = ring.project(a), ring.project(b)
        forward = (lb - la) % perimeter
        if forward <= perimeter / 2:
            path = substring(ring, la, la + forward) if la + forward <= perimeter else None
            if path is None:
                path = LineString([*substring(ring, la, perimeter).coords,
                                   *substring(ring, 0, la + forward - perimeter).coords])
        else:
            backward = perimeter - forward
            path = substring(ring, la, la - backward) if la - backward >= 0 else None
            if path is None:
                path = LineString([*substring(ring, la, 0).coords,
                                   *substring(ring, perimeter, la - backward + perimeter).coords])
        coords.extend(tuple(c) for c in shapely.get_coordinates(path))
    coords = dedupe(coords)
    if len(coords) < 3:
        return Polygon()
    poly = shapely.make_valid(Polygon(coords))
    return shapely.intersection(poly, edge)


def read_osm(
    path: str | Path, keys: frozenset[str] | set[str], bounds: tuple[float, ...] | None = None,
    keep_tags: frozenset[str] | set[str] | None = None,
) -> OsmData:
    """Read an OSM file, keeping features that carry any of ``keys``.

    Ways that reference nodes the file does not contain (hard-clipped extracts) are kept: a
    line becomes one line per run of consecutive present nodes, a closed way is closed along
    the data's edge. Nodes with negative ids (files saved by JOSM) are located too.

    Parameters
    ----------
    path
        An OSM XML (.osm, optionally .bz2/.gz compressed) or PBF file.
    keys
        Tag keys that make a feature interesting (the catalog's keys).
    bounds
        (min lon, min lat, max lon, max lat) of the extract when known; otherwise derived
        (see :func:`derive_extent`). Given, the read is fastest: no Python code runs for the
        file's untagged nodes and uninteresting ways.
    keep_tags
        The tag keys kept in each feature's ``tags`` (besides ``keys``); None keeps every tag.

    Returns
    -------
    OsmData

    Raises
    ------
    InputDataError
        If the file is missing, unreadable, corrupt or holds no data.
    """
    return read_osm_sets(path, [keys], bounds, keep_tags)[0]


def read_osm_sets(
    path: str | Path, key_sets: Sequence[frozenset[str] | set[str]],
    bounds: tuple[float, ...] | None = None,
    keep_tags: frozenset[str] | set[str] | None = None,
    tables: Sequence[frozenset[str] | None] | None = None,
) -> list[OsmData]:
    """:func:`read_osm` for several sets of keys in one pass over the file.

    Each result is what :func:`read_osm` gives for that set of keys alone (same features, same
    order, same extent and cut points); the file is decoded, its nodes located and its areas
    assembled once for all of them. libosmium's key filter drops every object that carries
    none of the keys before Python sees it; the node locations for the ways are still kept
    (the location index runs before the filter).

    ``tables``, one per key set, names the tables a caller reads (of ``nodes``, ``lines``,
    ``areas``; None: all): the others come back empty, never built.

    Raises
    ------
    InputDataError
        If the file is missing, unreadable, corrupt or holds no data.
    """
    path = Path(path)
    if not path.is_file():
        raise InputDataError(
            f"OSM file not found: {path}. Check the path in the config (paths are relative to "
            "the config file), or run `geoplan fetch CONFIG` to download the data."
        )
    extent = Extent()
    sets = [KeySetRows(frozenset(keys), extent) for keys in key_sets]
    union: frozenset[str] = frozenset().union(*(t.keys for t in sets))
    keep = None if keep_tags is None else frozenset(keep_tags) | union
    filters: list[object] = []
    if bounds is None:  # the extent comes from the data: every node's location is needed
        filters.append(Scan(extent, refs=_header_bounds(path) is None))
    filters.append(osmium.filter.KeyFilter(*sorted(union)) if union
                   else osmium.filter.EntityFilter(osmium.osm.NOTHING))
    try:
        with counter(f"reading {path.name}", unit=" features") as progress:
            reader = PassReader(sets, keep, progress.update)
            reader.apply_file(str(path), locations=True, filters=filters)
            progress.update(reader.seen % PROGRESS_EVERY)
        if not extent.scanned:
            _negative_locations(path, sets, extent)
        for t in sets:
            t.settle()
        if _no_nodes(path, sets, extent):
            raise InputDataError(
                f"OSM file {path} contains no nodes; it is empty or not OSM data.")
    except InputDataError:
        raise
    except Exception as exc:  # pyosmium raises RuntimeError/ValueError subclasses of many kinds
        raise InputDataError(
            f"cannot read OSM file {path}: {str(exc).rstrip('.')}. The file is corrupt, "
            "truncated or not OSM "
            "data (expected .osm, .osm.bz2 or .pbf); download or export it again."
        ) from exc
    wanted = list(tables) if tables is not None else [None] * len(sets)
    return [_osm_data(t, path, bounds, w) for t, w in zip(sets, wanted, strict=True)]


def _negative_locations(path: Path, tables: list[KeySetRows], extent: Extent) -> None:
    """Locate the negative ids that ways need, when the pass did not look at every node."""
    wanted = {r for t in tables for row in t.line_items if isinstance(row, PartialWay)
              for r in row.missing_negative()}
    if wanted:
        logger.info("%s: locating %d nodes with negative ids (an editor's file)", path.name,
                    len(wanted))
        NegativeIds(wanted, extent.negative).apply_file(str(path))


def _no_nodes(path: Path, tables: list[KeySetRows], extent: Extent) -> bool:
    """Whether the file holds no node with a location."""
    if extent.scanned:
        return not np.isfinite(extent.min_lon)
    if any(t.node_rows or t.line_rows or t.area_rows for t in tables):
        return False
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE):
        if isinstance(obj, osmium.osm.Node) and obj.location.valid():
            return False
    return True


def _osm_data(tables: KeySetRows, path: Path, bounds: tuple[float, ...] | None,
              wanted: frozenset[str] | None = None) -> OsmData:
    """The tables of one key set after the pass (only those in ``wanted``; None: all)."""
    issues = _read_issues(tables.counts)
    for issue, n, action in issues:
        log = logger.warning if action == "rejected" else logger.info
        log("%s: %d %s (%s)", path.name, n, issue, action)

    line_rows, area_rows = tables.line_rows, tables.area_rows
    node_rows, cut_rings = tables.node_rows, tables.cut_rings
    if wanted is not None:
        # lines unread are still built when the extent must be estimated from them
        estimate = bounds is None and not tables.counts["ways_truncated"] \
            and _header_bounds(path) is None
        line_rows = line_rows if "lines" in wanted or estimate else []
        node_rows = node_rows if "nodes" in wanted else []
        area_rows = area_rows if "areas" in wanted else []
        cut_rings = cut_rings if "areas" in wanted else []
    lines = gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in line_rows],
            "tags": [r[1] for r in line_rows],
            "first_node": np.array([r[3] for r in line_rows], dtype="int64"),
            "last_node": np.array([r[4] for r in line_rows], dtype="int64"),
            "truncated": np.array([r[5] for r in line_rows], dtype=bool),
        },
        geometry=shapely.from_wkb([r[2] for r in line_rows]),
        crs="EPSG:4326",
    )
    bounds_geom, bounds_note = derive_extent(tables, lines, path, bounds)
    cut_area_rows = []
    for osm_id, tags, parts in cut_rings:
        geom = close_along_edge(parts, bounds_geom)
        if not geom.is_empty and shapely.area(geom) > 0:
            cut_area_rows.append((osm_id, tags, geom))
    nodes = gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in node_rows],
            "tags": [r[1] for r in node_rows],
            "truncated": np.zeros(len(node_rows), dtype=bool),
        },
        geometry=shapely.points(
            np.array([r[2] for r in node_rows], dtype=float),
            np.array([r[3] for r in node_rows], dtype=float),
        )
        if node_rows
        else [],
        crs="EPSG:4326",
    )
    areas = gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in area_rows] + [r[0] for r in cut_area_rows],
            "tags": [r[1] for r in area_rows] + [r[1] for r in cut_area_rows],
            "truncated": np.array([False] * len(area_rows) + [True] * len(cut_area_rows),
                                  dtype=bool),
        },
        geometry=np.concatenate([shapely.from_wkb([r[2] for r in area_rows]),
                                 np.array([r[2] for r in cut_area_rows], dtype=object)]),
        crs="EPSG:4326",
    )
    logger.info(
        "read %s: %d tagged nodes, %d ways, %d areas", path.name, len(nodes), len(lines), len(areas)
    )
    if wanted is not None and "lines" not in wanted:
        lines = lines.iloc[:0]
    cut = np.array(tables.cut_points, dtype=float).reshape(-1, 2)
    return OsmData(nodes=nodes, lines=lines, areas=areas, bounds=bounds_geom, source=str(path),
                   bounds_note=bounds_note, cut_points=cut, read_issues=tuple(issues))


def _read_issues(counts: dict[str, int]) -> list[tuple[str, int, str]]:
    labels = {
        "ways_truncated": ("way(s) reference nodes missing from the file (a hard-clipped "
                           "extract): kept as the runs of present nodes, areas closed along "
                           "the data's edge", "repaired"),
        "ways_all_missing": ("way(s) with fewer than 2 consecutive nodes in the file", "rejected"),
        "rings_truncated": ("closed way(s) cut by the data's edge, closed along it", "repaired"),
        "negative_ids": ("way(s) with negative node ids (an editor's file) located", "repaired"),
        "lines_failed": ("way(s) whose line could not be built", "rejected"),
        "areas_failed": ("area(s) that could not be assembled (a multipolygon with missing "
                         "members or broken rings)", "rejected"),
    }
    return [(labels[k][0], n, labels[k][1]) for k, n in counts.items() if n]


def _header_bounds(path: Path) -> BaseGeometry | None:
    try:
        reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
        try:
            header_box = reader.header().box()
        finally:
            reader.close()
    except Exception:  # a missing header is fine; the data extent is used instead
        return None
    if not header_box.valid():
        return None
    bl, tr = header_box.bottom_left, header_box.top_right
    return box(bl.lon, bl.lat, tr.lon, tr.lat)


def derive_extent(
    collector: KeySetRows, lines: gpd.GeoDataFrame, path: Path,
    bounds: tuple[float, ...] | None,
) -> tuple[BaseGeometry, str]:
    """The data's extent, derived the same way from every format.

    In order: ``bounds`` when given; for a hard-clipped extract (ways reference nodes the
    file lacks) the box of its nodes, since nothing beyond them is known whatever the header
    says; the file's bounds header; otherwise, for an extract cut with complete ways, the
    smallest box that still holds at least one node of every way and every standalone
    point (a way crossing the edge keeps its nodes outside, but at least one lies inside);
    with fewer than :data:`MIN_WAYS_FOR_ESTIMATE` ways (too few to bound the edge), the box
    of all nodes.

    Returns
    -------
    tuple
        The extent (a box in lon/lat) and a note saying how it was derived (empty when it was
        given or read from the header of a complete extract).
    """
    e = collector.extent
    nodes_box = box(e.min_lon, e.min_lat, e.max_lon, e.max_lat)
    if bounds is not None:
        logger.info("%s: extent given as osm.bounds: %s", path.name, list(bounds))
        return box(*bounds), ""
    header = _header_bounds(path)
    rounded = [round(v, 5) for v in nodes_box.bounds]
    if collector.counts["ways_truncated"]:
        said = f" (its header says {[round(v, 5) for v in header.bounds]})" if header else ""
        return nodes_box, (
            f"{path.name} is hard-clipped ({collector.counts['ways_truncated']} ways reference "
            f"nodes it does not contain): its extent is the box of its nodes, {rounded}{said}."
        )
    if header is not None:
        logger.info("%s: extent from the file's bounds header", path.name)
        return header, ""
    estimate = _inner_box(collector, lines) if len(lines) >= MIN_WAYS_FOR_ESTIMATE else None
    if estimate is None:
        return nodes_box, (f"{path.name} has no bounds header: using the extent of all its "
                           "nodes. Set osm.bounds in the config to give the extract's edge exactly.")
    return estimate, (
        f"{path.name} has no bounds header: its extent is estimated as the smallest box holding "
        f"a node of every way and every standalone point, {[round(v, 5) for v in estimate.bounds]}. "
        "Set osm.bounds in the config to give it exactly."
    )


def _inner_box(collector: KeySetRows, lines: gpd.GeoDataFrame) -> BaseGeometry | None:
    if not len(lines):
        return None
    b = shapely.bounds(lines.geometry.to_numpy())  # minx, miny, maxx, maxy per way
    west, south = float(np.min(b[:, 2])), float(np.min(b[:, 3]))
    east, north = float(np.max(b[:, 0])), float(np.max(b[:, 1]))
    e = collector.extent
    if e.tagged_nodes and e.way_refs:
        tagged = np.array(e.tagged_nodes)
        refs = np.unique(np.concatenate(e.way_refs))
        alone = tagged[~np.isin(tagged[:, 0].astype(np.int64), refs)]
        if len(alone):
            west, south = min(west, alone[:, 1].min()), min(south, alone[:, 2].min())
            east, north = max(east, alone[:, 1].max()), max(north, alone[:, 2].max())
    if not (west < east and south < north):
        return None
    return box(west, south, east, north)
