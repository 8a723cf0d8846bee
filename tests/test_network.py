"""Walking-network engine on hand-built graphs whose answers are worked out on paper.

All graphs are in EPSG:32648 (UTM 48N, metres) with coordinates offset to Chengdu's easting and
northing, so nothing depends on being near the origin.
"""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from geoplan._errors import CRSError, InputDataError
from geoplan.network import (
    Snapped,
    build_walk_graph,
    nearest_distance,
    nearest_distances,
    node_distance,
    reached_edges,
    snap_points,
    to_networkx,
)
from geoplan.network import snap as snapmod
from tests._walkways import CRS, X0, Y0, line, pts, random_planar_ways, ways


def node_at(g, x: float, y: float) -> int:
    hit = np.flatnonzero((g.node_x == X0 + x) & (g.node_y == Y0 + y))
    assert len(hit) == 1, f"no single node at {(x, y)}"
    return int(hit[0])


def grid(n: int = 5, step: float = 100.0) -> list[shapely.LineString]:
    """n rows and n columns, each one way through all its crossings (shared vertices)."""
    rows = [line(*[(i * step, j * step) for i in range(n)]) for j in range(n)]
    cols = [line(*[(i * step, j * step) for j in range(n)]) for i in range(n)]
    return rows + cols


# --- building ---------------------------------------------------------------------------------


def test_t_junction_splits_way_at_shared_vertex():
    g = build_walk_graph(ways(line((0, 0), (100, 0), (200, 0)), line((100, 0), (100, 100))))
    assert g.n_nodes == 4 and g.n_edges == 3
    assert sorted(g.edge_length.tolist()) == [100.0, 100.0, 100.0]
    assert g.edge_source.tolist().count(0) == 2 and g.edge_source.tolist().count(1) == 1
    j = node_at(g, 100, 0)
    assert np.count_nonzero((g.edge_u == j) | (g.edge_v == j)) == 3
    # geometries run u -> v
    for e in range(g.n_edges):
        x, y = shapely.get_coordinates(g.edge_geometry[e])[[0, -1]].T
        assert (x[0], y[0]) == (g.node_x[g.edge_u[e]], g.node_y[g.edge_u[e]])
        assert (x[1], y[1]) == (g.node_x[g.edge_v[e]], g.node_y[g.edge_v[e]])


def test_simplified_edges_keep_every_vertex():
    zigzag = line((0, 0), (30, 40), (60, 0), (90, 40))  # 3 segments of 50 m, no junction inside
    g = build_walk_graph(ways(zigzag, line((90, 40), (90, 140))))
    assert g.n_nodes == 3 and g.n_edges == 2
    e = int(np.flatnonzero(g.edge_source == 0)[0])
    assert g.edge_length[e] == pytest.approx(150.0)
    assert len(shapely.get_coordinates(g.edge_geometry[e])) == 4


def test_parallel_edges_use_the_shortest():
    h = math.sqrt(2.0**2 - 1.5**2)  # the bent way is exactly 4 m long
    g = build_walk_graph(ways(line((0, 0), (3, 0)), line((0, 0), (1.5, h), (3, 0)),
                              line((3, 0), (103, 0))))
    a, b, c = node_at(g, 0, 0), node_at(g, 3, 0), node_at(g, 103, 0)
    assert sorted(g.edge_length.tolist())[:2] == pytest.approx([3.0, 4.0])
    assert g.csr[a, b] == pytest.approx(3.0)  # not 7 (scipy would sum the duplicates)
    assert g.csr[b, a] == pytest.approx(3.0)
    src = Snapped.from_nodes(g, [a])
    d = node_distance(g, src, 1000)
    assert d[b] == pytest.approx(3.0) and d[c] == pytest.approx(103.0)
    tgt = snap_points(g, pts((53, 2)))
    assert nearest_distance(g, src, tgt, 1000)[0] == pytest.approx(53.0)
    assert to_networkx(g)[a][b]["length"] == pytest.approx(3.0)


