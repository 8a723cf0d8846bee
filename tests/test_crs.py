"""Tests of geoplan.crs: GCJ-02/BD-09 conversions, declared CRSs, and the analysis CRS.

The point conversions are checked against two independent implementations installed for
testing only (``prcoords`` and ``eviltransform``), point by point in plain Python.
"""

from __future__ import annotations

import dataclasses
import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

import geoplan.chinese_coords as chinese_coords
from geoplan._errors import CRSError
from geoplan.crs import (
    ACCEPTED_NAMES,
    DeclaredCRS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    ensure_projected,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    parse_declared_crs,
    resolve_analysis_crs,
    to_wgs84,
    utm_crs_for,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

prcoords = pytest.importorskip("prcoords")

GEOD = pyproj.Geod(ellps="WGS84")
N_POINTS = 3000
CHENGDU = (104.07, 30.67)
ALL_FUNCTIONS = (
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
    wgs84_to_bd09,
    bd09_to_wgs84,
)


@pytest.fixture(scope="module")
def china_points() -> tuple[np.ndarray, np.ndarray]:
    """Random WGS 84 points spread over (and inside the GCJ-02 box of) China."""
    rng = np.random.default_rng(20240601)
    return rng.uniform(73.5, 135.0, N_POINTS), rng.uniform(18.0, 53.5, N_POINTS)


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distances in metres between two sets of WGS 84 points."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# --------------------------------------------------------------------------------------------
# Point conversions against independent implementations
# --------------------------------------------------------------------------------------------


def test_wgs84_to_gcj02_matches_prcoords(china_points):
    lon, lat = china_points
    got_lon, got_lat = wgs84_to_gcj02(lon, lat)
    ref = np.array([prcoords.wgs_gcj((b, a)) for a, b in zip(lon, lat, strict=True)])
    # Same published formula and constants: agreement to rounding (measured: 0 and 4e-15 deg).
    assert np.abs(got_lon - ref[:, 1]).max() < 1e-9
    assert np.abs(got_lat - ref[:, 0]).max() < 1e-9
    # and the offsets are real: typically hundreds of metres
    assert np.median(metres(lon, lat, got_lon, got_lat)) > 200


def test_wgs84_to_gcj02_matches_eviltransform_up_to_its_radius(china_points):
    evil = pytest.importorskip("eviltransform")
    lon, lat = china_points
    got_lon, got_lat = wgs84_to_gcj02(lon, lat)
    ref = np.array([evil.wgs2gcj(b, a) for a, b in zip(lon, lat, strict=True)])
    # eviltransform divides by the WGS 84 radius 6378137 where the published formula (and
    # prcoords) use Krasovsky's 6378245, so its offsets are 1.7e-5 relatively larger: up to
    # 1.6e-7 degrees (about 1.5 cm). Within 1e-6 degrees ...
    assert np.abs(got_lon - ref[:, 1]).max() < 1e-6
    assert np.abs(got_lat - ref[:, 0]).max() < 1e-6
    # ... and exactly explained by that radius: rescaling our offsets reproduces theirs.
    scale = 6378245.0 / 6378137.0
    assert np.abs(lon + (got_lon - lon) * scale - ref[:, 1]).max() < 1e-11
    assert np.abs(lat + (got_lat - lat) * scale - ref[:, 0]).max() < 1e-11


def test_gcj02_to_bd09_matches_prcoords_and_eviltransform(china_points):
    lon, lat = wgs84_to_gcj02(*china_points)
    got_lon, got_lat = gcj02_to_bd09(lon, lat)
    ref = np.array([prcoords.gcj_bd((b, a)) for a, b in zip(lon, lat, strict=True)])
    assert np.abs(got_lon - ref[:, 1]).max() < 1e-9
    assert np.abs(got_lat - ref[:, 0]).max() < 1e-9
    evil = pytest.importorskip("eviltransform")
    ref = np.array([evil.gcj2bd(b, a) for a, b in zip(lon, lat, strict=True)])
    assert np.abs(got_lon - ref[:, 1]).max() < 1e-9
    assert np.abs(got_lat - ref[:, 0]).max() < 1e-9
    # the composed function is the composition
    both = wgs84_to_bd09(*china_points)
    np.testing.assert_array_equal(both[0], got_lon)
    np.testing.assert_array_equal(both[1], got_lat)


def test_gcj02_round_trip_is_exact_to_a_millimetre(china_points):
    lon, lat = china_points
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    err = metres(lon, lat, back_lon, back_lat)
    # Measured: max 1e-6 m. The brief asks < 0.5 m; the one-step inverse many libraries ship
    # is off by up to 4 m (see below).
    assert err.max() < 1e-3


def test_gcj02_inverse_agrees_with_prcoords_exact_inverse(china_points):
    lon, lat = china_points
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    ours = gcj02_to_wgs84(g_lon, g_lat)
    exact = np.array([prcoords.gcj_wgs_bored((b, a)) for a, b in zip(g_lon, g_lat, strict=True)])
    rough = np.array([prcoords.gcj_wgs((b, a)) for a, b in zip(g_lon, g_lat, strict=True)])
    # prcoords' iteration stops once a step is below 1e-5 degrees, which leaves up to about
    # 1 cm (measured 4 mm); its one-step inverse is off by metres.
    assert metres(exact[:, 1], exact[:, 0], *ours).max() < 0.02
    truth_err_ours = metres(lon, lat, *ours)
    truth_err_exact = metres(lon, lat, exact[:, 1], exact[:, 0])
    truth_err_rough = metres(lon, lat, rough[:, 1], rough[:, 0])
    assert truth_err_ours.max() <= truth_err_exact.max()
    assert truth_err_rough.max() > 0.5  # so a one-step inverse would fail the round trip test


def test_bd09_round_trips(china_points):
    lon, lat = china_points
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    back = bd09_to_gcj02(*gcj02_to_bd09(g_lon, g_lat))
    # The published closed-form reverse alone is off by up to 0.2 m; ours iterates.
    assert metres(g_lon, g_lat, *back).max() < 1e-3
    back_wgs = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert metres(lon, lat, *back_wgs).max() < 1e-3
    # prcoords' closed-form reverse agrees to its stated 1e-7-degree-ish accuracy
    b_lon, b_lat = gcj02_to_bd09(g_lon, g_lat)
    ref = np.array([prcoords.bd_gcj((b, a)) for a, b in zip(b_lon, b_lat, strict=True)])
    assert metres(ref[:, 1], ref[:, 0], *back).max() < 0.5


def test_chengdu_offset_is_a_few_hundred_metres_south_east():
    lon, lat = CHENGDU
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    shift = metres(lon, lat, g_lon, g_lat)
    assert 250 < float(shift) < 500  # measured 360 m
    assert g_lon > lon and g_lat < lat  # GCJ-02 moves Chengdu east and south
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    assert 500 < float(metres(lon, lat, b_lon, b_lat)) < 2000  # BD-09 adds about 0.006 deg more


@pytest.mark.parametrize("func", ALL_FUNCTIONS, ids=lambda f: f.__name__)
def test_points_outside_china_are_unchanged(func):
    lon = np.array([2.3522, -74.006, 139.69, -120.0, 72.0, 104.0, 151.2, 0.0])
    lat = np.array([48.8566, 40.7128, 35.69, -30.0, 30.0, 0.5, -33.87, 0.0])
    out_lon, out_lat = func(lon, lat)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)


