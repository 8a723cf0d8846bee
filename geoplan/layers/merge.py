"""Merge point features that describe one real thing (a bus stop's platform, pole and stop position)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree


def merge_points(points: gpd.GeoDataFrame, distance_m: float) -> gpd.GeoDataFrame:
    """Merge points closer than ``distance_m`` whose names agree (or one has no name).

    The merged record keeps the first named member's attributes, sits at the members'
    mean position, and lists every member in ``members`` with their count in ``n_merged``.
    ``points`` must be in a projected CRS.
    """
    if len(points) < 2:
        return points
    xy = np.column_stack([points.geometry.x, points.geometry.y])
    names = points["name"].fillna("").to_numpy()
    pairs = cKDTree(xy).query_pairs(distance_m, output_type="ndarray")
    ni, nj = names[pairs[:, 0]], names[pairs[:, 1]]
    pairs = pairs[(ni == "") | (nj == "") | (ni == nj)]
    n = len(points)
    links = coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(links, directed=False)
    keep_rows, geoms, members, counts = [], [], [], []
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label).tolist()
        named = [i for i in idx if names[i]]
        head = named[0] if named else idx[0]
        keep_rows.append(head)
        geoms.append(xy[idx].mean(axis=0))
        members.append(";".join(str(points["source_id"].iloc[i]) for i in idx))
        counts.append(len(idx))
    order = np.argsort(keep_rows)
    out = points.iloc[np.asarray(keep_rows)[order]].copy()
    xy_out = np.asarray(geoms)[order]
    out = out.set_geometry(gpd.points_from_xy(xy_out[:, 0], xy_out[:, 1], crs=points.crs))
    if "members" in out.columns:
        out["members"] = np.asarray(members, dtype=object)[order]
    if "n_merged" in out.columns:
        out["n_merged"] = np.asarray(counts)[order]
    return out.reset_index(drop=True)
