"""Coverage engine on hand-built cities whose answers are worked out on paper."""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geoplan._errors import ConfigError, InputDataError, StandardError
from geoplan.config import DemandSettings
from geoplan.coverage import format_table, run_coverage, write_coverage
from geoplan.coverage.engine import TABLE_COLUMNS
from geoplan.standards import Standard, resolve_standards
from tests._synthetic import CRS, X0, Y0, P, box, frame, grid_lines, layerset, line

REL = 1e-3  # 128-gon buffers: area within 0.04 % of the circle


def segment(r: float, h: float) -> float:
    """Area of the circle segment of radius r cut by a chord at distance h from the centre."""
    return r * r * math.acos(h / r) - h * math.sqrt(r * r - h * h)


def row(result, standard: str, district: str = "A") -> pd.Series:
    t = result.table
    hit = t[(t["standard"] == standard) & (t["district"] == district)]
    assert len(hit) == 1
    return hit.iloc[0]


# --------------------------------------------------------------------------------------------
# buffer share: circle segments
# --------------------------------------------------------------------------------------------

def test_point_facility_outside_block_circle_segment():
    # bus stop 200 m west of a 1000 m square block: the 500 m circle cuts a segment into it
    ls = layerset({"A": box(-400, -100, 1100, 1100)}, residential=[box(0, 0, 1000, 1000)],
                  bus_stops=[P(-200, 500)])
    res = run_coverage(ls, ["bus_stop_500"])
    r = row(res, "bus_stop_500")
    expected = segment(500, 200) / 1e6
    assert r["share_buffer"] == pytest.approx(expected, rel=REL)
    assert r["demand_total"] == pytest.approx(1e6)
    assert r["uncovered_area_m2"] == pytest.approx(1e6 * (1 - r["share_buffer"]), rel=1e-9)
    assert r["demand_unit"] == "m2"
    assert list(res.table.columns) == TABLE_COLUMNS


def test_square_block_and_one_park_analytic():
    # a 200 m square park west of a 1200 m block; park_500 buffers the park polygon by 500 m:
    # inside x >= 0 that is a 400 x 200 rectangle plus two quarter-caps = one full segment
    park = box(-300, 500, -100, 700)
    ls = layerset({"A": box(-400, -100, 1300, 1300)}, residential=[box(0, 0, 1200, 1200)],
                  parks=[park])
    res = run_coverage(ls, ["park_500"])
    covered = 400 * 200 + segment(500, 100)
    r = row(res, "park_500")
    assert r["share_buffer"] == pytest.approx(covered / 1200**2, rel=REL)
    assert r["n_facilities"] == 1


def test_park_service_radius_rule_uses_park_size():
    small = box(-60, 500, 0, 550)  # 3000 m² -> 300 m; touches the block's west edge
    ls = layerset({"A": box(-400, -100, 1300, 1300)}, residential=[box(0, 0, 1200, 1200)],
                  parks=[small])
    res = run_coverage(ls, ["park_service_coverage", "park_500"])
    # 300 m around the 60 x 50 park, inside x >= 0: 300 x 50 rectangle + a half disc of 300
    expected = 300 * 50 + math.pi * 300**2 / 2
    assert row(res, "park_service_coverage")["share_buffer"] == pytest.approx(
        expected / 1200**2, rel=REL)
    assert row(res, "park_500")["share_buffer"] == 0.0  # below 5000 m²: not a park_500 park
    facilities = res.facilities[res.facilities["standard"] == "park_service_coverage"]
    assert facilities["radius_m"].tolist() == [300.0]


# --------------------------------------------------------------------------------------------
# network share: a street grid where walking distance is the Manhattan distance
# --------------------------------------------------------------------------------------------

