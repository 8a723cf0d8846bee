"""The city-scale shortcuts of sites, dead ends and layers give what the plain way gives, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import cKDTree

from geoplan.layers.osm import BOUNDARY_KEYS, CONTEXT_KEYS, read_osm, read_osm_sets
from geoplan.layers.rules import catalog_keys, load_catalog
from geoplan.siting.cover import cover_matrix
from geoplan.siting.sampling import _cell_areas, _cells_near, sample_polygons
from tests._tiny_osm import write_tiny_inputs


def _ball_rows(xy: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """The plain way: one ball query per point, lists joined."""
    nb = cKDTree(xy).query_ball_point(xy, r=radius)
    lens = np.array([len(x) for x in nb])
    return np.concatenate([[0], np.cumsum(lens)]), np.concatenate([np.asarray(x, int) for x in nb])


def test_self_cover_equals_one_ball_query_per_point() -> None:
    rng = np.random.default_rng(3)
    # a 50 m grid far from the origin (points at exactly 500 m: offsets 300/400) and a random cloud
    gx, gy = np.meshgrid(np.arange(40) * 50.0 + 404_123.25, np.arange(30) * 50.0 + 3_391_007.75)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    cloud = rng.uniform(0, 2000, size=(700, 2))
    for xy, radius in ((grid, 500.0), (grid, 300.0), (cloud, 250.0), (cloud[:1], 10.0)):
        m = cover_matrix(xy, xy, radius)
        indptr, indices = _ball_rows(xy, radius)
        assert np.array_equal(m.indptr, indptr)
        assert np.array_equal(m.indices, indices)  # same columns, same (ascending) order
        assert m.shape == (len(xy), len(xy)) and np.all(m.data == 1.0)


def test_cell_areas_equal_the_intersections_bit_for_bit() -> None:
    hole = shapely.box(130, 130, 170, 170)
    poly = shapely.Polygon(shapely.box(0, 0, 300.3, 250.7).exterior.coords,
                           [hole.exterior.coords])
    cells = shapely.box(*np.array([[x, y, x + 50, y + 50] for x in np.arange(-25, 300, 50.0)
                                   for y in np.arange(-25, 250, 50.0)]).T)
    polys = np.array([poly] * len(cells), dtype=object)
    got = _cell_areas(cells, polys)
    want = shapely.area(shapely.intersection(cells, polys))
    assert np.array_equal(got, want)
    xy, area = sample_polygons(np.array([poly], dtype=object), 50.0)
    inner = (np.abs(xy[:, 0] - 150) > 50) | (np.abs(xy[:, 1] - 150) > 50)  # cells off the hole
    assert np.all(area[inner & (xy[:, 0] < 275) & (xy[:, 1] < 225)] == 2500.0)
    assert len(xy) == len(area) and area.sum() <= poly.area


def test_cell_areas_of_slanted_outlines_equal_the_overlay_to_rounding() -> None:
    # a triangle with a 45° side: each cell on it loses an exact right triangle (paper), and
    # random blobs: the overlay's areas to 1e-9 of a cell
    tri = shapely.Polygon([(0, 0), (200, 0), (0, 200)])
    cells = shapely.box(np.array([150.0, 100.0, 0.0]), np.array([0.0, 50.0, 0.0]),
                        np.array([200.0, 150.0, 50.0]), np.array([50.0, 100.0, 50.0]))
    got = _cell_areas(cells, np.array([tri] * 3, dtype=object))
    assert got == pytest.approx([1250.0, 1250.0, 2500.0], rel=1e-12)
    rng = np.random.default_rng(11)
    centre = rng.uniform(0, 1000, (400, 2))
    blobs = shapely.buffer(shapely.points(centre), rng.uniform(10, 80, 400), quad_segs=5)
    lo = centre + rng.uniform(-60, 10, (400, 2))
    cells = shapely.box(lo[:, 0], lo[:, 1], lo[:, 0] + 50, lo[:, 1] + 50)
    got = _cell_areas(cells, blobs)
    want = shapely.area(shapely.intersection(cells, blobs))
    assert np.abs(got - want).max() <= 1e-9 * 2500.0
    assert (got > 0).sum() > 300  # most pairs meet: the comparison is not vacuous


def test_cells_near_boxes_are_those_a_loop_over_rows_finds() -> None:
    rng = np.random.default_rng(5)
    xs, ys = np.arange(25, 3200, 50.0), np.arange(25, 3100, 50.0)
    # boxes inside the grid, as the gaps' boxes always are (the grid spans them all)
    lo = rng.uniform(0, 3000, (300, 2))
    bounds = np.column_stack([lo, np.minimum(lo + rng.exponential(60, (300, 2)), 3090.0)])
    cells = set()
    for x0, y0, x1, y1 in bounds:  # the plain way: every cell centre whose cell meets the box
        for i in range(len(xs)):
            for j in range(len(ys)):
                if xs[i] + 25 > x0 and xs[i] - 25 <= x1 and ys[j] + 25 > y0 and ys[j] - 25 <= y1:
                    cells.add((j, i))
    cx, cy = _cells_near(bounds, xs, ys, 50.0)
    want = sorted(cells)  # row-major grid order
    assert list(zip(cy.tolist(), cx.tolist(), strict=True)) == [(ys[j], xs[i]) for j, i in want]
    assert len(want) > 300


def test_one_pass_reads_what_each_key_set_reads_alone(tmp_path: Path) -> None:
    osm, _ = write_tiny_inputs(tmp_path)
    sets = [frozenset(catalog_keys(load_catalog())), CONTEXT_KEYS, frozenset({"amenity"})]
    together = read_osm_sets(osm, sets)
    for keys, got in zip(sets, together, strict=True):
        alone = read_osm(osm, keys)
        for table in ("nodes", "lines", "areas"):
            a, b = getattr(alone, table), getattr(got, table)
            pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                          pd.DataFrame(b.drop(columns="geometry")))
            assert a.geometry.geom_equals_exact(b.geometry, 0).all()
        assert alone.bounds.equals(got.bounds) and alone.bounds_note == got.bounds_note
        assert np.array_equal(alone.cut_points, got.cut_points)


def test_detours_on_local_parts_equal_the_whole_network() -> None:
    from types import SimpleNamespace

    from scipy import sparse
    from scipy.sparse.csgraph import dijkstra

    from geoplan.deadends.candidates import _detours, _Row

    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 12_000, size=(1500, 2))
    u, v = cKDTree(xy).query_pairs(700.0, output_type="ndarray").T
    w = np.hypot(*(xy[u] - xy[v]).T) * rng.uniform(1.0, 1.6, len(u))  # never shorter than the chord
    csr = sparse.csr_array((np.concatenate([w, w]), (np.concatenate([u, v]), np.concatenate([v, u]))),
                           shape=(len(xy), len(xy)))
    g = SimpleNamespace(node_x=xy[:, 0], node_y=xy[:, 1], csr=csr, n_nodes=len(xy))
    public = np.arange(0, 300)
    node = rng.permutation(len(xy))[:300]
    full = dijkstra(csr, directed=True, indices=node, limit=3000.0)
    seen = []
    everyone = np.arange(len(xy))
    for rows, local, dist in _detours(g, public, node, 3000.0):
        assert len(local) < len(xy)  # a part, not the whole network
        for k, i in enumerate(rows):
            assert np.array_equal(_Row(local, dist[k])[everyone], full[i])
            seen.append(int(i))
    assert sorted(seen) == list(public)


def test_boundaries_come_from_the_layers_pass_and_are_cached(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The datum check's boundaries are read in the layers' pass, kept where it looks for them,
    and equal to reading them alone; with the cache bypassed the file is read exactly once."""
    from geoplan.config import load_config
    from geoplan.layers import cache
    from geoplan.layers import osm as osm_module
    from geoplan.layers.load import load_layers

    osm, districts = write_tiny_inputs(tmp_path)
    (tmp_path / "tiny.yaml").write_text(
        f"name: tiny\ndistricts:\n  path: {districts.name}\n  crs: wgs84\n"
        f"standards: [bus_stop_500]\nosm:\n  path: {osm.name}\n", encoding="utf-8")
    config = load_config(tmp_path / "tiny.yaml")
    monkeypatch.setenv("GEOPLAN_CACHE_DIR", str(tmp_path / "cache"))
    load_layers(config)
    hit = cache.load_frames(cache.osm_cache_key(osm, BOUNDARY_KEYS))
    assert hit is not None
    alone = read_osm(osm, BOUNDARY_KEYS)
    for table in ("nodes", "lines", "areas"):
        a, b = getattr(alone, table), hit[0][table]
        assert len(a) == len(b)
        assert a.geometry.geom_equals_exact(b.geometry, 0).all()

    reads: list[str] = []
    real_sets, real_one = osm_module.read_osm_sets, osm_module.read_osm

    def counting_sets(*args: object, **kwargs: object) -> object:
        reads.append("sets")
        return real_sets(*args, **kwargs)  # type: ignore[arg-type]

    def counting_one(*args: object, **kwargs: object) -> object:
        reads.append("one")
        return real_one(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setenv("GEOPLAN_NO_CACHE", "1")
    monkeypatch.setattr(osm_module, "read_osm_sets", counting_sets)
    monkeypatch.setattr(osm_module, "read_osm", counting_one)
    monkeypatch.setattr("geoplan.layers.load.read_osm_sets", counting_sets)
    before = len(reads)
    layerset = load_layers(config)
    assert reads[before:] == ["sets"]  # layers, dead-end context and boundaries in one pass
    assert layerset.datum is not None
