"""Demand sampling and population weights on hand-built layers."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geoplan._errors import InputDataError
from geoplan.config import DemandSettings
from geoplan.coverage.demand import (
    LINEAR_KINDS,
    demand_lines,
    residential_grid,
    residential_land,
    street_samples,
)
from geoplan.coverage.population import building_weights, population_weights
from tests._synthetic import box, frame, layerset, line


def test_grid_pieces_partition_the_residential_land_per_district():
    # two overlapping residential polygons across a district line, one L-shaped
    ell = shapely.difference(box(0, 0, 330, 330), box(130, 130, 330, 330))
    ls = layerset({"A": box(0, 0, 200, 400), "B": box(200, 0, 400, 400)},
                  residential=[ell, box(100, 100, 370, 210)])
    land = residential_land(ls["residential"], ls.districts)
    union = shapely.union_all([ell, box(100, 100, 370, 210)])
    assert shapely.area(land).sum() == pytest.approx(union.area, rel=1e-12)
    dem = residential_grid(ls["residential"], ls.districts, grid_m=25)
    totals = dem.totals(2)
    assert totals == pytest.approx(shapely.area(land), rel=1e-12)
    assert dem.amount.max() <= 625 + 1e-9
    # every point lies in its own piece, and every piece in its district
    assert shapely.contains(dem.pieces, dem.points).all()
    dgeo = ls.districts.geometry.to_numpy()
    assert shapely.covers(dgeo[dem.district], dem.pieces).all()
    # pieces do not overlap: their union has the same area as their sum
    assert shapely.union_all(dem.pieces).area == pytest.approx(dem.amount.sum(), rel=1e-9)
    assert dem.unit == "m2" and not dem.is_linear


def test_grid_is_aligned_and_bad_spacing_rejected():
    ls = layerset({"A": box(0, 0, 100, 100)}, residential=[box(0, 0, 100, 100)])
    dem = residential_grid(ls["residential"], ls.districts, grid_m=50)
    assert len(dem) == 4 and np.allclose(dem.amount, 2500)
    with pytest.raises(InputDataError, match="> 0"):
        residential_grid(ls["residential"], ls.districts, grid_m=0)


def test_no_residential_land_gives_empty_demand():
    ls = layerset({"A": box(0, 0, 100, 100)})
    dem = residential_grid(ls["residential"], ls.districts, 25)
    assert len(dem) == 0 and dem.totals(1).tolist() == [0.0]


def test_street_samples_every_25_m_sum_to_the_length_per_district():
    # a 1030 m street crossing the district line at x = 600
    ls = layerset({"A": box(0, -50, 600, 50), "B": box(600, -50, 1200, 50)})
    dem = street_samples(np.array([line((0, 0), (1030, 0))]), ls.districts, "street_main", 25)
    assert dem.totals(2) == pytest.approx([600, 430])
    assert dem.amount.max() <= 25 + 1e-9
    assert shapely.length(dem.pieces) == pytest.approx(dem.amount)
    # sample points are the midpoints of their pieces
    mid = shapely.line_interpolate_point(dem.pieces, 0.5, normalized=True)
    assert shapely.distance(mid, dem.points).max() < 1e-6
    assert dem.unit == "m" and dem.is_linear
    assert (dem.district[:24] == 0).all() and (dem.district[-18:] == 1).all()


def test_road_classes_and_riverside_paths():
    roads = frame("roads", [line((0, 0), (100, 0)), line((0, 10), (100, 10)),
                            line((0, 20), (100, 20)), line((0, 30), (100, 30))],
                  road_class=["main", "general", "service", "service"],
                  is_public=[True, True, True, False])
    river_park = box(0, 100, 200, 200)
    dry_park = box(500, 100, 700, 200)
    ls = layerset({"A": box(-100, -100, 900, 400)}, roads=roads,
                  parks=[river_park, dry_park],
                  waterways=frame("waterways", [line((0, 230), (200, 230))], kind=["river"]),
                  walkways=[line((-50, 150), (250, 150)), line((450, 150), (750, 150))])
    assert len(demand_lines(ls.layers, "street_main")) == 1
    assert len(demand_lines(ls.layers, "street_general")) == 2  # general + public service
    paths = demand_lines(ls.layers, "riverside_park_paths")
    assert shapely.length(paths).sum() == pytest.approx(200)  # clipped to the river park
    with pytest.raises(ValueError, match="linear"):
        demand_lines(ls.layers, "residential")
    assert set(LINEAR_KINDS) == {"street_main", "street_general", "riverside_park_paths"}


def test_riverside_path_across_two_riverside_parks_is_cut_by_both():
    # two riverside parks 100 m apart along one river, a dry park far off; one walkway runs
    # through both riverside parks (cut by each park it meets, never by the city's union)
    parks = [box(0, 100, 200, 200), box(300, 100, 450, 200), box(2000, 100, 2100, 200)]
    ls = layerset({"A": box(-100, -100, 2500, 400)}, parks=parks,
                  waterways=frame("waterways", [line((0, 230), (450, 230))], kind=["river"]),
                  walkways=[line((-50, 150), (500, 150)), line((100, 120), (100, 180)),
                            line((1900, 150), (2200, 150))])
    paths = demand_lines(ls.layers, "riverside_park_paths")
    # 200 m + 150 m of the long walkway, 60 m of the short one inside the first park
    assert sorted(np.round(shapely.length(paths), 9)) == [60.0, 150.0, 200.0]
    origin = shapely.bounds(ls["parks"].geometry.to_numpy()[0])[[0, 1, 0, 1]] - [0, 100, 0, 100]
    assert (shapely.bounds(paths) - origin).tolist() == [[0.0, 150.0, 200.0, 150.0],
                                              [300.0, 150.0, 450.0, 150.0],
                                              [100.0, 120.0, 100.0, 180.0]]


def test_building_weights_spread_by_overlap_and_nearest():
    ls = layerset({"A": box(0, 0, 200, 100)}, residential=[box(0, 0, 100, 100)])
    dem = residential_grid(ls["residential"], ls.districts, 50)
    # one 3-level building straddling two pieces, one untagged building outside (default 6)
    b = frame("buildings", [box(40, 10, 60, 20), box(150, 40, 160, 50)],
              levels=[3.0, np.nan], is_residential=[True, True])
    w, coverage = building_weights(dem, b, default_levels=6)
    assert w.sum() == pytest.approx(200 * 3 + 100 * 6)
    assert coverage == pytest.approx(0.5)  # two of four pieces hold building floor area
    s = population_weights(dem, {"buildings": b}, DemandSettings(population_weight="buildings"))
    assert s.source == "buildings"
    auto = population_weights(dem, {"buildings": b.iloc[:0]}, DemandSettings())
    assert auto.source == "area" and auto.weights.sum() == pytest.approx(1e4)


def test_raster_people_are_shared_among_the_points_of_each_pixel(tmp_path):
    import rasterio
    from affine import Affine

    from tests._synthetic import X0, Y0

    ls = layerset({"A": box(0, 0, 300, 100)}, residential=[box(0, 0, 300, 100)])
    dem = residential_grid(ls["residential"], ls.districts, 50)
    path = tmp_path / "pop.tif"
    data = np.array([[10.0, 30.0, -1.0]], dtype="float32")  # the third pixel is nodata
    with rasterio.open(path, "w", driver="GTiff", height=1, width=3, count=1, dtype="float32",
                       crs="EPSG:32648", transform=Affine(100.0, 0, X0, 0, -100.0, Y0 + 100),
                       nodata=-1) as dst:
        dst.write(data, 1)
    w = population_weights(dem, ls, DemandSettings(population_raster=path))
    assert w.source == "raster"
    x = shapely.get_x(dem.points) - X0
    assert np.allclose(w.weights[x < 100], 2.5) and np.allclose(w.weights[(x > 100) & (x < 200)], 7.5)
    assert np.allclose(w.weights[x > 200], 0.0)
    assert w.weights.sum() == pytest.approx(40.0)


def test_residential_land_per_district_dissolves_overlaps_across_lines():
    # A | B side by side, C far away with no land; one block spans the A–B line and a second
    # overlaps it in B: A holds 50 × 100 = 5,000 m², B 50 × 100 + 30 × 50 = 6,500 m²
    ls = layerset({"A": box(0, 0, 100, 100), "B": box(100, 0, 200, 100),
                   "C": box(1000, 0, 1100, 100)},
                  residential=[box(50, 0, 150, 100), box(120, 0, 180, 50)])
    land = residential_land(ls["residential"], ls.districts)
    assert shapely.area(land).tolist() == pytest.approx([5000.0, 6500.0, 0.0], abs=1e-9)
    assert shapely.is_empty(land[2])
    assert shapely.equals(land[1], shapely.union(box(100, 0, 150, 100), box(120, 0, 180, 50)))


def test_building_weights_in_blocks_of_pieces_are_the_weights_in_one(monkeypatch, chengdu_layers):
    """The pieces are built a block at a time to find their buildings: a building over pieces
    of two blocks gives each its share, and the sample's weights do not depend on the block."""
    import geoplan.coverage.population as population

    ls = layerset({"A": box(0, 0, 200, 100)}, residential=[box(0, 0, 200, 100)])
    dem = residential_grid(ls["residential"], ls.districts, 50)  # 8 pieces of 50 m
    # 2 levels over x 40..160, y 10..30: 10/50/50/10 m of its length on the lower pieces
    b = frame("buildings", [box(40, 10, 160, 30)], levels=[2.0], is_residential=[True])
    whole, cov = building_weights(dem, b)
    monkeypatch.setattr(population, "PIECES_PER_BLOCK", 3)
    blocks, cov3 = building_weights(dem, b)
    y = shapely.get_y(dem.points)
    lower = np.flatnonzero(y < y.min() + 25)
    order = lower[np.argsort(shapely.get_x(dem.points)[lower])]
    assert blocks[order] == pytest.approx([400.0, 2000.0, 2000.0, 400.0], rel=1e-12)
    assert blocks.sum() == pytest.approx(2 * 120 * 20) and cov3 == cov == pytest.approx(0.5)
    np.testing.assert_allclose(blocks, whole, rtol=1e-12, atol=0)

    sample = residential_grid(chengdu_layers["residential"], chengdu_layers.districts, 25)
    monkeypatch.setattr(population, "PIECES_PER_BLOCK", 10**9)
    one, cov_one = building_weights(sample, chengdu_layers["buildings"])
    monkeypatch.setattr(population, "PIECES_PER_BLOCK", 1_999)
    many, cov_many = building_weights(sample, chengdu_layers["buildings"])
    assert len(sample) > 4 * 1_999 and one.sum() > 1e6
    np.testing.assert_allclose(many, one, rtol=1e-12, atol=1e-9)
    assert cov_many == cov_one


def test_a_street_stretch_two_ways_share_is_street_demand_once():
    import geopandas as gpd
    import shapely

    from geoplan.coverage.demand import demand_lines

    # two ways along the same nodes for 100 m (a street mapped twice over a stretch): 300 m
    # of street, not 400 m, and the street gaps (a union) measure the same
    a = shapely.LineString([(0, 0), (100, 0), (200, 0)])
    b = shapely.LineString([(200, 0), (100, 0), (100, 100)])
    roads = gpd.GeoDataFrame({"road_class": ["general", "general"], "is_public": [True, True]},
                             geometry=[a, b], crs="EPSG:32648")
    lines = demand_lines({"roads": roads}, "street_general")
    assert shapely.length(lines).sum() == pytest.approx(300.0)
    assert shapely.length(lines).sum() == pytest.approx(shapely.union_all(lines).length)
