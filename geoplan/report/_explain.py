"""Sentences that explain a report's zeros and missing figures, and its three measures.

A planner reading "0.0%" or "—" must be told why: no facility of the kind in the data, no
demand to measure, no population source, or a district only partly inside the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoplan._text import share_text
from geoplan.report._data import plain
from geoplan.report._labels import words_in_unit
from geoplan.results.coverage import split_items
from geoplan.vocab import DEFAULT_UNIT, WHOLE_DISTRICT_SHARE

_ZH = {
    "no_facility": "数据中没有此标准所需的设施（0 处），所以覆盖率为 0；请核对地图数据是否漏标。",
    "none_near": "本区及周边没有此类设施（输入数据的其他地方有），所以覆盖率为 0。",
    "none_in_reach": ("数据中有 {n} 处此类设施，但都不在本区居住用地（或街道）的服务半径以内，"
                      "所以覆盖率为 0。"),
    "basket_none": ("没有一处居住用地在有数据的全部 {m} 项配套设施的服务半径之内，所以覆盖率为 0；"
                    "各项分别的覆盖率见分项覆盖表。"),
    "no_demand": "本区在数据范围内没有此标准要衡量的对象（居住用地或相应街道），所以没有覆盖率（“—”）。",
    "no_people": ("人口覆盖率与“未覆盖人口”为“—”：本分析没有人口来源（人口普查或人口栅格），"
                  "不以用地面积充当人口。"),
    "street": "此标准按街道长度衡量，没有人口覆盖率（“—”）。",
    "partial": "本区只有 {p} 的面积在数据范围之内，本报告的所有数字只反映这一部分。",
    "measures": ("三种量度：直线覆盖率（官方口径）= 设施直线服务半径内的居住用地面积占比"
                 "（公厕标准为街道长度占比）；"
                 "步行覆盖率 = 沿步行路网在服务半径内可达的占比，通常低于直线覆盖率；"
                 "人口覆盖率 = 按居民人数加权的同一占比（无人口来源时为“—”）。"
                 "面积单位为公顷，长度为米，人口为人。"),
}
_EN = {
    "no_facility": "The data holds no facility of the kind this standard needs (0), so the share "
                   "is 0; check whether the map data misses them.",
    "none_near": "No such facility lies in or near this district (the input holds some farther "
                 "away), so the share is 0.",
    "none_in_reach": "The data holds {n} such facilities, but none within the radius of this "
                     "district's housing (or streets), so the share is 0.",
    "basket_none": "No home is within the radii of all {m} items with data, so the share is 0; "
                   "the table of items gives each item's own share.",
    "no_demand": "Nothing to measure in this district inside the data (no residential land or "
                 "no such streets), so there is no share (“—”).",
    "no_people": "The population shares and “uncovered population” are “—”: this analysis has "
                 "no population source (census or raster); land area does not stand in for "
                 "people.",
    "street": "This standard is measured on street length: there is no population measure (“—”).",
    "partial": "Only {p} of this district's area lies inside the data; every figure in this "
               "report covers that part only.",
    "measures": ("Three measures: the straight-line share (the official indicator) is the share "
                 "of residential land within straight-line radii of the facilities (street "
                 "length for the toilet standards); the walking share is the share reached "
                 "along the walking network, usually lower; the population shares weigh the "
                 "same by residents (“—” where there is no population source). Areas in "
                 "hectares, lengths in metres, people in persons."),
}


def words(lang: str, unit: str = DEFAULT_UNIT) -> Mapping[str, str]:
    """The explanation sentences in ``lang``, the districts called ``unit`` in Chinese."""
    if lang == "en":
        return _EN
    return words_in_unit(_ZH, unit)


def standard_notes(rec: Mapping[str, Any], info: Mapping[str, Any], people: bool,
                   lang: str, unit: str = DEFAULT_UNIT) -> list[str]:
    """Why a standard's figures for one district (called ``unit``) are zero or missing, in
    words."""
    w = words(lang, unit)
    notes = []
    share = plain(rec.get("share_buffer"))
    n = plain(rec.get("n_facilities"))
    demand = plain(rec.get("demand_total"))
    street = str(info.get("demand_unit", "")) == "m" or \
        str(info.get("demand_kind", "")).startswith(("street", "riverside"))
    if share is None or (demand is not None and demand <= 0):
        notes.append(w["no_demand"])
    elif share == 0 and (n is None or n == 0):
        # no data at all, or none near: the item is named as without data only in the first
        in_input = "items_no_data" in rec and not str(rec.get("items_no_data") or "")
        notes.append(w["none_near"] if in_input else w["no_facility"])
    elif share == 0 and _items_with_data(rec) > 1:  # a life circle: every item at once
        notes.append(w["basket_none"].format(m=_items_with_data(rec)))
    elif share == 0:
        notes.append(w["none_in_reach"].format(n=int(n)))
    if street:
        notes.append(w["street"])
    elif not people and share is not None:
        notes.append(w["no_people"])
    return notes


def _items_with_data(rec: Mapping[str, Any]) -> int:
    """How many of a standard's items have a facility in the data (1 for a single facility)."""
    n_items = plain(rec.get("n_items"))
    if n_items is None:
        return 1
    return int(n_items) - len(split_items(str(rec.get("items_no_data") or "")))


def partial_note(inside_share: Any, lang: str, unit: str = DEFAULT_UNIT) -> str | None:
    """The note for a district (called ``unit``) only partly inside the data, or None."""
    value = plain(inside_share)
    if value is None or value >= WHOLE_DISTRICT_SHARE:
        return None
    return words(lang, unit)["partial"].format(p=share_text(float(value)))


__all__ = ["partial_note", "standard_notes", "words"]
