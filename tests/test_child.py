"""Work in a forked child process (geoplan._child): its value, logs, warnings and errors come
back as if it had run here; the layers loaded in a child are the layers loaded here."""

from __future__ import annotations

import logging
import os
import signal
import warnings

import numpy as np
import pandas as pd
import pytest
import shapely

from geoplan._child import in_child
from geoplan._errors import GeoplanError, InputDataError
from geoplan._memory import status_mb
from geoplan._processes import can_fork, combined_peak_mb

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork (POSIX)")


def test_the_value_comes_from_another_process_and_its_peak_is_counted() -> None:
    combined_peak_mb(0.0)  # start from nothing
    here = status_mb("VmRSS")
    pid, big = in_child(lambda: (os.getpid(), np.ones(5_000_000).sum()), "a test")
    assert pid != os.getpid()
    assert big == 5_000_000.0
    # the step's peak: what this process held when it forked and the child's peak, which
    # holds the 40 MB array it made
    assert here is not None and combined_peak_mb(0.0) >= here + 40
    assert combined_peak_mb(0.0) == 0.0  # read once
    # a step whose own peak is larger keeps it
    in_child(lambda: None, "a test")
    assert combined_peak_mb(100_000.0) == 100_000.0


def test_what_the_child_logs_is_logged_here_once_in_order(caplog) -> None:
    def work() -> int:
        log = logging.getLogger("geoplan.some.module")
        log.info("first %d", 1)
        log.warning("second <script>")
        log.debug("not shown at INFO")
        return 7

    with caplog.at_level(logging.INFO, logger="geoplan"):
        assert in_child(work, "a test") == 7
    said = [(r.name, r.levelname, r.getMessage()) for r in caplog.records
            if r.name == "geoplan.some.module"]
    assert said == [("geoplan.some.module", "INFO", "first 1"),
                    ("geoplan.some.module", "WARNING", "second <script>")]


def test_a_warning_in_the_child_is_warned_here() -> None:
    def work() -> None:
        warnings.warn("the datum looks like GCJ-02", UserWarning, stacklevel=1)

    with pytest.warns(UserWarning, match="GCJ-02"):
        in_child(work, "a test")


def test_an_error_in_the_child_is_raised_here_with_its_message() -> None:
    def work() -> None:
        logging.getLogger("geoplan.x").warning("before the error")
        raise InputDataError("roads.gpkg: no layer 'roads'; give layer: in the config")

    with pytest.raises(InputDataError, match="no layer 'roads'"):
        in_child(work, "a test")


def test_an_error_that_cannot_travel_arrives_as_its_text() -> None:
    class Local(Exception):  # defined in a function: cannot be pickled
        pass

    def work() -> None:
        raise Local("only the text survives")

    with pytest.raises(RuntimeError, match="Local: only the text survives"):
        in_child(work, "a test")


def test_a_killed_child_gives_a_clear_error() -> None:
    def work() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(GeoplanError, match=r"loading the test layers .*exit code -9.*; cut"):
        in_child(work, "loading the test layers", "cut the input")


def test_without_fork_the_work_runs_here(monkeypatch) -> None:
    import geoplan._child as child

    monkeypatch.setattr(child, "can_fork", lambda: False)
    assert in_child(os.getpid, "a test") == os.getpid()


def _same_frame(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert a.crs == b.crs
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                  pd.DataFrame(b.drop(columns="geometry")))
    assert (shapely.to_wkb(a.geometry.to_numpy()) == shapely.to_wkb(b.geometry.to_numpy())).all()


