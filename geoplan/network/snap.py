"""Snap arbitrary points (homes, facilities) to the nearest point on the nearest walkable edge.

Points are never snapped to the nearest node: a home halfway along a 300 m block is 150 m from
either end, not 0 m from one of them. A point farther than ``max_distance`` from every edge is
left unsnapped (and reported unreachable by the caller) rather than pulled across a river.

Small disconnected fragments of a clipped street network reach almost nothing; snapping a home to
one would make it look unserved. With ``main_component_only`` a point is snapped to the main
component unless it really lies on a fragment (its nearest edge overall is a fragment edge within
``on_fragment_distance`` metres).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geoplan._errors import CRSError, InputDataError
from geoplan.network.graph import WalkGraph
from geoplan.network.nearest import TIE_M

logger = logging.getLogger(__name__)

__all__ = [
    "MISSING",
    "MOVED_OFF_FRAGMENT",
    "ONLY_FRAGMENT",
    "ON_FRAGMENT",
    "SNAPPED",
    "TOO_FAR",
    "Snapped",
    "snap_points",
]

#: Snapped to the nearest edge (of a main component when ``main_component_only``).
SNAPPED = 0
#: Kept on a fragment edge because the point lies on it (within ``on_fragment_distance``).
ON_FRAGMENT = 1
#: The nearest edge was a fragment edge farther than ``on_fragment_distance``; snapped to main.
MOVED_OFF_FRAGMENT = 2
#: No edge within ``max_distance``: not snapped.
TOO_FAR = -1
#: Only fragment edges within ``max_distance``, none of a main component: not snapped.
ONLY_FRAGMENT = -2
#: Missing or empty geometry: not snapped.
MISSING = -3

STATUS_NAMES = {
    SNAPPED: "snapped",
    ON_FRAGMENT: "on_fragment",
    MOVED_OFF_FRAGMENT: "moved_off_fragment",
    TOO_FAR: "too_far",
    ONLY_FRAGMENT: "only_fragment_in_reach",
    MISSING: "missing_geometry",
}


@dataclass(frozen=True, eq=False)
class Snapped:
    """Points located on the edges of a :class:`~geoplan.network.graph.WalkGraph`.

    Attributes
    ----------
    edge : numpy.ndarray
        Edge index per point (int64), -1 where the point is not snapped.
    offset : numpy.ndarray
        Metres along the edge geometry from ``edge_u`` (NaN where not snapped).
    distance : numpy.ndarray
        Straight distance from the point to the edge in metres (NaN where not snapped).
    status : numpy.ndarray
        Per point, one of :data:`SNAPPED`, :data:`ON_FRAGMENT`, :data:`MOVED_OFF_FRAGMENT`,
        :data:`TOO_FAR`, :data:`ONLY_FRAGMENT`, :data:`MISSING` (int8). Derived from ``edge``
        when not given.
    """

    edge: np.ndarray
    offset: np.ndarray
    distance: np.ndarray
    status: np.ndarray = field(default=None)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        edge = np.asarray(self.edge, dtype=np.int64)
        object.__setattr__(self, "edge", edge)
        object.__setattr__(self, "offset", np.asarray(self.offset, dtype=np.float64))
        object.__setattr__(self, "distance", np.asarray(self.distance, dtype=np.float64))
        if self.status is None:
            status = np.where(edge >= 0, SNAPPED, TOO_FAR).astype(np.int8)
        else:
            status = np.asarray(self.status, dtype=np.int8)
        object.__setattr__(self, "status", status)
        if not (len(edge) == len(self.offset) == len(self.distance) == len(status)):
            raise ValueError("edge, offset, distance and status must have the same length")

    def __len__(self) -> int:
        return int(self.edge.shape[0])

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the snapped points."""
        return self.edge >= 0

    def counts(self) -> dict[str, int]:
        """Number of points per snapping outcome (see :data:`STATUS_NAMES`)."""
        low = min(STATUS_NAMES)  # counted without sorting: a city has millions of points
        n = np.bincount(self.status.astype(np.intp) - low, minlength=max(STATUS_NAMES) - low + 1)
        return {name: int(n[value - low]) for value, name in STATUS_NAMES.items()}

    def subset(self, which: np.ndarray) -> Snapped:
        """The points selected by an index array or boolean mask."""
        return Snapped(
            self.edge[which], self.offset[which], self.distance[which], self.status[which]
        )

    @classmethod
    def from_nodes(cls, graph: WalkGraph, nodes: np.ndarray) -> Snapped:
        """Place points exactly on graph nodes (offset 0 or the full length of an incident edge).

        Parameters
        ----------
        graph
            The walking graph.
        nodes
            Node indices.

        Returns
        -------
        Snapped
        """
        nodes = np.asarray(nodes, dtype=np.int64)
        ids = np.arange(graph.n_edges)
        at_v = np.full(graph.n_nodes, -1, dtype=np.int64)
        at_v[graph.edge_v] = ids
        at_u = np.full(graph.n_nodes, -1, dtype=np.int64)
        at_u[graph.edge_u] = ids
        use_u = at_u[nodes] >= 0
        edge = np.where(use_u, at_u[nodes], at_v[nodes])
        offset = np.where(use_u, 0.0, graph.edge_length[edge])
        return cls(edge, offset, np.zeros(len(nodes)))


