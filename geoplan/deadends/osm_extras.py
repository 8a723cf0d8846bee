"""OSM features the dead-end rules need that the canonical layers do not expose.

``noexit=yes`` sits on the end NODE of a cul-de-sac; gates are ``barrier=*`` nodes; school,
hospital and university grounds are areas. The canonical layers keep none of these as such,
so this module reads them straight from the extract with :func:`geoplan.layers.osm.read_osm`
and projects them to the analysis CRS.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from geoplan.layers.osm import CONTEXT_KEYS, OsmData

logger = logging.getLogger(__name__)

GATE_BARRIERS: frozenset[str] = frozenset({"gate", "lift_gate", "swing_gate", "sliding_gate", "entrance"})
"""``barrier`` values that mark a controlled way into a compound."""

GROUND_AMENITIES: frozenset[str] = frozenset({
    "school", "university", "college", "kindergarten", "hospital", "clinic", "prison",
    "police", "fire_station",
})
"""``amenity`` values whose grounds are closed to through traffic in Chinese cities."""

GROUND_LANDUSE: frozenset[str] = frozenset({"military", "industrial", "education"})
"""``landuse`` values treated as closed grounds."""

RESTRICTED_ACCESS: frozenset[str] = frozenset({"private", "no", "customers", "permit"})
"""``access`` values that close an area (any tagged area with one of these is a compound)."""

_KEYS = CONTEXT_KEYS

PEDESTRIAN_AREA_HIGHWAYS: frozenset[str] = frozenset({"pedestrian", "footway"})
"""``highway`` values that, with ``area=yes``, make a pedestrian area (a square, a plaza): a
street ending on its outline continues across it."""


@dataclass(frozen=True)
class OsmExtras:
    """Dead-end context read from an OSM file, in the analysis CRS.

    Attributes
    ----------
    noexit_nodes
        Points of nodes tagged ``noexit=yes``.
    gates
        Points of gate-like barrier nodes (:data:`GATE_BARRIERS`).
    grounds
        Polygons of facility grounds and access-restricted areas (column ``kind``).
    pedestrian_areas
        Polygons of pedestrian areas and squares (``highway=pedestrian`` + ``area=yes``,
        ``place=square``, ``area:highway=pedestrian``).
    """

    noexit_nodes: gpd.GeoSeries
    gates: gpd.GeoSeries
    grounds: gpd.GeoDataFrame
    pedestrian_areas: gpd.GeoSeries | None = None


def read_osm_extras(path: str | Path, crs: Any, bounds: tuple[float, ...] | None = None, *,
                    osm: OsmData | None = None) -> OsmExtras:
    """Read noexit nodes, gates and closed grounds from an OSM extract.

    Parameters
    ----------
    path
        The OSM file (.osm, .osm.bz2, .pbf).
    crs
        The analysis CRS to project to (``layerset.crs``).
    bounds
        Extract bounds when the file has no header (as in ``config.osm.bounds``).
    osm
        The file's features with :data:`~geoplan.layers.osm.CONTEXT_KEYS`, when already read
        (``LayerSet.osm_context``, read in the layers' pass): the file is not read again.

    Returns
    -------
    OsmExtras

    Raises
    ------
    geoplan._errors.InputDataError
        If the file cannot be read.
    """
    from geoplan.layers.cache import read_osm_cached

    if osm is None:
        osm = read_osm_cached(Path(path), _KEYS, bounds)
    tags = osm.nodes["tags"]
    noexit = np.array([t.get("noexit", "") in ("yes", "true", "1") for t in tags], dtype=bool)
    gate = np.array([t.get("barrier", "") in GATE_BARRIERS for t in tags], dtype=bool)
    nodes = osm.nodes.to_crs(crs)
    areas = osm.areas
    kinds = [_ground_kind(t) for t in areas["tags"]]
    keep = np.array([k != "" for k in kinds], dtype=bool)
    grounds = gpd.GeoDataFrame(
        {"source_id": areas["osm_id"].to_numpy()[keep], "kind": np.array(kinds, dtype=object)[keep]},
        geometry=areas.geometry.to_numpy()[keep],
        crs=areas.crs,
    ).to_crs(crs)
    square = np.array([_is_pedestrian_area(t) for t in areas["tags"]], dtype=bool)
    extras = OsmExtras(
        noexit_nodes=gpd.GeoSeries(nodes.geometry.to_numpy()[noexit], crs=crs),
        gates=gpd.GeoSeries(nodes.geometry.to_numpy()[gate], crs=crs),
        grounds=grounds,
        pedestrian_areas=gpd.GeoSeries(areas.geometry.to_numpy()[square], crs=areas.crs).to_crs(crs),
    )
    logger.info("dead-end context from %s: %d noexit nodes, %d gates, %d closed grounds",
                Path(path).name, len(extras.noexit_nodes), len(extras.gates), len(grounds))
    return extras


def read_noexit_nodes(path: str | Path, crs: Any, bounds: tuple[float, ...] | None = None) -> gpd.GeoSeries:
    """Points of the nodes tagged ``noexit=yes`` in an OSM file, projected to ``crs``."""
    return read_osm_extras(path, crs, bounds).noexit_nodes


def _is_pedestrian_area(tags: dict[str, str]) -> bool:
    return bool((tags.get("highway") in PEDESTRIAN_AREA_HIGHWAYS and tags.get("area") == "yes")
                or tags.get("place") == "square" or tags.get("area:highway") == "pedestrian")


def _ground_kind(tags: dict[str, str]) -> str:
    if tags.get("amenity") in GROUND_AMENITIES:
        return tags["amenity"]
    if tags.get("landuse") in GROUND_LANDUSE or "military" in tags:
        return tags.get("landuse") or "military"
    if tags.get("access") in RESTRICTED_ACCESS:
        return f"access={tags['access']}"
    return ""
