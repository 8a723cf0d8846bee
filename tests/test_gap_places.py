"""Gap places: one row per place, the standards it fails, most first (answers on paper)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoplan.gap_places import PLACE_COLUMNS, gap_places


def test_places_group_the_same_polygon_only():
    # 甲: block A (900 m² at one point) fails park, bus and school by straight line and park by
    # walking; block B (4,000 m²) fails park; 乙 has a block like A at A's point (another
    # district: another place)
    gaps = pd.DataFrame({
        "district": ["甲", "甲", "甲", "甲", "甲", "乙"],
        "standard": ["school", "park", "bus", "park", "park", "park"],
        "view": ["buffer", "buffer", "buffer", "network", "buffer", "buffer"],
        "area_m2": [900.0, 900.0, 900.0, 900.0, 4000.0, 900.0],
        "population": [30.0, 30.0, 30.0, 30.0, 80.0, 30.0]})
    where = pd.DataFrame({"street": ["人民路"] * 4 + ["北街", "人民路"],
                          "lon_wgs84": [104.1] * 4 + [104.2, 104.1],
                          "lat_wgs84": [30.6] * 4 + [30.7, 30.6]})
    names = {"park": "公园", "bus": "公交", "school": "小学"}
    out = gap_places(gaps, where, names)
    assert list(out.columns) == [*PLACE_COLUMNS, "street", "lon_wgs84", "lat_wgs84"]
    got = out[["district", "view", "rank", "n_standards", "standards", "area_m2"]]
    assert got.to_numpy().tolist() == [
        ["乙", "buffer", 1, 1, "公园", 900.0],
        ["甲", "buffer", 1, 3, "公园、公交、小学", 900.0],  # the names' order, not the gaps'
        ["甲", "buffer", 2, 1, "公园", 4000.0],
        ["甲", "network", 1, 1, "公园", 900.0],
    ]
    assert out.loc[1, "population"] == 30.0 and out.loc[1, "street"] == "人民路"
    assert out["n_standards"].sum() == len(gaps)
    english = gap_places(gaps, where, names, lang="en")
    assert english.loc[1, "standards"] == "公园, 公交, 小学"
    assert gap_places(gaps, where).loc[1, "standards"] == "school、park、bus"  # as first met


def test_a_gap_without_population_or_place():
    gaps = pd.DataFrame({"district": ["甲", "甲"], "standard": ["a", "b"], "view": "buffer",
                         "area_m2": [10.0, 10.0]})
    where = pd.DataFrame({"street": [None, None], "lon_wgs84": [np.nan, np.nan],
                          "lat_wgs84": [np.nan, np.nan]})
    out = gap_places(gaps, where)
    assert len(out) == 1 and out.loc[0, "n_standards"] == 2 and np.isnan(out.loc[0, "population"])
    assert len(gap_places(gaps.iloc[:0], where.iloc[:0])) == 0
