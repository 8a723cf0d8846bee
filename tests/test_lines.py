"""Cutting lines between two distances along them (geoplan._lines.line_substrings)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.ops import substring

from geoplan._lines import interpolate_xy, line_substrings

# an L: 100 m east, then 100 m north (3 vertices, 200 m)
ELL = shapely.LineString([(0, 0), (100, 0), (100, 100)])


def test_three_vertex_line_cut_between_50_and_150_m():
    # from 50 m along the first leg to 50 m up the second: (50, 0) → the corner → (100, 50),
    # 50 + 50 = 100 m long, the corner kept as a vertex
    (cut,) = line_substrings(np.array([ELL]), np.array([50.0]), np.array([150.0]))
    assert shapely.get_coordinates(cut).tolist() == [[50.0, 0.0], [100.0, 0.0], [100.0, 50.0]]
    assert cut.length == pytest.approx(100.0, abs=1e-12)


def test_cuts_within_one_segment_and_of_the_whole_line():
    lines = np.array([ELL, ELL, ELL], dtype=object)
    a = np.array([10.0, 0.0, 120.0])
    b = np.array([40.0, 200.0, 180.0])
    got = line_substrings(lines, a, b)
    # 10..40 m: a straight 30 m piece of the first leg, no vertex inside
    assert shapely.get_coordinates(got[0]).tolist() == [[10.0, 0.0], [40.0, 0.0]]
    # 0..200 m: the whole line, vertex for vertex
    assert shapely.get_coordinates(got[1]).tolist() == [[0, 0], [100, 0], [100, 100]]
    # 120..180 m: on the second leg only
    assert shapely.get_coordinates(got[2]).tolist() == [[100.0, 20.0], [100.0, 80.0]]
    assert shapely.length(got).tolist() == pytest.approx([30.0, 200.0, 60.0], abs=1e-12)


def test_a_cut_at_a_vertex_does_not_repeat_it():
    # 100 m is exactly the corner: the start point is the corner, not corner + corner
    (cut,) = line_substrings(np.array([ELL]), np.array([100.0]), np.array([150.0]))
    assert shapely.get_coordinates(cut).tolist() == [[100.0, 0.0], [100.0, 50.0]]


def test_many_lines_of_different_lengths_agree_with_shapely_substring():
    # independent answer: shapely.ops.substring, one line at a time
    rng = np.random.default_rng(9)
    lines = []
    for k in range(60):
        n = rng.integers(2, 8)
        xy = np.cumsum(rng.uniform(-50, 50, (n, 2)), axis=0) + np.array([1000.0 * k, 0.0])
        lines.append(shapely.LineString(xy))
    lines_arr = np.array(lines, dtype=object)
    length = shapely.length(lines_arr)
    a = rng.uniform(0, 0.5, 60) * length
    b = a + rng.uniform(0.01, 1.0, 60) * (length - a)
    got = line_substrings(lines_arr, a, b)
    assert shapely.length(got) == pytest.approx(b - a, rel=1e-9)
    for g, line, s, e in zip(got, lines, a, b, strict=True):
        want = substring(line, s, e)
        assert shapely.get_coordinates(g) == pytest.approx(shapely.get_coordinates(want),
                                                           abs=1e-6)


def _layout(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xy, gi = shapely.get_coordinates(lines, return_index=True)
    count = np.bincount(gi, minlength=len(lines))
    return xy, np.concatenate([[0], np.cumsum(count)[:-1]]), count


def test_interpolate_xy_on_paper():
    # along the L: 50 m → (50, 0); 150 m → (100, 50); 0 → start; 200 and 250 m → the end;
    # a two-point diagonal 3-4-5: 2.5 m → (1.5, 2)
    diag = shapely.LineString([(0, 0), (3, 4)])
    lines = np.array([ELL, ELL, ELL, ELL, ELL, diag], dtype=object)
    xy, first, count = _layout(lines)
    got = interpolate_xy(xy, first, count, np.array([50.0, 150.0, 0.0, 200.0, 250.0, 2.5]))
    assert got.tolist() == [[50, 0], [100, 50], [0, 0], [100, 100], [100, 100], [1.5, 2.0]]


def test_interpolate_xy_is_geos_bit_for_bit():
    # against the method it replaces: shapely.line_interpolate_point, coordinates equal exactly
    # (random lines of 2 to 12 vertices, random distances, the ends, beyond, at vertices)
    rng = np.random.default_rng(4)
    lines = []
    for k in range(400):
        n = int(rng.integers(2, 13))
        xy = np.cumsum(rng.uniform(-60, 60, (n, 2)), axis=0) + np.array([400_000.0 + 7.3 * k,
                                                                          3_400_000.0])
        lines.append(shapely.LineString(xy))
    arr = np.array(lines, dtype=object)
    length = shapely.length(arr)
    xy, first, count = _layout(arr)
    second = np.hypot(*(xy[first + 1] - xy[first]).T)  # the first vertex after the start
    for dist in (rng.uniform(0, 1, len(arr)) * length, np.zeros(len(arr)), length,
                 length * 1.5, second, np.full(len(arr), 1e-9)):
        want = shapely.get_coordinates(shapely.line_interpolate_point(arr, dist))
        assert np.array_equal(interpolate_xy(xy, first, count, dist), want)