@pytest.mark.parametrize("func", ALL_FUNCTIONS, ids=lambda f: f.__name__)
def test_scalar_list_and_array_inputs(func):
    lon, lat = CHENGDU
    s_lon, s_lat = func(lon, lat)
    assert np.ndim(s_lon) == 0 and np.ndim(s_lat) == 0
    assert isinstance(float(s_lon), float) and s_lon != lon
    a_lon, a_lat = func(np.array([lon, 120.0]), np.array([lat, 30.0]))
    assert a_lon.shape == (2,) and a_lon.dtype == np.float64
    assert a_lon[0] == s_lon and a_lat[0] == s_lat
    l_lon, _ = func([lon, 120.0], [lat, 30.0])
    np.testing.assert_array_equal(l_lon, a_lon)
    grid_lon, grid_lat = np.meshgrid([103.9, 104.0, 104.1], [30.6, 30.7])
    g_lon, g_lat = func(grid_lon, grid_lat)
    assert g_lon.shape == (2, 3) and g_lat.shape == (2, 3)
    # broadcasting a scalar latitude works; mismatched shapes are refused
    b_lon, _ = func(np.array([lon, 120.0]), lat)
    assert b_lon[0] == s_lon
    with pytest.raises(ValueError, match="same shape"):
        func(np.zeros(3), np.zeros(2))


