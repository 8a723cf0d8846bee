"""A whole city cut into chunks of districts, each measured with its margin as the city would be.

A district's coverage depends only on what lies within the context margin of it (the largest
radius and the facility snapping distance, :func:`geoplan.layers.load.context_margin`), and on
a few facts of the whole city that no margin holds. :func:`plan_chunks` groups the districts
into compact chunks of about :data:`CHUNK_WALKWAYS` walkways each; :class:`CityView` is what
one chunk is told of the city so that it measures its districts exactly as the whole city's
run would:

* its layers: every feature meeting the chunk's districts grown by :func:`chunk_margin`,
  whole (never clipped, so every walkway keeps its vertices), in the city's order, with the
  city row of each;
* how many facilities each standard's sets have in the city (a life-circle item with none
  near the chunk still has data: its absence there is a gap, not "no data");
* every facility's access points, found once for the city (a park's gates and the walkways
  near its outline may lie beyond the chunk), each counted by the chunk of its nearest
  district;
* which walking-graph nodes are in the city's main components (the chunk's own largest
  component may miss a link beyond its margin, and snapping keeps homes off fragments);
* the population source, chosen for the city (:func:`geoplan.coverage.population.choose_source`).

:mod:`geoplan.coverage.chunked` runs the chunks and puts their results together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from geoplan.config import FACILITY_SNAP_FACTOR
from geoplan.coverage.access import access_points, as_reached
from geoplan.coverage.population import SourceChoice
from geoplan.coverage.reach import REACH_BUFFER_M

if TYPE_CHECKING:
    from geoplan.layers.layerset import LayerSet
    from geoplan.network import WalkGraph
    from geoplan.standards import FacilitySet, Standard

logger = logging.getLogger(__name__)

__all__ = ["CHUNK_WALKWAYS", "CityAccess", "CityView", "chunk_layers", "chunk_margin",
           "city_access", "facility_counts", "in_input", "main_nodes", "plan_chunks"]

CHUNK_WALKWAYS = 10_000
"""Walkway features per chunk, about (4 tiles of the embedded extract). Smaller chunks hold
less and cost no more: the 64-tile city's coverage, two chunks at a time, took 127 s, 242 CPU
s and 976 MB peak in chunks of 10,000 walkways, and 137 s, 264 CPU s and 1,579 MB in chunks of
40,000 (the margins' extra work is small beside the district passes)."""


def chunk_margin(layerset: LayerSet, max_snap_m: float) -> float:
    """How far beyond its districts a chunk keeps features, in metres.

    The context margin (largest radius + facility snapping distance) and once more the
    snapping distance: an access point that can serve a district lies within the margin of
    it, and every walkway it may snap to within the snapping distance of the point. Plus the
    reach areas' buffer and a metre per hundred of slack.
    """
    margin = float(layerset.margin_m) + FACILITY_SNAP_FACTOR * float(max_snap_m)
    return margin + REACH_BUFFER_M + 0.01 * margin


def plan_chunks(districts: Any, walkways: Any, budget: int = CHUNK_WALKWAYS) -> list[np.ndarray]:
    """The districts cut into compact chunks of at most about ``budget`` walkways each.

    Recursive halving: the districts' centres are split across the longer side of their
    box, where the walkways (weighed by the districts they meet) divide in two, until each
    part holds at most ``budget``; a single district is never split.

    Parameters
    ----------
    districts
        The city's districts (GeoDataFrame), in the run's order.
    walkways
        The walkways layer (GeoDataFrame).
    budget
        Walkways a chunk may hold, about.

    Returns
    -------
    list of numpy.ndarray
        The district positions of each chunk, ascending; chunks ordered along the cuts.
    """
    geoms = districts.geometry.to_numpy()
    n = len(geoms)
    weight = np.ones(n)
    if len(walkways):
        di, _ = shapely.STRtree(walkways.geometry.to_numpy()).query(geoms, predicate="intersects")
        weight += np.bincount(di, minlength=n)
    inside = shapely.point_on_surface(geoms)
    # a district with nothing inside the data has no inside point: placed at (0, 0)
    centre = np.nan_to_num(np.c_[shapely.get_x(inside), shapely.get_y(inside)])
    out: list[np.ndarray] = []

    def cut(members: np.ndarray) -> None:
        if len(members) <= 1 or weight[members].sum() <= budget:
            out.append(np.sort(members))
            return
        xy = centre[members]
        axis = int(np.argmax(xy.max(axis=0) - xy.min(axis=0)))
        order = members[np.argsort(xy[:, axis], kind="stable")]
        half = np.cumsum(weight[order]) <= weight[members].sum() / 2.0
        k = min(max(int(half.sum()), 1), len(order) - 1)
        cut(order[:k])
        cut(order[k:])

    cut(np.arange(n))
    return out


def chunk_layers(layerset: LayerSet, chunks: list[np.ndarray], margin: float,
                 ) -> list[tuple[Any, dict[str, np.ndarray]]]:
    """The rows of each layer every chunk keeps: (its context area, layer -> city rows).

    A feature is kept whole when it meets the chunk's districts grown by ``margin``; the
    ``districts`` layer keeps the chunk's own districts. Each layer's index is built once
    for all chunks.
    """
    dgeoms = layerset.districts.geometry.to_numpy()
    areas = [shapely.intersection(shapely.buffer(shapely.union_all(dgeoms[c]), margin),
                                  layerset.context_area) for c in chunks]
    rows: list[dict[str, np.ndarray]] = [{"districts": c} for c in chunks]
    for name, frame in layerset.layers.items():
        if name == "districts":
            continue
        geoms = frame.geometry.to_numpy()
        if not len(geoms):
            for r in rows:
                r[name] = np.zeros(0, dtype=np.int64)
            continue
        tree = shapely.STRtree(geoms)
        for area, r in zip(areas, rows, strict=True):
            r[name] = np.unique(tree.query(area, predicate="intersects")).astype(np.int64)
        del tree
    return list(zip(areas, rows, strict=True))


def subset_layerset(layerset: LayerSet, area: Any, rows: dict[str, np.ndarray]) -> LayerSet:
    """The layer set of one chunk: the rows ``rows`` keeps of each layer, in the city's order."""
    layers = {name: frame.iloc[rows[name]].reset_index(drop=True)
              for name, frame in layerset.layers.items()}
    return replace(layerset, layers=layers,
                   study_area=shapely.union_all(layers["districts"].geometry.to_numpy()),
                   context_area=area, issues=layerset.issues.iloc[:0], osm_context=None)


def in_input(layerset: LayerSet, std: Standard, fs: FacilitySet) -> bool:
    """Whether the input files hold a facility of set ``fs`` of ``std`` with a radius
    anywhere, not only near the districts (:attr:`~geoplan.layers.LayerSet.in_data`): an
    item with none near is then a gap that scores 0, not an item without data."""
    frame = layerset.in_data.get(fs.layer)
    if frame is None or not len(frame):
        return False
    rows = frame.iloc[np.flatnonzero(fs.select(frame))]
    radii = std.radii_for(rows).astype(float)
    return bool((np.isfinite(radii) & (radii > 0)).any())


def facility_counts(layerset: LayerSet, stds: list[Standard]) -> dict[tuple[str, int], int]:
    """Facilities of each standard's sets in the city, by (standard id, set position), as
    the coverage counts them (rows the set selects with a radius)."""
    out = {}
    for std in stds:
        for k, fs in enumerate(std.facility_sets):
            layer = layerset[fs.layer]
            rows = layer.iloc[np.flatnonzero(fs.select(layer))].reset_index(drop=True)
            radii = std.radii_for(rows).astype(float)
            out[(std.id, k)] = int((np.isfinite(radii) & (radii > 0)).sum())
    return out


@dataclass
class CityAccess:
    """Every facility's access points, found once for the whole city.

    Attributes
    ----------
    points
        Per (layer, reached-from mode): the access points, the city row of the facility of
        each (ascending), and the chunk of the district nearest each point (the one that
        counts it).
    """

    points: dict[tuple[str, str | None], tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict)


def city_access(layerset: LayerSet, stds: list[Standard], chunks: list[np.ndarray]) -> CityAccess:
    """The access points (:func:`geoplan.coverage.access.access_points`) of every facility
    any standard's set selects, per layer and mode, with the chunk that counts each."""
    chunk_of = np.zeros(len(layerset.districts), dtype=np.int64)
    for c, members in enumerate(chunks):
        chunk_of[members] = c
    district_tree = shapely.STRtree(layerset.districts.geometry.to_numpy())
    wanted: dict[tuple[str, str | None], np.ndarray] = {}
    for std in stds:
        for fs in std.facility_sets:
            key = (fs.layer, fs.reached_from_for(layerset.reached_from))
            rows = np.flatnonzero(fs.select(layerset[fs.layer]))
            wanted[key] = np.union1d(wanted.get(key, np.zeros(0, np.int64)), rows)
    out = CityAccess()
    for (layer, mode), rows in wanted.items():
        frame = as_reached(layerset[layer].iloc[rows].reset_index(drop=True), mode)
        pts, owner, _ = access_points(frame, layerset["entrances"], layerset["walkways"])
        order = np.argsort(owner, kind="stable")
        pts, owner = pts[order], owner[order]
        near = (district_tree.query_nearest(pts, all_matches=False)[1] if len(pts)
                else np.zeros(0, np.int64))
        out.points[(layer, mode)] = (pts, rows[owner].astype(np.int64), chunk_of[near])
    return out


def main_nodes(walkways: Any, districts: Any = None) -> tuple[np.ndarray, dict[str, float]]:
    """The nodes of the city's main walking components (x + iy, sorted; each district's
    largest is one) and the city graph's summary
    (:meth:`~geoplan.network.WalkGraph.summary`)."""
    from geoplan.network import build_walk_graph

    if not len(walkways):
        return np.zeros(0, dtype=np.complex128), {}
    areas = districts.geometry.to_numpy() if districts is not None else None
    graph = build_walk_graph(walkways, areas=areas)
    main = graph.node_in_main
    nodes = (graph.node_x[main] + 0.0) + 1j * (graph.node_y[main] + 0.0)
    return np.sort(nodes), graph.summary()


@dataclass
class CityView:
    """What one chunk of a city's districts is told of the whole city (see the module notes).

    Attributes
    ----------
    chunk
        The chunk's number.
    district_positions
        The city position of each of the chunk's districts.
    row_of
        Per layer, the city row of each of the chunk's rows.
    facility_counts
        :func:`facility_counts` of the city.
    population
        The city's population source (None without residential demand).
    access
        :func:`city_access` of the city.
    main
        The city's main-component nodes (:func:`main_nodes`).
    reached_from
        The layer set's reached-from modes.
    in_input
        Of the sets the city has no facility of, by (standard id, set position): whether the
        input holds one farther away (:func:`in_input`, found once for the city).
    """

    chunk: int
    district_positions: np.ndarray
    row_of: dict[str, np.ndarray]
    facility_counts: dict[tuple[str, int], int]
    population: SourceChoice | None
    access: CityAccess
    main: np.ndarray
    reached_from: dict[str, str]
    in_input: dict[tuple[str, int], bool] = field(default_factory=dict)

    def mark_main_edges(self, graph: WalkGraph) -> None:
        """Mark the chunk graph's edges in the city's main components as its main edges."""
        nodes = (graph.node_x + 0.0) + 1j * (graph.node_y + 0.0)
        in_main = np.isin(nodes, self.main, assume_unique=False)
        graph.__dict__["edge_in_main"] = in_main[graph.edge_u]

    def access_points(self, fs: FacilitySet, chosen: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The access points of the set's rows ``chosen`` (in the chunk's layer): the points,
        the position among ``chosen`` of each one's facility, and whether this chunk counts
        it."""
        key = (fs.layer, fs.reached_from_for(self.reached_from))
        city_rows = self.row_of[fs.layer][np.asarray(chosen, dtype=np.int64)]
        pts, owner, chunk = self.access.points[key]
        sel = np.isin(owner, city_rows)
        return (pts[sel], np.searchsorted(city_rows, owner[sel]).astype(np.int64),
                chunk[sel] == self.chunk)


def district_order(names: pd.Series | np.ndarray) -> dict[str, int]:
    """District name -> position."""
    return {str(n): i for i, n in enumerate(names)}
