"""Read OpenStreetMap files (.osm, .osm.bz2, .osm.gz, .pbf) into raw feature tables.

One pass with pyosmium collects the tagged nodes, the ways as lines and the areas (closed ways
and multipolygon relations) whose tags the layer catalog may use. The result keeps every tag,
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

logger = logging.getLogger(__name__)

MIN_WAYS_FOR_ESTIMATE = 50
"""Below this many ways, a headerless complete-ways file's extent is the box of all its nodes."""

CONTEXT_KEYS: frozenset[str] = frozenset({
    "noexit", "barrier", "amenity", "landuse", "access", "military", "highway", "place",
    "area:highway"})
"""Tag keys of the dead-end context (noexit nodes, gates, closed grounds, pedestrian areas:
:mod:`geoplan.deadends.osm_extras`), read in the same pass as the layers
(:func:`read_osm_sets`)."""

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


_Coord = tuple[float, float]


class _Collector(osmium.SimpleHandler):
    """Collect tagged OSM objects whose keys the catalog uses."""

    def __init__(self, keys: frozenset[str], primary: _Collector | None = None) -> None:
        super().__init__()
        self.keys = keys
        # a secondary collector (same pass, other keys) leaves the extent, the node ids and
        # the negative-id locations to the primary one and shares them (see _Fanout)
        self.primary = primary
        self.wkb = osmium.geom.WKBFactory()
        self.node_rows: list[tuple[str, dict[str, str], float, float]] = []
        self.line_rows: list[tuple[str, dict[str, str], bytes, int, int, bool]] = []
        self.area_rows: list[tuple[str, dict[str, str], bytes]] = []
        # closed ways with missing nodes: runs of present coordinates, closed after the pass
        self.cut_rings: list[tuple[str, dict[str, str], list[list[_Coord]]]] = []
        self.cut_points: list[_Coord] = []
        self.counts: dict[str, int] = {
            "lines_failed": 0, "areas_failed": 0, "ways_truncated": 0, "ways_all_missing": 0,
            "negative_ids": 0, "rings_truncated": 0,
        }
        self.min_lon = self.min_lat = np.inf
        self.max_lon = self.max_lat = -np.inf
        # for files without a bounds header: where standalone tagged nodes (POIs) lie
        self.tagged_nodes: list[tuple[int, float, float]] = []
        self.way_refs: list[np.ndarray] = []
        # osmium's location index ignores negative ids (files edited in JOSM): kept here
        self.negative: dict[int, _Coord] = {}

    def _wanted(self, tags: osmium.osm.TagList) -> dict[str, str] | None:
        if len(tags) == 0:
            return None
        for tag in tags:
            if tag.k in self.keys:
                return {t.k: t.v for t in tags}
        return None

    def node(self, n: osmium.osm.Node) -> None:
        loc = n.location
        if self.primary is None and loc.valid():
            self.min_lon = min(self.min_lon, loc.lon)
            self.max_lon = max(self.max_lon, loc.lon)
            self.min_lat = min(self.min_lat, loc.lat)
            self.max_lat = max(self.max_lat, loc.lat)
            if n.id < 0:
                self.negative[n.id] = (loc.lon, loc.lat)
            if len(n.tags):
                self.tagged_nodes.append((n.id, loc.lon, loc.lat))
        tags = self._wanted(n.tags)
        if tags is None or not loc.valid():
            return
        self.node_rows.append((f"n{n.id}", tags, loc.lon, loc.lat))

    def way(self, w: osmium.osm.Way) -> None:
        if self.primary is None:
            self.way_refs.append(np.fromiter((nd.ref for nd in w.nodes), dtype=np.int64))
        tags = self._wanted(w.tags)
        if tags is None or len(w.nodes) < 2:
            return
        if all(nd.location.valid() for nd in w.nodes):
            try:
                wkb = self.wkb.create_linestring(w, use_nodes=osmium.geom.use_nodes.UNIQUE)
            except (RuntimeError, osmium.InvalidLocationError):
                self.counts["lines_failed"] += 1
                return
            self.line_rows.append(
                (f"w{w.id}", tags, bytes.fromhex(wkb), w.nodes[0].ref, w.nodes[-1].ref, False)
            )
            return
        self._partial_way(w, tags)

    def _partial_way(self, w: osmium.osm.Way, tags: dict[str, str]) -> None:
        """A way with nodes osmium could not locate: negative ids, or nodes not in the file."""
        refs: list[int] = []
        coords: list[_Coord | None] = []
        for nd in w.nodes:
            refs.append(nd.ref)
            if nd.location.valid():
                coords.append((nd.location.lon, nd.location.lat))
            else:
                coords.append(self.negative.get(nd.ref))
        if any(r < 0 for r in refs):
            self.counts["negative_ids"] += 1
        closed = refs[0] == refs[-1] and len(refs) >= 4
        missing = [c is None for c in coords]
        if not any(missing):  # only negative ids: a complete way
            runs = [(0, len(refs) - 1)]
        else:
            self.counts["ways_truncated"] += 1
            runs = _runs(missing)
            for lo, hi in runs:  # the ends next to a missing node were made by the cut
                if lo > 0 or (closed and missing[-2]):
                    self.cut_points.append(coords[lo])  # type: ignore[arg-type]
                if hi < len(refs) - 1 or (closed and missing[1]):
                    self.cut_points.append(coords[hi])  # type: ignore[arg-type]
        truncated = any(missing)
        parts = [[c for c in coords[lo:hi + 1] if c is not None] for lo, hi in runs]
        ends = [(refs[lo], refs[hi]) for lo, hi in runs]
        if closed and truncated and not missing[0] and len(parts) > 1:
            # the ring's last and first runs meet at its closing node: one run
            parts = [parts[-1] + parts[0][1:], *parts[1:-1]]
            ends = [(ends[-1][0], ends[0][1]), *ends[1:-1]]
        kept = 0
        for part, (first, last) in zip(parts, ends, strict=True):
            xy = _dedupe(part)
            if len(xy) >= 2:
                self.line_rows.append((f"w{w.id}", tags, shapely.to_wkb(LineString(xy)),
                                       first, last, truncated))
                kept += 1
        if truncated and not kept:
            self.counts["ways_all_missing"] += 1
        if closed and tags.get("area") != "no":
            if truncated:
                self.counts["rings_truncated"] += 1
                self.cut_rings.append((f"w{w.id}", tags, parts))
            elif len(_dedupe(parts[0])) >= 4:
                self.area_rows.append((f"w{w.id}", tags, shapely.to_wkb(Polygon(parts[0]))))

    def area(self, a: osmium.osm.Area) -> None:
        tags = self._wanted(a.tags)
        if tags is None:
            return
        try:
            wkb = self.wkb.create_multipolygon(a)
        except (RuntimeError, osmium.InvalidLocationError):
            self.counts["areas_failed"] += 1
            return
        prefix = "w" if a.from_way() else "r"
        self.area_rows.append((f"{prefix}{a.orig_id()}", tags, bytes.fromhex(wkb)))


