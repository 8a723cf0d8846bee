"""The standards catalog as users see it: ids, overrides, errors and `geoplan standards`."""

from __future__ import annotations

import pytest

from geoplan._errors import ConfigError
from geoplan.standards import catalog_table, default_catalog, resolve_standards

REQUIRED = {"green_300", "park_500", "park_service_coverage", "bus_stop_500", "toilet_main_300",
            "toilet_general_500", "toilet_riverside_park_800", "primary_school_500",
            "junior_school_1000", "life_circle_15min"}


def test_catalog_has_every_required_standard_with_sources():
    catalog = default_catalog()
    assert REQUIRED <= set(catalog)
    table = catalog_table()
    assert (table["source"].str.len() > 0).all()
    assert table.set_index("id").loc["park_service_coverage", "radius_m"] == "500/300"


def test_overrides_and_custom_standards():
    (park,) = resolve_standards([{"id": "park_500", "radius_m": 400}], targets={"park_500": 0.9})
    assert park.radius_m == 400 and park.target == 0.9
    custom = {"id": "clinic_800", "name_zh": "诊所800米", "name_en": "Clinic within 800 m",
              "facility": {"layer": "services", "filter": {"kind": "clinic"}}, "radius_m": 800}
    (clinic,) = resolve_standards(["clinic_800"], custom=[custom])
    assert clinic.max_radius_m == 800


def test_a_filter_on_a_column_the_layer_lacks_stops_the_config():
    custom = {"id": "big_park", "name_zh": "大公园", "name_en": "big parks", "radius_m": 800,
              "facility": {"layer": "parks", "filter": {"are_m2": {"min": 1e4}}}}
    with pytest.raises(ConfigError) as err:
        resolve_standards(["big_park"], custom=[custom])
    assert "'are_m2' is not a column of layer 'parks' (did you mean 'area_m2'?)" in str(err.value)
    custom["facility"]["filter"] = {"area_m2": {"min": 1e4}, "min_area_m2": 1e4}
    (park,) = resolve_standards(["big_park"], custom=[custom])
    assert park.max_radius_m == 800


def test_bad_ids_and_radii_name_every_problem():
    with pytest.raises(ConfigError) as err:
        resolve_standards(["park_5000", {"id": "green_300", "radius_m": -1}])
    text = str(err.value)
    assert "park_5000" in text and "did you mean 'park_500'" in text
    assert "radius_m" in text and len(err.value.problems) == 2


def test_cli_standards_lists_the_catalog(capsys):
    from geoplan.cli import main

    assert main(["standards"]) == 0
    out = capsys.readouterr().out
    for sid in REQUIRED:
        assert sid in out
    assert "500米见园" in out and "§三(三)4" in out


def test_cli_standards_of_a_config_under_another_pack(capsys):
    """``geoplan standards CONFIG --pack P``: the config's standards with P's targets (--pack
    was ignored with a config)."""
    from geoplan.cli import main
    from tests.conftest import ROOT

    config = str(ROOT / "analyses" / "chengdu_core.yaml")
    assert main(["standards", config]) == 0
    national = capsys.readouterr().out
    assert main(["standards", config, "--pack", "anyang_2023"]) == 0
    anyang = capsys.readouterr().out
    assert "target 80% [national]" in national
    assert "target 80% by 2023 [anyang_2023]" in anyang and "[national]" in anyang


def test_cli_coverage_rejects_unknown_standard(capsys, chengdu_config, tmp_path):
    from geoplan.cli import main

    code = main(["coverage", str(chengdu_config.source_file), "--standards", "park_5000",
                 "--out", str(tmp_path)])
    assert code == 2
    assert "park_5000" in capsys.readouterr().err
    assert not (tmp_path / "coverage.csv").exists()


def test_packaged_catalogs_parse_the_same_with_the_fast_yaml_loader():
    from importlib import resources

    import yaml

    from geoplan._io import load_yaml
    from geoplan.layers.rules import default_catalog_path

    for text in ((resources.files("geoplan") / "data" / "standards.yaml").read_text("utf-8"),
                 default_catalog_path().read_text("utf-8")):
        fast = load_yaml(text)
        assert fast == yaml.safe_load(text)
        assert isinstance(fast, dict) and fast
    assert load_yaml("a: [1, 2.5, '=x']\nb: 2025-01-01\n") == {"a": [1, 2.5, "=x"],
                                                              "b": yaml.safe_load("2025-01-01")}
