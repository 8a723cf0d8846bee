"""Analysis configs: every problem reported at once, with its key path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from geoplan._errors import ConfigError
from geoplan.config import load_config
from tests.conftest import CHENGDU_CONFIG, ROOT


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _base() -> dict:
    return {
        "name": "t",
        "districts": {"path": str(ROOT / "layers/boundaries/510100_districts_gcj02.geojson"), "crs": "gcj02"},
        "osm": {"path": str(ROOT / "layers/chengdu/chengdu_core_2018.osm.pbf")},
    }


def test_default_config_loads_with_absolute_paths():
    config = load_config(CHENGDU_CONFIG)
    assert config.districts.path.is_file()
    assert config.osm.path.is_file()
    assert config.output.is_absolute()
    assert config.source_file == CHENGDU_CONFIG.resolve()


def test_every_city_config_is_valid_apart_from_its_missing_osm_file():
    for path in sorted((ROOT / "analyses").glob("*.yaml")):
        if path.name.startswith("chengdu_"):  # the embedded extract's: every file there
            assert load_config(path).osm.path.is_file()
            continue
        config = load_config(path, check_files=False)
        assert config.districts.path.is_file(), path
        with pytest.raises(ConfigError, match=r"osm\.path: file not found.*geoplan fetch"):
            load_config(path)


def test_several_mistakes_are_reported_together(tmp_path):
    data = _base()
    data["districts"]["crs"] = "gcj-2"                 # bad CRS name
    data["districts"]["colour"] = "red"                # unknown key
    data["standards"] = ["park_50", {"id": "green_300", "radius_m": -5}]
    data["layers"] = {"toilets": [{"path": "nope.csv"}], "parkz": []}
    data["demand"] = {"grid_m": 0}
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, data))
    problems = info.value.problems
    text = str(info.value)
    assert "districts.colour: unknown key" in text
    assert "demand.grid_m" in text
    assert "layers" in text and "parkz" in text
    assert len(problems) >= 3
    # the keys without a type error are checked for meaning in the same run: the standards
    assert "unknown standard id 'park_50'; did you mean 'park_500'?" in text
    assert "radius_m" in text and "greater than 0" in text
    # ... but not a key with one: districts.crs waits for districts' own fix
    assert "gcj-2" not in text and "file not found" not in text
    data["districts"].pop("colour")
    data["demand"] = {}
    data["layers"] = {"toilets": [{"path": "nope.csv"}]}
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, data))
    text = str(info.value)
    assert "districts.crs" in text and "gcj02" in text          # lists the accepted names
    assert "layers.toilets[0].path: file not found" in text
    assert "unknown standard id 'park_50'; did you mean 'park_500'?" in text
    assert "radius_m" in text and "greater than 0" in text


def test_a_type_error_and_a_wrong_pack_are_said_in_one_run(tmp_path):
    data = {**_base(), "name": 5, "pack": "nopack", "crs": "EPSG:4326"}
    data["districts"] = {**data["districts"], "encoding": "latin-9x"}
    data["osm"] = {"path": str(tmp_path / "gone.osm.pbf")}
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, data))
    text = str(info.value)
    assert "name: Input should be a valid string" in text
    assert "nopack" in text  # the pack, the analysis CRS, the encoding and the file, at once
    assert "crs: " in text and "districts.encoding: unknown encoding 'latin-9x'" in text
    assert "osm.path: file not found" in text
    # each problem once
    assert len(info.value.problems) == len(set(info.value.problems)) == 5


def test_a_misspelt_key_or_a_number_with_its_unit_says_what_to_write(tmp_path):
    data = _base()
    data["districts"]["name_feild"] = "name"
    data["demand"] = {"grid_m": "25m", "max_snpa_m": 100}
    data["map"] = {"colour": "red"}
    data["nmae"] = "x"
    data["layers"] = {"toilets": [{"pth": "公厕.csv"}]}  # a key under a layer kind's list
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, data))
    problems = info.value.problems
    assert "layers.toilets[0].pth: unknown key (did you mean 'path'?)" in problems
    assert "districts.name_feild: unknown key (did you mean 'name_field'?)" in problems
    assert "demand.max_snpa_m: unknown key (did you mean 'max_snap_m'?)" in problems
    assert "nmae: unknown key (did you mean 'name'?)" in problems
    colour = next(p for p in problems if p.startswith("map.colour"))  # nothing near: the keys
    assert "the keys here are " in colour and "max_mb" in colour
    assert ("demand.grid_m: '25m' is not a number; write the number alone, without its unit "
            "(the key's name says it), e.g. grid_m: 25") in problems


def test_a_config_path_that_leads_nowhere_says_where_it_looked(tmp_path, monkeypatch):
    (tmp_path / "analyses").mkdir()
    for name in ("chengdu_core", "chengdu_grid", "xiamen"):
        (tmp_path / "analyses" / f"{name}.yaml").write_text("name: x\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:  # the near names in its own folder, both
        load_config("analyses/chengdu.yaml")
    assert info.value.problems == [
        "the configuration file does not exist (looked for "
        f"{tmp_path / 'analyses' / 'chengdu.yaml'}); did you mean analyses/chengdu_core.yaml "
        "or analyses/chengdu_grid.yaml?"]
    with pytest.raises(ConfigError, match=r"did you mean analyses/chengdu_core\.yaml\?"):
        load_config("chengdu_core.yaml")  # the config's name without its folder
    with pytest.raises(ConfigError) as info:  # nothing near: no guess (the .yaml is no likeness)
        load_config("analyses/xyz.yaml")
    assert "did you mean" not in info.value.problems[0]
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    with pytest.raises(ConfigError) as info:  # run from another folder: which one, and what to give
        load_config("analyses/chengdu_core.yaml")
    assert f"from the folder you run in ({tmp_path / 'elsewhere'})" in info.value.problems[0]


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_geographic_analysis_crs_is_refused(tmp_path):
    data = _base()
    data["crs"] = "EPSG:4326"
    with pytest.raises(ConfigError, match="crs"):
        load_config(_write(tmp_path, data))


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    data = _base()
    data["output"] = "out/here"
    config = load_config(_write(tmp_path, data))
    assert config.output == (tmp_path / "out" / "here").resolve()


def test_standards_as_one_line_of_text_are_a_list(tmp_path):
    # as the notebooks and --standards take them (pydantic's "Input should be a valid list")
    config = load_config(_write(tmp_path, {**_base(), "standards": "park_500, bus_stop_500，green_300"}))
    assert config.standards == ["park_500", "bus_stop_500", "green_300"]
    with pytest.raises(ConfigError, match="did you mean 'park_500'"):
        load_config(_write(tmp_path, {**_base(), "standards": "park500, bus_stop_500"}))


def test_the_shipped_grid_and_planned_schools_are_what_the_readme_says():
    import geopandas as gpd

    from geoplan.scenario import read_planned

    config = load_config(ROOT / "analyses" / "chengdu_grid.yaml")
    cells = gpd.read_file(config.districts.path).to_crs(32648)
    assert len(cells) == 64 and config.districts.unit == "网格"
    assert cells.area.to_numpy() == pytest.approx(1e6, rel=1e-5)  # 1 km² each (to 1e-7°)
    assert config.demand.census_districts is not None
    planned = read_planned(ROOT / "analyses" / "chengdu_planned_schools.csv")
    assert len(planned) == 3 and set(planned["layer"]) == {"schools"}
