"""Map furniture: colours, the title block, the legend, the layer panel, the scale bar and CSS.

Split from :mod:`geoplan.report.maps`, which draws the data layers.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from branca.element import MacroElement
from folium.template import Template

from geoplan._version import __version__
from geoplan.report._labels import labels

PASS_COLOUR = "#1a9850"
CLASS_COLOURS = {"pass": PASS_COLOUR, "near": "#fee08b", "low": "#fc8d59", "poor": "#d73027",
                 "nodata": "#bdbdbd"}
FACILITY_COLOURS = {"toilets": "#8e24aa", "schools": "#1565c0", "bus_stops": "#ef6c00",
                    "services": "#00838f", "parks": "#2e7d32", "green_space": "#66bb6a"}
REACH_COLOUR = "#4575b4"
GAP_COLOUR = "#54278f"
DEADEND_COLOUR = "#111111"
CANDIDATE_COLOUR = "#00a0e9"
SITE_COLOUR = "#ffd600"


class ScaleBar(MacroElement):
    """Leaflet's scale bar, metric only."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 160, position: "bottomleft"})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)


class HtmlControl(MacroElement):
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
            {%- if this.attribution %}
            {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.attribution|tojson }});
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
        # JSON inside a <script>: keep "</" from closing the element
        self.html_json = json.dumps(body, ensure_ascii=False).replace("</", "<\\/")


class LayerPanel(MacroElement):
    """The grouped layer switcher: one radio per standard, then short lists of checkboxes.

    ``sections`` is a list of ``{"title", "radio", "items"}``; each item is ``{"key",
    "label", "note", "layer", "legend", "back"}`` where ``layer`` is the folium layer it shows
    and hides (its JS variable), ``legend`` (radio items) the text the legend's standard
    heading takes when the item is chosen, and ``back`` keeps a background layer beneath the
    others. Choosing a standard removes the previous one, adds the new one, retitles the legend
    and brings the ticked overlays back on top (so that facilities stay clickable). The panel
    folds away with its heading button; it starts folded on small screens.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var sections = [
            {%- for sec in this.sections %}
                {title: {{ sec.title|tojson }}, radio: {{ "true" if sec.radio else "false" }},
                 items: [
                {%- for it in sec["items"] %}
                    {key: {{ it.key|tojson }}, label: {{ it.label|tojson }},
                     note: {{ (it.note or "")|tojson }}, legend: {{ (it.legend or "")|tojson }},
                     back: {{ "true" if it.back else "false" }},
                     layer: {{ it.layer.get_name() }}},
                {%- endfor %}
                ]},
            {%- endfor %}
            ];
            function restack() {
                sections.forEach(function(sec) {
                    if (sec.radio) { return; }
                    sec.items.forEach(function(it) {
                        if (!map.hasLayer(it.layer)) { return; }
                        if (it.back) { it.layer.bringToBack(); } else { it.layer.bringToFront(); }
                    });
                });
            }
            function choose(sec, chosen) {
                sec.items.forEach(function(o) {
                    if (o !== chosen && map.hasLayer(o.layer)) { map.removeLayer(o.layer); }
                });
                if (!map.hasLayer(chosen.layer)) { map.addLayer(chosen.layer); }
                var head = document.getElementById("geoplan-legend-standard");
                if (head && chosen.legend) { head.textContent = chosen.legend; }
                restack();
            }
            var ctl = L.control({position: "topright"});
            ctl.onAdd = function() {
                var div = L.DomUtil.create("div", "geoplan-box geoplan-layers");
                div.id = "geoplan-layers";
                var toggle = L.DomUtil.create("button", "gp-layers-toggle", div);
                toggle.type = "button";
                toggle.textContent = {{ this.heading|tojson }};
                var body = L.DomUtil.create("div", "gp-layers-body", div);
                function fold(folded) {
                    L.DomUtil[folded ? "addClass" : "removeClass"](div, "gp-folded");
                    toggle.setAttribute("aria-expanded", folded ? "false" : "true");
                }
                L.DomEvent.on(toggle, "click", function() {
                    fold(!L.DomUtil.hasClass(div, "gp-folded"));
                });
                fold(window.innerWidth < 700 || window.innerHeight < 480);
                sections.forEach(function(sec, si) {
                    var box = L.DomUtil.create("fieldset", "gp-sec " + (sec.radio
                        ? "gp-sec-standards" : "gp-sec-overlays"), body);
                    L.DomUtil.create("legend", "", box).textContent = sec.title;
                    sec.items.forEach(function(it) {
                        var label = L.DomUtil.create("label", "gp-item", box);
                        var input = L.DomUtil.create("input", "", label);
                        input.type = sec.radio ? "radio" : "checkbox";
                        if (sec.radio) { input.name = "geoplan-standard"; }
                        input.value = it.key;
                        input.dataset.layer = it.key;
                        input.checked = map.hasLayer(it.layer);
                        L.DomUtil.create("span", "gp-name", label).textContent = it.label;
                        if (it.note) {
                            L.DomUtil.create("span", "gp-note", label).textContent = it.note;
                        }
                        L.DomEvent.on(input, "change", function() {
                            if (sec.radio) {
                                if (input.checked) { choose(sec, it); }
                            } else if (input.checked) {
                                map.addLayer(it.layer);
                                restack();
                            } else {
                                map.removeLayer(it.layer);
                            }
                        });
                    });
                });
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo(map);
            restack();
        })();
        {% endmacro %}
    """)

    def __init__(self, sections: list[dict[str, Any]], *, heading: str) -> None:
        super().__init__()
        self._name = "GeoplanLayerPanel"
        self.sections = [s for s in sections if s["items"]]
        self.heading = heading


