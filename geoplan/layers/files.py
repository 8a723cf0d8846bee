"""Load planners' own files (GeoPackage, GeoJSON, Shapefile, CSV with lon/lat) into canonical layers."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geoplan._errors import ConfigError, InputDataError
from geoplan._text import as_text, first_named
from geoplan.config import FileSource
from geoplan.crs import datum_label, file_to_wgs84, parse_declared_crs
from geoplan.layers.datum_names import DATUM_NAMES, READ_AS, datum_named_by_columns
from geoplan.layers.dbf_text import shapefile_encoding
from geoplan.layers.road_tags import parse_lanes, parse_width
from geoplan.layers.schema import columns, conform
from geoplan.layers.school_levels import classify_school

logger = logging.getLogger(__name__)

# lon_wgs84 / lat_wgs84: the columns of the meeting map's own export (导出 CSV); the GCJ-02
# and BD-09 columns of geoplan's gaps.csv and sites.csv after them (WGS 84 first where a
# file has all three), each read in the datum its name says (geoplan.layers.file_datum)
_LON_NAMES = ("lon", "lng", "longitude", "long", "x", "经度", "wgs84_lng", "gcj_lng", "bd_lng",
              "lon_wgs84", "lon_gcj02", "lon_bd09")
_LAT_NAMES = ("lat", "latitude", "y", "纬度", "wgs84_lat", "gcj_lat", "bd_lat", "lat_wgs84",
              "lat_gcj02", "lat_bd09")

COORDINATE_COLUMNS = "geoplan_coordinate_columns"
"""Key of ``GeoDataFrame.attrs``: the (longitude, latitude) columns a table's points came from."""
_NAME_NAMES = ("name", "名称", "name_zh", "mc", "NAME")


def read_vector(path: Path, *, layer: str | None = None, encoding: str | None = None,
                lon: str | None = None, lat: str | None = None,
                geographic: bool = False, encoding_key: str = "encoding",
                layer_key: str = "layer") -> gpd.GeoDataFrame:
    """Read any vector file (or a CSV or spreadsheet with coordinate columns) without touching
    its CRS.

    ``geographic``: the coordinates are declared as degrees, so CSV rows beyond ±180/±90 are
    errors (named by line). ``encoding_key`` and ``layer_key`` are the config keys a decoding
    error and a file of several layers point to.

    Raises
    ------
    InputDataError
        If the file is missing, unreadable, or a CSV lacks coordinate columns.
    """
    if path.is_dir():
        raise InputDataError(f"{path} is a folder; give the file inside it")
    if not path.is_file():
        raise InputDataError(f"file not found: {path}")
    if path.stat().st_size == 0:
        raise InputDataError(f"{path} is empty (0 bytes): it was not written whole; export or "
                             "copy it again")
    if path.suffix.lower() in (".csv", ".txt"):
        return _read_csv(path, encoding=encoding, lon=lon, lat=lat, geographic=geographic)
    if path.suffix.lower() in _SPREADSHEETS:
        return _read_spreadsheet(path, layer=layer, lon=lon, lat=lat, geographic=geographic)
    if not layer:
        _refuse_unnamed_layers(path, layer_key)
    if path.suffix.lower() == ".shp":
        encoding = shapefile_encoding(path, encoding, encoding_key)
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
            # a GeoJSON text property GDAL took for JSON (a code such as "[a/b]") stays text,
            # which is what geoplan reads it as
            warnings.filterwarnings("ignore", message="Could not parse column .* as JSON",
                                    category=UserWarning)
            frame = gpd.read_file(path, **kwargs)
    except shapely.errors.GEOSException as exc:
        raise InputDataError(
            f"cannot read the shapes of {path}: {exc}. A polygon there has a ring that is not "
            f"closed or has too few points: {_FIX_SHAPES}") from exc
    except UnicodeDecodeError as exc:
        fix = (f"A GeoPackage's text is always UTF-8: remove `{encoding_key}:` from the config"
               if encoding and path.suffix.lower() == ".gpkg" else
               "Save it as UTF-8 (in QGIS: Export ▸ Save Features As, Encoding UTF-8), or give "
               f"its encoding with `{encoding_key}: gbk` (or gb18030) in the config")
        raise InputDataError(
            f"cannot read the text of {path}: it is not {encoding or 'UTF-8'} "
            f"({_undecodable(exc)}). {fix}") from exc
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError) as exc:
        # GDAL's own advice (a driver prefix on the path) is not something a config can do
        reason = str(exc).split("; It might help")[0].rstrip(". ")
        if re.search(r"Unterminated|unexpected end|premature end|truncated", reason, re.I):
            # a file cut short (a copy or a download that stopped): its format is right
            raise InputDataError(
                f"cannot read {path}: {reason}. The file looks cut short or damaged: copy or "
                "export it again.") from exc
        raise InputDataError(
            f"cannot read {path}: {reason}. Is it a GeoPackage, GeoJSON, Shapefile (with its "
            ".shx/.dbf) or CSV? Give `layer:` for a GeoPackage with several layers."
        ) from exc
    _refuse_non_finite(path, frame)
    return frame


