"""The meeting map's level of detail (geoplan.report._map_detail) and its encoders, on paper cases."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from geoplan.report._map_detail import (
    REFERENCE_M_PER_PX,
    Detail,
    current,
    detail_for_bounds,
    drop_small_pieces,
    generalise,
    to_map,
    using,
)
from geoplan.report._map_layers import DataLayer, encode_geometries, polyline, polyline_runs


def _reference_encode(geoms: list, kind: str, scale: int) -> tuple[str, list | None]:
    """The encoder as it was written first: one geometry at a time."""
    chunks, parts = [], (None if kind == "point" else [])
    for geom in geoms:
        if kind == "point":
            chunks.append(np.asarray(shapely.get_coordinates(geom))[:1])
            continue
        members = list(getattr(geom, "geoms", [geom]))
        if kind == "line":
            lines = [np.asarray(shapely.get_coordinates(g)) for g in members if not g.is_empty]
            chunks += lines
            parts.append([len(c) for c in lines])
        else:
            polys = []
            for poly in members:
                rings = [np.asarray(poly.exterior.coords),
                         *(np.asarray(r.coords) for r in poly.interiors)]
                chunks += rings
                polys.append([len(c) for c in rings])
            parts.append(polys)
    flat = np.concatenate(chunks) if chunks else np.zeros((0, 2))
    return polyline(np.rint(flat[:, :2] * scale).astype(np.int64)), parts


def test_detail_is_one_for_a_district_sized_map() -> None:
    # the default analysis' bounds (central Chengdu, 8.4 × 8.3 km): drawn as before
    d = detail_for_bounds([104.0421, 30.6528, 104.1296, 30.7279])
    assert d.factor == 1.0 and d.scale == 1_000_000
    assert d.min_area_m2 == d.min_length_m == 0.0 and d.tolerance(6.0) == 6.0


def test_detail_grows_with_the_pixel_at_the_opening_view() -> None:
    # 1° of latitude ≈ 110.574 km over 840 px: 131.6 m per pixel
    d = detail_for_bounds([104.0, 30.0, 104.01, 31.0])
    assert d.m_per_px == pytest.approx(110_574 / 840)
    assert d.factor == pytest.approx(d.m_per_px / REFERENCE_M_PER_PX)
    assert d.scale == 100_000 and d.tolerance(6.0) == pytest.approx(6.0 * d.factor)
    assert d.min_length_m == pytest.approx(0.5 * d.m_per_px)
    assert detail_for_bounds([np.nan] * 4) == Detail()


def test_using_sets_and_restores_the_detail() -> None:
    big = Detail(factor=4.0, m_per_px=48.0)
    assert current() == Detail()
    with using(big):
        assert current() is big
    assert current() == Detail()


def test_drop_small_pieces_keeps_big_parts_and_empties_all_small() -> None:
    big, small = box(0, 0, 100, 100), box(200, 0, 201, 1)  # 10,000 and 1 m²
    geoms = np.array([MultiPolygon([big, small]), small, LineString([(0, 0), (1, 0)]), None],
                     dtype=object)
    out = drop_small_pieces(geoms, 50.0)
    assert out[0].area == pytest.approx(10_000)
    assert out[1].is_empty
    assert out[2] is geoms[2] and out[3] is None
    assert drop_small_pieces(geoms, 0.0) is not None and drop_small_pieces(geoms, 0.0)[1] is small


def test_generalise_snaps_areas_to_the_pixel_grid_only_above_factor_one() -> None:
    wobbly = Polygon([(0, 0), (1000, 3), (1000, 1000), (0, 1000)])
    geoms = np.array([wobbly], dtype=object)
    assert generalise(geoms, Detail())[0] is wobbly
    out = generalise(geoms, Detail(factor=10.0, m_per_px=120.0))[0]  # grid 60 m
    assert set(np.round(shapely.get_coordinates(out).ravel() % 60, 6)) <= {0.0}
    assert out.area == pytest.approx(1020 * 1020, rel=0.01)  # 1000 m snapped to 1020


def test_to_map_at_factor_one_is_plain_reprojection() -> None:
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[box(500_000, 3_400_000, 500_100,
                                                     3_400_100)], crs="EPSG:32648")
    out = to_map(gdf, 2.0)
    assert out.crs.to_epsg() == 4326 and len(out) == 1
    with using(Detail(factor=10.0, m_per_px=120.0)):  # a 1 ha square is under half a pixel²?
        assert len(to_map(gdf, 2.0)) == 1  # 10,000 m² ≥ (60 m)²: kept
    with using(Detail(factor=40.0, m_per_px=480.0)):
        assert len(to_map(gdf, 2.0)) == 0  # under (240 m)²: not drawn


def test_to_wgs84_gives_geopandas_coordinates_rounded() -> None:
    """The array path gives, to the last bit, geopandas' ``to_crs`` rounded to 6 decimals;
    shapes simplified away are dropped, rows keep their index; a geographic frame works."""
    from geoplan.report._data import simplify_drawn, to_wgs84

    rng = np.random.default_rng(3)
    x0, y0 = 410_000.0, 3_390_000.0
    geoms = [Point(x0 + rng.uniform(0, 9e3), y0 + rng.uniform(0, 9e3)) for _ in range(50)]
    geoms += [LineString(np.c_[x0 + rng.uniform(0, 9e3, 7), y0 + rng.uniform(0, 9e3, 7)])
              for _ in range(50)]
    geoms += [box(x0 + i * 100.0, y0, x0 + i * 100.0 + 55.5, y0 + 77.7) for i in range(50)]
    geoms += [Polygon(), None, box(x0, y0, x0 + 0.5, y0 + 0.5)]  # empty, missing, tiny
    gdf = gpd.GeoDataFrame({"a": np.arange(len(geoms))}, geometry=geoms, crs="EPSG:32648",
                           index=np.arange(len(geoms)) * 3)
    for tol in (0.0, 2.0):
        got = to_wgs84(gdf, simplify_m=tol)
        ref = gdf.set_geometry(simplify_drawn(gdf.geometry.to_numpy(), tol) if tol else
                               gdf.geometry.to_numpy(), crs=gdf.crs).to_crs("EPSG:4326")
        ref_g = shapely.transform(ref.geometry.to_numpy(), lambda c: np.round(c, 6))
        keep = ~shapely.is_empty(ref_g) & ~shapely.is_missing(ref_g)
        assert got.crs.to_epsg() == 4326
        assert got.index.tolist() == ref.index[keep].tolist()
        assert shapely.equals_exact(got.geometry.to_numpy(), ref_g[keep], 0).all()
        assert got["a"].tolist() == ref["a"][keep].tolist()
    # the empty and the missing dropped; the tiny square kept (topology-preserving simplifier)
    assert len(to_wgs84(gdf, simplify_m=2.0)) == 151
    geo = to_wgs84(gdf.iloc[:3].to_crs("EPSG:4326"))
    assert np.allclose(shapely.get_coordinates(geo.geometry),
                       shapely.get_coordinates(to_wgs84(gdf.iloc[:3]).geometry), atol=2e-6)


@pytest.mark.parametrize("kind", ["point", "line", "area"])
@pytest.mark.parametrize("scale", [1_000_000, 100_000])
def test_vectorised_encoder_matches_the_one_geometry_at_a_time_encoder(kind: str,
                                                                       scale: int) -> None:
    rng = np.random.default_rng(7)
    geoms: list = []
    for i in range(30):
        x, y = 104 + rng.random() * 0.1, 30.6 + rng.random() * 0.1
        if kind == "point":
            geoms.append(Point(x, y))
        elif kind == "line":
            geoms.append(shapely.multilinestrings([LineString(
                [(x, y), (x + 0.001 * k, y + 0.002)]) for k in range(1 + i % 3)]))
        else:
            outer = box(x, y, x + 0.01, y + 0.01)
            hole = box(x + 0.002, y + 0.002, x + 0.004, y + 0.004)
            poly = Polygon(outer.exterior.coords, [hole.exterior.coords]) if i % 2 else outer
            geoms.append(MultiPolygon([poly, box(x + 0.02, y, x + 0.03, y + 0.01)])
                         if i % 3 == 0 else poly)
    assert encode_geometries(geoms, kind, scale) == _reference_encode(geoms, kind, scale)


def test_polyline_runs_restart_at_every_run() -> None:
    rng = np.random.default_rng(3)
    counts = [3, 0, 1, 5, 2]
    v = rng.integers(-10**7, 10**7, size=(sum(counts), 2))
    ends = np.cumsum(counts)
    assert polyline_runs(v, counts) == [polyline(v[e - c:e]) for e, c in zip(ends, counts,
                                                                            strict=True)]
    assert polyline_runs(np.zeros((0, 2)), []) == []


def test_city_sized_layers_carry_their_coordinate_scale() -> None:
    gdf = gpd.GeoDataFrame({"t": ["a"]}, geometry=[Point(104.05, 30.7)], crs="EPSG:4326")
    assert '"scale"' not in DataLayer(gdf, css_class="x", style={}).spec_json
    with using(Detail(factor=5.0, m_per_px=60.0)):
        spec = DataLayer(gdf, css_class="x", style={}).spec_json
    assert '"scale":100000' in spec and '"coords":"' + polyline(
        np.array([[10_405_000, 3_070_000]])) + '"' in spec
