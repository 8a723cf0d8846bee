"""School-age children beyond the school radius, and school seats (学位) within walking reach.

Runs inside :func:`geoplan.coverage.run_coverage` on the same demand pieces, people, walking
graph and snapped points as the coverage shares, for each standard whose facilities are
schools of one level (``primary_school_500``, ``junior_school_1000``):

* **children** of the level per home piece = the piece's people × the age share (ages 6–11 or
  12–14, :func:`geoplan.census.age_shares`, or the config's ``demand.schools``);
* **beyond the radius** per district, by straight line (the share of each piece outside the
  buffers, as the official indicator) and by walking (pieces farther than the radius along the
  walkways, or off them);
* **seats** per school (:func:`geoplan.coverage.seats.school_seats`) and a two-step floating
  catchment over walking distance with the standard's radius as catchment
  (:func:`geoplan.coverage.seats.two_step_fca`), giving seats per child for every piece and per
  district the seats reached and the 学位缺口.

Only when the population is people (census or raster): with relative weights there are no
children to count.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from geoplan.census import AgeShares, age_shares
from geoplan.coverage.access import as_reached
from geoplan.coverage.context import set_key
from geoplan.coverage.seats import CLASS_SIZE_NOTE, school_seats, seat_gap, two_step_fca
from geoplan.coverage.shares import district_totals
from geoplan.results.people import CHILDREN, SCHOOL_SEATS, SEATS, PeopleResult
from geoplan.standards import FacilitySet, Standard

if TYPE_CHECKING:
    from geoplan.coverage.context import CoverageContext

logger = logging.getLogger(__name__)

__all__ = ["LEVELS", "measure_people", "school_standards"]

LEVELS = ("primary", "junior")
"""School levels with an age band and seats."""


def school_standards(stds: list[Standard]) -> list[tuple[Standard, FacilitySet, str]]:
    """The standards whose facilities are schools of one level, with that level.

    Parameters
    ----------
    stds
        Standards of the run.

    Returns
    -------
    list of (standard, facility set, level)
    """
    out = []
    for std in stds:
        if std.basket or std.demand != "residential" or not std.radius_m:
            continue
        fs = std.facility_sets[0]
        levels = [k for k in LEVELS if fs.layer == "schools" and fs.filter.get(k) is True]
        if len(levels) == 1:
            out.append((std, fs, levels[0]))
    return out


def _ages(settings: Any) -> AgeShares:
    city = getattr(settings, "census_city", None)
    base = age_shares(city)
    sch = getattr(settings, "schools", None)
    if sch is None or (sch.age_share_primary is None and sch.age_share_junior is None):
        return base
    return AgeShares(
        primary=sch.age_share_primary or base.primary, junior=sch.age_share_junior or base.junior,
        source=f"configured (demand.schools): {sch.age_share_source or 'no citation given'}",
    )


def _walking_pairs(eng: CoverageContext, key: str, rows: Any, radius: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(home piece, school, walking metres) for every pair within ``radius``."""
    from geoplan.network import nearest_distances

    empty = np.zeros(0, dtype=np.int64)
    if eng.graph is None or len(rows) == 0:
        return empty, empty, np.zeros(0)
    owner, fsnap = eng.access(key, rows)
    dsnap = eng.snapped["residential"]
    sources = {int(j): fsnap.subset((owner == j) & fsnap.ok)
               for j in np.unique(owner[fsnap.ok])}
    if not sources:
        return empty, empty, np.zeros(0)
    dist = nearest_distances(eng.graph, sources, dsnap, float(radius))
    pi, pj, pc = [], [], []
    for j, d in dist.items():
        near = np.flatnonzero(np.isfinite(d) & (d <= radius))
        pi.append(near)
        pj.append(np.full(len(near), j, dtype=np.int64))
        pc.append(d[near])
    return np.concatenate(pi), np.concatenate(pj), np.concatenate(pc)


def _school_district(eng: CoverageContext, rows: Any) -> np.ndarray:
    pts = shapely.point_on_surface(rows.geometry.to_numpy()) if len(rows) else np.zeros(0, object)
    out = np.full(len(pts), "", dtype=object)
    if len(pts):
        di, pi = shapely.STRtree(pts).query(eng.districts.geometry.to_numpy(), predicate="intersects")
        out[pi] = eng.districts["district"].astype(str).to_numpy()[di]
    return out


