"""Analysis units called what the config calls them (``districts.unit``: 街道, 社区, 网格…).

A planner who analyses 街道 must read 各街道覆盖率 and 本街道 in every report, map, workbook,
GeoPackage and terminal table, never 区县; where 区县 means the census's 区县 (a 街道's
residents are its share of its 区县's), it stays.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import sqlite3
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from geoplan._errors import ConfigError
from geoplan.cli._format import city_text, coverage_text, heading, scenario_text
from geoplan.config import load_config
from geoplan.report._labels import in_unit, labels
from tests.conftest import ROOT

UNIT = "街道"


def test_in_unit_words_the_unit_and_nothing_else():
    assert in_unit("各区县覆盖率；本区只有 20%；全区面积；本区县", UNIT) == \
        "各街道覆盖率；本街道只有 20%；全街道面积；本街道"
    # 小区, 缓冲区, 分区, 建成区 are not the analysis unit
    kept = "封闭小区内部；缓冲区面积；分区详图；建成区绿地率"
    assert in_unit(kept, "网格") == kept
    assert in_unit("各区县", "区县") == "各区县"


def test_labels_name_the_unit_and_keep_their_language():
    zh = labels("zh", UNIT)
    assert (zh["district"], zh["index_title"], zh["layer_labels"]) == \
        ("街道", "各街道服务半径达标情况", "街道名称")
    assert (zh["lang"], zh["unit"], zh["share_buffer"]) == ("zh", UNIT, "直线覆盖率")
    assert labels("zh")["district"] == "区县" and labels("zh")["unit"] == "区县"
    en = labels("en", UNIT)
    assert (en["district"], en["lang"], en["unit"]) == ("District", "en", UNIT)


def _config(tmp_path: Path, unit: object) -> Path:
    data = {"name": "t",
            "districts": {"path": str(ROOT / "layers/boundaries/510100_districts_gcj02.geojson"),
                          "crs": "gcj02", "unit": unit},
            "osm": {"path": str(ROOT / "layers/chengdu/chengdu_core_2018.osm.pbf")}}
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_config_takes_a_word_and_refuses_markup_or_formulas(tmp_path):
    assert load_config(_config(tmp_path, " 社区 ")).districts.unit == "社区"
    for bad in ("<b>街道</b>", "=HYPERLINK(1)", "", "街道街道街道街道街道"):
        with pytest.raises(ConfigError, match=r"districts\.unit.*not a word"):
            load_config(_config(tmp_path, bad))


def test_the_terminal_tables_name_the_unit(chengdu_results):
    table = chengdu_results[0].table
    assert heading("zh", UNIT) == "各街道覆盖率" and heading("en", UNIT) == "coverage per district"
    text = coverage_text(table, "zh", UNIT)
    assert text.splitlines()[0].split()[1] == "街道" and "区县" not in text
    city = city_text(table, "zh", unit=UNIT)
    assert "达标街道" in city and "各街道按需求量" in city and "区县" not in city
    assert "区县" in coverage_text(table, "zh")  # the default still says 区县
    change = table.assign(**{f"{m}_{w}": table[m] for m in ("share_buffer", "share_network")
                             for w in ("before", "after")},
                          share_buffer_change=0.0, share_network_change=0.0,
                          n_facilities_before=1, n_facilities_after=1,
                          meets_target_after=table["meets_target"])
    assert scenario_text(change, "zh", UNIT).splitlines()[0].split()[1] == "街道"


def test_the_default_pages_still_say_benqu(chengdu_outputs):
    texts = [p.read_text(encoding="utf-8") for p in (chengdu_outputs / "reports").glob("0*.html")]
    assert len(texts) == 4
    assert all("本区只有" in t and "仅为本区在数据范围内" in t and "仅为本 " not in t
               for t in texts)
    # the data sources in Chinese too
    assert all("区县边界：510100_districts_gcj02.geojson（声明坐标系 gcj02）" in t
               and "OpenStreetMap 数据 chengdu_core_2018.osm.pbf，数据日期 2018-06" in t
               and "data of" not in t for t in texts)


@pytest.fixture(scope="module")
def street_outputs(tmp_path_factory, chengdu_config, chengdu_layers, chengdu_results):
    """The default analysis' map, pages, workbook and GeoPackages, its districts called 街道."""
    from geoplan.coverage import write_coverage
    from geoplan.data_checks import data_checks, write_data_checks
    from geoplan.pipeline import check_config_standards
    from geoplan.report.html import write_reports
    from geoplan.report.maps import write_map

    layers = dataclasses.replace(chengdu_layers, unit=UNIT)
    coverage, deadends, sites = chengdu_results
    coverage = copy.copy(coverage)
    coverage.meta = {**coverage.meta, "unit": UNIT}
    checks = data_checks(layers, coverage, deadends, check_config_standards(chengdu_config),
                         layers.datum)
    out = tmp_path_factory.mktemp("street-units")
    write_map(layers, coverage, deadends, chengdu_config, out, sites=sites, checks=checks)
    files = write_reports(layers, coverage, deadends, chengdu_config, out, sites=sites,
                          checks=checks)
    assert files.failures == {}
    write_coverage(coverage, out)
    write_data_checks(checks, out, unit=UNIT)
    return out


