"""Where facilities are reached (geoplan.coverage.access), on hand-built facilities.

A point facility is reached at itself; a park at its tagged entrances; a park without entrances
at points every 50 m along its boundary, kept where a walkway passes within 30 m.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geoplan.coverage.access import access_points, boundary_points
from tests._synthetic import X0, Y0, P, frame, line


def poly(*pts: tuple[float, float]) -> shapely.Polygon:
    """A polygon through local coordinates, its exterior ring starting at the first point."""
    return shapely.Polygon([(X0 + x, Y0 + y) for x, y in pts])


# a 200 m square park whose ring starts at its south-west corner and runs east first
PARK = poly((0, 0), (200, 0), (200, 200), (0, 200))


def local(points: np.ndarray) -> list[tuple[float, float]]:
    xy = shapely.get_coordinates(points)
    return [(round(x - X0, 6), round(y - Y0, 6)) for x, y in xy]


def test_point_facilities_are_reached_at_themselves():
    toilets = frame("toilets", [P(10, 20), P(300, -40)])
    pts, owner, how = access_points(toilets)
    assert local(pts) == [(10.0, 20.0), (300.0, -40.0)]
    assert owner.tolist() == [0, 1]
    assert how.tolist() == ["point", "point"]
    # the same objects, not copies moved somewhere
    assert all(shapely.equals(a, b) for a, b in zip(pts, toilets.geometry, strict=True))


def test_no_facilities_gives_empty_arrays():
    pts, owner, how = access_points(frame("toilets", []))
    assert len(pts) == len(owner) == len(how) == 0
    assert owner.dtype == np.int64


def test_park_with_a_tagged_entrance_is_reached_only_there():
    # one entrance 10 m outside the west edge (within 20 m of the boundary), one 25 m off the
    # east edge (too far: belongs to something else), one in the middle of the park (95 m from
    # every edge: not on the boundary)
    entrances = frame("entrances", [P(-10, 100), P(225, 100), P(100, 105)])
    walkways = frame("walkways", [line((-50, -20), (250, -20))])
    pts, owner, how = access_points(frame("parks", [PARK]), entrances, walkways)
    assert local(pts) == [(-10.0, 100.0)]
    assert owner.tolist() == [0] and how.tolist() == ["entrance"]


def test_park_without_entrances_is_reached_along_its_boundary_near_walkways():
    # boundary points every 50 m along the 800 m ring, from (0, 0): 16 points. A walkway runs
    # 20 m south of the south edge: only the five points on that edge (y = 0) are within 30 m;
    # the next ones up the sides, (0, 50) and (200, 50), are 70 m away
    walkways = frame("walkways", [line((-100, -20), (300, -20))])
    pts, owner, how = access_points(frame("parks", [PARK]), None, walkways)
    assert sorted(local(pts)) == [(0.0, 0.0), (50.0, 0.0), (100.0, 0.0), (150.0, 0.0),
                                  (200.0, 0.0)]
    assert set(how) == {"boundary"} and set(owner) == {0}
    # never the centroid
    assert (100.0, 100.0) not in local(pts)


def test_park_far_from_every_walkway_keeps_all_boundary_points():
    walkways = frame("walkways", [line((1000, 1000), (1100, 1000))])
    pts, _, how = access_points(frame("parks", [PARK]), None, walkways)
    assert len(pts) == 16 and set(how) == {"boundary"}
    pts_no_walkways, _, _ = access_points(frame("parks", [PARK]))
    assert sorted(local(pts_no_walkways)) == sorted(local(pts))


def test_mixed_rows_keep_their_row_positions():
    # row 0: a park with an entrance; row 1: a point; row 2: a park without entrance (boundary)
    small = poly((1000, 0), (1100, 0), (1100, 100), (1000, 100))  # 400 m ring: 8 points
    parks = frame("parks", [PARK, P(500, 500), small])  # row 1: a park mapped as a node only
    entrances = frame("entrances", [P(200, 100)])
    pts, owner, how = access_points(parks, entrances)
    by_row = {r: [h for h, o in zip(how, owner, strict=True) if o == r] for r in range(3)}
    assert by_row == {0: ["entrance"], 1: ["point"], 2: ["boundary"] * 8}
    assert local(pts[owner == 1]) == [(500.0, 500.0)]


def test_boundary_points_by_hand():
    # a 100 × 50 rectangle: 300 m ring, step 50 -> 6 points, one at each corner and one in the
    # middle of each long side
    rect = poly((0, 0), (100, 0), (100, 50), (0, 50))
    pts, owner = boundary_points(np.array([rect]))
    assert local(pts) == [(0, 0), (50, 0), (100, 0), (100, 50), (50, 50), (0, 50)]
    assert owner.tolist() == [0] * 6
    # a ring that the step does not divide: 50 + 30 + 50 + 30 = 160 m -> ceil(160 / 50) = 4
    # points, spread evenly 40 m apart (not 50, 50, 50 and a 10 m stub)
    odd = poly((0, 0), (50, 0), (50, 30), (0, 30))
    pts, _ = boundary_points(np.array([odd]))
    assert len(pts) == 4
    ring = shapely.get_exterior_ring(odd)
    assert shapely.line_locate_point(ring, pts).tolist() == pytest.approx([0, 40, 80, 120])


def test_boundary_points_of_multipolygons_belong_to_their_row():
    a = poly((0, 0), (50, 0), (50, 50), (0, 50))  # 200 m ring: 4 points
    b = poly((100, 0), (125, 0), (125, 25), (100, 25))  # 100 m ring: 2 points
    pts, owner = boundary_points(np.array([shapely.MultiPolygon([a, b]), a], dtype=object))
    assert owner.tolist() == [0] * 6 + [1] * 4
    assert len(pts) == 10
    empty_pts, empty_owner = boundary_points(np.array([], dtype=object))
    assert len(empty_pts) == 0 and len(empty_owner) == 0
