"""Atomic output: every file geoplan writes appears whole or not at all.

Writers produce a temporary file beside the target and rename it into place, so a crash or
an exception mid-write never leaves a half file that looks whole.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geoplan._errors import OutputError

if TYPE_CHECKING:  # pandas is imported where it is used: the command line starts without it
    import geopandas as gpd
    import numpy as np
    import pandas as pd

logger = logging.getLogger(__name__)


def load_yaml(text: str) -> Any:
    """``text`` parsed as safe YAML, by libyaml's parser where PyYAML was built with it (about
    8× faster on the packaged catalogs, the same objects)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On any exception the temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.tmp-", suffix=target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers such as GDAL want to create the file themselves
    try:
        yield tmp
        if not tmp.exists():
            raise OutputError(f"nothing was written for {shown_path(target)}")
        os.replace(tmp, target)
    except BaseException as exc:
        # GDAL's GeoPackage writer may report a full disk only as a broken database: look at
        # the free space before the half file is removed
        full = isinstance(exc, Exception) and (_disk_full(exc) or _nearly_full(target.parent))
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if full:
            raise OutputError(
                f"disk full while writing {shown_path(target)}: free some space or choose "
                "another folder with --out"
            ) from exc
        raise


_STAGING: dict[Path, Path] = {}
"""Staging folder -> the output folder it becomes (see :mod:`geoplan._outdir`)."""


def register_staging(staging: Path, target: Path | None) -> None:
    """Show files of ``staging`` under ``target`` in messages (``target`` None: forget it)."""
    if target is None:
        _STAGING.pop(staging, None)
    else:
        _STAGING[staging] = target


def shown_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as the user knows it: a file in a staging folder under its final folder."""
    path = Path(path)
    for staging, target in list(_STAGING.items()):
        try:
            return target / path.relative_to(staging)
        except ValueError:
            continue
    return path


def _nearly_full(folder: Path) -> bool:
    """Whether the file system of ``folder`` has less than 64 kB left."""
    try:
        stat = os.statvfs(folder)
    except (OSError, AttributeError):
        return False
    return stat.f_bavail * stat.f_frsize < 64 * 1024


def _disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (an OSError, or a GDAL/openpyxl error wrapping one) means the disk is full."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(seen).lower()
        if "no space left on device" in text or "disk full" in text or "disk is full" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def check_output_folder(path: str | os.PathLike[str]) -> Path:
    """Check, before any work, that a command can write its output folder ``path``: files can
    be made beside it (its staging folder and lock go there) and, if it exists, in it. Only
    its parent is created: a run that then fails leaves no empty output folder behind.

    Raises
    ------
    OutputError
        If the folder's parent cannot be created or either cannot be written, with the reason.
    """
    path = Path(path)
    _check_name_lengths(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"the output folder {path} is a file; give a folder with --out")
    _writable(path.parent, path, *([path] if path.is_dir() else []))
    return path


def check_output_file(path: str | os.PathLike[str], flag: str) -> Path:
    """Check, before writing, a file named on the command line (``--csv FILE``): its folder
    exists, and it is not a folder, device or pipe (the atomic write would replace it).

    Raises
    ------
    OutputError
        Naming ``flag`` and what to give instead.
    """
    path = Path(path)
    _check_name_lengths(path)
    if path.is_dir():
        raise OutputError(f"{flag} {path} is a folder; give a file name, e.g. {path / 'table.csv'}")
    if path.exists() and not path.is_file():
        raise OutputError(f"{flag} {path} is not a regular file (a device or pipe); give a "
                          "file name")
    if not path.parent.is_dir():
        raise OutputError(f"{flag} {path}: the folder {path.parent} does not exist; create it "
                          "first or give a file in an existing folder")
    return path


_NAME_MAX = 255
"""Bytes in one file or folder name (Linux, macOS and Windows file systems)."""


def _check_name_lengths(path: Path) -> None:
    """Refuse a path with a name longer than the file system takes (geoplan adds about 30
    bytes for its staging folder beside the output folder)."""
    for part in path.parts:
        size = len(part.encode("utf-8", "surrogateescape"))
        if size > _NAME_MAX - 32:
            raise OutputError(
                f"the name {part[:20]}… is {size} bytes long; file systems take {_NAME_MAX} "
                "bytes (about 80 Chinese characters) and geoplan needs about 30 more beside "
                "it. Choose a shorter name with --out.")


def ensure_writable_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` if needed and check that files can be written in it.

    Raises
    ------
    OutputError
        If the folder cannot be created or written, with the reason.
    """
    path = Path(path)
    _writable(path, path)
    return path


