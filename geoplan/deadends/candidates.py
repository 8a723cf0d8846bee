"""Opening candidates: where a short new link would save a long detour, and how much it matters.

For each public dead end the candidate is the nearest point on another road within
``candidate_radius_m`` (straight line) that is

- not connected within a short network hop (network distance above ``connected_hop_m``), and
- worth opening: the current network detour to that point is at least ``min_detour_ratio``
  times the straight gap (a stub 40 m from the road it branches off is not a candidate).

``saved_m`` = detour - gap. A detour beyond ``max_detour_m`` counts as ``max_detour_m``; a target
that cannot be reached at all (the dead end lies on an island of the public network) counts as
``unreachable_detour_m`` (``reachable`` is False and ``detour_m`` is NaN). The score weights the saving by the
residential land around the dead end and penalises links across water or railways::

    score = saved_m * (min_weight + (1 - min_weight) * residential_share) * barrier_factor**crosses

``rank`` 1 is the best public dead end; dead ends without a candidate have no rank. A piece
of road with dead ends at both ends (an isolated piece), and two dead ends facing each other
(``pairs_with``: one link opens both), are ranked once, at the better end. Almost-junctions
(likely mapping errors) and dead ends of ``unranked_highways`` (ramps) are not ranked.
``data_check`` flags what is more likely a mapping error than a real 断头路: an end within
``almost_junction_m`` of another road, and isolated pieces.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry.base import BaseGeometry

from geoplan._progress import bar
from geoplan.config import DeadEndSettings
from geoplan.deadends.detect import RoadNetwork
from geoplan.deadends.params import DeadEndParams
from geoplan.network.graph import WalkGraph

logger = logging.getLogger(__name__)

_MIN_GAP = 0.01
"""Gaps are at least 1 cm when dividing (an end lying on another road has a zero gap)."""

_CHUNK = 256
"""At most this many dead ends per Dijkstra call."""

_BLOCK = 16_000_000
"""At most this many distances (128 MB) per Dijkstra call: scipy returns a dense block of
sources × nodes, so big cities take fewer sources at a time."""

_NOT_BARRIER_RAIL = {"abandoned", "razed", "dismantled", "disused", "proposed", "construction",
                     "subway"}
"""Railway kinds that do not block a surface link (gone, planned, or underground)."""

CANDIDATE_COLUMNS = ["data_check", "pairs_with", "gap_m", "reachable", "detour_m", "detour_ratio", "saved_m",
                     "residential_share", "score", "rank", "crosses_water", "crosses_railway",
                     "target_source_id", "target_highway", "target_name", "detour_near_data_edge"]
"""Columns :func:`opening_candidates` adds to the dead-end table."""


def _target_edges(net: RoadNetwork, params: DeadEndParams) -> np.ndarray:
    g = net.graph
    assert g is not None
    roads = net.roads
    way = g.edge_source
    highway = roads["highway"].astype(str).to_numpy()[way]
    ok = ~np.isin(highway, list(params.exclude_target_highways))
    if not params.target_service:
        ok &= highway != "service"
    if params.exclude_target_structures:
        ok &= ~roads["bridge"].astype(bool).to_numpy()[way] & ~roads["tunnel"].astype(bool).to_numpy()[way]
    return np.flatnonzero(ok)


def opening_candidates(
    net: RoadNetwork,
    dead_ends: gpd.GeoDataFrame,
    settings: DeadEndSettings,
    *,
    residential: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    waterways: gpd.GeoDataFrame | None = None,
    railways: gpd.GeoDataFrame | None = None,
    network_area: BaseGeometry | None = None,
    params: DeadEndParams | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Find, measure and rank the opening candidate of each public dead end.

    Parameters
    ----------
    net
        The public road network.
    dead_ends
        Output of :func:`detect_dead_ends` (any categories; only ``public`` rows get candidates).
    settings
        ``candidate_radius_m``, ``connected_hop_m``, ``min_detour_ratio``.
    residential
        Residential land polygons (weights the score).
    water, waterways, railways
        Barriers: a link crossing them is flagged and its score multiplied by
        ``params.barrier_factor``.
    network_area
        Where the road network the detours are walked on ends (the layers' context area: the
        districts and a margin, within the data), analysis CRS: a detour is flagged where a
        route beyond that edge could be shorter (see :func:`near_data_edge`). None: none is.
    params
        Further thresholds (:class:`DeadEndParams`).

    Returns
    -------
    dead_ends : geopandas.GeoDataFrame
        The input with :data:`CANDIDATE_COLUMNS` added (NaN / False where no candidate).
    links : geopandas.GeoDataFrame
        One straight line per ranked candidate, from the dead end to the target road (the
        dead ends keep the figures of the others: a paired end's, a data check's): ``id`` and
        ``name`` (of the dead end), ``district``, ``rank``, ``length_m`` (of the link = ``gap_m``),
        ``gap_m``, ``reachable``, ``detour_m``, ``detour_ratio``, ``saved_m``, ``score``,
        ``crosses_water``, ``crosses_railway``, ``detour_near_data_edge``,
        ``target_source_id``, ``target_highway``, ``target_name``.
    """
    params = params or DeadEndParams()
    out = _with_candidate_columns(dead_ends)
    g = net.graph
    n = len(out)
    public = np.flatnonzero(out["category"].to_numpy() == "public") if n else np.zeros(0, int)
    if g is None or len(public) == 0:
        return out, _links(out, [], out.crs)
    ends = shapely.points(out["end_x"].to_numpy(float), out["end_y"].to_numpy(float))
    out["residential_share"] = _residential_share(ends, residential, params.catchment_m)
    seg_edges = _segment_edges(net, out)
    target_edge, target_pts = _find_targets(out, public, ends, net, g, seg_edges, settings, params)
    has = out["gap_m"].notna().to_numpy()
    counted = _measure_links(out, g, target_edge, params)
    if network_area is not None and target_pts:
        rows = np.array([i for i, _ in target_pts])
        flag = np.zeros(len(out), dtype=bool)
        flag[rows] = near_data_edge(ends[rows], np.array([p for _, p in target_pts]),
                                    counted[rows], network_area)
        out["detour_near_data_edge"] = flag
    out["data_check"] = _data_checks(out, has, out["gap_m"].to_numpy(float), params)
    out["pairs_with"] = _mutual_pairs(out, target_edge, seg_edges)
    link_geoms = {i: shapely.LineString([ends[i], p]) for i, p in target_pts}
    if link_geoms:
        idx = np.array(list(link_geoms))
        lines = np.array(list(link_geoms.values()))
        out.loc[out.index[idx], "crosses_water"] = _crosses(lines, [water, waterways])
        out.loc[out.index[idx], "crosses_railway"] = _crosses(lines, [_blocking_rail(railways)])
    _score_and_rank(out, has, params)
    logger.info("opening candidates: %d of %d public dead ends have one", int(has.sum()), len(public))
    # the ranked links only: a paired end's link is its partner's (one link opens both), and
    # a data check's is no opening (a ramp that cannot end is a mapping error)
    ranked = out["rank"].notna().to_numpy()
    return out, _links(out, [(i, link_geoms[i]) for i, _ in target_pts if ranked[i]], out.crs)