def _undecodable(exc: UnicodeDecodeError) -> str:
    """Which text could not be read: the value (GDAL decodes field by field, so the offset
    is within it, not the file), shown as it reads in GB18030 when it does."""
    raw = bytes(exc.object) if isinstance(exc.object, bytes | bytearray) else b""
    try:
        seen = raw.decode("gb18030")
    except UnicodeDecodeError:
        return f"a field value: {exc.reason}"
    return f"a field value that reads {seen[:40]!r} as GBK"


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
    shown = first_named([f"feature {i + 1}" + (f" ({frame[name].iloc[i]})" if name else "")
                         for i in rows], 5)
    verb = "has" if len(rows) == 1 else "have"
    raise InputDataError(
        f"{path}: {shown} {verb} NaN or infinite coordinates; {_FIX_SHAPES}")


_SPREADSHEETS = (".xlsx", ".xls", ".ods")


def _refuse_unnamed_layers(path: Path, layer_key: str) -> None:
    """A file of several layers (a GeoPackage) read without ``layer:`` would give its first
    layer, whatever it holds: a park outline taken for a bus stop. Refuse, naming them."""
    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except (pyogrio.errors.DataSourceError, OSError, ValueError):
        return  # unreadable: the read below says so
    names = [n for n in names if n != "layer_styles"]  # QGIS's styles table
    if len(names) > 1:
        shown = first_named(names, 10)
        raise InputDataError(
            f"{path} has {len(names)} layers ({shown}); say which one to read with "
            f"`{layer_key}: <name>` in the config")


def _read_spreadsheet(path: Path, *, layer: str | None, lon: str | None, lat: str | None,
                      geographic: bool) -> gpd.GeoDataFrame:
    """A point list kept in Excel: its sheet (``layer:``, default the first) read as a table
    with coordinate columns, as a CSV is."""
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError,
            OSError) as exc:
        raise InputDataError(
            f"cannot read the spreadsheet {path}: {exc}. Save the sheet as CSV UTF-8 (in Excel: "
            "另存为 ▸ CSV UTF-8) and give that file instead.") from exc
    return _points_from_table(path, pd.DataFrame(frame), lon=lon, lat=lat, geographic=geographic)


