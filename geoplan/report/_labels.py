"""Words shown to planners in maps, reports and workbooks, in Chinese (default) and English.

Everything a reader sees goes through :func:`labels` so that ``lang='en'`` gives an English map
and report with the same structure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from geoplan.census import UNITS_NOTE_START
from geoplan.vocab import DEFAULT_UNIT, HIGHWAY_ZH

_ZH: dict[str, str] = {
    "lang": "zh",
    "unit": DEFAULT_UNIT,
    "district": "区县",
    "standard": "标准",
    "standard_id": "标准编号",
    "name": "名称",
    "kind": "类型",
    "level": "学段",
    "area_ha": "面积（公顷）",
    "area_m2": "面积（平方米）",
    "radius_m": "服务半径（米）",
    "target": "目标",
    "share_buffer": "直线覆盖率",
    "share_network": "步行覆盖率",
    "share_population_buffer": "人口覆盖率（直线）",
    "share_population_network": "人口覆盖率（步行）",
    "meets_target": "是否达标",
    "pass": "达标",
    "fail": "未达标",
    "na": "不适用",
    "uncovered_area_m2": "未覆盖面积（平方米）",
    "uncovered_population": "未覆盖人口",
    "uncovered_length_m": "未覆盖街道长度（米）",
    "n_facilities": "设施数量（含周边）",
    "demand_kind": "需求类型",
    "demand_total": "需求总量",
    "demand_unit": "需求单位",
    "unreachable_points": "无法到达的需求点",
    "population_source": "人口来源",
    "rank": "排名",
    "population": "人口",
    "view": "量度",
    "view_buffer": "直线",
    "view_network": "步行",
    "gap": "缺口",
    "lon": "中心经度",
    "lat": "中心纬度",
    "lonlat_wgs84": "经纬度（WGS 84，GPS/天地图）",
    "lon_wgs84": "经度（WGS 84）", "lat_wgs84": "纬度（WGS 84）",
    "lon_gcj02": "经度（GCJ-02，高德/腾讯）", "lat_gcj02": "纬度（GCJ-02，高德/腾讯）",
    "lon_bd09": "经度（BD-09，百度）", "lat_bd09": "纬度（BD-09，百度）",
    "street": "最近道路",
    "page_of": "第 &P 页，共 &N 页",
    "lonlat_gcj02": "经纬度（GCJ-02，高德/腾讯）",
    "lonlat_bd09": "经纬度（BD-09，百度）",
    # map layers
    "layer_coverage": "覆盖率",
    "layer_reached": "步行可达范围",
    "layer_gaps": "覆盖缺口",
    "layer_deadends": "断头路",
    "layer_candidates": "打通建议",
    "layer_context": "道路与水系（底图）",
    "layer_labels": "区县名称",
    "layer_sites": "建议新增设施选址",
    "layers": "图层",
    "layers_standard": "标准",
    "layers_roads": "道路连通",
    "layers_background": "底图",
    "sites_section": "建议新增设施选址（补齐缺口）",
    "covered_ha": "可覆盖缺口（公顷）",
    "covered_street_m": "可覆盖缺口街道（米）",
    "covered_gap": "可覆盖缺口",
    "layer_street_gaps": "无公厕服务街道",
    "share_before": "选址前直线覆盖率",
    "share_after": "选址后直线覆盖率",
    "sheet_sites": "建议选址",
    "layer_parks": "公园与绿地",
    "layer_planned": "规划设施（本情景）",
    "tiles_osm": "OpenStreetMap 底图（需联网）",
    "tiles_tianditu": "天地图 矢量底图（需联网）",
    "tiles_tianditu_labels": "天地图 注记（需联网）",
    "legend": "图例",
    "legend_pass": "达标",
    "legend_near": "接近目标（≥ 目标的 75%）",
    "legend_low": "不足（目标的 50–75%）",
    "legend_poor": "严重不足（< 目标的 50%）",
    "legend_nodata": "无数据",
    "legend_facilities": "设施",
    "data_date": "数据日期",
    "data_source": "数据来源",
    "osm_attribution": "© OpenStreetMap 贡献者（ODbL）",
    "generated_by": "由 geoplan 生成",
    # facility kinds
    "fac_parks": "公园",
    "fac_green_space": "绿地",
    "fac_toilets": "公厕",
    "fac_schools": "学校",
    "fac_bus_stops": "公交站",
    "fac_services": "服务设施",
    # dead ends
    "highway": "道路类型",
    "road_class": "道路等级",
    "length_m": "长度（米）",
    "gap_m": "断开距离（米）",
    "detour_m": "绕行距离（米）",
    "detour_ratio": "绕行系数",
    "saved_m": "可节省距离（米）",
    "score": "评分",
    "category": "类别",
    "crosses_water": "跨越水系",
    "crosses_railway": "跨越铁路",
    "detour_near_data_edge": "靠近数据边缘（绕行或更短）",
    "yes": "是",
    "no": "否",
    "unnamed": "（无名）",
    # reports
    "report_title": "服务半径达标分析报告",
    "index_title": "各区县服务半径达标情况",
    "summary": "汇总",
    "standards_section": "各项标准",
    "largest_gaps": "最大的五处缺口",
    "deadends_section": "断头路",
    "candidates_section": "建议打通的道路",
    "sources_section": "数据来源与日期",
    "no_gaps": "无缺口",
    "target_year": "（{year}年）",
    "items_section": "分项覆盖（按项目）",
    "source_doc": "依据文件",
    "item": "配套设施项目",
    "no_data": "无数据",
    "no_data_for": "无数据：{items}（未计入合计）",
    "all_items": "全部有数据的项目",
    "k_of_n": "至少{k}项（共{n}项有数据）",
    "none": "无",
    "failed": "生成失败",
    "report_link": "报告",
    "analysis": "分析",
    "generated": "生成时间",
    "workbook": "Excel 表格",
    "pages": "区县报告",
    "failures": "未能生成的报告",
    "sheet_summary": "汇总",
    "sheet_places": "缺口地点",
    "places_title": "同时缺几项标准的地点",
    "places_page_note": ("远离各类设施的同一块地是几项标准的缺口：缺项最多的地点在前（量度：{view}），"
                         "一处选址可同时补齐几项。全部地点见工作簿的「缺口地点」表。"),
    "places_n": "缺几项",
    "places_standards": "是哪些标准的缺口",
    "places_note": ("每处缺口一行，列出它所属的全部标准：远离各类设施的用地同时是几项标准的缺口"
                    "（同一块地），缺的标准越多越靠前，一处选址可同时补齐几项。"
                    "各标准的缺口明细见各标准的工作表与 gaps.csv。"),
    "sheet_deadends": "断头路",
    "sheet_candidates": "打通建议",
    "sheet_sources": "数据来源",
    "gap_caption": "第 {rank} 处缺口",
    "scale_m": "{n} 米",
    "north": "北",
    "no_population": "本分析没有人口来源（无该区县的人口普查数据，也无人口栅格）：人口覆盖率与"
                     "“未覆盖人口”为“—”，不以用地面积充当人口；见数据来源。",
    "weights": "权重",
}

_EN: dict[str, str] = {
    "lang": "en",
    "unit": DEFAULT_UNIT,
    "district": "District",
    "standard": "Standard",
    "standard_id": "Standard id",
    "name": "Name",
    "kind": "Kind",
    "level": "School level",
    "area_ha": "Area (ha)",
    "area_m2": "Area (m²)",
    "radius_m": "Radius (m)",
    "target": "Target",
    "share_buffer": "Straight-line share",
    "share_network": "Walking share",
    "share_population_buffer": "Population share (straight line)",
    "share_population_network": "Population share (walking)",
    "meets_target": "Meets target",
    "pass": "pass",
    "fail": "fail",
    "na": "n/a",
    "uncovered_area_m2": "Uncovered area (m²)",
    "uncovered_population": "Uncovered population",
    "uncovered_length_m": "Uncovered street length (m)",
    "n_facilities": "Facilities (with surroundings)",
    "demand_kind": "Demand kind",
    "demand_total": "Demand total",
    "demand_unit": "Demand unit",
    "unreachable_points": "Unreachable demand points",
    "population_source": "Population source",
    "rank": "Rank",
    "population": "Population",
    "view": "Measure",
    "view_buffer": "straight line",
    "view_network": "walking",
    "gap": "Gap",
    "lon": "Centre longitude",
    "lat": "Centre latitude",
    "lonlat_wgs84": "Lon, lat (WGS 84: GPS, Tianditu)",
    "lon_wgs84": "Longitude (WGS 84)", "lat_wgs84": "Latitude (WGS 84)",
    "lon_gcj02": "Longitude (GCJ-02: Gaode, Tencent)", "lat_gcj02": "Latitude (GCJ-02: Gaode, Tencent)",
    "lon_bd09": "Longitude (BD-09: Baidu)", "lat_bd09": "Latitude (BD-09: Baidu)",
    "street": "Nearest street",
    "page_of": "page &P of &N",
    "lonlat_gcj02": "Lon, lat (GCJ-02: Gaode, Tencent)",
    "lonlat_bd09": "Lon, lat (BD-09: Baidu)",
    "layer_coverage": "Coverage",
    "layer_reached": "Walking reach",
    "layer_gaps": "Coverage gaps",
    "layer_deadends": "Dead-end roads",
    "layer_candidates": "Suggested openings",
    "layer_context": "Roads and water (background)",
    "layer_labels": "District names",
    "layer_sites": "Suggested new sites",
    "layers": "Layers",
    "layers_standard": "Standard",
    "layers_roads": "Road connections",
    "layers_background": "Background",
    "sites_section": "Suggested sites to close the gap",
    "covered_ha": "Gap covered (ha)",
    "covered_street_m": "Uncovered street covered (m)",
    "covered_gap": "Gap covered",
    "layer_street_gaps": "Streets without a toilet in reach",
    "share_before": "Straight-line share before",
    "share_after": "Straight-line share after",
    "sheet_sites": "Sites",
    "layer_parks": "Parks and green space",
    "layer_planned": "Planned facilities (this scenario)",
    "tiles_osm": "OpenStreetMap tiles (online)",
    "tiles_tianditu": "Tianditu vector tiles (online)",
    "tiles_tianditu_labels": "Tianditu labels (online)",
    "legend": "Legend",
    "legend_pass": "meets target",
    "legend_near": "close (≥ 75% of target)",
    "legend_low": "short (50–75% of target)",
    "legend_poor": "far short (< 50% of target)",
    "legend_nodata": "no data",
    "legend_facilities": "Facilities",
    "data_date": "Data date",
    "data_source": "Source",
    "osm_attribution": "© OpenStreetMap contributors (ODbL)",
    "generated_by": "made with geoplan",
    "fac_parks": "Park",
    "fac_green_space": "Green space",
    "fac_toilets": "Public toilet",
    "fac_schools": "School",
    "fac_bus_stops": "Bus stop",
    "fac_services": "Service",
    "highway": "Highway",
    "road_class": "Road class",
    "length_m": "Length (m)",
    "gap_m": "Gap (m)",
    "detour_m": "Detour (m)",
    "detour_ratio": "Detour ratio",
    "saved_m": "Saved (m)",
    "score": "Score",
    "category": "Category",
    "crosses_water": "Crosses water",
    "crosses_railway": "Crosses railway",
    "detour_near_data_edge": "Near the data's edge (detour may be shorter)",
    "yes": "yes",
    "no": "no",
    "unnamed": "(unnamed)",
    "report_title": "Service-radius gap report",
    "index_title": "Service-radius standards by district",
    "summary": "Summary",
    "standards_section": "Standards",
    "largest_gaps": "The five largest gaps",
    "deadends_section": "Dead-end roads",
    "candidates_section": "Suggested road openings",
    "sources_section": "Data sources and date",
    "no_gaps": "no gaps",
    "target_year": " by {year}",
    "items_section": "Item by item",
    "source_doc": "Source documents",
    "item": "Facility item",
    "no_data": "no data",
    "no_data_for": "no data for {items} (left out of the totals)",
    "all_items": "All items with data",
    "k_of_n": "At least {k} of the {n} items with data",
    "none": "none",
    "failed": "failed",
    "report_link": "report",
    "analysis": "Analysis",
    "generated": "Generated",
    "workbook": "Excel workbook",
    "pages": "District reports",
    "failures": "Reports that could not be written",
    "sheet_summary": "Summary",
    "sheet_places": "Gap places",
    "places_title": "Places missing several standards",
    "places_page_note": ("The same land far from every kind of facility is a gap of several "
                         "standards: the places missing most come first (measure: {view}); one "
                         "site there closes several. All places are on the workbook's Gap places "
                         "sheet."),
    "places_n": "Missing",
    "places_standards": "A gap of",
    "places_note": ("One row per place that is a gap, with every standard it is a gap of: land far "
                    "from every kind of facility is the same gap of several standards. Places "
                    "missing most standards come first: one site there closes several. Each "
                    "standard's gaps are on its own sheet and in gaps.csv."),
    "sheet_deadends": "Dead ends",
    "sheet_candidates": "Openings",
    "sheet_sources": "Sources",
    "gap_caption": "Gap {rank}",
    "scale_m": "{n} m",
    "north": "N",
    "no_population": "No population source in this analysis (no census figure for the district, "
                     "no raster): population shares and “uncovered population” are “—”; land "
                     "area is never shown as people. See the sources.",
    "weights": "weights",
}

_VALUES_ZH: dict[str, str] = {
    # school levels, service kinds, road classes and park kinds as stored in the canonical layers
    "primary": "小学", "junior": "初中", "senior": "高中",
    "market": "菜市场", "sports": "体育设施", "clinic": "社区卫生服务", "kindergarten": "幼儿园",
    "library": "图书馆", "pharmacy": "药店", "elderly_care": "养老设施", "community_centre": "社区服务中心",
    "nursery": "托儿所", "health_station": "社区卫生服务站", "health_centre": "社区卫生服务中心",
    "hospital": "医院", "elderly_day_care": "老年人日间照料中心", "care_home": "养老院",
    "culture_room": "文化活动站", "culture_centre": "文化活动中心",
    "community_service": "社区服务站", "fitness": "健身场地", "pitch": "运动场地",
    "sports_centre": "体育中心", "fresh_market": "生鲜超市", "community_shop": "社区商业网点",
    "mall": "商场", "reading": "阅览室",
    "park": "公园", "garden": "花园", "playground": "游乐场", "nature_reserve": "自然保护区",
    "grass": "草地", "square": "广场", "village_green": "公共绿地",
    "main": "主干道", "general": "一般道路", "service": "服务性道路",
    "residential": "住宅用地", "street_main": "主要街道", "street_general": "一般街道",
    "riverside_park_paths": "滨河步道",
    "buffer": "直线", "network": "步行",
    # population sources (coverage table's population_source)
    "raster": "人口栅格", "buildings": "住宅建筑面积", "area": "居住用地面积",
    "census": "第七次人口普查", "none": "无人口来源",
    "none (street length)": "无（按街道长度）",
    # units as stored (demand_unit)
    "m2": "平方米", "m": "米", "ha": "公顷",
}

POPULATION_SOURCES: dict[str, tuple[str, str]] = {
    "census": ("第七次人口普查（按住宅分配）", "2020 census spread over homes"),
    "raster": ("人口栅格", "population raster"),
    "buildings": ("住宅建筑面积", "residential building floor area"),
    "area": ("居住用地面积", "residential land area"),
}
"""The population sources of :func:`geoplan.coverage.population.population_weights`: (zh, en) names."""

_CATEGORY_ZH: dict[str, str] = {
    "public": "公共道路断头", "noexit": "标注为尽头路", "private_compound": "封闭小区内部",
    "service": "服务性道路", "edge_artifact": "数据边缘", "data_check": "需核查",
}

_LANGS: dict[str, Mapping[str, str]] = {"zh": _ZH, "en": _EN}

_UNIT_KEYS = frozenset({"district", "layer_labels", "index_title", "pages", "no_population"})
"""The labels that name the analysis units (:func:`labels` words them for the config's unit)."""


_UNIT_WORDS = (("区县", "{u}"), ("本区", "本{u}"), ("全区", "全{u}"))
"""The Chinese words for 'district' that name the analysis unit, and how each reads for a unit
called ``u`` (区县 first: 本区县 and 全区县 become 本街道 and 全街道; 区 alone is not one of
them: 小区 and 缓冲区 are not units)."""


def in_unit(text: str, unit: str = DEFAULT_UNIT) -> str:
    """Chinese ``text`` about the analysis units, with the units called ``unit``.

    Only for text where 区县, 本区 and 全区 mean the analysis unit, never where they mean
    the census's 区县 (a 街道's residents come from its 区县).

    >>> in_unit("各区县覆盖率；本区只有 20% 在范围内", "街道")
    '各街道覆盖率；本街道只有 20% 在范围内'
    >>> in_unit("全区面积", "区县")
    '全区面积'
    """
    if unit == DEFAULT_UNIT:
        return text
    for word, as_unit in _UNIT_WORDS:
        text = text.replace(word, as_unit.format(u=unit))
    return text


def words_in_unit(words: Mapping[str, str], unit: str = DEFAULT_UNIT) -> Mapping[str, str]:
    """A table of Chinese texts about the analysis units with each worded by :func:`in_unit`
    (the table itself for 区县)."""
    if unit == DEFAULT_UNIT:
        return words
    return {k: in_unit(v, unit) for k, v in words.items()}


def unit_of(layerset: object = None, coverage: object = None) -> str:
    """What the analysis units are called: the layer set's ``unit``, else the coverage's
    ``meta['unit']``, else 区县."""
    unit = getattr(layerset, "unit", None)
    if unit is None:
        unit = (getattr(coverage, "meta", None) or {}).get("unit")
    return str(unit) if unit else DEFAULT_UNIT


def labels(lang: str, unit: str = DEFAULT_UNIT) -> Mapping[str, str]:
    """The label table for ``lang`` ('zh' or 'en'), the units called ``unit`` in Chinese
    (:func:`in_unit`; English says district for any unit). Its ``unit`` is ``unit`` and its
    ``lang`` is ``lang``, for the text a page words itself.

    Raises
    ------
    ValueError
        For any other language code.
    """
    try:
        table = _LANGS[lang]
    except KeyError:
        raise ValueError(f"unknown language {lang!r}; use 'zh' or 'en'") from None
    if unit == DEFAULT_UNIT:
        return table
    if lang != "zh":
        return {**table, "unit": unit}
    return {**{k: in_unit(v, unit) if k in _UNIT_KEYS else v for k, v in table.items()},
            "unit": unit}


def value_label(value: object, lang: str, field: str | None = None) -> str:
    """A stored category value (``'primary'``, ``'market'``…) as the reader should see it.

    ``field`` ('highway' or 'category' of a dead end) picks the vocabulary where a value means
    different things in different columns. School levels such as ``'junior;senior'`` are
    translated part by part. Unknown values are returned unchanged.
    """
    text = "" if value is None else str(value)
    if lang != "zh" or not text:
        if field == "category":  # dead-end categories are identifiers: data_check → data check
            return text.replace("_", " ")
        return {"m2": "m²"}.get(text, text.replace(";", ", "))
    table = {"highway": HIGHWAY_ZH, "target_highway": HIGHWAY_ZH,
             "category": _CATEGORY_ZH}.get(field or "", _VALUES_ZH)
    parts = [table.get(p.strip(), p.strip()) for p in text.split(";")]
    return "、".join(parts)


def weights_label(source: str | None, lang: str) -> str:
    """The note naming the population weights, e.g. '权重：第七次人口普查（按住宅分配）'; ''
    when unknown, and where there are no people (buildings or land area: the population
    shares are empty, and a weight named over them read as if land stood in for people)."""
    source = str(source or "").lower()
    names = POPULATION_SOURCES.get(source)
    if names is None or source in ("buildings", "area"):
        return ""
    return f"权重：{names[0]}" if lang == "zh" else f"weights: {names[1]}"


def population_note(note: str | None, source: str | None, lang: str) -> str | None:
    """The coverage's population note (English, from :mod:`geoplan.coverage.population`) for a page.

    In Chinese it is rebuilt from the known ``source`` ('raster', 'buildings', 'area'),
    keeping the raster's file name and the building shares the note gives; an unknown source
    keeps the note as it is.
    """
    source = str(source or "").lower()
    if lang != "zh" or source not in POPULATION_SOURCES:
        return note
    text = note or ""
    if source == "census" and text.startswith(UNITS_NOTE_START):
        return ("人口：第七次全国人口普查（2020）各区县常住人口，按居住用地分摊到各分析单元"
                "（demand.census_districts；区县只有部分在分析范围内时按全区县人口密度 × 范围内面积"
                "估算），再按住宅建筑面积（无建筑处按居住用地面积）分配到住宅")
    if source == "census":
        return ("人口：第七次全国人口普查（2020）各区常住人口，按住宅建筑面积（无建筑处按居住用地面积）"
                "分配到住宅；只有部分位于数据范围内的区县为估算（全区人口密度 × 范围内面积）")
    if source == "raster":
        m = re.search(r"population raster (.+)$", text)
        return "人口：人口栅格" + (f"（{m.group(1).strip()}）" if m else "")
    shares = re.findall(r"(\d+(?:\.\d+)?%)", text)
    if source == "buildings":
        return ("无人口来源，人口列为空；相对权重：住宅建筑面积"
                + (f"（有住宅建筑标注的居住用地占 {shares[0]}）" if shares else ""))
    return "无人口来源（无人口普查数据、无人口栅格），人口列为空；用地面积不作为人口"


_OSM_SOURCE = re.compile(r"OpenStreetMap extract (.+?)(?:, data of (.+?))? "
                         r"\(© OpenStreetMap contributors, ODbL\)")
_DISTRICTS_SOURCE = re.compile(r"districts: (.+?) \((?:declared (.+)|the file's own CRS(?:: (.+))?)\)")
_FILE_SOURCE = re.compile(r"([a-z_]+): (.+) \((add|replace)\)")
_KINDS_ZH = {"districts": "区县边界", "roads": "道路", "walkways": "步行道", "residential": "居住用地",
             "buildings": "建筑",
             "entrances": "出入口"}


def source_label(text: str, lang: str, unit: str = DEFAULT_UNIT) -> str:
    """A data source line of the layer set (English) as the reader should see it: in Chinese
    for the sources geoplan itself names (the OSM extract, the districts file, a planner's
    layer file); any other line as it is.

    >>> source_label("OpenStreetMap extract c.osm.pbf, data of 2018-06 "
    ...              "(© OpenStreetMap contributors, ODbL)", "zh")
    'OpenStreetMap 数据 c.osm.pbf，数据日期 2018-06（© OpenStreetMap contributors，ODbL 许可）'
    >>> source_label("districts: d.geojson (declared gcj02)", "zh", "街道")
    '街道边界：d.geojson（声明坐标系 gcj02）'
    >>> source_label("districts: d.gpkg (the file's own CRS: WGS 84 (EPSG:4326))", "zh")
    '区县边界：d.gpkg（文件自带坐标系 WGS 84 (EPSG:4326)）'
    >>> source_label("toilets: 规划公厕.csv (add)", "zh")
    '公厕：规划公厕.csv（补充 OSM 数据）'
    """
    if lang != "zh":
        return text
    if found := _OSM_SOURCE.fullmatch(text):
        date = f"，数据日期 {found.group(2)}" if found.group(2) else ""
        return f"OpenStreetMap 数据 {found.group(1)}{date}（© OpenStreetMap contributors，ODbL 许可）"
    if found := _DISTRICTS_SOURCE.fullmatch(text):
        crs = (f"声明坐标系 {found.group(2)}" if found.group(2) else
               "文件自带坐标系" + (f" {found.group(3)}" if found.group(3) else ""))
        return in_unit("区县边界", unit) + f"：{found.group(1)}（{crs}）"
    if found := _FILE_SOURCE.fullmatch(text):
        kind = layer_name_zh(found.group(1))
        how = "补充 OSM 数据" if found.group(3) == "add" else "代替 OSM 数据"
        return f"{kind}：{found.group(2)}（{how}）"
    return text


_WARNINGS_ZH: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"standard (\S+): no data for (.+) \(no (\S+) facility in the input\)"),
     "标准 {1}：数据中没有「{2}」（输入数据中无此类设施），该项按无数据计"),
    (re.compile(r"layer '(\w+)' is empty in the study area: standards using it will score 0 or "
                r"have no value"),
     "图层「{1}」在研究范围内为空：用到它的标准得分为 0 或无值"),
    (re.compile(r"district file (.+?) names (\[.*\]) more than once; these districts are called "
                r"by name and code instead: (\[.*\])"),
     "区县文件 {1} 中 {2} 重名：这些区县改称“名称 (代码)”：{3}"),
    (re.compile(r"districts only partly inside the data: results cover that part only: (.+)"),
     "以下区县只有部分在数据范围内，结果只代表这一部分：{1}"),
    (re.compile(r"(\d+) pair\(s\) of districts overlap: (.+?)\. Homes there count in both.*",
                re.DOTALL),
     "{1} 对区县相互重叠：{2}。重叠处的居住用地两边都计入，按居住用地分配的人口会部分分错；"
     "请修正边界（见 data_checks.csv）"),
    (re.compile(r"districts with under ([\d.]+) km² and under (\d+)% of their area inside the "
                r"data, left out: (.+) \(--min-inside-km2 lowers the bar\)"),
     "以下区县在数据范围内的面积不足 {1} 平方公里、且不足其面积的 {2}%，未纳入分析：{3}"
     "（配置项 districts.min_inside_km2 可调低此门槛）"),
    (re.compile(r"school seats \(学位\) shared among each district's own children only: the "
                r"children of (.+) could not be counted", re.DOTALL),
     "学位只在各区县自己的儿童中分配：{1} 的儿童未能统计"),
)


