"""Running a step in a forked child beside the parent's work (geoplan._beside)."""

from __future__ import annotations

import os

import pytest

from geoplan import _beside
from geoplan._beside import beside, can_fork
from geoplan._errors import OutputError

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


def test_not_allowed_runs_in_this_process_at_once():
    calls: list[int] = []
    step = beside(lambda: calls.append(os.getpid()) or "done", "map", allowed=False)
    assert not step.forked and calls == [os.getpid()]  # before the caller's other work
    assert step.result() == "done" and calls == [os.getpid()]


def test_not_allowed_raises_at_once():
    def fail() -> None:
        raise OutputError("map.html", "disk full")

    with pytest.raises(OutputError, match="disk full"):
        beside(fail, "map", allowed=False)


def test_a_large_process_does_not_fork(monkeypatch):
    monkeypatch.setattr(_beside, "BESIDE_MAX_MB", 1.0)
    assert not can_fork()
    assert not beside(lambda: 1, "map").forked


@needs_fork
def test_the_child_ends_when_its_parent_is_killed(tmp_path):
    """An orphan must not go on writing into a run folder: SIGKILL on the parent ends it."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    script = ("import time\nfrom geoplan._beside import beside\n"
              "step = beside(lambda: time.sleep(120), 'map')\n"
              "print(step._process.pid, flush=True)\ntime.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert Path(f"/proc/{child}").exists()
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        end = time.monotonic() + 20

        def alive() -> bool:
            try:
                status = Path(f"/proc/{child}/status").read_text(encoding="ascii")
            except OSError:
                return False
            return "State:\tZ" not in status  # a zombie has ended

        while alive() and time.monotonic() < end:
            time.sleep(0.02)
        assert not alive(), "the child outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.stdout.close()
