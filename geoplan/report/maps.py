"""The meeting map: one self-contained HTML file (folium/Leaflet) that works with no internet.

:func:`build_map` draws, on a plain background (basemap tiles are optional):

- per standard, one layer chosen with a radio button in the layer panel's "标准" group (the
  first is shown): the districts coloured by the standard's buffer share against its target,
  the area reached over the walking network (reached edges buffered a little, dissolved,
  simplified), the uncovered gap polygons ranked per district, and the suggested new sites;
- overlays with checkboxes: facilities by kind with popups (name, kind, school level), parks
  and green space as areas; dead-end roads and suggested openings; the roads-and-water
  background and the district names;
- a legend that follows the chosen standard (its name and target), the layer panel, a scale
  bar and a title block (analysis name, data date, © OpenStreetMap contributors), all in
  Chinese, or English with ``lang='en'``.

Tiles: the default is **no tiles**, a plain background with the map's own roads and water drawn
as a light background layer. A meeting room often has no internet, and tiles that fail to load
show as grey squares and fill the browser console with errors; planners who are online can add
OpenStreetMap (``tiles='osm'``) or Tianditu (``tiles='tianditu'`` with their key) tiles, which
simply stay blank offline while every layer of the map still shows. Leaflet itself is inlined
(see :mod:`geoplan.report._offline`): nothing is fetched from a CDN.
"""

from __future__ import annotations

import html
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import folium
import geopandas as gpd
import pandas as pd
import shapely
from branca.element import Element, Figure

from geoplan._errors import ConfigError, OutputError
from geoplan._io import atomic_path
from geoplan.report._data import (
    fmt_number,
    fmt_share,
    frame,
    geoframe,
    plain,
    standard_rows,
    standards_order,
    to_wgs84,
)
from geoplan.report._labels import labels, standard_name, value_label, weights_label
from geoplan.report._map_controls import (
    CANDIDATE_COLOUR,
    CLASS_COLOURS,
    DEADEND_COLOUR,
    FACILITY_COLOURS,
    GAP_COLOUR,
    MAP_CSS,
    REACH_COLOUR,
    SITE_COLOUR,
    HtmlControl,
    LayerPanel,
    ScaleBar,
    legend_coverage,
    title_html,
)
from geoplan.report._offline import external_references, make_offline
from geoplan.report.tables import population_known, weights_source

if TYPE_CHECKING:
    from geoplan.config import AnalysisConfig
    from geoplan.layers.layerset import LayerSet
    from geoplan.results import CoverageResult, DeadEndResult, SiteResult


logger = logging.getLogger(__name__)

"""Half-width of the band drawn around each reached walking edge."""
MAX_GAPS_PER_DISTRICT = 20
"""Gap polygons drawn per district and standard (the largest, by rank)."""
MAX_CONTEXT_ROADS = 20000
"""Above this many roads only main roads are drawn in the background layer."""

_TIANDITU = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
             "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
             "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")


def coverage_class(share: Any, target: Any) -> str:
    """The colour class of a district: 'pass', 'near', 'low', 'poor' or 'nodata'."""
    share, target = plain(share), plain(target)
    if share is None:
        return "nodata"
    if target is None or target <= 0 or share >= target:
        return "pass"
    ratio = share / target
    return "near" if ratio >= 0.75 else "low" if ratio >= 0.5 else "poor"


