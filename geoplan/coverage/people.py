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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from geoplan.census import AgeShares, age_shares
from geoplan.coverage.access import as_reached
from geoplan.coverage.context import set_key
from geoplan.coverage.seats import CLASS_SIZE_NOTE, CLASS_SIZE_NOTE_ZH, school_seats, seat_gap, two_step_fca
from geoplan.coverage.shares import district_totals
from geoplan.results.people import CHILDREN, SCHOOL_SEATS, SEATS, PeopleResult
from geoplan.standards import FacilitySet, Standard

if TYPE_CHECKING:
    from geoplan.coverage.context import CoverageContext

logger = logging.getLogger(__name__)

__all__ = ["LEVELS", "PeopleInputs", "catchment_children", "measure_people", "people_inputs",
           "people_result", "school_keys", "school_standards"]

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
        source_zh=f"配置文件给定（demand.schools）：{sch.age_share_source or '未注明出处'}",
    )


def _walking_pairs(eng: CoverageContext, key: str, rows: Any, radius: float,
                   fs: FacilitySet | None = None, chosen: np.ndarray | None = None,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(home piece, school, walking metres) for every pair within ``radius``."""
    from geoplan.network import nearest_distances

    empty = np.zeros(0, dtype=np.int64)
    if eng.graph is None or len(rows) == 0:
        return empty, empty, np.zeros(0)
    owner, fsnap = eng.access(key, rows, fs, chosen)
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


@dataclass
class PeopleInputs:
    """What the people step takes from the demand of a run (or of one chunk of a city's
    districts: :meth:`concat` puts the chunks together).

    Attributes
    ----------
    weights
        People per home piece.
    district
        District position of each piece among the city's districts.
    schools
        Per school standard id: (buffer-covered fraction and walking-covered flag per piece;
        home piece, school and walking metres of every pair within the radius, the school
        given as its row in the city's ``schools`` layer).
    residents
        The census estimate per district (:data:`~geoplan.results.RESIDENTS`), or None.
    """

    weights: np.ndarray
    district: np.ndarray
    schools: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    residents: pd.DataFrame | None = None

    @classmethod
    def concat(cls, parts: list[PeopleInputs], residents: pd.DataFrame | None) -> PeopleInputs:
        """The chunks' pieces one after the other (the pairs' pieces renumbered)."""
        offsets = np.cumsum([0] + [len(p.weights) for p in parts])
        schools: dict[str, tuple[np.ndarray, ...]] = {}
        for sid in parts[0].schools if parts else ():
            cols = [p.schools[sid] for p in parts]
            pi = np.concatenate([c[2] + off for c, off in zip(cols, offsets, strict=False)])
            merged = tuple(np.concatenate([c[k] for c in cols]) for k in range(5))
            # each school's pairs together, its pieces in order, as a whole run lists them
            order = np.lexsort((pi, merged[3]))
            schools[sid] = (merged[0], merged[1], pi[order], merged[3][order], merged[4][order])
        return cls(np.concatenate([p.weights for p in parts]),
                   np.concatenate([p.district for p in parts]),
                   schools,  # type: ignore[arg-type]
                   residents)


def people_inputs(eng: CoverageContext, stds: list[Standard],
                  covers: dict[str, tuple[np.ndarray, np.ndarray]],
                  school_rows: np.ndarray | None = None,
                  district_positions: np.ndarray | None = None) -> PeopleInputs | None:
    """The :class:`PeopleInputs` of a run; None when it has no people.

    ``school_rows`` gives the city row of each row of the run's ``schools`` layer and
    ``district_positions`` the city position of each of its districts (one chunk of a city);
    None: the run is the city.
    """
    pop = eng.population
    if pop is None or not pop.people or "residential" not in eng.demand:
        return None
    dem = eng.demand["residential"]
    district = np.asarray(dem.district, dtype=np.int64)
    if district_positions is not None:
        district = np.asarray(district_positions, dtype=np.int64)[district]
    schools = {}
    for std, fs, _ in school_standards(stds):
        if std.id not in covers:
            continue
        chosen, rows = _chosen_schools(fs, eng.layers["schools"], eng.layers.reached_from)
        pi, pj, pc = _walking_pairs(eng, set_key(fs, chosen), rows, float(std.radius_m or 0),
                                    fs, chosen)
        row = chosen[pj]
        if school_rows is not None:
            row = np.asarray(school_rows, dtype=np.int64)[row]
        schools[std.id] = (*covers[std.id], pi, row, pc)
    return PeopleInputs(pop.weights, district, schools, pop.residents)


def school_keys(rows: pd.DataFrame) -> np.ndarray:
    """Each school's name across runs over parts of one city: its file and its id there.

    Not its coordinates: two batch jobs of one city may project into different CRSs.
    """
    if not len(rows):
        return np.zeros(0, dtype=object)
    source = rows["source"].astype(str) if "source" in rows else pd.Series("", index=rows.index)
    return (source + "|" + rows["source_id"].astype(str)).to_numpy(dtype=object)


def _chosen_schools(fs: FacilitySet, schools_layer: Any, reached_from: dict[str, str]
                    ) -> tuple[np.ndarray, Any]:
    """The layer rows of the schools of ``fs``, and those schools as their reach starts."""
    chosen = np.flatnonzero(fs.select(schools_layer))
    return chosen, as_reached(schools_layer.iloc[chosen].reset_index(drop=True),
                              fs.reached_from_for(reached_from))


def catchment_children(inputs: PeopleInputs, stds: list[Standard], schools_layer: Any,
                       reached_from: dict[str, str], settings: Any
                       ) -> dict[str, dict[str, float]]:
    """The children of these homes within each school's catchment, by standard and school.

    Step 1 of the two-step catchment (its denominator) for the homes of a run over part of a
    city; summed over the parts it is the whole city's (:mod:`geoplan.coverage.seat_demand`).

    Returns
    -------
    dict
        Standard id -> :func:`school_keys` key -> children (schools with none left out).
    """
    ages = _ages(settings)
    out: dict[str, dict[str, float]] = {}
    for std, fs, level in school_standards(stds):
        if std.id not in inputs.schools:
            continue
        _, _, pi, pair_rows, _ = inputs.schools[std.id]
        chosen, rows = _chosen_schools(fs, schools_layer, reached_from)
        reach = _in_catchment(inputs.weights * ages.share(level), pi,
                              np.searchsorted(chosen, pair_rows), len(rows))
        mine: dict[str, float] = {}
        for key, n in zip(school_keys(rows), reach, strict=True):
            if n > 0:
                mine[key] = mine.get(key, 0.0) + float(n)
        out[std.id] = mine
    return out


def _in_catchment(kids: np.ndarray, pi: np.ndarray, pj: np.ndarray, n: int) -> np.ndarray:
    """The children of the pairs' homes (``pi``) per school (``pj``, of ``n``); NaN counts 0."""
    return np.bincount(pj, weights=np.nan_to_num(kids[pi]), minlength=n).astype(float)


def _school_district(districts: Any, rows: Any) -> np.ndarray:
    pts = shapely.point_on_surface(rows.geometry.to_numpy()) if len(rows) else np.zeros(0, object)
    out = np.full(len(pts), "", dtype=object)
    if len(pts):
        di, pi = shapely.STRtree(pts).query(districts.geometry.to_numpy(), predicate="intersects")
        out[pi] = districts["district"].astype(str).to_numpy()[di]
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
    inputs = people_inputs(eng, stds, covers)
    if inputs is None:
        return None
    return people_result(inputs, stds, eng.districts, eng.layers["schools"],
                         eng.layers.reached_from, eng.settings,
                         eng.facts.school_children if eng.facts is not None else None)


def people_result(inputs: PeopleInputs, stds: list[Standard], districts: pd.DataFrame,
                  schools_layer: Any, reached_from: dict[str, str],
                  settings: Any, city_children: dict[str, dict[str, float]] | None = None
                  ) -> PeopleResult:
    """Children beyond each school radius and the 学位缺口 of a city, per district and level,
    from its :class:`PeopleInputs`.

    Parameters
    ----------
    inputs
        The city's pieces, people and school pairs.
    stds
        Standards of the run; those on schools of one level are measured.
    districts
        The city's districts (``district``, ``inside_km2``, ``inside_share``).
    schools_layer
        The city's ``schools`` layer.
    reached_from
        The layer set's :attr:`~geoplan.layers.LayerSet.reached_from`.
    settings
        The config's demand settings.
    city_children
        When the districts are part of a city (a batch job): the whole city's children in
        each school's catchment (:func:`catchment_children` summed over its districts), so
        that a school's seats are shared among every district's children as in the whole
        city's run; None: these districts' children alone compete.
    """
    from geoplan.config import SchoolSeatSettings

    sch = getattr(settings, "schools", None) or SchoolSeatSettings()
    ages = _ages(settings)
    weights, dem_district = inputs.weights, inputs.district
    names = districts["district"].astype(str).to_numpy()
    inside_km2, inside_share = _inside(districts)
    n_d = len(districts)
    known = np.bincount(dem_district[np.isfinite(weights)], minlength=n_d) > 0
    estimate = np.zeros(n_d, dtype=bool)
    if inputs.residents is not None:
        estimate = inputs.residents.set_index("district")["is_estimate"].reindex(names).fillna(
            False).to_numpy(dtype=bool)
    child_rows: list[dict[str, Any]] = []
    seat_rows: list[dict[str, Any]] = []
    school_frames: list[pd.DataFrame] = []
    for std, fs, level in school_standards(stds):
        if std.id not in inputs.schools:
            continue
        frac, covered, pi, pair_rows, pc = inputs.schools[std.id]
        share = ages.share(level)
        kids = weights * share
        radius = float(std.radius_m or 0)
        total = district_totals(kids, dem_district, n_d)
        beyond_buf = district_totals(kids * (1.0 - frac), dem_district, n_d)
        beyond_net = district_totals(np.where(covered, 0.0, kids), dem_district, n_d)
        chosen, rows = _chosen_schools(fs, schools_layer, reached_from)
        class_size = sch.class_size_primary if level == "primary" else sch.class_size_junior
        seats, seats_from = school_seats(
            rows, level, class_size=class_size,
            default_classes=(sch.default_classes_primary if level == "primary"
                             else sch.default_classes_junior),
            site_m2_per_pupil=(sch.site_m2_per_pupil_primary if level == "primary"
                               else sch.site_m2_per_pupil_junior))
        pj = np.searchsorted(chosen, pair_rows)
        catchment = None
        if city_children is not None and std.id in city_children:
            in_city = city_children[std.id]
            catchment = np.array([in_city.get(k, np.nan) for k in school_keys(rows)], dtype=float)
        ratio, access = two_step_fca(kids, seats, pi, pj, pc, max_cost=radius, catchment=catchment)
        in_reach = _in_catchment(kids, pi, pj, len(rows))
        if catchment is not None:
            in_reach = np.fmax(in_reach, catchment)
        _, reached, gap = seat_gap(kids, access, dem_district, n_d)
        where = _school_district(districts, rows)
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
        residents=inputs.residents if inputs.residents is not None else pd.DataFrame(),
        children=pd.DataFrame(child_rows, columns=CHILDREN.names),
        seats=pd.DataFrame(seat_rows, columns=SEATS.names),
        schools=(pd.concat(school_frames, ignore_index=True) if school_frames
                 else pd.DataFrame(columns=SCHOOL_SEATS.names)),
        meta={
            "age_shares": ages.source,
            "seat_norms": (f"{CLASS_SIZE_NOTE}; classes assumed when unknown: "
                           f"{sch.default_classes_primary} primary, {sch.default_classes_junior} "
                           "junior a school, split by years where it serves several levels "
                           "(an assumption, not a count: see seats_from)"),
            "notes": ("Catchments are walked over the walkways; only children of the districts "
                      "inside the data compete for seats, so schools near the data's edge look "
                      "emptier than they are, and schools beyond the edge are missing."),
            "age_shares_zh": ages.source_zh or ages.source,
            "seat_norms_zh": (f"{CLASS_SIZE_NOTE_ZH}；班数不明时假定小学{sch.default_classes_primary}"
                              f"班、初中{sch.default_classes_junior}班，跨学段的学校按学制年数分摊"
                              "（假定值，不是统计数，见 seats_from 列）"),
            "notes_zh": ("服务范围沿步行道路计算；只有数据范围内的儿童参与学位分配，"
                         "因此靠近数据边缘的学校显得比实际空，数据范围以外的学校未计入。"),
        },
    )
    return result