def test_bridge_without_shared_vertex_does_not_connect():
    road = line((0, 0), (200, 0))
    bridge = line((100, -100), (100, 100))  # crosses the road at (100, 0), no shared vertex
    g = build_walk_graph(ways(road, bridge))
    assert g.n_nodes == 4 and g.n_edges == 2 and g.n_components == 2
    src = snap_points(g, pts((100, 90)), main_component_only=False)
    tgt = snap_points(g, pts((150, 0)), main_component_only=False)
    assert src.ok.all() and tgt.ok.all()
    assert np.isinf(nearest_distance(g, src, tgt, 10_000)[0])
    # the same crossing with a shared vertex connects: 90 m down the bridge, 50 m along the road
    g2 = build_walk_graph(ways(line((0, 0), (100, 0), (200, 0)), line((100, -100), (100, 0),
                                                                       (100, 100))))
    assert g2.n_components == 1
    d = nearest_distance(g2, snap_points(g2, pts((100, 90))), snap_points(g2, pts((150, 0))), 1e4)
    assert d[0] == pytest.approx(140.0)


def test_multilinestring_exploded_and_degenerate_parts_dropped():
    multi = shapely.MultiLineString(
        [[(X0, Y0), (X0 + 50, Y0)], [(X0 + 50, Y0), (X0 + 50, Y0 + 50)]]
    )
    dup = line((50, 50), (50, 50), (100, 50), (100, 50))  # repeated vertices
    point_like = line((7, 7), (7, 7))
    g = build_walk_graph(ways(multi, dup, point_like))
    assert g.n_edges == 3 and g.n_nodes == 4
    assert (g.edge_length > 0).all()
    assert sorted(g.edge_source.tolist()) == [0, 0, 1]
    d = nearest_distance(g, snap_points(g, pts((0, 0))), snap_points(g, pts((100, 50))), 1e4)
    assert d[0] == pytest.approx(150.0)


def test_ring_way_self_loop():
    ring = line((0, 0), (100, 0), (100, 100), (0, 100), (0, 0))  # 400 m closed way
    g = build_walk_graph(ways(ring, line((0, 0), (-100, 0))))
    assert g.n_nodes == 2 and g.n_edges == 2
    loop = int(np.flatnonzero(g.edge_u == g.edge_v)[0])
    assert g.edge_length[loop] == pytest.approx(400.0)
    assert g.csr.nnz == 2  # the self-loop is not in the matrix
    src = snap_points(g, pts((-100, 0)))
    tgt = snap_points(g, pts((100, 60), (30, 100)))  # 160 m and 130 m along the ring from (0,0)
    assert tgt.edge.tolist() == [loop, loop]
    np.testing.assert_allclose(nearest_distance(g, src, tgt, 1e4), [100 + 160, 100 + 130])


def test_geographic_or_missing_crs_refused():
    gdf = ways(line((0, 0), (1, 0)))
    with pytest.raises(CRSError):
        build_walk_graph(gdf.set_crs(None, allow_override=True))
    wgs = gpd.GeoDataFrame(geometry=[shapely.LineString([(104.0, 30.6), (104.1, 30.6)])],
                           crs="EPSG:4326")
    with pytest.raises(CRSError, match="geographic"):
        build_walk_graph(wgs)
    assert issubclass(CRSError, ValueError)


def test_non_line_geometry_refused():
    gdf = gpd.GeoDataFrame(geometry=[line((0, 0), (1, 0)), shapely.Point(X0, Y0)], crs=CRS)
    with pytest.raises(InputDataError):
        build_walk_graph(gdf)


# --- distances ---------------------------------------------------------------------------------


def test_straight_line_source_and_target_on_same_edge():
    g = build_walk_graph(ways(line((0, 0), (50, 0), (100, 0))))
    assert g.n_edges == 1
    src = snap_points(g, pts((30, 5)))
    tgt = snap_points(g, pts((80, -3), (10, 0), (30, 0), (0, 0)))
    assert src.offset[0] == pytest.approx(30.0) and src.distance[0] == pytest.approx(5.0)
    np.testing.assert_allclose(tgt.offset, [80, 10, 30, 0])
    np.testing.assert_allclose(nearest_distance(g, src, tgt, 1000), [50, 20, 0, 30])
    # two sources on the edge: each target takes the nearer one, in either direction
    src2 = snap_points(g, pts((30, 0), (90, 0)))
    np.testing.assert_allclose(nearest_distance(g, src2, tgt, 1000), [10, 20, 0, 30])


