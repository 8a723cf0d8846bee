"""The state shared by every standard of one coverage run.

:class:`CoverageContext` holds the demand pieces, their population weights, the walking graph
and the snapped demand points, built once per run; it caches access points, covered flags and
reached edges per facility set so that standards sharing facilities (the parks of 300米见绿 and
500米见园, the schools of a life circle) route once. :mod:`geoplan.coverage.engine` and
:mod:`geoplan.coverage.people` both read it.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from geoplan._groups import positions_by_code
from geoplan._memory import release_if_large, status_mb
from geoplan.config import FACILITY_SNAP_FACTOR, DemandSettings
from geoplan.coverage.access import access_points
from geoplan.coverage.demand import Demand, demand_lines, residential_grid, residential_land, street_samples
from geoplan.coverage.population import PopulationWeights, population_weights
from geoplan.coverage.reached import REACHED_EDGES_AUTO_MAX, REACHED_SIMPLIFY_M, ReachedPieces
from geoplan.coverage.walk_bands import NEAR_FACTOR, BandLayout, band_codes, band_layout
from geoplan.standards import FacilitySet, Standard

if TYPE_CHECKING:
    from geoplan.coverage.chunks import CityView
    from geoplan.coverage.city_facts import CityFacts
    from geoplan.layers.layerset import LayerSet

__all__ = ["REACHED_SIMPLIFY_M", "CoverageContext", "Timer", "set_key"]

class Timer:
    """Seconds per step of a run (wall and CPU), added up lap by lap, and the memory seen.

    ``rss_mb`` holds, per step, the largest resident memory of the process at the end of one
    of its laps (Linux; absent elsewhere): not a true peak, but where each step leaves it.
    """

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.rss_mb: dict[str, float] = {}
        self._t = time.perf_counter()
        self._c = time.process_time()

    def lap(self, step: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.timings[step] = self.timings.get(step, 0.0) + now - self._t
        self.cpu[step] = self.cpu.get(step, 0.0) + cpu - self._c
        release_if_large()  # each sub-step's shapes are freed: a city gives the pages back
        rss = status_mb("VmRSS")
        if rss is not None:
            self.rss_mb[step] = max(self.rss_mb.get(step, 0.0), rss)
        self._t, self._c = now, cpu


def set_key(fs: FacilitySet, rows: np.ndarray | None = None) -> str:
    """Cache key of a facility set (and of the layer rows it kept, when given)."""
    parts: list[Any] = [fs.layer, fs.filter]
    if fs.reached_from is not None:  # a standard's own choice reaches the same rows elsewhere
        parts.append(fs.reached_from)
    key = json.dumps(parts, sort_keys=True, default=str)
    if rows is not None:
        key += ":" + hashlib.sha1(np.asarray(rows, dtype=np.int64).tobytes()).hexdigest()
    return key


class CoverageContext:
    """State shared by all standards of one run: demand, weights, graph, snapped points."""

    def __init__(self, layerset: LayerSet, settings: DemandSettings, kinds: set[str],
                 timer: Timer, city: CityView | None = None, facts: CityFacts | None = None
                 ) -> None:
        from geoplan.network import build_walk_graph, snap_points

        self.layers = layerset
        # one chunk of a city's districts: what it is told of the whole city
        # (geoplan.coverage.chunks); None when the run is the whole city
        self.city = city
        # some districts of a city measured on their own (a batch job): the whole city's
        # figures they take as they are (geoplan.coverage.city_facts)
        self.facts = facts
        self.settings = settings
        self.districts = layerset.districts.reset_index(drop=True)
        self.n_d = len(self.districts)
        self.crs = self.districts.crs
        self.demand: dict[str, Demand] = {}
        self.land = residential_land(layerset["residential"], self.districts)
        for kind in sorted(kinds):
            if kind == "residential":
                self.demand[kind] = residential_grid(layerset["residential"], self.districts,
                                                     settings.grid_m, land=self.land)
            else:
                self.demand[kind] = street_samples(demand_lines(layerset.layers, kind),
                                                   self.districts, kind, settings.street_sample_m)
        timer.lap("demand")
        self.population: PopulationWeights | None = None
        if "residential" in self.demand:
            self.population = population_weights(
                self.demand["residential"], layerset, settings,
                city.population if city is not None else None,
                facts.census if facts is not None else None)
        timer.lap("population")
        walk = layerset["walkways"]
        # each district's own network is a main one (a district apart from the others); a
        # chunk of a city is told the city's main networks instead (mark_main_edges)
        areas = self.districts.geometry.to_numpy() if city is None else None
        self.graph = (build_walk_graph(walk, report=city is None, areas=areas)
                      if len(walk) else None)
        if self.graph is not None and city is not None:
            city.mark_main_edges(self.graph)
        timer.lap("graph")
        self._snap = snap_points
        self.snapped = {}
        for kind, dem in self.demand.items():
            # coordinates, not a shapely Point per demand piece (millions at city scale)
            self.snapped[kind] = self.snap(np.column_stack(dem.xy()))
        timer.lap("snap demand")
        self._access: dict[str, tuple[np.ndarray, Any]] = {}
        self._owned: dict[str, np.ndarray] = {}
        # band codes (geoplan.coverage.walk_bands) per (demand kind, facility set, radius)
        self._covered: dict[tuple[str, str, float], np.ndarray] = {}
        # and the lowest band over a facility set's radii, per (demand kind, facility set)
        self.bands: dict[tuple[str, str], np.ndarray] = {}
        # reached pieces per (facility set, radius), as arrays (geoplan.coverage.reached),
        # held for the standards that share a set on a small graph, with their lines (made
        # once, as cheap to keep as to remake); a city's are made for each standard that
        # walks them, and their lines built from the graph's edges when its reach areas
        # need them
        self._reached: dict[tuple[str, float], ReachedPieces] = {}
        self._hold_lines = self.graph is not None and self.graph.n_edges <= REACHED_EDGES_AUTO_MAX
        self.simple_edges: np.ndarray | None = (
            np.full(self.graph.n_edges, None, dtype=object)
            if self.graph is not None and self._hold_lines else None)
        self._frames: dict[str, dict[int, tuple[np.ndarray, Any]]] = {}
        self._band_layout: BandLayout | None = None

    def in_input(self, std: Standard, k: int) -> bool:
        """Whether the input files hold a facility of set ``k`` of ``std`` with a radius
        anywhere, not only near these districts (:attr:`~geoplan.layers.LayerSet.in_data`;
        a chunk of a city asks the city, which found it once): an item with none near is
        then a gap that scores 0, not an item without data."""
        if self.city is not None and (std.id, k) in self.city.in_input:
            return self.city.in_input[(std.id, k)]
        from geoplan.coverage.chunks import in_input

        return in_input(self.layers, std, std.facility_sets[k])

    def facility_count(self, sid: str, k: int, here: int) -> int:
        """Facilities of set ``k`` of standard ``sid`` in the city: the city's count in a
        chunk or a batch job (an item with none near these districts still has data), else
        ``here``, the run's own."""
        if self.city is not None:
            return self.city.facility_counts[(sid, k)]
        if self.facts is not None:
            return self.facts.facility_counts.get((sid, k), here)
        return here

    @property
    def band_layout(self) -> BandLayout:
        """Where each residential piece is drawn in the walk bands (made on first use)."""
        if self._band_layout is None:
            self._band_layout = band_layout(self.demand["residential"], self.land,
                                            self.settings.grid_m)
        return self._band_layout

    def district_frames(self, kind: str) -> dict[int, tuple[np.ndarray, Any]]:
        """Per district with demand of ``kind``: its demand rows and a box around them.

        The box is the bounding box of the district's pieces (and, for residential demand, of
        its residential land too), grown by 1 m; computed once per demand kind.
        """
        if kind in self._frames:
            return self._frames[kind]
        dem = self.demand[kind]
        out: dict[int, tuple[np.ndarray, Any]] = {}
        for i, mine in enumerate(positions_by_code(dem.district, self.n_d)):
            if not len(mine):
                continue
            b = shapely.bounds(dem.pieces_of(mine))
            lo, hi = b[:, :2].min(axis=0), b[:, 2:].max(axis=0)
            if not dem.is_linear and not shapely.is_empty(self.land[i]):
                lb = shapely.bounds(self.land[i])
                lo, hi = np.minimum(lo, lb[:2]), np.maximum(hi, lb[2:])
            frame = shapely.box(lo[0] - 1.0, lo[1] - 1.0, hi[0] + 1.0, hi[1] + 1.0)
            out[int(i)] = (mine, frame)
        self._frames[kind] = out
        return out

    def free_reached(self) -> None:
        """Drop the cached reached pieces (once the result holds what it keeps of them)."""
        self._reached.clear()
        self.simple_edges = None

    def snap(self, points: np.ndarray, factor: float = 1.0) -> Any:
        from geoplan.network import Snapped

        n = len(points)
        if self.graph is None or n == 0:
            return Snapped(np.full(n, -1), np.full(n, np.nan), np.full(n, np.nan))
        return self._snap(self.graph, points, max_distance=factor * self.settings.max_snap_m)

    def access(self, key: str, rows: gpd.GeoDataFrame, fs: FacilitySet | None = None,
               chosen: np.ndarray | None = None) -> tuple[np.ndarray, Any]:
        """Facility row position per access point, and the snapped access points.

        ``fs`` and ``chosen`` (the set and its rows in the layer) let a chunk of a city take
        the access points found for the whole city (:meth:`CityView.access_points`): a park's
        gates and the walkways near its outline may lie beyond the chunk.
        """
        if key not in self._access:
            if self.city is not None and fs is not None and chosen is not None:
                pts, owner, mine = self.city.access_points(fs, chosen)
                self._owned[key] = mine
            else:
                pts, owner, _ = access_points(rows, self.layers["entrances"],
                                              self.layers["walkways"])
            self._access[key] = (owner, self.snap(pts, FACILITY_SNAP_FACTOR))
        return self._access[key]

    def owned_access(self, key: str) -> np.ndarray | None:
        """For a chunk of a city: which access points of set ``key`` this chunk counts (each
        point is counted by one chunk); None for the whole city."""
        return self._owned.get(key)

    def covered(self, kind: str, key: str, rows: gpd.GeoDataFrame, radii: np.ndarray,
                fs: FacilitySet | None = None, chosen: np.ndarray | None = None,
                ) -> tuple[np.ndarray, list[ReachedPieces]]:
        """Network-covered flags of the demand of ``kind`` by one facility set.

        Also records in ``bands[(kind, key)]`` the walking-distance band of every demand
        piece (:mod:`geoplan.coverage.walk_bands`): residential land is searched to 1.5 × the
        radius; the flags are the pieces within it (band 0). The reached pieces of the walking
        graph, per radius, come back as arrays (:class:`~geoplan.coverage.reached.ReachedPieces`).
        """
        from geoplan.network import node_distance, point_distance, reached_edges

        dem, dsnap = self.demand[kind], self.snapped[kind]
        band = np.full(len(dem), 2, dtype=np.int8)
        reached: list[ReachedPieces] = []
        self.bands[(kind, key)] = band
        if self.graph is None or len(rows) == 0:
            return band == 0, reached
        owner, fsnap = self.access(key, rows, fs, chosen)
        point_radius = radii[owner] if len(owner) else np.zeros(0)
        factor = 1.0 if dem.is_linear else NEAR_FACTOR
        for r in np.unique(radii[np.isfinite(radii)]):
            ck = (kind, key, float(r))
            sel = (point_radius == r) & fsnap.ok
            if ck not in self._covered:
                if not sel.any():
                    self._covered[ck] = np.full(len(dem), 2, dtype=np.int8)
                else:
                    src = fsnap.subset(sel)
                    limit = factor * float(r)
                    nd = node_distance(self.graph, src, limit)
                    d = point_distance(self.graph, nd, src, dsnap.edge, dsnap.offset, limit)
                    self._covered[ck] = band_codes(d, float(r))
            np.minimum(band, self._covered[ck], out=band)
            rk = (key, float(r))
            if rk in self._reached:
                reached.append(self._reached[rk])
            elif sel.any():
                edges = reached_edges(self.graph, fsnap.subset(sel), float(r))
                pieces = ReachedPieces.from_frame(edges, float(r), self._hold_lines)
                del edges
                reached.append(pieces)
                # a city's are walked again by a later standard that shares the set: held
                # for the whole run, every set's pieces would add up to a few hundred MB
                if self._hold_lines:
                    self._reached[rk] = pieces
        return band == 0, reached
