"""The walked network within a distance of the sources, for drawing service areas.

Service areas on maps are buffers of the reached edges (partial edges clipped exactly at the
cutoff), never convex hulls of reached nodes: a hull jumps rivers and rail lines that the walk
has to go around.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._frames import geo_frame
from geoplan._lines import line_substrings
from geoplan.network.engine import _check_limit, node_distance, point_distance
from geoplan.network.graph import WalkGraph
from geoplan.network.snap import Snapped

__all__ = ["merge_intervals", "reached_edges"]


def merge_intervals(
    edge: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Union of closed intervals per edge.

    Returns
    -------
    tuple of numpy.ndarray
        The merged intervals' edge, lo and hi (disjoint, sorted by edge then lo), and for each
        input interval, in input order, the merged interval that holds it.
    """
    order = np.lexsort((lo, edge))
    edge, lo, hi = edge[order], lo[order], hi[order]
    if len(edge) == 0:
        return edge, lo, hi, np.zeros(0, dtype=np.int64)
    # running max of hi within each edge group, looking only at earlier intervals
    same = np.zeros(len(edge), bool)
    same[1:] = edge[1:] == edge[:-1]
    grp = np.cumsum(~same) - 1
    # shift his so groups never overlap in value: add a big offset per group
    span = float(np.max(hi) - np.min(lo)) + 1.0
    shifted = hi + grp * span
    run = np.maximum.accumulate(shifted) - grp * span
    start = ~same
    start[1:] |= lo[1:] > run[:-1]
    piece = np.cumsum(start) - 1
    p_edge = edge[start]
    p_lo = lo[start]
    p_hi = np.full(int(piece[-1]) + 1, -np.inf)
    np.maximum.at(p_hi, piece, hi)
    holder = np.empty(len(piece), dtype=np.int64)
    holder[order] = piece
    return p_edge, p_lo, p_hi, holder


def _pieces_holding(
    p_edge: np.ndarray, p_lo: np.ndarray, s_edge: np.ndarray, s_off: np.ndarray
) -> np.ndarray:
    """Indices of the pieces (sorted by edge, lo; disjoint) that contain a source point."""
    if len(p_edge) == 0 or len(s_edge) == 0:
        return np.zeros(0, dtype=np.int64)
    e_all = np.concatenate([p_edge, s_edge])
    o_all = np.concatenate([p_lo, s_off])
    is_piece = np.concatenate([np.ones(len(p_edge), bool), np.zeros(len(s_edge), bool)])
    order = np.lexsort((~is_piece, o_all, e_all))
    idx = np.where(is_piece[order], order, -1)
    last_piece = np.maximum.accumulate(idx)
    src_pos = np.flatnonzero(~is_piece[order])
    cand = last_piece[src_pos]
    src_edge = e_all[order][src_pos]
    good = cand >= 0
    good[good] = p_edge[cand[good]] == src_edge[good]
    return cand[good]


def reached_edges(graph: WalkGraph, sources: Snapped, limit: float) -> gpd.GeoDataFrame:
    """The walked network within ``limit`` of the sources, for drawing service areas.

    Full edges are kept whole; partial edges are clipped exactly at the cutoff. Buffer the result
    to draw a service area (not a convex hull of reached nodes).

    Parameters
    ----------
    graph
        The walking graph.
    sources
        Snapped source points.
    limit
        Distance limit in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per reached piece with columns ``edge`` (edge index), ``way`` (input row position),
        ``start`` and ``end`` (offsets in metres from ``edge_u``), ``length``, ``full`` (the whole
        edge is reached), ``distance_from`` (walking distance from the nearest source to the
        nearest point of the piece: 0 when a source lies on it), ``distance_start`` and
        ``distance_end`` (walking distance at the piece's two ends), and ``geometry``, in the
        graph CRS.
    """
    limit = _check_limit(limit)
    d = node_distance(graph, sources, limit)
    du, dv, length = d[graph.edge_u], d[graph.edge_v], graph.edge_length
    ids = np.arange(graph.n_edges)
    fu = np.flatnonzero(du <= limit)
    fv = np.flatnonzero(dv <= limit)
    ok = sources.ok
    se, so = sources.edge[ok], sources.offset[ok]
    edge = np.concatenate([ids[fu], ids[fv], se])
    lo = np.concatenate([np.zeros(len(fu)), np.maximum(0.0, length[fv] - (limit - dv[fv])),
                         np.maximum(0.0, so - limit)])
    hi = np.concatenate([np.minimum(length[fu], limit - du[fu]), length[fv],
                         np.minimum(length[se], so + limit)])
    edge, lo, hi, _ = merge_intervals(edge, lo, hi)
    keep = hi > lo
    edge, lo, hi = edge[keep], lo[keep], hi[keep]
    full = (lo <= 0.0) & (hi >= length[edge])
    geometry = np.empty(len(edge), dtype=object)
    geometry[full] = graph.edge_geometry[edge[full]]
    if (~full).any():
        geometry[~full] = line_substrings(graph.edge_geometry[edge[~full]], lo[~full], hi[~full])
    dist_lo = np.minimum(point_distance(graph, d, sources, edge, lo, np.inf), limit)
    dist_hi = np.minimum(point_distance(graph, d, sources, edge, hi, np.inf), limit)
    nearest = np.minimum(dist_lo, dist_hi)
    nearest[_pieces_holding(edge, lo, se, so)] = 0.0
    frame = pd.DataFrame(
        {
            "edge": edge,
            "way": graph.edge_source[edge],
            "start": lo,
            "end": hi,
            "length": hi - lo,
            "full": full,
            "distance_from": nearest,
            "distance_start": dist_lo,
            "distance_end": dist_hi,
        }
    )
    return geo_frame(frame, geometry, graph.crs)
