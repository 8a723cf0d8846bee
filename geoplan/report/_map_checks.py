"""The data-check layer of the meeting map (:mod:`geoplan.data_checks`).

Located checks (likely mapping gaps, facilities no walkway reaches, homes far from any walkway)
are drawn as points; districts only partly inside the data as dashed outlines; a suspected
datum error as a banner at the top of the map, because it skews every figure.
"""

from __future__ import annotations

import html
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.report._data import fmt_number, to_wgs84
from geoplan.report._map_detail import to_map
from geoplan.report._map_layers import add_layer

__all__ = ["CHECK_COLOUR", "CHECK_NAMES", "add_data_checks", "datum_banner"]

CHECK_COLOUR = "#e6007e"
"""Magenta: apart from every coverage and road colour."""

CHECK_NAMES: dict[str, tuple[str, str]] = {
    "datum": ("坐标基准疑似错误", "datum suspected wrong"),
    "truncated_data": ("数据被截断的要素", "features from truncated data"),
    "partial_district": ("区县只有部分在数据范围内", "district only partly inside the data"),
    "no_facility": ("缺少某类设施数据", "no facility of a kind in the data"),
    "unreached_facility": ("步行道不可达的设施", "facility no walkway reaches"),
    "mapping_gap": ("疑似漏连的道路端点（非断头路）", "likely mapping gap (not a dead end)"),
    "demand_off_network": ("远离步行道的居住用地", "homes far from any walkway"),
}
"""Each check's name on the map: (Chinese, English)."""

_WHAT = {
    "zh": {"layer": "数据核查", "check": "核查项", "district": "区县", "subject": "对象",
           "detail": "说明（英文原文）", "fix": "处理建议", "count": "数量",
           "note": "使用这些数字前请先核查：这些问题来自数据，而不是城市本身。",
           "banner": "注意：区县边界的坐标基准疑似错误，全部结果可能偏差。{msg} 修正：{fix}"},
    "en": {"layer": "Data checks", "check": "Check", "district": "District", "subject": "Subject",
           "detail": "Detail", "fix": "How to fix", "count": "Count",
           "note": "Check these before trusting a figure: they come from the data, not the city.",
           "banner": "Warning: the district boundaries' datum looks wrong; every figure may be "
                     "off. {msg} Fix: {fix}"},
}


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    text = str(value).strip()
    return text or None


def add_data_checks(m: folium.Map, checks: gpd.GeoDataFrame | None,
                    districts: gpd.GeoDataFrame | None, lang: str
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
    """
    if checks is None or len(checks) == 0:
        return [], []
    w = _WHAT[lang]
    i = 0 if lang == "zh" else 1
    c = pd.DataFrame(checks).copy()
    c["title"] = [CHECK_NAMES.get(str(k), (str(k), str(k)))[i] for k in c["check"]]
    c["district_txt"] = c["district"].map(_text)
    c["subject_txt"] = c["subject"].map(_text)
    c["count_txt"] = [fmt_number(n, 0) if int(n) > 1 else None for n in c["count"]]
    c["detail_txt"] = c["detail"].map(_text)
    c["fix_txt"] = c["fix"].map(_text)
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
            title=CHECK_NAMES["partial_district"][i],
            district_txt=part_d["district"].astype(str),
            detail_txt=[_text(info.at[d, "detail"]) for d in part_d["district"].astype(str)],
            fix_txt=[_text(info.at[d, "fix"]) for d in part_d["district"].astype(str)])
        layers.append(("data_checks_partial", CHECK_NAMES["partial_district"][i], add_layer(
            m, to_map(outline, 5.0),
            css_class="gp-data-checks gp-data-checks-partial",
            fields=[f for f in fields if f[0] in outline], popup_title="title", tooltip="title",
            show=False, style={"color": CHECK_COLOUR, "weight": 2.5, "fill": False,
                               "dashArray": "8 5"})))
    items = [{"key": key, "label": label, "layer": lay} for key, label, lay in layers
             if lay is not None]
    legend = []
    if any(it["key"] == "data_checks" for it in items):
        legend.append({"shape": "dot", "colour": CHECK_COLOUR, "text": w["layer"]})
    if any(it["key"] == "data_checks_partial" for it in items):
        legend.append({"shape": "dash", "colour": CHECK_COLOUR,
                       "text": CHECK_NAMES["partial_district"][i]})
    return legend, items


def datum_banner(checks: gpd.GeoDataFrame | None, lang: str) -> str | None:
    """The banner's HTML (escaped) when a datum check warns, else None."""
    if checks is None or len(checks) == 0:
        return None
    rows = checks.loc[checks["check"] == "datum"]
    if len(rows) == 0:
        return None
    rec = rows.iloc[0]
    text = _WHAT[lang]["banner"].format(msg=str(rec["detail"]), fix=str(rec["fix"]))
    return html.escape(text)
