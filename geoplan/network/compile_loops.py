"""Compile geoplan's numba loops now, once per installation.

``python -m geoplan.network.compile_loops`` builds a small segment index and searches it with
the compiled loops, and sums the rows of a small cover pattern as the sites' greedy does, so
that numba compiles every loop the nearest-edge search and the sites use and keeps the machine
code beside :mod:`geoplan.network._nearest_compiled` and :mod:`geoplan.siting._cover_compiled`
(their ``cache=True``). Every later process loads it instead of compiling: the first
city-scale run, and the tests of the compiled loops.
On this 2-core machine compiling took 16 CPU s (about 3.5 s of it numba setting itself up); a
fresh clone's test suite took 334.4 s with it and 297.0 s with the loops compiled before.

Without numba (it comes with the ``fast`` and ``test`` extras) there is nothing to compile:
the command says so and exits 0.
"""

from __future__ import annotations

import importlib.util
import sys
import time

import numpy as np
import shapely


def compile_loops() -> float | None:
    """Compile the loops of :mod:`geoplan.network._nearest_compiled` and
    :mod:`geoplan.siting._cover_compiled` (or load them, when numba has them already) by using
    each as the search and the sites' greedy do.

    Returns
    -------
    float or None
        The CPU seconds it took; None without numba.
    """
    if importlib.util.find_spec("numba") is None:
        return None
    from geoplan.network.nearest import SegmentIndex

    start = time.process_time()
    # a small grid of streets; compiled=True takes the loops at any size
    lines = [shapely.LineString([(0.0, 100.0 * i), (400.0, 100.0 * i + 5.0)]) for i in range(5)]
    lines += [shapely.LineString([(100.0 * i, 0.0), (100.0 * i, 200.0), (100.0 * i + 3.0, 450.0)])
              for i in range(5)]
    geoms = np.asarray(lines, dtype=object)
    index = SegmentIndex(geoms, np.arange(len(geoms)), compiled=True)
    rng = np.random.default_rng(0)
    xy = rng.uniform(-50.0, 450.0, size=(200, 2))
    index.nearest(xy[:, 0], xy[:, 1], 30.0, compiled=True)
    from geoplan.siting.cover import greedy_max_cover

    # the cover pattern's column indices come as int32 (a city's) and int64 (the ball query's)
    greedy_max_cover(xy, xy, np.ones(len(xy)), 40.0, max_sites=3, compiled=True)
    greedy_max_cover(xy[:20], xy, np.ones(len(xy)), 40.0, max_sites=3, compiled=True)
    return time.process_time() - start


def main() -> int:
    """Compile the loops and say how long it took: exit code 0 (also without numba), or 1
    with the reason and the fix when numba cannot compile them on this machine."""
    try:
        took = compile_loops()
    except Exception as exc:  # numba's errors are many; any of them is said, not traced
        print(f"geoplan: numba could not compile the nearest-edge search's and the sites' "
              f"loops: {exc}. A city-scale run would fail the same way. Fix: update numba "
              "(pip install -U numba) or uninstall it (pip uninstall numba): without it they "
              "run on arrays, with the same answers.", file=sys.stderr)
        return 1
    if took is None:
        print("numba is not installed: nothing to compile (the search and the sites run on "
              "arrays)")
    else:
        print(f"the nearest-edge search's and the sites' compiled loops are ready "
              f"({took:.1f} CPU s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
