"""Scenarios (挂图作战): planned facilities change only the standards that use them."""

from __future__ import annotations

import pytest

from geoplan._errors import ConfigError
from geoplan.scenario import run_scenario, scenario_config
from geoplan.standards import resolve_standards


def test_planned_toilets_raise_only_toilet_shares(chengdu_config):
    standards = resolve_standards(["toilet_main_300", "toilet_general_500", "bus_stop_500", "park_500"])
    table = run_scenario(chengdu_config, "planned_toilets", standards).set_index(["district", "standard"])
    toilets = table.loc[table.index.get_level_values("standard").str.startswith("toilet")]
    assert (toilets["n_facilities_after"] == toilets["n_facilities_before"] + 6).all()
    assert (toilets["share_buffer_change"] >= 0).all()
    assert (toilets["share_network_change"] >= -1e-12).all()
    # the planned toilets lie on main streets of 金牛区 and 成华区
    assert table.loc[("金牛区", "toilet_main_300"), "share_buffer_change"] > 0.05
    assert table.loc[("成华区", "toilet_main_300"), "share_buffer_change"] > 0.02
    # nothing else moves: a planned-facility file must not change the study area (regression)
    others = table.loc[~table.index.get_level_values("standard").str.startswith("toilet")]
    assert (others["share_buffer_change"] == 0).all()
    assert (others["share_network_change"] == 0).all()


def test_unknown_scenario_name(chengdu_config):
    with pytest.raises(ConfigError, match=r"no scenario named 'plan'.*planned_toilets"):
        scenario_config(chengdu_config, "plan")


def test_the_rows_a_scenario_changes():
    import pandas as pd

    from geoplan.scenario import changed

    table = pd.DataFrame({"standard": ["green_300", "toilet_main_300", "toilet_main_300"],
                          "share_buffer_change": [0.0, 0.0, 0.084],
                          "share_network_change": [float("nan"), 1e-12, 0.02]})
    assert changed(table).tolist() == [False, False, True]


def test_planned_rows_are_named_by_the_planner_s_file_and_a_scenario_that_moves_nothing_says_so(
        tmp_path, capsys):
    from geoplan.cli import main
    from tests.hostile.world import LAT0, LON0, make_world

    config = make_world(tmp_path / "city")
    planned = tmp_path / "规划.csv"
    # one stop in the city, one in Beijing: the warning names this file, not the temporary
    # per-layer file the rows are read through (/tmp/geoplan-planned-…/planned_bus_stops.csv)
    planned.write_text("standard,layer,name,lon_wgs84,lat_wgs84\n"
                       f"bus_stop_500,bus_stops,甲,{LON0 + 0.004},{LAT0 + 0.004}\n"
                       "bus_stop_500,bus_stops,乙,116.397,39.909\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["scenario", str(config), "--planned", str(planned), "--no-map", "--out",
                 str(out), "-q"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert f"{planned} (its bus_stops rows): 1 of 2 features lie outside" in err
    assert "geoplan-planned-" not in err
    # a service without its kind: no standard of this config counts it
    nothing = tmp_path / "服务.csv"
    nothing.write_text("standard,layer,name,lon_wgs84,lat_wgs84\n"
                       f",services,丙,{LON0 + 0.004},{LAT0 + 0.004}\n", encoding="utf-8")
    assert main(["scenario", str(config), "--planned", str(nothing), "--no-map", "--out",
                 str(out), "-q"]) == 0
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert "scenario 服务 changes no share: no standard of this config counts" in err
    assert "没有任何覆盖率变化，列出全部行" in captured.out and "只列出有变化的行" not in captured.out


def test_the_scenario_map_says_which_facilities_are_planned(tmp_path):
    # a planned stop's popup names its file (数据来源); OSM's stops have no such row
    from geoplan.cli import main
    from tests.hostile.world import LAT0, LON0, world_with_scenario

    config = world_with_scenario(tmp_path / "city", "一期")
    out = tmp_path / "out"
    assert main(["scenario", str(config), "--name", "一期", "--out", str(out), "-q"]) == 0
    page = (out / "scenario_一期" / "map.html").read_text(encoding="utf-8")
    assert "数据来源" in page and page.count('"stops.csv"') == 1
    assert '"city.osm"' not in page
    planned = tmp_path / "规划站点.csv"
    planned.write_text("standard,layer,name,lon_wgs84,lat_wgs84\n"
                       f"bus_stop_500,bus_stops,甲,{LON0 + 0.004},{LAT0 + 0.004}\n",
                       encoding="utf-8")
    assert main(["scenario", str(config), "--planned", str(planned), "--out", str(out),
                 "-q"]) == 0
    page = (out / "scenario_规划站点" / "map.html").read_text(encoding="utf-8")
    assert '"规划站点.csv"' in page and "planned_bus_stops" not in page



@pytest.mark.parametrize("layer, standard, tags", [
    ("bus_stops", "bus_stop_500", '<tag k="highway" v="bus_stop"/>'),
    ("toilets", "toilet_general_500", '<tag k="amenity" v="toilets"/>')])
def test_a_planned_point_beside_an_existing_one_is_one_more_and_moves_nothing(
        tmp_path, layer, standard, tags):
    # a planned stop (or toilet) 5 m east of an unnamed one of OSM: within the distance at
    # which OSM's several features of one stop merge (30 m; toilets 10 m), it was merged into
    # the existing one, which moved 2.5 m east, and the scenario counted no new facility
    from pyproj import Transformer

    from geoplan.config import load_config
    from geoplan.layers import load_layers
    from geoplan.scenario import planned_config, run_planned
    from tests.hostile.world import _lonlat, make_world, osm_xml

    config_path = make_world(tmp_path / "city", config={"standards": [standard]})
    lon0, lat0 = _lonlat(2.0, 1.0)  # a street corner in the west of the city
    (tmp_path / "city" / "city.osm").write_text(osm_xml(extra_nodes=(
        f'\n<node id="9001" lat="{lat0}" lon="{lon0}" version="1">{tags}</node>')),
        encoding="utf-8")
    config = load_config(config_path)
    standards = resolve_standards([standard])
    today = load_layers(config)[layer]
    assert len(today) == 2  # the city's own (named) one and the unnamed one
    to_wgs = Transformer.from_crs(today.crs, 4326, always_xy=True)
    unnamed = today.loc[today["name"] == ""].geometry.iloc[0]
    assert to_wgs.transform(unnamed.x, unnamed.y) == pytest.approx((lon0, lat0), abs=1e-9)
    lon, lat = to_wgs.transform(unnamed.x + 5.0, unnamed.y)
    planned = tmp_path / "planned.csv"
    planned.write_text("standard,layer,name,lon_wgs84,lat_wgs84\n"
                       f"{standard},{layer},规划设施 1,{lon!r},{lat!r}\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    after = load_layers(planned_config(config, planned, work, standards))[layer]
    assert len(after) == 3
    kept = after.loc[after["name"] == ""].geometry
    assert len(kept) == 1 and kept.iloc[0].equals_exact(unnamed, 0.0)  # where OSM has it
    new = after.loc[after["name"] == "规划设施 1"].geometry
    assert len(new) == 1 and new.iloc[0].distance(unnamed) == pytest.approx(5.0, abs=1e-6)
    table = run_planned(config, planned, standards)
    assert (table["n_facilities_after"] == 3).all()
    # one more facility never lowers a share
    assert (table["share_buffer_change"] >= 0).all()
    assert (table["share_network_change"] >= 0).all()
