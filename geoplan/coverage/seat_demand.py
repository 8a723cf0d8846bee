"""The children competing for each school, counted district by district and added up.

Step 1 of the two-step catchment (:func:`geoplan.coverage.seats.two_step_fca`) divides a
school's seats by every child within its catchment, whichever district the child lives in. A
batch job sees one district: alone, it would share a school on the district line among its own
children only and read more seats reached than the whole city's run (on the sample, 金牛区's
junior schools: 9,600 seats against 6,460).

So before the jobs, each district's homes are walked to the schools of its context
(:func:`district_seat_demand`: its homes, people, walkways and schools, no coverage), and the
children each school gets from it are added over the districts (:func:`add_up`). Each home lies
in one district and each district's walk is the one its job makes, so the sum is the whole
city's denominator, and each job then shares the seats as the whole run does
(:attr:`geoplan.coverage.city_facts.CityFacts.school_children`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from geoplan.coverage.context import CoverageContext, Timer
from geoplan.coverage.people import catchment_children, people_inputs, school_standards
from geoplan.standards import Standard

__all__ = ["SEAT_DEMAND_KINDS", "add_up", "district_seat_demand", "has_school_seats"]

SEAT_DEMAND_KINDS = frozenset({"districts", "walkways", "entrances", "residential", "buildings",
                               "schools"})
"""The layers :func:`district_seat_demand` reads (the buildings for the people's weights)."""


def has_school_seats(stds: Sequence[Standard]) -> bool:
    """Whether any standard measures school seats (schools of one level)."""
    return bool(school_standards(list(stds)))


def district_seat_demand(layerset: Any, stds: Sequence[Standard], settings: Any,
                         facts: Any = None) -> dict[str, dict[str, float]]:
    """The children of ``layerset``'s districts within each school's catchment.

    Parameters
    ----------
    layerset
        One district (or some) with the context margin its job loads (at least
        :data:`SEAT_DEMAND_KINDS`).
    stds
        The config's standards; those on schools of one level are walked.
    settings
        The config's demand settings.
    facts
        The whole city's :class:`~geoplan.coverage.city_facts.CityFacts` (the units' census
        residents weigh the homes as in the job), or None.

    Returns
    -------
    dict
        Standard id -> school key (:func:`~geoplan.coverage.people.school_keys`) -> children;
        empty when there are no people (no census figure, no raster) or no school standard.
    """
    schools = [std for std, _, _ in school_standards(list(stds))]
    if not schools or not len(layerset.districts):
        return {}
    eng = CoverageContext(layerset, settings, {"residential"}, Timer(), facts=facts)
    if "residential" not in eng.demand:
        return {}
    n = len(eng.demand["residential"].district)
    # the pairs are all that is needed: the shares' fractions are not measured here
    covers = {std.id: (np.zeros(n), np.zeros(n, dtype=bool)) for std in schools}
    inputs = people_inputs(eng, schools, covers)
    if inputs is None:
        return {}
    return catchment_children(inputs, schools, layerset["schools"], layerset.reached_from,
                              settings)


def add_up(parts: Iterable[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """The districts' :func:`district_seat_demand` added up: the whole city's children per
    school.

    Examples
    --------
    >>> add_up([{"p": {"a": 10.0}}, {"p": {"a": 5.0, "b": 2.0}}, {}])
    {'p': {'a': 15.0, 'b': 2.0}}
    """
    total: dict[str, dict[str, float]] = {}
    for part in parts:
        for sid, schools in part.items():
            mine = total.setdefault(sid, {})
            for key, n in schools.items():
                mine[key] = mine.get(key, 0.0) + n
    return total
