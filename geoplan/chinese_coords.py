"""GCJ-02 and BD-09 point conversions, vectorised over NumPy arrays.

GCJ-02 (the obfuscated "Mars" system of AMap/Gaode, Tencent and Aliyun DataV) and BD-09 (Baidu)
are not in PROJ. GCJ-02 is defined only by its forward formula (WGS 84 → GCJ-02); the reverse
here is an iterative fixed-point solution accurate to well under a millimetre, not the one-step
approximation (metre-level error) that many libraries ship. As the formula defines, points
outside the rough China bounding box (lon 72.004–137.8347, lat 0.8293–55.8271) are not shifted;
the same box is applied to the BD-09 step so that data outside China passes through unchanged.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
#: A longitude or latitude result: an array, or a NumPy float when the inputs were scalars.
Coord = FloatArray | np.float64

# Constants of the published GCJ-02 formula: Krasovsky 1940 semi-major axis and first
# eccentricity squared, and the rough bounding box inside which the offset is applied.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_CHINA_LON_MIN, _CHINA_LON_MAX = 72.004, 137.8347
_CHINA_LAT_MIN, _CHINA_LAT_MAX = 0.8293, 55.8271
# Constants of the published BD-09 formula.
_BD_X_PI = math.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006
# Fixed-point iterations for the inverse transforms stop when the largest correction is below
# _INVERSE_TOL_DEG (about 1 cm), or after _INVERSE_MAX_ITER steps. Each step shrinks the error by
# the offset's Lipschitz constant q, measured on a 3000 x 2000 grid over the China box as at
# most 0.0075 for GCJ-02 (median 0.002) and about 0.02 for BD-09, so the error left after a
# step of size s is at most s q / (1 - q): below 3e-9 degrees (0.3 mm) when we stop.
_INVERSE_TOL_DEG = 1e-7
_INVERSE_MAX_ITER = 30

# --------------------------------------------------------------------------------------------
# Point conversions
# --------------------------------------------------------------------------------------------


def _prepare(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray, bool]:
    """Float copies of ``lon``, ``lat`` broadcast to one shape, and whether both were scalars."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    try:
        lon_b, lat_b = np.broadcast_arrays(lon_a, lat_a)
    except ValueError as exc:
        raise ValueError(
            f"lon and lat must have the same shape (or broadcast together); "
            f"got {lon_a.shape} and {lat_a.shape}"
        ) from exc
    return lon_b.copy(), lat_b.copy(), lon_a.ndim == 0 and lat_a.ndim == 0


def _finish(lon: FloatArray, lat: FloatArray, scalar: bool) -> tuple[Coord, Coord]:
    if scalar:
        return np.float64(lon[()]), np.float64(lat[()])
    return lon, lat