def test_grid_network_share_is_countable():
    # streets every 100 m at x = 5 + 100 k and y = 10 + 100 k (offsets avoid snapping ties)
    streets = grid_lines(-195, -190, 1205, 1210, 100)
    stop = (505.0, 510.0)  # a street crossing
    ls = layerset({"A": box(-300, -300, 1300, 1300)}, residential=[box(0, 0, 1000, 1000)],
                  bus_stops=[P(*stop)], walkways=streets)
    std = resolve_standards([{"id": "bus_stop_500", "radius_m": 300}])
    res = run_coverage(ls, std, DemandSettings(grid_m=25))
    # by hand: every 25 m cell centre goes to the nearer street line, then Manhattan distance
    c = np.arange(12.5, 1000, 25.0)
    x, y = np.meshgrid(c, c)
    dx = np.abs((x - 5 + 50) % 100 - 50)
    dy = np.abs((y - 10 + 50) % 100 - 50)
    assert not np.any(dx == dy)
    sx = np.where(dx < dy, np.round((x - 5) / 100) * 100 + 5, x)
    sy = np.where(dx < dy, y, np.round((y - 10) / 100) * 100 + 10)
    walk = np.abs(sx - stop[0]) + np.abs(sy - stop[1])
    expected = np.count_nonzero(walk <= 300) / walk.size
    r = row(res, "bus_stop_500")
    assert r["share_network"] == pytest.approx(expected, abs=1e-12)
    assert r["share_buffer"] == pytest.approx(math.pi * 300**2 / 1e6, rel=REL)
    assert r["share_network"] < r["share_buffer"]
    assert r["unreachable_points"] == 0
    # network gaps are whole grid cells: their area is the uncovered cell count × 625 m²
    gaps = res.gaps[(res.gaps["view"] == "network")]
    assert gaps["area_m2"].sum() == pytest.approx((walk > 300).sum() * 625.0, rel=1e-9)
    # the reached network is drawn up to the cutoff
    assert len(res.reached) and set(res.reached["standard"]) == {"bus_stop_500"}
    assert res.reached["distance_from"].max() <= 300 + 1e-9


def test_unreachable_demand_is_counted_not_covered():
    # the only walkway lies 500 m south of the block: nothing snaps (limit 100 m)
    ls = layerset({"A": box(-100, -700, 1100, 1100)}, residential=[box(0, 0, 1000, 1000)],
                  bus_stops=[P(500, -450)], walkways=[line((-100, -500), (1100, -500))])
    res = run_coverage(ls, ["bus_stop_500"], DemandSettings(grid_m=50))
    r = row(res, "bus_stop_500")
    assert r["share_network"] == 0.0
    assert r["unreachable_points"] == 400
    assert r["share_buffer"] > 0  # the straight-line view still sees the stop
    assert res.meta["snapping"]["residential"]["too_far"] == 400


def test_park_reached_at_entrance_not_centroid():
    # a 400 m park inside a loop road 20 m off its edges; homes east of the loop road; the
    # only entrance is on the west side, joined to the loop by a 20 m path
    park = box(0, 0, 400, 400)
    streets = [line((-20, 200), (-20, 420), (420, 420), (420, -20), (-20, -20), (-20, 200)),
               line((-20, 200), (0, 200))]
    homes = box(450, 0, 500, 400)
    std = resolve_standards([{"id": "park_500", "radius_m": 300}])
    settings = DemandSettings(grid_m=25, max_snap_m=100)
    ls = layerset({"A": box(-200, -200, 1500, 600)}, residential=[homes], parks=[park],
                  walkways=streets, entrances=[P(0, 200)])
    res = run_coverage(ls, std, settings)
    # the nearest home is 20 + 220 + 440 = 680 m from the entrance on foot: none covered
    assert row(res, "park_500")["share_network"] == 0.0
    assert row(res, "park_500")["unreachable_points"] == 0
    assert row(res, "park_500")["share_buffer"] == 1.0
    # without a tagged entrance the park is entered along its east edge (20 m from the road)
    ls2 = layerset({"A": box(-200, -200, 1500, 600)}, residential=[homes], parks=[park],
                   walkways=streets)
    res2 = run_coverage(ls2, std, settings)
    assert row(res2, "park_500")["share_network"] == 1.0


# --------------------------------------------------------------------------------------------
# linear standards: toilets along streets
# --------------------------------------------------------------------------------------------

