"""People on the meeting map: residents' source, school-age children, seats and the 学位缺口.

District popups of the school standards gain the children beyond the radius and the seats they
reach (from :class:`~geoplan.results.PeopleResult`); every district popup says how much of the
district lies inside the data and where its people come from. One overlay per school level
colours the districts by the share of children without a seat within walking reach.
"""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.census import UNIT_SOURCE_PREFIX
from geoplan.report._data import fmt_number
from geoplan.report._labels import POPULATION_SOURCES, in_unit
from geoplan.report._map_layers import DataLayer, add_layer
from geoplan.vocab import DEFAULT_UNIT, WHOLE_DISTRICT_SHARE

__all__ = ["SEAT_GAP_CLASSES", "add_seat_gap_layers", "district_people", "legend_title",
           "people_fields", "seat_gap_class"]

SEAT_GAP_CLASSES: tuple[tuple[str, float, str], ...] = (
    ("none", 0.05, "#ffffcc"), ("some", 0.20, "#fed976"), ("many", 0.40, "#fd8d3c"),
    ("most", float("inf"), "#bd0026"))
"""Classes of the share of children without a seat: (key, upper bound, colour)."""

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "inside": "数据范围内面积", "km2": "平方公里", "whole": "全区",
        "share_of": "占全区 {share}", "pop_source": "人口来源", "estimate": "估算",
        "estimate_note": "全区普查人口密度 × 范围内面积",
        "unit_note": "所在区县普查人口按居住用地分摊",
        "children": "学龄儿童（{ages}岁）", "beyond_buffer": "直线 {r} 米外的儿童",
        "beyond_network": "步行 {r} 米外的儿童", "seats": "步行可达学位",
        "seat_gap": "学位缺口", "people": "人", "seat_unit": "个", "per_child": "每名儿童学位",
        "layer": "学位缺口（{level}）", "primary": "小学", "junior": "初中",
        "legend_none": "无缺口或 < 5% 的儿童", "legend_some": "5–20% 的儿童无学位",
        "legend_many": "20–40% 的儿童无学位", "legend_most": "≥ 40% 的儿童无学位",
        "gap_share": "无学位儿童占比",
        "note": "学位缺口：步行 {r} 米内没有学位的儿童（两步移动搜索法，每个学位只计一次）。"
                "学位数来自规划提供的容量，否则按用地面积或默认规模估算。",
    },
    "en": {
        "inside": "Area inside the data", "km2": "km²", "whole": "whole district",
        "share_of": "{share} of the district", "pop_source": "Population source",
        "estimate": "estimate", "estimate_note": "census density × area inside",
        "unit_note": "its 区县's census residents shared by residential land",
        "children": "Children aged {ages}", "beyond_buffer": "Children beyond {r} m (straight line)",
        "beyond_network": "Children beyond {r} m (walking)", "seats": "Seats within walking reach",
        "seat_gap": "Seat gap (学位缺口)", "people": "people", "seat_unit": "seats",
        "per_child": "Seats per child",
        "layer": "Seat gap ({level})", "primary": "primary", "junior": "junior",
        "legend_none": "no gap or < 5% of children", "legend_some": "5–20% of children without a seat",
        "legend_many": "20–40% without a seat", "legend_most": "≥ 40% without a seat",
        "gap_share": "Children without a seat",
        "note": "Seat gap: children with no school seat within {r} m walk (two-step floating "
                "catchment, no seat counted twice). Seats come from the planner's capacities, "
                "else are estimated from site area or a default size.",
    },
}
_AGES = {"primary": "6–11", "junior": "12–14"}


def _num(value: Any, digits: int = 0) -> str | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return fmt_number(v, digits) if np.isfinite(v) else None


