"""Coordinate reference systems: declared inputs, GCJ-02 / BD-09, and the analysis CRS.

Chinese planning data arrives in many coordinate systems. OpenStreetMap and GPS give WGS 84;
national surveys give CGCS2000 (EPSG:4490) or one of its Gauss–Krüger zones; almost every web
map, POI list and boundary file from AMap (Gaode), Tencent or Aliyun DataV is in **GCJ-02** (the
obfuscated "Mars" system), and Baidu's in **BD-09**. PROJ knows neither of the last two, so this
module implements them and lets every layer declare what it is in:

- :func:`parse_declared_crs` turns a user's declaration (``"gcj02"``, ``"cgcs2000"``,
  ``"EPSG:4547"``, ``4326``, a WKT or PROJ string) into a :class:`DeclaredCRS`;
- :func:`to_wgs84` checks that the coordinates fit the declaration and converts a layer to
  EPSG:4326;
- :func:`resolve_analysis_crs` picks the projected CRS (metres) in which areas, lengths and
  buffers are measured, by default the local UTM zone;
- :func:`ensure_projected` guards measuring code against geographic input.

The point conversions (:func:`wgs84_to_gcj02` and friends) work on whole NumPy arrays at once.
GCJ-02 is defined only by its forward formula (WGS 84 → GCJ-02); the reverse here is an
iterative fixed-point solution accurate to well under a millimetre, not the one-step
approximation (metre-level error) that many libraries ship. As the formula defines, points
outside the rough China bounding box (lon 72.004–137.8347, lat 0.8293–55.8271) are not shifted.
The same box is applied to the BD-09 step so that data outside China passes through unchanged.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from pyproj.exceptions import CRSError as ProjCRSError
from pyproj.exceptions import ProjError

from geoplan._errors import CRSError
from geoplan._text import first_named
from geoplan.chinese_coords import (
    Coord,
    FloatArray,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

__all__ = [
    "ACCEPTED_NAMES", "Coord", "DeclaredCRS", "bd09_to_gcj02", "bd09_to_wgs84", "check_projected_crs",
    "datum_label", "ensure_projected",
    "gcj02_to_bd09", "gcj02_to_wgs84", "in_china", "parse_declared_crs", "resolve_analysis_crs",
    "to_wgs84", "utm_crs_for", "wgs84_to_bd09", "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)

_WGS84 = pyproj.CRS.from_epsg(4326)


# --------------------------------------------------------------------------------------------
# Declared coordinate systems
# --------------------------------------------------------------------------------------------

#: The names :func:`parse_declared_crs` accepts, besides EPSG codes, WKT and PROJ strings.
ACCEPTED_NAMES: tuple[str, ...] = (
    "wgs84", "wgs-84", "epsg:4326", "4326",
    "gcj02", "gcj-02", "gcj", "mars",
    "bd09", "bd-09", "baidu",
    "cgcs2000",
)  # fmt: skip

_ALIASES: dict[str, str | int] = {
    **dict.fromkeys(("wgs84", "wgs-84", "wgs_84", "wgs 84", "epsg:4326", "4326"), 4326),
    **dict.fromkeys(("gcj02", "gcj-02", "gcj_02", "gcj", "mars"), "gcj02"),
    **dict.fromkeys(("bd09", "bd-09", "bd_09", "bd09ll", "baidu"), "bd09"),
    **dict.fromkeys(("cgcs2000", "cgcs-2000", "cgcs_2000", "epsg:4490", "4490"), 4490),
}

_GCJ_LABEL = "GCJ-02 (火星坐标: AMap/Gaode, Tencent, Aliyun DataV)"
_BD_LABEL = "BD-09 (百度坐标: Baidu Maps)"


@dataclass(frozen=True)
class DeclaredCRS:
    """The coordinate system a layer's coordinates are declared to be in.

    Attributes
    ----------
    kind
        ``'gcj02'`` or ``'bd09'`` for the Chinese obfuscated systems that PROJ does not know,
        ``'pyproj'`` for everything PROJ handles.
    crs
        The pyproj CRS; for GCJ-02 and BD-09 the geographic frame they are stored in, EPSG:4326.
    label
        Human-readable description for messages and reports.
    """

    kind: Literal["gcj02", "bd09", "pyproj"]
    crs: pyproj.CRS
    label: str

    def __repr__(self) -> str:
        code = self.crs.to_epsg()
        crs_text = f"EPSG:{code}" if code else self.crs.name
        return f"DeclaredCRS(kind={self.kind!r}, crs={crs_text!r}, label={self.label!r})"

    @property
    def is_geographic(self) -> bool:
        """True when the coordinates are longitudes/latitudes in degrees."""
        return bool(self.crs.is_geographic)


def _crs_label(crs: pyproj.CRS) -> str:
    name = str(crs.name)
    if name.lower() == "unknown":
        name = (crs.srs or "custom CRS")[:80]  # e.g. a bare PROJ string: show it
    code = crs.to_epsg()
    return f"{name} (EPSG:{code})" if code else name


def _unknown_crs_error(value: object, analysis: bool = False) -> CRSError:
    if analysis:
        return CRSError(
            f"Unknown analysis CRS {value!r}. Use 'auto' for the local UTM zone, or the EPSG "
            f"code of a projected CRS in metres, such as 'EPSG:32648' (WGS 84 / UTM zone 48N) or "
            f"'EPSG:4547' (CGCS2000 / 3-degree Gauss-Kruger CM 114E)."
        )
    close = difflib.get_close_matches(str(value).strip().lower(), ACCEPTED_NAMES, n=2, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return CRSError(
        f"Unknown coordinate system {value!r}.{hint} Accepted names (any case): "
        f"{', '.join(ACCEPTED_NAMES)}; or an EPSG code such as 'EPSG:4547' or 4547; or a WKT or "
        f"PROJ string. Fix the layer's declared CRS to one of these (GCJ-02 is what AMap/Gaode, "
        f"Tencent and DataV data use, BD-09 is Baidu's)."
    )


def _pyproj_crs(value: str | int | pyproj.CRS, analysis: bool = False) -> pyproj.CRS:
    """Build a pyproj CRS from an EPSG integer, ``'EPSG:nnnn'``/``'nnnn'``, WKT or PROJ string."""
    if isinstance(value, pyproj.CRS):
        return value
    if isinstance(value, bool):
        raise _unknown_crs_error(value, analysis)
    if isinstance(value, int | np.integer):
        try:
            return pyproj.CRS.from_epsg(int(value))
        except ProjCRSError as exc:
            raise CRSError(
                f"EPSG:{value} is not a known EPSG code. Check the number (for example 4326 for "
                f"WGS 84, 4490 for CGCS2000, 4547 for CGCS2000 / 3-degree Gauss-Kruger CM 114E)."
            ) from exc
    text = str(value).strip()
    match = re.fullmatch(r"(?:epsg\s*:\s*)?(\d+)", text, flags=re.IGNORECASE)
    if match:
        return _pyproj_crs(int(match.group(1)), analysis)
    try:
        return pyproj.CRS.from_user_input(text)
    except ProjCRSError as exc:
        raise _unknown_crs_error(value, analysis) from exc


def datum_label(declared: DeclaredCRS) -> str | None:
    """The web-map datum of a declared CRS: ``wgs84``, ``gcj02`` or ``bd09`` (WGS 84 for any
    geographic CRS); None for a projected one (a national grid is not a web-map mix-up)."""
    label = declared.kind if declared.kind in ("gcj02", "bd09") else "wgs84"
    if label == "wgs84" and declared.kind == "pyproj" and not declared.crs.is_geographic:
        return None
    return str(label)


def parse_declared_crs(value: str | int | pyproj.CRS | DeclaredCRS | None) -> DeclaredCRS:
    """Interpret a declared input coordinate system.

    Parameters
    ----------
    value
        One of the names in :data:`ACCEPTED_NAMES` (any case: ``"wgs84"``, ``"gcj02"``,
        ``"mars"``, ``"bd09"``, ``"baidu"``, ``"cgcs2000"`` …), an EPSG code as ``"EPSG:4547"``,
        ``"4547"`` or ``4547``, a WKT or PROJ string, a :class:`pyproj.CRS`, or an existing
        :class:`DeclaredCRS` (returned as is). ``None`` means nothing was declared and gives
        WGS 84, the system of OpenStreetMap, GPS and GeoJSON.

    Returns
    -------
    DeclaredCRS

    Raises
    ------
    geoplan._errors.CRSError
        If the value is not understood; the message lists the accepted names.
    """
    if isinstance(value, DeclaredCRS):
        return value
    if value is None:
        logger.debug("no CRS declared; assuming WGS 84")
        return DeclaredCRS("pyproj", _WGS84, "WGS 84 (EPSG:4326; assumed, nothing declared)")
    if isinstance(value, str):
        key = " ".join(value.strip().lower().split())
        if not key:
            raise _unknown_crs_error(value)
        alias = _ALIASES.get(key)
        if alias == "gcj02":
            return DeclaredCRS("gcj02", _WGS84, _GCJ_LABEL)
        if alias == "bd09":
            return DeclaredCRS("bd09", _WGS84, _BD_LABEL)
        if alias == 4490:
            crs = pyproj.CRS.from_epsg(4490)
            return DeclaredCRS(
                "pyproj", crs, "CGCS2000 (China Geodetic Coordinate System 2000, EPSG:4490)"
            )
        if alias is not None:
            value = alias
    crs = _pyproj_crs(value)
    return DeclaredCRS("pyproj", crs, _crs_label(crs))


# --------------------------------------------------------------------------------------------
# Converting layers to WGS 84
# --------------------------------------------------------------------------------------------

GeoData: TypeAlias = gpd.GeoDataFrame | gpd.GeoSeries


def _same_crs(a: pyproj.CRS, b: pyproj.CRS) -> bool:
    if a.equals(b, ignore_axis_order=True):
        return True
    code_a, code_b = a.to_epsg(), b.to_epsg()
    return code_a is not None and code_a == code_b


def _check_frame_crs(frame_crs: pyproj.CRS | None, declared: DeclaredCRS, source: str) -> None:
    """Refuse a layer whose own CRS contradicts the declaration."""
    if frame_crs is None or _same_crs(frame_crs, declared.crs):
        return
    if declared.is_geographic and _same_crs(frame_crs, _WGS84):
        # GeoJSON (RFC 7946) and most readers tag any longitude/latitude data as WGS 84, so
        # the tag cannot contradict a declaration of another longitude/latitude system.
        logger.info(
            "%s: file says WGS 84, declared %s; using the declaration", source, declared.label
        )
        return
    raise CRSError(
        f"{source}: the data says its coordinate system is {_crs_label(frame_crs)}, but it was "
        f"declared as {declared.label}. Fix: if the file's own CRS is right, declare that instead "
        f"(for example 'EPSG:{frame_crs.to_epsg() or 'nnnn'}'); if the declaration is right, the "
        f"file's CRS tag is wrong: remove or correct it in the file."
    )


def _projected_suggestion(x: FloatArray, y: FloatArray) -> str:
    """Guess which projected CRS coordinates of these magnitudes came from."""
    mx, my = float(np.median(np.abs(x))), float(np.median(np.abs(y)))
    zone = int(mx // 1_000_000)
    if 10_000_000 <= mx < 100_000_000 and my < 10_000_000:
        if 25 <= zone <= 45:
            return (
                f"x has 8 digits starting with {zone}, a 3-degree Gauss-Kruger zone number: "
                f"declare 'EPSG:{4513 + zone - 25}' (CGCS2000 / 3-degree Gauss-Kruger zone {zone})."
            )
        if 13 <= zone <= 23:
            return (
                f"x has 8 digits starting with {zone}, a 6-degree Gauss-Kruger zone number: "
                f"declare 'EPSG:{4491 + zone - 13}' (CGCS2000 / Gauss-Kruger zone {zone})."
            )
    if 100_000 <= mx < 1_000_000 and my < 10_000_000:
        return (
            "x around 500,000 m and y in the millions are typical of a transverse Mercator grid: "
            "declare its EPSG code: a CGCS2000 3-degree Gauss-Kruger zone without zone number is "
            "EPSG:4534 + (central meridian - 75) / 3, e.g. 'EPSG:4544' (CM 105E: Chengdu, "
            "Chongqing), 'EPSG:4547' (CM 114E: Wuhan, Shijiazhuang), 'EPSG:4548' (CM 117E: "
            "Beijing, Xiamen); WGS 84 / UTM zones are EPSG:326nn (e.g. 'EPSG:32648', 102-108E)."
        )
    return "declare the projected CRS the data was made in as 'EPSG:nnnn'."


def _check_stray_vertices(x: FloatArray, y: FloatArray, feature: np.ndarray,
                          declared: DeclaredCRS, source: str) -> None:
    """Refuse a few vertices out of the degrees' range among many within it, by feature: a
    typo in those vertices, not a file in another CRS (which moves every vertex)."""
    bad = (np.abs(x) > 180.0) | (np.abs(y) > 90.0)
    if not bad.any() or bad.mean() > 0.1:
        return
    rows = np.unique(feature[bad])
    first = int(np.flatnonzero(bad)[0])
    raise CRSError(
        f"{source}: taken as {declared.label}; {int(bad.sum())} of {len(x)} coordinates lie "
        f"outside longitude -180…180 / latitude -90…90 (first: x {x[first]:,.6g}, y "
        f"{y[first]:,.6g}), in feature(s) {first_named([str(r + 1) for r in rows], 5)} "
        "(counted from 1, in file order). The others are degrees as declared: correct those "
        "vertices in the file.")


def _check_geographic_range(
    x: FloatArray, y: FloatArray, declared: DeclaredCRS, source: str
) -> None:
    bad = (np.abs(x) > 180.0) | (np.abs(y) > 90.0)
    if not bad.any():
        return
    n_bad = int(bad.sum())
    extent = f"x {x.min():,.6g} … {x.max():,.6g}, y {y.min():,.6g} … {y.max():,.6g}"
    if np.abs(x).max() <= 90.0 and np.abs(y).max() <= 180.0:
        raise CRSError(
            f"{source}: taken as {declared.label}, but {n_bad} coordinates have a latitude "
            f"beyond ±90 ({extent}). Longitude and latitude look swapped: give x = longitude and "
            f"y = latitude (for CSV files, check which column is which)."
        )
    raise CRSError(
        f"{source}: taken as {declared.label}, whose longitudes must lie in -180…180 and "
        f"latitudes in -90…90, but {n_bad} coordinates do not ({extent}). They look like "
        f"projected coordinates in metres, so that coordinate system is wrong: "
        f"{_projected_suggestion(x, y)}"
    )


def _check_projected_area(x: FloatArray, y: FloatArray, declared: DeclaredCRS, source: str) -> None:
    crs = declared.crs
    if np.all(np.abs(x) <= 180.0) and np.all(np.abs(y) <= 90.0):
        raise CRSError(
            f"{source}: taken as {declared.label}, a projected CRS in metres, but every "
            f"coordinate is within ±180/±90 (x {x.min():.6g} … {x.max():.6g}, y {y.min():.6g} … "
            f"{y.max():.6g}). These look like longitudes/latitudes in degrees: declare 'wgs84', "
            f"'cgcs2000', 'gcj02' or 'bd09' instead."
        )
    area = crs.area_of_use
    if area is None or area.west > area.east:
        logger.debug("%s: %s has no usable area of use; extent not checked", source, declared.label)
        return
    fix = (
        "Check the EPSG code. In China: WGS 84 / UTM zones are EPSG:326nn; CGCS2000 "
        "Gauss-Kruger zones are EPSG:4534-4554 (3-degree, x about 500,000) or 4513-4533 (3-degree, "
        "8-digit x with the zone number in front), 4502-4512 / 4491-4501 for 6-degree zones."
    )
    if float(np.median(np.abs(x))) >= 10_000_000:
        fix += " Here: " + _projected_suggestion(x, y)
    extent = f"x {x.min():,.0f} … {x.max():,.0f}, y {y.min():,.0f} … {y.max():,.0f}"
    try:
        to_geo = pyproj.Transformer.from_crs(crs, crs.geodetic_crs or _WGS84, always_xy=True)
        bounds = to_geo.transform_bounds(
            float(x.min()), float(y.min()), float(x.max()), float(y.max()), densify_pts=21
        )
    except ProjError:
        bounds = (math.nan,) * 4
    west, south, east, north = bounds
    if not all(math.isfinite(v) for v in bounds):
        raise CRSError(
            f"{source}: the coordinates ({extent}) cannot be placed on the earth in "
            f"{declared.label}, so that CRS is probably wrong. {fix}"
        )
    tol_lon = 1.0 + 0.25 * (area.east - area.west)
    tol_lat = 1.0 + 0.25 * (area.north - area.south)
    if (
        west < area.west - tol_lon
        or east > area.east + tol_lon
        or south < area.south - tol_lat
        or north > area.north + tol_lat
    ):
        raise CRSError(
            f"{source}: read as {declared.label}, the data ({extent}) would lie at lon "
            f"{west:.3f} … {east:.3f}, lat {south:.3f} … {north:.3f}, outside that CRS's area "
            f"of use ({area.name.rstrip('.')}: lon {area.west} … {area.east}, lat {area.south} … "
            f"{area.north}). That CRS is probably wrong. {fix}"
        )


def to_wgs84(
    data: GeoData,
    declared: str | int | pyproj.CRS | DeclaredCRS | None,
    *,
    source: str = "input",
) -> GeoData:
    """Check a layer's coordinates against its declared CRS and convert them to WGS 84.

    Parameters
    ----------
    data
        A GeoDataFrame or GeoSeries whose coordinates are in the declared CRS. If it carries no
        CRS the declaration is used. If it carries WGS 84 (as every GeoJSON does) and the
        declaration is another longitude/latitude system (GCJ-02, BD-09, CGCS2000 …), the
        declaration wins. Any other disagreement is an error.
    declared
        What the coordinates are in; anything :func:`parse_declared_crs` accepts. ``None`` uses
        the data's own CRS, or WGS 84 if it has none.
    source
        Name of the layer or file, used in messages.

    Returns
    -------
    geopandas.GeoDataFrame or geopandas.GeoSeries
        A copy of ``data`` with the active geometry converted and CRS EPSG:4326. GCJ-02 and BD-09
        are converted with the vectorised functions of this module, everything else by PROJ.

    Raises
    ------
    geoplan._errors.CRSError
        If the declaration is unknown, contradicts the data's own CRS, or does not fit the
        coordinates: longitudes/latitudes out of range for a geographic declaration (typically
        projected metres declared as GCJ-02 or WGS 84), or, for a projected declaration,
        coordinates in degrees or far outside the CRS's area of use.
    TypeError
        If ``data`` is not a GeoDataFrame or GeoSeries.
    """
    if not isinstance(data, gpd.GeoDataFrame | gpd.GeoSeries):
        raise TypeError(
            f"{source}: expected a GeoDataFrame or GeoSeries, got {type(data).__name__}"
        )
    if declared is None and data.crs is not None:
        decl = parse_declared_crs(data.crs)
    else:
        decl = parse_declared_crs(declared)
    _check_frame_crs(data.crs, decl, source)

    geoms = np.asarray(data.geometry.values, dtype=object)
    xy, feature = shapely.get_coordinates(geoms, return_index=True)
    finite = np.isfinite(xy).all(axis=1)
    x, y = xy[finite, 0], xy[finite, 1]
    if x.size:
        if decl.is_geographic:
            _check_stray_vertices(x, y, feature[finite], decl, source)
            _check_geographic_range(x, y, decl, source)
        else:
            _check_projected_area(x, y, decl, source)

    if decl.kind in ("gcj02", "bd09"):
        convert = gcj02_to_wgs84 if decl.kind == "gcj02" else bd09_to_wgs84
        if x.size and not in_china(x, y).any():
            logger.warning(
                "%s: declared %s but no coordinate lies in China, where the offset applies; "
                "nothing is shifted. Is the declaration right?",
                source,
                decl.label,
            )

        def _shift(coords: FloatArray) -> FloatArray:
            out = np.array(coords, dtype=np.float64)
            out[:, 0], out[:, 1] = convert(coords[:, 0], coords[:, 1])
            return out

        new_geoms = shapely.transform(geoms, _shift, include_z=None)
        out = data.copy()
        if isinstance(out, gpd.GeoDataFrame):
            out[out.geometry.name] = new_geoms
            out = out.set_crs(_WGS84, allow_override=True)
        else:
            out = gpd.GeoSeries(new_geoms, index=data.index, crs=_WGS84, name=data.name)
        logger.info("%s: converted %d coordinates from %s to WGS 84", source, len(xy), decl.label)
        return out

    framed = data.set_crs(decl.crs, allow_override=True)
    if _same_crs(decl.crs, _WGS84):
        return framed.set_crs(_WGS84, allow_override=True)
    _warn_if_ballpark(decl, source)
    out = framed.to_crs(_WGS84)
    logger.info("%s: reprojected %d coordinates from %s to WGS 84", source, len(xy), decl.label)
    return out


def file_to_wgs84(data: GeoData, declared: str | int | pyproj.CRS | DeclaredCRS | None, *,
                  source: str = "input", key: str | None = None) -> GeoData:
    """A file's features in WGS 84: as declared, or in the file's own CRS when nothing is.

    A longitude/latitude tag on the file says nothing against a declaration (GeoJSON and most
    readers put WGS 84 on any such data, GCJ-02 or metres alike), so it is dropped; a projected
    tag is kept, and one the declaration contradicts is an error that names both.

    Parameters
    ----------
    data
        The file's features, with the CRS its reader found (or none).
    declared
        The config's ``crs`` for the file; None uses the file's own CRS, else WGS 84.
    source
        Name of the file, used in messages.
    key
        The config key of the file's ``crs`` (``districts.crs``), which a message names.

    Returns
    -------
    geopandas.GeoDataFrame or geopandas.GeoSeries
        As :func:`to_wgs84`.
    """
    own = data.crs
    if declared is not None and own is not None and own.is_geographic:
        data = data.set_crs(None, allow_override=True)
    try:
        return to_wgs84(data, declared, source=source)
    except CRSError as exc:
        if key is None:
            raise
        how = ("" if declared is not None else
               f" Nothing was declared, so the file's own CRS ({_crs_label(own)}) was used."
               if own is not None else " Nothing was declared, so WGS 84 was assumed.")
        raise CRSError(f"{exc}{how} Set `{key}:` to what the coordinates are in (wgs84, gcj02, "
                       "bd09 or 'EPSG:nnnn').") from exc


def declared_or_own(declared: str | int | pyproj.CRS | DeclaredCRS | None,
                    own: pyproj.CRS | None) -> DeclaredCRS:
    """What a file's coordinates are taken to be in by :func:`file_to_wgs84`: the
    declaration, else the file's own CRS (``own``), else WGS 84."""
    return parse_declared_crs(declared if declared is not None else own)


