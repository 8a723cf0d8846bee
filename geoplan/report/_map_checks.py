"""The data-check layer of the meeting map (:mod:`geoplan.data_checks`).

Located checks (likely mapping gaps, facilities no walkway reaches, homes far from any walkway)
are drawn as points; districts only partly inside the data as dashed outlines; a suspected
datum error as a banner at the top of the map, because it skews every figure.
"""

from __future__ import annotations

import html
import re
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._text import area_text, share_text
from geoplan.report._data import fmt_number, to_wgs84
from geoplan.report._labels import in_unit, value_label, words_in_unit
from geoplan.report._map_detail import to_map
from geoplan.report._map_layers import add_layer
from geoplan.vocab import DEFAULT_UNIT

__all__ = ["CHECK_COLOUR", "CHECK_NAMES", "add_data_checks", "check_name", "check_words_zh",
           "datum_banner", "datum_warning", "datum_warnings", "english_subjects"]

CHECK_COLOUR = "#e6007e"
"""Magenta: apart from every coverage and road colour."""

CHECK_NAMES: dict[str, tuple[str, str]] = {
    "datum": ("坐标基准疑似错误", "Datum suspected wrong"),
    "file_datum": ("设施文件坐标基准疑似错误", "Facility file's datum suspected wrong"),
    "left_out_districts": ("未分析的区县", "Districts not analysed"),
    "school_mapped_twice": ("疑似重复标注的学校", "School mapped twice"),
    "truncated_data": ("数据被截断的要素", "Features from truncated data"),
    "partial_district": ("区县只有部分在数据范围内", "District only partly inside the data"),
    "tiny_district": ("面积过小的区县", "District too small to measure"),
    "overlapping_units": ("区县相互重叠", "Districts that overlap"),
    "no_facility": ("缺少某类设施数据", "No facility of a kind in the data"),
    "unreached_facility": ("步行道不可达的设施", "Facility out of walking reach"),
    "mapping_gap": ("疑似漏连的道路端点（非断头路）", "Likely mapping gap (not a dead end)"),
    "demand_off_network": ("远离步行道的居住用地", "Homes far from any walkway"),
}
"""Each check's name on the map: (Chinese, English)."""

_WHAT = {
    "zh": {"layer": "数据核查", "check": "核查项", "district": "区县", "subject": "对象",
           "detail": "说明", "fix": "处理建议", "count": "数量",
           "note": "使用这些数字前请先核查：这些问题来自数据，而不是城市本身。",
           "banner": "注意：边界文件的坐标基准疑似错误，全部结果可能偏差。{msg} 修正：{fix}"},
    "en": {"layer": "Data checks", "check": "Check", "district": "District", "subject": "Subject",
           "detail": "Detail", "fix": "How to fix", "count": "Count",
           "note": "Check these before trusting a figure: they come from the data, not the city.",
           "banner": "Warning: a boundary file's datum looks wrong; every figure may be off. "
                     "{msg} Fix: {fix}"},
}


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    text = str(value).strip()
    return text or None


_DATUM = re.compile(r"^(DISTRICT BOUNDARIES|THE BOUNDARIES OF (\S+)) LOOK LIKE (\w+), NOT (\w+): "
                    r"read as \w+ they lie a median (\d+) m from OpenStreetMap's (.+?); read as "
                    r"\w+ \(a systematic shift of (\d+) m\) (\d+) m\.")
_DATUM_NAMES = {"WGS84": "WGS 84", "GCJ02": "GCJ-02（高德/腾讯）", "BD09": "BD-09（百度）"}
_REFERENCE_ZH = {"administrative boundaries": "行政边界", "street grid": "街道"}

_GAP_END = re.compile(r"^(.*): ends ([0-9.]+) m from another road without a shared node",
                      re.DOTALL)


def check_name(check: str, lang: str, unit: str = DEFAULT_UNIT) -> str:
    """A check's name (:data:`CHECK_NAMES`) in ``lang``, the districts called ``unit``; an
    unknown check keeps its key."""
    zh, en = CHECK_NAMES.get(check, (check, check))
    return in_unit(zh, unit) if lang == "zh" else en


def _road_zh(name: str) -> str:
    """A road as a check names it: its own name, or (a road without one is named by its OSM
    highway class, ``residential``) 无名 and the class in Chinese."""
    zh = value_label(name, "zh", "highway") if ";" not in name else name
    return f"无名{zh}" if zh != name else name