def _feature_collection(gdf: gpd.GeoDataFrame, columns: Sequence[str]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``gdf`` (WGS84) with only ``columns`` and numbered ids."""
    features = []
    geoms = shapely.to_geojson(gdf.geometry.to_numpy())
    records = gdf[list(columns)].to_dict("records") if columns else [{}] * len(gdf)
    for i, (geom, props) in enumerate(zip(geoms, records, strict=True)):
        features.append({
            "type": "Feature", "id": i, "geometry": json.loads(geom),
            "properties": {k: plain(v) for k, v in props.items()},
        })
    return {"type": "FeatureCollection", "features": features}


def _popup(fields: Mapping[str, str]) -> folium.GeoJsonPopup:
    return folium.GeoJsonPopup(fields=list(fields), aliases=list(fields.values()), localize=False,
                               labels=True, max_width=360)


def _add_geojson(
    target: folium.Map | folium.FeatureGroup,
    gdf: gpd.GeoDataFrame,
    *,
    name: str | None,
    fields: Mapping[str, str],
    style: Callable[[dict[str, Any]], dict[str, Any]],
    class_name: str,
    show: bool = True,
    marker: folium.CircleMarker | None = None,
    tooltip: str | None = None,
    interactive: bool = True,
    extra: Sequence[str] = (),
) -> folium.GeoJson | None:
    """Add ``gdf`` (WGS84) as one GeoJson layer with popups showing ``fields`` (key -> alias)."""
    if len(gdf) == 0:
        return None
    keep = list(dict.fromkeys([*fields, *([tooltip] if tooltip else []), *extra]))
    data = _feature_collection(gdf, keep)
    kwargs: dict[str, Any] = {}
    if interactive and fields:
        kwargs["popup"] = _popup(fields)
    if tooltip:
        kwargs["tooltip"] = folium.GeoJsonTooltip(fields=[tooltip], labels=False)
    layer = folium.GeoJson(
        data, name=name, style_function=style, show=show, overlay=True,
        control=name is not None, marker=marker, className=class_name,
        interactive=interactive, **kwargs,
    )
    layer.add_to(target)
    return layer


def build_map(
    layerset: LayerSet,
    coverage: CoverageResult | None,
    deadends: DeadEndResult | None = None,
    *,
    lang: str = "zh",
    tiles: str | None = None,
    tianditu_key: str | None = None,
    title: str | None = None,
    data_date: str | None = None,
    config: AnalysisConfig | None = None,
    standard: str | None = None,
    gap_view: str = "network",
    sites: SiteResult | None = None,
) -> folium.Map:
    """Build the offline meeting map.

    Parameters
    ----------
    layerset
        The analysis' :class:`~geoplan.layers.load.LayerSet` (projected CRS).
    coverage
        A :class:`~geoplan.coverage.CoverageResult` (``table``, ``gaps``, ``reached``), or None.
    deadends
        A :class:`~geoplan.deadends.DeadEndResult` (``dead_ends``, ``candidates``), or None.
    lang
        'zh' (default) or 'en' for every label, legend entry and popup.
    tiles
        None or 'none' (default: plain background), 'osm', or 'tianditu' (needs
        ``tianditu_key``). Tiles need the internet; the map's own layers never do.
    tianditu_key
        The user's Tianditu API key (天地图 tk).
    title, data_date
        The title block's heading and data date; default from ``config`` (``name``,
        ``osm.date``).
    config
        The :class:`~geoplan.config.AnalysisConfig`, used for the defaults above.
    standard
        The standard whose district colours are shown first (default: the first standard).
    gap_view
        Which gaps to draw: 'network' (walking network, default; falls back to 'buffer' when
        there are none) or 'buffer'.
    sites
        Suggested new facility sites (:func:`geoplan.siting.suggest_sites`), or None.

    Returns
    -------
    folium.Map
        With Leaflet inlined: rendering it gives a page that loads nothing from a CDN.

    Raises
    ------
    ConfigError
        For an unknown ``tiles`` value, or Tianditu tiles without a key.
    """
    lab = labels(lang)
    tiles = None if tiles in (None, "", "none") else tiles
    if tiles not in (None, "osm", "tianditu"):
        raise ConfigError("map options", [f"tiles: unknown value {tiles!r}; use osm, tianditu or none"])
    if tiles == "tianditu" and not tianditu_key:
        raise ConfigError("map options", [
            "tiles: Tianditu tiles need your key: --tianditu-key KEY "
            "(free from https://console.tianditu.gov.cn)"])
    if title is None:
        title = getattr(config, "name", None) or "geoplan"
    if data_date is None and config is not None:
        data_date = getattr(getattr(config, "osm", None), "date", None)

    districts = layerset.districts
    dist_wgs = to_wgs84(districts[["district", "geometry"]], simplify_m=2.0)
    minx, miny, maxx, maxy = dist_wgs.total_bounds
    centre = [round((miny + maxy) / 2, 6), round((minx + maxx) / 2, 6)]
    m = folium.Map(location=centre, zoom_start=13, tiles=None,
                   control_scale=False, zoom_control="bottomright", prefer_canvas=False,
                   zoom_snap=0.25, zoom_delta=0.5)
    make_offline(m)
    cast(Figure, m.get_root()).header.add_child(Element(MAP_CSS), name="geoplan_css")
    # keep the data clear of the legend (left) and the open layer panel (right)
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding_top_left=(200, 10),
                 padding_bottom_right=(240, 10))
    tile_items = _add_tiles(m, tiles, tianditu_key, lab)

    sections: list[str] = []
    context = _add_context(m, layerset, lab)
    order = standards_order(coverage)
    if standard is not None and standard in order:
        order = [standard] + [s for s in order if s != standard]
    elif standard is not None:
        logger.warning("standard %r is not in the coverage results (%s): showing %s first",
                       standard, ", ".join(order) or "none", order[0] if order else "nothing")
    rows = standard_rows(coverage)
    # one group per standard: choropleth, walking reach, gaps and sites switch together
    groups = {sid: folium.FeatureGroup(name=standard_name(rows[sid], lang), overlay=False,
                                       control=False, show=i == 0)
              for i, sid in enumerate(order)}
    if _add_coverage_layers(groups, dist_wgs, coverage, order, rows, lab, lang):
        standard_items = [{"key": sid, "label": standard_name(rows[sid], lang),
                           "note": _target_note(rows[sid], lab), "layer": groups[sid],
                           "legend": _legend_heading(rows[sid], lab, lang)} for sid in order]
    else:
        standard_items = []
    _add_reached(groups, coverage, order, rows, lab, lang)
    _add_gaps(groups, coverage, order, rows, lab, lang, gap_view)
    _add_street_gaps(groups, coverage, order, rows, lab, lang, gap_view)
    has_sites = _add_sites(groups, sites, order, rows, lab, lang)
    for group in groups.values():
        group.add_to(m)
    if standard_items:
        sections.append(legend_coverage(lab, str(standard_items[0]["legend"]), sites=has_sites))
    legend_fac, facility_items = _add_facilities(m, layerset, lab, lang)
    sections.append(legend_fac)
    legend_dead, road_items = _add_deadends(m, deadends, lab, lang)
    sections.append(legend_dead)
    names = _add_district_labels(m, dist_wgs, lab)
    background = [{"key": "context", "label": lab["layer_context"], "layer": context,
                   "back": True}, {"key": "labels", "label": lab["layer_labels"], "layer": names},
                  *tile_items]

    LayerPanel([
        {"title": lab["layers_standard"], "radio": True, "items": standard_items},
        {"title": lab["legend_facilities"], "radio": False, "items": facility_items},
        {"title": lab["layers_roads"], "radio": False, "items": road_items},
        {"title": lab["layers_background"], "radio": False, "items": background},
    ], heading=lab["layers"]).add_to(m)
    HtmlControl(title_html(title, data_date, lab), position="topleft", element_id="geoplan-title",
             css_class="geoplan-box geoplan-title",
             attribution=lab["osm_attribution"]).add_to(m)
    ScaleBar().add_to(m)
    legend = f"<h2>{html.escape(lab['legend'])}</h2>" + "".join(s for s in sections if s)
    HtmlControl(legend, position="bottomleft", element_id="geoplan-legend",
             css_class="geoplan-box geoplan-legend").add_to(m)
    return m


def _add_tiles(m: folium.Map, tiles: str | None, key: str | None, lab: Mapping[str, str]
               ) -> list[dict[str, Any]]:
    """The online tiles, if asked for; returns their layer panel items (background)."""
    items: list[dict[str, Any]] = []
    if tiles == "osm":
        layer = folium.TileLayer("OpenStreetMap", name=lab["tiles_osm"], overlay=False,
                                 control=False)
        layer.add_to(m)
        items.append({"key": "tiles_osm", "label": lab["tiles_osm"], "layer": layer,
                      "back": True})
    elif tiles == "tianditu":
        attr = "天地图 © 国家地理信息公共服务平台"
        for code, name, overlay in (("vec", lab["tiles_tianditu"], False),
                                    ("cva", lab["tiles_tianditu_labels"], True)):
            layer = folium.TileLayer(_TIANDITU.format(layer=code, key=key, s="{s}"), attr=attr,
                                     name=name, overlay=overlay, control=False,
                                     subdomains="01234567", max_zoom=18)
            layer.add_to(m)
            items.append({"key": f"tiles_{code}", "label": name, "layer": layer,
                          "back": not overlay})
    return items


def _target_note(row: Mapping[str, Any], lab: Mapping[str, str]) -> str:
    target = plain(row.get("target"))
    return "" if target is None else f"{lab['target']} {fmt_share(target)}"


def _legend_heading(row: Mapping[str, Any], lab: Mapping[str, str], lang: str) -> str:
    """The legend's heading for a standard: its name and target."""
    note = _target_note(row, lab)
    name = standard_name(row, lang)
    if not note:
        return name
    return f"{name}（{note}）" if lang == "zh" else f"{name} ({note})"


