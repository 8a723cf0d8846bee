"""Read OpenStreetMap files (.osm, .osm.bz2, .osm.gz, .pbf) into raw feature tables.

One pass with pyosmium collects the tagged nodes, the ways as lines and the areas (closed ways
and multipolygon relations) whose tags the layer catalog may use; libosmium's key filter drops
every other object before Python sees it. The result keeps every tag (or the ones asked for),
so the catalog's rules (:mod:`geoplan.layers.rules`) decide what each feature is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
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


_Coord = tuple[float, float]
_LineRow = tuple[str, dict[str, str], bytes, int, int, bool]
_AreaRow = tuple[str, dict[str, str], bytes]

PROGRESS_EVERY = 4096
"""The progress bar of the pass moves once per this many features kept (never per object)."""


class _Extent:
    """What the extent needs from every node and way of the file (see :func:`derive_extent`).

    Filled by :class:`_Scan` when no bounds are given; with bounds given only ``negative`` is
    (possibly) filled, by :func:`_negative_locations` after the pass.
    """

    def __init__(self) -> None:
        self.min_lon = self.min_lat = np.inf
        self.max_lon = self.max_lat = -np.inf
        # for files without a bounds header: where standalone tagged nodes (POIs) lie
        self.tagged_nodes: list[tuple[int, float, float]] = []
        self.way_refs: list[np.ndarray] = []
        # osmium's location index ignores negative ids (files edited in JOSM): kept here
        self.negative: dict[int, _Coord] = {}
        self.scanned = False


class _Scan:
    """Every node and way, before the tag filter: the data's extent, negative ids, way refs.

    Only installed when the extent must be derived from the data (no bounds given); then it
    costs one Python call per object, as reading every node's location must.
    """

    def __init__(self, extent: _Extent, refs: bool) -> None:
        self.extent = extent
        extent.scanned = True
        if refs:  # the way refs only matter to a file without a bounds header
            self.way = self._way

    def node(self, n: osmium.osm.Node) -> None:
        loc = n.location
        if not loc.valid():
            return
        e = self.extent
        lon, lat = loc.lon, loc.lat
        if lon < e.min_lon:
            e.min_lon = lon
        if lon > e.max_lon:
            e.max_lon = lon
        if lat < e.min_lat:
            e.min_lat = lat
        if lat > e.max_lat:
            e.max_lat = lat
        if n.id < 0:
            e.negative[n.id] = (lon, lat)
        if len(n.tags):
            e.tagged_nodes.append((n.id, lon, lat))

    def _way(self, w: osmium.osm.Way) -> None:
        self.extent.way_refs.append(np.fromiter((nd.ref for nd in w.nodes), dtype=np.int64))


class _Tables:
    """The rows one key set collects (what :func:`read_osm` returns for those keys)."""

    def __init__(self, keys: frozenset[str], extent: _Extent) -> None:
        self.keys = keys
        self.extent = extent
        self.node_rows: list[tuple[str, dict[str, str], float, float]] = []
        # as the pass meets them; a way with nodes osmium could not locate stands as a
        # _Partial there until the pass ends (see settle)
        self.line_items: list[_LineRow | _Partial] = []
        self.area_items: list[_AreaRow | _Partial] = []
        self.line_rows: list[_LineRow] = []
        self.area_rows: list[_AreaRow] = []
        # closed ways with missing nodes: runs of present coordinates, closed after the pass
        self.cut_rings: list[tuple[str, dict[str, str], list[list[_Coord]]]] = []
        self.cut_points: list[_Coord] = []
        self.counts: dict[str, int] = {
            "lines_failed": 0, "areas_failed": 0, "ways_truncated": 0, "ways_all_missing": 0,
            "negative_ids": 0, "rings_truncated": 0,
        }

    # derive_extent reads these as it did from the old collector
    @property
    def min_lon(self) -> float:
        return self.extent.min_lon

    @property
    def min_lat(self) -> float:
        return self.extent.min_lat

    @property
    def max_lon(self) -> float:
        return self.extent.max_lon

    @property
    def max_lat(self) -> float:
        return self.extent.max_lat

    @property
    def tagged_nodes(self) -> list[tuple[int, float, float]]:
        return self.extent.tagged_nodes

    @property
    def way_refs(self) -> list[np.ndarray]:
        return self.extent.way_refs

    def settle(self) -> None:
        """Replace each _Partial by what it gives, in the order the ways came."""
        lines: list[_LineRow] = []
        for row in self.line_items:
            if isinstance(row, _Partial):
                done = row.result(self.extent.negative)
                lines.extend(done.lines)
                self.cut_points.extend(done.cut_points)
                if done.ring is not None:
                    self.cut_rings.append((row.osm_id, row.tags, done.ring))
                for key, n in done.counts.items():
                    self.counts[key] += n
            else:
                lines.append(row)
        areas: list[_AreaRow] = []
        for item in self.area_items:
            if isinstance(item, _Partial):
                area = item.result(self.extent.negative).area
                if area is not None:
                    areas.append(area)
            else:
                areas.append(item)
        self.line_rows, self.area_rows = lines, areas
        self.line_items, self.area_items = [], []


@dataclass
class _Settled:
    lines: list[_LineRow]
    area: _AreaRow | None
    ring: list[list[_Coord]] | None
    cut_points: list[_Coord]
    counts: dict[str, int]


class _Partial:
    """A way with nodes osmium could not locate: negative ids, or nodes not in the file.

    Settled after the pass, when the negative ids' locations are known.
    """

    def __init__(self, w: osmium.osm.Way, tags: dict[str, str]) -> None:
        self.osm_id = f"w{w.id}"
        self.tags = tags
        self.refs: list[int] = []
        self.coords: list[_Coord | None] = []
        for nd in w.nodes:
            self.refs.append(nd.ref)
            loc = nd.location
            self.coords.append((loc.lon, loc.lat) if loc.valid() else None)
        self._done: _Settled | None = None

    @property
    def closed(self) -> bool:
        return self.refs[0] == self.refs[-1] and len(self.refs) >= 4

    def missing_negative(self) -> list[int]:
        """The negative ids this way still needs located."""
        return [r for r, c in zip(self.refs, self.coords, strict=True) if c is None and r < 0]

    def result(self, negative: dict[int, _Coord]) -> _Settled:
        if self._done is None:
            self._done = self._settle(negative)
        return self._done

    def _settle(self, negative: dict[int, _Coord]) -> _Settled:
        refs, osm_id, tags = self.refs, self.osm_id, self.tags
        coords = [c if c is not None else negative.get(r)
                  for r, c in zip(refs, self.coords, strict=True)]
        counts = dict.fromkeys(("negative_ids", "ways_truncated", "ways_all_missing",
                                "rings_truncated"), 0)
        cut_points: list[_Coord] = []
        if any(r < 0 for r in refs):
            counts["negative_ids"] += 1
        closed = self.closed
        missing = [c is None for c in coords]
        if not any(missing):  # only negative ids: a complete way
            runs = [(0, len(refs) - 1)]
        else:
            counts["ways_truncated"] += 1
            runs = _runs(missing)
            for lo, hi in runs:  # the ends next to a missing node were made by the cut
                if lo > 0 or (closed and missing[-2]):
                    cut_points.append(coords[lo])  # type: ignore[arg-type]
                if hi < len(refs) - 1 or (closed and missing[1]):
                    cut_points.append(coords[hi])  # type: ignore[arg-type]
        truncated = any(missing)
        parts = [[c for c in coords[lo:hi + 1] if c is not None] for lo, hi in runs]
        ends = [(refs[lo], refs[hi]) for lo, hi in runs]
        if closed and truncated and not missing[0] and len(parts) > 1:
            # the ring's last and first runs meet at its closing node: one run
            parts = [parts[-1] + parts[0][1:], *parts[1:-1]]
            ends = [(ends[-1][0], ends[0][1]), *ends[1:-1]]
        lines: list[_LineRow] = []
        for part, (first, last) in zip(parts, ends, strict=True):
            xy = _dedupe(part)
            if len(xy) >= 2:
                lines.append((osm_id, tags, shapely.to_wkb(LineString(xy)), first, last,
                              truncated))
        if truncated and not lines:
            counts["ways_all_missing"] += 1
        area: _AreaRow | None = None
        ring: list[list[_Coord]] | None = None
        if closed and tags.get("area") != "no":
            if truncated:
                counts["rings_truncated"] += 1
                ring = parts
            elif len(_dedupe(parts[0])) >= 4:
                area = (osm_id, tags, shapely.to_wkb(Polygon(parts[0])))
        return _Settled(lines, area, ring, cut_points, counts)


class _Reader(osmium.SimpleHandler):
    """The objects that passed the C++ tag filter: each read once, handed to every key set
    that uses one of its keys (tags kept to ``keep``)."""

    def __init__(self, tables: list[_Tables], keep: frozenset[str] | None,
                 tick: Callable[[int], None]) -> None:
        super().__init__()
        self.tables = tables
        self.keep = keep
        self.wkb = osmium.geom.WKBFactory()
        self.tick = tick
        self.seen = 0
        self.strings: dict[str, str] = {}

    def _tags(self, taglist: osmium.osm.TagList) -> tuple[dict[str, str], list[_Tables]]:
        tags = _tag_dict(taglist, self.keep, self.strings)
        wanted = [t for t in self.tables if not t.keys.isdisjoint(tags)]
        self.seen += 1
        if self.seen % PROGRESS_EVERY == 0:
            self.tick(PROGRESS_EVERY)
        return tags, wanted

    def node(self, n: osmium.osm.Node) -> None:
        loc = n.location
        if not loc.valid():
            return
        tags, wanted = self._tags(n.tags)
        if wanted:
            row = (f"n{n.id}", tags, loc.lon, loc.lat)
            for t in wanted:
                t.node_rows.append(row)

    def way(self, w: osmium.osm.Way) -> None:
        nodes = w.nodes
        if len(nodes) < 2:
            return
        tags, wanted = self._tags(w.tags)
        if not wanted:
            return
        # the factory skips missing nodes at a way's start without a word, so look there
        # first; after a located node, any missing one raises InvalidLocationError
        if nodes[0].location.valid():
            try:
                wkb = self.wkb.create_linestring(w, use_nodes=osmium.geom.use_nodes.UNIQUE)
            except osmium.InvalidLocationError:
                pass
            except RuntimeError:
                for t in wanted:
                    t.counts["lines_failed"] += 1
                return
            else:
                row = (f"w{w.id}", tags, bytes.fromhex(wkb), nodes[0].ref,
                       nodes[len(nodes) - 1].ref, False)
                for t in wanted:
                    t.line_items.append(row)
                return
        partial = _Partial(w, tags)
        ring = partial.closed and tags.get("area") != "no"
        for t in wanted:
            t.line_items.append(partial)
            if ring:
                t.area_items.append(partial)

    def area(self, a: osmium.osm.Area) -> None:
        tags, wanted = self._tags(a.tags)
        if not wanted:
            return
        try:
            wkb = self.wkb.create_multipolygon(a)
        except (RuntimeError, osmium.InvalidLocationError):
            for t in wanted:
                t.counts["areas_failed"] += 1
            return
        prefix = "w" if a.from_way() else "r"
        row = (f"{prefix}{a.orig_id()}", tags, bytes.fromhex(wkb))
        for t in wanted:
            t.area_items.append(row)


def _tag_dict(taglist: osmium.osm.TagList, keep: frozenset[str] | None,
              strings: dict[str, str]) -> dict[str, str]:
    """An object's tags as a dict, only the keys in ``keep`` (all when None).

    Keys and values are shared through ``strings``: a city's thousands of ``highway`` keys and
    ``residential`` values are one string each, not one per feature.
    """
    try:
        data = taglist._pyosmium_data
    except AttributeError:  # a pyosmium without the C++ tag cursor: its public iteration
        pairs = [(t.k, t.v) for t in taglist]
    else:
        # pyosmium's own iterator adds a Python frame per tag: the cursor halves the read
        cursor = data.tags_begin()
        pairs = [data.tags_next(cursor) for _ in range(data.tags_size())]
    share = strings.setdefault
    return {share(key, key): share(value, value) for key, value in pairs
            if keep is None or key in keep}


class _Negatives(osmium.SimpleHandler):
    """A nodes-only pass for the negative ids a way needs (editors' files, bounds given)."""

    def __init__(self, wanted: set[int], found: dict[int, _Coord]) -> None:
        super().__init__()
        self.wanted = wanted
        self.found = found

    def node(self, n: osmium.osm.Node) -> None:
        if n.id < 0 and n.id in self.wanted:
            loc = n.location
            if loc.valid():
                self.found[n.id] = (loc.lon, loc.lat)


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
    extent = _Extent()
    sets = [_Tables(frozenset(keys), extent) for keys in key_sets]
    union: frozenset[str] = frozenset().union(*(t.keys for t in sets))
    keep = None if keep_tags is None else frozenset(keep_tags) | union
    filters: list[object] = []
    if bounds is None:  # the extent comes from the data: every node's location is needed
        filters.append(_Scan(extent, refs=_header_bounds(path) is None))
    filters.append(osmium.filter.KeyFilter(*sorted(union)) if union
                   else osmium.filter.EntityFilter(osmium.osm.NOTHING))
    try:
        with counter(f"reading {path.name}", unit=" features") as progress:
            reader = _Reader(sets, keep, progress.update)
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
            f"cannot read OSM file {path}: {exc}. The file is corrupt, truncated or not OSM "
            "data (expected .osm, .osm.bz2 or .pbf); download or export it again."
        ) from exc
    wanted = list(tables) if tables is not None else [None] * len(sets)
    return [_osm_data(t, path, bounds, w) for t, w in zip(sets, wanted, strict=True)]


def _negative_locations(path: Path, tables: list[_Tables], extent: _Extent) -> None:
    """Locate the negative ids that ways need, when the pass did not look at every node."""
    wanted = {r for t in tables for row in t.line_items if isinstance(row, _Partial)
              for r in row.missing_negative()}
    if wanted:
        logger.info("%s: locating %d nodes with negative ids (an editor's file)", path.name,
                    len(wanted))
        _Negatives(wanted, extent.negative).apply_file(str(path))


def _no_nodes(path: Path, tables: list[_Tables], extent: _Extent) -> bool:
    """Whether the file holds no node with a location."""
    if extent.scanned:
        return not np.isfinite(extent.min_lon)
    if any(t.node_rows or t.line_rows or t.area_rows for t in tables):
        return False
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE):
        if isinstance(obj, osmium.osm.Node) and obj.location.valid():
            return False
    return True


def _osm_data(tables: _Tables, path: Path, bounds: tuple[float, ...] | None,
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
    collector: _Tables, lines: gpd.GeoDataFrame, path: Path,
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


def _inner_box(collector: _Tables, lines: gpd.GeoDataFrame) -> BaseGeometry | None:
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
