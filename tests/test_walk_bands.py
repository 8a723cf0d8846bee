"""Homes by walking distance (geoplan.coverage.walk_bands): bands known on paper, and the
bands of the default run agree with its walking shares."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geoplan.coverage.demand import residential_grid, residential_land
from geoplan.coverage.walk_bands import BANDS, band_codes, band_layout, walk_band_frame

CRS = "EPSG:32648"


def test_band_codes():
    d = np.array([0.0, 500.0, 500.001, 750.0, 750.5, np.inf, np.nan])
    assert band_codes(d, 500.0).tolist() == [0, 0, 1, 1, 2, 2, 2]


def _demand(land: shapely.Polygon):
    residential = gpd.GeoDataFrame({"geometry": [land]}, crs=CRS)
    districts = gpd.GeoDataFrame({"district": ["甲区"], "geometry": [shapely.box(-1000, -1000,
                                                                              1000, 1000)]},
                                 crs=CRS)
    return residential_grid(residential, districts, 25.0), residential_land(residential, districts)


def _by_column(dem, edges):
    """Band by the grid column of each piece: columns before edges[0] within, then near."""
    col = np.floor(shapely.get_x(dem.points) / 25.0)
    return np.where(col < edges[0], 0, np.where(col < edges[1], 1, 2)).astype(np.int8)


def test_an_aligned_block():
    """100 × 50 m of homes on the grid: columns 0–1 within, 2 near, 3 beyond."""
    dem, land = _demand(shapely.box(0, 0, 100, 50))
    bands = _by_column(dem, (2, 3))
    out = walk_band_frame("park_500", dem, bands, land, ["甲区"], 25.0)
    got = dict(zip(out["band"], zip(out["area_m2"], out.geometry.area, strict=True),
                   strict=True))
    assert set(got) == set(BANDS)
    assert got["within"] == pytest.approx((2500.0, 2500.0))
    assert got["near"] == pytest.approx((1250.0, 1250.0))
    assert got["beyond"] == pytest.approx((1250.0, 1250.0))
    # two rows of one run over the same columns: one 50 × 50 m rectangle
    within = out.loc[out["band"] == "within"].geometry.iloc[0]
    assert len(shapely.get_parts(within)) == 1
    assert shapely.equals(within, shapely.MultiPolygon([shapely.box(0, 0, 50, 50)]))


def test_rectangles_sharing_an_edge_become_one_valid_polygon():
    """Row 0 within over columns 0-1, row 1 over columns 0-2: two rectangles that share the
    edge y = 25 from x = 0 to 50 are drawn as one L-shaped polygon of 5 cells, not as two
    parts of one (invalid) MultiPolygon."""
    dem, land = _demand(shapely.box(0, 0, 100, 50))
    col = np.floor(shapely.get_x(dem.points) / 25.0)
    row = np.floor(shapely.get_y(dem.points) / 25.0)
    bands = np.where(col <= 1 + row, 0, 2).astype(np.int8)
    out = walk_band_frame("park_500", dem, bands, land, ["甲区"], 25.0)
    assert shapely.is_valid(out.geometry.to_numpy()).all()
    within = out.loc[out["band"] == "within"].geometry.iloc[0]
    assert len(shapely.get_parts(within)) == 1
    assert within.area == pytest.approx(5 * 625.0)
    assert shapely.equals(within, shapely.Polygon([(0, 0), (50, 0), (50, 25), (75, 25),
                                                   (75, 50), (0, 50)]))


def test_dissolve_against_union_all():
    """Each group's rectangles dissolved as GEOS's union_all dissolves them."""
    from geoplan.coverage.walk_bands import _dissolve, _runs, _stack

    rng = np.random.default_rng(8)
    n = 4000
    ix, iy, group = rng.integers(0, 30, n), rng.integers(0, 30, n), rng.integers(0, 25, n)
    g, row, first, last = _runs(ix, iy, group)
    g, row, top, first, last = _stack(g, row, first, last)
    rects = shapely.box(first * 10.0, row * 10.0, (last + 1) * 10.0, (top + 1) * 10.0)
    _, count = np.unique(g, return_counts=True)
    got = _dissolve(rects, count)
    start = np.cumsum(count) - count
    for k, (a, c) in enumerate(zip(start, count, strict=True)):
        want = shapely.union_all(rects[a:a + c])
        assert shapely.is_valid(got[k])
        assert shapely.equals(got[k], want)
        cells = np.unique((ix * 100 + iy)[group == np.unique(g)[k]]).size
        assert shapely.area(got[k]) == pytest.approx(cells * 100.0)


def test_land_off_the_grid_is_cut_to_the_land():
    """A 95 × 40 m block starting at x = 10 m: the bands cover exactly the land."""
    block = shapely.box(10, 5, 105, 45)
    dem, land = _demand(block)
    bands = _by_column(dem, (2, 3))
    out = walk_band_frame("park_500", dem, bands, land, ["甲区"], 25.0)
    assert out.geometry.area.sum() == pytest.approx(block.area)
    assert (out["area_m2"].to_numpy() == pytest.approx(out.geometry.area.to_numpy()))
    within = out.loc[out["band"] == "within"].geometry.iloc[0]
    # columns 0 and 1 are x < 50: the land from x = 10 to 50
    assert within.area == pytest.approx(40 * 40)
    assert shapely.covers(block.buffer(1e-6), within)


def test_one_layout_serves_every_standard():
    """Two standards drawn from one layout give what each gives with its own."""
    block = shapely.Polygon([(10, 5), (105, 5), (105, 45), (60, 80), (10, 45)])
    dem, land = _demand(block)
    layout = band_layout(dem, land, 25.0)
    assert len(layout.part) == len(dem) and (layout.part == 0).all()
    for edges in ((2, 3), (1, 4)):
        bands = _by_column(dem, edges)
        shared = walk_band_frame("park_500", dem, bands, land, ["甲区"], 25.0, layout)
        alone = walk_band_frame("park_500", dem, bands, land, ["甲区"], 25.0)
        assert shared.drop(columns="geometry").equals(alone.drop(columns="geometry"))
        assert shared.geometry.geom_equals_exact(alone.geometry, 0).all()
        assert shared.geometry.area.sum() == pytest.approx(block.area)


def test_bands_made_on_two_threads_are_those_of_one(monkeypatch):
    """Several land parts with ragged bands, drawn in blocks on two threads (every size
    threaded) and on one: the same frame, shape for shape, and each thread's block tested
    only against parts it was given (none left prepared by the layout)."""
    from geoplan._threads import using_threads
    from geoplan.coverage import walk_bands

    rng = np.random.default_rng(11)
    blocks = [shapely.box(x, y, x + rng.uniform(60, 300), y + rng.uniform(60, 300))
              for x in range(-900, 700, 400) for y in range(-900, 700, 400)]
    dem, land = _demand(shapely.union_all(blocks))
    bands = rng.integers(0, 3, len(dem)).astype(np.int8)
    layout = band_layout(dem, land, 25.0)
    assert len(layout.parts) == len(blocks) and not shapely.is_prepared(layout.parts).any()
    with using_threads(1):
        one = walk_band_frame("park_500", dem, bands, land, ["甲区"], 25.0, layout)
    monkeypatch.setattr(walk_bands, "_THREADED_MIN_RECTS", 0)
    with using_threads(2):
        two = walk_band_frame("park_500", dem, bands, land, ["甲区"], 25.0, layout)
    assert len(one) == 3
    assert two.drop(columns="geometry").equals(one.drop(columns="geometry"))
    assert two.geometry.geom_equals_exact(one.geometry, 0).all()
    assert two.geometry.area.sum() == pytest.approx(shapely.area(land[0]))


def test_no_residential_land():
    dem, land = _demand(shapely.Polygon())
    out = walk_band_frame("park_500", dem, np.zeros(0, np.int8), land, ["甲区"], 25.0)
    assert len(out) == 0 and list(out.columns) == ["standard", "district", "band", "area_m2",
                                                   "geometry"]


def test_default_run_bands_match_the_walking_shares(chengdu_results):
    """The land within the radius by walking is the walking share's numerator."""
    coverage, _, _ = chengdu_results
    bands = coverage.walk_bands
    table = coverage.table
    assert len(bands) > 0
    assert set(bands["band"]) <= set(BANDS)
    checked = 0
    for (sid, district), rows in bands.groupby(["standard", "district"]):
        row = table.loc[(table["standard"] == sid) & (table["district"] == district)].iloc[0]
        within = rows.loc[rows["band"] == "within", "area_m2"].sum()
        assert within / row["demand_total"] == pytest.approx(row["share_network"], abs=1e-9)
        assert rows["area_m2"].sum() == pytest.approx(row["demand_total"], rel=1e-9)
        # the drawn land is the land of the pieces (cut to the same land)
        assert rows.geometry.area.sum() == pytest.approx(row["demand_total"], rel=1e-6)
        # valid shapes: QGIS's processing tools stop at an invalid feature
        assert shapely.is_valid(rows.geometry.to_numpy()).all()
        checked += 1
    # every single-kind residential standard is drawn, the life circles are not
    assert "park_500" in set(bands["standard"]) and "primary_school_500" in set(bands["standard"])
    assert not any(s.startswith("life_circle") for s in set(bands["standard"]))
    assert checked >= 4 * 6


