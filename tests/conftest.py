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
