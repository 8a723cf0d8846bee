"""The people section of a district page: residents (census estimate), children beyond the
school radius, seats and the 学位缺口, and the per-person indicators."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from geoplan._text import share_text
from geoplan.census import unit_shares
from geoplan.indicators import indicator_name
from geoplan.report._data import fmt_number
from geoplan.report._labels import in_unit
from geoplan.vocab import DEFAULT_UNIT

__all__ = ["PeopleParts", "indicator_note_zh", "inside_shares", "people_section",
           "residents_note_zh"]

_TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "人口、学龄儿童与学位",
        "residents": "常住人口：{n} 人（{how}；全区 2020 年普查 {census} 人，密度 {density} 人/平方公里）",
        "estimate": "估算：本区只有 {share} 在数据范围内，按全区人口密度 × 范围内面积",
        "unit": "常住人口：{n} 人（估算：所在区县 2020 年普查人口按居住用地分摊到各单元，"
                "来自 {parts}{outside}；范围内密度 {density} 人/平方公里）",
        "outside": "；本单元有 {share} 的面积不在有普查数的区县内，该部分无人口",
        "unit_no_land": "常住人口：0 人（本单元在数据范围内没有标注居住用地，未分到所在区县"
                        "（{parts}）的普查人口）",
        "census": "普查总数",
        "headers": ["学段", "服务半径", "学龄儿童", "超出半径（直线）", "超出半径（步行）",
                    "步行可达学位", "学位缺口"],
        "primary": "小学（6–11岁）", "junior": "初中（12–14岁）", "metres": "{n} 米",
        "ind_headers": ["指标", "数值", "目标", "是否达标", "说明"],
        "pass": "达标", "fail": "未达标", "no data": "无数据",
    },
    "en": {
        "title": "People, school-age children and school seats",
        "residents": "Residents: {n} ({how}; whole district at the 2020 census {census}, "
                     "{density} per km²)",
        "estimate": "estimate: only {share} of the district lies inside the data; census "
                    "density × area inside",
        "unit": "Residents: {n} (estimate: the 2020 census residents of its 区县 shared among "
                "the units by residential land, from {parts}{outside}; {density} per km² inside "
                "the data)",
        "outside": "; {share} of the unit lies in no 区县 with a census figure, with no residents",
        "unit_no_land": "Residents: 0 (no residential land is mapped in the unit inside the data, "
                        "so it gets none of the census residents of its 区县: {parts})",
        "census": "census total",
        "headers": ["Level", "Radius", "Children", "Beyond radius (straight line)",
                    "Beyond radius (walking)", "Seats within walking reach", "Seat gap"],
        "primary": "primary (6–11)", "junior": "junior (12–14)", "metres": "{n} m",
        "ind_headers": ["Indicator", "Value", "Target", "Status", "Note"],
        "pass": "pass", "fail": "fail", "no data": "no data",
    },
}


def _num(value: Any, digits: int = 0) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "—"
    return fmt_number(v, digits) if np.isfinite(v) else "—"


def _split(df: Any) -> dict[str, Any]:
    """The rows of ``df`` per district (row order kept), or {} without rows."""
    if df is None or len(df) == 0 or "district" not in df:
        return {}
    return {str(k): part for k, part in df.groupby(df["district"].astype(str), sort=False)}


_WEIGHTING_ZH = re.compile(r"floor area \(land area × ratio ([0-9.]+) where unmapped; buildings on "
                           r"(under )?([0-9.]+%) of the land\)")


def residents_note_zh(row: Mapping[str, Any], unit: str = DEFAULT_UNIT) -> tuple[str, str]:
    """A residents row's ``weighting`` and ``note`` in Chinese (the table's are English), the
    district called ``unit``.

    >>> w, note = residents_note_zh({"census_2020": 902933.0, "residential_land_m2": 1e5,
    ...     "is_estimate": True, "inside_share": 0.06, "residents_per_ha": 5000.0,
    ...     "weighting": "land area", "census_source": "2020 census"})
    >>> w
    '居住用地面积'
    >>> note.split("；")[0]
    '估算：本区只有 6% 在数据范围内，按全区人口密度 × 范围内面积'
    >>> residents_note_zh({"weighting": "floor area (land area × ratio 0.18 where unmapped; "
    ...                    "buildings on under 0.1% of the land)"})[0]
    '住宅建筑面积（有建筑的居住用地占不足 0.1%；无建筑处按居住用地面积 × 0.18）'
    """
    text = str(row.get("weighting") or "")
    found = _WEIGHTING_ZH.fullmatch(text)
    weighting = (f"住宅建筑面积（有建筑的居住用地占{'不足 ' if found.group(2) else ' '}{found.group(3)}；"
                 f"无建筑处按居住用地面积 × {found.group(1)}）" if found else
                 {"floor area": "住宅建筑面积", "land area": "居住用地面积"}.get(text, text))
    if not np.isfinite(_f(row.get("census_2020"), np.nan)):
        return weighting, in_unit("本区没有 2020 年普查人口：无人口", unit)
    if not _f(row.get("residential_land_m2")) > 0:
        return weighting, "数据范围内没有标注居住用地：人口未分配"
    parts = unit_shares(str(row.get("census_source") or ""))
    if parts is not None:
        how = "估算：所在区县普查人口按居住用地分摊，来自 " + parts[0]
    elif bool(row.get("is_estimate")):
        how = in_unit(_TEXT["zh"]["estimate"], unit).format(
            share=share_text(_f(row.get("inside_share"), 1.0)))
    else:
        how = in_unit("普查总数（本区全部在数据范围内）", unit)
    per_ha = _num(row.get("residents_per_ha"))
    inside_m2 = _f(row.get("inside_km2")) * 1e6
    land = (f"已标居住用地占范围内面积的 {_f(row.get('residential_land_m2')) / inside_m2:.1%}，"
            if inside_m2 > 0 else "")
    return weighting, (f"{how}；{land}每公顷居住用地 {per_ha} 人（比例低说明住宅漏标，"
                       "人口挤在已标的用地上）")


def inside_shares(coverage: Any) -> dict[str, float]:
    """Each district's share inside the data (its first coverage row)."""
    table = getattr(coverage, "table", None)
    if table is None or "inside_share" not in table or not len(table):
        return {}
    first = table.groupby(table["district"].astype(str), sort=False).head(1)
    return {str(d): float(v) for d, v in
            zip(first["district"].astype(str), first["inside_share"], strict=True)}


