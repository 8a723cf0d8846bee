"""Batch runs over a real Dask LocalCluster: one job per district, failures isolated."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geoplan.batch import district_jobs, run_batch
from geoplan.config import load_config
from tests.conftest import CHENGDU_CONFIG

pytestmark = pytest.mark.slow


def _config(include):
    config = load_config(CHENGDU_CONFIG)
    districts = config.districts.model_copy(update={"include": include})
    return config.model_copy(update={"districts": districts, "standards": ["park_500", "bus_stop_500"]})


def test_jobs_are_one_per_district(tmp_path):
    jobs, failed = district_jobs([_config(["锦江区", "青羊区"])], tmp_path)
    assert failed.empty
    assert [(j.city, j.district) for j in jobs] == [("成都", "锦江区"), ("成都", "青羊区")]
    assert jobs[0].config.districts.include == ["锦江区"]
    # keyed by config and district code (510104 is 锦江区's adcode)
    assert jobs[0].out.parent.parent == tmp_path
    assert jobs[0].out.parent.name.startswith("chengdu_core-")
    assert jobs[0].out.name.startswith("510104-")


def test_a_config_sharing_census_districts_among_units_is_refused_with_the_way_out(tmp_path):
    from geoplan.config import CensusDistrictsSource

    shared = _config(["锦江区"])
    zones = CensusDistrictsSource(path=shared.districts.path, crs="gcj02")
    shared = shared.model_copy(update={"demand": shared.demand.model_copy(
        update={"census_districts": zones}), "name": "grid"})
    jobs, failed = district_jobs([shared, _config(["青羊区"])], tmp_path)
    assert [j.district for j in jobs] == ["青羊区"]  # the other config still runs
    (row,) = failed.to_dict("records")
    assert row["status"] == "failed" and "geoplan run" in row["error"]
    assert "census_districts" in Path(row["log"]).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def local_batch(tmp_path_factory):
    """One batch over a LocalCluster, 锦江区 and 武侯区: both tests below read it."""
    out = tmp_path_factory.mktemp("local-batch")
    summary = run_batch([_config(["锦江区", "武侯区"])], out, workers=1,
                        steps=("layers", "coverage"))
    return out, summary


def test_batch_over_a_local_cluster_isolates_failures(local_batch):
    # 武侯区 has under 1% of its area inside the extract: its job fails, 锦江区's completes
    tmp_path, summary = local_batch
    by_district = summary.groupby("district")["status"].first()
    assert by_district["锦江区"] == "ok"
    assert by_district["武侯区"] == "failed"
    assert "barely overlap" in summary.loc[summary["district"] == "武侯区", "error"].iloc[0]
    ok = summary.loc[summary["status"] == "ok"]
    assert set(ok["standard"]) == {"park_500", "bus_stop_500"}
    assert ok["share_buffer"].between(0, 1).all()
    assert len(list(tmp_path.glob("chengdu_core-*/510104-*/coverage.csv"))) == 1
    written = pd.read_csv(tmp_path / "batch_summary.csv", encoding="utf-8-sig")
    assert len(written) == len(summary)


def test_a_district_alone_gives_the_same_shares_as_the_whole_run(local_batch, chengdu_layers):
    from geoplan.coverage import run_coverage
    from geoplan.standards import resolve_standards

    config = _config(["锦江区"])
    standards = resolve_standards(["park_500", "bus_stop_500"])
    whole = run_coverage(chengdu_layers, standards, config.demand).table
    # the batch's 锦江区 job loads that district alone (its config includes only 锦江区)
    _, summary = local_batch
    alone = summary.loc[summary["district"] == "锦江区"].set_index("standard")
    for sid in ("park_500", "bus_stop_500"):
        row = whole.loc[(whole["district"] == "锦江区") & (whole["standard"] == sid)].iloc[0]
        assert alone.loc[sid, "share_buffer"] == pytest.approx(row["share_buffer"], abs=1e-9)
        # the walking graph differs only beyond the 1000 m margin, which a 500 m walk never reaches
        assert alone.loc[sid, "share_network"] == pytest.approx(row["share_network"], abs=1e-9)