def test_t_junction_distances():
    g = build_walk_graph(ways(line((0, 0), (100, 0), (200, 0)), line((100, 0), (100, 100))))
    src = snap_points(g, pts((100, 60)))
    tgt = snap_points(g, pts((20, 0), (170, 2), (100, 30), (103, 95)))
    np.testing.assert_allclose(nearest_distance(g, src, tgt, 1000), [140, 130, 30, 35])


def test_grid_walking_distance_is_manhattan():
    g = build_walk_graph(ways(*grid(5, 100.0)))
    assert g.n_nodes == 25 and g.n_edges == 40
    src = snap_points(g, pts((0, 250)))  # on the x=0 column, between crossings
    targets = [(230, 100), (250, 300), (130, 400), (400, 370), (0, 0), (60, 200), (0, 275)]
    expect = [150 + 230, 50 + 250, 150 + 130, 120 + 400, 250, 50 + 60, 25]
    np.testing.assert_allclose(nearest_distance(g, src, snap_points(g, pts(*targets)), 1e4),
                               expect)
    # several sources: the minimum over them
    src2 = snap_points(g, pts((0, 250), (400, 400)))
    expect2 = [min(a, 400 - x + 400 - y) for a, (x, y) in zip(expect, targets, strict=True)]
    np.testing.assert_allclose(nearest_distance(g, src2, snap_points(g, pts(*targets)), 1e4),
                               expect2)
    d = node_distance(g, src2, 1e4)
    assert d[node_at(g, 200, 200)] == pytest.approx(250.0)  # 50 + 200 from (0,250); 400 other


def test_limit_keeps_just_below_and_drops_just_above():
    g = build_walk_graph(ways(*grid(4, 100.0)))
    src = snap_points(g, pts((0, 0)))
    tgt = snap_points(g, pts((300, 0), (200, 150), (150, 300)))  # 300, 350, 450
    np.testing.assert_allclose(nearest_distance(g, src, tgt, 1000), [300, 350, 450])
    np.testing.assert_array_equal(nearest_distance(g, src, tgt, 350.001), [300, 350, np.inf])
    np.testing.assert_array_equal(nearest_distance(g, src, tgt, 349.999), [300, np.inf, np.inf])
    np.testing.assert_array_equal(nearest_distance(g, src, tgt, 299.999), [np.inf] * 3)
    d = node_distance(g, src, 250)
    assert d[node_at(g, 200, 0)] == 200 and np.isinf(d[node_at(g, 300, 0)])
    with pytest.raises(ValueError):
        nearest_distance(g, src, tgt, -1)


def test_point_far_from_any_way_not_snapped():
    g = build_walk_graph(ways(*grid(3, 100.0)))
    s = snap_points(g, pts((-150, 100), (-99, 100), (50, 30)))
    assert s.ok.tolist() == [False, True, True]
    assert s.status[0] == snapmod.TOO_FAR and s.edge[0] == -1
    assert s.counts()["too_far"] == 1
    d = nearest_distance(g, snap_points(g, pts((0, 0))), s, 1e4)
    # network distance from the snapped location; the 99 m snap itself is in s.distance
    assert np.isinf(d[0]) and d[1] == pytest.approx(100) and d[2] == pytest.approx(50)
    assert s.distance[1] == pytest.approx(99)
    # a larger snapping distance takes it
    assert snap_points(g, pts((-150, 100)), max_distance=200).ok.all()
    # no usable source at all: every target unreachable
    assert np.isinf(nearest_distance(g, snap_points(g, pts((-500, 0))), s, 1e4)).all()


