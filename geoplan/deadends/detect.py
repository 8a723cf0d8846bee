"""Find dead-end road segments (断头路 candidates) and sort them into categories.

The public road network is noded at shared vertices (:func:`geoplan.network.build_walk_graph`:
ways connect only where they share an OSM node, so bridges stay apart). Every degree-1 node is
a dead-end candidate; its segment runs back along degree-2 nodes to the first junction
(degree >= 3). Each candidate gets exactly one category, tested in this order:

``edge_artifact``
    The end lies within ``edge_tolerance_m`` of the data extent's or the context area's edge
    (the road was cut there), or the data's cut made it: the next node of the way is missing
    from the file (a hard-clipped extract), however far from the edge. Excluded, counted.
``noexit``
    ``noexit=yes`` on the end node (within ``noexit_tolerance_m``) or on the ending way:
    a cul-de-sac by design. Kept, marked.
``private_compound``
    The end is at a gate, continues into a road that is private by tag, or the segment lies
    mostly inside a gated compound (a residential polygon of at most ``compound_max_area_m2``)
    or facility grounds (school, hospital, university, access-restricted areas). Kept apart.
``service``
    The ending way is a public ``highway=service`` road (parking or building access): not a
    street. Excluded from results, counted.
``data_check``
    Otherwise public, but the end lies within ``almost_junction_m`` of another public road
    (not a bridge or tunnel) without sharing a node, or on it: almost always a mapping gap.
    Kept apart, never ranked.
``public``
    Everything else: real 断头路 candidates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._threads import prepared_for
from geoplan.config import DeadEndSettings
from geoplan.deadends.compounds import inside_share
from geoplan.deadends.params import DeadEndParams
from geoplan.network import WalkGraph, build_walk_graph

logger = logging.getLogger(__name__)

CATEGORIES = ("public", "data_check", "noexit", "private_compound", "service", "edge_artifact")
"""Every dead-end category; the rules are tested edge_artifact, noexit, private_compound,
service, data_check, and what is left is public."""

EXCLUDED_CATEGORIES = ("service", "edge_artifact")
"""Categories left out of the result tables (counted in ``DeadEndResult.excluded``)."""

_PRIVATE_ACCESS = {"private", "no", "customers", "permit", "delivery"}

_SHARED_NODE_M = 0.05
"""Two points this close (projection rounding) are one OSM node."""


@dataclass(eq=False)
class RoadNetwork:
    """The public road network as a graph, with each edge's way attributes.

    Attributes
    ----------
    roads
        The ways of the public network (canonical ``roads`` columns), index 0..n-1.
    others
        The remaining roads (not public, or not of a public highway type).
    graph
        Nodes, edges and CSR lengths (``graph.edge_source`` indexes ``roads``); None if empty.
    degree
        Degree of each node (a self-loop counts twice).
    """

    roads: gpd.GeoDataFrame
    others: gpd.GeoDataFrame
    graph: WalkGraph | None
    degree: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes (0 for an empty network)."""
        return 0 if self.graph is None else self.graph.n_nodes

    def incident(self) -> tuple[np.ndarray, np.ndarray]:
        """(indptr, edge ids): the edges at node ``n`` are ``ids[indptr[n]:indptr[n + 1]]``."""
        g = self.graph
        assert g is not None
        ends = np.concatenate([g.edge_u, g.edge_v])
        ids = np.concatenate([np.arange(g.n_edges), np.arange(g.n_edges)])
        order = np.argsort(ends, kind="stable")
        indptr = np.zeros(g.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(ends, minlength=g.n_nodes), out=indptr[1:])
        return indptr, ids[order]


def public_mask(roads: gpd.GeoDataFrame, params: DeadEndParams | None = None) -> np.ndarray:
    """Which rows of a canonical ``roads`` layer belong to the public road network.

    A way is public when its ``highway`` is in ``params.public_highways`` and ``is_public`` is
    true (no ``access=private/no/...``, no ``service=driveway/parking_aisle/...``). Public
    ``highway=service`` ways count only when ``params.include_service`` is set.
    """
    params = params or DeadEndParams()
    highway = roads["highway"].astype(str).to_numpy()
    mask = np.isin(highway, list(params.public_highways)) & roads["is_public"].astype(bool).to_numpy()
    access = roads["access"].astype(str).to_numpy()
    mask &= ~np.isin(access, list(_PRIVATE_ACCESS))
    if not params.include_service:
        mask &= highway != "service"
    return mask


