"""The meeting map's overlays: background, facilities, dead ends, openings and district labels.

Facilities, dead ends and openings start switched off (they drown the district colours); the
planner ticks them in the layer panel. Every popup row carries its unit and no row is blank:
a missing figure is either explained in words or left out.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.map import Layer
from folium.template import Template

from geoplan.report._data import fmt_number, geoframe, plain, to_wgs84
from geoplan.report._deadend_words import rank_text, unreachable_text
from geoplan.report._labels import value_label
from geoplan.report._map_detail import to_map
from geoplan.report._map_layers import DataLayer, add_layer, script_json
from geoplan.report._map_render import PlainRender
from geoplan.report._map_words import words
from geoplan.report.colours import (
    CANDIDATE_COLOUR,
    DEADEND_COLOUR,
    FACILITY_COLOURS,
)

MAX_CONTEXT_ROADS = 20000
"""Above this many roads only main roads are drawn in the background layer."""

_SCORE_NOTE = {
    "zh": "评分：打通后可节省的绕行距离（米），按断头处周边居住用地比例加权，跨越水系或铁路时降低；"
          "越大越值得打通。",
    "en": "Score: the detour (m) an opening saves, weighted by the residential land around the "
          "dead end and lowered for links across water or railways; larger is more worth opening.",
}


def add_context(m: folium.Map, layerset: Any, lab: Mapping[str, str]) -> folium.FeatureGroup:
    """Roads and water drawn lightly, so that the map reads with no tiles."""
    group = folium.FeatureGroup(name=lab["layer_context"], show=True, control=False)
    water = layerset.layers.get("water")
    if water is not None and len(water):
        add_layer(group, to_map(water[["geometry"]], 5.0),
                  css_class="gp-context-water", interactive=False,
                  style={"color": "#9ecae1", "weight": 0.5, "fillColor": "#c6dbef",
                         "fillOpacity": 0.9})
    roads = layerset.layers.get("roads")
    if roads is not None and len(roads):
        keep = ["main"] if len(roads) > MAX_CONTEXT_ROADS else ["main", "general"]
        sel = roads.loc[roads["road_class"].isin(keep), ["geometry"]]
        add_layer(group, as_one_feature(to_map(sel, 6.0)), css_class="gp-context-roads",
                  interactive=False, style={"color": "#a8a8a8", "weight": 1.2, "opacity": 0.8})
    group.add_to(m)
    return group


def as_one_feature(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``lines`` as one MultiLineString of all their parts, coordinates unchanged (none if
    they are all empty).

    The background roads have no popup and one style: drawn as one SVG path instead of one
    per road (1,907 in the default map), the default map's opening took 150–177 ms less of
    the browser's main-thread CPU (553 → 403 ms, 9 rounds against the map as it was). Areas
    are left as they are: one path's fill rule would open holes where two of them overlap.
    """
    parts = shapely.get_parts(lines.geometry.to_numpy())
    parts = parts[(shapely.get_type_id(parts) == 1) & ~shapely.is_empty(parts)]
    geometry = [shapely.multilinestrings(parts)] if len(parts) else []
    return gpd.GeoDataFrame(geometry=geometry, crs=lines.crs)


def _facility_props(gdf: gpd.GeoDataFrame, kind: str, lab: Mapping[str, str], lang: str
                    ) -> gpd.GeoDataFrame:
    out = gdf.copy()
    names = out["name"].astype(str) if "name" in out else pd.Series("", index=out.index)
    base = lab[f"fac_{kind}"]
    space = " " if lang == "en" else ""  # "Public toilet (unnamed)", "公厕（无名）"
    out["name_txt"] = names.where(names.str.strip() != "", base + space + lab["unnamed"])
    sub = out["kind"].map(lambda v: value_label(v, lang)) if "kind" in out \
        else pd.Series("", index=out.index)
    out["kind_txt"] = [f"{base} · {s}" if s else base for s in sub]
    if kind == "schools" and "levels" in out:
        out["level_txt"] = out["levels"].map(lambda v: value_label(v, lang) or None)
    # a planner's own file (a scenario's planned facilities) is named; OSM's go without a row
    sources = out["source"].astype(str) if "source" in out else pd.Series("", index=out.index)
    out["source_txt"] = [None if not s or s.lower().endswith(_OSM_SUFFIXES) else s
                         for s in sources]
    return out


