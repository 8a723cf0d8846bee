"""Batch runs over a real Dask LocalCluster: one job per district, failures isolated."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from geoplan.batch import district_jobs, run_batch, summarise
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


def _grid_config(tmp_path: Path):
    """Three 1 km cells across the 青羊区, 金牛区 and 成华区 lines, their residents shared from
    the shipped 区县 (``demand.census_districts``)."""
    import geopandas as gpd
    import shapely

    from geoplan.config import CensusDistrictsSource, DistrictsSource

    cells = [shapely.box(x, 30.675, x + 0.01, 30.685) for x in (104.065, 104.075, 104.085)]
    path = tmp_path / "cells.geojson"
    gpd.GeoDataFrame({"name": [f"第{i}网格" for i in (1, 2, 3)], "code": ["g1", "g2", "g3"]},
                     geometry=cells, crs="EPSG:4326").to_file(path)
    config = _config(None)
    zones = CensusDistrictsSource(path=config.districts.path, crs="gcj02")
    return config.model_copy(update={
        "name": "grid", "standards": ["park_500", "life_circle_15min"],
        "districts": DistrictsSource(path=path, crs="wgs84", name_field="name", code_field="code",
                                     unit="网格"),
        "demand": config.demand.model_copy(update={"census_districts": zones})})


def test_each_cell_of_a_batch_reads_as_in_the_whole_run(tmp_path, scheduler):
    # each job sees one cell; the config's city task sees all three: it shares each 区县's
    # residents among them by residential land and counts the life circle's facilities of
    # the whole area, as `geoplan run` does
    from geoplan.coverage import run_coverage
    from geoplan.coverage.census_areas import census_unit_figures
    from geoplan.layers import load_layers
    from geoplan.standards import resolve_standards

    config = _grid_config(tmp_path)
    jobs, failed = district_jobs([config], tmp_path / "out")
    assert failed.empty and [j.whole_include for j in jobs] == [None] * 3
    summary = run_batch([config], tmp_path / "out", scheduler=scheduler, steps=("layers", "coverage"))
    assert set(summary["status"]) == {"ok"}, summary.get("error")
    layers = load_layers(config)
    whole = census_unit_figures(layers, config.demand)
    assert whole is not None and len(whole.figures) == 3
    table = run_coverage(layers, resolve_standards(["park_500", "life_circle_15min"]),
                         config.demand).table
    for job in jobs:
        residents = pd.read_csv(job.out / "residents.csv", encoding="utf-8-sig")
        (got,) = residents["residents_inside"]
        assert got == pytest.approx(whole.figures[job.district][0], rel=1e-9)
        assert residents["census_source"].iloc[0] == whole.figures[job.district][1]
        for sid in ("park_500", "life_circle_15min"):
            mine = summary.loc[(summary["district"] == job.district)
                               & (summary["standard"] == sid)].iloc[0]
            row = table.loc[(table["district"] == job.district) & (table["standard"] == sid)]
            row = row.iloc[0]
            # 第1网格 has no residential land mapped: no share, and no residents
            for measure in ("share_buffer", "share_network", "share_population_buffer"):
                assert mine[measure] == pytest.approx(row[measure], abs=1e-9, nan_ok=True), \
                    (job.district, sid, measure)
            # the life circle's items are counted over the whole area, not the cell's margin
            assert mine["n_facilities"] == row["n_facilities"], (job.district, sid)
    assert whole.figures["第1网格"][0] == 0 and whole.figures["第2网格"][0] > 1000
    # a cell measured alone shares its 区县's residents by its area, not by the land of all
    # three: 12,646 against 16,932 (when written)
    alone = census_unit_figures(load_layers(jobs[1].config), config.demand)
    assert alone is not None
    assert abs(alone.figures["第2网格"][0] / whole.figures["第2网格"][0] - 1) > 0.1


def test_warnings_of_the_city_task_and_the_jobs_reach_the_batch(tmp_path, caplog, scheduler):
    # the shipped 区县 are GCJ-02: declared WGS 84, every job still runs (the figures move),
    # and the warning a worker logged reaches the summary and the batch's own log
    config = _grid_config(tmp_path)
    wrong = config.demand.census_districts.model_copy(update={"crs": "wgs84"})
    config = config.model_copy(update={"standards": ["park_500"], "demand": config.demand
                                       .model_copy(update={"census_districts": wrong})})
    with caplog.at_level("WARNING", logger="geoplan.batch"):
        summary = run_batch([config], tmp_path / "out", scheduler=scheduler, steps=("layers", "coverage"))
    assert set(summary["status"]) == {"ok"}
    # the city task's warning is the config's, said once, not one of each job's own
    assert summary["city_warnings"].str.contains("DEMAND.CENSUS_DISTRICTS LOOK LIKE GCJ02").all()
    assert not summary["warnings"].fillna("").str.contains("LOOK LIKE GCJ02").any()
    said = [r.getMessage() for r in caplog.records if "LOOK LIKE GCJ02" in r.getMessage()]
    assert len(said) == 1 and "(the whole city)" in said[0] and "!!!" not in said[0]
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert page.count("LOOK LIKE GCJ02") == 1 and "（全市数据）" in page and "项任务）" not in page
    table = summarise(summary)
    assert list(table["district"]) == ["第1网格", "第2网格", "第3网格"]
    # each job's line counts the city's warning: it bears on every district's figures
    assert (table["warnings"] == 1).all() and "config" not in table.columns


def test_a_jobs_own_warnings_are_counted_and_the_citys_said_once():
    from geoplan.report.batch_index import warning_counts

    rows = pd.DataFrame({"district": ["甲", "甲", "乙", "丙"],
                         "warnings": ["own A | city X", "own A | city X", "own A", None],
                         "city_warnings": ["city X", "city X", "city X", "city X"]})
    assert warning_counts(rows) == (["city X"], {"own A": 2}, 3)
    old = rows.drop(columns="city_warnings")  # a summary written before the column
    assert warning_counts(old) == ([], {"own A": 2, "city X": 1}, 3)
    # districts outside the data ran nothing: "2 of 2 jobs", not "2 of 3"
    outside = rows.assign(status=["ok", "ok", "ok", "outside"])
    assert warning_counts(outside) == (["city X"], {"own A": 2}, 2)
    # the terminal's table: per job, its own and the city's, each once (甲: own A, city X)
    table = summarise(rows.assign(city="成都", status="ok"))
    assert dict(zip(table["district"], table["warnings"], strict=True)) == {"甲": 2, "乙": 2, "丙": 1}
    table = summarise(outside.assign(city="成都"))  # 丙 lies outside the data: it ran nothing
    assert dict(zip(table["district"], table["warnings"], strict=True)) == {"甲": 2, "乙": 2, "丙": 0}


def test_a_census_task_that_fails_fails_its_configs_jobs_and_no_other(tmp_path, scheduler):
    config = _grid_config(tmp_path)
    broken = config.model_copy(update={"demand": config.demand.model_copy(update={
        "census_districts": config.demand.census_districts.model_copy(
            update={"name_field": "no_such_field"})})})
    summary = run_batch([broken, _config(["锦江区"])], tmp_path / "out", scheduler=scheduler,
                        steps=("layers", "coverage"))
    by_district = summary.groupby("district")["status"].first()
    assert by_district["锦江区"] == "ok"
    cells = summary.loc[summary["district"].str.startswith("第")]
    assert len(cells) == 3 and set(cells["status"]) == {"failed"}
    assert cells["error"].str.contains("demand.census_districts").all()
    assert "no_such_field" in Path(cells["log"].iloc[0]).read_text(encoding="utf-8")
    table = summarise(summary)  # two configs: the terminal's table says which is which
    assert table["config"].nunique() == 2 and table["config"].is_monotonic_increasing
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert page.count("no_such_field") == 1 and page.count("见错误 1") == 3


@pytest.fixture(scope="module")
def scheduler():
    """One LocalCluster (a worker process, one thread) for the module's batches: each batch
    would otherwise start and stop its own, about 3.5 s of the suite each. ``local_batch``
    still lets :func:`run_batch` start its own, the default."""
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def local_batch(tmp_path_factory):
    """One batch over a LocalCluster, 锦江区 and 武侯区: both tests below read it."""
    out = tmp_path_factory.mktemp("local-batch")
    summary = run_batch([_config(["锦江区", "武侯区"])], out, workers=1,
                        steps=("layers", "coverage", "report"))
    return out, summary


def test_batch_over_a_local_cluster_leaves_out_what_geoplan_run_leaves_out(local_batch):
    # 武侯区 has under 1% of its area inside the extract: `geoplan run` leaves it out, and so
    # does its job (outside, not failed); 锦江区's completes
    tmp_path, summary = local_batch
    by_district = summary.groupby("district")["status"].first()
    assert by_district["锦江区"] == "ok"
    assert by_district["武侯区"] == "outside"
    assert "min_inside_km2" in summary.loc[summary["district"] == "武侯区", "error"].iloc[0]
    # a district outside logged nothing of its own: the city's warnings are the config's
    assert summary.loc[summary["district"] == "武侯区", "warnings"].fillna("").eq("").all()
    assert not list(tmp_path.glob("chengdu_core-*/510107-*/coverage.csv"))
    ok = summary.loc[summary["status"] == "ok"]
    assert set(ok["standard"]) == {"park_500", "bus_stop_500"}
    assert ok["share_buffer"].between(0, 1).all()
    assert len(list(tmp_path.glob("chengdu_core-*/510104-*/coverage.csv"))) == 1
    written = pd.read_csv(tmp_path / "batch_summary.csv", encoding="utf-8-sig")
    assert len(written) == len(summary)


def test_a_rerun_skips_a_district_outside_as_well(local_batch, tmp_path, scheduler):
    import shutil

    shutil.copytree(local_batch[0], tmp_path / "copy")  # the module's folder stays as it was
    again = run_batch([_config(["锦江区", "武侯区"])], tmp_path / "copy", scheduler=scheduler,
                      steps=("layers", "coverage", "report"))
    assert again.groupby("district")["status"].first().to_dict() == {"武侯区": "outside",
                                                                      "锦江区": "skipped"}


def test_a_job_without_its_run_records_is_not_whole(local_batch, tmp_path):
    # run.json and the reports' record are the run's: one gone, the job runs again (it used to
    # be skipped as "unchanged and whole", its run.json still missing)
    import shutil

    from geoplan.batch import job_is_done

    shutil.copytree(local_batch[0], tmp_path / "copy")
    (job,) = [j for j in district_jobs([_config(["锦江区", "武侯区"])], tmp_path / "copy",
                                       ("layers", "coverage", "report"))[0]
              if j.district == "锦江区"]
    assert job_is_done(job)
    record = (job.out / "reports" / ".geoplan-reports.json")
    saved = record.read_bytes()
    record.unlink()
    assert not job_is_done(job)
    record.write_bytes(saved)
    assert job_is_done(job)
    (job.out / "run.json").unlink()
    assert not job_is_done(job)


def test_a_changed_scenario_file_runs_its_config_s_jobs_again(tmp_path):
    # the job's run.json records the scenarios' files: a change must not leave it stale
    import shutil

    planned = tmp_path / "planned.csv"
    shutil.copy(CHENGDU_CONFIG.parent / "chengdu_planned_toilets.csv", planned)
    config = _config(["锦江区"])
    scenario = config.scenarios["planned_toilets"]
    moved = {kind: [s.model_copy(update={"path": planned}) for s in sources]
             for kind, sources in scenario.layers.items()}
    config = config.model_copy(update={"scenarios": {
        "planned_toilets": scenario.model_copy(update={"layers": moved})}})
    (before,), _ = district_jobs([config], tmp_path)
    planned.write_text(planned.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    (after,), _ = district_jobs([config], tmp_path)
    assert before.fingerprint != after.fingerprint


def test_the_batch_page_lists_every_job_with_links_that_open(local_batch):
    tmp_path, _ = local_batch
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "geoplan 批量分析" in page and "不在数据范围内 1" in page and "完成 1" in page
    links = re.findall(r'href="([^"]+)"', page)
    report = [link for link in links if link.endswith(".html")]
    assert len(report) == 2 and all("/reports/" in link for link in report)  # name and 报告
    assert any(link.endswith("geoplan_report.xlsx") for link in links)
    for link in links:
        assert (tmp_path / link).exists(), link
    assert "武侯区" in page.split("geoplan run 也不分析它们")[1]  # listed as left out


def test_the_batch_page_escapes_names_and_says_each_error_once(tmp_path):
    from geoplan.batch import Job
    from geoplan.report.batch_index import write_batch_index

    config = _config(None)
    hostile = ["<script>alert(1)</script>", "=HYPERLINK(\"http://x\")"]
    jobs = [Job("<b>城</b>", name, "", config, tmp_path / "k" / f"d{i}", f"k/d{i}")
            for i, name in enumerate(hostile)]
    summary = pd.DataFrame([{"city": "<b>城</b>", "config": "k", "district": name, "code": "",
                             "status": "failed", "error": "<img src=x onerror=alert(1)>",
                             "log": str(tmp_path / "_logs" / "k.log")} for name in hostile])
    page = write_batch_index(summary, jobs, tmp_path).read_text(encoding="utf-8")
    assert "<script>alert" not in page and "<img" not in page and "<b>城" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x" in page
    assert page.count("onerror") == 1 and page.count("见错误 1") == 2  # said once, named twice


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


def test_a_school_near_a_district_line_shares_its_seats_as_in_the_whole_run(tmp_path, scheduler):
    # each job walks only its district's homes; the children each school gets from every
    # district are counted before the jobs and added up, so a job shares a school's seats
    # among all the children in its catchment, as `geoplan run` does (before: 金牛区's junior
    # schools read 9,600 seats reached in its job against 6,460 in the whole run)
    import json

    from geoplan.coverage import run_coverage
    from geoplan.layers import load_layers
    from geoplan.standards import resolve_standards

    config = _config(["金牛区", "青羊区"]).model_copy(
        update={"standards": ["primary_school_500", "junior_school_1000"]})
    out, steps = tmp_path / "out", ("layers", "coverage")
    summary = run_batch([config], out, scheduler=scheduler, steps=steps)
    assert set(summary["status"]) == {"ok"}, summary.get("error")
    whole = run_coverage(load_layers(config), resolve_standards(config.standards),
                         config.demand).people
    assert whole is not None
    seats = whole.seats.set_index(["district", "level"])
    per_school = whole.schools.set_index(["level", "source_id"])["children_in_catchment"]
    jobs, _ = district_jobs([config], out, steps)
    for job in jobs:
        mine = pd.read_csv(job.out / "seats.csv", encoding="utf-8-sig")
        assert len(mine) == 2
        for _, row in mine.iterrows():
            expect = seats.loc[(row["district"], row["level"])]
            for col in ("children", "seats_reached", "seat_gap"):
                assert row[col] == pytest.approx(expect[col], rel=1e-9), (job.district, col)
        schools = pd.read_csv(job.out / "school_seats.csv", encoding="utf-8-sig",
                              dtype={"source_id": str})
        reached = schools.loc[schools["children_in_catchment"] > 0]
        for _, school in reached.iterrows():
            city = per_school.loc[(school["level"], school["source_id"])]
            assert school["children_in_catchment"] == pytest.approx(city, rel=1e-9)
        kept = json.loads((out / "_seats" / f"{job.key.replace('/', '__')}.json").read_text())
        assert kept["fingerprint"] == job.fingerprint  # kept for reruns
    # some junior schools take children from both districts (counted in both files)
    both = [set(json.loads(p.read_text())["children"]["junior_school_1000"])
            for p in sorted((out / "_seats").glob("*.json"))]
    assert len(both) == 2 and both[0] & both[1]


def test_seat_counts_are_kept_for_reruns_and_a_failed_one_is_said(tmp_path):
    import json

    from geoplan.batch import FactsOutcome, SeatOutcome, measure_seat_demand, with_school_children
    from geoplan.coverage.city_facts import CityFacts

    (job,) = district_jobs([_config(["锦江区"])], tmp_path)[0]
    city = FactsOutcome(CityFacts({}, districts=("锦江区",)), seats=True)
    keep = tmp_path / "kept.json"
    keep.write_text(json.dumps({"fingerprint": job.fingerprint,
                                "children": {"primary_school_500": {"f|n1": 12.5}}}))
    assert measure_seat_demand(job, city, keep).children == {"primary_school_500": {"f|n1": 12.5}}
    # a district the whole run leaves out has no homes to count
    outside = FactsOutcome(CityFacts({}, districts=("青羊区",)), seats=True)
    assert measure_seat_demand(job, outside, keep).children == {}
    # without people there is nothing to count, and nothing is loaded
    assert measure_seat_demand(job, FactsOutcome(CityFacts({})), keep).children == {}

    parts = (SeatOutcome({"p": {"a": 10.0}}), SeatOutcome({"p": {"a": 5.0, "b": 1.0}}))
    added = with_school_children(city, *parts)
    assert added.facts is not None and added.facts.school_children == {"p": {"a": 15.0, "b": 1.0}}
    failed = with_school_children(city, parts[0], SeatOutcome(error="金牛区: OSError: gone"))
    assert failed.facts is not None and failed.facts.school_children is None
    assert any("金牛区: OSError: gone" in w and "own children only" in w for w in failed.warnings)


def test_a_job_takes_the_whole_citys_datum_check(tmp_path, scheduler):
    # 区县 boundaries in GCJ-02 declared WGS 84: the city task checks them over the whole
    # city, as `geoplan run` does, and each job's data checks say that (a district alone
    # would give other medians, and cost each job the check again)
    from geoplan.layers import load_layers

    config = _config(["成华区", "锦江区"])  # two jobs are enough: the check is the city's
    config = config.model_copy(update={
        "standards": ["park_500"],
        "districts": config.districts.model_copy(update={"crs": "wgs84"})})
    whole = load_layers(config).datum
    assert whole is not None and whole["suspect"]
    out = tmp_path / "out"
    summary = run_batch([config], out, scheduler=scheduler, steps=("layers", "coverage"))
    assert set(summary["status"]) == {"ok"}, summary.get("error")
    for checks in out.glob("chengdu_core-*/*/data_checks.csv"):
        table = pd.read_csv(checks, encoding="utf-8-sig")
        (message,) = table.loc[table["check"] == "datum", "detail"]
        assert message == whole["message"]
    assert len(list(out.glob("chengdu_core-*/*/data_checks.csv"))) == 2


def _ctrl_c_handler() -> bool:
    import signal

    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_the_batch_s_worker_processes_leave_ctrl_c_to_the_batch():
    # Ctrl-C reaches every process of the command: each worker used to print its own
    # KeyboardInterrupt traceback; they now ignore it and the batch closes them. A Ctrl-C
    # while the cluster starts is held and acts once it is up (ignored, it was lost and
    # the batch ran to its end)
    import os
    import signal

    from dask.distributed import Client, LocalCluster

    from geoplan.batch import _ctrl_c_held

    before = signal.getsignal(signal.SIGINT)
    cluster = None
    with pytest.raises(KeyboardInterrupt):
        with _ctrl_c_held():
            cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", preload=["geoplan._worker_signals"])
            os.kill(os.getpid(), signal.SIGINT)  # as if pressed while the workers start
    try:
        assert cluster is not None and signal.getsignal(signal.SIGINT) is before
        with Client(cluster) as client:
            assert client.submit(_ctrl_c_handler, pure=False).result() is True
            client.restart()  # a worker started again ignores it too
            assert client.submit(_ctrl_c_handler, pure=False).result() is True
    finally:
        if cluster is not None:
            cluster.close()


def test_a_cluster_that_fails_to_start_under_a_ctrl_c_is_the_interrupt():
    # the terminal's Ctrl-C reaches the workers still importing too: the cluster failed to
    # start ("Nanny failed to start") and the batch said "unexpected error", exit 1 not 130
    import os
    import signal

    from geoplan.batch import _ctrl_c_held

    with pytest.raises(KeyboardInterrupt):
        with _ctrl_c_held():
            os.kill(os.getpid(), signal.SIGINT)
            raise RuntimeError("Nanny failed to start.")
    with pytest.raises(RuntimeError, match="Nanny"):  # without a Ctrl-C it is an error
        with _ctrl_c_held():
            raise RuntimeError("Nanny failed to start.")


def test_every_config_with_a_problem_is_named_before_any_work(tmp_path, capsys):
    from geoplan.cli import main
    from tests.conftest import ROOT

    out = tmp_path / "out"
    code = main(["batch", str(CHENGDU_CONFIG), str(ROOT / "analyses" / "xiamen.yaml"),
                 str(ROOT / "analyses" / "fuzhou.yaml"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "2 of the 3 configs (nothing was run" in err
    assert "xiamen.yaml: osm.path: file not found" in err
    assert "fuzhou.yaml: osm.path: file not found" in err


def test_an_error_many_districts_share_is_said_once_on_the_terminal():
    from geoplan.cli.batch_cmd import failure_lines

    city = "the whole city's figures could not be measured: boom (log: x.log)"
    table = pd.DataFrame({"city": ["甲市"] * 4 + ["乙市"], "district": ["a", "b", "c", "d", ""],
                          "status": ["failed", "failed", "ok", "failed", "failed"],
                          "result": [city, city, "2/2 standards met", "OSError: disk", "no"]})
    assert failure_lines(table) == [f"failed: 2 districts (a, b): {city}",
                                    "failed: d: OSError: disk", "failed: 乙市: no"]
    # two configs of one city: each line names its config (they read alike before)
    two = pd.DataFrame({"city": ["甲市"] * 3, "config": ["plan_a-1", "plan_b-2", "plan_b-2"],
                        "district": ["", "", "a"], "status": ["failed"] * 3,
                        "result": ["bad file (log: 1)", "bad file (log: 2)", "OSError: disk"]})
    assert failure_lines(two) == ["failed: 甲市 (plan_a-1): bad file (log: 1)",
                                  "failed: 甲市 (plan_b-2): bad file (log: 2)",
                                  "failed: plan_b-2/a: OSError: disk"]


def test_a_config_given_three_times_is_counted_once(tmp_path, capsys):
    from geoplan.cli import main
    from tests.conftest import ROOT

    code = main(["batch", *[str(CHENGDU_CONFIG)] * 3, str(ROOT / "analyses" / "xiamen.yaml"),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2  # xiamen's OSM file is not shipped: stopped before any work
    assert "1 config(s) given more than once, run once: chengdu_core.yaml (3 times)" in err