def _add_context(m: folium.Map, layerset: LayerSet, lab: Mapping[str, str]) -> folium.FeatureGroup:
    """Roads and water drawn lightly, so that the map reads with no tiles."""
    group = folium.FeatureGroup(name=lab["layer_context"], show=True, control=False)
    water = layerset.layers.get("water")
    if water is not None and len(water):
        w = to_wgs84(water[["geometry"]], simplify_m=5.0)
        _add_geojson(group, w, name=None, fields={}, class_name="gp-context-water",
                     style=lambda f: {"color": "#9ecae1", "weight": 0.5, "fillColor": "#c6dbef",
                                      "fillOpacity": 0.9}, interactive=False)
    roads = layerset.layers.get("roads")
    if roads is not None and len(roads):
        keep = ["main"] if len(roads) > MAX_CONTEXT_ROADS else ["main", "general"]
        sel = roads.loc[roads["road_class"].isin(keep), ["road_class", "geometry"]]
        r = to_wgs84(sel, simplify_m=6.0)
        _add_geojson(group, r, name=None, fields={}, class_name="gp-context-roads",
                     style=lambda f: {"color": "#a8a8a8", "weight": 1.2, "opacity": 0.8},
                     interactive=False)
    group.add_to(m)
    return group


def _add_coverage_layers(
    groups: Mapping[str, folium.FeatureGroup], dist_wgs: gpd.GeoDataFrame,
    coverage: CoverageResult | None, order: list[str],
    rows: Mapping[str, Mapping[str, Any]], lab: Mapping[str, str], lang: str,
) -> bool:
    table = frame(coverage, "table")
    if table.empty:
        return False
    for sid in order:
        part = table.loc[table["standard"].astype(str) == sid]
        merged = dist_wgs.merge(part, on="district", how="left")
        extra_fields: dict[str, str] = {}
        merged["cls"] = [coverage_class(s, t) for s, t in
                         zip(merged.get("share_buffer"), merged.get("target"), strict=True)]
        merged["std_name"] = standard_name(rows[sid], lang)
        merged["target_txt"] = merged["target"].map(fmt_share)
        for col in ("share_buffer", "share_network", "share_population_buffer",
                    "share_population_network"):
            merged[col + "_txt"] = merged[col].map(fmt_share) if col in merged else "—"
        merged["meets_txt"] = [
            "—" if plain(v) is None else lab["pass"] if bool(v) else lab["fail"]
            for v in merged.get("meets_target", pd.Series([None] * len(merged)))]
        merged["gap_ha_txt"] = (merged["uncovered_area_m2"] / 10_000).map(
            lambda v: fmt_number(v, 1)) if "uncovered_area_m2" in merged else "—"
        # weighted by land area, the "uncovered population" is m², not people
        merged["gap_pop_txt"] = merged["uncovered_population"].map(fmt_number) \
            if "uncovered_population" in merged and population_known(part) else "—"
        # the standard's documents by full title, its target year and the items without data
        # (columns of the coverage table; geoplan.standards.standard_source_title)
        for col, label in (("source_title", "source_doc"), ("items_no_data", "no_data")):
            if col in merged and merged[col].astype(str).str.len().gt(0).any():
                merged[col + "_txt"] = merged[col].fillna("").astype(str)
                extra_fields[col + "_txt"] = lab[label]
        if "target_year" in merged:
            merged["target_txt"] += [lab["target_year"].format(year=int(y)) if pd.notna(y) else ""
                                     for y in merged["target_year"]]
        merged["tip"] = merged["district"] + " · " + merged["share_buffer_txt"]
        note = weights_label(weights_source(part), lang)
        fields = {"district": lab["district"], "std_name": lab["standard"],
                  "target_txt": lab["target"], "share_buffer_txt": lab["share_buffer"],
                  "share_network_txt": lab["share_network"],
                  "share_population_buffer_txt": lab["share_population_buffer"]
                  + ((f"（{note}）" if lang == "zh" else f" ({note})") if note else ""),
                  "meets_txt": lab["meets_target"], "gap_ha_txt": lab["area_ha"] + " · "
                  + lab["gap"], "gap_pop_txt": lab["uncovered_population"], **extra_fields}
        _add_geojson(
            groups[sid], merged, name=None, fields=fields,
            class_name=f"gp-coverage gp-coverage-{sid}", tooltip="tip", extra=["cls"],
            style=lambda f: {"color": "#444", "weight": 1.5, "fillOpacity": 0.35,
                             "fillColor": CLASS_COLOURS[f["properties"].get("cls") or "nodata"]},
        )
    return bool(order)


