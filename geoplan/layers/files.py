"""Load planners' own files (GeoPackage, GeoJSON, Shapefile, CSV with lon/lat) into canonical layers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geoplan._errors import InputDataError
from geoplan.config import FileSource
from geoplan.crs import parse_declared_crs, to_wgs84
from geoplan.layers.schema import conform
from geoplan.layers.school_levels import classify_school

logger = logging.getLogger(__name__)

_LON_NAMES = ("lon", "lng", "longitude", "long", "x", "经度", "wgs84_lng", "gcj_lng", "bd_lng")
_LAT_NAMES = ("lat", "latitude", "y", "纬度", "wgs84_lat", "gcj_lat", "bd_lat")
_NAME_NAMES = ("name", "名称", "name_zh", "mc", "NAME")


def read_vector(path: Path, *, layer: str | None = None, encoding: str | None = None,
                lon: str | None = None, lat: str | None = None) -> gpd.GeoDataFrame:
    """Read any vector file (or CSV with coordinate columns) without touching its CRS.

    Raises
    ------
    InputDataError
        If the file is missing, unreadable, or a CSV lacks coordinate columns.
    """
    if not path.is_file():
        raise InputDataError(f"file not found: {path}")
    if path.suffix.lower() in (".csv", ".txt"):
        return _read_csv(path, encoding=encoding, lon=lon, lat=lat)
    try:
        kwargs: dict[str, Any] = {"engine": "pyogrio"}
        if layer:
            kwargs["layer"] = layer
        if encoding:
            kwargs["encoding"] = encoding
        return gpd.read_file(path, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError) as exc:
        raise InputDataError(
            f"cannot read {path}: {exc}. Is it a GeoPackage, GeoJSON, Shapefile (with its "
            ".shx/.dbf) or CSV? Give `layer:` for a GeoPackage with several layers."
        ) from exc


def _read_csv(path: Path, *, encoding: str | None, lon: str | None, lat: str | None) -> gpd.GeoDataFrame:
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
        raise InputDataError(f"cannot decode CSV {path}; give `encoding:` (e.g. gb18030)")
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
    bad = x.isna() | y.isna()
    if bad.any():
        logger.warning("%s: %d row(s) without numeric coordinates rejected", path, int(bad.sum()))
    frame = frame.loc[~bad]
    return gpd.GeoDataFrame(frame, geometry=shapely.points(x[~bad], y[~bad]))


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
    raw = read_vector(source.path, layer=source.layer, encoding=source.encoding,
                      lon=source.lon, lat=source.lat)
    if len(raw) == 0:
        raise InputDataError(
            f"{source.path} has no features; layer {kind!r} would be empty. "
            "Remove the entry or give a file with data."
        )
    declared = parse_declared_crs(source.crs)
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
    return conform(frame, kind)
