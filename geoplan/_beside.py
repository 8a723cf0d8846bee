"""Run one task in a forked child process while this process does other work.

``geoplan run`` writes the meeting map and the reports from the same finished results; each
is pure-Python work bound by the interpreter lock, so threads would not overlap them, but a
forked child shares the results without copying or pickling them. Only the child's return
value (a list of paths) and its timing come back, through a pipe.

The fork is used only where it is safe and cheap: a platform with ``fork``, at least two CPUs
for this process, the main thread of a main process (not a daemon such as a Dask worker's)
with no other thread but tqdm's idle monitor, and a resident size of at most
:data:`BESIDE_MAX_MB` (the child's copy-on-write pages grow with what it touches; a
city-scale run, where memory is the limit, writes one after the other). Anywhere else the
task simply runs in this process at once, before the caller's other work.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

BESIDE_MAX_MB = 1024.0
"""Largest resident size (MB) at which a task is forked beside the parent's work."""


def _rss_mb() -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            return next(float(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration, ValueError, IndexError):
        return None


def can_fork() -> bool:
    """Whether :func:`beside` would fork here (see the module's notes)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    rss = _rss_mb()
    return ("fork" in mp.get_all_start_methods() and cpus >= 2
            and not mp.current_process().daemon and not _other_threads()
            and rss is not None and rss <= BESIDE_MAX_MB)


def _other_threads() -> list[threading.Thread]:
    """Threads besides this main thread, except tqdm's monitor (it only sleeps between checks)."""
    if threading.current_thread() is not threading.main_thread():
        return [threading.current_thread()]
    return [t for t in threading.enumerate()
            if t is not threading.main_thread() and t.name != "tqdm_monitor"]


class Beside(Generic[T]):
    """A task started by :func:`beside`; :meth:`result` waits for it and returns its value."""

    def __init__(self, task: Callable[[], T], name: str, fork: bool) -> None:
        self.name = name
        self.seconds = 0.0
        self._process: Any = None
        self._conn: Any = None
        self._value: Any = None
        if fork:
            receive, send = mp.get_context("fork").Pipe(duplex=False)
            self._process = mp.get_context("fork").Process(
                target=_child, args=(task, send, os.getpid()), name=f"geoplan-{name}", daemon=True)
            self._process.start()
            send.close()
            self._conn = receive
            logger.debug("%s: running beside in process %s", name, self._process.pid)
        else:  # one after the other, in the order the caller wrote
            start = time.perf_counter()
            self._value = task()
            self.seconds = time.perf_counter() - start

    @property
    def forked(self) -> bool:
        """Whether the task runs in a child process."""
        return self._process is not None

    def cancel(self) -> None:
        """Stop a forked task (its partial files are the caller's to discard)."""
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join()

    def result(self) -> T:
        """The task's return value (its exception re-raised here if it failed)."""
        if self._process is None:
            return self._value
        try:
            status, value, seconds = self._conn.recv()
        except EOFError:
            self._process.join()
            raise RuntimeError(f"the {self.name} step's process ended without a result "
                               f"(exit code {self._process.exitcode}; out of memory?)") from None
        finally:
            self._conn.close()
        self._process.join()
        self.seconds = seconds
        if status == "error":
            raise value
        return value


def beside(task: Callable[[], T], name: str, *, allowed: bool = True) -> Beside[T]:
    """Start ``task`` in a forked child when :func:`can_fork` (and ``allowed``), else run it now.

    Parameters
    ----------
    task
        What to run; its return value must pickle.
    name
        The step's name, for messages.
    allowed
        False runs the task in this process, at once.
    """
    return Beside(task, name, fork=allowed and can_fork())


def _child(task: Callable[[], Any], send: Any, parent: int) -> None:
    from geoplan._progress import set_progress

    _die_with(parent)
    set_progress(False)  # one terminal, two processes: the parent's bars only
    start = time.perf_counter()
    try:
        payload: tuple[str, Any, float] = ("ok", task(), 0.0)
    except BaseException as exc:
        payload = ("error", _picklable(exc), 0.0)
    send.send((payload[0], payload[1], time.perf_counter() - start))
    send.close()


def _die_with(parent: int) -> None:
    """End this child when ``parent`` ends, even by SIGKILL (Linux): an orphan must not go on
    writing into a run folder that a later run cleans up."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
