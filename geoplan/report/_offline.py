"""Make a folium map load nothing from the internet.

folium's :class:`~folium.Map` links Leaflet, jQuery, Bootstrap, Font Awesome and
Leaflet.awesome-markers from CDNs. The meeting map opens in rooms with no internet, so
:func:`make_offline` drops those links and inlines the vendored Leaflet 1.9.4 (see
``geoplan/report/assets/README.md``) into the page header: one self-contained HTML file.
The map only uses features of plain Leaflet (circle markers, div icons, its own legend), so
nothing else is needed. :func:`external_references` checks the rendered page.
"""

from __future__ import annotations

import base64
import functools
import re
from importlib import resources
from typing import cast

import folium
from branca.element import Figure

from geoplan.report._map_render import text_element


@functools.lru_cache(maxsize=1)
def leaflet_css() -> str:
    """Leaflet's stylesheet with its images inlined as data: URLs."""
    base = resources.files("geoplan.report") / "assets" / "leaflet"
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        data = (base / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    return re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", inline, css)


@functools.lru_cache(maxsize=1)
def leaflet_js() -> str:
    """Leaflet's minified script, without its source-map comment."""
    js = (resources.files("geoplan.report") / "assets" / "leaflet" / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js)
    # the script goes inside an HTML <script> element: never let it close that element
    return js.replace("</script", "<\\/script")


def make_offline(m: folium.Map) -> folium.Map:
    """Replace ``m``'s CDN links by inline Leaflet JS and CSS (in place); returns ``m``."""
    m.default_js = []
    m.default_css = []
    header = cast(Figure, m.get_root()).header
    header.add_child(text_element(f"<style>{leaflet_css()}</style>"), name="geoplan_leaflet_css")
    header.add_child(text_element(f"<script>{leaflet_js()}</script>"), name="geoplan_leaflet_js")
    return m


_EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)",
    re.IGNORECASE,
)


def external_references(html: str) -> list[str]:
    """URLs of scripts, stylesheets, images or frames that ``html`` would fetch from the web.

    Tile URL templates inside the map script are not listed: tiles are optional and a map
    without them still shows all its own layers.
    """
    return _EXTERNAL.findall(html)
