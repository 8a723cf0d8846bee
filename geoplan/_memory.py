"""Give freed memory back to the system between steps.

glibc's allocator keeps freed blocks for reuse, and every thread allocates from its own arena:
after a step's shapes are freed (and more so after work on threads), the process can hold
hundreds of MB it no longer uses (on the 16-tile benchmark city, 932 MB resident after the
demand was built on two threads, 508 MB after ``malloc_trim``). The next step then grows
from there. :func:`release_free_memory` asks glibc to return those pages (about 1 ms of CPU
at the default run's 200 MB, up to 7 ms), and does nothing where glibc is not the C library;
:func:`release_if_large` does so only for a process of city size.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

__all__ = ["TRIM_MIN_RSS_MB", "release_free_memory", "release_if_large", "rollup_mb",
           "status_mb"]

TRIM_MIN_RSS_MB = 512.0
"""Below this resident size :func:`release_if_large` leaves the heap as it is. The default
run's coverage trimmed 142 times between its sub-steps, at 188 to 250 MB resident: 0.15 CPU s
for little memory, and the pages given back were faulted in again by the next sub-step."""

_LIBC: dict[str, Any] = {}


def _malloc_trim() -> Any:
    if "trim" not in _LIBC:
        trim = None
        if sys.platform.startswith("linux"):
            try:
                trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
                trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
            except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
                trim = None
        _LIBC["trim"] = trim
    return _LIBC["trim"]


def release_free_memory() -> bool:
    """Return freed heap memory to the system (glibc ``malloc_trim``); False if unavailable."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def release_if_large(min_rss_mb: float = TRIM_MIN_RSS_MB) -> bool:
    """:func:`release_free_memory` when this process holds at least ``min_rss_mb`` resident
    (or its size is unknown); False when it was left alone or glibc is not the C library.

    For the many small trims between the sub-steps of a step: a city's run is hundreds of MB
    and more, where giving freed pages back keeps the next sub-step's peak down.
    """
    rss = status_mb("VmRSS")
    if rss is not None and rss < min_rss_mb:
        return False
    return release_free_memory()


def status_mb(field: str) -> float | None:
    """A memory figure of this process from ``/proc/self/status`` in MB (``VmRSS``: resident
    now, ``VmHWM``: peak resident); None where the kernel does not give it."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            kb = next(float(line.split()[1]) for line in fh if line.startswith(f"{field}:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    return kb / 1024.0


def rollup_mb(*fields: str) -> float:
    """The sum of some fields of ``/proc/self/smaps_rollup`` in MB (``Private_Dirty``,
    ``Shared_Clean``...); 0 where the kernel does not give them."""
    wanted = tuple(f"{f}:" for f in fields)
    try:
        with open("/proc/self/smaps_rollup", encoding="ascii") as fh:
            kb = sum(float(line.split()[1]) for line in fh if line.startswith(wanted))
    except (OSError, ValueError, IndexError):
        return 0.0
    return kb / 1024.0
