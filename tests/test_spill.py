"""Coverage frames held on disk (geoplan.results._spill): the same frames, maps and reports as
held in memory, the geometries back bit for bit, nothing left in the output folder."""

from __future__ import annotations

import copy
import multiprocessing
import os
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geoplan._processes import can_fork
from geoplan.results import CoverageResult
from geoplan.results._spill import GeometryStore, SpilledFrame
from geoplan.results.coverage import ON_DISK


def _shapes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Polygons with holes, multipolygons, lines, points, empties and missing values."""
    out = []
    for i in range(n):
        x, y = rng.uniform(-1e6, 1e6, 2)
        kind = i % 6
        if kind == 0:
            out.append(shapely.Point(x, y).buffer(rng.uniform(1, 500), quad_segs=3)
                       .difference(shapely.Point(x, y).buffer(0.5)))
        elif kind == 1:
            out.append(shapely.MultiPolygon([shapely.box(x, y, x + 1, y + 1),
                                             shapely.box(x + 3, y, x + 4.5, y + 2)]))
        elif kind == 2:
            steps = np.cumsum(rng.normal(size=(7, 2)), axis=0)
            out.append(shapely.LineString(steps + np.array([x, y])))
        elif kind == 3:
            out.append(shapely.Point(x / 3, y / 7))
        elif kind == 4:
            out.append(shapely.Polygon())
        else:
            out.append(None)
    return np.asarray(out, dtype=object)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """The same geometries, coordinate for coordinate (missing where missing)."""
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if len(a) != len(b) or not (shapely.is_missing(a) == shapely.is_missing(b)).all():
        return False
    there = ~shapely.is_missing(a)
    return bool(shapely.equals_exact(a[there], b[there], tolerance=0).all()
                and (shapely.get_type_id(a[there]) == shapely.get_type_id(b[there])).all())


def test_geometries_come_back_bit_for_bit_in_any_order_and_any_subset(tmp_path) -> None:
    rng = np.random.default_rng(3)
    store = GeometryStore(tmp_path)
    first, second = _shapes(rng, 300), _shapes(rng, 50)
    s1, n1 = store.put(first)
    s2, n2 = store.put(second)
    assert (n1[5::6] == -1).all() and (n1[:5] > 0).all()  # the missing ones take no bytes
    assert _same(store.get(s1, n1), first) and _same(store.get(s2, n2), second)
    pick = rng.permutation(300)[:77]  # scattered rows, read back in the asked order
    assert _same(store.get(s1[pick], n1[pick]), first[pick])
    both = np.r_[s2[::-1], s1[::7]], np.r_[n2[::-1], n1[::7]]
    assert _same(store.get(*both), np.r_[second[::-1], first[::7]])
    assert store.size == int(n1[n1 > 0].sum() + n2[n2 > 0].sum())
    if os.name == "posix":  # an unnamed file: nothing in the folder, during or after
        assert list(tmp_path.iterdir()) == []


def _frame(rng: np.random.Generator, n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"standard": rng.choice(["a", "b"], n),
                             "district": rng.choice(["东城", "=HYPERLINK(\"x\")"], n),
                             "rank": np.arange(n, dtype="int64"), "area_m2": rng.random(n)},
                            geometry=_shapes(rng, n), crs="EPSG:32648")


def test_a_spilled_frame_reads_as_the_frame_and_its_rows_near_a_box(tmp_path) -> None:
    rng = np.random.default_rng(4)
    frame = _frame(rng, 240)
    spilled = SpilledFrame.write(frame, GeometryStore(tmp_path))
    back = spilled.load()
    assert back.crs == frame.crs and list(back.columns) == list(frame.columns)
    pd.testing.assert_frame_equal(back.drop(columns="geometry"), frame.drop(columns="geometry"))
    assert _same(back.geometry.to_numpy(), frame.geometry.to_numpy())
    box = (-2e5, -3e5, 4e5, 1e5)
    near = spilled.rows_meeting(box)
    # exactly the rows whose bounds meet the box (what an STRtree query of it gives)
    tree = shapely.STRtree(frame.geometry.to_numpy())
    assert near.tolist() == np.sort(tree.query(shapely.box(*box))).tolist()
    part = spilled.load(near)
    assert part.index.tolist() == near.tolist()  # the frame's index kept
    assert spilled.load(np.isin(np.arange(len(frame)), near)).index.tolist() == near.tolist()
    assert _same(part.geometry.to_numpy(), frame.geometry.to_numpy()[near])


def _read_in_child(spilled: SpilledFrame, out: multiprocessing.Queue) -> None:
    out.put(shapely.to_wkb(spilled.load().geometry.to_numpy()).tolist())


@pytest.mark.skipif(os.name != "posix", reason="forked workers: POSIX")
def test_a_forked_worker_reads_what_its_parent_wrote(tmp_path) -> None:
    """Map and report pages are drawn on forked processes: they read the parent's file."""
    frame = _frame(np.random.default_rng(5), 60)
    spilled = SpilledFrame.write(frame, GeometryStore(tmp_path))
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_read_in_child, args=(spilled, queue))
    child.start()
    got = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0
    assert got == shapely.to_wkb(frame.geometry.to_numpy()).tolist()