def build_road_network(roads: gpd.GeoDataFrame, params: DeadEndParams | None = None,
                       areas: np.ndarray | None = None) -> RoadNetwork:
    """Node the public roads at shared vertices.

    Parameters
    ----------
    roads
        A canonical ``roads`` layer in a projected CRS (metres).
    params
        Which ways are public (:func:`public_mask`).
    areas
        The districts' polygons: the largest network in each is a main one (a dead end on it
        is no island; :func:`geoplan.network.build_walk_graph`).

    Returns
    -------
    RoadNetwork
        ``graph`` is None when no public road is left.
    """
    mask = public_mask(roads, params)
    public = roads.loc[mask].reset_index(drop=True)
    others = roads.loc[~mask].reset_index(drop=True)
    geoms = public.geometry.to_numpy()
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(public) else np.zeros(0, bool)
    if not usable.any():
        return RoadNetwork(public, others, None, np.zeros(0, dtype=np.int64))
    # not the walking network: no warning of it; each district's own network is a main one
    graph = build_walk_graph(public, report=False, areas=areas)
    degree = np.bincount(graph.edge_u, minlength=graph.n_nodes) + np.bincount(
        graph.edge_v, minlength=graph.n_nodes)
    return RoadNetwork(public, others, graph, degree.astype(np.int64))


def _walk_segments(net: RoadNetwork) -> list[tuple[int, list[int], int]]:
    """For each degree-1 node: (end node, edges from the end to the junction, last node)."""
    g = net.graph
    if g is None:
        return []
    indptr, inc = net.incident()
    out = []
    for start in np.flatnonzero(net.degree == 1):
        node, prev, edges = int(start), -1, []
        while True:
            here = inc[indptr[node]:indptr[node + 1]]
            nxt = [e for e in here if e != prev]
            if not nxt:
                break
            e = int(nxt[0])
            edges.append(e)
            node = int(g.edge_v[e]) if g.edge_u[e] == node else int(g.edge_u[e])
            prev = e
            if node == start or net.degree[node] != 2:
                break
        out.append((int(start), edges, node))
    return out


def _segment_geometry(g: WalkGraph, start: int, edges: list[int]) -> shapely.LineString:
    coords: list[np.ndarray] = []
    node = start
    for e in edges:
        xy = shapely.get_coordinates(g.edge_geometry[e])
        if g.edge_u[e] != node:
            xy = xy[::-1]
        coords.append(xy if not coords else xy[1:])
        node = int(g.edge_v[e]) if g.edge_u[e] == node else int(g.edge_u[e])
    return shapely.LineString(np.concatenate(coords))