def _add_reached(
    groups: Mapping[str, folium.FeatureGroup], coverage: CoverageResult | None, order: list[str],
    rows: Mapping[str, Mapping[str, Any]],
    lab: Mapping[str, str], lang: str,
) -> None:
    reached = geoframe(coverage, "reached")
    if coverage is None or reached is None or "standard" not in reached.columns:
        return
    for sid in order:
        area = coverage.reach_area(sid)
        if area is None:
            continue
        area = shapely.simplify(area, 8.0, preserve_topology=True)
        gdf = gpd.GeoDataFrame({"std_name": [standard_name(rows[sid], lang)]},
                               geometry=[area], crs=reached.crs)
        _add_geojson(groups[sid], to_wgs84(gdf), name=None,
                     fields={"std_name": lab["layer_reached"]},
                     class_name=f"gp-reached gp-reached-{sid}",
                     style=lambda f: {"color": REACH_COLOUR, "weight": 0.5, "fillOpacity": 0.25,
                                      "fillColor": REACH_COLOUR})


def _add_gaps(
    groups: Mapping[str, folium.FeatureGroup], coverage: CoverageResult | None, order: list[str],
    rows: Mapping[str, Mapping[str, Any]],
    lab: Mapping[str, str], lang: str, view: str,
) -> None:
    gaps = geoframe(coverage, "gaps")
    if gaps is None:
        return
    table = frame(coverage, "table")
    for sid in order:
        part = gaps.loc[gaps["standard"].astype(str) == sid]
        if "view" in part.columns:
            chosen = part.loc[part["view"] == view]
            part = chosen if len(chosen) else part.loc[part["view"] == "buffer"]
        if "rank" in part.columns:
            part = part.loc[part["rank"] <= MAX_GAPS_PER_DISTRICT].sort_values(["district", "rank"])
        if len(part) == 0:
            continue
        part = part.copy()
        part["std_name"] = standard_name(rows[sid], lang)
        part["area_txt"] = (part["area_m2"] / 10_000).map(lambda v: fmt_number(v, 2))
        people = "standard" in table and population_known(
            table.loc[table["standard"].astype(str) == sid])
        part["pop_txt"] = part["population"].map(fmt_number) \
            if "population" in part and people else "—"
        part["view_txt"] = part["view"].map(lambda v: lab.get(f"view_{v}", v)) \
            if "view" in part else "—"
        part["tip"] = lab["gap"] + " #" + part["rank"].astype(str)
        fields = {"district": lab["district"], "std_name": lab["standard"], "rank": lab["rank"],
                  "area_txt": lab["area_ha"], "pop_txt": lab["population"], "view_txt": lab["view"]}
        _add_geojson(groups[sid], to_wgs84(part, simplify_m=2.0), name=None, fields=fields,
            tooltip="tip", class_name=f"gp-gaps gp-gaps-{sid}",
            style=lambda f: {"color": GAP_COLOUR, "weight": 1.5, "fillOpacity": 0.45,
                             "fillColor": GAP_COLOUR, "dashArray": "3 3"})