def warning_label(text: str, lang: str, unit: str = DEFAULT_UNIT) -> str:
    """A warning geoplan logged (English) as the reader should see it: in Chinese for the
    warnings a batch page lists most (facility kinds without data, empty layers, repeated,
    partial and overlapping units, seats), the units called ``unit``; any other as it is.

    >>> warning_label("layer 'toilets' is empty in the study area: standards using it will "
    ...               "score 0 or have no value", "zh")
    '图层「公厕」在研究范围内为空：用到它的标准得分为 0 或无值'
    >>> warning_label("districts only partly inside the data: results cover that part only: "
    ...               "甲 (3.9 km², 6%)", "zh", "社区")
    '以下社区只有部分在数据范围内，结果只代表这一部分：甲 (3.9 km², 6%)'
    >>> warning_label("districts only partly inside the data: results cover that part only: "
    ...               "甲 (1.0 km², 6%), 乙 (2.0 km², 9%) and 3 more", "zh")[-25:]
    '乙 (2.0 km², 9%) 等（另有 3 个）'
    >>> warning_label("districts with under 0.5 km² and under 50% of their area inside the "
    ...               "data, left out: 武侯区 (0.14 km²) (--min-inside-km2 lowers the bar)",
    ...               "zh")[:46]
    '以下区县在数据范围内的面积不足 0.5 平方公里、且不足其面积的 50%，未纳入分析：武侯区'
    >>> warning_label("something else", "zh")
    'something else'
    """
    if lang != "zh":
        return text
    for pattern, words in _WARNINGS_ZH:
        if found := pattern.fullmatch(text):
            parts = [found.group(0), *found.groups()]
            if pattern is _WARNINGS_ZH[0][0]:  # 'Public toilet (公共厕所)': the Chinese name
                named = re.fullmatch(r".+ \((.+)\)", parts[2])
                parts[2] = named.group(1) if named else parts[2]
            if pattern is _WARNINGS_ZH[1][0]:
                kind = parts[1]
                parts[1] = layer_name_zh(kind)
            said = in_unit(words, unit).format(*parts)  # names from the data as they are
            return re.sub(r" and (\d+) more\b", r" 等（另有 \1 个）", said)
    return text


def layer_name_zh(kind: str, unit: str = DEFAULT_UNIT) -> str:
    """A layer kind's Chinese name (``toilets`` → 公厕, ``districts`` → 区县边界, the units
    called ``unit``); any other text as it is.

    >>> layer_name_zh("toilets"), layer_name_zh("districts", "社区"), layer_name_zh("锦江区")
    ('公厕', '社区边界', '锦江区')
    """
    return in_unit(_ZH.get(f"fac_{kind}") or _KINDS_ZH.get(kind, kind), unit)


def standard_name(row: Mapping[str, object], lang: str) -> str:
    """The standard's name in ``lang`` (falls back to the other language, then the id)."""
    first, second = ("name_zh", "name_en") if lang == "zh" else ("name_en", "name_zh")
    for key in (first, second, "standard"):
        value = row.get(key)
        if isinstance(value, str) and value:
            return value
    return str(row.get("standard", ""))