def on_disk_copy(coverage: CoverageResult, folder) -> CoverageResult:
    """``coverage`` with every frame of ON_DISK held on disk in ``folder``."""
    out = copy.copy(coverage)
    store = GeometryStore(folder)
    for name in ON_DISK:
        out.keep_on_disk(name, getattr(coverage, name), store)
    return out


def test_the_result_reads_the_same_held_on_disk_and_a_copy_is_its_own(chengdu_results,
                                                                       tmp_path) -> None:
    coverage = chengdu_results[0]
    held = on_disk_copy(coverage, tmp_path)
    for name in ON_DISK:
        assert isinstance(held.held(name), SpilledFrame), name
        a, b = getattr(coverage, name), getattr(held, name)
        assert isinstance(b, gpd.GeoDataFrame) and b.crs == a.crs
        pd.testing.assert_frame_equal(b.drop(columns="geometry"), a.drop(columns="geometry"))
        assert _same(b.geometry.to_numpy(), a.geometry.to_numpy()), name
    sid = str(coverage.reach_areas["standard"].iloc[0])
    district = str(coverage.reach_areas["district"].iloc[-1])
    assert shapely.equals_exact(held.reach_area(sid), coverage.reach_area(sid), 0)
    assert shapely.equals_exact(held.reach_area(sid, district),
                                coverage.reach_area(sid, district), 0)
    page = copy.copy(held)  # what a map page does: its own rows, the result's untouched
    page.gaps = held.gaps.iloc[:2]
    assert len(page.gaps) == 2 and len(held.gaps) == len(coverage.gaps)
    assert isinstance(held.held("gaps"), SpilledFrame)
    memory = held.in_memory()
    assert all(isinstance(memory.held(n), gpd.GeoDataFrame) for n in ON_DISK)


_STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
_FOLIUM_ID = re.compile(r"\b([a-z_]+)_[0-9a-f]{32}\b")


def _texts(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): _FOLIUM_ID.sub(r"\1", _STAMP.sub("T", p.read_text("utf-8")))
            for p in sorted(folder.rglob("*.html"))}


