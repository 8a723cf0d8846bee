"""The `geoplan run` terminal line about suggested sites says what is true."""

from __future__ import annotations

import pandas as pd

from geoplan.cli.run_cmd import sites_line


def test_sites_line_counts_sites_standards_and_gaps_without_summing_areas():
    sites = pd.DataFrame({
        "district": ["甲区", "甲区", "甲区", "乙区", "乙区"],
        "standard": ["park_500", "park_500", "park_service_coverage", "park_500", "life_circle_5min"],
        "item": ["", "", "", "", "kindergarten"],
        "rank": [1, 2, 1, 1, 1],
        "covered_m2": [1e4, 5e3, 1e4, 2e4, 3e3],
    })
    line = sites_line(sites)
    assert line.startswith("suggested sites: 5 for 3 standards in 2 districts")
    assert "4 gaps" in line and "2 sites at most each" in line
    assert "ha" not in line  # areas of different standards overlap: never summed
    zh = sites_line(sites, "zh", "社区")
    assert zh.startswith("建议新增设施选址：5 处，涉及 3 项标准、2 个社区（4 组缺口")
    assert "每组至多 2 处" in zh


def _city(n: int) -> pd.DataFrame:
    """``n`` districts of one standard: district i has 1,000·(i+1) m² of demand, covered
    10·i % by straight line and half that walking; the last one meets the target."""
    return pd.DataFrame({
        "district": [f"区{i}" for i in range(n)], "standard": "park_500",
        "name_zh": "500米见园", "name_en": "A park within 500 m", "radius_m": 500.0,
        "target": 1.0, "demand_total": [1000.0 * (i + 1) for i in range(n)],
        "share_buffer": [0.1 * i % 1.0 for i in range(n)],
        "share_network": [0.05 * i % 1.0 for i in range(n)],
        "meets_target": [i == n - 1 for i in range(n)],
    })


def test_a_city_of_many_districts_gets_one_line_per_standard():
    from geoplan.cli._format import MANY_DISTRICTS, coverage_text

    table = _city(13)
    assert table["district"].nunique() > MANY_DISTRICTS
    text = coverage_text(table, "en")
    lines = text.splitlines()
    assert len([ln for ln in lines if ln.startswith("A park within 500 m")]) == 1
    # on paper: shares 0.1·i mod 1 weighted by 1,000·(i+1) m²
    share = [0.1 * i % 1.0 for i in range(13)]
    weight = [i + 1 for i in range(13)]
    city = sum(s * w for s, w in zip(share, weight, strict=True)) / sum(weight)
    assert f"{100 * city:.1f}%" in text and "1/13" in text
    # the lowest three: 区0 and 区10 at 0 %, then 区1 at 10 %
    assert "区0 0.0%, 区10 0.0%, 区1 10.0%" in text
    assert "13 districts" in text and "区5" not in text  # no line per district
    # up to twelve districts: a line per district, as before
    assert "区5" in coverage_text(_city(12), "en")


def test_life_circle_items_of_a_city_point_to_their_table():
    from geoplan.cli._format import items_text

    table = _city(13).assign(n_items=[3] * 13)
    items = pd.DataFrame({"standard": ["park_500"], "district": ["区0"]})
    assert items_text(items, table, "en") == ("Life circles item by item (GB 50180-2018): "
                                              "coverage_items.csv (1 life circles × 13 districts)")
    assert items_text(items, table, "zh", "街道") == (
        "生活圈逐项覆盖（GB 50180-2018）：见 coverage_items.csv（1 个生活圈 × 13 个街道）")
    assert items_text(items.iloc[:0], table) == ""


def test_written_files_of_a_city_count_its_page_folders(tmp_path):
    from geoplan.cli._format import written_text

    paths = [tmp_path / "coverage.csv", tmp_path / "map.html"]
    paths += [tmp_path / "maps" / f"{i:02d}.html" for i in range(13)]
    paths += [tmp_path / "reports" / f"{i:02d}.html" for i in range(3)]
    paths += [tmp_path.parent / f"elsewhere{i}.csv" for i in range(13)]  # outside: each shown
    lines = written_text(tmp_path, paths).splitlines()
    assert lines[1:] == [f"output folder: {tmp_path}", "  coverage.csv", "  map.html",
                         "  maps/  (13 files)", "  reports/00.html", "  reports/01.html",
                         "  reports/02.html",
                         *[f"  {tmp_path.parent / f'elsewhere{i}.csv'}" for i in range(13)]]


def test_city_lines_keep_hostile_district_names_on_one_clean_line():
    from geoplan.cli._format import city_text

    table = _city(13)
    table.loc[0, "district"] = "恶意\x1b[2J区\n=cmd|' /C calc'!A0"
    text = city_text(table, "en")
    assert "\x1b" not in text and "恶意" in text
    row = next(ln for ln in text.splitlines() if ln.startswith("A park within 500 m"))
    assert "恶意" in row  # the lowest district, its line break gone


def test_tables_printed_through_pandas_drop_terminal_escapes(capsys):
    """A name from OSM or a file reaches the terminal as text: its escapes are dropped
    (``print_table``, the dead ends' table)."""
    from types import SimpleNamespace

    from geoplan.cli._common import print_table
    from geoplan.deadends.run import format_table

    hostile = "坏\x1b]0;pwned\x07路\x1b[2J"
    print_table(pd.DataFrame({"district": [hostile], "roads": [3]}), title=hostile)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "坏" in out and "路" in out
    conn = pd.DataFrame({"district": [hostile], "area_km2": [1.0], "road_km": [2.0],
                         "road_density": [2.0], "intersection_density": [3.0],
                         "dead_end_share": [0.1], "link_node_ratio": [1.4], "n_public": [1],
                         "n_noexit": [0], "n_private_compound": [0], "n_service": [0],
                         "n_data_check": [0]})
    ends = pd.DataFrame({"rank": [1.0], "id": ["DE1"], "district": [hostile], "name": [hostile],
                         "highway": ["residential\x1b[31m"], "gap_m": [20.0], "detour_m": [900.0],
                         "detour_ratio": [12.0], "crosses_water": [False],
                         "crosses_railway": [False]})
    text = format_table(SimpleNamespace(connectivity=conn, dead_ends=ends, excluded={},
                                        progress=None))
    assert "\x1b" not in text and "\x07" not in text and "坏" in text


def test_a_city_of_many_districts_says_how_many_are_only_partly_inside():
    # 16 of 25 grid cells partly inside the data: the per-district '*' is gone at city scale,
    # and the city's line said nothing of it
    from geoplan.cli._format import coverage_text

    table = _city(13).assign(inside_share=[0.4] * 3 + [1.0] * 10)
    assert "3 of the 13 districts lie only partly inside the data" in coverage_text(table, "en")
    assert "13 个街道中有 3 个只有部分面积在数据范围内" in coverage_text(table, "zh", "街道")
    assert "partly inside" not in coverage_text(_city(13), "en")