_FILE_DATUM = re.compile(
    r"^(?P<file>.*) \((?P<key>[^()]*)\) looks like [\w -]+, not [\w -]+: read as (?P<declared>\w+) its "
    r"(?P<n>\d+) (?P<kind>\w+) lie a median (?P<d0>\d+) m from OpenStreetMap's \w+; read as "
    r"(?P<best>\w+) \(a shift of (?P<shift>\d+) m\) (?P<d1>\d+) m\.")


def _file_datum_words_zh(detail: str, fix: str) -> tuple[str | None, str | None]:
    """:func:`geoplan.layers.file_datum.suspect_file_message`'s sentence in Chinese."""
    from geoplan.layers.datum_names import DATUM_NAMES
    from geoplan.report._labels import layer_name_zh

    found = _FILE_DATUM.search(detail)
    if found is None:
        return None, None
    g = found.groupdict()
    return (f"{g['file']}（{g['key']}）的坐标疑似为 {DATUM_NAMES.get(g['best'], g['best'])} 而非 "
            f"{DATUM_NAMES.get(g['declared'], g['declared'])}：按 {g['declared']} 读取时，其 {g['n']} 个"
            f"{layer_name_zh(g['kind'])}与 OpenStreetMap 同类设施的距离中位数为 {g['d0']} 米；"
            f"按 {g['best']} 读取（整体平移 {g['shift']} 米）则为 {g['d1']} 米。附近的覆盖率都可能有误",
            f"在配置中写明 {fix.removesuffix(' in the config')}")


def check_words_zh(rec: Any, unit: str = DEFAULT_UNIT) -> tuple[str | None, str | None]:
    """A check's detail and fix in Chinese, from its kind and numbers (the table keeps the
    English sentences), the districts called ``unit``; (None, None) for a kind without a
    Chinese wording."""
    check, n, measure = str(rec.check), int(rec.count), float(rec.measure)
    subject, district = str(rec.subject), str(rec.district)
    if check == "datum":
        return _datum_words_zh(str(rec.detail), unit)
    if check == "file_datum":
        return _file_datum_words_zh(str(rec.detail), str(rec.fix))
    if check == "school_mapped_twice" and np.isfinite(measure):
        return (f"{subject}标注了两次，相距 {fmt_number(measure, 0)} 米：两处各按一所完整学校计算学位，"
                "学位可能重复计算",
                "在 OSM 中核查是否为同一所学校；如是，在 OSM 中合并，或改用自己的学校文件"
                "（layers.schools，mode: replace）")
    if check == "left_out_districts":
        names = str(rec.detail).rpartition("inside: ")[2].replace(" and ", " 等，另有 ")
        names = re.sub(r"另有 (\d+) more$", r"另有 \1 个", names)
        return (in_unit(f"文件中有 {n} 个区县未分析：它们在数据范围以外，或在范围内的面积过小：", unit)
                + names,
                in_unit("需要时使用覆盖这些区县的数据；对只有一小部分在范围内的区县，可调小 "
                        "districts.min_inside_km2", unit))
    if check == "partial_district" and np.isfinite(measure):
        return (f"{district}只有 {share_text(measure)} 的面积在数据范围内：它的数字只代表这一部分，"
                + in_unit("不是全区", unit),
                in_unit("计算全区数字请使用覆盖全区的数据", unit))
    if check == "tiny_district" and np.isfinite(measure):
        return (f"{district}的面积只有 {fmt_number(measure, 0)} 平方米：可能是边界的碎片，或坐标转换后塌缩的"
                "多边形，不是可以衡量的区域",
                in_unit("核查文件中该区县的边界", unit))
    if check == "overlapping_units" and np.isfinite(measure):
        return (f"{district}与{subject}重叠 {area_text(measure * 1e6, 'zh')}：重叠处的居住用地两边都计入，"
                "按居住用地分配的人口会部分分错",
                in_unit("修正边界，使各区县互不重叠", unit))
    if check == "no_facility":
        std, _, item = subject.partition("/")
        what = ("该项按无数据计，不计入生活圈覆盖率" if item else "得分为 0" if np.isfinite(measure)
                else in_unit("区县内也没有此标准要衡量的对象，没有覆盖率", unit))
        kind = f"「{item}」类设施" if item else "所需设施"
        return (f"标准 {std}：输入数据中没有{kind}，{what}（数据中缺失，或确实没有）",
                "核查数据；OSM 缺少时在配置的 layers: 中加入规划部门的文件")
    if check == "unreached_facility":
        return (f"{subject}：附近没有可达的步行道，只计入直线覆盖率",
                "核查数据中通往该设施的道路")
    if check == "demand_off_network":
        return (f"{fmt_number(n, 0)} 个居住用地需求点在吸附距离内没有路网中的步行道（附近没有路，"
                "或只有不与路网相连的零散路段）：按步行计算时视为不可达",
                "核查小区内部道路及其与街道的连接；或调大 demand.max_snap_m")
    if check == "truncated_data":
        return (f"{fmt_number(n, 0)} 个 {subject} 要素由缺少节点的路段构成：保留其在数据范围内的部分",
                "在需要的地方使用路段完整的数据")
    if check == "mapping_gap":
        # the detail is geoplan's own "<name or highway>: ends 3.2 m from another road ..."
        found = _GAP_END.search(str(rec.detail))
        detail = None if found is None else (
            f"{_road_zh(found.group(1).strip())}：端点距另一条道路 {found.group(2)} 米但没有共同节点，"
            "可能是数据漏连，而不是断头路")
        return detail, "实地或影像核查；如确实相连，在 OSM 中把这条路连上"
    return None, None


