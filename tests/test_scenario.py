"""Scenarios (挂图作战): planned facilities change only the standards that use them."""

from __future__ import annotations

import pytest

from geoplan._errors import ConfigError
from geoplan.scenario import run_scenario, scenario_config
from geoplan.standards import resolve_standards


def _add_scenarios(config, **scenarios) -> None:
    """Add ``scenarios`` (name -> its section) to the YAML config file ``config``."""
    import yaml

    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw.setdefault("scenarios", {}).update(scenarios)
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


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
    import json

    from geoplan.cli import main
    from tests.hostile.world import LAT0, LON0, world_with_scenario

    config = world_with_scenario(tmp_path / "city", "一期")
    out = tmp_path / "out"
    assert main(["scenario", str(config), "--name", "一期", "--out", str(out), "-q"]) == 0
    page = (out / "scenario_一期" / "map.html").read_text(encoding="utf-8")
    assert "数据来源" in page and page.count('"stops.csv"') == 1
    import re  # the uncovered land (ha) before → after in 东区's popup, as its share
    assert re.search(r'"\d+\.\d\d → \d+\.\d\d"', page)
    # the planned stop is drawn apart, shown at once; today's stop stays in its own layer
    spec = json.loads(re.search(r'geoplan\.layer\((\{"cls":"gp-fac gp-fac-planned".*?\})\);',
                                page).group(1))
    assert spec["n"] == 1 and spec["props"]["kind_cls"] == ["bus_stops"]
    stops = json.loads(re.search(r'geoplan\.layer\((\{"cls":"gp-fac gp-fac-bus_stops".*?\})\);',
                                 page).group(1))
    assert stops["n"] == 1 and "规划设施（本情景）" in page
    assert '"city.osm"' not in page
    planned = tmp_path / "规划站点.csv"
    planned.write_text("standard,layer,name,lon_wgs84,lat_wgs84\n"
                       f"bus_stop_500,bus_stops,甲,{LON0 + 0.004},{LAT0 + 0.004}\n",
                       encoding="utf-8")
    assert main(["scenario", str(config), "--planned", str(planned), "--out", str(out),
                 "-q"]) == 0
    page = (out / "scenario_规划站点" / "map.html").read_text(encoding="utf-8")
    assert '"规划站点.csv"' in page and "planned_bus_stops" not in page


