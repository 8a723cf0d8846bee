"""The map's elements render their macros' output as text: the page is what branca writes."""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import pytest
import shapely
from branca.element import Element
from folium.map import Layer

from geoplan.report._map_controls import ScaleBar
from geoplan.report._map_layers import DataLayer
from geoplan.report._map_render import PlainRender, text_element

TEXTS = ["", "\n", "a", "a\n", "a\n\n", "\n  var x = 1;\n  ", "a\r\nb\rc\n", "中文 ‹›\n",
         "{\"k\":{\"a\":[1,{}]}}", "} {x} {"]


@pytest.mark.parametrize("text", TEXTS)
def test_text_renders_as_branca_would(text):
    assert text_element(text).render() == Element(text).render()


@pytest.mark.parametrize("text", ["{{ 6 * 7 }}", "a {% if true %}b{% endif %}", "{# c #}d"])
def test_text_with_template_syntax_still_goes_through_jinja(text):
    assert text_element(text).render() == Element(text).render()


class _FoliumLayer(DataLayer):
    render = Layer.render  # folium's own path: the macro output compiled as a template


def _page(layer_class: type[DataLayer], show: bool) -> str:
    m = folium.Map(location=[30.6, 104.0], zoom_start=13, tiles=None)
    gdf = gpd.GeoDataFrame({"name": ["a {x}", "b\nc"]},
                           geometry=[shapely.Point(104.0, 30.6), shapely.Point(104.01, 30.61)],
                           crs="EPSG:4326")
    group = folium.FeatureGroup(name="g").add_to(m)
    layer_class(gdf, css_class="gp-test", style={"color": "#000"}, fields=[("name", "Name", "")],
                popup_title="name", show=show).add_to(group)
    ScaleBar().add_to(m)
    return re.sub(r"[0-9a-f]{32}", "ID", m.get_root().render())


@pytest.mark.parametrize("show", [True, False])
def test_page_is_the_same_as_folium_renders_it(show):
    assert issubclass(DataLayer, PlainRender)
    assert _page(DataLayer, show) == _page(_FoliumLayer, show)
