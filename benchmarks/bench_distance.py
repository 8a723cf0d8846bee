"""Benchmark geoplan's walking-distance engine against scipy, networkx and pandana.

The same graphs in the same run:

(a) the Chengdu walking graph (``layers/chengdu/chengdu_core_2018.osm.pbf``, geoplan's walkways
    layer), with its real facilities (bus stops, toilets, schools, services);
(b) a synthetic street grid (default 710 x 710 nodes, 80 m blocks, 3 m jitter, 5 % of street
    segments removed, ways running up to four blocks with a bend vertex in every block), with four
    facility kinds of 50, 200, 800 and 3000 random points.

Every engine answers "walking distance to the nearest facility of each kind, limit 1000 m":

- ``scipy``: ``scipy.sparse.csgraph.dijkstra(min_only=True, limit=...)`` from the graph nodes
  nearest to the facilities, on the prebuilt CSR -- node results only; the reference.
- ``geoplan``: :func:`geoplan.network.nearest_distances` (four kinds) from facilities snapped to
  edges to every demand point snapped to edges, exact with partial edges at both ends (the
  product's hot path).
- ``geoplan nodes``: :func:`geoplan.network.node_distance` only (no demand-point step).
- ``super-source``: the alternative way to start from points inside edges: one virtual
  super-source row holding every source's start entries instead of one CSR row per source (kept
  here to show why it is not the default).
- ``bucket queue``: a compiled Dial (bucket-queue) multi-source Dijkstra with the same limit, from
  the same nodes as scipy (``benchmarks/bucket_dijkstra.py``, numba; checked equal to scipy to
  1e-9 m): the bound of the goal "the distance path, snapping included, within 4x of a compiled
  bucket queue". Skipped when numba is not installed.
- ``geoplan full path``: ``snap_points`` (segment index built, every facility and demand point)
  plus ``nearest_distances`` for the four kinds, the goal's measure; and ``snap_points`` with
  ``engine="geos"`` (GEOS ``STRtree.query_nearest`` for every point, the code before the index),
  checked to give the same edges and offsets.
- ``networkx``: ``multi_source_dijkstra_path_length(cutoff=...)`` from the same nodes as scipy.
- ``pandana``: contraction hierarchies, ``set_pois`` + ``nearest_pois`` from the same nodes.

Run ``python benchmarks/bench_distance.py`` with geoplan installed (``pip install -e ".[bench]"``
adds pandana and numba; without them their rows are skipped), ``--quick`` for a small grid. pandana's
preprocessing grows about quadratically on a grid (more than an hour for 500k nodes here), so it
runs on a 250 x 250 grid, where every other engine runs too. It prints a markdown table for
BENCHMARKS.md. Peak memory is the growth of the process's peak resident set during each
phase (``/proc/self/clear_refs``), so it includes memory allocated in C/C++.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import platform
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geoplan.network import (
    Snapped,
    WalkGraph,
    build_walk_graph,
    nearest_distances,
    node_distance,
    snap_points,
)

try:  # the compiled bound: benchmarks/bucket_dijkstra.py, needs numba (the bench extra)
    from bucket_dijkstra import bucket_dijkstra
except ImportError:  # pragma: no cover - numba not installed
    bucket_dijkstra = None

CHENGDU_PBF = Path(__file__).resolve().parents[1] / "layers" / "chengdu" / "chengdu_core_2018.osm.pbf"
"""The embedded extract, found next to this script in a checkout (geoplan itself is imported
from wherever it is installed: ``pip install -e ".[bench]"``)."""
LIMIT = 1000.0
CRS = "EPSG:32648"
X0, Y0 = 400_000.0, 3_390_000.0


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Timing:
    """Best wall-clock and CPU seconds over the runs, and peak memory in MB."""

    wall: float = np.inf
    cpu: float = np.inf
    mem: float = 0.0

    def add(self, wall: float, cpu: float) -> None:
        self.wall, self.cpu = min(self.wall, wall), min(self.cpu, cpu)


def _rss_mb(key: str) -> float:
    with open("/proc/self/status") as f:
        for row in f:
            if row.startswith(key):
                return float(row.split()[1]) / 1024.0
    return float("nan")


def run_timed(fn: Callable[[], Any], timing: Timing) -> Any:
    """Run ``fn`` once, adding its wall and CPU time to ``timing``."""
    gc.collect()
    w, c = time.perf_counter(), time.process_time()
    result = fn()
    timing.add(time.perf_counter() - w, time.process_time() - c)
    return result


def run_traced(fn: Callable[[], Any], timing: Timing, native: bool = False) -> Any:
    """Run ``fn`` once for its peak memory (not timed).

    Python and numpy allocations are traced with tracemalloc; for ``native`` code (pandana's
    C++) the growth of the process's peak resident set is used instead.
    """
    gc.collect()
    if native:
        before = _rss_mb("VmRSS:")
        with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak resident set (VmHWM)
        result = fn()
        timing.mem = max(timing.mem, _rss_mb("VmHWM:") - before)
        return result
    tracemalloc.start()
    try:
        result = fn()
        timing.mem = max(timing.mem, tracemalloc.get_traced_memory()[1] / 2**20)
    finally:
        tracemalloc.stop()
    return result


# --- graphs -----------------------------------------------------------------------------------


def grid_ways(side: int, block: float = 80.0, seed: int = 0) -> gpd.GeoDataFrame:
    """A jittered street grid: ways of up to 4 blocks, one bend vertex per block, 5 % removed."""
    rng = np.random.default_rng(seed)
    jx = rng.normal(0, 3.0, (side, side)).round(2)
    jy = rng.normal(0, 3.0, (side, side)).round(2)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    nx_ = X0 + jj * block + jx  # node (i=row, j=column)
    ny_ = Y0 + ii * block + jy
    lines_xy: list[np.ndarray] = []
    lines_id: list[np.ndarray] = []
    next_id = 0
    for horizontal in (True, False):
        x = nx_ if horizontal else nx_.T
        y = ny_ if horizontal else ny_.T
        # segment (r, c) -> (r, c+1) along rows of x, y
        keep = rng.random((side, side - 1)) > 0.05
        c = np.broadcast_to(np.arange(side - 1), keep.shape)
        r = np.broadcast_to(np.arange(side)[:, None], keep.shape)
        # a way is a run of kept segments within the same row and chunk of 4 blocks
        start_new = np.ones(keep.shape, bool)
        start_new[:, 1:] = ~keep[:, :-1] | (c[:, 1:] % 4 == 0)
        rk, ck, sk = r[keep], c[keep], start_new[keep]
        way = np.cumsum(sk) - 1 + next_id
        last = np.ones(len(way), bool)
        last[:-1] = way[1:] != way[:-1]
        ax, ay = x[rk, ck], y[rk, ck]
        bx, by = x[rk, ck + 1], y[rk, ck + 1]
        bend = rng.normal(0, 2.0, len(rk)).round(2)
        mx = (ax + bx) / 2 + (0 if horizontal else bend)
        my = (ay + by) / 2 + (bend if horizontal else 0)
        # per segment: its start node and bend vertex, plus the end node for a way's last one
        n_out = 2 + last
        seg = np.repeat(np.arange(len(rk)), n_out)
        slot = np.arange(n_out.sum()) - np.repeat(np.cumsum(n_out) - n_out, n_out)
        px = np.choose(slot, [ax[seg], mx[seg], bx[seg]])
        py = np.choose(slot, [ay[seg], my[seg], by[seg]])
        lines_xy.append(np.c_[px, py])
        lines_id.append(way[seg])
        next_id = int(way[-1]) + 1
    geoms = shapely.linestrings(np.concatenate(lines_xy), indices=np.concatenate(lines_id))
    return gpd.GeoDataFrame(geometry=geoms, crs=CRS)


def load_pandana() -> ModuleType | None:
    """pandana if it is installed, else None (its rows are then skipped, saying why)."""
    try:
        import pandana
    except ImportError:
        return None
    return pandana


def chengdu(path: Path) -> tuple[gpd.GeoDataFrame, dict[str, gpd.GeoSeries]]:
    from geoplan.layers.from_osm import osm_layers
    from geoplan.layers.osm import read_osm
    from geoplan.layers.rules import catalog_keys, load_catalog

    catalog = load_catalog()
    osm = read_osm(path, catalog_keys(catalog))
    layers = osm_layers(osm, catalog)
    kinds = {k: layers[k].geometry.to_crs(CRS) for k in ("bus_stops", "toilets", "schools",
                                                          "services")}
    return layers["walkways"].to_crs(CRS), kinds


def points_along_edges(g: WalkGraph, n: int, noise: float, seed: int) -> np.ndarray:
    """Random points near random edges (offset up to ``noise`` metres sideways)."""
    rng = np.random.default_rng(seed)
    e = rng.integers(0, g.n_edges, n)
    p = shapely.line_interpolate_point(g.edge_geometry[e], rng.random(n), normalized=True)
    xy = shapely.get_coordinates(p)
    return xy + rng.uniform(-noise, noise, (n, 2))


# --- engines ----------------------------------------------------------------------------------


def super_source_node_distance(g: WalkGraph, src: Snapped, limit: float) -> np.ndarray:
    """Alternative: one virtual super-source row holding every source's start entries.

    Row ``n`` has, for each source at offset s on edge (u, v, L), the entries u: s and
    v: L - s (the minimum per node); one single-source Dijkstra from it.
    """
    ok = src.ok
    e, s = src.edge[ok], src.offset[ok]
    nodes = np.concatenate([g.edge_u[e], g.edge_v[e]])
    start = np.concatenate([s, g.edge_length[e] - s])
    order = np.lexsort((start, nodes))
    nodes, start = nodes[order], start[order]
    first = np.ones(len(nodes), dtype=bool)
    first[1:] = nodes[1:] != nodes[:-1]
    nodes, start = nodes[first], start[first]
    csr, n = g.csr, g.n_nodes
    it = csr.indices.dtype
    indptr = np.concatenate([csr.indptr, np.array([csr.indptr[-1] + len(nodes)], dtype=it)])
    aug = sp.csr_array((np.concatenate([csr.data, start]),
                        np.concatenate([csr.indices, nodes.astype(it)]), indptr),
                       shape=(n + 1, n + 1))
    return dijkstra(aug, directed=True, indices=n, limit=limit)[:n], len(nodes)


def edge_list(g: WalkGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    coo = g.csr.tocoo()
    upper = coo.row < coo.col
    return coo.row[upper], coo.col[upper], coo.data[upper]


def run_graph(name: str, ways: gpd.GeoDataFrame, facilities: dict[str, np.ndarray],
              n_demand: int, pandana_max_nodes: int, rows: list[dict[str, Any]],
              repeat: int, pandana: ModuleType | None = None) -> None:
    print(f"\n== {name}: {len(ways):,} ways", flush=True)
    t_build = Timing()
    g = run_timed(lambda: build_walk_graph(ways), t_build)
    run_traced(lambda: build_walk_graph(ways), t_build)
    print(f"geoplan build: {t_build.wall:.2f} s, {t_build.mem:.0f} MB; {g.summary()}", flush=True)
    demand_xy = points_along_edges(g, n_demand, 20.0, seed=1)

    def snap_all() -> tuple[dict[str, Snapped], Snapped]:
        return ({k: snap_points(g, xy) for k, xy in facilities.items()}, snap_points(g, demand_xy))

    # numba and the machine code of the compiled build and search load once per process,
    # outside the timing, as the bucket queue's do below (the segment index is built inside it)
    from geoplan.network.nearest import SegmentIndex

    if bucket_dijkstra is not None:  # numba is installed
        warm = SegmentIndex(g.edge_geometry[:1], np.zeros(1, dtype=np.int64), compiled=True)
        warm.nearest(np.zeros(1), np.zeros(1), 1.0, compiled=True)
    # timed cold, once: the index is built once per analysis, so its build counts
    t_snap = Timing()
    fac, demand = run_timed(snap_all, t_snap)
    run_traced(snap_all, t_snap)
    # the reference engine (GEOS STRtree.query_nearest + line_locate_point for every point)
    t_geos = Timing()
    geos_demand = run_timed(lambda: snap_points(g, demand_xy, engine="geos"), t_geos)
    assert np.array_equal(geos_demand.edge, demand.edge), f"{name}: snapped edges differ"
    assert np.allclose(geos_demand.offset, demand.offset, atol=1e-9, equal_nan=True)
    print(f"snap_points engine=geos (demand points only): {t_geos.wall:.2f} s", flush=True)
    n_fac = {k: int(v.ok.sum()) for k, v in fac.items()}
    print(f"snap {sum(len(v) for v in facilities.values()):,} facilities + {n_demand:,} demand "
          f"points: {t_snap.wall:.2f} s; snapped facilities per kind {n_fac}", flush=True)
    # node sources for the node-based engines: the graph nodes nearest to the facility points
    tree = cKDTree(np.c_[g.node_x, g.node_y])
    fac_nodes = {k: np.unique(tree.query(xy)[1]) for k, xy in facilities.items()}
    info = dict(graph=name, nodes=g.n_nodes, edges=g.n_edges,
                kinds=", ".join(str(len(v)) for v in facilities.values()))

    def per_kind(fn: Callable[[str], Any]) -> Callable[[], list[Any]]:
        return lambda: [fn(k) for k in facilities]

    fast = {
        "scipy": per_kind(lambda k: dijkstra(g.csr, directed=True, indices=fac_nodes[k],
                                             min_only=True, limit=LIMIT)),
        "geoplan": lambda: list(nearest_distances(g, fac, demand, LIMIT).values()),
        "nodes": per_kind(lambda k: node_distance(g, fac[k], LIMIT)),
        "super": per_kind(lambda k: super_source_node_distance(g, fac[k], LIMIT)),
    }
    if bucket_dijkstra is not None:
        csr = g.csr
        bucket_dijkstra(csr.indptr, csr.indices, csr.data, fac_nodes[next(iter(facilities))],
                        LIMIT)  # compile (or load the cached machine code) outside the timing
        fast["bucket"] = per_kind(lambda k: bucket_dijkstra(csr.indptr, csr.indices, csr.data,
                                                            fac_nodes[k], LIMIT))
    # interleaved repeats, best of each: other work on the machine hits all engines alike
    timing = {k: Timing() for k in fast}
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for key, fn in fast.items():
            results[key] = run_timed(fn, timing[key])
    for key, fn in fast.items():
        run_traced(fn, timing[key])
    ref, ours = results["scipy"], results["geoplan"]
    # the engine on the node sources must give scipy's answer exactly
    for k, r in zip(facilities, ref, strict=True):
        mine = node_distance(g, Snapped.from_nodes(g, fac_nodes[k]), LIMIT)
        assert np.allclose(mine, r, atol=1e-9), f"{name}/{k}: engine != scipy"
        assert np.array_equal(np.isinf(mine), np.isinf(r))
    for k, r, b in zip(facilities, ref, results.get("bucket", ref), strict=True):
        assert np.allclose(b, r, atol=1e-9), f"{name}/{k}: bucket queue != scipy"
        assert np.array_equal(np.isinf(b), np.isinf(r))
    covered = [round(float(np.isfinite(d).mean()), 3) for d in ours]
    sc, ge = timing["scipy"], timing["geoplan"]
    print(f"scipy {sc.wall:.3f} s | geoplan {ge.wall:.3f} s (wall {ge.wall / sc.wall:.2f}x, "
          f"cpu {ge.cpu / sc.cpu:.2f}x) | node_distance {timing['nodes'].wall:.3f} s | "
          f"super-source {timing['super'].wall:.3f} s | demand within {LIMIT:.0f} m per kind "
          f"{covered}", flush=True)
    ends = sum(super_source_node_distance(g, fac[k], LIMIT)[1] for k in facilities)
    rows.append(dict(info, engine="scipy dijkstra, min_only, from the facilities' nearest "
                     "nodes (reference; node results only)", build=None, t=sc))
    rows.append(dict(info, engine=f"**geoplan nearest_distances**: facilities on edges → "
                     f"{int(demand.ok.sum()):,} demand points on edges, exact partial edges",
                     build=t_build, t=ge))
    rows.append(dict(info, engine="geoplan node_distance (facilities on edges, node results)",
                     build=t_build, t=timing["nodes"]))
    rows.append(dict(info, engine=f"variant: one super-source row instead of one row per "
                     f"source ({ends:,} start entries)", build=t_build, t=timing["super"]))
    if "bucket" in timing:
        rows.append(dict(info, engine="compiled bucket queue (numba, Dial, 1 m buckets) from the "
                         "facilities' nearest nodes; node results only (the goal's bound)",
                         build=None, t=timing["bucket"], bound=True))
    full = Timing(ge.wall + t_snap.wall, ge.cpu + t_snap.cpu, max(ge.mem, t_snap.mem))
    rows.append(dict(info, engine="**geoplan full path**: snap_points (facilities + demand "
                     "points, index built) + nearest_distances, the goal's measure",
                     build=t_build, t=full))
    rows.append(dict(info, engine=f"geoplan snap_points ({n_demand:,} demand points + "
                     "facilities, segment index built), once per analysis, not per kind",
                     build=None, t=t_snap))
    rows.append(dict(info, engine=f"before: snap_points engine=\"geos\" (STRtree.query_nearest "
                     f"+ line_locate_point, {n_demand:,} demand points only)",
                     build=None, t=t_geos))

    u, v, w = edge_list(g)

    def nx_build() -> nx.Graph:
        h = nx.Graph()
        h.add_nodes_from(range(g.n_nodes))
        h.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True),
                                  weight="length")
        return h

    t_nxb, t_nx = Timing(), Timing()
    h = run_timed(nx_build, t_nxb)
    run_traced(nx_build, t_nxb)
    nx_query = per_kind(lambda k: nx.multi_source_dijkstra_path_length(
        h, set(fac_nodes[k].tolist()), cutoff=LIMIT, weight="length"))
    res_nx = run_timed(nx_query, t_nx)
    run_traced(nx_query, t_nx)
    for r, dn in zip(ref, res_nx, strict=True):
        assert np.isfinite(r).sum() == len(dn)
        nodes_ = np.fromiter(dn.keys(), dtype=np.int64)
        assert np.allclose(r[nodes_], np.fromiter(dn.values(), dtype=float), atol=1e-6)
    print(f"networkx build {t_nxb.wall:.2f} s, query {t_nx.wall:.2f} s "
          f"({t_nx.cpu / sc.cpu:.1f}x scipy cpu); same distances as scipy", flush=True)
    rows.append(dict(info, engine="networkx multi_source_dijkstra_path_length (cutoff)",
                     build=t_nxb, t=t_nx))
    h = res_nx = None
    gc.collect()

    if pandana is None:
        print(f"pandana skipped on {name}: not installed (pip install -e \".[bench]\")")
        return
    if g.n_nodes > pandana_max_nodes:
        print(f"pandana skipped on {name} ({g.n_nodes:,} nodes > --pandana-max-nodes)")
        return

    def pd_build() -> pandana.Network:
        return pandana.Network(pd.Series(g.node_x), pd.Series(g.node_y), pd.Series(u),
                               pd.Series(v), pd.DataFrame({"length": w}), twoway=True)

    t_pdb, t_pd = Timing(), Timing()
    net = run_timed(lambda: run_traced(pd_build, t_pdb, native=True), t_pdb)
    print(f"pandana preprocessing {t_pdb.wall:.1f} s", flush=True)

    def pd_query(k: str) -> np.ndarray:
        nodes_ = fac_nodes[k]
        net.set_pois(category=k, maxdist=LIMIT, maxitems=1, x_col=pd.Series(g.node_x[nodes_]),
                     y_col=pd.Series(g.node_y[nodes_]))
        # max_distance=inf, or nodes with nothing in range get LIMIT; distance == maxdist
        return net.nearest_pois(LIMIT, k, num_pois=1, max_distance=np.inf)[1].to_numpy()

    res_pd = run_timed(lambda: run_traced(per_kind(pd_query), t_pd, native=True), t_pd)
    for _ in range(2):
        run_timed(per_kind(pd_query), t_pd)
    worst = max(float(np.max(np.abs(r[np.isfinite(r)] - p[np.isfinite(r)]), initial=0.0))
                for r, p in zip(ref, res_pd, strict=True))
    same_reach = all(np.array_equal(np.isfinite(r), np.isfinite(p)) for r, p in
                     zip(ref, res_pd, strict=True))
    print(f"pandana query {t_pd.wall:.2f} s ({t_pd.wall / sc.wall:.1f}x scipy wall); max |diff| "
          f"vs scipy {worst:.4f} m (weights kept to 1/1000); same reached set {same_reach}",
          flush=True)
    rows.append(dict(info, engine="pandana nearest_pois (contraction hierarchies, 2 threads)",
                     build=t_pdb, t=t_pd))


def table(rows: list[dict[str, Any]]) -> str:
    out = ["| graph | engine | build s | query s, 4 kinds (wall) | CPU s | × scipy (CPU) "
           "| × scipy (wall) | × bucket queue (CPU) | peak MB build | peak MB query |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    ref: dict[str, Timing] = {}
    bound: dict[str, Timing] = {}
    for r in rows:
        ref.setdefault(r["graph"], r["t"])
        if r.get("bound"):
            bound[r["graph"]] = r["t"]
    for r in rows:
        t, base = r["t"], ref[r["graph"]]
        build = f"{r['build'].wall:.2f}" if r["build"] is not None else "–"
        build_mem = f"{r['build'].mem:.0f}" if r["build"] is not None else "–"
        b = bound.get(r["graph"])
        vs_bound = f"{t.cpu / b.cpu:.2f}" if b is not None else "–"
        graph = (f"{r['graph']} ({r['nodes']:,} nodes, {r['edges']:,} edges; facilities "
                 f"{r['kinds']})")
        out.append(
            f"| {graph} | {r['engine']} | {build} | {t.wall:.3f} | {t.cpu:.3f} | "
            f"{t.cpu / base.cpu:.2f} | {t.wall / base.wall:.2f} | {vs_bound} | {build_mem} | "
            f"{t.mem:.0f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a 150 x 150 grid instead of 710 x 710")
    ap.add_argument("--grid", type=int, default=None, help="grid side (nodes per row)")
    ap.add_argument("--demand", type=int, default=500_000, help="demand points on the grid")
    ap.add_argument("--pandana-max-nodes", type=int, default=100_000,
                    help="skip pandana on graphs larger than this: its contraction-hierarchy "
                    "preprocessing grows about quadratically (160 s for 62k grid nodes here)")
    ap.add_argument("--pandana-grid", type=int, default=250,
                    help="also run every engine on a grid of this side, where pandana fits "
                    "(0: none)")
    ap.add_argument("--no-chengdu", action="store_true", help="skip the Chengdu walking graph")
    ap.add_argument("--osm", type=Path, default=CHENGDU_PBF,
                    help="the Chengdu extract (default: the repository's embedded one)")
    args = ap.parse_args(argv)
    side = args.grid or (150 if args.quick else 710)
    demand = min(args.demand, side * side)
    pandana = load_pandana()
    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}"
          f", shapely {shapely.__version__}, networkx {nx.__version__}, pandana "
          f"{pandana.__version__ if pandana else 'not installed'}; {dt.date.today()}", flush=True)
    if pandana is None:
        print("pandana is not installed: its rows are skipped (pip install -e \".[bench]\" "
              "adds it); every other engine runs.", flush=True)
    rows: list[dict[str, Any]] = []
    if not args.no_chengdu:
        if not args.osm.is_file():
            ap.error(f"--osm {args.osm}: no such file (or pass --no-chengdu)")
        ways, kinds = chengdu(args.osm)
        fac = {k: shapely.get_coordinates(v.values) for k, v in kinds.items()}
        run_graph("Chengdu", ways, fac, 50_000, args.pandana_max_nodes, rows, 25, pandana)
    sides = [side] + ([args.pandana_grid] if args.pandana_grid and not args.quick else [])
    for s in sides:
        ways = grid_ways(s)
        rng = np.random.default_rng(s)
        ext = (s - 1) * 80.0
        fac = {f"{k}": np.c_[X0 + rng.uniform(0, ext, k), Y0 + rng.uniform(0, ext, k)]
               for k in (50, 200, 800, 3000)}
        run_graph(f"grid {s}×{s}", ways, fac, min(demand, s * s), args.pandana_max_nodes, rows,
                  7 if s * s > 200_000 else 15, pandana)
        del ways
        gc.collect()
    print("\n" + table(rows))


if __name__ == "__main__":
    main()
