"""The data-check report: the datum check on synthetic and real boundaries, the table, its files."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from openpyxl import Workbook, load_workbook

from geoplan import chinese_coords as cc
from geoplan.config import DistrictsSource
from geoplan.data_checks import add_workbook_sheet, data_checks, write_data_checks
from geoplan.layers.datum import datum_check, reference_lines
from geoplan.layers.districts import read_districts
from tests.conftest import CHENGDU_DISTRICTS, CHENGDU_PBF

UTM = "EPSG:32648"
EXTENT = shapely.box(104.0, 30.6, 104.2, 30.8)


def _to_gcj(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(cc.wgs84_to_gcj02(xy[:, 0], xy[:, 1])))


def _districts_and_boundaries():
    # two districts side by side; OSM's administrative boundary is their shared edge and outline
    west, east = shapely.box(104.02, 30.62, 104.1, 30.78), shapely.box(104.1, 30.62, 104.18, 30.78)
    truth = gpd.GeoDataFrame({"district": ["西区", "东区"]}, geometry=[west, east], crs=4326)
    admin = np.array([shapely.LineString([(104.1, 30.62), (104.1, 30.78)]), west.exterior,
                      east.exterior], dtype=object)
    return truth, admin


def test_gcj02_boundaries_declared_wgs84_are_caught():
    truth, admin = _districts_and_boundaries()
    as_file = truth.set_geometry([_to_gcj(g) for g in truth.geometry])  # GCJ-02, read as WGS 84
    check = datum_check(as_file, "wgs84", admin, "administrative boundaries", EXTENT, UTM)
    assert check["suspect"] and check["best"] == "gcj02"
    assert 100 < check["median_m"]["wgs84"] < 700
    assert check["median_m"]["gcj02"] < 5  # the inverse conversion is metre-accurate
    assert "--districts-crs gcj02" in check["message"]


@pytest.mark.parametrize("declared", ["wgs84", "gcj02"])
def test_bd09_boundaries_declared_otherwise_are_caught(declared):
    # BD-09 lies 950 m from WGS 84 and 910 m from GCJ-02 in Chengdu: beyond the 700 m the
    # check once allowed, so such a file went unsaid and every share was off
    truth, admin = _districts_and_boundaries()
    to_file = {"wgs84": cc.wgs84_to_bd09,
               "gcj02": lambda x, y: cc.gcj02_to_bd09(*cc.wgs84_to_gcj02(x, y))}[declared]
    as_read = {"wgs84": lambda g: g, "gcj02": lambda g: shapely.transform(
        g, lambda xy: np.column_stack(cc.gcj02_to_wgs84(xy[:, 0], xy[:, 1])))}[declared]
    as_file = truth.set_geometry([as_read(shapely.transform(
        g, lambda xy: np.column_stack(to_file(xy[:, 0], xy[:, 1])))) for g in truth.geometry])
    check = datum_check(as_file, declared, admin, "administrative boundaries", EXTENT, UTM)
    assert check["suspect"] and check["best"] == "bd09"
    assert check["median_m"]["bd09"] < 5 and check["median_m"][declared] > 500
    assert "--districts-crs bd09" in check["message"]


def test_correct_declaration_is_quiet():
    truth, admin = _districts_and_boundaries()
    check = datum_check(truth, "wgs84", admin, "administrative boundaries", EXTENT, UTM)
    assert not check["suspect"] and check["median_m"]["wgs84"] < 1
    check = datum_check(truth, "gcj02", admin, "administrative boundaries", EXTENT, UTM)
    assert not check["suspect"]


def test_street_grid_is_the_reference_without_admin_boundaries():
    truth, _ = _districts_and_boundaries()
    # streets every ~500 m, two of them on the district edges
    lons, lats = np.arange(104.02, 104.181, 0.005), np.arange(30.62, 30.781, 0.005)
    streets = np.array([shapely.LineString([(x, 30.62), (x, 30.78)]) for x in lons]
                       + [shapely.LineString([(104.02, y), (104.18, y)]) for y in lats], dtype=object)
    as_file = truth.set_geometry([_to_gcj(g) for g in truth.geometry])
    check = datum_check(as_file, "wgs84", streets, "street grid", EXTENT, UTM)
    assert check["suspect"] and check["best"] == "gcj02"


def test_real_chengdu_boundaries_declared_wgs84_are_caught():
    wrong = read_districts(DistrictsSource(path=CHENGDU_DISTRICTS, crs="wgs84"))
    roads = gpd.GeoDataFrame(geometry=[shapely.LineString([(104.05, 30.66), (104.1, 30.7)])],
                             crs=4326).to_crs(UTM)
    ref, what = reference_lines(CHENGDU_PBF, roads, (104.0421, 30.6528, 104.1296, 30.7279))
    assert what == "administrative boundaries"
    extent = shapely.box(104.0421, 30.6528, 104.1296, 30.7279)
    check = datum_check(wrong, "wgs84", ref, what, extent, UTM)
    assert check["suspect"] and check["best"] == "gcj02"
    right = read_districts(DistrictsSource(path=CHENGDU_DISTRICTS, crs="gcj02"))
    assert not datum_check(right, "gcj02", ref, what, extent, UTM)["suspect"]


class _Layers:
    """The parts of a LayerSet the checks read."""

    crs = UTM

    def __init__(self) -> None:
        from geoplan.layers.from_osm import TRUNCATED_ISSUE

        self.issues = pd.DataFrame([{"layer": "residential", "source": "a.osm", "issue": TRUNCATED_ISSUE,
                                     "count": 3, "action": "repaired"}])
        self.districts = gpd.GeoDataFrame({"district": ["=HYPERLINK(\"x\")", "乙区"], "area_m2": [2e6, 5e6],
                                           "inside_share": [0.25, 1.0]},
                                          geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
                                          crs=UTM)


def test_table_files_and_workbook_sheet(tmp_path):
    checks = data_checks(_Layers())
    assert sorted(checks["check"]) == ["partial_district", "truncated_data"]
    assert checks.loc[checks["check"] == "truncated_data", "count"].iat[0] == 3
    paths = write_data_checks(checks, tmp_path)
    assert [p.name for p in paths] == ["data_checks.csv", "data_checks.gpkg"]
    table = pd.read_csv(tmp_path / "data_checks.csv", encoding="utf-8-sig")
    assert len(table) == 2
    book = tmp_path / "r.xlsx"
    Workbook().save(book)
    add_workbook_sheet(book, checks)
    ws = load_workbook(book)["数据核查"]
    values = [c.value for row in ws.iter_rows(min_row=2) for c in row]
    assert "=HYPERLINK(\"x\")" in values  # a hostile name as written, in a text cell
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_workbook_writer_holds_the_checks_sheet(tmp_path):
    from geoplan.report.checks_sheet import CHECKS_SHEET
    from geoplan.report.tables import write_workbook

    checks = data_checks(_Layers())
    book = write_workbook(None, None, tmp_path / "r.xlsx", checks=checks)
    wb = load_workbook(book)
    assert wb.sheetnames[-1] == CHECKS_SHEET  # written with the workbook, no second save
    ws = wb[CHECKS_SHEET]
    assert [c.value for c in ws[1]][:3] == ["核查项", "级别", "区县"]
    assert ws["A2"].value in {"数据被截断的要素", "区县只有部分在数据范围内", "缺少某类设施数据",
                              "步行道不可达的设施", "疑似漏连的道路端点（非断头路）",
                              "远离步行道的居住用地", "坐标基准疑似错误"}
    values = [c.value for row in ws.iter_rows(min_row=2) for c in row]
    assert "=HYPERLINK(\"x\")" in values
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert ws.page_setup.orientation == "landscape"


def test_mapping_gaps_and_missing_facilities_are_listed():
    from types import SimpleNamespace

    from geoplan.standards import resolve_standards

    dead = pd.DataFrame([{"category": "data_check", "district": "乙区", "id": "DE0001", "name": "路",
                          "highway": "residential", "reason": "ends 4.5 m from another road",
                          "length_m": 80.0, "end_x": 5.0, "end_y": 6.0}])
    fac = pd.DataFrame({"standard": [], "item": [], "n_access": [], "source_id": [], "name": [],
                        "district": [], "radius_m": []})
    table = pd.DataFrame({"demand_kind": ["residential"], "district": ["乙区"], "unreachable_points": [4]})
    coverage = SimpleNamespace(facilities=fac, table=table)
    checks = data_checks(_Layers(), coverage, SimpleNamespace(dead_ends=dead),
                         resolve_standards(["park_500"]))
    kinds = set(checks["check"])
    assert {"mapping_gap", "no_facility", "demand_off_network"} <= kinds
    gap = checks.loc[checks["check"] == "mapping_gap"].iloc[0]
    assert gap.geometry.x == 5.0 and "4.5 m" in gap["detail"]


def test_overlapping_districts_are_found_on_paper():
    from geoplan.layers.overlaps import district_overlaps

    # 1 km squares: 甲 and 乙 share a 200 m strip (0.2 km², 20 % of either); 丙 only touches
    # 乙; 丁 overlaps 丙 by a 5 m sliver (0.5 %), under the share said
    squares = {"甲": (0, 0), "乙": (800, 0), "丙": (1800, 0), "丁": (2795, 0)}
    districts = gpd.GeoDataFrame({"district": list(squares)},
                                 geometry=[shapely.box(x, y, x + 1000, y + 1000)
                                           for x, y in squares.values()], crs=UTM)
    found = district_overlaps(districts)
    assert found[["district", "other"]].values.tolist() == [["甲", "乙"]]
    assert found["area_m2"].iat[0] == 200_000.0
    assert found["share"].iat[0] == 0.2
    assert 800 <= found["x"].iat[0] <= 1000
    assert len(district_overlaps(districts, min_share=0.004)) == 2


def test_each_district_of_an_overlap_has_its_row(caplog):
    layers = _Layers()
    layers.districts = layers.districts.set_geometry(
        [shapely.box(0, 0, 1000, 1000), shapely.box(500, 0, 1500, 1000)], crs=UTM)
    checks = data_checks(layers)
    rows = checks.loc[checks["check"] == "overlapping_units"]
    assert rows[["district", "subject"]].values.tolist() == [["=HYPERLINK(\"x\")", "乙区"],
                                                            ["乙区", "=HYPERLINK(\"x\")"]]
    assert (rows["measure"] == 0.5).all() and (rows["severity"] == "warning").all()
    assert "overlap by 0.50 km² (50% of the smaller)" in rows["detail"].iat[0]
    assert "1 pair(s) of districts overlap" in caplog.text
    # a batch job is told the city's overlaps: one of its districts is in a pair
    told = pd.DataFrame([{"district": "乙区", "other": "丙区", "area_m2": 3e5, "share": 0.3,
                          "x": 1.0, "y": 2.0}])
    rows = data_checks(_Layers(), overlaps=told)
    rows = rows.loc[rows["check"] == "overlapping_units"]
    assert rows[["district", "subject"]].values.tolist() == [["乙区", "丙区"]]


def test_an_overlap_reads_in_chinese_with_the_units_word():
    from geoplan.report._map_checks import check_name, check_words_zh

    layers = _Layers()
    layers.districts = layers.districts.set_geometry(
        [shapely.box(0, 0, 1000, 1000), shapely.box(950, 0, 1950, 1000)], crs=UTM)
    rows = data_checks(layers).query("check == 'overlapping_units'")
    row = list(rows.itertuples(index=False))[1]
    detail, fix = check_words_zh(row, "社区")
    assert detail.startswith("乙区与=HYPERLINK(\"x\")重叠 0.05 平方公里")
    assert fix == "修正边界，使各社区互不重叠"
    assert check_name("overlapping_units", "zh", "社区") == "社区相互重叠"


def test_the_checks_sheet_of_an_english_workbook_is_english(tmp_path):
    from geoplan.report.checks_sheet import CHECKS_SHEET_EN
    from geoplan.report.tables import write_workbook

    checks = data_checks(_Layers())
    wb = load_workbook(write_workbook(None, None, tmp_path / "r.xlsx", checks=checks, lang="en"))
    assert wb.sheetnames[-1] == CHECKS_SHEET_EN
    ws = wb[CHECKS_SHEET_EN]
    assert [c.value for c in ws[1]][:3] == ["Check", "Severity", "District"]
    values = [c.value for row in ws.iter_rows(min_row=2) for c in row]
    assert "District only partly inside the data" in values and "note" in values
    assert not any(isinstance(v, str) and any("\u4e00" <= ch <= "\u9fff" for ch in v)
                   for v in values if v not in ("乙区",))
    zh = load_workbook(write_workbook(None, None, tmp_path / "z.xlsx", checks=checks))["数据核查"]
    subjects = [r[3].value for r in zh.iter_rows(min_row=2)]
    assert "居住用地" in subjects  # the layer's name, not 'residential'


def test_a_life_circle_item_without_data_is_said_to_be_left_out_not_scored_0():
    from types import SimpleNamespace

    from geoplan.report._map_checks import check_words_zh
    from geoplan.standards import resolve_standards

    fac = pd.DataFrame({"standard": [], "item": [], "n_access": [], "source_id": [], "name": [],
                        "district": [], "radius_m": []})
    # 500米见园 scores 0 in a district; 800 m riverside toilets have nothing to measure (no
    # riverside paths): "scores 0" was said of it while every table showed "—"
    table = pd.DataFrame({"demand_kind": ["residential", "street_riverside_park"],
                          "district": ["甲区", "甲区"], "unreachable_points": [0, 0],
                          "standard": ["park_500", "toilet_riverside_park_800"],
                          "share_buffer": [0.0, np.nan]})
    checks = data_checks(_Layers(), SimpleNamespace(facilities=fac, table=table),
                         standards=resolve_standards(["park_500", "life_circle_5min",
                                                      "toilet_riverside_park_800"]))
    rows = checks.loc[checks["check"] == "no_facility"]
    toilet = rows.loc[rows["subject"] == "滨河公园公厕800米"].iloc[0]
    assert "scores 0" not in toilet["detail"] and "it has no share" in toilet["detail"]
    assert np.isnan(toilet["measure"])
    assert check_words_zh(next(rows.loc[[toilet.name]].itertuples(index=False)))[0].endswith(
        "区县内也没有此标准要衡量的对象，没有覆盖率（数据中缺失，或确实没有）")
    # standards and items by name, in each language (the id 'life_circle_5min' had been shown)
    park = rows.loc[rows["subject"] == "500米见园"].iloc[0]
    assert park["subject_en"] == "A park within 500 m"
    assert check_words_zh(next(rows.loc[[park.name]].itertuples(index=False)))[0].startswith(
        "标准 500米见园：输入数据中没有所需设施，得分为 0")
    item = rows.loc[rows["subject"] == "五分钟生活圈/社区服务站"].iloc[0]
    assert item["subject_en"].startswith("5-minute life circle") and \
        item["subject_en"].endswith("/Community service station")
    assert "so it scores 0" in park["detail"] and park["measure"] == 0.0
    assert "left out of the life circle's shares" in item["detail"] and np.isnan(item["measure"])
    zh = check_words_zh(next(rows.loc[[item.name]].itertuples(index=False)))[0]
    assert zh.startswith("标准 五分钟生活圈：输入数据中没有「社区服务站」类设施，该项按无数据计")


def test_a_facility_no_walkway_reaches_is_named_by_item_and_id_in_each_language():
    # it read 'small_sports ' (the item's code and an empty name) and the zh text lost the id
    from types import SimpleNamespace

    from geoplan.report._map_checks import check_words_zh, english_subjects
    from geoplan.standards import resolve_standards

    fac = pd.DataFrame({"standard": ["park_500"], "item": ["park_500"], "n_access": [0],
                        "source_id": ["w262123660"], "name": [""], "district": ["甲区"],
                        "radius_m": [500.0], "geometry": [shapely.Point(400_100, 3_390_100)]})
    table = pd.DataFrame({"demand_kind": [], "district": [], "unreachable_points": []})
    stds = resolve_standards(["park_500"])
    item = stds[0].facility_sets[0]
    fac["item"] = item.label or item.layer
    checks = data_checks(_Layers(), SimpleNamespace(facilities=fac, table=table), standards=stds)
    row = checks.loc[checks["check"] == "unreached_facility"].iloc[0]
    zh_name, en_name = "500米见园", "A park within 500 m"  # one facility set: the standard's
    assert row["subject"] == f"{zh_name} w262123660"
    assert row["subject_en"] == f"{en_name} w262123660"
    assert row["detail"].startswith(row["subject_en"] + ": no walkway")
    assert check_words_zh(next(checks.loc[[row.name]].itertuples(index=False)))[0] == \
        f"{zh_name} w262123660：附近没有可达的步行道，只计入直线覆盖率"
    assert english_subjects(checks.loc[[row.name]]).iloc[0] == row["subject_en"]


def test_an_unnamed_road_in_a_mapping_gap_is_named_by_its_class_in_chinese():
    from types import SimpleNamespace

    from geoplan.report._map_checks import check_words_zh

    def rec(detail):
        return SimpleNamespace(check="mapping_gap", count=1, measure=5.0, subject="DE0001",
                               district="甲区", detail=detail)

    gap = ": ends 1.2 m from another road without a shared node"
    assert check_words_zh(rec("residential" + gap))[0].startswith("无名居住区道路：端点距另一条道路 1.2 米")
    assert check_words_zh(rec("荆翠西路" + gap))[0].startswith("荆翠西路：端点距另一条道路 1.2 米")


def test_the_checks_table_places_each_check_in_degrees_too(tmp_path):
    layers = _Layers()
    layers.districts = layers.districts.set_geometry(
        [shapely.box(400_000, 3_390_000, 401_000, 3_391_000),
         shapely.box(400_500, 3_390_000, 401_500, 3_391_000)], crs=UTM)
    write_data_checks(data_checks(layers), tmp_path)
    table = pd.read_csv(tmp_path / "data_checks.csv", encoding="utf-8-sig")
    placed = table.loc[table["check"] == "overlapping_units"].iloc[0]
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(placed["x"],
                                                                               placed["y"])
    assert placed["lon_wgs84"] == pytest.approx(lon) and placed["lat_wgs84"] == pytest.approx(lat)
    assert {"lon_gcj02", "lat_gcj02", "lon_bd09", "lat_bd09"} <= set(table.columns)
    assert np.isnan(table.loc[table["check"] == "truncated_data", "lon_wgs84"]).all()


def test_a_district_too_small_to_measure_is_said():
    # a polygon collapsed by a datum conversion (800 m²) was analysed and reported at 86 %
    from geoplan.report._map_checks import check_words_zh

    layers = _Layers()
    small = layers.districts.copy()
    small["full_area_m2"] = [800.0] + [2e6] * (len(small) - 1)
    layers.districts = small
    checks = data_checks(layers)
    tiny = checks.loc[checks["check"] == "tiny_district"]
    assert len(tiny) == 1 and tiny.iloc[0]["district"] == small["district"].iloc[0]
    assert tiny.iloc[0]["severity"] == "warning" and "covers only 800 m²" in tiny.iloc[0]["detail"]
    zh = check_words_zh(next(tiny.itertuples(index=False)))[0]
    assert zh.startswith(f"{small['district'].iloc[0]}的面积只有 800 平方米")


def test_districts_of_the_file_not_analysed_are_named(tmp_path):
    # three 街道 given, one wholly east of the data: the run measures two, and the data checks
    # say which one is missing and why (it used to leave no trace in any output)
    import json

    from geoplan.config import load_config
    from geoplan.layers import load_layers
    from geoplan.report._map_checks import check_words_zh
    from tests.hostile.world import LAT0, LON0, districts_geojson, make_world

    config = make_world(tmp_path)
    data = districts_geojson()
    far = [[LON0 + 0.05, LAT0], [LON0 + 0.06, LAT0], [LON0 + 0.06, LAT0 + 0.01],
           [LON0 + 0.05, LAT0]]
    data["features"].append({"type": "Feature", "properties": {"name": "=城外", "adcode": 1},
                             "geometry": {"type": "Polygon", "coordinates": [far]}})
    (tmp_path / "districts.geojson").write_text(json.dumps(data, ensure_ascii=False),
                                                encoding="utf-8")
    layers = load_layers(load_config(config))
    assert sorted(layers["districts"]["district"]) == ["东区", "西区"]
    checks = data_checks(layers)
    row = checks.loc[checks["check"] == "left_out_districts"]
    assert len(row) == 1 and row["count"].iloc[0] == 1 and row["severity"].iloc[0] == "note"
    assert row["detail"].iloc[0].endswith("too little of them inside: =城外")
    zh, fix = check_words_zh(next(row.itertuples(index=False)), "街道")
    assert zh == "文件中有 1 个街道未分析：它们在数据范围以外，或在范围内的面积过小：=城外"
    assert fix is not None and "覆盖这些街道的数据" in fix
    # the table and its files hold it
    write_data_checks(checks, tmp_path / "out")
    text = (tmp_path / "out" / "data_checks.csv").read_text(encoding="utf-8-sig")
    assert "left_out_districts" in text and "=城外" in text


def test_geoplan_coverage_says_the_overlaps_too(tmp_path, capsys):
    # `geoplan run` warned of overlapping units through its data checks; `geoplan coverage`
    # (no data checks) said nothing while homes counted in both
    import json

    from tests._cli import geoplan_in_process
    from tests.hostile.world import DLON, NX, districts_geojson, make_world

    config = make_world(tmp_path)
    data = districts_geojson()
    west = data["features"][0]["geometry"]["coordinates"][0]
    for corner in (1, 2):  # the west unit reaches a street into the east one
        west[corner][0] = round(west[corner][0] + DLON, 7)
    assert NX >= 4
    (tmp_path / "districts.geojson").write_text(json.dumps(data, ensure_ascii=False),
                                                encoding="utf-8")
    done = geoplan_in_process(capsys, "coverage", str(config), "-q", "--out", str(tmp_path / "o"))
    assert done.returncode == 0, done.stderr
    assert "1 pair(s) of districts overlap: 东区 / 西区" in done.stderr


def test_a_school_mapped_twice_is_a_note_where_it_stands():
    # 泡桐树小学 in the default data: two OSM areas of one name 87 m apart, each given a whole
    # school's seats. Same name 80 m apart: one note; 300 m apart, or other names: none
    from geoplan.report._map_checks import check_words_zh

    class Layers(_Layers):
        def __init__(self) -> None:
            super().__init__()
            self.districts = self.districts.set_geometry(
                [shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)], crs=UTM)
            self.layers = {"schools": gpd.GeoDataFrame(
                {"name": ["泡桐树小学", "泡桐树小学", "泡桐树小学", "实验小学", "", ""],
                 "source_id": ["w1", "w2", "w3", "w4", "w5", "w6"]},
                geometry=[shapely.Point(1100, 500), shapely.Point(1180, 500), shapely.Point(1700, 500),
                          shapely.Point(1150, 520), shapely.Point(300, 300), shapely.Point(310, 300)],
                crs=UTM)}

        def __getitem__(self, kind):
            return self.layers[kind]

    rows = data_checks(Layers()).query("check == 'school_mapped_twice'")
    assert len(rows) == 1
    row = next(rows.itertuples(index=False))
    assert (row.district, row.subject, row.count, row.measure) == ("乙区", "泡桐树小学", 2, 80.0)
    assert "(w1, w2)" in row.detail and row.geometry.equals(shapely.Point(1140, 500))
    assert check_words_zh(row)[0] == ("泡桐树小学标注了两次，相距 80 米：两处各按一所完整学校计算学位，"
                                      "学位可能重复计算")
