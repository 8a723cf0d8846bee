"""GeoPackages open styled in QGIS: a ``layer_styles`` table with one default QML style per layer."""

from __future__ import annotations

import re
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString, Point, box

from geoplan._io import write_gpkg
from geoplan.report.colours import CLASS_COLOURS, GAP_COLOUR
from geoplan.report.qgis_styles import STYLE_TABLE, add_layer_styles, styler

CJK = re.compile("[\u4e00-\u9fff]")
HOSTILE = 'x"/></aliases><script>alert(1)</script>&amp;\x01\'<!--'


def _styles(path: Path) -> list[tuple[str, str, str, int, str]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(
            f'SELECT f_table_name, f_geometry_column, styleName, useAsDefault, styleQML '
            f'FROM "{STYLE_TABLE}" ORDER BY id').fetchall()
    finally:
        con.close()


def _qml(text: str) -> ET.Element:
    assert text.startswith("<!DOCTYPE qgis")
    return ET.fromstring(text.split("\n", 1)[1])


def _aliases(root: ET.Element) -> dict[str, str]:
    return {a.get("field", ""): a.get("name", "") for a in root.iter("alias")}


def _check_gpkg(path: Path) -> dict[str, ET.Element]:
    """Every feature layer has exactly one default style that parses, with Chinese aliases."""
    layers = [name for name, gtype in pyogrio.list_layers(path) if gtype is not None]
    rows = _styles(path)
    defaults = {}
    for table, geom, _name, default, qml in rows:
        root = _qml(qml)
        if default:
            assert table not in defaults, f"two default styles for {table}"
            defaults[table] = root
        info = pyogrio.read_info(path, layer=table)
        assert geom == info["geometry_name"]
        aliases = _aliases(root)
        assert set(info["fields"]) <= set(aliases), table
        plain = {f: a for f, a in aliases.items() if not CJK.search(a)}
        assert plain == {}, f"{path.name}/{table}: aliases not in Chinese: {plain}"
    assert sorted(defaults) == sorted(layers), path.name
    for name in [*layers, STYLE_TABLE]:  # every layer still reads
        pyogrio.read_dataframe(path, layer=name)
    return defaults


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, chengdu_layers, chengdu_results) -> Path:
    """The default run's GeoPackages, written by the writers ``geoplan run`` calls."""
    from geoplan.cli.layers_cmd import write_layers
    from geoplan.coverage.output import write_coverage
    from geoplan.data_checks import data_checks, write_data_checks
    from geoplan.deadends import write_deadends

    out = tmp_path_factory.mktemp("styled")
    coverage, deadends, sites = chengdu_results
    write_layers(chengdu_layers, out)
    write_coverage(coverage, out)
    write_deadends(deadends, out)
    write_gpkg({"suggested_sites": sites.table}, out / "sites.gpkg", styles=styler())
    checks = data_checks(chengdu_layers, coverage, deadends, [], chengdu_layers.datum)
    write_data_checks(checks, out)
    return out


def test_every_output_layer_has_a_default_style_with_chinese_aliases(outputs):
    names = sorted(p.name for p in outputs.glob("*.gpkg"))
    assert names == ["coverage.gpkg", "data_checks.gpkg", "deadends.gpkg", "layers.gpkg",
                     "sites.gpkg"]
    found = {name: _check_gpkg(outputs / name) for name in names}
    districts = found["coverage.gpkg"]["districts"]
    # the map's classes: rules relative to green_300's 100% target, coloured as on the map
    rules = [r.get("filter") for r in districts.iter("rule")]
    assert rules[0] == '"share_buffer__green_300" >= 1'
    assert rules[-1] == '"share_buffer__green_300" IS NULL'
    colours = [o.get("value") for o in districts.iter("Option") if o.get("name") == "color"]
    assert colours[0] == "26,152,80,130" and CLASS_COLOURS["pass"] == "#1a9850"
    assert districts.get("labelsEnabled") == "1"
    aliases = _aliases(districts)
    assert aliases["share_buffer__green_300"] == "直线覆盖率：300米见绿"
    assert aliases["share_network__park_500"] == "步行覆盖率：500米见园"
    assert aliases["district"] == "区县" and aliases["area_m2"] == "面积（平方米）"
    gaps = found["coverage.gpkg"]["gaps"]
    r, g, b = (int(GAP_COLOUR[i:i + 2], 16) for i in (1, 3, 5))
    assert any(o.get("value", "").startswith(f"{r},{g},{b},")
               for o in gaps.iter("Option") if o.get("name") == "color")
    assert _aliases(found["layers.gpkg"]["buildings"])["levels"] == "层数"
    assert _aliases(found["layers.gpkg"]["schools"])["levels"] == "学段"
    # besides the default, one style per standard and measure for the districts
    extra = [row for row in _styles(outputs / "coverage.gpkg")
             if row[0] == "districts" and not row[3]]
    assert len(extra) == 2 * 13 and any(row[2] == "公交站点500米覆盖（步行）" for row in extra)


