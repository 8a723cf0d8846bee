"""What a run over some of a city's districts is told of the whole city.

A job of ``geoplan batch`` loads one district and its margin. Two figures of a district still
depend on the rest of the city, and the job is given them as the whole city's run measures
them (:class:`CityFacts`, made once per config by :func:`city_facts`):

* **Which life-circle items have data.** A basket needs "at least k of the n items with data";
  an item with no facility near one district still has data in the city (the whole run
  requires it there, and names its facilities' count). Measured alone, 成华区's 15-minute
  life circle read 0.9 points higher than in the whole run of the sample.
* **The units' census residents** (``demand.census_districts``): each 区县's residents are
  shared among all its units by residential land, which a job of one unit cannot see.
* **The children competing for each school's seats** (学位): a school near a district line
  shares its seats with the children of both sides. These need the walking graph, so they are
  measured district by district (:mod:`geoplan.coverage.seat_demand`) and added up.

:func:`city_facts` needs only the facility layers and the residential land
(:func:`fact_kinds`), never the walking graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from geoplan.coverage.census_areas import census_unit_figures
from geoplan.coverage.chunks import facility_counts
from geoplan.layers.overlaps import district_overlaps
from geoplan.standards import Standard

__all__ = ["CityFacts", "city_facts", "fact_kinds"]


@dataclass(frozen=True)
class CityFacts:
    """The whole city's figures a run over some of its districts takes as they are.

    Attributes
    ----------
    facility_counts
        Facilities of each standard's sets in the whole city, by (standard id, set position),
        as its coverage counts them: an item with none has no data.
    census
        Unit -> (residents, source) from ``demand.census_districts`` over all the units, or
        None without it.
    districts
        The districts the whole city's run analyses (those enough of which lies inside the
        data), or None when not known: a job of another district has nothing to measure.
    school_children
        Per school standard, the whole city's children within each school's catchment
        (:func:`geoplan.coverage.people.catchment_children`, keyed by
        :func:`~geoplan.coverage.people.school_keys`), summed over the districts by
        :mod:`geoplan.coverage.seat_demand`; None when not measured (each run's own children
        then compete for its schools alone).
    datum
        The datum check of the boundaries (:func:`geoplan.layers.datum.check_datum`) over the
        whole city, as ``geoplan run`` makes it, or None when not made; a run given it makes
        no check of its own (a job of the 64-tile benchmark city: 14.7 s with it, 11.1 s
        without).
    overlaps
        The districts that overlap (:func:`geoplan.layers.overlaps.district_overlaps`) among
        all of them: a job of one district cannot see them.
    """

    facility_counts: dict[tuple[str, int], int]
    census: dict[str, tuple[float, str]] | None = None
    districts: tuple[str, ...] | None = None
    school_children: dict[str, dict[str, float]] | None = None
    datum: dict[str, Any] | None = None
    overlaps: pd.DataFrame | None = None


def fact_kinds(stds: Sequence[Standard]) -> set[str]:
    """The layers :func:`city_facts` reads: the standards' facility layers and the homes."""
    return {fs.layer for std in stds for fs in std.facility_sets} | {"districts", "residential"}


def city_facts(layerset: Any, stds: Sequence[Standard], settings: Any) -> CityFacts:
    """The figures of the whole city (``layerset`` holds all its districts) that a run over
    some of them takes as they are (see the module notes).

    Parameters
    ----------
    layerset
        The city's :class:`~geoplan.layers.LayerSet` (at least :func:`fact_kinds`).
    stds
        The standards the runs measure.
    settings
        The config's demand settings (``census_districts``, ``census_city``).

    Returns
    -------
    CityFacts
    """
    census = None
    if getattr(settings, "census_districts", None) is not None:
        found = census_unit_figures(layerset, settings)
        census = dict(found.figures) if found is not None else {}
    return CityFacts(facility_counts(layerset, list(stds)), census,
                     tuple(layerset.districts["district"].astype(str)),
                     datum=getattr(layerset, "datum", None),
                     overlaps=district_overlaps(layerset.districts))
