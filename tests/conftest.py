"""Shared fixtures: the embedded Chengdu analysis, loaded once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHENGDU_CONFIG = ROOT / "analyses" / "chengdu_core.yaml"
CHENGDU_PBF = ROOT / "layers" / "chengdu" / "chengdu_core_2018.osm.pbf"
CHENGDU_XML = ROOT / "layers" / "chengdu" / "chengdu_core_2018.osm.bz2"
CHENGDU_DISTRICTS = ROOT / "layers" / "boundaries" / "510100_districts_gcj02.geojson"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the layer cache of a test run away from the user's own cache."""
    os.environ["GEOPLAN_CACHE_DIR"] = str(tmp_path_factory.mktemp("geoplan-cache"))
    os.environ.setdefault("GEOPLAN_NO_PROGRESS", "1")


@pytest.fixture(scope="session")
def chengdu_config():
    from geoplan.config import load_config

    return load_config(CHENGDU_CONFIG)


@pytest.fixture(scope="session")
def chengdu_layers(chengdu_config):
    from geoplan.layers import load_layers

    return load_layers(chengdu_config)


@pytest.fixture(scope="session")
def chengdu_results(chengdu_config, chengdu_layers):
    """Coverage, dead ends and sites of the default analysis, computed once per test session.

    The same call ``geoplan run``, ``map`` and ``report`` make
    (:func:`geoplan.pipeline.compute_results`), in-process: tests that check what the commands
    render use this instead of running the whole pipeline again in a subprocess.
    """
    from geoplan.pipeline import compute_results

    return compute_results(chengdu_config, chengdu_layers)


@pytest.fixture(scope="session")
def chengdu_outputs(tmp_path_factory, chengdu_config, chengdu_layers, chengdu_results):
    """The meeting map and the reports of the default analysis, written once into one folder.

    Written in the order ``geoplan run`` writes them (map first, so the reports link to it).
    """
    from geoplan.data_checks import data_checks
    from geoplan.pipeline import check_config_standards
    from geoplan.report.html import write_reports
    from geoplan.report.maps import write_map

    out = tmp_path_factory.mktemp("chengdu-outputs")
    coverage, deadends, sites = chengdu_results
    checks = data_checks(chengdu_layers, coverage, deadends,
                         check_config_standards(chengdu_config), chengdu_layers.datum)
    table = checks.drop(columns="geometry").assign(
        located=(checks.geometry.notna() & ~checks.geometry.is_empty).to_numpy())
    table.to_csv(out / "data_checks_table.csv", index=False)
    write_map(chengdu_layers, coverage, deadends, chengdu_config, out, sites=sites, checks=checks)
    files = write_reports(chengdu_layers, coverage, deadends, chengdu_config, out, sites=sites)
    assert files.failures == {}, files.failures
    return out
