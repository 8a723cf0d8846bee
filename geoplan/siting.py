"""Suggest sites for new facilities that close coverage gaps.

The maths (:func:`greedy_max_cover`) works on plain arrays: candidate sites, demand points with
weights, and a radius; it picks sites one at a time, each time the one that covers the most
still-uncovered demand (the classic greedy for the maximal covering location problem, within
a factor 1 − 1/e of the optimum and usually at it). :func:`suggest_sites` is the geographic
adapter: it samples each district's gap polygons into weighted points, uses them as demand and
as candidate sites, and reports, per district and standard, where to build and how far each
site lifts the official (buffer) share.

Coverage here is straight-line, as the official indicator defines it; the walking-network view
of the same sites is what the coverage engine measures once the sites are added as a planned
facility layer.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from geoplan._progress import bar
from geoplan.results import SITES, CoverageResult, SiteResult
from geoplan.standards import Standard

logger = logging.getLogger(__name__)

SITE_COLUMNS = [*SITES.names, "geometry"]


def greedy_max_cover(
    candidates: np.ndarray,
    demand: np.ndarray,
    weights: np.ndarray,
    radius: float,
    *,
    max_sites: int,
    stop_at: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Choose up to ``max_sites`` candidate sites that cover the most demand weight.

    Parameters
    ----------
    candidates
        (n, 2) candidate site coordinates (metres).
    demand
        (m, 2) demand point coordinates (metres).
    weights
        (m,) demand weight of each point (area or population).
    radius
        A site covers the demand points within this straight-line distance.
    max_sites
        Most sites to choose.
    stop_at
        Stop early once this much weight is covered in total.

    Returns
    -------
    chosen, gains
        Indices into ``candidates`` in the order chosen, and the weight each one added.

    Examples
    --------
    >>> import numpy as np
    >>> demand = np.array([[0, 0], [10, 0], [100, 0]], float)
    >>> greedy_max_cover(demand, demand, np.array([1.0, 1.0, 5.0]), 15.0, max_sites=2)
    (array([2, 0]), array([5., 2.]))
    """
    if len(candidates) == 0 or len(demand) == 0 or max_sites <= 0:
        return np.array([], dtype=int), np.array([], dtype=float)
    cover = cover_matrix(candidates, demand, radius)
    indptr, indices = cover.indptr, cover.indices
    # each candidate's demand points as a slice of one index array (no Python lists); sums
    # over the same points in the same order as before, so ties resolve the same way
    rows = [indices[indptr[i]:indptr[i + 1]] for i in range(len(candidates))]
    uncovered = np.asarray(weights, dtype=float).copy()
    gain = np.array([uncovered[idx].sum() if len(idx) else 0.0 for idx in rows])
    stale = np.zeros(len(candidates), dtype=bool)
    chosen: list[int] = []
    gains: list[float] = []
    total = 0.0
    while len(chosen) < max_sites:
        # lazy greedy: a stale gain is an upper bound, refresh it before trusting it
        while True:
            best = int(np.argmax(gain))
            if not stale[best]:
                break
            gain[best] = uncovered[rows[best]].sum() if len(rows[best]) else 0.0
            stale[best] = False
        if gain[best] <= 0:
            break
        chosen.append(best)
        gains.append(float(gain[best]))
        total += gain[best]
        uncovered[rows[best]] = 0.0
        stale[:] = True
        gain[best] = 0.0
        stale[best] = False
        if stop_at is not None and total >= stop_at - 1e-9:
            break
    return np.asarray(chosen, dtype=int), np.asarray(gains, dtype=float)


