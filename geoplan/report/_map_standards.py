"""The meeting map's per-standard layers and the measure switch.

Each standard is one layer group (chosen with a radio button): its districts coloured by the
chosen measure's share, the gaps of that measure, the walking reach (walking measures only) and
the suggested sites. Districts carry a colour class, tooltip and label text for every measure;
the page runtime (``assets/geoplan_map.js``) restyles them, swaps the gap layers and rewrites the
labels and legend when the planner switches the measure (straight line, walking, residents), so
that colours, gaps, labels and legend always tell one story.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from geoplan._groups import positions_by_value
from geoplan._progress import bar
from geoplan.locate import NamedRoads, locate
from geoplan.report._data import (
    change_text,
    coverage_class,
    fmt_number,
    fmt_share,
    fmt_share_change,
    frame,
    geoframe,
    plain,
    simplify_drawn,
    to_wgs84,
)
from geoplan.report._labels import labels, standard_name, weights_label
from geoplan.report._map_cache import current as shared_work
from geoplan.report._map_detail import current as current_detail
from geoplan.report._map_detail import generalise, to_map
from geoplan.report._map_layers import DataLayer, add_layer, script_json
from geoplan.report._map_people import district_people, people_fields
from geoplan.report._map_render import PlainRender
from geoplan.report._map_words import (
    MEASURES,
    class_ranges,
    gap_lines,
    homes_lines,
    is_street,
    measure_lines,
    reach_lines,
    words,
)
from geoplan.report.colours import (
    CLASS_COLOURS,
    GAP_COLOUR,
    HOME_BAND_COLOURS,
    REACH_COLOUR,
    SITE_COLOUR,
)
from geoplan.report.tables import population_known, weights_source
from geoplan.results.coverage import item_names, items_in, verdicts
from geoplan.vocab import MIN_STREET_GAP_M

MAX_GAPS_PER_DISTRICT = 20
"""Gap polygons drawn per district, standard and view (the largest, by rank)."""


def gaps_per_district() -> int:
    """Gap polygons drawn per district, standard and view at the current detail.

    :data:`MAX_GAPS_PER_DISTRICT` on district-sized maps; on a city-sized map, fewer as the
    opening view's pixel grows (at least 3: the largest gaps of every district stay on the map).
    """
    return max(3, round(MAX_GAPS_PER_DISTRICT / current_detail().factor))


def people_kind(part: pd.DataFrame, row: Mapping[str, Any]) -> str:
    """'people', 'area' or 'none': what the population-weighted share of a standard weighs."""
    if is_street(row):
        return "none"
    return "people" if population_known(part) else "area"


class StandardParts:
    """The layers of one standard, by role and view, and the texts its legend shows."""

    def __init__(self, sid: str, group: folium.FeatureGroup) -> None:
        self.sid = sid
        self.group = group
        self.coverage: DataLayer | None = None
        self.gaps: dict[str, DataLayer] = {}
        self.street: dict[str, DataLayer] = {}
        self.reach: dict[str, DataLayer] = {}
        self.homes: dict[str, DataLayer] = {}
        self.sites: DataLayer | None = None
        self.legend: dict[str, Any] = {}
        self.labels: dict[str, list[str]] = {}

    def js(self) -> str:
        """This standard's registry entry as a JavaScript object literal."""
        def views(d: Mapping[str, DataLayer]) -> str:
            return "{" + ",".join(f"{json.dumps(v)}:{lay.get_name()}" for v, lay in d.items()) \
                + "}"
        parts = [f"gaps:{views(self.gaps)}", f"street:{views(self.street)}",
                 f"reach:{views(self.reach)}", f"homes:{views(self.homes)}"]
        if self.coverage is not None:
            parts.append(f"coverage:{self.coverage.get_name()}")
        if self.sites is not None:
            parts.append(f"sites:{self.sites.get_name()}")
        data = script_json({"legend": self.legend, "labels": self.labels})
        return (f"Object.assign({data},{{group:{self.group.get_name()},"
                f"parts:{{{','.join(parts)}}}}})")


