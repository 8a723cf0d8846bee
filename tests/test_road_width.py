"""人均道路面积 (issue 12 item 5): road widths from OSM width / lanes tags, else class defaults,
with answers worked out on paper."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geoplan.indicators import measure_indicators, road_widths
from geoplan.layers.from_osm import BAD_WIDTH_ISSUE, osm_layers
from geoplan.layers.osm import read_osm
from geoplan.layers.road_tags import parse_lanes, parse_width
from geoplan.layers.rules import catalog_keys, load_catalog
from geoplan.results.indicators import INDICATORS
from tests._osm_xml import write_osm
from tests._synthetic import box, frame, layerset, line


@pytest.mark.parametrize(("raw", "metres"), [
    ("7", 7.0), ("7.5", 7.5), ("7,5", 7.5), ("7 m", 7.0), ("7m", 7.0), (" 12 metres ", 12.0),
    ("9 米", 9.0), ("12;8", 10.0), ("20 ft", 6.096), ("10'", 3.048), ("7'6\"", 2.286), (".5", 0.5),
])
def test_width_tags_read_in_any_usual_form(raw, metres):
    value, bad = parse_width(raw)
    assert value == pytest.approx(metres) and not bad


@pytest.mark.parametrize("raw", ["wide", "-3", "0", "500", "7 km", "7;x", "3-4", "nan"])
def test_unreadable_width_is_flagged(raw):
    value, bad = parse_width(raw)
    assert math.isnan(value) and bad


def test_lanes_tags():
    assert parse_lanes("4") == (4.0, False)
    assert parse_lanes("2;4") == (3.0, False)
    for raw in ("two", "0", "-2", "2.5", "99"):
        value, bad = parse_lanes(raw)
        assert math.isnan(value) and bad
    assert parse_lanes(None) == (parse_lanes("")[0], False)


# Four roads across district A (x 0..1000, y 0..1000), each 1000 m inside it:
#   primary, width=12 m         -> 12 m   (width tag)           12,000 m²
#   secondary, lanes=4          -> 14 m   (4 × 3.5 m)           14,000 m²
#   residential, width=wide     -> 7 m    (bad tag: default 2 lanes × 3.5 m), counted
#   tertiary, nothing           -> 7 m    (default 2 × 3.5 m)    7,000 m²
#   residential, width=bad, lanes=3 -> 10.5 m (lanes), counted: the width tag was unreadable
# road area 12,000 + 14,000 + 7,000 + 7,000 + 10,500 = 50,500 m²; 1,000 residents -> 50.5 m²
def _roads():
    return frame("roads", [line((0, y), (1000, y)) for y in (100, 300, 500, 700, 900)],
                 highway=["primary", "secondary", "residential", "tertiary", "residential"],
                 width=[12.0, np.nan, np.nan, np.nan, np.nan],
                 lanes=[np.nan, 4.0, np.nan, np.nan, 3.0],
                 width_tag_bad=[False, False, True, False, True])


def test_road_area_per_person_on_paper():
    ls = layerset({"A": box(0, 0, 1000, 1000)}, roads=_roads())
    w, src = road_widths(ls["roads"])
    assert w.tolist() == [12.0, 14.0, 7.0, 7.0, 10.5]
    assert src.tolist() == ["width", "lanes", "default", "default", "lanes"]
    residents = pd.DataFrame({"district": ["A"], "residents_inside": [1000.0]})
    result = measure_indicators(ls, residents)
    result.validate()
    t = result.table.set_index("indicator")
    row = t.loc["road_area_per_person"]
    assert row["numerator"] == pytest.approx(50_500.0)
    assert row["value"] == pytest.approx(50.5)
    assert row["road_km_width_tag"] == pytest.approx(1.0)
    assert row["road_km_lanes_tag"] == pytest.approx(2.0)
    assert row["road_km_default"] == pytest.approx(2.0)
    assert row["roads_bad_width_tag"] == 2
    assert "1.0 km" in row["note"] and "2 roads with an unreadable tag" in row["note"]
    # the other indicators carry no road figures
    assert math.isnan(t.loc["park_area_per_person", "road_km_default"])
    assert set(INDICATORS.names) <= set(result.table.columns)


def test_osm_roads_keep_width_and_lanes_and_count_bad_tags(tmp_path):
    lon0, lat0 = 104.05, 30.66
    nodes = [(i + 1, lon0 + 0.001 * (i % 2), lat0 + 0.001 * (i // 2), {}) for i in range(8)]
    ways = [
        (10, [1, 2], {"highway": "primary", "width": "12 m"}),
        (11, [3, 4], {"highway": "secondary", "lanes": "4"}),
        (12, [5, 6], {"highway": "residential", "width": "wide"}),
        (13, [7, 8], {"highway": "tertiary", "width": "8", "lanes": "many"}),
    ]
    path = write_osm(tmp_path / "roads.osm", nodes, ways, bounds=(104.04, 30.65, 104.06, 30.67))
    catalog = load_catalog()
    issues: list[tuple[str, str, int, str]] = []
    roads = osm_layers(read_osm(path, catalog_keys(catalog)), catalog, issues)["roads"]
    roads = roads.set_index("source_id")
    assert roads.loc["w10", "width"] == 12.0 and math.isnan(roads.loc["w10", "lanes"])
    assert roads.loc["w11", "lanes"] == 4.0 and math.isnan(roads.loc["w11", "width"])
    assert math.isnan(roads.loc["w12", "width"]) and roads.loc["w12", "width_tag_bad"]
    # a bad lanes tag under a good width decides nothing: not counted
    assert roads.loc["w13", "width"] == 8.0 and not roads.loc["w13", "width_tag_bad"]
    assert ("roads", BAD_WIDTH_ISSUE, 1, "repaired") in issues


def test_planners_road_file_widths_are_read_like_tags(tmp_path):
    import geopandas as gpd
    import shapely

    from geoplan.config import FileSource
    from geoplan.layers.files import load_file_layer

    path = tmp_path / "roads.geojson"
    gpd.GeoDataFrame(
        {"highway": ["primary", "secondary", "tertiary"], "width": ["24 m", "wide", None],
         "lanes": [None, "4", "three"]},
        geometry=[shapely.LineString([(104.05, 30.66 + d), (104.06, 30.66 + d)])
                  for d in (0.0, 0.001, 0.002)], crs=4326).to_file(path)
    roads = load_file_layer(FileSource(path=path), "roads", load_catalog()["layers"]["schools"]["levels"])
    assert roads["width"].iloc[0] == 24.0 and not roads["width_tag_bad"].iloc[0]
    # an unreadable width falls back to lanes (4 × 3.5 m) and is counted
    assert math.isnan(roads["width"].iloc[1]) and roads["lanes"].iloc[1] == 4.0
    assert roads["width_tag_bad"].tolist() == [False, True, True]
    assert road_widths(roads)[0].tolist() == [24.0, 14.0, 7.0]


def test_indicator_log_counts_districts_of_a_large_city(caplog):
    """Twenty districts: one line per indicator with the counts, not a line per district."""
    from geoplan.indicators import _log_indicators

    rows = [{"district": f"d{i}", "name_zh": name, "value": v, "target": 8.0, "status": s}
            for i in range(20)
            for name, v, s in [("人均公园绿地面积", 9.0 if i < 3 else 1.0, "pass" if i < 3 else "fail"),
                               ("人均道路面积", np.nan, "no data")]]
    with caplog.at_level("INFO", logger="geoplan.indicators"):
        _log_indicators(pd.DataFrame(rows))
    lines = [r.getMessage() for r in caplog.records if r.levelname == "INFO"]
    assert lines == ["人均公园绿地面积: 3 districts pass, 17 fail, 0 no data (target 8.0)",
                     "人均道路面积: 0 districts pass, 0 fail, 20 no data (target 8.0)"]
    caplog.clear()
    with caplog.at_level("INFO", logger="geoplan.indicators"):
        _log_indicators(pd.DataFrame(rows[:8]))  # four districts: each one
    assert caplog.records[0].getMessage() == "d0 人均公园绿地面积: 9 (target 8.0) pass"
    assert len(caplog.records) == 8