def _warn_if_ballpark(decl: DeclaredCRS, source: str) -> None:
    """Log a warning when PROJ knows no datum shift to WGS 84 for a non-WGS84-like datum."""
    try:
        ellipsoid = decl.crs.ellipsoid
        name = (ellipsoid.name if ellipsoid is not None else "").lower()
        transformer = pyproj.Transformer.from_crs(decl.crs, _WGS84, always_xy=True)
    except (ProjError, ProjCRSError):  # pragma: no cover - defensive
        return
    if "ballpark" in transformer.description.lower() and not (
        "wgs 84" in name or "wgs84" in name or "grs 1980" in name or "cgcs2000" in name
    ):
        logger.warning(
            "%s: PROJ knows no datum shift from %s to WGS 84 (ellipsoid %s); positions may be "
            "off by tens of metres or more",
            source,
            decl.label,
            name or "unknown",
        )


# --------------------------------------------------------------------------------------------
# The analysis CRS
# --------------------------------------------------------------------------------------------


#: A study area: one shapely geometry, an array of them, or a GeoSeries/GeoDataFrame.
StudyArea: TypeAlias = shapely.Geometry | gpd.GeoSeries | gpd.GeoDataFrame | npt.ArrayLike


def utm_crs_for(lon: float, lat: float) -> pyproj.CRS:
    """The WGS 84 / UTM zone CRS (EPSG:326nn north, 327nn south) containing a point.

    Parameters
    ----------
    lon, lat
        WGS 84 longitude and latitude in degrees.

    Returns
    -------
    pyproj.CRS
        For example EPSG:32648 (UTM zone 48N) for Chengdu (104.07 E, 30.67 N). Standard 6-degree
        zones; the Norway/Svalbard exceptions of the MGRS grid are not applied.

    Raises
    ------
    geoplan._errors.CRSError
        If the point is not a finite longitude/latitude.
    """
    lon_f, lat_f = float(lon), float(lat)
    if not (math.isfinite(lon_f) and math.isfinite(lat_f)) or abs(lon_f) > 180 or abs(lat_f) > 90:
        raise CRSError(
            f"cannot choose a UTM zone for ({lon!r}, {lat!r}): not a WGS 84 longitude/latitude. "
            f"Give the study area in EPSG:4326 (convert it with geoplan.crs.to_wgs84 first)."
        )
    zone = min(int((lon_f + 180.0) // 6.0) + 1, 60)
    return pyproj.CRS.from_epsg((32600 if lat_f >= 0 else 32700) + zone)


def _gk3_code_for(lon: float) -> int | None:
    """EPSG code of the CGCS2000 3-degree Gauss–Krüger CM zone (no zone prefix) nearest ``lon``."""
    cm = 3 * round(lon / 3.0)
    return 4534 + (cm - 75) // 3 if 75 <= cm <= 135 else None


def _study_area_lonlat(study_area_wgs84: StudyArea | None) -> tuple[float, float]:
    """Centroid (lon, lat) of a study area given as shapely geometry, GeoSeries or GeoDataFrame."""
    if study_area_wgs84 is None:
        raise CRSError(
            "no study area was given, so the local UTM zone cannot be chosen; give the study "
            "area, or an explicit analysis CRS such as 'EPSG:32648'."
        )
    if isinstance(study_area_wgs84, gpd.GeoDataFrame | gpd.GeoSeries):
        area = study_area_wgs84
        if area.crs is not None and not _same_crs(area.crs, _WGS84):
            area = area.to_crs(_WGS84)
        geoms = np.asarray(area.geometry.values, dtype=object)
    elif isinstance(study_area_wgs84, shapely.Geometry):
        geoms = np.array([study_area_wgs84], dtype=object)
    else:
        geoms = np.asarray(study_area_wgs84, dtype=object)
    union = shapely.union_all(geoms)
    if union is None or union.is_empty:
        raise CRSError(
            "the study area is empty, so no UTM zone can be chosen; give a study area or an "
            "explicit analysis CRS such as 'EPSG:32648'."
        )
    centre = union.centroid
    lon, lat = float(centre.x), float(centre.y)
    if abs(lon) > 180 or abs(lat) > 90:
        raise CRSError(
            f"the study area's centre ({lon:,.1f}, {lat:,.1f}) is not a longitude/latitude; "
            f"give the study area in EPSG:4326 (convert it with geoplan.crs.to_wgs84 first)."
        )
    return lon, lat


def resolve_analysis_crs(spec: str | int | None, study_area_wgs84: StudyArea | None) -> pyproj.CRS:
    """Choose the projected CRS (metres) in which areas, lengths and buffers are measured.

    Parameters
    ----------
    spec
        ``None``, ``"auto"`` or ``"utm"`` for the WGS 84 / UTM zone of the study area's centroid;
        otherwise an EPSG code (``"EPSG:4547"``, ``4547``) or WKT/PROJ string of a projected CRS
        in metres, such as a CGCS2000 Gauss–Krüger zone.
    study_area_wgs84
        The study area in EPSG:4326: a shapely geometry, a GeoSeries or a GeoDataFrame. Needed for
        the automatic choice; otherwise used only to check the CRS fits and to suggest one.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    geoplan._errors.CRSError
        If ``spec`` is unknown, geographic (degrees), or not in metres.
    """
    auto = spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "auto", "utm"))
    if auto:
        lon, lat = _study_area_lonlat(study_area_wgs84)
        crs = utm_crs_for(lon, lat)
        logger.info("analysis CRS: %s (local UTM zone of the study area)", _crs_label(crs))
        return crs

    if isinstance(spec, str):
        alias = _ALIASES.get(" ".join(spec.strip().lower().split()))
        # GCJ-02 and BD-09 are longitude/latitude systems: mapped to WGS 84, refused below.
        crs = (
            _WGS84
            if alias in ("gcj02", "bd09")
            else _pyproj_crs(spec if alias is None else alias, analysis=True)
        )
    else:
        crs = _pyproj_crs(spec if spec is not None else "EPSG:4326", analysis=True)

    def suggestion() -> str:
        try:
            lon, lat = _study_area_lonlat(study_area_wgs84)
        except (CRSError, TypeError, ValueError, AttributeError):
            return "'EPSG:32648' (WGS 84 / UTM zone 48N) or 'EPSG:4547' (CGCS2000 GK CM 114E)"
        utm = utm_crs_for(lon, lat)
        text = f"'EPSG:{utm.to_epsg()}' ({utm.name}, the study area's UTM zone)"
        gk = _gk3_code_for(lon)
        if gk is not None:
            text += f" or 'EPSG:{gk}' ({pyproj.CRS.from_epsg(gk).name})"
        return text

    if not crs.is_projected:
        raise CRSError(
            f"analysis CRS {spec!r} is {_crs_label(crs)}, which is in degrees: areas and buffers "
            f"need metres; use a projected CRS such as {suggestion()}, or 'auto' for the local "
            f"UTM zone."
        )
    units = {(axis.unit_name or "").lower() for axis in crs.axis_info}
    if not units or not units <= {"metre", "meter"}:
        raise CRSError(
            f"analysis CRS {spec!r} ({crs.name}) is in "
            f"{', '.join(sorted(units)) or 'unknown units'}: areas and buffers need metres; "
            f"use a projected CRS in metres such as {suggestion()}."
        )
    _refuse_stretched(crs, spec, study_area_wgs84, suggestion)
    area = crs.area_of_use
    if area is not None and study_area_wgs84 is not None:
        try:
            lon, lat = _study_area_lonlat(study_area_wgs84)
        except (CRSError, TypeError, ValueError, AttributeError):
            lon = lat = math.nan
        if math.isfinite(lon) and not (
            area.west - 1 <= lon <= area.east + 1 and area.south - 1 <= lat <= area.north + 1
        ):
            logger.warning(
                "analysis CRS %s is meant for %s, but the study area's centre is at (%.3f, %.3f): "
                "distances and areas will be distorted; consider %s",
                _crs_label(crs),
                area.name.rstrip("."),
                lon,
                lat,
                suggestion(),
            )
    logger.info("analysis CRS: %s", _crs_label(crs))
    return crs