class StandardRegistry(PlainRender, MacroElement):
    """Registers each standard's layers with the page runtime and shows the first one."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            geoplan.measures = {{ this.measures_json }};
            {%- for entry in this.entries %}
            geoplan.register(map, {{ entry.sid|tojson }}, {{ entry.js() }});
            {%- endfor %}
            {%- if this.entries %}
            // the view a link from the index (or back to it) carries, else the first
            var view = geoplan.viewFromHash();
            if (view.m && geoplan.measures[view.m]) { geoplan.measure = view.m; }
            geoplan.showStandard(view.std && geoplan.standards[view.std] ? view.std
                                 : {{ this.entries[0].sid|tojson }});
            {%- endif %}
        })();
        {% endmacro %}
    """)

    def __init__(self, entries: Sequence[StandardParts]) -> None:
        super().__init__()
        self._name = "GeoplanStandards"
        self.entries = list(entries)
        self.measures_json = json.dumps({m: {"view": s["view"]} for m, s in MEASURES.items()})


def _district_frame(dist_wgs: gpd.GeoDataFrame, part: pd.DataFrame, row: Mapping[str, Any],
                    lab: Mapping[str, str], lang: str, people: Any = None) -> gpd.GeoDataFrame:
    """The districts with one standard's figures as display text (units in the labels).

    On the pages of an index map (:mod:`geoplan.report._map_cache`) the texts are made once
    for every district of the city and each page takes its districts' rows: every text is
    made from its own district's row alone.
    """
    cache = shared_work()
    city = cache.city if cache is not None else {}
    if cache is None or "dist_wgs" not in city or "table" not in city:
        return _district_texts(dist_wgs, part, row, lab, lang, people)
    sid = str(row.get("standard"))
    table = city["table"]

    def standard_part() -> tuple[pd.DataFrame, str]:
        rows = table.loc[table["standard"].astype(str) == sid]
        return rows, people_kind(rows, row)

    city_part, city_kind = cache.frame(("district_part", sid, is_street(row)), standard_part)
    kind = people_kind(part, row)
    if city_kind != kind:
        return _district_texts(dist_wgs, part, row, lab, lang, people)
    every = cache.frame(
        ("district_frame", sid, lang, kind, standard_name(row, lang), is_street(row)),
        lambda: _district_texts(city["dist_wgs"], city_part, row, lab, lang, people))
    names = dist_wgs["district"].astype(str).tolist()
    at = {str(n): i for i, n in enumerate(every["district"])}
    if not all(n in at for n in names):
        return _district_texts(dist_wgs, part, row, lab, lang, people)
    return every.iloc[[at[n] for n in names]].reset_index(drop=True)