def test_rectangle_clip_on_paper_and_against_the_overlay():
    from geoplan._rects import clip_to_rects

    # a right triangle (0,0)-(100,0)-(0,100) cut to [0,50]x[0,50]: the square minus the corner
    # triangle above x + y = 100, which misses it: 2500 m²; a U cut through both arms: 2 parts
    tri = shapely.Polygon([(0, 0), (100, 0), (0, 100)])
    u = shapely.Polygon([(0, 0), (30, 0), (30, 80), (70, 80), (70, 0), (100, 0), (100, 100),
                         (0, 100)])
    got = clip_to_rects(np.array([tri, u], dtype=object),
                         shapely.box(np.array([0.0, -10.0]), np.array([0.0, 10.0]),
                                     np.array([50.0, 110.0]), np.array([50.0, 50.0])))
    assert shapely.area(got[0]) == pytest.approx(2500.0, rel=1e-12)
    assert len(shapely.get_parts(got[1])) == 2
    assert shapely.area(got[1]) == pytest.approx(2 * 30 * 40, rel=1e-12)
    # random polygons and rectangles: the overlay's polygons, up to the last bits
    rng = np.random.default_rng(3)
    centre = rng.uniform(0, 1000, (300, 2))
    polys = shapely.buffer(shapely.points(centre), rng.uniform(5, 60, 300), quad_segs=3)
    lo = centre + rng.uniform(-50, 0, (300, 2))
    rects = shapely.box(lo[:, 0], lo[:, 1], lo[:, 0] + 25 * rng.integers(1, 5, 300),
                        lo[:, 1] + 25.0)
    clip = clip_to_rects(polys, rects)
    want = shapely.intersection(rects, polys)
    assert shapely.area(clip) == pytest.approx(shapely.area(want), rel=1e-12, abs=1e-9)
    assert (shapely.area(shapely.symmetric_difference(clip, want))
            <= 1e-12 * np.maximum(shapely.area(want), 1.0)).all()


def test_the_layout_made_a_block_of_points_at_a_time_is_the_whole(monkeypatch):
    """Many land parts, the demand points built 7 at a time: each piece in the same part
    and cell as with every point built at once (and on the part it lies on, by hand)."""
    from geoplan.coverage import walk_bands

    blocks = [shapely.box(x, y, x + 60, y + 45) for x in range(0, 400, 80) for y in range(0, 300, 60)]
    dem, land = _demand(shapely.union_all(blocks))
    whole = band_layout(dem, land, 25.0)
    monkeypatch.setattr(walk_bands, "_LAYOUT_BLOCK", 7)
    blocked = band_layout(dem, land, 25.0)
    assert len(dem) > 7 * 10 and len(whole.parts) == len(blocks)
    for name in ("part", "ix", "iy", "part_district"):
        np.testing.assert_array_equal(getattr(blocked, name), getattr(whole, name))
    x, y = dem.xy()
    on = shapely.covers(blocked.parts[blocked.part], shapely.points(x, y))
    assert on.all()
    assert (blocked.ix == np.floor(x / 25.0)).all() and (blocked.iy == np.floor(y / 25.0)).all()
