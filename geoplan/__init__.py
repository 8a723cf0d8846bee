"""geoplan: service-radius coverage, gaps and dead-end roads for Chinese city planning standards.

A notebook needs only this module::

    import geoplan

    config = geoplan.load_config("analyses/chengdu_core.yaml")
    layers = geoplan.load_layers(config)
    coverage = geoplan.run_coverage(layers, geoplan.check_config_standards(config), config.demand)
    coverage.table  # one row per district × standard (geoplan.results.COVERAGE_TABLE)

or runs everything at once with :func:`run_analysis`. Every result has one documented shape
(:mod:`geoplan.results`); the command line tool ``geoplan`` does the same from a terminal.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from geoplan._lazy import lazy_names
from geoplan._version import __version__

if TYPE_CHECKING:
    from geoplan.config import AnalysisConfig, load_config
    from geoplan.coverage import run_coverage, write_coverage
    from geoplan.deadends import deadends_for_config, run_deadends, write_deadends
    from geoplan.layers import LayerSet, load_layers
    from geoplan.pipeline import compute_results, run_analysis
    from geoplan.results import CoverageResult, DeadEndResult, RunResult, SiteResult
    from geoplan.siting import suggest_sites
    from geoplan.standards import Standard, check_config_standards, resolve_standards

# The public names are imported on first use (PEP 562), so ``import geoplan`` and the command
# line's ``--help`` do not pay for geopandas, folium and the rest until something needs them.
_EXPORTS = {
    "AnalysisConfig": "geoplan.config", "load_config": "geoplan.config",
    "run_coverage": "geoplan.coverage", "write_coverage": "geoplan.coverage",
    "deadends_for_config": "geoplan.deadends", "run_deadends": "geoplan.deadends",
    "write_deadends": "geoplan.deadends",
    "LayerSet": "geoplan.layers", "load_layers": "geoplan.layers",
    "compute_results": "geoplan.pipeline", "run_analysis": "geoplan.pipeline",
    "CoverageResult": "geoplan.results", "DeadEndResult": "geoplan.results",
    "RunResult": "geoplan.results", "SiteResult": "geoplan.results",
    "suggest_sites": "geoplan.siting",
    "Standard": "geoplan.standards", "check_config_standards": "geoplan.standards",
    "resolve_standards": "geoplan.standards",
}


# a public name or a subpackage (``geoplan.coverage``), imported when first asked for
__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals(), subpackages=True)


__all__ = [
    "AnalysisConfig",
    "CoverageResult",
    "DeadEndResult",
    "LayerSet",
    "RunResult",
    "SiteResult",
    "Standard",
    "__version__",
    "check_config_standards",
    "compute_results",
    "deadends_for_config",
    "load_config",
    "load_layers",
    "resolve_standards",
    "run_analysis",
    "run_coverage",
    "run_deadends",
    "suggest_sites",
    "write_coverage",
    "write_deadends",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
