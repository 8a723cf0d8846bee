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


def test_label_spots_lie_inside_their_district_nearest_first():
    import numpy as np
    import shapely

    from geoplan.report._map_overlays import label_spots

    # an L: four cells of its box are outside it; a part under 4 % of it gives no spot
    ell = shapely.Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 3), (0, 3)])
    tail = shapely.box(0, 0, 2, 3).union(shapely.box(2, 0, 3, 0.05))  # a sliver to the right
    geoms = np.array([ell, tail, None], dtype=object)
    homes = np.array([shapely.Point(0.5, 0.5), shapely.Point(1, 1.5), None], dtype=object)
    spots = label_spots(geoms, homes)
    assert len(spots) == 3 and spots[2] == []
    ell_spots = [shapely.Point(lon, lat) for lat, lon in spots[0]]
    assert len(ell_spots) == 4  # 5 cells hold a part, the home's own cell excluded
    assert all(ell.contains(p) for p in ell_spots)
    away = [p.distance(homes[0]) for p in ell_spots]
    assert away == sorted(away)
    # the tail's cell holds 0.8 % of the district: no label goes onto the sliver
    tail_spots = [shapely.Point(lon, lat) for lat, lon in spots[1]]
    assert len(tail_spots) == 6 and all(tail.contains(p) and p.x < 2 for p in tail_spots)