def _float(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _share(value: float) -> str:
    return f"{value:.0%}"


def seat_gap_class(gap: Any, children: Any) -> str:
    """The class of a district by the share of its children without a seat ('nodata' if none)."""
    try:
        g, c = float(gap), float(children)
    except (TypeError, ValueError):
        return "nodata"
    if not (np.isfinite(g) and np.isfinite(c)) or c <= 0:
        return "nodata"
    ratio = g / c
    return next(key for key, upper, _ in SEAT_GAP_CLASSES if ratio < upper)


def _level_of(people: Any, sid: str) -> tuple[str, float] | None:
    """The school level and radius a standard measures, from the children table."""
    children = getattr(people, "children", None)
    if children is None or len(children) == 0 or "standard" not in children:
        return None
    rows = children.loc[children["standard"].astype(str) == sid]
    if len(rows) == 0:
        return None
    return str(rows["level"].iloc[0]), float(rows["radius_m"].iloc[0])


def district_people(districts: pd.Series, part: pd.DataFrame, people: Any, sid: str,
                    lang: str, unit: str = DEFAULT_UNIT) -> pd.DataFrame:
    """Popup texts per district (in the order of ``districts``, called ``unit``) for one
    standard.

    ``part`` is the standard's rows of the coverage table (``inside_km2``, ``inside_share``,
    ``population_source``); ``people`` a :class:`~geoplan.results.PeopleResult` or None.
    """
    w = dict(_WORDS[lang])
    if lang == "zh":  # the district's own area; the census estimate's 全区 is its 区县's
        w["whole"], w["share_of"] = in_unit(w["whole"], unit), in_unit(w["share_of"], unit)
    records: dict[str, dict[str, Any]] = {str(r["district"]): {str(k): v for k, v in r.items()}
                                          for r in part.to_dict("records")}
    out = pd.DataFrame(index=range(len(districts)))
    names = districts.astype(str).tolist()
    inside: list[str | None] = []
    source: list[str | None] = []
    shared = _census_shared(people)
    for name in names:
        rec = records.get(name)
        km2 = None if rec is None else _num(rec.get("inside_km2"), 2)
        share = _float(None if rec is None else rec.get("inside_share"))
        partial = share is not None and share < WHOLE_DISTRICT_SHARE
        if km2 is None:
            inside.append(None)
        else:
            note = w["share_of"].format(share=_share(share)) if share is not None and partial \
                else w["whole"]
            inside.append(f"{km2} {w['km2']}（{note}）" if lang == "zh" else f"{km2} {w['km2']} "
                          f"({note})")
        src = None if rec is None else str(rec.get("population_source") or "").lower()
        name_src = POPULATION_SOURCES.get(src or "")
        if name_src is None or src in ("buildings", "area"):
            source.append(None)  # not people: the share's label already says what weighs it
        else:
            text = name_src[0 if lang == "zh" else 1]
            how = ("unit_note" if name in shared else "estimate_note" if partial else None)
            if src == "census" and how is not None:
                text += (f"；{w['estimate']}：{w[how]}" if lang == "zh"
                         else f"; {w['estimate']}: {w[how]}")
            source.append(text)
    out["inside_txt"] = inside
    out["pop_source_txt"] = source
    for col in ("children_txt", "beyond_buffer_txt", "beyond_network_txt", "seats_txt",
                "seat_gap_txt"):
        out[col] = None
    level = _level_of(people, sid)
    if level is None:
        return out
    lv, _ = level
    kids = people.children.loc[people.children["standard"].astype(str) == sid]
    kids = kids.set_index(kids["district"].astype(str))
    seats = getattr(people, "seats", None)
    seats = (seats.loc[seats["level"].astype(str) == lv].set_index(
        seats.loc[seats["level"].astype(str) == lv, "district"].astype(str))
             if seats is not None and len(seats) else pd.DataFrame())
    for col, table, src in (("children_txt", kids, "children"),
                            ("beyond_buffer_txt", kids, "beyond_buffer"),
                            ("beyond_network_txt", kids, "beyond_network"),
                            ("seats_txt", seats, "seats_reached"),
                            ("seat_gap_txt", seats, "seat_gap")):
        if src in table:
            out[col] = [_num(table.at[n, src]) if n in table.index else None for n in names]
    return out


def _census_shared(people: Any) -> set[str]:
    """The districts whose residents are their share of a census 区县's
    (``demand.census_districts``), not a census figure of their own."""
    residents = getattr(people, "residents", None)
    if residents is None or not len(residents) or "census_source" not in residents:
        return set()
    mine = residents["census_source"].astype(str).str.startswith(UNIT_SOURCE_PREFIX)
    return set(residents.loc[mine.to_numpy(), "district"].astype(str))


def people_fields(people: Any, sid: str, lang: str) -> list[tuple[str, str, str]]:
    """The popup rows :func:`district_people` fills, with their labels and units."""
    w = _WORDS[lang]
    rows = [("inside_txt", w["inside"], ""), ("pop_source_txt", w["pop_source"], "")]
    level = _level_of(people, sid)
    if level is None:
        return rows
    lv, radius = level
    r = fmt_number(radius, 0)
    return [*rows,
            ("children_txt", w["children"].format(ages=_AGES.get(lv, "")), w["people"]),
            ("beyond_buffer_txt", w["beyond_buffer"].format(r=r), w["people"]),
            ("beyond_network_txt", w["beyond_network"].format(r=r), w["people"]),
            ("seats_txt", w["seats"], w["seat_unit"]),
            ("seat_gap_txt", w["seat_gap"], w["people"])]


def add_seat_gap_layers(m: folium.Map, dist_wgs: gpd.GeoDataFrame, people: Any, lang: str
                        ) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """One overlay per school level: districts by the share of children without a seat.

    Returns the legend rows and the layer panel's items (both empty without seats).
    """
    seats = getattr(people, "seats", None)
    if seats is None or len(seats) == 0:
        return [], []
    w = _WORDS[lang]
    colours = {key: colour for key, _, colour in SEAT_GAP_CLASSES}
    colours["nodata"] = "#bdbdbd"
    items: list[dict[str, Any]] = []
    for level in ("primary", "junior"):
        rows = seats.loc[seats["level"].astype(str) == level]
        if len(rows) == 0:
            continue
        frame = dist_wgs.merge(pd.DataFrame(rows).assign(district=rows["district"].astype(str)),
                               on="district", how="inner")
        if len(frame) == 0:
            continue
        name = w["layer"].format(level=w[level])
        frame["title"] = frame["district"].astype(str) + " · " + name
        frame["cls"] = [seat_gap_class(g, c) for g, c in
                        zip(frame["seat_gap"], frame["children"], strict=True)]
        frame["children_txt"] = frame["children"].map(_num)
        frame["seats_txt"] = frame["seats_reached"].map(_num)
        frame["per_child_txt"] = frame["seats_per_child"].map(lambda v: _num(v, 2))
        frame["seat_gap_txt"] = frame["seat_gap"].map(_num)
        frame["gap_share_txt"] = [None if c in (None, 0) or not np.isfinite(float(c)) else
                                  _share(float(g) / float(c)) for g, c in
                                  zip(frame["seat_gap"], frame["children"], strict=True)]
        radius = fmt_number(float(rows["catchment_m"].iloc[0]), 0)
        fields = [("children_txt", w["children"].format(ages=_AGES[level]), w["people"]),
                  ("seats_txt", w["seats"], w["seat_unit"]),
                  ("per_child_txt", w["per_child"], ""),
                  ("seat_gap_txt", w["seat_gap"], w["people"]),
                  ("gap_share_txt", w["gap_share"], "")]
        layer: DataLayer | None = add_layer(
            m, frame, css_class=f"gp-seat-gap gp-seat-gap-{level}",
            style={"color": "#444", "weight": 1, "fillOpacity": 0.6}, fields=fields,
            popup_title="title", popup_note=w["note"].format(r=radius), tooltip="title",
            fill_by={"prop": "cls", "colours": colours, "byMeasure": False}, show=False)
        if layer is not None:
            items.append({"key": f"seat_gap_{level}", "label": name, "layer": layer,
                          "fill": True})
    shown_by = " ".join(it["key"] for it in items)  # either level's overlay
    legend = [{"shape": "sw", "colour": colour, "text": w[f"legend_{key}"], "key": shown_by}
              for key, _, colour in SEAT_GAP_CLASSES] if items else []
    return legend, items


def legend_title(lang: str) -> str:
    """The legend heading of the seat-gap layers."""
    return _WORDS[lang]["seat_gap"]
