"""The shared vocabulary of geoplan: layer kinds and their columns, geometry families, demand kinds.

A leaf module: it imports nothing from geoplan, so every other module (config, layers,
standards, coverage) can name these without importing each other.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "COMMON_COLUMNS",
    "DEFAULT_UNIT",
    "DEMAND_KINDS",
    "GEOMETRY",
    "HIGHWAY_ZH",
    "LAYER_COLUMNS",
    "LAYER_KINDS",
    "LINEAR_KINDS",
    "MIN_STREET_GAP_M",
    "NEAR_FACTOR",
    "QUAD_SEGS",
    "WHOLE_DISTRICT_SHARE",
    "DemandKind",
    "GeometryFamily",
    "highway_zh",
]

WHOLE_DISTRICT_SHARE = 0.999
"""A district with at least this share of its area inside the data counts as wholly inside;
below it, every output says the district is only partly covered (and by how much)."""

MIN_STREET_GAP_M = 5.0
"""Uncovered street stretches shorter than this (slivers at buffer edges) are not listed as
street gaps; the reports say so beside their totals."""

DEFAULT_UNIT = "区县"
"""What the analysis units are called when the config does not say (``districts.unit``)."""

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

COMMON_COLUMNS: dict[str, str] = {"source": "str", "source_id": "str", "name": "str"}
"""Columns every layer carries, with their types: ``source`` (file name), ``source_id`` (OSM id
or row number of a file) and ``name``."""

LAYER_COLUMNS: dict[str, dict[str, str]] = {
    "districts": {"district": "str", "code": "str", "area_m2": "float", "full_area_m2": "float",
                  "inside_km2": "float", "inside_share": "float"},
    "roads": {"highway": "str", "road_class": "str", "is_public": "bool", "access": "str",
              "service": "str", "noexit": "bool", "oneway": "bool", "bridge": "bool",
              "tunnel": "bool", "truncated": "bool", "length_m": "float",
              # carriageway width (m) and lanes from the `width` / `lanes` tags (NaN: absent or
              # unreadable); width_tag_bad: a tag was given but could not be read
              "width": "float", "lanes": "float", "width_tag_bad": "bool"},
    "walkways": {"highway": "str", "length_m": "float"},
    "parks": {"kind": "str", "access": "str", "area_m2": "float"},
    "green_space": {"kind": "str", "access": "str", "area_m2": "float"},
    "entrances": {"kind": "str"},
    "toilets": {"access": "str", "fee": "str"},
    "schools": {"levels": "str", "primary": "bool", "junior": "bool", "senior": "bool",
                "level_from": "str",
                # seats (学位) from a planner's file: capacity, or classes × class size, or the
                # site area (m²) ÷ a per-pupil norm; NaN when unknown (OSM rarely has them)
                "capacity": "float", "classes": "float", "site_area_m2": "float"},
    "bus_stops": {"n_merged": "int", "members": "str"},
    "residential": {"landuse": "str", "area_m2": "float"},
    "buildings": {"building": "str", "levels": "float", "is_residential": "bool",
                  "area_m2": "float", "floor_area_m2": "float"},
    "water": {"kind": "str", "area_m2": "float"},
    "waterways": {"kind": "str", "length_m": "float"},
    "railways": {"kind": "str"},
    "services": {"kind": "str"},
    "places": {"kind": "str"},
}
"""Columns (besides the common ones and ``geometry``) of each layer kind, with their types."""

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


HIGHWAY_ZH: dict[str, str] = {
    "motorway": "高速公路", "trunk": "快速路", "primary": "主干路", "secondary": "次干路",
    "tertiary": "支路", "unclassified": "未分级道路", "residential": "居住区道路",
    "living_street": "生活性街道", "service": "服务性道路", "pedestrian": "步行街",
    "footway": "人行道", "path": "小径", "cycleway": "自行车道", "steps": "台阶", "track": "乡间道路",
    "motorway_link": "高速公路匝道", "trunk_link": "快速路匝道", "primary_link": "主干路连接线",
    "secondary_link": "次干路连接线", "tertiary_link": "支路连接线", "road": "未分类道路",
}
"""OSM road classes (``highway``) by their Chinese names, as reports, workbook and terminal
name them."""


def highway_zh(highway: str) -> str:
    """An OSM road class in Chinese (itself when not a known class).

    >>> highway_zh("residential"), highway_zh("busway")
    ('居住区道路', 'busway')
    """
    return HIGHWAY_ZH.get(highway, highway)