_OSM_SUFFIXES = (".osm", ".pbf", ".osm.bz2", ".osm.gz", ".o5m")


def _legend_row(shape: str, colour: str, text: str, key: str) -> dict[str, str]:
    """A legend row shown while the overlay ``key`` is ticked in the layer panel."""
    return {"shape": shape, "colour": colour, "text": text, "key": key}


def add_facilities(m: folium.Map, layerset: Any, lab: Mapping[str, str], lang: str,
                   planned: Collection[str] = ()) -> tuple[list[dict[str, str]],
                                                           list[dict[str, Any]]]:
    """Facilities by kind (off at first); returns legend rows and the layer panel's items.

    ``planned``: the file names of a scenario's planned facilities (its map); their points
    are drawn apart (a larger dot of their kind's colour in a dashed dark ring), shown from
    the start.
    """
    w = words(lang)
    legend: list[dict[str, str]] = []
    items: list[dict[str, Any]] = []
    frames = []
    for kind in ("parks", "green_space"):
        gdf = layerset.layers.get(kind)
        if gdf is not None and len(gdf):
            p = _facility_props(gdf, kind, lab, lang)
            p["area_txt"] = (p["area_m2"] / 10_000).map(lambda v: fmt_number(v, 2))
            frames.append(p[["name_txt", "kind_txt", "area_txt", "source_txt", "geometry"]])
    if frames:
        both = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
        layer = add_layer(m, to_map(both, 2.0), css_class="gp-fac gp-fac-parks",
                          fields=[("kind_txt", lab["kind"], ""),
                                  ("area_txt", lab["area_ha"].split("（")[0].split(" (")[0],
                                   w["ha"]),
                                  ("source_txt", lab["data_source"], "")],
                          popup_title="name_txt", show=False,
                          style={"color": FACILITY_COLOURS["parks"], "weight": 1,
                                 "fillColor": FACILITY_COLOURS["green_space"],
                                 "fillOpacity": 0.55})
        items.append({"key": "parks", "label": lab["layer_parks"], "layer": layer})
        legend.append(_legend_row("sw", FACILITY_COLOURS["green_space"], lab["layer_parks"],
                                  "parks"))
    planned_points = []
    for kind in ("schools", "toilets", "bus_stops", "services"):
        gdf = layerset.layers.get(kind)
        if gdf is None or len(gdf) == 0:
            continue
        p = _facility_props(gdf, kind, lab, lang)
        p = p.set_geometry(shapely.point_on_surface(p.geometry.to_numpy()), crs=p.crs)
        mine = p["source"].astype(str).isin(set(planned)).to_numpy() if "source" in p \
            else np.zeros(len(p), dtype=bool)
        if mine.any():
            planned_points.append(p.loc[mine, ["kind_txt", "source_txt", "name_txt",
                                               "geometry"]].assign(kind_cls=kind))
            p = p.loc[~mine]
            if not len(p):
                continue
        fields = [("kind_txt", lab["kind"], "")]
        if "level_txt" in p:
            fields.append(("level_txt", lab["level"], ""))
        fields.append(("source_txt", lab["data_source"], ""))
        colour = FACILITY_COLOURS[kind]
        cols = [f[0] for f in fields]
        layer = add_layer(m, to_wgs84(p[[*cols, "name_txt", "geometry"]]),
                          css_class=f"gp-fac gp-fac-{kind}", fields=fields,
                          popup_title="name_txt", show=False,
                          radius=4 if kind == "bus_stops" else 6,
                          style={"color": "#222", "weight": 1, "fillColor": colour,
                                 "fillOpacity": 0.95})
        items.append({"key": kind, "label": lab[f"fac_{kind}"], "layer": layer})
        legend.append(_legend_row("dot", colour, lab[f"fac_{kind}"], kind))
    if planned_points:
        both = gpd.GeoDataFrame(pd.concat(planned_points, ignore_index=True),
                                crs=planned_points[0].crs)
        layer = add_layer(m, to_wgs84(both), css_class="gp-fac gp-fac-planned",
                          fields=[("kind_txt", lab["kind"], ""),
                                  ("source_txt", lab["data_source"], "")],
                          popup_title="name_txt", show=True, radius=9,
                          style={"color": "#111", "weight": 3, "dashArray": "4 3",
                                 "fillOpacity": 1},
                          fill_by={"prop": "kind_cls",
                                   "colours": {**FACILITY_COLOURS, "nodata": "#ffffff"}})
        items.append({"key": "planned", "label": lab["layer_planned"], "layer": layer})
        legend.append(_legend_row("dot", "#ffffff", lab["layer_planned"], "planned"))
    return legend, items


