"""Turn raw OSM features into canonical layers by the catalog's rules (still in WGS84).

Measures (areas, lengths) and merges that need metres happen later, in
:mod:`geoplan.layers.prepare`, after projection.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.layers import rules
from geoplan.layers.osm import OsmData
from geoplan.layers.road_tags import parse_lanes, parse_width
from geoplan.layers.schema import conform, empty_layer
from geoplan.layers.school_levels import classify_school

logger = logging.getLogger(__name__)

_YES = {"yes", "true", "1"}


TRUNCATED_ISSUE = "kept from truncated data (a way with nodes missing from the file)"
"""The issue-log reason for features built from ways with missing nodes."""

BAD_WIDTH_ISSUE = ("unreadable width or lanes tag: the next source of the width (lanes, else "
                   "the class default) is used")
"""The issue-log reason for roads whose ``width``/``lanes`` tag could not be read."""


_KIND_KEYS = ("leisure", "landuse", "natural", "waterway", "water", "railway", "entrance",
              "barrier", "amenity", "place")
"""Keys whose value is a generic layer's ``kind`` (the first one present)."""

BUILDER_KEYS: frozenset[str] = frozenset({
    *_KIND_KEYS, "highway", "access", "service", "noexit", "oneway", "bridge", "tunnel",
    "width", "lanes", "fee", "building", "building:levels", "landuse", "isced:level", "school",
    *rules.NAME_KEYS})
"""Tag keys the layer builders below read besides the catalog's rules (names, road
attributes, school levels, building levels)."""


def tag_keys(catalog: Mapping[str, Any]) -> frozenset[str]:
    """Every tag key that building the layers of ``catalog`` reads.

    The keys of every rule (include, exclude, private, services' kinds; ``name`` conditions
    read every name key) and :data:`BUILDER_KEYS`. The OSM reader keeps only these (plus the
    dead-end context's and the boundaries' keys): other tags cannot change a layer.
    """
    keys: set[str] = set(BUILDER_KEYS)
    for spec in catalog["layers"].values():
        groups = [spec.get("include"), spec.get("exclude"), spec.get("private"),
                  *(spec.get("kinds") or {}).values()]
        for group in groups:
            for rule in group or ():
                for key in rule:
                    keys.add(key.removesuffix("~").removesuffix("!"))
    return frozenset(keys)