def near_data_edge(ends: np.ndarray, targets: np.ndarray, detour: np.ndarray,
                   network_area: BaseGeometry) -> np.ndarray:
    """Whether a walk from each end to its target could leave the network and be shorter.

    Any route shorter than ``detour`` between two points stays inside the ellipse with those
    points as foci; one that reaches the network's edge is at least the two points' distances
    to the edge long. So where those two distances add up to less than the detour, roads
    beyond the edge, which the run does not walk, could make a shorter detour (and a lower
    score); where they do not, no road beyond could. A necessary condition: the 2018
    extract's ranked dead ends that a check on the whole file found shorter (4 of 129, three
    of them with no route inside the data at all) are among those it flags.

    Parameters
    ----------
    ends, targets
        Points (analysis CRS): each dead end's end and the point of its target road.
    detour
        Each one's detour (m), as scored.
    network_area
        The area the network was cut to.

    Returns
    -------
    numpy.ndarray
        One bool per end.

    Examples
    --------
    >>> box = shapely.box(0, 0, 1000, 1000)
    >>> ends = shapely.points([[100, 500], [500, 500]])
    >>> near_data_edge(ends, shapely.points([[100, 560], [500, 560]]), np.array([300.0, 300.0]), box)
    array([ True, False])
    """
    edge = shapely.boundary(network_area)
    return (shapely.distance(ends, edge) + shapely.distance(targets, edge)) < detour


