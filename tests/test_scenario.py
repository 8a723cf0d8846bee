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