def test_a_standard_with_no_facility_names_it_and_asks_for_one():
    # no toilet at all: the item without data is the standard's own name (it read 'toilets',
    # the layer's) and "at least k" asks for 1, not 0 (which every street would meet)
    main = line((0, 0), (1000, 0))
    roads = frame("roads", [main], road_class=["main"], is_public=[True], highway=["primary"])
    ls = layerset({"A": box(-100, -100, 1100, 600)}, roads=roads, walkways=[main])
    m = row(run_coverage(ls, ["toilet_main_300"]), "toilet_main_300")
    assert m["items_no_data"] == "主要街道公厕300米" and m["n_facilities"] == 0
    assert m["min_items"] == 1 and m["share_min_items_network"] == 0.0 == m["share_network"]


def test_toilets_along_main_and_general_streets():
    main = line((0, 0), (1000, 0))
    general = line((0, 500), (1000, 500))
    link = line((0, 0), (0, 500))  # a footpath joining the two (not a road)
    roads = frame("roads", [main, general], road_class=["main", "general"],
                  is_public=[True, True], highway=["primary", "residential"])
    ls = layerset({"A": box(-100, -100, 1100, 600)}, roads=roads,
                  walkways=[main, general, link], toilets=[P(0, 0), P(1000, 500)])
    res = run_coverage(ls, ["toilet_main_300", "toilet_general_500"])
    m = row(res, "toilet_main_300")
    g = row(res, "toilet_general_500")
    assert m["demand_unit"] == "m" and m["demand_total"] == pytest.approx(1000)
    # main: the toilet at its west end covers 300 m of 1000 m
    assert m["share_buffer"] == pytest.approx(0.3, rel=1e-6)
    assert m["share_network"] == pytest.approx(0.3, abs=1e-12)  # 12 of 40 samples
    # general: the toilet at its east end covers 500 m; the other is 500 m away from its end
    assert g["share_buffer"] == pytest.approx(0.5, rel=1e-6)
    assert g["share_network"] == pytest.approx(0.5, abs=1e-12)
    assert m["uncovered_length_m"] == pytest.approx(700, rel=1e-6)
    assert math.isnan(m["share_population_buffer"])  # length, not people
    # the uncovered stretches as lines: main street x = 300..1000, general street x = 0..500
    gaps = res.street_gaps.set_index(["standard", "view"])
    main_gap = gaps.loc[("toilet_main_300", "buffer")]
    assert main_gap["length_m"] == pytest.approx(700, rel=1e-6)
    assert main_gap.geometry.bounds == pytest.approx((X0 + 300, Y0, X0 + 1000, Y0), abs=1e-6)
    general_gap = gaps.loc[("toilet_general_500", "buffer")]
    assert general_gap.geometry.bounds == pytest.approx((X0, Y0 + 500, X0 + 500, Y0 + 500), abs=1e-6)
    # network view: the uncovered 25 m samples, merged (28 of 40 samples = 700 m)
    assert gaps.loc[("toilet_main_300", "network"), "length_m"] == pytest.approx(700, abs=1e-6)
    assert set(res.street_gaps["rank"]) == {1}


# --------------------------------------------------------------------------------------------
# districts: no facilities, a facility just outside
# --------------------------------------------------------------------------------------------

def test_facility_outside_district_serves_it_and_empty_district_scores_zero():
    districts = {"A": box(0, 0, 1000, 1000), "B": box(1000, 0, 2000, 1000),
                 "C": box(4000, 0, 5000, 1000)}
    residential = [box(0, 0, 2000, 1000), box(4000, 0, 5000, 1000)]
    # the stop lies 100 m west of A, outside every district
    ls = layerset(districts, residential=residential, bus_stops=[P(-100, 500)],
                  walkways=grid_lines(-200, 0, 5000, 1000, 100))
    res = run_coverage(ls, ["bus_stop_500"])
    a = row(res, "bus_stop_500", "A")
    assert a["share_buffer"] == pytest.approx(segment(500, 100) / 1e6, rel=REL)
    assert a["share_network"] > 0
    for name in ("B", "C"):
        r = row(res, "bus_stop_500", name)
        assert r["share_buffer"] == 0.0 and r["share_network"] == 0.0
        assert not r["meets_target"]
    fac = res.facilities
    assert len(fac) == 1 and fac["district"].iloc[0] == ""
    assert set(res.districts.columns) >= {"share_buffer__bus_stop_500",
                                          "share_network__bus_stop_500"}
    # gaps: C's whole block is one gap of 1 km², rank 1 in both views
    c_gaps = res.gaps[res.gaps["district"] == "C"]
    assert sorted(c_gaps["view"]) == ["buffer", "network"]
    assert np.allclose(c_gaps["area_m2"], 1e6) and (c_gaps["rank"] == 1).all()


