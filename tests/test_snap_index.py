"""Snapping with the segment-piece grid (``engine="index"``) gives GEOS's answers exactly.

References: ``snap_points(engine="geos")`` (``STRtree.query_nearest`` + ``line_locate_point``,
the implementation before the index) and, for :class:`SegmentIndex` alone, a brute force over
every edge with ``shapely.distance``.
"""

from __future__ import annotations

import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geoplan.network import WalkGraph, build_walk_graph, snap_points
from geoplan.network import snap as snapmod
from geoplan.network.nearest import SegmentIndex
from tests._walkways import X0, Y0, line, pts, random_planar_ways, ways


def assert_same(g: WalkGraph, xy: np.ndarray, max_distance: float, **kw: object) -> None:
    """Both engines: same edge, status and unsnapped set; offset and distance to 1e-9 m."""
    a = snap_points(g, xy, max_distance, engine="index", **kw)  # type: ignore[arg-type]
    b = snap_points(g, xy, max_distance, engine="geos", **kw)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a.edge, b.edge)
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_allclose(a.offset, b.offset, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.distance, b.distance, rtol=0, atol=1e-9)


def random_ways(n: int, seed: int) -> gpd.GeoDataFrame:
    """Delaunay streets with bends, some dropped (islands appear), one long straight way."""
    streets = random_planar_ways(n, seed, extent=1500.0, drop=0.4, bend=8.0)
    return pd.concat([streets, ways(line((-300, -40), (4700, -40)))],  # a 5 km straight edge
                     ignore_index=True)


@pytest.fixture(scope="module")
def random_graph() -> WalkGraph:
    return build_walk_graph(random_ways(160, 3))


def test_random_points_same_as_geos(random_graph: WalkGraph) -> None:
    g = random_graph
    rng = np.random.default_rng(7)
    near = shapely.get_coordinates(shapely.line_interpolate_point(
        g.edge_geometry[rng.integers(0, g.n_edges, 3000)], rng.random(3000), normalized=True))
    xy = np.vstack([
        near + rng.normal(0, 15, near.shape),                     # near streets
        near[:300],                                              # on streets
        np.column_stack([g.node_x, g.node_y]),                   # on nodes: ties
        shapely.get_coordinates(g.edge_geometry)[::3],           # on vertices
        rng.uniform(-400, 1900, (800, 2)) + np.array([X0, Y0]),  # anywhere, some far
        pts((1000, -40.0), (4000, -10.0), (4500, -140.0)),       # on / beside the long edge
    ])
    assert not g.edge_in_main.all()  # fragments: the main-component path runs too
    for max_distance in (100.0, 12.0):
        assert_same(g, xy, max_distance)
    assert_same(g, xy, 60.0, main_component_only=False)


_CROSS = [((0, 100), (100, 100)), ((100, 100), (200, 100)), ((100, 0), (100, 100)),
          ((100, 100), (100, 200)), ((0, 300), (200, 300)), ((0, 310), (200, 310))]


def test_exact_ties_lowest_edge() -> None:
    """On an exact tie the lowest edge index wins, whatever tree GEOS searched."""
    # a cross: four edges meeting at (100, 100); parallel streets 10 m apart
    g = build_walk_graph(ways(*[line(*c) for c in _CROSS]))
    xy = pts((100, 100),          # on the node: distance 0 to four edges
             (90, 110),           # equidistant from the west and north edges
             (50, 305),           # midway between the parallel streets
             (150, 150))          # equidistant (50 m) from the north and east edges
    assert_same(g, xy, 100.0)
    s = snap_points(g, xy, 100.0)
    node = (g.node_x == X0 + 100) & (g.node_y == Y0 + 100)
    u, v = g.edge_u[s.edge[0]], g.edge_v[s.edge[0]]
    assert node[u] or node[v]
    assert s.offset[0] in (0.0, g.edge_length[s.edge[0]]) and s.distance[0] == 0.0
    np.testing.assert_allclose(s.distance[1:], [10.0, 5.0, 50.0])
    # every equally near edge, from GEOS directly: the lowest index of each point's
    (q, e), _ = g.edge_tree.query_nearest(shapely.points(xy), return_distance=True,
                                          all_matches=True)
    assert np.bincount(q).tolist() == [4, 2, 2, 2]
    np.testing.assert_array_equal(s.edge, [e[q == i].min() for i in range(len(xy))])
    # the same answers from a tree over the edges in another order
    flipped = snap_points(build_walk_graph(ways(*[line(*c) for c in reversed(_CROSS)])), xy, 100.0)
    np.testing.assert_array_equal(flipped.distance, s.distance)


