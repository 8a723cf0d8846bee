"""Merge point features that describe one real thing (a bus stop's platform, pole and stop position)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree


def _split_names(labels: np.ndarray, names: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Split groups holding different names: one group per name, unnamed points joining the
    nearest named point of their group (two stops never merge through an unnamed pole)."""
    out = labels.copy()
    named = names != ""
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    for idx in np.split(order, bounds):
        kinds = np.unique(names[idx][named[idx]])
        if len(kinds) < 2:
            continue
        base = out.max() + 1
        code = {name: base + k for k, name in enumerate(kinds)}
        with_name = idx[named[idx]]
        out[with_name] = [code[n] for n in names[with_name]]
        without = idx[~named[idx]]
        if len(without):
            _, near = cKDTree(xy[with_name]).query(xy[without])
            out[without] = out[with_name[near]]
    return out


def merge_points(points: gpd.GeoDataFrame, distance_m: float) -> gpd.GeoDataFrame:
    """Merge points closer than ``distance_m`` whose names agree (or one has no name).

    Points of different names never end in one record, even when an unnamed point lies
    between them: the unnamed point joins the nearer one. The merged record keeps the first
    named member's attributes, sits at the members' mean position, and lists every member in
    ``members`` with their count in ``n_merged``. ``points`` must be in a projected CRS.
    """
    if len(points) < 2:
        return points
    xy = np.column_stack([points.geometry.x, points.geometry.y])
    names = points["name"].fillna("").astype(str).to_numpy()
    pairs = cKDTree(xy).query_pairs(distance_m, output_type="ndarray")
    ni, nj = names[pairs[:, 0]], names[pairs[:, 1]]
    pairs = pairs[(ni == "") | (nj == "") | (ni == nj)]
    n = len(points)
    links = coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(links, directed=False)
    labels = _split_names(labels, names, xy)
    ids = points["source_id"].astype(str).to_numpy()
    order = np.lexsort((np.arange(n), labels))
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    keep_rows, geoms, members, counts = [], [], [], []
    for idx in np.split(order, bounds):
        named = idx[names[idx] != ""]
        keep_rows.append(int(named[0] if len(named) else idx[0]))
        geoms.append(xy[idx].mean(axis=0))
        members.append(";".join(ids[idx]))
        counts.append(len(idx))
    rank = np.argsort(keep_rows)
    out = points.iloc[np.asarray(keep_rows)[rank]].copy()
    xy_out = np.asarray(geoms)[rank]
    out = out.set_geometry(gpd.points_from_xy(xy_out[:, 0], xy_out[:, 1], crs=points.crs))
    if "members" in out.columns:
        out["members"] = np.asarray(members, dtype=object)[rank]
    if "n_merged" in out.columns:
        out["n_merged"] = np.asarray(counts)[rank]
    return out.reset_index(drop=True)