def detect_dead_ends(
    net: RoadNetwork,
    settings: DeadEndSettings,
    *,
    data_extent: BaseGeometry | None = None,
    context_area: BaseGeometry | None = None,
    noexit_nodes: gpd.GeoSeries | None = None,
    gates: gpd.GeoSeries | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    params: DeadEndParams | None = None,
    cut_points: np.ndarray | None = None,
    pedestrian_areas: gpd.GeoSeries | None = None,
) -> gpd.GeoDataFrame:
    """Every dead-end segment of ``net`` with its category (artifacts included).

    Parameters
    ----------
    net
        The public road network (:func:`build_road_network`).
    settings
        ``edge_tolerance_m`` decides edge artifacts.
    data_extent, context_area
        Where the data and the analysed area end; ends near either edge are artifacts.
    noexit_nodes
        Points of OSM nodes tagged ``noexit=yes`` (see :func:`read_osm_extras`).
    gates
        Points of gate nodes.
    compounds
        Polygons of gated compounds and facility grounds (any columns).
    params
        Further thresholds (:class:`DeadEndParams`).
    cut_points
        Points where the data's cut left a way's end (``LayerSet.cut_points``): ends there
        are edge artifacts. Without them, the open ends of truncated ways are.
    pedestrian_areas
        Polygons of pedestrian areas and squares: an end on their outline shares a node
        with them and is connected, not a dead end.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per degree-1 node: ``id`` (``DE0001``…, stable in space: sorted by x, y),
        ``node``, ``junction_node`` (-1 for an isolated piece), ``far_node`` (the junction, or
        the other end of an isolated piece), ``island`` (not on a main connected component of
        the public network), ``category``, ``reason``,
        ``source_id`` (the ending way), ``highway``, ``road_class``, ``name``, ``length_m``
        (end to junction), ``isolated``, ``continues_into`` (highways of non-public roads
        at the end), ``end_x``, ``end_y``; geometry is the segment from the end to the junction.
    """
    params = params or DeadEndParams()
    g = net.graph
    crs = net.roads.crs
    walks = _walk_segments(net)
    if g is None or not walks:
        return _empty(crs)
    roads = net.roads
    # each column read once (reading one inside the loop copied it per dead end: quadratic)
    name = roads["name"].to_numpy(dtype=object)
    source_id = roads["source_id"].to_numpy(dtype=object)
    highway = roads["highway"].to_numpy(dtype=object)
    road_class = roads["road_class"].to_numpy(dtype=object)
    noexit = roads["noexit"].to_numpy() if "noexit" in roads else None
    truncated = roads["truncated"].to_numpy() if "truncated" in roads else None
    rows = []
    for start, edges, last in walks:
        ways = g.edge_source[edges]
        names = [n for n in name[ways] if n]
        first = int(ways[0])
        rows.append({
            "node": start,
            "junction_node": last if net.degree[last] >= 3 else -1,
            "far_node": last,
            "island": bool(not g.node_in_main[start]),
            "source_id": source_id[first],
            "highway": highway[first],
            "road_class": road_class[first],
            "name": names[0] if names else "",
            "length_m": float(g.edge_length[edges].sum()),
            "isolated": bool(net.degree[last] < 3),
            "way_noexit": bool(noexit[first]) if noexit is not None else False,
            "way_truncated": bool(truncated[first]) if truncated is not None else False,
            "way_row": first,
            "end_x": float(g.node_x[start]),
            "end_y": float(g.node_y[start]),
            "geometry": _segment_geometry(g, start, edges),
        })
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    ends = shapely.points(out["end_x"].to_numpy(), out["end_y"].to_numpy())
    if pedestrian_areas is not None and len(pedestrian_areas):
        on_area = np.isfinite(_near(ends, gpd.GeoSeries(shapely.boundary(
            np.asarray(pedestrian_areas.to_numpy())), crs=crs), _SHARED_NODE_M))
        if on_area.any():
            logger.info("dead ends: %d end(s) meet a pedestrian area or square: connected",
                        int(on_area.sum()))
            out, ends = out.loc[~on_area].reset_index(drop=True), ends[~on_area]
            walks = [w for w, on in zip(walks, on_area, strict=True) if not on]
    out["continues_into"] = _continuations(ends, net.others, params)
    gap = _gap_to_other_road(net, walks, ends, params)
    category, reason = _categorise(out, ends, settings, params, data_extent, context_area,
                                   noexit_nodes, gates, compounds, net, cut_points, gap)
    out["category"] = category
    out["reason"] = reason
    out = out.sort_values(["end_x", "end_y"]).reset_index(drop=True)
    out.insert(0, "id", [f"DE{i + 1:04d}" for i in range(len(out))])
    out = out.drop(columns=["way_noexit", "way_truncated", "way_row"])
    counts = out["category"].value_counts().to_dict()
    logger.info("dead ends: %d degree-1 nodes; by category %s", len(out), counts)
    return out


def _empty(crs: Any) -> gpd.GeoDataFrame:
    cols = ["id", "node", "junction_node", "far_node", "island", "source_id", "highway", "road_class", "name",
            "length_m", "isolated", "end_x", "end_y", "continues_into", "category", "reason"]
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols},
                            geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _continuations(ends: np.ndarray, others: gpd.GeoDataFrame, params: DeadEndParams) -> list[str]:
    """Highway (and access) of the non-public roads touching each end."""
    result = [""] * len(ends)
    if len(others) == 0 or len(ends) == 0:
        return result
    tree = shapely.STRtree(others.geometry.to_numpy())
    i_end, i_road = tree.query(ends, predicate="dwithin", distance=0.05)
    found: dict[int, set[str]] = {}
    for i, j in zip(i_end, i_road, strict=True):
        row = others.iloc[j]
        label = str(row["highway"])
        extra = ",".join(v for v in (str(row["service"]), str(row["access"])) if v)
        found.setdefault(int(i), set()).add(f"{label}({extra})" if extra else label)
    for i, labels in found.items():
        result[i] = ";".join(sorted(labels))
    return result


