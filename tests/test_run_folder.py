"""Item 4 of issue 10: an output folder always holds one run's output.

Real subprocesses are killed (SIGKILL) at several points of a run, interrupted (SIGINT) and run
twice at once into the same folder; after each, the folder is checked against its run.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from geoplan._errors import OutputError
from geoplan._outdir import RUN_JSON, OutputBusyError, OutputRun
from tests.conftest import ROOT
from tests.hostile.world import make_world, world_with_scenario

ENV = {**os.environ, "GEOPLAN_NO_PROGRESS": "1", "PYTHONPATH": str(ROOT)}


def _default_ctrl_c() -> None:
    # a run started from a background job inherits SIGINT ignored, and Python then installs
    # no KeyboardInterrupt handler: Ctrl-C must reach the run as it does from a terminal
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "geoplan", *args], cwd=cwd, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_ctrl_c)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def consistent(target: Path) -> dict:
    """The folder holds exactly the files its run.json lists, with their sizes and hashes."""
    record = json.loads((target / RUN_JSON).read_text(encoding="utf-8"))
    listed = {f["path"]: f for f in record["files"]}
    present = {str(p.relative_to(target)) for p in target.rglob("*")
               if p.is_file() and p.name != RUN_JSON}
    assert present == set(listed), (present ^ set(listed))
    for rel, entry in listed.items():
        assert (target / rel).stat().st_size == entry["size"]
        assert _sha(target / rel) == entry["sha256"]
    return record


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before the kill point: {proc.communicate()}")
        time.sleep(0.003)
    raise AssertionError("kill point never reached")


def _staging(base: Path, name: str = "out") -> list[Path]:
    return list(base.glob(f".{name}.staging-*"))


def _staged(base: Path, name: str, pattern: str) -> Callable[[], bool]:
    return lambda: any(list(s.glob(pattern)) for s in _staging(base, name))


def _previous_run(target: Path) -> dict:
    """A finished earlier run in ``target`` (another analysis' files)."""
    with OutputRun(target, command="earlier") as run:
        (run.path / "coverage.csv").write_text("another analysis\n", encoding="utf-8")
        (run.path / "reports").mkdir()
        (run.path / "reports" / "index.html").write_text("<p>old</p>", encoding="utf-8")
        run.commit()
    return consistent(target)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runfolder")
    make_world(folder)
    return folder


def test_run_json_and_stale_files_of_older_runs(city: Path) -> None:
    from geoplan.cli import main

    out = city / "out"
    out.mkdir(exist_ok=True)
    (out / "layer_issues.csv").write_text("an older run's file\n", encoding="utf-8")
    (out / "coverage.csv").write_text("another analysis\n", encoding="utf-8")
    assert main(["layers", str(city / "city.yaml"), "-q"]) == 0
    record = consistent(out)
    assert not (out / "layer_issues.csv").exists() and not (out / "coverage.csv").exists()
    assert record["command"] == "layers" and record["geoplan"]
    assert record["config"]["sha256"] == _sha(city / "city.yaml")
    roles = {i["role"]: i for i in record["inputs"]}
    assert roles["osm"]["sha256"] == _sha(city / "city.osm")
    assert roles["districts"]["sha256"] == _sha(city / "districts.geojson")
    assert record["started"] <= record["finished"]
    assert {f["path"] for f in record["files"]} == {"layers.gpkg", "layers.csv"}
    assert not list(city.glob(".out.*"))  # no lock, no staging left


KILL_POINTS = {
    "staging_created": lambda base, name: (lambda: bool(_staging(base, name))),
    "gpkg_being_written": lambda base, name: _staged(base, name, ".layers.tmp-*"),
    "csv_written": lambda base, name: _staged(base, name, "layers.csv"),
}


def _interrupt_until_caught(city: Path, name: str, proc: subprocess.Popen[str], err: str,
                            before: dict[str, dict]) -> tuple[subprocess.Popen[str], str]:
    """Ctrl-C again when the run finished before the signal reached it (a busy machine).

    A run that ends between the look that finds its point and the signal exits 0 with a whole
    new output: that folder becomes the state to keep, and the interrupt is tried on a new run,
    as soon as its staging folder exists (the GeoPackage of this tiny city is written in a few
    milliseconds, too short a window to hit every time).
    """
    for _ in range(3):
        if proc.returncode != 0:
            break
        before[name] = consistent(city / name)
        proc = _start("layers", "city.yaml", "-q", "--out", name, cwd=city)
        point = KILL_POINTS["staging_created"](city, name)
        while not point() and proc.poll() is None:
            time.sleep(0.001)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)
    return proc, err


