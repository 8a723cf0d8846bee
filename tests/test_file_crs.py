"""A file's own CRS is used when the config declares none, and checked against one it declares."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geoplan._errors import CRSError
from geoplan.config import DistrictsSource, FileSource
from geoplan.layers.districts import declared_crs, read_districts
from geoplan.layers.files import load_file_layer

CELLS = [shapely.box(104.05 + 0.02 * i, 30.66, 104.07 + 0.02 * i, 30.68) for i in range(2)]
EXPECTED = gpd.GeoSeries(CELLS, crs="EPSG:4326").normalize()
GK_105 = "EPSG:4544"  # CGCS2000 / 3-degree Gauss-Kruger CM 105E, Chengdu's


def _districts(tmp_path: Path, crs: str, suffix: str) -> Path:
    frame = gpd.GeoDataFrame({"name": ["甲", "乙"]}, geometry=CELLS, crs="EPSG:4326").to_crs(crs)
    path = tmp_path / f"d{suffix}"
    frame.to_file(path)
    return path


def test_a_projected_file_is_read_in_its_own_crs_when_none_is_declared(tmp_path):
    gpkg = _districts(tmp_path, GK_105, ".gpkg")
    shp = _districts(tmp_path, GK_105, ".shp")  # its .prj says so
    for path in (gpkg, shp):
        frame = read_districts(DistrictsSource(path=path, code_field=None))
        assert frame["district"].tolist() == ["甲", "乙"]
        assert frame.geometry.normalize().geom_equals_exact(EXPECTED, 1e-9).all()
        assert declared_crs(DistrictsSource(path=path)).crs.to_epsg() == 4544
    # the same declared: the same
    same = read_districts(DistrictsSource(path=gpkg, code_field=None, crs=GK_105))
    assert same.geometry.normalize().geom_equals_exact(EXPECTED, 1e-9).all()


def test_a_declaration_the_file_contradicts_names_both(tmp_path):
    gpkg = _districts(tmp_path, GK_105, ".gpkg")
    with pytest.raises(CRSError, match=r"the data says its coordinate system is .*4544.* declared as "
                                       r"WGS 84.*'EPSG:4544'"):
        read_districts(DistrictsSource(path=gpkg, code_field=None, crs="wgs84"))


def test_a_geojson_in_metres_is_read_as_declared(tmp_path):
    # GeoJSON without a crs member: GDAL tags it WGS 84 whatever its numbers; the declared
    # EPSG:4544 is what they are in (its metres were read as degrees, silently)
    x, y = gpd.GeoSeries([shapely.Point(104.06, 30.67)], crs="EPSG:4326").to_crs(GK_105).iat[0].coords[0]
    path = tmp_path / "toilets.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "公厕"},
         "geometry": {"type": "Point", "coordinates": [x, y]}}]}), encoding="utf-8")
    frame = load_file_layer(FileSource(path=path, crs=GK_105), "toilets", {})
    point = frame.geometry.iat[0]
    assert abs(point.x - 104.06) < 1e-9 and abs(point.y - 30.67) < 1e-9
    # and undeclared, its metres are refused as degrees with the fix
    with pytest.raises(CRSError, match="look like projected coordinates in metres"):
        load_file_layer(FileSource(path=path), "toilets", {})


def test_gcj02_declared_over_a_wgs84_tag_is_shifted(tmp_path):
    gcj = _districts(tmp_path, "EPSG:4326", ".geojson")
    wgs = read_districts(DistrictsSource(path=gcj, code_field=None))
    shifted = read_districts(DistrictsSource(path=gcj, code_field=None, crs="gcj02"))
    moved = shapely.distance(shapely.centroid(wgs.geometry.to_numpy()),
                             shapely.centroid(shifted.geometry.to_numpy()))
    assert (moved > 0.002).all()  # a few hundred metres in degrees
    assert declared_crs(DistrictsSource(path=gcj, crs="gcj02")).kind == "gcj02"


def test_metres_read_as_degrees_name_the_key_and_the_crs_of_the_place(tmp_path):
    # Chengdu's districts in EPSG:4544 metres as a GeoJSON without a crs member, nothing declared
    frame = gpd.GeoDataFrame({"name": ["甲", "乙"]}, geometry=CELLS, crs="EPSG:4326").to_crs(GK_105)
    path = tmp_path / "d.geojson"
    path.write_text(frame.set_crs(None, allow_override=True).to_json(), encoding="utf-8")
    with pytest.raises(CRSError) as caught:
        read_districts(DistrictsSource(path=path, code_field=None))
    message = str(caught.value)
    assert "'EPSG:4544' (CM 105E: Chengdu, Chongqing)" in message
    assert message.endswith("Set `districts.crs:` to what the coordinates are in (wgs84, gcj02, "
                            "bd09 or 'EPSG:nnnn').")
    assert "declared as" not in message