def _add_street_gaps(
    groups: Mapping[str, folium.FeatureGroup], coverage: CoverageResult | None, order: list[str],
    rows: Mapping[str, Mapping[str, Any]],
    lab: Mapping[str, str], lang: str, view: str,
) -> None:
    """Streets no toilet reaches (the linear standards' gaps), in their standard's group."""
    gaps = geoframe(coverage, "street_gaps")
    if gaps is None or len(gaps) == 0:
        return
    for sid in order:
        part = gaps.loc[(gaps["standard"].astype(str) == sid) & (gaps["view"] == view)]
        if len(part) == 0:
            continue
        part = part.copy()
        part["std_name"] = standard_name(rows[sid], lang)
        part["length_txt"] = part["length_m"].map(fmt_number)
        fields = {"district": lab["district"], "std_name": lab["standard"],
                  "length_txt": lab["layer_street_gaps"] + (" (米)" if lang == "zh" else " (m)")}
        _add_geojson(groups[sid], to_wgs84(part, simplify_m=6.0), name=None, fields=fields,
                     class_name=f"gp-street-gaps gp-street-gaps-{sid}",
                     style=lambda f: {"color": GAP_COLOUR, "weight": 3, "opacity": 0.85})


def _facility_props(gdf: gpd.GeoDataFrame, kind: str, lab: Mapping[str, str], lang: str
                    ) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out["name_txt"] = out["name"].where(out["name"].astype(str) != "", lab["unnamed"]) \
        if "name" in out else lab["unnamed"]
    sub = out["kind"].map(lambda v: value_label(v, lang)) if "kind" in out else ""
    base = lab[f"fac_{kind}"]
    out["kind_txt"] = [f"{base} · {s}" if s else base for s in
                       (sub if isinstance(sub, pd.Series) else [""] * len(out))]
    if kind == "schools" and "levels" in out:
        out["level_txt"] = out["levels"].map(lambda v: value_label(v, lang) or "—")
    return out