@pytest.mark.parametrize("func", ALL_FUNCTIONS, ids=lambda f: f.__name__)
def test_nan_passes_through_without_warnings(func):
    lon = np.array([np.nan, CHENGDU[0], 104.1, np.nan])
    lat = np.array([30.6, np.nan, 30.7, np.nan])
    out_lon, out_lat = func(lon, lat)  # pytest turns any RuntimeWarning into an error
    # a point with a NaN coordinate is not converted: NaN stays NaN, the other value is kept
    assert np.isnan(out_lon[[0, 3]]).all() and np.isnan(out_lat[[1, 3]]).all()
    assert out_lat[0] == 30.6 and out_lon[1] == CHENGDU[0]
    ref_lon, ref_lat = func(104.1, 30.7)
    assert out_lon[2] == ref_lon and out_lat[2] == ref_lat
    all_nan = func(np.array([np.nan]), np.array([np.nan]))
    assert np.isnan(all_nan[0]).all()
    empty = func(np.array([]), np.array([]))
    assert empty[0].shape == (0,)


def test_inputs_are_not_modified():
    lon = np.array([104.0, 104.1])
    lat = np.array([30.6, 30.7])
    for func in ALL_FUNCTIONS:
        func(lon, lat)
    np.testing.assert_array_equal(lon, [104.0, 104.1])
    np.testing.assert_array_equal(lat, [30.6, 30.7])


def test_conversions_are_vectorised(monkeypatch):
    """The formula is evaluated on whole arrays: a fixed number of calls, whatever the size."""
    calls = {"gcj": 0, "bd": 0}
    gcj_offset, bd_forward = chinese_coords._gcj_offset, chinese_coords._bd_forward_unmasked

    def counting_gcj(lon, lat):
        calls["gcj"] += 1
        return gcj_offset(lon, lat)

    def counting_bd(lon, lat):
        calls["bd"] += 1
        return bd_forward(lon, lat)

    monkeypatch.setattr(chinese_coords, "_gcj_offset", counting_gcj)
    monkeypatch.setattr(chinese_coords, "_bd_forward_unmasked", counting_bd)
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(100, 120, 200_000), rng.uniform(20, 40, 200_000)
    wgs84_to_gcj02(lon, lat)
    assert calls["gcj"] == 1
    calls["gcj"] = 0
    gcj02_to_wgs84(lon, lat)
    assert 1 <= calls["gcj"] <= 6
    bd09_to_gcj02(lon, lat)
    assert 1 <= calls["bd"] <= 4


# --------------------------------------------------------------------------------------------
# Declared coordinate systems
# --------------------------------------------------------------------------------------------

ALIASES = {
    "wgs84": ("pyproj", 4326),
    "wgs-84": ("pyproj", 4326),
    "epsg:4326": ("pyproj", 4326),
    "4326": ("pyproj", 4326),
    "gcj02": ("gcj02", 4326),
    "gcj-02": ("gcj02", 4326),
    "gcj": ("gcj02", 4326),
    "mars": ("gcj02", 4326),
    "bd09": ("bd09", 4326),
    "bd-09": ("bd09", 4326),
    "baidu": ("bd09", 4326),
    "cgcs2000": ("pyproj", 4490),
}


@pytest.mark.parametrize("name", sorted(ALIASES))
@pytest.mark.parametrize("case", [str.lower, str.upper, str.title])
def test_parse_declared_crs_accepts_every_alias(name, case):
    kind, code = ALIASES[name]
    declared = parse_declared_crs(f"  {case(name)} ")
    assert isinstance(declared, DeclaredCRS)
    assert declared.kind == kind
    assert declared.crs.to_epsg() == code
    assert declared.label
    assert name in ACCEPTED_NAMES


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (4326, 4326),
        (4490, 4490),
        (4547, 4547),
        ("EPSG:4547", 4547),
        ("epsg:32648", 32648),
        ("4544", 4544),
        (pyproj.CRS.from_epsg(4547).to_wkt(), 4547),
        ("+proj=utm +zone=48 +datum=WGS84 +units=m +no_defs", 32648),
        (pyproj.CRS.from_epsg(32648), 32648),
    ],
)
def test_parse_declared_crs_accepts_codes_wkt_and_proj(value, code):
    declared = parse_declared_crs(value)
    assert declared.kind == "pyproj"
    assert declared.crs.to_epsg() == code


