"""The map legend's sentences, read as a planner reads them."""

from __future__ import annotations

from geoplan.report._map_words import gap_lines


def test_street_gaps_have_no_toilet_within_the_distance_and_land_gaps_lie_beyond_it():
    street = {"demand_kind": "street_main", "demand_unit": "m", "radius_m": 300.0}
    land = {"demand_kind": "residential", "demand_unit": "m2", "radius_m": 500.0}
    assert gap_lines(street, "en")["buffer"] == (
        "Uncovered street: no toilet within 300 m in a straight line (length in m)")
    assert gap_lines(street, "en")["network"] == (
        "Uncovered street: no toilet within a 300 m walk (length in m)")
    assert gap_lines(street, "zh")["buffer"] == "未覆盖街道：直线300米内无公厕（长度：米）"
    assert gap_lines(land, "en")["buffer"] == (
        "Gaps: residential land beyond 500 m in a straight line (area in ha)")
    assert gap_lines(land, "zh")["network"] == "覆盖缺口：步行500米外的居住用地（面积：公顷）"
