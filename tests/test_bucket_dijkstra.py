"""The benchmark's compiled bucket-queue Dijkstra equals scipy's to 1e-9 m (needs numba)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

pytest.importorskip("numba")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bucket_dijkstra import bucket_dijkstra


def random_graph(n: int, m: int, seed: int, scale: float) -> sp.csr_array:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    w = rng.exponential(scale, m)
    w[rng.random(m) < 0.05] = 0.0          # zero-length edges
    w[rng.random(m) < 0.1] *= 1e-4         # much shorter than the bucket width
    keep = a != b
    g = sp.coo_array((w[keep], (a[keep], b[keep])), shape=(n, n)).tocsr()
    g.sum_duplicates()
    return (g + g.T).tocsr()  # both directions (parallel edges summed: still a valid graph)


@pytest.mark.parametrize(("seed", "scale", "width", "limit"),
                         [(1, 30.0, 1.0, 200.0), (2, 0.3, 1.0, 5.0), (3, 50.0, 7.5, 1e4),
                          (4, 10.0, 0.01, 60.0)])
def test_equals_scipy(seed: int, scale: float, width: float, limit: float) -> None:
    g = random_graph(3000, 5000, seed, scale)
    rng = np.random.default_rng(seed)
    start = rng.integers(0, 3000, 25)
    ref = dijkstra(g, directed=True, indices=start, min_only=True, limit=limit)
    got = bucket_dijkstra(g.indptr, g.indices, g.data, start, limit, width=width)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
    fin = np.isfinite(ref)
    assert fin.sum() > 25
    np.testing.assert_allclose(got[fin], ref[fin], rtol=0, atol=1e-9)


def test_start_distances_and_limit_edge() -> None:
    # a path 0 - 1 - 2 - 3 with 10 m edges; a start at node 3 already 25 m away
    g = sp.csr_array((np.full(6, 10.0), ([0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2])), shape=(4, 4))
    d = bucket_dijkstra(g.indptr, g.indices, g.data, np.array([0, 3]), 20.0,
                        start_dist=np.array([0.0, 25.0]))
    np.testing.assert_array_equal(d, [0.0, 10.0, 20.0, np.inf])  # 20 kept, 25 and 30 dropped
    with pytest.raises(ValueError):
        bucket_dijkstra(g.indptr, g.indices, g.data, np.array([0]), np.inf)
