"""The dead-end analysis end to end: detect, rank, measure progress and connectivity, write."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._io import write_csv, write_gpkg
from geoplan._text import NAME_COLUMNS, as_text, cut_to_columns
from geoplan.config import DeadEndSettings
from geoplan.crs import check_projected_crs
from geoplan.deadends.candidates import opening_candidates
from geoplan.deadends.compounds import compound_polygons
from geoplan.deadends.connectivity import assign_districts, connectivity_table
from geoplan.deadends.detect import (
    CATEGORIES,
    EXCLUDED_CATEGORIES,
    build_road_network,
    detect_dead_ends,
    edge_distance,
)
from geoplan.deadends.osm_extras import OsmExtras
from geoplan.deadends.params import DeadEndParams
from geoplan.deadends.progress import check_overlap, match_progress, progress_table
from geoplan.locate import lonlat_columns
from geoplan.results import DEAD_ENDS, DeadEndResult
from geoplan.vocab import DEFAULT_UNIT

if TYPE_CHECKING:
    from geoplan.config import AnalysisConfig
    from geoplan.layers.layerset import LayerSet


logger = logging.getLogger(__name__)

RESULT_COLUMNS = DEAD_ENDS.names
"""Columns of :attr:`DeadEndResult.dead_ends` (besides the geometry), in order."""


def _gates(layerset: LayerSet, gates: gpd.GeoSeries | None) -> gpd.GeoSeries | None:
    if gates is not None:
        return gates
    try:
        entrances = layerset["entrances"]
    except KeyError:
        return None
    if len(entrances) == 0 or "kind" not in entrances:
        return None
    mask = entrances["kind"].astype(str).isin(["gate", "lift_gate", "entrance"])
    return entrances.geometry.loc[mask]


def _layer(layerset: LayerSet, kind: str) -> gpd.GeoDataFrame | None:
    try:
        return layerset[kind]
    except KeyError:
        return None


def _detect(layerset: LayerSet, settings: DeadEndSettings, extras: OsmExtras | None,
            noexit_nodes: gpd.GeoSeries | None, params: DeadEndParams) -> tuple[Any, gpd.GeoDataFrame]:
    net = build_road_network(layerset["roads"], params, layerset.districts.geometry.to_numpy())
    grounds = extras.grounds if extras is not None else None
    gates = _gates(layerset, extras.gates if extras is not None else None)
    if noexit_nodes is None and extras is not None:
        noexit_nodes = extras.noexit_nodes
    compounds = compound_polygons(_layer(layerset, "residential"), grounds, params)
    found = detect_dead_ends(
        net, settings, data_extent=layerset.data_extent, context_area=layerset.context_area,
        noexit_nodes=noexit_nodes, gates=gates, compounds=compounds, params=params,
        cut_points=getattr(layerset, "cut_points", None),
        pedestrian_areas=extras.pedestrian_areas if extras is not None else None,
    )
    return net, found


def run_deadends(
    layerset: LayerSet,
    settings: DeadEndSettings,
    *,
    noexit_nodes: gpd.GeoSeries | None = None,
    baseline: LayerSet | None = None,
    extras: OsmExtras | None = None,
    baseline_extras: OsmExtras | None = None,
    params: DeadEndParams | None = None,
) -> DeadEndResult:
    """Run the dead-end analysis on a loaded layer set.

    Parameters
    ----------
    layerset
        A :class:`geoplan.layers.LayerSet` (or anything with ``roads``, ``residential``,
        ``water``, ``waterways``, ``railways``, ``entrances`` layers by ``[]``, and
        ``districts``, ``data_extent``, ``context_area``, ``crs``).
    settings
        ``config.deadends``.
    noexit_nodes
        Points of ``noexit=yes`` nodes (overrides ``extras.noexit_nodes``).
    baseline
        A LayerSet of an older network version (same districts); enables progress.
    extras, baseline_extras
        Gates, grounds and noexit nodes read from the OSM files
        (:func:`geoplan.deadends.read_osm_extras`); without them gates come from the
        ``entrances`` layer and compounds from the ``residential`` layer only.
    params
        Further thresholds (:class:`DeadEndParams`).

    Returns
    -------
    DeadEndResult

    Raises
    ------
    geoplan._errors.InputDataError
        If the baseline does not overlap the current data.
    """
    check_projected_crs(layerset.crs, "layer set")
    params = params or DeadEndParams()
    districts = layerset.districts
    net, found = _detect(layerset, settings, extras, noexit_nodes, params)
    ends = shapely.points(found["end_x"].to_numpy(float), found["end_y"].to_numpy(float))
    found["district"] = assign_districts(ends, districts)

    # each dead end left out is counted once: outside every district, else by its category,
    # so that the categories add up to the districts' own counts (n_service, n_edge_artifact)
    inside = (found["district"] != "").to_numpy()
    excluded = {cat: int(((found["category"] == cat).to_numpy() & inside).sum())
                for cat in EXCLUDED_CATEGORIES}
    kept_mask = ~found["category"].isin(EXCLUDED_CATEGORIES)
    excluded["outside_districts"] = int((~inside).sum())
    kept = found.loc[kept_mask & (found["district"] != "")].reset_index(drop=True)
    kept, links = opening_candidates(
        net, kept, settings, residential=_layer(layerset, "residential"),
        water=_layer(layerset, "water"), waterways=_layer(layerset, "waterways"),
        railways=_layer(layerset, "railways"), network_area=layerset.context_area, params=params,
    )
    order = {c: i for i, c in enumerate(CATEGORIES)}
    kept["_cat"] = kept["category"].map(order)
    kept = kept.sort_values(["rank", "_cat", "id"], na_position="last").drop(columns="_cat")
    kept = gpd.GeoDataFrame(kept[[*RESULT_COLUMNS, "geometry"]].reset_index(drop=True),
                            geometry="geometry", crs=found.crs)
    connectivity = connectivity_table(net, found, districts)

    progress = detail = None
    if baseline is not None:
        detail, progress = _progress(baseline, layerset, found, net, settings, baseline_extras, params)
    logger.info("dead ends: %d kept (%s), excluded %s", len(kept),
                kept["category"].value_counts().to_dict(), excluded)
    return DeadEndResult(kept, links, connectivity, progress, excluded, found,
                         crs=found.crs, districts=districts, progress_detail=detail,
                         unit=getattr(layerset, "unit", DEFAULT_UNIT))


def _progress(baseline: Any, layerset: LayerSet, current: gpd.GeoDataFrame, net: Any,
              settings: DeadEndSettings, extras: OsmExtras | None,
              params: DeadEndParams) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    roads = baseline["roads"]
    extent = shapely.box(*roads.total_bounds) if len(roads) else shapely.Polygon()
    check_overlap(extent, layerset.context_area, "the baseline network")
    check_overlap(baseline.data_extent, layerset.data_extent, "the baseline extract")
    _, base_found = _detect(baseline, settings, extras, None, params)
    # ends near the current data's edges are artifacts now too: they cannot be judged
    pts = shapely.points(base_found["end_x"].to_numpy(float), base_found["end_y"].to_numpy(float))
    tol = settings.edge_tolerance_m
    for area in (layerset.data_extent, layerset.context_area):
        near, outside, _ = edge_distance(pts, area, tol)
        base_found.loc[(near | outside) & (base_found["category"] == "public"), "category"] = "edge_artifact"
    matched = match_progress(base_found, current, net, params)
    matched["district"] = assign_districts(matched.geometry.to_numpy(), layerset.districts)
    matched = matched.loc[matched["district"] != ""].reset_index(drop=True)
    cols = ["district", "id", "status", "opened", "highway", "road_class", "name", "length_m",
            "source_id", "end_x", "end_y", "geometry"]
    matched = gpd.GeoDataFrame(matched[cols], geometry="geometry", crs=matched.crs)
    return matched, progress_table(matched, layerset.districts, settings)


def deadends_for_config(
    config: AnalysisConfig,
    layerset: LayerSet | None = None,
    *,
    baseline_path: str | Path | None = None,
    params: DeadEndParams | None = None,
) -> DeadEndResult:
    """Run the dead-end analysis of an analysis config, reading every input it needs.

    Loads the layers (unless given), reads noexit nodes, gates and closed grounds from the OSM
    extract (:func:`geoplan.deadends.read_osm_extras`) and, with ``baseline_path``, loads the
    baseline extract with the same districts and settings for progress.

    Parameters
    ----------
    config
        A :class:`geoplan.config.AnalysisConfig`.
    layerset
        Its loaded layers (loaded here if None).
    baseline_path
        An older OSM extract of the same area (.osm, .osm.bz2, .pbf). Its own bounds header
        (or its data's extent) marks its edge.
    params
        Further thresholds (:class:`DeadEndParams`).

    Raises
    ------
    geoplan._errors.InputDataError
        If the baseline cannot be read or does not overlap the current data.
    """
    from geoplan._errors import InputDataError
    from geoplan.deadends.osm_extras import read_osm_extras
    from geoplan.layers.load import load_layers

    if layerset is None:
        layerset = load_layers(config)
    extras = None
    if config.osm.path is not None:
        # the layers' pass over the file read the context too (unless they came from the cache)
        extras = read_osm_extras(config.osm.path, layerset.crs, config.osm.bounds,
                                 osm=getattr(layerset, "osm_context", None))
        if getattr(layerset, "osm_context", None) is not None:
            layerset.osm_context = None  # used: free it
    baseline = baseline_extras = None
    if baseline_path is not None:
        path = Path(baseline_path).resolve()
        if not path.is_file():
            raise InputDataError(f"baseline OSM file not found: {path}. Give an older extract of "
                                 "the same area (.osm, .osm.bz2 or .pbf) with --baseline.")
        osm = config.osm.model_copy(update={"path": path, "bounds": None, "date": None})
        try:
            baseline = load_layers(config.model_copy(update={"osm": osm, "layers": {}}))
            baseline_extras = read_osm_extras(path, layerset.crs)
        except InputDataError as exc:
            raise InputDataError(f"baseline {path.name}: {exc}") from exc
    return run_deadends(layerset, config.deadends, baseline=baseline, extras=extras,
                        baseline_extras=baseline_extras, params=params)


def _csv_frame(result: DeadEndResult) -> pd.DataFrame:
    frame = pd.DataFrame(result.dead_ends.drop(columns="geometry"))
    # every lon/lat names its datum: WGS 84 (GPS, Tianditu), GCJ-02 (Gaode, Tencent), BD-09
    if len(frame) and result.crs is not None:
        lonlat = gpd.GeoSeries(shapely.points(frame["end_x"], frame["end_y"]), crs=result.crs).to_crs(4326)
        for col, values in lonlat_columns(lonlat.x.to_numpy(), lonlat.y.to_numpy(), "end_").items():
            frame[col] = values
    else:
        for col in lonlat_columns(np.zeros(0), np.zeros(0), "end_"):
            frame[col] = pd.Series(dtype=float)
    for col in ("length_m", "gap_m", "detour_m", "saved_m", "score", "end_x", "end_y"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").round(1)
    for col in ("detour_ratio", "residential_share"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").round(3)
    return frame


def write_deadends(result: DeadEndResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``deadends.csv`` and ``deadends.gpkg`` (and ``deadends_progress.csv``) atomically.

    ``deadends.gpkg`` layers: ``dead_ends`` (segments), ``dead_end_points`` (the end nodes),
    ``candidates`` (proposed links), ``districts`` (district polygons with the connectivity
    table's columns) and, with a baseline, ``progress`` (baseline ends with their status); its
    ``layer_styles`` table holds each layer's QGIS style (:mod:`geoplan.report.qgis_styles`).

    Returns
    -------
    dict
        ``csv``, ``gpkg`` (and ``progress_csv``) -> the path written.
    """
    out = Path(out_dir)
    written = {"csv": write_csv(_csv_frame(result), out / "deadends.csv")}
    dead = result.dead_ends.copy()
    dead["rank"] = dead["rank"].astype("float64")
    points = dead.set_geometry(gpd.GeoSeries(
        shapely.points(dead["end_x"].to_numpy(float), dead["end_y"].to_numpy(float)), crs=dead.crs))
    layers: dict[str, gpd.GeoDataFrame] = {"dead_ends": dead, "dead_end_points": points}
    links = result.candidates.copy()
    if "rank" in links:
        links["rank"] = pd.to_numeric(links["rank"]).astype("float64")
    layers["candidates"] = links
    if result.districts is not None:
        table = result.connectivity.drop(columns=[c for c in ("area_km2",) if c in result.connectivity])
        layers["districts"] = result.districts[["district", "area_m2", "geometry"]].merge(
            table, on="district", how="left")
    if result.progress_detail is not None:
        layers["progress"] = result.progress_detail
    from geoplan.report.qgis_styles import styler

    written["gpkg"] = write_gpkg(layers, out / "deadends.gpkg", styles=styler(unit=result.unit))
    if result.progress is not None:
        written["progress_csv"] = write_csv(result.progress, out / "deadends_progress.csv")
    return written


def _fmt(value: object, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.{digits}f}"
    return str(value)


_WORDS: dict[str, dict[str, str]] = {
    "en": {"title": "Dead-end roads (断头路) and connectivity per district",
           "district": "district", "road_km": "road km", "density": "km/km²",
           "junctions": "junctions/km²", "share": "dead-end share", "link_node": "link-node",
           "public": "public", "noexit": "noexit", "compound": "compound", "service": "service",
           "data_check": "data check",
           "excluded": "excluded: ", "sep": ", ",
           "top": "\nTop {n} dead ends to open (rank 1 = most detour saved, weighted by housing)",
           "rank": "rank", "id": "id", "name": "name", "highway": "highway", "gap": "gap m",
           "detour": "detour m", "ratio": "ratio", "barrier": "barrier", "water": "water",
           "rail": "rail", "none": "none", "unnamed": "(unnamed)", "no_route": "unreachable",
           # the workbook's and the pages' words (geoplan.report._deadend_words), explained
           "no_route_note": "unreachable: a network island; no route joins the road's end "
                            "to the road across its gap today, and opening it joins them",
           "edge_note": "*: near the edge of the roads walked (the data's, or the margin kept "
                        "around the districts); roads beyond it could make the detour shorter "
                        "(detour_near_data_edge)",
           "progress": "\nProgress since the baseline (opened / baseline public dead ends)"},
    "zh": {"title": "各区县断头路与路网连通性", "district": "区县", "road_km": "道路(公里)",
           "density": "路网密度(公里/平方公里)", "junctions": "交叉口(个/平方公里)",
           "share": "断头路占比", "link_node": "连接节点比", "public": "公共断头路",
           "noexit": "尽端路(noexit)", "compound": "小区内", "service": "服务性道路",
           "data_check": "需核查", "excluded": "未计入：", "sep": "，",
           "top": "\n最值得打通的 {n} 条断头路（排名 1 = 节省绕行最多，按住房加权）",
           "rank": "排名", "id": "编号", "name": "名称", "highway": "道路等级", "gap": "缺口(米)",
           "detour": "绕行(米)", "ratio": "绕行比", "barrier": "阻隔", "water": "水系",
           "rail": "铁路", "none": "无", "unnamed": "（无名）", "no_route": "无法到达",
           "no_route_note": "无法到达：位于路网孤岛，路的尽端与缺口对面的道路目前没有路径相连，打通后相连",
           "edge_note": "*：靠近所用路网的边缘（数据范围或区县外的缓冲范围），边缘外的道路可能使绕行更短"
                        "（detour_near_data_edge）",
           "progress": "\n与基线相比的进展（已打通 / 基线时的公共断头路）"},
}
"""The dead-end tables' words per language (the terminal's; the files keep their columns)."""

_EXCLUDED_ZH = {"service": "服务性道路", "edge_artifact": "数据边缘", "outside_districts": "区县外"}


def _reachable(rows: pd.DataFrame) -> list[bool]:
    """Whether each dead end's gap has a route around it today (no column: all have)."""
    if "reachable" not in rows:
        return [True] * len(rows)
    return [not (isinstance(v, bool | np.bool_) and not v) for v in rows["reachable"]]


def _near_edge(rows: pd.DataFrame) -> list[bool]:
    """Whether each dead end's detour could be shorter beyond the data's edge (no column: no)."""
    if "detour_near_data_edge" not in rows:
        return [False] * len(rows)
    return [v is True or (isinstance(v, np.bool_) and bool(v)) for v in rows["detour_near_data_edge"]]


def _highway_text(highway: object, lang: str) -> str:
    """A road's OSM class as the terminal shows it: in Chinese by its Chinese name
    (residential → 居住区道路), as the reports and the workbook name it."""
    text = as_text(highway)
    if lang != "zh":
        return text
    from geoplan.vocab import highway_zh

    return highway_zh(text)


def _district_rows(conn: pd.DataFrame, w: dict[str, str]) -> str:
    """Connectivity, one row per district."""
    head = pd.DataFrame({
        w["district"]: [cut_to_columns(as_text(d), NAME_COLUMNS) for d in conn["district"]],
        w["road_km"]: conn["road_km"].map(_fmt),
        w["density"]: conn["road_density"].map(_fmt),
        w["junctions"]: conn["intersection_density"].map(_fmt),
        w["share"]: (100 * conn["dead_end_share"]).map(
            lambda v: _fmt(v, 0) + "%" if pd.notna(v) else "-"),
        w["link_node"]: conn["link_node_ratio"].map(lambda v: _fmt(v, 2)),
        w["public"]: conn["n_public"], w["noexit"]: conn["n_noexit"],
        w["compound"]: conn["n_private_compound"],
        # the share counts every end but the data's edge: these two as well, so the row adds up
        w["service"]: conn["n_service"], w["data_check"]: conn["n_data_check"],
    })
    with pd.option_context("display.unicode.east_asian_width", True, "display.width", 200):
        return head.to_string(index=False)


def _city_connectivity(conn: pd.DataFrame, lang: str = "en", unit: str = "区县") -> str:
    """Connectivity of the whole city in two lines (the districts' rows are in the GeoPackage)."""
    area = float(conn["area_km2"].sum()) if "area_km2" in conn else math.nan
    km = float(conn["road_km"].sum())
    junctions = float(conn["intersections"].sum()) if "intersections" in conn else math.nan
    per_km2 = (lambda v: _fmt(v / area)) if area > 0 else (lambda v: "-")
    if lang == "zh":
        return (f"断头路与路网连通性，{len(conn)} 个{unit}：道路 {_fmt(km)} 公里"
                f"（{per_km2(km)} 公里/平方公里），交叉口 {per_km2(junctions)} 个/平方公里；断头路："
                f"公共 {int(conn['n_public'].sum())}，尽端路 {int(conn['n_noexit'].sum())}，"
                f"小区内 {int(conn['n_private_compound'].sum())}\n"
                f"各{unit}的数字：deadends.gpkg 的 districts 图层")
    return (f"Dead-end roads (断头路) and connectivity, {len(conn)} districts: road {_fmt(km)} km "
            f"({per_km2(km)} km/km²), {per_km2(junctions)} junctions/km²; dead ends: "
            f"{int(conn['n_public'].sum())} public, {int(conn['n_noexit'].sum())} noexit, "
            f"{int(conn['n_private_compound'].sum())} in compounds\n"
            "each district's row: deadends.gpkg, layer districts")


def format_table(result: DeadEndResult, top: int = 10, max_districts: int = 12,
                 lang: str = "en") -> str:
    """The terminal summary: connectivity per district, the top dead ends, progress, in
    ``lang`` ('en' or 'zh', the districts called by the result's unit).

    A city of more than ``max_districts`` districts gets the city's totals instead of a row
    per district (each district's row is in ``deadends.gpkg``, layer ``districts``).
    """
    unit = getattr(result, "unit", None) or "区县"
    w = {k: v.replace("区县", unit) for k, v in _WORDS["zh" if lang == "zh" else "en"].items()}
    conn = result.connectivity
    if len(conn) > max_districts:
        lines = [_city_connectivity(conn, lang, unit)]
    else:
        lines = [w["title"], _district_rows(conn, w)]
    lines.append(w["excluded"] + w["sep"].join(
        f"{_EXCLUDED_ZH.get(k, k).replace('区县', unit) if lang == 'zh' else k} {v}"
        for k, v in result.excluded.items()))
    ranked = result.dead_ends.loc[result.dead_ends["rank"].notna()].head(top)
    if len(ranked):
        lines.append(w["top"].format(n=len(ranked)))
        show = pd.DataFrame({
            w["rank"]: ranked["rank"].astype(int), w["id"]: ranked["id"],
            w["district"]: [cut_to_columns(as_text(d), NAME_COLUMNS) for d in ranked["district"]],
            # names from OSM as one clean line each: a name can carry a terminal's escapes
            w["name"]: [cut_to_columns(as_text(n), NAME_COLUMNS) or w["unnamed"]
                        for n in ranked["name"]],
            w["highway"]: [_highway_text(h, lang) for h in ranked["highway"]],
            w["gap"]: ranked["gap_m"].map(lambda v: _fmt(v, 0)),
            w["detour"]: [(_fmt(v, 0) if ok else w["no_route"]) + ("*" if edge else "")
                          for v, ok, edge in zip(ranked["detour_m"], _reachable(ranked),
                                                 _near_edge(ranked), strict=True)],
            w["ratio"]: ranked["detour_ratio"].map(_fmt),
            w["barrier"]: np.where(ranked["crosses_water"], w["water"],
                                   np.where(ranked["crosses_railway"], w["rail"], w["none"])),
        })
        with pd.option_context("display.unicode.east_asian_width", True, "display.width", 200):
            lines.append(show.to_string(index=False))
        if not all(_reachable(ranked)):
            lines.append(w["no_route_note"])
        if any(_near_edge(ranked)):
            lines.append(w["edge_note"])
    if result.progress is not None:
        lines.append(w["progress"])
        lines.append(result.progress.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return "\n".join(lines)
