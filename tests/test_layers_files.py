"""Planners' own files (CSV, GeoJSON, Shapefile, GeoPackage) and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml

from geoplan._errors import CRSError, InputDataError
from geoplan.config import load_config
from geoplan.crs import wgs84_to_gcj02
from geoplan.layers import load_layers
from tests.conftest import CHENGDU_DISTRICTS, CHENGDU_PBF

# three points in 青羊区 (WGS84), near 人民公园
WGS = [(104.0580, 30.6590), (104.0600, 30.6610), (104.0620, 30.6630)]


def _config(tmp_path: Path, layers: dict | None = None, **extra) -> Path:
    data = {
        "name": "files",
        "districts": {"path": str(CHENGDU_DISTRICTS), "crs": "gcj02"},
        "osm": {"path": str(CHENGDU_PBF), "bounds": [104.0421, 30.6528, 104.1296, 30.7279]},
        "output": str(tmp_path / "out"),
        **extra,
    }
    if layers:
        data["layers"] = layers
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_csv_in_gcj02_is_converted_and_added(tmp_path, chengdu_layers):
    lon, lat = wgs84_to_gcj02([p[0] for p in WGS], [p[1] for p in WGS])
    csv = tmp_path / "toilets.csv"
    pd.DataFrame({"名称": ["公厕A", "公厕B", "公厕C"], "lng": lon, "lat": lat}).to_csv(
        csv, index=False, encoding="gb18030")
    config = load_config(_config(tmp_path, {"toilets": [{"path": str(csv), "crs": "gcj02"}]}))
    layers = load_layers(config)
    toilets = layers["toilets"]
    assert len(toilets) == len(chengdu_layers["toilets"]) + 3
    added = toilets.loc[toilets["source"] == "toilets.csv"].to_crs(4326)
    assert list(added["name"]) == ["公厕A", "公厕B", "公厕C"]
    # converted back to WGS84 to within a metre (1e-5 degrees)
    assert added.geometry.x.to_numpy() == pytest.approx([p[0] for p in WGS], abs=1e-5)
    assert added.geometry.y.to_numpy() == pytest.approx([p[1] for p in WGS], abs=1e-5)


def test_replace_mode_and_shapefile_school_levels_from_names(tmp_path):
    shp = tmp_path / "schools.shp"
    gpd.GeoDataFrame(
        {"mc": ["青羊实验小学", "树德九年一贯制学校", "石室高级中学"]},
        geometry=gpd.points_from_xy([p[0] for p in WGS], [p[1] for p in WGS]), crs=4326,
    ).to_file(shp, encoding="utf-8")
    config = load_config(_config(tmp_path, {"schools": [
        {"path": str(shp), "crs": "wgs84", "mode": "replace", "columns": {"name": "mc"}}]}))
    schools = load_layers(config)["schools"].set_index("name")
    assert len(schools) == 3
    assert schools.loc["青羊实验小学", ["primary", "junior", "senior"]].tolist() == [True, False, False]
    assert schools.loc["树德九年一贯制学校", ["primary", "junior", "senior"]].tolist() == [True, True, False]
    assert schools.loc["石室高级中学", ["primary", "junior", "senior"]].tolist() == [False, False, True]


def test_invalid_and_mixed_geometries_are_repaired_or_rejected_with_counts(tmp_path):
    x0, y0 = 104.060, 30.665
    bowtie = shapely.Polygon([(x0, y0), (x0 + 0.003, y0 + 0.003), (x0 + 0.003, y0), (x0, y0 + 0.003)])
    good = shapely.box(x0 + 0.004, y0, x0 + 0.006, y0 + 0.002)
    stray_point = shapely.Point(x0, y0)
    path = tmp_path / "parks.geojson"
    gpd.GeoDataFrame({"name": ["蝴蝶公园", "方公园", "点"]},
                     geometry=[bowtie, good, stray_point], crs=4326).to_file(path)
    config = load_config(_config(tmp_path, {"parks": [{"path": str(path), "mode": "replace"}]}))
    layers = load_layers(config)
    parks = layers["parks"]
    assert sorted(parks["name"]) == ["方公园", "蝴蝶公园"]
    assert parks.geometry.is_valid.all()
    issues = layers.issues.set_index("issue")
    assert issues.filter(like="invalid", axis=0)["count"].sum() == 1
    assert issues.filter(like="not an area", axis=0)["count"].sum() == 1


def test_gpkg_layer_and_broken_file(tmp_path):
    gpkg = tmp_path / "mine.gpkg"
    gpd.GeoDataFrame({"name": ["站"]}, geometry=[shapely.Point(*WGS[0])], crs=4326).to_file(
        gpkg, layer="stops")
    config = load_config(_config(tmp_path, {"bus_stops": [{"path": str(gpkg), "layer": "stops",
                                                           "mode": "replace"}]}))
    assert list(load_layers(config)["bus_stops"]["name"]) == ["站"]

    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"this is not a geopackage" * 10)
    config = load_config(_config(tmp_path, {"bus_stops": [{"path": str(broken)}]}))
    with pytest.raises(InputDataError, match=r"broken\.gpkg"):
        load_layers(config)


def test_empty_layer_file_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty.geojson"
    empty.write_text(json.dumps({"type": "FeatureCollection", "features": []}), encoding="utf-8")
    config = load_config(_config(tmp_path, {"toilets": [{"path": str(empty)}]}))
    with pytest.raises(InputDataError, match=r"empty\.geojson has no features"):
        load_layers(config)


def test_projected_coordinates_declared_as_gcj02_are_refused(tmp_path):
    path = tmp_path / "metres.csv"
    pd.DataFrame({"x": [404000.0], "y": [3393000.0], "name": ["厕所"]}).to_csv(path, index=False)
    config = load_config(_config(tmp_path, {"toilets": [{"path": str(path), "crs": "gcj02",
                                                         "lon": "x", "lat": "y"}]}))
    with pytest.raises(CRSError, match=r"metres\.csv"):
        load_layers(config)


def test_corrupt_osm_file(tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"\x00\x01garbage" * 100)
    config = load_config(_config(tmp_path, osm={"path": str(bad)}))
    with pytest.raises(InputDataError, match=r"bad\.osm\.pbf.*corrupt"):
        load_layers(config)


def test_district_file_without_features_or_overlap(tmp_path):
    empty = tmp_path / "d.geojson"
    empty.write_text(json.dumps({"type": "FeatureCollection", "features": []}), encoding="utf-8")
    config = load_config(_config(tmp_path, districts={"path": str(empty)}))
    with pytest.raises(InputDataError, match="has no features"):
        load_layers(config)
    far = tmp_path / "far.geojson"
    gpd.GeoDataFrame({"name": ["远区"]}, geometry=[shapely.box(116.3, 39.9, 116.4, 40.0)],
                     crs=4326).to_file(far)
    config = load_config(_config(tmp_path, districts={"path": str(far)}))
    with pytest.raises(InputDataError, match=r"no district overlaps the data.*districts\.crs"):
        load_layers(config)


def test_unknown_include_name(tmp_path):
    config = load_config(_config(tmp_path, districts={
        "path": str(CHENGDU_DISTRICTS), "crs": "gcj02", "include": ["成华区", "天府区"]}))
    with pytest.raises(InputDataError, match="天府区"):
        load_layers(config)


def test_school_file_levels_and_yes_no_columns(tmp_path):
    """A planner's schools: levels in Chinese or English, yes/no columns read as words (any
    text was True: a kindergarten marked 'no' counted as a junior school)."""
    from geoplan.config import FileSource
    from geoplan.layers.files import load_file_layer
    from geoplan.layers.rules import load_catalog

    rules = load_catalog()["layers"]["schools"]["levels"]
    path = tmp_path / "schools.csv"
    path.write_text("lon,lat,name,levels,junior\n"
                    "104.06,30.65,甲,小学,否\n"
                    "104.07,30.65,乙,初中;高中,yes\n"
                    "104.08,30.65,丙幼儿园,,no\n"
                    "104.09,30.65,丁小学,7,0\n", encoding="utf-8")
    frame = load_file_layer(FileSource(path=path), "schools", rules)
    assert frame["levels"].tolist() == ["primary", "junior;senior", "", "primary"]
    assert frame["level_from"].tolist()[:2] == ["file", "file"]
    assert frame["junior"].tolist() == [False, True, False, False]
    assert frame["primary"].tolist() == [True, False, False, True]


def test_school_capacity_read_or_named(tmp_path, caplog):
    from geoplan.config import FileSource
    from geoplan.layers.files import load_file_layer
    from geoplan.layers.rules import load_catalog

    path = tmp_path / "schools.csv"
    path.write_text('lon,lat,name,levels,capacity\n104.06,30.65,甲小学,小学,"1,200"\n'
                    "104.07,30.65,乙小学,小学,约900\n104.08,30.65,丙小学,小学,-5\n"
                    "104.09,30.65,丁小学,小学,\n", encoding="utf-8")
    frame = load_file_layer(FileSource(path=path), "schools",
                            load_catalog()["layers"]["schools"]["levels"])
    assert frame["capacity"].iloc[0] == 1200
    assert frame["capacity"].iloc[1:].isna().all()
    assert "2 value(s) of 'capacity' are not numbers" in caplog.text
    assert "line 3: '约900'" in caplog.text


def test_point_rows_without_coordinates_are_named_and_a_wrong_column_name_is_said(tmp_path,
                                                                                  caplog):
    from geoplan.layers.files import read_vector

    csv = tmp_path / "toilets.csv"
    csv.write_text("name,lon,lat\na,104.06,30.7\nb,abc,30.7\nc,104.1,\n", encoding="utf-8")
    with caplog.at_level("WARNING"):
        points = read_vector(csv, lon="lon", lat="lat")
    assert len(points) == 1
    assert ("2 row(s) without numeric coordinates rejected: line 3 (lon='abc', lat='30.7'); "
            "line 4 (lon='104.1', lat=empty)") in caplog.text
    with pytest.raises(InputDataError, match=r"no column named as the layer's config entry "
                                             r"says \(lon: nope; columns: \['name', 'lon', 'lat'\]"):
        read_vector(csv, lon="nope", lat="lat")


def test_a_gbk_geojson_names_the_value_it_cannot_read(tmp_path):
    # it said "invalid start byte at byte 0": an offset inside a field, not the file
    from geoplan.layers.files import read_vector

    text = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "锦江区公厕"},
         "geometry": {"type": "Point", "coordinates": [104.08, 30.66]}}]}, ensure_ascii=False)
    path = tmp_path / "toilets.geojson"
    path.write_bytes(text.encode("gbk"))
    with pytest.raises(InputDataError, match=r"is not UTF-8 \(a field value that reads "
                                             r"'锦江区公厕' as GBK\).*encoding: gbk"):
        read_vector(path)
    assert read_vector(path, encoding="gbk")["name"].tolist() == ["锦江区公厕"]


def test_a_property_gdal_takes_for_json_stays_text_without_a_warning(tmp_path):
    # a code that is a list in one feature and text in another: GDAL gives the column the JSON
    # subtype and geopandas warned on the terminal for every read of the file
    import warnings

    from geoplan.layers.files import read_vector

    point = {"type": "Point", "coordinates": [104.0, 30.6]}
    path = tmp_path / "codes.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "a", "adcode": ["x", 1]}, "geometry": point},
        {"type": "Feature", "properties": {"name": "b", "adcode": "AB"}, "geometry": point}]}),
        encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = read_vector(path)
    assert frame["adcode"].tolist()[1] == "AB" and "x" in frame["adcode"].tolist()[0]
