"""Cache of parsed OSM layers, keyed by the source file's content hash.

Parsing a city's OSM file is the slow part of loading; the cache makes the second run skip it.
A small file (under :data:`DISK_MIN_BYTES`) parses faster than its entry reads back: it is
parsed by each process and kept in memory only.
The key also covers the layer catalog and geoplan's version, so a change to either re-parses.
Set ``GEOPLAN_CACHE_DIR`` to move the cache, or ``GEOPLAN_NO_CACHE=1`` to bypass it.

Entries are data only, never code: each is a GeoPackage (``<key>.gpkg``, one table per frame,
columns renamed ``c0, c1, …``) plus a JSON file (``<key>.json``) holding the format version,
the key, the GeoPackage's SHA-256, and each frame's real column names, dtypes and CRS. Text
columns holding lists or dicts (OSM tags) are stored as JSON text. The JSON file is written
last, so an entry without it is incomplete. Anything unexpected (unknown version, another key,
a GeoPackage that does not match its hash, a missing table, unreadable JSON) is a miss: the
entry is parsed again and rewritten. Nothing in the cache folder is ever unpickled or executed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geoplan._io import atomic_path, sqlite_without_fsync
from geoplan._version import __version__
from geoplan.layers.osm import OsmData

logger = logging.getLogger(__name__)

JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None

CACHE_FORMAT = 7
"""Bumped whenever what is cached changes shape, so old entries are never misread
(7: named places; 6: schools' and other grounds kept as polygons, roads' width and lanes; 5: building
levels and census fields; 4: cut points and read issues of truncated ways;
3: GeoPackage + JSON metadata; 2 and before were pickles, which are never read)."""

FORMAT_NAME = "geoplan-layer-cache"
_ORPHAN_AGE_S = 3600.0


KEEP_MAX_BYTES = 8_000_000
"""Entries up to this size (their GeoPackage) are also kept in memory, a few at a time, so
that a process reading the same entry again (a batch worker's next district of the same city,
a notebook run again) copies the frames instead of reading the file: 0.14 s a job on a small
city, where the whole job takes about 1 s. Larger entries are read each time: a whole city's
layers held for the next job would be the memory a worker needs for its own job."""

_KEEP_ENTRIES = 4

DISK_MIN_BYTES = 200_000
"""OSM files smaller than this are parsed again by each process rather than cached on disk;
what they give is kept in memory only (:func:`store_frames` with ``disk=False``). Reading a
small file's entry back takes longer than parsing the file: a 42 kB OSM XML parsed in
118–133 ms and came back from its entry in 186–237 ms, after writing the entry had cost
about 230 ms more (CPU, 5 rounds each). The 284 kB Chengdu extract parses in 0.50–0.65 s and
comes back in 0.28–0.37 s: it is cached."""

_Entry: TypeAlias = tuple[dict[str, gpd.GeoDataFrame], dict[str, JSONValue]]
_kept: OrderedDict[tuple[str, int, int, int], _Entry] = OrderedDict()
_kept_lock = threading.Lock()


def worth_storing(path: Path) -> bool:
    """Whether what ``path`` parses to goes to the cache on disk (:data:`DISK_MIN_BYTES`)."""
    try:
        return Path(path).stat().st_size >= DISK_MIN_BYTES
    except OSError:
        return True


class CacheMiss(Exception):
    """An entry is absent, of another format, or does not match its metadata."""


def cache_dir() -> Path:
    """Where cached layers live (``$GEOPLAN_CACHE_DIR`` or ``~/.cache/geoplan``)."""
    return Path(os.environ.get("GEOPLAN_CACHE_DIR") or Path.home() / ".cache" / "geoplan")


def file_hash(path: Path, *, length: int = 24) -> str:
    """SHA-256 of a file's content (first ``length`` hex digits; 64 for the whole digest)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:length]