def test_fragment_only_used_by_points_lying_on_it():
    frag = line((440, 100), (440, 300))  # 40 m east of the grid's x=400 column, not connected
    g = build_walk_graph(ways(*grid(5, 100.0), frag))
    assert g.n_components == 2 and g.main_share == pytest.approx(25 / 27)
    near = pts((430, 200), (441, 150), (530, 200), (300, 100))
    s = snap_points(g, near)
    main_col = g.edge_in_main[s.edge[0]]
    assert main_col and s.status[0] == snapmod.MOVED_OFF_FRAGMENT
    assert s.distance[0] == pytest.approx(30.0)
    assert s.status[1] == snapmod.ON_FRAGMENT and not g.edge_in_main[s.edge[1]]
    assert s.status[2] == snapmod.ONLY_FRAGMENT and s.edge[2] == -1
    assert s.status[3] == snapmod.SNAPPED
    assert s.counts() == {"snapped": 1, "on_fragment": 1, "moved_off_fragment": 1, "too_far": 0,
                          "only_fragment_in_reach": 1, "missing_geometry": 0}
    d = nearest_distance(g, snap_points(g, pts((400, 0))), s, 1e4)
    np.testing.assert_allclose(d, [200, np.inf, np.inf, 100 + 100 - 0])
    # without the main-component rule every point goes to its nearest edge
    s_all = snap_points(g, near, main_component_only=False)
    assert s_all.ok.all() and not g.edge_in_main[s_all.edge[:3]].any()


def test_a_second_large_network_is_walked_on_its_own(caplog):
    # two districts apart: a 10 x 10 grid (100 nodes) and, 2 km east, an 8 x 8 grid (64
    # nodes: over 50 and 5 % of the graph), plus a stray 40 m path (2 nodes, a fragment)
    east = [shapely.affinity.translate(g, 2000.0) for g in grid(8, 100.0)]
    stray = line((-200, 0), (-200, 40))
    with caplog.at_level("WARNING", logger="geoplan.network.graph"):
        g = build_walk_graph(ways(*grid(10, 100.0), *east, stray))
    assert g.n_components == 3 and g.main_components.size == 2
    assert g.main_share == pytest.approx(164 / 166)
    assert "2 separate parts (60%, 39% of its nodes)" in caplog.text
    # homes by the east grid snap to it (they were all lost: "only fragments in reach")
    homes = pts((2150, 110), (2280, 210), (150, 110), (-198, 20))
    s = snap_points(g, homes)
    assert s.status[:3].tolist() == [snapmod.SNAPPED] * 3 and g.edge_in_main[s.edge[:3]].all()
    assert s.status[3] == snapmod.ON_FRAGMENT  # lying on the stray path, kept there
    # each reaches the facilities of its own network only: a school on each grid
    schools = snap_points(g, pts((2000, 0), (0, 0)))
    d = nearest_distance(g, schools, s, 1e4)
    np.testing.assert_allclose(d[:3], [150 + 100, 280 + 200, 150 + 100])
    assert np.isinf(d[3])


def test_a_small_separate_district_keeps_its_own_network():
    # a 4 x 4 grid (16 nodes) is too small to be a main component on its own size, but it is
    # the largest (the only) network inside its district
    east = [shapely.affinity.translate(g, 2000.0) for g in grid(4, 100.0)]
    alone = build_walk_graph(ways(*grid(10, 100.0), *east))
    assert alone.main_components.size == 1
    assert snap_points(alone, pts((2150, 110))).status[0] == snapmod.ONLY_FRAGMENT
    areas = np.array([shapely.box(X0 - 50, Y0 - 50, X0 + 950, Y0 + 950),
                      shapely.box(X0 + 1950, Y0 - 50, X0 + 2350, Y0 + 350)])
    g = build_walk_graph(ways(*grid(10, 100.0), *east), areas=areas)
    assert g.main_components.size == 2 and g.main_share == 1.0
    s = snap_points(g, pts((2150, 110)))
    d = nearest_distance(g, snap_points(g, pts((2000, 0))), s, 1e4)
    assert s.status[0] == snapmod.SNAPPED and d[0] == pytest.approx(250)


def test_missing_points_and_crs_of_points():
    g = build_walk_graph(ways(line((0, 0), (100, 0))))
    geo = gpd.GeoSeries([shapely.Point(X0 + 10, Y0 + 1), None, shapely.Point()], crs=CRS)
    s = snap_points(g, geo)
    assert s.ok.tolist() == [True, False, False]
    assert s.counts()["missing_geometry"] == 2
    wgs = gpd.GeoSeries([shapely.Point(X0 + 40, Y0)], crs=CRS).to_crs("EPSG:4326")
    s2 = snap_points(g, wgs)  # reprojected to the graph CRS
    assert s2.offset[0] == pytest.approx(40.0, abs=1e-6)
    with pytest.raises(InputDataError):
        snap_points(g, gpd.GeoSeries([shapely.box(0, 0, 1, 1)], crs=CRS))


