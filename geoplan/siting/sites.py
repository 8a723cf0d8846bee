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

import logging
from collections.abc import Sequence
from functools import partial

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.crs import check_projected_crs
from geoplan.results import SITES, CoverageResult, SiteResult
from geoplan.siting.groups import GapGroup, gap_rows, site_rows
from geoplan.siting.items import item_gap_groups
from geoplan.siting.sampling import population_density
from geoplan.standards import Standard

logger = logging.getLogger(__name__)

__all__ = ["SITE_COLUMNS", "suggest_sites"]

SITE_COLUMNS = [*SITES.names, "geometry"]

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
        Basket standards (the life circles) get sites per item that misses its target
        (:func:`geoplan.siting.items.item_sites`, buffer view).
    max_sites
        Most sites per district and standard; fewer when the target is reached sooner.
    spacing_m
        Sampling step of the gap polygons (demand points and candidate sites).
    view
        Which gaps to close: ``"buffer"`` (official) or ``"network"``.

    Returns
    -------
    SiteResult
        One point per site in the analysis CRS; ``table`` columns as documented in
        :data:`geoplan.results.SITES` (covered land or street length, people, the official share
        before and after each site, target and radius).
    """
    crs = coverage.districts.crs if len(coverage.districts) else coverage.rows_where("gaps").crs
    check_projected_crs(crs, "coverage result")
    table = coverage.table.set_index(["district", "standard"])
    groups: list[GapGroup] = []
    for std in standards:
        if std.basket:  # a life circle: sites per item that misses its target
            if view == "buffer":
                groups += item_gap_groups(coverage, std, max_sites=max_sites,
                                          spacing_m=spacing_m)
            continue
        linear = std.demand != "residential"
        radius = min(r.radius_m for r in std.radius_rule) if std.radius_rule else float(std.radius_m or 0)
        name = "street_gaps" if linear else "gaps"
        # the standard's gaps in the view, by district; each group's shapes are read when
        # it is solved (a city's gaps, every standard's at once, were most of the step's
        # memory: 230 of its 500 MB over what the run held before, at 64 tiles)
        for district, positions, part in gap_rows(coverage, name, "district",
                                                  standard=std.id, view=view):
            if (district, std.id) not in table.index:
                continue
            row = table.loc[(district, std.id)]
            total = float(row["demand_total"])
            before = float(row["share_buffer"] if view == "buffer" else row["share_network"])
            if not total or np.isnan(before) or before >= std.target:
                continue
            groups.append(GapGroup(
                district=district, standard=std.id, item="",
                geoms=partial(coverage.geometries, name, positions),
                linear=linear, spacing_m=min(spacing_m, 25.0) if linear else spacing_m,
                radius=radius, before=before, total=total, target=std.target,
                max_sites=max_sites, density=np.nan if linear else population_density(part)))
    rows = site_rows(groups)
    if not rows:
        return SiteResult(gpd.GeoDataFrame(pd.DataFrame(columns=SITE_COLUMNS), geometry="geometry",
                                           crs=crs))
    return SiteResult(gpd.GeoDataFrame(rows, columns=SITE_COLUMNS, geometry="geometry", crs=crs))