def test_parse_declared_crs_none_means_wgs84_and_declared_passes_through():
    declared = parse_declared_crs(None)
    assert declared.crs.to_epsg() == 4326 and declared.kind == "pyproj"
    gcj = parse_declared_crs("gcj02")
    assert parse_declared_crs(gcj) is gcj
    assert gcj == parse_declared_crs("MARS")
    assert "gcj02" in repr(gcj) and "EPSG:4326" in repr(gcj)
    with pytest.raises(dataclasses.FrozenInstanceError):
        gcj.kind = "bd09"  # type: ignore[misc]


@pytest.mark.parametrize("bad", ["gcj2", "wsg84", "badiu", "", "utm", "EPSG:99999", 99999, True])
def test_parse_declared_crs_rejects_unknown_names(bad):
    with pytest.raises(CRSError) as info:
        parse_declared_crs(bad)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    if "99999" in str(bad):
        assert "EPSG:99999" in message and "4490" in message
    else:
        for name in ACCEPTED_NAMES:
            assert name in message
        assert "EPSG:4547" in message


def test_misspelt_name_gets_a_suggestion():
    with pytest.raises(CRSError, match="Did you mean 'gcj02'"):
        parse_declared_crs("gcj2")


# --------------------------------------------------------------------------------------------
# to_wgs84
# --------------------------------------------------------------------------------------------


@pytest.fixture
def gcj_frame() -> gpd.GeoDataFrame:
    """A small GCJ-02 layer tagged EPSG:4326, as read from a DataV/AMap GeoJSON."""
    geoms = [
        Point(104.07, 30.67),
        LineString([(104.0, 30.6), (104.1, 30.7), (104.2, 30.65)]),
        Polygon([(104.0, 30.6), (104.1, 30.6), (104.1, 30.7), (104.0, 30.6)]),
        Point(2.35, 48.85),  # outside China: unchanged
    ]
    return gpd.GeoDataFrame({"name": list("abcd")}, geometry=geoms, crs="EPSG:4326")


@pytest.mark.parametrize(
    ("declared", "inverse"), [("gcj02", gcj02_to_wgs84), ("bd09", bd09_to_wgs84)]
)
def test_to_wgs84_converts_gcj02_and_bd09(gcj_frame, declared, inverse):
    before = shapely.get_coordinates(gcj_frame.geometry.values).copy()
    out = to_wgs84(gcj_frame, declared, source="pois.geojson")
    assert out.crs.to_epsg() == 4326
    assert list(out["name"]) == list("abcd") and out.index.equals(gcj_frame.index)
    got = shapely.get_coordinates(out.geometry.values)
    exp_lon, exp_lat = inverse(before[:, 0], before[:, 1])
    np.testing.assert_array_equal(got[:, 0], exp_lon)
    np.testing.assert_array_equal(got[:, 1], exp_lat)
    assert out.geometry.iloc[3].equals(gcj_frame.geometry.iloc[3])
    # the input is untouched
    np.testing.assert_array_equal(shapely.get_coordinates(gcj_frame.geometry.values), before)
    # a GeoSeries works too, and a frame without CRS
    series = to_wgs84(gcj_frame.geometry.set_crs(None, allow_override=True), declared)
    assert isinstance(series, gpd.GeoSeries) and series.crs.to_epsg() == 4326
    np.testing.assert_array_equal(shapely.get_coordinates(series.values), got)


def test_to_wgs84_keeps_z(gcj_frame):
    frame = gpd.GeoDataFrame(geometry=[Point(104.07, 30.67, 512.0)], crs="EPSG:4326")
    out = to_wgs84(frame, "gcj02")
    point = out.geometry.iloc[0]
    assert point.has_z and point.z == 512.0
    assert (point.x, point.y) == tuple(float(v) for v in gcj02_to_wgs84(104.07, 30.67))


def test_to_wgs84_refuses_projected_coordinates_declared_as_gcj02(gcj_frame):
    projected = gcj_frame.iloc[:3].to_crs(32648).set_crs(None, allow_override=True)
    with pytest.raises(CRSError) as info:
        to_wgs84(projected, "gcj02", source="districts.shp")
    message = str(info.value)
    assert "districts.shp" in message and "GCJ-02" in message
    assert "projected" in message and "metres" in message and "EPSG:32648" in message