def test_snap_to_edge_not_node():
    g = build_walk_graph(ways(line((0, 0), (300, 0)), line((300, 0), (300, 300))))
    s = snap_points(g, pts((140, 20)))
    assert s.offset[0] == pytest.approx(140.0) and s.distance[0] == pytest.approx(20.0)
    d = nearest_distance(g, snap_points(g, pts((300, 100))), s, 1e4)
    assert d[0] == pytest.approx(100 + 160)


# --- reached edges ---------------------------------------------------------------------------


def test_reached_edges_clip_partial_edge_at_cutoff():
    straight = line(*[(x, 0) for x in range(0, 1001, 100)])  # one edge, 11 vertices
    g = build_walk_graph(ways(straight))
    src = snap_points(g, pts((300, 7)))
    r = reached_edges(g, src, 250)
    assert len(r) == 1
    assert r["length"].sum() == pytest.approx(500.0)
    assert shapely.length(r.geometry.values).sum() == pytest.approx(500.0)
    xy = shapely.get_coordinates(r.geometry.values[0]) - [X0, Y0]
    np.testing.assert_allclose(xy[:, 0], [50, 100, 200, 300, 400, 500, 550])
    assert r["distance_from"].iloc[0] == 0.0
    assert r["distance_start"].iloc[0] == pytest.approx(250.0)
    assert r["distance_end"].iloc[0] == pytest.approx(250.0)
    r2 = reached_edges(g, src, 400)  # reaches the start of the line
    assert shapely.length(r2.geometry.values).sum() == pytest.approx(700.0)


def test_reached_edges_on_t_junction_full_and_partial():
    g = build_walk_graph(ways(line((0, 0), (100, 0), (200, 0)), line((100, 0), (100, 300))))
    src = snap_points(g, pts((100, 60)))
    r = reached_edges(g, src, 130)
    # branch: 0..190 of the 300 m edge; each arm 70 m
    assert shapely.length(r.geometry.values).sum() == pytest.approx(190 + 70 + 70)
    assert not r["full"].any()
    assert r.crs == g.crs
    r2 = reached_edges(g, src, 160)
    assert r2["full"].sum() == 2 and r2["length"].sum() == pytest.approx(100 + 100 + 220)
    assert r2.loc[r2["full"], "distance_from"].tolist() == pytest.approx([60, 60])
    # the service area drawn from it is a buffer of the walked lines
    area = shapely.union_all(shapely.buffer(r2.geometry.values, 10)).area
    assert area < 2 * 10 * 420 + math.pi * 100 + 1


# --- cross-checks against networkx ---------------------------------------------------------------




@pytest.mark.parametrize("seed", [1, 2])
def test_node_distance_equals_networkx(seed):
    g = build_walk_graph(random_planar_ways(400, seed))
    nxg = to_networkx(g)
    rng = np.random.default_rng(seed)
    for k, cutoff in [(1, 500.0), (5, 300.0), (30, 1000.0)]:
        nodes = rng.choice(g.n_nodes, size=k, replace=False)
        ours = node_distance(g, Snapped.from_nodes(g, nodes), cutoff)
        ref = nx.multi_source_dijkstra_path_length(nxg, set(nodes.tolist()), cutoff=cutoff,
                                                   weight="length")
        expect = np.full(g.n_nodes, np.inf)
        expect[list(ref)] = list(ref.values())
        np.testing.assert_array_equal(np.isfinite(ours), np.isfinite(expect))
        np.testing.assert_allclose(ours[np.isfinite(ours)], expect[np.isfinite(expect)],
                                   atol=1e-6, rtol=0)
        plain = dijkstra(g.csr, directed=True, indices=nodes, min_only=True, limit=cutoff)
        np.testing.assert_allclose(ours, plain, atol=1e-9)