MAX_SCALE_ERROR = 0.05
"""Largest scale error of an analysis CRS at the study area's centre (5 %; from 1 % on it is
warned about): a UTM or Gauss–Krüger zone of the area stays within 0.1 %, a GK zone 10° away
is 1 % off, Web Mercator at Chengdu's latitude 16 %."""

WARN_SCALE_ERROR = 0.01


def _refuse_stretched(crs: pyproj.CRS, spec: Any, study_area_wgs84: StudyArea | None,
                      suggestion: Any) -> None:
    """Refuse a projected CRS whose scale at the study area is far from 1: every radius and
    area measured in it would be wrong on the ground."""
    if study_area_wgs84 is None:
        return
    try:
        lon, lat = _study_area_lonlat(study_area_wgs84)
        factors = pyproj.Proj(crs).get_factors(lon, lat)
    except (CRSError, TypeError, ValueError, AttributeError, pyproj.exceptions.ProjError):
        return
    scale = max(factors.meridional_scale, factors.parallel_scale, key=lambda k: abs(k - 1))
    if not math.isfinite(scale) or abs(scale - 1) <= WARN_SCALE_ERROR:
        return
    text = (f"analysis CRS {spec!r} ({crs.name}) stretches distances by {abs(scale - 1):.1%} "
            f"at the study area (scale {scale:.3f}): a 500 m service radius would cover "
            f"{500 / scale:,.0f} m on the ground. Use {suggestion()}, or leave `crs` out for "
            "the local UTM zone.")
    if abs(scale - 1) > MAX_SCALE_ERROR:
        raise CRSError(text)
    logger.warning(text)


