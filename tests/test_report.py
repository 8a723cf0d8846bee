"""Per-district gap reports, the Excel workbook and the report/map commands."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from markupsafe import escape

from geoplan._errors import OutputError
from geoplan.report import html as report_html
from geoplan.report._data import district_slugs, slugify
from geoplan.report._offline import external_references
from geoplan.report.html import write_reports
from geoplan.report.tables import sheet_title
from tests._cli import geoplan_in_process
from tests._report_synthetic import (
    DISTRICTS,
    UNSAFE_NAME,
    make_coverage,
    make_deadends,
    make_layerset,
    make_sites,
)
from tests._tiny_osm import write_tiny_inputs
from tests.conftest import CHENGDU_CONFIG, CHENGDU_PBF, ROOT

SAFE_FILE = re.compile(r"^[\w-]+\.html$")  # letters of any script: 青羊区 stays readable


def geoplan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geoplan", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "GEOPLAN_NO_PROGRESS": "1"})


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    files = write_reports(make_layerset(), make_coverage(), make_deadends(), None, out,
                          sites=make_sites())
    return out, files


def test_files_and_safe_names(written):
    out, files = written
    assert files.failures == {}
    assert files["index"] == out / "reports" / "index.html"
    assert files["workbook"] == out / "geoplan_report.xlsx"
    pages = sorted(p.name for p in (out / "reports").glob("*.html") if p.name != "index.html")
    assert pages == ["01-510104.html", "02-青羊-区.html"]
    assert all(SAFE_FILE.match(p) for p in pages)
    assert not list(out.rglob(".*tmp*"))


def test_district_page_content(written):
    out, _ = written
    page = (out / "reports" / "02-青羊-区.html").read_text(encoding="utf-8")
    # the real name, unsafe characters and all, is inside the page (escaped for HTML)
    assert str(escape(UNSAFE_NAME)) in page
    for text in ("公园绿地500米服务半径覆盖率", "公厕300米服务半径覆盖率", "直线覆盖率",
                 "步行覆盖率", "人口覆盖率（直线）", "未达标", "最大的五处缺口", "断头路",
                 "建议打通的道路", "数据来源与日期", "OpenStreetMap"):
        assert text in page, text
    # five gaps per standard, each with an inline SVG whose labels are text, not outlines
    assert page.count("<figure>") == 2 * 5
    assert page.count("<svg") == 2 * 5
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", page)
    assert any("米" in t for t in texts)  # scale bar
    # each gap named once, under its map (the map itself said it again in its corner)
    assert not any("处缺口" in t for t in texts)
    captions = re.findall(r"<figcaption>([^<]*)", page)
    assert len(captions) == 2 * 5 and captions[0].startswith("第 1 处缺口 · ")
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "inline SVG ids must be unique in the page"
    assert external_references(page) == []
    assert "<script" not in page
    # gap sizes and people: population_source is 'census' in the synthetic results
    assert "2.25 公顷" in page and " m²" not in page  # rank 1: 150 m × 150 m, in hectares
    # the three measures explained; the district lies half inside the data (inside_share 0.5)
    assert "三种量度" in page
    assert "本区只有 50% 的面积在数据范围之内" in page
    assert "建议新增设施选址（补齐缺口）" in page and "42.0%" in page and "70.0%" in page


def test_index_page(written):
    out, _ = written
    page = (out / "reports" / "index.html").read_text(encoding="utf-8")
    assert 'href="01-510104.html"' in page and 'href="02-青羊-区.html"' in page
    assert "锦江区" in page
    # the map's four classes: 0.52 of a 0.9 target is "short" (50–75%)
    assert "95.0%" in page and 'class="num pass"' in page and 'class="num low"' in page
    assert "接近目标" in page and "严重不足" in page and "三种量度" in page
    assert 'href="../geoplan_report.xlsx"' in page


def test_workbook(written):
    out, _ = written
    wb = openpyxl.load_workbook(out / "geoplan_report.xlsx")
    assert wb.sheetnames[0] == "汇总"
    assert "断头路" in wb.sheetnames and "打通建议" in wb.sheetnames and "数据来源" in wb.sheetnames
    assert "公园绿地500米服务半径覆盖率" in wb.sheetnames
    summary = wb["汇总"]
    assert summary["A2"].value == "区县"
    assert summary["B2"].value == "公园绿地500米服务半径覆盖率"
    assert summary["B3"].value == pytest.approx(0.9) and summary["B3"].number_format == "0.0%"
    assert summary["A4"].value == "锦江区" and summary["A5"].value == UNSAFE_NAME
    assert isinstance(summary["B4"].value, float) and summary["B4"].value == pytest.approx(0.95)
    rules = [r for rng in summary.conditional_formatting for r in rng.rules]
    assert len(rules) == 4  # the four classes of the reports and the map
    from geoplan.report._map_standards import coverage_class
    from geoplan.report.tables import SHARE_CLASSES

    def holds(rule: str, share: float) -> bool:  # an Excel rule of SHARE_CLASSES, in Python
        terms = re.sub(r"^AND\((.*)\)$", r"\1", rule).split(",")
        return all(eval(t.replace("B$3", "0.9").replace("B4", repr(share))) for t in terms)

    for share in (0.95, 0.9, 0.8, 0.675, 0.6, 0.45, 0.0):  # against the target 0.9
        met = [name for name, rule, *_ in SHARE_CLASSES if holds(rule, share)]
        assert met == [coverage_class(share, 0.9)]
    fills = [r.dxf.fill.fgColor.rgb[-6:] for r in rules]
    assert fills == ["C6EFCE", "FEE08B", "FC8D59", "D73027"]
    std = wb["公园绿地500米服务半径覆盖率"]
    dead = wb["断头路"]
    headers = [c.value for c in std[4]]
    assert headers[:4] == ["区县", "服务半径（米）", "目标", "直线覆盖率"]
    row = [c.value for c in std[5]]
    assert isinstance(row[3], float) and row[headers.index("是否达标")] == "达标"
    assert isinstance(row[headers.index("未覆盖面积（平方米）")], float)
    sites = wb["建议选址"]
    sh = [c.value for c in sites[1]]
    assert sh[:3] == ["区县", "标准", "排名"] and "可覆盖缺口（平方米）" in sh
    assert sites.cell(row=2, column=2).value == "公园绿地500米服务半径覆盖率"
    # coordinates name their datum; GCJ-02 (Gaode) beside WGS 84, a few hundred metres apart
    lon = sites.cell(row=2, column=sh.index("经度（WGS 84）") + 1).value
    glon = sites.cell(row=2, column=sh.index("经度（GCJ-02，高德/腾讯）") + 1).value
    assert isinstance(lon, float) and 0.001 < glon - lon < 0.004
    assert "最近道路" in sh and "中心经度" not in sh
    # every sheet prints landscape, one page wide, with its header rows repeated
    for sheet in wb.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_area
    # repeated on each printed page: the header of the gap list (what runs over pages)
    title_row = int(str(std.print_title_rows).rsplit("$", 1)[-1])
    assert title_row > 5 and std.cell(row=title_row, column=1).value == "区县"
    assert std.cell(row=title_row - 1, column=1).value == "缺口"
    assert dead.print_title_rows == "$1:$1"
    # units in words, never "m2"
    values = {str(c.value) for ws in wb.worksheets for r in ws.iter_rows() for c in r}
    assert "m2" not in values and "平方米" in values
    dh = [c.value for c in dead[1]]
    assert "长度（米）" in dh and "绕行系数" in dh
    assert isinstance(dead.cell(row=2, column=dh.index("长度（米）") + 1).value, float)


def test_english(tmp_path):
    files = write_reports(make_layerset(), make_coverage(), make_deadends(), None, tmp_path,
                          lang="en")
    page = files["01-510104"].read_text(encoding="utf-8")
    assert "Service-radius gap report" in page and "Straight-line share" in page
    assert openpyxl.load_workbook(files["workbook"]).sheetnames[0] == "Summary"


def test_one_failing_district_does_not_stop_the_others(tmp_path, monkeypatch, caplog):
    real = report_html._district_page

    def flaky(env, ctx, district, geom):
        if district == "锦江区":
            raise RuntimeError("boom")
        return real(env, ctx, district, geom)

    monkeypatch.setattr(report_html, "_district_page", flaky)
    files = write_reports(make_layerset(), make_coverage(), make_deadends(), None, tmp_path)
    assert set(files.failures) == {"锦江区"} and "boom" in files.failures["锦江区"]
    assert (tmp_path / "reports" / "02-青羊-区.html").is_file()
    assert not (tmp_path / "reports" / "01-510104.html").exists()
    index = files["index"].read_text(encoding="utf-8")
    assert "未能生成的报告" in index and "boom" in index
    assert "report for district 锦江区 failed" in caplog.text


def test_rerun_overwrites_and_drops_stale_pages(tmp_path):
    write_reports(make_layerset(), make_coverage(), make_deadends(), None, tmp_path)
    assert (tmp_path / "reports" / "02-青羊-区.html").is_file()
    one = DISTRICTS[:1]
    files = write_reports(make_layerset(one), make_coverage(one), make_deadends(one), None,
                          tmp_path)
    assert not (tmp_path / "reports" / "02-青羊-区.html").exists()
    assert files["01-510104"].is_file()
    assert not list(tmp_path.rglob(".*tmp*"))
    assert UNSAFE_NAME not in files["index"].read_text(encoding="utf-8")


def test_results_missing(tmp_path):
    files = write_reports(make_layerset(), None, None, None, tmp_path)
    assert files.failures == {}
    assert "断头路" in files["01-510104"].read_text(encoding="utf-8")
    assert openpyxl.load_workbook(files["workbook"]).sheetnames[0] == "汇总"


def test_not_writable_output_folder_fails_before_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write to the output folder"):
        write_reports(make_layerset(), make_coverage(), make_deadends(), None, blocker / "out")


@pytest.mark.parametrize(("text", "slug"), [
    ("锦江区", "district"), ("Jinjiang District", "jinjiang-district"),
    ('a/b\\c:d*e?f"g<h>i|j', "a-b-c-d-e-f-g-h-i-j"), ("..", "district"), ("CON", "con"),
    ("Zürich ", "zurich"),
])
def test_slugify(text, slug):
    assert slugify(text, fallback="district") == slug


def test_district_slugs_unique():
    slugs = district_slugs(["锦江区", "锦江区", "x/y", "..", "<>"], ["", "", "", "", ""])
    assert slugs == ["01-锦江区", "02-锦江区", "03-x-y", "04-district", "05-district"]
    assert district_slugs(["锦江区"], ["510104"]) == ["01-510104"]


def test_sheet_titles():
    used: set[str] = set()
    assert sheet_title("a/b:c*d?[e]", used) == "a_b_c_d__e_"
    long = "公园" * 20
    first = sheet_title(long, used)
    second = sheet_title(long, used)
    assert len(first) == 31 and len(second) <= 31 and first != second
    assert first.endswith("…")  # a cut title says so


def test_english_sheet_names_keep_the_radius():
    # cut to 31 characters, "Junior middle school within 1000 m" read as 100 m
    from geoplan.report.tables import standard_sheet_name
    from geoplan.standards import default_catalog

    row = {"standard": "junior_school_1000", "name_en": "Junior middle school within 1000 m",
           "name_zh": "初中服务半径1000米"}
    assert standard_sheet_name("junior_school_1000", row, "en") == "Junior middle school 1000 m"
    assert standard_sheet_name("junior_school_1000", row, "zh") == "初中服务半径1000米"
    renamed = {**row, "name_en": "Our own junior school standard, within 1000 m"}  # a config's
    assert standard_sheet_name("junior_school_1000", renamed, "en") == renamed["name_en"]
    for sid, std in default_catalog().items():
        # every English name too long for a sheet has a short one with the same radius
        assert len(std.name_en) <= 31 or std.sheet_en, sid
        if std.sheet_en and std.radius_m:
            assert f"{std.radius_m:g} m" in std.sheet_en or "circle" in std.sheet_en, sid


def test_cli_errors_before_work(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = geoplan("report", str(CHENGDU_CONFIG), "--out", str(blocker / "out"))
    assert result.returncode == 1
    assert "cannot write to the output folder" in result.stderr
    assert "walking graph" not in result.stderr  # no work was done
    result = geoplan_in_process(capsys, "map", str(CHENGDU_CONFIG), "--tiles", "tianditu",
                                "--out", str(tmp_path))
    assert result.returncode == 2 and "--tianditu-key" in result.stderr


@pytest.mark.slow
def test_cli_zero_districts_overlapping(tmp_path, capsys):
    far = ROOT / "layers" / "boundaries" / "130100_districts_gcj02.geojson"  # 石家庄
    result = geoplan_in_process(capsys, "report", "--osm", str(CHENGDU_PBF), "--districts",
                                str(far), "--districts-crs", "gcj02", "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "no district overlaps the data" in result.stderr
    assert not (tmp_path / "out" / "reports").exists()


@pytest.mark.slow
def test_map_of_the_default_analysis(chengdu_outputs):
    # computed once in-process (conftest.chengdu_results), rendered as `geoplan map` does
    page = (chengdu_outputs / "map.html").read_text(encoding="utf-8")
    assert external_references(page) == []
    assert (chengdu_outputs / "map.html").stat().st_size < 4_000_000
    # every district is drawn (names sit in the layers' data, as JSON)
    drawn = {n for m in re.findall(r'"district":(\[[^\]]*\])', page) for n in json.loads(m)}
    assert {"锦江区", "青羊区", "金牛区", "成华区"} <= drawn


@pytest.mark.slow
def test_reports_of_the_default_analysis(chengdu_outputs, chengdu_results):
    # computed once in-process, rendered as `geoplan report` does after `geoplan map`
    out = chengdu_outputs
    pages = sorted(p.name for p in (out / "reports").glob("*.html"))
    assert pages == ["01-510104.html", "02-510105.html", "03-510106.html", "04-510108.html",
                     "index.html"]
    index = (out / "reports" / "index.html").read_text(encoding="utf-8")
    for name in ("锦江区", "青羊区", "金牛区", "成华区"):
        assert name in index
    assert 'href="../map.html"' in index
    wb = openpyxl.load_workbook(out / "geoplan_report.xlsx")
    assert wb["汇总"].max_row >= 7 and "断头路" in wb.sheetnames
    # one workbook row per dead end the analysis found (a header row above them)
    _, deadends, _ = chengdu_results
    assert wb["断头路"].max_row == len(deadends.dead_ends) + 1 > 100
    assert not list(Path(out).rglob(".*tmp*"))


def test_chinese_reports_read_in_chinese_and_print_with_their_headers(chengdu_outputs):
    """The school notes are in Chinese on a Chinese page; every table has its header row in a
    thead (repeated on each printed page) and sits in a box that scrolls on a narrow screen."""
    import re

    page = (chengdu_outputs / "reports" / "01-510104.html").read_text(encoding="utf-8")
    for english in ("single years assumed equal", "pupils per primary class",
                    "Catchments are walked"):
        assert english not in page, english
    assert "假定各单岁人数相等" in page and "小学每班45人" in page
    tables = re.findall(r"<table[^>]*>", page)
    assert len(tables) >= 5
    assert page.count("<thead>") == len(tables) == page.count('<div class="wide">')
    assert "@media print" in page and "thead { display: table-header-group; }" in page
    assert "人口</figcaption>" not in page  # "11,516 人", not "11,516 人口"
    assert "㎡/人" in page  # 人均公园绿地面积 with its unit (a bare 0.5 / 8.0 read as a share)
    assert "@page { size: A4; margin: 12mm; }" in page  # not the browser's Letter
    index = (chengdu_outputs / "reports" / "index.html").read_text(encoding="utf-8")
    # the index's landscape comes after the pages' A4, so it wins
    assert index.index("@page { size: A4 landscape; }") > index.index("@page { size: A4;")


def test_the_default_workbook_prints_well(chengdu_outputs):
    """Every sheet of the real workbook (people and data checks too) prints landscape on A4,
    one page wide, with a print area and its header rows repeated; units in Chinese words."""
    wb = openpyxl.load_workbook(chengdu_outputs / "geoplan_report.xlsx")
    assert {"常住人口（普查）", "学龄儿童与学位", "人均指标", "数据核查"} <= set(wb.sheetnames)
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9), ws.title  # A4
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        corner = re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", ws.dimensions.split(":")[-1])
        assert str(ws.print_area).endswith(corner), (ws.title, ws.print_area)
        if ws.title not in ("数据来源",) and ws.max_row > 3:  # a table: its header repeats
            assert ws.print_title_rows, ws.title
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
        last = int(str(ws.print_title_rows or "$1:$1").rsplit("$", 1)[-1])
        heads = [str(c.value) for r in ws.iter_rows(max_row=last) for c in r if c.value]
        bad = [h for h in heads if re.search(r"m2|m²|km²|（m）|\(m\)", h)]
        assert bad == [], (ws.title, bad)


def test_cli_map_and_report_exit_0(tmp_path):
    # both commands end to end through the command line's entry point, in one cheap
    # subprocess on a 1 km² extract (the default analysis' outputs are checked above); each
    # into its own folder, as each command's folder holds that command's run only
    osm, districts = write_tiny_inputs(tmp_path)
    args = ["--osm", str(osm), "--districts", str(districts), "--standards", "park_500", "-q"]
    driver = ("import sys\nfrom geoplan.cli import main\nargs, out = sys.argv[1:-1], sys.argv[-1]\n"
              "codes = [main(['map', *args, '--out', out + '/map']),\n"
              "         main(['report', *args, '--out', out + '/report'])]\n"
              "print('exit codes', *codes)\n")
    result = subprocess.run([sys.executable, "-c", driver, *args, str(tmp_path / "out")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "GEOPLAN_NO_PROGRESS": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "exit codes 0 0", result.stdout + result.stderr
    page = (tmp_path / "out" / "map" / "map.html").read_text(encoding="utf-8")
    assert "测试区" in {n for m in re.findall(r'"district":(\[[^\]]*\])', page)
                      for n in json.loads(m)}
    assert (tmp_path / "out" / "report" / "reports" / "01-测试区.html").is_file()
    index = (tmp_path / "out" / "report" / "reports" / "index.html").read_text(encoding="utf-8")
    assert "测试区" in index


def _summary_rows(page: str) -> list[list[str]]:
    summary = page.split('id="summary"')[1].split("</table>")[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in summary.split("<tr>")[2:]]


def test_without_people_no_population_share_and_no_weight_is_named(tmp_path):
    # as the engine writes a run without census or raster: land area is not people, the
    # population columns are empty (a header naming land-area weights over "—", and notes
    # saying the shares were "weighted by land area", contradicted the page's own words)
    coverage = make_coverage()
    coverage.table["population_source"] = "area"
    coverage.table[["share_population_buffer", "share_population_network"]] = float("nan")
    coverage.meta = {"population_source": "area", "population_note": (
        "residential land area (residential buildings are mapped on only 12% of the residential "
        "land, below 30%)")}
    files = write_reports(make_layerset(), coverage, make_deadends(), None, tmp_path)
    page = files["01-510104"].read_text(encoding="utf-8")
    summary = page.split('id="summary"')[1].split("</table>")[0]
    assert "权重" not in summary
    headers = re.findall(r"<th>(.*?)</th>", summary)
    park, toilet = _summary_rows(page)[:2]
    col = next(i for i, h in enumerate(headers) if h.startswith("人口覆盖率（直线）"))
    assert park[col] == park[col + 1] == toilet[col] == "—"
    assert park[-1] == "—"  # no real people: the uncovered people are not shown
    assert "不以用地面积充当人口" in page and "没有人口来源" in page
    assert "按居住用地面积加权" not in page and "无人口来源时为“—”" in page
    # the population note is in Chinese and says there are no people
    sources = page.split("数据来源与日期")[1]
    assert "无人口来源（无人口普查数据、无人口栅格），人口列为空" in sources
    assert "residential land area" not in page
    # no gap is captioned with "people" that are square metres
    assert "人口</figcaption>" not in page
    wb = openpyxl.load_workbook(files["workbook"])
    std = wb["公园绿地500米服务半径覆盖率"]
    headers = [c.value for c in std[4]]
    assert "人口覆盖率（直线）" in headers and not any("权重" in str(h) for h in headers)
    pcol = headers.index("人口覆盖率（直线）") + 1
    assert std.cell(row=5, column=pcol).value is None
    assert std.cell(row=5, column=headers.index("未覆盖人口") + 1).value is None
    assert std.cell(row=5, column=headers.index("人口来源") + 1).value == "居住用地面积"
    english = write_reports(make_layerset(), coverage, make_deadends(), None, tmp_path / "en",
                            lang="en")
    page = english["01-510104"].read_text(encoding="utf-8")
    assert "weights: residential land area" not in page and "weighted by" not in page
    assert "land area does not stand in for people" in page
    assert "mapped on only 12%" in page  # the English note as the coverage wrote it


def test_population_shares_with_people_name_their_source(tmp_path):
    coverage = make_coverage()  # population_source 'census'
    coverage.meta = {"population_source": "census", "population_note": (
        "2020 census residents of each district spread over its residential land")}
    files = write_reports(make_layerset(), coverage, make_deadends(), None, tmp_path)
    page = files["01-510104"].read_text(encoding="utf-8")
    summary = page.split('id="summary"')[1].split("</table>")[0]
    assert summary.count("权重：第七次人口普查（按住宅分配）") == 2
    assert "没有人口来源" not in page
    assert _summary_rows(page)[0][-1] == "600"  # uncovered people: (1 - 0.95) × 12000
    assert "人口：第七次全国人口普查（2020）各区常住人口" in page
    assert "residential building floor area" not in page


def test_zeros_and_missing_figures_are_explained():
    from geoplan.report._explain import partial_note, standard_notes

    area = {"demand_kind": "residential", "demand_unit": "m2"}
    street = {"demand_kind": "street_main", "demand_unit": "m"}
    assert "0 处" in standard_notes({"share_buffer": 0.0, "n_facilities": 0,
                                     "demand_total": 5e4}, area, True, "zh")[0]
    assert "有 3 处此类设施" in standard_notes({"share_buffer": 0.0, "n_facilities": 3,
                                            "demand_total": 5e4}, area, True, "zh")[0]
    # none near the district, but the input holds some: named as no item without data
    assert standard_notes({"share_buffer": 0.0, "n_facilities": 0, "demand_total": 5e4,
                           "items_no_data": ""}, area, True, "zh")[0].startswith(
        "本区及周边没有此类设施（输入数据的其他地方有）")
    assert "0 处" in standard_notes({"share_buffer": 0.0, "n_facilities": 0, "demand_total": 5e4,
                                     "items_no_data": "主要街道公厕300米"}, area, True, "zh")[0]
    # a life circle at 0 may have items that reach many homes: no home has them all at once
    # (锦江区's 十五分钟生活圈: 0.0%, its 初中 100%; the page said none was within reach)
    basket = {"share_buffer": 0.0, "n_facilities": 88, "demand_total": 5e4, "n_items": 8,
              "items_no_data": "养老院、社区服务中心（街道级）"}
    assert standard_notes(basket, area, True, "zh")[0].startswith(
        "没有一处居住用地在有数据的全部 6 项配套设施的服务半径之内")
    assert "all 8 items" in standard_notes({**basket, "items_no_data": ""}, area, True, "en")[0]
    assert "有 3 处此类设施" in standard_notes({"share_buffer": 0.0, "n_facilities": 3, "n_items": 1,
                                            "demand_total": 5e4}, area, True, "zh")[0]
    assert "没有此标准要衡量的对象" in standard_notes({"share_buffer": None, "n_facilities": 3,
                                                "demand_total": 0.0}, area, True, "zh")[0]
    assert standard_notes({"share_buffer": 0.4, "n_facilities": 3, "demand_total": 5e4},
                          area, True, "zh") == []
    assert any("没有人口来源" in n for n in standard_notes(
        {"share_buffer": 0.4, "n_facilities": 3, "demand_total": 5e4}, area, False, "zh"))
    assert any("街道长度" in n for n in standard_notes(
        {"share_buffer": 0.4, "n_facilities": 3, "demand_total": 5e4}, street, False, "zh"))
    assert partial_note(0.06, "zh") == "本区只有 6% 的面积在数据范围之内，本报告的所有数字只反映这一部分。"
    assert partial_note(1.0, "zh") is None and partial_note(None, "en") is None


def test_svg_path_data_same_by_arrays_and_part_by_part():
    import shapely

    from geoplan.report.static_maps import _Canvas

    cv = _Canvas(shapely.box(0, 0, 100, 80), 230.4, 187.2)
    hole = shapely.Polygon([(0, 0), (50, 0), (50, 40), (0, 40)], [[(10, 10), (20, 10), (20, 20)]])
    geoms = [hole, None, shapely.LineString([(1, 1), (99.95, 79.05)]), shapely.Polygon(),
             shapely.MultiPolygon([shapely.box(60, 60, 70, 70), shapely.box(80, 0, 90.04, 5)]),
             shapely.MultiLineString([[(0, 0), (3, 3)], [(5, 5), (5, 9), (7, 1)]]),
             shapely.Point(3, 3)]
    assert cv.path(geoms) == cv._path_parts(geoms)
    assert cv.path(geoms).count("M") == 7 and cv.path(geoms).count("Z") == 4
    nested = [shapely.GeometryCollection([hole, shapely.MultiLineString([[(0, 0), (1, 2)]])])]
    assert cv.path(nested) == cv._path_parts(nested) != ""


def test_a_street_standard_s_gaps_are_told_as_street_lengths(chengdu_outputs, chengdu_results):
    # a failing toilets-along-streets standard has no gap areas, only uncovered street
    # stretches: its section gives their number, total and longest lengths, never "no gaps"
    coverage = chengdu_results[0]
    page = (chengdu_outputs / "reports" / "01-510104.html").read_text(encoding="utf-8")
    section = page.split('id="std-toilet_main_300"')[1].split("</section>")[0]
    assert "未达标" in section and "无缺口" not in section
    lines = coverage.attributes("street_gaps")
    mine = lines[(lines["standard"] == "toilet_main_300") & (lines["district"] == "锦江区")
                 & (lines["view"] == "network")]
    lengths = sorted(mine["length_m"], reverse=True)
    assert len(lengths) > 5
    # the stretches listed are those of 5 m or more, and the page says so (their total fell
    # 7 m short of the 22,857 m the shares leave uncovered, unexplained)
    assert (f"未覆盖的街道（5 米及以上的段）共 {len(lengths)} 段、{round(sum(lengths)):,} 米"
            in section)
    assert "、".join(f"{round(v):,} 米" for v in lengths[:5]) in section
    # a standard met everywhere in the district still says it has no gaps
    met = page.split('id="std-toilet_riverside_park_800"')[1].split("</section>")[0]
    assert "达标" in met and "无缺口" in met and "缺口在街道上" not in met


def test_dead_end_categories_in_words_and_rows_by_id(chengdu_outputs, chengdu_results):
    # every category a district's dead ends have is named in Chinese (data_check: 需核查), and
    # each row carries its id, so the two ends of one road are told apart
    from geoplan.report._labels import value_label

    _, deadends, _ = chengdu_results
    page = (chengdu_outputs / "reports" / "01-510104.html").read_text(encoding="utf-8")
    section = page.split('id="deadends"')[1].split("</table>")[0]
    mine = deadends.dead_ends.loc[deadends.dead_ends["district"] == "锦江区"]
    for category in set(mine["category"]):
        assert value_label(category, "zh", "category") != category
    assert "data_check" not in page and "需核查" in section
    assert "<th>编号</th>" in section
    shown = re.findall(r"<td>(DE\d+)</td>", section)
    assert shown and len(set(shown)) == len(shown) and set(shown) <= set(mine["id"])
    assert value_label("data_check", "en", "category") == "data check"


def test_a_standard_with_nothing_to_measure_is_neither_met_nor_failed(tmp_path):
    from geoplan.batch import summarise
    from geoplan.cli._format import city_text, coverage_text

    coverage = make_coverage()
    nothing = (coverage.table["district"] == "锦江区") & (coverage.table["standard"] == "toilet_300")
    share_cols = ["share_buffer", "share_network", "share_population_buffer",
                  "share_population_network"]
    coverage.table.loc[nothing, share_cols] = float("nan")  # no homes in the district
    coverage.table.loc[nothing, ["demand_total", "meets_target"]] = [0.0, False]
    files = write_reports(make_layerset(), coverage, make_deadends(), None, tmp_path)
    rows = _summary_rows(files["01-510104"].read_text(encoding="utf-8"))
    assert "达标" in rows[0]  # park_500 is met
    assert "不适用" in rows[1] and "未达标" not in rows[1]
    std = openpyxl.load_workbook(files["workbook"])["公厕300米服务半径覆盖率"]
    headers = [c.value for c in std[4]]
    met = [std.cell(row=r, column=headers.index("是否达标") + 1).value for r in (5, 6)]
    assert met == ["不适用", "未达标"]  # 锦江区: neither; the other district fails
    batch = summarise(coverage.table.assign(city="成都", status="ok"))
    assert batch.loc[batch["district"] == "锦江区", "result"].iat[0] == \
        "1/1 standards met, 1 with nothing to measure"
    text = coverage_text(coverage.table, "en")
    line = next(x for x in text.splitlines() if "锦江区" in x and "300" in x)
    assert line.split()[-1] == "—"  # neither yes nor no
    toilets = next(x for x in city_text(coverage.table, "en").splitlines() if "toilet" in x.lower())
    assert " 0/1 " in toilets  # the one district measured fails; the other is not counted


def test_a_long_or_hostile_unit_name_stays_in_its_cell(tmp_path):
    long, hostile = "长" * 200, '"><script>alert(1)</script>'
    names = [long, hostile]
    files = write_reports(make_layerset(names), make_coverage(names), make_deadends(names), None,
                          tmp_path)
    index = files["index"].read_text(encoding="utf-8")
    # each name in a cell that wraps and shows three lines at most, the whole on hover
    assert index.count('<span class="uname" title="') == 2
    assert f'title="{long}"' in index
    assert 'title="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in index
    assert "<script>alert(1)" not in index
    css = index.split("<style>")[1].split("</style>")[0]
    assert ".uname {" in css and "-webkit-line-clamp: 3" in css and "max-width: 16em" in css


def test_a_district_page_says_the_data_checks_that_warn_of_its_figures(tmp_path):
    import shapely.affinity

    from geoplan.data_checks import data_checks

    layers = make_layerset()
    # the second 1 km district moved 500 m onto the first: they overlap by half of each
    a, b = layers.districts.geometry.iloc[0], layers.districts.geometry.iloc[1]
    layers.layers["districts"] = layers.districts.set_geometry(
        [a, shapely.affinity.translate(b, xoff=-500)], crs=layers.districts.crs)
    checks = data_checks(layers)
    files = write_reports(layers, make_coverage(), make_deadends(), None, tmp_path, checks=checks)
    page = files["01-510104"].read_text(encoding="utf-8")
    notes = re.findall(r'<p class="note check-note">(.*?)</p>', page)
    assert len(notes) == 1 and notes[0].startswith("锦江区与青羊/区:*?&#34;&lt;&gt;|..重叠 0.50 平方公里")
    english = write_reports(layers, make_coverage(), make_deadends(), None, tmp_path / "en",
                            checks=checks, lang="en")
    page = english["01-510104"].read_text(encoding="utf-8")
    assert "overlap by 0.50 km² (50% of the smaller)" in page


def test_english_reports_name_the_indicators_in_english(tmp_path):
    import pandas as pd

    from geoplan.indicators import NAMES_EN
    from geoplan.results import IndicatorResult

    coverage = make_coverage()
    coverage.indicators = IndicatorResult(pd.DataFrame([{
        "district": "锦江区", "indicator": "park_area_per_person", "name_zh": "人均公园绿地面积",
        "value": 6.5, "unit": "m2_per_person", "target": 8.0, "target_source": "GB 55014-2021",
        "status": "fail", "numerator": 6.5e4, "denominator": 1e4, "partial": False, "note": ""}]))
    files = write_reports(make_layerset(), coverage, make_deadends(), None, tmp_path, lang="en")
    page = files["01-510104"].read_text(encoding="utf-8")
    if 'id="indicators"' in page:  # the page shows the indicators when the run has people
        assert NAMES_EN["park_area_per_person"] in page and "人均公园绿地面积" not in page
    sheets = openpyxl.load_workbook(files["workbook"])
    values = [c.value for ws in sheets.worksheets for row in ws.iter_rows() for c in row]
    assert "Park area per person" in values and "人均公园绿地面积" not in values


def test_a_sites_table_gives_both_datums_with_their_names(tmp_path):
    from geoplan.chinese_coords import wgs84_to_gcj02
    from tests._report_synthetic import make_sites

    files = write_reports(make_layerset(), make_coverage(), make_deadends(), None, tmp_path,
                          sites=make_sites())
    page = files["01-510104"].read_text(encoding="utf-8")
    assert "<th>经纬度（WGS 84，GPS/天地图）</th><th>经纬度（GCJ-02，高德/腾讯）</th>" in page
    rows = re.findall(r"<td>(1\d\d\.\d{6}), (\d\d\.\d{6})</td><td>(1\d\d\.\d{6}), (\d\d\.\d{6})</td>",
                      page)
    assert rows
    for lon, lat, glon, glat in rows:
        want = wgs84_to_gcj02(float(lon), float(lat))
        assert abs(float(glon) - want[0]) < 2e-6 and abs(float(glat) - want[1]) < 2e-6
        assert abs(float(glon) - float(lon)) > 1e-3  # 200-500 m apart in Chengdu


def test_every_facility_kind_and_road_type_reads_in_chinese():
    from geoplan.layers.rules import load_catalog
    from geoplan.report._labels import value_label

    kinds = load_catalog()["layers"]["services"]["kinds"]
    untranslated = [k for k in kinds if value_label(k, "zh") == k]
    assert untranslated == []
    roads = ["motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link",
             "residential", "unclassified", "living_street"]
    assert [r for r in roads if value_label(r, "zh", "highway") == r] == []
    assert value_label("grass", "zh") == "草地"


def test_the_dead_end_count_on_a_page_says_what_it_counts(tmp_path):
    files = write_reports(make_layerset(), make_coverage(), make_deadends(), None, tmp_path)
    page = files["01-510104"].read_text(encoding="utf-8")
    assert re.search(r"<p>共 2 处：\w+ 2</p>", page)  # the synthetic category


def test_items_with_one_site_share_a_row(chengdu_outputs, chengdu_results):
    """Where a district has none of several life-circle items, each item's best site is the
    same place: the page gives it one row naming the items, not a row per item."""
    _, _, sites = chengdu_results
    mine = sites.table.loc[(sites.table["district"] == "锦江区")
                           & (sites.table["standard"] == "life_circle_5min")]
    places = mine.assign(x=mine.geometry.x.round(2), y=mine.geometry.y.round(2)).drop_duplicates(
        ["x", "y", "rank", "covered_m2", "share_before", "share_after"])
    assert len(places) < len(mine)  # the case the page must merge
    page = (chengdu_outputs / "reports" / "01-510104.html").read_text(encoding="utf-8")
    section = page[page.index(">五分钟生活圈 "):]
    start = section.index('<table class="sites">')
    table = section[start:section.index("</table>", start)]
    # the items in a column of their own, under its header; the rank column holds ranks
    assert "<thead><tr><th>配套设施项目</th><th>排名</th>" in table
    rows = re.findall(r'<tr><td class="item">([^<]*)</td><td class="num">([^<]*)</td>', table)
    assert len(rows) == len(places)
    assert all(rank in {"1", "2", "3", "4", "5"} for _, rank in rows)
    assert any("、" in items for items, _ in rows)
    # every item's every site is still on the page, once
    assert sum(len(items.split("、")) for items, _ in rows) == len(mine)


def test_map_sites_one_marker_per_place_naming_its_items(chengdu_results):
    """Six items' best sites on one point were six markers, one popup, none naming its item."""
    from geoplan.report._labels import labels
    from geoplan.report._map_standards import sites_frame

    coverage, _, sites = chengdu_results
    rows = {str(r["standard"]): r for r in coverage.table.to_dict("records")}
    table = sites.table
    mine = table.loc[(table["standard"] == "life_circle_5min") & (table["district"] == "锦江区")]
    # with a standard of one kind of facility beside it (its sites name no item)
    frame = sites_frame(sites, ["park_500", "life_circle_5min"], rows, labels("zh"), "zh",
                        items=coverage.items)
    assert frame is not None
    parks = frame.loc[frame["standard"] == "park_500"]
    assert len(parks) == (table["standard"] == "park_500").sum() and parks["item_txt"].isna().all()
    drawn = frame.loc[(frame["district"] == "锦江区") & (frame["standard"] == "life_circle_5min")]
    assert len(drawn) < len(mine)
    named = drawn["item_txt"].astype(str)
    assert named.str.contains("、").any() and "幼儿园" in "".join(named)
    # every item's site is named once: the markers hold all the rows
    assert sum(len(t.split("、")) for t in named) == len(mine)
    points = drawn.geometry.to_numpy()
    assert len({(round(p.x, 6), round(p.y, 6), r) for p, r in zip(points, drawn["rank"],
                                                                   strict=True)}) == len(drawn)
    english = sites_frame(sites, ["life_circle_5min"], rows, labels("en"), "en",
                          items=coverage.items)
    assert "Kindergarten" in "".join(english["item_txt"].astype(str))