def _datum_words_zh(detail: str, unit: str) -> tuple[str | None, str | None]:
    """The datum warning in Chinese, from geoplan's own English sentence
    (:func:`geoplan.layers.datum.datum_check`)."""
    found = _DATUM.search(detail)
    if found is None:
        return None, None
    key, best, declared = found.group(2), found.group(3), found.group(4)
    d0, reference, shift, d1 = found.group(5), found.group(6), found.group(7), found.group(8)
    best_zh = _DATUM_NAMES.get(best.upper(), best)
    what = in_unit("区县边界", unit) if key is None else f"{key} 的边界"
    harm = (in_unit("各区县面积和全部覆盖率都可能有误", unit) if key is None
            else in_unit("各区县分到的人口可能有误", unit))
    fix = (f"在配置中写 districts.crs: {best.lower()}（或命令行 --districts-crs {best.lower()}）"
           if key is None else f"在配置中写 {key}.crs: {best.lower()}")
    return (f"{what}的坐标看起来是 {best_zh}，而不是声明的 "
            f"{_DATUM_NAMES.get(declared.upper(), declared)}：按声明读取，边界离 OpenStreetMap 的"
            f"{_REFERENCE_ZH.get(reference, reference)}中位数 {d0} 米；按 {best_zh} 读取（整体偏移 "
            f"{shift} 米）只差 {d1} 米。{harm}", fix)


def english_subjects(table: pd.DataFrame) -> pd.Series:
    """The checks' subjects in English: ``subject_en`` where a check has one, else ``subject``."""
    if "subject_en" not in table:
        return table["subject"]
    en = table["subject_en"].fillna("").astype(str)
    return en.where(en != "", table["subject"])


