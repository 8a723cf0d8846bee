"""One district's gaps of one standard (or one life-circle item), and the sites that close them.

:func:`geoplan.siting.suggest_sites` finds the groups that miss their target (table look-ups,
in order), then closes each group on its own: the groups share nothing, so they are solved on
several threads (:func:`geoplan._threads.thread_map`; sampling and the greedy spend their time
in GEOS and numpy, which release the GIL) and their rows come back in the order found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from geoplan._threads import thread_map
from geoplan.siting.cover import close_gap, min_site_gain
from geoplan.siting.sampling import sample_lines, sample_polygons

if TYPE_CHECKING:
    from geoplan.results import CoverageResult

__all__ = ["GapGroup", "gap_rows", "site_rows"]


@dataclass(frozen=True, eq=False)
class GapGroup:
    """The gaps of one standard (or item) in one district, with what closing them needs.

    Attributes
    ----------
    district, standard, item
        Where and what (``item`` is ``""`` for a single-facility standard).
    geoms
        The gap polygons (or uncovered street lines when ``linear``), or a function that
        reads them: a city's gaps are read when their group is solved, not all at once.
    linear
        True for street gaps: sites cover street length, not land.
    spacing_m
        Sampling step of the gaps (demand points and candidate sites).
    radius, target, max_sites
        The standard's radius and target, and the most sites to suggest.
    before, total
        The district's share before any site, and its demand total (m² or m).
    density
        People per m² of the gaps (NaN when unknown, and for streets).
    """

    district: str
    standard: str
    item: str
    geoms: np.ndarray | Callable[[], np.ndarray]
    linear: bool
    spacing_m: float
    radius: float
    before: float
    total: float
    target: float
    max_sites: int
    density: float

    def site_rows(self) -> list[dict[str, Any]]:
        """The suggested sites, ranked (:data:`geoplan.results.SITES` columns)."""
        sample = sample_lines if self.linear else sample_polygons
        xy, area = sample(self.geoms() if callable(self.geoms) else self.geoms, self.spacing_m)
        sites = close_gap(xy, area, self.radius, self.before, self.total, self.target,
                          self.max_sites, min_site_gain(self.radius, self.linear, self.total))
        return [{
            "district": self.district, "standard": self.standard, "item": self.item,
            "rank": rank,
            "covered_m2": np.nan if self.linear else gain,
            "covered_length_m": gain if self.linear else np.nan,
            "covered_population": gain * self.density,
            "share_before": share_now, "share_after": share_after,
            "target": self.target, "radius_m": self.radius,
            "geometry": shapely.Point(xy[idx]),
        } for rank, (idx, gain, share_now, share_after) in enumerate(sites, start=1)]


def site_rows(groups: Sequence[GapGroup]) -> list[dict[str, Any]]:
    """The site rows of every group, group after group, solved on several threads."""
    rows: list[dict[str, Any]] = []
    for part in thread_map(GapGroup.site_rows, groups, desc="sites", unit="gap group"):
        rows += part
    return rows


def gap_rows(coverage: CoverageResult, name: str, by: str | list[str], **values: str
             ) -> Iterator[tuple[Any, np.ndarray, pd.DataFrame]]:
    """The rows of frame ``name`` of the coverage whose columns equal ``values``, grouped by
    ``by`` (in key order): the key, the rows' positions in the frame (ascending) and their
    attributes. Nothing is read from disk."""
    attrs = coverage.attributes(name)
    if not len(attrs):
        return
    mask = np.ones(len(attrs), dtype=bool)
    for column, value in values.items():
        mask &= (attrs[column] == value).to_numpy()
    positions = np.flatnonzero(mask)
    mine = attrs.iloc[positions]
    for key, idx in sorted(mine.groupby(by).indices.items()):
        yield key, positions[idx], mine.iloc[idx]
