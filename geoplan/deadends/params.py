"""Dead-end parameters that are not in :class:`geoplan.config.DeadEndSettings`.

The config model carries the thresholds a planner sets per analysis (``edge_tolerance_m``,
``candidate_radius_m``, ``min_detour_ratio``, ``connected_hop_m``, ``targets``, ``min_opened``).
Every other threshold of the dead-end analysis lives here, with a default and the reason for it,
so that nothing is a magic number buried in code. Pass a changed copy as ``params=`` to
:func:`geoplan.deadends.run_deadends` (``dataclasses.replace(DeadEndParams(), gate_distance_m=30)``).
"""

from __future__ import annotations

from dataclasses import dataclass

PUBLIC_HIGHWAYS: frozenset[str] = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified", "residential",
    "living_street", "pedestrian", "road", "busway", "service",
})
"""``highway`` values of the public road network (drivable roads and public pedestrian streets).

Tracks, footways, paths, cycleways and steps are not roads for 断头路 purposes. ``service`` is in
the graph (so a street continuing as an unnamed service road is not cut off) only when the way
is public (no ``service=driveway/parking_aisle/...``, no ``access=private/no``: the layer's
``is_public`` column); dead ends of service roads are reported apart (category ``service``)."""


@dataclass(frozen=True)
class DeadEndParams:
    """Thresholds of the dead-end analysis beyond :class:`~geoplan.config.DeadEndSettings`.

    Attributes
    ----------
    public_highways
        ``highway`` values making up the public network (see :data:`PUBLIC_HIGHWAYS`).
    include_service
        Keep public ``highway=service`` ways in the graph (default True). With False, a street
        that continues as a service road counts as ending there.
    noexit_tolerance_m
        A dead-end node within this distance of an OSM node tagged ``noexit=yes`` is a
        cul-de-sac by design (the tag sits on the end node; 1 m absorbs projection rounding).
    gate_distance_m
        A dead end within this distance of a ``barrier=gate``/``lift_gate``/``entrance`` node
        ends at a compound gate (category ``private_compound``). 20 m: a gate is usually drawn
        on the compound boundary a few metres from where the public street stops.
    compound_inside_share
        A dead-end segment with at least this share of its length inside a compound (a small
        residential polygon or facility grounds) is a compound road, not a public street.
    compound_max_area_m2
        Residential polygons larger than this (30 ha) are treated as neighbourhood outlines,
        not one gated 小区: in OSM China such polygons often cover whole blocks with public
        streets inside.
    catchment_m
        Radius around a dead end in which residential land weights its score.
    min_weight
        Weight of a dead end with no residential land nearby (a link still helps passers-by).
        The weight grows linearly to 1 with the residential share of the catchment.
    barrier_factor
        Score multiplier when the proposed link crosses water or a railway (a bridge or an
        underpass costs far more than a street).
    max_detour_m
        Network searches stop here; a target farther away (or in another component) counts as
        this detour when scoring, and its ``detour_m`` is reported as infinite.
    exclude_target_highways
        Roads a new link cannot join at grade (motorways and their ramps).
    exclude_target_structures
        Do not propose links onto bridges or into tunnels.
    target_service
        Whether public service roads may be link targets (default False: opening onto a
        parking access road is not what 打通断头路 means).
    match_tolerance_m
        Progress: a baseline dead end matches the current network within this distance.
    unreachable_detour_m
        Detour counted for scoring when the target cannot be reached at all (the dead end is on
        an island of the public network). The data cannot tell that detour: the island may
        connect outside the extract, through private ways, or not at all, so it counts as a
        moderate 1 km rather than the search limit (which would put every island first).
    almost_junction_m
        An end this close to another public road without a shared node is put in category
        ``data_check`` (shown apart, never ranked): on real data such ends 4.5 m and 10.9 m
        from a main road were mapping gaps (a way drawn to the road but not joined to it),
        not 断头路 to open. 12 m: wider than a pavement, narrower than a block.
    unranked_highways
        Dead ends of these roads are listed and flagged but not ranked: a motorway ramp that
        stops is a gap in the data (or a ramp under construction), not a street to open.
    """

    public_highways: frozenset[str] = PUBLIC_HIGHWAYS
    include_service: bool = True
    noexit_tolerance_m: float = 1.0
    gate_distance_m: float = 20.0
    compound_inside_share: float = 0.5
    compound_max_area_m2: float = 300_000.0
    catchment_m: float = 300.0
    min_weight: float = 0.25
    barrier_factor: float = 0.5
    max_detour_m: float = 5000.0
    exclude_target_highways: frozenset[str] = frozenset({"motorway", "motorway_link"})
    exclude_target_structures: bool = True
    target_service: bool = False
    match_tolerance_m: float = 10.0
    unreachable_detour_m: float = 1000.0
    almost_junction_m: float = 12.0
    unranked_highways: frozenset[str] = frozenset({"motorway", "motorway_link"})
