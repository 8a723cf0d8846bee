"""Result geometries held on disk while a run goes on, their attributes in memory.

A whole city's gaps, street gaps, reach areas, item gaps and walk bands are a few GB as GEOS
objects, and every later step (sites, tables, map pages, reports) needs them only part by
part. :class:`GeometryStore` writes each result's geometries once as WKB to a temporary file;
:class:`SpilledFrame` keeps the rest of the table (the attributes, each row's bounds and the
place of its WKB) and reads back whole or just the rows a district page needs.

The file is unnamed (unlinked as soon as it is made, on POSIX): nothing is left behind when
the process ends, however it ends, and nothing appears in an output folder it is made in.
Forked workers inherit the open file and read it on their own.
"""

from __future__ import annotations

import os
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

__all__ = ["GeometryStore", "SpilledFrame"]

_RUN_GAP = 1 << 16
"""Rows whose WKB lies this close (bytes) are read in one call."""


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
            offset = self._end
            self._file.seek(offset)
            self._file.write(blob)
            self._end += len(blob)
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
    crs
        The geometries' CRS.
    store
        The file holding them.
    """

    attrs: pd.DataFrame
    starts: npt.NDArray[np.int64]
    lengths: npt.NDArray[np.int64]
    bounds: npt.NDArray[np.float64]
    crs: Any
    store: GeometryStore

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
                   shapely.bounds(geoms), crs, store)

    @classmethod
    def concat(cls, parts: list[SpilledFrame], crs: Any, store: GeometryStore) -> SpilledFrame:
        """The rows of ``parts`` one after the other (index 0..n-1)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls(pd.DataFrame(), np.zeros(0, np.int64), np.zeros(0, np.int64),
                       np.zeros((0, 4)), crs, store)
        attrs = pd.concat([p.attrs for p in parts], ignore_index=True)
        return cls(attrs, np.concatenate([p.starts for p in parts]),
                   np.concatenate([p.lengths for p in parts]),
                   np.concatenate([p.bounds for p in parts]), crs, store)

    def __len__(self) -> int:
        return len(self.attrs)

    def take(self, positions: npt.NDArray[np.intp]) -> SpilledFrame:
        """The rows at ``positions`` in that order (their index kept)."""
        return SpilledFrame(self.attrs.iloc[positions], self.starts[positions],
                            self.lengths[positions], self.bounds[positions], self.crs, self.store)

    def rows_meeting(self, box: tuple[float, float, float, float]) -> npt.NDArray[np.bool_]:
        """Which rows' bounds meet ``box`` (minx, miny, maxx, maxy): a superset of the rows
        whose geometry does."""
        b = self.bounds
        with np.errstate(invalid="ignore"):
            return ((b[:, 0] <= box[2]) & (b[:, 2] >= box[0])
                    & (b[:, 1] <= box[3]) & (b[:, 3] >= box[1]))

    def load(self, rows: npt.NDArray[np.bool_] | None = None) -> gpd.GeoDataFrame:
        """The frame (or the rows where ``rows`` is True) as a GeoDataFrame, index kept."""
        part = self if rows is None else self.take(np.flatnonzero(rows))
        geoms = part.store.get(part.starts, part.lengths)
        return gpd.GeoDataFrame(part.attrs.copy(), geometry=gpd.GeoSeries(
            geoms, index=part.attrs.index, crs=self.crs), crs=self.crs)
