"""Covered fraction of demand pieces by exact overlay (geoplan.coverage.buffers), by hand."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geoplan.coverage.buffers import (
    QUAD_SEGS,
    covered_fraction,
    fractions_and_contact,
    served_area,
    union_of_buffers,
)

# plain local coordinates: covered_fraction works on bare geometries, without a CRS
SERVED = shapely.box(0, 0, 100, 100)


def test_area_pieces_inside_outside_and_across():
    pieces = np.array([
        shapely.box(10, 10, 20, 20),      # wholly inside -> 1
        shapely.box(200, 200, 210, 210),  # wholly outside -> 0
        shapely.box(90, 0, 110, 100),     # half across the east edge: 10 × 100 of 20 × 100 -> 0.5
        shapely.box(0, 0, 10, 10),        # inside, touching the edge from within -> 1
        shapely.box(100, 0, 110, 10),     # outside, touching the edge from without -> 0
        shapely.box(75, 75, 125, 125),    # a quarter in the corner: 25 × 25 of 50 × 50 -> 0.25
    ], dtype=object)
    got = covered_fraction(pieces, SERVED)
    assert got == pytest.approx([1.0, 0.0, 0.5, 1.0, 0.0, 0.25], abs=1e-12)


def test_line_pieces_by_length():
    pieces = np.array([
        shapely.LineString([(10, 50), (90, 50)]),             # inside -> 1
        shapely.LineString([(50, 50), (150, 50)]),            # 50 of 100 m inside -> 0.5
        shapely.LineString([(-30, 50), (130, 50)]),           # 100 of 160 m -> 0.625
        shapely.LineString([(90, 50), (110, 50), (110, 90)]),  # 10 of 20 + 40 = 60 m -> 1/6
        shapely.LineString([(0, 200), (100, 200)]),           # outside -> 0
    ], dtype=object)
    got = covered_fraction(pieces, SERVED, linear=True)
    assert got == pytest.approx([1.0, 0.5, 0.625, 1 / 6, 0.0], abs=1e-12)


def test_which_pieces_meet_the_served_area_at_all():
    pieces = np.array([
        shapely.LineString([(50, 50), (150, 50)]),    # half inside
        shapely.LineString([(100, 0), (200, -50)]),  # touches the corner (100, 0) only
        shapely.LineString([(0, 200), (100, 200)]),  # 100 m away
        shapely.LineString([(10, 50), (90, 50)]),    # inside
    ], dtype=object)
    frac, met = fractions_and_contact(pieces, SERVED, linear=True)
    assert frac == pytest.approx([0.5, 0.0, 0.0, 1.0], abs=1e-12)
    assert met.tolist() == [True, True, False, True]
    frac, met = fractions_and_contact(pieces, shapely.Polygon(), linear=True)
    assert frac.tolist() == [0.0] * 4 and met.tolist() == [False] * 4


def test_a_piece_across_two_parts_of_the_served_area_adds_both():
    # two served squares 50 m apart; the piece spans both: 50 × 100 + 50 × 100 of 150 × 100
    served = shapely.MultiPolygon([shapely.box(0, 0, 100, 100), shapely.box(150, 0, 250, 100)])
    piece = np.array([shapely.box(50, 0, 200, 100)], dtype=object)
    assert covered_fraction(piece, served) == pytest.approx([2 / 3], abs=1e-12)
    street = np.array([shapely.LineString([(50, 50), (200, 50)])], dtype=object)
    assert covered_fraction(street, served, linear=True) == pytest.approx([2 / 3], abs=1e-12)


def test_a_served_area_with_a_hole():
    # a 100 m square with a 40 m hole in the middle; the piece is the whole square: 1 − 0.16
    served = shapely.difference(SERVED, shapely.box(30, 30, 70, 70))
    pieces = np.array([shapely.box(0, 0, 100, 100), shapely.box(40, 40, 60, 60)], dtype=object)
    assert covered_fraction(pieces, served) == pytest.approx([0.84, 0.0], abs=1e-12)


def test_nothing_served_or_nothing_to_cover():
    pieces = np.array([shapely.box(0, 0, 1, 1)], dtype=object)
    assert covered_fraction(pieces, shapely.Polygon()).tolist() == [0.0]
    assert covered_fraction(pieces, None).tolist() == [0.0]
    assert covered_fraction(np.array([], dtype=object), SERVED).tolist() == []


def test_covered_fraction_agrees_with_plain_intersection():
    # independent answer: intersect every piece with the whole served area, one at a time
    rng = np.random.default_rng(5)
    centres = rng.uniform(0, 1000, (30, 2))
    served = shapely.union_all(shapely.buffer(shapely.points(centres), 120.0, quad_segs=8))
    xy = rng.uniform(-100, 1100, (300, 2))
    size = rng.uniform(5, 200, (300, 2))
    pieces = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + size[:, 0], xy[:, 1] + size[:, 1])
    want = [shapely.intersection(p, served).area / p.area for p in pieces]
    assert covered_fraction(pieces, served) == pytest.approx(want, abs=1e-9)
    ends = xy + rng.uniform(-150, 150, (300, 2))
    lines = shapely.linestrings(np.stack([xy, ends], axis=1))
    want = [shapely.intersection(s, served).length / s.length for s in lines]
    assert covered_fraction(lines, served, linear=True) == pytest.approx(want, abs=1e-9)


def test_union_of_buffers_skips_bad_radii_and_served_area_intersects():
    pts = shapely.points([(0, 0), (1000, 0), (5000, 0)])
    union = union_of_buffers(pts, np.array([100.0, np.nan, 0.0]))
    # only the first point has a usable radius: one regular n-gon inscribed in the 100 m circle,
    # n = 4 × QUAD_SEGS = 128, of area n/2 × r² × sin(2π/n), 0.04 % below π r²
    n = 4 * QUAD_SEGS
    assert union.area == pytest.approx(n / 2 * 100**2 * np.sin(2 * np.pi / n), rel=1e-12)
    assert union.area == pytest.approx(np.pi * 100**2, rel=5e-4)
    assert union.bounds == pytest.approx((-100, -100, 100, 100))
    a = shapely.box(0, 0, 10, 10)
    b = shapely.box(5, 0, 15, 10)
    assert served_area([a, b]).area == pytest.approx(50.0)
    assert served_area([a, shapely.Polygon(), b]).is_empty
    assert served_area([]).is_empty
