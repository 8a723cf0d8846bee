"""A city-sized meeting map as an index map with one detail page per district.

One self-contained ``map.html`` grows with the city: fitting its detail to the opening zoom
(:mod:`geoplan.report._map_detail`) gave 1.5 MB for the default run, 9.0 MB for a 16-tile
city (79k walking edges) and 29.9 MB for 64 tiles (316k), about 95 MB projected at a million
edges, and every one of those bytes is parsed and drawn before the map shows anything. So
when a map's estimated size (:func:`geoplan.report.map_size.estimate_mb`, from counts taken
before anything is drawn) is above the budget (``map.max_mb`` in the config, default
:data:`geoplan.report.map_size.DEFAULT_MAX_MB`) and there are at least two districts, the
map is written as:

- ``map.html``, the **index**: every district's outline coloured by its share, with the same
  standard and measure switches, legend, title, scale bar and overview as the full map; a
  district's popup adds every standard's straight-line share and a link to its detail page,
  and a list of all districts with their links sits below the title;
- ``maps/<NN>-<slug>.html``, one **detail page** per district: today's full map of that
  district (facilities, walking reach, gaps, homes, sites, dead ends, data checks, live
  scenario), drawing the data within ``map.detail_margin_m`` of the district too, opening on
  the district, with a link back to the index. Slugs are those of the district reports
  (:func:`geoplan.report._data.district_slugs`): letters of any script, digits, ``-`` and
  ``_`` only, so a hostile name can never reach a path;
- ``maps/leaflet.js``, ``maps/leaflet.css``, ``maps/geoplan_map.js`` and
  ``maps/geoplan_scenario.js``: the scripts the single map inlines (about 200 kB), written
  once and loaded by every page with a relative ``<script src>``, which browsers allow from
  a local folder. Nothing is fetched from the web; copy ``map.html`` with its ``maps``
  folder.

The pages are built one after the other with their work shared
(:mod:`geoplan.report._map_cache`): each city-wide frame gets one spatial index for the cuts,
a feature on several pages (the margins overlap) is simplified and reprojected once, and the
districts' popup texts are made once per standard; every page is the page its own inputs give
(tested). The index itself has no live scenario, so none is computed for it.

Why an index and not one simplified map: the 1M-edge city would need every layer thinned
about 7× below what already fits the opening zoom, losing the street-level gaps, reach and
homes a planner opens the map for; an index keeps every page at district size (one page is
about the default run's map) whatever the size of the city, and the index itself grows only
with the number of districts.
"""

from __future__ import annotations

import copy
import html
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from geoplan.report._data import (
    district_slugs,
    fmt_share_change,
    frame,
    standard_rows,
    standards_order,
)
from geoplan.report._labels import standard_name, words_in_unit
from geoplan.report._map_cache import current as shared_work
from geoplan.report._map_controls import HtmlControl
from geoplan.report._map_detail import PAGE_ROWS
from geoplan.report._map_layers import runtime_js, script_json
from geoplan.report._map_scenario import scenario_js
from geoplan.report._offline import leaflet_css, leaflet_js
from geoplan.results import CoverageResult
from geoplan.results._spill import SpilledFrame
from geoplan.results.coverage import ON_DISK
from geoplan.vocab import DEFAULT_UNIT

if TYPE_CHECKING:
    from geoplan.layers.layerset import LayerSet

logger = logging.getLogger(__name__)

DEFAULT_MARGIN_M = 500.0
"""Data drawn around a district on its detail page (m)."""
PAGES_DIR = "maps"

DRAWN_LAYERS = ("districts", "water", "roads", "parks", "green_space", "schools", "toilets",
                "bus_stops", "services", "places")
"""The layers :func:`geoplan.report.maps.build_map` reads; a page is given only these. Cutting
the others (the walking graph, buildings, residential land) for every page built a spatial
index of each and copied their rows, and a forked worker's memory grew by every row it copied
(reference counts are written)."""
"""The folder, beside ``map.html``, of the detail pages and their shared scripts."""

