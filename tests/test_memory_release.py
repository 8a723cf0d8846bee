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
