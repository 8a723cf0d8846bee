"""Load planners' own files (GeoPackage, GeoJSON, Shapefile, CSV with lon/lat) into canonical layers."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geoplan._errors import InputDataError
from geoplan.config import FileSource
from geoplan.crs import parse_declared_crs, to_wgs84
from geoplan.layers.road_tags import parse_lanes, parse_width
from geoplan.layers.schema import conform
from geoplan.layers.school_levels import classify_school

logger = logging.getLogger(__name__)

_LON_NAMES = ("lon", "lng", "longitude", "long", "x", "经度", "wgs84_lng", "gcj_lng", "bd_lng")
_LAT_NAMES = ("lat", "latitude", "y", "纬度", "wgs84_lat", "gcj_lat", "bd_lat")
_NAME_NAMES = ("name", "名称", "name_zh", "mc", "NAME")


def read_vector(path: Path, *, layer: str | None = None, encoding: str | None = None,
                lon: str | None = None, lat: str | None = None,
                geographic: bool = False, encoding_key: str = "encoding") -> gpd.GeoDataFrame:
    """Read any vector file (or CSV with coordinate columns) without touching its CRS.

    ``geographic``: the coordinates are declared as degrees, so CSV rows beyond ±180/±90 are
    errors (named by line). ``encoding_key`` is the config key a decoding error points to.

    Raises
    ------
    InputDataError
        If the file is missing, unreadable, or a CSV lacks coordinate columns.
    """
    if path.is_dir():
        raise InputDataError(f"{path} is a folder; give the file inside it")
    if not path.is_file():
        raise InputDataError(f"file not found: {path}")
    if path.suffix.lower() in (".csv", ".txt"):
        return _read_csv(path, encoding=encoding, lon=lon, lat=lat, geographic=geographic)
    try:
        kwargs: dict[str, Any] = {"engine": "pyogrio"}
        if layer:
            kwargs["layer"] = layer
        if encoding:
            kwargs["encoding"] = encoding
        with warnings.catch_warnings():
            # GDAL's note on an open ring comes before the error below, which says what to do
            warnings.filterwarnings("ignore", message=".*[Nn]on closed ring", category=RuntimeWarning)
            # NaN coordinates: refused below, by feature
            warnings.filterwarnings("ignore", message="invalid value encountered in from_wkb",
                                    category=RuntimeWarning)
            frame = gpd.read_file(path, **kwargs)
    except shapely.errors.GEOSException as exc:
        raise InputDataError(
            f"cannot read the shapes of {path}: {exc}. A polygon there has a ring that is not "
            f"closed or has too few points: {_FIX_SHAPES}") from exc
    except UnicodeDecodeError as exc:
        raise InputDataError(
            f"cannot read the text of {path}: it is not {encoding or 'UTF-8'} ({exc.reason} at "
            f"byte {exc.start}). Save it as UTF-8 (in QGIS: Export ▸ Save Features As, Encoding "
            f"UTF-8), or give its encoding with `{encoding_key}: gbk` (or gb18030) in the config"
        ) from exc
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError) as exc:
        raise InputDataError(
            f"cannot read {path}: {exc}. Is it a GeoPackage, GeoJSON, Shapefile (with its "
            ".shx/.dbf) or CSV? Give `layer:` for a GeoPackage with several layers."
        ) from exc
    _refuse_non_finite(path, frame)
    return frame


_FIX_SHAPES = ("open the file in QGIS, run Vector ▸ Geometry Tools ▸ Check Validity to find "
               "the features and Fix Geometries (or delete them), and save it again")


def _refuse_non_finite(path: Path, frame: gpd.GeoDataFrame) -> None:
    """Refuse features with NaN or infinite coordinates, named by row and name (no shape
    operation can use them, and dropping one would silently change a district or a count)."""
    try:
        geoms = frame.geometry.to_numpy()
    except AttributeError:  # a table without shapes: what needs them says so
        return
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if not bad.any():
        return
    rows = np.unique(index[bad])
    name = _find_column(frame, _NAME_NAMES)
    shown = ", ".join(f"feature {i + 1}" + (f" ({frame[name].iloc[i]})" if name else "")
                      for i in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    verb = "has" if len(rows) == 1 else "have"
    raise InputDataError(
        f"{path}: {shown}{more} {verb} NaN or infinite coordinates; {_FIX_SHAPES}")


def _read_csv(path: Path, *, encoding: str | None, lon: str | None, lat: str | None,
              geographic: bool = False) -> gpd.GeoDataFrame:
    frame = None
    for enc in ([encoding] if encoding else ["utf-8-sig", "gb18030"]):
        try:
            frame = pd.read_csv(path, encoding=enc)
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputDataError(f"cannot read CSV {path}: {exc}") from exc
    if frame is None:
        tried = encoding or "UTF-8 and GB18030"
        raise InputDataError(
            f"cannot decode CSV {path} as {tried}. Save it as UTF-8 (in Excel: Save As, "
            "'CSV UTF-8'), or give its encoding with `encoding:` in the layer's config entry")
    lon = lon or _find_column(frame, _LON_NAMES)
    lat = lat or _find_column(frame, _LAT_NAMES)
    missing = [n for n, c in (("longitude", lon), ("latitude", lat)) if c is None or c not in frame]
    if missing:
        raise InputDataError(
            f"CSV {path} has no {' or '.join(missing)} column (columns: {list(frame.columns)}); "
            "name them with `lon:` and `lat:` in the layer's config entry"
        )
    x = pd.to_numeric(frame[lon], errors="coerce")
    y = pd.to_numeric(frame[lat], errors="coerce")
    _check_coordinates(path, x, y, str(lon), str(lat), geographic=geographic)
    bad = x.isna() | y.isna()
    if bad.any():
        logger.warning("%s: %d row(s) without numeric coordinates rejected", path, int(bad.sum()))
    frame = frame.loc[~bad]
    return gpd.GeoDataFrame(frame, geometry=shapely.points(x[~bad], y[~bad]))


def _check_coordinates(path: Path, x: pd.Series, y: pd.Series, lon: str, lat: str, *,
                       geographic: bool) -> None:
    """Refuse CSV rows with infinite coordinates, or degrees beyond ±180/±90 in some rows.

    When every row is beyond the range the file is probably in metres; the CRS check says so.
    """
    infinite = np.isinf(x.to_numpy(dtype=float)) | np.isinf(y.to_numpy(dtype=float))
    outside = np.zeros(len(x), dtype=bool)
    if geographic:
        with np.errstate(invalid="ignore"):
            outside = (np.abs(x.to_numpy(dtype=float)) > 180) | (np.abs(y.to_numpy(dtype=float)) > 90)
        outside &= ~infinite
        known = (x.notna() & y.notna()).to_numpy()
        if outside[known].all():
            outside[:] = False  # all of them: a CRS question, answered by the CRS check
    bad = infinite | outside
    if not bad.any():
        return
    rows = np.flatnonzero(bad)
    shown = "; ".join(f"line {i + 2}: {lon}={x.iloc[i]}, {lat}={y.iloc[i]}" for i in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    what = ("infinite coordinates" if not outside.any() else
            "coordinates outside longitude -180…180 / latitude -90…90" if not infinite.any()
            else "infinite or out-of-range coordinates")
    raise InputDataError(
        f"CSV {path}: {len(rows)} row(s) have {what} ({shown}{more}). Correct or remove these "
        "rows (a typo such as a missing decimal point?)."
    )


def _find_column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): c for c in frame.columns}
    for name in names:
        if name.lower() in lower:
            return str(lower[name.lower()])
    return None


def load_file_layer(source: FileSource, kind: str, level_rules: dict[str, Any]) -> gpd.GeoDataFrame:
    """Read ``source`` as layer ``kind``: declared CRS converted to WGS84, canonical columns.

    ``source.columns`` maps canonical columns to the file's columns; a name column is found
    automatically (name, 名称, …) when not mapped. Schools without a ``levels`` column get
    their levels from their names.
    """
    declared = parse_declared_crs(source.crs)
    raw = read_vector(source.path, layer=source.layer, encoding=source.encoding,
                      lon=source.lon, lat=source.lat, geographic=declared.is_geographic)
    if len(raw) == 0:
        raise InputDataError(
            f"{source.path} has no features; layer {kind!r} would be empty. "
            "Remove the entry or give a file with data."
        )
    if raw.crs is not None and declared.kind == "pyproj" and raw.crs != declared.crs:
        logger.info("%s: file says %s, config declares %s; using the file's CRS",
                    source.path.name, raw.crs.name, declared.label)
        raw = raw.to_crs("EPSG:4326")
    else:
        raw = to_wgs84(raw.set_crs(None, allow_override=True) if raw.crs is not None else raw,
                       declared, source=str(source.path))
    frame = raw.copy()
    for canonical, column in source.columns.items():
        if column not in frame.columns:
            raise InputDataError(
                f"{source.path}: column {column!r} (mapped to {canonical!r}) is not in the file; "
                f"its columns are {[c for c in frame.columns if c != 'geometry']}"
            )
        frame[canonical] = frame[column]
    if "name" not in source.columns:
        name_col = _find_column(frame, _NAME_NAMES)
        frame["name"] = frame[name_col] if name_col else ""
    frame["source"] = source.path.name
    frame["source_id"] = [f"{source.path.stem}:{i}" for i in range(len(frame))]
    if kind == "schools" and "levels" not in frame.columns:
        classified = [classify_school({"name": str(n or "")}, level_rules) for n in frame["name"]]
        frame["levels"] = [";".join(c[0]) for c in classified]
        frame["level_from"] = [c[1] for c in classified]
    if kind == "schools":
        for level in ("primary", "junior", "senior"):
            if level not in frame.columns:
                frame[level] = frame["levels"].fillna("").str.contains(level)
    if kind == "roads":  # "7 m", "7,5", "12;8" read as OSM tags are; bad values flagged
        bad: dict[str, np.ndarray] = {}
        for col, parse in (("width", parse_width), ("lanes", parse_lanes)):
            bad[col] = np.zeros(len(frame), dtype=bool)
            if col in frame.columns:
                parsed = [parse(None if pd.isna(v) else str(v)) for v in frame[col]]
                frame[col] = [v for v, _ in parsed]
                bad[col] = np.array([b for _, b in parsed], dtype=bool)
        width = (frame["width"].to_numpy(dtype=float) if "width" in frame.columns
                 else np.full(len(frame), np.nan))
        frame["width_tag_bad"] = bad["width"] | (bad["lanes"] & ~np.isfinite(width))
    return conform(frame, kind)
