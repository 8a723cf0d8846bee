"""Build geoplan's walking graph: topologically simplified, held as numpy arrays and one CSR matrix.

Nodes are the way ends and every vertex shared by two or more ways (or visited twice by one way).
Ways are compared by exact coordinate equality: OSM ways that share a node id share identical
coordinates, while ways that merely cross (bridges, tunnels) do not share a vertex and stay apart.
Between two nodes the vertices of a way stay inside one edge's geometry, so edge lengths are the
exact lengths of the drawn lines.

Everything is vectorised with numpy and shapely 2; there is no Python loop over ways or vertices.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from geoplan._errors import InputDataError
from geoplan.crs import check_projected_crs
from geoplan.network.nearest import SegmentIndex

logger = logging.getLogger(__name__)

__all__ = ["MAIN_MIN_NODES", "MAIN_MIN_SHARE", "WalkGraph", "build_walk_graph",
           "check_projected_crs"]

MAIN_MIN_SHARE = 0.05
MAIN_MIN_NODES = 50
"""A walking component is a main one when it is the largest, the largest inside one of the
districts, or has at least :data:`MAIN_MIN_SHARE` of the graph's nodes and
:data:`MAIN_MIN_NODES` nodes. Homes and facilities snap to a main component rather than to a
fragment (a path in a compound, a stretch the data leaves unconnected): two districts apart
from each other, or a part of the study area that the data gives no bridge to, each have a
network of their own, and their residents walk on it (with only the largest kept, a config
with a second, separate district scored it 0 % walking for every standard)."""


@dataclass(frozen=True, eq=False)
class WalkGraph:
    """An undirected walking graph held as arrays.

    Attributes
    ----------
    node_x, node_y : numpy.ndarray
        Node coordinates (float64, projected metres).
    edge_u, edge_v : numpy.ndarray
        End node indices of each edge (int64). ``edge_geometry`` runs from ``edge_u`` to ``edge_v``.
    edge_length : numpy.ndarray
        Length of each edge geometry in metres (float64).
    edge_geometry : numpy.ndarray
        Shapely LineStrings, one per edge, oriented u→v and keeping every vertex of the way.
    edge_source : numpy.ndarray
        Row position (0-based, not the index label) of the input way each edge came from.
    csr : scipy.sparse.csr_array
        n×n matrix with both directions stored; parallel edges reduced to the shortest one and
        self-loops left out (they never shorten a path). Use it with ``directed=True``.
    component : numpy.ndarray
        Connected-component label of each node.
    main_component : int
        Label of the largest component (by node count); :attr:`main_components` lists every
        main one (see :data:`MAIN_MIN_NODES`).
    crs : Any
        The CRS of the input ways.
    """

    node_x: np.ndarray
    node_y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    edge_geometry: np.ndarray
    edge_source: np.ndarray
    csr: sp.csr_array
    component: np.ndarray
    main_component: int
    crs: Any
    other_main: tuple[int, ...] = ()

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_x.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges (parallel edges and self-loops included)."""
        return int(self.edge_u.shape[0])

    @property
    def n_components(self) -> int:
        """Number of connected components."""
        return int(self.component.max()) + 1 if self.component.size else 0

    @cached_property
    def main_components(self) -> np.ndarray:
        """Labels of the main components (ascending): the largest and ``other_main`` (see
        :data:`MAIN_MIN_NODES`)."""
        return np.union1d(np.asarray(self.other_main, dtype=np.int64),
                          [self.main_component]).astype(np.int64)

    @cached_property
    def node_in_main(self) -> np.ndarray:
        """Boolean mask of the nodes in a main component."""
        return np.isin(self.component, self.main_components)

    @cached_property
    def edge_in_main(self) -> np.ndarray:
        """Boolean mask of the edges that belong to a main component."""
        return self.node_in_main[self.edge_u]

    @cached_property
    def main_share(self) -> float:
        """Share of nodes in the main components."""
        if self.n_nodes == 0:
            return 0.0
        return float(np.count_nonzero(self.node_in_main)) / self.n_nodes

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """An STRtree over all edge geometries (built on first use)."""
        return shapely.STRtree(self.edge_geometry)

    @cached_property
    def main_edge_ids(self) -> np.ndarray:
        """Indices of the main-component edges, in the order of :attr:`main_edge_tree`."""
        return np.flatnonzero(self.edge_in_main)

    @cached_property
    def main_edge_tree(self) -> shapely.STRtree:
        """An STRtree over the main-component edges only (indices into :attr:`main_edge_ids`)."""
        return shapely.STRtree(self.edge_geometry[self.main_edge_ids])

    @cached_property
    def fragment_edge_ids(self) -> np.ndarray:
        """Indices of the edges outside the main component, in the order of
        :attr:`fragment_edge_tree`."""
        return np.flatnonzero(~self.edge_in_main)

    @cached_property
    def fragment_edge_tree(self) -> shapely.STRtree:
        """An STRtree over the edges outside the main component (indices into
        :attr:`fragment_edge_ids`)."""
        return shapely.STRtree(self.edge_geometry[self.fragment_edge_ids])

    @cached_property
    def fragment_segment_index(self) -> SegmentIndex:
        """The segment index over the edges outside the main component (graph edge indices)."""
        return SegmentIndex(self.edge_geometry[self.fragment_edge_ids], self.fragment_edge_ids)

    @cached_property
    def segment_index(self) -> SegmentIndex:
        """A k-d tree over short pieces of every edge's segments (built on first use)."""
        return SegmentIndex(self.edge_geometry, np.arange(self.n_edges))

    @cached_property
    def main_segment_index(self) -> SegmentIndex:
        """The same over the main-component edges only (reports edge indices of the graph)."""
        return SegmentIndex(self.edge_geometry[self.main_edge_ids], self.main_edge_ids)

    def drop_snapping_indexes(self) -> None:
        """Free the segment indexes and edge trees built for snapping (rebuilt on next use).

        At city scale they are the largest thing a graph holds besides itself (the main
        component's segment index: about 440 MB for a 1M-edge city, built in about a second).
        """
        for name in ("segment_index", "main_segment_index", "fragment_segment_index",
                     "edge_tree", "main_edge_tree", "fragment_edge_tree"):
            self.__dict__.pop(name, None)

    def summary(self) -> dict[str, float]:
        """Sizes of the graph: nodes, edges, components, main component share, total length."""
        return {
            "nodes": self.n_nodes,
            "edges": self.n_edges,
            "components": self.n_components,
            "main_component_share": self.main_share,
            "length_km": float(self.edge_length.sum()) / 1000.0,
        }