def _read_csv(path: Path, *, encoding: str | None, lon: str | None, lat: str | None,
              geographic: bool = False) -> gpd.GeoDataFrame:
    text = csv_text(path, encoding,
                    "or give its encoding with `encoding:` in the layer's config entry")
    check_field_counts(text, f"CSV {path}")
    try:
        # never a column as the index: a comma ending every row (Excel) would shift them
        frame = pd.read_csv(io.StringIO(text), index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputDataError(f"cannot read CSV {path}: {exc}") from exc
    return _points_from_table(path, frame, lon=lon, lat=lat, geographic=geographic)


def csv_text(path: Path, encoding: str | None, other_fix: str = "") -> str:
    """The text of the CSV ``path``: in ``encoding``, else UTF-8 (a byte-order mark is fine)
    or, failing that, GB18030 (Excel on Chinese Windows saves GBK).

    Raises
    ------
    InputDataError
        When it decodes in none of them: save it as UTF-8, or ``other_fix``.
    """
    data = path.read_bytes()
    # a byte-order mark goes whatever follows: some tools put UTF-8's before GBK text, which
    # would otherwise read as GBK with '锘' glued to the first column's name
    bom = data.startswith(codecs.BOM_UTF8)
    data = data.removeprefix(codecs.BOM_UTF8)
    for enc in ([encoding] if encoding else ["utf-8", "gb18030"]):
        try:
            text = data.decode(enc).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
        name = codecs.lookup(enc).name
        if bom and text and name not in ("utf-8", "utf-8-sig"):
            said = "GBK" if name in ("gbk", "gb18030") else enc.upper()
            logger.warning("%s starts with a UTF-8 byte-order mark, but its text is %s: read "
                           "as %s. Save it as UTF-8 (in Excel: Save As, 'CSV UTF-8') to be "
                           "sure of its names", path, said, said)
        return text
    tried = encoding or "UTF-8 and GB18030"
    raise InputDataError(
        f"cannot decode CSV {path} as {tried}. Save it as UTF-8 (in Excel: Save As, 'CSV "
        f"UTF-8'){', ' + other_fix if other_fix else ''}.")


def check_field_counts(text: str, what: str) -> None:
    """Refuse a CSV's rows with more (filled) fields than its header: a comma in a name that
    is not quoted, or a note after the last column, would shift or drop values. Empty fields
    past the end (a comma ending every row, as Excel writes) are fine.

    Raises
    ------
    InputDataError
        Naming ``what`` (the file), the rows by line and the fix.
    """
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None:
        return
    long = [(n, len(r)) for n, r in enumerate(rows, start=2)
            if len(r) > len(header) and any(c.strip() for c in r[len(header):])]
    if long:
        shown = ", ".join(f"line {n} ({k} fields)" for n, k in long[:5])
        raise InputDataError(
            f"{what}: {len(long)} rows have more fields than the header's {len(header)}: "
            f"{shown}. Put a name with a comma in double quotes (\"新站,北口\"), or give the "
            "extra column a name in the header.")


def _points_from_table(path: Path, frame: pd.DataFrame, *, lon: str | None, lat: str | None,
                       geographic: bool) -> gpd.GeoDataFrame:
    """Points from a table's longitude and latitude columns (named, or found by their names)."""
    given = [f"{key}: {c}" for key, c in (("lon", lon), ("lat", lat))
             if c is not None and c not in frame]
    if given:
        raise InputDataError(
            f"{path} has no column named as the layer's config entry says ({', '.join(given)}; "
            f"columns: {list(frame.columns)}); give the names the file's header has")
    lon = lon or _find_column(frame, _LON_NAMES)
    lat = lat or _find_column(frame, _LAT_NAMES)
    missing = [n for n, c in (("longitude", lon), ("latitude", lat)) if c is None or c not in frame]
    if missing:
        raise InputDataError(
            f"{path} has no {' or '.join(missing)} column (columns: {list(frame.columns)}); "
            "name them with `lon:` and `lat:` in the layer's config entry"
        )
    x = pd.to_numeric(frame[lon], errors="coerce")
    y = pd.to_numeric(frame[lat], errors="coerce")
    _check_coordinates(path, x, y, str(lon), str(lat), geographic=geographic)
    bad = x.isna() | y.isna()
    if bad.any():  # named by line (the header is line 1), with what they hold
        at = np.flatnonzero(bad.to_numpy())

        def cell(column: str, i: int) -> str:
            value = frame[column].iloc[i]
            return f"{column}=" + ("empty" if pd.isna(value) else repr(str(value)))

        shown = "; ".join(f"line {i + 2} ({cell(str(lon), i)}, {cell(str(lat), i)})"
                          for i in at[:5]) + (
            f"; {len(at) - 5} more" if len(at) > 5 else "")
        logger.warning("%s: %d row(s) without numeric coordinates rejected: %s", path,
                       int(bad.sum()), shown)
    frame = frame.loc[~bad]
    points = gpd.GeoDataFrame(frame, geometry=shapely.points(x[~bad], y[~bad]))
    points.attrs[COORDINATE_COLUMNS] = (str(lon), str(lat))
    return points


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
    shown = first_named([f"line {i + 2}: {lon}={x.iloc[i]}, {lat}={y.iloc[i]}" for i in rows], 5,
                        "; ")
    what = ("infinite coordinates" if not outside.any() else
            "coordinates outside longitude -180…180 / latitude -90…90" if not infinite.any()
            else "infinite or out-of-range coordinates")
    raise InputDataError(
        f"CSV {path}: {len(rows)} row(s) have {what} ({shown}). Correct or remove these "
        "rows (a typo such as a missing decimal point?)."
    )


def _find_column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): c for c in frame.columns}
    for name in names:
        if name.lower() in lower:
            return str(lower[name.lower()])
    return None