def test_a_scenario_file_s_error_names_the_scenario(tmp_path, capsys):
    # today's layers load; the scenario's stops file lies in the ocean: the error says whose
    # file it is (scenarios.一期.layers), not only the path, and both entry points say so
    from geoplan._errors import InputDataError
    from geoplan.cli import main
    from geoplan.config import load_config
    from tests.hostile.world import world_with_scenario

    config = world_with_scenario(tmp_path / "city", "一期")
    (tmp_path / "city" / "stops.csv").write_text("lon,lat,name\n1,2,甲\n", encoding="utf-8")
    assert main(["scenario", str(config), "--name", "一期", "--out", str(tmp_path / "o"),
                 "-q"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "scenario 一期 (scenarios.一期.layers): " in err and "stops.csv (bus_stops)" in err
    with pytest.raises(InputDataError, match=r"^scenario 一期 \(scenarios\.一期\.layers\): .*stops"):
        run_scenario(load_config(config), "一期", resolve_standards(["bus_stop_500"]))


def test_a_planned_park_is_green_space_too(tmp_path):
    # the catalog's green_space holds OSM's parks; a planner's park under `parks:` alone now
    # counts for 300米见绿 as well, exactly as when the file is listed under both (and listing
    # it under both does not count it twice)
    import json

    import yaml

    from geoplan.config import load_config
    from tests.hostile.world import _lonlat, make_world

    config = make_world(tmp_path / "city", config={"standards": ["green_300", "park_500"]})
    ring = [list(_lonlat(i, j)) for i, j in [(5.5, 3.5), (6.5, 3.5), (6.5, 4.5), (5.5, 4.5),
                                             (5.5, 3.5)]]
    (tmp_path / "city" / "新公园.geojson").write_text(json.dumps({
        "type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
            "name": "规划公园"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}]},
        ensure_ascii=False), encoding="utf-8")
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    park = [{"path": "新公园.geojson"}]
    # one GeoPackage holding the park and another green: the park is still green space
    import geopandas as gpd
    import shapely

    gpkg = tmp_path / "city" / "规划.gpkg"
    gpd.GeoDataFrame({"name": ["规划公园"]}, geometry=[shapely.Polygon(ring)],
                     crs="EPSG:4326").to_file(gpkg, layer="parks")
    far = [list(_lonlat(i, j)) for i, j in [(0.2, 4.5), (0.6, 4.5), (0.6, 4.9), (0.2, 4.9)]]
    gpd.GeoDataFrame({"name": ["街头绿地"]}, geometry=[shapely.Polygon(far)],
                     crs="EPSG:4326").to_file(gpkg, layer="green")
    raw["scenarios"] = {"parks_only": {"layers": {"parks": park}},
                        "both": {"layers": {"parks": park, "green_space": park}},
                        "one_gpkg": {"layers": {
                            "parks": [{"path": "规划.gpkg", "layer": "parks"}],
                            "green_space": [{"path": "规划.gpkg", "layer": "green"}]}}}
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    cfg = load_config(config)
    standards = resolve_standards(["green_300", "park_500"])
    only = run_scenario(cfg, "parks_only", standards).set_index(["district", "standard"])
    both = run_scenario(cfg, "both", standards).set_index(["district", "standard"])
    green = only.loc[("西区", "green_300")]
    assert green["n_facilities_after"] == green["n_facilities_before"] + 1
    assert green["share_buffer_change"] > 0.1 and green["share_network_change"] > 0.05
    assert only.loc[("西区", "park_500"), "share_buffer_change"] > 0.1
    columns = ["n_facilities_after", "share_buffer_after", "share_network_after"]
    assert only[columns].equals(both[columns])
    gpkg_run = run_scenario(cfg, "one_gpkg", standards).set_index(["district", "standard"])
    green = gpkg_run.loc[("西区", "green_300")]
    assert green["n_facilities_after"] == green["n_facilities_before"] + 2  # park and green
    assert green["share_buffer_after"] == pytest.approx(
        only.loc[("西区", "green_300"), "share_buffer_after"], abs=1e-12)  # the green is in 东区


def test_scenarios_compared_for_the_whole_area_on_paper():
    # two districts, demand 100 and 300 (m² of homes): today 50 % and 10 % covered, so the
    # area's share is (50 + 30) / 400 = 20 %; plan A lifts the second to 20 % -> 27.5 %,
    # plan B the first to 100 % -> 32.5 %, and only B's first district meets a 60 % target
    import pandas as pd

    from geoplan.scenario import CITY_COLUMNS, TODAY, compare_scenarios

    def table(a: float, b: float, unserved: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"district": ["甲", "乙"], "standard": ["bus_stop_500"] * 2,
                             "name_zh": ["公交站点500米覆盖"] * 2, "target": [0.6, 0.6],
                             "demand_total": [100.0, 300.0], "share_buffer": [a, b],
                             "share_network": [a / 2, b / 2], "meets_target": [a >= 0.6, b >= 0.6],
                             "share_population_buffer": [a, b],
                             "share_population_network": [a / 2, b / 2],
                             "uncovered_population": unserved})

    # 3,000 residents in 甲 and 1,000 in 乙: by people today is (0.5 × 3000 + 0.1 × 1000) / 4000
    city = compare_scenarios(table(0.5, 0.1, [10.0, 50.0]),
                             {"A": table(0.5, 0.2, [10.0, 40.0]), "B": table(1.0, 0.1, [0.0, 50.0])},
                             residents={"甲": 3000.0, "乙": 1000.0})
    assert list(city.columns) == list(CITY_COLUMNS)
    assert city["scenario"].tolist() == [TODAY, "A", "B"]
    assert city["today"].tolist() == [True, False, False]
    assert city["share_buffer"].tolist() == pytest.approx([0.2, 0.275, 0.325])
    assert city["share_network"].tolist() == pytest.approx([0.1, 0.1375, 0.1625])
    assert city["share_buffer_change"].tolist() == pytest.approx([0.0, 0.075, 0.125])
    assert city["uncovered_population"].tolist() == [60.0, 50.0, 50.0]
    assert city["districts_meeting"].tolist() == [0, 0, 1]
    assert city["districts_measured"].tolist() == [2, 2, 2]
    assert city["best"].tolist() == [False, False, True]
    assert city["share_population_buffer"].tolist() == pytest.approx([0.4, 0.425, 0.775])
    assert city["share_population_network"].tolist() == pytest.approx([0.2, 0.2125, 0.3875])
    assert city["share_population_buffer_change"].tolist() == pytest.approx([0, 0.025, 0.375])
    assert city["uncovered_length_m"].isna().all()  # not a street standard


