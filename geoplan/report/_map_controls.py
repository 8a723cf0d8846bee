"""Map furniture: colours, the title block, the legend, the scale bar and the page's CSS.

Split from :mod:`geoplan.report.maps`, which draws the data layers.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping

from branca.element import MacroElement
from folium.template import Template

from geoplan import __version__
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
.leaflet-control-layers-expanded { max-height: 70vh; overflow-y: auto; font-size: 12px; }
.leaflet-popup-content table th { text-align: left; padding-right: 8px; color: #555; }
</style>
"""



def legend_coverage(lab: Mapping[str, str]) -> str:
    rows = "".join(
        f'<div class="row"><span class="sw" style="background:{CLASS_COLOURS[k]}"></span>'
        f'{html.escape(lab["legend_" + k])}</div>' for k in ("pass", "near", "low", "poor"))
    extra = (f'<div class="row"><span class="sw" style="background:{REACH_COLOUR};opacity:.5">'
             f'</span>{html.escape(lab["layer_reached"])}</div>'
             f'<div class="row"><span class="sw" style="background:{GAP_COLOUR};opacity:.6">'
             f'</span>{html.escape(lab["layer_gaps"])}</div>')
    return f"<h3>{html.escape(lab['legend_coverage'])}</h3>{rows}{extra}"


def title_html(title: str, data_date: str | None, lab: Mapping[str, str]) -> str:
    colon, gap = ("：", "　") if lab is labels("zh") else (": ", " · ")
    date = (f"{html.escape(lab['data_date'])}{colon}{html.escape(str(data_date))}{gap}"
            if data_date else "")
    return (f"<h1>{html.escape(title)}</h1>"
            f"<p>{date}{html.escape(lab['data_source'])}{colon}"
            f"{html.escape(lab['osm_attribution'])}</p>"
            f"<p>{html.escape(lab['generated_by'])} {html.escape(__version__)}</p>")