_LEVEL_WORDS = {"primary": "primary", "小学": "primary", "junior": "junior", "初中": "junior",
                "初级中学": "junior", "senior": "senior", "高中": "senior", "高级中学": "senior"}


def _school_levels(frame: pd.DataFrame, level_rules: dict[str, Any], path: Path) -> None:
    """``levels`` (primary;junior;…) from the file's own column where it says them (in English
    or Chinese), else from each school's name, as for OSM (in place; ``level_from`` says which)."""
    given = [as_text(v) for v in frame["levels"]] if "levels" in frame.columns else [""] * len(frame)
    levels, source, unread = [], [], []
    for i, (value, name) in enumerate(zip(given, frame["name"], strict=True)):
        words = [_LEVEL_WORDS.get(w.strip().lower()) for w in re.split(r"[;,，、/ ]+", value)]
        found = [lv for lv in ("primary", "junior", "senior") if lv in words]
        if found:
            levels.append(";".join(found))
            source.append("file")
            continue
        if value:
            unread.append(f"line {i + 2}: {value!r}")
        lv, how = classify_school({"name": as_text(name)}, level_rules)
        levels.append(";".join(lv))
        source.append(how)
    if unread:
        logger.warning("%s: %d school level(s) not understood (%s); these schools' levels are read "
                       "from their names. Write primary/junior/senior or 小学/初中/高中, ';' between "
                       "two.", path, len(unread), "; ".join(unread[:3]))
    frame["levels"] = levels
    frame["level_from"] = source


def _counts(values: pd.Series, path: Path, column: str) -> np.ndarray:
    """A column of counts or areas (a school's capacity): "1,200" read as 1200; a value that
    is not a finite number of 0 or more is warned about by line and left unknown (the seats
    then come from the next source, which every school names)."""
    text = [as_text(v).replace(",", "").replace("，", "") for v in values]
    number = pd.to_numeric(pd.Series(text, dtype=object), errors="coerce").to_numpy(dtype=float,
                                                                                copy=True)
    given = np.array([t != "" for t in text], dtype=bool)
    bad = given & ~(np.isfinite(number) & (number >= 0) & (number < 1e9))
    if bad.any():
        rows = np.flatnonzero(bad)
        logger.warning("%s: %d value(s) of %r are not numbers of 0 or more (%s); they are left "
                       "unknown", path, len(rows), column,
                       "; ".join(f"line {i + 2}: {values.iloc[i]!r}" for i in rows[:3]))
        number[bad] = np.nan
    return number


_TRUE = frozenset({"1", "true", "t", "yes", "y", "是", "有", "√"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "否", "无", "×", ""})


