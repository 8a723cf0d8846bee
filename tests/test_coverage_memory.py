"""Coverage held as arrays: residential grid pieces and reached edges, their shapes built on demand.

The grid pieces are checked against the grid cut by hand (every cell of the district's land
intersected on its own), the reached lines against a length worked out on paper, and a run that
keeps only the reach areas against one that keeps every edge.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geoplan._errors import ConfigError
from geoplan.config import config_from_dict
from geoplan.coverage import demand as demand_mod
from geoplan.coverage import run_coverage
from geoplan.coverage.demand import GridPieces, residential_grid
from geoplan.coverage.output import write_coverage
from geoplan.coverage.reached import REACHED_EDGES_AUTO_MAX, keep_reached_edges
from geoplan.results import CoverageResult
from geoplan.standards import resolve_standards
from tests._synthetic import P, box, grid_lines, layerset

GRID = 25.0


def _by_hand(land: object, district: int) -> list[tuple[int, int, int, object]]:
    """(district, column, row, piece) of every grid cell meeting ``land``: each cut alone."""
    x0, y0, x1, y1 = shapely.bounds(land)
    out = []
    for i in range(int(np.floor(x0 / GRID)), int(np.ceil(x1 / GRID))):
        for j in range(int(np.floor(y0 / GRID)), int(np.ceil(y1 / GRID))):
            piece = shapely.intersection(shapely.box(i * GRID, j * GRID, (i + 1) * GRID,
                                                     (j + 1) * GRID), land)
            if shapely.area(piece) > 0:
                out.append((district, i, j, piece))
    return out


@pytest.fixture(scope="module")
def grid_case() -> tuple[object, object, object]:
    # an L of land and a bar across it, over two districts (one land part in each); the grid
    # built per subset (as for a city) and the same grid held whole (a small one)
    ell = shapely.difference(box(0, 0, 330, 330), box(130, 130, 330, 330))
    ls = layerset({"A": box(0, 0, 200, 400), "B": box(200, 0, 400, 400)},
                  residential=[ell, box(100, 100, 370, 210)])
    held = residential_grid(ls["residential"], ls.districts, grid_m=GRID)
    limit = demand_mod.GRID_HOLD_MAX
    demand_mod.GRID_HOLD_MAX = 0
    try:
        built = residential_grid(ls["residential"], ls.districts, grid_m=GRID)
    finally:
        demand_mod.GRID_HOLD_MAX = limit
    return ls, built, held


def test_grid_pieces_are_arrays_and_the_cells_cut_by_hand(grid_case):
    ls, dem, held = grid_case
    assert isinstance(dem.samples, GridPieces) and dem._pieces is None and dem._points is None
    assert dem.samples.held is None and held.samples.held is not None
    assert shapely.equals_exact(dem.pieces, held.pieces, tolerance=0).all()
    assert (dem.amount == held.amount).all() and (dem.district == held.district).all()
    land = shapely.union_all(ls["residential"].geometry.to_numpy())
    want = []
    for d, geom in enumerate(ls.districts.geometry):
        want += _by_hand(shapely.intersection(land, geom), d)
    cells = dem.samples
    got = sorted(zip(dem.district.tolist(), cells.ix.tolist(), cells.iy.tolist(),
                     range(len(dem)), strict=True))
    assert [g[:3] for g in got] == [w[:3] for w in sorted(want, key=lambda w: w[:3])]
    pieces = dem.pieces
    for (_, _, _, k), (_, _, _, piece) in zip(got, sorted(want, key=lambda w: w[:3]), strict=True):
        assert shapely.area(shapely.symmetric_difference(pieces[k], piece)) < 1e-9
        assert dem.amount[k] == pytest.approx(shapely.area(piece), rel=1e-12)
    # only the cells the land's boundary cuts are held as geometry; the rest are whole cells
    whole = cells.cut < 0
    assert 0 < len(cells.cut_wkb) == (~whole).sum() < len(dem) / 2
    assert (shapely.area(pieces[whole]) == GRID * GRID).all()
    # each point lies inside its piece; any subset builds the same pieces
    assert shapely.contains(pieces, dem.points).all()
    pick = np.flatnonzero(dem.district == 1)[::3]
    assert shapely.equals_exact(dem.pieces_of(pick), pieces[pick], tolerance=0).all()
    x, y = dem.xy()
    assert (x == shapely.get_x(dem.points)).all() and (y == shapely.get_y(dem.points)).all()


@pytest.fixture(scope="module")
def runs() -> dict[str, CoverageResult]:
    # one bus stop on a node of a 100 m street grid, 300 m: the reach on paper is every grid
    # edge within 300 m by the streets (an L1 ball of radius 3 blocks: 4 + 12 + 20 = 36 edges)
    ls = layerset({"A": box(0, 0, 500, 1000), "B": box(500, 0, 1000, 1000)},
                  residential=[box(0, 0, 1000, 1000)], bus_stops=[P(500, 500)],
                  parks=[box(100, 100, 180, 180)], walkways=grid_lines(0, 0, 1000, 1000, 100))
    stds = resolve_standards([{"id": "bus_stop_500", "radius_m": 300}, "park_500"])
    return {s: run_coverage(ls, stds, reached_edges=s) for s in ("all", "none", "auto")}


def test_reached_lines_built_from_arrays_walk_the_paper_length(runs):
    res = runs["all"]
    bus = res.reached.loc[res.reached["standard"] == "bus_stop_500"]
    assert shapely.length(bus.geometry.to_numpy()).sum() == pytest.approx(3600.0, rel=1e-9)
    assert bus["distance_from"].max() <= 300 + 1e-9 and (bus["radius_m"] == 300).all()
    assert res.meta["reached_edges"] == {"kept": True, "rows": len(res.reached),
                                         "setting": "all"}
    # the small grid is under the automatic limit: the same edges, row for row
    auto = runs["auto"].reached
    assert auto.drop(columns="geometry").equals(res.reached.drop(columns="geometry"))
    assert shapely.equals_exact(auto.geometry.to_numpy(), res.reached.geometry.to_numpy(),
                                tolerance=0).all()


def test_a_run_without_the_edges_measures_the_same_and_keeps_the_reach_areas(runs, tmp_path):
    full, lean = runs["all"], runs["none"]
    assert len(lean.reached) == 0 and len(full.reached) > 36
    assert lean.meta["reached_edges"] == {"kept": False, "rows": len(full.reached),
                                          "setting": "none"}
    pd.testing.assert_frame_equal(lean.table, full.table)
    for name in ("reach_areas", "gaps", "walk_bands"):
        a, b = getattr(lean, name), getattr(full, name)
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), tolerance=0).all()
    assert set(full.reach_areas["standard"]) == {"bus_stop_500", "park_500"}

    def layers(res: CoverageResult, name: str) -> set[str]:
        gpkg = write_coverage(res, Path(tmp_path) / name)["gpkg"]
        return {n for n, _ in pyogrio.list_layers(gpkg)}

    assert layers(full, "full") - layers(lean, "lean") == {"reached"}
    assert "reach_areas" in layers(lean, "lean2")


def test_when_the_edges_are_kept():
    assert keep_reached_edges("auto", REACHED_EDGES_AUTO_MAX)
    assert not keep_reached_edges("auto", REACHED_EDGES_AUTO_MAX + 1)
    assert keep_reached_edges("all", 10**7) and not keep_reached_edges("none", 1)
    with pytest.raises(ValueError, match="auto, all or none"):
        keep_reached_edges("some", 1)


def test_config_gpkg_reached_edges(tmp_path):
    base = {"name": "t", "districts": {"path": "d.geojson"}}
    config = config_from_dict({**base, "gpkg": {"reached_edges": "none"}}, base_dir=tmp_path,
                              check_files=False)
    assert config.gpkg.reached_edges == "none"
    assert config_from_dict(base, base_dir=tmp_path, check_files=False).gpkg.reached_edges == "auto"
    with pytest.raises(ConfigError, match=r"gpkg\.reached_edges"):
        config_from_dict({**base, "gpkg": {"reached_edges": "some"}}, base_dir=tmp_path,
                         check_files=False)


def test_reached_lines_held_or_built_from_the_graph_are_the_same():
    # wiggly streets, so that simplifying matters; sources mid-edge, so that pieces are partial
    from geoplan.coverage.reached import ReachedPieces, reached_frame
    from geoplan.network import build_walk_graph, reached_edges, snap_points

    rng = np.random.default_rng(3)
    cross = np.arange(0, 601, 150.0)
    xs = np.union1d(np.linspace(0, 600, 41), cross)
    lines = [shapely.LineString(np.column_stack([
        xs + 400_000, y + np.where(np.isin(xs, cross), 0.0, rng.normal(0, 0.7, len(xs)))
        + 3_390_000])) for y in range(0, 601, 100)]
    lines += [shapely.LineString([(400_000 + x, 3_390_000 + y) for y in range(0, 601, 100)])
              for x in cross]
    ls = layerset({"A": box(0, 0, 600, 600)}, walkways=lines)
    graph = build_walk_graph(ls["walkways"])
    src = snap_points(graph, np.array([P(310, 205), P(75, 480)]))
    edges = reached_edges(graph, src, 170.0)
    assert 0 < (~edges["full"]).sum() < len(edges)
    held = ReachedPieces.from_frame(edges, 170.0, hold=True)
    built = ReachedPieces.from_frame(edges, 170.0)
    assert built.partial_lines is None and held.partial_lines is not None
    cache = np.full(graph.n_edges, None, dtype=object)
    a = reached_frame(graph.edge_geometry, [("s", "x", held), ("t", "y", held)], ls.crs, cache)
    b = reached_frame(graph.edge_geometry, [("s", "x", built), ("t", "y", built)], ls.crs)
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), tolerance=0).all()
    # the lines are the reached pieces simplified to 1 m, whatever way they were made
    want = shapely.simplify(edges.geometry.to_numpy(), 1.0)
    assert shapely.equals_exact(b.geometry.to_numpy()[:len(edges)], want, tolerance=0).all()
    assert list(b["standard"]) == ["s"] * len(edges) + ["t"] * len(edges)


def test_the_map_draws_the_walking_reach_from_the_reach_areas_alone():
    import dataclasses

    from geoplan.report._map_layers import DataLayer
    from geoplan.report.maps import build_map
    from tests._report_synthetic import make_coverage, make_deadends, make_layerset

    cov = make_coverage()
    lean = dataclasses.replace(cov, reached=cov.reached.iloc[0:0])  # a city's result
    for res in (cov, lean):
        m = build_map(make_layerset(), res, make_deadends())
        drawn = [c.css_class for g in m._children.values() for c in getattr(g, "_children",
                 {}).values() if isinstance(c, DataLayer)]
        assert "gp-reached gp-reached-park_500" in drawn


def test_a_city_walks_a_shared_set_again_and_holds_none_of_it(monkeypatch):
    # two standards walk the same bus stops 300 m: a small graph holds their reached pieces
    # for the run and walks them once; a city's graph (over the automatic limit) walks them
    # for each standard and holds none, with the same reach areas (36 edges on paper each)
    from geoplan.coverage import context as context_mod
    from geoplan.coverage import reached as reached_mod
    from geoplan.standards import Standard

    ls = layerset({"A": box(0, 0, 500, 1000), "B": box(500, 0, 1000, 1000)},
                  residential=[box(0, 0, 1000, 1000)], bus_stops=[P(500, 500)],
                  walkways=grid_lines(0, 0, 1000, 1000, 100))
    bus = resolve_standards([{"id": "bus_stop_500", "radius_m": 300}])[0]
    twin = resolve_standards(custom=[{
        "id": "bus_twin", "name_zh": "公交站点300米", "name_en": "Bus stop within 300 m",
        "facility": {"layer": "bus_stops"}, "demand": "residential", "radius_m": 300,
        "target": 1.0}], refs=["bus_twin"])[0]
    assert isinstance(twin, Standard)
    walked: list[int] = []
    made = reached_mod.ReachedPieces.from_frame.__func__

    def counting(cls, edges, radius_m, hold=False):
        walked.append(len(edges))
        return made(cls, edges, radius_m, hold)

    monkeypatch.setattr(reached_mod.ReachedPieces, "from_frame", classmethod(counting))
    small = run_coverage(ls, [bus, twin], reached_edges="none")
    assert walked == [36]
    walked.clear()
    monkeypatch.setattr(context_mod, "REACHED_EDGES_AUTO_MAX", 0)
    city = run_coverage(ls, [bus, twin], reached_edges="none")
    assert walked == [36, 36]
    a, b = small.reach_areas, city.reach_areas
    assert list(b["standard"].unique()) == ["bus_stop_500", "bus_twin"]
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), tolerance=0).all()
    pd.testing.assert_frame_equal(small.table, city.table)


def test_facilities_are_snapped_before_the_district_passes_which_hold_no_snapping_index(
        monkeypatch):
    # every standard's facilities are snapped up front; the graph's segment indexes are then
    # freed, so no district pass (where the step's memory peaks) holds them, and snapping
    # after that builds them again and finds the same edges
    from geoplan.coverage import engine as engine_mod
    from geoplan.network import snap_points

    ls = layerset({"A": box(0, 0, 500, 1000), "B": box(500, 0, 1000, 1000)},
                  residential=[box(0, 0, 1000, 1000)], bus_stops=[P(500, 500), P(120, 830)],
                  parks=[box(700, 700, 800, 800)], walkways=grid_lines(0, 0, 1000, 1000, 100))
    stds = resolve_standards(["bus_stop_500", "park_500"])
    seen: list[tuple[bool, int]] = []
    real_pass, real_snap = engine_mod.measure_districts, engine_mod.CoverageContext.snap

    def district_pass(eng, work, names, store=None):
        seen.append((any(k.endswith(("segment_index", "_tree")) for k in vars(eng.graph)),
                     len(eng._access)))
        return real_pass(eng, work, names, store)

    snapped_at: list[int] = []

    def snap(self, points, factor=1.0):
        snapped_at.append(len(seen))  # how many passes had begun
        return real_snap(self, points, factor)

    monkeypatch.setattr(engine_mod, "measure_districts", district_pass)
    monkeypatch.setattr(engine_mod.CoverageContext, "snap", snap)
    got = run_coverage(ls, stds, reached_edges="none")
    assert seen == [(False, 2)]  # one pass (both standards), both sets snapped, no index held
    assert snapped_at and set(snapped_at) == {0}  # demand and facilities, all before it
    counts = got.table.groupby("standard")["n_facilities"].max().to_dict()
    assert counts == {"bus_stop_500": 2, "park_500": 1}
    graph = engine_mod.CoverageContext(ls, engine_mod.DemandSettings(), {"residential"},
                                       engine_mod.Timer()).graph
    pts = shapely.get_coordinates([P(130, 410), P(555, 962)])
    before = snap_points(graph, pts, max_distance=100)
    graph.drop_snapping_indexes()
    assert "main_segment_index" not in vars(graph)
    again = snap_points(graph, pts, max_distance=100)
    # 10 m off the street y = 400, 30 m along it from x = 100; 38 m off y = 1000, 55 m along
    # it from x = 500 (on paper)
    assert (again.edge == before.edge).all() and (again.edge >= 0).all()
    assert np.allclose(again.distance, [10.0, 38.0]) and np.allclose(again.offset, [30.0, 55.0])
    assert np.allclose(again.offset, before.offset)