def cover_matrix(candidates: np.ndarray, demand: np.ndarray, radius: float) -> sparse.csr_array:
    """Sparse candidate × demand matrix: 1 where the demand point is within ``radius``.

    Parameters
    ----------
    candidates
        (n, 2) coordinates.
    demand
        (m, 2) coordinates.
    radius
        Straight-line reach in metres (points at exactly ``radius`` count).

    Returns
    -------
    scipy.sparse.csr_array
        Shape (n, m), float ones, columns in the KD-tree's order within each row.
    """
    nb = cKDTree(demand).query_ball_point(np.asarray(candidates, float), r=radius)
    lens = np.fromiter((len(x) for x in nb), dtype=np.int64, count=len(nb))
    cols = np.fromiter(itertools.chain.from_iterable(nb), dtype=np.int64, count=int(lens.sum()))
    indptr = np.concatenate([[0], np.cumsum(lens)])
    return sparse.csr_array((np.ones(len(cols)), cols, indptr),
                            shape=(len(candidates), len(demand)))


def _sample_lines(lines: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing`` metres along lines, each carrying the length it stands for."""
    xy: list[np.ndarray] = []
    weight: list[np.ndarray] = []
    for length, geom in zip(shapely.length(lines), lines, strict=True):
        n = max(int(np.ceil(length / spacing)), 1)
        at = (np.arange(n) + 0.5) * (length / n)
        pts = shapely.line_interpolate_point(geom, at)
        xy.append(shapely.get_coordinates(pts))
        weight.append(np.full(n, length / n))
    if not xy:
        return np.empty((0, 2)), np.empty(0)
    return np.concatenate(xy), np.concatenate(weight)


def _sample_polygons(polygons: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid points inside polygons, each carrying the area of its grid cell inside them."""
    if len(polygons) == 0:
        return np.empty((0, 2)), np.empty(0)
    polygons = np.asarray(polygons, dtype=object)
    b = shapely.bounds(polygons)
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    x1, y1 = b[:, 2].max(), b[:, 3].max()
    xs = np.arange(x0 + spacing / 2, x1, spacing)
    ys = np.arange(y0 + spacing / 2, y1, spacing)
    if len(xs) == 0 or len(ys) == 0:
        union = shapely.union_all(polygons)
        point = shapely.point_on_surface(union)
        return np.array([[point.x, point.y]]), np.array([union.area])
    # only the cells each gap polygon's box meets, by index (gap polygons are disjoint, so a
    # cell's area inside them is the sum over the polygons it meets)
    cells_x, cells_y = _cells_near(b, xs, ys, spacing)
    cells = shapely.box(cells_x - spacing / 2, cells_y - spacing / 2,
                        cells_x + spacing / 2, cells_y + spacing / 2)
    ci, gi = shapely.STRtree(polygons).query(cells, predicate="intersects")
    area = np.zeros(len(cells))
    np.add.at(area, ci, shapely.area(shapely.intersection(cells[ci], polygons[gi])))
    hit = np.zeros(len(cells), dtype=bool)
    hit[ci] = True
    keep = hit & (area > 0)
    return np.column_stack([cells_x[keep], cells_y[keep]]), area[keep]


def _cells_near(bounds: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the grid cells that the boxes ``bounds`` touch, in row-major grid order."""
    x0, y0 = xs[0] - spacing / 2, ys[0] - spacing / 2
    c0 = np.clip(np.floor((bounds[:, 0] - x0) / spacing).astype(np.int64), 0, len(xs) - 1)
    c1 = np.clip(np.floor((bounds[:, 2] - x0) / spacing).astype(np.int64), 0, len(xs) - 1)
    r0 = np.clip(np.floor((bounds[:, 1] - y0) / spacing).astype(np.int64), 0, len(ys) - 1)
    r1 = np.clip(np.floor((bounds[:, 3] - y0) / spacing).astype(np.int64), 0, len(ys) - 1)
    flat = [(r * len(xs) + np.arange(a, b + 1)) for ra, rb, a, b in zip(r0, r1, c0, c1, strict=True)
            for r in range(ra, rb + 1)]
    cell = np.unique(np.concatenate(flat))
    return xs[cell % len(xs)], ys[cell // len(xs)]


def suggest_sites(
    coverage: CoverageResult,
    standards: Sequence[Standard],
    *,
    max_sites: int = 5,
    spacing_m: float = 50.0,
    view: str = "buffer",
) -> SiteResult:
    """Suggest up to ``max_sites`` new facility sites per district and area standard.

    Parameters
    ----------
    coverage
        A :class:`geoplan.coverage.CoverageResult` (its ``table`` and ``gaps`` are used).
    standards
        The standards measured. Area standards place sites in the residential gaps; linear
        (toilet) standards place them along the uncovered streets (``coverage.street_gaps``).
        Basket standards (the life circle) are skipped: no single facility kind closes them.
    max_sites
        Most sites per district and standard; fewer when the target is reached sooner.
    spacing_m
        Sampling step of the gap polygons (demand points and candidate sites).
    view
        Which gaps to close: ``"buffer"`` (official) or ``"network"``.

    Returns
    -------
    SiteResult
        ``table`` columns (:data:`geoplan.results.SITES`): district, standard, rank,
        covered_m2 (gap area the site covers; NaN for street standards), covered_length_m
        (uncovered street length it covers; NaN for area standards), covered_population,
        share_before, share_after (the share with the sites up to this one), target,
        radius_m; point geometry in the analysis CRS.
    """
    gaps = coverage.gaps
    table = coverage.table.set_index(["district", "standard"])
    rows: list[dict[str, Any]] = []
    street_gaps = coverage.street_gaps
    for std in bar(standards, "sites", "standard"):
        if std.basket:
            continue
        linear = std.demand != "residential"
        source = street_gaps if linear else gaps
        if source is None or len(source) == 0:
            continue
        radius = min(r.radius_m for r in std.radius_rule) if std.radius_rule else float(std.radius_m or 0)
        mine = source.loc[(source["standard"] == std.id) & (source["view"] == view)]
        for district, part in mine.groupby("district") if len(mine) else ():
            if (district, std.id) not in table.index:
                continue
            row = table.loc[(district, std.id)]
            total = float(row["demand_total"])
            before = float(row["share_buffer"] if view == "buffer" else row["share_network"])
            if not total or np.isnan(before) or before >= std.target:
                continue
            if linear:
                xy, area = _sample_lines(part.geometry.to_numpy(), min(spacing_m, 25.0))
                pop_density = np.nan
            else:
                xy, area = _sample_polygons(part.geometry.to_numpy(), spacing_m)
                pop_density = _population_density(part)
            needed = (std.target - before) * total
            chosen, gains = greedy_max_cover(xy, xy, area, radius, max_sites=max_sites, stop_at=needed)
            covered = before * total
            for rank, (idx, gain) in enumerate(zip(chosen, gains, strict=True), start=1):
                share_now = covered / total
                covered += gain
                rows.append({
                    "district": district, "standard": std.id, "rank": rank,
                    "covered_m2": np.nan if linear else gain,
                    "covered_length_m": gain if linear else np.nan,
                    "covered_population": gain * pop_density,
                    "share_before": share_now, "share_after": min(covered / total, 1.0),
                    "target": std.target, "radius_m": radius,
                    "geometry": shapely.Point(xy[idx]),
                })
    crs = gaps.crs if len(gaps) else coverage.districts.crs
    if not rows:
        return SiteResult(gpd.GeoDataFrame(pd.DataFrame(columns=SITE_COLUMNS), geometry="geometry",
                                           crs=crs))
    return SiteResult(gpd.GeoDataFrame(rows, columns=SITE_COLUMNS, geometry="geometry", crs=crs))


def _population_density(gaps: pd.DataFrame) -> float:
    """People per m² of gap area in these gaps (0 when population is unknown)."""
    if "population" not in gaps.columns:
        return 0.0
    area = float(gaps["area_m2"].sum())
    people = float(np.nansum(gaps["population"].to_numpy(dtype=float)))
    return people / area if area > 0 else 0.0