def check_projected_crs(crs: Any, what: str) -> pyproj.CRS:
    """Return ``crs`` as a :class:`pyproj.CRS` if it is projected and in metres, else refuse it.

    Parameters
    ----------
    crs
        Anything :class:`pyproj.CRS` accepts, or None.
    what
        What the data is, for the message (for example ``"parks layer"``).

    Raises
    ------
    geoplan._errors.CRSError
        If ``crs`` is missing, geographic (degrees), or projected in units other than metres.
    """
    fix = (
        "Reproject it first: gdf.to_crs(geoplan.crs.resolve_analysis_crs('auto', study_area)) for "
        "the local UTM zone, or to a CGCS2000 Gauss-Kruger zone such as 'EPSG:4547'."
    )
    if crs is None:
        raise CRSError(
            f"{what} has no coordinate reference system, so its distances and areas have no "
            f"units. Declare what it is in and convert it with geoplan.crs.to_wgs84, then "
            f"reproject it: gdf.to_crs(geoplan.crs.resolve_analysis_crs('auto', study_area)) for "
            f"the local UTM zone, or to a CGCS2000 Gauss-Kruger zone such as 'EPSG:4547'."
        )
    crs = pyproj.CRS.from_user_input(crs)
    if not crs.is_projected:
        raise CRSError(
            f"{what} is in {_crs_label(crs)}, a geographic CRS in degrees: areas, lengths and "
            f"buffers need a projected CRS in metres. {fix}"
        )
    units = {(axis.unit_name or "").lower() for axis in crs.axis_info[:2]}
    if not units or not units <= {"metre", "meter", "m"}:
        raise CRSError(
            f"{what} is in {_crs_label(crs)}, whose units are {', '.join(sorted(units))}, not "
            f"metres. {fix}"
        )
    return crs


def ensure_projected(gdf: GeoData, what: str) -> None:
    """Refuse data that is not in a projected CRS in metres (see :func:`check_projected_crs`).

    Parameters
    ----------
    gdf
        A GeoDataFrame or GeoSeries about to be measured (areas, lengths, buffers, distances).
    what
        What the data is, for the message (for example ``"parks layer"``).
    """
    check_projected_crs(gdf.crs, what)
