"""The notebooks' tables read as the workbook does: formats, words, escaping; one row per gap."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from geoplan.notebook import largest_gaps, summary_line
from geoplan.notebook_tables import column_format, indicators_view, table_view


def _cells(html: str) -> list[list[str]]:
    """The body cells of a rendered table, row by row."""
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S) for r in rows if "<td" in r]


def test_formats_follow_the_schema_units():
    assert column_format("share_buffer") == "{:.1%}"
    assert column_format("uncovered_length_m") == "{:,.0f}"
    assert column_format("inside_km2") == "{:,.2f}"
    assert column_format("detour_ratio") == "{:,.2f}"
    assert column_format("n_facilities") == "{:,.0f}"
    assert column_format("name") is None
    # a column no schema lists: by its values
    assert column_format("x_count", pd.Series([1.0, 2.0])) == "{:,.0f}"
    assert column_format("x_mean", pd.Series([0.25, 0.5])) == "{:.3f}"
    assert column_format("x_flag", pd.Series([True, False])) is None


def test_coverage_rows_as_the_workbook_writes_them():
    df = pd.DataFrame({
        "district": ["<img src=x onerror=alert(1)>", "乙区"],
        "standard": ["park_500", "park_service_coverage"],
        "radius_m": [500.0, "500/300"], "target": [1.0, 0.8], "share_buffer": [0.256, np.nan],
        "meets_target": [False, False], "uncovered_area_m2": [1_234_567.4, np.nan],
        "crosses_water": [True, False], "highway": ["primary", "residential"],
        "geometry": [None, None]})
    html = table_view(df, "zh").to_html()
    rows = _cells(html)
    assert rows[0] == ["&lt;img src=x onerror=alert(1)&gt;", "park_500", "500", "100.0%", "25.6%",
                       "未达标", "1,234,567", "是", "主干路"]
    # no demand: nothing to measure, not a failure; no value: a dash
    assert rows[1] == ["乙区", "park_service_coverage", "500/300", "80.0%", "—", "不适用", "—", "否",
                       "居住区道路"]
    assert "<img" not in html and "geometry" not in html
    assert "直线覆盖率" in html and "row_heading" not in html
    en = _cells(table_view(df, "en").to_html())
    assert en[0][5] == "fail" and en[1][5] == "n/a" and en[0][7] == "yes"


def test_repeated_headers_stay_apart():
    df = pd.DataFrame({"district": ["甲区"], "name_zh": ["公园"], "name": ["名"]})
    html = table_view(df, "zh").to_html()
    heads = re.findall(r"<th[^>]*>(.*?)</th>", html)
    assert len(heads) == len(set(heads)) == 3


def test_indicators_read_with_their_units():
    table = pd.DataFrame({
        "district": ["甲区", "甲区", "甲区"], "indicator": ["park_area_per_person",
                                                       "green_space_ratio", "green_coverage"],
        "name_zh": ["人均公园绿地面积", "建成区绿地率", "绿化覆盖率"], "value": [0.487, 0.0081, np.nan],
        "unit": ["m2_per_person", "share", "share"], "target": [8.0, 0.355, 0.39],
        "target_source": ["GB", "Hebi", "Hebi"], "status": ["fail", "fail", "no data"],
        "numerator": [1.0, 1.0, np.nan], "denominator": [1.0, 1.0, np.nan],
        "partial": [True, False, False], "note": ["n", "n", "n"]})
    rows = _cells(indicators_view(table, None, "zh").to_html())
    assert [r[2:5] for r in rows] == [["0.5 ㎡/人", "8.0 ㎡/人", "未达标"],
                                       ["0.8%", "35.5%", "未达标"], ["—", "39.0%", "无数据"]]
    assert rows[0][5] == "✓" and rows[1][5] == ""


def test_workbook_indicator_cells_carry_their_unit(tmp_path):
    from geoplan.report.people_sheets import write_people_sheets

    class Coverage:
        people = None
        table = pd.DataFrame({"district": ["甲区"], "inside_share": [1.0]})

        class indicators:  # stands in for an IndicatorResult
            table = pd.DataFrame({
                "district": ["甲区", "甲区"], "indicator": ["park_area_per_person", "green_space_ratio"],
                "name_zh": ["人均公园绿地面积", "建成区绿地率"], "value": [0.487, 0.0081],
                "unit": ["m2_per_person", "share"], "target": [8.0, 0.355],
                "target_source": ["GB", "Hebi"], "status": ["fail", "fail"],
                "partial": [False, False], "note": ["n", "n"]})

    wb = openpyxl.Workbook()
    used: set[str] = set()
    write_people_sheets(wb, Coverage(), "zh", lambda t: used.add(t) or t)
    ws = wb["人均指标"]
    assert ws["C2"].value == pytest.approx(0.487) and ws["C2"].number_format == '0.0" ㎡/人"'
    assert ws["D3"].value == pytest.approx(0.355) and ws["D3"].number_format == "0.0%"


def _square(x: float, side: float) -> shapely.Polygon:
    return shapely.box(x, 0, x + side, side)


def test_a_place_that_is_a_gap_of_several_standards_is_listed_once():
    # 甲区: one 100 m square is the gap of two standards, the second drawn from the other
    # corner (same polygon); a 50 m square is a gap of one; 乙区 has the same square as its own
    big, big_again = _square(0, 100), shapely.Polygon([(100, 100), (0, 100), (0, 0), (100, 0)])
    gaps = gpd.GeoDataFrame({
        "standard": ["bus_stop_500", "park_500", "park_500", "park_500"],
        "district": ["甲区", "甲区", "甲区", "乙区"], "view": ["buffer"] * 4, "rank": [1, 1, 2, 1],
        "area_m2": [10_000.0, 10_000.0, 2_500.0, 10_000.0]},
        geometry=[big, big_again, _square(500, 50), big], crs=32648)
    names = {"park_500": "500米见园", "bus_stop_500": "公交站点500米覆盖"}
    places = largest_gaps(gaps, None, names, top=10)
    assert list(places["district"]) == ["甲区", "乙区", "甲区"]
    assert list(places["standards"]) == ["500米见园、公交站点500米覆盖", "500米见园", "500米见园"]
    assert list(places["n_standards"]) == [2, 1, 1]
    assert list(places["area_ha"]) == [1.0, 1.0, 0.25]
    assert {"lon_wgs84", "lat_gcj02", "lon_bd09"} <= set(places.columns)
    assert len(largest_gaps(gaps, None, names, top=1)) == 1
    assert largest_gaps(gaps, None, names, lang="en")["standards"][0] == "500米见园, 公交站点500米覆盖"
    assert len(largest_gaps(gaps.iloc[:0], None, names)) == 0


def test_summary_line_in_either_language():
    from types import SimpleNamespace

    run = SimpleNamespace(config=SimpleNamespace(name="小城"),
                          standards=[SimpleNamespace(id="park_500"), SimpleNamespace(id="bus_stop_500")])

    assert summary_line(run, "zh") == "小城 · 2 项标准：park_500, bus_stop_500"  # type: ignore[arg-type]
    assert summary_line(run) == "小城 · 2 standards: park_500, bus_stop_500"  # type: ignore[arg-type]


def test_people_sheets_format_shared_columns_as_the_standard_sheets_do():
    # a district's share inside the data reads 6.3% and a radius 1,000 on every sheet
    from geoplan.report.people_sheets import children_rows, residents_rows
    from geoplan.report.tables import SITE_COLUMNS, STANDARD_COLUMNS

    residents = pd.DataFrame({
        "district": ["甲区"], "census_2020": [100_000.0], "census_source": [""],
        "inside_share": [0.063], "census_density_km2": [9_000.0], "residents_inside": [6_300.0],
        "is_estimate": [True], "residential_land_m2": [2e5], "residents_per_ha": [315.0]})
    children = pd.DataFrame({"district": ["甲区"], "level": ["junior"], "radius_m": [1000.0],
                             "children": [300.0], "beyond_buffer": [10.0],
                             "beyond_network": [20.0]})
    seats = pd.DataFrame({"district": ["甲区"], "level": ["junior"], "seats_reached": [200.0],
                          "seats_per_child": [0.67], "seat_gap": [100.0],
                          "seats_in_district": [150.0]})
    formats = dict(STANDARD_COLUMNS) | dict(SITE_COLUMNS)
    shared = 0
    for _, cols, _ in (residents_rows(residents, "en", "区县"),
                       children_rows(children, seats, "en", "区县")):
        for column, fmt in cols:
            if column in formats:
                assert fmt == formats[column], column
                shared += fmt is not None
    assert shared == 2  # inside_share and radius_m