def _district_texts(dist_wgs: gpd.GeoDataFrame, part: pd.DataFrame, row: Mapping[str, Any],
                    lab: Mapping[str, str], lang: str, people: Any = None) -> gpd.GeoDataFrame:
    """:func:`_district_frame` for the districts of ``dist_wgs``."""
    merged = dist_wgs.merge(part, on="district", how="left")
    texts = district_people(merged["district"], part, people, str(row.get("standard")), lang,
                            lab["unit"])
    for col in texts.columns:
        merged[col] = texts[col].to_numpy()
    people = people_kind(part, row)
    w = words(lang)
    for m, spec in MEASURES.items():
        col = spec["share"]
        values = merged[col] if col in merged else pd.Series([None] * len(merged))
        if m == "population" and people == "none":
            values = pd.Series([None] * len(merged))
        merged[f"cls_{m}"] = [coverage_class(s, t) for s, t in
                              zip(values, merged.get("target"), strict=True)]
        share_txt = _share_texts(merged, col, values)
        shown = share_txt.where(share_txt != "—", w["no_people"] if people == "none" else "—")
        merged[f"tip_{m}"] = merged["district"].astype(str) + " · " + shown
    merged["std_name"] = standard_name(row, lang)
    for col in ("share_buffer", "share_network", "share_population_buffer",
                "share_population_network", "target"):
        merged[col + "_txt"] = _share_texts(merged, col).replace("—", None) \
            if col in merged else None
    if people == "none":
        merged["share_population_buffer_txt"] = merged["share_population_network_txt"] = None
    merged["meets_txt"] = ([None if v is None else lab["pass"] if v else lab["fail"]
                            for v in verdicts(merged)]
                           if {"meets_target", "share_buffer"} <= set(merged.columns) else None)
    if "meets_target_before" in merged and merged["meets_txt"] is not None:
        then = [None if v is None else lab["pass"] if v else lab["fail"] for v in verdicts(
            merged.assign(meets_target=merged["meets_target_before"],
                          share_buffer=merged.get("share_buffer_before", merged["share_buffer"])))]
        merged["meets_txt"] = [change_text(t, now)
                               for t, now in zip(then, merged["meets_txt"], strict=True)]
    if is_street(row) and "uncovered_length_m" in merged:
        merged["gap_txt"] = _number_texts(merged, "uncovered_length_m", 0)
    elif "uncovered_area_m2" in merged:
        merged["gap_txt"] = _number_texts(merged, "uncovered_area_m2", 2, scale=1e-4)  # ha
    merged["gap_pop_txt"] = _number_texts(merged, "uncovered_population", 0) \
        if "uncovered_population" in merged and people == "people" else None
    # the standard's documents by full title, its target year and the basket items without
    # data, where the coverage table carries them (geoplan.standards.standard_source_title)
    for col in ("source_title", "items_no_data"):
        if col in merged:
            text = merged[col].fillna("").astype(str).str.strip()
            merged[col + "_txt"] = text.where(text != "", None)
    if "target_year" in merged and "target_txt" in merged:
        year = lab.get("target_year", "（{year}年）" if lang == "zh" else " by {year}")
        merged["target_txt"] = [None if t is None else t + (year.format(year=int(y))
                                                            if pd.notna(y) else "")
                                for t, y in zip(merged["target_txt"], merged["target_year"],
                                                strict=True)]
    return merged


def _share_texts(merged: pd.DataFrame, col: str, values: pd.Series | None = None) -> pd.Series:
    """Share ``col`` of each district as text; "39.4% → 47.4%" where the frame carries the
    scenario's figure before its planned facilities as ``<col>_before`` (see
    :func:`geoplan.scenario.with_before`)."""
    values = merged[col] if values is None else values
    before = merged.get(f"{col}_before")
    if before is None:
        return values.map(fmt_share)
    return pd.Series([fmt_share_change(b, a) for b, a in zip(before, values, strict=True)],
                     index=values.index, dtype=object)


def _number_texts(merged: pd.DataFrame, col: str, decimals: int, scale: float = 1.0
                  ) -> list[str | None]:
    """Column ``col`` × ``scale`` as text; "138,284 → 133,342" where the frame carries a
    scenario's figure before its planned facilities as ``<col>_before``."""
    now = [_num(v * scale if v is not None else v, decimals) for v in merged[col]]
    if f"{col}_before" not in merged:
        return now
    then = [_num(v * scale if v is not None else v, decimals) for v in merged[f"{col}_before"]]
    return [change_text(t, n) for t, n in zip(then, now, strict=True)]


def _num(value: Any, decimals: int) -> str | None:
    text = fmt_number(value, decimals)
    return None if text == "—" else text


def _coverage_fields(row: Mapping[str, Any], part: pd.DataFrame, lab: Mapping[str, str],
                     lang: str, people: Any = None) -> list[tuple[str, str, str]]:
    w = words(lang)
    note = weights_label(weights_source(part), lang)
    pop = lab["share_population_network"] + ((f"（{note}）" if lang == "zh" else f" ({note})")
                                              if note else "")
    gap_label, gap_unit = ((lab["uncovered_length_m"].split("（")[0].split(" (")[0], w["m"])
                           if is_street(row) else
                           (lab["uncovered_area_m2"].split("（")[0].split(" (")[0], w["ha"]))
    return [("std_name", lab["standard"], ""), ("target_txt", lab["target"], ""),
            ("share_buffer_txt", lab["share_buffer"], ""),
            ("share_network_txt", lab["share_network"], ""),
            ("share_population_network_txt", pop, ""),
            ("meets_txt", lab["meets_target"], ""), ("gap_txt", gap_label, gap_unit),
            ("gap_pop_txt", lab["uncovered_population"], w["people"]),
            ("source_title_txt", lab.get("source_doc", "依据文件" if lang == "zh"
                                         else "Source documents"), ""),
            ("items_no_data_txt", lab.get("no_data", "无数据" if lang == "zh" else "no data"),
             ""),
            *people_fields(people, str(row.get("standard")), lang)]