def _split_nx(g, snapped: list[Snapped]) -> tuple[nx.Graph, list[list[object]]]:
    """networkx graph with every snapped point inserted as a node splitting its edge."""
    h = nx.Graph()
    h.add_nodes_from(range(g.n_nodes))
    labels: list[list[object]] = [[None] * len(s) for s in snapped]
    cuts: dict[int, list[tuple[float, object]]] = {}
    for k, s in enumerate(snapped):
        for i in np.flatnonzero(s.ok):
            cuts.setdefault(int(s.edge[i]), []).append((float(s.offset[i]), (k, int(i))))
            labels[k][i] = (k, int(i))
    for e in range(g.n_edges):
        u, v, length = int(g.edge_u[e]), int(g.edge_v[e]), float(g.edge_length[e])
        chain = [(0.0, u), *sorted(cuts.get(e, [])), (length, v)]
        for (o1, a), (o2, b) in itertools.pairwise(chain):
            if a == b:
                continue
            w = o2 - o1
            if not h.has_edge(a, b) or h[a][b]["length"] > w:
                h.add_edge(a, b, length=w)
    return h, labels


@pytest.mark.parametrize("seed", [3, 4])
def test_point_distances_equal_networkx_with_split_edges(seed):
    g = build_walk_graph(random_planar_ways(300, seed))
    rng = np.random.default_rng(seed)
    src = snap_points(g, np.c_[rng.uniform(X0, X0 + 2000, 12), rng.uniform(Y0, Y0 + 2000, 12)],
                      main_component_only=False)
    tgt = snap_points(g, np.c_[rng.uniform(X0, X0 + 2000, 500), rng.uniform(Y0, Y0 + 2000, 500)],
                      main_component_only=False)
    # put some targets on the sources' edges too
    extra = Snapped(src.edge[src.ok], rng.uniform(0, 1, src.ok.sum()) * g.edge_length[
        src.edge[src.ok]], np.zeros(src.ok.sum()))
    tgt = Snapped(np.r_[tgt.edge, extra.edge], np.r_[tgt.offset, extra.offset],
                  np.r_[tgt.distance, extra.distance])
    limit = 700.0
    ours = nearest_distance(g, src, tgt, limit)
    h, (slab, tlab) = _split_nx(g, [src, tgt])
    ref = nx.multi_source_dijkstra_path_length(h, {x for x in slab if x is not None},
                                               cutoff=limit, weight="length")
    expect = np.array([ref.get(t, np.inf) if t is not None else np.inf for t in tlab])
    assert np.isfinite(expect).sum() > 50
    np.testing.assert_array_equal(np.isfinite(ours), np.isfinite(expect))
    np.testing.assert_allclose(ours[np.isfinite(ours)], expect[np.isfinite(expect)], atol=1e-6)


def test_several_kinds_at_once_and_no_sources():
    g = build_walk_graph(ways(*grid(4, 100.0)))
    tgt = snap_points(g, pts((300, 0), (0, 150), (-500, 0)))
    kinds = {
        "toilet": snap_points(g, pts((0, 0))),
        "school": snap_points(g, pts((300, 300), (300, 10))),
        "none": snap_points(g, pts((-900, -900))),  # nothing snapped
    }
    got = nearest_distances(g, kinds, tgt, {"toilet": 1000, "school": 250, "none": 1000})
    np.testing.assert_allclose(got["toilet"], [300, 150, np.inf])
    np.testing.assert_allclose(got["school"], [10, np.inf, np.inf])  # 10, 450 > 250, unsnapped
    assert np.isinf(got["none"]).all()
    for k, s in kinds.items():
        lim = 250 if k == "school" else 1000
        np.testing.assert_array_equal(got[k], nearest_distance(g, s, tgt, lim))
    empty = reached_edges(g, kinds["none"], 1000)
    assert len(empty) == 0 and empty.crs == g.crs


def test_to_networkx_keeps_coordinates_and_shortest_lengths():
    g = build_walk_graph(ways(*grid(3, 100.0), line((0, 0), (50, 80), (100, 0))))
    h = to_networkx(g)
    assert h.number_of_nodes() == g.n_nodes and h.number_of_edges() == 12
    a, b = node_at(g, 0, 0), node_at(g, 100, 0)
    assert h[a][b]["length"] == pytest.approx(100.0)
    assert h.nodes[a]["x"] == X0 and h.nodes[a]["y"] == Y0