def test_limit_and_position_edge_cases() -> None:
    g = build_walk_graph(ways(
        line((0, 0), (100, 0)),
        # a U: the point at (50, 60) is 20 m from both arms, at different positions along it
        line((0, 40), (0, 80), (100, 80), (100, 40)),
        line((50, 50), (50, 50), (90, 50), (90, 50)),  # repeated vertices: zero-length segments
    ))
    xy = pts((50, 5.0), (50, 10.0), (50, 10.000001), (50, -10.0), (50, 60), (50, 50),
             (20, 50), (95, 50), (-5, 60))
    for max_distance in (10.0, 5.0, 200.0):
        assert_same(g, xy, max_distance)
    s = snap_points(g, xy, 10.0)
    assert s.status[1] == snapmod.SNAPPED and s.distance[1] == 10.0  # exactly at the limit
    assert s.status[2] == snapmod.TOO_FAR and s.edge[2] == -1
    # missing coordinates, as an array and as geometries
    odd = np.vstack([xy[:2], [[np.nan, np.nan]]])
    assert_same(g, odd, 10.0)
    assert snap_points(g, odd, 10.0).status[2] == snapmod.MISSING
    geoms = np.array([*shapely.points(xy[:2]), None, shapely.Point()], dtype=object)
    assert_same(g, geoms, 10.0)
    np.testing.assert_array_equal(snap_points(g, geoms, 10.0).status[2:], snapmod.MISSING)