def test_empty_facility_layer_scores_zero_with_warning(caplog):
    ls = layerset({"A": box(0, 0, 1000, 1000)}, residential=[box(0, 0, 1000, 1000)],
                  walkways=grid_lines(0, 0, 1000, 1000, 100))
    with caplog.at_level(logging.WARNING, logger="geoplan.coverage.engine"):
        res = run_coverage(ls, ["toilet_main_300", "primary_school_500"])
    r = row(res, "primary_school_500")
    assert r["share_buffer"] == 0.0 and r["share_network"] == 0.0 and r["n_facilities"] == 0
    assert any("primary_school_500" in m for m in caplog.messages)
    # no main street at all: no demand, share NaN (not 0, not a crash)
    t = row(res, "toilet_main_300")
    assert t["demand_total"] == 0 and math.isnan(t["share_buffer"])


def test_life_circle_needs_every_basket_item():
    # a clinic west and a market east: only the middle strip has both within 1000 m
    services = frame("services", [P(0, 500), P(1500, 500)], kind=["clinic", "market"])
    basket = [{"label": "clinic", "layer": "services", "filter": {"kind": "clinic"}},
              {"label": "market", "layer": "services", "filter": {"kind": "market"}}]
    std = resolve_standards([{"id": "life_circle_15min", "basket": basket}])
    ls = layerset({"A": box(-1000, 0, 2500, 1000)}, residential=[box(-1000, 0, 2500, 1000)],
                  services=services, walkways=grid_lines(-1000, 0, 2500, 1000, 100))
    res = run_coverage(ls, std)
    clinic = shapely.buffer(P(0, 500), 1000, quad_segs=32)
    market = shapely.buffer(P(1500, 500), 1000, quad_segs=32)
    land = box(-1000, 0, 2500, 1000)
    both = shapely.intersection(shapely.intersection(clinic, market), land).area / land.area
    r = row(res, "life_circle_15min")
    assert r["share_buffer"] == pytest.approx(both, rel=1e-9)
    assert 0 < r["share_network"] <= r["share_buffer"]
    assert set(res.facilities["item"]) == {"clinic", "market"}


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------

def test_unknown_standard_and_bad_radius_are_clear_errors():
    ls = layerset({"A": box(0, 0, 100, 100)}, residential=[box(0, 0, 100, 100)])
    with pytest.raises(ConfigError, match=r"park_5000.*did you mean 'park_500'"):
        run_coverage(ls, ["park_5000"])
    with pytest.raises(ConfigError, match="radius_m"):
        resolve_standards([{"id": "park_500", "radius_m": 0}])
    bad = Standard.model_construct(**{**resolve_standards(["park_500"])[0].__dict__,
                                      "radius_m": -5.0})
    with pytest.raises(StandardError, match="radius_m must be > 0"):
        run_coverage(ls, [bad])


def _transform(west, north, res):
    from affine import Affine

    return Affine(res, 0.0, west, 0.0, -res, north)


def _write_raster(path, crs, transform, data):
    import rasterio

    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1],
                       count=1, dtype="float32", crs=crs, transform=transform,
                       nodata=-1) as dst:
        dst.write(data.astype("float32"), 1)