def osm_layers(
    osm: OsmData, catalog: Mapping[str, Any],
    issues: list[tuple[str, str, int, str]] | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Build every catalog layer kind from ``osm``.

    Parameters
    ----------
    osm
        The raw features.
    catalog
        The layer catalog.
    issues
        When given, one ``(layer, issue, count, action)`` entry is appended per layer kind
        holding features built from truncated ways.

    Returns
    -------
    dict
        Layer kind to GeoDataFrame in EPSG:4326 with canonical columns.
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    for kind, spec in catalog["layers"].items():
        keep_areas = spec["geometry"] == "point" and (
            rules.reached_from(spec) == "outline" or bool(rules.outline_kinds(spec)))
        frame = _candidates(osm, spec["geometry"], keep_areas)
        if kind == "services":
            frame = _services(frame, spec)
            if keep_areas:
                frame = _points_unless_outline(frame, rules.outline_kinds(spec))
        else:
            keep = rules.select(spec, frame["tags"])
            frame = frame.loc[np.asarray(keep, dtype=bool)].copy()
        if issues is not None and "truncated" in frame.columns:
            n_cut = int(frame["truncated"].astype(bool).sum())
            if n_cut:
                issues.append((kind, TRUNCATED_ISSUE, n_cut, "repaired"))
        builder = _BUILDERS.get(kind, _generic)
        layer = builder(frame, spec) if len(frame) else frame
        if issues is not None and "width_tag_bad" in layer.columns:
            n_bad = int(layer["width_tag_bad"].astype(bool).sum())
            if n_bad:
                issues.append((kind, BAD_WIDTH_ISSUE, n_bad, "repaired"))
        layer = _common(layer, osm.source) if len(layer) else empty_layer(kind, "EPSG:4326")
        out[kind] = conform(layer, kind)
        logger.debug("osm layer %s: %d features", kind, len(out[kind]))
    return out


def _candidates(osm: OsmData, geometry: str, keep_areas: bool = False) -> gpd.GeoDataFrame:
    if geometry == "line":
        return osm.lines
    if geometry == "area":
        return osm.areas
    # points: tagged nodes plus areas, reduced to a point inside them unless the catalog
    # says the layer is reached from its outline (schools' grounds)
    cols = ["osm_id", "tags", "truncated", "geometry"]
    areas = osm.areas[[c for c in cols if c in osm.areas.columns]].copy()
    if not keep_areas:
        areas["geometry"] = areas.geometry.representative_point()
    nodes = osm.nodes[[c for c in cols if c in osm.nodes.columns]]
    return gpd.GeoDataFrame(pd.concat([nodes, areas], ignore_index=True), crs="EPSG:4326")


def _common(frame: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["source"] = source.rsplit("/", 1)[-1]
    frame["source_id"] = frame["osm_id"]
    frame["name"] = [rules.display_name(t) for t in frame["tags"]]
    return frame


def _tag(frame: gpd.GeoDataFrame, key: str) -> list[str]:
    return [t.get(key, "") for t in frame["tags"]]


def _generic(frame: gpd.GeoDataFrame, spec: Mapping[str, Any]) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["kind"] = [_first_value(t, _KIND_KEYS) for t in frame["tags"]]
    frame["access"] = _tag(frame, "access")
    return frame


def _first_value(tags: Mapping[str, str], keys: tuple[str, ...]) -> str:
    for key in keys:
        if key in tags:
            return tags[key]
    return ""


def _roads(frame: gpd.GeoDataFrame, spec: Mapping[str, Any]) -> gpd.GeoDataFrame:
    frame = frame.copy()
    class_of = {hw: cls for cls, values in spec.get("classes", {}).items() for hw in values}
    frame["highway"] = _tag(frame, "highway")
    frame["road_class"] = [class_of.get(hw, "other") for hw in frame["highway"]]
    frame["access"] = _tag(frame, "access")
    frame["service"] = _tag(frame, "service")
    frame["is_public"] = [not rules.any_rule_matches(spec.get("private"), t) for t in frame["tags"]]
    frame["noexit"] = [t.get("noexit", "") in _YES for t in frame["tags"]]
    frame["oneway"] = [t.get("oneway", "") in (_YES | {"-1"}) for t in frame["tags"]]
    frame["bridge"] = [t.get("bridge", "no") not in ("no", "") for t in frame["tags"]]
    frame["tunnel"] = [t.get("tunnel", "no") not in ("no", "") for t in frame["tags"]]
    widths = [parse_width(t.get("width")) for t in frame["tags"]]
    lanes = [parse_lanes(t.get("lanes")) for t in frame["tags"]]
    frame["width"] = [w for w, _ in widths]
    frame["lanes"] = [n for n, _ in lanes]
    # a bad tag counts only where it decides: a bad lanes tag under a good width does not
    frame["width_tag_bad"] = [wb or (lb and not np.isfinite(w))
                              for (w, wb), (_, lb) in zip(widths, lanes, strict=True)]
    return frame


def _walkways(frame: gpd.GeoDataFrame, spec: Mapping[str, Any]) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["highway"] = _tag(frame, "highway")
    return frame


def _toilets(frame: gpd.GeoDataFrame, spec: Mapping[str, Any]) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["access"] = _tag(frame, "access")
    frame["fee"] = _tag(frame, "fee")
    return frame


def _schools(frame: gpd.GeoDataFrame, spec: Mapping[str, Any]) -> gpd.GeoDataFrame:
    frame = frame.copy()
    classified = [classify_school(t, spec["levels"]) for t in frame["tags"]]
    levels = [c[0] for c in classified]
    frame["levels"] = [";".join(lv) for lv in levels]
    for level in ("primary", "junior", "senior"):
        frame[level] = [level in lv for lv in levels]
    frame["level_from"] = [c[1] for c in classified]
    return frame


def _bus_stops(frame: gpd.GeoDataFrame, spec: Mapping[str, Any]) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["n_merged"] = 1
    frame["members"] = frame["osm_id"]
    return frame


def _buildings(frame: gpd.GeoDataFrame, spec: Mapping[str, Any]) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["building"] = _tag(frame, "building")
    frame["levels"] = [_levels(t) for t in frame["tags"]]
    residential = set(spec.get("residential_values", ()))
    frame["is_residential"] = [b in residential for b in frame["building"]]
    return frame


def _levels(tags: Mapping[str, str]) -> float:
    raw = tags.get("building:levels", "")
    try:
        value = float(raw.split(";")[0].replace(",", "."))
    except ValueError:
        return np.nan
    return value if 0 < value < 200 else np.nan


def _residential(frame: gpd.GeoDataFrame, spec: Mapping[str, Any]) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["landuse"] = _tag(frame, "landuse")
    return frame


def _services(frame: gpd.GeoDataFrame, spec: Mapping[str, Any]) -> gpd.GeoDataFrame:
    # every matching kind, ";"-joined in catalog order: a 社区卫生服务站 is a clinic and a
    # health_station; filters on `kind` match any part (geoplan.standards.FacilitySet)
    kinds = spec.get("kinds") or {}
    # a kind's rules are tried only on features with one of the keys they need
    tests = [(k, rs, rules.required_keys(rs)) for k, rs in kinds.items()]
    found = []
    for tags in frame["tags"]:
        found.append(";".join(k for k, rs, needed in tests
                              if (needed is None or not needed.isdisjoint(tags))
                              and rules.any_rule_matches(rs, tags)))
    frame = frame.assign(kind=found)
    return frame.loc[frame["kind"] != ""].copy()


def _points_unless_outline(frame: gpd.GeoDataFrame, outline: frozenset[str]) -> gpd.GeoDataFrame:
    """Areas whose kinds are all reached from a point become a point inside them."""
    if not len(frame):
        return frame
    keep = np.array([bool(outline.intersection(k.split(";"))) for k in frame["kind"]], dtype=bool)
    geoms = frame.geometry.to_numpy().copy()
    reduce = ~keep & np.isin(shapely.get_type_id(geoms), (3, 6))
    geoms[reduce] = shapely.point_on_surface(geoms[reduce])
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))


_BUILDERS = {
    "roads": _roads,
    "walkways": _walkways,
    "toilets": _toilets,
    "schools": _schools,
    "bus_stops": _bus_stops,
    "buildings": _buildings,
    "residential": _residential,
    "services": lambda frame, spec: frame,
}
