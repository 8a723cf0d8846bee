"""Result geometries held on disk while a run goes on, their attributes in memory.

A whole city's gaps, street gaps, reach areas, item gaps and walk bands are a few GB as GEOS
objects, and every later step (sites, tables, map pages, reports) needs them only part by
part. :class:`GeometryStore` writes each result's geometries once as WKB to a temporary file;
:class:`SpilledFrame` keeps the rest of the table (the attributes, each row's bounds and the
place of its WKB) and reads back whole or just the rows a district page needs.

The file is unnamed (unlinked as soon as it is made, on POSIX): nothing is left behind when
the process ends, however it ends, and nothing appears in an output folder it is made in.
Forked workers inherit the open file and read it on their own; a forked child may also write
to it, and the frames it returns (pickled) come back to the parent's store, which then knows
how far the file goes (:func:`geoplan._child.in_child`). A store cannot travel anywhere else.
"""

from __future__ import annotations

import itertools
import os
import pickle
import tempfile
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geoplan._frames import geo_frame
from geoplan._io import geometry_kinds

try:
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - Windows
    _fcntl = None  # type: ignore[assignment]

__all__ = ["BLOCK_BYTES", "GeometryStore", "SpilledFrame", "row_blocks"]

BLOCK_BYTES = 32 << 20
"""WKB bytes a block of a frame read a block at a time holds, about (:func:`row_blocks`;
GEOS holds the shapes in about two to three times that)."""

_RUN_GAP = 1 << 16
"""Rows whose WKB lies this close (bytes) are read in one call."""


_STORES: weakref.WeakValueDictionary[tuple[int, int], GeometryStore] = (
    weakref.WeakValueDictionary())
"""Every open store of this process (and, after a fork, of its parent) by its token."""
_TOKENS = itertools.count()


def _store_of(token: tuple[int, int], end: int) -> GeometryStore:
    """The store a pickled store stands for: this process's (or its fork parent's) own, which
    now knows the file goes to ``end`` (a child wrote there)."""
    store = _STORES.get(token)
    if store is None:
        raise pickle.UnpicklingError(
            "spilled geometries travel only between a process and its forked children (they "
            "share the open file); load a frame first (SpilledFrame.load) to move it")
    with store._lock:
        store._end = max(store._end, end)
    return store