_SHARED = {
    "geoplan_leaflet_css": ("leaflet.css", "css"),
    "geoplan_leaflet_js": ("leaflet.js", "js"),
    "geoplan_runtime_js": ("geoplan_map.js", "js"),
    "geoplan_scenario_js": ("geoplan_scenario.js", "js"),
}
"""Header elements of a map page that go to shared files: element name -> (file, kind)."""

_WORDS = {
    "zh": {"detail": "分区详图", "open": "打开本区详图 →", "back": "← 返回全市索引图",
           "all": "各标准覆盖率（直线距离）", "list": "分区详图（{n} 个区县）"},
    "en": {"detail": "district map", "open": "Open this district's map →",
           "back": "← Back to the city index map", "all": "Every standard (straight line)",
           "list": "District maps ({n})"},
}


def words(lang: str, unit: str = DEFAULT_UNIT) -> dict[str, str]:
    """The index map's own words in ``lang`` ('zh' or 'en'), the districts called ``unit``."""
    if lang == "en":
        return _WORDS["en"]
    return dict(words_in_unit(_WORDS["zh"], unit))


# -- what each page holds ------------------------------------------------------------------

@dataclass
class DistrictPage:
    """One district's detail page: its name, file slug and (projected) outline."""

    name: str
    slug: str
    geometry: Any

    @property
    def file(self) -> str:
        """The page's path relative to the index (``maps/<slug>.html``)."""
        return f"{PAGES_DIR}/{self.slug}.html"


def district_pages(layerset: LayerSet) -> list[DistrictPage]:
    """One :class:`DistrictPage` per district, in the districts' order."""
    d = layerset.districts
    names = [str(n) for n in d["district"]]
    codes = [str(c) if pd.notna(c) else "" for c in d["code"]] if "code" in d else None
    return [DistrictPage(n, s, g) for n, s, g in zip(
        names, district_slugs(names, codes), d.geometry.to_numpy(), strict=True)]


def _within(gdf: Any, box: Any) -> Any:
    """``gdf``'s rows whose geometry meets ``box``, shapes reaching beyond it cut at its edge
    (attributes, and so every popup figure, unchanged); anything else is returned as is.

    A city-wide frame's index is built once for all pages (when they share their work); rows
    a page read for itself (:data:`PAGE_ROWS`) are not worth one, nor keeping.
    """
    if not isinstance(gdf, gpd.GeoDataFrame) or not len(gdf) or gdf.geometry.name not in gdf:
        return gdf
    geoms = gdf.geometry.to_numpy()
    cache = None if gdf.attrs.get(PAGE_ROWS) else shared_work()
    if cache is not None:  # the pages of one index map: the frame's index is built once
        keep = cache.rows_within(gdf, box)
    else:
        keep = ~shapely.is_missing(geoms)
        keep[keep] = shapely.intersects(geoms[keep], box)
    out = gdf.loc[keep]
    geoms = geoms[keep]
    xmin, ymin, xmax, ymax = box.bounds
    b = shapely.bounds(geoms)
    beyond = (b[:, 0] < xmin) | (b[:, 1] < ymin) | (b[:, 2] > xmax) | (b[:, 3] > ymax)
    if beyond.any():
        geoms = geoms.copy()
        geoms[beyond] = shapely.clip_by_rect(geoms[beyond], xmin, ymin, xmax, ymax)
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=gdf.crs))
        out = out.loc[~shapely.is_empty(geoms)]
    return out


