"""The sites' greedy sums its gains with a compiled loop: the same sums, to the last bit."""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest

from geoplan.siting import cover
from geoplan.siting.cover import greedy_max_cover, row_sums

LOOPS = "geoplan.siting._cover_compiled"


def _pattern(rng: np.random.Generator, longest: int, index: type) -> tuple:
    rows = int(rng.integers(1, 200))
    lens = rng.integers(0, longest, size=rows)
    indptr = np.concatenate([[0], np.cumsum(lens)]).astype(index)
    indices = rng.integers(0, 5000, size=int(lens.sum())).astype(index)
    scale = float(rng.choice([1.0, 1e3, 1e-3]))
    values = rng.random(5000) * scale * (rng.random(5000) < 0.7)  # some zeros, as covered
    return indptr, indices, values


@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_the_compiled_sums_are_numpy_s_to_the_last_bit(index):
    # numpy's sum is pairwise (eight running sums in blocks of up to 128, halves above): its
    # rounding depends on each row's length, so rows from empty to thousands of pairs
    loops = pytest.importorskip(LOOPS)
    rng = np.random.default_rng(7)
    for longest in (10, 130, 300, 3000, 9000):
        for _ in range(8):
            indptr, indices, values = _pattern(rng, longest, index)
            every = np.arange(len(indptr) - 1)
            got = loops.row_sums(indptr, indices, values, every)
            assert np.array_equal(got, row_sums(indptr, indices, values)), longest
            some = rng.choice(every, size=min(len(every), 17), replace=False)
            got = loops.row_sums(indptr, indices, values, some)
            assert np.array_equal(got, row_sums(indptr, indices, values, some)), longest
    # and what they stand for: each row's own sum
    indptr, indices, values = _pattern(rng, 500, index)
    expect = [values[indices[a:b]].sum() for a, b in itertools.pairwise(indptr)]
    got = loops.row_sums(indptr, indices, values, np.arange(len(indptr) - 1))
    assert np.array_equal(got, np.asarray(expect))


def test_the_greedy_chooses_the_same_sites_with_either_sum():
    pytest.importorskip(LOOPS)
    rng = np.random.default_rng(3)
    homes = rng.uniform(0, 3000, size=(4000, 2))
    weights = rng.random(4000) * 625.0  # land per 25 m cell, m²
    for candidates in (homes, homes[::7]):  # the self-join's int32 pattern, the ball query's
        arrays = greedy_max_cover(candidates, homes, weights, 300.0, max_sites=25,
                                  compiled=False)
        compiled = greedy_max_cover(candidates, homes, weights, 300.0, max_sites=25,
                                    compiled=True)
        assert len(arrays[0]) == 25
        assert np.array_equal(arrays[0], compiled[0]) and np.array_equal(arrays[1], compiled[1])


def test_the_loop_is_taken_for_large_patterns_only_until_it_is_loaded(monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.delitem(sys.modules, LOOPS, raising=False)
    assert cover._compiled(None, cover.COMPILED_MIN_ENTRIES - 1) is None  # numba not loaded
    assert cover._compiled(False, 10**9) is None
    loops = cover._compiled(None, cover.COMPILED_MIN_ENTRIES)
    assert loops is not None and loops.__name__ == LOOPS
    assert cover._compiled(None, 5) is loops  # loaded: at any size


def test_without_numba_the_sums_run_on_arrays(monkeypatch):
    monkeypatch.delitem(sys.modules, LOOPS, raising=False)
    monkeypatch.setitem(sys.modules, "numba", None)  # as if not installed
    assert cover._compiled(None, 10**9) is None
    with pytest.raises(ImportError, match=r"pip install 'geoplan\[fast\]'"):
        cover._compiled(True, 10)
    demand = np.array([[0, 0], [10, 0], [100, 0]], float)
    got = greedy_max_cover(demand, demand, np.array([1.0, 1.0, 5.0]), 15.0, max_sites=2)
    assert got[0].tolist() == [2, 0] and got[1].tolist() == [5.0, 2.0]


def test_a_module_another_thread_is_still_importing_is_not_taken(monkeypatch):
    # two threads of the sites step: the first imports the loops (numba loading them), the
    # second found the module in sys.modules without its functions (AttributeError at 4 tiles)
    import types

    from geoplan._threads import imported_whole

    partial = types.ModuleType(LOOPS)
    partial.__all__ = ["row_sums"]  # set at the top of the module; its functions come later
    monkeypatch.setitem(sys.modules, LOOPS, partial)
    assert imported_whole(LOOPS) is None
    assert cover._compiled(None, 5) is None  # small: the arrays, not half a module
    partial.row_sums = lambda *args: None
    assert imported_whole(LOOPS) is partial and cover._compiled(None, 5) is partial
    from geoplan.network import nearest

    name = "geoplan.network._nearest_compiled"
    half = types.ModuleType(name)
    half.__all__ = ["nearest_points"]
    monkeypatch.setitem(sys.modules, name, half)
    assert nearest._compiled(None, 10) is None


def test_a_module_still_importing_what_it_needs_has_no_all_yet(monkeypatch):
    # the loops' module sat in sys.modules while `from numba import njit` ran, before its
    # __all__: a module without one was taken as whole (1 tile of the benchmark city)
    import types

    from geoplan._threads import imported_whole

    monkeypatch.setitem(sys.modules, LOOPS, types.ModuleType(LOOPS))
    assert imported_whole(LOOPS) is None and cover._compiled(None, 5) is None