class _Fanout(osmium.SimpleHandler):
    """One pass over a file feeding several collectors (each with its own keys).

    Decoding the file, locating the nodes and assembling the areas happen once; each collector
    sees every object exactly as it would alone.
    """

    def __init__(self, collectors: list[_Collector]) -> None:
        super().__init__()
        self.collectors = collectors  # the primary first: it locates negative ids for the rest

    def node(self, n: osmium.osm.Node) -> None:
        for c in self.collectors:
            c.node(n)

    def way(self, w: osmium.osm.Way) -> None:
        for c in self.collectors:
            c.way(w)

    def area(self, a: osmium.osm.Area) -> None:
        for c in self.collectors:
            c.area(a)


def _runs(missing: list[bool]) -> list[tuple[int, int]]:
    """(first, last) index of each run of consecutive present items."""
    runs, start = [], None
    for i, gone in enumerate(missing):
        if not gone and start is None:
            start = i
        elif gone and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(missing) - 1))
    return runs


def _dedupe(xy: list[_Coord]) -> list[_Coord]:
    """Drop consecutive repeated coordinates."""
    out = [c for i, c in enumerate(xy) if i == 0 or c != xy[i - 1]]
    return out


def close_along_edge(parts: list[list[_Coord]], edge: BaseGeometry) -> BaseGeometry:
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
    coords: list[_Coord] = []
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
    coords = _dedupe(coords)
    if len(coords) < 3:
        return Polygon()
    poly = shapely.make_valid(Polygon(coords))
    return shapely.intersection(poly, edge)


