"""Per-person and ratio indicators per district (STANDARDS.md section C).

* **人均公园绿地面积** (park area per person): area of parks and gardens (the ``parks`` layer,
  overlaps counted once) inside the district ÷ its residents (the census estimate of
  :mod:`geoplan.coverage.census`);
* **建成区绿地率** (green space ratio): mapped green space (the ``green_space`` layer: parks,
  gardens, grass, wood …, overlaps counted once) ÷ the built-up area, taken as the district's
  area inside the data (the embedded data is the central city; a planner with a 建成区
  boundary should clip the districts to it). The official ratio also counts the green of
  housing estates and institutions (附属绿地) and protective green (防护绿地), which OSM
  rarely maps: the figure is a lower bound, and every output says so;
* **绿化覆盖率** (green coverage): needs the vertical projection of all vegetation, street
  trees included; OpenStreetMap does not map canopy, so the figure is left empty (n/a);
* **人均道路面积** (road area per person): Σ road length × width ÷ residents. Width comes from
  the roads layer's ``width`` (m, the OSM ``width`` tag or a planner's column), else ``lanes``
  × :data:`LANE_WIDTH_M`, else :data:`DEFAULT_LANES` per OSM highway class ×
  :data:`LANE_WIDTH_M`, where a one-way way is one carriageway of a divided road and counts
  half. Each row says how many km of road took their width from each source, and how many
  roads had an unreadable tag (:mod:`geoplan.layers.road_tags`). Carriageway only: sidewalks,
  which the statistical yearbooks include, are left out, so the figure is a lower bound.

Every figure for a district only partly inside the data covers that part only and says so.
The maths (:func:`ratio_rows`) is on plain arrays.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._clip import parts_inside
from geoplan._text import share_text
from geoplan.results.indicators import INDICATORS, IndicatorResult
from geoplan.vocab import WHOLE_DISTRICT_SHARE

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_LANES", "DEFAULT_TARGETS", "LANE_WIDTH_M", "WIDTH_SOURCES", "measure_indicators",
           "road_width", "road_widths"]

LANE_WIDTH_M = 3.5
"""Lane width: CJJ 37-2012 城市道路工程设计规范 (2016 edition) gives 3.5 m for a lane of large
or mixed traffic at a design speed of 60 km/h or less (3.75 m above it); the urban streets of
the study areas are mostly at or below 60 km/h, so 3.5 m is assumed for every lane."""

DEFAULT_LANES: dict[str, float] = {
    "motorway": 6, "trunk": 6, "primary": 6, "secondary": 4, "tertiary": 2,
    "motorway_link": 1, "trunk_link": 1, "primary_link": 1, "secondary_link": 1,
    "tertiary_link": 1, "unclassified": 2, "residential": 2, "living_street": 1, "service": 1,
    "pedestrian": 2,
}
"""Lanes assumed per OSM ``highway`` class when a road has no width or lanes (an assumption
for both directions of a two-way way; other classes: 1). Main roads are taken as the typical
Chinese urban cross-sections: 主干路 six lanes, 次干路 four, 支路 two (CJJ 37-2012 chapter 5
describes these classes; the lane counts are this module's assumption, not the code's)."""

WIDTH_SOURCES = ("width", "lanes", "default")
"""Where a road's width came from, in the order tried."""

DEFAULT_TARGETS: dict[str, tuple[str, float, str, str]] = {
    "park_area_per_person": ("人均公园绿地面积", 8.0, "m2_per_person",
                             "GB 55014-2021 (> 8 m²; Hebi 2018: 11.5 m², Anyang 2023: 12 m²)"),
    "green_space_ratio": ("建成区绿地率", 0.355, "share",
                          "Hebi 2018 百城建设提质 (35.5%; Anyang 2023: 38%)"),
    "green_coverage": ("绿化覆盖率", 0.39, "share", "Hebi 2018 百城建设提质 (39%)"),
    "road_area_per_person": ("人均道路面积", 22.0, "m2_per_person",
                             "Anyang 2021–2023 三年行动 (22 m²)"),
}
"""Indicator id -> (Chinese name, default target, unit, source of the target)."""

