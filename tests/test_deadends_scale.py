"""The dead-end steps that grew faster than the city give the plain recipe's answers.

``edge_distance`` (which ends lie near the data's edge) measures only the points its prepared
outline and area pick out; ``_residential_share`` takes each circle's polygons as one slice of
the sorted query pairs. Both are checked here against the plain recipe they replaced, written
out in the test, to the last bit.
"""

from __future__ import annotations

import numpy as np
import shapely

from geoplan.deadends.candidates import _residential_share
from geoplan.deadends.detect import edge_distance


def _jagged_area(rng: np.random.Generator) -> shapely.Polygon:
    """A star-like polygon with 1,200 vertices and a hole (an extent outline is like this)."""
    angle = np.linspace(0, 2 * np.pi, 1200, endpoint=False)
    radius = 1000 + rng.uniform(-40, 40, len(angle))
    shell = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    hole = [(-100, -100), (100, -100), (100, 100), (-100, 100)]
    return shapely.Polygon(shell, [hole])


def test_edge_distance_equals_distance_to_the_whole_outline() -> None:
    rng = np.random.default_rng(7)
    area = _jagged_area(rng)
    pts = shapely.points(rng.uniform(-1200, 1200, (1500, 2)))
    for tol in (0.0, 15.0, 60.0):
        near, outside, d = edge_distance(pts, area, tol)
        plain = shapely.distance(pts, area.boundary)
        np.testing.assert_array_equal(near, plain <= tol)
        np.testing.assert_array_equal(outside, ~shapely.covers(area, pts))
        known = ~np.isnan(d)
        assert (known[near | outside]).all()
        np.testing.assert_array_equal(d[known], plain[known])  # bit for bit
        assert (plain[~known] > tol).all()
    assert near.any() and outside.any() and (~near & ~outside).any()
    assert not shapely.is_prepared(area) and not shapely.is_prepared(area.boundary)


def test_edge_distance_points_on_the_outline_and_at_tol() -> None:
    area = shapely.box(0, 0, 100, 50)
    pts = shapely.points([(0, 25), (10, 25), (50, 25), (100, 0), (-10, 25), (110.0, 50)])
    near, outside, d = edge_distance(pts, area, 10.0)
    np.testing.assert_array_equal(near, [True, True, False, True, True, True])
    np.testing.assert_array_equal(outside, [False, False, False, False, True, True])
    np.testing.assert_array_equal(d[[0, 1, 3, 4, 5]], [0.0, 10.0, 0.0, 10.0, 10.0])


def test_residential_share_equals_the_per_circle_mask() -> None:
    import geopandas as gpd

    rng = np.random.default_rng(3)
    centres = rng.uniform(0, 2000, (60, 2))
    polys = shapely.buffer(shapely.points(centres), rng.uniform(20, 120, len(centres)))
    residential = gpd.GeoDataFrame(geometry=polys)
    ends = shapely.points(rng.uniform(-400, 2400, (500, 2)))
    got = _residential_share(ends, residential, 150.0)
    # the plain recipe: every circle's polygons picked out of all pairs by a mask
    circles = shapely.buffer(ends, 150.0, quad_segs=16)
    i_c, i_p = shapely.STRtree(polys).query(circles, predicate="intersects")
    want = np.zeros(len(ends))
    for i in np.unique(i_c):
        covered = shapely.intersection(shapely.union_all(polys[i_p[i_c == i]]), circles[i])
        want[i] = shapely.area(covered) / shapely.area(circles[i])
    np.testing.assert_array_equal(got, np.clip(want, 0.0, 1.0))
    assert (got > 0).sum() > 50 and (got == 0).sum() > 50
    # no polygon near any end: every share 0 (the query finds no pair at all)
    far = _residential_share(shapely.points([[1e5, 1e5], [-1e5, 0.0]]), residential, 150.0)
    np.testing.assert_array_equal(far, [0.0, 0.0])