def brute(geoms: np.ndarray, xy: np.ndarray, max_distance: float
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nearest edge by brute force; ``tie`` marks points with two edges equally near."""
    p = shapely.points(xy)
    d = shapely.distance(geoms[None, :], p[:, None])
    order = np.argsort(d, axis=1, kind="stable")
    best = order[:, 0]
    bd = d[np.arange(len(p)), best]
    tie = d[np.arange(len(p)), order[:, 1]] - bd <= 1e-7
    off = shapely.line_locate_point(geoms[best], p)
    return np.where(bd <= max_distance, best, -1), bd, off, tie


def test_segment_index_against_brute_force() -> None:
    rng = np.random.default_rng(11)
    geoms = np.array([
        shapely.LineString(rng.uniform(0, 300, (int(rng.integers(2, 6)), 2)))
        for _ in range(60)
    ] + [shapely.LineString([(10, 10), (10, 10)])], dtype=object)  # a zero-length edge
    xy = np.vstack([rng.uniform(-50, 350, (2000, 2)), [(10, 10), (10.5, 10)]])
    index = SegmentIndex(geoms, np.arange(len(geoms)) + 1000, piece_m=7.0, cell_m=15.0)
    res = index.nearest(xy[:, 0], xy[:, 1], 25.0)
    edge, dist, off, tie = brute(geoms, xy, 25.0)
    sure = ~res.undecided
    assert sure.mean() > 0.5 and not sure[tie].any()
    np.testing.assert_array_equal(res.edge[sure], np.where(edge >= 0, edge + 1000, -1)[sure])
    ok = sure & (edge >= 0)
    np.testing.assert_allclose(res.distance[ok], dist[ok], rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.offset[ok], off[ok], rtol=0, atol=1e-9)
    # the undecided are ties, points at the limit, or too far for the 3 x 3 block to be sure
    assert res.undecided.sum() < len(xy) / 2


def test_not_linestrings_leaves_everything_to_geos() -> None:
    geoms = np.array([shapely.MultiLineString([[(0, 0), (1, 0)], [(5, 0), (6, 0)]])])
    res = SegmentIndex(geoms, np.array([0])).nearest(np.array([3.0]), np.array([0.0]), 10.0)
    assert res.undecided.all()


def test_unknown_engine_refused(random_graph: WalkGraph) -> None:
    with pytest.raises(ValueError, match="engine"):
        snap_points(random_graph, pts((0, 0)), engine="kd")


def assert_compiled_same(index: SegmentIndex, xy: np.ndarray, max_distance: float) -> None:
    """The compiled loop and the array search: the same edges, distances, offsets, bit for bit."""
    a = index.nearest(xy[:, 0], xy[:, 1], max_distance, compiled=False)
    b = index.nearest(xy[:, 0], xy[:, 1], max_distance, compiled=True)
    np.testing.assert_array_equal(a.edge, b.edge)
    np.testing.assert_array_equal(a.undecided, b.undecided)
    np.testing.assert_array_equal(a.distance, b.distance)  # NaN where none, in both
    np.testing.assert_array_equal(a.offset, b.offset)


def test_compiled_search_bit_for_bit(random_graph: WalkGraph) -> None:
    pytest.importorskip("numba")
    rng = np.random.default_rng(5)
    g = random_graph
    near = shapely.get_coordinates(shapely.line_interpolate_point(
        g.edge_geometry[rng.integers(0, g.n_edges, 2000)], rng.random(2000), normalized=True))
    xy = np.vstack([near + rng.normal(0, 20, near.shape), near[:200],
                    np.column_stack([g.node_x, g.node_y]),            # ties at nodes
                    rng.uniform(-400, 1900, (500, 2)) + np.array([X0, Y0])])
    for max_distance in (100.0, 12.0, 400.0):
        assert_compiled_same(g.segment_index, xy, max_distance)
        assert_compiled_same(g.main_segment_index, xy, max_distance)
    # many pieces in a few cells (the candidate buffers grow), and a grid too large for a table
    lines = np.array([shapely.LineString(rng.uniform(0, 20, (3, 2))) for _ in range(400)]
                     + [shapely.LineString([(5000.0, 5000.0), (5003.0, 5001.0)])], dtype=object)
    crowded = SegmentIndex(lines, np.arange(len(lines)), piece_m=2.0, cell_m=3.0)
    assert crowded.cell_start is not None
    sparse = SegmentIndex(lines, np.arange(len(lines)), piece_m=0.5, cell_m=1.0)
    assert sparse.cell_start is None  # 25M cells: the sorted keys are searched
    pts_ = np.vstack([rng.uniform(-5, 25, (600, 2)), [(5001.0, 5000.0), (2500.0, 2500.0)]])
    for index in (crowded, sparse):
        for max_distance in (1.0, 30.0):
            assert_compiled_same(index, pts_, max_distance)


def test_compiled_search_skips_nothing_that_matters() -> None:
    """The compiled search skips pieces whose midpoint is too far to matter; the array search
    measures every piece. Random lines with pieces shorter and longer than the cells, snapped to
    a 10 m lattice half the time (exact ties), points inside and outside, limits below and above
    the nearest distances: the same answers bit for bit, undecided points included. (A skip
    rule that ignores half a piece, the reach of a piece around its midpoint, fails here.)"""
    pytest.importorskip("numba")
    rng = np.random.default_rng(11)
    for _ in range(30):
        extent = float(rng.choice([10.0, 100.0, 1000.0]))
        lines = []
        for _ in range(int(rng.integers(1, 120))):
            xy = rng.uniform(0, extent, (int(rng.integers(2, 6)), 2))
            lines.append(shapely.LineString(np.round(xy / 10) * 10 if rng.random() < 0.5 else xy))
        index = SegmentIndex(np.array(lines, dtype=object), np.arange(len(lines)),
                             piece_m=float(rng.choice([2.0, 10.0, 45.0, 200.0])),
                             cell_m=float(rng.choice([3.0, 30.0, 60.0, 300.0])))
        xy = rng.uniform(-0.2 * extent, 1.2 * extent, (200, 2))
        if rng.random() < 0.3:
            xy = np.round(xy / 10) * 10
        for max_distance in (1.0, 25.0, 300.0, 1e6):
            assert_compiled_same(index, xy, max_distance)


def test_compiled_snapping_same_as_geos(random_graph: WalkGraph,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """snap_points with the compiled search on every batch still gives GEOS's answers."""
    pytest.importorskip("numba")
    from geoplan.network import nearest

    monkeypatch.setattr(nearest, "COMPILED_MIN_POINTS", 0)
    g = random_graph
    rng = np.random.default_rng(9)
    xy = np.vstack([rng.uniform(-400, 1900, (3000, 2)) + np.array([X0, Y0]),
                    np.column_stack([g.node_x, g.node_y])])
    assert_same(g, xy, 100.0)
    assert_same(g, xy, 60.0, main_component_only=False)


def test_compiled_build_same_index(random_graph: WalkGraph) -> None:
    """The compiled build files the same pieces under the same cells, with the same numbers."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(13)
    lines = np.array([shapely.LineString(rng.uniform(0, 20, (3, 2))) for _ in range(400)]
                     + [shapely.LineString([(5000.0, 5000.0), (5003.0, 5001.0)])], dtype=object)
    cases = [(random_graph.edge_geometry, 45.0, 60.0), (lines, 2.0, 3.0), (lines, 0.5, 1.0)]
    for geoms, piece_m, cell_m in cases:
        ids = np.arange(len(geoms)) + 7
        a = SegmentIndex(geoms, ids, piece_m, cell_m, compiled=False)
        b = SegmentIndex(geoms, ids, piece_m, cell_m, compiled=True)
        for name in ("ax", "ay", "bx", "by", "length", "edge", "start", "key", "half", "x0", "y0",
                     "nx", "ny"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        assert (a.cell_start is None) == (b.cell_start is None)
        if a.cell_start is not None:
            np.testing.assert_array_equal(a.cell_start, b.cell_start)
        # within a cell the order may differ: compare sorted by cell, segment and midpoint
        ka = np.lexsort((a.my, a.mx, a.piece_seg, a.key))
        kb = np.lexsort((b.my, b.mx, b.piece_seg, b.key))
        for name in ("piece_seg", "mx", "my"):
            np.testing.assert_array_equal(getattr(a, name)[ka], getattr(b, name)[kb])
        xy = np.vstack([rng.uniform(-5, 25, (400, 2)),
                        shapely.get_coordinates(geoms)[::5] + rng.normal(0, 3, (1, 2))])
        for compiled in (False, True):
            ra = a.nearest(xy[:, 0], xy[:, 1], 30.0, compiled=compiled)
            rb = b.nearest(xy[:, 0], xy[:, 1], 30.0, compiled=compiled)
            for name in ("edge", "distance", "offset", "undecided"):
                np.testing.assert_array_equal(getattr(ra, name), getattr(rb, name))


def test_edges_near_holds_every_edge_within_the_radius(random_graph: WalkGraph) -> None:
    """The candidates GEOS decides ties among: every edge within the radius (brute force)."""
    g = random_graph
    rng = np.random.default_rng(11)
    xy = np.vstack([rng.uniform(-400, 1900, (300, 2)) + np.array([X0, Y0]),
                    np.column_stack([g.node_x, g.node_y])[:100]])
    for index in (g.segment_index, g.main_segment_index):
        ids = index.edge if len(index.edge) else np.zeros(0, dtype=np.int64)
        indexed = np.unique(ids)
        for radius in (5.0, 100.0, 400.0):
            qi, e = index.edges_near(xy[:, 0], xy[:, 1], radius)
            got = set(zip(qi.tolist(), e.tolist(), strict=True))
            assert len(got) == len(qi)  # each pair once
            d = shapely.distance(shapely.points(xy)[:, None], g.edge_geometry[indexed][None, :])
            want = {(int(i), int(indexed[j])) for i, j in zip(*np.nonzero(d <= radius),
                                                              strict=True)}
            assert want and want <= got
            # and not the whole city: a candidate has a piece midpoint in the block of cells
            r = np.ceil((radius + index.half) / index.cell)
            far = {(i, j) for i, j in got
                   if shapely.distance(shapely.points(xy[i]), g.edge_geometry[j])
                   > (r + 1) * index.cell * np.sqrt(2)}
            assert not far


def test_compiled_loops_at_any_size_once_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small batches stay on arrays until something has paid for loading the compiled loops."""
    import types

    from geoplan.network import nearest

    name = "geoplan.network._nearest_compiled"
    monkeypatch.delitem(sys.modules, name, raising=False)
    assert nearest._compiled(None, 10) is None
    assert nearest._compiled(False, 10**7) is None
    loaded = types.ModuleType(name)
    loaded.__all__ = ["nearest_points"]  # a whole module (its import done)
    loaded.nearest_points = lambda *args: None
    monkeypatch.setitem(sys.modules, name, loaded)
    assert nearest._compiled(None, 10) is loaded
    assert nearest._compiled(None, 10**7) is loaded
    assert nearest._compiled(False, 10**7) is None


def test_main_or_fragment_against_brute_force(random_graph: WalkGraph) -> None:
    """The rule as two searches over every edge would give it (brute force, lowest index on
    ties): the nearest edge overall; a fragment edge kept only by a point lying on it (within
    5 m, strictly nearer than the main component), else the nearest main edge, else lost."""
    g = random_graph
    rng = np.random.default_rng(21)
    frag = g.fragment_edge_ids
    near = shapely.get_coordinates(shapely.line_interpolate_point(
        g.edge_geometry[frag[rng.integers(0, len(frag), 600)]], rng.random(600), normalized=True))
    xy = np.vstack([near + rng.normal(0, 6, near.shape), near[:50],
                    rng.uniform(-400, 1900, (600, 2)) + np.array([X0, Y0])])
    p = shapely.points(xy)
    d = shapely.distance(g.edge_geometry[None, :], p[:, None])
    best = np.argmin(d, axis=1)  # the first of equal minima: the lowest index
    dbest = d[np.arange(len(p)), best]
    dmain = np.where(g.edge_in_main[None, :], d, np.inf)
    mbest = np.argmin(dmain, axis=1)
    dm = dmain[np.arange(len(p)), mbest]
    seen: set[int] = set()
    for limit in (100.0, 20.0):
        s = snap_points(g, xy, limit)
        seen |= set(s.status.tolist())
        in_reach = dbest <= limit
        on_frag = in_reach & ~g.edge_in_main[best]
        stays = on_frag & (dbest <= 5.0) & (dbest < dm)
        main_ok = dm <= limit
        want_edge = np.where(stays, best, np.where(in_reach & main_ok, mbest, -1))
        want_status = np.select(
            [~in_reach, stays, on_frag & main_ok, on_frag, in_reach],
            [snapmod.TOO_FAR, snapmod.ON_FRAGMENT, snapmod.MOVED_OFF_FRAGMENT,
             snapmod.ONLY_FRAGMENT, snapmod.SNAPPED])
        np.testing.assert_array_equal(s.edge, want_edge)
        np.testing.assert_array_equal(s.status, want_status)
    assert {snapmod.ON_FRAGMENT, snapmod.MOVED_OFF_FRAGMENT, snapmod.ONLY_FRAGMENT} <= seen


def test_maybe_near_never_misses(random_graph: WalkGraph) -> None:
    """A point some fragment edge comes within the radius of is never left out."""
    g = random_graph
    index = g.fragment_segment_index
    rng = np.random.default_rng(23)
    xy = rng.uniform(-600, 2100, (3000, 2)) + np.array([X0, Y0])
    d = shapely.distance(shapely.points(xy)[:, None], g.edge_geometry[g.fragment_edge_ids][None, :])
    for radius in (5.0, 60.0, 200.0):
        maybe = index.maybe_near(xy[:, 0], xy[:, 1], radius)
        reach = (d <= radius).any(axis=1)
        assert reach.any() and maybe[reach].all()
        assert not maybe.all()  # and it does leave points out
    assert index.maybe_near(np.array([np.nan]), np.array([0.0]), 5.0).all()


def test_cell_order_groups_points_by_cell() -> None:
    """The compiled counting sort is a permutation that lists the points cell by cell."""
    pytest.importorskip("numba")
    from geoplan.network._nearest_compiled import cell_order

    rng = np.random.default_rng(21)
    x = np.concatenate([rng.uniform(-50, 250, 3000), [np.nan, 1e9, -1e9]])
    y = np.concatenate([rng.uniform(-50, 250, 3000), [5.0, np.nan, -1e9]])
    x0, y0, cell, nx, ny = 0.0, 0.0, 10.0, 20, 20
    order = cell_order(x, y, x0, y0, cell, nx, ny)
    np.testing.assert_array_equal(np.sort(order), np.arange(len(x)))
    with np.errstate(invalid="ignore"):
        ix = np.clip(np.nan_to_num(np.floor((x - x0) / cell), nan=0.0), 0, nx - 1)
        iy = np.clip(np.nan_to_num(np.floor((y - y0) / cell), nan=0.0), 0, ny - 1)
    key = (ix * ny + iy)[order]
    assert (np.diff(key) >= 0).all()  # cell by cell, points outside at the border cells
    # inside a cell, the points keep their input order (stable)
    same = np.diff(key) == 0
    assert (np.diff(order)[same] > 0).all()


def test_snapped_counts_every_status() -> None:
    """counts() names every outcome, with zeros for those that did not happen."""
    status = np.array([0, 0, 1, 2, -1, -2, -3, -3, 0], dtype=np.int8)
    n = len(status)
    got = snapmod.Snapped(np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n), status).counts()
    assert got == {"snapped": 3, "on_fragment": 1, "moved_off_fragment": 1, "too_far": 1,
                   "only_fragment_in_reach": 1, "missing_geometry": 2}
    empty = snapmod.Snapped(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0),
                            np.zeros(0, dtype=np.int8)).counts()
    assert set(empty.values()) == {0} and len(empty) == 6


