"""One piece of work in a forked process, so that the memory it churns goes back to the system.

Reading a city's OSM file makes tens of millions of small Python objects (tag dicts, rows,
strings) and keeps a few of them (ids, names). Python's small-object allocator cannot give an
arena back while one object in it lives: after loading the 1M-edge benchmark city the process
held 628 MB of such arenas with 187 MB of live objects in them, and that memory stayed for
the whole run. :func:`in_child` runs the work in a forked copy of this process, which ends
when the work is done; only the result comes back (pickled through a temporary file, built
anew here, packed).

What the child logs and warns is said again here, in order, when it ends (its own log
handlers are muted, so nothing is said twice); an exception it raises is raised here. Where
``fork`` is not available (Windows, a Dask worker's task thread, a daemonic process) the work
runs in this process.
"""

from __future__ import annotations

import gc
import itertools
import logging
import multiprocessing
import os
import pickle
import tempfile
import traceback
import warnings
from collections.abc import Callable, Sequence
from multiprocessing import connection
from typing import Any, TypeVar

from geoplan._errors import GeoplanError
from geoplan._memory import rollup_mb, status_mb
from geoplan._processes import can_fork, note_child_peak
from geoplan._progress import bar, counter

__all__ = ["in_child", "in_children"]

R = TypeVar("R")

logger = logging.getLogger(__name__)