def test_population_raster_in_another_crs_is_reprojected(tmp_path):
    # a WGS84 raster over the two blocks: west block 1000 people per pixel, east block none
    ls = layerset({"A": box(0, 0, 2000, 1000)},
                  residential=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
                  bus_stops=[P(200, 500)])
    wgs = gpd.GeoSeries([P(0, 0), P(1000, 1000), P(2000, 1000)], crs=CRS).to_crs(4326)
    lon0, lat1 = wgs.iloc[0].x - 0.001, wgs.iloc[1].y + 0.001
    lon_mid, lon1 = wgs.iloc[1].x, wgs.iloc[2].x + 0.001
    ncol = 20
    res = (lon1 - lon0) / ncol
    nrow = math.ceil((lat1 - wgs.iloc[0].y + 0.001) / res)
    cols_lon = lon0 + (np.arange(ncol) + 0.5) * res
    data = np.where(cols_lon < lon_mid, 1000.0, 0.0)[None, :].repeat(nrow, axis=0)
    path = tmp_path / "pop.tif"
    _write_raster(path, "EPSG:4326", _transform(lon0, lat1, res), data)
    settings = DemandSettings(population_raster=path)
    result = run_coverage(ls, ["bus_stop_500"], settings)
    r = row(result, "bus_stop_500")
    assert r["population_source"] == "raster"
    # the stop's 500 m circle lies in the west block, where all the people are: the
    # population share is about twice the land share (pixel edges blur the split a little)
    assert r["share_population_buffer"] == pytest.approx(2 * r["share_buffer"], rel=0.08)
    assert result.meta["population_source"] == "raster"


def test_population_raster_not_overlapping_is_a_clear_error(tmp_path):
    ls = layerset({"A": box(0, 0, 1000, 1000)}, residential=[box(0, 0, 1000, 1000)],
                  bus_stops=[P(200, 500)])
    path = tmp_path / "far.tif"
    _write_raster(path, "EPSG:4326", _transform(10.0, 50.0, 0.01), np.ones((5, 5)))
    with pytest.raises(InputDataError, match="does not overlap"):
        run_coverage(ls, ["bus_stop_500"], DemandSettings(population_raster=path))


def test_building_floor_area_weights():
    # two blocks, a 10-storey building in the west one only: people live there
    buildings = frame("buildings", [box(100, 100, 200, 200)], building=["apartments"],
                      levels=[10.0], is_residential=[True])
    ls = layerset({"A": box(0, 0, 2000, 1000)},
                  residential=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
                  bus_stops=[P(150, 150)], buildings=buildings)
    res = run_coverage(ls, ["bus_stop_500"], DemandSettings(population_weight="buildings"))
    r = row(res, "bus_stop_500")
    assert r["population_source"] == "buildings"
    # floor area is a relative weight, not people: no population figure is shown
    for col in ("share_population_buffer", "share_population_network", "uncovered_population"):
        assert math.isnan(r[col]), col
    assert res.meta["population_people"] is False
    assert "no population source" in res.meta["population_note"]
    assert res.gaps["population"].isna().all()
    assert r["share_buffer"] < 0.2


def test_no_population_source_leaves_people_empty():
    # land area is never shown as people: without census or raster every people column is NaN
    ls = layerset({"A": box(0, 0, 1000, 1000)}, residential=[box(0, 0, 1000, 1000)],
                  bus_stops=[P(200, 500)])
    res = run_coverage(ls, ["bus_stop_500"], DemandSettings())
    r = row(res, "bus_stop_500")
    assert r["population_source"] == "area"
    assert math.isnan(r["uncovered_population"]) and math.isnan(r["share_population_buffer"])
    assert r["uncovered_area_m2"] > 0
    assert res.gaps["population"].isna().all()


# --------------------------------------------------------------------------------------------
# outputs
# --------------------------------------------------------------------------------------------

