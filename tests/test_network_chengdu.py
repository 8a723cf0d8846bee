"""The walking graph of the real Chengdu extract, cross-checked against networkx.

The walkable ways come from geoplan's own OSM reader and layer catalog (the ``walkways`` layer),
projected to EPSG:32648.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from scipy.spatial import cKDTree

from geoplan.layers.from_osm import osm_layers
from geoplan.layers.osm import read_osm
from geoplan.layers.rules import catalog_keys, load_catalog
from geoplan.network import (
    Snapped,
    build_walk_graph,
    nearest_distance,
    node_distance,
    reached_edges,
    snap_points,
    to_networkx,
)

PBF = Path(__file__).resolve().parents[1] / "layers" / "chengdu" / "chengdu_core_2018.osm.pbf"
CRS = "EPSG:32648"
CUTOFF = 1000.0


@pytest.fixture(scope="module")
def chengdu():
    catalog = load_catalog()
    osm = read_osm(PBF, catalog_keys(catalog))
    walk = osm_layers(osm, catalog)["walkways"].to_crs(CRS)
    is_stop = np.array([t.get("highway") == "bus_stop" for t in osm.nodes["tags"]], dtype=bool)
    stops = gpd.GeoSeries(osm.nodes.geometry[is_stop].values, crs=osm.nodes.crs).to_crs(CRS)
    graph = build_walk_graph(walk)
    return graph, to_networkx(graph), stops, walk


def test_chengdu_graph_shape(chengdu):
    graph, _, stops, walk = chengdu
    assert graph.crs.to_epsg() == 32648
    assert graph.n_nodes > 3000 and graph.n_edges > 4000
    assert 0.9 < graph.main_share < 1.0  # a clipped extract has small islands
    assert graph.n_components > 1
    assert len(stops) > 50
    # every input way is represented and no length is lost or gained by splitting
    assert set(np.unique(graph.edge_source)) == set(range(len(walk)))
    assert graph.edge_length.sum() == pytest.approx(walk.geometry.length.sum(), rel=1e-9)
    # the CSR stores each direction once and keeps the shorter of parallel edges
    assert (graph.csr != graph.csr.T).nnz == 0


def _check_against_networkx(graph, nxg, nodes: np.ndarray) -> None:
    ours = node_distance(graph, Snapped.from_nodes(graph, nodes), CUTOFF)
    ref = nx.multi_source_dijkstra_path_length(nxg, set(nodes.tolist()), cutoff=CUTOFF,
                                               weight="length")
    expect = np.full(graph.n_nodes, np.inf)
    expect[list(ref)] = list(ref.values())
    np.testing.assert_array_equal(np.isfinite(ours), np.isfinite(expect))
    np.testing.assert_allclose(ours[np.isfinite(ours)], expect[np.isfinite(expect)], atol=1e-6,
                               rtol=0)


@pytest.mark.parametrize("size", [5, 30, 200])
def test_chengdu_random_facilities_equal_networkx(chengdu, size):
    graph, nxg, _, _ = chengdu
    rng = np.random.default_rng(size)
    _check_against_networkx(graph, nxg, rng.choice(graph.n_nodes, size=size, replace=False))


def test_chengdu_bus_stop_nodes_equal_networkx(chengdu):
    graph, nxg, stops, _ = chengdu
    xy = np.c_[stops.x, stops.y]
    _, nearest = cKDTree(np.c_[graph.node_x, graph.node_y]).query(xy)
    nodes = np.unique(nearest)
    assert len(nodes) > 50
    _check_against_networkx(graph, nxg, nodes)


def _split_graph(graph, src: Snapped, tgt: Snapped) -> tuple[nx.Graph, list, list]:
    """networkx graph where every snapped point is a node splitting its edge."""
    h = nx.Graph()
    cuts: dict[int, list] = {}
    labels = []
    for k, s in enumerate((src, tgt)):
        lab = [None] * len(s)
        for i in np.flatnonzero(s.ok):
            cuts.setdefault(int(s.edge[i]), []).append((float(s.offset[i]), (k, int(i))))
            lab[i] = (k, int(i))
        labels.append(lab)
    for e in range(graph.n_edges):
        chain = [(0.0, int(graph.edge_u[e])), *sorted(cuts.get(e, [])),
                 (float(graph.edge_length[e]), int(graph.edge_v[e]))]
        for (o1, a), (o2, b) in itertools.pairwise(chain):
            if a != b and (not h.has_edge(a, b) or h[a][b]["length"] > o2 - o1):
                h.add_edge(a, b, length=o2 - o1)
    return h, labels[0], labels[1]


def test_chengdu_bus_stops_to_homes_equal_networkx_with_split_edges(chengdu):
    graph, _, stops, _ = chengdu
    src = snap_points(graph, stops)
    assert src.ok.sum() > 50
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = graph.node_x.min(), graph.node_y.min(), graph.node_x.max(), graph.node_y.max()
    homes = np.c_[rng.uniform(x0, x1, 3000), rng.uniform(y0, y1, 3000)]
    tgt = snap_points(graph, homes)
    ours = nearest_distance(graph, src, tgt, CUTOFF)
    h, slab, tlab = _split_graph(graph, src, tgt)
    ref = nx.multi_source_dijkstra_path_length(h, {s for s in slab if s is not None},
                                               cutoff=CUTOFF, weight="length")
    expect = np.array([ref.get(t, np.inf) if t is not None else np.inf for t in tlab])
    assert np.isfinite(expect).sum() > 300
    np.testing.assert_array_equal(np.isfinite(ours), np.isfinite(expect))
    np.testing.assert_allclose(ours[np.isfinite(ours)], expect[np.isfinite(expect)], atol=1e-6)


def test_chengdu_reached_edges_match_node_distances(chengdu):
    graph, _, stops, _ = chengdu
    src = snap_points(graph, stops[:10])
    reach = reached_edges(graph, src, 300.0)
    d = node_distance(graph, src, 300.0)
    du, dv, length = d[graph.edge_u], d[graph.edge_v], graph.edge_length
    # without a source on it, an edge is reached in full iff its farthest point, at
    # (du + dv + L) / 2 from the sources, is within the limit
    no_src = ~np.isin(np.arange(graph.n_edges), src.edge[src.ok])
    full = set(reach.loc[reach["full"], "edge"])
    clear_in = no_src & ((du + dv + length) / 2 < 300.0 - 1e-6)
    clear_out = no_src & ~((du + dv + length) / 2 <= 300.0 + 1e-6)
    assert clear_in.sum() > 10
    assert set(np.flatnonzero(clear_in)) <= full
    assert not (set(np.flatnonzero(clear_out)) & full)
    assert (reach["distance_from"] <= 300.0).all()
    assert np.allclose(reach.geometry.length, reach["length"])
