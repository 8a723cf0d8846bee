"""Districts on several threads: the same results as one thread, in the same order.

The helper is checked on its own (order, errors, the thread count's sources), and coverage on
the Chengdu sample (four districts, one basket standard, one street standard) against a run on
one thread: every table equal and every shape equal coordinate for coordinate.
"""

from __future__ import annotations

import contextvars
import threading
import time

import numpy as np
import pandas as pd
import pytest
import shapely

from geoplan import _threads
from geoplan._errors import ConfigError
from geoplan._threads import set_threads, thread_count, thread_map, using_threads
from geoplan.coverage import run_coverage
from geoplan.siting import suggest_sites
from geoplan.standards import resolve_standards


@pytest.fixture
def threads():
    """Set the thread count for one test, and restore the default after."""
    yield set_threads
    set_threads(None)


def test_results_come_back_in_input_order_from_several_threads(threads, monkeypatch):
    monkeypatch.delenv("GEOPLAN_THREADS", raising=False)
    threads(3)
    seen: set[str] = set()

    def slow_first(i: int) -> int:
        seen.add(threading.current_thread().name)
        time.sleep(0.05 if i == 0 else 0.0)  # the first item finishes last
        return i * i

    assert thread_map(slow_first, range(12)) == [i * i for i in range(12)]
    assert len(seen) > 1 and all(n.startswith("geoplan") for n in seen)


def test_an_error_in_one_item_is_raised_to_the_caller(threads, monkeypatch):
    monkeypatch.delenv("GEOPLAN_THREADS", raising=False)
    threads(2)

    def fail_on_five(i: int) -> int:
        if i == 5:
            raise KeyError("district 5")
        return i

    with pytest.raises(KeyError, match="district 5"):
        thread_map(fail_on_five, range(10))


_SETTING: contextvars.ContextVar[str] = contextvars.ContextVar("setting", default="unset")


def test_tasks_see_the_callers_context_variables(threads, monkeypatch):
    # the map's detail and shared work live in context variables: a page built on a thread
    # must see the caller's, and a task's own changes must not leak into the others
    monkeypatch.delenv("GEOPLAN_THREADS", raising=False)
    threads(2)
    token = _SETTING.set("caller")

    def read_then_change(i: int) -> str:
        seen = _SETTING.get()
        _SETTING.set(f"task {i}")
        return seen

    try:
        assert thread_map(read_then_change, range(6)) == ["caller"] * 6
        assert _SETTING.get() == "caller"
    finally:
        _SETTING.reset(token)


def test_thread_count_environment_then_setting_then_cores(threads, monkeypatch):
    monkeypatch.setattr(_threads, "_cores", lambda: 64)
    monkeypatch.delenv("GEOPLAN_THREADS", raising=False)
    assert thread_count() == _threads.MAX_THREADS
    threads(3)
    assert thread_count() == 3
    monkeypatch.setenv("GEOPLAN_THREADS", "1")
    assert thread_count() == 1
    monkeypatch.setenv("GEOPLAN_THREADS", "two")
    with pytest.raises(ConfigError, match="GEOPLAN_THREADS"):
        thread_count()
    with pytest.raises(ValueError, match="at least 1"):
        threads(0)


def _same_frame(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for col in a.columns:
        if col == "geometry":
            # coordinate for coordinate, in the same order
            assert np.array_equal(shapely.to_wkb(a.geometry.to_numpy()),
                                  shapely.to_wkb(b.geometry.to_numpy()))
        else:
            pd.testing.assert_series_equal(a[col], b[col], check_exact=True)


def test_coverage_on_threads_equals_one_thread(threads, monkeypatch, chengdu_layers):
    monkeypatch.delenv("GEOPLAN_THREADS", raising=False)
    stds = ["park_500", "life_circle_5min", "toilet_main_300"]
    threads(1)
    one = run_coverage(chengdu_layers, stds)
    threads(3)
    many = run_coverage(chengdu_layers, stds)
    assert len(one.districts) >= 4  # several districts, so the pool has work to share
    assert (one.gaps["view"] == "buffer").any() and len(one.street_gaps) and len(one.item_gaps)
    for name in ("table", "gaps", "street_gaps", "reach_areas", "items", "item_gaps",
                 "walk_bands"):
        _same_frame(getattr(one, name), getattr(many, name))


def test_sites_on_threads_equal_one_thread(threads, monkeypatch, chengdu_results):
    monkeypatch.delenv("GEOPLAN_THREADS", raising=False)
    coverage = chengdu_results[0]
    stds = resolve_standards(["park_500", "life_circle_15min", "toilet_general_500"])
    threads(1)
    one = suggest_sites(coverage, stds).table
    threads(3)
    many = suggest_sites(coverage, stds).table
    # sites of a single standard, of basket items and along streets, all in the same order
    assert (one["item"] == "").any() and (one["item"] != "").any()
    assert one["covered_length_m"].notna().any()
    _same_frame(one, many)


def test_using_threads_restores_the_setting_before(threads, monkeypatch):
    monkeypatch.delenv("GEOPLAN_THREADS", raising=False)
    threads(3)
    with using_threads(1):  # a batch job's setting
        assert thread_count() == 1
    assert thread_count() == 3