MAP_CSS = """
<style>
.leaflet-container { background: #f4f2ec; font-family: "Noto Sans CJK SC", "Source Han Sans SC",
  "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "WenQuanYi Micro Hei", sans-serif; }
.geoplan-box { background: rgba(255,255,255,0.94); padding: 8px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font-size: 13px; line-height: 1.45; color: #222; }
.geoplan-title h1 { font-size: 17px; margin: 0 0 3px 0; }
.geoplan-title p { margin: 0; color: #444; font-size: 12px; }
.geoplan-legend { max-width: 260px; }
.geoplan-legend h2 { font-size: 14px; margin: 0 0 4px 0; }
.geoplan-legend h3 { font-size: 12px; margin: 6px 0 2px 0; color: #444; }
.geoplan-legend .row { display: flex; align-items: center; gap: 6px; }
.geoplan-legend .sw { width: 16px; height: 12px; border: 1px solid #555; display: inline-block; }
.geoplan-legend .dot { width: 10px; height: 10px; border-radius: 50%; display: inline-block;
  border: 1px solid #333; }
.geoplan-legend .ln { width: 18px; height: 0; border-top: 3px solid; display: inline-block; }
.geoplan-label { font-size: 13px; font-weight: bold; color: #222; white-space: nowrap;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; }
.geoplan-layers { padding: 4px 8px 6px 8px; font-size: 12px; line-height: 1.3; max-width: 250px;
  max-height: calc(100vh - 130px); overflow-y: auto; }
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
.leaflet-popup-content table th { text-align: left; padding-right: 8px; color: #555; }
</style>
"""



def legend_coverage(lab: Mapping[str, str], heading: str, sites: bool = False) -> str:
    """The legend section of the chosen standard; ``heading`` (its name and target) is
    replaced by the layer panel when another standard is chosen."""
    rows = "".join(
        f'<div class="row"><span class="sw" style="background:{CLASS_COLOURS[k]}"></span>'
        f'{html.escape(lab["legend_" + k])}</div>' for k in ("pass", "near", "low", "poor"))
    extra = (f'<div class="row"><span class="sw" style="background:{REACH_COLOUR};opacity:.5">'
             f'</span>{html.escape(lab["layer_reached"])}</div>'
             f'<div class="row"><span class="sw" style="background:{GAP_COLOUR};opacity:.6">'
             f'</span>{html.escape(lab["layer_gaps"])}</div>')
    if sites:
        extra += (f'<div class="row"><span class="dot" style="background:{SITE_COLOUR};'
                  f'border-width:2px"></span>{html.escape(lab["layer_sites"])}</div>')
    return (f'<h3 id="geoplan-legend-standard">{html.escape(heading)}</h3>'
            f'<h3>{html.escape(lab["legend_coverage"])}</h3>{rows}{extra}')


def title_html(title: str, data_date: str | None, lab: Mapping[str, str]) -> str:
    colon, gap = ("：", "　") if lab is labels("zh") else (": ", " · ")
    date = (f"{html.escape(lab['data_date'])}{colon}{html.escape(str(data_date))}{gap}"
            if data_date else "")
    return (f"<h1>{html.escape(title)}</h1>"
            f"<p>{date}{html.escape(lab['data_source'])}{colon}"
            f"{html.escape(lab['osm_attribution'])}</p>"
            f"<p>{html.escape(lab['generated_by'])} {html.escape(__version__)}</p>")
