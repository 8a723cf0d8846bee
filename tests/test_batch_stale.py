"""A batch's config folder holds its current jobs only: folders of districts gone are removed."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geoplan.batch import JOB_FILE, ROWS_FILE, district_jobs, remove_stale_jobs
from geoplan.config import DistrictsSource, load_config
from tests.conftest import CHENGDU_CONFIG


def _jobs(tmp_path: Path, names: list[str]):
    path = tmp_path / "cells.geojson"
    cells = [shapely.box(104.06 + 0.01 * i, 30.67, 104.07 + 0.01 * i, 30.68) for i in range(len(names))]
    gpd.GeoDataFrame({"name": names, "code": [f"G{i}" for i in range(len(names))]},
                     geometry=cells, crs="EPSG:4326").to_file(path)
    config = load_config(CHENGDU_CONFIG)
    config = config.model_copy(update={"districts": DistrictsSource(path=path, code_field="code")})
    jobs, failed = district_jobs([config], tmp_path / "out")
    assert failed.empty
    return jobs


def _finished(folder: Path, extra: str | None = None) -> None:
    """A job folder as a finished job leaves it."""
    (folder / "reports").mkdir(parents=True)
    for name in ("coverage.csv", ROWS_FILE, "reports/index.html"):
        (folder / name).write_text("x", encoding="utf-8")
    (folder / "run.json").write_text("{}", encoding="utf-8")
    (folder / "reports" / ".geoplan-reports.json").write_text("{}", encoding="utf-8")
    files = {"coverage.csv": [1, ""], ROWS_FILE: [1, ""], "reports/index.html": [1, ""]}
    record = {"key": f"{folder.parent.name}/{folder.name}", "files": files}
    (folder / JOB_FILE).write_text(json.dumps(record), encoding="utf-8")
    if extra:
        (folder / extra).write_text("mine", encoding="utf-8")


def test_the_folders_of_districts_gone_are_removed_and_a_planners_file_kept(tmp_path, caplog):
    before = _jobs(tmp_path, ["甲", "乙", "丙"])
    for job in before:
        _finished(job.out, extra="notes.txt" if job.district == "丙" else None)
    after = _jobs(tmp_path, ["甲", "丁"])  # 乙 and 丙 gone, 丁 new
    folder = after[0].out.parent
    assert folder == before[0].out.parent
    unrelated = folder / "by hand"  # no job.json: not a job's folder
    unrelated.mkdir()
    with caplog.at_level(logging.INFO):
        removed = remove_stale_jobs(after)
    by_name = {j.district: j.out for j in before}
    assert removed == [by_name["乙"]]
    assert not by_name["乙"].exists()
    assert (by_name["丙"] / "notes.txt").is_file()  # kept, and said
    assert "holds files the batch did not write (notes.txt)" in caplog.text
    assert by_name["甲"].is_dir() and unrelated.is_dir()


def test_a_job_run_again_takes_its_rows_file_for_its_own(tmp_path, caplog):
    from geoplan.batch import run_job

    job = _jobs(tmp_path, ["甲"])[0]
    first = run_job(job, ("layers",))
    assert (first["status"] != "failed").all() and (job.out / ROWS_FILE).is_file()
    with caplog.at_level(logging.WARNING):
        again = run_job(job, ("layers",))  # as a rerun after its inputs changed
    assert (again["status"] != "failed").all()
    assert "did not write" not in caplog.text
    assert (job.out / ROWS_FILE).is_file() and (job.out / JOB_FILE).is_file()


def test_a_planners_file_far_from_a_batch_jobs_district_is_no_error_there(tmp_path, caplog):
    # a toilets file for 金牛区's north-west only: the job of 锦江区 (6 km away) has none of
    # its features near; the city's run checks the file, the job neither fails nor warns
    from geoplan._errors import InputDataError
    from geoplan.config import FileSource
    from geoplan.layers import load_layers

    csv = tmp_path / "toilets.csv"
    csv.write_text("lon,lat,name\n104.045,30.725,公厕甲\n104.046,30.726,公厕乙\n", encoding="utf-8")
    config = load_config(CHENGDU_CONFIG)
    config = config.model_copy(update={
        "districts": config.districts.model_copy(update={"include": ["锦江区"]}),
        "layers": {"toilets": [FileSource(path=csv, crs="wgs84")]}})
    with pytest.raises(InputDataError, match="none of its 2 features lies within the districts"):
        load_layers(config, kinds={"toilets"})
    with caplog.at_level(logging.WARNING):
        layers = load_layers(config, kinds={"toilets"}, part_of_city=True)
    assert "toilets.csv" not in caplog.text
    assert not (layers["toilets"]["source"] == "toilets.csv").any()


def test_a_batch_job_leaves_the_partial_districts_to_the_city_task(caplog):
    from geoplan.layers import load_layers

    config = load_config(CHENGDU_CONFIG)
    config = config.model_copy(update={
        "districts": config.districts.model_copy(update={"include": ["锦江区"]})})
    with caplog.at_level(logging.WARNING):
        load_layers(config, kinds={"parks"}, part_of_city=True)
    assert "partly inside the data" not in caplog.text
    with caplog.at_level(logging.WARNING):
        load_layers(config, kinds={"parks"})
    assert "partly inside the data: results cover that part only: 锦江区" in caplog.text


def test_a_job_is_run_again_when_a_shapefile_s_table_or_the_district_list_changes(tmp_path):
    # an edited .dbf (a school's levels) kept a job's old seats: only the .shp was hashed;
    # a shorter districts.include kept a district's seats shared with a district gone
    import yaml

    from tests.hostile.world import make_world

    config_path = make_world(tmp_path, config={"layers": {"schools": [
        {"path": "schools.shp", "mode": "add"}]}})
    schools = gpd.GeoDataFrame({"name": ["新小学"], "levels": ["primary"]},
                               geometry=[shapely.Point(104.055, 30.655)], crs="EPSG:4326")
    schools.to_file(tmp_path / "schools.shp", encoding="utf-8")

    def fingerprints(include=None):
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        raw["districts"]["include"] = include
        config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        jobs, _ = district_jobs([load_config(config_path)], tmp_path / "out")
        return {j.district: j.fingerprint for j in jobs}

    first = fingerprints(["东区", "西区"])
    assert fingerprints(["东区", "西区"]) == first
    shp = (tmp_path / "schools.shp").read_bytes()
    schools.assign(levels=["senior"]).to_file(tmp_path / "schools.shp", encoding="utf-8")
    assert (tmp_path / "schools.shp").read_bytes() == shp  # only the .dbf changed
    edited = fingerprints(["东区", "西区"])
    assert all(edited[d] != first[d] for d in first)
    assert fingerprints(["东区"])["东区"] != edited["东区"]


def test_a_batch_over_fewer_configs_stops_or_prunes_the_others_job_folders(tmp_path, caplog):
    from geoplan._errors import OutputError
    from geoplan.batch import LOG_DIR, SEATS_DIR, other_configs, remove_other_configs, run_batch

    jobs = _jobs(tmp_path, ["甲"])
    _finished(jobs[0].out)
    out = jobs[0].out.parent.parent
    mine = jobs[0].config_key
    other = out / "xiamen-1a2b3c4d"  # an earlier batch's config, not in this one
    _finished(other / "350203-aaaaaaaa")
    _finished(other / "350206-bbbbbbbb", extra="notes.txt")
    _finished(other / "350211-cccccccc")
    (other / "350211-cccccccc" / "coverage.csv").write_text("xy", encoding="utf-8")  # edited
    copy = out / f"{mine}-before-review"  # a planner's copy of this config's folder
    copy.mkdir()
    _finished(copy / jobs[0].out.name)
    (copy / jobs[0].out.name / JOB_FILE).write_text(
        json.dumps({"key": f"{mine}/{jobs[0].out.name}", "files": {}}), encoding="utf-8")
    for kept, ext in ((LOG_DIR, "log"), (SEATS_DIR, "json")):
        (out / kept).mkdir(exist_ok=True)
        for name in (f"{other.name}__350203-aaaaaaaa", f"{other.name}__350206-bbbbbbbb",
                     f"{mine}__x"):
            (out / kept / f"{name}.{ext}").write_text("{}", encoding="utf-8")
    (out / "by hand").mkdir()  # a planner's folder, no job in it
    assert other_configs(out, {mine}) == [other]  # not the copy, not the planner's folder
    # without --prune the batch stops before any work, naming the folder and the ways out
    with pytest.raises(OutputError, match=r"1 config\(s\) not in this batch \(xiamen-1a2b3c4d\)"
                       r".*--prune"):
        run_batch([jobs[0].config.model_copy(update={"districts": jobs[0].config.districts})],
                  out)
    assert (other / "350203-aaaaaaaa").is_dir()
    with caplog.at_level(logging.INFO):
        removed = remove_other_configs(out, [other])
    assert removed == [other / "350203-aaaaaaaa"]
    assert (other / "350206-bbbbbbbb" / "notes.txt").is_file()  # kept, and said
    assert "of a config not in this batch, kept because it holds files the batch did not " \
           "write (notes.txt)" in caplog.text
    assert (other / "350211-cccccccc").is_dir()  # the planner's edit kept, and said
    assert "files changed since the batch wrote them (coverage.csv)" in caplog.text
    # the removed job's log and seat count went with it; the kept one's stay
    for kept, ext in ((LOG_DIR, "log"), (SEATS_DIR, "json")):
        assert sorted(p.name for p in (out / kept).iterdir()) == [
            f"{mine}__x.{ext}", f"{other.name}__350206-bbbbbbbb.{ext}"]
    assert jobs[0].out.is_dir() and (out / "by hand").is_dir() and copy.is_dir()
    # with the planner's files gone, the rest goes, folder and all
    (other / "350206-bbbbbbbb" / "notes.txt").unlink()
    (other / "350211-cccccccc" / "coverage.csv").write_text("x", encoding="utf-8")
    remove_other_configs(out, [other])
    assert not other.exists()


def test_two_configs_of_one_file_are_both_this_batch_s(tmp_path):
    from geoplan.batch import other_configs

    config = load_config(CHENGDU_CONFIG)
    variant = config.model_copy(update={"standards": ["park_500"]})
    jobs, _ = district_jobs([config, variant], tmp_path / "out")
    keys = {j.config_key for j in jobs}
    assert len(keys) == 2  # the second's key carries a hash of its content
    for job in jobs[:1] + [j for j in jobs if j.config_key != jobs[0].config_key][:1]:
        _finished(job.out)
    assert other_configs(tmp_path / "out", keys) == []


def test_a_second_batch_into_a_busy_folder_stops_at_once(tmp_path, capsys):
    """Two batches into one folder would remove each other's jobs (a batch removes those of
    configs it does not have) and write over each other's summary: the second stops."""
    from geoplan._outdir import folder_lock
    from geoplan.cli import main

    out = tmp_path / "out"
    with folder_lock(out, "geoplan batch", inside=True):
        assert (out / ".geoplan.lock").is_file()  # in the folder: its parent may be read-only
        code = main(["batch", str(CHENGDU_CONFIG), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "another geoplan run is writing into" in err and "geoplan batch started" in err
    assert sorted(p.name for p in out.iterdir()) == []  # nothing written, the lock let go
    # a geoplan run into the folder, and a batch into a run's: one at a time either way
    from geoplan._outdir import OutputRun

    with OutputRun(out, command="run"):
        code = main(["batch", str(CHENGDU_CONFIG), "--out", str(out)])
    assert code == 1 and "another geoplan run is writing into" in capsys.readouterr().err


def test_a_job_into_a_relative_folder_records_every_file_it_wrote(tmp_path, monkeypatch):
    """With ``--out out`` (relative) a job's record listed 3 of its 24 files: the run gives
    absolute paths, and none was 'inside' the relative job folder. A changed coverage.csv
    then went unseen, and the job's folder could not be told from a planner's files."""
    from geoplan.batch import job_is_done, run_job
    from tests.hostile.world import make_world

    make_world(tmp_path)
    monkeypatch.chdir(tmp_path)
    jobs, failed = district_jobs([load_config(tmp_path / "city.yaml")], Path("out"),
                                 ("layers", "coverage"))
    assert failed.empty and not jobs[0].out.is_absolute()
    rows = run_job(jobs[0], ("layers", "coverage"))
    assert set(rows["status"]) == {"ok"}
    listed = json.loads((jobs[0].out / JOB_FILE).read_text(encoding="utf-8"))["files"]
    assert {"coverage.csv", "layers.gpkg", "coverage.gpkg", "run.json", ROWS_FILE} <= set(listed)
    assert job_is_done(jobs[0])
    (jobs[0].out / "coverage.csv").write_text("garbage", encoding="utf-8")
    assert not job_is_done(jobs[0])  # damage seen: the job runs again
