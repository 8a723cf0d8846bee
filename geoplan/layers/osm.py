"""Read OpenStreetMap files (.osm, .osm.bz2, .osm.gz, .pbf) into raw feature tables.

One pass with pyosmium collects the tagged nodes, the ways as lines and the areas (closed ways
and multipolygon relations) whose tags the layer catalog may use. The result keeps every tag,
so the catalog's rules (:mod:`geoplan.layers.rules`) decide what each feature is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geoplan._errors import InputDataError

logger = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".pbf", ".osm.pbf", ".xml", ".osm.xml")


@dataclass(frozen=True)
class OsmData:
    """Raw OSM features in WGS84 (EPSG:4326), tags kept as dicts.

    Attributes
    ----------
    nodes, lines, areas
        GeoDataFrames with columns ``osm_id`` ("n123", "w45", "r6"), ``tags`` (dict) and
        ``geometry``. ``lines`` holds every tagged way as a LineString (closed ways too);
        ``areas`` holds closed ways and multipolygon relations as (Multi)Polygons.
        ``lines`` also has ``first_node``/``last_node`` (OSM node ids of the way's ends) and
        ``truncated`` (the way references nodes the file does not contain).
    bounds
        The extract's bounding box from the file header, or the data's extent when the
        header has none. Roads cut by this edge are not real dead ends.
    source
        The file the data came from.
    bounds_note
        Empty when the bounds were given or read from the header; otherwise the warning that
        they are an estimate (shown by the loader on every run, cached or not).
    """

    nodes: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    bounds: BaseGeometry
    source: str
    bounds_note: str = ""


class _Collector(osmium.SimpleHandler):
    """Collect tagged OSM objects whose keys the catalog uses."""

    def __init__(self, keys: frozenset[str]) -> None:
        super().__init__()
        self.keys = keys
        self.wkb = osmium.geom.WKBFactory()
        self.node_rows: list[tuple[str, dict[str, str], float, float]] = []
        self.line_rows: list[tuple[str, dict[str, str], bytes, int, int, bool]] = []
        self.area_rows: list[tuple[str, dict[str, str], bytes]] = []
        self.failed: dict[str, int] = {"lines": 0, "areas": 0}
        self.min_lon = self.min_lat = np.inf
        self.max_lon = self.max_lat = -np.inf
        # for files without a bounds header: where standalone tagged nodes (POIs) lie
        self.tagged_nodes: list[tuple[int, float, float]] = []
        self.way_refs: list[np.ndarray] = []

    def _wanted(self, tags: osmium.osm.TagList) -> dict[str, str] | None:
        if len(tags) == 0:
            return None
        for tag in tags:
            if tag.k in self.keys:
                return {t.k: t.v for t in tags}
        return None

    def node(self, n: osmium.osm.Node) -> None:
        loc = n.location
        if loc.valid():
            self.min_lon = min(self.min_lon, loc.lon)
            self.max_lon = max(self.max_lon, loc.lon)
            self.min_lat = min(self.min_lat, loc.lat)
            self.max_lat = max(self.max_lat, loc.lat)
            if len(n.tags):
                self.tagged_nodes.append((n.id, loc.lon, loc.lat))
        tags = self._wanted(n.tags)
        if tags is None or not loc.valid():
            return
        self.node_rows.append((f"n{n.id}", tags, loc.lon, loc.lat))

    def way(self, w: osmium.osm.Way) -> None:
        self.way_refs.append(np.fromiter((nd.ref for nd in w.nodes), dtype=np.int64))
        tags = self._wanted(w.tags)
        if tags is None or len(w.nodes) < 2:
            return
        truncated = any(not nd.location.valid() for nd in w.nodes)
        try:
            wkb = self.wkb.create_linestring(w, use_nodes=osmium.geom.use_nodes.UNIQUE)
        except (RuntimeError, osmium.InvalidLocationError):
            self.failed["lines"] += 1
            return
        self.line_rows.append(
            (f"w{w.id}", tags, bytes.fromhex(wkb), w.nodes[0].ref, w.nodes[-1].ref, truncated)
        )

    def area(self, a: osmium.osm.Area) -> None:
        tags = self._wanted(a.tags)
        if tags is None:
            return
        try:
            wkb = self.wkb.create_multipolygon(a)
        except (RuntimeError, osmium.InvalidLocationError):
            self.failed["areas"] += 1
            return
        prefix = "w" if a.from_way() else "r"
        self.area_rows.append((f"{prefix}{a.orig_id()}", tags, bytes.fromhex(wkb)))


def read_osm(
    path: str | Path, keys: frozenset[str] | set[str], bounds: tuple[float, ...] | None = None
) -> OsmData:
    """Read an OSM file, keeping features that carry any of ``keys``.

    Parameters
    ----------
    path
        An OSM XML (.osm, optionally .bz2/.gz compressed) or PBF file.
    keys
        Tag keys that make a feature interesting (the catalog's keys).
    bounds
        (min lon, min lat, max lon, max lat) of the extract when known; otherwise the file's
        bounds header, or an estimate (see :func:`_estimate_bounds`).

    Returns
    -------
    OsmData

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
    collector = _Collector(frozenset(keys))
    try:
        collector.apply_file(str(path), locations=True)
    except Exception as exc:  # pyosmium raises RuntimeError/ValueError subclasses of many kinds
        raise InputDataError(
            f"cannot read OSM file {path}: {exc}. The file is corrupt, truncated or not OSM "
            "data (expected .osm, .osm.bz2 or .pbf); download or export it again."
        ) from exc
    if not np.isfinite(collector.min_lon):
        raise InputDataError(f"OSM file {path} contains no nodes; it is empty or not OSM data.")
    for kind, n in collector.failed.items():
        if n:
            logger.warning("%s: %d %s could not be assembled (broken geometry), skipped", path, n, kind)

    extent = box(collector.min_lon, collector.min_lat, collector.max_lon, collector.max_lat)
    bounds_note = ""
    if bounds is not None:
        bounds_geom = box(*bounds)
    else:
        bounds_geom = _header_bounds(path)
        if bounds_geom is None:
            bounds_geom, bounds_note = _estimate_bounds(collector, extent, path)
    nodes = gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in collector.node_rows],
            "tags": [r[1] for r in collector.node_rows],
        },
        geometry=shapely.points(
            np.array([r[2] for r in collector.node_rows], dtype=float),
            np.array([r[3] for r in collector.node_rows], dtype=float),
        )
        if collector.node_rows
        else [],
        crs="EPSG:4326",
    )
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
    areas = gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in collector.area_rows],
            "tags": [r[1] for r in collector.area_rows],
        },
        geometry=shapely.from_wkb([r[2] for r in collector.area_rows]),
        crs="EPSG:4326",
    )
    logger.info(
        "read %s: %d tagged nodes, %d ways, %d areas", path.name, len(nodes), len(lines), len(areas)
    )
    return OsmData(nodes=nodes, lines=lines, areas=areas, bounds=bounds_geom, source=str(path),
                   bounds_note=bounds_note)


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


def _estimate_bounds(
    collector: _Collector, extent: BaseGeometry, path: Path
) -> tuple[BaseGeometry, str]:
    """Estimate an extract's coverage when its file has no bounds header.

    Extracts cut by a box keep whole ways, so way nodes reach past the box; standalone tagged
    nodes (shops, stops, toilets) are kept only inside it. Their bounding box is the estimate.
    Returns the estimate and the note telling the user it is one.
    """
    if collector.tagged_nodes and collector.way_refs:
        tagged = np.array(collector.tagged_nodes)
        refs = np.unique(np.concatenate(collector.way_refs))
        alone = tagged[~np.isin(tagged[:, 0].astype(np.int64), refs)]
        if len(alone) >= 10:
            estimate = box(alone[:, 1].min(), alone[:, 2].min(), alone[:, 1].max(), alone[:, 2].max())
            return estimate, (
                f"{path.name} has no bounds header: the extract's edge is estimated from its "
                f"standalone points as {[round(v, 4) for v in estimate.bounds]}. Set osm.bounds "
                "in the config to give it exactly."
            )
    return extent, (f"{path.name} has no bounds header: using the extent of all its nodes. Set "
                    "osm.bounds in the config to give the extract's edge exactly.")