def test_index_map_and_reports_are_the_same_from_frames_on_disk(
        chengdu_config, chengdu_layers, chengdu_results, chengdu_outputs, tmp_path) -> None:
    """District pages read their rows from disk (never the whole frames): the pages must be
    the ones drawn from the frames in memory, byte for byte but ids and the time stamp."""
    from geoplan.data_checks import data_checks
    from geoplan.pipeline import check_config_standards
    from geoplan.report.html import write_reports
    from geoplan.report.maps import write_maps

    coverage, deadends, sites = chengdu_results
    disk = on_disk_copy(coverage, tmp_path)
    memory_maps, disk_maps = tmp_path / "memory", tmp_path / "disk"
    for out, cov in ((memory_maps, coverage), (disk_maps, disk)):
        out.mkdir()
        # the maps of two standards (a buffer one with street gaps, a life circle): every
        # kind of frame a page reads, at a fifth of the drawing
        shown = copy.copy(cov)
        shown.table = cov.table.loc[cov.table["standard"].isin(
            ["toilet_main_300", "life_circle_15min"])].reset_index(drop=True)
        write_maps(chengdu_layers, shown, deadends, None, out, sites=sites, max_mb=0.01)
    checks = data_checks(chengdu_layers, coverage, deadends,
                         check_config_standards(chengdu_config), chengdu_layers.datum)
    files = write_reports(chengdu_layers, disk, deadends, chengdu_config,
                          disk_maps, sites=sites, checks=checks)  # as the fixture's
    assert files.failures == {}
    memory, written = _texts(memory_maps), _texts(disk_maps)
    assert any(k.startswith("maps/") for k in memory)  # an index with pages
    assert memory.keys() <= written.keys()
    for name, text in memory.items():
        assert written[name] == text, name
    # the reports, against the fixture's (in memory, map link and all)
    reports = {k: v for k, v in _texts(chengdu_outputs).items() if k.startswith("reports/")}
    assert reports and reports.keys() == {k for k in written if k.startswith("reports/")}
    for name, text in reports.items():
        assert written[name] == text, name
    # the gap thumbnails are there to compare (reach and gaps read on the pages)
    assert sum(t.count("<svg") for t in reports.values()) > 50