def _inside(districts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Area of each district inside the data (km²) and its share of the district (NaN: unknown)."""
    n = len(districts)
    km2 = (districts["inside_km2"].to_numpy(dtype=float) if "inside_km2" in districts
           else np.full(n, np.nan))
    share = (districts["inside_share"].to_numpy(dtype=float) if "inside_share" in districts
             else np.full(n, np.nan))
    return km2, share


def measure_people(eng: CoverageContext, stds: list[Standard],
                   covers: dict[str, tuple[np.ndarray, np.ndarray]]) -> PeopleResult | None:
    """Children beyond each school radius and the 学位缺口, per district and level.

    Parameters
    ----------
    eng
        The coverage engine of the run (demand, people, graph, snapped points).
    stds
        Standards of the run; those on schools of one level are measured.
    covers
        Standard id -> (buffer-covered fraction, walking-covered flag) per residential piece.

    Returns
    -------
    PeopleResult or None
        None when the run has no people (no census figure, no raster).
    """

    pop = eng.population
    if pop is None or not pop.people or "residential" not in eng.demand:
        return None
    from geoplan.config import SchoolSeatSettings

    sch = getattr(eng.settings, "schools", None) or SchoolSeatSettings()
    ages = _ages(eng.settings)
    dem = eng.demand["residential"]
    names = eng.districts["district"].astype(str).to_numpy()
    inside_km2, inside_share = _inside(eng.districts)
    n_d = eng.n_d
    known = np.bincount(dem.district[np.isfinite(pop.weights)], minlength=n_d) > 0
    estimate = np.zeros(n_d, dtype=bool)
    if pop.residents is not None:
        estimate = pop.residents.set_index("district")["is_estimate"].reindex(names).fillna(
            False).to_numpy(dtype=bool)
    child_rows: list[dict[str, Any]] = []
    seat_rows: list[dict[str, Any]] = []
    school_frames: list[pd.DataFrame] = []
    for std, fs, level in school_standards(stds):
        if std.id not in covers:
            continue
        frac, covered = covers[std.id]
        share = ages.share(level)
        kids = pop.weights * share
        radius = float(std.radius_m or 0)
        total = district_totals(kids, dem.district, n_d)
        beyond_buf = district_totals(kids * (1.0 - frac), dem.district, n_d)
        beyond_net = district_totals(np.where(covered, 0.0, kids), dem.district, n_d)
        layer = eng.layers["schools"]
        chosen = np.flatnonzero(fs.select(layer))
        rows = as_reached(layer.iloc[chosen].reset_index(drop=True),
                          fs.reached_from_for(eng.layers.reached_from))
        class_size = sch.class_size_primary if level == "primary" else sch.class_size_junior
        seats, seats_from = school_seats(
            rows, level, class_size=class_size,
            default_classes=(sch.default_classes_primary if level == "primary"
                             else sch.default_classes_junior),
            site_m2_per_pupil=(sch.site_m2_per_pupil_primary if level == "primary"
                               else sch.site_m2_per_pupil_junior))
        pi, pj, pc = _walking_pairs(eng, set_key(fs, chosen), rows, radius)
        ratio, access = two_step_fca(kids, seats, pi, pj, pc, max_cost=radius)
        in_reach = np.bincount(pj, weights=np.nan_to_num(kids[pi]), minlength=len(rows)).astype(float)
        _, reached, gap = seat_gap(kids, access, dem.district, n_d)
        where = _school_district(eng, rows)
        for i in range(n_d):
            people = bool(known[i])
            child_rows.append({
                "district": names[i], "level": level, "standard": std.id, "radius_m": radius,
                "age_share": share,
                "children": total[i] if people else np.nan,
                "beyond_buffer": beyond_buf[i] if people else np.nan,
                "beyond_network": beyond_net[i] if people else np.nan,
                "is_estimate": bool(estimate[i]),
                "inside_km2": inside_km2[i], "inside_share": inside_share[i],
            })
            mine = where == names[i]
            seat_rows.append({
                "district": names[i], "level": level, "catchment_m": radius,
                "children": total[i] if people else np.nan,
                "seats_reached": reached[i] if people else np.nan,
                "seats_per_child": (reached[i] / total[i] if people and total[i] > 0 else np.nan),
                "seat_gap": gap[i] if people else np.nan,
                "schools_in_district": int(mine.sum()),
                "seats_in_district": float(seats[mine].sum()),
                "inside_km2": inside_km2[i], "inside_share": inside_share[i],
            })
        school_frames.append(pd.DataFrame({
            "source_id": rows["source_id"].astype(str).to_numpy() if len(rows) else [],
            "name": rows["name"].astype(str).to_numpy() if len(rows) else [],
            "level": level, "district": where, "seats": seats, "seats_from": seats_from,
            "children_in_catchment": in_reach, "seats_per_child": ratio,
        }))
        logger.info("%s: %.0f children aged for %s school, %.0f beyond %g m by straight line, "
                    "%.0f by walking; %.0f seats reached, 学位缺口 %.0f", std.id, np.nansum(total),
                    level, np.nansum(beyond_buf), radius, np.nansum(beyond_net),
                    np.nansum(reached), np.nansum(gap))
    result = PeopleResult(
        residents=pop.residents if pop.residents is not None else pd.DataFrame(),
        children=pd.DataFrame(child_rows, columns=CHILDREN.names),
        seats=pd.DataFrame(seat_rows, columns=SEATS.names),
        schools=(pd.concat(school_frames, ignore_index=True) if school_frames
                 else pd.DataFrame(columns=SCHOOL_SEATS.names)),
        meta={
            "age_shares": ages.source,
            "seat_norms": (f"{CLASS_SIZE_NOTE}; classes assumed when unknown: "
                           f"{sch.default_classes_primary} primary, {sch.default_classes_junior} "
                           "junior (an assumption, not a count: see seats_from)"),
            "notes": ("Catchments are walked over the walkways; only children of the districts "
                      "inside the data compete for seats, so schools near the data's edge look "
                      "emptier than they are, and schools beyond the edge are missing."),
        },
    )
    return result
