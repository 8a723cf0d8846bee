"""Polygons cut to axis-aligned rectangles, pair by pair: grid cells and runs of cells."""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["clip_to_rects"]


def clip_to_rects(polys: np.ndarray, rects: np.ndarray) -> np.ndarray:
    """Each polygon clipped to its axis-aligned rectangle (pairwise, same length).

    GEOS's rectangle clipper (``clip_by_rect``) rather than a general overlay: about 2.5x
    (walk-band runs) to 4x (50 m site cells, validity check included) cheaper per pair on the
    tiled city; the same polygons up to the last bits (areas equal to about 1e-11 of the cell:
    the overlay rounds its crossing points differently). A clipped polygon that is not valid
    (the clipper's corner cases) is made by the overlay instead.
    """
    b = shapely.bounds(rects)
    try:  # the clipper's ufunc takes a rectangle per polygon; the public wrapper, one for all
        clipped = shapely.lib.clip_by_rect(polys, b[:, 0], b[:, 1], b[:, 2], b[:, 3])
    except (AttributeError, TypeError):  # pragma: no cover - another shapely
        clipped = [shapely.clip_by_rect(p, *r) for p, r in zip(polys, b, strict=True)]
    out = np.asarray(clipped, dtype=object)
    bad = ~shapely.is_valid(out)
    if bad.any():
        out[bad] = shapely.intersection(rects[bad], polys[bad])
    return out
