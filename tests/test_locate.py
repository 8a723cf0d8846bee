"""Coordinates that paste into Gaode and Baidu, and the nearest street (geoplan.locate)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from geoplan.chinese_coords import bd09_to_wgs84, gcj02_to_wgs84
from geoplan.locate import locate, lonlat_columns

CRS = "EPSG:32648"
X0, Y0 = 404_000.0, 3_392_000.0


def test_every_column_names_its_datum_and_converts_back():
    cols = lonlat_columns(np.array([104.0657]), np.array([30.6595]), prefix="end_")
    assert list(cols) == ["end_lon_wgs84", "end_lat_wgs84", "end_lon_gcj02", "end_lat_gcj02",
                          "end_lon_bd09", "end_lat_bd09"]
    # the GCJ-02 offset in Chengdu is a few hundred metres (about 0.0025° east, 0.0025° south)
    assert 0.001 < cols["end_lon_gcj02"][0] - 104.0657 < 0.004
    assert -0.004 < cols["end_lat_gcj02"][0] - 30.6595 < -0.001
    lon, lat = gcj02_to_wgs84(cols["end_lon_gcj02"], cols["end_lat_gcj02"])
    assert lon[0] == pytest.approx(104.0657, abs=2e-6) and lat[0] == pytest.approx(30.6595, abs=2e-6)
    lon, lat = bd09_to_wgs84(cols["end_lon_bd09"], cols["end_lat_bd09"])
    assert lon[0] == pytest.approx(104.0657, abs=2e-6) and lat[0] == pytest.approx(30.6595, abs=2e-6)


def test_nearest_named_street_within_reach():
    roads = gpd.GeoDataFrame(
        {"name": ["人民南路", "", "<b>东大街</b>"]},
        geometry=[LineString([(X0, Y0), (X0 + 1000, Y0)]),
                  LineString([(X0, Y0 + 50), (X0 + 1000, Y0 + 50)]),
                  LineString([(X0, Y0 + 600), (X0 + 1000, Y0 + 600)])], crs=CRS)
    feats = gpd.GeoDataFrame(
        {"district": ["a", "b", "c"]},
        geometry=[Point(X0 + 500, Y0 + 40),  # unnamed road nearer: the named one is reported
                  box(X0 + 400, Y0 + 540, X0 + 450, Y0 + 580),
                  Point(X0 + 1400, Y0 + 300)],  # 500 m from both: none within reach
        crs=CRS)
    out = locate(feats, roads)
    assert out["street"].tolist() == ["人民南路", "<b>东大街</b>", ""]
    wgs = feats.geometry.representative_point().to_crs(4326)
    assert np.allclose(out["lon_wgs84"], wgs.x, atol=1e-6)
    assert list(out.index) == list(feats.index)


def test_nearest_street_agrees_with_geopandas_sjoin_nearest_ties_included():
    import geopandas as gpd
    import shapely

    from geoplan.locate import nearest_street

    crs = "EPSG:32648"
    roads = gpd.GeoDataFrame(
        {"name": ["甲路", "乙路", None, " ", "丙路"]},
        geometry=[shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(0, 0), (0, 100)]),
                  shapely.LineString([(50, 5), (60, 5)]), shapely.LineString([(50, -5), (60, -5)]),
                  shapely.LineString([(1000, 0), (1100, 0)])], crs=crs)
    pts = gpd.GeoSeries(shapely.points([(0, 0), (50, 10), (-10, -10), (55, 4), (650, 0), (1050, 1)]),
                        crs=crs)
    named = roads.loc[roads["name"].fillna("").str.strip() != ""]
    left = gpd.GeoDataFrame(geometry=pts, crs=crs)
    joined = gpd.sjoin_nearest(left, named[["name", "geometry"]], how="left", max_distance=300.0)
    joined = joined[~joined.index.duplicated(keep="first")]
    expected = [v if isinstance(v, str) else "" for v in joined["name"]]
    got = nearest_street(pts, roads)
    assert got == expected
    assert got[0] in ("甲路", "乙路") and got[3] == "甲路" and got[4] == "" and got[5] == "丙路"
