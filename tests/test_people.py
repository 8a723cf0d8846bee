"""Children beyond the school radius and the per-person indicators on hand-built cities."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geoplan.config import DemandSettings
from geoplan.coverage import run_coverage, write_coverage
from geoplan.indicators import measure_indicators, road_width
from tests._synthetic import P, box, frame, layerset, line

CHENGHUA = 1_381_894  # 成华区, 2020 census


@pytest.fixture(scope="module")
def school_run():
    # 成华区 as a 1 km square of homes, a quarter of the district "inside the data";
    # one primary school in the middle, no walkways (nobody reaches it on foot)
    ls = layerset({"成华区": box(0, 0, 1000, 1000)}, residential=[box(0, 0, 1000, 1000)],
                  schools=frame("schools", [P(500, 500)], name=["=HYPERLINK(1)"],
                                levels=["primary"], primary=[True]))
    d = ls.layers["districts"]
    d["full_area_m2"] = 4e6
    d["inside_share"] = 0.25
    return run_coverage(ls, ["primary_school_500"], DemandSettings(census_city="成都"))


def test_census_people_and_children_beyond_500m_by_hand(school_run):
    r = school_run.table.iloc[0]
    assert r["population_source"] == "census"
    residents = CHENGHUA / 4  # census density × area inside (an estimate)
    res = school_run.meta["residents"].iloc[0]
    assert res["residents_inside"] == pytest.approx(residents) and res["is_estimate"]
    people = school_run.people
    assert people is not None
    people.validate()
    c = people.children.iloc[0]
    children = residents * 0.1328 * 6 / 15
    assert c["children"] == pytest.approx(children)
    circle = math.pi * 500**2 / 1e6  # the 500 m circle lies inside the square
    # (128-gon buffers: the covered part within 0.04 % of the circle)
    assert children - c["beyond_buffer"] == pytest.approx(children * circle, rel=1e-3)
    assert c["beyond_network"] == pytest.approx(children)  # no walkway: nobody walks there
    assert residents - r["uncovered_population"] == pytest.approx(residents * circle, rel=1e-3)
    s = people.seats.iloc[0]
    assert s["seats_reached"] == 0 and s["seat_gap"] == pytest.approx(children)
    assert s["seats_in_district"] == 24 * 45 and s["schools_in_district"] == 1
    assert people.schools.iloc[0]["seats_from"] == "default size (assumed)"


def test_people_csvs_are_safe_text(school_run, tmp_path):
    paths = write_coverage(school_run, tmp_path)
    for key in ("residents", "children", "seats", "school_seats"):
        assert paths[key].is_file()
    schools = pd.read_csv(paths["school_seats"], encoding="utf-8-sig")
    assert schools["name"].iloc[0] == "'=HYPERLINK(1)"  # a name is never a formula


def test_no_people_no_children():
    ls = layerset({"A": box(0, 0, 1000, 1000)}, residential=[box(0, 0, 1000, 1000)],
                  schools=frame("schools", [P(500, 500)], levels=["primary"], primary=[True]))
    res = run_coverage(ls, ["primary_school_500"], DemandSettings())
    assert res.people is None and res.meta["residents"] is None


def test_road_width_sources():
    roads = pd.DataFrame({"highway": ["primary", "secondary", "service", "footway"],
                          "oneway": [True, False, False, False],
                          "lanes": [np.nan, 3.0, np.nan, np.nan], "width": [np.nan] * 4})
    assert road_width(roads).tolist() == [10.5, 10.5, 3.5, 3.5]


def test_indicators_by_hand():
    # district A: 1 km², a quarter of the district inside, 1,000 residents there (given)
    parks = frame("parks", [box(0, 0, 100, 100), box(50, 0, 150, 100)], kind=["park", "garden"])
    green = frame("green_space", [box(0, 0, 100, 100), box(300, 0, 500, 100)],
                  kind=["park", "grass"])
    roads = frame("roads", [line((0, 500), (1000, 500)), line((0, 700), (500, 700)),
                            line((-200, 900), (300, 900))],
                  highway=["primary", "primary", "residential"], oneway=[False, True, False])
    ls = layerset({"A": box(0, 0, 1000, 1000)}, parks=parks, green_space=green, roads=roads)
    ls.layers["districts"]["inside_share"] = 0.25
    residents = pd.DataFrame({"district": ["A"], "residents_inside": [1000.0]})
    t = measure_indicators(ls, residents, {"green_space_ratio": 0.02}).table.set_index("indicator")
    # parks overlap: 150 × 100 m counted once = 15,000 m² / 1000 = 15 m² per person
    assert t.loc["park_area_per_person", "value"] == pytest.approx(15.0)
    assert t.loc["park_area_per_person", "status"] == "pass"
    assert t.loc["park_area_per_person", "partial"]
    assert "25%" in t.loc["park_area_per_person", "note"]
    # green: 10,000 + 20,000 m² of 1 km² = 3 % against a configured 2 %
    assert t.loc["green_space_ratio", "value"] == pytest.approx(0.03)
    assert t.loc["green_space_ratio", "status"] == "pass"
    assert t.loc["green_coverage", "status"] == "no data"
    # roads: 1000 m × 21 m + 500 m × 10.5 m (one way) + 300 m inside × 7 m = 28,350 m²
    assert t.loc["road_area_per_person", "value"] == pytest.approx(28.35)
    assert t.loc["road_area_per_person", "status"] == "pass"
    # without people the per-person figures are n/a, never area
    none = measure_indicators(ls, None).table.set_index("indicator")
    assert none.loc["park_area_per_person", "status"] == "no data"
    assert math.isnan(none.loc["road_area_per_person", "value"])


def test_configured_age_shares_and_indicator_targets(tmp_path):
    from geoplan._errors import ConfigError
    from geoplan.config import config_from_dict
    from geoplan.coverage.people import _ages

    raw = {"name": "x", "city": "成都", "districts": {"path": str(tmp_path / "d.geojson")},
           "demand": {"schools": {"age_share_primary": 0.06, "age_share_source": "my survey"}},
           "indicators": {"park_area_per_person": 12}}
    cfg = config_from_dict(raw, base_dir=tmp_path, check_files=False)
    ages = _ages(cfg.demand)
    assert ages.primary == 0.06 and ages.junior == pytest.approx(0.1328 * 3 / 15)
    assert "my survey" in ages.source
    assert cfg.indicators == {"park_area_per_person": 12.0}
    with pytest.raises(ConfigError, match="indicators"):
        config_from_dict({**raw, "indicators": {"parks_per_person": 1}}, base_dir=tmp_path,
                         check_files=False)