def cache_key(path: Path, catalog_hash: str) -> str:
    """The cache key of ``path`` parsed with a catalog whose hash is ``catalog_hash``."""
    return f"{file_hash(path)}-{catalog_hash}-{__version__}-f{CACHE_FORMAT}"


def _paths(key: str) -> tuple[Path, Path]:
    base = cache_dir()
    return base / f"{key}.gpkg", base / f"{key}.json"


def load_frames(key: str) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, JSONValue]] | None:
    """The frames and extra values cached under ``key``, or None on a miss.

    A miss is also what an entry of another format, another key or a damaged file gives;
    it is logged and the entry removed so that it is rewritten.
    """
    if os.environ.get("GEOPLAN_NO_CACHE"):
        return None
    gpkg, meta_path = _paths(key)
    try:  # the files as they are now: an entry rewritten or damaged since is read again
        meta_stat = meta_path.stat()
    except OSError:
        return _in_memory(key)
    try:
        stat = gpkg.stat()
    except OSError:  # its GeoPackage gone: read below, said and removed as any damaged entry
        stat = None
    mark = (key, stat.st_size, stat.st_mtime_ns, meta_stat.st_mtime_ns) if stat else None
    kept = None
    if mark is not None:
        with _kept_lock:
            kept = _kept.get(mark)
            if kept is not None:
                _kept.move_to_end(mark)
    if kept is None:
        try:
            kept = _read_entry(key, gpkg, meta_path)
        except Exception as exc:  # anything unexpected in a cache entry is a miss
            logger.info("ignoring cache entry %s (%s); it will be rewritten", meta_path.name, exc)
            _remove(gpkg, meta_path)
            return None
        if mark is not None and mark[1] <= KEEP_MAX_BYTES:
            _keep(mark, kept)
    logger.info("layers loaded from cache %s", gpkg.name)
    return _copied(kept)


def _copied(entry: _Entry) -> _Entry:
    """Copies: a caller may change its frames and extra values without changing what the next
    caller gets (the OSM tag dicts inside are shared; nothing changes them, they are read)."""
    frames, extra = entry
    return ({name: frame.copy() for name, frame in frames.items()},
            json.loads(json.dumps(extra)))


def _memory_mark(key: str) -> tuple[str, int, int, int]:
    return (key, -1, -1, -1)  # no file: a size no entry on disk has


def _in_memory(key: str) -> _Entry | None:
    """The entry of ``key`` kept in memory only (a small file's), or None."""
    with _kept_lock:
        kept = _kept.get(_memory_mark(key))
        if kept is None:
            return None
        _kept.move_to_end(_memory_mark(key))
    logger.info("layers taken from memory (%s)", key[:12])
    return _copied(kept)


def _keep(mark: tuple[str, int, int, int], entry: _Entry) -> None:
    with _kept_lock:
        _kept[mark] = entry
        while len(_kept) > _KEEP_ENTRIES:
            _kept.popitem(last=False)


def store_frames(key: str, frames: Mapping[str, gpd.GeoDataFrame],
                 extra: Mapping[str, JSONValue] | None = None, *, disk: bool = True) -> None:
    """Cache ``frames`` and JSON-able ``extra`` values under ``key`` (best effort).

    ``disk``: False keeps them in this process's memory only (a small file's, see
    :data:`DISK_MIN_BYTES`). A failure is logged, not raised: the analysis goes on without
    the cache.
    """
    if os.environ.get("GEOPLAN_NO_CACHE"):
        return
    if not disk:
        _keep(_memory_mark(key), _copied((dict(frames), dict(extra or {}))))
        return
    gpkg, meta_path = _paths(key)
    try:
        _clean_orphans(gpkg.parent)
        meta: dict[str, JSONValue] = {"format": FORMAT_NAME, "version": CACHE_FORMAT, "key": key,
                                      "geoplan": __version__, "extra": dict(extra or {})}
        tables: dict[str, JSONValue] = {}
        with atomic_path(gpkg) as tmp, sqlite_without_fsync():  # it is hashed afterwards
            for i, (name, frame) in enumerate(frames.items()):
                table = f"t{i}"
                tables[name] = _write_frame(frame, tmp, table)
        meta["frames"] = tables
        meta["sha256"] = file_hash(gpkg, length=64)
        with atomic_path(meta_path) as tmp:
            tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    except (OSError, ValueError, TypeError, pyogrio.errors.DataSourceError) as exc:
        logger.warning("could not write the layer cache %s: %s", gpkg, exc)
        _remove(gpkg, meta_path)


