"""Work shared by the pages of an index map: what one page computed, the next one reuses.

An index map (:mod:`geoplan.report._map_index`) builds one full map per district from the
same city-wide results. Without sharing, every page filtered the whole city's frames and
redrew the features it shares with its neighbours (everything within the margin around a
district is drawn on two to four pages). While :func:`sharing` is active:

- :meth:`MapCache.rows_within` cuts a city-wide frame by a spatial index built once per
  frame, instead of testing every feature of the city on every page;
- :meth:`MapCache.drawn` keeps each feature's drawn shape (generalised, simplified,
  reprojected, rounded) per level of detail and tolerance, so that a feature on several
  pages is drawn once; the operations are per feature, so a page gets exactly the shapes it
  would have computed itself;
- :meth:`MapCache.frame` keeps whole per-standard tables computed for the city (each page
  takes its district's rows).

Outside :func:`sharing` (the single ``map.html``) nothing is kept and every map computes its
own, as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely


class MapCache:
    """Spatial indexes, drawn shapes and tables shared by the pages of one index map."""

    def __init__(self) -> None:
        self._trees: dict[int, tuple[Any, shapely.STRtree]] = {}
        self._drawn: dict[Hashable, dict[int, tuple[Any, Any]]] = {}
        self._frames: dict[Hashable, Any] = {}
        self._latest: dict[str, tuple[Any, Any]] = {}
        self.city: dict[str, Any] = {}
        """City-wide inputs the pages' shared tables are made from (set by the index map)."""

    def rows_within(self, gdf: Any, box: Any) -> npt.NDArray[np.bool_]:
        """Which rows of ``gdf`` (a city-wide GeoDataFrame) meet ``box``, as a mask.

        The same rows as ``shapely.intersects(geometry, box)`` with missing geometries left
        out; the index of ``gdf`` is built on the first call (the entry keeps the frame).
        """
        entry = self._trees.get(id(gdf))
        if entry is None or entry[0] is not gdf:
            entry = (gdf, shapely.STRtree(gdf.geometry.to_numpy()))
            self._trees[id(gdf)] = entry
        hits = entry[1].query(box, predicate="intersects")
        mask = np.zeros(len(gdf), dtype=bool)
        mask[hits] = True
        return mask

    def drawn(self, geoms: npt.NDArray[Any], key: Hashable,
              draw: Callable[[npt.NDArray[Any]], npt.NDArray[Any]]) -> npt.NDArray[Any]:
        """``draw(geoms)``, feature by feature, reusing what earlier calls drew for ``key``.

        ``draw`` must work on each geometry on its own (simplify, reproject, round): it
        returns one geometry (or None) per input. A feature is known by its geometry object:
        the entry keeps the object, so its ``id`` cannot be reused while the cache lives.
        """
        store = self._drawn.setdefault(key, {})
        out = np.empty(len(geoms), dtype=object)
        missing = []
        for i, g in enumerate(geoms):
            hit = store.get(id(g))
            if hit is not None and hit[0] is g:
                out[i] = hit[1]
            else:
                missing.append(i)
        if missing:
            todo = np.asarray(geoms, dtype=object)[missing]
            done = draw(todo)
            for i, g, d in zip(missing, todo, done, strict=True):
                store[id(g)] = (g, d)
                out[i] = d
        return out

    def of(self, obj: Any, tag: str, make: Callable[[Any], Any]) -> Any:
        """``make(obj)`` for the object ``obj`` (e.g. one page's roads), kept while the next
        calls pass the same object; one object per ``tag`` is kept."""
        hit = self._latest.get(tag)
        if hit is None or hit[0] is not obj:
            hit = (obj, make(obj))
            self._latest[tag] = hit
        return hit[1]

    def frame(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """``make()``, computed once per ``key``."""
        if key not in self._frames:
            self._frames[key] = make()
        return self._frames[key]


_CURRENT: ContextVar[MapCache | None] = ContextVar("geoplan_map_cache", default=None)


def current() -> MapCache | None:
    """The shared work of the index map being written, or None."""
    return _CURRENT.get()


@contextlib.contextmanager
def sharing() -> Iterator[MapCache]:
    """Share work between the maps built inside (the pages of one index map)."""
    cache = MapCache()
    token = _CURRENT.set(cache)
    try:
        yield cache
    finally:
        _CURRENT.reset(token)


__all__ = ["MapCache", "current", "sharing"]
