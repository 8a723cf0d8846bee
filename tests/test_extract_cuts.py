"""The embedded extract cut by a smaller box, the ways real tools cut it, in every format.

* Every format of one hard-clipped cut (.osm, .osm.bz2, .osm.gz, .pbf, and a .pbf written
  without a bounds header) gives the same districts and shares to 1e-6: the extent is derived
  the same way from each.
* A cut with complete ways and a hard-clipped cut of the same box give the same shares
  (to 0.5 percentage points) for districts well inside both cuts: ways with missing nodes
  are kept as what their present nodes describe.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoplan.config import AnalysisConfig
from geoplan.coverage import run_coverage
from geoplan.layers import load_layers
from tests._cut_osm import cut_extract
from tests._osm_xml import write_districts
from tests.conftest import CHENGDU_DISTRICTS, CHENGDU_PBF

STANDARDS = ["park_500", "bus_stop_500", "toilet_general_500"]
SMALL = (104.08, 30.68, 104.096, 30.696)
BOX = (104.07, 30.67, 104.10, 30.70)
# two districts 800 m inside BOX: the largest radius (500 m) plus the facility snap distance
INNER = {"内西": (104.079, 30.6775, 104.085, 30.6925), "内东": (104.085, 30.6775, 104.091, 30.6925)}


def _shares(osm, districts, crs: str) -> tuple[list[str], pd.DataFrame]:
    config = AnalysisConfig.model_validate({
        "name": "cut", "districts": {"path": str(districts), "crs": crs},
        "osm": {"path": str(osm)}, "output": str(osm.parent / "out"), "standards": STANDARDS})
    layers = load_layers(config)
    table = run_coverage(layers, STANDARDS, config.demand).table
    shares = table.set_index(["district", "standard"])[["share_buffer", "share_network",
                                                        "demand_total"]].sort_index()
    return sorted(layers.districts["district"]), shares


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("cuts")


def test_every_format_gives_the_same_districts_and_shares(tmp):
    first = cut_extract(CHENGDU_PBF, tmp / "small.osm", SMALL, complete=False)
    files = [first] + [cut_extract(CHENGDU_PBF, tmp / name, SMALL, complete=False)
                       for name in ("small.osm.bz2", "small.osm.gz", "small.osm.pbf")]
    files.append(cut_extract(CHENGDU_PBF, tmp / "small_noheader.osm.pbf", SMALL, complete=False,
                             header=False))
    names, ref = _shares(first, CHENGDU_DISTRICTS, "gcj02")
    assert len(names) >= 2
    for path in files[1:]:
        got_names, got = _shares(path, CHENGDU_DISTRICTS, "gcj02")
        assert got_names == names, path.name
        assert np.allclose(got.to_numpy(float), ref.to_numpy(float), atol=1e-6, equal_nan=True), path.name


def test_complete_and_hard_clipped_cuts_agree_well_inside(tmp):
    districts = write_districts(tmp / "inner.geojson", INNER)
    complete = cut_extract(CHENGDU_PBF, tmp / "box_complete.osm.pbf", BOX, complete=True)
    hard = cut_extract(CHENGDU_PBF, tmp / "box_hard.osm.pbf", BOX, complete=False)
    _, a = _shares(complete, districts, "wgs84")
    _, b = _shares(hard, districts, "wgs84")
    assert (a["demand_total"] > 0).all()
    diff = (a[["share_buffer", "share_network"]] - b[["share_buffer", "share_network"]]).abs()
    assert float(diff.max().max()) <= 0.005, diff
