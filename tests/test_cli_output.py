"""What the commands print: Chinese standard names by default, English with --lang en."""

from __future__ import annotations

import os
from pathlib import Path

from geoplan.cli import main
from geoplan.cli._format import coverage_text, scenario_text, scenarios_text
from geoplan.scenario import compare
from tests._report_synthetic import make_coverage

CONFIG = Path(__file__).resolve().parents[1] / "analyses" / "chengdu_core.yaml"


def test_coverage_table_in_chinese_and_english():
    table = make_coverage().table
    zh = coverage_text(table, "zh")
    assert "公园绿地500米服务半径覆盖率" in zh and "直线" in zh and "达标" in zh
    assert "Parks within 500 m" not in zh and "95.0%" in zh
    assert "第七次人口普查（按住宅分配）" in zh  # the population weights in words
    lines = zh.splitlines()
    # CJK-aware alignment: the header's columns line up with the dashes below them
    assert len(lines[1].split("  ")) == len(lines[0].split()) or lines[1].startswith("-")
    en = coverage_text(table, "en")
    assert "Parks within 500 m" in en and "straight line" in en and "公园绿地" not in en


def test_scenario_table_lists_changed_rows_with_names():
    before = make_coverage().table
    after = before.copy()
    after.loc[after["standard"] == "toilet_300", "share_buffer"] += 0.1
    after.loc[after["standard"] == "toilet_300", "n_facilities"] += 1
    text = scenario_text(compare(before, after), "zh")
    assert "公厕300米服务半径覆盖率" in text and "公园绿地" not in text
    assert "42.0% → 52.0%" in text and "3→4" in text


def test_scenario_without_name_lists_the_scenarios(capsys, chengdu_config):
    assert "planned_toilets" in scenarios_text(chengdu_config)
    code = main(["scenario", str(CONFIG), "-q"])
    out = capsys.readouterr().out
    assert code == 0
    assert "planned_toilets" in out and "规划设施文件" in out and "chengdu_planned_toilets.csv" in out
    empty = chengdu_config.model_copy(update={"scenarios": {}})
    assert "没有定义情景" in scenarios_text(empty)


def test_help_starts_without_the_heavy_libraries():
    """``geoplan --help`` and usage errors build the parser only: no pandas, GEOS or folium."""
    import subprocess
    import sys

    code = ("import sys; from geoplan.cli import build_parser; "
            "text = build_parser().format_help(); "
            "heavy = [m for m in ('pandas', 'geopandas', 'shapely', 'pyproj', 'folium', 'osmium', "
            "'scipy', 'pydantic', 'openpyxl', 'numpy') if m in sys.modules]; "
            "print(heavy); print(text)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, _, help_text = out.stdout.partition("\n")
    assert first == "[]"
    for command in ("run", "layers", "coverage", "deadends", "scenario", "map", "report",
                    "standards", "fetch", "batch"):
        assert command in help_text
    # the lazy package root still gives every public name and subpackage
    import geoplan

    assert geoplan.run_coverage is geoplan.coverage.run_coverage
    assert set(geoplan.__all__) <= set(dir(geoplan))


def test_layers_and_coverage_commands_do_not_load_the_map_s_libraries(tmp_path):
    """The tables the commands print and the styles of their GeoPackages need no folium,
    matplotlib or openpyxl: imported, they cost each command 1.4 s before any work. Nor do
    the reports or the map's size, which ``geoplan run`` asks before it draws the map and the
    reports side by side: folium is then imported by the map's process only."""
    import subprocess
    import sys

    from tests.hostile.world import make_world

    make_world(tmp_path)
    code = ("import sys; from geoplan.cli import main; "
            "codes = [main([c, 'city.yaml', '-q', '--out', c]) for c in ('layers', 'coverage')]; "
            "print(codes, [m for m in ('folium', 'branca', 'jinja2', 'matplotlib', 'openpyxl') "
            "if m in sys.modules]); "
            "import geoplan.report.html, geoplan.report.map_size; "
            "print([m for m in ('folium', 'branca') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=tmp_path, env={**os.environ, "GEOPLAN_NO_PROGRESS": "1"})
    assert out.stdout.splitlines()[-2:] == ["[0, 0] []", "[]"], out.stdout + out.stderr
    assert (tmp_path / "coverage" / "coverage.gpkg").is_file()


def test_a_long_unit_name_does_not_push_the_columns_off_the_screen(capsys):
    import pandas as pd

    from geoplan._text import NAME_COLUMNS as CELL_COLUMNS
    from geoplan.cli._common import print_table
    from geoplan.cli._format import align

    long = "长" * 100
    text = align([{"district": long, "buffer": "40.0%"}, {"district": "锦江区", "buffer": "9.0%"}],
                 {"district": "区县", "buffer": "直线"})
    lines = text.splitlines()
    assert lines[2].startswith("长" * 23 + "…") and lines[2].endswith("40.0%")
    assert len(lines[2]) < CELL_COLUMNS  # 24 wide characters, two spaces, the share
    print_table(pd.DataFrame({"district": [long], "status": ["failed"],
                              "result": ["InputDataError: " + "x" * 200]}),
                cut=("district", "result"))
    out = capsys.readouterr().out
    assert "长" * 23 + "…" in out and "x" * 31 + "…" in out  # the batch prints errors whole
    assert max(len(line) for line in out.splitlines()) < 3 * CELL_COLUMNS


def test_run_in_english_writes_english_reports(tmp_path):
    from tests.hostile.world import make_world

    make_world(tmp_path)
    assert main(["run", str(tmp_path / "city.yaml"), "--lang", "en", "--no-map", "-q"]) == 0
    index = (tmp_path / "out" / "reports" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in index and "Data sources and date" in index
    assert "数据来源与日期" not in index


def test_people_shares_equal_to_the_land_shares_are_said_to_be_so():
    # residents spread evenly over each district's homes: 人口·直线 repeats 直线 district by
    # district, which a planner could take for a second, agreeing measure
    table = make_coverage().table
    assert "人口·直线、人口·步行在每个区县内都等于" not in coverage_text(table, "zh")
    same = table.assign(share_population_buffer=table["share_buffer"],
                        share_population_network=table["share_network"])
    zh = coverage_text(same, "zh", unit="街道")
    assert "人口·直线、人口·步行在每个街道内都等于直线、步行" in zh
    assert "Within each district the population shares equal the land shares" in \
        coverage_text(same, "en")


def test_a_plan_s_school_seats_before_and_after():
    # three planned primary schools in 金牛区 (a helper's plan): only an INFO line said the
    # 学位缺口 moved; the command now prints it (and writes scenario_<name>_seats.csv)
    import pandas as pd

    from geoplan.cli._format import seats_text
    from geoplan.scenario import compare_seats

    before = pd.DataFrame({"district": ["金牛区"], "level": ["primary"], "children": [13405.1],
                           "seats_reached": [7500.9], "seat_gap": [11826.2]})
    seats = compare_seats(before, before.assign(seats_reached=[10741.0], seat_gap=[10807.0]))
    zh = seats_text(seats, "zh", "街道")
    assert "金牛区  小学  7,501 → 10,741  11,826 → 10,807" in zh and "街道" in zh
    assert "seat gap (学位缺口)" in seats_text(seats, "en")
    assert compare_seats(before, None).empty