def test_write_coverage_and_format_table(tmp_path):
    import pyogrio

    ls = layerset({"锦江区": box(0, 0, 1000, 1000)}, residential=[box(0, 0, 1000, 1000)],
                  bus_stops=[P(500, 500)], parks=[box(-300, 0, -100, 200)],
                  walkways=grid_lines(0, 0, 1000, 1000, 100))
    res = run_coverage(ls, ["bus_stop_500", "park_500"])
    paths = write_coverage(res, tmp_path / "out")
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(paths["csv"], encoding="utf-8-sig")
    assert table["district"].tolist() == ["锦江区", "锦江区"]
    assert set(TABLE_COLUMNS) <= set(table.columns)
    layers = {name for name, _ in pyogrio.list_layers(paths["gpkg"])}
    assert layers == {"districts", "facilities", "reach_areas", "reached", "gaps", "street_gaps",
                      "walk_bands", "layer_styles"}
    # the CSV keeps the shares exactly; the bus stop's share is the 128-gon inscribed in its
    # 500 m circle over the 1 km² block: 64 × 500² × sin(2π/128) / 1e6 = 0.78508
    by_id = table.set_index("standard")
    expected = 64 * 500**2 * math.sin(2 * math.pi / 128) / 1e6
    assert by_id.loc["bus_stop_500", "share_buffer"] == pytest.approx(expected, rel=1e-9)
    assert np.allclose(table["share_buffer"], res.table["share_buffer"], rtol=0, atol=1e-12)
    # the GeoPackage holds the facilities where they are, in the analysis CRS (metres)
    fac = gpd.read_file(paths["gpkg"], layer="facilities")
    assert fac.crs == CRS
    stop = fac[fac["standard"] == "bus_stop_500"].geometry.iloc[0]
    assert (stop.x, stop.y) == pytest.approx((X0 + 500, Y0 + 500), abs=1e-6)
    text = format_table(res.table)
    assert "bus_stop_500" in text and "锦江区" in text
    assert "78.5%" in text  # the same share, as the terminal shows it


def test_no_walkways_at_all_everything_unreachable():
    ls = layerset({"A": box(0, 0, 1000, 1000)}, residential=[box(0, 0, 1000, 1000)],
                  bus_stops=[P(500, 500)])
    res = run_coverage(ls, ["bus_stop_500"], DemandSettings(grid_m=100), progress=True)
    r = row(res, "bus_stop_500")
    assert r["share_network"] == 0.0 and r["unreachable_points"] == 100
    # the engine's 500 m buffer is a regular 128-gon inscribed in the circle: its area is
    # 128/2 × r² × sin(2π/128), worked out here without shapely (0.04 % below π r²)
    polygon = 64 * 500**2 * math.sin(2 * math.pi / 128)
    assert r["share_buffer"] == pytest.approx(polygon / 1e6, rel=1e-9)
    assert r["share_buffer"] == pytest.approx(math.pi / 4, rel=REL)
    assert res.meta["graph"] is None
    assert len(res.reached) == 0


def test_life_circle_items_one_by_one_and_items_without_data(tmp_path):
    # clinic west, market east, no elderly-care place at all: the tier is measured over the
    # two items with data, names the third, and reports each item's own coverage
    services = frame("services", [P(0, 500), P(1500, 500)], kind=["clinic", "market;shop"])
    basket = [{"label": "clinic", "name_zh": "诊所", "name_en": "Clinic", "layer": "services",
               "filter": {"kind": "clinic"}},
              {"label": "market", "name_zh": "菜市场", "layer": "services", "filter": {"kind": "market"}},
              {"label": "elderly", "name_zh": "日间照料", "name_en": "Day care", "layer": "services",
               "filter": {"kind": "elderly_day_care"}}]
    std = resolve_standards([{"id": "life_circle_15min", "basket": basket, "unmeasured_items": [],
                              "min_items": 1}])
    land = box(-1000, 0, 2500, 1000)
    ls = layerset({"A": land}, residential=[land], services=services,
                  walkways=grid_lines(-1000, 0, 2500, 1000, 100))
    res = run_coverage(ls, std)
    clinic = shapely.buffer(P(0, 500), 1000, quad_segs=32)
    market = shapely.buffer(P(1500, 500), 1000, quad_segs=32)
    r = row(res, "life_circle_15min")
    both = shapely.intersection(shapely.intersection(clinic, market), land).area / land.area
    assert r["share_buffer"] == pytest.approx(both, rel=1e-9)  # not 0 for the missing item
    assert r["items_no_data"] == "日间照料" and r["n_items"] == 3 and r["min_items"] == 1
    items = res.items.set_index("item")
    assert items.loc["clinic", "share_buffer"] == pytest.approx(
        shapely.intersection(clinic, land).area / land.area, rel=1e-9)
    assert items.loc["market", "share_buffer"] == pytest.approx(
        shapely.intersection(market, land).area / land.area, rel=1e-9)
    assert bool(items.loc["elderly", "no_data"]) and math.isnan(items.loc["elderly", "share_network"])
    _items_named_in_either_language(res, tmp_path)
    # at least 1 of the 2 items with data: the union of the two walks
    net = items[["share_network"]].dropna().to_numpy().ravel()
    assert max(net) <= r["share_min_items_network"] <= min(1.0, net.sum())
    assert r["share_network"] <= min(net)
    res.validate()
    # item gaps (buffer view): the land outside each item's circle; sites per item
    from geoplan.siting import suggest_sites

    ig = res.item_gaps
    clinic_gap = ig.loc[ig["item"] == "clinic", "area_m2"].sum()
    assert clinic_gap == pytest.approx(land.area - shapely.intersection(clinic, land).area,
                                       rel=1e-6)
    assert "elderly" not in set(ig["item"])
    sites = suggest_sites(res, std, max_sites=2).table
    assert len(sites) and set(sites["item"]) == {"clinic", "market"}
    assert (sites["standard"] == "life_circle_15min").all()
    first = sites.loc[sites["rank"] == 1].set_index("item")
    assert first.loc["clinic", "share_before"] == pytest.approx(
        items.loc["clinic", "share_buffer"], rel=1e-9)
    assert (first["share_after"] > first["share_before"]).all()