def _write_frame(frame: gpd.GeoDataFrame, path: Path, table: str) -> dict[str, JSONValue]:
    geom_name = frame.geometry.name
    columns = [c for c in frame.columns if c != geom_name]
    out: dict[str, object] = {}
    dtypes: list[JSONValue] = []
    encoded: list[JSONValue] = []
    for i, col in enumerate(columns):
        series = frame[col]
        dtypes.append(str(series.dtype))
        if series.dtype == object:
            encoded.append(True)
            out[f"c{i}"] = [None if _is_missing(v) else json.dumps(_jsonable(v), ensure_ascii=False)
                            for v in series]
        elif series.dtype == bool:
            encoded.append(False)
            out[f"c{i}"] = series.to_numpy().astype("int8")
        else:
            encoded.append(False)
            out[f"c{i}"] = series.to_numpy()
    index_default = isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 \
        and frame.index.step == 1
    if not index_default:
        out["ix"] = [json.dumps(_jsonable(v)) for v in frame.index]
    plain = gpd.GeoDataFrame(out, geometry=frame.geometry.to_numpy(), crs=frame.crs,
                             index=pd.RangeIndex(len(frame)))
    # no spatial index and no fsync per table: the entry is checked by its hash instead
    plain.to_file(path, layer=table, driver="GPKG", engine="pyogrio", geometry_type="Unknown",
                  promote_to_multi=False, SPATIAL_INDEX="NO")
    return {"table": table, "columns": [str(c) for c in columns], "dtypes": dtypes,
            "json": encoded, "geometry": str(geom_name), "rows": len(frame),
            "crs": frame.crs.to_wkt() if frame.crs is not None else None,
            "index": not index_default}


def _read_entry(key: str, gpkg: Path, meta_path: Path
                ) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, JSONValue]]:
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise CacheMiss("not a geoplan cache entry")
    if meta.get("version") != CACHE_FORMAT:
        raise CacheMiss(f"format version {meta.get('version')!r}, expected {CACHE_FORMAT}")
    if meta.get("key") != key:
        raise CacheMiss("the entry belongs to another key")
    if not gpkg.is_file() or file_hash(gpkg, length=64) != meta.get("sha256"):
        raise CacheMiss("the GeoPackage is missing or does not match its recorded hash")
    frames = {name: _read_frame(gpkg, spec) for name, spec in meta["frames"].items()}
    extra = meta.get("extra")
    if not isinstance(extra, dict):
        raise CacheMiss("extra values are not a mapping")
    return frames, extra


def _read_frame(gpkg: Path, spec: dict[str, JSONValue]) -> gpd.GeoDataFrame:
    raw = pyogrio.read_dataframe(gpkg, layer=str(spec["table"]))
    columns = spec["columns"]
    dtypes = spec["dtypes"]
    encoded = spec["json"]
    if not (isinstance(columns, list) and isinstance(dtypes, list) and isinstance(encoded, list)
            and len(columns) == len(dtypes) == len(encoded)):
        raise CacheMiss("column metadata is malformed")
    if len(raw) != spec["rows"]:
        raise CacheMiss("row count differs from the metadata")
    data: dict[str, object] = {}
    for i, (col, dtype, is_json) in enumerate(zip(columns, dtypes, encoded, strict=True)):
        values = raw[f"c{i}"]
        if is_json:
            data[str(col)] = pd.Series([None if v is None or v is np.nan or _is_missing(v)
                                        else json.loads(v) for v in values], dtype=object)
        else:
            data[str(col)] = pd.Series(values.to_numpy()).astype(cast(Any, str(dtype)))
    index = None
    if spec.get("index"):
        index = pd.Index([_unjson(json.loads(v)) for v in raw["ix"]])
    geoms = raw.geometry.to_numpy()
    crs = spec.get("crs")
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs or None).values,
                             crs=crs or None)
    frame = frame.rename_geometry(str(spec["geometry"])) if spec["geometry"] != "geometry" else frame
    order = [*(str(c) for c in columns)]
    frame = frame[[*order, str(spec["geometry"])]] if order else frame
    if index is not None:
        frame.index = index
    return frame


