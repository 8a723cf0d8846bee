"""Reach areas: per district, the union of the buffered reached edges that meet it, clipped.

The engine makes them standard by standard as each finishes, and reach_areas makes each
district's bands from the lines near it only; both must give the very polygons of the plain
recipe: buffer every edge of a standard, take those whose band intersects the district, dissolve,
clip (written out here on its own).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from geoplan.coverage import run_coverage
from geoplan.coverage.reach import REACH_BUFFER_M, reach_areas
from geoplan.coverage.reached import ReachedPieces, merged_by_standard
from geoplan.standards import resolve_standards
from tests._synthetic import CRS, P, box, frame, grid_lines, layerset


def _plain(lines: np.ndarray, district: object) -> object:
    bands = shapely.buffer(shapely.simplify(lines, 2.0), REACH_BUFFER_M, quad_segs=2)
    meet = shapely.intersects(bands, district)
    if not meet.any():
        return None
    return shapely.intersection(shapely.union_all(bands[meet]), district)


def test_reach_areas_equal_the_plain_recipe_district_by_district():
    rng = np.random.default_rng(7)
    # wiggly lines, many of them crossing district lines or ending just short of them
    starts = rng.uniform(0, 1000, size=(300, 2))
    steps = rng.normal(0, 25, size=(300, 4, 2)).cumsum(axis=1)
    coords = np.concatenate([starts[:, None, :], starts[:, None, :] + steps], axis=1)
    lines = shapely.linestrings(coords)
    # one line 14 m east of the district line: its band meets the west district, it does not
    lines = np.append(lines, shapely.LineString([(514, 100), (514, 300)]))
    sid = np.where(np.arange(len(lines)) % 3 == 0, "b", "a")
    reached = gpd.GeoDataFrame({"standard": sid, "item": "x", "radius_m": 300.0,
                                "distance_from": 0.0}, geometry=lines, crs=CRS)
    districts = gpd.GeoDataFrame({"district": ["W", "E", "far"]},
                                 geometry=[box(0, 0, 500, 1000), box(500, 0, 1000, 1000),
                                           box(5000, 5000, 6000, 6000)], crs=CRS)
    out = reach_areas(reached, ["a", "b", "none"], pyproj.CRS(CRS), districts)
    want = []
    for s in ("a", "b"):
        for d, geom in zip(districts["district"], districts.geometry, strict=True):
            area = _plain(lines[sid == s], geom)
            if area is not None and not shapely.is_empty(area):
                want.append((s, d, area))
    assert list(zip(out["standard"], out["district"], strict=True)) == [(s, d) for s, d, _ in want]
    for got, (_, _, area) in zip(out.geometry, want, strict=True):
        assert shapely.equals_exact(got, area, tolerance=0.0)


def test_engine_reach_areas_equal_those_of_its_reached_edges():
    # a basket standard (two items reaching the same streets) and a single one, two districts
    services = frame("services", [P(200, 500), P(1300, 500)], kind=["clinic", "market"])
    basket = [{"label": "clinic", "layer": "services", "filter": {"kind": "clinic"}},
              {"label": "market", "layer": "services", "filter": {"kind": "market"}}]
    stds = resolve_standards([{"id": "life_circle_15min", "basket": basket},
                              {"id": "bus_stop_500", "radius_m": 400}])
    ls = layerset({"A": box(-200, 0, 750, 1000), "B": box(750, 0, 1700, 1000)},
                  residential=[box(-200, 0, 1700, 1000)], services=services,
                  bus_stops=[P(705, 510)], walkways=grid_lines(-200, 0, 1700, 1000, 100))
    res = run_coverage(ls, stds)
    again = reach_areas(res.reached, [s.id for s in stds], res.reach_areas.crs, res.districts)
    assert len(res.reach_areas) == len(again) > 2
    assert list(res.reach_areas.columns) == list(again.columns)
    assert (res.reach_areas["standard"] == again["standard"]).all()
    assert (res.reach_areas["district"] == again["district"]).all()
    # the engine buffers each standard's stretches with its items merged (merged_by_standard):
    # on straight streets the very same area, its outline traced in another order
    for a, b in zip(res.reach_areas.geometry, again.geometry, strict=True):
        assert shapely.area(shapely.symmetric_difference(a, b)) <= 1e-9 * shapely.area(b)


def _pieces(edge: list[int], start: list[float], end: list[float], full: list[bool],
            dist: list[float], radius: float) -> ReachedPieces:
    return ReachedPieces(np.array(edge), np.array(start, dtype=float),
                         np.array(end, dtype=float), np.array(full),
                         np.array(dist, dtype=float), radius)


def test_a_standards_items_are_merged_into_disjoint_stretches_per_edge():
    # edges 0 and 1 are 50 m long, edge 2 is 80 m. Item x reaches [0, 30] of edge 0, all of
    # edge 1 and [0, 10] of edge 2; item y reaches [20, 50] of edge 0, all of edge 1 again
    # and [40, 80] of edge 2. By hand: edge 0 [0, 50] whole, edge 1 once, edge 2 in two
    # stretches; the nearest distance of each stretch is the least of its pieces'.
    length = np.array([50.0, 50.0, 80.0])
    x = _pieces([0, 1, 2], [0, 0, 0], [30, 50, 10], [False, True, False], [5, 0, 7], 300)
    y = _pieces([2, 1, 0], [40, 0, 20], [80, 50, 50], [False, True, False], [1, 9, 3], 500)
    single = _pieces([2, 0], [0, 5], [80, 9], [True, False], [0, 4], 300)
    out = merged_by_standard([("basket", "x", x), ("one", "z", single), ("basket", "y", y)],
                             length)
    assert [(s, i) for s, i, _ in out] == [("basket", ""), ("one", "")]
    got = out[0][2]
    assert got.edge.tolist() == [0, 1, 2, 2]
    assert got.start.tolist() == [0, 0, 0, 40]
    assert got.end.tolist() == [50, 50, 10, 80]
    assert got.full.tolist() == [True, True, False, False]
    assert got.distance_from.tolist() == [3, 0, 7, 1]
    assert got.radius_m == 500
    assert out[1][2] is single  # one set of pieces: already disjoint, kept as it is

def test_repeated_lines_are_dissolved_once_and_the_area_is_the_papers():
    # a 100 m street reached by three items (the same line three times) and the next 100 m
    # once: two 30 m wide bands end to end, the inner caps inside the bands, so on paper the
    # area is 2·15·200 plus the two outer half-caps, an octagon (quad_segs=2) of radius 15:
    # 6000 + 2·√2·15² m²
    a = shapely.LineString([(0, 0), (100, 0)])
    b = shapely.LineString([(100, 0), (200, 0)])
    lines = np.array([a, a, b, a], dtype=object)
    reached = gpd.GeoDataFrame({"standard": "s", "item": ["x", "y", "x", "z"], "radius_m": 300.0,
                                "distance_from": 0.0}, geometry=lines, crs=CRS)
    districts = gpd.GeoDataFrame({"district": ["D"]}, geometry=[shapely.box(-100, -100, 300, 100)],
                                 crs=CRS)
    (got,) = reach_areas(reached, ["s"], pyproj.CRS(CRS), districts).geometry
    assert shapely.area(got) == pytest.approx(6000 + 2 * np.sqrt(2) * 225, rel=1e-12)
    # the plain recipe over every line, repeats included: the same polygon
    want = _plain(lines, districts.geometry.iloc[0])
    assert shapely.area(shapely.symmetric_difference(got, want)) <= 1e-9 * shapely.area(want)
