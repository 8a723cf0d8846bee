"""The hostile-input corpus: each case builds its (tiny) files and gives the command line.

A case expects an exit code and a fragment of the message (stderr and the log), never the
generic "unexpected error". Most fail in config validation or while loading layers, so the
whole corpus runs in seconds; ``subprocess=True`` cases run the real ``geoplan`` executable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.hostile.world import LAT0, LON0, make_world, world_with_scenario

Build = Callable[[Path], list[str]]


@dataclass(frozen=True)
class Case:
    """One hostile input: what to build, the expected exit code and message fragment."""

    id: str
    build: Build
    code: int
    fragment: str
    subprocess: bool = False
    needs_unshare: bool = False


def _cfg(tmp: Path, command: str = "layers", *, extra: list[str] | None = None,
         **world: Any) -> list[str]:
    path = make_world(tmp, **world)
    return [command, str(path), "--out", str(tmp / "out"), *(extra or [])]


def _with_config_text(text: str | bytes) -> Build:
    def build(tmp: Path) -> list[str]:
        make_world(tmp)
        path = tmp / "city.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return ["layers", str(path), "--out", str(tmp / "out")]
    return build


def _raw_config(tmp: Path) -> str:
    return (tmp / "city.yaml").read_text(encoding="utf-8")


def _edit_config(change: Callable[[dict[str, Any], Path], None], command: str = "layers",
                 extra: list[str] | None = None, **world: Any) -> Build:
    def build(tmp: Path) -> list[str]:
        path = make_world(tmp, **world)
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(raw, tmp)
        path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        return [command, str(path), "--out", str(tmp / "out"), *(extra or [])]
    return build


def _set(section: str | None, key: str, value: Any, command: str = "layers") -> Build:
    def change(raw: dict[str, Any], tmp: Path) -> None:
        if section is None:
            raw[key] = value
        else:
            raw.setdefault(section, {})[key] = value
    return _edit_config(change, command)


def _write_districts(content: str | bytes) -> Build:
    def build(tmp: Path) -> list[str]:
        args = _cfg(tmp)
        path = tmp / "districts.geojson"
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return args
    return build


def _edit_districts(change: Callable[[list[dict[str, Any]]], None]) -> Build:
    """The world's districts file with its features changed by ``change``."""
    def build(tmp: Path) -> list[str]:
        args = _cfg(tmp)
        path = tmp / "districts.geojson"
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data["features"])
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")  # NaN kept
        return args
    return build


def _nan_vertex(features: list[dict[str, Any]]) -> None:
    features[0]["geometry"]["coordinates"][0][1] = [float("nan"), float("inf")]


def _two_point_ring(features: list[dict[str, Any]]) -> None:
    geom = features[-1]["geometry"]
    ring = geom["coordinates"][0]
    features[-1]["geometry"] = {"type": "MultiPolygon",
                                "coordinates": [geom["coordinates"], [ring[:2]]]}


def _name(first: Any, second: Any, field: str = "name") -> Callable[[list[dict[str, Any]]], None]:
    """Set the two districts' ``field`` to the given values, as a careless export would."""
    def change(features: list[dict[str, Any]]) -> None:
        features[0]["properties"][field] = first
        features[1]["properties"][field] = second
    return change


def _planned_csv(content: str, encoding: str = "utf-8") -> Build:
    """``geoplan scenario`` with a planned-facilities CSV of ``content``."""
    def build(tmp: Path) -> list[str]:
        path = make_world(tmp)
        (tmp / "planned.csv").write_text(content, encoding=encoding)
        return ["scenario", str(path), "--planned", str(tmp / "planned.csv"), "--no-map",
                "--out", str(tmp / "out")]
    return build


def _layer_file(kind: str, write: Callable[[Path], str], **source: Any) -> Build:
    """A planner's layer file of ``kind`` written by ``write`` (which returns its name)."""
    def change(raw: dict[str, Any], tmp: Path) -> None:
        raw["layers"] = {kind: [{"path": write(tmp), "crs": "wgs84", **source}]}
    return _edit_config(change)


def _xlsx(tmp: Path) -> str:
    import pandas as pd
    import pyogrio
    pyogrio.write_dataframe(pd.DataFrame({"经度": [LON0 + 0.002], "纬度": [LAT0 + 0.002],
                                          "名称": ["公厕X"]}), tmp / "t.xlsx", driver="XLSX")
    return "t.xlsx"


