"""The offline meeting map (geoplan.report.maps) on small synthetic results."""

from __future__ import annotations

import json
import re

import folium
import folium.plugins
import pandas as pd
import pytest

from geoplan._errors import ConfigError, OutputError
from geoplan.report._map_layers import DataLayer
from geoplan.report._offline import external_references
from geoplan.report.maps import build_map, coverage_class, render_map, write_map
from tests._report_synthetic import (
    UNSAFE_NAME,
    make_coverage,
    make_deadends,
    make_layerset,
    make_sites,
)


def has(page: str, text: str) -> bool:
    """``text`` is in ``page`` as HTML text or inside a JSON string (non-ASCII escaped)."""
    in_json = json.dumps(text, ensure_ascii=False)[1:-1].replace("<", "\\u003c")
    return text in page or json.dumps(text)[1:-1] in page or in_json in page


@pytest.fixture(scope="module")
def results():
    return make_layerset(), make_coverage(), make_deadends()


def test_map_is_offline_and_complete(results, tmp_path):
    layerset, coverage, deadends = results
    path = write_map(layerset, coverage, deadends, None, tmp_path, title="成都测试",
                     data_date="2018-06")
    assert path == tmp_path / "map.html"
    page = path.read_text(encoding="utf-8")
    assert external_references(page) == []
    assert "cdn." not in page and "jquery" not in page.lower() and "bootstrap" not in page.lower()
    assert "Leaflet 1.9.4" in page  # inlined, not linked
    assert "sourceMappingURL" not in page
    # title block, legend and layer names in Chinese
    for text in ("成都测试", "2018-06", "OpenStreetMap 贡献者", "图例", "达标", "断头路", "打通建议",
                 "公园绿地500米服务半径覆盖率", "步行可达范围", "覆盖缺口", "公厕", "学校", "图层",
                 "标准", "设施", "道路与水系（底图）"):
        assert has(page, text), text
    # the district with an unsafe name is shown as it is (escaped for HTML)
    assert has(page, UNSAFE_NAME[:8])
    # coordinates rounded to 6 decimals, file small
    assert not re.search(r"\d+\.\d{7,}", page.split("Leaflet 1.9.4")[1].split("</script>", 1)[1])
    assert path.stat().st_size < 400_000


def _groups(m: folium.Map) -> dict[str, folium.FeatureGroup]:
    return {g.layer_name: g for g in m._children.values() if isinstance(g, folium.FeatureGroup)}


def _classes(group: folium.FeatureGroup) -> list[str]:
    return [c.css_class for c in group._children.values() if isinstance(c, DataLayer)]


def test_first_standard_shown_others_hidden(results):
    layerset, coverage, deadends = results
    m = build_map(layerset, coverage, deadends, standard="toilet_300")
    page = render_map(m)
    assert ': "toilet_300");' in page  # shown first, unless a link names another
    # the legend is titled with the first standard's name and target
    legend = 'id="geoplan-legend-standard">公厕300米服务半径覆盖率（目标 80.0%）'
    assert legend.replace('"', '\\"') in page  # in the legend control's JSON string
    first = page.index("gp-coverage-toilet_300")
    assert first < page.index("gp-coverage-park_500")


def test_one_radio_group_per_standard(results):
    """Each standard is one base layer holding its choropleth, reach, gaps and sites."""
    layerset, coverage, deadends = results
    m = build_map(layerset, coverage, deadends, sites=make_sites())
    groups = _groups(m)
    park, toilet = groups["公园绿地500米服务半径覆盖率"], groups["公厕300米服务半径覆盖率"]
    assert not park.overlay and not toilet.overlay
    assert _classes(park) == ["gp-coverage gp-coverage-park_500", "gp-reached gp-reached-park_500",
                              "gp-gaps gp-gaps-park_500 gp-gaps-buffer",
                              "gp-gaps gp-gaps-park_500 gp-gaps-network",
                              "gp-sites gp-sites-park_500"]
    assert _classes(toilet)[:3] == ["gp-coverage gp-coverage-toilet_300",
                                    "gp-reached gp-reached-toilet_300",
                                    "gp-gaps gp-gaps-toilet_300 gp-gaps-buffer"]
    # nothing of a standard is left outside its group
    loose = [c.css_class for c in m._children.values() if isinstance(c, DataLayer)]
    assert not any(c.startswith(("gp-coverage", "gp-reached", "gp-gaps", "gp-sites"))
                   for c in loose), loose
    page = render_map(m)
    # the layer panel: radios for standards (with the legend heading each one sets), then
    # the overlays; no stock Leaflet layer control
    assert "L.control.layers" not in page
    assert has(page, "公园绿地500米服务半径覆盖率（目标 90.0%）")
    panel = page[page.index('var sections = ['):page.index('function restack()')]
    assert panel.count('"key":"park_500"') == 1 and panel.count('"key":"toilet_300"') == 1
    assert panel.index('"standard"') < panel.index('"measure"') < panel.index('"overlay"')
    for key in ("buffer", "network", "population", "parks", "schools", "toilets", "bus_stops",
                "services", "deadends", "candidates", "context", "labels"):
        assert f'"key":"{key}"' in panel, key