def _with_candidate_columns(dead_ends: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy of the dead ends with every candidate column, empty (NaN / False / '')."""
    out = dead_ends.copy()
    for col in ("gap_m", "detour_m", "detour_ratio", "saved_m", "residential_share", "score"):
        out[col] = np.nan
    out["reachable"] = True
    out["crosses_water"] = False
    out["crosses_railway"] = False
    out["detour_near_data_edge"] = False
    for col in ("target_source_id", "target_highway", "target_name", "data_check", "pairs_with"):
        out[col] = ""
    out["rank"] = pd.array([pd.NA] * len(out), dtype="Int64")
    return out


def _find_targets(out: gpd.GeoDataFrame, public: np.ndarray, ends: np.ndarray, net: RoadNetwork,
                  g: WalkGraph, seg_edges: list[set[int]], settings: DeadEndSettings,
                  params: DeadEndParams) -> tuple[np.ndarray, list[tuple[int, shapely.Point]]]:
    """The best target road of each public dead end: fills gap, detour and the target's tags.

    Returns the target edge per dead end (-1 without one) and the target points.
    """
    targets = _target_edges(net, params)
    tree = shapely.STRtree(g.edge_geometry[targets])
    target_edge = np.full(len(out), -1, dtype=np.int64)
    target_pts: list[tuple[int, shapely.Point]] = []
    gap_m = out["gap_m"].to_numpy(dtype=float, copy=True)
    detour = out["detour_m"].to_numpy(dtype=float, copy=True)
    node = out["node"].to_numpy(int)
    for rows, local, dist in _detours(g, public, node, params.max_detour_m):
        for k, i in enumerate(rows):
            row = _Row(local, dist[k])
            best = _best_target(i, ends[i], row, tree, targets, seg_edges[i], net, settings)
            if best is None:
                continue
            gap_m[i], detour[i], edge, point = best
            target_pts.append((int(i), point))
            target_edge[i] = edge
    target_pts.sort(key=lambda item: item[0])  # in dead-end order, as the links are listed
    # the target way's tags, written once per column (a cell at a time was most of the step)
    found = np.flatnonzero(target_edge >= 0)
    way = g.edge_source[target_edge[found]]
    out["gap_m"] = gap_m
    out["detour_m"] = detour
    for col in ("source_id", "highway", "name"):
        current = out[f"target_{col}"]
        values = current.to_numpy(dtype=object, copy=True)
        values[found] = net.roads[col].to_numpy(dtype=object)[way]
        out[f"target_{col}"] = pd.Series(values, index=out.index, dtype=current.dtype)
    return target_edge, target_pts


_TILE_M = 2000.0
"""Dead ends are taken a square of this side at a time, each on the part of the network that
lies within ``max_detour_m`` of the square."""


class _Row:
    """Network distances from one dead end to the nodes of a local part of the network.

    ``row[nodes]`` gives the distance to each (global) node id, ``inf`` for a node outside the
    part (farther than the detour limit in a straight line, hence beyond it on the network).
    """

    def __init__(self, local: np.ndarray, dist: np.ndarray) -> None:
        self.local = local
        self.dist = dist

    def __getitem__(self, nodes: np.ndarray) -> np.ndarray:
        at = np.searchsorted(self.local, nodes)
        at = np.minimum(at, len(self.local) - 1)
        found = self.local[at] == nodes
        return np.where(found, self.dist[at], np.inf)


def _detours(g: WalkGraph, public: np.ndarray, node: np.ndarray,
             limit: float) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Network distances (up to ``limit``) from each public dead end, square by square.

    Every path of length at most ``limit`` from a dead end stays within ``limit`` of it in a
    straight line (no edge is shorter than its chord), so a Dijkstra on the nodes within
    ``limit`` of the square finds each such distance as the whole network does (the same sums
    along the same paths); beyond ``limit`` both say ``inf``. The work per dead end then no
    longer grows with the city.

    Yields
    ------
    tuple of (rows, local nodes, distances)
        ``rows`` index ``public``'s dead ends, ``local`` the sorted global node ids of the part,
        ``distances`` one row per dead end over ``local``.
    """
    if len(public) == 0:
        return
    x, y = g.node_x[node[public]], g.node_y[node[public]]
    cell = np.floor(x / _TILE_M).astype(np.int64) * 1_000_003 + np.floor(y / _TILE_M).astype(np.int64)
    order = np.argsort(cell, kind="stable")
    bounds = np.flatnonzero(np.diff(cell[order])) + 1
    squares = np.split(order, bounds)
    margin = limit + 1.0
    by_x = np.argsort(g.node_x, kind="stable")  # each square looks at its own strip, not the city
    sorted_x = g.node_x[by_x]
    for square in bar(squares, "dead-end detours", "square"):
        rows = public[square]
        sx, sy = x[square], y[square]
        strip = by_x[np.searchsorted(sorted_x, sx.min() - margin, side="left"):
                     np.searchsorted(sorted_x, sx.max() + margin, side="right")]
        ys = g.node_y[strip]
        local = np.sort(strip[(ys >= sy.min() - margin) & (ys <= sy.max() + margin)])
        sub = g.csr[local][:, local]
        chunk = max(1, min(_CHUNK, _BLOCK // max(len(local), 1)))
        sources = np.searchsorted(local, node[rows])
        for lo in range(0, len(rows), chunk):
            dist = dijkstra(sub, directed=True, indices=sources[lo:lo + chunk], limit=limit)
            yield rows[lo:lo + chunk], local, dist


def _measure_links(out: gpd.GeoDataFrame, g: WalkGraph, target_edge: np.ndarray,
                   params: DeadEndParams) -> np.ndarray:
    """Reachability, detour ratio and the walk saved by each link (in place); returns each
    one's detour as scored (capped, or the unreachable one's)."""
    has = out["gap_m"].notna().to_numpy()
    gap = out["gap_m"].to_numpy(float)
    detour = out["detour_m"].to_numpy(float)
    node = out["node"].to_numpy(int)
    reachable = np.ones(len(out), dtype=bool)
    linked = target_edge >= 0
    reachable[linked] = g.component[g.edge_u[target_edge[linked]]] == g.component[node[linked]]
    out["reachable"] = reachable
    counted = np.where(reachable, np.minimum(detour, params.max_detour_m), params.unreachable_detour_m)
    detour = np.where(np.isfinite(detour), detour, np.nan)
    out["detour_m"] = detour
    out["detour_ratio"] = detour / np.maximum(gap, _MIN_GAP)
    out["saved_m"] = np.where(has, np.maximum(counted - gap, 0.0), np.nan)
    return counted


def _score_and_rank(out: gpd.GeoDataFrame, has: np.ndarray, params: DeadEndParams) -> None:
    """Score every candidate and rank the openings, one per road piece (in place)."""
    gap = out["gap_m"].to_numpy(float)
    weight = params.min_weight + (1 - params.min_weight) * out["residential_share"].fillna(0).to_numpy()
    barrier = np.where(out["crosses_water"].to_numpy(bool) | out["crosses_railway"].to_numpy(bool),
                       params.barrier_factor, 1.0)
    out["score"] = np.where(has, out["saved_m"].to_numpy(float) * weight * barrier, np.nan)
    ranked = out.loc[has].sort_values(["score", "gap_m"], ascending=[False, True])
    ramp = out["highway"].isin(list(params.unranked_highways)).to_numpy()
    unranked = (gap <= params.almost_junction_m) | ramp
    ranked = ranked.loc[~unranked[out.index.get_indexer(ranked.index)]]
    node_of = dict(zip(out["id"], out["node"], strict=True))
    piece = []
    for a, b, j, other in zip(ranked["node"], ranked["far_node"], ranked["junction_node"],
                              ranked["pairs_with"], strict=True):
        if j < 0:  # an isolated piece: both ends are dead ends of one road
            piece.append((min(a, b), max(a, b)))
        elif other:  # two dead ends facing each other: one link opens both
            piece.append((min(a, node_of[other]), max(a, node_of[other])))
        else:
            piece.append((a, -1))
    ranked = ranked.loc[~pd.Series(piece, index=ranked.index).duplicated().to_numpy()]
    out.loc[ranked.index, "rank"] = np.arange(1, len(ranked) + 1)


def _mutual_pairs(out: gpd.GeoDataFrame, target_edge: np.ndarray, seg_edges: list[set[int]]) -> np.ndarray:
    """The id of the dead end facing each one (each one's link lands on the other's segment)."""
    owner: dict[int, int] = {}
    for i, edges in enumerate(seg_edges):
        if out["category"].iat[i] == "public":
            for e in edges:
                owner.setdefault(e, i)
    pairs = np.full(len(out), "", dtype=object)
    for i, e in enumerate(target_edge):
        j = owner.get(int(e), -1) if e >= 0 else -1
        if j >= 0 and j != i and target_edge[j] in seg_edges[i]:
            pairs[i] = out["id"].iat[j]
    return pairs


def _data_checks(out: gpd.GeoDataFrame, has: np.ndarray, gap: np.ndarray,
                 params: DeadEndParams) -> np.ndarray:
    checks = np.full(len(out), "", dtype=object)
    isolated = out["isolated"].to_numpy(bool)
    island = out["island"].to_numpy(bool) if "island" in out else np.zeros(len(out), bool)
    almost = has & (gap <= params.almost_junction_m)
    for i in range(len(out)):
        notes = []
        if almost[i]:
            notes.append(f"ends {gap[i]:.1f} m from {out['target_name'].iat[i] or 'a road'} "
                         "without a shared node: probably a mapping error")
        if isolated[i]:
            notes.append("isolated piece of road: check whether it connects in reality")
        elif island[i]:
            notes.append("not connected to the main network")
        if out["highway"].iat[i] in params.unranked_highways:
            notes.append(f"a {out['highway'].iat[i]} ramp cannot end: check the data")
        checks[i] = "; ".join(notes)
    return checks


def _segment_edges(net: RoadNetwork, dead_ends: gpd.GeoDataFrame) -> list[set[int]]:
    """The edges of each dead end's own segment (never a target)."""
    g = net.graph
    assert g is not None
    tree = shapely.STRtree(g.edge_geometry)
    segs = dead_ends.geometry.to_numpy()
    i_seg, i_edge = tree.query(segs, predicate="covers")
    found: list[set[int]] = [set() for _ in range(len(segs))]
    for i, e in zip(i_seg, i_edge, strict=True):
        found[int(i)].add(int(e))
    return found


def _best_target(
    i: int,
    end: shapely.Point,
    dist: _Row,
    tree: shapely.STRtree,
    targets: np.ndarray,
    own: set[int],
    net: RoadNetwork,
    settings: DeadEndSettings,
) -> tuple[float, float, int, shapely.Point] | None:
    """The nearest qualifying target (gap, detour, edge, point), or None."""
    g = net.graph
    assert g is not None
    hits = tree.query(end, predicate="dwithin", distance=settings.candidate_radius_m)
    if len(hits) == 0:
        return None
    edges = targets[hits]
    keep = np.array([e not in own for e in edges], dtype=bool)
    edges = edges[keep]
    if len(edges) == 0:
        return None
    geoms = g.edge_geometry[edges]
    gap = shapely.distance(end, geoms)
    along = shapely.line_locate_point(geoms, end)
    length = g.edge_length[edges]
    detour = np.minimum(dist[g.edge_u[edges]] + along, dist[g.edge_v[edges]] + (length - along))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(gap > 0, detour / gap, np.inf)
    ok = (detour > settings.connected_hop_m) & (ratio >= settings.min_detour_ratio)
    if not ok.any():
        return None
    cand = np.flatnonzero(ok)
    j = cand[np.lexsort((-detour[cand], gap[cand]))[0]]
    point = shapely.line_interpolate_point(geoms[j], along[j])
    return float(gap[j]), float(detour[j]), int(edges[j]), point


def _residential_share(ends: np.ndarray, residential: gpd.GeoDataFrame | None, radius: float) -> np.ndarray:
    """Share of a circle of ``radius`` around each end covered by residential land."""
    share = np.zeros(len(ends))
    if residential is None or len(residential) == 0 or len(ends) == 0:
        return share
    polys = residential.geometry.to_numpy()
    circles = shapely.buffer(ends, radius, quad_segs=16)
    tree = shapely.STRtree(polys)
    i_c, i_p = tree.query(circles, predicate="intersects")
    if len(i_c) == 0:
        return share
    # each circle's polygons as one slice of the pairs sorted by circle (order kept within a
    # circle), not a mask over all pairs per circle
    order = np.argsort(i_c, kind="stable")
    i_c, i_p = i_c[order], i_p[order]
    starts = np.flatnonzero(np.r_[True, i_c[1:] != i_c[:-1]])
    stops = np.r_[starts[1:], len(i_c)].astype(int)
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        i = int(i_c[a])
        covered = shapely.intersection(shapely.union_all(polys[i_p[a:b]]), circles[i])
        share[i] = shapely.area(covered) / shapely.area(circles[i])
    return np.clip(share, 0.0, 1.0)


def _blocking_rail(railways: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if railways is None or len(railways) == 0 or "kind" not in railways:
        return railways
    return railways.loc[~railways["kind"].astype(str).isin(_NOT_BARRIER_RAIL)]


def _crosses(lines: np.ndarray, layers: list[gpd.GeoDataFrame | None]) -> np.ndarray:
    hit = np.zeros(len(lines), dtype=bool)
    for layer in layers:
        if layer is None or len(layer) == 0:
            continue
        tree = shapely.STRtree(layer.geometry.to_numpy())
        i_line, _ = tree.query(lines, predicate="intersects")
        hit[np.unique(i_line)] = True
    return hit


def _links(
    out: gpd.GeoDataFrame, links: list[tuple[int, shapely.LineString]], crs: object
) -> gpd.GeoDataFrame:
    cols = ["id", "district", "rank", "name", "length_m", "gap_m", "reachable", "detour_m",
            "detour_ratio", "saved_m", "score", "crosses_water", "crosses_railway",
            "detour_near_data_edge", "target_source_id", "target_highway", "target_name"]
    if not links:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols},
                                geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    rows = [i for i, _ in links]
    frame = out.iloc[rows]
    data = {c: frame[c].to_numpy() if c in frame else "" for c in cols}
    data["length_m"] = frame["gap_m"].to_numpy()  # the proposed link's length
    result = gpd.GeoDataFrame(data, geometry=[g for _, g in links], crs=crs)
    return result.sort_values("rank").reset_index(drop=True)