def _yes_no(value: Any, lab: Mapping[str, str]) -> str | None:
    value = plain(value)
    return None if value is None else lab["yes"] if bool(value) else lab["no"]


def _num(value: Any, decimals: int = 0) -> str | None:
    value = plain(value)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return fmt_number(value, decimals)


def _deadend_frame(dead: gpd.GeoDataFrame, lab: Mapping[str, str], lang: str
                   ) -> gpd.GeoDataFrame:
    d = dead.copy()
    names = d["name"].astype(str) if "name" in d else pd.Series("", index=d.index)
    d["title"] = names.where(names.str.strip() != "", lab["unnamed"])
    if "district" in d:
        d["title"] = d["title"] + " · " + d["district"].astype(str)
    ranks = dict(zip(d["id"].astype(str), d["rank"], strict=True)) if "id" in d and "rank" in d \
        else {}
    d["rank_txt"] = [rank_text(r, lang, ranks) for r in d.drop(columns="geometry").to_dict("records")]
    for col in ("category", "highway"):
        if col in d:
            d[col + "_txt"] = d[col].map(lambda v, c=col: value_label(v, lang, c) or None)
    d["length_txt"] = d["length_m"].map(_num) if "length_m" in d else None
    reach = d["reachable"] if "reachable" in d else pd.Series(True, index=d.index)
    detour = d["detour_m"].map(_num) if "detour_m" in d else pd.Series(None, index=d.index)
    d["detour_txt"] = [t if t is not None else unreachable_text(r, lang)
                       for t, r in zip(detour, reach, strict=True)]
    if "detour_near_data_edge" in d:  # said only where roads beyond the edge could shorten it
        d["detour_near_data_edge_txt"] = d["detour_near_data_edge"].map(
            lambda v: lab["yes"] if plain(v) else None)
    d["ratio_txt"] = d["detour_ratio"].map(lambda v: _num(v, 1)) if "detour_ratio" in d else None
    for col in ("crosses_water", "crosses_railway"):
        if col in d:
            d[col + "_txt"] = d[col].map(lambda v: _yes_no(v, lab))
    return d


def _deadend_fields(lab: Mapping[str, str], lang: str) -> list[tuple[str, str, str]]:
    w = words(lang)
    times = "倍" if lang == "zh" else "×"

    def bare(key: str) -> str:
        return lab[key].split("（")[0].split(" (")[0]

    return [("rank_txt", lab["rank"], ""), ("category_txt", lab["category"], ""),
            ("highway_txt", lab["highway"], ""), ("length_txt", bare("length_m"), w["m"]),
            ("detour_txt", bare("detour_m"), w["m"]),
            ("detour_near_data_edge_txt", lab["detour_near_data_edge"], ""),
            ("ratio_txt", lab["detour_ratio"], times),
            ("crosses_water_txt", lab["crosses_water"], ""),
            ("crosses_railway_txt", lab["crosses_railway"], "")]


