"""The catalog against the sourced tables: GB 50180-2018 life circles, documents, packs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoplan._errors import ConfigError
from geoplan.standards import (
    FacilitySet,
    default_catalog,
    documents,
    packs,
    resolve_standards,
    standard_source_title,
)

# GB 50180-2018 城市居住区规划设计标准, as sourced for this catalog (see the `gb50180_2018`
# document note in geoplan/data/standards.yaml): walking distance of each tier and the
# facility items the tier lists. The distances are confirmed by public descriptions of the
# standard; the item lists are geoplan's reading of the standard's 配套设施 tables.
GB50180_TIERS = {
    "life_circle_5min": (300, "300", {
        "社区服务站", "文化活动站", "小型多功能运动（球类）场地", "室外综合健身场地", "幼儿园",
        "托儿所", "老年人日间照料中心（托老所）", "社区卫生服务站", "社区商业网点", "公共厕所",
        "社区游园（≥0.4公顷）", "社区食堂", "再生资源回收点", "生活垃圾收集站",
        "非机动车停车场（库）", "机动车停车场（库）"}),
    "life_circle_10min": (500, "500", {
        "小学", "中型多功能运动场地", "菜市场或生鲜超市", "公交车站", "居住区公园（≥1公顷）",
        "餐饮设施", "银行营业网点", "电信营业网点", "邮政营业场所"}),
    "life_circle_15min": (1000, "800~1000", {
        "初中", "大型多功能运动场地", "卫生服务中心（社区医院）", "养老院", "老年养护院",
        "门诊部", "文化活动中心", "社区服务中心（街道级）", "街道办事处", "司法所", "商场",
        "居住区公园（≥5公顷）", "餐饮设施", "银行营业网点", "电信营业网点", "邮政营业场所"}),
}


@pytest.mark.parametrize("sid", sorted(GB50180_TIERS))
def test_life_circle_tiers_match_the_sourced_table(sid: str) -> None:
    std = default_catalog()[sid]
    radius, distance_text, items = GB50180_TIERS[sid]
    assert std.radius_m == radius
    assert any(r.document == "gb50180_2018" and distance_text in r.clause for r in std.sources)
    listed = {fs.name_zh for fs in std.basket or ()} | set(std.unmeasured_items)
    assert listed == items
    assert all(fs.name_zh and fs.label for fs in std.basket or ())
    assert std.k_of_n == len(std.basket or ()) - 1


def test_single_service_standards_and_their_sources() -> None:
    cat = default_catalog()
    expect = {"kindergarten_300": (300, "gb50180_93"), "health_station_300": (300, "gb50180_2018"),
              "health_centre_1000": (1000, "gb50180_2018"),
              "elderly_day_care_300": (300, "gb50180_2018"), "care_home_1000": (1000, "gb50180_2018"),
              "fitness_15min": (1000, "hebi_2018")}
    for sid, (radius, doc) in expect.items():
        assert cat[sid].radius_m == radius
        assert cat[sid].sources[0].document == doc


def test_every_entry_names_its_documents_in_full() -> None:
    docs = documents()
    for std in default_catalog().values():
        assert std.sources, std.id
        for ref in std.sources:
            assert ref.document in docs, (std.id, ref.document)
        title = standard_source_title(std)
        assert "《" in title and "》" in title
    assert docs["hebi_2018"].full_title == (
        "鹤壁市人民政府办公室《鹤壁市2018年度百城建设提质工程工作实施方案》（2018-04）")
    assert docs["quanzhou_2021"].number == "泉政办〔2021〕6号"
    assert docs["gb55014_2021"].full_title == "GB 55014-2021《园林绿化工程项目规范》"


def test_packs_set_targets_and_years() -> None:
    stds = {s.id: s for s in resolve_standards(None, pack="anyang_2023")}
    assert stds["park_service_coverage"].target == 0.8
    assert stds["park_service_coverage"].target_year == 2023
    assert stds["bus_stop_500"].target_year == 2023 and stds["bus_stop_500"].pack == "anyang_2023"
    # included from the national pack, no year
    assert stds["kindergarten_300"].pack == "national" and stds["kindergarten_300"].target_year is None
    assert "toilet_main_300" not in stds  # a Hebi standard, not Anyang's
    # a config's own target wins over the pack's
    (psc,) = resolve_standards(["park_service_coverage"], targets={"park_service_coverage": 0.9},
                               pack="anyang_2023")
    assert psc.target == 0.9 and psc.target_year == 2023
    hebi = {s.id for s in resolve_standards(None, pack="hebi_2018")}
    assert {"toilet_main_300", "fitness_15min", "life_circle_5min"} <= hebi
    for p in packs().values():
        for inc in p.include:
            assert inc in packs()


def test_unknown_pack_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as err:
        resolve_standards(None, pack="anyang2023")
    assert "did you mean 'anyang_2023'" in str(err.value)


def test_kind_filter_matches_any_of_the_joined_kinds() -> None:
    layer = pd.DataFrame({"kind": ["clinic;health_station", "market", "", "health_centre;hospital"]})
    fs = FacilitySet(layer="services", filter={"kind": ["health_station", "health_centre"]})
    np.testing.assert_array_equal(fs.select(layer), [True, False, False, True])
    fs1 = FacilitySet(layer="services", filter={"kind": "clinic"})
    np.testing.assert_array_equal(fs1.select(layer), [True, False, False, False])


def test_cli_standards_shows_full_titles(capsys: pytest.CaptureFixture[str]) -> None:
    from geoplan.cli import main

    assert main(["standards"]) == 0
    out = capsys.readouterr().out
    assert "鹤壁市人民政府办公室《鹤壁市2018年度百城建设提质工程工作实施方案》" in out
    assert "GB 50180-2018《城市居住区规划设计标准》" in out
    assert main(["standards", "--packs"]) == 0
    assert "anyang_2023" in capsys.readouterr().out