def test_to_wgs84_names_the_gauss_kruger_zone_from_an_8_digit_x(gcj_frame):
    zoned = gcj_frame.iloc[:3].to_crs(4523).set_crs(None, allow_override=True)  # zone 35
    with pytest.raises(CRSError, match="EPSG:4523"):
        to_wgs84(zoned, "wgs84", source="survey.dxf")


def test_to_wgs84_refuses_swapped_axes():
    swapped = gpd.GeoSeries([Point(30.67, 104.07)])
    with pytest.raises(CRSError, match="swapped"):
        to_wgs84(swapped, "gcj02")


def test_to_wgs84_refuses_a_frame_crs_that_contradicts_the_declaration(gcj_frame):
    projected = gcj_frame.iloc[:3].to_crs(32648)
    with pytest.raises(CRSError) as info:
        to_wgs84(projected, "gcj02", source="roads.gpkg")
    message = str(info.value)
    assert "roads.gpkg" in message and "UTM zone 48N" in message and "GCJ-02" in message
    with pytest.raises(CRSError, match="CGCS2000"):
        to_wgs84(gcj_frame.iloc[:3].to_crs(4547), "EPSG:4544")


def test_to_wgs84_projected_declarations(gcj_frame):
    wgs = gcj_frame.iloc[:3]
    gk = wgs.to_crs(4544).set_crs(None, allow_override=True)  # CGCS2000 GK CM 105E
    out = to_wgs84(gk, "EPSG:4544", source="plan.shp")
    assert out.crs.to_epsg() == 4326
    err = metres(
        *shapely.get_coordinates(out.geometry.values).T,
        *shapely.get_coordinates(wgs.geometry.values).T,
    )
    assert err.max() < 0.01
    # the same coordinates declared as the zone-prefixed system land nowhere near its zone
    with pytest.raises(CRSError, match=r"plan\.shp"):
        to_wgs84(gk, "EPSG:4523", source="plan.shp")
    # degrees declared as a projected CRS
    with pytest.raises(CRSError, match="degrees"):
        to_wgs84(wgs.set_crs(None, allow_override=True), "EPSG:32648", source="pois.csv")
    # no declaration: the frame's own CRS is used
    assert to_wgs84(wgs.to_crs(32648), None).crs.to_epsg() == 4326


def test_to_wgs84_geographic_declarations(gcj_frame):
    out = to_wgs84(gcj_frame, "cgcs2000")  # GeoJSON's WGS 84 tag does not contradict it
    assert out.crs.to_epsg() == 4326
    np.testing.assert_allclose(
        shapely.get_coordinates(out.geometry.values),
        shapely.get_coordinates(gcj_frame.geometry.values),
        atol=1e-6,
    )
    same = to_wgs84(gcj_frame, "wgs84")
    assert same is not gcj_frame and same.geometry.equals(gcj_frame.geometry)
    empty = to_wgs84(gcj_frame.iloc[:0], "gcj02")
    assert len(empty) == 0 and empty.crs.to_epsg() == 4326
    with pytest.raises(TypeError):
        to_wgs84(shapely.points([1, 2], [3, 4]), "gcj02")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# The analysis CRS
# --------------------------------------------------------------------------------------------


def test_utm_crs_for():
    assert utm_crs_for(*CHENGDU).to_epsg() == 32648
    assert utm_crs_for(116.4, 39.9).to_epsg() == 32650  # Beijing
    assert utm_crs_for(-46.6, -23.5).to_epsg() == 32723  # São Paulo
    assert utm_crs_for(180.0, 10.0).to_epsg() == 32660
    assert utm_crs_for(-180.0, 10.0).to_epsg() == 32601
    with pytest.raises(CRSError):
        utm_crs_for(500_000.0, 3_400_000.0)
    with pytest.raises(CRSError):
        utm_crs_for(math.nan, 30.0)


@pytest.fixture
def chengdu_area() -> Polygon:
    return box(103.9, 30.55, 104.2, 30.8)