def _subset(obj: Any, box: Any, district: str | None = None) -> Any:
    """A shallow copy of a result object with every GeoDataFrame attribute cut to ``box``
    (and its ``table`` to ``district`` when given); None stays None."""
    if obj is None:
        return None
    out = copy.copy(obj)
    for key, value in vars(obj).items():
        if isinstance(value, gpd.GeoDataFrame):
            setattr(out, key, _within(value, box))
    for key in _held_frames(obj):  # held on disk: only the rows near the box are read
        held = obj.held(key)
        if isinstance(held, SpilledFrame):
            rows = held.load(held.rows_meeting(box.bounds))
            rows.attrs[PAGE_ROWS] = True
            setattr(out, key, _within(rows, box))
        else:
            setattr(out, key, _within(held, box))
    table = getattr(obj, "table", None)
    if district is not None and isinstance(table, pd.DataFrame) and "district" in table:
        out.table = table.loc[table["district"].astype(str) == district]
    return out


def page_inputs(layerset: LayerSet, coverage: Any, deadends: Any, sites: Any,
                checks: gpd.GeoDataFrame | None, page: DistrictPage, margin_m: float
                ) -> tuple[Any, Any, Any, Any, Any]:
    """The inputs of :func:`geoplan.report.maps.build_map` for one district's page.

    The district alone is the page's district (the view opens on it); every other layer and
    result keeps the features that meet the district's bounding box grown by ``margin_m``.
    """
    minx, miny, maxx, maxy = page.geometry.bounds
    box = shapely.box(minx - margin_m, miny - margin_m, maxx + margin_m, maxy + margin_m)
    d = layerset.districts
    layers = {k: _within(v, box) for k, v in layerset.layers.items() if k in DRAWN_LAYERS}
    layers["districts"] = d.loc[d["district"].astype(str) == page.name]
    sub = copy.copy(layerset)
    sub.layers = layers
    sub.overview = d[["district", "geometry"]]
    if isinstance(checks, gpd.GeoDataFrame):
        located = ~shapely.is_missing(checks.geometry.to_numpy())
        mine = checks["district"].astype(str) == page.name if "district" in checks else False
        hits = np.zeros(len(checks), dtype=bool)
        hits[located] = shapely.intersects(checks.geometry.to_numpy()[located], box)
        checks = checks.loc[hits | (~located & np.asarray(mine))]
    return (sub, _subset(coverage, box, page.name), _subset(deadends, box), _subset(sites, box),
            checks)


def index_inputs(layerset: LayerSet, coverage: Any) -> tuple[Any, Any]:
    """The index map's inputs: the districts alone, and the coverage table without shapes."""
    sub = copy.copy(layerset)
    sub.layers = {"districts": layerset.districts}
    if coverage is None:
        return sub, None
    out = copy.copy(coverage)
    for key, value in vars(coverage).items():
        if isinstance(value, gpd.GeoDataFrame):
            setattr(out, key, value.iloc[0:0])
    for key in _held_frames(coverage):
        held = coverage.held(key)
        setattr(out, key, held.load(np.zeros(len(held), dtype=bool))
                if isinstance(held, SpilledFrame) else held.iloc[0:0])
    return sub, out


def _held_frames(obj: Any) -> tuple[str, ...]:
    """The frames of a coverage result that may be held on disk (none for other results)."""
    return ON_DISK if isinstance(obj, CoverageResult) else ()


# -- the index's links -----------------------------------------------------------------------

def index_links(pages: Sequence[DistrictPage], coverage: Any, lang: str
                ) -> dict[str, dict[str, Any]]:
    """District -> its page's link and every standard's straight-line share (as text):
    ``shares`` as [name, text] in the standards' order, ``by`` the texts by standard id."""
    table = frame(coverage, "table")
    rows = standard_rows(coverage)
    out: dict[str, dict[str, Any]] = {}
    for page in pages:
        shares = []
        by = {}
        if "district" in table and "share_buffer" in table:
            mine = table.loc[table["district"].astype(str) == page.name]
            for sid in standards_order(coverage):
                part = mine.loc[mine["standard"].astype(str) == sid]
                if len(part):  # a scenario's map: "before → after" (geoplan.scenario.with_before)
                    before = part["share_buffer_before"].iloc[0] \
                        if "share_buffer_before" in part else None
                    by[sid] = fmt_share_change(before, part["share_buffer"].iloc[0])
                    shares.append([standard_name(rows[sid], lang), by[sid]])
        out[page.name] = {"href": page.file, "shares": shares, "by": by}
    return out


