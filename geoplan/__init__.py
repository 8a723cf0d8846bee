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

from geoplan._version import __version__
from geoplan.config import AnalysisConfig, load_config
from geoplan.coverage import run_coverage, write_coverage
from geoplan.deadends import deadends_for_config, run_deadends, write_deadends
from geoplan.layers import LayerSet, load_layers
from geoplan.pipeline import compute_results, run_analysis
from geoplan.results import CoverageResult, DeadEndResult, RunResult, SiteResult
from geoplan.siting import suggest_sites
from geoplan.standards import Standard, check_config_standards, resolve_standards

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