def _writable(create: Path, shown: Path, *also: Path) -> None:
    """Create folder ``create`` if needed and write a probe file in it and in ``also``."""
    blocker = next((p for p in (create, *create.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():  # "File exists" said nothing of why
        raise OutputError(f"cannot write to the output folder {shown}: {blocker} is a file, not "
                          "a folder. Choose another folder with --out.")
    try:
        create.mkdir(parents=True, exist_ok=True)
        for folder in (create, *also):
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".geoplan-write-test"):
                pass
    except OSError as exc:
        raise OutputError(
            f"cannot write to the output folder {shown}: {exc.strerror or exc}. "
            "Choose another folder with --out or fix its permissions."
        ) from exc


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Text starting with one of these is read as a formula by spreadsheet programs."""


def neutralise_text(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Only strings change: numbers (negative ones too) stay numbers. The apostrophe is the
    common practice (OWASP "CSV injection"): Excel and LibreOffice then show the text as is.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its text cells (and header) that a spreadsheet would run as formulas
    neutralised (:func:`neutralise_text`): a new frame when any is, else ``df`` itself."""
    import numpy as np
    import pandas as pd

    changed: dict[int, list[object]] = {}
    for i, (_, column) in enumerate(df.items()):
        if (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
                or pd.api.types.is_datetime64_any_dtype(column)):
            continue
        values = column.tolist()
        if any(isinstance(v, str) and v.startswith(FORMULA_PREFIXES) for v in values):
            changed[i] = [neutralise_text(v) for v in values]
    header = [neutralise_text(c) for c in df.columns]
    if not changed and header == list(df.columns):
        return df  # most tables: nothing to change, nothing copied
    safe = df.copy()
    for i, values in changed.items():
        texts = np.empty(len(values), dtype=object)
        texts[:] = values
        safe.isetitem(i, texts)
    safe.columns = header
    return safe


def write_csv(df: pd.DataFrame | Iterable[pd.DataFrame], target: str | os.PathLike[str]) -> Path:
    """Write ``df`` as UTF-8 CSV with a byte-order mark, so Excel shows Chinese text correctly.

    Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return) get a leading ``'``; numbers stay numbers. ``df`` may
    also be blocks of rows with the same columns (a city's gaps, a block at a time), written
    one after the other under one header: the same file as their concatenation.
    """
    import pandas as pd

    blocks = [df] if isinstance(df, pd.DataFrame) else df
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as out:
        for i, block in enumerate(blocks):
            # CRLF line ends (RFC 4180) so that a field holding a bare CR is quoted, not split
            csv_safe(block).to_csv(out, index=False, header=i == 0, lineterminator="\r\n")
    logger.info("wrote %s", target)
    return Path(target)


@dataclass(frozen=True)
class LayerBlocks:
    """A GeoPackage layer given as blocks of rows, written one block at a time.

    Attributes
    ----------
    blocks
        Gives the layer's rows in order as GeoDataFrames with the same columns and dtypes
        (at least one, empty for an empty layer).
    kinds
        Every row's geometry kind (:func:`geometry_kinds`): the
        layer's geometry type is decided from all of them, as for the whole frame.
    """

    blocks: Callable[[], Iterable[gpd.GeoDataFrame]]
    kinds: np.ndarray


HAS_Z = 64
"""Added to a geometry's type id in :func:`geometry_kinds` when it has z coordinates."""


def geometry_kinds(geoms: np.ndarray) -> np.ndarray:
    """Each geometry's shapely type id (-1 for None), plus :data:`HAS_Z` where it has z, as
    int8: what :func:`layer_geometry_type` decides a layer's geometry type from."""
    import numpy as np
    import shapely

    kinds = shapely.get_type_id(geoms).astype(np.int8)
    kinds[shapely.has_z(geoms)] += HAS_Z
    return kinds


_SINGLE_MULTI = {(1, 5), (3, 6), (0, 4)}  # LineString, Polygon, Point and their Multi types
_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
               5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}


def layer_geometry_type(kinds: np.ndarray) -> tuple[str, bool]:
    """The geometry type a GeoPackage layer of geometries of ``kinds`` is declared with, and
    whether its single parts are written as multi: pyogrio's choice for the whole frame (one
    type: that type; a type and its multi type: the multi type, singles promoted; anything
    else: ``Unknown``), with `` Z`` when any geometry has z."""
    import numpy as np

    present = kinds[kinds >= 0]
    has_z = bool((present >= HAS_Z).any())
    types = sorted({int(k) % HAS_Z for k in np.unique(present)})
    name, promote = "Unknown", False
    if len(types) == 1:
        name = _TYPE_NAMES.get(types[0], "Unknown")
    elif len(types) == 2 and tuple(types) in _SINGLE_MULTI:
        name, promote = _TYPE_NAMES[types[1]], True
    return (f"{name} Z" if has_z and name != "Unknown" else name), promote


SPATIAL_INDEX_MIN_ROWS = 5_000
"""Layers of a GeoPackage with this many features or more get a spatial index (R-tree)."""


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame | Callable[[], gpd.GeoDataFrame]
                                 | LayerBlocks],
               target: str | os.PathLike[str], *,
               styles: Callable[[Path], object] | None = None) -> Path:
    """Write several GeoDataFrames as named layers of one GeoPackage, atomically.

    A layer may be given as a function that returns it: it is called when the layer is
    written, so that layers held on disk are in memory one at a time; or as
    :class:`LayerBlocks`, written a block of rows at a time (a whole city's gaps are never in
    memory at once), the same layer as the whole frame would give. Empty layers are written
    too (with their columns) so that a reader always finds every layer it expects. ``styles``
    is called with the file once every layer is in it, before it is put in place
    (:func:`geoplan.report.qgis_styles.styler` adds the QGIS styles).
    """
    with atomic_path(target) as tmp:
        with sqlite_without_fsync():
            for name, layer in layers.items():
                if isinstance(layer, LayerBlocks):
                    geometry_type, promote = layer_geometry_type(layer.kinds)
                    for i, block in enumerate(layer.blocks()):
                        # a large layer's blocks: the first makes the index for all
                        _write_layer(block, tmp, name, append=i > 0, spatial_index=True,
                                     geometry_type=geometry_type, promote_to_multi=promote)
                else:
                    _write_layer(layer() if callable(layer) else layer, tmp, name)
        if styles is not None:
            styles(tmp)
        _fsync(tmp)  # once, whole, before it takes the target's name
    logger.info("wrote %s (%d layers)", target, len(layers))
    return Path(target)


