"""A tiny OSM extract and district file (about 1 km², central Chengdu) for cheap CLI runs.

Five by five streets 0.0025° apart (about 240–280 m), the middle east–west one a primary road,
one residential area, one park of about 3.6 ha, one bus stop and one public toilet; one district
(测试区) around it all. Enough for every command to run end to end in a second or two.
"""

from __future__ import annotations

import json
from pathlib import Path

LON0, LAT0, STEP = 104.050, 30.650, 0.0025


def _tags(tags: dict[str, str]) -> str:
    return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())


def write_tiny_inputs(folder: Path) -> tuple[Path, Path]:
    """Write ``tiny.osm`` and ``districts.geojson`` (WGS84) into ``folder``; return both paths."""
    nodes: list[str] = []
    ways: list[str] = []
    grid: dict[tuple[int, int], int] = {}
    for i in range(5):
        for j in range(5):
            grid[i, j] = len(nodes) + 1
            nodes.append(f'<node id="{grid[i, j]}" lat="{LAT0 + i * STEP:.6f}" '
                         f'lon="{LON0 + j * STEP:.6f}"/>')
    for i in range(5):
        row = "".join(f'<nd ref="{grid[i, j]}"/>' for j in range(5))
        col = "".join(f'<nd ref="{grid[j, i]}"/>' for j in range(5))
        kind = "primary" if i == 2 else "residential"
        ways.append(f'<way id="{len(ways) + 1}">{row}{_tags({"highway": kind})}</way>')
        ways.append(f'<way id="{len(ways) + 1}">{col}{_tags({"highway": "residential"})}</way>')

    def ring(x0: float, y0: float, x1: float, y1: float, tags: dict[str, str]) -> None:
        ids = []
        for lon, lat in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
            ids.append(len(nodes) + 1)
            nodes.append(f'<node id="{ids[-1]}" lat="{lat:.6f}" lon="{lon:.6f}"/>')
        refs = "".join(f'<nd ref="{r}"/>' for r in [*ids, ids[0]])
        ways.append(f'<way id="{len(ways) + 1}">{refs}{_tags(tags)}</way>')

    ring(LON0 + 0.0003, LAT0 + 0.0003, LON0 + 0.0047, LAT0 + 0.0097, {"landuse": "residential"})
    ring(LON0 + 0.0053, LAT0 + 0.0053, LON0 + 0.0072, LAT0 + 0.0072,
         {"leisure": "park", "name": "小公园"})
    for tags, lat, lon in (({"highway": "bus_stop", "name": "一站"}, 0.0050, 0.0030),
                           ({"amenity": "toilets", "name": "公厕"}, 0.0050, 0.0060)):
        nodes.append(f'<node id="{len(nodes) + 1}" lat="{LAT0 + lat:.6f}" '
                     f'lon="{LON0 + lon:.6f}">{_tags(tags)}</node>')
    osm = folder / "tiny.osm"
    osm.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        f'<bounds minlat="{LAT0 - 0.001:.6f}" minlon="{LON0 - 0.001:.6f}" '
        f'maxlat="{LAT0 + 0.011:.6f}" maxlon="{LON0 + 0.011:.6f}"/>\n'
        + "\n".join(nodes + ways) + "\n</osm>\n", encoding="utf-8")
    x0, y0, x1, y1 = LON0 - 0.0005, LAT0 - 0.0005, LON0 + 0.0105, LAT0 + 0.0105
    districts = folder / "districts.geojson"
    districts.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "测试区"},
        "geometry": {"type": "Polygon",
                     "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]},
    }]}, ensure_ascii=False), encoding="utf-8")
    return osm, districts