def _gpkg_two_layers(tmp: Path) -> str:
    import geopandas as gpd
    from shapely.geometry import Point
    park = Point(LON0 + 0.002, LAT0 + 0.002).buffer(0.0005)
    gpd.GeoDataFrame({"name": ["园"]}, geometry=[park], crs=4326).to_file(
        tmp / "mine.gpkg", layer="parks", engine="pyogrio")
    gpd.GeoDataFrame({"name": ["站"]}, geometry=[Point(LON0 + 0.003, LAT0 + 0.003)],
                     crs=4326).to_file(tmp / "mine.gpkg", layer="bus_stops", engine="pyogrio",
                                       mode="a")
    return "mine.gpkg"


def _text_file(name: str, text: str) -> Callable[[Path], str]:
    def write(tmp: Path) -> str:
        (tmp / name).write_text(text, encoding="utf-8")
        return name
    return write


def _scenario_named(name: str) -> Build:
    """``geoplan scenario --name NAME`` for a scenario of one planned bus stop."""
    def build(tmp: Path) -> list[str]:
        path = world_with_scenario(tmp, name)
        return ["scenario", str(path), "--name", name, "--no-map", "--out", str(tmp / "out")]
    return build


def _layer_geojson(features: list[dict[str, Any]], kind: str = "bus_stops") -> Build:
    """A planner's layer file (GeoJSON) of ``kind`` added to the config."""
    def change(raw: dict[str, Any], tmp: Path) -> None:
        (tmp / "layer.geojson").write_text(json.dumps(
            {"type": "FeatureCollection", "features": features}), encoding="utf-8")
        raw["layers"] = {kind: [{"path": "layer.geojson", "crs": "wgs84"}]}
    return _edit_config(change)


def _catalog_with_a_list(raw: dict[str, Any], tmp: Path) -> None:
    (tmp / "catalog.yaml").write_text("version: 1\nlayers:\n  roads: [1, 2]\n", encoding="utf-8")
    raw["layers_catalog"] = "catalog.yaml"


def _districts_symlink_loop(raw: dict[str, Any], tmp: Path) -> None:
    (tmp / "loop1").symlink_to(tmp / "loop2")
    (tmp / "loop2").symlink_to(tmp / "loop1")
    raw["districts"]["path"] = "loop1"


def _districts_in_gbk(declared: bool) -> Build:
    """The world's districts file saved in GBK, its encoding declared in the config or not."""
    def change(raw: dict[str, Any], tmp: Path) -> None:
        path = tmp / "districts.geojson"
        path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
        if declared:
            raw["districts"]["encoding"] = "gbk"
    return _edit_config(change, "run")


def _districts_shapefile_mixed_encodings(raw: dict[str, Any], tmp: Path) -> None:
    """The world's districts as a Shapefile whose first name is GBK and the others UTF-8."""
    _districts_shapefile_gbk_without_cpg(raw, tmp)
    frame = __import__("geopandas").read_file(tmp / "districts.geojson")
    dbf = tmp / "districts.dbf"
    data = dbf.read_bytes()
    for name in frame["name"][1:]:  # the others as UTF-8, padded to the field's width
        gbk, utf8 = str(name).encode("gbk"), str(name).encode()
        data = data.replace(gbk + b" " * (len(utf8) - len(gbk)), utf8, 1)
    dbf.write_bytes(data)


def _districts_shapefile_gbk_without_cpg(raw: dict[str, Any], tmp: Path) -> None:
    """The world's districts as a GBK Shapefile whose .cpg is lost (GDAL alone reads its names
    as Latin-1)."""
    import geopandas as gpd

    frame = gpd.read_file(tmp / "districts.geojson")
    frame.to_file(tmp / "districts.shp", encoding="gbk", engine="pyogrio")
    (tmp / "districts.cpg").unlink(missing_ok=True)
    raw["districts"]["path"] = "districts.shp"


def _districts_shapefile_without_dbf(raw: dict[str, Any], tmp: Path) -> None:
    import geopandas as gpd

    gpd.read_file(tmp / "districts.geojson").to_file(tmp / "districts.shp", engine="pyogrio")
    (tmp / "districts.dbf").unlink()
    raw["districts"]["path"] = "districts.shp"


def _write_osm(content: bytes) -> Build:
    def build(tmp: Path) -> list[str]:
        args = _cfg(tmp)
        (tmp / "city.osm").write_bytes(content)
        return args
    return build