def _unit_words(text: str) -> list[str]:
    """Every 区县, 本区 or 全区 of ``text`` with a little context."""
    return [m.group(0) for m in re.finditer(r".{0,12}(区县|本区|全区).{0,12}", text)]


def test_pages_and_map_call_the_districts_by_the_unit(street_outputs):
    index = (street_outputs / "reports" / "index.html").read_text(encoding="utf-8")
    assert "各街道服务半径达标情况" in index and not _unit_words(index)
    pages = sorted((street_outputs / "reports").glob("*.html"))
    texts = [p.read_text(encoding="utf-8") for p in pages if p.name != "index.html"]
    assert len(texts) == 4
    # the sample's districts lie partly inside the data: their pages say so of the unit
    assert all("本街道只有" in t and "街道边界：" in t for t in texts)
    # and so do the per-person indicators' notes (the unit, not the indicator's ㎡/人)
    assert all("仅为本街道在数据范围内" in t and "仅为本 " not in t for t in texts)
    for t in texts:
        # the population note names the census's 区县; nothing else names any 区县
        note = re.search(r"人口：第七次全国人口普查[^<]*", t)
        assert note is not None and "区县" in note.group(0)
        assert _unit_words(t.replace(note.group(0), "")) == []
    page = (street_outputs / "map.html").read_text(encoding="utf-8")
    # the labels layer, the districts' popups and the data checks' partial districts
    assert "街道名称" in page and "占全街道 20%" in page and "街道只有部分在数据范围内" in page
    # the live scenario's script words its default 区县 for the page's unit in the browser
    at = page.index("gp.liveScenario = function")
    drawn = page[:page.rindex("<script", 0, at)] + page[page.index("</script>", at):]
    assert [w for w in _unit_words(drawn) if "普查" not in w] == []
    assert '"unitWord":"街道"' in page  # the live scenario's column and help text


def test_workbook_and_geopackages_call_the_districts_by_the_unit(street_outputs):
    wb = load_workbook(street_outputs / "geoplan_report.xlsx", read_only=True)
    summary = wb.worksheets[0]
    headers = [c.value for row in summary.iter_rows(min_row=1, max_row=8) for c in row]
    assert "街道" in headers and "区县" not in headers
    checks_sheet = next(ws for ws in wb.worksheets if ws.title == "数据核查")
    first = [c.value for c in next(checks_sheet.iter_rows(max_row=1))]
    assert "街道" in first and "区县" not in first
    assert any(v == "街道只有部分在数据范围内" for row in checks_sheet.iter_rows(values_only=True)
               for v in row)
    # the per-person indicators' notes in Chinese, as on the pages, naming the unit
    notes = [v for row in wb["人均指标"].iter_rows(min_row=2, values_only=True) for v in row
             if isinstance(v, str) and "数据范围内" in v]
    assert notes and all("本街道" in v for v in notes if "仅为" in v)
    assert not [v for row in wb["人均指标"].iter_rows(values_only=True) for v in row
                if isinstance(v, str) and "of the district" in v]
    # the residents' notes and the data checks' details in Chinese too, naming the unit
    residents = [v for row in wb["常住人口（普查）"].iter_rows(min_row=2, values_only=True)
                 for v in row if isinstance(v, str)]
    assert sum("本街道只有" in v for v in residents) == 4
    assert not [v for v in residents if "lies inside the data" in v]
    details = [v for row in checks_sheet.iter_rows(min_row=2, values_only=True) for v in row
               if isinstance(v, str)]
    assert sum("不是全街道" in v for v in details) == 4
    assert not [v for v in details if "lies inside the data" in v]
    wb.close()
    for name in ("coverage.gpkg", "data_checks.gpkg"):
        con = sqlite3.connect(street_outputs / name)
        try:
            qml = "".join(q for (q,) in con.execute("SELECT styleQML FROM layer_styles"))
        finally:
            con.close()
        assert re.search(r'field="district" index="\d+" name="街道"', qml), name
        assert 'name="区县"' not in qml, name


@pytest.mark.browser
def test_the_live_scenario_names_the_unit_in_a_browser(street_outputs):
    """The live scenario's help line and its table's first column, in headless Chromium."""
    from tests._browser import Session, persistent_context

    with persistent_context() as context:
        session = Session(context)
        page = session.open(street_outputs / "map.html")
        page.locator("#geoplan-layers input[type=radio][value=bus_stop_500]").check()
        assert "各街道直线覆盖率即时更新" in page.locator("#geoplan-live").inner_text()
        page.locator("#geoplan-live-mode").check()
        heads = page.locator("#geoplan-live th").all_inner_texts()
        assert heads[0] == "街道", heads
        assert session.errors == [] and session.blocked == []


def test_a_unit_almost_whole_says_so_as_its_indicators_do():
    # one threshold (vocab.WHOLE_DISTRICT_SHARE) for the page's note, the indicators' notes,
    # the data checks and the map; the page said nothing at 99.6% while the indicators did
    from geoplan.report._explain import partial_note

    assert partial_note(0.996, "zh", "社区") == \
        "本社区只有 99.6% 的面积在数据范围之内，本报告的所有数字只反映这一部分。"
    assert partial_note(0.9995, "zh") is None
    assert partial_note(0.5, "en").startswith("Only 50% of this district's area")
