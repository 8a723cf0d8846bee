"""Watch shapely while geoplan runs: a prepared geometry used on a task thread must be that
thread's own.

GEOS prepared geometries are not thread-safe (see :mod:`geoplan._threads`). The audit wraps
``shapely.prepare`` (to learn which thread prepared each object) and every predicate that uses
its first argument's prepared form, plus ``STRtree.query`` with a predicate (its query
geometries). A call on a thread other than the main one whose prepared geometry was prepared
elsewhere (by the main thread, before the audit, or by another task thread) is recorded.
geoplan calls shapely through the module (``shapely.intersects``, never ``from shapely import``),
so the wrappers see every call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import shapely

# the predicates shapely evaluates with the first argument's prepared geometry when it has one
PREPARED_PREDICATES = ("intersects", "contains", "contains_properly", "covers", "covered_by",
                       "within", "touches", "crosses", "overlaps", "disjoint", "dwithin")
# these prepare their geometry on the call and leave it prepared
PREPARING_PREDICATES = ("contains_xy", "intersects_xy")


@dataclass
class PreparedAudit:
    """What the audit saw: the calls that used a prepared geometry another thread prepared."""

    shared: list[str] = field(default_factory=list)
    checked_calls: int = 0
    _preparer: dict[int, int] = field(default_factory=dict)
    _keep: list[Any] = field(default_factory=list)  # ids stay unique while the audit runs

    def prepared(self, geoms: Any) -> None:
        here = threading.get_ident()
        for g in _objects(geoms):
            self._preparer[id(g)] = here
            self._keep.append(g)

    def destroyed(self, geoms: Any) -> None:
        for g in _objects(geoms):
            self._preparer.pop(id(g), None)

    def check(self, name: str, geoms: Any, preparing: bool = False) -> None:
        here = threading.get_ident()
        if here == threading.main_thread().ident:
            return
        self.checked_calls += 1
        objs = _objects(geoms)
        if not len(objs):
            return
        done = np.asarray(shapely.is_prepared(objs), dtype=bool)
        for g in objs[done]:
            by = self._preparer.get(id(g))
            if by != here:
                who = "before the audit or untracked" if by is None else "another thread"
                self.shared.append(f"{name} on thread {threading.current_thread().name}: a "
                                   f"{g.geom_type} prepared by {who}")
        if preparing:
            self.prepared(objs[~done])


def _objects(geoms: Any) -> np.ndarray:
    arr = np.asarray(geoms, dtype=object).ravel()
    if not len(arr):
        return arr
    return arr[np.asarray([isinstance(g, shapely.Geometry) for g in arr], dtype=bool)]


@contextmanager
def audit_prepared(monkeypatch: pytest.MonkeyPatch) -> Iterator[PreparedAudit]:
    """Record, for the body of the ``with`` block, every prepared geometry shared by threads."""
    audit = PreparedAudit()
    real_prepare, real_destroy = shapely.prepare, shapely.destroy_prepared

    def prepare(geometry: Any, **kwargs: Any) -> Any:
        out = real_prepare(geometry, **kwargs)
        audit.prepared(geometry)
        return out

    def destroy(geometry: Any, **kwargs: Any) -> Any:
        audit.destroyed(geometry)
        return real_destroy(geometry, **kwargs)

    monkeypatch.setattr(shapely, "prepare", prepare)
    monkeypatch.setattr(shapely, "destroy_prepared", destroy)
    for name in PREPARED_PREDICATES + PREPARING_PREDICATES:
        monkeypatch.setattr(shapely, name, _watched(audit, name, getattr(shapely, name),
                                                    name in PREPARING_PREDICATES))
    real_query = shapely.STRtree.query

    def query(self: shapely.STRtree, geometry: Any, predicate: str | None = None,
              *args: Any, **kwargs: Any) -> Any:
        if predicate is not None:
            audit.check(f"STRtree.query({predicate})", geometry)
        return real_query(self, geometry, predicate, *args, **kwargs)

    monkeypatch.setattr(shapely.STRtree, "query", query)
    yield audit


def _watched(audit: PreparedAudit, name: str, fn: Any, preparing: bool) -> Any:
    def call(a: Any, *args: Any, **kwargs: Any) -> Any:
        audit.check(name, a, preparing)
        return fn(a, *args, **kwargs)

    return call