def test_english_map(results):
    layerset, coverage, deadends = results
    page = render_map(build_map(layerset, coverage, deadends, lang="en", title="Chengdu test"))
    for text in ("Legend", "meets target", "Dead-end roads", "Parks within 500 m (Target 90.0%)",
                 "Layers", "Standard", "OpenStreetMap contributors"):
        assert has(page, text), text
    assert "图例" not in page


def test_map_without_results(results):
    layerset, _, _ = results
    page = render_map(build_map(layerset, None, None))
    assert external_references(page) == []
    assert has(page, "公厕")
    assert "radio: true" not in page  # no standards to choose from


def test_tiles(results):
    layerset, coverage, deadends = results
    page = render_map(build_map(layerset, coverage, deadends, tiles="osm"))
    assert "tile.openstreetmap.org" in page
    page = render_map(build_map(layerset, coverage, deadends, tiles="tianditu",
                                tianditu_key="abc123"))
    assert "tianditu.gov.cn" in page and "tk=abc123" in page
    with pytest.raises(ConfigError, match="tianditu-key"):
        build_map(layerset, coverage, deadends, tiles="tianditu")
    with pytest.raises(ConfigError, match="unknown value"):
        build_map(layerset, coverage, deadends, tiles="google")
    assert "tile.openstreetmap.org" not in render_map(build_map(layerset, coverage, deadends,
                                                                 tiles="none"))


def test_cdn_links_are_refused(results):
    layerset, coverage, deadends = results
    m = build_map(layerset, coverage, deadends)
    folium.plugins.MeasureControl().add_to(m)  # links a CDN script
    with pytest.raises(OutputError, match="internet"):
        render_map(m)


def test_rewrite_is_atomic(results, tmp_path):
    layerset, coverage, deadends = results
    path = write_map(layerset, coverage, deadends, None, tmp_path)
    before = path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError):
        write_map(layerset, coverage, deadends, None, tmp_path, tiles="tianditu")
    assert path.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]


@pytest.mark.parametrize(("share", "target", "cls"), [
    (0.95, 0.9, "pass"), (0.8, 0.9, "near"), (0.5, 0.9, "low"), (0.1, 0.9, "poor"),
    (None, 0.9, "nodata"), (float("nan"), 0.9, "nodata"), (0.3, None, "pass"),
])
def test_coverage_class(share, target, cls):
    assert coverage_class(share, target) == cls


def test_a_hostile_district_name_cannot_break_out_of_the_page():
    # a district named like a script tag: the map must carry the name as data, never as markup
    hostile = '</script><script>alert("x")</script><b>区'
    names = ["锦江区", hostile]
    page = render_map(build_map(make_layerset(names), make_coverage(names),
                                make_deadends(names)))
    # not one piece of the name is markup: no injected script, no early end of a script block
    assert "<script>alert(" not in page and "<b>" not in page
    assert page.count("<script") == page.count("</script>")
    # ...and the name comes back whole from the page's data
    found = {name for m in re.findall(r'"district":(\[[^\]]*\])', page) for name in json.loads(m)}
    assert hostile in found and "锦江区" in found


def test_suggested_sites(results):
    layerset, coverage, deadends = results
    page = render_map(build_map(layerset, coverage, deadends, sites=make_sites()))
    assert has(page, "建议新增设施选址") and "gp-sites" in page
    assert has(page, "42.0% → 70.0%")


def test_population_by_land_area_in_popups(results):
    layerset, coverage, deadends = results
    area = make_coverage()
    area.table["population_source"] = "area"
    page = render_map(build_map(layerset, area, deadends))
    # no people: no population figure, and no weight named as if land stood in for people
    assert not has(page, "权重：居住用地面积")
    assert '"gap_pop_txt":[null,null' in page
    assert '"pop_txt":[null' in page
    assert has(page, "步行500米内的居民人数占比：本分析没有人口来源，不以用地面积充当人口")
    assert not has(page, "按用地面积加权")
    people = render_map(build_map(layerset, coverage, deadends))
    assert has(people, "人口覆盖率（步行）（权重：第七次人口普查（按住宅分配））")
    assert '"gap_pop_txt":["600"' in people
    assert has(people, "步行500米内的居民人数占比（%）")