@pytest.mark.parametrize("in_child", [False, True], ids=["here", "in a child"])
def test_coverage_with_a_store_gives_the_frames_it_gives_in_memory(
        chengdu_config, chengdu_layers, chengdu_results, tmp_path, monkeypatch,
        in_child) -> None:
    """The engine writes each standard's frames as it finishes; ranked and ordered as in
    memory (the fixture's coverage, computed in memory with the same call); the same when a
    city's coverage is measured in a forked process and its frames come back."""
    from geoplan import pipeline
    from geoplan.pipeline import compute_results
    from geoplan.standards import check_config_standards

    monkeypatch.setattr(pipeline, "SPILL_MIN_WALKWAYS", 0)  # the sample is held as a city's
    if in_child:
        if not can_fork():
            pytest.skip("needs fork (POSIX)")
        monkeypatch.setattr(pipeline, "CHILD_COVERAGE_MIN_WALKWAYS", 0)
        pids: list[int] = []
        real = pipeline.in_child

        def in_child_noting_pid(fn, *args):
            pid, value = real(lambda: (os.getpid(), fn()), *args)
            pids.append(pid)
            return value

        monkeypatch.setattr(pipeline, "in_child", in_child_noting_pid)
    memory = chengdu_results[0]
    # one standard per kind of frame (street gaps: main streets; item gaps: a life circle)
    measured = ["park_500", "toilet_main_300", "life_circle_5min"]
    disk, _, _ = compute_results(chengdu_config, chengdu_layers, steps=("coverage",),
                                 standards=[s for s in check_config_standards(chengdu_config)
                                            if s.id in measured], spill_dir=tmp_path)
    assert disk is not None
    if in_child:
        assert len(pids) == 1 and pids[0] != os.getpid()

    def of_measured(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.loc[frame["standard"].isin(measured)].reset_index(drop=True)

    # (a column's dtype may follow the rows of standards left out: radius_m of 15 min circles)
    pd.testing.assert_frame_equal(disk.table, of_measured(memory.table), check_dtype=False)
    for name in ON_DISK:
        assert isinstance(disk.held(name), SpilledFrame), name
        a, b = of_measured(getattr(memory, name)), getattr(disk, name)
        assert len(a), name  # every kind of frame is there to compare
        pd.testing.assert_frame_equal(b.drop(columns="geometry"), a.drop(columns="geometry"))
        assert _same(b.geometry.to_numpy(), a.geometry.to_numpy()), name


def test_a_small_area_s_run_holds_its_frames_in_memory(chengdu_config, chengdu_layers,
                                                       tmp_path, monkeypatch) -> None:
    # the sample's 2,251 walkways are below SPILL_MIN_WALKWAYS: its large frames stay in
    # memory, also with the line just above the sample; at the line they go to disk
    from geoplan import pipeline
    from geoplan.pipeline import compute_results
    from geoplan.standards import check_config_standards

    walkways = len(chengdu_layers["walkways"])
    park = [s for s in check_config_standards(chengdu_config) if s.id == "park_500"]
    for line, on_disk in ((pipeline.SPILL_MIN_WALKWAYS, False), (walkways + 1, False),
                          (walkways, True)):
        monkeypatch.setattr(pipeline, "SPILL_MIN_WALKWAYS", line)
        folder = tmp_path / str(line)
        folder.mkdir()
        coverage, _, _ = compute_results(chengdu_config, chengdu_layers, steps=("coverage",),
                                         standards=park, spill_dir=folder)
        assert coverage is not None
        for name in ON_DISK:
            held = coverage.held(name)
            assert isinstance(held, SpilledFrame if on_disk else gpd.GeoDataFrame), (line, name)


def test_a_standard_listed_twice_is_measured_once() -> None:
    from geoplan.coverage.engine import run_standards

    assert [s.id for s in run_standards(["park_500", "green_300", "park_500"])] == ["park_500",
                                                                            "green_300"]


def test_a_page_does_not_keep_the_drawing_of_rows_it_read_from_disk(chengdu_layers,
                                                                     chengdu_results,
                                                                     tmp_path) -> None:
    """The pages of an index map share the drawing of city-wide frames feature by feature
    (the cache keeps each feature); rows a page read from disk are its own, and kept they
    would only pile up in the worker page after page."""
    from geoplan.report._map_cache import sharing
    from geoplan.report._map_index import district_pages, page_inputs
    from geoplan.report.maps import build_map

    coverage, deadends, sites = chengdu_results
    page = district_pages(chengdu_layers)[1]
    with sharing() as cache:
        lay, cov, dead, near, chk = page_inputs(chengdu_layers, on_disk_copy(coverage, tmp_path),
                                                deadends, sites, None, page, 500.0)
        build_map(lay, cov, dead, sites=near, checks=chk)
        kept = {id(obj) for entries in cache._drawn.values() for obj, _ in entries.values()}
    own = {id(g) for n in ("gaps", "walk_bands") for g in getattr(cov, n).geometry}
    assert len(own) > 100 and len(kept) > 100  # the page drew its rows and shared others
    assert not own & kept


def test_each_district_s_gaps_go_to_disk_as_the_district_finishes(tmp_path) -> None:
    """The district pass writes every district's gap tables to the store as it is made (a
    city's group of standards would otherwise hold all of its gaps until the last
    district); read back, they are the tables made in memory, district by district."""
    from geoplan.config import DemandSettings
    from geoplan.coverage.buffers import BufferSet
    from geoplan.coverage.by_district import DistrictWork, measure_districts
    from geoplan.coverage.context import CoverageContext, Timer
    from tests._synthetic import P, box, grid_lines, layerset

    ls = layerset({"A": box(0, 0, 500, 1000), "B": box(500, 0, 1000, 1000)},
                  residential=[box(0, 0, 1000, 1000)], walkways=grid_lines(0, 0, 1000, 1000, 100))
    eng = CoverageContext(ls, DemandSettings(), {"residential"}, Timer())
    n = len(eng.demand["residential"])
    covered = np.zeros(n, dtype=bool)
    served = [BufferSet(np.array([P(250, 500), P(900, 100)], dtype=object), np.array([200.0, 150.0]))]
    work = [DistrictWork("s", "residential", served, covered)]
    names = np.array(["A", "B"], dtype=object)
    memory = measure_districts(eng, work, names)[0]
    disk = measure_districts(eng, work, names, GeometryStore(tmp_path))[0]
    assert len(memory.gaps) == 4  # two districts, two views
    assert all(isinstance(g, SpilledFrame) for g in disk.gaps)
    np.testing.assert_array_equal(disk.frac, memory.frac)
    for a, b in zip(memory.gaps, disk.gaps, strict=True):
        back = b.load()
        pd.testing.assert_frame_equal(back.drop(columns="geometry"),
                                      pd.DataFrame(a.drop(columns="geometry")))
        assert _same(back.geometry.to_numpy(), a["geometry"].to_numpy())
    assert list(os.scandir(tmp_path)) == []  # the store's file has no name in the folder


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rows_near_a_box_are_those_a_scan_of_every_row_finds(tmp_path, seed) -> None:
    """The grid of corners finds, for any box, the rows a scan of every row's bounds finds:
    points (no size), lines, one row as large as the city, rows without geometry, boxes
    outside, on an edge, degenerate."""
    from geoplan.results._spill import _CornerGrid

    rng = np.random.default_rng(seed)
    n = 3000
    x, y = rng.uniform(0, 1e5, n), rng.uniform(3e6, 3.05e6, n)
    w, h = rng.exponential(300, n), rng.exponential(200, n)
    geoms = np.asarray(shapely.box(x, y, x + w, y + h), dtype=object)
    geoms[::7] = shapely.points(x[::7], y[::7])
    geoms[3::11] = None
    geoms[5::13] = shapely.Polygon()
    geoms[10] = shapely.box(-5e4, 2.9e6, 2e5, 3.2e6)  # larger than everything
    frame = gpd.GeoDataFrame({"i": np.arange(n)}, geometry=gpd.GeoSeries(geoms), crs=32648)
    spilled = SpilledFrame.write(frame, GeometryStore(tmp_path))
    b = spilled.bounds
    boxes = [(float(x[i]), float(y[i]), float(x[i]) + q, float(y[i]) + q)
             for i, q in zip(rng.integers(0, n, 40), rng.uniform(0, 5e3, 40), strict=True)]
    boxes += [(-1e6, -1e6, -9e5, -9e5), (2e5, 3e6, 3e5, 3.1e6), (0.0, 3e6, 1e5, 3.05e6)]
    p = int(np.flatnonzero(shapely.get_type_id(geoms) == 3)[5])  # a row's own bounds
    boxes.append(tuple(float(v) for v in b[p]))
    boxes.append((float(b[p, 2]), float(b[p, 3]), float(b[p, 2]), float(b[p, 3])))  # its corner
    for box in boxes:
        with np.errstate(invalid="ignore"):
            scan = np.flatnonzero((b[:, 0] <= box[2]) & (b[:, 2] >= box[0])
                                  & (b[:, 1] <= box[3]) & (b[:, 3] >= box[1]))
        assert spilled.rows_meeting(box).tolist() == scan.tolist(), box
    # a small box looks at a few cells' rows, not at every row
    small = boxes[0]
    assert len(_CornerGrid(b).near(small)) < n / 10
    empty = SpilledFrame.write(frame.iloc[0:0], GeometryStore(tmp_path))
    assert empty.rows_meeting((0.0, 0.0, 1.0, 1.0)).tolist() == []


def _write_in_child(frame: gpd.GeoDataFrame, store: GeometryStore) -> SpilledFrame:
    return SpilledFrame.write(frame, store)


@pytest.mark.skipif(not can_fork(), reason="needs fork (POSIX)")
def test_frames_a_forked_child_writes_come_back_to_the_parent_s_store(tmp_path) -> None:
    """Coverage measured in a child writes its frames to the run's file: the frames it returns
    read from the parent's store, which then writes after them, never over them."""
    from geoplan._child import in_child

    rng = np.random.default_rng(11)
    first, second, third = _frame(rng, 40), _frame(rng, 50), _frame(rng, 30)
    store = GeometryStore(tmp_path)
    a = SpilledFrame.write(first, store)
    before = store.size
    b = in_child(lambda: _write_in_child(second, store), "a test")
    assert b.store is store and store.size > before  # the child's bytes are the parent's
    c = SpilledFrame.write(third, store)
    for spilled, frame in ((a, first), (b, second), (c, third)):
        assert _same(spilled.load().geometry.to_numpy(), frame.geometry.to_numpy())


def test_a_store_cannot_travel_to_a_process_that_does_not_share_its_file(tmp_path) -> None:
    import pickle

    from geoplan.results import _spill

    spilled = SpilledFrame.write(_frame(np.random.default_rng(2), 5), GeometryStore(tmp_path))
    data = pickle.dumps(spilled)
    assert pickle.loads(data).store is spilled.store  # here (or in a fork): the same store
    _spill._STORES.pop(spilled.store._token)  # as in a process that never had it
    with pytest.raises(pickle.UnpicklingError, match="forked children"):
        pickle.loads(data)


def test_a_city_s_tables_are_written_side_by_side_as_one_after_the_other(
        chengdu_config, chengdu_layers, chengdu_results, tmp_path, monkeypatch) -> None:
    """From :data:`~geoplan.pipeline.TABLES_SIDE_BY_SIDE_MIN_WALKWAYS` walkways on,
    ``coverage.gpkg`` and ``gaps.csv`` are written in two forked processes at once: the same
    files, byte for byte where the format allows (the CSVs) and layer for layer in the
    GeoPackage, and the same gap places for the workbook."""
    if not can_fork():
        pytest.skip("needs fork (POSIX)")
    import pyogrio

    from geoplan import _child, pipeline
    from geoplan.results import RunResult

    coverage, deadends, sites = chengdu_results
    disk = on_disk_copy(coverage, tmp_path)
    started: list[int] = []
    real_start = _child._start
    monkeypatch.setattr(_child, "_start", lambda fn, path: started.append(1) or real_start(fn, path))
    out: dict[bool, tuple] = {}
    for side_by_side in (False, True):
        monkeypatch.setattr(pipeline, "TABLES_SIDE_BY_SIDE_MIN_WALKWAYS",
                            0 if side_by_side else 10**9)
        folder = tmp_path / f"side_by_side_{side_by_side}"
        folder.mkdir()
        result = RunResult(chengdu_config, folder, chengdu_layers,
                           pipeline.check_config_standards(chengdu_config))
        result.coverage, result.deadends, result.sites = disk, deadends, sites
        places, _ = pipeline.write_tables(result, folder)
        out[side_by_side] = (folder, places, [p.name for p in result.written])
        assert len(started) == (2 if side_by_side else 0)
    (one, places_one, names_one), (two, places_two, names_two) = out[False], out[True]
    assert names_one == names_two and "gaps.csv" in names_one
    from geoplan._outdir import _is_known

    assert all(_is_known(n) for n in names_one), names_one  # all geoplan's, run.json or not
    pd.testing.assert_frame_equal(places_one, places_two)
    for name in ("gaps.csv", "coverage.csv"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    layers = [name for name, _ in pyogrio.list_layers(one / "coverage.gpkg")]
    assert "gaps" in layers and "reach_areas" in layers
    assert layers == [name for name, _ in pyogrio.list_layers(two / "coverage.gpkg")]
    for layer in layers:
        if layer == "layer_styles":  # the QGIS styles carry the time they were written
            continue
        a = gpd.read_file(one / "coverage.gpkg", layer=layer)
        b = gpd.read_file(two / "coverage.gpkg", layer=layer)
        pd.testing.assert_frame_equal(a, b, check_like=False)