class PeopleParts:
    """The coverage's people and indicator tables split by district once.

    Each district page then looks its own rows up instead of filtering (and merging) the whole
    city's tables again, which made the pages' people sections grow with the square of the
    number of districts.
    """

    def __init__(self, coverage: Any) -> None:
        people = getattr(coverage, "people", None)
        indicators = getattr(coverage, "indicators", None)
        self.residents: dict[str, Any] = {}
        self.kids: dict[str, Any] = {}
        if people is not None:
            self.residents = _split(people.residents)
            self.kids = _split(people.children.merge(
                people.seats[["district", "level", "seats_reached", "seat_gap"]],
                on=["district", "level"], how="left"))
        self.indicators = _split(indicators.table) if indicators is not None else {}
        self.inside_share = inside_shares(coverage)

    def inside(self, district: str) -> float:
        """The district's share inside the data (its first coverage row), 1.0 if unknown."""
        v = self.inside_share.get(district)
        return v if v is not None and np.isfinite(v) else 1.0


def people_section(coverage: Any, district: str, lang: str,
                   parts: PeopleParts | None = None, unit: str = DEFAULT_UNIT
                   ) -> dict[str, Any] | None:
    """What the district page shows about people, or None when the run has none.

    Parameters
    ----------
    coverage
        A :class:`~geoplan.results.CoverageResult` (``people``, ``indicators``).
    district
        The district's name.
    lang
        'zh' or 'en'.
    parts
        ``PeopleParts(coverage)`` made once for all pages (made here when None).
    unit
        What the districts are called (Chinese): the indicator notes name them so.

    Returns
    -------
    dict or None
        ``title``, ``residents`` (a sentence), ``headers`` and ``rows`` (children and seats per
        level), ``ind_headers`` and ``ind_rows`` (indicators), ``notes``; plain text, escaped
        by the template.
    """
    t = _TEXT[lang]
    people = getattr(coverage, "people", None)
    indicators = getattr(coverage, "indicators", None)
    if people is None and indicators is None:
        return None
    parts = parts if parts is not None else PeopleParts(coverage)
    out: dict[str, Any] = {"title": t["title"], "residents": "", "rows": [], "ind_rows": [],
                           "headers": t["headers"], "ind_headers": t["ind_headers"], "notes": []}
    if people is not None:
        mine = parts.residents.get(district)
        if mine is not None and len(mine):
            r = mine.iloc[0]
            parts_of = unit_shares(r.get("census_source", ""))
            if parts_of is None:  # a district the census names (本区 and 全区: the unit)
                how = (in_unit(t["estimate"], unit).format(share=share_text(float(r["inside_share"])))
                       if bool(r["is_estimate"]) else t["census"])
                out["residents"] = in_unit(t["residents"], unit).format(
                    n=_num(r["residents_inside"]), how=how, census=_num(r["census_2020"]),
                    density=_num(r["census_density_km2"]))
            elif not float(r.get("residential_land_m2", 0.0) or 0.0) > 0:
                out["residents"] = t["unit_no_land"].format(parts=parts_of[0])
            else:  # a unit given its share of its 区县's residents
                outside = t["outside"].format(share=parts_of[1]) if parts_of[1] else ""
                out["residents"] = t["unit"].format(
                    n=_num(r["residents_inside"]), parts=parts_of[0], outside=outside,
                    density=_num(r["census_density_km2"]))
        kids = parts.kids.get(district)
        for r in kids.itertuples() if kids is not None else ():
            out["rows"].append([t.get(str(r.level), str(r.level)), t["metres"].format(n=_num(r.radius_m)),
                                _num(r.children), _num(r.beyond_buffer), _num(r.beyond_network),
                                _num(r.seats_reached), _num(r.seat_gap)])
        keys = ("age_shares", "seat_norms", "notes")
        out["notes"] = [str(people.meta.get(f"{k}_zh" if lang == "zh" else k)
                            or people.meta.get(k, "")) for k in keys]
    if indicators is not None:
        ind = parts.indicators.get(district)
        for r in ind.itertuples() if ind is not None else ():
            value = indicator_figure(r.value, str(r.unit), lang)
            target = indicator_figure(r.target, str(r.unit), lang)
            note = indicator_note_zh(r._asdict(), parts.inside(district), unit) \
                if lang == "zh" else str(r.note)
            name = indicator_name(str(r.indicator), str(r.name_zh), lang)
            out["ind_rows"].append([name, value, target, t.get(str(r.status), ""),
                                    note])
    return out