def add_data_checks(m: folium.Map, checks: gpd.GeoDataFrame | None,
                    districts: gpd.GeoDataFrame | None, lang: str, unit: str = DEFAULT_UNIT
                    ) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The data-check layers (off at first): legend rows and the layer panel's items.

    Parameters
    ----------
    m
        The map.
    checks
        The :func:`geoplan.data_checks.data_checks` table (analysis CRS), or None.
    districts
        The districts (analysis CRS, with ``inside_share``) for the partial-district outlines.
    lang
        'zh' or 'en'.
    unit
        What the districts are called (Chinese).
    """
    if checks is None or len(checks) == 0:
        return [], []
    w = words_in_unit(_WHAT[lang], unit) if lang == "zh" else _WHAT[lang]
    partial_name = check_name("partial_district", lang, unit)
    c = pd.DataFrame(checks).copy()
    c["title"] = [check_name(str(k), lang, unit) for k in c["check"]]
    c["district_txt"] = c["district"].map(_text)
    c["subject_txt"] = (english_subjects(c) if lang != "zh" else c["subject"]).map(_text)
    c["count_txt"] = [fmt_number(n, 0) if int(n) > 1 else None for n in c["count"]]
    words = [check_words_zh(r, unit) if lang == "zh" else (None, None)
             for r in c.itertuples(index=False)]
    c["detail_txt"] = [zh or _text(d) for (zh, _), d in zip(words, c["detail"], strict=True)]
    c["fix_txt"] = [zh or _text(f) for (_, zh), f in zip(words, c["fix"], strict=True)]
    fields = [("district_txt", w["district"], ""), ("subject_txt", w["subject"], ""),
              ("count_txt", w["count"], ""), ("detail_txt", w["detail"], ""),
              ("fix_txt", w["fix"], "")]
    cols = [f[0] for f in fields] + ["title"]
    layers: list[tuple[str, str, Any]] = []
    located = c.loc[gpd.GeoSeries(c["geometry"]).notna().to_numpy()
                    & ~gpd.GeoSeries(c["geometry"]).is_empty.to_numpy()]
    if len(located):
        pts = gpd.GeoDataFrame(located[cols], geometry=list(located["geometry"]),
                               crs=checks.crs)
        pts = pts.set_geometry(pts.geometry.representative_point(), crs=checks.crs)
        layers.append(("data_checks", w["layer"], add_layer(
            m, to_wgs84(pts), css_class="gp-data-checks", fields=fields,
            popup_title="title", popup_note=w["note"], tooltip="title", radius=6, show=False,
            style={"color": "#fff", "weight": 1.5, "fillColor": CHECK_COLOUR,
                   "fillOpacity": 0.95})))
    partial = c.loc[c["check"] == "partial_district"]
    if len(partial) and districts is not None and len(districts):
        names = set(partial["district"].astype(str))
        part_d = districts.loc[districts["district"].astype(str).isin(names), ["district",
                                                                                 "geometry"]]
        info = partial.drop_duplicates("district").set_index(partial["district"].astype(str)
                                                             .drop_duplicates())
        outline = part_d.assign(
            title=partial_name,
            district_txt=part_d["district"].astype(str),
            detail_txt=[info.at[d, "detail_txt"] for d in part_d["district"].astype(str)],
            fix_txt=[info.at[d, "fix_txt"] for d in part_d["district"].astype(str)])
        layers.append(("data_checks_partial", partial_name, add_layer(
            m, to_map(outline, 5.0),
            css_class="gp-data-checks gp-data-checks-partial",
            fields=[f for f in fields if f[0] in outline], popup_title="title", tooltip="title",
            show=False, style={"color": CHECK_COLOUR, "weight": 2.5, "fill": False,
                               "dashArray": "8 5"})))
    items = [{"key": key, "label": label, "layer": lay} for key, label, lay in layers
             if lay is not None]
    legend = []
    if any(it["key"] == "data_checks" for it in items):
        legend.append({"shape": "dot", "colour": CHECK_COLOUR, "text": w["layer"],
                       "key": "data_checks"})
    if any(it["key"] == "data_checks_partial" for it in items):
        legend.append({"shape": "dash", "colour": CHECK_COLOUR,
                       "text": partial_name, "key": "data_checks_partial"})
    return legend, items


def datum_banner(checks: gpd.GeoDataFrame | None, lang: str) -> str | None:
    """The banner's HTML (escaped) when a datum check warns, else None."""
    if checks is None or len(checks) == 0:
        return None
    rows = checks.loc[checks["check"] == "datum"]
    if len(rows) == 0:
        return None
    return html.escape(datum_warning(rows.iloc[0], lang))


def datum_warnings(checks: gpd.GeoDataFrame | None, lang: str, unit: str = DEFAULT_UNIT
                   ) -> list[str]:
    """Every datum warning of the data checks in ``lang``: the boundary files' (whose figures
    are all in doubt) and the facility files' (each ending with its fix)."""
    if checks is None or not len(checks):
        return []
    out = [datum_warning(rec, lang, unit) for _, rec in checks.loc[checks["check"] == "datum"]
           .iterrows()]
    for rec in checks.loc[checks["check"] == "file_datum"].itertuples(index=False):
        detail, fix = check_words_zh(rec, unit) if lang == "zh" else (None, None)
        out.append(f"{detail}。修正：{fix}" if detail and fix else
                   f"{rec.detail}. Fix: {rec.fix}.")
    return out


def datum_warning(rec: Any, lang: str, unit: str = DEFAULT_UNIT) -> str:
    """The warning a datum check (a row of the data checks) gives in ``lang``: what looks
    wrong, by how much, and the fix."""
    detail, fix = str(rec["detail"]), str(rec["fix"])
    if lang == "zh":
        zh, zh_fix = _datum_words_zh(detail, unit)
        detail, fix = zh or detail, zh_fix or fix
    return _WHAT[lang]["banner"].format(msg=detail, fix=fix)