class _Collect(logging.Handler):
    """Every record that reaches a handler in the child, once, made picklable."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []
        self._seen: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if id(record) in self._seen:  # the same record met on a second logger with handlers
            return
        self._seen.add(id(record))
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args, record.exc_info = record.getMessage(), None, None
        self.records.append(record)


def _mute_handlers(collect: _Collect) -> None:
    """Send every record of this (child) process to ``collect`` instead of its handlers.

    ``collect`` takes every level: the parent hands each record to its own loggers, whose
    handlers (and ``lastResort``) filter as they would have here.
    """
    loggers = [logging.getLogger(), *(lg for lg in logging.Logger.manager.loggerDict.values()
                                      if isinstance(lg, logging.Logger))]
    for lg in loggers:
        if lg.handlers:
            lg.handlers = [collect]
    logging.lastResort = collect  # records no handler takes


def _run_child(fn: Callable[[], Any], path: str) -> None:
    """The child's side: run ``fn``, write (ok, value, records, warnings, peak MB) to ``path``."""
    collect = _Collect()
    _mute_handlers(collect)
    with warnings.catch_warnings(record=True) as caught:
        try:
            value, ok = fn(), True
        except BaseException as exc:  # raised again in the parent
            value, ok = exc, False
            try:
                pickle.loads(pickle.dumps(exc))
            except Exception:  # an exception that cannot travel: its text does
                value = RuntimeError(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    said = [(w.message, w.category, w.filename, w.lineno) for w in caught]
    # the peak counts the pages still shared with the parent, which the parent's memory
    # counts already; fewer are shared at the end than at any time before (a page only ever
    # stops being shared), so the peak less those is at least the child's own at its peak
    own_peak = max((status_mb("VmHWM") or 0.0) - rollup_mb("Shared_Clean", "Shared_Dirty"), 0.0)
    part = path + ".part"  # the parent finds a whole result or none
    try:
        with open(part, "wb") as fh:
            pickle.dump((ok, value, collect.records, said, own_peak), fh,
                        protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # a value that cannot be pickled: its error travels instead
        with open(part, "wb") as fh:
            pickle.dump((False, RuntimeError(f"the result could not be sent back: {exc!r}"),
                         collect.records, said, own_peak), fh)
    os.replace(part, path)


def in_child(fn: Callable[[], R], what: str, fix: str = "") -> R:
    """``fn()``, computed in a forked process that ends with it (see the module notes).

    Parameters
    ----------
    fn
        The work. It runs in a copy of this process: what it changes in memory is lost, what
        it writes to files and returns is kept. Its return value must be picklable.
    what
        What the work is, for the error raised when the child is killed ("loading the layers").
    fix
        What to do then, added to that error.

    Returns
    -------
    object
        What ``fn`` returned. An exception ``fn`` raised is raised here (one that cannot be
        pickled arrives as a RuntimeError with its text and traceback).

    Raises
    ------
    geoplan._errors.GeoplanError
        When the child ends without a result (killed, perhaps for lack of memory).
    """
    return in_children([fn], lambda _: what, fix)[0]


def in_children(fns: Sequence[Callable[[], R]], what: Callable[[int], str], fix: str = "",
                at_once: int = 1, desc: str | None = None, unit: str = "item",
                show: bool | None = None) -> list[R]:
    """``[fn() for fn in fns]``, each computed in a forked process of its own, ``at_once``
    of them at a time, as :func:`in_child` computes one.

    Parameters
    ----------
    fns
        The pieces of work (see :func:`in_child`). A process that writes to a
        :class:`~geoplan.results._spill.GeometryStore` may run beside others: its writes are
        locked against theirs.
    what
        What piece ``i`` is, for the error raised when its process is killed.
    fix
        What to do then.
    at_once
        How many processes run at the same time.
    desc, unit, show
        A progress bar over the pieces (:func:`geoplan._progress.counter`).

    Returns
    -------
    list
        What each ``fn`` returned, in order. What the processes logged and warned is said here
        piece by piece, in order. An exception raised in a piece is raised here as soon as
        that piece ends, and the processes still running are stopped.
    """
    if not can_fork():
        return [fn() for fn in (bar(fns, desc, unit, show=show) if desc else fns)]
    resident_mb = status_mb("VmRSS") or 0.0
    frozen_before = gc.get_freeze_count() > 0
    # objects alive now stay out of the children's garbage collections, which would otherwise
    # write to (and so copy) every page of this process's memory
    gc.freeze()
    running: dict[int, Any] = {}
    done: dict[int, tuple[Any, ...]] = {}
    out: list[R] = []
    peaks: list[float] = []
    ticks = counter(desc, unit, total=len(fns), show=show) if desc else None
    try:
        with tempfile.TemporaryDirectory(prefix="geoplan-child-") as tmp:
            paths = [os.path.join(tmp, f"result-{i}.pickle") for i in range(len(fns))]
            todo = iter(range(len(fns)))
            for i in itertools.islice(todo, max(at_once, 1)):
                running[i] = _start(fns[i], paths[i])
            while running:
                sentinels = {p.sentinel: i for i, p in running.items()}
                for ready in connection.wait(list(sentinels)):
                    i = sentinels[ready]
                    child = running.pop(i)
                    child.join()
                    if not os.path.exists(paths[i]):
                        raise GeoplanError(
                            f"{what(i)} in a separate process ended without a result (exit "
                            f"code {child.exitcode}: killed, perhaps for lack of memory)"
                            + (f"; {fix}" if fix else ""))
                    with open(paths[i], "rb") as fh:
                        done[i] = pickle.load(fh)
                    os.remove(paths[i])
                    if not done[i][0]:  # failed: the others are stopped, not waited for
                        for k in sorted(done):
                            _say(*done[k][2:4])
                        raise done[i][1]
                    nxt = next(todo, None)
                    if nxt is not None:
                        running[nxt] = _start(fns[nxt], paths[nxt])
                while len(out) in done:  # said and returned in order
                    _, value, records, said, peak = done.pop(len(out))
                    peaks.append(peak)
                    _say(records, said)
                    out.append(value)
                    if ticks is not None:
                        ticks.update()
    except BaseException:  # an error, a killed process or Ctrl-C: the others are not waited for
        for child in running.values():
            child.terminate()
            child.join()
        raise
    finally:
        if ticks is not None:
            ticks.close()
        if not frozen_before:
            gc.unfreeze()
    # the processes that ran side by side: at most the ``at_once`` largest at one time
    note_child_peak(resident_mb, sum(sorted(peaks)[-max(at_once, 1):]))
    return out


def _start(fn: Callable[[], Any], path: str) -> Any:
    """A forked process running ``fn`` that writes its result to ``path``."""
    ctx = multiprocessing.get_context("fork")
    with warnings.catch_warnings():
        # Python 3.12+ warns when a process with threads forks; the threads alive here are
        # idle library pools, and the child only runs ``fn``
        warnings.filterwarnings("ignore", message=r".*fork\(\).*", category=DeprecationWarning)
        child = ctx.Process(target=_run_child, args=(fn, path), daemon=True)
        child.start()
    return child


def _say(records: list[logging.LogRecord], said: list[tuple[Any, ...]]) -> None:
    """What a child logged and warned, said again here."""
    for record in records:
        logging.getLogger(record.name).handle(record)
    for message, category, filename, lineno in said:
        warnings.warn_explicit(message, category, filename, lineno)
