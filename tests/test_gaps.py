"""Gap polygons and their ranking (geoplan.coverage.gaps), on hand-built uncovered areas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geoplan.coverage.gaps import (
    GAP_COLUMNS,
    dissolve_pieces,
    gap_polygons,
    rank_gaps,
    rank_street_gaps,
    street_gap_lines,
)

CRS = "EPSG:32648"


def cells(x0: float, y0: float, x1: float, y1: float, step: float) -> np.ndarray:
    """Grid pieces of ``step`` × ``step`` covering a rectangle, row by row."""
    xs, ys = np.arange(x0, x1, step), np.arange(y0, y1, step)
    gx, gy = np.meshgrid(xs, ys)
    return shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + step, gy.ravel() + step)


# --------------------------------------------------------------------------------------------
# gap_polygons
# --------------------------------------------------------------------------------------------


def test_gap_polygons_split_the_area_and_sum_the_people_by_hand():
    # uncovered: a 100 m square (10,000 m²), a 50 m square (2,500 m²), and a 0.5 m² sliver
    big, small = shapely.box(0, 0, 100, 100), shapely.box(200, 0, 250, 50)
    sliver = shapely.box(300, 0, 300.5, 1)
    uncovered = shapely.MultiPolygon([big, small, sliver])
    # pieces: the big square's four 50 m cells (1, 2, 3, 4 people, all uncovered), the small
    # square's one cell (10 people), and a covered cell between them (5 people, not in a gap)
    pieces = np.concatenate([cells(0, 0, 100, 100, 50),
                             [shapely.box(200, 0, 250, 50), shapely.box(100, 0, 150, 50)]])
    weights = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 5.0])
    frac = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    polys, area, pop = gap_polygons(uncovered, pieces, weights, frac)
    # the sliver (< 1 m²) is dropped; 1 + 2 + 3 + 4 = 10 people in the big gap, 10 in the small
    assert area.tolist() == pytest.approx([10_000.0, 2_500.0])
    assert pop.tolist() == pytest.approx([10.0, 10.0])
    assert shapely.equals(polys[0], big) and shapely.equals(polys[1], small)


def test_a_piece_partly_uncovered_gives_its_uncovered_share():
    # one 100 × 40 piece of 100 people, 80 % uncovered, lying in a single gap polygon:
    # the gap holds 100 × 0.8 = 80 people
    piece = shapely.box(0, 0, 100, 40)
    gap = shapely.box(0, 0, 80, 40)
    _, area, pop = gap_polygons(gap, np.array([piece]), np.array([100.0]), np.array([0.8]))
    assert area.tolist() == pytest.approx([3200.0]) and pop.tolist() == pytest.approx([80.0])


def test_a_piece_split_between_two_gaps_is_shared_by_area():
    # the 100 × 40 piece (100 people) is uncovered in two 40 × 40 squares with a covered strip
    # between them (0.8 uncovered): each square holds 100 × 1600 / 4000 = 40 people
    piece = shapely.box(0, 0, 100, 40)
    uncovered = shapely.MultiPolygon([shapely.box(0, 0, 40, 40), shapely.box(60, 0, 100, 40)])
    _, area, pop = gap_polygons(uncovered, np.array([piece]), np.array([100.0]),
                                np.array([0.8]))
    assert area.tolist() == pytest.approx([1600.0, 1600.0])
    assert pop.tolist() == pytest.approx([40.0, 40.0])
    assert pop.sum() == pytest.approx(100.0 * 0.8)


def test_pieces_are_placed_by_their_boxes_only_where_one_gap_box_meets_them():
    # gap A, an L (the 100 m square without its top-right 60 m square: 6,400 m²); gap B, a
    # 40 m square in A's notch (1,600 m²), inside A's box but apart from it; two slivers of
    # 0.5 m² (dropped), one in the notch, one far away
    a = shapely.difference(shapely.box(0, 0, 100, 100), shapely.box(40, 40, 100, 100))
    b = shapely.box(60, 60, 100, 100)
    uncovered = shapely.MultiPolygon([a, b, shapely.box(50, 50, 50.5, 51),
                                      shapely.box(300, 0, 300.5, 1)])
    pieces = np.array([
        shapely.box(0, 0, 40, 40),       # 4 people, only A's box meets it: A
        shapely.box(60, 60, 100, 100),   # 16 people, on A's box and B's: tested, in B only
        shapely.box(50, 50, 50.5, 51),   # 3 people in the sliver in A's box: no gap's
        shapely.box(300, 0, 300.5, 1),   # 5 people in the far sliver: no gap's
        shapely.box(0, 40, 40, 100),     # 6 people, half uncovered, only A's box: 3 to A
    ])
    weights = np.array([4.0, 16.0, 3.0, 5.0, 6.0])
    frac = np.array([1.0, 1.0, 1.0, 1.0, 0.5])
    polys, area, pop = gap_polygons(uncovered, pieces, weights, frac)
    assert area.tolist() == pytest.approx([6_400.0, 1_600.0])
    assert pop.tolist() == pytest.approx([4.0 + 3.0, 16.0])
    assert shapely.equals(polys[0], a) and shapely.equals(polys[1], b)


def test_gap_population_agrees_with_exact_overlay():
    # independent answer: every piece's people spread evenly over its area, intersected with
    # every gap polygon one at a time
    pieces = cells(0, 0, 500, 500, 25)
    rng = np.random.default_rng(2)
    weights = rng.uniform(0, 20, len(pieces))
    served = shapely.union_all(shapely.buffer(shapely.points(rng.uniform(0, 500, (6, 2))), 90.0))
    uncovered = shapely.difference(shapely.box(0, 0, 500, 500), served)
    frac = 1.0 - np.array([shapely.intersection(p, served).area / p.area for p in pieces])
    frac[frac < 1e-12] = 0.0
    polys, area, pop = gap_polygons(uncovered, pieces, weights, frac)
    assert len(polys) >= 1
    want = [sum(w * shapely.intersection(g, p).area / p.area
                for p, w in zip(pieces, weights, strict=True)) for g in polys]
    assert pop == pytest.approx(want, rel=1e-9, abs=1e-9)
    assert area.sum() == pytest.approx(uncovered.area, rel=1e-12)


def test_nothing_uncovered():
    pieces = cells(0, 0, 100, 100, 50)
    polys, area, pop = gap_polygons(shapely.Polygon(), pieces, np.ones(4), np.zeros(4))
    assert len(polys) == len(area) == len(pop) == 0
    # an uncovered area, but no piece holds people there: area counted, nobody in it
    polys, area, pop = gap_polygons(shapely.box(0, 0, 10, 10), pieces, np.ones(4), np.zeros(4))
    assert area.tolist() == [100.0] and pop.tolist() == [0.0]


def test_dissolve_pieces_is_their_union():
    pieces = cells(0, 0, 100, 50, 25)  # 8 cells making one 100 × 50 rectangle
    out = dissolve_pieces(pieces)
    assert shapely.equals(out, shapely.box(0, 0, 100, 50))
    assert dissolve_pieces(np.array([], dtype=object)).is_empty


# --------------------------------------------------------------------------------------------
# ranking
# --------------------------------------------------------------------------------------------


def _frame(standard: str, district: str, view: str, areas: list[float]) -> pd.DataFrame:
    return pd.DataFrame({
        "standard": standard, "district": district, "view": view, "area_m2": areas,
        "population": [a / 100 for a in areas],
        "geometry": [shapely.box(0, 0, a**0.5, a**0.5) for a in areas],
    })


def test_rank_gaps_largest_first_within_each_group():
    frames = [_frame("park_500", "B", "buffer", [30.0, 500.0, 70.0]),
              _frame("park_500", "A", "buffer", [20.0, 90.0]),
              _frame("park_500", "A", "network", [5.0]),
              _frame("bus_stop_500", "A", "buffer", []),
              _frame("bus_stop_500", "B", "buffer", [1.0, 2.0])]
    out = rank_gaps(frames, CRS)
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == CRS
    assert list(out.columns) == [*GAP_COLUMNS, "geometry"]
    got = list(zip(out["standard"], out["district"], out["view"], out["rank"], out["area_m2"],
                   strict=True))
    assert got == [
        ("bus_stop_500", "B", "buffer", 1, 2.0), ("bus_stop_500", "B", "buffer", 2, 1.0),
        ("park_500", "A", "buffer", 1, 90.0), ("park_500", "A", "buffer", 2, 20.0),
        ("park_500", "A", "network", 1, 5.0),
        ("park_500", "B", "buffer", 1, 500.0), ("park_500", "B", "buffer", 2, 70.0),
        ("park_500", "B", "buffer", 3, 30.0),
    ]
    # each row keeps its own geometry and population
    assert np.allclose(out.geometry.area, out["area_m2"])
    assert np.allclose(out["population"], out["area_m2"] / 100)
    assert out["rank"].dtype == np.int64


def test_rank_gaps_of_nothing_is_an_empty_table_with_the_columns():
    out = rank_gaps([], CRS)
    assert len(out) == 0 and list(out.columns) == [*GAP_COLUMNS, "geometry"]
    assert out["rank"].dtype == np.int64 and out["area_m2"].dtype == np.float64
    assert out.crs == CRS


def test_street_gaps_merged_ranked_and_short_ones_dropped():
    # three 25 m pieces end to end (one 75 m stretch), one 40 m piece elsewhere, one 3 m stub
    pieces = np.array([shapely.LineString([(0, 0), (25, 0)]),
                       shapely.LineString([(25, 0), (50, 0)]),
                       shapely.LineString([(50, 0), (75, 0)]),
                       shapely.LineString([(0, 100), (40, 100)]),
                       shapely.LineString([(500, 0), (503, 0)])], dtype=object)
    lines, length = street_gap_lines(pieces)
    assert sorted(length.tolist()) == pytest.approx([40.0, 75.0])
    frame = pd.DataFrame({"standard": "toilet_main_300", "district": "A", "view": "buffer",
                          "length_m": length, "geometry": lines})
    out = rank_street_gaps([frame], CRS)
    assert out["length_m"].tolist() == pytest.approx([75.0, 40.0])
    assert out["rank"].tolist() == [1, 2]
    assert out.geometry.iloc[0].bounds == pytest.approx((0, 0, 75, 0))
    empty_lines, empty_length = street_gap_lines(np.array([], dtype=object))
    assert len(empty_lines) == 0 and len(empty_length) == 0
