"""The coverage step's large frames written to disk as each standard finishes.

With a :class:`~geoplan.results._spill.GeometryStore`, each standard's gaps, street gaps, item
gaps, walk bands and reach areas leave memory as soon as they are made: their geometries go to
the store, their attributes stay (see :meth:`geoplan.results.CoverageResult.keep_on_disk`).
The rows are ranked and put in order exactly as the in-memory frames are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geoplan.coverage.gaps import ranked
from geoplan.results._spill import GeometryStore, SpilledFrame

__all__ = ["hold", "on_disk"]


def hold(frames: list[Any], store: GeometryStore | None, crs: Any) -> list[Any]:
    """``frames`` (DataFrames with a ``geometry`` column, or GeoDataFrames) as they are without
    a store, else each written to it (:class:`SpilledFrame`)."""
    if store is None:
        return frames
    return [SpilledFrame.write(f, store, crs) for f in frames if len(f)]


def on_disk(parts: list[Any], columns: list[str], crs: Any, store: GeometryStore,
            size: str | None = None) -> SpilledFrame:
    """``parts`` (:class:`SpilledFrame`, as :func:`hold` gave them) one after the other, with
    ``columns``; with ``size``, sorted and ranked by it within standard/district/view
    (:func:`geoplan.coverage.gaps.ranked`)."""
    whole = SpilledFrame.concat(parts, crs, store)
    if not len(whole):
        whole.attrs = pd.DataFrame({c: pd.Series(dtype="int64" if c == "rank" else object)
                                    for c in columns})
        return whole
    if size is not None:
        order = ranked(whole.attrs.assign(_row=np.arange(len(whole))), size)
        whole = whole.take(order["_row"].to_numpy())
        whole.attrs = order
    whole.attrs = whole.attrs[columns].reset_index(drop=True)
    return whole
