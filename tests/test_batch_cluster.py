"""``geoplan batch`` on a real Dask cluster: ``dask scheduler`` and ``dask worker`` processes.

42 (config, district) jobs on a tiny synthetic city (a 2 km street grid, 21 districts, one
cheap standard): two configs of the same city, a third whose districts file is broken. Checks
that job folders are keyed by config and district (``a/b`` and ``a?b`` apart), that the broken
config fails alone with its full message and a traceback file, that a rerun skips finished
jobs, and that a damaged output makes its job run again.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from geoplan._errors import OutputError
from geoplan.batch import config_key, district_jobs, run_batch, summarise
from geoplan.config import load_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
LON0, LAT0 = 104.05, 30.66
DLON, DLAT = 100 / 95_760, 100 / 110_850  # 100 m
COLS, ROWS = 20, 9  # street lines: 1.9 km × 0.8 km
N_DISTRICTS = 20


def _osm_xml() -> str:
    nid = 0
    nodes, ways = [], []
    grid = {}
    for j in range(ROWS):
        for i in range(COLS):
            nid += 1
            grid[i, j] = nid
            nodes.append(f'<node id="{nid}" lat="{LAT0 + j * DLAT:.7f}" lon="{LON0 + i * DLON:.7f}"/>')
    wid = 0
    for j in range(ROWS):
        wid += 1
        refs = "".join(f'<nd ref="{grid[i, j]}"/>' for i in range(COLS))
        ways.append(f'<way id="{wid}">{refs}<tag k="highway" v="residential"/></way>')
    for i in range(COLS):
        wid += 1
        refs = "".join(f'<nd ref="{grid[i, j]}"/>' for j in range(ROWS))
        ways.append(f'<way id="{wid}">{refs}<tag k="highway" v="residential"/></way>')
    for i in range(0, COLS - 1):
        for j in range(0, ROWS - 1, 2):
            ids = []
            for di, dj in ((0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)):
                nid += 1
                ids.append(nid)
                nodes.append(f'<node id="{nid}" lat="{LAT0 + (j + dj) * DLAT:.7f}" '
                             f'lon="{LON0 + (i + di) * DLON:.7f}"/>')
            wid += 1
            refs = "".join(f'<nd ref="{r}"/>' for r in [*ids, ids[0]])
            ways.append(f'<way id="{wid}">{refs}<tag k="landuse" v="residential"/></way>')
    for i in range(1, COLS, 6):
        nid += 1
        nodes.append(f'<node id="{nid}" lat="{LAT0 + 4 * DLAT + 0.00005:.7f}" '
                     f'lon="{LON0 + i * DLON:.7f}"><tag k="highway" v="bus_stop"/>'
                     f'<tag k="name" v="stop {i}"/></node>')
    bounds = (f'<bounds minlat="{LAT0 - DLAT:.7f}" minlon="{LON0 - DLON:.7f}" '
              f'maxlat="{LAT0 + ROWS * DLAT:.7f}" maxlon="{LON0 + COLS * DLON:.7f}"/>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
            + bounds + "\n" + "\n".join(nodes + ways) + "\n</osm>\n")


def _districts() -> dict:
    feats = []
    width = (COLS - 1) / N_DISTRICTS
    for k in range(N_DISTRICTS):
        x0, x1 = LON0 + k * width * DLON, LON0 + (k + 1) * width * DLON
        y0, y1 = LAT0, LAT0 + (ROWS - 1) * DLAT
        name, code = f"区{k:02d}", f"5101{k:02d}"
        if k == 1:
            name, code = "a/b", "AB"
        elif k == 2:
            name, code = "a?b", "AB"  # same code too: only the name tells them apart
        feats.append({"type": "Feature", "properties": {"name": name, "adcode": code},
                      "geometry": {"type": "Polygon", "coordinates": [
                          [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}})
    return {"type": "FeatureCollection", "features": feats}


def _config_text(name: str, districts: str) -> str:
    return (f"name: {name}\ncity: 测试市\ndistricts:\n  path: {districts}\n  crs: wgs84\n"
            "  name_field: name\n  code_field: adcode\n  min_inside_km2: 0.01\nosm:\n  path: city.osm\n"
            "standards: [bus_stop_500]\ndemand:\n  grid_m: 50\noutput: out\n")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batch-city")
    (folder / "city.osm").write_text(_osm_xml(), encoding="utf-8")
    (folder / "districts.geojson").write_text(json.dumps(_districts(), ensure_ascii=False),
                                              encoding="utf-8")
    (folder / "broken.geojson").write_text('{"type": "FeatureCollection", "features": [',
                                           encoding="utf-8")
    (folder / "plan_a.yaml").write_text(_config_text("plan A", "districts.geojson"), encoding="utf-8")
    (folder / "plan_b.yaml").write_text(_config_text("plan B", "districts.geojson"), encoding="utf-8")
    (folder / "broken.yaml").write_text(_config_text("broken", "broken.geojson"), encoding="utf-8")
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory):
    """A scheduler and two worker processes (1 thread each), each started as on a cluster.

    The workers run without a nanny (``--no-nanny``): a nanny is one more interpreter per
    ``dask worker`` command, to start and to stop, and the tests never need a worker restarted.
    """
    from dask.distributed import Client

    dask_cli = Path(sys.executable).parent / "dask"
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               GEOPLAN_NO_PROGRESS="1")
    logs = tmp_path_factory.mktemp("dask-logs")
    files = [open(logs / "scheduler.log", "w"), open(logs / "worker-1.log", "w"),
             open(logs / "worker-2.log", "w")]
    procs = [subprocess.Popen([str(dask_cli), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                              stderr=files[0])]
    try:
        for log in files[1:]:
            procs.append(subprocess.Popen(
                [str(dask_cli), "worker", address, "--no-nanny", "--nthreads", "1",
                 "--memory-limit", "1GiB", "--no-dashboard"], env=env,
                stdout=subprocess.DEVNULL, stderr=log))
        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(address, timeout=10) as client:
                    client.wait_for_workers(2, timeout=120)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        # the workers first, each waited for, then the scheduler: a worker whose scheduler
        # went at the same time tries to reach it again for up to its connect timeout
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in files:
            f.close()


def _configs(city: Path) -> list:
    return [load_config(city / name) for name in ("plan_a.yaml", "plan_b.yaml", "broken.yaml")]


@pytest.fixture(scope="module")
def first_run(city: Path, scheduler: str, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("batch-out")
    summary = run_batch(_configs(city), out, scheduler=scheduler, steps=("coverage",))
    return out, summary


def test_job_folders_are_keyed_by_config_and_district(city: Path, tmp_path: Path) -> None:
    jobs, failed = district_jobs(_configs(city), tmp_path)
    assert len(jobs) == 2 * N_DISTRICTS and len(failed) == 1
    assert len({j.out for j in jobs}) == len(jobs)  # a/b, a?b and two configs of one city apart
    ab = [j for j in jobs if j.district in ("a/b", "a?b")]
    assert len({j.out for j in ab}) == 4
    assert all(j.out.parent.parent == tmp_path for j in jobs)


def test_batch_on_a_dask_cluster(first_run) -> None:
    out, summary = first_run
    jobs = summarise(summary)
    assert (jobs["status"] == "ok").sum() == 2 * N_DISTRICTS
    ok = summary.loc[summary["status"] == "ok"]
    assert ok["share_buffer"].between(0, 1).all()
    # each job counted once, into its own folder: plan A and plan B never mix
    assert ok.groupby(["config", "district"]).size().eq(1).all()
    assert ok["config"].nunique() == 2
    folders = {p.parent for p in out.glob("*/*/job.json")}
    assert len(folders) == 2 * N_DISTRICTS
    # the coverage step alone: each job's coverage, not its 17 layers again (the "layers" step)
    assert len(list(out.glob("*/*/coverage.gpkg"))) == 2 * N_DISTRICTS
    assert not list(out.glob("*/*/layers.gpkg"))
    for name in ("a/b", "a?b"):
        assert (ok["district"] == name).sum() == 2
    written = pd.read_csv(out / "batch_summary.csv", encoding="utf-8-sig")
    assert len(written) == len(summary)


def test_unreadable_districts_fail_their_config_alone(first_run, city: Path) -> None:
    _, summary = first_run
    bad = summary.loc[summary["status"] == "failed"]
    assert len(bad) == 1
    message = bad["error"].iloc[0]
    assert "broken.geojson" in message  # the full message, naming the file
    log = Path(bad["log"].iloc[0])
    assert log.is_file() and "Traceback" in log.read_text(encoding="utf-8")
    line = summarise(summary).set_index("status").loc["failed", "result"]
    assert message in line


def test_rerun_skips_finished_jobs_and_redoes_damaged_ones(first_run, city: Path,
                                                           scheduler: str) -> None:
    out, first = first_run
    again = run_batch(_configs(city), out, scheduler=scheduler, steps=("coverage",))
    assert (summarise(again)["status"] == "skipped").sum() == 2 * N_DISTRICTS
    cols = ["config", "district", "standard", "share_buffer", "share_network"]
    a = first.loc[first["status"] == "ok", cols].sort_values(cols[:3]).reset_index(drop=True)
    b = again.loc[again["status"] == "skipped", cols].sort_values(cols[:3]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    damaged = next(iter(sorted(out.glob("*/*/coverage.csv"))))
    damaged.write_text(damaged.read_text(encoding="utf-8-sig")[:50], encoding="utf-8")
    third = run_batch(_configs(city), out, scheduler=scheduler, steps=("coverage",))
    status = summarise(third)["status"].value_counts()
    assert status["ok"] == 1 and status["skipped"] == 2 * N_DISTRICTS - 1
    # a batch of plan A alone into the same folder stops before any work (its summary would
    # not list plan B's jobs), unless told to remove them: then the folder holds what its
    # summary lists
    with pytest.raises(OutputError, match="not in this batch"):
        run_batch(_configs(city)[:1], out, scheduler=scheduler, steps=("coverage",))
    alone = run_batch(_configs(city)[:1], out, scheduler=scheduler, steps=("coverage",),
                      prune=True)
    assert set(alone["config"]) == {config_key(_configs(city)[0])}
    assert (summarise(alone)["status"] == "skipped").sum() == N_DISTRICTS
    folders = {p.parent for p in out.glob("*/*/job.json")}
    assert len(folders) == N_DISTRICTS and len({f.parent for f in folders}) == 1
