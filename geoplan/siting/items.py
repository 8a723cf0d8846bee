"""Suggested sites per life-circle item.

A life circle is not closed by one kind of building: a district may lack kindergartens but
have markets. Each item with data whose buffer share misses the target gets its own sites,
placed in that item's uncovered land (:attr:`CoverageResult.item_gaps`) by the same greedy
covering as the single standards. Items with no facility at all in the data get none: the data
cannot tell where they are missing.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from geoplan.results import CoverageResult
from geoplan.siting.groups import GapGroup, gap_rows, site_rows
from geoplan.siting.sampling import population_density
from geoplan.standards import Standard

__all__ = ["item_gap_groups", "item_sites"]


def item_sites(coverage: CoverageResult, std: Standard, *, max_sites: int,
               spacing_m: float) -> list[dict[str, Any]]:
    """Site rows (:data:`geoplan.results.SITES` columns, ``item`` set) for one basket standard.

    Parameters
    ----------
    coverage
        The coverage result (its ``items``, ``item_gaps`` and ``table``).
    std
        A basket standard (a life circle).
    max_sites, spacing_m
        As for :func:`geoplan.siting.suggest_sites`; the sampling step is at least a quarter
        of the radius.

    Returns
    -------
    list of dict
        One row per suggested site, ranked per district and item.
    """
    return site_rows(item_gap_groups(coverage, std, max_sites=max_sites, spacing_m=spacing_m))


def item_gap_groups(coverage: CoverageResult, std: Standard, *, max_sites: int,
                    spacing_m: float) -> list[GapGroup]:
    """The (district, item) gap groups of a basket standard that miss the target, in order.

    Parameters are as for :func:`item_sites`.

    Returns
    -------
    list of GapGroup
        One group per district and item whose buffer share is below the target.
    """
    items = getattr(coverage, "items", None)
    if items is None or len(items) == 0 or not len(coverage.held("item_gaps")):
        return []
    radius = float(std.radius_m or 0)
    totals = coverage.table.set_index(["district", "standard"])["demand_total"]
    shares = items.loc[items["standard"] == std.id].set_index(["district", "item"])
    groups: list[GapGroup] = []
    for (district, item), rows, part in gap_rows(coverage, "item_gaps", ["district", "item"],
                                                 standard=std.id):
        total = float(totals.get((district, std.id), np.nan))
        before = float(shares["share_buffer"].get((district, item), np.nan))
        if not np.isfinite(total) or not total or not np.isfinite(before) or before >= std.target:
            continue
        # a quarter of the radius is fine enough for a site suggestion and keeps the 1000 m
        # items (whose gaps are often whole districts) from sampling at 50 m
        groups.append(GapGroup(
            district=district, standard=std.id, item=item,
            # read when the group is solved (see geoplan.siting.sites)
            geoms=partial(coverage.geometries, "item_gaps", rows),
            linear=False, spacing_m=max(spacing_m, radius / 4.0), radius=radius, before=before,
            total=total, target=std.target, max_sites=max_sites,
            density=population_density(pd.DataFrame(part))))
    return groups