_UNSYNCED = {"OGR_SQLITE_SYNCHRONOUS": "OFF", "OGR_SQLITE_PRAGMA": "journal_mode=MEMORY",
             "SPATIALITE_LOAD": "NO"}


@contextlib.contextmanager
def sqlite_without_fsync() -> Iterator[None]:
    """GDAL's SQLite (GeoPackage) writer without an fsync per transaction, for the block, with
    its rollback journal in memory and without SpatiaLite.

    GDAL commits every layer (and its spatial index and metadata) in transactions of its own,
    each synced to disk: about 420 syncs for the default run's layers.gpkg, whose writing took
    3.0–3.3 s wall with them and 0.6–0.8 s without on a shared machine. Each transaction also
    made and removed a journal file beside it: kept in memory, eight small layers were written
    in a median 68 ms against 89 ms (four rounds of 15, interleaved). Only a file that is not
    yet in place is written so: :func:`write_gpkg` syncs the finished file once, before it
    takes the target's name, and a crash leaves only its temporary file, never used. The file's
    content is the same (the journal mode is not stored in it). GDAL opens the file again for
    each layer and set SpatiaLite's SQL functions up on every opening, which a GeoPackage's
    own triggers never call (GDAL registers the ones they use): without them, eight small
    layers took 40–45 ms of CPU against 53–67 ms (5 rounds of 10, interleaved), with the same
    tables, triggers and R-tree. The previous settings are restored afterwards.
    """
    import pyogrio

    before = {key: pyogrio.get_gdal_config_option(key) for key in _UNSYNCED}
    pyogrio.set_gdal_config_options(_UNSYNCED)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_layer(gdf: gpd.GeoDataFrame, path: Path, name: str, *, append: bool = False,
                 geometry_type: str | None = None, promote_to_multi: bool | None = None,
                 spatial_index: bool | None = None) -> None:
    frame = gdf.copy()
    for col in frame.columns:
        if col == frame.geometry.name:
            continue
        if frame[col].dtype == object:
            # lists/dicts/None mixes are not valid GeoPackage field types
            frame[col] = frame[col].map(_plain_value)
        elif frame[col].dtype == bool:
            frame[col] = frame[col].astype("int8")
    if len(frame) == 0 and geometry_type is None:
        geometry_type = "Unknown"
    # a layer of a few thousand features draws as fast without a spatial index, and building
    # one was half the time of writing a small layer (a batch job writes 24 of them)
    index = len(frame) >= SPATIAL_INDEX_MIN_ROWS if spatial_index is None else spatial_index
    frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio", geometry_type=geometry_type,
                  promote_to_multi=promote_to_multi, mode="a" if append else "w",
                  SPATIAL_INDEX="YES" if index else "NO")


def _plain_value(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, list | tuple | set):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in value.items())
    return value