def _flags(values: pd.Series, path: Path, column: str) -> np.ndarray:
    """A yes/no column read as booleans: "no", "否" and "0" are False (Python would call any
    text True), and a value that is neither is refused, named by line."""
    out = np.zeros(len(values), dtype=bool)
    bad = []
    for i, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)):
            out[i] = bool(v)
            continue
        text = as_text(v).lower()
        if text in _TRUE:
            out[i] = True
        elif text not in _FALSE:
            bad.append(f"line {i + 2}: {v!r}")
    if bad:
        raise InputDataError(
            f"{path}: column {column!r} should say yes or no (1/0, true/false, 是/否), but "
            f"{'; '.join(bad[:5])}{' and more' if len(bad) > 5 else ''}")
    return out


def _check_column_names(source: FileSource, kind: str) -> None:
    """``columns:`` maps the layer's own column names: refuse any other (a typo would be
    dropped without a word, ``geometry`` would replace the shapes)."""
    known = set(columns(kind)) - {"source", "source_id"}
    unknown = sorted(set(source.columns) - known)
    if unknown:
        raise ConfigError(str(source.path), [
            f"columns: {unknown} are not columns of layer {kind!r}; map any of "
            f"{sorted(known)} (a file's coordinates go in `lon:` and `lat:`)"])


def load_file_layer(source: FileSource, kind: str, level_rules: dict[str, Any],
                    key: str | None = None) -> gpd.GeoDataFrame:
    """Read ``source`` as layer ``kind``: declared CRS converted to WGS84, canonical columns.

    ``source.columns`` maps canonical columns to the file's columns; a name column is found
    automatically (name, 名称, …) when not mapped. Schools without a ``levels`` column get
    their levels from their names. ``key``: the config key of the entry (``layers.toilets[0]``),
    which a message names.
    """
    declared = parse_declared_crs(source.crs)
    raw = read_vector(source.path, layer=source.layer, encoding=source.encoding,
                      lon=source.lon, lat=source.lat, geographic=declared.is_geographic)
    if len(raw) == 0:
        raise InputDataError(
            f"{source.path} has no features; layer {kind!r} would be empty. "
            "Remove the entry or give a file with data."
        )
    crs_key = f"{key or f'layers.{kind}'}.crs"
    read_as = _datum_of_columns(source, raw.attrs.get(COORDINATE_COLUMNS), crs_key)
    raw = file_to_wgs84(raw, read_as, source=str(source.path), key=crs_key)
    frame = raw.copy()
    _check_column_names(source, kind)
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
    if kind == "schools":
        for col in ("capacity", "classes", "site_area_m2"):
            if col in frame.columns:
                frame[col] = _counts(frame[col], source.path, col)
        _school_levels(frame, level_rules, source.path)
        for level in ("primary", "junior", "senior"):
            if level in frame.columns:
                frame[level] = _flags(frame[level], source.path, level)
            else:
                frame[level] = frame["levels"].str.contains(level)
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
    out = conform(frame, kind)
    out.attrs[READ_AS] = read_as
    return out


def _datum_of_columns(source: FileSource, columns: tuple[str, str] | None, crs_key: str
                      ) -> str | int | None:
    """The CRS to read a table in: the declared one, else the datum its columns' names say.

    ``bd_lng`` / ``bd_lat`` (or ``lon_gcj02``, ``百度经度`` …) with nothing declared are read in
    that datum, and said; a declaration the names contradict is kept and warned about.
    """
    named = datum_named_by_columns(*columns) if columns else None
    if named is None or columns is None:
        return source.crs
    lon, lat = columns
    if source.crs is None:
        if named != "wgs84":
            logger.warning("%s: its columns %s / %s name %s coordinates: read as %s (say so with "
                           "`%s: %s` in the config)", source.path, lon, lat, DATUM_NAMES[named], named,
                           crs_key, named)
        return named
    declared = datum_label(parse_declared_crs(source.crs))
    if declared is not None and declared != named:
        logger.warning("%s: its columns %s / %s name %s coordinates, but %s declares %s: read as "
                       "declared; if the names are right, set `%s: %s`", source.path, lon, lat,
                       DATUM_NAMES[named], crs_key, declared, crs_key, named)
    return source.crs