def _items_named_in_either_language(res, tmp_path):
    """English outputs name the items in English where the catalog does (the market has no
    English name: its Chinese one stands), Chinese outputs in Chinese."""
    import openpyxl

    from geoplan.coverage.output import format_items
    from geoplan.report.tables import write_workbook
    from geoplan.results import item_names, items_in

    assert list(res.items["name_en"]) == ["Clinic", "菜市场", "Day care"]
    assert item_names(res.items, "en") == {"clinic": "Clinic", "market": "菜市场", "elderly": "Day care"}
    assert item_names(res.items, "zh")["clinic"] == "诊所"
    assert items_in("日间照料", res.items, "en") == "Day care"
    assert items_in("日间照料、菜市场、其他", res.items, "en") == "Day care, 菜市场, 其他"
    assert items_in("日间照料", res.items, "zh") == "日间照料"
    en = format_items(res.items, res.table, "en")
    assert "Clinic" in en and "诊所" not in en and "no data for Day care" in en
    zh = format_items(res.items, res.table, "zh")
    assert "诊所" in zh and "Clinic" not in zh and "无数据：日间照料" in zh
    for lang, clinic, missing in (("en", "Clinic", "Day care"), ("zh", "诊所", "日间照料")):
        wb = openpyxl.load_workbook(write_workbook(res, None, tmp_path / f"{lang}.xlsx", lang=lang))
        cells = {str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                 if c.value is not None}
        assert clinic in cells and missing in cells
        assert ("诊所" in cells) == (lang == "zh")


def test_item_gaps_in_every_district_each_with_its_own_land():
    # three districts side by side, 1 km wide, with a clinic 1 km west of the first: its
    # 1000 m circle covers only part of A, and none of B and C. Each district's item gap is
    # its land outside the circle (the district listed last must not lose its gaps)
    basket = [{"label": "clinic", "name_zh": "诊所", "layer": "services", "filter": {"kind": "clinic"}},
              {"label": "market", "name_zh": "菜市场", "layer": "services", "filter": {"kind": "market"}}]
    std = resolve_standards([{"id": "life_circle_15min", "basket": basket, "unmeasured_items": [],
                              "min_items": 1}])
    lands = {name: box(1000 * k, 0, 1000 * (k + 1), 1000) for k, name in enumerate("ABC")}
    services = frame("services", [P(-500, 500), P(1500, 500)], kind=["clinic", "market"])
    ls = layerset(lands, residential=list(lands.values()), services=services,
                  walkways=grid_lines(-1000, 0, 3000, 1000, 100))
    res = run_coverage(ls, std, DemandSettings(grid_m=50))
    clinic = shapely.buffer(P(-500, 500), 1000, quad_segs=32)
    gaps = res.item_gaps.loc[res.item_gaps["item"] == "clinic"].groupby("district")["area_m2"].sum()
    for name, land in lands.items():
        assert gaps[name] == pytest.approx(land.area - shapely.intersection(clinic, land).area,
                                           rel=1e-9)
    assert gaps["B"] == pytest.approx(1e6, rel=1e-9) and gaps["C"] == pytest.approx(1e6, rel=1e-9)