def test_template_syntax_in_names_is_never_evaluated():
    """branca parses every rendered script again as a Jinja template: names must stay text."""
    names = ["{{ 7*7 }}区", "{% if true %}真{% endif %}区"]
    layerset = make_layerset(names)
    layerset.layers["toilets"]["name"] = ["{{ 6*7 }}厕", "{# c #}"]
    coverage = make_coverage(names)
    coverage.table["name_zh"] = "{{ 5*5 }}标准"
    page = render_map(build_map(layerset, coverage, make_deadends(names), title="{{ 8*8 }}"))
    for evaluated in ("49区", "42厕", ">64<", "真区", "25标准"):
        assert evaluated not in page, evaluated
    assert "\\u007b{ 7*7 }}区" in page and "\\u007b{ 8*8 }}" in page


def test_document_titles_target_year_and_items_without_data_in_popups(results):
    layerset, _, deadends = results
    richer = make_coverage()
    richer.table["source_title"] = "《鹤壁市百城建设提质工程实施方案》（2018）"
    richer.table["target_year"] = 2023
    richer.table["items_no_data"] = ""
    page = render_map(build_map(layerset, richer, deadends))
    assert has(page, "《鹤壁市百城建设提质工程实施方案》（2018）") and has(page, "依据文件")
    assert has(page, "90.0%（2023年）")
    assert '"items_no_data_txt":[null,null]' in page  # empty: the row is left out


def test_items_without_data_in_the_map_s_language(results):
    # the English map named a life circle's items without data in Chinese (社区服务站、…)
    layerset, _, deadends = results
    richer = make_coverage()
    richer.table["items_no_data"] = "社区服务站、养老院"
    richer.items = pd.DataFrame({"standard": ["s", "s"], "item": ["station", "home"],
                                 "name_zh": ["社区服务站", "养老院"],
                                 "name_en": ["Community service station", "Care home"]})
    en = render_map(build_map(layerset, richer, deadends, lang="en"))
    assert has(en, "Community service station, Care home") and not has(en, "社区服务站")
    zh = render_map(build_map(layerset, richer, deadends))
    assert has(zh, "社区服务站、养老院")


def test_a_partly_covered_districts_label_says_how_much_is_inside(results):
    # the label read "锦江区 0.0%" for a district 6 % inside the data; the popup alone said so
    layerset, coverage, deadends = results
    page = render_map(build_map(layerset, coverage, deadends))
    labels = json.loads(re.search(r"geoplan\.districtLabels\([^,]+,\s*(\[.*?\])\);", page,
                                  re.DOTALL).group(1))
    assert [it.get("part") for it in labels] == ["数据内 50%"] * len(labels)
    whole = make_layerset()
    whole.layers["districts"]["inside_share"] = 1.0
    page = render_map(build_map(whole, coverage, deadends, lang="en"))
    labels = json.loads(re.search(r"geoplan\.districtLabels\([^,]+,\s*(\[.*?\])\);", page,
                                  re.DOTALL).group(1))
    assert all("part" not in it for it in labels)


def test_the_background_roads_are_one_feature_of_every_part() -> None:
    import geopandas as gpd
    import shapely

    from geoplan.report._map_overlays import as_one_feature

    lines = gpd.GeoDataFrame(geometry=[
        shapely.LineString([(0, 0), (1, 1)]),
        shapely.MultiLineString([[(2, 2), (3, 3)], [(4, 4), (5, 5), (6, 6)]]),
        shapely.LineString(), None], crs=4326)
    one = as_one_feature(lines)
    assert len(one) == 1 and one.crs == lines.crs
    (geom,) = one.geometry
    assert geom.geom_type == "MultiLineString" and len(geom.geoms) == 3
    assert shapely.get_coordinates(geom).tolist() == [
        [0, 0], [1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6]]  # not noded, not moved
    assert len(as_one_feature(lines.iloc[2:])) == 0  # nothing to draw: no feature at all


def test_the_default_map_draws_its_background_roads_as_one_feature(chengdu_outputs) -> None:
    page = (chengdu_outputs / "map.html").read_text(encoding="utf-8")
    (spec,) = re.findall(r'\{"cls":"gp-context-roads","kind":"line","n":(\d+)', page)
    assert spec == "1"
