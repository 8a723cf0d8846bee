"""Freed memory handed back between steps (glibc ``malloc_trim``)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geoplan._memory import release_free_memory


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        return next(float(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


def test_freed_shapes_go_back_to_the_system():
    if not release_free_memory():
        pytest.skip("the C library is not glibc: nothing to hand back")
    # a step's worth of GEOS shapes, then all but every 50th freed: the survivors pin the
    # allocator's heap, so without a trim the freed pages stay with the process
    shapes = shapely.buffer(shapely.points(np.arange(200_000.0), 0.0), 1.0, quad_segs=4)
    keep = shapes[::50].copy()
    del shapes
    held = _rss_mb()
    assert release_free_memory()
    assert _rss_mb() < held - 50  # > 150 MB of polygons were freed; most of it goes back
    assert len(keep) == 4000


def test_only_a_process_of_city_size_trims_between_sub_steps(monkeypatch):
    # a small run's sub-steps leave its heap as it is (the default run trimmed 142 times at
    # about 200 MB); a city's give their pages back; an unknown size is trimmed to be safe
    import geoplan._memory as memory

    trims: list[int] = []
    monkeypatch.setattr(memory, "_malloc_trim", lambda: trims.append)
    sizes = {"VmRSS": 200.0}
    monkeypatch.setattr(memory, "status_mb", lambda field: sizes.get(field))
    assert memory.release_if_large() is False and trims == []
    sizes["VmRSS"] = memory.TRIM_MIN_RSS_MB
    assert memory.release_if_large() is True and trims == [0]
    assert memory.release_if_large(min_rss_mb=1e6) is False and trims == [0]
    sizes.clear()  # no /proc: the size is unknown
    assert memory.release_if_large() is True and trims == [0, 0]
    assert memory.release_free_memory() is True and trims == [0, 0, 0]  # always, when asked