def add_coverage(parts: StandardParts, dist_wgs: gpd.GeoDataFrame, part: pd.DataFrame,
                 row: Mapping[str, Any], lab: Mapping[str, str], lang: str,
                 people: Any = None) -> None:
    """The districts coloured by the chosen measure's share against the target.

    ``people`` (a :class:`~geoplan.results.PeopleResult`, or None) adds the children, seats
    and 学位缺口 to the school standards' popups.
    """
    merged = _district_frame(dist_wgs, part, row, lab, lang, people)
    parts.coverage = add_layer(
        parts.group, merged, css_class=f"gp-coverage gp-coverage-{parts.sid}",
        style={"color": "#444", "weight": 1.5, "fillOpacity": 0.45},
        fields=_coverage_fields(row, part, lab, lang, people), popup_title="district",
        tooltip="tip", tooltip_by_measure=True,
        fill_by={"prop": "cls", "colours": CLASS_COLOURS, "byMeasure": True})
    w = words(lang)
    people = people_kind(part, row)
    parts.labels = {}
    for m, spec in MEASURES.items():
        col = spec["share"]
        texts = _share_texts(merged, col) if col in merged and not (
            m == "population" and people == "none") else pd.Series([w["no_people"]] * len(merged))
        parts.labels[m] = [t if t != "—" else "" for t in texts]


def legend_texts(row: Mapping[str, Any], part: pd.DataFrame, heading: str, lang: str,
                 homes: bool = False) -> dict[str, Any]:
    """The legend's lines for one standard: heading, measure meaning, classes, gaps, reach."""
    return {"heading": heading, "measure": measure_lines(row, people_kind(part, row), lang),
            "classes": class_ranges(row.get("target"), lang), "gaps": gap_lines(row, lang),
            "reach": reach_lines(row, lang),
            "homes": homes_lines(row, lang) if homes else {m: [] for m in MEASURES}}


def _reach_shape(coverage: Any, sid: str, mine: gpd.GeoDataFrame | None) -> Any:
    """The walking reach of ``sid`` simplified per district part, as one MultiPolygon, or None.

    Each district's part is simplified on its own (8 m at factor 1, scaled with the map's
    detail) and small pieces are left out at city scale: one simplification of the whole
    city's reach with topology preserved grew much faster than the city. ``mine``: the
    standard's rows of the reach areas, None when the result has none (its reached edges are
    buffered then).
    """
    if mine is None:
        area = coverage.reach_area(sid)
        return None if area is None or area.is_empty else shapely.simplify(
            area, current_detail().tolerance(8.0), preserve_topology=True)
    geoms = mine.geometry.to_numpy()
    if not len(geoms):
        return None
    geoms = generalise(geoms)
    # Douglas-Peucker, whose polygons GEOS returns valid: 2.3x faster than the topology-
    # preserving simplifier on the 16-tile city's reach (2.98 -> 1.29 CPU s), no part lost
    geoms = shapely.simplify(geoms, current_detail().tolerance(8.0), preserve_topology=False)
    parts = shapely.get_parts(geoms)
    parts = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
    return shapely.multipolygons(parts) if len(parts) else None


