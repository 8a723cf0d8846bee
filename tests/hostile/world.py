"""A tiny synthetic city written to disk: an OSM XML extract, a districts GeoJSON and a config.

About 1.6 km × 1.1 km in central Chengdu (WGS84): a 200 m street grid, one park, a residential
block, a toilet, a bus stop and a primary school, two districts side by side. ``geoplan layers``
on it takes well under a second, ``geoplan run`` a few seconds, so hostile-input cases and
interrupted-run tests can afford a real run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

LON0, LAT0 = 104.050, 30.650
DLON, DLAT = 0.00208, 0.0018  # about 200 m each way at this latitude
NX, NY = 8, 6


def _lonlat(i: float, j: float) -> tuple[float, float]:
    return round(LON0 + i * DLON, 7), round(LAT0 + j * DLAT, 7)


def osm_xml(*, walkable: bool = True, extra_nodes: str = "") -> str:
    """The OSM XML of the synthetic city (``walkable=False``: only a motorway, no walkways)."""
    nodes: list[str] = []
    ways: list[str] = []
    ids: dict[tuple[int, int], int] = {}
    nid = 1
    for i in range(NX + 1):
        for j in range(NY + 1):
            lon, lat = _lonlat(i, j)
            ids[i, j] = nid
            nodes.append(f'<node id="{nid}" lat="{lat}" lon="{lon}" version="1"/>')
            nid += 1
    wid = 1
    highway = "residential" if walkable else "motorway"
    for j in range(NY + 1):
        refs = "".join(f'<nd ref="{ids[i, j]}"/>' for i in range(NX + 1))
        ways.append(f'<way id="{wid}" version="1">{refs}<tag k="highway" v="{highway}"/>'
                    f'<tag k="name" v="东西街{j}"/></way>')
        wid += 1
    if walkable:
        for i in range(NX + 1):
            refs = "".join(f'<nd ref="{ids[i, j]}"/>' for j in range(NY + 1))
            ways.append(f'<way id="{wid}" version="1">{refs}<tag k="highway" v="residential"/>'
                        f'<tag k="name" v="南北路{i}"/></way>')
            wid += 1

    def area(corners: list[tuple[float, float]], tags: dict[str, str]) -> None:
        nonlocal nid, wid
        refs = []
        for i, j in corners:
            lon, lat = _lonlat(i, j)
            nodes.append(f'<node id="{nid}" lat="{lat}" lon="{lon}" version="1"/>')
            refs.append(nid)
            nid += 1
        refs.append(refs[0])
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        ways.append(f'<way id="{wid}" version="1">'
                    + "".join(f'<nd ref="{r}"/>' for r in refs) + tag_xml + "</way>")
        wid += 1

    area([(1.2, 1.2), (2.8, 1.2), (2.8, 2.8), (1.2, 2.8)], {"leisure": "park", "name": "人民公园"})
    area([(0.1, 0.1), (7.9, 0.1), (7.9, 5.9), (0.1, 5.9)], {"landuse": "residential"})

    def point(i: float, j: float, tags: dict[str, str]) -> None:
        nonlocal nid
        lon, lat = _lonlat(i, j)
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        nodes.append(f'<node id="{nid}" lat="{lat}" lon="{lon}" version="1">{tag_xml}</node>')
        nid += 1

    point(4.5, 3.5, {"amenity": "toilets", "name": "公厕"})
    point(6.0, 1.0, {"highway": "bus_stop", "name": "车站"})
    point(2.0, 4.5, {"amenity": "school", "name": "实验小学"})
    minlon, minlat = _lonlat(-0.5, -0.5)
    maxlon, maxlat = _lonlat(NX + 0.5, NY + 0.5)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="geoplan-tests">\n'
            f'<bounds minlat="{minlat}" minlon="{minlon}" maxlat="{maxlat}" maxlon="{maxlon}"/>\n'
            + "\n".join(nodes) + extra_nodes + "\n" + "\n".join(ways) + "\n</osm>\n")


def districts_geojson(names: tuple[str, str] = ("东区", "西区"),
                      geometry: str = "polygon") -> dict[str, Any]:
    """Two districts splitting the city at its middle street (``geometry``: polygon/point/line)."""
    features = []
    for k, name in enumerate(names):
        i0, i1 = (0, NX / 2) if k == 0 else (NX / 2, NX)
        ring = [list(_lonlat(i0, 0)), list(_lonlat(i1, 0)), list(_lonlat(i1, NY)),
                list(_lonlat(i0, NY)), list(_lonlat(i0, 0))]
        if geometry == "point":
            geom = {"type": "Point", "coordinates": ring[0]}
        elif geometry == "line":
            geom = {"type": "LineString", "coordinates": ring[:3]}
        else:
            geom = {"type": "Polygon", "coordinates": [ring]}
        features.append({"type": "Feature", "properties": {"name": name, "adcode": 510100 + k},
                         "geometry": geom})
    return {"type": "FeatureCollection", "features": features}


def make_world(folder: Path, *, config: dict[str, Any] | None = None, walkable: bool = True,
               district_names: tuple[str, str] = ("东区", "西区"),
               district_geometry: str = "polygon") -> Path:
    """Write the synthetic city into ``folder``; returns the config path (``city.yaml``).

    ``config`` entries are merged over the default config (one level deep for mappings).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "city.osm").write_text(osm_xml(walkable=walkable), encoding="utf-8")
    (folder / "districts.geojson").write_text(
        json.dumps(districts_geojson(district_names, district_geometry), ensure_ascii=False),
        encoding="utf-8")
    raw: dict[str, Any] = {
        "name": "合成城市",
        "districts": {"path": "districts.geojson", "crs": "wgs84", "name_field": "name",
                      "code_field": "adcode"},
        "osm": {"path": "city.osm"},
        "standards": ["park_500", "bus_stop_500"],
        "demand": {"grid_m": 50},
        "output": "out",
    }
    for key, value in (config or {}).items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    path = folder / "city.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def world_with_scenario(folder: Path, name: str) -> Path:
    """The synthetic city with a scenario ``name`` of one planned bus stop; its config."""
    import yaml

    config = make_world(folder)
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    (folder / "stops.csv").write_text(f"lon,lat,name\n{LON0 + 0.004},{LAT0 + 0.004},新站\n",
                                      encoding="utf-8")
    raw["scenarios"] = {name: {"layers": {"bus_stops": [{"path": "stops.csv"}]}}}
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return config