def _unique_rows(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact unique (x, y) rows by hashing: returns (unique_xy, inverse).

    Each row is viewed as one complex number (x + iy), so equal rows are exactly equal
    coordinates; uniques come in order of first appearance.
    """
    flat = np.ascontiguousarray(xy + 0.0)  # + 0.0 turns -0.0 into 0.0
    codes, uniques = pd.factorize(flat.view(np.complex128).ravel())
    return np.c_[uniques.real, uniques.imag], codes.astype(np.int64)


def build_csr(n: int, u: np.ndarray, v: np.ndarray, length: np.ndarray) -> sp.csr_array:
    """Symmetric CSR matrix of edge lengths, keeping the SHORTEST of parallel edges.

    scipy sums duplicate entries when it converts COO to CSR, which would turn parallel edges of
    3 m and 4 m into one of 7 m; the parallel edges are therefore reduced to their minimum here,
    before scipy sees them. Self-loops are left out: they never shorten a walk.

    Parameters
    ----------
    n
        Number of nodes.
    u, v
        Edge end node indices.
    length
        Edge lengths (metres).

    Returns
    -------
    scipy.sparse.csr_array
        n×n, float64 data, int32 indices when they fit, sorted and without duplicates.
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    length = np.asarray(length, dtype=np.float64)
    keep = u != v
    lo = np.minimum(u[keep], v[keep])
    hi = np.maximum(u[keep], v[keep])
    key = lo * n + hi
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    w = np.minimum.reduceat(length[keep][order], starts) if len(starts) else np.zeros(0)
    lo, hi = key[starts] // n, key[starts] % n
    itype = np.int32 if max(n, 2 * len(lo)) < np.iinfo(np.int32).max else np.int64
    rows = np.concatenate([lo, hi]).astype(itype)
    cols = np.concatenate([hi, lo]).astype(itype)
    csr = sp.coo_array((np.concatenate([w, w]), (rows, cols)), shape=(n, n)).tocsr()
    csr.sort_indices()
    return csr


def _line_parts(ways: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Explode the ways into LineStrings; return (lines, source row position)."""
    geoms = np.asarray(ways.geometry.values, dtype=object)
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    line_like = np.isin(types, [1, 2, 5, 7])  # LineString, LinearRing, Multi, Collection
    bad = present & ~line_like
    if bad.any():
        raise InputDataError(
            f"{int(bad.sum())} of {len(geoms)} ways are not lines (first at row "
            f"{int(np.flatnonzero(bad)[0])} is a {geoms[bad][0].geom_type}); "
            "the walking network needs LineStrings or MultiLineStrings."
        )
    rows = np.flatnonzero(present)
    parts, part_of = shapely.get_parts(geoms[rows], return_index=True)
    ptypes = shapely.get_type_id(parts)
    is_line = np.isin(ptypes, [1, 2])
    if (~is_line).any():
        logger.warning("dropping %d non-line parts inside geometry collections", (~is_line).sum())
    parts = parts[is_line]
    return parts, rows[part_of[is_line]]


def build_walk_graph(ways: gpd.GeoDataFrame, *, report: bool = True,
                     areas: np.ndarray | None = None) -> WalkGraph:
    """Build the walking graph from walkable ways.

    Parameters
    ----------
    ways
        Walkable LineStrings or MultiLineStrings in a projected CRS in metres. Ways connect only
        where they share a vertex with exactly equal coordinates; ways crossing without a shared
        vertex (bridges) stay apart.
    report
        Log the graph's size and warn of a large second component; False for a part of a
        city's ways (its components are not the city's).
    areas
        The districts' polygons (same CRS): the largest component inside each is a main one
        (:data:`MAIN_MIN_NODES`).

    Returns
    -------
    WalkGraph

    Raises
    ------
    geoplan._errors.CRSError
        If ``ways`` has no CRS or a geographic one.
    geoplan._errors.InputDataError
        If a geometry is not a line, or no usable line is left.

    Notes
    -----
    Repeated consecutive vertices are dropped, and ways that collapse to a point are ignored, so
    there are no zero-length edges. A closed way touching nothing else becomes a self-loop edge at
    its first vertex: points can snap to it, but it is not stored in the CSR matrix.
    """
    crs = check_projected_crs(ways.crs, "the walkable ways")
    parts, part_src = _line_parts(ways)
    xy, part = _clean_vertices(parts)
    node_xy, edge_u, edge_v, geometry, first = _split_at_nodes(xy, part)
    length = shapely.length(geometry).astype(np.float64)
    source = part_src[part[first]].astype(np.int64)

    n = len(node_xy)
    csr = build_csr(n, edge_u, edge_v, length)
    # a node whose only edges are self-loops gets its own component, as it should
    n_comp, comp = connected_components(csr, directed=True, connection="weak")
    sizes = np.bincount(comp, minlength=n_comp)
    main = int(np.argmax(sizes))
    others = np.flatnonzero((sizes >= MAIN_MIN_SHARE * n) & (sizes >= MAIN_MIN_NODES))
    if areas is not None and len(areas):
        others = np.union1d(others, _largest_in_areas(node_xy, comp, n_comp, areas))
    graph = WalkGraph(
        node_x=np.ascontiguousarray(node_xy[:, 0]),
        node_y=np.ascontiguousarray(node_xy[:, 1]),
        edge_u=edge_u,
        edge_v=edge_v,
        edge_length=length,
        edge_geometry=geometry,
        edge_source=source,
        csr=csr,
        component=comp.astype(np.int64),
        main_component=main,
        crs=crs,
        other_main=tuple(int(c) for c in others if c != main),
    )
    if report:
        _log_components(graph, comp, n_comp)
    return graph


def _largest_in_areas(node_xy: np.ndarray, comp: np.ndarray, n_comp: int,
                      areas: np.ndarray) -> np.ndarray:
    """The component with the most nodes inside each of ``areas`` (labels, each once)."""
    areas = np.asarray(areas, dtype=object)
    areas = areas[~(shapely.is_missing(areas) | shapely.is_empty(areas))]
    if not len(areas) or not len(node_xy):
        return np.zeros(0, dtype=np.int64)
    node, area = shapely.STRtree(areas).query(shapely.points(node_xy), predicate="within")
    if not len(node):
        return np.zeros(0, dtype=np.int64)
    pair, count = np.unique(area.astype(np.int64) * n_comp + comp[node], return_counts=True)
    # per area, its most numerous component (ties: the lower label, sorted first)
    order = np.lexsort((pair % n_comp, -count, pair // n_comp))
    pair = pair[order]
    first = np.ones(len(pair), dtype=bool)
    first[1:] = pair[1:] // n_comp != pair[:-1] // n_comp
    return np.unique(pair[first] % n_comp)


def _clean_vertices(parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of the line parts and their part index, without repeats or one-vertex parts."""
    xy, part = shapely.get_coordinates(parts, return_index=True)
    xy = np.ascontiguousarray(xy, dtype=np.float64)
    if not np.isfinite(xy).all():
        raise InputDataError("the ways contain NaN or infinite coordinates")
    # drop repeated consecutive vertices of a part
    keep = np.ones(len(part), dtype=bool)
    keep[1:] = (part[1:] != part[:-1]) | (xy[1:, 0] != xy[:-1, 0]) | (xy[1:, 1] != xy[:-1, 1])
    xy, part = xy[keep], part[keep]
    # drop parts left with fewer than two vertices
    nvert = np.bincount(part, minlength=len(parts))
    ok = nvert[part] >= 2
    xy, part = xy[ok], part[ok]
    if len(part) == 0:
        raise InputDataError("no usable walkable line left (all ways empty or a single point)")
    return xy, part


def _split_at_nodes(xy: np.ndarray,
                    part: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut the parts into edges at nodes (shared vertices and part ends).

    Returns the node coordinates, each edge's end nodes, its geometry, and the vertex index
    where each edge starts.
    """
    uxy, vid = _unique_rows(xy)
    start = np.ones(len(part), dtype=bool)
    start[1:] = part[1:] != part[:-1]
    end = np.ones(len(part), dtype=bool)
    end[:-1] = part[1:] != part[:-1]
    count = np.bincount(vid, minlength=len(uxy))
    is_node_v = count >= 2
    is_node_v[vid[start | end]] = True
    node_of_v = np.cumsum(is_node_v) - 1

    # edges: consecutive node occurrences within the same part
    occ = np.flatnonzero(is_node_v[vid])
    same = part[occ[1:]] == part[occ[:-1]]
    a, b = occ[:-1][same], occ[1:][same]
    counts = b - a + 1
    edge_of_vertex = np.repeat(np.arange(len(a)), counts)
    first_slot = np.cumsum(counts) - counts
    idx = np.arange(counts.sum()) - np.repeat(first_slot, counts) + np.repeat(a, counts)
    geometry = shapely.linestrings(xy[idx], indices=edge_of_vertex)
    edge_u = node_of_v[vid[a]].astype(np.int64)
    edge_v = node_of_v[vid[b]].astype(np.int64)
    return uxy[is_node_v], edge_u, edge_v, geometry, a


def _log_components(graph: WalkGraph, comp: np.ndarray, n_comp: int) -> None:
    n = graph.n_nodes
    mains = graph.main_components
    logger.info(
        "walking graph: %d nodes, %d edges, %d components, main component%s %.1f%% of nodes",
        n,
        graph.n_edges,
        n_comp,
        "s" if len(mains) > 1 else "",
        100.0 * graph.main_share,
    )
    if len(mains) > 1:
        sizes = np.sort(np.bincount(comp, minlength=n_comp)[mains])[::-1]
        logger.warning(
            "the walking network is in %d separate parts (%s of its nodes): each is walked on "
            "its own, and a home reaches only the facilities of its own part. Right for "
            "districts apart from each other; otherwise check for a missing bridge or a study "
            "area cut in two.",
            len(mains),
            ", ".join(f"{100.0 * k / n:.0f}%" for k in sizes),
        )