def test_hostile_names_cannot_break_the_xml(tmp_path):
    sid = f"s{HOSTILE}"
    frame = gpd.GeoDataFrame(
        {"district": [HOSTILE], f"share_buffer__{sid}": [0.4], HOSTILE: [HOSTILE]},
        geometry=[box(0, 0, 10, 10)], crs=32648)
    path = write_gpkg({"districts": frame, "gaps": frame.assign(view="buffer")},
                      tmp_path / "x.gpkg", styles=styler({sid: 0.8}, {sid: HOSTILE}))
    rows = _styles(path)
    assert [(r[0], r[3]) for r in rows][:1] == [("districts", 1)]
    for _table, _geom, style_name, _default, qml in rows:
        root = _qml(qml)  # parses: nothing from the data escaped the attribute values
        assert root[0].tag == "renderer-v2"
        assert "<script>" not in qml and "\x01" not in qml and "\x01" not in style_name
        aliases = _aliases(root)
        clean = HOSTILE.replace("\x01", "")
        assert clean in aliases  # the field's own (hostile) name, escaped and read back
    districts = _qml(rows[0][4])
    filters = [r.get("filter") for r in districts.iter("rule")]
    # the column is quoted for QGIS's expression parser ("" inside a quoted name)
    quoted = '"share_buffer__s' + clean.replace('"', '""') + '"'
    assert filters[0] == f"{quoted} >= 0.8"
    assert _aliases(districts)[f"share_buffer__s{clean}"] == f"直线覆盖率：{clean}"
    assert gpd.read_file(path, layer="districts")["district"].tolist() == [HOSTILE]


def test_styles_are_replaced_not_duplicated(tmp_path):
    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(0, 0)], crs=32648)
    lines = gpd.GeoDataFrame({"name": ["a"]}, geometry=[LineString([(0, 0), (1, 1)])], crs=32648)
    path = write_gpkg({"toilets": frame, "roads": lines}, tmp_path / "l.gpkg")
    assert add_layer_styles(path) == 2
    assert add_layer_styles(path) == 2
    rows = _styles(path)
    assert sorted((r[0], r[3]) for r in rows) == [("roads", 1), ("toilets", 1)]
    con = sqlite3.connect(path)
    kind = con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = ?",
                       (STYLE_TABLE,)).fetchone()
    con.close()
    assert kind == ("attributes",)


def test_styles_written_unsynced_are_the_same_in_an_ordinary_file(tmp_path):
    # write_gpkg's styler adds them unsynced, the journal in memory: the file is synced whole
    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(0, 0)], crs=32648)
    synced = write_gpkg({"toilets": frame}, tmp_path / "a.gpkg")
    add_layer_styles(synced)
    unsynced = write_gpkg({"toilets": frame}, tmp_path / "b.gpkg", styles=styler())
    assert _styles(unsynced) == _styles(synced)
    con = sqlite3.connect(unsynced)
    assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()


def test_homes_by_walking_distance_and_road_widths_are_named(tmp_path):
    bands = gpd.GeoDataFrame({"standard": ["a"], "district": ["甲区"], "band": ["near"],
                              "area_m2": [1.0]}, geometry=[box(0, 0, 1, 1)], crs=32648)
    roads = gpd.GeoDataFrame({"name": ["x"], "width": [7.0], "lanes": [2.0]},
                             geometry=[LineString([(0, 0), (1, 1)])], crs=32648)
    path = write_gpkg({"walk_bands": bands, "roads": roads}, tmp_path / "b.gpkg",
                      styles=styler())
    styles = {row[0]: _qml(row[4]) for row in _styles(path)}
    rules = [r.get("filter") for r in styles["walk_bands"].iter("rule")]
    assert rules == ['"band" = \'within\'', '"band" = \'near\'', '"band" = \'beyond\'']
    assert _aliases(styles["roads"])["width"] == "路面宽度（米）"