def _jsonable(value: object) -> JSONValue:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_jsonable(v) for v in value)  # type: ignore[type-var]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot cache a value of type {type(value).__name__}")


def _unjson(value: JSONValue) -> object:
    return tuple(value) if isinstance(value, list) else value


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def _clean_orphans(folder: Path) -> None:
    """Remove temporary files older than an hour that a killed run left in the cache folder."""
    if not folder.is_dir():
        return
    now = time.time()
    for path in folder.glob(".*.tmp-*"):
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > _ORPHAN_AGE_S:
                path.unlink()
                logger.info("removed an orphaned cache file %s", path.name)


def read_osm_cached(path: Path, keys: frozenset[str] | set[str],
                    bounds: tuple[float, ...] | None = None) -> OsmData:
    """:func:`geoplan.layers.osm.read_osm`, cached by the file's content and the keys asked for."""
    from geoplan.layers.osm import read_osm

    key = osm_cache_key(path, keys, bounds)
    hit = load_frames(key)
    if hit is not None:
        frames, extra = hit
        return OsmData(nodes=frames["nodes"], lines=frames["lines"], areas=frames["areas"],
                       bounds=shapely.from_wkb(str(extra["bounds"])), source=str(extra["source"]),
                       bounds_note=str(extra["bounds_note"]),
                       cut_points=np.asarray(extra["cut_points"], dtype=float).reshape(-1, 2),
                       read_issues=_issue_tuples(extra["read_issues"]))
    data = read_osm(path, keys, bounds)
    store_osm(key, data, disk=worth_storing(path))
    return data


def osm_cache_key(path: Path, keys: frozenset[str] | set[str],
                  bounds: tuple[float, ...] | None = None) -> str:
    """The cache key of :func:`read_osm_cached` for ``path``, ``keys`` and ``bounds``."""
    wanted = hashlib.sha256(",".join(sorted(keys)).encode("utf-8")).hexdigest()[:12]
    return cache_key(Path(path), f"osm-{wanted}") + ("-" + "_".join(map(str, bounds)) if bounds else "")


def store_osm(key: str, data: OsmData, *, disk: bool = True) -> None:
    """Keep ``data`` (what :func:`read_osm` returned) under ``key`` (see :func:`osm_cache_key`;
    ``disk`` as for :func:`store_frames`)."""
    store_frames(key, {"nodes": data.nodes, "lines": data.lines, "areas": data.areas},
                 {"bounds": shapely.to_wkb(data.bounds, hex=True), "source": data.source,
                  "bounds_note": data.bounds_note,
                  "cut_points": cast(Any, np.asarray(data.cut_points, dtype=float)
                                     .reshape(-1, 2).tolist()),
                  "read_issues": cast(Any, [list(i) for i in data.read_issues])}, disk=disk)


def _issue_tuples(value: JSONValue) -> tuple[tuple[str, int, str], ...]:
    """Read issues ``(reason, count, note)`` back from their JSON lists."""
    rows = value if isinstance(value, list) else []
    return tuple((str(r[0]), int(cast(Any, r[1])), str(r[2])) for r in rows if isinstance(r, list))

