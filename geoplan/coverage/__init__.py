"""Service-radius coverage: every standard, per district, by buffer, walking network and people.

One module per task:

- :mod:`~geoplan.coverage.shares`: the share maths on plain arrays (amount, district index,
  covered fraction → shares per district), testable without geometry;
- :mod:`~geoplan.coverage.demand`: demand pieces (residential grid, street samples), held as
  arrays and built as shapes per district;
- :mod:`~geoplan.coverage.reached`: the walked network as arrays, its lines built when drawn
  or written;
- :mod:`~geoplan.coverage.population`: population weights of the demand pieces;
- :mod:`~geoplan.coverage.access`: where a facility is reached (entrances, outline, point);
- :mod:`~geoplan.coverage.buffers`: straight-line buffer overlay (the official indicator);
- :mod:`~geoplan.coverage.gaps`: uncovered areas and street stretches as ranked geometries;
- :mod:`~geoplan.coverage.by_district`: buffer fractions and gaps of several standards in one
  pass over the districts, each district's pieces built once;
- :mod:`~geoplan.coverage.engine`: :func:`run_coverage`, which builds the arrays and calls the
  rest;
- :mod:`~geoplan.coverage.output`: writing and printing the result.

The result's shape is :class:`geoplan.results.CoverageResult`.
"""

from geoplan.coverage.engine import run_coverage
from geoplan.coverage.output import format_table, write_coverage
from geoplan.coverage.shares import district_shares, district_totals, uncovered_amount, within_radius
from geoplan.results import CoverageResult

__all__ = [
    "CoverageResult",
    "district_shares",
    "district_totals",
    "format_table",
    "run_coverage",
    "uncovered_amount",
    "within_radius",
    "write_coverage",
]
