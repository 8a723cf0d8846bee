"""Partly covered districts (inclusion by area inside) and layer kinds with no feature."""

from __future__ import annotations

import argparse
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geoplan._errors import InputDataError
from geoplan.cli._common import add_input_args, config_from_args
from geoplan.config import AnalysisConfig
from geoplan.coverage import run_coverage
from geoplan.layers import district_summary, load_layers
from geoplan.layers.districts import clip_districts
from tests._osm_xml import write_districts, write_osm

CRS = "EPSG:32648"


def _big_district() -> gpd.GeoDataFrame:
    # a 388 km² district and a 3 km² neighbourhood extract inside it
    return gpd.GeoDataFrame({"district": ["大区"]}, geometry=[shapely.box(0, 0, 19700, 19700)], crs=CRS)


def test_a_small_extract_of_a_big_district_is_analysed_on_its_part():
    out = clip_districts(_big_district(), shapely.box(5000, 5000, 6500, 7000), data_source="x")
    assert out["inside_km2"].iat[0] == pytest.approx(3.0)
    assert out["inside_share"].iat[0] == pytest.approx(3.0 / 388.09)
    assert out["full_area_m2"].iat[0] == pytest.approx(388.09e6)


def test_below_the_area_threshold_the_message_names_key_and_flag():
    with pytest.raises(InputDataError, match=r"min_inside_km2.*--min-inside-km2"):
        clip_districts(_big_district(), shapely.box(5000, 5000, 5500, 5500), data_source="x")
    kept = clip_districts(_big_district(), shapely.box(5000, 5000, 5500, 5500), data_source="x",
                          min_inside_km2=0.2)
    assert kept["inside_km2"].iat[0] == pytest.approx(0.25)


def test_small_units_inside_the_data_are_kept_however_small():
    """社区 of 0.25 km² wholly inside (and one 60 % inside) are analysed; the 0.25 km² sliver
    of a 1 km² unit the data barely reaches, and a 0.04 km² corner of the big district, are
    not."""
    units = gpd.GeoDataFrame({"district": ["甲社区", "乙社区", "丙社区", "丁社区"]}, geometry=[
        shapely.box(0, 0, 500, 500),             # 0.25 km², wholly inside
        shapely.box(500, 0, 1000, 500),          # 0.25 km², 60 % inside (x < 800)
        shapely.box(0, 600, 1000, 1600),         # 1 km², 0.2 km² inside (y < 800)
        shapely.box(-5000, -5000, 200, 200)], crs=CRS)  # 27 km², 0.04 km² inside
    out = clip_districts(units, shapely.box(0, 0, 800, 800), data_source="x")
    assert out["district"].tolist() == ["甲社区", "乙社区"]
    assert out["inside_km2"].tolist() == pytest.approx([0.25, 0.15])
    assert out["inside_share"].tolist() == pytest.approx([1.0, 0.6])


def test_cli_flag_sets_the_threshold(tmp_path):
    for name in ("a.osm", "d.geojson"):
        (tmp_path / name).write_text("")
    parser = argparse.ArgumentParser()
    add_input_args(parser)
    args = parser.parse_args(["--osm", str(tmp_path / "a.osm"), "--districts",
                              str(tmp_path / "d.geojson"), "--min-inside-km2", "0.1"])
    assert config_from_args(args).districts.min_inside_km2 == 0.1
    default = parser.parse_args(["--osm", str(tmp_path / "a.osm"), "--districts",
                                 str(tmp_path / "d.geojson")])
    assert config_from_args(default).districts.min_inside_km2 == 0.5



def test_cli_flag_gives_the_extracts_edge(tmp_path, capsys):
    # an extract without a bounds header, with a config or without: --osm-bounds is osm.bounds
    from geoplan.cli._common import in_flags
    from tests.conftest import CHENGDU_CONFIG

    for name in ("a.osm", "d.geojson"):
        (tmp_path / name).write_text("")
    parser = argparse.ArgumentParser()
    add_input_args(parser)
    box = ["--osm-bounds", "104.04,30.65，104.12,30.71"]
    adhoc = parser.parse_args(["--osm", str(tmp_path / "a.osm"), "--districts",
                               str(tmp_path / "d.geojson"), *box])
    assert config_from_args(adhoc).osm.bounds == (104.04, 30.65, 104.12, 30.71)
    other = parser.parse_args([str(CHENGDU_CONFIG), "--osm", str(tmp_path / "a.osm"), *box])
    config = config_from_args(other)
    assert config.osm.path == tmp_path / "a.osm" and config.osm.bounds == (104.04, 30.65, 104.12, 30.71)
    # three numbers, a box upside down, not a number: argparse's usage error (exit code 2)
    # naming the flag, with a config too (osm.bounds of the YAML was blamed for the flag's)
    for bad in ("104.04,30.65,104.12", "104.12,30.71,104.04,30.65", "nan,30.65,104.12,30.71",
                "104.04,95,104.12,96"):
        with pytest.raises(SystemExit) as info:
            parser.parse_args([str(CHENGDU_CONFIG), "--osm-bounds", bad])
        assert info.value.code == 2
    assert "--osm-bounds" in capsys.readouterr().err
    assert in_flags("x.osm: extent given as osm.bounds: [1, 2, 3, 4]").count("--osm-bounds") == 1