def _toilet_csv(content: bytes, **source: Any) -> Build:
    """A planner's toilet file (CSV) added to the config."""
    def change(raw: dict[str, Any], tmp: Path) -> None:
        (tmp / "toilets.csv").write_bytes(content)
        raw["layers"] = {"toilets": [{"path": "toilets.csv", "crs": "wgs84", **source}]}
    return _edit_config(change)


def _rows(*rows: tuple[Any, Any, str]) -> bytes:
    lines = ["lon,lat,name", *(f"{x},{y},{n}" for x, y, n in rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


GOOD_ROWS = [(LON0 + 0.002, LAT0 + 0.002, "公厕A"), (LON0 + 0.01, LAT0 + 0.005, "公厕B")]


def _folder_instead_of(name: str, key: tuple[str, str]) -> Build:
    def change(raw: dict[str, Any], tmp: Path) -> None:
        (tmp / name).mkdir(exist_ok=True)
        raw[key[0]][key[1]] = name
    return _edit_config(change)


def _nodata_raster(tmp: Path) -> list[str]:
    import numpy as np
    import rasterio
    from affine import Affine

    data = np.full((20, 20), -9999.0, dtype="float32")
    with rasterio.open(tmp / "people.tif", "w", driver="GTiff", width=20, height=20, count=1,
                       dtype="float32", crs="EPSG:4326", nodata=-9999.0,
                       transform=Affine(0.001, 0.0, LON0 - 0.005, 0.0, -0.001, LAT0 + 0.02)) as dst:
        dst.write(data, 1)
    path = make_world(tmp, config={"demand": {"grid_m": 50, "population_raster": "people.tif",
                                              "population_weight": "raster"},
                                   "standards": ["park_500"]})
    return ["coverage", str(path), "--out", str(tmp / "out")]


def _huge_city(tmp: Path) -> list[str]:
    """Districts and housing of 50 km × 55 km: a 1 m grid would need terabytes."""
    path = make_world(tmp, config={"demand": {"grid_m": 1}, "standards": ["park_500"]})
    text = (tmp / "city.osm").read_text(encoding="utf-8")
    lon1, lat1 = LON0 + 0.5, LAT0 + 0.5
    corners = [(LON0, LAT0), (lon1, LAT0), (lon1, lat1), (LON0, lat1)]
    nodes = "".join(f'<node id="{900000 + i}" lat="{y}" lon="{x}" version="1"/>'
                    for i, (x, y) in enumerate(corners))
    way = ('<way id="900000" version="1">'
           + "".join(f'<nd ref="{900000 + i}"/>' for i in (0, 1, 2, 3, 0))
           + '<tag k="landuse" v="residential"/></way>')
    text = text.replace("</osm>", nodes + way + "</osm>")
    text = text.replace(text[text.index("<bounds"):text.index("/>", text.index("<bounds")) + 2],
                        f'<bounds minlat="{LAT0 - 0.01}" minlon="{LON0 - 0.01}" '
                        f'maxlat="{lat1 + 0.01}" maxlon="{lon1 + 0.01}"/>')
    (tmp / "city.osm").write_text(text, encoding="utf-8")
    ring = [[x, y] for x, y in corners] + [[LON0, LAT0]]
    (tmp / "districts.geojson").write_text(json.dumps({
        "type": "FeatureCollection", "features": [{"type": "Feature",
                                                  "properties": {"name": "大区", "adcode": 1},
                                                  "geometry": {"type": "Polygon",
                                                               "coordinates": [ring]}}]}),
        encoding="utf-8")
    return ["coverage", str(path), "--out", str(tmp / "out")]


def _out_is_file(tmp: Path) -> list[str]:
    args = _cfg(tmp)
    (tmp / "out").write_text("not a folder", encoding="utf-8")
    return args


def _disk_full(tmp: Path) -> list[str]:
    """A 64 kB tmpfs as the output folder's parent (layers.gpkg alone is about 380 kB)."""
    args = _cfg(tmp)
    small = tmp / "small"
    small.mkdir()
    args[args.index("--out") + 1] = str(small / "out")
    inner = " ".join(f"'{a}'" for a in args)
    script = (f"mount -t tmpfs -o size=64k tmpfs '{small}' && "
              f"exec \"$GEOPLAN_PYTHON\" -m geoplan {inner}")
    return ["__unshare__", script]


def _gbk_csv(tmp: Path, bom: bytes = b"") -> list[str]:
    build = _toilet_csv(bom + "lon,lat,名称\n".encode("gbk")
                        + f"{LON0 + 0.002},{LAT0 + 0.002},公厕甲\n".encode("gbk"))
    return build(tmp)


CASES: list[Case] = [
    # the config file itself
    Case("config_missing", lambda t: ["layers", str(t / "nope.yaml")], 2, "does not exist",
         subprocess=True),
    Case("config_is_folder", lambda t: ["layers", str(t)], 2, "is a folder"),
    Case("config_not_yaml", _with_config_text("name: [unclosed\n"), 2, "not valid YAML"),
    Case("config_is_a_list", _with_config_text("- a\n- b\n"), 2, "must hold a mapping"),
    Case("config_empty", _with_config_text(""), 2, "must hold a mapping"),
    Case("config_binary", _with_config_text(b"\x89PNG\r\n\x1a\n\x00\x00"), 2, "UTF-8"),
    Case("config_duplicate_key", _with_config_text(
        "name: a\ndistricts: {path: districts.geojson}\nosm: {path: city.osm}\nname: b\n"),
        2, "'name' appears twice (lines 1 and 4)"),
    Case("config_duplicate_nested_key", _with_config_text(
        "name: a\ndistricts: {path: districts.geojson}\nosm: {path: city.osm}\n"
        "demand:\n  grid_m: 25\n  grid_m: 5\n"), 2, "'grid_m' appears twice"),
    Case("config_gbk", _with_config_text(
        "name: 成都\ndistricts: {path: districts.geojson}\nosm: {path: city.osm}\n".encode("gbk")),
        2, "looks like GBK/GB18030"),
    Case("config_bom_then_gbk", _with_config_text(
        b"\xef\xbb\xbf" + "name: 成都\ndistricts: {path: districts.geojson}\n".encode("gbk")),
        2, "starts with UTF-8's byte-order mark, but the text after it looks like GBK"),
    Case("config_python_tag", _with_config_text(
        "name: !!python/object/apply:os.system ['echo pwned']\n"), 2, "not valid YAML"),
    Case("config_unknown_key", _set(None, "grid", 25), 2, "grid: unknown key"),
    Case("config_missing_name", _edit_config(lambda r, t: r.pop("name")), 2,
         "name: required key is missing"),
    Case("config_bom", lambda t: _bom(t), 0, "wrote"),
    # demand grid
    Case("grid_m_infinite", _set("demand", "grid_m", float("inf")), 2, "demand.grid_m"),
    Case("grid_m_nan", _set("demand", "grid_m", float("nan")), 2, "demand.grid_m"),
    Case("grid_m_1e-9", _set("demand", "grid_m", 1e-9), 2, "greater than or equal to 1"),
    Case("grid_m_0.2", _set("demand", "grid_m", 0.2), 2, "greater than or equal to 1"),
    Case("grid_m_text", _set("demand", "grid_m", "abc"), 2, "demand.grid_m"),
    Case("grid_m_huge", _set("demand", "grid_m", 1e6), 2, "less than or equal to 500"),
    Case("grid_too_big_for_memory", _huge_city, 2, "GB of memory"),
    Case("max_snap_negative", _set("demand", "max_snap_m", -5), 2, "demand.max_snap_m"),
    # files named by the config
    Case("districts_missing", _set("districts", "path", "nope.geojson"), 2,
         "districts.path: file not found"),
    Case("districts_is_folder", _folder_instead_of("folder", ("districts", "path")), 2,
         "districts.path:"),
    Case("osm_is_folder", _folder_instead_of("folder", ("osm", "path")), 2, "is a folder"),
    Case("raster_is_folder", _folder_instead_of("folder", ("demand", "population_raster")), 2,
         "demand.population_raster:"),
    Case("osm_garbage", _write_osm(b"garbage" * 40), 1, "city.osm"),
    Case("osm_empty", _write_osm(b""), 1, "city.osm"),
    Case("osm_truncated", lambda t: _truncated_osm(t), 1, "city.osm"),
    Case("districts_cut_short", lambda t: _cut_districts(t), 1, "looks cut short or damaged: copy or export"),
    # districts
    Case("districts_garbage", _write_districts("{not geojson"), 1, "cannot read"),
    Case("catalog_layer_is_a_list", _edit_config(_catalog_with_a_list), 2,
         "layers.roads: must be a mapping"),
    Case("districts_path_symlink_loop", _edit_config(_districts_symlink_loop), 2,
         "districts.path: file not found"),
    Case("districts_gbk", _districts_in_gbk(False), 1, "`districts.encoding: gbk`"),
    Case("districts_gbk_declared", _districts_in_gbk(True), 0, "东区"),
    Case("districts_encoding_unknown", _set("districts", "encoding", "gbk2"), 2,
         "districts.encoding: unknown encoding"),
    Case("districts_shapefile_gbk_without_cpg", _edit_config(_districts_shapefile_gbk_without_cpg),
         0, "districts.dbf has no .cpg file naming its text encoding; its text reads as GBK"),
    Case("districts_shapefile_mixed_encodings",
         _edit_config(_districts_shapefile_mixed_encodings), 1,
         "its text is in no single encoding (record 2 read as UTF-8; record 1 read as GBK)"),
    Case("analysis_crs_web_mercator", _set(None, "crs", 3857), 1, "stretches distances by 16"),
    Case("osm_bounds_beyond_the_globe", _set("osm", "bounds", [200, 95, -200, -95]), 2,
         "osm.bounds: [200.0, 95.0, -200.0, -95.0] must be [min lon, min lat, max lon, max lat]"),
    Case("osm_bounds_infinite", _set("osm", "bounds", [104.0, 30.6, float("inf"), 30.7]), 2,
         "osm.bounds[2]: Input should be a finite number"),
    Case("osm_bounds_inverted", _set("osm", "bounds", [104.1, 30.7, 104.0, 30.6]), 2,
         "each minimum below its maximum"),
    Case("deadend_targets_out_of_range", _set("deadends", "targets", [2.0, -1]), 2,
         "deadends.targets[0]: Input should be less than or equal to 1"),
    Case("osm_path_is_a_device", _set("osm", "path", "/dev/zero"), 2,
         "osm.path: /dev/zero is not a regular file"),
    Case("districts_shapefile_without_dbf", _edit_config(_districts_shapefile_without_dbf), 1,
         "a Shapefile needs its .dbf file beside the .shp"),
    Case("districts_nan_vertex", _edit_districts(_nan_vertex), 1,
         "feature 1 (东区) has NaN or infinite coordinates"),
    Case("districts_two_point_ring", _edit_districts(_two_point_ring), 1,
         "a ring that is not closed or has too few points"),
    Case("districts_name_missing", _edit_districts(_name("东区", None)), 1,
         "1 of 2 features have no name in field 'name' (features 2)"),
    Case("districts_name_blank", _edit_districts(_name(" \t", "西区")), 1,
         "(features 1)"),
    Case("districts_name_line_breaks", _edit_districts(_name("东\n区", "西区\u202e")), 0,
         "东 区"),
    Case("districts_name_numbers", _edit_districts(_name(1.0, 2.5)), 0, "2.5"),
    Case("layer_nan_point", _layer_geojson([
        {"type": "Feature", "properties": {"name": "站A"},
         "geometry": {"type": "Point", "coordinates": [LON0 + 0.002, LAT0 + 0.002]}},
        {"type": "Feature", "properties": {"name": "站B"},
         "geometry": {"type": "Point", "coordinates": [float("nan"), float("inf")]}}]), 1,
         "feature 2 (站B) has NaN or infinite coordinates"),
    Case("layer_open_ring", _layer_geojson([
        {"type": "Feature", "properties": {"name": "园"},
         "geometry": {"type": "Polygon", "coordinates": [[[LON0 + 0.002, LAT0 + 0.002],
                                                          [LON0 + 0.003, LAT0 + 0.002],
                                                          [LON0 + 0.003, LAT0 + 0.003]]]}}],
        kind="parks"), 1, "not closed"),
    Case("districts_no_features", _write_districts('{"type":"FeatureCollection","features":[]}'),
         1, "has no features"),
    Case("districts_no_name_field", _set("districts", "name_field", "名称"), 1,
         "has no field '名称'"),
    Case("districts_same_names", _edit_config(lambda r, t: r["districts"].update(code_field=None),
                                               district_names=("东区", "东区")),
         1, "same name more than once"),
    Case("districts_same_names_with_codes", lambda t: _cfg(t, district_names=("东区", "东区")), 0,
         "called by name and code"),
    Case("districts_points", lambda t: _cfg(t, district_geometry="point"), 1,
         "are not polygons", subprocess=True),
    Case("districts_lines", lambda t: _cfg(t, district_geometry="line"), 1, "LineString"),
    Case("districts_include_unknown", _set("districts", "include", ["北区"]), 1, "北区"),
    Case("districts_crs_unknown", _set("districts", "crs", "wgs-85"), 2, "districts.crs"),
    # planners' files
    Case("layer_kind_unknown", _edit_config(lambda r, t: r.update(
        layers={"toilet": [{"path": "city.osm"}]})), 2, "unknown layer kind"),
    Case("layer_file_missing", _edit_config(lambda r, t: r.update(
        layers={"toilets": [{"path": "nope.csv"}]})), 2, "layers.toilets[0].path: file not found"),
    Case("layer_file_is_folder", _edit_config(lambda r, t: (t / "f.csv").mkdir() or r.update(
        layers={"toilets": [{"path": "f.csv"}]})), 2, "is a folder"),
    Case("csv_gbk_is_read", _gbk_csv, 0, "wrote"),
    # UTF-8's byte-order mark before GBK text: the header's first name stays "lon"
    Case("csv_bom_then_gbk_is_read", lambda t: _gbk_csv(t, b"\xef\xbb\xbf"), 0,
         "starts with a UTF-8 byte-order mark, but its text is GBK: read as GBK"),
    Case("csv_undecodable", _toilet_csv(b"lon,lat,name\n104.05,30.65,\xff\xfe\xff\n"), 1,
         "Save it as UTF-8"),
    Case("csv_encoding_unknown", _toilet_csv(_rows(*GOOD_ROWS), encoding="klingon"), 2,
         "unknown encoding"),
    Case("csv_lon_200", _toilet_csv(_rows(*GOOD_ROWS, (200, 30.65, "坏"))), 1,
         "outside longitude -180…180"),
    Case("csv_lon_infinite", _toilet_csv(_rows(*GOOD_ROWS, ("inf", 30.65, "坏"))), 1,
         "infinite coordinates (line 4"),
    Case("csv_all_in_metres", _toilet_csv(_rows((404000, 3392000, "a"), (404100, 3392100, "b"))),
         1, "projected coordinates in metres"),
    Case("csv_no_coordinates", _toilet_csv(b"name,addr\na,b\n"), 1, "no longitude or latitude"),
    Case("csv_header_only", _toilet_csv(b"lon,lat,name\n"), 1, "has no features"),
    Case("csv_far_away", _toilet_csv(_rows((116.39, 39.9, "北京"), (116.40, 39.91, "北京2"))), 1,
         "none of its 2 features lies within the districts"),
    Case("csv_bad_column_map", _toilet_csv(_rows(*GOOD_ROWS), columns={"name": "名字"}), 1,
         "column '名字'"),
    # data that cannot answer the analysis
    Case("raster_all_nodata", _nodata_raster, 1, "every pixel there is nodata"),
    Case("no_walkable_roads", lambda t: _cfg(t, "coverage", walkable=False), 1,
         "no walkable roads"),
    Case("standard_unknown", _set(None, "standards", ["park_5000"]), 2, "park_5000"),
    Case("scenario_unknown", lambda t: _cfg(t, "scenario", extra=["--name", "nope"]), 2,
         "no scenario named 'nope'"),
    # the output folder and the command line
    Case("out_is_a_file", _out_is_file, 1, "is a file; give a folder with --out"),
    Case("out_disk_full", _disk_full, 1, "disk full while writing", subprocess=True,
         needs_unshare=True),
    Case("unknown_command", lambda t: ["frobnicate"], 2, "invalid choice"),
    Case("unknown_flag", lambda t: ["layers", "--frob"], 2, "unrecognized arguments"),
    Case("adhoc_without_districts", lambda t: ["layers", "--osm", "x.osm"], 2, "--districts"),
    Case("planned_extra_field", _planned_csv(
        "standard,layer,name,lon_wgs84,lat_wgs84\nbus_stop_500,bus_stops,新站,"
        f"{LON0 + 0.002},{LAT0 + 0.002},备注\n"), 1,
         "1 rows have more fields than the header's 5: line 2 (6 fields)"),
    Case("planned_gbk_is_read", _planned_csv(
        f"layer,name,lon_wgs84,lat_wgs84\nbus_stops,新站,{LON0 + 0.002},{LAT0 + 0.002}\n",
        encoding="gbk"), 0, "scenario_planned.csv"),
    Case("planned_is_a_folder", lambda t: (make_world(t), (t / "p.csv").mkdir()) and [
        "scenario", str(t / "city.yaml"), "--planned", str(t / "p.csv"), "--out",
        str(t / "out")], 2, "is a folder"),  # a flag's file: a usage error, as --osm
    Case("layer_xlsx_is_read", _layer_file("toilets", _xlsx), 0, "wrote"),
    Case("layer_gpkg_two_layers_unnamed", _layer_file("bus_stops", _gpkg_two_layers), 1,
         "has 2 layers (parks, bus_stops); say which one to read with `layer: <name>`"),
    Case("layer_gpkg_two_layers_named", _layer_file("bus_stops", _gpkg_two_layers,
                                                    layer="bus_stops"), 0, "wrote"),
    Case("csv_trailing_comma", _toilet_csv(
        f"lon,lat,name\n{LON0 + 0.002},{LAT0 + 0.002},公厕甲,\n".encode()), 0, "wrote"),
    Case("school_levels_numeric", _layer_file("schools", _text_file(
        "s.csv", f"lon,lat,name,levels\n{LON0 + 0.002},{LAT0 + 0.002},新校,1\n")), 0,
         "school level(s) not understood (line 2: '1')"),
    Case("school_flag_not_yes_or_no", _layer_file("schools", _text_file(
        "s.csv", f"lon,lat,name,primary\n{LON0 + 0.002},{LAT0 + 0.002},新校,maybe\n")), 1,
         "column 'primary' should say yes or no"),
    Case("layer_columns_geometry", _layer_file("toilets", _text_file(
        "t.csv", f"lon,lat,name\n{LON0 + 0.002},{LAT0 + 0.002},甲\n"),
        columns={"geometry": "name"}), 2, "['geometry'] are not columns of layer 'toilets'"),
    Case("scenario_name_climbs_out", _scenario_named("../../escaped"), 0,
         "/out\n  scenario_escaped_ea03bc.csv\n"),  # the name's hash: its own file
    Case("scenario_name_with_a_slash", _scenario_named("一期/2025"), 0,
         "/out\n  scenario_一期-2025_576984.csv\n"),
    Case("standard_radius_infinite", _set(None, "standards",
                                          [{"id": "bus_stop_500", "radius_m": float("inf")}],
                                          command="coverage"), 2, "radius_m"),
    Case("custom_filter_bound_not_a_number", _edit_config(lambda r, t: r.update(
        custom_standards=[{"id": "c1", "name_zh": "大公园", "name_en": "big parks",
                           "facility": {"layer": "parks", "filter": {"min_area_m2": "一公顷"}},
                           "radius_m": 500}], standards=["c1"]), "coverage"), 2,
         "filter min_area_m2: '一公顷' is not a number"),
    Case("custom_filter_unknown_column", _edit_config(lambda r, t: r.update(
        custom_standards=[{"id": "c1", "name_zh": "收费厕所", "name_en": "paid toilets",
                           "facility": {"layer": "toilets", "filter": {"fees": "yes"}},
                           "radius_m": 500}], standards=["c1"]), "coverage"), 2,
         "filter column 'fees' is not a column of layer 'toilets' (did you mean 'fee'?)"),
    Case("custom_basket_empty", _edit_config(lambda r, t: r.update(
        custom_standards=[{"id": "c1", "name_zh": "空", "name_en": "empty", "basket": [],
                           "radius_m": 300}], standards=["c1"]), "coverage"), 2,
         "`basket` lists no items"),
    Case("class_size_enormous", _set("demand", "schools", {"class_size_primary": 10 ** 30},
                                     command="coverage"), 2,
         "demand.schools.class_size_primary: Input should be less than or equal to 200"),
    Case("street_sample_tiny", _set("demand", "street_sample_m", 1e-6, command="coverage"), 2,
         "demand.street_sample_m: Input should be greater than or equal to 1"),
    Case("max_snap_enormous", _set("demand", "max_snap_m", 1e12, command="coverage"), 2,
         "demand.max_snap_m: Input should be less than or equal to 1000"),
    Case("batch_zero_workers", lambda t: ["batch", str(make_world(t)), "--workers", "0",
                                          "--out", str(t / "out")], 2, "0 is less than 1"),
    Case("out_name_too_long", lambda t: ["layers", str(make_world(t)), "--out",
                                         str(t / ("成" * 90))], 1,
         "is 270 bytes long; file systems take 255 bytes"),
    Case("standards_csv_is_a_folder", lambda t: (t / "adir").mkdir() or [
        "standards", "--csv", str(t / "adir")], 1, "is a folder; give a file name"),
    Case("standards_csv_is_a_pipe", lambda t: os.mkfifo(t / "fifo.csv") or [
        "standards", "--csv", str(t / "fifo.csv")], 1, "is not a regular file (a device or pipe)"),
    Case("standards_csv_in_a_missing_folder", lambda t: [
        "standards", "--csv", str(t / "nope" / "x.csv")], 1, "does not exist; create it first"),
    Case("target_above_one", _set("targets", "bus_stop_500", 1.5, command="coverage"), 2,
         "targets.bus_stop_500: Input should be less than or equal to 1"),
    Case("census_weight_without_census", _set("demand", "population_census", False,
                                              command="coverage"), 0, "wrote"),
    Case("raster_weight_without_raster", _set("demand", "population_weight", "raster",
                                              command="coverage"), 2,
         "population_weight is 'raster' but no population_raster is given"),
    Case("age_shares_above_everyone", _set("demand", "schools", {"age_share_primary": 0.9,
                                                                 "age_share_junior": 0.9}), 2,
         "add up to 100 % or more of the residents"),
    Case("scenario_names_with_terminal_escapes", _scenario_named("\x1b[31mred\x1b[0m"), 0,
         "情景 [31mred [0m"),
    Case("layer_file_listed_twice", _edit_config(lambda r, t: (
        (t / "t.csv").write_text(f"lon,lat,name\n{LON0 + 0.002},{LAT0 + 0.002},甲\n",
                                 encoding="utf-8"),
        r.update(layers={"toilets": [{"path": "t.csv"}, {"path": "t.csv"}]}))), 2,
         "layers.toilets[1]: the same file as layers.toilets[0] (t.csv); list it once"),
    Case("planned_column_twice", _planned_csv(
        "layer,lon_wgs84,lat_wgs84,lon_wgs84\nbus_stops,"
        f"{LON0 + 0.002},{LAT0 + 0.002},200\n"), 1, "the header names ['lon_wgs84'] more than once"),
    Case("scenario_file_in_the_maps_export_columns", _layer_file("bus_stops", _text_file(
        "p.csv", f"layer,name,lon_wgs84,lat_wgs84\nbus_stops,新站,{LON0 + 0.002},{LAT0 + 0.002}\n")),
         0, "wrote"),
    Case("buildings_weight_without_buildings", _set("demand", "population_weight", "buildings",
                                                    command="coverage"), 1,
         "population_weight is 'buildings' but no residential building stands on"),
    Case("csv_row_with_an_unquoted_comma", _toilet_csv(
        f"lon,lat,name\n{LON0 + 0.002},{LAT0 + 0.002},公厕甲,北口\n".encode()), 1,
         "1 rows have more fields than the header's 3: line 2 (4 fields)"),
    Case("adhoc_name_field_missing", lambda t: _adhoc(t, "--district-name-field", "NAME"), 1,
         "set --district-name-field to one of ['name', 'adcode']"),
    Case("adhoc_districts_gbk", lambda t: _adhoc(t, gbk=True), 1, "`--districts-encoding gbk`"),
    Case("adhoc_districts_gbk_declared", lambda t: _adhoc(t, "--districts-encoding", "gbk",
                                                          gbk=True), 0, "东区"),
    Case("adhoc_osm_is_folder", lambda t: ["layers", "--osm", str(t), "--districts",
                                           str(make_world(t).parent / "districts.geojson"),
                                           "--out", str(t / "out")], 2, "is a folder"),
]


def _adhoc(tmp: Path, *flags: str, gbk: bool = False) -> list[str]:
    """The world run from ad-hoc flags (no config), its districts saved in GBK or not."""
    folder = make_world(tmp).parent
    districts = folder / "districts.geojson"
    if gbk:
        districts.write_bytes(districts.read_text(encoding="utf-8").encode("gbk"))
    return ["layers", "--osm", str(folder / "city.osm"), "--districts", str(districts),
            *flags, "--out", str(tmp / "out")]


def _bom(tmp: Path) -> list[str]:
    args = _cfg(tmp)
    path = tmp / "city.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    return args


def _cut_districts(tmp: Path) -> list[str]:
    args = _cfg(tmp)
    data = (tmp / "districts.geojson").read_bytes()
    (tmp / "districts.geojson").write_bytes(data[: len(data) // 2])
    return args


def _truncated_osm(tmp: Path) -> list[str]:
    args = _cfg(tmp)
    data = (tmp / "city.osm").read_bytes()
    (tmp / "city.osm").write_bytes(data[: len(data) // 2])
    return args