class GeometryStore:
    """Geometries appended to an unnamed temporary file as WKB, read back by place.

    Parameters
    ----------
    folder
        Where the file is made (None: the system's temporary folder). Put it on the disk the
        outputs go to: a temporary folder in memory (tmpfs) would hold the bytes in RAM.
    """

    def __init__(self, folder: str | Path | None = None) -> None:
        # elsewhere than POSIX the open file keeps its name: not in an output folder then
        self._file = tempfile.TemporaryFile(dir=folder if os.name == "posix" else None,
                                            prefix=".geoplan-spill-")
        # closed (and so gone) with the last frame that reads it
        self._closer = weakref.finalize(self, self._file.close)
        self._lock = threading.Lock()
        self._end = 0
        self._token = (os.getpid(), next(_TOKENS))
        _STORES[self._token] = self

    def __reduce__(self) -> tuple[Any, tuple[tuple[int, int], int]]:
        return _store_of, (self._token, self._end)

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._end

    def close(self) -> None:
        """Close (and so remove) the file; its frames can no longer be read."""
        self._closer()

    def put(self, geoms: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Write ``geoms`` (missing ones allowed); return each one's start and length in bytes
        (length -1 for a missing geometry)."""
        wkb = shapely.to_wkb(geoms)
        lengths = np.fromiter((-1 if b is None else len(b) for b in wkb), dtype=np.int64,
                              count=len(wkb))
        blob = b"".join(b for b in wkb if b is not None)
        with self._lock:
            offset = self._append(blob)
        ends = offset + np.cumsum(np.maximum(lengths, 0))
        return ends - np.maximum(lengths, 0), lengths

    def get(self, starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
            ) -> npt.NDArray[Any]:
        """The geometries written at ``starts`` with ``lengths`` (None where length is -1)."""
        out = np.full(len(starts), None, dtype=object)
        present = np.flatnonzero(lengths >= 0)
        if not len(present):
            return out
        with self._lock:
            self._file.flush()
        order = present[np.argsort(starts[present], kind="stable")]
        s, n = starts[order], lengths[order]
        ends = s + n
        # runs of rows close together in the file, each read in one call
        cuts = np.flatnonzero(s[1:] - np.maximum.accumulate(ends)[:-1] > _RUN_GAP) + 1
        wkb = np.empty(len(order), dtype=object)
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(order)], strict=True):
            first, last = int(s[lo]), int(ends[lo:hi].max())
            chunk = memoryview(self._read(first, last - first))
            for i in range(lo, hi):
                a = int(s[i]) - first
                wkb[i] = bytes(chunk[a:a + int(n[i])])
        out[order] = shapely.from_wkb(wkb)
        return out

    def _append(self, blob: bytes) -> int:
        """Write ``blob`` at the end of the file; return where it starts.

        Forked processes writing at the same time (chunks of a city measured side by side)
        share the file: on POSIX each write takes a lock on the file held by its process alone
        and goes where the file ends then, whatever this copy of the store last knew.
        """
        if _fcntl is None:  # pragma: no cover - Windows: no fork, one writer
            offset = self._end
            self._file.seek(offset)
            self._file.write(blob)
            self._file.flush()
        else:
            fd = self._file.fileno()
            _fcntl.lockf(fd, _fcntl.LOCK_EX)
            try:
                offset = max(self._end, os.fstat(fd).st_size)
                view, done = memoryview(blob), 0
                while done < len(blob):
                    done += os.pwrite(fd, view[done:], offset + done)
            finally:
                _fcntl.lockf(fd, _fcntl.LOCK_UN)
        self._end = offset + len(blob)
        return offset

    def _read(self, offset: int, size: int) -> bytes:
        if hasattr(os, "pread"):  # no shared file position: threads and forks read at once
            data = os.pread(self._file.fileno(), size, offset)
        else:  # pragma: no cover - Windows
            with self._lock:
                self._file.seek(offset)
                data = self._file.read(size)
        if len(data) != size:
            raise OSError(f"spilled geometries: read {len(data)} of {size} bytes at {offset}")
        return data


@dataclass
class SpilledFrame:
    """A GeoDataFrame whose geometries are in a :class:`GeometryStore`.

    Attributes
    ----------
    attrs
        The columns but the geometry, in order, with the frame's index.
    starts, lengths
        Where each row's WKB is in ``store`` (length -1: no geometry).
    bounds
        Each row's bounds (n × 4: minx, miny, maxx, maxy; NaN without geometry).
    kinds
        Each row's geometry kind (:func:`geoplan._io.geometry_kinds`): a GeoPackage layer
        written block by block declares the geometry type the whole frame would have
        (:func:`geoplan._io.write_gpkg`).
    crs
        The geometries' CRS.
    store
        The file holding them.
    """

    attrs: pd.DataFrame
    starts: npt.NDArray[np.int64]
    lengths: npt.NDArray[np.int64]
    bounds: npt.NDArray[np.float64]
    kinds: npt.NDArray[np.int8]
    crs: Any
    store: GeometryStore
    _grid: _CornerGrid | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def write(cls, frame: pd.DataFrame, store: GeometryStore, crs: Any = None) -> SpilledFrame:
        """``frame``'s geometries written to ``store``, the rest kept.

        ``frame`` is a GeoDataFrame, or a DataFrame whose ``geometry`` column holds shapely
        geometries in ``crs``.
        """
        if isinstance(frame, gpd.GeoDataFrame):
            column, crs = frame.geometry.name, frame.crs
        else:
            column = "geometry"
        geoms = np.asarray(frame[column].to_numpy(), dtype=object)
        starts, lengths = store.put(geoms)
        return cls(pd.DataFrame(frame.drop(columns=column)), starts, lengths,
                   shapely.bounds(geoms), geometry_kinds(geoms), crs, store)

    @classmethod
    def concat(cls, parts: list[SpilledFrame], crs: Any, store: GeometryStore) -> SpilledFrame:
        """The rows of ``parts`` one after the other (index 0..n-1)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls(pd.DataFrame(), np.zeros(0, np.int64), np.zeros(0, np.int64),
                       np.zeros((0, 4)), np.zeros(0, np.int8), crs, store)
        attrs = pd.concat([p.attrs for p in parts], ignore_index=True)
        return cls(attrs, np.concatenate([p.starts for p in parts]),
                   np.concatenate([p.lengths for p in parts]),
                   np.concatenate([p.bounds for p in parts]),
                   np.concatenate([p.kinds for p in parts]), crs, store)

    def __len__(self) -> int:
        return len(self.attrs)

    def take(self, positions: npt.NDArray[np.intp]) -> SpilledFrame:
        """The rows at ``positions`` in that order (their index kept)."""
        return SpilledFrame(self.attrs.iloc[positions], self.starts[positions],
                            self.lengths[positions], self.bounds[positions],
                            self.kinds[positions], self.crs, self.store)

    def rows_meeting(self, box: tuple[float, float, float, float]) -> npt.NDArray[np.intp]:
        """Positions (ascending) of the rows whose bounds meet ``box`` (minx, miny, maxx,
        maxy): a superset of the rows whose geometry does.

        Found through a grid of the rows' lower-left corners (made on the first call), so a
        district page looks at the rows near it, not at every row of the city.
        """
        grid = self._grid if self._grid is not None else _CornerGrid(self.bounds)
        self._grid = grid
        cand = grid.near(box)
        b = self.bounds[cand]
        meet = ((b[:, 0] <= box[2]) & (b[:, 2] >= box[0])
                & (b[:, 1] <= box[3]) & (b[:, 3] >= box[1]))
        return np.sort(cand[meet])

    def load(self, rows: npt.NDArray[Any] | None = None) -> gpd.GeoDataFrame:
        """The frame (or the rows at positions ``rows``, or where a boolean ``rows`` is True)
        as a GeoDataFrame, index kept."""
        if rows is not None and np.asarray(rows).dtype == bool:
            rows = np.flatnonzero(rows)
        part = self if rows is None else self.take(np.asarray(rows, dtype=np.intp))
        geoms = part.store.get(part.starts, part.lengths)
        return geo_frame(part.attrs, geoms, self.crs)

    def blocks(self, rows: int, max_bytes: int = BLOCK_BYTES) -> Iterator[gpd.GeoDataFrame]:
        """The frame as consecutive blocks of at most ``rows`` rows and about ``max_bytes``
        of WKB (a block has at least one row), in order (one empty block when it has no rows):
        a whole city's frame written or scanned a block at a time."""
        for lo, hi in row_blocks(len(self), rows, np.maximum(self.lengths, 0), max_bytes):
            yield self.load(np.arange(lo, hi))


def row_blocks(n: int, rows: int, sizes: npt.NDArray[np.int64] | None = None,
               max_bytes: int = BLOCK_BYTES) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` of consecutive blocks of at most ``rows`` of ``n`` rows; one empty
    block when ``n`` is 0 (a layer is written with its columns even without rows).

    With ``sizes`` (bytes per row), a block also ends before its bytes pass ``max_bytes``,
    keeping at least one row: a city's reach areas are a few hundred rows of up to a few MB
    each, and 50,000 of them read at once were 640 MB at 196 tiles.
    """
    if rows < 1:
        raise ValueError(f"blocks of {rows} rows")
    if sizes is None:
        for lo in range(0, max(n, 1), rows):
            yield lo, min(lo + rows, n)
        return
    ends = np.cumsum(np.asarray(sizes, dtype=np.int64))
    lo = 0
    while True:
        before = int(ends[lo - 1]) if lo else 0
        fits = int(np.searchsorted(ends, before + max_bytes, side="right"))
        hi = min(lo + rows, n, max(fits, lo + 1))
        yield lo, hi
        if hi >= n:
            return
        lo = hi


class _CornerGrid:
    """Rows bucketed by the cell of their bounds' lower-left corner, for box queries.

    A cell is at least as wide and tall as nearly every row (the 99th percentile), so a row
    that meets a box has its corner in the cells from one cell left of and below the box to
    the box's upper right; the few rows larger than a cell are looked at for every box.
    There are at most about as many cells as rows. Rows without bounds (no geometry) are in
    no cell.
    """

    def __init__(self, bounds: npt.NDArray[np.float64]) -> None:
        rows = np.flatnonzero(np.isfinite(bounds).all(axis=1))
        b = bounds[rows]
        self.nx = self.ny = 0
        self.big = self.rows = self.order = np.zeros(0, dtype=np.intp)
        self.starts = np.zeros(1, dtype=np.intp)
        self.x0 = self.y0 = self.sx = self.sy = 1.0
        if not len(rows):
            return
        side = max(1, int(np.ceil(np.sqrt(len(rows)))))
        self.x0, self.y0 = float(b[:, 0].min()), float(b[:, 1].min())
        width, height = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        span_x, span_y = float(b[:, 2].max()) - self.x0, float(b[:, 3].max()) - self.y0
        # widened for rounding: a row as wide as a cell surely fits
        self.sx = max(float(np.quantile(width, 0.99)), span_x / side) * (1 + 1e-9) + 1e-9
        self.sy = max(float(np.quantile(height, 0.99)), span_y / side) * (1 + 1e-9) + 1e-9
        large = (width > self.sx) | (height > self.sy)
        self.big, self.rows, b = rows[large], rows[~large], b[~large]
        if not len(self.rows):
            return
        cx = np.floor((b[:, 0] - self.x0) / self.sx).astype(np.int64)
        cy = np.floor((b[:, 1] - self.y0) / self.sy).astype(np.int64)
        self.nx, self.ny = int(cx.max()) + 1, int(cy.max()) + 1
        key = cx * self.ny + cy
        self.order = np.argsort(key, kind="stable")
        self.starts = np.searchsorted(key[self.order], np.arange(self.nx * self.ny + 1))

    def near(self, box: tuple[float, float, float, float]) -> npt.NDArray[np.intp]:
        """Positions of the rows that may meet ``box``: the large rows and those whose corner
        lies in a cell a row meeting it may have its corner in (unsorted)."""

        def cells(lo: float, hi: float, origin: float, size: float, count: int) -> range:
            first = int(np.floor((lo - origin) / size)) - 1
            last = int(np.floor((hi - origin) / size))
            return range(max(first, 0), min(last, count - 1) + 1)

        blocks = [self.big]
        ys = cells(box[1], box[3], self.y0, self.sy, self.ny)
        if len(ys):
            # a column's cells in y are consecutive keys: one slice per column
            blocks += [self.rows[self.order[self.starts[ix * self.ny + ys.start]:
                                            self.starts[ix * self.ny + ys.stop]]]
                       for ix in cells(box[0], box[2], self.x0, self.sx, self.nx)]
        return np.concatenate(blocks)