def add_deadends(m: folium.Map, deadends: Any, lab: Mapping[str, str], lang: str
                 ) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Dead-end roads and suggested openings (off at first); legend rows and panel items."""
    legend: list[dict[str, str]] = []
    items: list[dict[str, Any]] = []
    dead = geoframe(deadends, "dead_ends")
    if dead is not None:
        d = _deadend_frame(dead, lab, lang)
        fields = _deadend_fields(lab, lang)
        cols = [f[0] for f in fields if f[0] in d]
        layer = add_layer(m, to_map(d[[*cols, "title", "geometry"]], 1.0),
                          css_class="gp-deadends", fields=fields, popup_title="title",
                          show=False, style={"color": DEADEND_COLOUR, "weight": 4,
                                             "opacity": 0.9})
        if layer is not None:
            items.append({"key": "deadends", "label": lab["layer_deadends"], "layer": layer})
            legend.append(_legend_row("ln", DEADEND_COLOUR, lab["layer_deadends"], "deadends"))
    cand = geoframe(deadends, "candidates")
    if cand is not None:
        layer = _add_candidates(m, cand, dead, lab, lang)
        if layer is not None:
            items.append({"key": "candidates", "label": lab["layer_candidates"], "layer": layer})
            legend.append(_legend_row("dash", CANDIDATE_COLOUR, lab["layer_candidates"],
                                      "candidates"))
    return legend, items


def _add_candidates(m: folium.Map, cand: gpd.GeoDataFrame, dead: gpd.GeoDataFrame | None,
                    lab: Mapping[str, str], lang: str) -> DataLayer | None:
    w = words(lang)
    c = cand.copy()
    if dead is not None and "id" in c and "id" in dead:  # what the link joins, from its dead end
        extra = [k for k in ("target_name", "detour_m", "saved_m", "score", "detour_ratio")
                 if k in dead and k not in c]
        c = c.merge(pd.DataFrame(dead[["id", *extra]]), on="id", how="left")
    names = c["name"].fillna("").astype(str) if "name" in c else pd.Series("", index=c.index)
    c["title"] = (lab["layer_candidates"] + " #" + c["rank"].map(lambda v: _num(v) or "?")
                  + " · " + names.where(names.str.strip() != "", lab["unnamed"]))
    c["district_txt"] = c["district"].astype(str) if "district" in c else None
    target = c["target_name"].fillna("").astype(str) if "target_name" in c else None
    c["target_txt"] = None if target is None else target.where(target.str.strip() != "",
                                                              lab["unnamed"])
    for col in ("length_m", "saved_m", "detour_m"):
        c[col + "_txt"] = c[col].map(_num) if col in c else None
    c["score_txt"] = c["score"].map(_num) if "score" in c else None
    fields = [("district_txt", lab["district"], ""),
              ("target_txt", "接入道路" if lang == "zh" else "Joins", ""),
              # the link's length is the dead end's gap: named so, as the pages and sheets do
              ("length_m_txt", lab["gap_m"].split("（")[0].split(" (")[0], w["m"]),
              ("detour_m_txt", lab["detour_m"].split("（")[0].split(" (")[0], w["m"]),
              ("saved_m_txt", lab["saved_m"].split("（")[0].split(" (")[0], w["m"]),
              ("score_txt", lab["score"], "")]
    cols = [f[0] for f in fields]
    return add_layer(m, to_wgs84(c[[*cols, "title", "geometry"]]), css_class="gp-candidates",
                     fields=fields, popup_title="title", popup_note=_SCORE_NOTE[lang],
                     show=False, style={"color": CANDIDATE_COLOUR, "weight": 4, "opacity": 0.95,
                                        "dashArray": "6 4"})


STREET_NAMES_MAX = 250
"""Street names drawn at most (the longest named streets first)."""
STREET_NAMES_ZOOM = 15
"""Street names show from this zoom level on."""


def street_label_items(roads: gpd.GeoDataFrame | None, limit: int = STREET_NAMES_MAX
                       ) -> list[dict[str, Any]]:
    """One label per named street (main roads first, then the longest): position and angle.

    The label sits at the middle of the street's longest connected piece, turned along it
    (angles in the analysis CRS, which is conformal like the map's Web Mercator, so the
    small grid rotation is invisible at street scale).
    """
    if roads is None or len(roads) == 0 or "name" not in roads:
        return []
    names = roads["name"].fillna("").astype(str).str.strip()
    sel = roads.loc[names != "", ["name", "geometry"]].assign(name=names[names != ""])
    if "road_class" in roads:
        sel["main"] = roads.loc[sel.index, "road_class"].eq("main")
    else:
        sel["main"] = False
    # streets grouped by name in the order each name first appears, each street's pieces in
    # their order in the layer (what a groupby(sort=False) gives, without a frame per group)
    codes, uniques = pd.factorize(sel["name"], sort=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    geoms = sel.geometry.to_numpy()[order]
    main = sel["main"].to_numpy(dtype=bool)[order]
    items = []
    for k, name in enumerate(uniques):
        lo, hi = bounds[k], bounds[k + 1]
        merged = shapely.line_merge(shapely.union_all(geoms[lo:hi]))
        pieces = list(getattr(merged, "geoms", [merged]))
        line = max(pieces, key=lambda g: g.length)
        if line.is_empty or line.length < 80:
            continue
        mid = line.interpolate(0.5, normalized=True)
        a = line.interpolate(max(0.0, line.length / 2 - 25))
        b = line.interpolate(min(line.length, line.length / 2 + 25))
        angle = -math.degrees(math.atan2(b.y - a.y, b.x - a.x))
        angle = angle - 180 if angle > 90 else angle + 180 if angle < -90 else angle
        items.append((bool(main[lo:hi].any()), line.length, str(name), mid, round(angle, 1)))
    items.sort(key=lambda t: (not t[0], -t[1]))
    items = items[:limit]
    if not items:
        return []
    pts = gpd.GeoSeries([t[3] for t in items], crs=roads.crs).to_crs("EPSG:4326")
    return [{"name": t[2], "lat": round(p.y, 6), "lon": round(p.x, 6), "angle": t[4]}
            for t, p in zip(items, pts, strict=True)]


PLACE_KINDS = ("city", "town", "suburb", "quarter", "neighbourhood", "village", "hamlet")
"""Place kinds labelled on the map, largest first (a name is drawn once)."""


def place_label_items(places: gpd.GeoDataFrame | None, districts: gpd.GeoDataFrame | None,
                      limit: int = STREET_NAMES_MAX) -> list[dict[str, Any]]:
    """One label per named place (neighbourhoods, quarters, villages) inside the districts.

    District names already label the map, so places named like a district are left out.
    """
    if places is None or len(places) == 0 or "name" not in places:
        return []
    names = places["name"].fillna("").astype(str).str.strip()
    kind = places["kind"].fillna("").astype(str) if "kind" in places else pd.Series(
        "", index=places.index)
    keep = (names != "") & kind.isin(PLACE_KINDS)
    if districts is not None and len(districts):
        keep &= ~names.isin(set(districts["district"].astype(str)))
        inside = shapely.union_all(districts.geometry.to_numpy())
        keep &= shapely.intersects(inside, places.geometry.to_numpy())
    sel = places.loc[keep].assign(name=names[keep], rank=kind[keep].map(
        {k: i for i, k in enumerate(PLACE_KINDS)}))
    sel = sel.sort_values(["rank", "name"]).drop_duplicates("name").head(limit)
    if len(sel) == 0:
        return []
    pts = gpd.GeoSeries(shapely.point_on_surface(sel.geometry.to_numpy()),
                        crs=places.crs).to_crs("EPSG:4326")
    return [{"name": str(n), "lat": round(p.y, 6), "lon": round(p.x, 6), "angle": 0,
             "place": True} for n, p in zip(sel["name"], pts, strict=True)]


class StreetNames(PlainRender, Layer):
    """Street names drawn from the analysis' own roads, shown at closer zooms only."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoplan.streetNames({{ this.items_json }},
            {{ this.min_zoom }});
        {% endmacro %}
    """)

    def __init__(self, items: list[dict[str, Any]], name: str) -> None:
        super().__init__(name=name, overlay=True, control=False, show=True)
        self._name = "GeoplanStreetNames"
        self.items_json = script_json(items)
        self.min_zoom = STREET_NAMES_ZOOM


def add_street_names(m: folium.Map, layerset: Any, lang: str) -> StreetNames | None:
    """Street and place names (from zoom :data:`STREET_NAMES_ZOOM` on); None without any."""
    items = street_label_items(layerset.layers.get("roads"))
    items += place_label_items(layerset.layers.get("places"), layerset.districts)
    if not items:
        return None
    layer = StreetNames(items, "街道与地名（放大后显示）" if lang == "zh"
                        else "Street and place names (closer zooms)")
    layer.add_to(m)
    return layer


class DistrictLabels(PlainRender, Layer):
    """District names with the chosen standard's share under them (text only, no HTML)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoplan.districtLabels({{ this._parent.get_name() }},
            {{ this.items_json }});
        geoplan.refresh();
        {% endmacro %}
    """)

    def __init__(self, items: list[dict[str, Any]], name: str) -> None:
        super().__init__(name=name, overlay=True, control=False, show=True)
        self._name = "GeoplanDistrictLabels"
        self.items_json = script_json(items)


LABEL_SPOT_GRID = 3
"""A district's other label spots: one inside each cell of a 3 × 3 split of its box."""