def test_layers_loaded_in_a_child_are_the_layers_loaded_here(
        monkeypatch, caplog, chengdu_config, chengdu_layers) -> None:
    import geoplan.layers.load as load

    monkeypatch.setattr(load, "CHILD_LOAD_MIN_BYTES", 0)
    monkeypatch.setenv("GEOPLAN_NO_CACHE", "1")  # the file parsed in the child
    parent = os.getpid()
    pids = []
    real = load._load_layers
    monkeypatch.setattr(load, "_load_layers", lambda *a: (pids.append(os.getpid()), real(*a))[1])
    with caplog.at_level(logging.INFO, logger="geoplan"):
        got = load.load_layers(chengdu_config)
    assert pids == [] and os.getpid() == parent  # the list was filled in the child only
    assert any("context margin" in r.getMessage() for r in caplog.records)
    want = chengdu_layers
    assert list(got.layers) == list(want.layers)
    for kind in want.layers:
        _same_frame(got.layers[kind], want.layers[kind])
    assert got.crs == want.crs
    assert shapely.equals_exact(got.study_area, want.study_area, 0.0)
    assert shapely.equals_exact(got.context_area, want.context_area, 0.0)
    pd.testing.assert_frame_equal(got.issues, want.issues)
    assert got.sources == want.sources and got.margin_m == want.margin_m
    assert got.reached_from == want.reached_from
    assert got.datum == want.datum
    assert got.osm_context is not None  # parsed (the fixture's may come from the cache)
    for part in ("nodes", "lines", "areas") if want.osm_context is not None else ():
        _same_frame(getattr(got.osm_context, part), getattr(want.osm_context, part))


def test_a_result_that_cannot_travel_gives_an_error_not_a_broken_file() -> None:
    with pytest.raises(RuntimeError, match="could not be sent back"):
        in_child(lambda: (lambda: None), "a test")  # a function made here: not picklable


def _meet(tmp: str, me: int, other: int) -> tuple[int, bool]:
    """Say this piece started, then wait (10 s at most) for the other piece to start."""
    import time

    open(os.path.join(tmp, f"started-{me}"), "w").close()
    for _ in range(1000):
        if os.path.exists(os.path.join(tmp, f"started-{other}")):
            return os.getpid(), True
        time.sleep(0.01)
    return os.getpid(), False


def test_pieces_run_side_by_side_and_come_back_in_order(tmp_path, caplog) -> None:
    from geoplan._child import in_children

    def piece(i: int):
        def work() -> tuple[int, int, bool]:
            logging.getLogger("geoplan.some.module").info("piece %d", i)
            pid, met = _meet(str(tmp_path), i, i ^ 1)  # 0 waits for 1, 2 for 3
            return i, pid, met
        return work

    with caplog.at_level(logging.INFO, logger="geoplan"):
        out = in_children([piece(i) for i in range(4)], lambda i: f"piece {i}", at_once=2)
    assert [i for i, _, _ in out] == [0, 1, 2, 3]
    assert all(met for _, _, met in out)  # two at a time: each met its partner
    assert len({pid for _, pid, _ in out} | {os.getpid()}) == 5  # a process each
    said = [r.getMessage() for r in caplog.records if r.name == "geoplan.some.module"]
    assert said == ["piece 0", "piece 1", "piece 2", "piece 3"]


def test_an_error_in_one_piece_stops_the_others(tmp_path) -> None:
    from geoplan._child import in_children

    def fails() -> None:
        raise InputDataError("piece 1 failed")

    def slow() -> None:
        import time

        time.sleep(60)

    with pytest.raises(InputDataError, match="piece 1 failed"):
        in_children([slow, fails, slow], lambda i: f"piece {i}", at_once=2)


def test_pieces_writing_one_store_side_by_side_read_back_whole(tmp_path) -> None:
    """Forked processes append to the same spill file at once: each write is locked and goes
    where the file ends then, so no piece overwrites another's geometries."""
    from geoplan._child import in_children
    from geoplan.results._spill import GeometryStore, SpilledFrame

    store = GeometryStore(tmp_path)
    store.put(np.array([shapely.Point(-1, -1)], dtype=object))  # the parent wrote first

    def piece(i: int):
        def work() -> list[SpilledFrame]:
            frames = []
            for k in range(20):  # many small writes, interleaved with the other piece's
                geoms = np.array([shapely.Point(i, k * 100 + j).buffer(1 + i) for j in range(50)],
                                 dtype=object)
                frames.append(SpilledFrame.write(
                    pd.DataFrame({"k": np.arange(50) + k * 100, "geometry": geoms}), store))
            return frames
        return work

    out = in_children([piece(i) for i in range(3)], lambda i: f"piece {i}", at_once=3)
    for i, frames in enumerate(out):
        for k, frame in enumerate(frames):
            back = frame.load().geometry.to_numpy()
            want = [shapely.Point(i, k * 100 + j).buffer(1 + i) for j in range(50)]
            assert shapely.equals_exact(back, want, tolerance=0).all()
    assert store.size >= sum(len(shapely.to_wkb(shapely.Point(0, 0).buffer(1))) * 50 * 20
                             for _ in range(3))