def indicator_figure(value: Any, unit: str, lang: str) -> str:
    """An indicator's value or target as it reads: a share in %, an area per person with its
    unit (a bare "0.5 / 8.0" reads as a share); "—" when there is none.

    Examples
    --------
    >>> indicator_figure(0.355, "share", "zh"), indicator_figure(8, "m2_per_person", "zh")
    ('35.5%', '8.0 ㎡/人')
    """
    text = _num(value, 1)
    if text == "—":
        return text
    if unit == "share":
        return f"{float(value):.1%}"
    return text + (" ㎡/人" if lang == "zh" else " m²/person")


def _f(value: Any, default: float = 0.0) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return v if np.isfinite(v) else default


def indicator_note_zh(row: dict[str, Any], inside_share: float, unit: str = DEFAULT_UNIT) -> str:
    """How an indicator was computed, in Chinese (the table's ``note`` is English), the
    district called ``unit``.

    Examples
    --------
    >>> note = indicator_note_zh({"indicator": "green_space_ratio", "partial": True}, 0.2)
    >>> note.split("；")[0], note.split("；")[-1]
    ('OSM 公共绿地面积 ÷ 数据范围内面积（以此作建成区面积）', '仅为本区在数据范围内的 20%')
    >>> indicator_note_zh({"indicator": "green_space_ratio", "partial": False}, 1.0, "街道").split("；")[-2:]
    ['统计口径还包括附属绿地、防护绿地，OSM 很少标注，此值为下限', '全街道']
    """
    partial = bool(row.get("partial"))
    part = in_unit(f"；仅为本区在数据范围内的 {share_text(inside_share)}" if partial else "；全区",
                   unit)
    est = "，人口为该部分的普查估算" if partial else ""
    ind = str(row.get("indicator"))
    if ind == "park_area_per_person":
        return "OSM 中的公园与游园面积 ÷ 常住人口" + part + est
    if ind == "green_space_ratio":
        return ("OSM 公共绿地面积 ÷ 数据范围内面积（以此作建成区面积）；统计口径还包括附属绿地、"
                "防护绿地，OSM 很少标注，此值为下限" + part)
    if ind == "green_coverage":
        return "需要树冠覆盖数据（含行道树），OSM 不提供"
    if ind == "road_area_per_person":
        return (f"车行道面积 ÷ 常住人口：{_f(row.get('road_km_width_tag')):.1f} 公里按宽度标签，"
                f"{_f(row.get('road_km_lanes_tag')):.1f} 公里按车道数 × 3.5 米（CJJ 37-2012），"
                f"{_f(row.get('road_km_default')):.1f} 公里按道路等级默认车道数"
                f"（{int(_f(row.get('roads_bad_width_tag')))} 条道路的宽度标签无法读取）；"
                "不含人行道，为下限" + part + est)
    return str(row.get("note") or "")