def _add_facilities(m: folium.Map, layerset: LayerSet, lab: Mapping[str, str], lang: str
                    ) -> tuple[str, list[dict[str, Any]]]:
    """Facilities by kind; returns the legend section and the layer panel's items."""
    legend = []
    items: list[dict[str, Any]] = []
    parks = [layerset.layers.get(k) for k in ("parks", "green_space")]
    park_frames = []
    for kind, gdf in zip(("parks", "green_space"), parks, strict=True):
        if gdf is not None and len(gdf):
            p = _facility_props(gdf, kind, lab, lang)
            p["area_txt"] = (p["area_m2"] / 10_000).map(lambda v: fmt_number(v, 2))
            park_frames.append(p[["name_txt", "kind_txt", "area_txt", "geometry"]])
    if park_frames:
        both = gpd.GeoDataFrame(pd.concat(park_frames, ignore_index=True),
                                crs=park_frames[0].crs)
        layer = _add_geojson(m, to_wgs84(both, simplify_m=2.0), name=None,
                     fields={"name_txt": lab["name"], "kind_txt": lab["kind"],
                             "area_txt": lab["area_ha"]},
                     class_name="gp-fac gp-fac-parks",
                     style=lambda f: {"color": FACILITY_COLOURS["parks"], "weight": 1,
                                      "fillColor": FACILITY_COLOURS["green_space"],
                                      "fillOpacity": 0.55})
        items.append({"key": "parks", "label": lab["layer_parks"], "layer": layer})
        legend.append(f'<div class="row"><span class="sw" style="background:'
                      f'{FACILITY_COLOURS["green_space"]}"></span>{html.escape(lab["layer_parks"])}'
                      "</div>")
    for kind in ("schools", "toilets", "bus_stops", "services"):
        gdf = layerset.layers.get(kind)
        if gdf is None or len(gdf) == 0:
            continue
        p = _facility_props(gdf, kind, lab, lang)
        p = p.set_geometry(shapely.point_on_surface(p.geometry.to_numpy()), crs=p.crs)
        fields = {"name_txt": lab["name"], "kind_txt": lab["kind"]}
        if "level_txt" in p:
            fields["level_txt"] = lab["level"]
        colour = FACILITY_COLOURS[kind]
        radius = 4 if kind == "bus_stops" else 6
        layer = _add_geojson(m, to_wgs84(p[[*fields, "geometry"]]), name=None, fields=fields,
                     class_name=f"gp-fac gp-fac-{kind}",
                     marker=folium.CircleMarker(radius=radius, fill=True,
                                                   className=f"gp-fac gp-fac-{kind}"),
                     style=_facility_style(colour))
        items.append({"key": kind, "label": lab[f"fac_{kind}"], "layer": layer})
        legend.append(f'<div class="row"><span class="dot" style="background:{colour}"></span>'
                      f'{html.escape(lab[f"fac_{kind}"])}</div>')
    if not legend:
        return "", items
    return f"<h3>{html.escape(lab['legend_facilities'])}</h3>" + "".join(legend), items


