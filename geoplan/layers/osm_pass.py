"""The pass over an OSM file behind :func:`geoplan.layers.osm.read_osm_sets`.

What Python does with the objects libosmium's key filter lets through: each object's tags read
once (only the keys kept), its geometry built once and handed to every key set that uses one of
its keys; ways with nodes the location index could not find settled after the pass; and, when
the extent must come from the data, the scan of every node and way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import osmium
import shapely
from shapely.geometry import LineString, Polygon

Coord = tuple[float, float]
LineRow = tuple[str, dict[str, str], bytes, int, int, bool]
AreaRow = tuple[str, dict[str, str], bytes]

PROGRESS_EVERY = 4096
"""The progress bar of the pass moves once per this many features kept (never per object)."""


class Extent:
    """What the extent needs from every node and way of the file (see :func:`derive_extent`).

    Filled by :class:`Scan` when no bounds are given; with bounds given only ``negative`` is
    (possibly) filled, by :func:`_negative_locations` after the pass.
    """

    def __init__(self) -> None:
        self.min_lon = self.min_lat = np.inf
        self.max_lon = self.max_lat = -np.inf
        # for files without a bounds header: where standalone tagged nodes (POIs) lie
        self.tagged_nodes: list[tuple[int, float, float]] = []
        self.way_refs: list[np.ndarray] = []
        # osmium's location index ignores negative ids (files edited in JOSM): kept here
        self.negative: dict[int, Coord] = {}
        self.scanned = False


class Scan:
    """Every node and way, before the tag filter: the data's extent, negative ids, way refs.

    Only installed when the extent must be derived from the data (no bounds given); then it
    costs one Python call per object, as reading every node's location must.
    """

    def __init__(self, extent: Extent, refs: bool) -> None:
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


class KeySetRows:
    """The rows one key set collects (what :func:`read_osm` returns for those keys)."""

    def __init__(self, keys: frozenset[str], extent: Extent) -> None:
        self.keys = keys
        self.extent = extent
        self.node_rows: list[tuple[str, dict[str, str], float, float]] = []
        # as the pass meets them; a way with nodes osmium could not locate stands as a
        # PartialWay there until the pass ends (see settle)
        self.line_items: list[LineRow | PartialWay] = []
        self.area_items: list[AreaRow | PartialWay] = []
        self.line_rows: list[LineRow] = []
        self.area_rows: list[AreaRow] = []
        # closed ways with missing nodes: runs of present coordinates, closed after the pass
        self.cut_rings: list[tuple[str, dict[str, str], list[list[Coord]]]] = []
        self.cut_points: list[Coord] = []
        self.counts: dict[str, int] = {
            "lines_failed": 0, "areas_failed": 0, "ways_truncated": 0, "ways_all_missing": 0,
            "negative_ids": 0, "rings_truncated": 0,
        }

    def settle(self) -> None:
        """Replace each PartialWay by what it gives, in the order the ways came."""
        lines: list[LineRow] = []
        for row in self.line_items:
            if isinstance(row, PartialWay):
                done = row.result(self.extent.negative)
                lines.extend(done.lines)
                self.cut_points.extend(done.cut_points)
                if done.ring is not None:
                    self.cut_rings.append((row.osm_id, row.tags, done.ring))
                for key, n in done.counts.items():
                    self.counts[key] += n
            else:
                lines.append(row)
        areas: list[AreaRow] = []
        for item in self.area_items:
            if isinstance(item, PartialWay):
                area = item.result(self.extent.negative).area
                if area is not None:
                    areas.append(area)
            else:
                areas.append(item)
        self.line_rows, self.area_rows = lines, areas
        self.line_items, self.area_items = [], []


@dataclass
class Settled:
    lines: list[LineRow]
    area: AreaRow | None
    ring: list[list[Coord]] | None
    cut_points: list[Coord]
    counts: dict[str, int]


class PartialWay:
    """A way with nodes osmium could not locate: negative ids, or nodes not in the file.

    Settled after the pass, when the negative ids' locations are known.
    """

    def __init__(self, w: osmium.osm.Way, tags: dict[str, str]) -> None:
        self.osm_id = f"w{w.id}"
        self.tags = tags
        self.refs: list[int] = []
        self.coords: list[Coord | None] = []
        for nd in w.nodes:
            self.refs.append(nd.ref)
            loc = nd.location
            self.coords.append((loc.lon, loc.lat) if loc.valid() else None)
        self._done: Settled | None = None

    @property
    def closed(self) -> bool:
        return self.refs[0] == self.refs[-1] and len(self.refs) >= 4

    def missing_negative(self) -> list[int]:
        """The negative ids this way still needs located."""
        return [r for r, c in zip(self.refs, self.coords, strict=True) if c is None and r < 0]

    def result(self, negative: dict[int, Coord]) -> Settled:
        if self._done is None:
            self._done = self._settle(negative)
        return self._done

    def _settle(self, negative: dict[int, Coord]) -> Settled:
        refs, osm_id, tags = self.refs, self.osm_id, self.tags
        coords = [c if c is not None else negative.get(r)
                  for r, c in zip(refs, self.coords, strict=True)]
        counts = dict.fromkeys(("negative_ids", "ways_truncated", "ways_all_missing",
                                "rings_truncated"), 0)
        cut_points: list[Coord] = []
        if any(r < 0 for r in refs):
            counts["negative_ids"] += 1
        closed = self.closed
        missing = [c is None for c in coords]
        if not any(missing):  # only negative ids: a complete way
            runs = [(0, len(refs) - 1)]
        else:
            counts["ways_truncated"] += 1
            runs = present_runs(missing)
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
        lines: list[LineRow] = []
        for part, (first, last) in zip(parts, ends, strict=True):
            xy = dedupe(part)
            if len(xy) >= 2:
                lines.append((osm_id, tags, shapely.to_wkb(LineString(xy)), first, last,
                              truncated))
        if truncated and not lines:
            counts["ways_all_missing"] += 1
        area: AreaRow | None = None
        ring: list[list[Coord]] | None = None
        if closed and tags.get("area") != "no":
            if truncated:
                counts["rings_truncated"] += 1
                ring = parts
            elif len(dedupe(parts[0])) >= 4:
                area = (osm_id, tags, shapely.to_wkb(Polygon(parts[0])))
        return Settled(lines, area, ring, cut_points, counts)


class PassReader(osmium.SimpleHandler):
    """The objects that passed the C++ tag filter: each read once, handed to every key set
    that uses one of its keys (tags kept to ``keep``)."""

    def __init__(self, tables: list[KeySetRows], keep: frozenset[str] | None,
                 tick: Callable[[int], None]) -> None:
        super().__init__()
        self.tables = tables
        self.keep = keep
        self.wkb = osmium.geom.WKBFactory()
        self.tick = tick
        self.seen = 0
        self.strings: dict[str, str] = {}

    def _tags(self, taglist: osmium.osm.TagList) -> tuple[dict[str, str], list[KeySetRows]]:
        tags = tag_dict(taglist, self.keep, self.strings)
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
        partial = PartialWay(w, tags)
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


def tag_dict(taglist: osmium.osm.TagList, keep: frozenset[str] | None,
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


class NegativeIds(osmium.SimpleHandler):
    """A nodes-only pass for the negative ids a way needs (editors' files, bounds given)."""

    def __init__(self, wanted: set[int], found: dict[int, Coord]) -> None:
        super().__init__()
        self.wanted = wanted
        self.found = found

    def node(self, n: osmium.osm.Node) -> None:
        if n.id < 0 and n.id in self.wanted:
            loc = n.location
            if loc.valid():
                self.found[n.id] = (loc.lon, loc.lat)


def present_runs(missing: list[bool]) -> list[tuple[int, int]]:
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


def dedupe(xy: list[Coord]) -> list[Coord]:
    """Drop consecutive repeated coordinates."""
    out = [c for i, c in enumerate(xy) if i == 0 or c != xy[i - 1]]
    return out
