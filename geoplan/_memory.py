"""Give freed memory back to the system between steps.

glibc's allocator keeps freed blocks for reuse, and every thread allocates from its own arena:
after a step's shapes are freed (and more so after work on threads), the process can hold
hundreds of MB it no longer uses (on the 16-tile benchmark city, 932 MB resident after the
demand was built on two threads, 508 MB after ``malloc_trim``). The next step then grows
from there. :func:`release_free_memory` asks glibc to return those pages; it costs well under
a millisecond when there is little to return, and does nothing where glibc is not the C
library.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

__all__ = ["release_free_memory", "rollup_mb", "status_mb"]

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
