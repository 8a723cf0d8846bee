"""geoplan's walking network: build the graph, snap points to edges, and measure walking distances.

The hot path is :func:`nearest_distance`: for one facility kind, the walking distance from every
demand point to the nearest facility within a limit, by one multi-source Dijkstra in compiled code
on CSR arrays.
"""

from __future__ import annotations

from geoplan.network.engine import (
    nearest_distance,
    nearest_distances,
    node_distance,
    point_distance,
    to_networkx,
)
from geoplan.network.graph import WalkGraph, build_walk_graph, check_projected_crs
from geoplan.network.reach import reached_edges
from geoplan.network.snap import Snapped, snap_points

__all__ = [
    "Snapped",
    "WalkGraph",
    "build_walk_graph",
    "check_projected_crs",
    "nearest_distance",
    "nearest_distances",
    "node_distance",
    "point_distance",
    "reached_edges",
    "snap_points",
    "to_networkx",
]
