"""Reached walking edges held as arrays, their lines built only when drawn or written.

The walked network of each facility set and radius is a few numbers per piece of edge (the
edge, where the piece starts and ends along it, whether it is the whole edge, the walking
distance to it); :func:`reached_frame` builds the lines (:data:`geoplan.results.REACHED`) from
the walking graph's edges when a standard's reach areas are made and when the GeoPackage keeps
them, so a city's reached network is never held as millions of lines through the whole run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geoplan._frames import geo_frame
from geoplan._lines import line_substrings
from geoplan.network.reach import merge_intervals
from geoplan.results import REACHED

__all__ = ["REACHED_EDGES_AUTO_MAX", "REACHED_SIMPLIFY_M", "ReachedPieces", "keep_reached_edges",
           "merged_by_standard", "reached_frame"]

REACHED_SIMPLIFY_M = 1.0
"""Reached edges are simplified to this tolerance for maps and the GeoPackage."""

REACHED_EDGES_AUTO_MAX = 100_000
"""With ``gpkg.reached_edges: auto``, the edge-by-edge ``reached`` layer is kept up to this many
walking-graph edges (a district or a few: 16 tiles of the embedded extract have 79k); above it,
only the reach areas (one polygon per standard and district) are written."""


@dataclass(eq=False)
class ReachedPieces:
    """The pieces of walking edges one facility set reaches within one radius.

    Attributes
    ----------
    edge
        Graph edge of each piece.
    start, end
        Metres from the edge's start to the piece's ends.
    full
        True where the piece is the whole edge.
    distance_from
        Walking distance from the nearest facility to the piece's nearest point (m).
    radius_m
        The radius walked.
    partial_lines
        The partial pieces' lines, simplified, in order, when held (a small graph); None: built
        from the graph's edges when needed.
    """

    edge: np.ndarray
    start: np.ndarray
    end: np.ndarray
    full: np.ndarray
    distance_from: np.ndarray
    radius_m: float
    partial_lines: np.ndarray | None = None

    @classmethod
    def from_frame(cls, edges: gpd.GeoDataFrame, radius_m: float,
                   hold: bool = False) -> ReachedPieces:
        """From :func:`geoplan.network.reached_edges`: its arrays, and with ``hold`` the lines
        of its partial pieces simplified (otherwise its lines are dropped)."""
        full = edges["full"].to_numpy(dtype=bool)
        lines = (shapely.simplify(edges.geometry.to_numpy()[~full], REACHED_SIMPLIFY_M)
                 if hold else None)
        return cls(edges["edge"].to_numpy(dtype=np.int64), edges["start"].to_numpy(dtype=float),
                   edges["end"].to_numpy(dtype=float), full,
                   edges["distance_from"].to_numpy(dtype=float), float(radius_m), lines)

    def __len__(self) -> int:
        return len(self.edge)


def merged_by_standard(sets: Sequence[tuple[str, str, ReachedPieces]], edge_length: np.ndarray
                       ) -> list[tuple[str, str, ReachedPieces]]:
    """Per standard, the pieces of all its items and radii merged into disjoint stretches.

    What a standard reaches, edge by edge, whichever item reached it: a basket standard's items
    walk many of the same edges (the 15-minute life circle's eight items), and a piece that
    overlaps or touches another on its edge becomes one stretch with it, so its reach area
    buffers each stretch once. A stretch that spans its whole edge is ``full``; its
    ``distance_from`` is the least of its pieces'; its radius the largest. A standard with
    one set of pieces keeps it as it is (its pieces are already disjoint).

    Parameters
    ----------
    sets
        (standard id, item, :class:`ReachedPieces`) per facility set and radius.
    edge_length
        Length of every walking-graph edge (``WalkGraph.edge_length``).

    Returns
    -------
    list of tuple
        (standard id, ``""``, pieces), one per standard, in the order of first appearance.
    """
    out: list[tuple[str, str, ReachedPieces]] = []
    for sid in dict.fromkeys(s for s, _, _ in sets):
        mine = [p for s, _, p in sets if s == sid and len(p)]
        if len(mine) <= 1:
            out += [(sid, "", p) for p in mine]
            continue
        edge, lo, hi, holder = merge_intervals(np.concatenate([p.edge for p in mine]),
                                               np.concatenate([p.start for p in mine]),
                                               np.concatenate([p.end for p in mine]))
        nearest = np.full(len(edge), np.inf)
        np.minimum.at(nearest, holder, np.concatenate([p.distance_from for p in mine]))
        full = (lo <= 0.0) & (hi >= edge_length[edge])
        out.append((sid, "", ReachedPieces(edge, lo, hi, full, nearest,
                                           max(p.radius_m for p in mine))))
    return out


def keep_reached_edges(setting: str, n_edges: int) -> bool:
    """Whether the result keeps the edge-by-edge reached network for the GeoPackage.

    Parameters
    ----------
    setting
        ``all``, ``none`` or ``auto`` (kept up to :data:`REACHED_EDGES_AUTO_MAX` graph edges).
    n_edges
        Edges of the walking graph.
    """
    if setting not in ("auto", "all", "none"):
        raise ValueError(f"reached_edges must be auto, all or none, got {setting!r}")
    return setting == "all" or (setting == "auto" and n_edges <= REACHED_EDGES_AUTO_MAX)


def reached_frame(edge_geometry: np.ndarray | None,
                  sets: Sequence[tuple[str, str, ReachedPieces]], crs: object,
                  simple_edges: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """The reached lines of ``sets`` (standard, item, pieces), in order (:data:`REACHED`).

    A whole edge is its graph edge simplified to :data:`REACHED_SIMPLIFY_M`, made once per
    call (or once per run, in ``simple_edges``) and shared by every row that reaches it; a
    partial edge is the piece of its edge between ``start`` and ``end``, simplified on its own
    (or its held line).

    Parameters
    ----------
    edge_geometry
        The walking graph's edge lines (``WalkGraph.edge_geometry``); None without a graph.
    sets
        (standard id, item, :class:`ReachedPieces`) per facility set and radius.
    crs
        The analysis CRS.
    simple_edges
        One slot per graph edge, filled here with the simplified line of each whole edge the
        first time a call needs it and reused after (a small graph's lines held for the run);
        None: made for this call only.
    """
    sets = [s for s in sets if len(s[2])]
    if edge_geometry is None or not sets:
        return gpd.GeoDataFrame({c: [] for c in REACHED.names}, geometry=gpd.GeoSeries([], crs=crs),
                                crs=crs)
    edge = np.concatenate([p.edge for _, _, p in sets])
    full = np.concatenate([p.full for _, _, p in sets])
    geom = np.empty(len(edge), dtype=object)
    if full.any():
        ids, inverse = np.unique(edge[full], return_inverse=True)
        if simple_edges is None:
            geom[full] = shapely.simplify(edge_geometry[ids], REACHED_SIMPLIFY_M)[inverse]
        else:
            new = ids[shapely.is_missing(simple_edges[ids])]
            if len(new):
                simple_edges[new] = shapely.simplify(edge_geometry[new], REACHED_SIMPLIFY_M)
            geom[full] = simple_edges[ids][inverse]
    part = ~full
    held = np.concatenate([np.full(len(p), p.partial_lines is not None) for _, _, p in sets])
    if (part & held).any():
        geom[part & held] = np.concatenate([p.partial_lines for _, _, p in sets
                                            if p.partial_lines is not None])
    build = part & ~held
    if build.any():
        start = np.concatenate([p.start for _, _, p in sets])[build]
        end = np.concatenate([p.end for _, _, p in sets])[build]
        geom[build] = shapely.simplify(line_substrings(edge_geometry[edge[build]], start, end),
                                       REACHED_SIMPLIFY_M)
    n = [len(p) for _, _, p in sets]
    return geo_frame({
        "standard": np.repeat(np.array([s for s, _, _ in sets], dtype=object), n),
        "item": np.repeat(np.array([i for _, i, _ in sets], dtype=object), n),
        "radius_m": np.repeat(np.array([p.radius_m for _, _, p in sets], dtype=float), n),
        "distance_from": np.concatenate([p.distance_from for _, _, p in sets]),
    }, geom, crs)
