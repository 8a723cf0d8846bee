"""Straight-line buffer coverage: the official indicator (居住用地 inside facility buffers).

The served area of a facility set is the union of one buffer per facility (each with its own
radius, so radius rules work). For a basket of facility kinds the served area is the
intersection of the kinds' unions: a place is served only when every kind is within reach.

Coverage of demand pieces is measured by exact overlay: pieces wholly inside (or wholly outside)
the served area are classified with a prepared geometry, and only the pieces its boundary crosses
are intersected. Because the residential pieces partition the residential land, the sum of the
covered piece areas per district equals the area of (land ∩ served area) exactly; likewise for
street length.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan.crs import ensure_projected
from geoplan.vocab import QUAD_SEGS

__all__ = ["QUAD_SEGS", "BufferSet", "covered_fraction", "fractions_and_contact", "served_area",
           "served_in_box", "union_of_buffers"]

logger = logging.getLogger(__name__)



def union_of_buffers(
    geoms: np.ndarray | gpd.GeoSeries, radii: np.ndarray, quad_segs: int = QUAD_SEGS
) -> BaseGeometry:
    """Union of buffers of ``geoms`` (points or polygons), each by its own radius.

    Parameters
    ----------
    geoms
        Facility geometries (analysis CRS, metres). A GeoSeries in a geographic CRS is refused
        (a radius in metres is not a radius in degrees). Polygons (parks) are buffered from their
        boundary outwards, so the park itself is served.
    radii
        Radius per geometry in metres; rows with a NaN or non-positive radius are skipped.
    quad_segs
        Buffer resolution (segments per quarter circle).

    Returns
    -------
    shapely.Geometry
        A (Multi)Polygon; an empty Polygon when there is nothing to buffer.
    """
    if isinstance(geoms, gpd.GeoSeries):
        ensure_projected(geoms, "facility geometries")
    geoms = np.asarray(geoms, dtype=object)
    radii = np.asarray(radii, dtype=float)
    ok = np.isfinite(radii) & (radii > 0) & ~shapely.is_missing(geoms)
    if not ok.any():
        return shapely.Polygon()
    buffers = shapely.buffer(geoms[ok], radii[ok], quad_segs=quad_segs)
    return shapely.union_all(buffers)


class BufferSet:
    """The buffers of one facility set, indexed, so a box's served area needs only its own.

    Parameters
    ----------
    geoms, radii
        As for :func:`union_of_buffers`.
    quad_segs
        Buffer resolution.
    """

    def __init__(self, geoms: np.ndarray, radii: np.ndarray, quad_segs: int = QUAD_SEGS) -> None:
        geoms = np.asarray(geoms, dtype=object)
        radii = np.asarray(radii, dtype=float)
        ok = np.isfinite(radii) & (radii > 0) & ~shapely.is_missing(geoms)
        self.buffers = shapely.buffer(geoms[ok], radii[ok], quad_segs=quad_segs)
        self.tree = shapely.STRtree(self.buffers)

    def union_in_box(self, frame: BaseGeometry) -> BaseGeometry:
        """Union of the buffers, clipped to the rectangle ``frame``.

        Equal to the city-wide union clipped to ``frame``, at the cost of the buffers that
        touch it only: the per-district overlay never meets the whole city's union.
        """
        hit = self.tree.query(frame, predicate="intersects")
        if len(hit) == 0:
            return shapely.Polygon()
        return shapely.intersection(shapely.union_all(self.buffers[np.sort(hit)]), frame)


def served_in_box(sets: Sequence[BufferSet], frame: BaseGeometry) -> BaseGeometry:
    """Area served by every item of a basket, inside the rectangle ``frame``."""
    return served_area([s.union_in_box(frame) for s in sets])


def served_area(unions: Sequence[BaseGeometry]) -> BaseGeometry:
    """Area served by every item of a basket (intersection of the items' unions).

    Parameters
    ----------
    unions
        One served area per facility set.

    Returns
    -------
    shapely.Geometry
        The single union for one set, the intersection for several; empty if any item is empty.
    """
    if not unions:
        return shapely.Polygon()
    out = unions[0]
    for other in unions[1:]:
        if shapely.is_empty(out) or shapely.is_empty(other):
            return shapely.Polygon()
        out = shapely.intersection(out, other)
    return out


def covered_fraction(pieces: np.ndarray, area: BaseGeometry, linear: bool = False) -> np.ndarray:
    """Fraction of each piece (area, or length for lines) inside ``area``, by exact overlay.

    Parameters
    ----------
    pieces
        Polygons (residential pieces) or LineStrings (street pieces).
    area
        The served area.
    linear
        Measure length instead of area.

    Returns
    -------
    numpy.ndarray
        Fractions in [0, 1].
    """
    return fractions_and_contact(pieces, area, linear)[0]


def fractions_and_contact(pieces: np.ndarray, area: BaseGeometry, linear: bool = False
                          ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`covered_fraction`, and whether each piece meets ``area`` at all (a piece that
    does not is its own uncovered part: no overlay needs to say so)."""
    pieces = np.asarray(pieces, dtype=object)
    frac = np.zeros(len(pieces))
    met = np.zeros(len(pieces), dtype=bool)
    if len(pieces) == 0 or area is None or shapely.is_empty(area):
        return frac, met
    # split the served area into parts so each piece meets only the few parts near it
    parts = shapely.get_parts(area)
    # the few large parts are the query side: each is prepared once, not once per piece
    tree = shapely.STRtree(pieces)
    ai, pi = tree.query(parts, predicate="intersects")
    shapely.prepare(parts)
    met[pi] = True
    if len(pi) == 0:
        return frac, met
    inside = shapely.contains_properly(parts[ai], pieces[pi])
    frac[pi[inside]] = 1.0
    cross = ~inside
    if cross.any():
        cut = shapely.intersection(pieces[pi[cross]], parts[ai[cross]])
        measure = shapely.length(cut) if linear else shapely.area(cut)
        whole = shapely.length(pieces[pi[cross]]) if linear else shapely.area(pieces[pi[cross]])
        part_frac = np.divide(measure, whole, out=np.zeros(len(whole)), where=whole > 0)
        # parts of a union are disjoint: a piece's fractions over several parts add up
        acc = np.zeros(len(pieces))
        np.add.at(acc, pi[cross], part_frac)
        hit = np.zeros(len(pieces), dtype=bool)
        hit[pi[cross]] = True
        hit[pi[inside]] = False
        frac[hit] = acc[hit]
    return np.clip(frac, 0.0, 1.0), met