def _facility_style(colour: str) -> Callable[[Any], dict[str, Any]]:
    """The folium style function of one facility kind's markers."""
    def style(_feature: Any) -> dict[str, Any]:
        return {"color": "#222", "weight": 1, "fillColor": colour, "fillOpacity": 0.95}
    return style


def _add_sites(groups: Mapping[str, folium.FeatureGroup], sites: SiteResult | None, order: Sequence[str],
               rows: Mapping[str, Mapping[str, Any]], lab: Mapping[str, str], lang: str) -> bool:
    """Suggested new facility sites, in their standard's group; whether any were drawn."""
    if sites is None or len(sites) == 0 or sites.table.crs is None:
        return False
    s = sites.table.loc[sites.table["standard"].astype(str).isin(list(order))].copy()
    if len(s) == 0:
        return False
    s["std_name"] = [standard_name(rows.get(str(x), {"standard": str(x)}), lang)
                     for x in s["standard"]]
    ha, metres = ("公顷", "米") if lang == "zh" else ("ha", "m")
    area_txt = (s["covered_m2"] / 10_000).map(lambda v: f"{fmt_number(v, 2)} {ha}") \
        if "covered_m2" in s else pd.Series("—", index=s.index)
    if "covered_length_m" in s:  # toilet standards: street length, not area
        street = s["covered_length_m"].notna()
        area_txt = area_txt.where(~street, s["covered_length_m"].map(lambda v: f"{fmt_number(v)} {metres}"))
    s["covered_txt"] = area_txt
    s["before_after"] = [f"{fmt_share(a)} → {fmt_share(b)}" for a, b in
                         zip(s.get("share_before", [None] * len(s)),
                             s.get("share_after", [None] * len(s)), strict=True)]
    fields = {"district": lab["district"], "std_name": lab["standard"], "rank": lab["rank"],
              "covered_txt": lab["covered_gap"],
              "before_after": f"{lab['share_before']} → {lab['share_after']}"}
    s = s.set_geometry(shapely.point_on_surface(s.geometry.to_numpy()), crs=s.crs)
    s = to_wgs84(s[[*fields, "standard", "geometry"]])
    for sid, part in s.groupby(s["standard"].astype(str), sort=False):
        _add_geojson(groups[sid], part, name=None, fields=fields,
                     class_name=f"gp-sites gp-sites-{sid}",
                     marker=folium.CircleMarker(radius=7, fill=True,
                                                className=f"gp-sites gp-sites-{sid}"),
                     style=lambda f: {"color": "#000", "weight": 2.5, "fillColor": SITE_COLOUR,
                                      "fillOpacity": 1.0})
    return True


def _yes_no(value: Any, lab: Mapping[str, str]) -> str:
    value = plain(value)
    return "—" if value is None else lab["yes"] if bool(value) else lab["no"]


