"""District pages on forked processes: the same results as one process, in the same order.

The helper is checked on its own (order, errors, context, memory and CPU accounting), and the
index map's and the reports' district pages against the pages written in one process.
"""

from __future__ import annotations

import contextvars
import os
import re
import time
from pathlib import Path

import pytest

from geoplan._processes import can_fork, cpu_seconds, process_map, workers_memory_mb
from geoplan._threads import set_threads
from tests._report_synthetic import make_coverage, make_deadends, make_layerset, make_sites

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork (POSIX)")

_FOLIUM_ID = re.compile(r"_[0-9a-f]{32}")
_GENERATED = re.compile(r"20\d\d-\d\d-\d\d \d\d:\d\d")


@pytest.fixture
def processes(monkeypatch):
    """Set the process count for one test, and restore the default after."""
    monkeypatch.delenv("GEOPLAN_THREADS", raising=False)
    yield set_threads
    set_threads(None)


def _pid_after(i: int) -> tuple[int, int]:
    time.sleep(0.05 if i == 0 else 0.01)  # the first item finishes last
    return i * i, os.getpid()


def test_results_come_back_in_input_order_from_other_processes(processes) -> None:
    processes(2)
    out = process_map(_pid_after, range(12))
    assert [v for v, _ in out] == [i * i for i in range(12)]
    pids = {p for _, p in out}
    assert os.getpid() not in pids and len(pids) == 2


def test_one_process_runs_in_the_caller(processes) -> None:
    processes(1)
    seen: list[int] = []

    def remember(i: int) -> int:
        seen.append(i)  # visible here only when the task runs in this process
        return os.getpid()

    workers_memory_mb()  # what earlier calls counted
    assert process_map(remember, range(5)) == [os.getpid()] * 5
    assert seen == list(range(5))
    assert workers_memory_mb() == 0.0


def test_a_workers_changes_stay_in_the_worker(processes) -> None:
    processes(2)
    seen: list[int] = []

    def remember(i: int) -> int:
        seen.append(i)
        return len(seen)

    counts = process_map(remember, range(8))
    assert seen == [] and all(c >= 1 for c in counts)


def test_an_error_in_one_item_is_raised_to_the_caller(processes) -> None:
    processes(2)

    def fail_on_five(i: int) -> int:
        if i == 5:
            raise KeyError("district 5")
        return i

    with pytest.raises(KeyError, match="district 5"):
        process_map(fail_on_five, range(10))


class _Unpicklable(Exception):
    def __init__(self, what: str, lock: object) -> None:
        super().__init__(what)
        self.lock = lock

    def __reduce__(self):  # type: ignore[override]
        raise TypeError("cannot pickle this error")


def test_an_error_that_cannot_be_pickled_arrives_as_its_text(processes) -> None:
    processes(2)

    def fail(i: int) -> int:
        if i == 3:
            raise _Unpicklable("page 3 broke", object())
        return i

    with pytest.raises(RuntimeError, match=r"_Unpicklable: page 3 broke(.|\n)*Traceback"):
        process_map(fail, range(6))


_SETTING: contextvars.ContextVar[str] = contextvars.ContextVar("setting", default="unset")


def test_workers_see_the_callers_context_variables(processes) -> None:
    # the map's detail level and shared work live in context variables
    processes(2)
    token = _SETTING.set("caller")
    try:
        assert process_map(lambda i: _SETTING.get(), range(4)) == ["caller"] * 4
    finally:
        _SETTING.reset(token)


def _burn(_: int) -> int:
    end = time.process_time() + 0.3
    n = 0
    while time.process_time() < end:
        n += 1
    return n


def test_workers_cpu_and_memory_are_counted(processes) -> None:
    processes(2)
    workers_memory_mb()  # what earlier calls counted
    own, total = time.process_time(), cpu_seconds()
    process_map(_burn, range(4))
    # four items of 0.3 CPU s each, burned in the workers, not here
    assert cpu_seconds() - total >= 1.1
    assert time.process_time() - own < 0.5
    mb = workers_memory_mb()
    assert 0.5 < mb < 2000
    assert workers_memory_mb() == 0.0  # read once


def _write_index_map(out: Path, names: list[str]) -> list[Path]:
    from geoplan.report.maps import write_maps

    write_maps(make_layerset(names), make_coverage(names), make_deadends(names), None, out,
               sites=make_sites(names), max_mb=0.01, title="测试城市")
    return [out / "map.html", *(out / "maps").glob("*.html")]


def _write_reports(out: Path, names: list[str]) -> list[Path]:
    from geoplan.report.html import write_reports

    files = write_reports(make_layerset(names), make_coverage(names), make_deadends(names),
                          None, out, sites=make_sites(names))
    assert not files.failures
    return list((out / "reports").glob("*.html"))