def test_the_loops_compile_ahead_of_use(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m geoplan.network.compile_loops` (the README's first command) uses every loop
    the search and the sites use, so numba keeps them all; without numba it says so and
    exits 0."""
    import importlib.util
    import subprocess
    import sys

    from geoplan.network import compile_loops

    done = subprocess.run([sys.executable, "-m", "geoplan.network.compile_loops"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "compiled loops are ready" in done.stdout, done.stderr
    loops = sys.modules.get("geoplan.network._nearest_compiled")
    if loops is None:
        from geoplan.network import _nearest_compiled as loops
    compile_loops.compile_loops()  # in this process too: every loop the search calls is typed
    used = ("segments", "segment_starts", "build_pieces", "cell_order", "nearest_points")
    assert all(getattr(loops, name).signatures for name in used)
    from geoplan.siting.cover import _compiled

    sums = _compiled(True, 0)  # the module the sites' greedy uses: both index types typed
    assert {str(sig[1].dtype) for sig in sums.row_sums.signatures} == {"int32", "int64"}
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "numba" else real(name, *a))
    assert compile_loops.compile_loops() is None
    assert compile_loops.main() == 0
    assert "numba is not installed" in capsys.readouterr().out

    def fails() -> float:
        raise RuntimeError("no LLVM target for this CPU")

    monkeypatch.setattr(compile_loops, "compile_loops", fails)
    assert compile_loops.main() == 1  # said with its fix, no traceback
    err = capsys.readouterr().err
    assert "no LLVM target for this CPU" in err and "pip uninstall numba" in err