def _add_deadends(m: folium.Map, deadends: DeadEndResult | None, lab: Mapping[str, str], lang: str
                  ) -> tuple[str, list[dict[str, Any]]]:
    """Dead-end roads and suggested openings; returns the legend section and panel items."""
    legend = []
    items: list[dict[str, Any]] = []
    dead = geoframe(deadends, "dead_ends")
    if dead is not None:
        d = dead.copy()
        d["name_txt"] = d["name"].where(d["name"].astype(str) != "", lab["unnamed"]) \
            if "name" in d else lab["unnamed"]
        fields = {"name_txt": lab["name"]}
        for col in ("district", "rank", "category", "highway", "length_m", "detour_m",
                    "detour_ratio"):
            if col in d:
                if col in ("category", "highway"):
                    d[col] = d[col].map(lambda v, c=col: value_label(v, lang, c))
                elif d[col].dtype.kind == "f":
                    d[col] = d[col].round(1 if col != "detour_ratio" else 2)
                fields[col] = lab[col]
        for col in ("crosses_water", "crosses_railway"):
            if col in d:
                d[col + "_txt"] = d[col].map(lambda v: _yes_no(v, lab))
                fields[col + "_txt"] = lab[col]
        layer = _add_geojson(m, to_wgs84(d[[*fields, "geometry"]], simplify_m=1.0),
                             name=None, fields=fields, class_name="gp-deadends",
                             style=lambda f: {"color": DEADEND_COLOUR, "weight": 4,
                                              "opacity": 0.9})
        if layer is not None:
            items.append({"key": "deadends", "label": lab["layer_deadends"], "layer": layer})
        legend.append(f'<div class="row"><span class="ln" style="border-color:{DEADEND_COLOUR}">'
                      f'</span>{html.escape(lab["layer_deadends"])}</div>')
    cand = geoframe(deadends, "candidates")
    if cand is not None:
        c = cand.copy()
        fields = {}
        for col in ("district", "rank", "name", "length_m", "saved_m", "detour_ratio", "score"):
            if col in c:
                if c[col].dtype.kind == "f":
                    c[col] = c[col].round(1 if col not in ("detour_ratio", "score") else 2)
                fields[col] = lab[col]
        layer = _add_geojson(m, to_wgs84(c[[*fields, "geometry"]]), name=None,
                             fields=fields, class_name="gp-candidates",
                             style=lambda f: {"color": CANDIDATE_COLOUR, "weight": 4,
                                              "opacity": 0.95, "dashArray": "6 4"})
        if layer is not None:
            items.append({"key": "candidates", "label": lab["layer_candidates"], "layer": layer})
        legend.append(f'<div class="row"><span class="ln" style="border-color:{CANDIDATE_COLOUR};'
                      f'border-top-style:dashed"></span>{html.escape(lab["layer_candidates"])}</div>')
    if not legend:
        return "", items
    return f"<h3>{html.escape(lab['layer_deadends'])}</h3>" + "".join(legend), items


def _add_district_labels(m: folium.Map, dist_wgs: gpd.GeoDataFrame, lab: Mapping[str, str]
                         ) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=lab["layer_labels"], show=True, control=False)
    points = shapely.point_on_surface(dist_wgs.geometry.to_numpy())
    for name, pt in zip(dist_wgs["district"], points, strict=True):
        folium.Marker(
            [round(pt.y, 6), round(pt.x, 6)],
            icon=folium.DivIcon(html=f'<div class="geoplan-label">{html.escape(str(name))}</div>',
                                icon_size=(120, 20), icon_anchor=(60, 10), class_name="gp-label"),
            interactive=False,
        ).add_to(group)
    group.add_to(m)
    return group


def render_map(m: folium.Map) -> str:
    """The complete HTML page of ``m``.

    Raises
    ------
    OutputError
        If the page would fetch a script, stylesheet or image from the web (a folium
        element that links a CDN was added): the map must work offline.
    """
    page = m.get_root().render()
    external = external_references(page)
    if external:
        raise OutputError(
            "the meeting map would load files from the internet, which fails offline: "
            + ", ".join(sorted(set(external))))
    return page


def write_map(
    layerset: LayerSet,
    coverage: CoverageResult | None,
    deadends: DeadEndResult | None,
    config: AnalysisConfig | None,
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "zh",
    tiles: str | None = None,
    tianditu_key: str | None = None,
    title: str | None = None,
    data_date: str | None = None,
    standard: str | None = None,
    sites: SiteResult | None = None,
) -> Path:
    """Build the meeting map and write it to ``<out_dir>/map.html`` atomically.

    The file is self-contained (Leaflet inlined, no ``map_files/`` folder): copy it alone to
    a USB stick. ``config`` (an :class:`~geoplan.config.AnalysisConfig`, or None) gives the
    title and data date; see :func:`build_map` for the other parameters.

    Returns
    -------
    Path
        The written ``map.html``.
    """
    m = build_map(layerset, coverage, deadends, lang=lang, tiles=tiles, tianditu_key=tianditu_key,
                  title=title, data_date=data_date, config=config, standard=standard,
                  sites=sites)
    page = render_map(m)
    target = Path(out_dir) / "map.html"
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    logger.info("wrote %s (%.0f kB)", target, target.stat().st_size / 1024)
    return target


__all__ = ["build_map", "coverage_class", "render_map", "write_map"]
