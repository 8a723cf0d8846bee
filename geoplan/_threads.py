"""District by district on several cores: threads, because GEOS works without Python's lock.

shapely's array functions release the GIL while GEOS computes, so the overlays of two districts
run at once on two cores in one process, reading the same city arrays (no copies and no
pickling, as processes would need). :func:`thread_map` returns the results in the order of its
input, and each task computes exactly what the plain loop did, so a run gives the same output
with any number of threads.

Tasks share the city's geometries for reading only. A *prepared* geometry is not shared: GEOS
builds a prepared geometry's indexes on first use and its intersection finders keep state, so
two threads testing against the same prepared geometry corrupt memory (GEOS issue 825; a
residential part cut by two chunks at once crashed the process). A task that wants a prepared
geometry prepares its own copy (:func:`private_copies`), and no function leaves a geometry
prepared that other code may share (:func:`prepared_for`). Note that ``shapely.contains_xy``
and ``shapely.intersects_xy`` prepare their geometry and leave it so.

The number of threads is, first to last: ``GEOPLAN_THREADS`` in the environment,
:func:`set_threads` (a batch job sets 1: Dask already runs one job per worker thread), else the
cores this process may use (at most :data:`MAX_THREADS`). The district pages, which hold the
lock, use as many forked processes instead (:mod:`geoplan._processes`).
"""

from __future__ import annotations

import contextvars
import importlib
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from types import ModuleType
from typing import TypeVar

import numpy as np
import shapely

from geoplan._errors import ConfigError
from geoplan._memory import release_if_large
from geoplan._progress import bar

__all__ = ["MAX_THREADS", "compiled_loops", "imported_whole", "prepared_for", "private_copies",
           "set_threads", "thread_count",
           "thread_map", "using_threads"]

T = TypeVar("T")
R = TypeVar("R")

MAX_THREADS = 8
"""Default ceiling: beyond it the Python between GEOS calls (held under the lock) dominates."""

_STATE: dict[str, int | None] = {"threads": None}


def set_threads(n: int | None) -> None:
    """Use ``n`` threads for per-district work in this process (``None``: the default)."""
    if n is not None and n < 1:
        raise ValueError(f"threads must be at least 1, got {n}")
    _STATE["threads"] = n


@contextmanager
def using_threads(n: int | None) -> Iterator[None]:
    """:func:`set_threads` for the body of a ``with`` block; the setting before is restored."""
    before = _STATE["threads"]
    set_threads(n)
    try:
        yield
    finally:
        _STATE["threads"] = before


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def thread_count() -> int:
    """How many threads :func:`thread_map` uses (see the module's notes for the order)."""
    env = os.environ.get("GEOPLAN_THREADS", "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            n = 0
        if n < 1:
            raise ConfigError("environment", [
                f"GEOPLAN_THREADS: must be a whole number of at least 1, got {env!r}; set it to "
                "1 to stay on one core, or unset it to use every core"])
        return n
    if _STATE["threads"] is not None:
        return int(_STATE["threads"])
    return max(1, min(_cores(), MAX_THREADS))


def thread_map(fn: Callable[[T], R], items: Iterable[T], desc: str | None = None,
               unit: str = "district") -> list[R]:
    """``[fn(x) for x in items]``, computed on :func:`thread_count` threads, in input order.

    Parameters
    ----------
    fn
        The work for one item. It must not change anything the other items read (write
        results into the return value, not into shared arrays).
    items
        The items (districts, usually).
    desc
        Label of a progress bar with counts (shown only when progress is on).
    unit
        The progress bar's unit.

    Returns
    -------
    list
        One result per item, in the order of ``items``. An exception in any item is raised
        here, as the plain loop would raise it.
    """
    todo = list(items)
    n = min(thread_count(), len(todo))
    if n <= 1:
        it: Iterable[R] = map(fn, todo)
        return list(bar(it, desc, unit, total=len(todo)) if desc else it)
    # each task runs in a copy of the caller's context: settings held in context variables
    # (the map's detail and shared work) hold on the threads too
    context = contextvars.copy_context()

    def task(item: T) -> R:
        return context.copy().run(fn, item)

    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="geoplan")
    try:
        results = pool.map(task, todo)
        return list(bar(results, desc, unit, total=len(todo)) if desc else results)
    finally:  # on an error, the items not yet started are dropped
        pool.shutdown(wait=True, cancel_futures=True)
        release_if_large()  # what the threads freed stays in their arenas otherwise


_IMPORTING = threading.Lock()


def compiled_loops(name: str, required: bool | None, large: bool) -> ModuleType | None:
    """The optional compiled loops (numba) of module ``name``, safe to ask for from threads.

    ``required`` True: always (ImportError without numba); False: never; None: once this
    process has them whole, or when the work is ``large`` enough to pay for loading them and
    numba is installed. The import runs one thread at a time: two threads importing one
    module at once may, on a cycle of Python's import locks, be handed the half-made module
    (waiting on this lock holds no import lock).

    Raises
    ------
    ImportError
        With ``required`` True and numba not installed (saying how to install it).
    """
    if required is False:
        return None
    loaded = imported_whole(name)
    if loaded is not None or (required is None and not large):
        return loaded
    try:
        with _IMPORTING:
            return importlib.import_module(name)
    except ImportError:
        if required:
            raise ImportError("the compiled loops need numba: pip install 'geoplan[fast]'"
                              ) from None
        return None


def imported_whole(name: str) -> ModuleType | None:
    """Module ``name`` if this process has imported all of it, else None.

    ``sys.modules`` holds a module from the moment its import starts: a task on another
    thread that took it from there while the first was still importing it (numba loading
    its compiled loops) found none of its functions yet (an ``AttributeError`` on a partially
    initialised module, at 1 and 4 tiles of the embedded extract). A module counts as whole
    when it has an ``__all__`` and every name of it is there (:func:`compiled_loops` imports
    it, one thread at a time).
    """
    module = sys.modules.get(name)
    names = getattr(module, "__all__", None)  # not there yet while its imports run
    if not names or not all(hasattr(module, n) for n in names):
        return None
    return module


def private_copies(geoms: np.ndarray) -> np.ndarray:
    """New geometry objects equal to ``geoms`` (the same coordinates, bit for bit), unprepared.

    What a task on one thread prepares: objects no other thread holds. Indexing an object array
    gives the same objects, not copies, so ``geoms[rows]`` would not do.
    """
    geoms = np.asarray(geoms, dtype=object)
    return np.asarray(shapely.from_wkb(shapely.to_wkb(geoms)), dtype=object)


@contextmanager
def prepared_for(geoms: object) -> Iterator[None]:
    """Prepare ``geoms`` for the body of a ``with`` block, and leave them as they were found.

    For geometries other code shares (a layer's, the districts'): kept prepared after the
    block, they would later be prepared geometries shared between threads.
    """
    arr = np.asarray(geoms, dtype=object)
    was = np.asarray(shapely.is_prepared(arr), dtype=bool)
    shapely.prepare(arr)
    try:
        yield
    finally:
        if (~was).any():
            shapely.destroy_prepared(arr[~was] if arr.ndim else arr)