def test_all_scenarios_are_measured_and_compared_side_by_side(tmp_path, capsys):
    # --all: each scenario gets the same CSV as when run alone, and scenarios_compared.csv
    # holds today and both for every standard, the demand-weighted shares of those CSVs
    import pandas as pd

    from geoplan.cli import main
    from tests.hostile.world import LAT0, LON0, world_with_scenario

    config = world_with_scenario(tmp_path / "city", "一期")
    (tmp_path / "city" / "far.csv").write_text(
        f"lon,lat,name\n{LON0 + 0.015},{LAT0 + 0.0095},远站\n", encoding="utf-8")
    _add_scenarios(config, **{"二期 ../": {"description": "北边一站",
                                          "layers": {"bus_stops": [{"path": "far.csv"}]}}})
    alone = tmp_path / "alone"
    assert main(["scenario", str(config), "--name", "一期", "--out", str(alone), "-q",
                 "--no-map"]) == 0
    out = tmp_path / "all"
    capsys.readouterr()
    assert main(["scenario", str(config), "--all", "--out", str(out), "-q", "--no-map"]) == 0
    printed = capsys.readouterr().out
    assert "方案比选" in printed and "（现状）" in printed and "★" in printed
    assert main(["scenario", str(config), "--all", "--name", "一期", "--out", str(out)]) == 2
    assert "give either --all or --name" in capsys.readouterr().err
    import hashlib

    second = f"scenario_二期_{hashlib.sha256('二期 ../'.encode()).hexdigest()[:6]}.csv"
    names = sorted(p.name for p in out.iterdir() if p.suffix == ".csv")
    assert names == ["scenario_一期.csv", second, "scenarios_compared.csv"]
    pd.testing.assert_frame_equal(pd.read_csv(alone / "scenario_一期.csv"),
                                  pd.read_csv(out / "scenario_一期.csv"))
    city = pd.read_csv(out / "scenarios_compared.csv").set_index(["standard", "scenario"])
    assert len(city) == 2 * 3  # park_500 and bus_stop_500 × today, 一期, 二期 ../
    for name, file in (("一期", "scenario_一期.csv"), ("二期 ../", second)):
        per = pd.read_csv(out / file)
        assert set(per["scenario"]) == {name}  # each file says whose it is
        stops = per.loc[per["standard"] == "bus_stop_500"]
        run = pd.read_csv(alone / "scenario_一期.csv")  # same today in both folders
        assert run["share_buffer_before"].tolist() == per["share_buffer_before"].tolist()
        row = city.loc[("bus_stop_500", name)]
        assert row["share_buffer_change"] > 0.005
        # the sum over all districts, made again from the scenario's own table
        weight = stops["demand_total"]
        assert row["share_buffer"] == pytest.approx(
            (stops["share_buffer_after"] * weight).sum() / weight.sum(), abs=1e-12)
        assert row["share_network"] == pytest.approx(
            (stops["share_network_after"] * weight).sum() / weight.sum(), abs=1e-12)
        assert row["districts_measured"] == len(stops)
    assert city.loc[("park_500", "一期"), "share_buffer_change"] == 0
    today = city.loc[("bus_stop_500", "现状")]
    assert bool(today["today"]) and today["share_buffer_change"] == 0


