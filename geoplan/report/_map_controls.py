"""Map furniture: the title block, the legend, the layer panel, the scale bar and CSS.

Split from :mod:`geoplan.report.maps`, which draws the data layers.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from branca.element import MacroElement
from folium.template import Template

from geoplan._version import __version__
from geoplan.report._map_layers import script_json
from geoplan.report._map_render import PlainRender
from geoplan.report.colours import (
    CLASS_COLOURS,
    GAP_COLOUR,
    HOME_BAND_COLOURS,
    REACH_COLOUR,
    SITE_COLOUR,
)


class ScaleBar(PlainRender, MacroElement):
    """Leaflet's scale bar, metric only."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 160, position: "bottomleft"})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)


class ZoomButtons(PlainRender, MacroElement):
    """Leaflet's zoom buttons in the bottom right, their tooltips in the map's language."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.zoom({position: "bottomright", zoomInTitle: {{ this.zoom_in|tojson }},
                        zoomOutTitle: {{ this.zoom_out|tojson }}})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, zoom_in: str, zoom_out: str) -> None:
        super().__init__()
        self._name = "ZoomButtons"
        self.zoom_in, self.zoom_out = zoom_in, zoom_out


class OpeningView(PlainRender, MacroElement):
    """The view the map opens at: ``bounds`` fitted between the legend and the layer panel.

    Without animation (folium's ``fit_bounds`` animates from its start zoom): an animated fit
    ends about 250 ms after the page loads and would undo a view set in that time (a quick
    zoom of the user's, or a script's).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        geoplan.openingView({{ this._parent.get_name() }}, {{ this.bounds|tojson }},
            {{ this.top_left|tojson }}, {{ this.bottom_right|tojson }});
        {% endmacro %}
    """)

    def __init__(self, bounds: list[list[float]], top_left: tuple[int, int],
                 bottom_right: tuple[int, int]) -> None:
        super().__init__()
        self._name = "OpeningView"
        self.bounds = [[float(v) for v in corner] for corner in bounds]
        self.top_left, self.bottom_right = list(top_left), list(bottom_right)


class HtmlControl(PlainRender, MacroElement):
    """A Leaflet control holding fixed HTML (title block, legend)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function() {
                var div = L.DomUtil.create('div', {{ this.css_class|tojson }});
                div.id = {{ this.element_id|tojson }};
                div.innerHTML = {{ this.html_json }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo({{ this._parent.get_name() }});
            if (window.geoplan && window.geoplan.refresh) { window.geoplan.refresh(); }
            {%- if this.attribution %}
            {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.attribution_json }});
            {%- endif %}
        })();
        {% endmacro %}
    """)

    def __init__(self, body: str, *, position: str, element_id: str, css_class: str,
                 attribution: str | None = None) -> None:
        super().__init__()
        self._name = "GeoplanControl"
        self.position = position
        self.element_id = element_id
        self.css_class = css_class
        self.attribution = attribution
        self.attribution_json = script_json(attribution or "")
        self.html_json = script_json(body)


def _items_js(items: list[dict[str, Any]]) -> str:
    """Panel items as a JS array: safe JSON for the texts, the layer as its JS variable."""
    out = []
    for it in items:
        data = {"key": it["key"], "label": it["label"], "note": it.get("note") or "",
                "back": bool(it.get("back")), "fill": bool(it.get("fill")), "on": bool(it.get("on"))}
        layer = it.get("layer")
        ref = layer.get_name() if layer is not None else "null"
        out.append(f"Object.assign({script_json(data)},{{layer:{ref}}})")
    return "[" + ",".join(out) + "]"


class LayerPanel(PlainRender, MacroElement):
    """The grouped layer switcher: standards and measures as radios, then checkboxes.

    ``sections`` is a list of ``{"title", "kind", "items"}`` where ``kind`` is 'standard'
    (radios calling ``geoplan.showStandard``), 'measure' (radios calling
    ``geoplan.setMeasure``; ``on`` marks the chosen one) or 'overlay' (checkboxes). Each item
    is ``{"key", "label", "note", "layer", "back", "fill"}``; ``back`` keeps a background layer
    beneath the others, ``fill`` an area overlay (districts filled by a figure) beneath the chosen
    standard's gaps and sites. After every change the layers are stacked again in that order,
    the other ticked overlays on top (so that gaps, sites and facilities stay clickable). The
    panel folds away with its heading button; it starts folded on small screens, and it reaches
    down to the boxes below it, with a mark at its foot while more of it is below.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            window.geoplan.map = map;
            var sections = [
            {%- for sec in this.sections %}
                {title: {{ sec.title_json }}, kind: {{ sec.kind_json }}, items: {{ sec.items_js }}},
            {%- endfor %}
            ];
            function restack() {
                function each(test, fn) {  // the ticked overlays that pass test
                    sections.forEach(function(sec) {
                        if (sec.kind !== "overlay") { return; }
                        sec.items.forEach(function(it) {
                            if (it.layer && map.hasLayer(it.layer) && it.layer.bringToFront
                                && test(it)) { fn(it); }
                        });
                    });
                }
                each(function(it) { return it.fill; }, function(it) { it.layer.bringToFront(); });
                geoplan.raiseStandard();
                each(function(it) { return !it.fill && !it.back; },
                     function(it) { it.layer.bringToFront(); });
                each(function(it) { return it.back; }, function(it) { it.layer.bringToBack(); });
                var on = {};
                each(function() { return true; }, function(it) { on[it.key] = true; });
                geoplan.legendFollows(on);
            }
            geoplan.onChange = restack;
            var ctl = L.control({position: "topright"});
            ctl.onAdd = function() {
                var div = L.DomUtil.create("div", "geoplan-box geoplan-layers");
                div.id = "geoplan-layers";
                var toggle = L.DomUtil.create("button", "gp-layers-toggle", div);
                toggle.type = "button";
                toggle.textContent = {{ this.heading_json }};
                var body = L.DomUtil.create("div", "gp-layers-body", div);
                function fold(folded) {
                    L.DomUtil[folded ? "addClass" : "removeClass"](div, "gp-folded");
                    toggle.setAttribute("aria-expanded", folded ? "false" : "true");
                }
                L.DomEvent.on(toggle, "click", function() {
                    fold(!L.DomUtil.hasClass(div, "gp-folded"));
                    geoplan.fitPanel();
                });
                fold(window.innerWidth < 700 || window.innerHeight < 480);
                sections.forEach(function(sec) {
                    var radio = sec.kind !== "overlay";
                    var box = L.DomUtil.create("fieldset", "gp-sec gp-sec-" + sec.kind +
                        (radio ? "" : " gp-sec-overlays"), body);
                    L.DomUtil.create("legend", "", box).textContent = sec.title;
                    sec.items.forEach(function(it) {
                        var label = L.DomUtil.create("label", "gp-item", box);
                        var input = L.DomUtil.create("input", "", label);
                        input.type = radio ? "radio" : "checkbox";
                        if (radio) { input.name = "geoplan-" + sec.kind; }
                        input.value = it.key;
                        input.dataset.layer = it.key;
                        input.checked = sec.kind === "standard" ? it.key === geoplan.current
                            : sec.kind === "measure" ? it.key === geoplan.measure
                            : map.hasLayer(it.layer);
                        L.DomUtil.create("span", "gp-name", label).textContent = it.label;
                        if (it.note) {
                            L.DomUtil.create("span", "gp-note", label).textContent = it.note;
                        }
                        L.DomEvent.on(input, "change", function() {
                            if (sec.kind === "standard") {
                                if (input.checked) { geoplan.showStandard(it.key); }
                            } else if (sec.kind === "measure") {
                                if (input.checked) { geoplan.setMeasure(it.key); }
                            } else if (input.checked) {
                                map.addLayer(it.layer);
                                restack();
                            } else {
                                map.removeLayer(it.layer);
                                restack();
                            }
                        });
                    });
                });
                L.DomEvent.on(div, "scroll", function() { geoplan.markMore(div); });
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo(map);
            geoplan.fitPanel();
            restack();
        })();
        {% endmacro %}
    """)

    def __init__(self, sections: list[dict[str, Any]], *, heading: str) -> None:
        super().__init__()
        self._name = "GeoplanLayerPanel"
        self.sections = [{"title_json": script_json(s["title"]), "kind_json": script_json(s["kind"]),
                          "items_js": _items_js(s["items"])} for s in sections if s["items"]]
        self.heading_json = script_json(heading)


class Locator(PlainRender, MacroElement):
    """A small overview in the bottom right: district outlines and the part in view."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        geoplan.locator({{ this._parent.get_name() }}, {{ this.spec_json }});
        {% endmacro %}
    """)

    def __init__(self, rings: list[list[float]], bounds: list[float],
                 mine: list[int] | None = None) -> None:
        super().__init__()
        self._name = "GeoplanLocator"
        self.spec_json = script_json({"rings": rings, "bounds": bounds, "size": 130,
                                      "mine": mine or []})


MAP_CSS = """
<style>
.leaflet-container { background: #f4f2ec; font-family: "Noto Sans CJK SC", "Source Han Sans SC",
  "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "WenQuanYi Micro Hei", sans-serif; }
.geoplan-box { background: rgba(255,255,255,0.94); padding: 8px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font-size: 13px; line-height: 1.45; color: #222; }
.geoplan-title h1 { font-size: 17px; margin: 0 0 3px 0; }
.geoplan-title p { margin: 0; color: #444; font-size: 12px; }
.geoplan-warning { max-width: 360px; background: #fff3cd; border: 2px solid #e6007e;
  font-weight: bold; }
.geoplan-legend { max-width: 260px; }
.geoplan-legend h2 { font-size: 14px; margin: 0 0 4px 0; cursor: pointer; }
.geoplan-legend h2::after { content: " ▾"; color: #777; font-weight: normal; }
.geoplan-legend.gp-folded h2 { margin: 0; }
.geoplan-legend.gp-folded h2::after { content: " ▸"; }
.geoplan-legend.gp-folded > :not(h2) { display: none; }
.geoplan-legend h3 { font-size: 12px; margin: 6px 0 2px 0; color: #444; }
.geoplan-legend .row { display: flex; align-items: center; gap: 6px; }
.geoplan-legend .sw { width: 16px; height: 12px; border: 1px solid #555; display: inline-block; }
.geoplan-legend .dot { width: 10px; height: 10px; border-radius: 50%; display: inline-block;
  border: 1px solid #333; }
.geoplan-legend .ln { width: 18px; height: 0; border-top: 3px solid; display: inline-block; }
.geoplan-label { font-size: 13px; font-weight: bold; color: #222; white-space: nowrap;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; }
.geoplan-layers { padding: 4px 8px 6px 8px; font-size: 12px; line-height: 1.3; max-width: 250px;
  max-height: min(58vh, calc(100vh - 130px)); overflow-y: auto; }
.geoplan-layers.gp-more:not(.gp-folded)::after { content: "▼"; display: block; position: sticky;
  bottom: -6px; margin: 0 -8px -6px -8px; padding: 12px 0 2px 0; text-align: center;
  color: #666; font-size: 11px; pointer-events: none;
  background: linear-gradient(rgba(255,255,255,0), rgba(255,255,255,0.97) 55%); }
.leaflet-control-attribution { max-width: calc(100vw - 170px); }  /* beside the scale bar (up to 160 px) */
@media (max-width: 520px) { .geoplan-title { box-sizing: border-box;
  max-width: calc(100vw - 80px); }
  .geoplan-title h1 { font-size: 15px; }
  .gp-legend-open .geoplan-locator { display: none; } }
.geoplan-layers .gp-layers-toggle { display: block; width: 100%; border: 0; background: none;
  padding: 2px 0; font: inherit; font-weight: bold; font-size: 13px; text-align: left;
  cursor: pointer; color: #222; }
.geoplan-layers .gp-layers-toggle::after { content: " ▾"; color: #777; }
.geoplan-layers.gp-folded .gp-layers-toggle::after { content: " ▸"; }
.geoplan-layers.gp-folded .gp-layers-body { display: none; }
.geoplan-layers .gp-sec { border: 0; border-top: 1px solid #ddd; margin: 3px 0 0 0;
  padding: 2px 0 0 0; }
.geoplan-layers .gp-sec legend { font-weight: bold; color: #555; padding: 0 4px 0 0;
  font-size: 11px; }
.geoplan-layers .gp-item { display: flex; align-items: baseline; gap: 4px; cursor: pointer;
  padding: 1px 0; }
.geoplan-layers .gp-item input { margin: 0 2px 0 0; position: relative; top: 1px; }
.geoplan-layers .gp-note { color: #777; font-size: 11px; white-space: nowrap; margin-left: auto;
  padding-left: 6px; }
.geoplan-legend #geoplan-legend-standard { color: #222; }
.leaflet-popup-content table th { text-align: left; padding-right: 8px; color: #555;
  font-weight: normal; min-width: 6em; vertical-align: top; }
.leaflet-popup-content table { font-size: 12px; }
.leaflet-popup-content .gp-popup-title { font-weight: bold; font-size: 14px; margin-bottom: 4px; }
.leaflet-popup-content .gp-popup-note { margin: 6px 0 0 0; color: #555; font-size: 11px; }
.geoplan-legend .gp-measure { margin: 0 0 4px 0; color: #333; font-size: 12px; }
.geoplan-label { text-align: center; }
.geoplan-label .gp-label-name, .geoplan-label .gp-label-share { display: table; margin: 0 auto; }
.gp-street-name { position: absolute; white-space: nowrap; font-size: 11px; color: #555;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; pointer-events: none; }
.gp-place-name { position: absolute; white-space: nowrap; font-size: 12px; color: #3b2f6b;
  font-style: italic; letter-spacing: 1px; text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff;
  pointer-events: none; }
.gp-streets-hidden .gp-street { display: none; }
.geoplan-locator { padding: 3px; line-height: 0; }
.geoplan-locator .gp-locator-district { fill: #e8e4da; stroke: #666; stroke-width: 0.8; }
.geoplan-locator .gp-locator-district.gp-locator-mine { fill: #9ecae1; stroke: #2166ac; }
.geoplan-locator .gp-locator-view { fill: rgba(215,48,39,0.12); stroke: #d73027;
  stroke-width: 1.5; }
.geoplan-label .gp-label-share { font-size: 15px; color: #000; }
.geoplan-label .gp-label-part { display: table; margin: 0 auto; font-size: 11px;
  font-weight: normal; color: #7a4b00; }
</style>
"""



def _row(swatch: str, text: str, text_id: str | None = None, row_id: str | None = None,
         keys: str | None = None) -> str:
    ident = f' id="{row_id}"' if row_id else ""
    span = f' id="{text_id}"' if text_id else ""
    shown = f' data-gp-keys="{html.escape(keys)}"' if keys else ""
    return f'<div class="row"{ident}{shown}>{swatch}<span{span}>{html.escape(text)}</span></div>'


def legend_coverage(lab: Mapping[str, str], legend: Mapping[str, Any], measure: str,
                    sites: bool = False) -> str:
    """The legend section of the chosen standard under the chosen measure.

    ``legend`` holds the first standard's texts (see
    :func:`geoplan.report._map_standards.legend_texts`); the page runtime rewrites the lines
    with ids when another standard or measure is chosen.
    """
    classes = legend.get("classes", {})
    rows = "".join(
        _row(f'<span class="sw" style="background:{CLASS_COLOURS[k]}"></span>',
             classes.get(k, lab["legend_" + k]), f"geoplan-legend-{k}")
        for k in ("pass", "near", "low", "poor"))
    reach = legend.get("reach", {}).get(measure, "")
    extra = _row(f'<span class="sw" style="background:{REACH_COLOUR};opacity:.5"></span>',
                 reach, "geoplan-legend-reach", "geoplan-legend-reach-row")
    extra += _row(f'<span class="sw" style="background:{GAP_COLOUR};opacity:.6"></span>',
                  legend.get("gaps", {}).get(measure, lab["layer_gaps"]), "geoplan-legend-gaps")
    homes = legend.get("homes", {}).get(measure) or ["", "", ""]
    bands = "".join(_row(f'<span class="sw" style="background:{HOME_BAND_COLOURS[b]}"></span>',
                         homes[i], f"geoplan-legend-homes-{i}")
                    for i, b in enumerate(("within", "near", "beyond")))
    shown = "" if legend.get("homes", {}).get(measure) else ' style="display:none"'
    extra += f'<div id="geoplan-legend-homes-row"{shown}>{bands}</div>'
    if sites:
        extra += _row(f'<span class="dot" style="background:{SITE_COLOUR};border-width:2px">'
                      "</span>", lab["layer_sites"])
    return (f'<h3 id="geoplan-legend-standard">{html.escape(legend.get("heading", ""))}</h3>'
            f'<p class="gp-measure" id="geoplan-legend-measure">'
            f'{html.escape(legend.get("measure", {}).get(measure, ""))}</p>{rows}{extra}')


def legend_rows(title: str, rows: list[dict[str, str]]) -> str:
    """A legend section from rows of ``{"shape": sw|dot|ln|dash, "colour", "text"}``; a row
    with ``"key"`` (overlay keys, space-separated) shows only while one of them is ticked."""
    if not rows:
        return ""
    out = []
    for r in rows:
        colour = r["colour"]
        if r["shape"] in ("ln", "dash"):
            style = f"border-color:{colour}" + (";border-top-style:dashed"
                                                if r["shape"] == "dash" else "")
            swatch = f'<span class="ln" style="{style}"></span>'
        else:
            swatch = f'<span class="{r["shape"]}" style="background:{colour}"></span>'
        out.append(_row(swatch, r["text"], keys=r.get("key")))
    return f"<h3>{html.escape(title)}</h3>" + "".join(out)


def title_html(title: str, data_date: str | None, lab: Mapping[str, str]) -> str:
    colon, gap = ("：", "　") if lab["lang"] == "zh" else (": ", " · ")
    date = (f"{html.escape(lab['data_date'])}{colon}{html.escape(str(data_date))}{gap}"
            if data_date else "")
    return (f"<h1>{html.escape(title)}</h1>"
            f"<p>{date}{html.escape(lab['data_source'])}{colon}"
            f"{html.escape(lab['osm_attribution'])}</p>"
            f"<p>{html.escape(lab['generated_by'])} {html.escape(__version__)}</p>")
