"""Census residents spread over homes: the shipped table, the estimate, the dasymetric maths."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from geoplan.census import age_shares, census_table, district_census
from geoplan.config import DemandSettings, config_from_dict
from geoplan.coverage.census import census_weights, relative_weights, residents_inside, spread
from geoplan.coverage.demand import Demand
from geoplan.results import RESIDENTS


def test_census_table_ships_chengdu_exactly():
    t = census_table()
    cd = t[(t["city"] == "成都市") & (t["district_zh"] != "(全市)")]
    assert len(cd) == 20
    # the 20 districts sum exactly to the city total (the table's own check)
    assert cd["pop_census_2020"].sum() == 20_937_757
    # a source with an unquoted comma in it is read, not refused
    assert t.loc[t["district_zh"] == "思明区", "pop_census_2020"].iloc[0] == 1_073_315
    assert district_census("成都市", ["成华区"]) == district_census("成都", ["成华区"])
    assert district_census("鹤壁", ["淇滨区"]) == {}  # city total only: no district figure
    assert district_census(None, ["成华区"]) == {}


def test_age_shares_cited_and_derived():
    cd = age_shares("成都")
    assert cd.primary == pytest.approx(0.1328 * 6 / 15)
    assert cd.junior == pytest.approx(0.1328 * 3 / 15)
    assert "13.28%" in cd.source and "公报" in cd.source
    national = age_shares("鹤壁")
    assert national.primary == pytest.approx(0.1795 * 0.4)
    assert "national" in national.source


def test_residents_inside_whole_and_partial():
    # district 0: 10 km², 1 km² inside, 50,000 people -> 5,000 (estimate); district 1 whole
    r, est = residents_inside([50_000.0, 800.0, np.nan], [10e6, 2e6, 1e6], [1e6, 2e6, 0.5e6])
    assert r[:2].tolist() == [5_000.0, 800.0]
    assert math.isnan(r[2])
    assert est.tolist() == [True, False, False]


def test_relative_weights_mix_floor_and_land():
    # district 0: piece A 100 m² with 600 m² of floor (ratio 6), piece B 50 m² bare -> 300;
    # district 1: no building at all -> land area
    w, method = relative_weights([100.0, 50.0, 30.0, 70.0], [600.0, 0.0, 0.0, 0.0], [0, 0, 1, 1], 2)
    assert w.tolist() == [600.0, 300.0, 30.0, 70.0]
    assert method[0].startswith("floor area") and method[1] == "land area"


def test_spread_keeps_each_district_total():
    people = spread([900.0, 100.0], [600.0, 300.0, 30.0, 70.0], [0, 0, 1, 1])
    assert people.tolist() == pytest.approx([600.0, 300.0, 30.0, 70.0])
    empty = spread([10.0], np.zeros(0), np.zeros(0, dtype=int))
    assert len(empty) == 0


def _demand(amount, district):
    n = len(amount)
    pts = np.array([Point(i, 0) for i in range(n)], dtype=object)
    return Demand("residential", pts, pts.copy(), np.asarray(amount, float),
                  np.asarray(district, dtype=np.int64), "EPSG:32648")


def test_census_weights_on_chengdu_names_by_hand():
    # 成华区 (1,381,894 people) with a quarter of its area inside; 金牛区 wholly inside
    districts = gpd.GeoDataFrame({
        "district": ["成华区", "金牛区", "不存在区"],
        "full_area_m2": [100e6, 20e6, 5e6], "area_m2": [25e6, 20e6, 5e6],
    }, geometry=[box(0, 0, 1, 1)] * 3, crs="EPSG:32648")
    dem = _demand([300.0, 100.0, 50.0, 10.0], [0, 0, 1, 2])
    out = census_weights(dem, np.zeros(4), districts, "成都")
    assert out is not None
    expected_0 = 1_381_894 / 4
    assert out.weights[:2] == pytest.approx([expected_0 * 0.75, expected_0 * 0.25])
    assert out.weights[2] == pytest.approx(1_265_398)
    assert math.isnan(out.weights[3])  # no census figure: no people, not zero
    t = out.table.set_index("district")
    RESIDENTS.validate(out.table)
    assert t.loc["成华区", "is_estimate"] and not t.loc["金牛区", "is_estimate"]
    # the check: the estimate's density inside equals the census density of the district
    assert t.loc["成华区", "estimate_density_km2"] == pytest.approx(t.loc["成华区", "census_density_km2"])
    assert t.loc["成华区", "residents_placed"] == pytest.approx(expected_0)
    assert "estimate" in t.loc["成华区", "note"]
    assert "no 2020 census figure" in t.loc["不存在区", "note"]
    assert census_weights(dem, np.zeros(4), districts, "鹤壁") is None


def test_config_city_reaches_the_census_lookup(tmp_path):
    raw = {"name": "x", "city": "成都",
           "districts": {"path": str(tmp_path / "d.geojson")}}
    cfg = config_from_dict(raw, base_dir=tmp_path, check_files=False)
    assert cfg.demand.census_city == "成都"
    raw["demand"] = {"census_city": "石家庄", "grid_m": 30}
    cfg = config_from_dict(raw, base_dir=tmp_path, check_files=False)
    assert cfg.demand.census_city == "石家庄" and cfg.demand.grid_m == 30
    assert DemandSettings().census_city is None


def test_units_not_named_as_the_census_names_them_get_a_warning_with_the_fix(caplog):
    from geoplan.census import district_census

    with caplog.at_level("WARNING", logger="geoplan.census"):
        assert district_census("成都", ["第1网格社区", "第2网格社区"]) == {}
    (record,) = caplog.records
    text = record.getMessage()
    assert "none of the 2 districts is named as the census names 成都's districts" in text
    assert "锦江区" in text and "demand.population_raster" in text
    assert "demand.census_districts" in text and "layers/boundaries/" in text
    caplog.clear()
    with caplog.at_level("WARNING", logger="geoplan.census"):
        assert district_census("没有这个市", ["第1网格社区"]) == {}  # no city: nothing to say
        assert len(district_census("成都", ["锦江区"])) == 1
    assert caplog.records == []


def test_age_share_citation_speaks_each_language():
    # the bulletin's title stays as published; its figure is worded in the output's language
    from geoplan.census import age_shares

    shares = age_shares("成都")
    assert shares.source.startswith("成都市第七次全国人口普查公报 (2021-05-26): ages 0–14 "
                                    "2,780,800 people, 13.28%; 6–11 = 6/15")
    assert "岁" not in shares.source and "人," not in shares.source
    assert shares.source_zh.startswith("成都市第七次全国人口普查公报 (2021-05-26): 0–14岁 "
                                       "2,780,800 人, 13.28%；")
    assert "national" in age_shares("鹤壁").source and "253,383,938 people" in age_shares("鹤壁").source
