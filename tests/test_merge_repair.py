"""Merging duplicate points (geoplan.layers.merge) and repairing geometries (geoplan.layers.repair)."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geoplan.layers.merge import merge_points
from geoplan.layers.repair import IssueLog, repair

CRS = "EPSG:32648"
X0, Y0 = 400_000.0, 3_390_000.0


def stops(rows: list[tuple[float, float, str | None, str]]) -> gpd.GeoDataFrame:
    """Bus stops at local (x, y) with a name (None: unnamed) and a source id."""
    return gpd.GeoDataFrame(
        {"name": [r[2] for r in rows], "source_id": [r[3] for r in rows],
         "n_merged": 1, "members": ""},
        geometry=gpd.points_from_xy([X0 + r[0] for r in rows], [Y0 + r[1] for r in rows]),
        crs=CRS)


def local_xy(gdf: gpd.GeoDataFrame) -> list[tuple[float, float]]:
    return [(round(x - X0, 9), round(y - Y0, 9)) for x, y in zip(gdf.geometry.x, gdf.geometry.y,
                                                                  strict=True)]


# --------------------------------------------------------------------------------------------
# merge_points
# --------------------------------------------------------------------------------------------


def test_two_stops_5_m_apart_with_one_name_merge_at_their_mean():
    # a platform and a stop position of 人民公园站, 5 m apart (3-4-5 triangle), merged at the
    # midpoint (1.5, 2); a third stop 300 m away stays alone
    got = merge_points(stops([(0, 0, "人民公园站", "n1"), (3, 4, "人民公园站", "n2"),
                              (300, 0, "文殊院站", "n3")]), 10.0)
    assert got["name"].tolist() == ["人民公园站", "文殊院站"]
    assert local_xy(got) == [(1.5, 2.0), (300.0, 0.0)]
    assert got["members"].tolist() == ["n1;n2", "n3"]
    assert got["n_merged"].tolist() == [2, 1]
    assert got.crs == CRS


def test_different_names_stay_apart():
    # two stops 5 m apart on either side of a road, each with its own name
    got = merge_points(stops([(0, 0, "东站", "a"), (3, 4, "西站", "b")]), 10.0)
    assert got["name"].tolist() == ["东站", "西站"]
    assert local_xy(got) == [(0.0, 0.0), (3.0, 4.0)]
    assert got["n_merged"].tolist() == [1, 1]


def test_an_unnamed_point_joins_a_named_one_and_the_name_is_kept():
    # the unnamed pole comes first in the data, the named platform 6 m east second: one stop,
    # named after the platform, at (3, 0), with the platform's attributes
    got = merge_points(stops([(0, 0, None, "pole"), (6, 0, "春熙路站", "platform")]), 10.0)
    assert len(got) == 1
    assert got["name"].iloc[0] == "春熙路站" and got["source_id"].iloc[0] == "platform"
    assert local_xy(got) == [(3.0, 0.0)]
    assert got["members"].iloc[0] == "pole;platform"


def test_two_names_never_merge_through_an_unnamed_point():
    # 东站 at 0 m, an unnamed pole at 6 m, 西站 at 14 m: the pole is within 10 m of both; it
    # joins the nearer 东站 and 西站 stays a stop of its own
    got = merge_points(stops([(0, 0, "东站", "a"), (6, 0, None, "pole"), (14, 0, "西站", "b")]),
                       10.0)
    assert got["name"].tolist() == ["东站", "西站"]
    assert got["members"].tolist() == ["a;pole", "b"]
    assert local_xy(got) == [(3.0, 0.0), (14.0, 0.0)]


def test_points_beyond_the_distance_do_not_merge():
    # 10.5 m apart with a 10 m merge distance; a chain of three 8 m apart merges as one
    assert len(merge_points(stops([(0, 0, "A", "1"), (10.5, 0, "A", "2")]), 10.0)) == 2
    chain = merge_points(stops([(0, 0, "A", "1"), (8, 0, "A", "2"), (16, 0, "A", "3")]), 10.0)
    assert local_xy(chain) == [(8.0, 0.0)] and chain["n_merged"].tolist() == [3]


def test_merge_agrees_with_a_brute_force_grouping():
    # random stops with three names; group by hand: link pairs closer than d whose names agree
    # (or one is empty), take connected groups with a union-find loop, split them by name
    rng = np.random.default_rng(4)
    n, d = 200, 15.0
    xy = rng.uniform(0, 400, (n, 2))
    names = rng.choice(["A", "B", "", "C"], n)
    rows = [(x, y, nm or None, f"s{i}") for i, ((x, y), nm) in enumerate(zip(xy, names,
                                                                            strict=True))]
    got = merge_points(stops(rows), d)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            near = np.hypot(*(xy[i] - xy[j])) <= d
            if near and (names[i] == "" or names[j] == "" or names[i] == names[j]):
                parent[find(i)] = find(j)
    linked: dict[int, list[int]] = {}
    for i in range(n):
        linked.setdefault(find(i), []).append(i)
    # a linked group with several names is split by name; each unnamed member goes with the
    # nearest named member
    groups: dict[object, list[int]] = {}
    for root, members in linked.items():
        named = [i for i in members if names[i]]
        if len({names[i] for i in named}) < 2:
            groups[root] = members
            continue
        for i in members:
            owner = i if names[i] else min(named, key=lambda k: np.hypot(*(xy[i] - xy[k])))
            groups.setdefault((root, names[owner]), []).append(i)
    want = sorted(";".join(f"s{i}" for i in g) for g in groups.values())
    assert sorted(got["members"]) == want
    centre = {";".join(f"s{i}" for i in g): xy[g].mean(axis=0) for g in groups.values()}
    for members, x, y in zip(got["members"], got.geometry.x, got.geometry.y, strict=True):
        assert (x - X0, y - Y0) == pytest.approx(tuple(centre[members]), abs=1e-6)


def test_fewer_than_two_points_are_returned_as_given():
    one = stops([(0, 0, "A", "1")])
    assert merge_points(one, 10.0) is one


# --------------------------------------------------------------------------------------------
# repair
# --------------------------------------------------------------------------------------------


def layer(geoms: list[shapely.Geometry | None]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"source": "test.gpkg", "name": [f"f{i}" for i in range(len(geoms))]},
                            geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)


def test_a_bow_tie_park_is_repaired_into_its_two_triangles(caplog):
    # the ring (0,0) → (10,10) → (10,0) → (0,10) crosses itself at (5,5): two triangles of
    # 5 × 10 / 2 = 25 m² each, 50 m² in all (shapely's signed area of the bow-tie ring is 0)
    bow_tie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    square = shapely.box(20, 0, 30, 10)
    assert not bow_tie.is_valid
    issues = IssueLog()
    with caplog.at_level(logging.INFO, logger="geoplan.layers.repair"):
        out = repair(layer([bow_tie, square]), "parks", issues)
    assert len(out) == 2 and out.geometry.is_valid.all()
    assert out.geometry.iloc[0].geom_type == "MultiPolygon"
    assert out.geometry.iloc[0].area == pytest.approx(50.0, abs=1e-9)
    assert shapely.equals(out.geometry.iloc[1], square)
    assert out["name"].tolist() == ["f0", "f1"]
    log = issues.frame()
    assert log.to_dict("records") == [
        {"layer": "parks", "source": "test.gpkg",
         "issue": "invalid geometry (self-intersection etc.)", "count": 1, "action": "repaired"}]
    assert any("parks (test.gpkg): 1 feature(s) repaired" in m for m in caplog.messages)


def test_a_wrong_geometry_family_is_rejected_and_counted(caplog):
    # a park layer given a point, a line, an empty polygon and no geometry: only the real park
    # is kept; the two of the wrong family and the two missing ones are rejected, with a warning
    rows = [shapely.box(0, 0, 10, 10), shapely.Point(5, 5),
            shapely.LineString([(0, 0), (1, 1)]), shapely.Polygon(), None]
    issues = IssueLog()
    with caplog.at_level(logging.WARNING, logger="geoplan.layers.repair"):
        out = repair(layer(rows), "parks", issues)
    assert out["name"].tolist() == ["f0"]
    log = issues.frame()
    assert log["action"].tolist() == ["rejected", "rejected"] and log["count"].tolist() == [2, 2]
    assert log["issue"].iloc[0] == "missing or empty geometry"
    assert log["issue"].iloc[1].startswith("not a") and "area" in log["issue"].iloc[1]
    assert sum("rejected" in m for m in caplog.messages) == 2


def test_areas_given_for_a_point_layer_become_a_point_inside():
    # a toilet mapped as a building outline: a point inside it; a multi-point split in two
    outline = shapely.Polygon([(0, 0), (10, 0), (10, 2), (2, 2), (2, 10), (0, 10)])  # an L
    rows = [outline, shapely.MultiPoint([(50, 50), (60, 60)]), shapely.Point(1, 1)]
    issues = IssueLog()
    out = repair(layer(rows), "toilets", issues)
    assert list(out.geom_type) == ["Point"] * 4
    assert shapely.contains(outline, out.geometry.iloc[0])  # inside the L, not its centroid
    assert out["name"].tolist() == ["f0", "f1", "f1", "f2"]
    assert [(r["issue"], r["count"]) for r in issues.frame().to_dict("records")] == [
        ("area or line given for a point layer: point inside used", 1),
        ("multi-point split into points", 1)]


def test_multi_lines_are_split_and_a_valid_layer_is_untouched():
    multi = shapely.MultiLineString([[(0, 0), (10, 0)], [(20, 0), (30, 0)]])
    issues = IssueLog()
    out = repair(layer([multi, shapely.LineString([(0, 5), (10, 5)])]), "roads", issues)
    assert out.geometry.length.tolist() == [10.0, 10.0, 10.0]
    assert out["name"].tolist() == ["f0", "f0", "f1"]
    assert issues.frame()["issue"].tolist() == ["multi-line split into lines"]
    clean = IssueLog()
    same = repair(layer([shapely.box(0, 0, 1, 1)]), "parks", clean)
    assert len(same) == 1 and len(clean.frame()) == 0


@pytest.mark.parametrize(("kind", "geoms"), [
    ("bus_stops", [shapely.Point(0, 0), shapely.Point(5, 5)]),
    ("roads", [shapely.LineString([(0, 0), (10, 0)]), shapely.LineString([(0, 5), (9, 7)])]),
    ("parks", [shapely.box(0, 0, 1, 1),
               shapely.MultiPolygon([shapely.box(2, 2, 3, 3), shapely.box(5, 5, 6, 6)])]),
    ("schools", [shapely.Point(0, 0), shapely.box(2, 2, 3, 3)]),
])
@pytest.mark.parametrize("index", [None, [7, 3], ["a", "b"]])
def test_a_clean_layer_comes_back_as_the_full_repair_gives_it(monkeypatch, kind, geoms, index):
    # clean frames skip the repair's steps: the same frame as going through them, whatever
    # the index and the geometry column's name
    from geopandas.testing import assert_geodataframe_equal

    import geoplan.layers.repair as repair_module

    frame = layer(geoms)
    if index is not None:
        frame.index = index
    renamed = frame.rename_geometry("geom")
    fast = [repair(f, kind, IssueLog()) for f in (frame, renamed)]
    monkeypatch.setattr(repair_module, "_already_clean", lambda geoms, family: False)
    full = [repair(f, kind, IssueLog()) for f in (frame, renamed)]
    for a, b in zip(fast, full, strict=True):
        assert_geodataframe_equal(a, b)
    assert fast[1].geometry.name == "geom"


@pytest.mark.parametrize(("kind", "geom"), [
    ("bus_stops", shapely.MultiPoint([(0, 0), (1, 1)])),
    ("roads", shapely.MultiLineString([[(0, 0), (1, 0)], [(2, 0), (3, 0)]])),
    ("parks", shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])),  # a bow tie: invalid
    ("parks", shapely.Point(0, 0)),
    ("roads", shapely.LineString()),
    ("roads", None),
])
def test_a_layer_with_one_feature_to_repair_is_not_taken_for_clean(kind, geom):
    from geoplan.layers.repair import _already_clean
    from geoplan.vocab import GEOMETRY

    good = {"point": shapely.Point(5, 5), "line": shapely.LineString([(0, 5), (1, 5)]),
            "area": shapely.box(5, 5, 6, 6)}[GEOMETRY[kind]]
    assert _already_clean(np.array([good, good], dtype=object), GEOMETRY[kind])
    assert not _already_clean(np.array([good, geom], dtype=object), GEOMETRY[kind])
