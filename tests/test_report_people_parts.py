"""The district pages' people section looks each district's rows up from tables split once."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from geoplan.report.people_html import PeopleParts, people_section

DISTRICTS = ["东区", "西区", "北区"]


def _coverage() -> SimpleNamespace:
    residents = pd.DataFrame({
        "district": ["西区", "东区", "北区"], "inside_share": [0.5, 1.0, 0.25],
        "is_estimate": [True, False, True], "residents_inside": [5000.0, 12000.0, 800.0],
        "census_2020": [10000.0, 12000.0, 3200.0], "census_density_km2": [900.0, 1500.0, 40.0]})
    children = pd.DataFrame({
        "district": ["东区", "西区", "东区", "北区", "西区"],
        "level": ["primary", "primary", "junior", "primary", "junior"],
        "radius_m": [500.0, 500.0, 1000.0, 500.0, 1000.0],
        "children": [600.0, 250.0, 300.0, 40.0, 120.0],
        "beyond_buffer": [60.0, 25.0, 30.0, 4.0, 12.0],
        "beyond_network": [90.0, 35.0, 40.0, 6.0, 20.0]})
    seats = children[["district", "level"]].assign(
        seats_reached=[500.0, 200.0, 310.0, 0.0, 100.0], seat_gap=[100.0, 50.0, 0.0, 40.0, 20.0])
    people = SimpleNamespace(residents=residents, children=children, seats=seats,
                             meta={"age_shares": "a", "seat_norms": "b", "notes": "c"})
    indicators = SimpleNamespace(table=pd.DataFrame({
        "district": ["北区", "东区", "北区", "西区"],
        "indicator": ["green_space_ratio", "green_space_ratio", "park_area_per_person",
                      "green_space_ratio"],
        "name_zh": ["绿地率", "绿地率", "人均公园面积", "绿地率"],
        "unit": ["share", "share", "m2", "share"], "value": [0.3, 0.1, 2.5, np.nan],
        "target": [0.35, 0.35, 4.0, 0.35], "status": ["fail", "fail", "fail", "no data"],
        "note": ["n1", "n2", "n3", "n4"], "partial": [True, False, True, True]}))
    table = pd.DataFrame({"district": ["西区", "北区", "东区", "北区"],
                          "standard": ["a", "a", "a", "b"],
                          "inside_share": [0.5, 0.25, 1.0, 0.9]})
    return SimpleNamespace(people=people, indicators=indicators, table=table)


def test_each_district_gets_its_own_rows_in_table_order() -> None:
    cov = _coverage()
    parts = PeopleParts(cov)
    north = people_section(cov, "北区", "zh", parts)
    assert north is not None
    assert north["residents"].startswith("常住人口：800 人（估算：本区只有 25% 在数据范围内")
    assert [r[2] for r in north["rows"]] == ["40"]
    assert north["rows"][0][-2:] == ["0", "40"]  # seats reached, seat gap (merged per level)
    # its indicators in the table's order; the note names the first coverage row's share
    assert [r[0] for r in north["ind_rows"]] == ["绿地率", "人均公园面积"]
    assert north["ind_rows"][0][1] == "30.0%" and "25%" in north["ind_rows"][0][4]
    east = people_section(cov, "东区", "en", parts)
    assert east is not None
    assert [r[0] for r in east["rows"]] == ["primary (6–11)", "junior (12–14)"]
    assert [r[4] for r in east["ind_rows"]] == ["n2"]
    assert people_section(cov, "南区", "zh", parts) == {  # no rows anywhere: empty section
        **people_section(cov, "南区", "zh"), "rows": [], "ind_rows": [], "residents": ""}


def test_parts_made_once_give_what_each_call_made_alone() -> None:
    cov = _coverage()
    parts = PeopleParts(cov)
    for lang in ("zh", "en"):
        for d in [*DISTRICTS, "南区"]:
            assert people_section(cov, d, lang, parts) == people_section(cov, d, lang)
    assert parts.inside("西区") == 0.5 and parts.inside("南区") == 1.0
