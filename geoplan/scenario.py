"""Scenarios (挂图作战): planned facilities on top of today's layers, coverage before and after.

A config's ``scenarios:`` section names sets of planned facility files; :func:`run_scenario`
adds them to the current layers, measures coverage again, and :func:`compare` lines the two
tables up per district and standard.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from geoplan._errors import ConfigError
from geoplan.config import AnalysisConfig
from geoplan.standards import Standard

logger = logging.getLogger(__name__)

SHARES = ("share_buffer", "share_network", "share_population_buffer", "share_population_network")


def scenario_config(config: AnalysisConfig, name: str) -> AnalysisConfig:
    """``config`` with the planned facility files of scenario ``name`` added to its layers.

    Raises
    ------
    ConfigError
        If the config has no scenario of that name.
    """
    if name not in config.scenarios:
        known = ", ".join(config.scenarios) or "none"
        raise ConfigError(str(config.source_file or "config"),
                          [f"scenarios: no scenario named {name!r} (the config has: {known})"])
    layers = {kind: list(sources) for kind, sources in config.layers.items()}
    for kind, sources in config.scenarios[name].layers.items():
        layers.setdefault(kind, []).extend(s.model_copy(update={"mode": "add"}) for s in sources)
    return config.model_copy(update={"layers": layers})


def compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Coverage tables side by side: each share before, after and the change, per district × standard."""
    keys = ["district", "standard"]
    left = before[[*keys, "name_zh", "target", "n_facilities", *SHARES, "meets_target"]]
    right = after[[*keys, "n_facilities", *SHARES, "meets_target"]]
    table = left.merge(right, on=keys, suffixes=("_before", "_after"), how="outer")
    for share in SHARES:
        table[f"{share}_change"] = table[f"{share}_after"] - table[f"{share}_before"]
    table["newly_meets_target"] = ~table["meets_target_before"].astype(bool) & table[
        "meets_target_after"].astype(bool)
    return table


def run_scenario(config: AnalysisConfig, name: str, standards: Sequence[Standard]) -> pd.DataFrame:
    """Measure coverage without and with scenario ``name``; return :func:`compare`'s table."""
    from geoplan.coverage import run_coverage
    from geoplan.layers import load_layers
    from geoplan.layers.checks import require_walkways

    planned = scenario_config(config, name)
    planned_layers = load_layers(planned)  # a planned file far from the districts fails here, first
    today = load_layers(config)
    require_walkways(today, config)
    before = run_coverage(today, standards, config.demand).table
    after = run_coverage(planned_layers, standards, config.demand).table
    return compare(before, after)