def label_spots(geoms: np.ndarray, homes: np.ndarray) -> list[list[list[float]]]:
    """Other spots inside each district for its label, nearest its own point first
    ``[[lat, lon], …]``: the map moves a label there when one of its boxes covers it.

    A spot is a point inside the district's part in one cell of a
    :data:`LABEL_SPOT_GRID` × :data:`LABEL_SPOT_GRID` split of its bounding box, for parts of
    at least 4 % of its area (a sliver would only hold a label over its neighbour).
    """
    n, k = len(geoms), LABEL_SPOT_GRID
    if n == 0:
        return []
    geoms = np.where(shapely.is_missing(geoms), shapely.Polygon(), geoms)  # none: no spots
    x0, y0, x1, y1 = shapely.bounds(geoms).T
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    fx, fy = i.ravel() / k, j.ravel() / k  # each cell's lower left, as a share of the box
    w, h = (x1 - x0)[:, None], (y1 - y0)[:, None]
    cells = shapely.box(x0[:, None] + fx * w, y0[:, None] + fy * h,
                        x0[:, None] + (fx + 1 / k) * w, y0[:, None] + (fy + 1 / k) * h)
    parts = shapely.intersection(np.repeat(geoms, k * k).reshape(n, k * k), cells)
    area = shapely.area(parts)
    big = (area >= 0.04 * shapely.area(geoms)[:, None]) & (area > 0)
    points = np.where(big, shapely.point_on_surface(parts), shapely.Point(0, 0))
    away = shapely.distance(points, np.asarray(homes)[:, None])
    lat, lon = np.round(shapely.get_y(points), 6), np.round(shapely.get_x(points), 6)
    out = []
    for d in range(n):
        order = [c for c in np.argsort(away[d], kind="stable") if big[d, c] and away[d, c] > 0]
        out.append([[float(lat[d, c]), float(lon[d, c])] for c in order])
    return out