def in_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Tell which points lie in the rough China box inside which GCJ-02 shifts coordinates.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees (array-likes or scalars of one shape).

    Returns
    -------
    numpy.ndarray of bool
        True where lon is within 72.004–137.8347 and lat within 0.8293–55.8271 (NaN gives False).
    """
    lon_a, lat_a, _ = _prepare(lon, lat)
    return (
        (lon_a >= _CHINA_LON_MIN)
        & (lon_a <= _CHINA_LON_MAX)
        & (lat_a >= _CHINA_LAT_MIN)
        & (lat_a <= _CHINA_LAT_MAX)
    )


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 offset in degrees (to add to WGS 84) at the given points, without the China test.

    The published formula needs twelve sines; the triple- and double-angle identities
    (sin 3a = 3 sin a - 4 sin^3 a, cos 3a = 4 cos^3 a - 3 cos a, sin 2a = 2 sin a cos a) give
    sin(pi x), sin(2 pi x), sin(6 pi x) and sin(pi y) from sin/cos(pi x / 3) and sin(pi y / 3),
    so seven are evaluated. The results agree with the plain formula to about 1e-17 degrees.
    """
    x = lon - 105.0
    y = lat - 35.0
    a = (math.pi / 3.0) * x
    b = (math.pi / 3.0) * y
    sin_a, cos_a = np.sin(a), np.cos(a)
    sin_b = np.sin(b)
    sin_px = sin_a * (3.0 - 4.0 * sin_a * sin_a)  # sin(pi x)
    cos_px = cos_a * (4.0 * cos_a * cos_a - 3.0)  # cos(pi x)
    sin_2px = 2.0 * sin_px * cos_px  # sin(2 pi x)
    sin_6px = sin_2px * (3.0 - 4.0 * sin_2px * sin_2px)  # sin(6 pi x)
    sin_py = sin_b * (3.0 - 4.0 * sin_b * sin_b)  # sin(pi y)
    sqrt_abs_x = np.sqrt(np.abs(x))
    xy = x * y
    # Offsets in metres (north and east): a smooth trend plus the published sine terms.
    wiggle = 20.0 * sin_6px + 20.0 * sin_2px
    north_m = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * xy + 0.2 * sqrt_abs_x) + (
        2.0 / 3.0
    ) * (
        wiggle
        + 20.0 * sin_py
        + 40.0 * sin_b
        + 160.0 * np.sin((math.pi / 12.0) * y)
        + 320.0 * np.sin((math.pi / 30.0) * y)
    )
    east_m = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * xy + 0.1 * sqrt_abs_x) + (2.0 / 3.0) * (
        wiggle
        + 20.0 * sin_px
        + 40.0 * sin_a
        + 150.0 * np.sin((math.pi / 12.0) * x)
        + 300.0 * np.sin((math.pi / 30.0) * x)
    )
    # Metres to degrees with the Krasovsky ellipsoid's meridian radius M = a(1-e2)/w^3 and
    # parallel radius N cos(phi) = a cos(phi)/w, where w = sqrt(1 - e2 sin^2 phi).
    phi = np.radians(lat)
    sin_phi = np.sin(phi)
    w2 = 1.0 - _GCJ_EE * sin_phi * sin_phi
    w = np.sqrt(w2)
    deg_per_m_lat = (w2 * w) / (_GCJ_A * (1.0 - _GCJ_EE)) * (180.0 / math.pi)
    deg_per_m_lon = w / (_GCJ_A * np.cos(phi)) * (180.0 / math.pi)
    return east_m * deg_per_m_lon, north_m * deg_per_m_lat


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Coord, Coord]:
    """Convert WGS 84 longitudes/latitudes to GCJ-02.

    Parameters
    ----------
    lon, lat
        WGS 84 longitudes and latitudes in degrees: scalars or array-likes of one shape.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)`` as float arrays of the input shape (NumPy floats for scalar input).
        Points outside the China box and NaN are returned unchanged.
    """
    lon_a, lat_a, scalar = _prepare(lon, lat)
    mask = in_china(lon_a, lat_a)
    dlon, dlat = _gcj_offset(lon_a[mask], lat_a[mask])
    lon_a[mask] += dlon
    lat_a[mask] += dlat
    return _finish(lon_a, lat_a, scalar)


def _solve_inverse(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    target_lon: FloatArray,
    target_lat: FloatArray,
    start_lon: FloatArray,
    start_lat: FloatArray,
    what: str,
) -> tuple[FloatArray, FloatArray]:
    """Find (lon, lat) with ``forward(lon, lat) == target`` by fixed-point iteration.

    The offsets change slowly with position (Lipschitz constant q below 0.0075 for GCJ-02 and
    0.022 for BD-09, see ``_INVERSE_TOL_DEG``), so ``p <- p - (forward(p) - target)`` is a
    contraction that gains two to three digits per step.
    """
    p_lon, p_lat = start_lon, start_lat
    if p_lon.size == 0:
        return p_lon, p_lat
    for iteration in range(1, _INVERSE_MAX_ITER + 1):
        f_lon, f_lat = forward(p_lon, p_lat)
        r_lon = f_lon - target_lon
        r_lat = f_lat - target_lat
        p_lon = p_lon - r_lon
        p_lat = p_lat - r_lat
        step = max(float(np.max(np.abs(r_lon))), float(np.max(np.abs(r_lat))))
        if step < _INVERSE_TOL_DEG:
            logger.debug(
                "%s converged in %d iterations (last step %.2g deg)", what, iteration, step
            )
            break
    else:
        logger.warning(
            "%s did not converge in %d iterations (last step %.2g deg); results kept",
            what,
            _INVERSE_MAX_ITER,
            step,
        )
    return p_lon, p_lat