def test_one_scenario_measured_again_drops_what_described_it_as_it_was(tmp_path, capsys):
    # after its file changed, a scenario measured again (--no-map) leaves neither the
    # comparison of an earlier --all (it summed the tables as they were) nor its old map
    # (4.1% → 78.9% beside a new table of 4.1% → 49.0% in a review): both go, the user is
    # told, and run.json calls nothing rewritten "kept from the previous run"
    import json

    from geoplan.cli import main
    from tests.hostile.world import LAT0, LON0, world_with_scenario

    config = world_with_scenario(tmp_path / "city", "一期")
    _add_scenarios(config, 二期={"layers": {"bus_stops": [{"path": "stops.csv"}]}})
    out = tmp_path / "out"
    assert main(["scenario", str(config), "--all", "--out", str(out), "-q"]) == 0
    assert (out / "scenarios_compared.csv").is_file()
    assert (out / "scenario_一期" / "map.html").is_file()
    (tmp_path / "city" / "stops.csv").write_text(
        f"lon,lat,name\n{LON0 + 0.010},{LAT0 + 0.004},新站\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["scenario", str(config), "--name", "一期", "--out", str(out), "-q",
                 "--no-map"]) == 0
    err = capsys.readouterr().err
    assert "scenarios_compared.csv of an earlier --all is removed" in err
    assert "scenario_一期/ of an earlier run is removed" in err
    assert not (out / "scenarios_compared.csv").exists()
    assert not (out / "scenario_一期").exists() and (out / "scenario_二期" / "map.html").is_file()
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    kept = record["kept_from_the_previous_run_of_this_analysis"]
    assert "scenarios_compared.csv" not in kept and "scenario_一期.csv" not in kept
    assert {"scenario_一期.csv", "scenario_二期.csv"} <= {f["path"] for f in record["files"]}


def test_two_names_of_one_file_name_keep_their_own_files(tmp_path):
    # 'a/b' and 'a-b' both make the file name a-b: each keeps its own file whatever is run
    # after (a later --name a-b overwrote a/b's table, whose map then disagreed)
    import pandas as pd

    from geoplan.cli import main
    from tests.hostile.world import world_with_scenario

    config = world_with_scenario(tmp_path / "city", "a-b")
    _add_scenarios(config, **{"a/b": {"layers": {}}})
    out = tmp_path / "out"
    assert main(["scenario", str(config), "--all", "--out", str(out), "-q", "--no-map"]) == 0
    files = {p.name: set(pd.read_csv(p)["scenario"]) for p in out.glob("scenario_*.csv")}
    assert files["scenario_a-b.csv"] == {"a-b"} and len(files) == 2
    (other,) = [f for f in files if f != "scenario_a-b.csv"]
    assert files[other] == {"a/b"} and other.startswith("scenario_a-b_")
    assert main(["scenario", str(config), "--name", "a-b", "--out", str(out), "-q",
                 "--no-map"]) == 0
    assert set(pd.read_csv(out / other)["scenario"]) == {"a/b"}
    assert set(pd.read_csv(out / "scenario_a-b.csv")["scenario"]) == {"a-b"}


def test_a_scenario_file_s_key_is_the_one_the_user_wrote(tmp_path):
    # merged into today's layers, the scenario's first stops file was `layers.bus_stops[1]`:
    # its errors now say `scenarios.一期.layers.bus_stops[0]`; today's file keeps its key
    from geoplan.config import AnalysisConfig, FileSource, Scenario
    from geoplan.scenario import _scenario_keys

    for name in ("today.csv", "plan.csv"):
        (tmp_path / name).write_text("lon,lat\n104,30\n", encoding="utf-8")
    config = AnalysisConfig(
        name="x", districts={"path": tmp_path / "d.geojson"}, osm={"path": tmp_path / "c.osm"},
        layers={"bus_stops": [FileSource(path=tmp_path / "today.csv")]},
        scenarios={"一期": Scenario(layers={"bus_stops": [
            FileSource(path=tmp_path / "plan.csv")]})})
    planned = scenario_config(config, "一期")
    text = "today.csv: Set `layers.bus_stops[0].crs:`; plan.csv: Set `layers.bus_stops[1].crs:`"
    assert _scenario_keys(text, planned, "一期") == (
        "today.csv: Set `layers.bus_stops[0].crs:`; "
        "plan.csv: Set `scenarios.一期.layers.bus_stops[0].crs:`")


