"""Buffer fractions and gaps of every standard, district by district.

Each district's demand pieces are built once (from the arrays the demand holds) and measured
against every standard's served area in turn, one task per district on the threads of
:func:`~geoplan._threads.thread_map`. Built once per standard and district instead, the pieces
cost about as much as dissolving the gaps, and each standard's pool waited for its slowest
district before the next standard could start.

Per standard and district (the served area clipped to a box around the district's pieces, so
no overlay ever meets the whole city's union):

* residential demand: the buffer fraction of every piece, the fraction by each item measured
  on its own, and the gaps in both views (:mod:`geoplan.coverage.gaps`);
* street demand: the buffer fraction of every street piece and the uncovered street stretches
  in both views.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from geoplan._threads import thread_map
from geoplan.coverage.buffers import (
    BufferSet,
    covered_fraction,
    fractions_and_contact,
    served_in_box,
)
from geoplan.coverage.gaps import dissolve_pieces, gap_polygons, street_gap_lines
from geoplan.coverage.on_disk import hold

if TYPE_CHECKING:
    from geoplan.coverage.context import CoverageContext
    from geoplan.results._spill import GeometryStore

__all__ = ["DistrictWork", "Measured", "measure_districts"]


@dataclass(eq=False)
class DistrictWork:
    """What the district pass needs of one standard.

    Attributes
    ----------
    sid
        The standard's id.
    demand
        Its demand kind (``residential`` or a street kind).
    served
        The buffer sets whose intersection is its served area (one, or a basket's items with
        data).
    covered
        Walking-covered flag of every demand piece of its kind.
    own
        Items measured on their own, by item position (residential demand only).
    """

    sid: str
    demand: str
    served: Sequence[BufferSet]
    covered: np.ndarray
    own: dict[int, BufferSet] = field(default_factory=dict)


@dataclass
class Measured:
    """One standard's results of the district pass.

    Attributes
    ----------
    frac
        Buffer fraction of every demand piece (0 where its district has no served area).
    item_frac
        Per item of ``own``: the fraction of every piece by that item alone.
    gaps
        Gap tables (residential: :data:`geoplan.coverage.gaps.GAP_COLUMNS` but ``rank``;
        streets: the street-gap columns but ``rank``), districts in order; with a store,
        each written to it as its district finishes (:func:`geoplan.coverage.on_disk.hold`).
    """

    frac: np.ndarray
    item_frac: dict[int, np.ndarray]
    gaps: list[Any]


def measure_districts(eng: CoverageContext, work: Sequence[DistrictWork],
                      names: np.ndarray, store: GeometryStore | None = None) -> list[Measured]:
    """Fractions and gaps of every standard of ``work``, one district at a time.

    Parameters
    ----------
    eng
        The run's coverage context (demand, population, residential land, district boxes).
    work
        One entry per standard, in the order of the results.
    names
        District names by position.
    store
        Where each district's gaps go as soon as they are made (a whole city's gaps of a
        group of standards would otherwise wait in memory for its last district); None keeps
        them in memory.

    Returns
    -------
    list of Measured
        One per entry of ``work``, in order.
    """
    frames = {w.demand: eng.district_frames(w.demand) for w in work}
    pop = eng.population
    # gaps carry people only when the weights are people (never m² under a people column)
    n_res = len(eng.demand["residential"]) if "residential" in eng.demand else 0
    weights = pop.weights if pop is not None and pop.people else np.full(n_res, np.nan)

    # each district writes its pieces' fractions straight into the standard's arrays (its
    # positions are its own): a city's fractions are never held twice
    results = [Measured(np.zeros(len(eng.demand[w.demand])),
                        {j: np.zeros(len(eng.demand[w.demand])) for j in w.own}, [])
               for w in work]

    def district(i: int) -> list[list[Any]]:
        pieces: dict[str, np.ndarray] = {}  # this district's pieces, built once per kind
        gaps: list[list[Any]] = []
        for w, got in zip(work, results, strict=True):
            if i not in frames[w.demand]:
                gaps.append([])
                continue
            mine, box = frames[w.demand][i]
            dem = eng.demand[w.demand]
            if w.demand not in pieces:
                pieces[w.demand] = dem.pieces_of(mine)
            part = served_in_box(w.served, box)
            if dem.is_linear:
                f, found = _street_district(w, pieces[w.demand], mine, part, names[i])
            else:
                for j, b in w.own.items():
                    got.item_frac[j][mine] = covered_fraction(pieces[w.demand],
                                                              served_in_box([b], box))
                f, found = _residential_district(w, pieces[w.demand], mine, part, eng.land[i],
                                                 weights[mine], names[i])
            got.frac[mine] = f
            gaps.append(hold(found, store, eng.crs))
        return gaps

    per_district = thread_map(district, range(eng.n_d), desc="coverage: districts",
                              unit="district")
    for k, got in enumerate(results):  # the gaps in district order, as one loop would
        for found in per_district:
            got.gaps += found[k]
    return results


def _residential_district(w: DistrictWork, pieces: np.ndarray, mine: np.ndarray, part: Any,
                          land: Any, weights: np.ndarray, name: str
                          ) -> tuple[np.ndarray, list[pd.DataFrame]]:
    """Buffer fraction of a district's home pieces and its gaps in both views."""
    f = covered_fraction(pieces, part, linear=False)
    out: list[pd.DataFrame] = []
    if shapely.is_empty(land):
        return f, out
    covered = w.covered[mine]
    views = {
        "buffer": (shapely.difference(land, part) if not shapely.is_empty(part) else land,
                   1.0 - f),
        "network": (dissolve_pieces(pieces[~covered]), (~covered).astype(float)),
    }
    for view, (uncovered, ufrac) in views.items():
        geoms, area, gap_pop = gap_polygons(uncovered, pieces, weights, ufrac)
        if len(geoms):
            out.append(pd.DataFrame({
                "standard": w.sid, "district": name, "view": view, "area_m2": area,
                "population": gap_pop, "geometry": geoms,
            }))
    return f, out


def _street_district(w: DistrictWork, pieces: np.ndarray, mine: np.ndarray, part: Any,
                     name: str) -> tuple[np.ndarray, list[pd.DataFrame]]:
    """Buffer fraction of a district's street pieces and its uncovered stretches."""
    f, met = fractions_and_contact(pieces, part, linear=True)
    partly = f < 1.0 - 1e-9
    # only the pieces that meet the served area are cut by it (differencing every uncovered
    # piece against it was 8x the time of the district's street fractions, same lines)
    buffer_view = pieces[partly].copy()
    cut = met[partly]
    if cut.any():
        buffer_view[cut] = shapely.difference(buffer_view[cut], part)
    views = {"buffer": buffer_view, "network": pieces[~w.covered[mine]]}
    out = []
    for view, uncovered in views.items():
        lines, length = street_gap_lines(uncovered)
        if len(lines):
            out.append(pd.DataFrame({"standard": w.sid, "district": name, "view": view,
                                     "length_m": length, "geometry": lines}))
    return f, out