def _kill_until_caught(city: Path, name: str, proc: subprocess.Popen[str],
                      before: dict[str, dict]) -> subprocess.Popen[str]:
    """SIGKILL again when the run committed between the look that found its point and the kill.

    On a busy machine the test can be descheduled for longer than the run needs to finish
    from its point (a run of this tiny city goes from its staged ``layers.csv`` to its commit in
    milliseconds). The folder then holds the whole new run, a state a kill may leave
    (:func:`consistent` still checks it is whole): it becomes the state to keep, and the same
    kill is tried on a new run.
    """
    for _ in range(3):
        now = consistent(city / name)
        if now == before[name]:
            break
        before[name] = now
        proc = _start("layers", "city.yaml", "-q", "--out", name, cwd=city)
        point = KILL_POINTS[name](city, name)
        while not point() and proc.poll() is None:
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=300)
    return proc


def test_killed_interrupted_and_concurrent_runs(city: Path) -> None:
    """SIGKILL at three points, Ctrl-C mid-write and a second run while the folder is locked.

    The processes run side by side (each into its own folder) to keep the test short.
    """
    from geoplan.cli import main

    jobs = {**{p: (signal.SIGKILL, f) for p, f in KILL_POINTS.items()},
            "ctrl_c": (signal.SIGINT, KILL_POINTS["gpkg_being_written"])}
    before, procs = {}, {}
    for name in jobs:
        before[name] = _previous_run(city / name)
    busy = OutputRun(city / "busy", command="holder")
    second: subprocess.Popen[str] | None = None
    busy.__enter__()
    try:
        t0 = time.monotonic()
        for name in jobs:
            procs[name] = _start("layers", "city.yaml", "-q", "--out", name, cwd=city)
        second = _start("layers", "city.yaml", "-q", "--out", "busy", cwd=city)
        pending = dict(jobs)
        tries = dict.fromkeys(jobs, 1)
        while pending:
            for name, (sig, point) in list(pending.items()):
                if point(city, name)():
                    procs[name].send_signal(sig)
                    del pending[name]
                elif procs[name].poll() is not None:
                    # on a busy machine a run can finish between two looks: its whole output is
                    # then the folder's state, and the same kill is tried on a new run
                    out, err = procs[name].communicate()
                    assert tries[name] < 4, f"{name}: ended before its point: {out} {err}"
                    tries[name] += 1
                    before[name] = consistent(city / name)
                    procs[name] = _start("layers", "city.yaml", "-q", "--out", name, cwd=city)
            assert time.monotonic() - t0 < 300
            time.sleep(0.003)
        _, busy_err = second.communicate(timeout=300)
    except BaseException:
        for proc in [*procs.values(), *([second] if second is not None else [])]:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
        raise
    finally:
        busy.__exit__(None, None, None)
    assert second.returncode == 1, busy_err
    assert "another geoplan run is writing into" in busy_err and "busy" in busy_err
    assert "choose another folder with --out" in busy_err
    assert "unexpected error" not in busy_err
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=300)
        if name == "ctrl_c":
            proc, err = _interrupt_until_caught(city, name, proc, err, before)
            assert proc.returncode == 130, err
            assert f"{city / name} was left as it was before this run" in err
            assert "no partial output was left behind" not in err
        else:
            proc = _kill_until_caught(city, name, proc, before)
            assert proc.returncode == -signal.SIGKILL
        assert consistent(city / name) == before[name], name  # the folder did not change
    # the next run removes what the killed one left and writes a whole new set
    assert any(_staging(city, n) for n in KILL_POINTS)
    assert main(["layers", str(city / "city.yaml"), "-q", "--out", str(city / "csv_written")]) == 0
    record = consistent(city / "csv_written")
    assert record["command"] == "layers"
    assert not _staging(city, "csv_written") and not (city / ".csv_written.lock").exists()