@pytest.mark.parametrize("spec", [None, "auto", "AUTO", "utm"])
def test_resolve_analysis_crs_auto_gives_local_utm(spec, chengdu_area):
    assert resolve_analysis_crs(spec, chengdu_area).to_epsg() == 32648
    series = gpd.GeoSeries([chengdu_area], crs="EPSG:4326")
    assert resolve_analysis_crs(spec, series).to_epsg() == 32648
    # a study area in another CRS is brought to lon/lat first
    assert resolve_analysis_crs(spec, series.to_crs(4547)).to_epsg() == 32648


@pytest.mark.parametrize("spec", ["EPSG:4547", 4547, "4547", pyproj.CRS.from_epsg(4547).to_wkt()])
def test_resolve_analysis_crs_explicit(spec, chengdu_area):
    assert resolve_analysis_crs(spec, chengdu_area).to_epsg() == 4547


@pytest.mark.parametrize("spec", ["EPSG:4326", 4326, "cgcs2000", "gcj02", "EPSG:4490"])
def test_resolve_analysis_crs_refuses_geographic(spec, chengdu_area):
    with pytest.raises(CRSError) as info:
        resolve_analysis_crs(spec, chengdu_area)
    message = str(info.value)
    assert "metres" in message and "EPSG:32648" in message and "EPSG:4544" in message


def test_resolve_analysis_crs_refuses_feet_and_unknown(chengdu_area):
    with pytest.raises(CRSError, match="metres"):
        resolve_analysis_crs(2263, chengdu_area)  # NAD83 / New York Long Island (ftUS)
    with pytest.raises(CRSError, match="auto"):
        resolve_analysis_crs("utm48", chengdu_area)
    with pytest.raises(CRSError, match="empty"):
        resolve_analysis_crs("auto", Polygon())


def test_ensure_projected():
    frame = gpd.GeoDataFrame(geometry=[Point(104.07, 30.67)])
    with pytest.raises(CRSError, match="no coordinate reference system"):
        ensure_projected(frame, "parks layer")
    with pytest.raises(CRSError, match=r"parks layer.*degrees"):
        ensure_projected(frame.set_crs(4326), "parks layer")
    with pytest.raises(CRSError, match="metres"):
        ensure_projected(frame.set_crs(4326).to_crs(2263), "parks layer")
    ensure_projected(frame.set_crs(4326).to_crs(32648), "parks layer")
    ensure_projected(frame.set_crs(4326).to_crs(32648).geometry, "parks layer")


def test_a_crs_that_stretches_distances_at_the_study_area_is_refused_or_warned(chengdu_area,
                                                                               caplog):
    # Web Mercator at 30.7°N: scale 1/cos(30.7°) = 1.163, so 500 m in it is 430 m on the ground
    with pytest.raises(CRSError, match=r"stretches distances by 16\.\d% .* would cover 43\d m"):
        resolve_analysis_crs("EPSG:3857", chengdu_area)
    # a Gauss-Krüger zone 10° of longitude away: 1.1 % off, used with a warning
    with caplog.at_level("WARNING", logger="geoplan.crs"):
        assert resolve_analysis_crs(4547, chengdu_area).to_epsg() == 4547
    assert "stretches distances by 1.1%" in caplog.text and "EPSG:4544" in caplog.text
    # the study area's own zone: no word
    caplog.clear()
    with caplog.at_level("WARNING", logger="geoplan.crs"):
        assert resolve_analysis_crs(4544, chengdu_area).to_epsg() == 4544
    assert "stretches" not in caplog.text


def test_a_stray_vertex_is_named_by_feature_not_taken_for_another_crs():
    from geoplan.crs import to_wgs84

    good = [box(104.0 + 0.01 * k, 30.6, 104.005 + 0.01 * k, 30.605) for k in range(3)]
    stray = Polygon([(104.08, 30.66), (1e300, 30.66), (104.12, 30.72), (104.08, 30.66)])
    frame = gpd.GeoDataFrame(geometry=[*good, stray], crs=None)
    with pytest.raises(CRSError, match=r"1 of \d+ coordinates lie outside .* in feature\(s\) 4 "
                                       r".*correct those vertices") as caught:
        to_wgs84(frame, "wgs84", source="d.geojson")
    assert "projected" not in str(caught.value)
    # a file all in metres is still a CRS mistake
    metres = gpd.GeoDataFrame(geometry=[box(400000, 3390000, 401000, 3391000)], crs=None)
    with pytest.raises(CRSError, match="projected coordinates in metres"):
        to_wgs84(metres, "wgs84", source="m.geojson")