class _Points:
    """Points as x, y arrays, with their shapely geometries made only where GEOS needs them."""

    def __init__(self, xy: np.ndarray, geoms: np.ndarray | None) -> None:
        self.xy = xy
        self._geoms = geoms

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    def subset(self, which: np.ndarray) -> _Points:
        return _Points(self.xy[which], None if self._geoms is None else self._geoms[which])

    def geoms(self) -> np.ndarray:
        if self._geoms is None:
            self._geoms = shapely.points(self.xy[:, 0], self.xy[:, 1])
        return self._geoms


def _as_points(points: Any, crs: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The points as shapely geometries in ``crs``, or as an (n, 2) array of x, y."""
    if isinstance(points, gpd.GeoDataFrame):
        points = points.geometry
    if isinstance(points, gpd.GeoSeries):
        if points.crs is not None and crs is not None:
            if pyproj.CRS.from_user_input(points.crs) != pyproj.CRS.from_user_input(crs):
                logger.debug("reprojecting %d points to the graph CRS", len(points))
                points = points.to_crs(crs)
        elif points.crs is not None and crs is None:
            raise CRSError("the points have a CRS but the graph has none")
        return np.asarray(points.values, dtype=object), None
    arr = np.asarray(points)
    if arr.dtype != object:
        arr = np.asarray(arr, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] < 2:
            raise InputDataError("points must be geometries or an (n, 2) array of x, y")
        return None, np.ascontiguousarray(arr[:, :2])
    return arr.reshape(-1), None


SNAP_CHUNK = 200_000
"""Points per nearest-edge query: bounds the memory of one query on a city of millions."""

ENGINES = ("index", "geos")
"""``index``: :class:`~geoplan.network.nearest.SegmentIndex` with GEOS deciding only ties;
``geos``: ``STRtree.query_nearest`` and ``line_locate_point`` for every point (the reference)."""


def _nearest_edges(tree: shapely.STRtree, geoms: np.ndarray, max_distance: float,
                   ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest edge within ``max_distance`` of each point (index, edge, distance), in chunks.

    ``ids`` maps the tree's items to edge ids (None: the items are the edge ids). On an exact
    tie the lowest edge id wins: every equally near edge is asked for, so the answer does not
    depend on which edges the tree holds or in what order it visits them.
    """
    qs, es, ds = [], [], []
    for lo in range(0, len(geoms), SNAP_CHUNK):
        (qi, ei), d = tree.query_nearest(geoms[lo:lo + SNAP_CHUNK], max_distance=max_distance,
                                         return_distance=True, all_matches=True)
        qs.append(qi + lo)
        es.append(ei if ids is None else ids[ei])
        ds.append(d)
    if not qs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    qi, ei, d = np.concatenate(qs), np.concatenate(es), np.concatenate(ds)
    first = np.lexsort((ei, qi))  # by point, then edge id: the first of a point's run wins
    qi, ei, d = qi[first], ei[first], d[first]
    lead = np.ones(len(qi), dtype=bool)
    lead[1:] = qi[1:] != qi[:-1]
    return qi[lead], ei[lead], d[lead]


def _locate(graph: WalkGraph, edge: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Metres along each edge to the point nearest ``geoms`` (GEOS), within the edge length."""
    off = shapely.line_locate_point(graph.edge_geometry[edge], geoms)
    return np.asarray(np.clip(off, 0.0, graph.edge_length[edge]), dtype=np.float64)


_WHICH = ("all", "main", "fragments")


def _finite_rows(xy: np.ndarray) -> np.ndarray:
    """True for the rows of an (n, 2) array whose x and y are both finite."""
    # two columns compared directly: all(axis=1) over rows of two costs several times more
    return np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1])


def _nearest(graph: WalkGraph, points: _Points, max_distance: float, which: str,
             engine: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest edge (graph index, -1 if none), distance and offset of each point.

    ``which`` edges are searched: ``all``, the ``main`` component's, or the ``fragments``
    (every edge outside it). With the ``index`` engine GEOS decides the points the arrays leave
    open (ties, the limit, ambiguous positions), so both engines give the same edges, distances
    and offsets.
    """
    n = len(points)
    edge = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    offset = np.full(n, np.nan)
    if engine == "index":
        index = {"all": lambda: graph.segment_index, "main": lambda: graph.main_segment_index,
                 "fragments": lambda: graph.fragment_segment_index}[which]()
        finite = np.flatnonzero(_finite_rows(points.xy))
        res = index.nearest(points.xy[finite, 0], points.xy[finite, 1], max_distance)
        edge[finite], dist[finite] = res.edge, res.distance
        ok = edge >= 0
        offset[finite] = res.offset
        offset[ok] = np.minimum(np.maximum(offset[ok], 0.0), graph.edge_length[edge[ok]])
        undecided = np.ones(n, dtype=bool)
        undecided[finite] = res.undecided
        todo = np.flatnonzero(undecided)
        edge[todo], dist[todo], offset[todo] = -1, np.nan, np.nan
        if len(todo):
            logger.debug("snapping: %d of %d points decided by GEOS (ties)", len(todo), n)
    else:
        todo = np.arange(n)
    if len(todo):
        geoms = points.subset(todo).geoms()
        if engine == "index" and index.usable:
            # GEOS over the edges near these few points only: a tree over a whole city's edges
            # cost more than the index's search (0.23 of 1.05 CPU s on a 955k-edge grid)
            xy = points.xy[todo][_finite_rows(points.xy[todo])]
            near = np.unique(index.edges_near(xy[:, 0], xy[:, 1], max_distance)[1])
            tree, ids = shapely.STRtree(graph.edge_geometry[near]), near
        elif which == "main":
            tree, ids = graph.main_edge_tree, graph.main_edge_ids
        elif which == "fragments":
            tree, ids = graph.fragment_edge_tree, graph.fragment_edge_ids
        else:
            tree, ids = graph.edge_tree, None
        qi, ei, d = _nearest_edges(tree, geoms, max_distance, ids)
        edge[todo[qi]] = ei
        dist[todo[qi]] = d
        offset[todo[qi]] = _locate(graph, edge[todo[qi]], geoms[qi])
    return edge, dist, offset


def _main_or_fragment(graph: WalkGraph, points: _Points, max_distance: float,
                      on_fragment_distance: float, engine: str
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edge, distance, offset and status of each point, on a main component where it can be.

    The nearest main edge and the nearest fragment edge are searched apart (the fragments are a
    few edges: no index over every edge of the city is built next to the main one's). The
    nearer of the two is the point's nearest edge overall (an exact tie: the lower index); a
    point whose nearest edge is a fragment edge stays there when it lies on it (within
    ``on_fragment_distance`` and strictly nearer than any main component), else moves to a
    main component, or is lost when no main edge is in reach.
    """
    main_edge, main_dist, main_off = _nearest(graph, points, max_distance, "main", engine)
    n = len(points)
    frag_edge, frag_dist, frag_off = np.full(n, -1), np.full(n, np.nan), np.full(n, np.nan)
    # only the points a fragment may be in reach of (most of a city's are far from all)
    near = np.arange(n)
    if engine == "index":
        near = np.flatnonzero(graph.fragment_segment_index.maybe_near(
            points.xy[:, 0], points.xy[:, 1], max_distance))
    frag_edge[near], frag_dist[near], frag_off[near] = _nearest(
        graph, points.subset(near), max_distance, "fragments", engine)
    has_main, has_frag = main_edge >= 0, frag_edge >= 0
    dm = np.where(has_main, main_dist, np.inf)
    df = np.where(has_frag, frag_dist, np.inf)
    both = has_main & has_frag
    close = np.flatnonzero(both)[np.abs(dm[both] - df[both]) <= TIE_M]
    if len(close):  # near-ties measured by GEOS, as a search over all edges would have
        geoms = points.subset(close).geoms()
        dm[close] = shapely.distance(geoms, graph.edge_geometry[main_edge[close]])
        df[close] = shapely.distance(geoms, graph.edge_geometry[frag_edge[close]])
    nearest_frag = has_frag & ((df < dm) | ((df == dm) & (frag_edge < main_edge)))
    status = np.where(has_main | has_frag, SNAPPED, TOO_FAR).astype(np.int8)
    stays = nearest_frag & (df <= on_fragment_distance) & (df < dm)
    moves = nearest_frag & ~stays & has_main
    lost = nearest_frag & ~stays & ~has_main
    status[stays], status[moves], status[lost] = ON_FRAGMENT, MOVED_OFF_FRAGMENT, ONLY_FRAGMENT
    edge = np.where(stays, frag_edge, np.where(has_main & ~lost, main_edge, -1))
    dist = np.where(stays, frag_dist, np.where(edge >= 0, main_dist, np.nan))
    offset = np.where(stays, frag_off, np.where(edge >= 0, main_off, np.nan))
    assert len(edge) == n
    return edge, dist, offset, status


def snap_points(
    graph: WalkGraph,
    points: Any,
    max_distance: float = 100.0,
    *,
    main_component_only: bool = True,
    on_fragment_distance: float = 5.0,
    engine: str = "index",
) -> Snapped:
    """Snap points to the nearest point on the nearest edge of the walking graph.

    Parameters
    ----------
    graph
        The walking graph.
    points
        A GeoSeries/GeoDataFrame of points (reprojected to the graph CRS when its CRS differs),
        an array of shapely Points, or an (n, 2) array of x, y in the graph CRS (a row with a
        NaN or infinite coordinate counts as a missing point).
    max_distance
        Points farther than this (metres) from every usable edge are not snapped.
    main_component_only
        Snap to edges of the largest connected component only, unless the point's nearest edge
        overall is a fragment edge within ``on_fragment_distance`` metres (it lies on the
        fragment): then it stays there.
    on_fragment_distance
        How close (metres) a point must be to a fragment edge to count as lying on it.
    engine
        ``"index"`` (default): a k-d tree over short pieces of the edges' segments, distances
        and positions computed with arrays, GEOS asked only about exact ties (the same answers,
        many times faster); ``"geos"``: GEOS ``STRtree.query_nearest`` and
        ``line_locate_point`` for every point. On an exact tie both keep the equally near edge
        with the lowest index.

    Returns
    -------
    Snapped
        One entry per input point, in input order; ``status`` tells what happened to each.

    Raises
    ------
    geoplan._errors.InputDataError
        If a geometry is not a point.
    """
    geoms, xy = _as_points(points, graph.crs)
    if geoms is None:
        assert xy is not None
        present = _finite_rows(xy)  # NaN or infinite coordinates: missing
        n = len(xy)
    else:
        present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
        n = len(geoms)
    edge = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    status = np.full(n, TOO_FAR, dtype=np.int8)
    status[~present] = MISSING
    if geoms is not None and (shapely.get_type_id(geoms[present]) != 0).any():
        raise InputDataError(
            "snap_points needs Points; use representative points or entrances of other shapes"
        )
    if graph.n_edges == 0 or not present.any():
        return Snapped(edge, np.full(n, np.nan), dist, status)

    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    idx_present = np.flatnonzero(present)
    offset = np.full(n, np.nan)
    if geoms is not None:
        xy = np.full((n, 2), np.nan)
        xy[present] = shapely.get_coordinates(geoms[present])[:, :2]
    assert xy is not None
    pts = _Points(xy, geoms).subset(idx_present)
    if main_component_only and not graph.edge_in_main.all():
        e, d, o, st = _main_or_fragment(graph, pts, max_distance, on_fragment_distance, engine)
        status[idx_present] = st
    else:
        e, d, o = _nearest(graph, pts, max_distance, "all", engine)
        status[idx_present[e >= 0]] = SNAPPED
    edge[idx_present], dist[idx_present], offset[idx_present] = e, d, o

    ok = edge >= 0
    snapped = Snapped(edge, offset, dist, status)
    counts = snapped.counts()
    excluded = n - int(ok.sum())
    log = logger.info if excluded or counts["moved_off_fragment"] else logger.debug
    log(
        "snapped %d of %d points (max %.0f m): %d too far, %d with only fragments in reach, "
        "%d missing; %d moved off fragments to a main component, %d kept on fragments",
        int(ok.sum()),
        n,
        max_distance,
        counts["too_far"],
        counts["only_fragment_in_reach"],
        counts["missing_geometry"],
        counts["moved_off_fragment"],
        counts["on_fragment"],
    )
    return snapped