def test_a_draft_scenario_without_its_file_stops_only_itself(tmp_path, capsys):
    # its missing file stopped every command of the config (the run, the other scenarios,
    # the list of scenarios): now only measuring that scenario stops, naming the key

    from geoplan.cli import main
    from tests.hostile.world import world_with_scenario

    config = world_with_scenario(tmp_path / "city", "一期")
    _add_scenarios(config, 草案={"layers": {"bus_stops": [{"path": "还没有.csv"}]}})
    assert main(["scenario", str(config)]) == 0
    assert "还没有.csv（文件缺失）" in " ".join(capsys.readouterr().out.split())
    out = tmp_path / "out"
    assert main(["scenario", str(config), "--name", "一期", "--out", str(out), "-q",
                 "--no-map"]) == 0
    assert (out / "scenario_一期.csv").is_file()
    capsys.readouterr()
    for args in (["--name", "草案"], ["--all"]):
        assert main(["scenario", str(config), *args, "--out", str(tmp_path / "o2"), "-q"]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert "scenarios.草案.layers.bus_stops[0].path: file not found" in err
        assert not (tmp_path / "o2").exists()  # refused before any work


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


def test_a_plan_s_own_demand_and_a_move_too_small_to_be_one_on_paper():
    # a riverside park adds 500 m of riverside path to 乙 (1000 → 1500 m), whose covered
    # length stays 300 m: 30 % → 20 %. The table carries the demand after, so its rows sum to
    # the area's share: (0.5·1000 + 0.2·1500) / 2500 = 32 %. A planned toilet on an existing
    # one moves a share by 3e-8: no change, and no best plan
    import pandas as pd

    from geoplan.scenario import changed, compare, compare_scenarios

    def table(b: float, demand_b: float, a: float = 0.5) -> pd.DataFrame:
        return pd.DataFrame({"district": ["甲", "乙"], "standard": ["toilet_riverside_park_800"] * 2,
                             "name_zh": ["滨河公园公厕800米"] * 2, "target": [1.0, 1.0],
                             "demand_total": [1000.0, demand_b], "demand_unit": ["m", "m"],
                             "n_facilities": [3, 3], "share_buffer": [a, b],
                             "share_network": [a, b], "share_population_buffer": [None, None],
                             "share_population_network": [None, None],
                             "meets_target": [False, False]})

    today, park = table(0.3, 1000.0), table(0.2, 1500.0)
    rows = compare(today, park)
    assert dict(zip(rows["district"], rows["demand_total_after"], strict=True)) == {
        "甲": 1000.0, "乙": 1500.0}
    city = compare_scenarios(today, {"park": park})
    after = (rows["share_buffer_after"] * rows["demand_total_after"]).sum() / \
        rows["demand_total_after"].sum()
    assert after == pytest.approx(0.32) and city["share_buffer"].iloc[1] == pytest.approx(0.32)
    on_top = table(0.3, 1000.0, a=0.5 + 3e-8)
    assert not changed(compare(today, on_top)).any()
    assert not compare_scenarios(today, {"on top": on_top})["best"].any()


def test_one_plan_s_bad_file_keeps_the_plans_measured_before_it(tmp_path, capsys):
    # --all with a plan whose file lies wholly outside the districts: the plans measured
    # before it were thrown away with the whole run; they are now compared and written, the
    # bad plan named, exit code 1
    import pandas as pd

    from tests._cli import geoplan_in_process
    from tests.hostile.world import LAT0, LON0, world_with_scenario

    config = world_with_scenario(tmp_path, "good")
    (tmp_path / "far.csv").write_text(f"lon,lat,name\n{LON0 + 0.3},{LAT0 + 0.3},远站\n",
                                      encoding="utf-8")
    _add_scenarios(config, far={"layers": {"bus_stops": [{"path": "far.csv"}]}})
    done = geoplan_in_process(capsys, "scenario", str(config), "--all", "--no-map", "-q",
                              "--out", str(tmp_path / "out"))
    assert done.returncode == 1, done.stderr
    assert "1 of 2 scenario(s) not measured, the others written: far:" in done.stderr
    assert (tmp_path / "out" / "scenario_good.csv").is_file()
    city = pd.read_csv(tmp_path / "out" / "scenarios_compared.csv", encoding="utf-8-sig")
    assert set(city["scenario"]) == {"现状", "good"}
    assert not list((tmp_path / "out").glob("scenario_far*"))
