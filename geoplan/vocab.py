"""The shared vocabulary of geoplan: layer kinds, geometry families, demand kinds.

A leaf module: it imports nothing from geoplan, so every other module (config, layers,
standards, coverage) can name these without importing each other.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "DEMAND_KINDS",
    "GEOMETRY",
    "LAYER_KINDS",
    "LINEAR_KINDS",
    "NEAR_FACTOR",
    "QUAD_SEGS",
    "DemandKind",
    "GeometryFamily",
]

LAYER_KINDS: tuple[str, ...] = (
    "roads",
    "walkways",
    "parks",
    "green_space",
    "entrances",
    "toilets",
    "schools",
    "bus_stops",
    "residential",
    "buildings",
    "water",
    "waterways",
    "railways",
    "services",
    "places",
)
"""Every layer kind geoplan knows, in the order outputs list them (districts come first)."""

GeometryFamily = Literal["point", "line", "area", "point_or_area"]
"""How a layer's features are drawn: points, lines, areas (Polygon / MultiPolygon), or
``point_or_area``: facilities kept as points where mapped as points and as their outline where
mapped as areas and reached from their outline (schools' grounds; see the layer catalog's
``reached_from``)."""

GEOMETRY: dict[str, GeometryFamily] = {
    "districts": "area", "roads": "line", "walkways": "line", "parks": "area",
    "green_space": "area", "entrances": "point", "toilets": "point",
    "schools": "point_or_area", "bus_stops": "point", "residential": "area", "buildings": "area",
    "water": "area", "waterways": "line", "railways": "line", "services": "point_or_area",
    "places": "point",
}
"""The geometry family of each layer kind (and of ``districts``)."""

QUAD_SEGS = 32
"""Segments per quarter circle of a buffer (:mod:`geoplan.coverage.buffers`, and the live
scenario of the map, which must draw the same polygon): the 128-gon's area is within 0.04 %
of the circle's."""

NEAR_FACTOR = 1.5
"""Homes by walking distance: the 'near' band reaches this multiple of a facility's radius
(:mod:`geoplan.coverage.walk_bands`, the map's legend)."""

DemandKind = Literal["residential", "street_main", "street_general", "riverside_park_paths"]
"""What a standard's demand is: residential land (area, people) or street length of a class."""

DEMAND_KINDS: tuple[str, ...] = get_args(DemandKind)
"""Every demand kind, residential first."""

LINEAR_KINDS: tuple[str, ...] = DEMAND_KINDS[1:]
"""Demand kinds measured as street length (the others are residential area)."""
