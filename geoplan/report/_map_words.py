"""The meeting map's words for measures, units and legend lines, in Chinese and English.

Kept apart from :mod:`geoplan.report._labels` (shared with the reports and the workbook)
because these sentences are built per standard and per measure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoplan.report._data import fmt_number, plain
from geoplan.vocab import NEAR_FACTOR

MEASURES: dict[str, dict[str, str]] = {
    "buffer": {"view": "buffer", "share": "share_buffer"},
    "network": {"view": "network", "share": "share_network"},
    "population": {"view": "network", "share": "share_population_network"},
}
"""The map's measures: which gaps (view) and which share column each one shows."""

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "measure_title": "量度",
        "measure_buffer": "直线覆盖率（官方口径）",
        "measure_network": "步行覆盖率",
        "measure_population": "人口覆盖率（步行）",
        "dist_buffer": "直线{r}米内",
        "dist_network": "步行{r}米内",
        "dist_population": "步行{r}米内",
        "out_buffer": "直线{r}米外",
        "out_network": "步行{r}米外",
        "share_area": "{d}的居住用地面积占比（%）",
        "share_street": "{d}有公厕的{s}长度占比（%）",
        "share_people": "{d}的居民人数占比（%）",
        "share_people_area": "{d}的居民人数占比：本分析没有人口来源，不以用地面积充当人口",
        "share_people_none": "此标准按{s}长度计，没有人口覆盖率",
        "gaps_area": "覆盖缺口：{d}的居住用地（面积：公顷）",
        "gaps_street": "未覆盖{s}：{d}无公厕（长度：米）",
        "reach": "步行{r}米可达范围",
        "homes_within": "住宅用地：步行{r}米内有设施", "homes_near": "住宅用地：步行{r}–{r2}米",
        "homes_beyond": "住宅用地：步行超过{r2}米或不可达",
        "cls_pass": "达标：≥ {t}",
        "cls_near": "接近目标：{a}–{t}",
        "cls_low": "不足：{b}–{a}",
        "cls_poor": "严重不足：< {b}",
        "street": "街道", "path": "步道",
        "no_people": "无人口覆盖率",
        "ha": "公顷", "m": "米", "people": "人", "pct": "%",
        "zoom_in": "放大", "zoom_out": "缩小",
    },
    "en": {
        "measure_title": "Measure",
        "measure_buffer": "Straight-line share (official)",
        "measure_network": "Walking share",
        "measure_population": "Population share (walking)",
        "dist_buffer": "within {r} m in a straight line",
        "dist_network": "within a {r} m walk",
        "dist_population": "within a {r} m walk",
        "out_buffer": "beyond {r} m in a straight line",
        "out_network": "beyond a {r} m walk",
        "share_area": "share of residential land {d} (%)",
        "share_street": "share of {s} length with a toilet {d} (%)",
        "share_people": "share of residents {d} (%)",
        "share_people_area": "share of residents {d}: no population source in this analysis "
                             "(land area does not stand in for people)",
        "share_people_none": "measured on {s} length: no population measure",
        "gaps_area": "Gaps: residential land {d} (area in ha)",
        "gaps_street": "Uncovered {s}: no toilet {d} (length in m)",
        "reach": "Reached within a {r} m walk",
        "homes_within": "Homes within a {r} m walk", "homes_near": "Homes {r}–{r2} m walk away",
        "homes_beyond": "Homes beyond {r2} m or unreachable",
        "cls_pass": "meets target: ≥ {t}",
        "cls_near": "close: {a}–{t}",
        "cls_low": "short: {b}–{a}",
        "cls_poor": "far short: < {b}",
        "street": "street", "path": "path",
        "no_people": "no population measure",
        "ha": "ha", "m": "m", "people": "people", "pct": "%",
        "zoom_in": "Zoom in", "zoom_out": "Zoom out",
    },
}