class IndexLinks(MacroElement):
    """Adds every standard's share and the detail page's link to a district's popup."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var pages = {{ this.pages_json }};
            var words = {{ this.words_json }};
            var map = {{ this._parent.get_name() }};
            // the rows go in with the popup's own content, before it is laid out and panned
            // into view (added after it opened, the popup grew past the screen and then
            // panned a second time under the reader's pointer)
            var content = L.Popup.prototype._updateContent;
            L.Popup.prototype._updateContent = function() {
                content.apply(this, arguments);
                var src = this._source;
                if (!this._map || this._map !== map || !src || !src.feature ||
                    !src.feature.properties) { return; }
                var cls = (src.options && src.options.className) || "";
                if (cls.indexOf("gp-coverage") < 0) { return; }
                var page = pages[src.feature.properties.district];
                var box = this._contentNode && this._contentNode.querySelector(".gp-popup");
                if (!page || !box || box.querySelector(".gp-index-link")) { return; }
                if (page.shares.length) {
                    var h = document.createElement("div");
                    h.className = "gp-popup-note";
                    h.textContent = words.all;
                    box.appendChild(h);
                    var t = document.createElement("table");
                    page.shares.forEach(function(s) {
                        var tr = t.insertRow();
                        var th = document.createElement("th");
                        th.textContent = s[0];
                        tr.appendChild(th);
                        tr.insertCell().textContent = s[1];
                    });
                    box.appendChild(t);
                }
                // the link first, under the district's name: below every standard's share it
                // was under the fold of a laptop's screen, in a popup that scrolled unnoticed
                var a = document.createElement("a");
                a.className = "gp-index-link";
                a.href = page.href;
                a.textContent = words.open;
                box.insertBefore(a, box.firstElementChild ? box.firstElementChild.nextSibling
                                                            : null);
            };
            // the list of district pages gives the share of the standard shown
            var names = {{ this.names_json }};
            function listShares() {
                var sid = window.geoplan.current;
                var head = document.querySelector("#geoplan-index .gp-index-std");
                if (head) { head.textContent = names[sid] ? " · " + names[sid] : ""; }
                document.querySelectorAll("#geoplan-index span[data-district]")
                    .forEach(function(span) {
                        var page = pages[span.dataset.district];
                        span.textContent = page && page.by[sid] ? page.by[sid] : "";
                    });
            }
            var show = window.geoplan.showStandard;
            if (show) {
                window.geoplan.showStandard = function(sid) { show(sid); listShares(); };
            }
            setTimeout(listShares, 0);  // once the list is on the page
        })();
        {% endmacro %}
    """)

    def __init__(self, links: Mapping[str, Mapping[str, Any]], lang: str,
                 unit: str = DEFAULT_UNIT, names: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._name = "GeoplanIndexLinks"
        self.pages_json = script_json(dict(links))
        self.words_json = script_json(words(lang, unit))
        self.names_json = script_json(dict(names or {}))


def index_list_html(pages: Sequence[DistrictPage], links: Mapping[str, Mapping[str, Any]],
                    lang: str, unit: str = DEFAULT_UNIT) -> str:
    """The list of district pages (escaped HTML), each with the first standard's share; the
    page's script (:class:`IndexLinks`) gives each the share of the standard shown, and
    names it in the heading."""
    items = []
    for page in pages:
        shares = links.get(page.name, {}).get("shares") or []
        share = (f' <span data-district="{html.escape(page.name, quote=True)}">'
                 f"{html.escape(shares[0][1]) if shares else ''}</span>")
        items.append(f'<li><a href="{html.escape(page.file, quote=True)}">'
                     f"{html.escape(page.name)}</a>{share}</li>")
    title = html.escape(words(lang, unit)["list"].format(n=len(pages)))
    return (f'<details><summary>{title}<span class="gp-index-std"></span></summary>'
            f'<ol class="gp-index-list">{"".join(items)}</ol></details>')


INDEX_CSS = """
<style>
.gp-index-list { max-height: 40vh; overflow-y: auto; margin: 4px 0 0; padding-left: 2.2em; }
.gp-index-list span { color: #555; }
.geoplan-index summary { cursor: pointer; font-weight: 600; }
a.gp-index-link { display: block; margin: 4px 0 6px; font-weight: 600; }
</style>
"""


_INDEX_ONLY_CSS = """
<style>
/* gaps are drawn on the district pages only */
.geoplan-legend .row:has(#geoplan-legend-gaps) { display: none; }
</style>
"""


def back_link_html(lang: str) -> str:
    """The detail page's link back to the index (escaped HTML)."""
    return f'<a href="../map.html">{html.escape(words(lang)["back"])}</a>'


# -- shared scripts --------------------------------------------------------------------------

def shared_assets() -> dict[str, str]:
    """The shared files' names and contents (the scripts and styles a single map inlines)."""
    return {"leaflet.css": leaflet_css(), "leaflet.js": leaflet_js(),
            "geoplan_map.js": runtime_js(), "geoplan_scenario.js": scenario_js()}


def link_shared_assets(m: folium.Map, prefix: str) -> None:
    """Replace ``m``'s inlined Leaflet and geoplan scripts by links to the shared files.

    ``prefix`` is the folder of the shared files relative to the page (``'maps/'`` for the
    index, ``''`` for a detail page). Elements keep their names and order in the header.
    """
    root = m.get_root()
    assert isinstance(root, Figure)
    header = root.header
    for name, (file, kind) in _SHARED.items():
        if name not in header._children:
            continue
        src = html.escape(prefix + file, quote=True)
        tag = (f'<link rel="stylesheet" href="{src}">' if kind == "css"
               else f'<script src="{src}"></script>')
        header._children[name] = Element(tag)


def add_index_parts(m: folium.Map, pages: Sequence[DistrictPage], coverage: Any,
                    lang: str, unit: str = DEFAULT_UNIT) -> None:
    """The index's own parts: popup links, the list of district pages (the districts called
    ``unit``) and its style.

    The live scenario (placing planned facilities) is taken off the index: it needs the
    uncovered land, which only the detail pages carry.
    """
    for key, child in list(m._children.items()):
        if getattr(child, "_name", "") == "GeoplanLiveScenario":
            del m._children[key]
    root = m.get_root()
    assert isinstance(root, Figure)
    root.header._children.pop("geoplan_scenario_js", None)
    links = index_links(pages, coverage, lang)
    rows = standard_rows(coverage)
    IndexLinks(links, lang, unit, {sid: standard_name(rows[sid], lang)
                                   for sid in standards_order(coverage)}).add_to(m)
    root.header.add_child(Element(INDEX_CSS + _INDEX_ONLY_CSS), name="geoplan_index_css")
    HtmlControl(index_list_html(pages, links, lang, unit), position="topleft",
                element_id="geoplan-index", css_class="geoplan-box geoplan-index").add_to(m)


def add_back_link(m: folium.Map, lang: str) -> None:
    """The detail page's link back to the index, below its title."""
    root = m.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element(INDEX_CSS), name="geoplan_index_css")
    HtmlControl(back_link_html(lang), position="topleft", element_id="geoplan-back",
                css_class="geoplan-box geoplan-index").add_to(m)


__all__ = [
    "DEFAULT_MARGIN_M",
    "DRAWN_LAYERS",
    "PAGES_DIR",
    "DistrictPage",
    "add_back_link",
    "add_index_parts",
    "district_pages",
    "index_inputs",
    "link_shared_assets",
    "page_inputs",
    "shared_assets",
]
