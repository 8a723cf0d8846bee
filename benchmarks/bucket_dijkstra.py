"""A compiled bucket-queue (Dial) multi-source Dijkstra with a distance limit: the benchmark's bound.

Needs numba (the ``bench`` extra). Input is a CSR graph (``indptr``, ``indices``, float
``weights``, both directions stored for an undirected graph), start nodes with their start
distances, a limit and a bucket width in metres.

Buckets hold the nodes whose tentative distance ``d`` has ``floor(d / width)`` equal to the
bucket's number. Buckets are emptied in increasing order. Float weights smaller than the width
are exact too: a node popped from bucket ``b`` can lower another node of the same bucket, which is
then pushed into ``b`` again and scanned again (label correcting inside the bucket). Nothing in a
later bucket can lower a node of bucket ``b`` (weights are never negative), so when bucket ``b``
is empty every distance in it is final. A popped entry whose node has since been lowered, or that
was already scanned at its current distance, is skipped. Distances are sums of edge weights
along a path, as in scipy, and the tests check them against scipy to 1e-9 m.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _grow(a: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    b = np.empty(2 * a.shape[0], a.dtype)
    b[: a.shape[0]] = a
    return b


@numba.njit(cache=True)
def _push(node: np.ndarray, nxt: np.ndarray, head: np.ndarray, size: int, v: int,
          bucket: int) -> tuple[np.ndarray, np.ndarray, int]:  # pragma: no cover - compiled
    """Put node ``v`` at the head of ``bucket``'s list (entry ``size``); the arrays, grown."""
    if size == node.shape[0]:
        node, nxt = _grow(node), _grow(nxt)
    node[size], nxt[size], head[bucket] = v, head[bucket], size
    return node, nxt, size + 1


@numba.njit(cache=True)
def _dial(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, start: np.ndarray,
          start_dist: np.ndarray, limit: float, width: float) -> np.ndarray:  # pragma: no cover
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    scanned = np.full(n, -1.0)
    n_buckets = int(limit / width) + 2
    head = np.full(n_buckets, -1, np.int64)
    node = np.empty(max(16, n), np.int64)
    nxt = np.empty(max(16, n), np.int64)
    size = 0
    for i in range(start.shape[0]):
        v, d = start[i], start_dist[i]
        if d <= limit and d < dist[v]:
            dist[v] = d
            node, nxt, size = _push(node, nxt, head, size, v, int(d / width))
    for b in range(n_buckets):
        while head[b] != -1:
            e = head[b]
            head[b] = nxt[e]
            u = node[e]
            du = dist[u]
            if int(du / width) != b or scanned[u] == du:
                continue  # lowered into this bucket again later, or scanned already
            scanned[u] = du
            for k in range(indptr[u], indptr[u + 1]):
                v = indices[k]
                nd = du + weights[k]
                if nd <= limit and nd < dist[v]:
                    dist[v] = nd
                    node, nxt, size = _push(node, nxt, head, size, v, int(nd / width))
    return dist


def bucket_dijkstra(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
                    start: np.ndarray, limit: float, start_dist: np.ndarray | None = None,
                    width: float = 1.0) -> np.ndarray:
    """Distance from the nearest start node to every node, ``inf`` beyond ``limit``.

    Parameters
    ----------
    indptr, indices, weights
        The CSR graph (row = from-node); weights must be finite and >= 0.
    start
        Start node indices.
    limit
        Largest distance computed (nodes farther stay ``inf``), as scipy's ``limit``.
    start_dist
        Distance at each start node (zeros when not given).
    width
        Bucket width in metres (any positive value gives exact distances).

    Returns
    -------
    numpy.ndarray
        float64 distance per node.
    """
    if not np.isfinite(limit) or limit < 0 or width <= 0:
        raise ValueError("limit must be finite and >= 0, width > 0")
    start = np.asarray(start, dtype=np.int64)
    sd = np.zeros(len(start)) if start_dist is None else np.asarray(start_dist, dtype=np.float64)
    return _dial(np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int64),
                 np.asarray(weights, dtype=np.float64), start, sd, float(limit), float(width))
