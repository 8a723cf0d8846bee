"""One documented shape per result: the results contract of geoplan.

Every step returns one of these typed results; map, reports, workbook, notebooks and batch take
them. Each table's columns (name, dtype family, unit, meaning) are listed once, in a
:class:`Schema`, and each result's ``validate()`` names every missing or mistyped column.

========================  =====================================================
:class:`CoverageResult`   :func:`geoplan.coverage.run_coverage`
:class:`DeadEndResult`    :func:`geoplan.deadends.run_deadends`
:class:`SiteResult`       :func:`geoplan.siting.suggest_sites`
:class:`PeopleResult`     :func:`geoplan.coverage.people.measure_people`
:class:`IndicatorResult`  :func:`geoplan.indicators.measure_indicators`
:class:`RunResult`        :func:`geoplan.pipeline.run_analysis`
========================  =====================================================

``Schema.describe()`` gives a schema as a table, e.g. ``COVERAGE_TABLE.describe()``.
"""

from geoplan.results._schema import Column, Schema
from geoplan.results.coverage import (
    COVERAGE_TABLE,
    FACILITIES,
    GAPS,
    ITEM_GAPS,
    ITEMS,
    REACH_AREAS,
    REACHED,
    STREET_GAPS,
    WALK_BANDS,
    CoverageResult,
    item_names,
    items_in,
    join_items,
    split_items,
    verdict,
    verdicts,
)
from geoplan.results.deadends import CANDIDATES, CONNECTIVITY, DEAD_ENDS, DeadEndResult
from geoplan.results.indicators import INDICATORS, IndicatorResult
from geoplan.results.people import CHILDREN, RESIDENTS, SCHOOL_SEATS, SEATS, PeopleResult
from geoplan.results.run import RunResult
from geoplan.results.sites import SITES, SiteResult

__all__ = [
    "CANDIDATES",
    "CHILDREN",
    "CONNECTIVITY",
    "COVERAGE_TABLE",
    "DEAD_ENDS",
    "FACILITIES",
    "GAPS",
    "INDICATORS",
    "ITEMS",
    "ITEM_GAPS",
    "REACHED",
    "REACH_AREAS",
    "RESIDENTS",
    "SCHOOL_SEATS",
    "SEATS",
    "SITES",
    "STREET_GAPS",
    "WALK_BANDS",
    "Column",
    "CoverageResult",
    "DeadEndResult",
    "IndicatorResult",
    "PeopleResult",
    "RunResult",
    "Schema",
    "SiteResult",
    "item_names",
    "items_in",
    "join_items",
    "split_items",
    "verdict",
    "verdicts",
]