def _near(points: np.ndarray, targets: gpd.GeoSeries | None, distance: float) -> np.ndarray:
    """Distance from each point to the nearest target within ``distance`` (inf if none)."""
    dist = np.full(len(points), np.inf)
    if targets is None or len(targets) == 0 or len(points) == 0:
        return dist
    geoms = np.asarray(targets.geometry.to_numpy() if hasattr(targets, "geometry") else targets)
    tree = shapely.STRtree(geoms)
    i_pt, i_tg = tree.query(points, predicate="dwithin", distance=distance)
    if len(i_pt):
        d = shapely.distance(points[i_pt], geoms[i_tg])
        np.minimum.at(dist, i_pt, d)
    return dist


def edge_distance(points: np.ndarray, area: BaseGeometry, tol: float,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which ``points`` lie within ``tol`` of ``area``'s outline or outside it, and how far.

    Returns
    -------
    near, outside, distance
        ``distance(point, area.boundary) <= tol``; ``~covers(area, point)``; and the distance
        to the outline of every point that is near or outside (NaN for the others, which lie
        inside and farther away).

    Notes
    -----
    The outline of a data extent has thousands of vertices and grows with the city; measuring
    every point against all of them made this quadratic in effect. The area and its outline
    prepared answer "outside" and "within ``tol`` + 1 m" from their indexes, and only those
    points are measured exactly, by the same :func:`shapely.distance` as before.
    """
    boundary = area.boundary
    with prepared_for([area, boundary]):
        outside = ~shapely.covers(area, points)
        candidate = shapely.dwithin(boundary, points, tol + 1.0) | outside
    d = np.full(len(points), np.nan)
    d[candidate] = shapely.distance(points[candidate], boundary)
    return candidate & (d <= tol), outside, d


def _categorise(
    out: gpd.GeoDataFrame,
    ends: np.ndarray,
    settings: DeadEndSettings,
    params: DeadEndParams,
    data_extent: BaseGeometry | None,
    context_area: BaseGeometry | None,
    noexit_nodes: gpd.GeoSeries | None,
    gates: gpd.GeoSeries | None,
    compounds: gpd.GeoDataFrame | None,
    net: RoadNetwork,
    cut_points: np.ndarray | None = None,
    gap: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    n = len(out)
    category = np.full(n, "public", dtype=object)
    reason = np.full(n, "", dtype=object)

    def assign(mask: np.ndarray, cat: str, why: np.ndarray | str) -> None:
        free = mask & (reason == "")
        category[free] = cat
        reason[free] = why[free] if isinstance(why, np.ndarray) else why

    # edge artifacts first: the road was cut by the data's or the analysed area's edge
    tol = settings.edge_tolerance_m
    for label, area in (("data extent", data_extent), ("context area", context_area)):
        if area is None or area.is_empty:
            continue
        near, _, d = edge_distance(ends, area, tol)
        grown = area.buffer(tol)
        shapely.prepare(grown)  # a shape of its own
        outside = ~shapely.covers(grown, ends)
        hit = near | outside
        why = np.full(n, "", dtype=object)
        why[hit] = [f"{v:.0f} m from the {label} edge" for v in d[hit]]
        assign(hit, "edge_artifact", why)
    if cut_points is not None:
        made_by_cut = np.isfinite(_near(ends, gpd.GeoSeries(cut_points), _SHARED_NODE_M))
        assign(made_by_cut, "edge_artifact",
               "the data's cut made this end (the way's next node is missing from the file)")
    else:
        assign(_truncated_ends(out, ends, net), "edge_artifact",
               "open end of a way the extract truncated (its next node is missing)")

    d_noexit = _near(ends, noexit_nodes, params.noexit_tolerance_m)
    assign(np.isfinite(d_noexit), "noexit", "noexit=yes on the end node")
    assign(out["way_noexit"].to_numpy(dtype=bool), "noexit", "noexit=yes on the way")

    d_gate = _near(ends, gates, params.gate_distance_m)
    assign(np.isfinite(d_gate), "private_compound",
           np.array([f"gate {v:.0f} m from the end" for v in d_gate], dtype=object))
    cont = out["continues_into"].to_numpy()
    private_cont = np.array([_private_minor(c) for c in cont], dtype=bool)
    assign(private_cont, "private_compound",
           np.array([f"continues into private road {c}" for c in cont], dtype=object))
    if compounds is not None and len(compounds):
        share, names = inside_share(out.geometry.to_numpy(), ends, compounds)
        inside = share >= params.compound_inside_share
        assign(inside, "private_compound",
               np.array([f"{100 * s:.0f}% inside {lbl}" for s, lbl in zip(share, names, strict=True)],
                        dtype=object))

    assign(out["highway"].to_numpy() == "service", "service", "ends on a service road")
    if gap is not None:  # what would be a public dead end, but almost touches another road
        assign(gap <= params.almost_junction_m, "data_check",
               np.array([mapping_gap_reason(v) for v in gap], dtype=object))
    reason[reason == ""] = "ends without connecting"
    return category, reason


def mapping_gap_reason(gap_m: float) -> str:
    """Why an end is a ``data_check``: its distance to the other road (the map's data-check
    popup reads the number back from this sentence, :mod:`geoplan.report._map_checks`)."""
    return f"ends {gap_m:.1f} m from another road without a shared node: probably a mapping gap"


_MAIN_HIGHWAYS = ("motorway", "trunk", "primary", "secondary")


def _private_minor(continuation: str) -> bool:
    """Whether a continuation label names a minor road closed by its access tag.

    A main road with ``access=no`` (an elevated road under construction, a bus-only road) is
    not the way into a compound, so it does not make the dead end private.
    """
    for label in filter(None, continuation.split(";")):
        highway, _, extra = label.partition("(")
        if highway.startswith(_MAIN_HIGHWAYS):
            continue
        if set(extra.rstrip(")").split(",")) & _PRIVATE_ACCESS:
            return True
    return False


def _gap_to_other_road(net: RoadNetwork, walks: list[tuple[int, list[int], int]],
                       ends: np.ndarray, params: DeadEndParams) -> np.ndarray:
    """Distance from each end to the nearest public road it does not touch (inf if far).

    Roads on the end's own segment, roads meeting the end node, bridges and tunnels (a road
    passing over or under is not a gap) do not count.
    """
    g = net.graph
    gap = np.full(len(ends), np.inf)
    if g is None or len(ends) == 0:
        return gap
    way = g.edge_source
    level = (net.roads["bridge"].astype(bool).to_numpy()[way]
             | net.roads["tunnel"].astype(bool).to_numpy()[way]) if "bridge" in net.roads else \
        np.zeros(g.n_edges, dtype=bool)
    tree = shapely.STRtree(g.edge_geometry)
    i_end, i_edge = tree.query(ends, predicate="dwithin", distance=params.almost_junction_m)
    if len(i_end) == 0:
        return gap
    start = np.array([w[0] for w in walks], dtype=np.int64)
    own = [set(w[1]) for w in walks]
    d = shapely.distance(ends[i_end], g.edge_geometry[i_edge])
    for i, e, dist in zip(i_end, i_edge, d, strict=True):
        if level[e] or e in own[i] or start[i] in (g.edge_u[e], g.edge_v[e]):
            continue
        gap[i] = min(gap[i], float(dist))
    return gap


def _truncated_ends(out: gpd.GeoDataFrame, ends: np.ndarray, net: RoadNetwork) -> np.ndarray:
    """Ends that are the first or last vertex of a way the OSM file truncated."""
    flag = out["way_truncated"].to_numpy(dtype=bool)
    if not flag.any():
        return np.zeros(len(out), dtype=bool)
    result = np.zeros(len(out), dtype=bool)
    for i in np.flatnonzero(flag):
        geom = net.roads.geometry.iat[int(out["way_row"].iat[i])]
        tips = shapely.get_coordinates(geom)[[0, -1]]
        result[i] = bool(np.any(shapely.distance(shapely.points(tips), ends[i]) < 0.01))
    return result