def add_district_labels(m: folium.Map, dist_wgs: gpd.GeoDataFrame, lab: Mapping[str, str],
                        inside_share: Any = None) -> DistrictLabels:
    """One label per district at a point inside it; a district only partly inside the data
    (``inside_share`` below whole, per district) says how much of it is, under its share."""
    from geoplan._text import share_text
    from geoplan.vocab import WHOLE_DISTRICT_SHARE

    points = shapely.point_on_surface(dist_wgs.geometry.to_numpy())
    shares = (np.asarray(inside_share, dtype=float) if inside_share is not None
              else np.ones(len(points)))
    part = "数据内 {p}" if lab["lang"] == "zh" else "{p} inside the data"
    # where two labels would overlap the larger district's stays (see declutterLabels)
    rank = np.empty(len(points), dtype=int)
    rank[np.argsort(-shapely.area(dist_wgs.geometry.to_numpy()), kind="stable")] = \
        np.arange(len(points))
    spots = label_spots(dist_wgs.geometry.to_numpy(), points)
    items = [{"name": str(name), "lat": round(pt.y, 6), "lon": round(pt.x, 6), "rank": int(r),
              "spots": where,
              **({"part": part.format(p=share_text(s))}
                 if np.isfinite(s) and s < WHOLE_DISTRICT_SHARE else {})}
             for name, pt, s, r, where in zip(dist_wgs["district"], points, shares, rank, spots,
                                              strict=True)]
    layer = DistrictLabels(items, lab["layer_labels"])
    layer.add_to(m)
    return layer