def add_reach(parts: StandardParts, coverage: Any, row: Mapping[str, Any], lang: str,
              areas: ByStandard) -> None:
    """The area reached over the walking network (walking measures only); ``areas``: the
    reach areas by standard."""
    # the reach areas, or the reached edges (a city's result may keep only the areas)
    reached = geoframe(coverage, "reach_areas")
    if reached is None or "standard" not in reached.columns:
        reached = geoframe(coverage, "reached")
    if reached is None or "standard" not in reached.columns:
        return
    area = _reach_shape(coverage, parts.sid, areas.of(parts.sid))
    if area is None or area.is_empty:
        return
    text = reach_lines(row, lang)["network"]
    gdf = gpd.GeoDataFrame({"what": [text]}, geometry=[area], crs=reached.crs)
    layer = add_layer(parts.group, to_wgs84(gdf), css_class=f"gp-reached gp-reached-{parts.sid}",
                      style={"color": REACH_COLOUR, "weight": 0.5, "fillOpacity": 0.25,
                             "fillColor": REACH_COLOUR},
                      fields=[("what", labels(lang)["layer_reached"], "")])
    if layer is not None:
        parts.reach["network"] = layer


def add_homes(parts: StandardParts, mine: gpd.GeoDataFrame | None, row: Mapping[str, Any],
              lang: str) -> None:
    """Homes coloured by walking distance to the nearest facility (walking measures only)."""
    if mine is None or len(mine) == 0:
        return
    w = words(lang)
    texts = dict(zip(("within", "near", "beyond"), homes_lines(row, lang)["network"],
                     strict=True))
    frame = mine.assign(title=mine["district"].astype(str) + " · " + mine["band"].map(texts),
                        cls=mine["band"].astype(str),
                        area_txt=(mine["area_m2"] / 10_000).map(lambda v: _num(v, 2)))
    colours = {**HOME_BAND_COLOURS, "nodata": "#bdbdbd"}
    layer = add_layer(parts.group, to_map(frame[["title", "cls", "area_txt", "geometry"]], 2.0),
                      css_class=f"gp-homes gp-homes-{parts.sid}", interactive=True,
                      style={"stroke": False, "fillOpacity": 0.7},
                      fields=[("area_txt", lab_area(lang), w["ha"])], popup_title="title",
                      tooltip="title", fill_by={"prop": "cls", "colours": colours,
                                                "byMeasure": False})
    if layer is not None:
        parts.homes["network"] = layer


def lab_area(lang: str) -> str:
    """The popup label of a homes band's land area."""
    return "住宅用地面积" if lang == "zh" else "Residential land"


def _where(gdf: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | None,
           lab: Mapping[str, str]) -> gpd.GeoDataFrame:
    """``gdf`` with its nearest street and its point in WGS 84 and GCJ-02 as popup text."""
    cache = shared_work()
    inside = shapely.point_on_surface(gdf.geometry.to_numpy())  # found once, used twice
    where = locate(gdf, roads, street=cache is None, points=inside)
    if cache is not None:  # a page of an index map: its roads' index is built once
        where["street"] = cache.of(roads, "named_roads", NamedRoads).nearest(inside)
    out = gdf.copy()
    out["street_txt"] = where["street"].replace("", None)
    out["lonlat_txt"] = [f"{x:.6f}, {y:.6f}" for x, y in
                         zip(where["lon_wgs84"], where["lat_wgs84"], strict=True)]
    out["gcj_txt"] = [f"{x:.6f}, {y:.6f}" for x, y in
                      zip(where["lon_gcj02"], where["lat_gcj02"], strict=True)]
    return out


def _where_fields(lab: Mapping[str, str]) -> list[tuple[str, str, str]]:
    return [("street_txt", lab["street"], ""), ("lonlat_txt", lab["lonlat_wgs84"], ""),
            ("gcj_txt", lab["lonlat_gcj02"], "")]