# --- a tiny extract: two streets, a bus stop, optionally residential land -------------------------
def _extract(path, *, residential: bool, roads: bool):
    nodes = [(1, 104.0, 30.0, {}), (2, 104.02, 30.0, {}), (3, 104.02, 30.02, {}), (4, 104.0, 30.02, {}),
             (5, 104.01, 30.01, {"highway": "bus_stop", "name": "站"}),
             (6, 104.002, 30.009, {}), (7, 104.018, 30.009, {}),
             (11, 104.004, 30.004, {}), (12, 104.008, 30.004, {}), (13, 104.008, 30.008, {}),
             (14, 104.004, 30.008, {})]
    ways = [(100, [1, 2, 3, 4], {"barrier": "wall"})]
    if roads:
        ways.append((101, [6, 7], {"highway": "residential", "name": "路"}))
    if residential:
        ways.append((102, [11, 12, 13, 14, 11], {"landuse": "residential"}))
    return write_osm(path, nodes, ways)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiny")
    districts = write_districts(tmp / "d.geojson", {"甲区": (104.0, 30.0, 104.01, 30.02),
                                                   "乙区": (104.01, 30.0, 104.03, 30.02)})
    return tmp, districts


def _config(osm, districts) -> AnalysisConfig:
    return AnalysisConfig.model_validate({
        "name": "t", "districts": {"path": str(districts), "crs": "wgs84"},
        "osm": {"path": str(osm)}, "output": str(osm.parent / "out"), "standards": ["bus_stop_500"]})


def test_tables_say_how_much_of_each_district_is_covered(tiny):
    tmp, districts = tiny
    layers = load_layers(_config(_extract(tmp / "full.osm", residential=True, roads=True), districts))
    inside = layers.districts.set_index("district")
    # 乙区 runs to 104.03 but the data stops at 104.02: half of it is inside
    assert inside.loc["乙区", "inside_share"] == pytest.approx(0.5, abs=1e-3)
    table = run_coverage(layers, ["bus_stop_500"]).table.set_index("district")
    for d in ("甲区", "乙区"):
        assert table.loc[d, "inside_km2"] == pytest.approx(inside.loc[d, "area_m2"] / 1e6)
        assert table.loc[d, "inside_share"] == pytest.approx(inside.loc[d, "inside_share"])
    summary = district_summary(layers).set_index("district")
    assert summary.loc["乙区", "inside_km2"] == pytest.approx(inside.loc["乙区", "area_m2"] / 1e6)


@pytest.mark.parametrize("missing", ["residential", "roads"])
def test_layers_command_without_a_kind_warns_and_does_not_crash(tiny, missing):
    tmp, districts = tiny
    osm = _extract(tmp / f"no_{missing}.osm", residential=missing != "residential",
                   roads=missing != "roads")
    result = subprocess.run([sys.executable, "-m", "geoplan", "layers", "--osm", str(osm),
                             "--districts", str(districts), "--out", str(tmp / f"out_{missing}")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"layer '{missing}' is empty" in result.stderr
    table = pd.read_csv(tmp / f"out_{missing}" / "layers.csv", encoding="utf-8-sig")
    column = "residential_ha" if missing == "residential" else "roads_km"
    assert (table[column] == 0).all()


def test_the_partial_warning_names_twelve_districts_and_counts_the_rest(caplog):
    strips = gpd.GeoDataFrame({"district": [f"条{i}" for i in range(15)]}, geometry=[
        shapely.box(i * 100, 0, i * 100 + 100, 1000) for i in range(15)], crs=CRS)
    with caplog.at_level("WARNING", logger="geoplan.layers.districts"):
        out = clip_districts(strips, shapely.box(0, 0, 1500, 900), data_source="x")
    assert len(out) == 15  # each 90 % inside
    (record,) = caplog.records
    text = record.getMessage()
    assert "条11 (0.1 km², 90%)" in text and "条12" not in text and text.endswith(" and 3 more")



def test_districts_left_out_are_named(caplog):
    # a district wholly outside the data appeared nowhere, not even in the log
    units = gpd.GeoDataFrame({"district": ["内区", "外区", "边区"]}, geometry=[
        shapely.box(0, 0, 1000, 1000), shapely.box(50_000, 0, 51_000, 1000),
        shapely.box(-20_000, 0, 100, 20_000)], crs=CRS)
    with caplog.at_level("INFO", logger="geoplan.layers.districts"):
        out = clip_districts(units, shapely.box(0, 0, 1000, 1000), data_source="x")
    assert out["district"].tolist() == ["内区"]
    said = " / ".join(r.getMessage() for r in caplog.records)
    assert "1 district(s) lie outside the data and are not analysed: 外区" in said
    assert "left out: 边区 (0.10 km²)" in said
    caplog.clear()
    with caplog.at_level("INFO", logger="geoplan.layers.districts"):  # a batch job: the city says it
        clip_districts(units, shapely.box(0, 0, 1000, 1000), data_source="x", say_partial=False)
    assert not [r for r in caplog.records if r.levelname == "WARNING" or "外区" in r.getMessage()]
