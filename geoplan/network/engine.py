"""Walking distances from snapped points: geoplan's hot path.

One multi-source Dijkstra per call, in scipy's compiled code (``min_only=True``), on the prebuilt
CSR matrix. Sources lie anywhere on edges, so each source at offset ``s`` on an edge of length
``L`` becomes one extra CSR row, a virtual node with an entry ``s`` to the edge's start node and
``L - s`` to its end node. Only those rows are new per call; the graph's own arrays are
concatenated, not rebuilt. The virtual nodes have no incoming entries, so walks start inside an
edge but never pass through a source point, exactly as on the real street. (One virtual
super-source row with all the entries gives the same distances; it measured 5-10 % slower with
thousands of sources, see BENCHMARKS.md.)

A target at offset ``t`` on edge ``(u, v, L)`` is then ``min(d[u] + t, d[v] + L - t)``, or
``|s - t|`` when a source lies on the same edge and is nearer that way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from geoplan.network.graph import WalkGraph
from geoplan.network.snap import Snapped

if TYPE_CHECKING:
    import networkx as nx

logger = logging.getLogger(__name__)

K = TypeVar("K")

__all__ = [
    "nearest_distance",
    "nearest_distances",
    "node_distance",
    "point_distance",
    "to_networkx",
]


def _check_limit(limit: float) -> float:
    limit = float(limit)
    if not limit >= 0:
        raise ValueError(f"limit must be a distance >= 0 in metres, got {limit!r}")
    return limit


def _with_source_rows(graph: WalkGraph, sources: Snapped) -> tuple[sp.csr_array, int]:
    """The graph's CSR plus one row per snapped source: (augmented matrix, number of sources).

    Row ``n + i`` is source ``i``, a virtual node with two outgoing entries: ``s`` to the start
    node of its edge and ``L - s`` to the end node. Nothing points back at it, so walks start
    inside an edge but never pass through a source point. The graph's arrays are concatenated,
    not rebuilt.
    """
    ok = sources.ok
    e = sources.edge[ok]
    s = sources.offset[ok]
    k = len(e)
    csr = graph.csr
    n = graph.n_nodes
    itype = csr.indices.dtype
    cols = np.empty(2 * k, dtype=itype)
    cols[0::2] = graph.edge_u[e]
    cols[1::2] = graph.edge_v[e]
    start = np.empty(2 * k)
    start[0::2] = s
    start[1::2] = graph.edge_length[e] - s
    np.maximum(start, 0.0, out=start)
    indptr = np.empty(n + k + 1, dtype=itype)
    indptr[: n + 1] = csr.indptr
    indptr[n + 1 :] = csr.indptr[n] + 2 * np.arange(1, k + 1, dtype=itype)
    aug = sp.csr_array(
        (np.concatenate([csr.data, start]), np.concatenate([csr.indices, cols]), indptr),
        shape=(n + k, n + k),
    )
    return aug, k


def node_distance(graph: WalkGraph, sources: Snapped, limit: float) -> np.ndarray:
    """Walking distance from the nearest source to every node.

    Parameters
    ----------
    graph
        The walking graph.
    sources
        Snapped source points (facilities); unsnapped ones are ignored.
    limit
        Distance limit in metres; nodes farther than this get ``inf``.

    Returns
    -------
    numpy.ndarray
        float64 distances per node, ``inf`` beyond ``limit`` or unreachable.
    """
    limit = _check_limit(limit)
    n = graph.n_nodes
    if not sources.ok.any():
        return np.full(n, np.inf)
    aug, k = _with_source_rows(graph, sources)
    d = dijkstra(aug, directed=True, indices=np.arange(n, n + k), min_only=True, limit=limit)
    out = np.asarray(d[:n], dtype=np.float64)
    out[out > limit] = np.inf
    return out


def _same_edge_gap(
    sources: Snapped, edge: np.ndarray, offset: np.ndarray, n_edges: int
) -> tuple[np.ndarray, np.ndarray]:
    """For query points on an edge that carries a source: (their positions, min |s - t|)."""
    ok = sources.ok
    se, so = sources.edge[ok], sources.offset[ok]
    if len(se) == 0 or len(edge) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    carries = np.zeros(n_edges, dtype=bool)
    carries[se] = True
    qi = np.flatnonzero(carries[edge])
    if len(qi) == 0:
        return qi, np.zeros(0)
    # merge sources and queries by (edge, offset); each query looks at the nearest source
    # before and after it on the same edge
    e_all = np.concatenate([se, edge[qi]])
    o_all = np.concatenate([so, offset[qi]])
    is_src = np.concatenate([np.ones(len(se), bool), np.zeros(len(qi), bool)])
    order = np.lexsort((o_all, e_all))
    e_s, o_s, src_s = e_all[order], o_all[order], is_src[order]
    n_all = len(order)
    pos = np.arange(n_all)
    prev = np.maximum.accumulate(np.where(src_s, pos, -1))
    nxt = np.minimum.accumulate(np.where(src_s, pos, n_all)[::-1])[::-1]
    gap = np.full(n_all, np.inf)
    okp = prev >= 0
    okp[okp] &= e_s[prev[okp]] == e_s[okp]
    gap[okp] = o_s[okp] - o_s[prev[okp]]
    okn = nxt < n_all
    okn[okn] &= e_s[nxt[okn]] == e_s[okn]
    gap[okn] = np.minimum(gap[okn], o_s[nxt[okn]] - o_s[okn])
    q_sorted = ~src_s
    return qi[order[q_sorted] - len(se)], gap[q_sorted]


@dataclass(frozen=True)
class _Located:
    """Target points resolved to their edge ends once, reused for every facility kind."""

    n: int  # number of points, snapped or not
    idx: np.ndarray | None  # positions of the snapped points, None when all are snapped
    edge: np.ndarray
    offset: np.ndarray
    u: np.ndarray
    v: np.ndarray
    rest: np.ndarray  # L - offset

    @classmethod
    def of(cls, graph: WalkGraph, edge: np.ndarray, offset: np.ndarray) -> _Located:
        edge = np.asarray(edge, dtype=np.int64)
        offset = np.asarray(offset, dtype=np.float64)
        ok = edge >= 0
        idx = None if ok.all() else np.flatnonzero(ok)
        if idx is not None:
            edge, offset = edge[idx], offset[idx]
        return cls(len(ok), idx, edge, offset, graph.edge_u[edge], graph.edge_v[edge],
                   graph.edge_length[edge] - offset)

    def distance(
        self, graph: WalkGraph, node_dist: np.ndarray, sources: Snapped, limit: float
    ) -> np.ndarray:
        res = node_dist[self.u]
        res += self.offset
        via_v = node_dist[self.v]
        via_v += self.rest
        np.minimum(res, via_v, out=res)
        qi, gap = _same_edge_gap(sources, self.edge, self.offset, graph.n_edges)
        res[qi] = np.minimum(res[qi], gap)
        res[res > limit] = np.inf
        if self.idx is None:
            return res
        out = np.full(self.n, np.inf)
        out[self.idx] = res
        return out


def point_distance(
    graph: WalkGraph,
    node_dist: np.ndarray,
    sources: Snapped,
    edge: np.ndarray,
    offset: np.ndarray,
    limit: float,
) -> np.ndarray:
    """Distance to points on edges, given the per-node distances from :func:`node_distance`.

    Parameters
    ----------
    graph
        The walking graph.
    node_dist
        Per-node distances from the same ``sources``.
    sources
        The snapped sources (needed for sources on the same edge as a point).
    edge, offset
        Edge index and offset from ``edge_u`` of each point; ``edge < 0`` means unsnapped.
    limit
        Distance limit in metres; farther points get ``inf``.

    Returns
    -------
    numpy.ndarray
        float64 distances, ``inf`` beyond ``limit``, unsnapped or unreachable.
    """
    return _Located.of(graph, edge, offset).distance(graph, node_dist, sources, limit)


def nearest_distance(
    graph: WalkGraph, sources: Snapped, targets: Snapped, limit: float
) -> np.ndarray:
    """Walking distance from each target point to its nearest source point.

    Parameters
    ----------
    graph
        The walking graph.
    sources
        Snapped source points (for example the facilities of one kind).
    targets
        Snapped target points (for example homes).
    limit
        Distance limit in metres.

    Returns
    -------
    numpy.ndarray
        float64 distance per target, exact including the partial edges at both ends; ``inf``
        when farther than ``limit``, unreachable, or the target is not snapped.

    Notes
    -----
    Distances run along the network between the snapped locations; the straight snap distances
    (``Snapped.distance``) are not added. Use :func:`nearest_distances` for several facility
    kinds: it resolves the targets once.
    """
    return nearest_distances(graph, {None: sources}, targets, limit)[None]


def nearest_distances(
    graph: WalkGraph,
    sources_by_kind: Mapping[K, Snapped],
    targets: Snapped,
    limit: float | Mapping[K, float],
) -> dict[K, np.ndarray]:
    """:func:`nearest_distance` for several facility kinds at once (one Dijkstra per kind).

    The targets are resolved to their edge ends once and reused for every kind.

    Parameters
    ----------
    graph
        The walking graph.
    sources_by_kind
        Snapped source points per facility kind.
    targets
        Snapped target points (for example homes).
    limit
        Distance limit in metres, one for all kinds or one per kind.

    Returns
    -------
    dict
        Kind to float64 distance per target (``inf`` beyond the limit or unreachable).
    """
    located = _Located.of(graph, targets.edge, targets.offset)
    out: dict[K, np.ndarray] = {}
    for kind, sources in sources_by_kind.items():
        lim = _check_limit(limit[kind] if isinstance(limit, Mapping) else limit)
        d = node_distance(graph, sources, lim)
        out[kind] = located.distance(graph, d, sources, lim)
    return out


def to_networkx(graph: WalkGraph) -> nx.Graph:
    """Export the graph to networkx (for export and cross-checks only, never the hot path).

    Parameters
    ----------
    graph
        The walking graph.

    Returns
    -------
    networkx.Graph
        Nodes ``0..n-1`` with ``x``, ``y``; one edge per connected node pair with ``length`` (the
        shortest of parallel edges, as in the CSR) and ``edge`` (its edge index). Self-loops are
        left out.
    """
    import networkx as nx  # export only: not imported by every run (about 1 s of start-up)

    g = nx.Graph()
    g.add_nodes_from(
        (i, {"x": float(x), "y": float(y)})
        for i, (x, y) in enumerate(zip(graph.node_x, graph.node_y, strict=True))
    )
    # add longest first so the shortest parallel edge wins
    order = np.argsort(-graph.edge_length, kind="stable")
    keep = order[graph.edge_u[order] != graph.edge_v[order]]
    g.add_edges_from(
        (int(u), int(v), {"length": float(w), "edge": int(e)})
        for u, v, w, e in zip(
            graph.edge_u[keep], graph.edge_v[keep], graph.edge_length[keep], keep, strict=True
        )
    )
    return g
