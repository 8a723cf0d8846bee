"""A Shapefile without a .cpg is read in the encoding its text is in (GBK or UTF-8)."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geoplan._errors import InputDataError
from geoplan.config import DistrictsSource
from geoplan.layers.dbf_text import shapefile_encoding
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
    assert shapefile_encoding(_shapefile(tmp_path / "cpg", "gbk", keep_cpg=True)) is None
    ascii_path = _shapefile(tmp_path / "ascii", "utf-8", names=["Jinjiang", "Qingyang", "Jinniu"],
                            field="name")
    assert shapefile_encoding(ascii_path) is None
    ldid = _shapefile(tmp_path / "ldid", "gbk")
    dbf = ldid.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    raw[29] = 0x4D  # the language driver of code page 936 (GBK)
    dbf.write_bytes(bytes(raw))
    assert shapefile_encoding(ldid) is None


def test_text_in_no_single_encoding_is_refused_with_its_records(tmp_path):
    path = _shapefile(tmp_path, "gbk")
    dbf = path.with_suffix(".dbf")
    raw = dbf.read_bytes()
    # 金牛区 written as UTF-8 in a GBK file, and 0xFF (no character in either) in 锦江区
    raw = raw.replace("金牛区".encode("gbk"), "金牛区".encode()[:6], 1)
    gbk_name = "锦江区".encode("gbk")
    dbf.write_bytes(raw.replace(gbk_name, b"\xff" + gbk_name[1:], 1))
    with pytest.raises(InputDataError, match=r"no single encoding \(record 3 read as UTF-8; field "
                                             r"names, record 2 read as GBK; record 1 read as "
                                             r"neither\)"):
        read_vector(path)


def test_a_cpg_that_is_wrong_or_too_narrow_is_corrected_and_said(tmp_path, caplog):
    lies = _shapefile(tmp_path / "lies", "utf-8")
    lies.with_suffix(".cpg").write_text("936", encoding="ascii")  # as ArcGIS writes GBK
    with caplog.at_level(logging.WARNING):
        frame = read_vector(lies)
    assert frame["名称"].tolist() == NAMES
    assert 'districts.cpg ("936") says another encoding than its text\'s, which reads as UTF-8' \
        in caplog.text
    # characters GBK lacks (CJK extension A and B): the .cpg says GBK, the text is GB 18030
    rare = ["㐀家社区", "𠀀社区", "堃社区"]
    narrow = _shapefile(tmp_path / "narrow", "gb18030", names=rare)
    narrow.with_suffix(".cpg").write_text("GBK", encoding="ascii")
    assert shapefile_encoding(narrow) == "gb18030"
    assert read_vector(narrow)["名称"].tolist() == rare
    narrow.with_suffix(".cpg").unlink()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert read_vector(narrow)["名称"].tolist() == rare
    assert "its text reads as GB18030" in caplog.text and "holding GB18030" in caplog.text


def test_a_declared_encoding_the_text_is_not_in_names_the_fix(tmp_path):
    path = _shapefile(tmp_path, "utf-8")
    with pytest.raises(InputDataError, match=r"`districts.encoding: gbk`, but its text is not gbk: "
                                             r"it reads as UTF-8. Set `districts.encoding: utf-8`"):
        read_vector(path, encoding="gbk", encoding_key="districts.encoding")
    assert shapefile_encoding(path, "utf-8") == "utf-8"


def test_the_guess_is_said_once_however_often_the_file_is_read(tmp_path, caplog):
    path = _shapefile(tmp_path, "gbk")
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            read_vector(path)
    assert caplog.text.count("has no .cpg file") == 1


def test_a_field_name_cut_in_half_a_character_is_refused_with_the_fix(tmp_path):
    path = _shapefile(tmp_path, "utf-8", field="社区名x")  # 10 bytes, as a .dbf holds them
    dbf = path.with_suffix(".dbf")
    # the first byte of 称 where the x was: 社区名称 cut at 10 bytes
    dbf.write_bytes(dbf.read_bytes().replace("社区名x".encode(), "社区名称".encode()[:10], 1))
    with pytest.raises(InputDataError, match=r"field name\(s\) 社区名… end in half a character.*"
                                             r"at most 3 Chinese characters"):
        read_vector(path)
