"""An independent reading of the Chengdu extract for cross-checks: a plain XML pass.

Nothing from geoplan is used here: ElementTree parses the .osm.bz2 edition, prcoords converts
the GCJ-02 districts, and shapely counts points in polygons in plain lon/lat.
"""

from __future__ import annotations

import bz2
import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import prcoords
import shapely
from shapely.geometry import shape


def read_xml(path: Path) -> tuple[dict[int, tuple[float, float]], list[dict], list[dict]]:
    """Nodes (id -> lon, lat), tagged nodes and tagged ways (with their node refs)."""
    coords: dict[int, tuple[float, float]] = {}
    tagged_nodes, ways = [], []
    with bz2.open(path) as fh:
        for _, elem in ET.iterparse(fh):
            if elem.tag == "node":
                nid = int(elem.get("id"))
                coords[nid] = (float(elem.get("lon")), float(elem.get("lat")))
                tags = {t.get("k"): t.get("v") for t in elem.findall("tag")}
                if tags:
                    tagged_nodes.append({"id": nid, "tags": tags})
                elem.clear()
            elif elem.tag == "way":
                tags = {t.get("k"): t.get("v") for t in elem.findall("tag")}
                refs = [int(n.get("ref")) for n in elem.findall("nd")]
                ways.append({"id": int(elem.get("id")), "tags": tags, "refs": refs})
                elem.clear()
    return coords, tagged_nodes, ways


def districts_wgs84(path: Path) -> dict[str, shapely.Geometry]:
    """District polygons converted from GCJ-02 with prcoords' exact inverse."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for feature in data["features"]:
        geom = shape(feature["geometry"])

        def convert(xy):
            return [prcoords.gcj_wgs_bored((lat, lon))[::-1] for lon, lat in xy]

        geom = shapely.transform(geom, lambda a: __import__("numpy").array(convert(a)))
        out[feature["properties"]["name"]] = shapely.make_valid(geom)
    return out


def point_counts(coords, tagged_nodes, ways, districts, predicate) -> Counter:
    """Count features (nodes, and ways at the mean of their nodes) per district."""
    counts: Counter = Counter()
    points = []
    for node in tagged_nodes:
        if predicate(node["tags"]):
            points.append(coords[node["id"]])
    for way in ways:
        if predicate(way["tags"]):
            xy = [coords[r] for r in way["refs"] if r in coords]
            if xy:
                points.append((sum(p[0] for p in xy) / len(xy), sum(p[1] for p in xy) / len(xy)))
    for lon, lat in points:
        pt = shapely.Point(lon, lat)
        for name, geom in districts.items():
            if geom.contains(pt):
                counts[name] += 1
    return counts
