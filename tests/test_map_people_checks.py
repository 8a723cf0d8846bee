"""People, school seats and data checks on the meeting map (small cases known on paper)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from geoplan.report._map_checks import datum_banner
from geoplan.report._map_people import district_people, people_fields, seat_gap_class
from geoplan.report.maps import build_map, render_map
from geoplan.results import PeopleResult
from tests._report_synthetic import CRS, DISTRICTS, X0, Y0, make_coverage, make_deadends, make_layerset
from tests.test_maps import has


def _people(sid: str = "primary_school_500") -> PeopleResult:
    children = pd.DataFrame({
        "district": DISTRICTS, "level": "primary", "standard": sid, "radius_m": 500.0,
        "age_share": 0.05, "children": [1200.0, 800.0], "beyond_buffer": [300.0, 0.0],
        "beyond_network": [450.0, 80.0], "is_estimate": [True, False]})
    seats = pd.DataFrame({
        "district": DISTRICTS, "level": "primary", "catchment_m": 500.0,
        "children": [1200.0, 800.0], "seats_reached": [900.0, 790.0],
        "seats_per_child": [0.75, 0.9875], "seat_gap": [600.0, 10.0],
        "schools_in_district": [1, 2], "seats_in_district": [900.0, 1600.0]})
    return PeopleResult(residents=pd.DataFrame(), children=children, seats=seats,
                        schools=pd.DataFrame())


def _part(sid: str = "primary_school_500") -> pd.DataFrame:
    return pd.DataFrame({"district": DISTRICTS, "standard": sid, "inside_km2": [2.5, 10.0],
                         "inside_share": [0.25, 1.0], "population_source": "census"})


def test_district_popup_texts_for_a_school_standard():
    texts = district_people(pd.Series(DISTRICTS), _part(), _people(), "primary_school_500", "zh")
    first, second = texts.iloc[0], texts.iloc[1]
    assert first["inside_txt"] == "2.50 平方公里（占全区 25%）"
    assert second["inside_txt"] == "10.00 平方公里（全区）"
    assert "估算" in first["pop_source_txt"] and "估算" not in second["pop_source_txt"]
    assert (first["children_txt"], first["beyond_buffer_txt"], first["beyond_network_txt"],
            first["seats_txt"], first["seat_gap_txt"]) == ("1,200", "300", "450", "900", "600")
    assert second["seat_gap_txt"] == "10"
    labels = [label for _, label, _ in people_fields(_people(), "primary_school_500", "zh")]
    assert labels == ["数据范围内面积", "人口来源", "学龄儿童（6–11岁）", "直线 500 米外的儿童",
                      "步行 500 米外的儿童", "步行可达学位", "学位缺口"]


def test_other_standards_get_area_and_source_only():
    part = _part("park_500")
    texts = district_people(pd.Series(DISTRICTS), part, _people(), "park_500", "en")
    assert texts["children_txt"].isna().all() and texts["seat_gap_txt"].isna().all()
    assert texts.iloc[0]["inside_txt"] == "2.50 km² (25% of the district)"
    assert len(people_fields(_people(), "park_500", "en")) == 2
    # land-area weights are not people: no population source row is filled
    part["population_source"] = "area"
    texts = district_people(pd.Series(DISTRICTS), part, None, "park_500", "zh")
    assert texts["pop_source_txt"].isna().all()


@pytest.mark.parametrize(("gap", "children", "cls"), [
    (0, 100, "none"), (4.9, 100, "none"), (5, 100, "some"), (19, 100, "some"),
    (20, 100, "many"), (40, 100, "most"), (100, 100, "most"), (1, 0, "nodata"),
    (np.nan, 100, "nodata"), (None, 100, "nodata")])
def test_seat_gap_class(gap, children, cls):
    assert seat_gap_class(gap, children) == cls


def test_seat_gap_layers_on_the_map():
    layerset, deadends = make_layerset(), make_deadends()
    coverage = make_coverage()
    plain = render_map(build_map(layerset, coverage, deadends))
    assert "gp-seat-gap" not in plain
    coverage.people = _people()
    page = render_map(build_map(layerset, coverage, deadends))
    assert "gp-seat-gap-primary" in page and "gp-seat-gap-junior" not in page
    assert has(page, "学位缺口（小学）") and has(page, "≥ 40% 的儿童无学位")
    # 600 of 1,200 children without a seat: class 'most'; 10 of 800: 'none'
    assert '"cls":["most","none"]' in page


def _checks(detail: str) -> gpd.GeoDataFrame:
    rows = [
        {"check": "mapping_gap", "severity": "note", "district": DISTRICTS[0], "subject": "w1",
         "count": 1, "measure": 12.0, "detail": detail, "fix": "join the way",
         "geometry": Point(X0 + 100, Y0 + 100)},
        {"check": "partial_district", "severity": "note", "district": DISTRICTS[1],
         "subject": "districts", "count": 0, "measure": 0.4, "detail": "only part", "fix": "more",
         "geometry": None},
        {"check": "datum", "severity": "warning", "district": "", "subject": "districts",
         "count": 0, "measure": 420.0, "detail": detail, "fix": "--districts-crs gcj02",
         "geometry": None}]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


def test_data_checks_layers_and_datum_banner():
    hostile = '<img src=x onerror="alert(1)">{{ 7*7 }}'
    layerset, coverage, deadends = make_layerset(), make_coverage(), make_deadends()
    page = render_map(build_map(layerset, coverage, deadends, checks=_checks(hostile)))
    assert "gp-data-checks" in page and "gp-data-checks-partial" in page
    assert has(page, "疑似漏连的道路端点（非断头路）") and has(page, "区县只有部分在数据范围内")
    assert '"geoplan-datum-warning"' in page and "--districts-crs gcj02" in page
    assert "<img src=x" not in page and "49" not in datum_banner(_checks(hostile), "zh")
    assert "&lt;img src=x" in datum_banner(_checks(hostile), "zh")
    # the popups speak Chinese: the partial district's share rebuilt from its numbers, the
    # mapping gap's fix; the English sentences stay in data_checks.csv
    assert has(page, f"{DISTRICTS[1]}只有 40% 的面积在数据范围内") and not has(page, "only part")
    assert has(page, "实地或影像核查") and not has(page, "join the way")
    # without checks, nothing of it
    none = render_map(build_map(layerset, coverage, deadends))
    assert "gp-data-checks" not in none and "geoplan-datum-warning" not in none


def test_mapping_gap_popup_in_chinese_keeps_the_name_escaped():
    from geoplan.deadends.detect import mapping_gap_reason

    detail = "<b>x</b>路: " + mapping_gap_reason(3.2)  # as data_checks writes it
    page = render_map(build_map(make_layerset(), make_coverage(), make_deadends(),
                                checks=_checks(detail).iloc[:1]))
    assert has(page, "端点距另一条道路 3.2 米但没有共同节点") and not has(page, "ends 3.2 m")
    # the name stays data: in the page's JSON, its markup escaped (popups set it as text)
    assert has(page, "<b>x</b>路：端点距") and "<b>x</b>" not in page
    # a detail of another shape keeps its own (English) sentence
    other = render_map(build_map(make_layerset(), make_coverage(), make_deadends(),
                                 checks=_checks("something else").iloc[:1]))
    assert has(other, "something else") and not has(other, "端点距另一条道路")


def test_place_labels_leave_out_district_names_and_places_outside():
    from geoplan.report._map_overlays import place_label_items

    districts = gpd.GeoDataFrame({"district": ["甲区"], "geometry": [
        shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)]}, crs=CRS)
    places = gpd.GeoDataFrame({
        "name": ["星辰苑", "甲区", "远方村", "", "某医院", "东珠美地"],
        "kind": ["neighbourhood", "suburb", "village", "neighbourhood", "locality", "suburb"],
        "geometry": [Point(X0 + 100, Y0 + 100), Point(X0 + 500, Y0 + 500),
                     Point(X0 + 5000, Y0 + 5000), Point(X0 + 10, Y0 + 10),
                     Point(X0 + 20, Y0 + 20), Point(X0 + 300, Y0 + 300)]}, crs=CRS)
    items = place_label_items(places, districts)
    # suburbs before neighbourhoods; the district's own name, a place outside, an unnamed
    # place and a locality (often an institution's name) are left out
    assert [it["name"] for it in items] == ["东珠美地", "星辰苑"]
    assert all(it["place"] and it["angle"] == 0 for it in items)


def test_indicator_notes_in_chinese():
    from geoplan.report.people_html import indicator_note_zh

    road = {"indicator": "road_area_per_person", "partial": True, "road_km_width_tag": 0.19,
            "road_km_lanes_tag": 41.3, "road_km_default": 76.0, "roads_bad_width_tag": 2}
    note = indicator_note_zh(road, 0.13)
    assert note.startswith("车行道面积 ÷ 常住人口：0.2 公里按宽度标签，41.3 公里按车道数")
    assert "76.0 公里按道路等级默认车道数（2 条道路" in note
    assert note.endswith("仅为本区在数据范围内的 13%，人口为该部分的普查估算")
    whole = indicator_note_zh({"indicator": "park_area_per_person", "partial": False}, 1.0)
    assert whole == "OSM 中的公园与游园面积 ÷ 常住人口；全区"


def test_gap_thumbnail_names_its_streets_and_locates_the_gap():
    import xml.etree.ElementTree as ET

    from geoplan.report.static_maps import gap_svg

    gap = shapely.box(400, 400, 500, 480)
    district = shapely.box(0, 0, 2000, 1000)
    roads = [shapely.LineString([(200, 390), (700, 390)]),    # along the gap: 500 m in view
             shapely.LineString([(450, 300), (450, 600)]),    # across it
             shapely.LineString([(5000, 0), (6000, 0)]),      # out of view
             shapely.LineString([(200, 500), (700, 500)])]    # unnamed
    names = ["<b>东大街</b>", "春熙路", "远路", ""]
    svg = gap_svg(gap, district=district, roads=roads, road_names=names, caption="缺口 1")
    root = ET.fromstring(svg)  # well-formed: names are escaped
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "<b>东大街</b>" in texts and "春熙路" in texts and "远路" not in texts
    assert "<b>" not in svg
    # the locator: the district's outline and a dot where the gap lies, bottom right
    dots = [c for c in root.iter("{http://www.w3.org/2000/svg}circle")
            if c.get("fill") == "#d73027"]
    assert len(dots) == 1
    # the gap's centre (450, 440) is at 22.5% of the district's width and 56% down from its top
    w = float(root.get("viewBox").split()[2])
    assert float(dots[0].get("cx")) > w * 0.6


def test_a_datum_warning_reaches_every_report_page_and_the_summary_in_chinese(tmp_path):
    import openpyxl

    from geoplan.layers.datum import suspect_message
    from geoplan.report.html import write_reports

    detail = suspect_message("districts", "wgs84", "gcj02", 1539, 92, 540,
                             "administrative boundaries")
    checks = _checks(detail)
    zh = datum_banner(checks, "zh")
    assert "区县边界的坐标看起来是 GCJ-02（高德/腾讯），而不是声明的 WGS 84" in zh
    assert "中位数 1539 米" in zh and "整体偏移 540 米）只差 92 米" in zh
    assert "districts.crs: gcj02" in zh and "LOOK LIKE" not in zh
    assert "LOOK LIKE GCJ02" in datum_banner(checks, "en")
    layerset, coverage, deadends = make_layerset(), make_coverage(), make_deadends()
    files = write_reports(layerset, coverage, deadends, None, tmp_path, checks=checks)
    pages = sorted((tmp_path / "reports").glob("*.html"))
    assert len(pages) == len(DISTRICTS) + 1  # every district's page and the index
    for page in pages:
        assert "区县边界的坐标看起来是 GCJ-02" in page.read_text(encoding="utf-8"), page.name
    summary = openpyxl.load_workbook(files["workbook"]).worksheets[0]
    texts = [c.value for row in summary.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("区县边界的坐标看起来是 GCJ-02" in t for t in texts)
    sheet = openpyxl.load_workbook(files["workbook"])["数据核查"]
    (row,) = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "坐标基准疑似错误"]
    assert str(row[6]).startswith("区县边界的坐标看起来是") and "LOOK LIKE" not in str(row[6])
    assert "districts.crs: gcj02" in str(row[7])
