"""Running a step in a forked child beside the parent's work (geoplan._beside)."""

from __future__ import annotations

import os

import pytest

from geoplan import _beside
from geoplan._errors import OutputError
from geoplan._beside import beside, can_fork

needs_fork = pytest.mark.skipif(not can_fork(), reason="no fork here (platform, CPUs or threads)")


@needs_fork
def test_a_forked_task_returns_its_value_from_another_process():
    step = beside(lambda: (os.getpid(), [1.5, "路"]), "test")
    assert step.forked
    pid, value = step.result()
    assert pid != os.getpid()
    assert value == [1.5, "路"]
    assert step.seconds >= 0


@needs_fork
def test_a_forked_task_sees_the_parents_objects_without_pickling():
    unpicklable = {"f": lambda: 7}  # a lambda cannot be pickled: the child must share it
    step = beside(lambda: unpicklable["f"]() * 6, "test")
    assert step.forked and step.result() == 42


@needs_fork
def test_a_failing_task_raises_its_error_in_the_parent():
    def fail() -> None:
        raise OutputError("map.html", "disk full")

    with pytest.raises(OutputError, match="disk full"):
        beside(fail, "map").result()


@needs_fork
def test_a_child_that_dies_gives_a_clear_error():
    with pytest.raises(RuntimeError, match="map step's process ended without a result"):
        beside(lambda: os._exit(9), "map").result()


@needs_fork
def test_cancel_stops_the_child():
    import time

    step = beside(lambda: time.sleep(30), "map")
    start = time.perf_counter()
    step.cancel()
    assert time.perf_counter() - start < 10
    assert not step._process.is_alive()


def test_not_allowed_runs_in_this_process_when_asked():
    calls: list[int] = []
    step = beside(lambda: calls.append(os.getpid()) or "done", "map", allowed=False)
    assert not step.forked and calls == []  # nothing runs before the result is asked for
    assert step.result() == "done" and calls == [os.getpid()]


def test_a_large_process_does_not_fork(monkeypatch):
    monkeypatch.setattr(_beside, "BESIDE_MAX_MB", 1.0)
    assert not can_fork()
    assert not beside(lambda: 1, "map").forked
