"""A Shapefile without a .cpg is read in the encoding its text is in (GBK or UTF-8)."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geoplan.config import DistrictsSource
from geoplan.layers.dbf_text import guess_shapefile_encoding
from geoplan.layers.districts import read_districts
from geoplan.layers.files import read_vector

NAMES = ["锦江区", "青羊区", "金牛区"]


def _shapefile(folder: Path, encoding: str, *, keep_cpg: bool = False,
               names: list[str] = NAMES, field: str = "名称") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "districts.shp"
    cells = [shapely.box(104.0 + 0.01 * i, 30.6, 104.01 + 0.01 * i, 30.61) for i in range(len(names))]
    frame = gpd.GeoDataFrame({field: names, "code": [str(510104 + i) for i in range(len(names))]},
                             geometry=cells, crs="EPSG:4326")
    frame.to_file(path, encoding=encoding)
    if not keep_cpg:
        path.with_suffix(".cpg").unlink()
    return path


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_a_shapefile_without_cpg_reads_its_names_and_fields(tmp_path, encoding, caplog):
    path = _shapefile(tmp_path, encoding)
    with caplog.at_level(logging.WARNING):
        frame = read_vector(path)
    assert frame["名称"].tolist() == NAMES
    label = "GBK" if encoding == "gbk" else "UTF-8"
    assert f"its text reads as {label}" in caplog.text
    assert "districts.cpg" in caplog.text


def test_the_district_names_are_the_same_as_from_the_geojson(tmp_path):
    shp = _shapefile(tmp_path / "shp", "gbk")
    geojson = tmp_path / "districts.geojson"
    read_vector(shp).to_file(geojson)
    a = read_districts(DistrictsSource(path=shp, name_field="名称", code_field="code"))
    b = read_districts(DistrictsSource(path=geojson, name_field="名称", code_field="code"))
    assert a["district"].tolist() == b["district"].tolist() == NAMES
    assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all()


def test_a_cpg_or_a_language_driver_or_plain_ascii_is_left_to_gdal(tmp_path):
    assert guess_shapefile_encoding(_shapefile(tmp_path / "cpg", "gbk", keep_cpg=True)) is None
    ascii_path = _shapefile(tmp_path / "ascii", "utf-8", names=["Jinjiang", "Qingyang", "Jinniu"],
                            field="name")
    assert guess_shapefile_encoding(ascii_path) is None
    ldid = _shapefile(tmp_path / "ldid", "gbk")
    dbf = ldid.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    raw[29] = 0x4D  # the language driver of code page 936 (GBK)
    dbf.write_bytes(bytes(raw))
    assert guess_shapefile_encoding(ldid) is None


def test_text_that_is_neither_is_left_to_gdal(tmp_path):
    path = _shapefile(tmp_path, "gbk")
    dbf = path.with_suffix(".dbf")
    raw = dbf.read_bytes()
    # a lone lead byte at the end of a name is neither GB 18030 nor UTF-8
    gbk_name = "锦江区".encode("gbk")
    dbf.write_bytes(raw.replace(gbk_name, b"\xff" + gbk_name[1:], 1))
    assert guess_shapefile_encoding(path) is None


def test_the_guess_is_said_once_however_often_the_file_is_read(tmp_path, caplog):
    path = _shapefile(tmp_path, "gbk")
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            read_vector(path)
    assert caplog.text.count("has no .cpg file") == 1