def add_gaps(parts: StandardParts, mine: gpd.GeoDataFrame | None, people: bool,
             lab: Mapping[str, str], lang: str, roads: gpd.GeoDataFrame | None = None) -> None:
    """The uncovered residential areas of each view (largest first, per district); ``mine``:
    the standard's rows of the gaps."""
    if mine is None:
        return
    w = words(lang)
    for view in ("buffer", "network"):
        part = mine.loc[mine["view"] == view] if "view" in mine else mine
        if "rank" in part.columns:
            part = part.loc[part["rank"] <= gaps_per_district()].sort_values(
                ["district", "rank"])
        if len(part) == 0:
            continue
        part = part.copy()
        part["title"] = part["district"].astype(str) + " · " + lab["gap"] + " #" + \
            part["rank"].astype(str)
        part["area_txt"] = (part["area_m2"] / 10_000).map(lambda v: _num(v, 2))
        part["pop_txt"] = part["population"].map(lambda v: _num(v, 0)) \
            if "population" in part and people else None
        part["view_txt"] = lab[f"view_{view}"]
        part = _where(part, roads, lab)
        fields = [("area_txt", lab["area_ha"].split("（")[0].split(" (")[0], w["ha"]),
                  ("pop_txt", lab["population"], w["people"]), ("view_txt", lab["view"], ""),
                  *_where_fields(lab)]
        layer = add_layer(parts.group, to_map(part, 2.0),
                          css_class=f"gp-gaps gp-gaps-{parts.sid} gp-gaps-{view}",
                          style={"color": GAP_COLOUR, "weight": 1.5, "fillOpacity": 0.45,
                                 "fillColor": GAP_COLOUR, "dashArray": "3 3"},
                          fields=fields, popup_title="title", tooltip="title")
        if layer is not None:
            parts.gaps[view] = layer


def add_street_gaps(parts: StandardParts, mine: gpd.GeoDataFrame | None,
                    lab: Mapping[str, str], lang: str) -> None:
    """Streets no toilet reaches (the linear standards' gaps), one feature per district;
    ``mine``: the standard's rows of the street gaps."""
    if mine is None or len(mine) == 0:
        return
    w = words(lang)
    for view in ("buffer", "network"):
        part = mine.loc[mine["view"] == view]
        if len(part) == 0:
            continue
        merged = _lines_by_district(part)
        merged["length_txt"] = merged["length_m"].map(lambda v: _num(v, 0))
        merged["view_txt"] = lab[f"view_{view}"]
        # the stretches drawn are those of MIN_STREET_GAP_M or more (coverage.csv's length
        # counts every piece: a few metres more), as the reports say
        shortest = (f"（{MIN_STREET_GAP_M:g} 米及以上的段）" if lang == "zh" else
                    f" (stretches of {MIN_STREET_GAP_M:g} m or more)")
        fields = [("length_txt", lab["layer_street_gaps"] + shortest, w["m"]),
                  ("view_txt", lab["view"], "")]
        layer = add_layer(parts.group, to_wgs84(merged),
                          css_class=f"gp-street-gaps gp-street-gaps-{parts.sid} "
                                    f"gp-street-gaps-{view}",
                          style={"color": GAP_COLOUR, "weight": 3, "opacity": 0.85},
                          fields=fields, popup_title="district")
        if layer is not None:
            parts.street[view] = layer


