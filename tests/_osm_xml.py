"""Write tiny OSM XML files by hand for tests (nodes and ways with tags)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

Node = tuple[int, float, float, dict[str, str]]
Way = tuple[int, list[int], dict[str, str]]


def write_osm(path: Path, nodes: list[Node], ways: list[Way],
              bounds: tuple[float, float, float, float] | None = None) -> Path:
    """Write nodes ``(id, lon, lat, tags)`` and ways ``(id, refs, tags)`` as OSM XML."""
    out = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6" generator="test">']
    if bounds:
        w, s, e, n = bounds
        out.append(f'  <bounds minlat="{s}" minlon="{w}" maxlat="{n}" maxlon="{e}"/>')
    for nid, lon, lat, tags in nodes:
        body = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        out.append(f'  <node id="{nid}" version="1" lat="{lat}" lon="{lon}">{body}</node>')
    for wid, refs, tags in ways:
        body = "".join(f'<nd ref="{r}"/>' for r in refs)
        body += "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        out.append(f'  <way id="{wid}" version="1">{body}</way>')
    out.append("</osm>")
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def write_districts(path: Path, districts: dict[str, tuple[float, float, float, float]]) -> Path:
    """A GeoJSON of rectangular districts ``name -> (west, south, east, north)`` in WGS84."""
    feats = []
    for name, (w, s, e, n) in districts.items():
        ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
        feats.append({"type": "Feature", "properties": {"name": name, "adcode": name},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    return path
