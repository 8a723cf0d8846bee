"""The warnings a Chinese batch page lists read in Chinese, each as geoplan logs it."""

from __future__ import annotations

import logging

import geopandas as gpd
import pytest
import shapely

from geoplan.report._labels import warning_label


def _logged(caplog, action) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        action()
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_each_warning_as_logged_reads_in_chinese(caplog, tmp_path):
    from geoplan.batch import SEATS_PER_DISTRICT
    from geoplan.layers.overlaps import district_overlaps

    districts = gpd.GeoDataFrame({"district": ["甲区", "乙区"]},
                                 geometry=[shapely.box(0, 0, 1000, 1000),
                                           shapely.box(500, 0, 1500, 1000)], crs="EPSG:32648")
    overlap = _logged(caplog, lambda: district_overlaps(districts))
    assert warning_label(overlap[0], "zh", "社区").startswith(
        "1 对社区相互重叠：甲区 / 乙区 (0.50 km², 50%)。")
    seats = SEATS_PER_DISTRICT.format(which="甲区: OSError")
    assert warning_label(seats, "zh") == "学位只在各区县自己的儿童中分配：甲区: OSError 的儿童未能统计"
    logger = logging.getLogger("geoplan.coverage.engine")
    # the words of coverage/engine.py, load.py and districts.py, as they log them
    texts = _logged(caplog, lambda: (
        logger.warning("standard %s: no data for %s (no %s facility in the input)",
                       "life_circle_5min", "Community service station (社区服务站)", "services"),
        logger.warning("standard %s: no data for %s (no %s facility in the input)",
                       "life_circle_5min", "社区服务站", "services"),
        logger.warning("layer %r is empty in the study area: standards using it will score 0 "
                       "or have no value", "bus_stops"),
        logger.warning("district file %s names %s more than once; these districts are called "
                       "by name and code instead: %s", "d.geojson", ["东区"],
                       ["东区 (c2)", "东区 (c3)"])))
    assert [warning_label(t, "zh", "街道") for t in texts] == [
        "标准 life_circle_5min：数据中没有「社区服务站」（输入数据中无此类设施），该项按无数据计",
        "标准 life_circle_5min：数据中没有「社区服务站」（输入数据中无此类设施），该项按无数据计",
        "图层「公交站」在研究范围内为空：用到它的标准得分为 0 或无值",
        "街道文件 d.geojson 中 ['东区'] 重名：这些街道改称“名称 (代码)”：['东区 (c2)', '东区 (c3)']",
    ]
    assert warning_label(texts[0], "en") == texts[0]


@pytest.mark.parametrize("source", ["geoplan/coverage/engine.py", "geoplan/coverage/chunked.py",
                                    "geoplan/layers/load.py", "geoplan/layers/districts.py"])
def test_the_logged_words_are_those_translated(source):
    # the patterns follow the source's wording: a change there must change them too
    from pathlib import Path

    text = Path(__file__).resolve().parents[1].joinpath(source).read_text(encoding="utf-8")
    words = {"engine": "no data for %s (no %s facility in the input)",
             "chunked": "no data for %s (no %s facility in the input)",
             "load": "is empty in the study area: standards using it will score 0 ",
             "districts": "districts are called by name and code instead: "}
    assert words[Path(source).stem] in text
