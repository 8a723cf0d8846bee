"""Prepared geometries and threads: no task tests against a prepared geometry it shares.

GEOS prepared geometries are not thread-safe. Before the fix, a residential part larger than a
chunk of grid cells was prepared once and cut by two chunks on two threads at once, and the
process died (a segmentation fault or an abort: 15 runs in 16 of the case below on the code
before the fix, and six in six of a case four times its size; once it killed a test worker of
the suite). The case runs in a child process, so a crash fails the test instead of
the test run. The audit (``tests/_prepared_audit.py``) watches a whole default analysis on two
threads and lists every prepared geometry a task used that it had not prepared itself.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import shapely

from geoplan._threads import prepared_for, private_copies, set_threads, thread_map
from tests._prepared_audit import audit_prepared

ONE_PART_MANY_CHUNKS = textwrap.dedent("""
    import sys
    import geopandas as gpd, numpy as np, shapely
    import geoplan.coverage.demand as dm
    from geoplan._threads import set_threads
    dm.GRID_CHUNK = 300  # the part's 5,400 cells in 18 chunks, on the threads at once
    t = np.linspace(0, 2 * np.pi, 5000)
    r = 1000 + 200 / 3 * np.sin(50 * t)  # 5,000 vertices: the prepared tests take a while
    part = shapely.Polygon(np.c_[500000 + r * np.cos(t), 3300000 + r * np.sin(t)])
    crs = "EPSG:32648"
    home = gpd.GeoDataFrame(geometry=[part], crs=crs)
    district = gpd.GeoDataFrame({"district": ["a"]}, geometry=[part.buffer(10)], crs=crs)
    for threads in (2, 1):  # two first: the same start as before the fix, when it crashed
        set_threads(threads)
        d = dm.residential_grid(home, district, grid_m=25)
        print(len(d.amount), repr(float(d.amount.sum())), repr(float(d.samples.x.sum())))
""")


def test_one_part_cut_by_chunks_on_two_threads_at_once_does_not_crash():
    done = subprocess.run([sys.executable, "-c", ONE_PART_MANY_CHUNKS],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    two, one = done.stdout.strip().splitlines()
    n, area, _ = two.split()
    assert int(n) > 5_000 and abs(float(area) - np.pi * 1000**2) < 0.02 * np.pi * 1000**2
    assert two == one  # the same pieces, to the last bit


def test_the_audit_sees_a_prepared_geometry_two_tasks_share(monkeypatch):
    monkeypatch.delenv("GEOPLAN_THREADS", raising=False)
    shared = shapely.box(0, 0, 10, 10)
    shapely.prepare(shared)
    set_threads(2)
    try:
        with audit_prepared(monkeypatch) as audit:
            thread_map(lambda i: shapely.intersects(shared, shapely.points(np.arange(i, 9), 1)),
                       range(8))
            # a task's own copy is its own
            thread_map(lambda i: shapely.contains_xy(private_copies([shared])[0], i, 1), range(8))
    finally:
        set_threads(None)
    assert len(audit.shared) == 8 and all("intersects" in s for s in audit.shared)


def test_a_whole_analysis_on_two_threads_shares_no_prepared_geometry(monkeypatch, chengdu_config,
                                                                     chengdu_layers):
    import geoplan.coverage.demand as demand
    from geoplan.pipeline import compute_results
    from geoplan.standards import check_config_standards

    # a standard of each kind (areas, streets, a life circle's items, school seats)
    kinds = {"park_500", "toilet_main_300", "life_circle_15min", "primary_school_500"}
    standards = [s for s in check_config_standards(chengdu_config) if s.id in kinds]
    monkeypatch.delenv("GEOPLAN_THREADS", raising=False)
    monkeypatch.setattr(demand, "GRID_CHUNK", 5000)  # the sample's land in several chunks
    set_threads(2)
    try:
        with audit_prepared(monkeypatch) as audit:
            coverage, _, sites = compute_results(chengdu_config, chengdu_layers,
                                                 standards=standards)
    finally:
        set_threads(None)
    assert coverage is not None and sites is not None
    assert len(coverage.gaps) and len(sites.table)  # gaps, then sites: every threaded step ran
    assert audit.checked_calls > 100
    assert audit.shared == []


def test_shared_shapes_are_not_left_prepared(chengdu_layers, chengdu_results):
    # the layer set's districts and context, after loading and a whole analysis
    assert not shapely.is_prepared(chengdu_layers.districts.geometry.to_numpy()).any()
    assert not shapely.is_prepared(chengdu_layers.context_area)


def test_private_copies_are_equal_new_and_unprepared():
    geoms = np.array([shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (3, 4)]), None])
    shapely.prepare(geoms)
    copies = private_copies(geoms)
    assert np.array_equal(shapely.to_wkb(copies), shapely.to_wkb(geoms))
    assert all(c is not g for c, g in zip(copies[:2], geoms[:2], strict=True))
    assert not shapely.is_prepared(copies).any()


@pytest.mark.parametrize("before", [False, True])
def test_prepared_for_leaves_the_shapes_as_found(before):
    one, many = shapely.box(0, 0, 1, 1), np.array([shapely.box(0, 0, 2, 2), shapely.box(1, 1, 2, 2)])
    if before:
        shapely.prepare(one)
        shapely.prepare(many[0])
    with prepared_for(one):
        assert shapely.is_prepared(one)
    with prepared_for(many):
        assert shapely.is_prepared(many).all()
    assert shapely.is_prepared(one) == before
    assert list(shapely.is_prepared(many)) == [before, False]


def test_geoplan_calls_shapely_through_the_module_so_the_audit_sees_every_call():
    import re
    from pathlib import Path

    import geoplan

    root = Path(geoplan.__file__).parent
    direct = [f"{p.relative_to(root)}:{n}" for p in sorted(root.rglob("*.py"))
              for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
              if re.match(r"\s*from shapely import ", line)]
    assert direct == []
