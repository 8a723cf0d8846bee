"""The shape of a dead-end result: :class:`DeadEndResult` and its tables' columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import geopandas as gpd
import pandas as pd

from geoplan.results._schema import Column, Schema, raise_problems, table_problems
from geoplan.vocab import DEFAULT_UNIT

__all__ = ["CANDIDATES", "CONNECTIVITY", "DEAD_ENDS", "DeadEndResult"]

_CANDIDATE_COLUMNS = (
    Column("gap_m", "float", "m", "Straight-line gap from the end to the target road."),
    Column("reachable", "any", "", "Whether the target road is reachable on the network today."),
    Column("detour_m", "float", "m", "Walk today from the end to the target point."),
    Column("detour_ratio", "float", "ratio", "detour_m / gap_m."),
    Column("saved_m", "float", "m", "detour_m − gap_m: what opening the link saves."),
    Column("score", "float", "", "Opening score (larger = more worth opening)."),
    Column("crosses_water", "any", "", "The link would cross water."),
    Column("crosses_railway", "any", "", "The link would cross a railway."),
    Column("detour_near_data_edge", "any", "",
           "A route beyond the roads walked (the data's edge, or the margin kept around the "
           "districts) could be shorter than detour_m: both ends lie closer to that edge than "
           "the detour is long."),
    Column("target_source_id", "str", "", "OSM id of the road the link would join."),
    Column("target_highway", "str", "", "highway tag of that road."),
    Column("target_name", "str", "", "Name of that road."),
)

_DEAD_END_OWN = {c.name: c for c in (
    Column("district", "str", "", "District name."),
    Column("id", "str", "", "Dead end id (stable within a run)."),
    Column("category", "str", "", "public, noexit or private_compound."),
    Column("highway", "str", "", "highway tag of the dead-end road."),
    Column("road_class", "str", "", "main, general, service or other."),
    Column("name", "str", "", "Road name."),
    Column("length_m", "float", "m", "Length from the end to the first junction."),
    Column("rank", "float", "", "Opening rank (1 = first to open; NaN: not ranked)."),
    Column("data_check", "any", "", "A likely mapping gap rather than a planning gap."),
    Column("pairs_with", "str", "", "Id of another dead end it faces."),
    Column("reason", "str", "", "Why the end got its category."),
    Column("source_id", "str", "", "OSM id of the way."),
    Column("continues_into", "str", "", "What the road runs into (compound, grounds)."),
    Column("isolated", "any", "", "The road is on a network island."),
    Column("island", "any", "", "Island id."),
    Column("residential_share", "float", "share 0–1", "Residential land near the end."),
    Column("end_x", "float", "m", "Easting of the end (analysis CRS)."),
    Column("end_y", "float", "m", "Northing of the end (analysis CRS)."),
    Column("node", "int", "", "Graph node of the end."),
    Column("junction_node", "int", "", "Graph node of its first junction."),
    Column("far_node", "int", "", "Graph node at the far end of the way."),
    *_CANDIDATE_COLUMNS,
)}

DEAD_ENDS = Schema("deadends.dead_ends", tuple(_DEAD_END_OWN[name] for name in (
    "district", "id", "category", "highway", "road_class", "name", "length_m", "gap_m",
    "detour_m", "detour_ratio", "saved_m", "score", "rank", "crosses_water", "crosses_railway",
    "reachable", "detour_near_data_edge", "data_check", "pairs_with", "reason", "source_id",
    "continues_into", "isolated", "island", "residential_share", "target_source_id",
    "target_highway", "target_name", "end_x",
    "end_y", "node", "junction_node", "far_node")), geometry="LineString")

CANDIDATES = Schema("deadends.candidates", (
    Column("id", "str", "", "Dead end id."),
    Column("district", "str", "", "District name."),
    Column("rank", "float", "", "Opening rank."),
    Column("name", "str", "", "Road name."),
    Column("length_m", "float", "m", "Length of the dead-end road."),
    *_CANDIDATE_COLUMNS,
), geometry="LineString")

CONNECTIVITY = Schema("deadends.connectivity", (
    Column("district", "str", "", "District name."),
    Column("road_km", "float", "km", "Public road length."),
    Column("road_density", "float", "km/km²", "Public road length per km² of district."),
    Column("intersections", "int", "nodes", "Nodes of degree ≥ 3."),
    Column("intersection_density", "float", "per km²", "Intersections per km²."),
    Column("dead_end_nodes", "int", "nodes", "Degree-1 nodes that are not edge artifacts."),
    Column("dead_end_share", "float", "share 0–1", "Their share of all street nodes."),
    Column("link_node_ratio", "float", "ratio", "Links per node (1.4 is a common threshold)."),
), extra_columns=True)


@dataclass
class DeadEndResult:
    """Everything the dead-end analysis found.

    Attributes
    ----------
    dead_ends
        One row per dead end inside a district, categories ``public``, ``noexit`` and
        ``private_compound`` (see :mod:`geoplan.deadends.detect`); LineStrings from the end to
        the first junction (:data:`DEAD_ENDS`). Sorted by rank (best first), then category and id.
    candidates
        Proposed links (straight LineStrings from each ranked dead end to its target road,
        :data:`CANDIDATES`).
    connectivity
        Per-district connectivity (:data:`CONNECTIVITY`; plus ``n_<category>`` and
        ``public_<road_class>`` counts).
    progress
        Per-district progress against the baseline, or None without a baseline
        (:func:`geoplan.deadends.progress.progress_table`).
    excluded
        Counts of dead ends left out, each once: ``outside_districts`` (any category), and
        inside the districts by excluded category (these add up to the districts' ``n_service``
        and ``n_edge_artifact``).
    all_dead_ends
        Every degree-1 node with its category, artifacts included (for auditing).
    crs
        The analysis CRS.
    districts
        The districts analysed.
    progress_detail
        Each baseline public dead end with its ``status``, or None.
    unit
        What the districts are called (:attr:`geoplan.layers.LayerSet.unit`).
    """

    dead_ends: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    connectivity: pd.DataFrame
    progress: pd.DataFrame | None
    excluded: dict[str, int]
    all_dead_ends: gpd.GeoDataFrame
    crs: Any = None
    districts: gpd.GeoDataFrame | None = None
    progress_detail: gpd.GeoDataFrame | None = field(default=None)
    unit: str = DEFAULT_UNIT

    SCHEMAS: ClassVar[dict[str, Schema]] = {"dead_ends": DEAD_ENDS, "candidates": CANDIDATES,
                                            "connectivity": CONNECTIVITY}
    """Attribute name -> its :class:`~geoplan.results._schema.Schema`."""

    def validate(self) -> None:
        """Raise :class:`~geoplan._errors.ResultSchemaError` naming every problem at once."""
        raise_problems(table_problems(self, self.SCHEMAS))
