"""Coverage item by item: each facility item of a standard (a life circle's kindergarten,
clinic, market, …) measured on its own, and its uncovered land for siting.

:func:`geoplan.coverage.engine.run_coverage` calls these once per standard with the arrays it
already has (demand pieces, each item's buffer union and walking flags); the basket totals
come from :mod:`geoplan.coverage.baskets`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._frames import geo_frame
from geoplan._groups import positions_by_code
from geoplan._threads import thread_map
from geoplan.coverage.buffers import BufferSet
from geoplan.coverage.demand import Demand
from geoplan.coverage.gaps import gap_polygons
from geoplan.coverage.population import PopulationWeights
from geoplan.coverage.shares import district_shares, district_totals
from geoplan.results.coverage import ITEM_GAPS
from geoplan.standards import FacilitySet, Standard, item_name

__all__ = ["district_share_pair", "item_fractions", "item_gap_frame", "item_gaps", "item_rows"]

Item = tuple[FacilitySet, int]
"""A facility set and how many facilities of it the data hold."""


def district_share_pair(covered: np.ndarray, dem: Demand, pop: PopulationWeights | None,
                        n_d: int) -> tuple[np.ndarray, np.ndarray]:
    """Land (or length) share and population share per district of a 0/1 coverage flag.

    Parameters
    ----------
    covered
        Flag per demand piece.
    dem
        The demand the flags belong to.
    pop
        Population weights of the pieces, or None.
    n_d
        Number of districts.

    Returns
    -------
    tuple of numpy.ndarray
        The land share and the population share (the land share where a district has no
        people mapped; NaN for street demand or without weights).
    """
    land = district_shares(dem.amount, dem.district, covered, n_d)
    if dem.is_linear or pop is None:
        return land, np.full(n_d, np.nan)
    people = district_shares(pop.weights, dem.district, covered, n_d)
    ptotal = district_totals(pop.weights, dem.district, n_d)
    return land, np.where(ptotal > 0, people, land)


def item_fractions(has_data: Sequence[bool], frac: np.ndarray | None,
                   fraction_of: Callable[[int], np.ndarray]) -> list[np.ndarray | None]:
    """Buffer fraction of every demand piece per item (None for an item without data; one
    per flag of ``has_data``).

    ``frac`` is the standard's own fraction, reused when it has a single item;
    ``fraction_of(j)`` measures item ``j`` (by overlay, district by district).
    """
    out: list[np.ndarray | None] = []
    for j, ok in enumerate(has_data):
        if not ok:
            out.append(None)
        elif frac is not None and len(has_data) == 1:
            out.append(frac)
        else:
            out.append(fraction_of(j))
    return out


def item_rows(std: Standard, dem: Demand, items: Sequence[Item], has_data: Sequence[bool],
              fracs: Sequence[np.ndarray | None], covered_items: Sequence[np.ndarray],
              pop: PopulationWeights | None, names: np.ndarray, n_d: int) -> pd.DataFrame:
    """Per-item coverage of one standard per district (:data:`geoplan.results.ITEMS`).

    An item without data (``has_data`` False: no such facility in the input) gets NaN
    shares and ``no_data`` True; one with none near the districts but some in the input
    scores its 0.
    """
    out = []
    radius = float(std.radius_m) if std.radius_m is not None else np.nan
    for (fs, n), ok, f, cov in zip(items, has_data, fracs, covered_items, strict=True):
        if not ok or f is None:
            buf = net = pnet = np.full(n_d, np.nan)
        else:
            buf = district_shares(dem.amount, dem.district, f, n_d)
            net, pnet = district_share_pair(cov, dem, pop, n_d)
        out.append(pd.DataFrame({
            "district": names, "standard": std.id, "item": fs.item,
            "name_zh": item_name(std, fs, "zh"), "name_en": item_name(std, fs, "en"),
            "layer": fs.layer, "radius_m": radius,
            "n_facilities": n, "no_data": not ok, "share_buffer": buf, "share_network": net,
            "share_population_network": pnet,
        }))
    return pd.concat(out, ignore_index=True)


def item_gaps(std: Standard, land: Sequence[Any] | np.ndarray, dem: Demand, weights: np.ndarray,
              items: Sequence[Item], buffer_sets: Sequence[BufferSet],
              fracs: Sequence[np.ndarray | None],
              rows: pd.DataFrame, names: np.ndarray) -> list[pd.DataFrame]:
    """Residential land outside each item's buffers, per district, where the item misses its
    target (the buffer view, which siting closes).

    Items without data get no gaps: the data cannot tell where they are missing.
    """
    # a plain dict: pandas builds its index lookup lazily, which threads must not race on
    shares = dict(zip(zip(rows["item"], rows["district"], strict=True), rows["share_buffer"],
                      strict=True))
    # each district's rows, found once (not a city-wide comparison per item and district)
    by_district = positions_by_code(dem.district, len(names))

    def district(i: int) -> dict[tuple[int, int], pd.DataFrame]:
        name, mine = names[i], by_district[i]
        if not len(mine) or shapely.is_empty(land[i]):
            return {}
        missing: list[tuple[int, np.ndarray]] = []  # the items that miss the target here
        for j, ((fs, _), f) in enumerate(zip(items, fracs, strict=True)):
            share = shares.get((fs.item, name), np.nan)
            if f is not None and np.isfinite(share) and share < std.target - 1e-9:
                missing.append((j, f))
        if not missing:
            return {}
        # the district's pieces with land outside some missing item's buffers, built once for
        # all its items (only they share in a gap)
        need = mine[np.any([f[mine] < 1.0 for _, f in missing], axis=0)]
        pieces = dem.pieces_of(need)
        near = shapely.box(*shapely.bounds(land[i])).buffer(1.0)
        out: dict[tuple[int, int], pd.DataFrame] = {}
        for j, f in missing:
            # the item's buffers near this land only: never the city-wide union
            union = buffer_sets[j].union_in_box(near)
            uncovered = (shapely.difference(land[i], union) if not shapely.is_empty(union)
                         else land[i])
            sel = f[need] < 1.0
            rows_j = need[sel]
            geoms, area, pop = gap_polygons(uncovered, pieces[sel], weights[rows_j],
                                            1.0 - f[rows_j])
            if len(geoms):
                order = np.argsort(-area, kind="stable")
                out[(j, i)] = pd.DataFrame({
                    "standard": std.id, "item": items[j][0].item, "district": name,
                    "view": "buffer", "rank": np.arange(1, len(order) + 1),
                    "area_m2": area[order], "population": pop[order], "geometry": geoms[order],
                })
        return out

    found: dict[tuple[int, int], pd.DataFrame] = {}
    for part in thread_map(district, range(len(names))):
        found.update(part)
    # item by item, districts in order within each
    return [found[key] for key in sorted(found)]


def item_gap_frame(frames: Sequence[pd.DataFrame], crs: Any) -> gpd.GeoDataFrame:
    """The item gaps as one GeoDataFrame (:data:`geoplan.results.ITEM_GAPS`)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return gpd.GeoDataFrame({c: [] for c in ITEM_GAPS.names},
                                geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    df = pd.concat(frames, ignore_index=True)
    return geo_frame(df[ITEM_GAPS.names], df["geometry"].to_numpy(), crs)