def read_osm(
    path: str | Path, keys: frozenset[str] | set[str], bounds: tuple[float, ...] | None = None
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
        (see :func:`derive_extent`).

    Returns
    -------
    OsmData

    Raises
    ------
    InputDataError
        If the file is missing, unreadable, corrupt or holds no data.
    """
    return read_osm_sets(path, [keys], bounds)[0]


def read_osm_sets(
    path: str | Path, key_sets: Sequence[frozenset[str] | set[str]],
    bounds: tuple[float, ...] | None = None,
) -> list[OsmData]:
    """:func:`read_osm` for several sets of keys in one pass over the file.

    Each result is what :func:`read_osm` gives for that set of keys alone (same features, same
    order, same extent and cut points); the file is decoded, its nodes located and its areas
    assembled once for all of them.

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
    first = _Collector(frozenset(key_sets[0]))
    collectors = [first, *(_Collector(frozenset(keys), primary=first) for keys in key_sets[1:])]
    for other in collectors[1:]:
        other.negative = first.negative
    handler = first if len(collectors) == 1 else _Fanout(collectors)
    try:
        handler.apply_file(str(path), locations=True)
    except Exception as exc:  # pyosmium raises RuntimeError/ValueError subclasses of many kinds
        raise InputDataError(
            f"cannot read OSM file {path}: {exc}. The file is corrupt, truncated or not OSM "
            "data (expected .osm, .osm.bz2 or .pbf); download or export it again."
        ) from exc
    for other in collectors[1:]:
        other.min_lon, other.min_lat = first.min_lon, first.min_lat
        other.max_lon, other.max_lat = first.max_lon, first.max_lat
        other.tagged_nodes, other.way_refs = first.tagged_nodes, first.way_refs
    return [_osm_data(c, path, bounds) for c in collectors]


def _osm_data(collector: _Collector, path: Path, bounds: tuple[float, ...] | None) -> OsmData:
    """The tables of one collector after the pass."""
    if not np.isfinite(collector.min_lon):
        raise InputDataError(f"OSM file {path} contains no nodes; it is empty or not OSM data.")
    issues = _read_issues(collector.counts)
    for issue, n, action in issues:
        log = logger.warning if action == "rejected" else logger.info
        log("%s: %d %s (%s)", path.name, n, issue, action)

    lines = gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in collector.line_rows],
            "tags": [r[1] for r in collector.line_rows],
            "first_node": np.array([r[3] for r in collector.line_rows], dtype="int64"),
            "last_node": np.array([r[4] for r in collector.line_rows], dtype="int64"),
            "truncated": np.array([r[5] for r in collector.line_rows], dtype=bool),
        },
        geometry=shapely.from_wkb([r[2] for r in collector.line_rows]),
        crs="EPSG:4326",
    )
    bounds_geom, bounds_note = derive_extent(collector, lines, path, bounds)
    cut_area_rows = []
    for osm_id, tags, parts in collector.cut_rings:
        geom = close_along_edge(parts, bounds_geom)
        if not geom.is_empty and shapely.area(geom) > 0:
            cut_area_rows.append((osm_id, tags, geom))
    nodes = gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in collector.node_rows],
            "tags": [r[1] for r in collector.node_rows],
            "truncated": np.zeros(len(collector.node_rows), dtype=bool),
        },
        geometry=shapely.points(
            np.array([r[2] for r in collector.node_rows], dtype=float),
            np.array([r[3] for r in collector.node_rows], dtype=float),
        )
        if collector.node_rows
        else [],
        crs="EPSG:4326",
    )
    areas = gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in collector.area_rows] + [r[0] for r in cut_area_rows],
            "tags": [r[1] for r in collector.area_rows] + [r[1] for r in cut_area_rows],
            "truncated": np.array([False] * len(collector.area_rows) + [True] * len(cut_area_rows),
                                  dtype=bool),
        },
        geometry=np.concatenate([shapely.from_wkb([r[2] for r in collector.area_rows]),
                                 np.array([r[2] for r in cut_area_rows], dtype=object)]),
        crs="EPSG:4326",
    )
    logger.info(
        "read %s: %d tagged nodes, %d ways, %d areas", path.name, len(nodes), len(lines), len(areas)
    )
    cut = np.array(collector.cut_points, dtype=float).reshape(-1, 2)
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
    collector: _Collector, lines: gpd.GeoDataFrame, path: Path,
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
    nodes_box = box(collector.min_lon, collector.min_lat, collector.max_lon, collector.max_lat)
    if bounds is not None:
        logger.info("%s: extent given in the config: %s", path.name, list(bounds))
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


def _inner_box(collector: _Collector, lines: gpd.GeoDataFrame) -> BaseGeometry | None:
    if not len(lines):
        return None
    b = shapely.bounds(lines.geometry.to_numpy())  # minx, miny, maxx, maxy per way
    west, south = float(np.min(b[:, 2])), float(np.min(b[:, 3]))
    east, north = float(np.max(b[:, 0])), float(np.max(b[:, 1]))
    if collector.tagged_nodes and collector.way_refs:
        tagged = np.array(collector.tagged_nodes)
        refs = np.unique(np.concatenate(collector.way_refs))
        alone = tagged[~np.isin(tagged[:, 0].astype(np.int64), refs)]
        if len(alone):
            west, south = min(west, alone[:, 1].min()), min(south, alone[:, 2].min())
            east, north = max(east, alone[:, 1].max()), max(north, alone[:, 2].max())
    if not (west < east and south < north):
        return None
    return box(west, south, east, north)