def test_lock_in_process_and_foreign_files_kept(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "my notes.txt").write_text("mine", encoding="utf-8")
    (target / ".git").mkdir()
    (target / "layer_issues.csv").write_text("stale", encoding="utf-8")
    (target / "future_output.csv").write_text("stale", encoding="utf-8")
    (target / RUN_JSON).write_text(json.dumps({"files": [{"path": "future_output.csv"}]}),
                                   encoding="utf-8")
    with OutputRun(target, command="test") as run:
        with pytest.raises(OutputBusyError, match="another geoplan run"), \
                OutputRun(target, command="test"):
            pass
        (run.path / "layers.csv").write_text("new", encoding="utf-8")
        final = run.commit([run.path / "layers.csv"])
    assert final == [target / "layers.csv"]
    assert (target / "my notes.txt").read_text(encoding="utf-8") == "mine"
    assert (target / ".git").is_dir()
    # beside a run.json, a file it does not list is the user's, whatever its name
    assert (target / "layer_issues.csv").read_text(encoding="utf-8") == "stale"
    assert not (target / "future_output.csv").exists()  # listed by the older run.json
    record = json.loads((target / RUN_JSON).read_text(encoding="utf-8"))
    assert [f["path"] for f in record["files"]] == ["layers.csv"]
    # a failing run leaves the folder as it was and no staging folder
    with pytest.raises(RuntimeError), OutputRun(target, command="test") as run:
        (run.path / "layers.csv").write_text("half", encoding="utf-8")
        raise RuntimeError("step failed")
    assert (target / "layers.csv").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def test_a_user_s_entry_under_a_name_geoplan_writes_is_never_replaced(tmp_path: Path) -> None:
    # a user's folder named map.html and a user's file named reports: this run writes both
    # names, so it stops with the name, before touching anything (once it deleted the folder)
    for name, make in (("map.html", lambda p: (p.mkdir(), (p / "x").write_text("mine"))),
                       ("reports", lambda p: p.write_text("mine"))):
        target = tmp_path / name.replace(".", "_")
        target.mkdir()
        (target / "notes.txt").write_text("mine", encoding="utf-8")
        (target / "layers.csv").write_text("old", encoding="utf-8")
        make(target / name)
        before = _snapshot(target)
        with pytest.raises(OutputError, match=f"{name} is not geoplan's") as caught, \
                OutputRun(target, command="test") as run:
            (run.path / "layers.csv").write_text("new", encoding="utf-8")
            (run.path / "map.html").write_text("<html>", encoding="utf-8")
            (run.path / "reports").mkdir()
            (run.path / "reports" / "index.html").write_text("<html>", encoding="utf-8")
            run.commit()
        assert "left as it was" in str(caught.value)
        assert _snapshot(target) == before
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_reports_folder_holding_a_user_s_file_is_not_geoplan_s(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with OutputRun(target, command="test") as run:
        (run.path / "reports").mkdir()
        (run.path / "reports" / "index.html").write_text("old", encoding="utf-8")
        run.commit()
    (target / "reports" / "my comments.docx").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match="a folder holding files geoplan did not write"), \
            OutputRun(target, command="test") as run:
        (run.path / "reports").mkdir()
        (run.path / "reports" / "index.html").write_text("new", encoding="utf-8")
        run.commit()
    assert (target / "reports" / "my comments.docx").read_text(encoding="utf-8") == "mine"
    assert (target / "reports" / "index.html").read_text(encoding="utf-8") == "old"
    # a run that does not write reports/ leaves the user's folder alone and replaces the rest
    with OutputRun(target, command="test") as run:
        (run.path / "layers.csv").write_text("new", encoding="utf-8")
        run.commit()
    assert (target / "reports" / "my comments.docx").exists()
    assert (target / "layers.csv").read_text(encoding="utf-8") == "new"


def test_a_replacement_that_fails_halfway_puts_the_previous_run_back(tmp_path: Path,
                                                                     monkeypatch) -> None:
    # beside a user's file, geoplan's entries are replaced one by one; a move that fails
    # (an immutable file, a full disk) must not leave the folder mixing two runs
    target = tmp_path / "out"
    with OutputRun(target, command="test") as run:
        for name in ("layers.csv", "coverage.csv", "geoplan_report.xlsx"):
            (run.path / name).write_text(f"old {name}", encoding="utf-8")
        run.commit()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    before = _snapshot(target)
    real_rename = os.rename

    def rename(src: object, dst: object) -> None:
        if Path(str(src)).name == "geoplan_report.xlsx" and Path(str(src)).parent == target:
            raise PermissionError(1, "Operation not permitted", str(src))
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OutputError, match=r"geoplan_report\.xlsx .*left as it was"), \
            OutputRun(target, command="test") as run:
        for name in ("layers.csv", "coverage.csv", "geoplan_report.xlsx"):
            (run.path / name).write_text(f"new {name}", encoding="utf-8")
        run.commit()
    assert _snapshot(target) == before
    assert [p.name for p in tmp_path.iterdir() if p.name != "out"] == []


