"""Connectivity of the public road network per district.

Measures (public road network, parts inside each district):

``road_km``, ``road_density``
    Length of public roads (km) and km per km² of district area.
``intersections``, ``intersection_density``
    Nodes of degree >= 3 and their count per km².
``dead_end_nodes``, ``dead_end_share``
    Degree-1 nodes that are not edge artifacts, and their share of all street nodes
    (nodes of degree other than 2, edge artifacts left out: those roads go on beyond the data).
``link_node_ratio``
    Links / nodes of the simplified network (nodes of degree other than 2, each link joining
    two of them): sum of node degrees / 2 / nodes. 1.0 is a tree of stubs; a grid is near 2;
    1.4 is a common planning threshold for a connected street network. A link to a road's
    end at the data's edge counts half, as a link across a district line counts half on
    each side: the road goes on to a node beyond, which is not counted (so on a small
    extract the ratio is a little higher than links over all nodes of the cut network).
``n_<category>``, ``public_<road_class>``
    Dead ends by category, and public dead ends by road class.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._clip import parts_inside
from geoplan._groups import frames_by, positions_by_value
from geoplan.deadends.detect import CATEGORIES, RoadNetwork

ROAD_CLASSES = ("main", "general", "service", "other")


def assign_districts(points: np.ndarray, districts: gpd.GeoDataFrame) -> np.ndarray:
    """The district name of each point ('' outside every district; first match on overlaps)."""
    names = np.full(len(points), "", dtype=object)
    if len(points) == 0 or len(districts) == 0:
        return names
    polys = districts.geometry.to_numpy()
    i_pt, i_d = shapely.STRtree(polys).query(points, predicate="intersects")
    order = np.argsort(i_d, kind="stable")[::-1]  # so the first district wins when assigning
    names[i_pt[order]] = districts["district"].to_numpy()[i_d[order]]
    return names


def connectivity_table(
    net: RoadNetwork,
    dead_ends: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """Per-district connectivity of the public road network.

    Parameters
    ----------
    net
        The public road network.
    dead_ends
        All detected dead ends (artifacts included) with a ``district`` column.
    districts
        Districts with ``district`` and ``area_m2``; a district with no roads gets zeros.

    Returns
    -------
    pandas.DataFrame
        One row per district; columns as described in the module docstring.
    """
    g = net.graph
    rows = []
    artifact_nodes = set()
    if len(dead_ends):
        artifact_nodes = set(dead_ends.loc[dead_ends["category"] == "edge_artifact", "node"].astype(int))
    if g is not None:
        node_pts = shapely.points(g.node_x, g.node_y)
        node_district = assign_districts(node_pts, districts)
        edge_tree = shapely.STRtree(g.edge_geometry)
        street = net.degree != 2
        if artifact_nodes:
            street[list(artifact_nodes)] = False
        street_district = np.array(node_district, dtype=object)
        street_district[~street] = None
        street_rows = positions_by_value(street_district)
    # each district's nodes and dead ends, grouped once (not compared city-wide per district)
    de_rows = frames_by(dead_ends, "district")
    for _, d in districts.iterrows():
        area_m2 = d["area_m2"] if "area_m2" in d and pd.notna(d["area_m2"]) else d.geometry.area
        area_km2 = float(area_m2) / 1e6
        row: dict[str, object] = {"district": d["district"], "area_km2": area_km2}
        if g is not None:
            hit = edge_tree.query(d.geometry, predicate="intersects")
            km = float(shapely.length(parts_inside(
                g.edge_geometry[hit], np.full(len(hit), d.geometry, dtype=object))).sum()) / 1000
            deg = net.degree[street_rows.get(d["district"], np.zeros(0, dtype=np.int64))]
            inter = int((deg >= 3).sum())
            ends = int((deg == 1).sum())
            n_nodes = len(deg)
            links = deg.sum() / 2
        else:
            km, inter, ends, n_nodes, links = 0.0, 0, 0, 0, 0.0
        row.update({
            "road_km": km,
            "road_density": km / area_km2 if area_km2 > 0 else np.nan,
            "intersections": inter,
            "intersection_density": inter / area_km2 if area_km2 > 0 else np.nan,
            "dead_end_nodes": ends,
            "dead_end_share": ends / n_nodes if n_nodes else np.nan,
            "link_node_ratio": links / n_nodes if n_nodes else np.nan,
        })
        mine_de = de_rows.get(d["district"], dead_ends.iloc[:0])
        for cat in CATEGORIES:
            row[f"n_{cat}"] = int((mine_de["category"] == cat).sum()) if len(mine_de) else 0
        public = mine_de.loc[mine_de["category"] == "public"] if len(mine_de) else mine_de
        for cls in ROAD_CLASSES:
            row[f"public_{cls}"] = int((public["road_class"] == cls).sum()) if len(public) else 0
        rows.append(row)
    return pd.DataFrame(rows)
