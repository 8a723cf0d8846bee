"""``parts_inside``: the pairwise cut, with geometries inside kept whole."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, box

from geoplan._clip import parts_inside


def test_parts_inside_cuts_only_what_crosses_and_leaves_areas_unprepared():
    square = box(0, 0, 10, 10)
    lines = np.array([LineString([(1, 1), (9, 1)]),           # inside: 8
                      LineString([(5, 5), (15, 5)]),          # crosses: 5 inside
                      LineString([(20, 20), (30, 20)]),       # outside: nothing
                      LineString([(2, 2), (8, 2), (4, 2)])],  # inside, runs back over itself
                     dtype=object)
    areas = np.array([square] * 4, dtype=object)
    parts = parts_inside(lines, areas)
    assert parts[0] is lines[0]
    # the line run back over itself is cut as the plain cut does: 6, not 10
    np.testing.assert_allclose(shapely.length(parts), [8, 5, 0, 6])
    np.testing.assert_array_equal(shapely.length(parts),
                                  shapely.length(shapely.intersection(lines, areas)))
    assert not shapely.is_prepared(square)
    assert parts_inside(np.zeros(0, dtype=object), np.zeros(0, dtype=object)).shape == (0,)


def test_polygonal_keeps_the_areas_of_every_collection():
    from geoplan._clip import polygonal

    square, far = box(0, 0, 1, 1), box(5, 5, 7, 7)
    stroke = LineString([(0, 0), (9, 9)])
    geoms = np.array([
        shapely.GeometryCollection([square, stroke]),
        shapely.GeometryCollection([stroke, shapely.Point(3, 3)]),  # no area between two with
        shapely.GeometryCollection([shapely.MultiPolygon([square, far]), stroke]),  # nested
        far,
    ], dtype=object)
    out = polygonal(geoms)
    assert shapely.area(out).tolist() == [1.0, 0.0, 5.0, 4.0]
    assert [g.geom_type for g in out] == ["MultiPolygon", "Polygon", "MultiPolygon", "Polygon"]
    assert out[3] is geoms[3]  # not a collection: left as it is
    assert polygonal(np.array([square], dtype=object))[0] is square