def test_a_folder_that_lost_its_run_json_is_written_again(tmp_path: Path) -> None:
    # gaps.csv was missing from the names geoplan writes: without run.json, a run into the
    # folder stopped ("gaps.csv is not geoplan's")
    target = tmp_path / "out"
    with OutputRun(target, command="test") as run:
        for name in ("coverage.csv", "gaps.csv"):
            (run.path / name).write_text("old", encoding="utf-8")
        run.commit()
    (target / RUN_JSON).unlink()
    with OutputRun(target, command="test") as run:
        for name in ("coverage.csv", "gaps.csv"):
            (run.path / name).write_text("new", encoding="utf-8")
        run.commit()
    assert (target / "gaps.csv").read_text(encoding="utf-8") == "new"


def test_orphans_of_killed_runs_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / ".layers.tmp-abc.gpkg").write_bytes(b"half")
    (tmp_path / ".out.staging-1-dead").mkdir()
    (tmp_path / ".out.old-1-dead").mkdir()
    with OutputRun(target, command="test") as run:
        run.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in target.iterdir()) == [RUN_JSON]


def test_disk_full_message_from_a_real_failed_write(tmp_path: Path) -> None:
    """ENOSPC from a real write (to /dev/full) inside an atomic write names the file."""
    from geoplan._errors import OutputError
    from geoplan._io import atomic_path

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    with pytest.raises(OutputError, match=r"disk full while writing .*coverage\.csv"), \
            atomic_path(tmp_path / "coverage.csv") as tmp:
        tmp.write_text("partial", encoding="utf-8")
        with open("/dev/full", "wb") as fh:
            fh.write(b"x" * 100_000)
            fh.flush()
    assert list(tmp_path.iterdir()) == []


def test_partial_commands_add_to_the_same_analysis_only(tmp_path: Path) -> None:
    """``layers`` then ``coverage`` of one analysis fill one folder; another analysis replaces it."""
    from geoplan.cli import main

    config = make_world(tmp_path / "city")
    out = tmp_path / "out"
    assert main(["layers", str(config), "--out", str(out), "-q"]) == 0
    assert main(["coverage", str(config), "--out", str(out), "-q"]) == 0
    record = consistent(out)
    assert record["command"] == "coverage"
    assert {"layers.gpkg", "layers.csv", "coverage.csv", "coverage.gpkg"} <= {
        f["path"] for f in record["files"]}
    assert sorted(record["kept_from_the_previous_run_of_this_analysis"]) == ["layers.csv",
                                                                             "layers.gpkg"]
    other = make_world(tmp_path / "other", config={"name": "另一个分析"})
    assert main(["layers", str(other), "--out", str(out), "-q"]) == 0
    record = consistent(out)
    assert {f["path"] for f in record["files"]} == {"layers.gpkg", "layers.csv"}
    assert not (out / "coverage.csv").exists()


def test_a_scenario_belongs_to_its_run_and_leaves_with_it(tmp_path: Path) -> None:
    """``scenario`` writes into the run's folder as every command does (staged, listed in
    run.json): a later run of the same analysis keeps it, one on changed data removes both its
    table and its map (the map of old data stayed beside a new run)."""
    from geoplan.cli import main

    config = world_with_scenario(tmp_path, "一期")
    out = tmp_path / "out"
    assert main(["layers", str(config), "--out", str(out), "-q"]) == 0
    assert main(["scenario", str(config), "--name", "一期", "--out", str(out), "-q"]) == 0
    record = consistent(out)
    listed = {f["path"] for f in record["files"]}
    assert {"layers.gpkg", "scenario_一期.csv", "scenario_一期/map.html"} <= listed
    assert main(["layers", str(config), "--out", str(out), "-q"]) == 0  # same analysis
    assert (out / "scenario_一期.csv").is_file() and (out / "scenario_一期" / "map.html").is_file()
    osm = tmp_path / "city.osm"
    osm.write_text(osm.read_text(encoding="utf-8").replace("车站", "新车站"), encoding="utf-8")
    assert main(["layers", str(config), "--out", str(out), "-q"]) == 0  # the data changed
    assert not (out / "scenario_一期.csv").exists() and not (out / "scenario_一期").exists()
    consistent(out)


