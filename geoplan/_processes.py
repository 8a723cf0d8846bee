"""District pages on several cores: forked processes, because page building holds Python's lock.

The map's and the reports' district pages are built by pandas, folium and jinja, which hold the
GIL: on threads they took as long as on one core (see :mod:`geoplan._threads`). Forked worker
processes each build a share of the pages. They read the parent's layers and results as they
are in memory (fork shares them copy on write: nothing is pickled or loaded again); only each
page's small return value comes back. :func:`process_map` returns the results in input order,
and each task computes exactly what the plain loop did, so the files are the same with any
number of processes.

The number of processes is :func:`geoplan._threads.thread_count` (``GEOPLAN_THREADS``, then
:func:`~geoplan._threads.set_threads`, then the cores). Where ``fork`` is not available
(Windows), from a thread other than the main one (a Dask worker runs its tasks on threads, next
to its event loop), inside a daemonic process (which may not start children) or with one
process, the pages are built in the calling process, one after the other.

Memory: a worker's pages are its own, and so are the parent's objects it touches (their
reference counts are written to). :func:`workers_memory_mb` gives the sum over the last call's
workers of their largest private memory, which the run adds to the step's peak
(:func:`combined_peak_mb`).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import multiprocessing
import os
import pickle
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from geoplan._errors import OutputError
from geoplan._memory import rollup_mb
from geoplan._progress import bar
from geoplan._threads import thread_count

__all__ = ["can_fork", "combined_peak_mb", "cpu_seconds", "note_child_peak", "process_map",
           "workers_memory_mb"]

T = TypeVar("T")
R = TypeVar("R")

logger = logging.getLogger(__name__)

_TASK: dict[str, Any] = {}
_LAST: dict[str, float] = {"workers_mb": 0.0, "waited_mb": 0.0}

ITEMS_PER_WORKER = 8
"""Workers are forked afresh after this many items each. A worker's private memory grows with
every page it writes, because the parent's objects it reads are copied to it as their
reference counts are written (16-tile city: 95 MB after a worker's first page, then about
5 MB more per page); a 1M-edge city's pages, 98 per worker, took 1.1 GB on two workers. At
64 tiles the map's two workers held 466 MB at most in one run, 313 MB in runs of 16 pages
each and 258 MB in runs of 8 (the reports' 194 and 159 MB), for 3-6 % more CPU."""

_CHUNKS_PER_WORKER = 8
"""Items go out in contiguous runs (neighbouring districts share drawn shapes and indexes in a
worker's caches), about this many per worker, so that a slow run does not leave a core idle
and an interrupted call stops soon."""


def can_fork() -> bool:
    """Whether forked workers may start here: on POSIX, from the main thread (not a Dask
    worker's task thread, say), of a process that is not daemonic."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    return not multiprocessing.current_process().daemon


def cpu_seconds() -> float:
    """CPU seconds of this process and of its ended child processes (the pages' workers)."""
    own = time.process_time()
    try:
        import resource
    except ImportError:  # not on POSIX: no worker processes either
        return own
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + kids.ru_utime + kids.ru_stime


def workers_memory_mb() -> float:
    """The workers' memory since the last call (MB, Linux only; 0 when no workers ran), and
    reset it: the largest, over the :func:`process_map` calls, of the sum of each worker's
    largest private memory."""
    mb = _LAST["workers_mb"]
    _LAST["workers_mb"] = 0.0
    return mb


def note_child_peak(parent_mb: float, child_mb: float) -> None:
    """Count a child process that ran while this one waited (:mod:`geoplan._child`): this
    process's resident memory when it forked and the child's peak, in MB."""
    _LAST["waited_mb"] = max(_LAST["waited_mb"], parent_mb + child_mb)


def combined_peak_mb(own_peak_mb: float) -> float:
    """A step's peak memory with its child processes' (MB), and reset what they counted.

    Workers of :func:`process_map` run beside this process: their private memory adds to its
    peak (an upper bound: their peaks need not fall at the same moment). A child this process
    waited for adds its own peak to what this process held when it forked (an upper bound
    too, see :mod:`geoplan._child`); the larger of the two sums is the step's.
    """
    waited = _LAST["waited_mb"]
    _LAST["waited_mb"] = 0.0
    return max(own_peak_mb + workers_memory_mb(), waited)


def _private_mb() -> float:
    """This process's private resident memory (pages not shared with the parent), MB."""
    return rollup_mb("Private_Clean", "Private_Dirty")


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the pool's workers now, without waiting for the items they are on."""
    stop = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if stop is not None:
        stop()
        return
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()


def _call(i: int) -> tuple[bool, Any, int, float]:
    """Run the task on item ``i`` in a worker; errors come back as values."""
    try:
        value: Any = _TASK["fn"](_TASK["items"][i])
        ok = True
    except BaseException as exc:  # handed to the parent, which raises it
        ok = False
        value = exc
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # an exception that cannot travel: its text does
            value = RuntimeError(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    return ok, value, os.getpid(), _private_mb()


def process_map(fn: Callable[[T], R], items: Iterable[T], desc: str | None = None,
                unit: str = "district", show: bool | None = None,
                first_here: bool = False) -> list[R]:
    """``[fn(x) for x in items]``, computed in forked worker processes, in input order.

    Parameters
    ----------
    fn
        The work for one item. It runs in a copy of this process made when the call starts:
        what it changes in memory is lost; what it writes to files and returns is kept. Its
        return value must be picklable and should be small (a path, a name).
    items
        The items (districts, usually).
    desc
        Label of a progress bar with counts (shown only when progress is on).
    unit
        The progress bar's unit.
    show
        Show the bar (None: when progress is on for this process).
    first_here
        Run the first item in this process before the workers start, so that what it
        caches in memory (indexes, tables) is shared by every worker instead of built again
        in each one.

    Returns
    -------
    list
        One result per item, in the order of ``items``. An exception in any item is raised
        here, as the plain loop would raise it (one that cannot be pickled arrives as a
        RuntimeError with its text and traceback); the items not yet started are dropped.
    """
    todo = list(items)
    n = min(thread_count(), len(todo))
    if n <= 1 or not can_fork():
        it: Iterable[R] = map(fn, todo)
        return list(bar(it, desc, unit, total=len(todo), show=show) if desc else it)
    head: list[R] = []
    if first_here:
        head, todo = [fn(todo[0])], todo[1:]
        n = min(n, len(todo))
        if n <= 1:
            return head + [fn(x) for x in todo]
    _TASK.update(fn=fn, items=todo)
    # objects alive now stay out of the workers' garbage collections, which would otherwise
    # write to (and so copy) every page of the parent's memory
    frozen_before = gc.get_freeze_count() > 0  # a caller's freeze (the reports') stays
    gc.freeze()
    peaks: dict[tuple[int, int], float] = {}  # (round, pid) -> the worker's largest
    rounds = _rounds(len(todo), n)
    try:
        out: list[R] = head
        with contextlib.closing(_run_rounds(rounds, n)) as results:
            for r, (ok, value, pid, mb) in (bar(results, desc, unit, total=len(todo), show=show)
                                            if desc else results):
                if not ok:
                    raise value
                out.append(value)
                peaks[r, pid] = max(peaks.get((r, pid), 0.0), mb)
    finally:
        _TASK.clear()
        if not frozen_before:
            gc.unfreeze()
    # the workers of one round run at the same time, those of two rounds never
    in_round = [sum(mb for (r, _), mb in peaks.items() if r == k) for k in range(len(rounds))]
    workers_mb = max(in_round, default=0.0)
    _LAST["workers_mb"] = max(_LAST["workers_mb"], workers_mb)
    logger.debug("%d items on %d processes in %d rounds, workers' private memory %.0f MB",
                 len(todo), n, len(rounds), workers_mb)
    return out


def _rounds(n_items: int, n_workers: int) -> list[tuple[int, int]]:
    """The items' ``[start, stop)`` runs, each given to fresh workers (:data:`ITEMS_PER_WORKER`)."""
    size = n_workers * ITEMS_PER_WORKER
    return [(start, min(start + size, n_items)) for start in range(0, n_items, size)]


def _run_rounds(rounds: list[tuple[int, int]], n: int
                ) -> Generator[tuple[int, tuple[bool, Any, int, float]], None, None]:
    """Every round's results in order, each with its round's number."""
    for r, (start, stop) in enumerate(rounds):
        with contextlib.closing(_round(start, stop, n)) as results:  # stopped with this one
            for result in results:
                yield r, result


def _round(start: int, stop: int, n: int
           ) -> Generator[tuple[bool, Any, int, float], None, None]:
    """Items ``start`` to ``stop`` of the task on ``n`` freshly forked workers, in order."""
    pool = ProcessPoolExecutor(max_workers=min(n, stop - start),
                               mp_context=multiprocessing.get_context("fork"))
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns when a process with threads forks. The threads alive here are
            # idle library pools (BLAS, tqdm's monitor) and the pool's own; the workers only
            # run ``fn``.
            warnings.filterwarnings("ignore", message=r".*fork\(\).*", category=DeprecationWarning)
            chunk = max(1, math.ceil((stop - start) / (n * _CHUNKS_PER_WORKER)))
            results = pool.map(_call, range(start, stop), chunksize=chunk)
        yield from results
    except BrokenProcessPool as exc:
        raise OutputError(
            "a worker process writing district pages ended abruptly (killed, perhaps for lack "
            "of memory): run again with GEOPLAN_THREADS=1 to write the pages in one process "
            "(slower, less memory)") from exc
    except BaseException:
        _stop_workers(pool)  # an error, Ctrl-C or the caller stopping: pages still running
        raise                # are not waited for
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
