"""The shape of a whole run: :class:`RunResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geoplan._errors import ResultSchemaError
from geoplan.results.coverage import CoverageResult
from geoplan.results.deadends import DeadEndResult
from geoplan.results.sites import SiteResult

if TYPE_CHECKING:
    from geoplan.config import AnalysisConfig
    from geoplan.layers.layerset import LayerSet
    from geoplan.standards import Standard

__all__ = ["RunResult"]


@dataclass
class RunResult:
    """What one analysis run produced (:func:`geoplan.pipeline.run_analysis`).

    Attributes
    ----------
    config
        The analysis config.
    out
        The output folder.
    layerset
        The canonical layers (:class:`geoplan.layers.LayerSet`). For a city large enough to
        be measured in chunks (:data:`geoplan.coverage.chunked.CHUNK_MIN_WALKWAYS` walkways),
        ``geoplan run`` keeps only the layers the map and the reports draw once the results
        are measured (before the tables are written); every layer is in ``layers.gpkg``.
    standards
        The standards measured.
    coverage, deadends, sites
        The results of those steps, or None when a step was not run.
    summary
        Per-district counts, areas and lengths of the layers (``layers.csv``).
    written
        Every file written, in order.
    timings
        Seconds per step.
    """

    config: AnalysisConfig
    out: Path
    layerset: LayerSet
    standards: list[Standard]
    coverage: CoverageResult | None = None
    deadends: DeadEndResult | None = None
    sites: SiteResult | None = None
    summary: pd.DataFrame | None = None
    written: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def validate(self) -> None:
        """Validate every result the run holds, naming every problem at once."""
        problems: list[str] = []
        for part in (self.coverage, self.deadends, self.sites):
            if part is None:
                continue
            try:
                part.validate()
            except ResultSchemaError as err:
                problems += err.problems
        if problems:
            raise ResultSchemaError(problems)