def test_a_copy_of_the_config_elsewhere_is_the_same_analysis(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A planner's copy of the config (another folder, another name, the same content) runs a
    scenario into the run's folder: the run's files stay (the copy was another analysis, and
    the scenario replaced the whole run, saying so only at INFO). A partial command of a
    really other analysis still replaces the folder, and says so as a warning."""
    import yaml

    from geoplan.cli import main

    config = world_with_scenario(tmp_path / "city", "一期")
    out = tmp_path / "out"
    assert main(["coverage", str(config), "--out", str(out), "-q"]) == 0
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["districts"]["path"] = str(config.parent / raw["districts"]["path"])
    raw["osm"]["path"] = str(config.parent / raw["osm"]["path"])
    raw["scenarios"]["一期"]["layers"]["bus_stops"][0]["path"] = str(config.parent / "stops.csv")
    raw["output"] = "elsewhere"
    copy = tmp_path / "copies" / "我的副本.yaml"
    copy.parent.mkdir()
    copy.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert main(["scenario", str(copy), "--name", "一期", "--out", str(out), "-q"]) == 0
    listed = {f["path"] for f in consistent(out)["files"]}
    assert {"coverage.csv", "coverage.gpkg", "scenario_一期.csv"} <= listed
    assert "another analysis" not in capsys.readouterr().err
    other = make_world(tmp_path / "other", config={"name": "另一个分析"})
    assert main(["layers", str(other), "--out", str(out), "-q"]) == 0  # -q: warnings only
    err = " ".join(capsys.readouterr().err.split())
    assert err.count("holds the output of another analysis") == 1
    assert "`geoplan layers` replaces it as a whole" in err and "--out" in err
    assert not (out / "coverage.csv").exists()


def test_a_user_s_file_under_a_scenario_s_name_stops_the_scenario(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]
                                                                  ) -> None:
    from geoplan.cli import main

    config = world_with_scenario(tmp_path, "s1")
    out = tmp_path / "out"
    out.mkdir()
    (out / "scenario_s1").write_text("the planner's notes", encoding="utf-8")
    assert main(["scenario", str(config), "--name", "s1", "--out", str(out), "-q"]) == 1
    assert "scenario_s1" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["scenario_s1"]  # nothing half written
    assert (out / "scenario_s1").read_text(encoding="utf-8") == "the planner's notes"



def test_an_input_file_in_the_output_folder_is_never_replaced(tmp_path: Path) -> None:
    # a planner's own layers.gpkg (planned toilets) read by this run, with `output: .`: the
    # run stops with its name and the file stays (it used to be replaced by geoplan's)
    target = tmp_path / "out"
    target.mkdir()
    planned = target / "layers.gpkg"
    planned.write_bytes(b"the planner's toilets")
    with pytest.raises(OutputError, match=r"layers\.gpkg is not geoplan's"), \
            OutputRun(target, command="test", extra_inputs=[("layers.toilets", planned)]) as run:
        (run.path / "layers.gpkg").write_text("geoplan's", encoding="utf-8")
        run.commit()
    assert planned.read_bytes() == b"the planner's toilets"
    # and beside a run.json that does not list it, a user's coverage.csv stays too
    (target / RUN_JSON).write_text(json.dumps({"files": [{"path": "layers.csv"}]}), encoding="utf-8")
    (target / "coverage.csv").write_text("user", encoding="utf-8")
    with pytest.raises(OutputError, match=r"coverage\.csv is not geoplan's"), \
            OutputRun(target, command="test") as run:
        (run.path / "coverage.csv").write_text("geoplan's", encoding="utf-8")
        run.commit()
    assert (target / "coverage.csv").read_text(encoding="utf-8") == "user"


def test_a_scenario_added_to_the_config_keeps_the_same_analysis(tmp_path: Path) -> None:
    # adding a scenario (or a comment) to the config leaves the analysis the same, so
    # `geoplan scenario` adds to the run's folder; it used to replace the run as a whole
    from geoplan.config import Scenario, load_config
    from tests.conftest import CHENGDU_CONFIG

    config = load_config(CHENGDU_CONFIG)
    planned = config.model_copy(update={"scenarios": {"一期": Scenario(description="x")}})
    finer = config.model_copy(update={"demand": config.demand.model_copy(update={"grid_m": 10})})
    key = OutputRun(tmp_path, command="t", config=config)._analysis_key()
    assert key == OutputRun(tmp_path, command="t", config=planned)._analysis_key()
    assert key != OutputRun(tmp_path, command="t", config=finer)._analysis_key()


@pytest.mark.parametrize("killed_at", [1, 3, 5, 7])
def test_a_replacement_beside_a_user_s_file_killed_halfway_is_undone_by_the_next_run(
        tmp_path: Path, monkeypatch, killed_at: int) -> None:
    # beside a user's file geoplan's entries move one by one: a kill between two moves left
    # a folder of new and old files with no run.json, and the next run deleted the old run
    # kept aside and stopped on the new files. 3 old entries out, 4 new in: 1 and 3 cut the
    # moves out, 5 and 7 the moves in (7: all but run.json)
    target = tmp_path / "out"
    with OutputRun(target, command="test") as run:
        for name in ("layers.csv", "coverage.csv"):
            (run.path / name).write_text(f"old {name}", encoding="utf-8")
        run.commit()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    before = _snapshot(target)
    real_rename, count = os.rename, [0]

    class Killed(BaseException):
        pass

    def rename(src: object, dst: object) -> None:
        if Path(str(src)).parent in (target, *tmp_path.glob(".out.staging-*")):
            count[0] += 1
            if count[0] == killed_at:
                raise Killed
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(Killed), OutputRun(target, command="test") as run:
        for name in ("layers.csv", "coverage.csv", "gaps.csv"):
            (run.path / name).write_text(f"new {name}", encoding="utf-8")
        run.commit()
    monkeypatch.setattr(os, "rename", real_rename)
    assert list(tmp_path.glob(".out.old-*"))  # as a kill leaves it
    with OutputRun(target, command="test") as run:  # the next run puts the folder back first
        assert _snapshot(target) == before
        (run.path / "layers.csv").write_text("newer", encoding="utf-8")
        run.commit()
    assert (target / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (target / "layers.csv").read_text(encoding="utf-8") == "newer"
    assert not (target / "coverage.csv").exists() and list(tmp_path.glob(".out.*")) == []


def test_an_output_folder_under_a_file_is_said_so(tmp_path: Path) -> None:
    # it said "File exists", which does not tell that a parent of --out is a file
    from geoplan._io import ensure_writable_dir

    (tmp_path / "config.yaml").write_text("name: x\n", encoding="utf-8")
    with pytest.raises(OutputError, match=r"config\.yaml is a file, not a folder"):
        ensure_writable_dir(tmp_path / "config.yaml" / "sub")
    assert ensure_writable_dir(tmp_path / "new" / "sub").is_dir()


def test_an_empty_out_is_refused_not_replaced_by_the_config_s(capsys) -> None:
    from geoplan.cli import main

    with pytest.raises(SystemExit) as caught:
        main(["layers", "analyses/chengdu_core.yaml", "--out", " "])
    assert caught.value.code == 2
    assert "argument --out: the folder name is empty" in capsys.readouterr().err


def test_a_warning_is_said_once_per_command(capsys) -> None:
    import logging

    from geoplan.cli import _logging_to_stderr

    with _logging_to_stderr(0, False, False):
        log = logging.getLogger("geoplan.test")
        for _ in range(2):  # a scenario's two loads of the same layers
            log.warning("layer %r is empty", "bus_stops")
            log.info("wrote %s", "x.csv")
    err = capsys.readouterr().err
    assert err.count("layer 'bus_stops' is empty") == 1 and err.count("wrote x.csv") == 2


def test_geoplan_run_keeps_the_scenarios_of_its_analysis(tmp_path: Path) -> None:
    # `geoplan run` again after `geoplan scenario --all` deleted every scenario file with no
    # word; it measures the same today they were compared with, so they stay. A run of changed
    # data drops them with the rest
    from geoplan.cli import main

    config = world_with_scenario(tmp_path, "一期")
    out = tmp_path / "out"
    assert main(["run", str(config), "--out", str(out), "-q", "--no-map"]) == 0
    assert main(["scenario", str(config), "--all", "--out", str(out), "-q", "--no-map"]) == 0
    assert (out / "scenarios_compared.csv").is_file() and (out / "scenario_一期.csv").is_file()
    assert main(["run", str(config), "--out", str(out), "-q", "--no-map"]) == 0
    assert (out / "scenarios_compared.csv").is_file() and (out / "scenario_一期.csv").is_file()
    listed = {f["path"] for f in consistent(out)["files"]}
    assert {"scenarios_compared.csv", "scenario_一期.csv", "coverage.csv"} <= listed
    osm = tmp_path / "city.osm"
    osm.write_text(osm.read_text(encoding="utf-8").replace("车站", "新车站"), encoding="utf-8")
    assert main(["run", str(config), "--out", str(out), "-q", "--no-map"]) == 0
    assert not (out / "scenario_一期.csv").exists() and not (out / "scenarios_compared.csv").exists()
    consistent(out)