def _lines_by_district(part: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Street-gap pieces gathered into one MultiLineString per district (lengths summed).

    Each piece is simplified on its own (6 m at factor 1, scaled with the map's detail) and
    pieces are joined end to end where they meet (``line_merge``), without noding the whole
    district's lines against each other (a dissolve did, and grew faster than the city).
    """
    part = part.sort_values("district", kind="stable")
    names, codes = np.unique(part["district"].astype(str).to_numpy(), return_inverse=True)
    pieces = simplify_drawn(part.geometry.to_numpy(), current_detail().tolerance(6.0))
    lines, index = shapely.get_parts(pieces, return_index=True)
    keep = (shapely.get_type_id(lines) == 1) & ~shapely.is_empty(lines)
    shortest = current_detail().min_length_m
    if shortest > 0:  # a city-sized map: pieces under half a pixel long are not drawn
        keep &= shapely.length(lines) >= shortest
    if not keep.any():
        return gpd.GeoDataFrame({"district": [], "length_m": []}, geometry=[], crs=part.crs)
    multi = shapely.multilinestrings(lines[keep], indices=codes[index[keep]])
    present = np.unique(codes[index[keep]])
    multi = shapely.line_merge(multi[present])
    lengths = part.groupby(codes)["length_m"].sum()
    return gpd.GeoDataFrame({"district": names[present],
                             "length_m": lengths.loc[present].to_numpy()},
                            geometry=list(multi), crs=part.crs)


def sites_frame(sites: Any, order: Sequence[str], rows: Mapping[str, Mapping[str, Any]],
                lab: Mapping[str, str], lang: str, roads: gpd.GeoDataFrame | None = None,
                items: pd.DataFrame | None = None) -> gpd.GeoDataFrame | None:
    """Suggested sites with their popup texts (WGS 84), or None.

    A life circle's sites are per item (``items``: ``coverage.items``, for their names): the
    items whose best site is the same place, with the same rank and figures, are one marker
    naming them all (six markers on one point showed one popup, and none named its item).
    """
    if sites is None or len(sites) == 0 or sites.table.crs is None:
        return None
    s = sites.table.loc[sites.table["standard"].astype(str).isin(list(order))].copy()
    if len(s) == 0:
        return None
    if "item" in s:
        s = _sites_by_place(s, item_names(items, lang), "、" if lang == "zh" else ", ")
    w = words(lang)
    s["title"] = [f"{lab['layer_sites']} #{r} · {d}" for r, d in zip(s["rank"], s["district"],
                                                                     strict=True)]
    s["std_name"] = [standard_name(rows.get(str(x), {"standard": str(x)}), lang)
                     for x in s["standard"]]
    area = (s["covered_m2"] / 10_000).map(lambda v: _num(v, 2)) if "covered_m2" in s \
        else pd.Series([None] * len(s), index=s.index)
    unit = pd.Series(w["ha"], index=s.index)
    if "covered_length_m" in s:  # toilet standards: street length, not area
        street = s["covered_length_m"].notna()
        area = area.where(~street, s["covered_length_m"].map(lambda v: _num(v, 0)))
        unit = unit.where(~street, w["m"])
    s["covered_txt"] = [None if a is None else f"{a} {u}" for a, u in zip(area, unit, strict=True)]
    s["before_after"] = [f"{fmt_share(a)} → {fmt_share(b)}" for a, b in
                         zip(s.get("share_before", [None] * len(s)),
                             s.get("share_after", [None] * len(s)), strict=True)]
    s = s.set_geometry(shapely.point_on_surface(s.geometry.to_numpy()), crs=s.crs)
    return to_wgs84(_where(s, roads, lab))


def _sites_by_place(s: gpd.GeoDataFrame, names: Mapping[str, str], joiner: str
                    ) -> gpd.GeoDataFrame:
    """One row per standard, place, rank and figures, its ``item_txt`` naming the items."""
    s = s.assign(item_txt=[names.get(str(i), str(i)) if isinstance(i, str) and i else None
                           for i in s["item"]],
                 _x=shapely.get_x(shapely.point_on_surface(s.geometry.to_numpy())).round(3),
                 _y=shapely.get_y(shapely.point_on_surface(s.geometry.to_numpy())).round(3))
    keys = [c for c in ("standard", "district", "_x", "_y", "rank", "covered_m2",
                        "covered_length_m", "share_before", "share_after") if c in s]
    groups = s.groupby(keys, sort=False, dropna=False)
    joined = groups["item_txt"].agg(
        lambda v: joiner.join(dict.fromkeys(x for x in v if isinstance(x, str) and x)) or None)
    first = groups.head(1)
    first = first.assign(item_txt=joined.to_numpy())
    return first.drop(columns=["_x", "_y"])


def add_sites(parts: StandardParts, mine: gpd.GeoDataFrame | None, lab: Mapping[str, str]
              ) -> None:
    """The suggested new sites of one standard (``mine``: its rows of the sites frame)."""
    if mine is None:
        return
    items = [("item_txt", lab["item"], "")] if "item_txt" in mine else []
    fields = [("std_name", lab["standard"], ""), *items, ("covered_txt", lab["covered_gap"], ""),
              ("before_after", f"{lab['share_before']} → {lab['share_after']}", ""),
              *_where_fields(lab)]
    parts.sites = add_layer(parts.group, mine, css_class=f"gp-sites gp-sites-{parts.sid}",
                            style={"color": "#000", "weight": 2.5, "fillColor": SITE_COLOUR,
                                   "fillOpacity": 1.0},
                            fields=fields, popup_title="title", radius=7)


class ByStandard:
    """The rows of a frame by its ``standard`` column, the column read once.

    Parameters
    ----------
    frame
        A frame with a ``standard`` column, or None.
    """

    def __init__(self, frame: pd.DataFrame | None) -> None:
        self.frame = frame if frame is not None and "standard" in frame else None
        self._rows: dict[object, np.ndarray] = (
            positions_by_value(self.frame["standard"].astype(str).to_numpy())
            if self.frame is not None and len(self.frame) else {})

    def of(self, sid: str) -> Any:
        """``sid``'s rows in frame order (no rows: an empty frame; no frame: None)."""
        if self.frame is None:
            return None
        rows = self._rows.get(sid)
        return self.frame.iloc[:0] if rows is None else self.frame.iloc[rows]


def _reach_split(coverage: Any) -> ByStandard:
    """The reach areas by standard; none (every ``of`` None) when the result has none."""
    ra = getattr(coverage, "reach_areas", None)
    if ra is None or not len(ra) or "standard" not in ra.columns:
        return ByStandard(None)
    return ByStandard(ra)


def standard_layers(
    m: folium.Map, dist_wgs: gpd.GeoDataFrame, coverage: Any, sites: Any, order: list[str],
    rows: Mapping[str, Mapping[str, Any]], lab: Mapping[str, str], lang: str,
    layerset: Any = None,
) -> list[StandardParts]:
    """All standards' layer groups, added to ``m``, and registered with the page runtime."""
    table = frame(coverage, "table")
    if table.empty:
        return []
    items = getattr(coverage, "items", None)
    if lang != "zh" and "items_no_data" in table:  # the items named in the map's language
        table = table.assign(items_no_data=[items_in(str(v or ""), items, lang)
                                            for v in table["items_no_data"]])
    gaps = geoframe(coverage, "gaps")
    street = geoframe(coverage, "street_gaps")
    roads = getattr(layerset, "layers", {}).get("roads") if layerset is not None else None
    site_frame = sites_frame(sites, order, rows, lab, lang, roads, items)
    # each frame split by standard once (19 standards filtering a page's frames each cost more
    # than the drawing of small pages)
    by = {"table": ByStandard(table), "gaps": ByStandard(gaps), "street": ByStandard(street),
          "homes": ByStandard(geoframe(coverage, "walk_bands")),
          "sites": ByStandard(site_frame), "reach": _reach_split(coverage)}
    entries = []
    for sid in bar(order, desc="map: standards", unit="standard"):
        group = folium.FeatureGroup(name=standard_name(rows[sid], lang), overlay=False,
                                    control=False, show=False)
        parts = StandardParts(sid, group)
        part = by["table"].of(sid)
        assert part is not None
        add_coverage(parts, dist_wgs, part, rows[sid], lab, lang, getattr(coverage, "people", None))
        add_homes(parts, by["homes"].of(sid), rows[sid], lang)
        add_reach(parts, coverage, rows[sid], lang, by["reach"])
        add_gaps(parts, by["gaps"].of(sid), population_known(part), lab, lang, roads)
        add_street_gaps(parts, by["street"].of(sid), lab, lang)
        add_sites(parts, by["sites"].of(sid), lab)
        parts.legend = legend_texts(rows[sid], part, _heading(rows[sid], lab, lang), lang,
                                    homes=bool(parts.homes))
        group.add_to(m)
        entries.append(parts)
    StandardRegistry(entries).add_to(m)
    return entries


def _heading(row: Mapping[str, Any], lab: Mapping[str, str], lang: str) -> str:
    """The legend's heading for a standard: its name and target."""
    target = plain(row.get("target"))
    name = standard_name(row, lang)
    if target is None:
        return name
    note = f"{lab['target']} {fmt_share(target)}"
    return f"{name}（{note}）" if lang == "zh" else f"{name} ({note})"