NAMES_EN: dict[str, str] = {
    "park_area_per_person": "Park area per person",
    "green_space_ratio": "Green space ratio of the built-up area",
    "green_coverage": "Green coverage ratio",
    "road_area_per_person": "Road area per person",
}
"""Indicator id -> English name (the table's ``name_zh`` is the Chinese)."""


def indicator_name(indicator: str, name_zh: str, lang: str) -> str:
    """An indicator's name in ``lang`` (its Chinese name when no English one is known).

    >>> indicator_name("green_coverage", "绿化覆盖率", "en"), indicator_name("x", "某指标", "en")
    ('Green coverage ratio', '某指标')
    """
    return NAMES_EN.get(indicator, name_zh) if lang == "en" else name_zh


def road_width(roads: pd.DataFrame) -> np.ndarray:
    """Carriageway width of each road (m): ``width``, else ``lanes`` × lane width, else the
    class default; one-way ways count half (one carriageway of a divided road).

    Examples
    --------
    >>> df = pd.DataFrame({"highway": ["primary", "residential", "primary"],
    ...                    "oneway": [False, False, True], "width": [np.nan, 9.0, np.nan]})
    >>> road_width(df).tolist()
    [21.0, 9.0, 10.5]
    """
    return road_widths(roads)[0]


def road_widths(roads: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Carriageway width of each road (m), and where it came from (:data:`WIDTH_SOURCES`).

    Examples
    --------
    >>> df = pd.DataFrame({"highway": ["primary", "residential", "tertiary"],
    ...                    "width": [np.nan, 9.0, np.nan], "lanes": [4.0, np.nan, np.nan]})
    >>> w, src = road_widths(df)
    >>> w.tolist(), src.tolist()
    ([14.0, 9.0, 7.0], ['lanes', 'width', 'default'])
    """
    n = len(roads)

    def col(name: str) -> np.ndarray:
        if name in roads.columns:
            return pd.to_numeric(roads[name], errors="coerce").to_numpy(dtype=float)
        return np.full(n, np.nan)

    width, lanes = col("width"), col("lanes")
    hw = roads["highway"].astype(str).to_numpy() if "highway" in roads.columns else np.full(n, "")
    default = np.array([DEFAULT_LANES.get(str(h), 1.0) for h in hw]) * LANE_WIDTH_M
    oneway = (roads["oneway"].to_numpy(dtype=bool) if "oneway" in roads.columns
              else np.zeros(n, dtype=bool))
    default = np.where(oneway, default / 2, default)
    by_lanes = lanes * LANE_WIDTH_M
    has_width = np.isfinite(width) & (width > 0)
    has_lanes = ~has_width & np.isfinite(by_lanes) & (by_lanes > 0)
    out = np.where(has_width, width, np.where(has_lanes, by_lanes, default))
    source = np.where(has_width, "width", np.where(has_lanes, "lanes", "default")).astype(object)
    return out, source


def _area_inside(geoms: np.ndarray, districts: np.ndarray) -> np.ndarray:
    """Area of the union of ``geoms`` inside each district (overlaps counted once)."""
    if len(geoms) == 0:
        return np.zeros(len(districts))
    union = shapely.union_all(shapely.make_valid(geoms))
    return shapely.area(shapely.intersection(union, districts))


def _length_times_width(lines: np.ndarray, width: np.ndarray, districts: np.ndarray,
                        source: np.ndarray | None = None
                        ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Road area inside each district, and the km of road inside it per width source."""
    out = np.zeros(len(districts))
    km = {s: np.zeros(len(districts)) for s in WIDTH_SOURCES}
    if len(lines) == 0:
        return out, km
    di, li = shapely.STRtree(lines).query(districts, predicate="intersects")
    length = shapely.length(parts_inside(lines[li], districts[di]))
    np.add.at(out, di, length * width[li])
    if source is not None:
        for s in WIDTH_SOURCES:
            mine = source[li] == s
            np.add.at(km[s], di[mine], length[mine] / 1000.0)
    return out, km


def _count_inside(lines: np.ndarray, flag: np.ndarray, districts: np.ndarray) -> np.ndarray:
    """Number of flagged lines meeting each district."""
    out = np.zeros(len(districts), dtype=np.int64)
    if len(lines) == 0 or not flag.any():
        return out
    di, _ = shapely.STRtree(lines[flag]).query(districts, predicate="intersects")
    np.add.at(out, di, 1)
    return out


def ratio_rows(district: list[str], indicator: str, numerator: np.ndarray,
               denominator: np.ndarray, target: float, partial: np.ndarray,
               notes: list[str]) -> list[dict[str, Any]]:
    """One row per district of an indicator ``numerator / denominator`` against a minimum.

    Examples
    --------
    >>> rows = ratio_rows(["A", "B"], "park_area_per_person", np.array([90.0, 5.0]),
    ...                   np.array([10.0, np.nan]), 8.0, np.array([False, True]), ["", ""])
    >>> [(r["value"], r["status"]) for r in rows]
    [(9.0, 'pass'), (nan, 'no data')]
    """
    name, _, unit, source = DEFAULT_TARGETS[indicator]
    value = np.divide(numerator, denominator, out=np.full(len(district), np.nan),
                      where=np.isfinite(denominator) & (denominator > 0))
    rows = []
    for i, d in enumerate(district):
        ok = bool(np.isfinite(value[i]))
        rows.append({
            "district": d, "indicator": indicator, "name_zh": name, "value": float(value[i]),
            "unit": unit, "target": float(target), "target_source": source,
            "status": ("pass" if value[i] >= target else "fail") if ok else "no data",
            "numerator": float(numerator[i]), "denominator": float(denominator[i]),
            "partial": bool(partial[i]), "note": notes[i],
        })
    return rows


def measure_indicators(layerset: Any, residents: pd.DataFrame | None,
                       targets: dict[str, float] | None = None) -> IndicatorResult:
    """Per-person and ratio indicators per district.

    Parameters
    ----------
    layerset
        A :class:`~geoplan.layers.LayerSet` (``districts``, ``parks``, ``green_space``,
        ``roads``).
    residents
        The census estimate per district (:data:`geoplan.results.RESIDENTS`), or None when the
        run has no people: the per-person figures are then "no data".
    targets
        Indicator id -> target, overriding :data:`DEFAULT_TARGETS`.

    Returns
    -------
    IndicatorResult
    """
    targets = {k: v[1] for k, v in DEFAULT_TARGETS.items()} | dict(targets or {})
    d = layerset.districts.reset_index(drop=True)
    names = d["district"].astype(str).tolist()
    geoms = d.geometry.to_numpy()
    inside = shapely.area(geoms)
    share = d["inside_share"].to_numpy(dtype=float) if "inside_share" in d.columns else np.ones(len(d))
    partial = share < WHOLE_DISTRICT_SHARE
    people = np.full(len(d), np.nan)
    if residents is not None and len(residents):
        people = residents.set_index("district")["residents_inside"].reindex(names).to_numpy(dtype=float)
    part = [f"covers only the {share_text(s)} of the district inside the data" if p else "whole district"
            for s, p in zip(share, partial, strict=True)]
    no_people = "" if np.isfinite(people).any() else "; no population source: no figure"
    est = ["; residents are the census estimate for that part" if p else "" for p in partial]
    parks = layerset["parks"].geometry.to_numpy()
    green = layerset["green_space"].geometry.to_numpy()
    roads: gpd.GeoDataFrame = layerset["roads"]
    park_area = _area_inside(parks, geoms)
    green_area = _area_inside(green, geoms)
    road_w, road_src = road_widths(roads)
    road_geoms = roads.geometry.to_numpy()
    road_area, road_km = _length_times_width(road_geoms, road_w, geoms, road_src)
    bad = (roads["width_tag_bad"].to_numpy(dtype=bool) if "width_tag_bad" in roads.columns
           else np.zeros(len(roads), dtype=bool))
    n_bad = _count_inside(road_geoms, bad, geoms)
    rows = ratio_rows(names, "park_area_per_person", park_area, people,
                      targets["park_area_per_person"], partial,
                      [f"parks and gardens mapped in OSM; {p}{e}{no_people}"
                       for p, e in zip(part, est, strict=True)])
    rows += ratio_rows(names, "green_space_ratio", green_area, inside, targets["green_space_ratio"],
                       partial, [f"public green space mapped in OSM ÷ area inside the data "
                                 "(built-up area taken as that area); the official ratio also "
                                 "counts the green of housing estates and institutions (附属绿地) "
                                 f"and protective green (防护绿地), which OSM rarely maps: a lower "
                                 f"bound; {p}" for p in part])
    rows += ratio_rows(names, "green_coverage", np.zeros(len(d)), np.full(len(d), np.nan),
                       targets["green_coverage"], partial,
                       ["needs tree-canopy data (street trees included), which OSM does not map"]
                       * len(d))
    road_rows = ratio_rows(
        names, "road_area_per_person", road_area, people, targets["road_area_per_person"],
        partial,
        [f"carriageway area: width from the width tag on {road_km['width'][i]:.1f} km, lanes × "
         f"{LANE_WIDTH_M:g} m on {road_km['lanes'][i]:.1f} km, default lanes per class on "
         f"{road_km['default'][i]:.1f} km ({int(n_bad[i])} roads with an unreadable tag); "
         f"sidewalks not counted: a lower bound; {part[i]}{est[i]}{no_people}"
         for i in range(len(d))])
    for i, road_row in enumerate(road_rows):
        road_row.update({"road_km_width_tag": road_km["width"][i], "road_km_lanes_tag": road_km["lanes"][i],
                  "road_km_default": road_km["default"][i], "roads_bad_width_tag": int(n_bad[i])})
    rows += road_rows
    table = pd.DataFrame(rows, columns=INDICATORS.names)
    table["roads_bad_width_tag"] = table["roads_bad_width_tag"].astype("Int64")
    _log_indicators(table)
    return IndicatorResult(table, meta={
        "road_widths": {k: v * LANE_WIDTH_M for k, v in DEFAULT_LANES.items()},
        "lane_width": f"{LANE_WIDTH_M} m (CJJ 37-2012, design speed ≤ 60 km/h)",
        "road_width_sources": {s: float(road_km[s].sum()) for s in WIDTH_SOURCES},
    })


_LOG_EACH_UP_TO = 12
"""Up to this many districts, each district's indicators are logged (INFO); beyond, one line per
indicator says how many districts pass, fail or have no data (each district at DEBUG)."""


def _log_indicators(table: pd.DataFrame) -> None:
    """Log the indicators: per district for a few districts, else a count per indicator."""
    each = logging.INFO if table["district"].nunique() <= _LOG_EACH_UP_TO else logging.DEBUG
    for r in table.to_dict("records"):
        value = float(r["value"])
        logger.log(each, "%s %s: %s (target %s) %s", r["district"], r["name_zh"],
                   f"{value:.3g}" if np.isfinite(value) else "n/a", r["target"], r["status"])
    if each == logging.INFO:
        return
    for name, part in table.groupby("name_zh", sort=False):
        counts = part["status"].value_counts()
        logger.info("%s: %d districts pass, %d fail, %d no data (target %s)", name,
                    counts.get("pass", 0), counts.get("fail", 0), counts.get("no data", 0),
                    part["target"].iloc[0])