@pytest.mark.parametrize("write", [_write_index_map, _write_reports], ids=["map", "reports"])
def test_pages_are_the_same_from_one_or_two_processes(processes, tmp_path, write) -> None:
    names = ["东区", "西区", "南区", "北区"]
    made = {}
    for n in (1, 2):
        processes(n)
        pages = write(tmp_path / f"p{n}", names)
        # folium's element ids are random, the reports' generation time moves
        made[n] = {p.name: _GENERATED.sub("-", _FOLIUM_ID.sub("_", p.read_text(encoding="utf-8")))
                   for p in sorted(pages)}
    assert len(made[1]) == 5 and made[1] == made[2]


def test_from_another_thread_the_pages_stay_in_this_process(processes) -> None:
    # a Dask worker runs each job on a thread beside its event loop: never fork from there
    import threading

    processes(2)
    out: list[object] = []
    t = threading.Thread(target=lambda: out.append(process_map(lambda i: os.getpid(), range(4))))
    t.start()
    t.join()
    assert out == [[os.getpid()] * 4]


def test_the_first_item_here_shares_what_it_cached_with_the_workers(processes) -> None:
    processes(2)
    cache: dict[str, int] = {}

    def cached(i: int) -> tuple[int, int]:
        if "index" not in cache:  # built once: by the first item, in this process
            cache["index"] = os.getpid()
        return cache["index"], os.getpid()

    out = process_map(cached, range(6), first_here=True)
    assert out[0] == (os.getpid(), os.getpid())
    assert all(built == os.getpid() for built, _ in out)
    assert all(pid != os.getpid() for _, pid in out[1:])


def test_a_killed_worker_gives_a_clear_error_not_a_hang(processes) -> None:
    # a worker the system kills (out of memory, say) must end the call with an error that
    # says what to do, not leave the run waiting for a page that never comes
    import signal

    from geoplan._errors import OutputError

    processes(2)

    def killed_on_three(i: int) -> int:
        if i == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return i

    with pytest.raises(OutputError, match="GEOPLAN_THREADS=1"):
        process_map(killed_on_three, range(8))


def _grow(i: int) -> tuple[int, int, int]:
    """Item ``i``, this worker's pid and how many items this worker ran before it."""
    _GROWN.append(bytearray(8 << 20))  # 8 MB more per item, kept by the worker
    return i, os.getpid(), len(_GROWN) - 1


_GROWN: list[bytearray] = []


def test_workers_are_forked_afresh_after_a_few_items_each(processes, monkeypatch) -> None:
    # a worker's memory grows with every item (the parent's objects it touches are copied to
    # it): after ITEMS_PER_WORKER items each, new workers start from the parent again
    import geoplan._processes as proc

    processes(2)
    monkeypatch.setattr(proc, "ITEMS_PER_WORKER", 3)
    workers_memory_mb()
    out = process_map(_grow, range(14))
    assert [i for i, _, _ in out] == list(range(14))
    rounds = [out[k:k + 6] for k in range(0, 14, 6)]  # 2 workers × 3 items, then the rest
    pids = [{pid for _, pid, _ in r} for r in rounds]
    assert not (pids[0] & pids[1]) and not (pids[1] & pids[2])
    for r in rounds:  # fresh workers: each counts from its round's first item
        ran = {pid: 1 + max(b for _, p, b in r if p == pid) for _, pid, _ in r}
        assert sum(ran.values()) == len(r)
    # the workers of one round at once, never of two: 6 items × 8 MB, not 14
    assert 45 < workers_memory_mb() < 100


def test_a_small_run_writes_its_tables_map_and_reports_side_by_side_as_one_after_the_other(
        processes, tmp_path, caplog) -> None:
    # with two cores a small run writes its tables and draws the meeting map and the reports
    # in three processes at once: the same files as one after the other, the reports' index
    # linking the map
    import logging

    from geoplan.config import load_config
    from geoplan.pipeline import run_analysis
    from tests.hostile.world import make_world

    config = load_config(make_world(tmp_path / "city"))
    caplog.set_level(logging.INFO, logger="geoplan")
    made, listed = {}, {}
    for n in (1, 2):
        processes(n)
        caplog.clear()
        result = run_analysis(config, tmp_path / f"out{n}")
        drawn = [r.getMessage() for r in caplog.records
                 if r.getMessage().startswith(("tables done", "map done", "report done"))]
        assert len(drawn) == 3 and all(("side by side" in m) == (n == 2) for m in drawn), drawn
        assert {"tables", "map", "report"} <= result.timings.keys()
        listed[n] = sorted(str(p.relative_to(result.out)) for p in result.written)
        made[n] = {str(p.relative_to(tmp_path / f"out{n}")):
                   _GENERATED.sub("-", _FOLIUM_ID.sub("_", p.read_text(encoding="utf-8")))
                   for p in sorted((tmp_path / f"out{n}").rglob("*.html"))}
        made[n].update((p.name, p.read_text(encoding="utf-8"))
                       for p in sorted((tmp_path / f"out{n}").glob("*.csv")))
    assert listed[1] == listed[2] and "map.html" in listed[2]
    assert made[1].keys() == made[2].keys() and len(made[2]) >= 4
    assert {"coverage.csv", "gaps.csv", "sites.csv", "deadends.csv", "data_checks.csv"} <= made[2].keys()
    assert made[1] == made[2]
    assert 'href="../map.html"' in made[2]["reports/index.html"]