def words(lang: str) -> Mapping[str, str]:
    """The map's measure words for ``lang`` ('zh' or 'en')."""
    return _WORDS["en" if lang == "en" else "zh"]


def _pct(value: float) -> str:
    text = f"{100 * value:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def class_ranges(target: Any, lang: str) -> dict[str, str]:
    """The legend's four classes with their share ranges for a standard's ``target``."""
    w = words(lang)
    t = plain(target)
    if t is None or t <= 0:
        t = 1.0
    a, b = _pct(0.75 * t), _pct(0.5 * t)
    return {k: w[f"cls_{k}"].format(t=_pct(t), a=a, b=b) for k in ("pass", "near", "low", "poor")}


def is_street(row: Mapping[str, Any]) -> bool:
    """Whether a standard's demand is street or path length (the toilet standards)."""
    return str(row.get("demand_unit", "")) == "m" or \
        str(row.get("demand_kind", "")).startswith(("street", "riverside"))


def _street_word(row: Mapping[str, Any], w: Mapping[str, str]) -> str:
    return w["path"] if "path" in str(row.get("demand_kind", "")) else w["street"]


def radius_text(row: Mapping[str, Any]) -> str:
    """The radius as written in a sentence: '500', or '500/300' for a rule."""
    value = plain(row.get("radius_m"))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return fmt_number(value) if isinstance(value, (int, float)) else str(value or "")


def measure_lines(row: Mapping[str, Any], people: str, lang: str) -> dict[str, str]:
    """What a district's share means under each measure, with its unit.

    ``people`` is 'people' (population weights), 'area' (no people: land or floor area is
    not counted as people) or 'none' (street-length standards).
    """
    w = words(lang)
    r = radius_text(row)
    out = {}
    for m in MEASURES:
        d = w[f"dist_{m}"].format(r=r)
        if is_street(row):
            s = _street_word(row, w)
            out[m] = (w["share_people_none"].format(s=s) if m == "population"
                      else w["share_street"].format(d=d, s=s))
        elif m == "population":
            out[m] = w["share_people"].format(d=d) if people == "people" else \
                w["share_people_area"].format(d=d)
        else:
            out[m] = w["share_area"].format(d=d)
    return out


def gap_lines(row: Mapping[str, Any], lang: str) -> dict[str, str]:
    """The legend's gap line under each measure."""
    w = words(lang)
    r = radius_text(row)
    out = {}
    for m, spec in MEASURES.items():
        if is_street(row):  # a street no toilet is within the distance of
            d = w[f"dist_{spec['view']}"].format(r=r)
            out[m] = w["gaps_street"].format(d=d, s=_street_word(row, w))
        else:  # land beyond the distance of every facility
            out[m] = w["gaps_area"].format(d=w[f"out_{spec['view']}"].format(r=r))
    return out


def reach_lines(row: Mapping[str, Any], lang: str) -> dict[str, str]:
    """The legend's walking-reach line under each measure ('' where it is not drawn)."""
    text = words(lang)["reach"].format(r=radius_text(row))
    return {m: (text if spec["view"] == "network" else "") for m, spec in MEASURES.items()}


def homes_lines(row: Mapping[str, Any], lang: str) -> dict[str, list[str]]:
    """The legend's three homes-by-walking-distance lines under each measure (walking views).

    Per-facility radii (a rule) are written relative to the radius: "r", "1.5 r".
    """
    value = plain(row.get("radius_m"))
    if isinstance(value, (int, float)) and value > 0:
        r, r2 = radius_text(row), fmt_number(NEAR_FACTOR * float(value), 0)
    else:
        r, r2 = "r", f"{NEAR_FACTOR:g} r"
    w = words(lang)
    texts = [w[f"homes_{b}"].format(r=r, r2=r2) for b in ("within", "near", "beyond")]
    return {m: (texts if spec["view"] == "network" else []) for m, spec in MEASURES.items()}