def _gcj_forward_unmasked(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Coord, Coord]:
    """Convert GCJ-02 longitudes/latitudes to WGS 84 by solving the forward formula.

    Iterates ``wgs <- wgs - (wgs84_to_gcj02(wgs) - gcj)`` from ``wgs = gcj``. The first step is
    the usual one-step approximation (errors up to about 4 m); the iteration stops when the
    largest correction over all points is below 1e-7 degrees (about 1 cm), at most 30 times,
    which leaves an error below 1e-9 degrees (0.1 mm). Three or four steps suffice.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitudes and latitudes in degrees: scalars or array-likes of one shape.

    Returns
    -------
    tuple of numpy.ndarray
        WGS 84 ``(lon, lat)`` as float arrays of the input shape (NumPy floats for scalar input).
        Points whose GCJ-02 coordinates lie outside the China box, and NaN, are unchanged.
    """
    lon_a, lat_a, scalar = _prepare(lon, lat)
    mask = in_china(lon_a, lat_a)
    g_lon, g_lat = lon_a[mask], lat_a[mask]
    # Starting from the GCJ-02 point itself, the first step is the usual one-step approximation.
    w_lon, w_lat = _solve_inverse(
        _gcj_forward_unmasked, g_lon, g_lat, g_lon, g_lat, "GCJ-02 → WGS 84"
    )
    lon_a[mask] = w_lon
    lat_a[mask] = w_lat
    return _finish(lon_a, lat_a, scalar)


def _bd_forward_unmasked(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    r = np.hypot(lon, lat) + 2e-5 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 3e-6 * np.cos(lon * _BD_X_PI)
    return r * np.cos(theta) + _BD_DLON, r * np.sin(theta) + _BD_DLAT


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Coord, Coord]:
    """Convert GCJ-02 longitudes/latitudes to Baidu's BD-09.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitudes and latitudes in degrees: scalars or array-likes of one shape.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lon, lat)``; points outside the China box and NaN are unchanged.
    """
    lon_a, lat_a, scalar = _prepare(lon, lat)
    mask = in_china(lon_a, lat_a)
    b_lon, b_lat = _bd_forward_unmasked(lon_a[mask], lat_a[mask])
    lon_a[mask] = b_lon
    lat_a[mask] = b_lat
    return _finish(lon_a, lat_a, scalar)


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Coord, Coord]:
    """Convert BD-09 longitudes/latitudes to GCJ-02.

    The published closed-form reverse is off by up to about 2e-6 degrees (0.2 m); it is used
    as the starting point of a fixed-point iteration on the forward formula that leaves an
    error below 3e-9 degrees (0.3 mm).

    Parameters
    ----------
    lon, lat
        BD-09 longitudes and latitudes in degrees: scalars or array-likes of one shape.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)``; points outside the China box and NaN are unchanged.
    """
    lon_a, lat_a, scalar = _prepare(lon, lat)
    mask = in_china(lon_a, lat_a)
    b_lon, b_lat = lon_a[mask], lat_a[mask]
    x = b_lon - _BD_DLON
    y = b_lat - _BD_DLAT
    r = np.hypot(x, y) - 2e-5 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 3e-6 * np.cos(x * _BD_X_PI)
    g_lon, g_lat = _solve_inverse(
        _bd_forward_unmasked, b_lon, b_lat, r * np.cos(theta), r * np.sin(theta), "BD-09 → GCJ-02"
    )
    lon_a[mask] = g_lon
    lat_a[mask] = g_lat
    return _finish(lon_a, lat_a, scalar)


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Coord, Coord]:
    """Convert WGS 84 longitudes/latitudes to BD-09 (through GCJ-02).

    Parameters
    ----------
    lon, lat
        WGS 84 longitudes and latitudes in degrees: scalars or array-likes of one shape.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lon, lat)``; points outside the China box and NaN are unchanged.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Coord, Coord]:
    """Convert BD-09 longitudes/latitudes to WGS 84 (through GCJ-02).

    Parameters
    ----------
    lon, lat
        BD-09 longitudes and latitudes in degrees: scalars or array-likes of one shape.

    Returns
    -------
    tuple of numpy.ndarray
        WGS 84 ``(lon, lat)``; points outside the China box and NaN are unchanged.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