def test_the_terminal_table_marks_districts_only_partly_inside_the_data():
    from geoplan.cli._format import coverage_text

    table = pd.DataFrame({"district": ["甲区", "乙区"], "standard": ["park_500"] * 2,
                          "name_zh": ["500米见园"] * 2, "name_en": ["A park within 500 m"] * 2,
                          "radius_m": [500.0] * 2, "target": [1.0] * 2,
                          "share_buffer": [0.5, 0.6], "share_network": [0.4, 0.5],
                          "share_population_buffer": [np.nan] * 2,
                          "share_population_network": [np.nan] * 2,
                          "meets_target": [False] * 2, "population_source": ["area"] * 2,
                          "inside_share": [0.06, 1.0]})
    zh = coverage_text(table)
    assert "甲区*" in zh and "乙区*" not in zh
    assert "* 只有部分面积在数据范围内（甲区 6%）" in zh
    assert "* only partly inside the data (甲区 6%)" in coverage_text(table, "en")
    assert "*" not in coverage_text(table.assign(inside_share=1.0))


def test_an_item_absent_near_the_district_but_in_the_data_is_a_gap_not_missing_data():
    # the same district, alone or beside a second one that brings a toilet into the context:
    # the toilet item's "no data" depended on the config's other districts (a reviewer's
    # case: 公共厕所 was 无数据 alone and 0 % beside another district)
    from dataclasses import replace

    a = box(0, 0, 1000, 1000)
    ls = layerset({"A": a}, residential=[a], walkways=grid_lines(0, 0, 1000, 1000, 100),
                  toilets=[P(5000, 5000)], parks=[box(400, 400, 600, 600)])
    stds = resolve_standards(["life_circle_5min"])
    assert len(ls["toilets"]) == 1  # the toilet 4 km away is in the input (the layer)...
    near = replace(ls, layers={**ls.layers, "toilets": ls["toilets"].iloc[:0]})  # ...not near
    without = replace(near, in_data={})  # and in no input file at all
    gap = row(run_coverage(replace(near, in_data={"toilets": pd.DataFrame(ls["toilets"].drop(
        columns="geometry"))}), stds), "life_circle_5min")
    none = row(run_coverage(without, stds), "life_circle_5min")
    assert "公共厕所" not in gap["items_no_data"] and "公共厕所" in none["items_no_data"]
    items = run_coverage(replace(near, in_data={"toilets": pd.DataFrame(ls["toilets"].drop(
        columns="geometry"))}), stds).items
    toilet = items.loc[items["name_zh"] == "公共厕所"].iloc[0]
    assert not toilet["no_data"] and toilet["share_buffer"] == 0.0 and toilet["n_facilities"] == 0


def test_the_item_table_keeps_every_district_s_cells_apart():
    # two short unit names and full shares: "100.0% / 65.8%" ran into "100.0% / 100.0%" when
    # the columns were as wide as the names (13)
    import pandas as pd

    from geoplan.coverage.output import format_items

    districts = ["甲", "乙"]
    table = pd.DataFrame({
        "standard": "life_circle_15min", "district": districts, "n_items": 2,
        "name_zh": "十五分钟生活圈", "name_en": "15-minute life circle", "radius_m": 1000.0,
        "target": 1.0, "share_buffer": [1.0, 1.0], "share_network": [0.658, 1.0], "min_items": 1,
        "share_min_items_network": [1.0, 1.0], "items_no_data": ""})
    items = pd.DataFrame({
        "standard": "life_circle_15min", "district": districts * 2,
        "item": ["clinic", "clinic", "market", "market"], "name_zh": ["诊所"] * 2 + ["菜市场"] * 2,
        "name_en": ["Clinic"] * 2 + ["Market"] * 2, "no_data": False,
        "share_buffer": [1.0, 1.0, 1.0, 1.0], "share_network": [0.658, 1.0, 1.0, 1.0]})
    for lang in ("zh", "en"):
        text = format_items(items, table, lang)
        row = next(line for line in text.splitlines() if line.startswith(("诊所", "Clinic")))
        assert "100.0% / 65.8%  " in row and row.endswith("100.0% / 100.0%"), row
        assert "65.8%100.0%" not in text