def test_workbook_lists_each_gap_place_once_with_its_standards(chengdu_outputs, chengdu_results):
    """The places sheet: every gap of every standard belongs to exactly one place row, the
    places failing most standards first in each district and measure."""
    coverage, _, _ = chengdu_results
    gaps = coverage.gaps
    ws = openpyxl.load_workbook(chengdu_outputs / "geoplan_report.xlsx")["缺口地点"]
    assert "远离各类设施" in str(ws["A1"].value)
    head = [c.value for c in ws[3]]
    assert head[:6] == ["区县", "量度", "排名", "缺几项标准", "是哪些标准的缺口", "面积（公顷）"]
    body = [r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] is not None]
    assert sum(r[3] for r in body) == len(gaps)  # each gap in one place
    assert len(body) < len(gaps) / 2  # on this extract 875 places hold 3,315 gaps
    for _, part in pd.DataFrame(body).groupby([0, 1]):
        assert list(part[2]) == list(range(1, len(part) + 1))
        assert list(part[3]) == sorted(part[3], reverse=True)
        assert all(len(str(s).split("、")) == n for s, n in zip(part[4], part[3], strict=True))
    top = max(body, key=lambda r: r[3])
    assert top[3] >= 6 and "十五分钟生活圈" in top[4]


def test_district_pages_list_the_places_missing_most_standards(chengdu_outputs, chengdu_results):
    """Each page lists its places missing most standards in its measure (walking), as the
    workbook's 缺口地点 sheet ranks them, at most N_PLACES and each missing two or more."""
    from geoplan.gap_places import gap_places
    from geoplan.locate import locate
    from geoplan.report.html import N_PLACES

    coverage, _, _ = chengdu_results
    gaps = coverage.gaps.loc[coverage.gaps["view"] == "network"]
    places = gap_places(pd.DataFrame(gaps.drop(columns="geometry")), locate(gaps, None))
    page = (chengdu_outputs / "reports" / "04-510108.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="places">'):]
    section = section[:section.index("</section>")]
    assert "同时缺几项标准的地点" in section and "量度：步行" in section
    cells = [re.findall(r"<td[^>]*>([^<]*)</td>", row)
             for row in re.findall(r"<tr>(.*?)</tr>", section, flags=re.S) if "<td" in row]
    mine = places.loc[places["district"] == "成华区"].head(N_PLACES)
    assert len(cells) == len(mine) == N_PLACES
    assert [int(c[1]) for c in cells] == list(mine["n_standards"]) and int(cells[0][1]) >= 2
    assert [c[3] for c in cells] == [f"{a / 10_000:,.2f}" for a in mine["area_m2"]]
    assert all(len(c[2].split("、")) == int(c[1]) for c in cells)


def test_at_least_k_items_only_for_life_circles_with_their_k(chengdu_outputs):
    # the column repeated the walking share on every standard of one facility, and nothing
    # said what k was
    from openpyxl import load_workbook

    wb = load_workbook(chengdu_outputs / "geoplan_report.xlsx", read_only=True)
    single = next(wb["300米见绿"].iter_rows(min_row=4, max_row=4, values_only=True))
    assert not any(str(h or "").startswith(("至少k项", "无数据的项目")) for h in single)
    basket = next(wb["五分钟生活圈"].iter_rows(min_row=4, max_row=4, values_only=True))
    assert "至少k项（步行）\n（k = 6：有数据的项目中至少 6 项可步行到达）" in basket


def test_overview_pages_say_which_districts_are_only_partly_inside_the_data(chengdu_outputs):
    # the index page, the summary sheet and the standard sheets were silent that the default
    # districts lie 6-33% inside the data; only each district's own page said so
    from openpyxl import load_workbook

    index = (chengdu_outputs / "reports" / "index.html").read_text(encoding="utf-8")
    assert index.count('class="meta partial">数据内 ') == 4 and 'id="partial"' in index
    wb = load_workbook(chengdu_outputs / "geoplan_report.xlsx", read_only=True)
    notes = [r[0] for r in wb["汇总"].iter_rows(values_only=True) if r[0]]
    assert notes[-1].startswith("只有部分面积在数据范围内：锦江区 6%、")
    sheet = list(wb["300米见绿"].iter_rows(min_row=4, max_row=5, values_only=True))
    assert sheet[0][-1].startswith("数据范围内的面积占比") and 0.05 < sheet[1][-1] < 0.07


def test_the_uncovered_figures_on_a_page_say_they_are_straight_line(chengdu_outputs):
    # the card's "未覆盖 0.00 公顷" (straight line) stood above four walking gaps, unlabelled
    page = (chengdu_outputs / "reports" / "01-510104.html").read_text(encoding="utf-8")
    assert page.count(" · 直线未覆盖 ") == 13 and page.count("未覆盖人口（直线）") >= 14
    assert "<th>未覆盖面积 / 街道长度（直线）</th>" in page


def test_a_district_without_homes_leaves_the_others_uncovered_people_in_the_workbook(tmp_path):
    # a unit with no residential land has no demand ('none'): its own cells stay empty, the
    # other districts keep their people (one such unit blanked the column for every district)
    coverage = make_coverage()
    table = coverage.table
    empty = table["district"] == table["district"].iloc[-1]
    table.loc[empty, ["population_source", "demand_total"]] = ["none", 0.0]
    table.loc[empty, ["uncovered_population", "share_buffer", "share_network"]] = None
    coverage.meta = {"population_source": "census"}
    write_reports(make_layerset(), coverage, make_deadends(), None, tmp_path)
    book = openpyxl.load_workbook(tmp_path / "geoplan_report.xlsx", read_only=True)
    first = table.iloc[0]
    checked = 0
    for ws in book.worksheets:
        rows = list(ws.iter_rows(min_row=4, max_row=4 + len(set(table["district"])),
                                 values_only=True))
        if not rows or "未覆盖人口" not in rows[0]:
            continue
        at = rows[0].index("未覆盖人口")
        people = {r[0]: r[at] for r in rows[1:]}
        assert people[first["district"]] not in (None, "")
        assert people[table["district"].iloc[-1]] in (None, "")
        checked += 1
    assert checked == table["standard"].nunique()
    # the summary's matrix says 不适用 where there is nothing to measure, as the sheets do
    summary = book.worksheets[0]
    row = next(r for r in summary.iter_rows(values_only=True) if r[0] == table["district"].iloc[-1])
    assert set(row[1:]) == {"不适用"}


def test_the_census_residents_are_cited_where_the_sources_are(chengdu_outputs):
    # the census file's own citation (citypopulation.de, from the NBS), in the workbook's
    # sources sheet and on every page's sources, as the OSM extract is
    book = openpyxl.load_workbook(chengdu_outputs / "geoplan_report.xlsx", read_only=True)
    lines = [str(v) for row in book["数据来源"].iter_rows(values_only=True) for v in row if v]
    census = [t for t in lines if t.startswith("人口：2020年第七次全国人口普查常住人口，按区、县")]
    assert len(census) == 1 and "citypopulation.de" in census[0] and "NBS" in census[0]
    page = next((chengdu_outputs / "reports").glob("01-*.html")).read_text(encoding="utf-8")
    assert "人口：2020年第七次全国人口普查常住人口，按区、县（citypopulation.de" in \
        page.split("数据来源与日期")[1]


def test_a_page_says_the_notes_that_change_its_figures(chengdu_outputs):
    # notes, not warnings, but they move the page's own numbers: 青羊区's 泡桐树小学 mapped
    # twice (its seats count twice), 成华区's homes no walkway reaches (not reached on foot)
    qingyang = (chengdu_outputs / "reports" / "02-510105.html").read_text(encoding="utf-8")
    top = qingyang.split("<h2>")[0]
    assert "泡桐树小学标注了两次" in top and "居住用地需求点在吸附距离内没有路网中的步行道" in top
    chenghua = (chengdu_outputs / "reports" / "04-510108.html").read_text(encoding="utf-8")
    assert "793 个居住用地需求点" in chenghua.split("<h2>")[0]
