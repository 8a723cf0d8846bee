"""The notebooks' setup helper (geoplan.notebook) on a 1 km² extract."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geoplan._errors import ConfigError
from geoplan.config import load_config
from geoplan.coverage import run_coverage
from geoplan.notebook import as_list, find_config, load_analysis, summary_line
from geoplan.results import RunResult
from geoplan.standards import resolve_standards
from tests._tiny_osm import write_tiny_inputs

CONFIG = """\
name: 小城 (tiny)
districts:
  path: ../data/districts.geojson
  crs: wgs84
standards: [park_500, bus_stop_500, toilet_main_300]
osm:
  path: ../data/tiny.osm
output: ../output/tiny
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A repository-like folder: analyses/tiny.yaml, data/, notebooks/."""
    root = tmp_path_factory.mktemp("repo")
    (root / "data").mkdir()
    write_tiny_inputs(root / "data")
    (root / "analyses").mkdir()
    (root / "analyses" / "tiny.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "notebooks").mkdir()
    return root


@pytest.fixture(scope="module")
def run(repo):
    mp = pytest.MonkeyPatch()
    mp.chdir(repo / "notebooks")  # where papermill runs a notebook
    try:
        yield load_analysis("../analyses/tiny.yaml", "park_500, bus_stop_500")
    finally:
        mp.undo()


def test_load_analysis_computes_what_the_pipeline_computes(run, repo):
    assert isinstance(run, RunResult)
    assert [s.id for s in run.standards] == ["park_500", "bus_stop_500"]
    assert run.coverage is not None and run.sites is not None and run.deadends is not None
    run.validate()
    # the same numbers as measuring coverage directly on the same layers and standards
    config = load_config(repo / "analyses" / "tiny.yaml")
    direct = run_coverage(run.layerset, resolve_standards(["park_500", "bus_stop_500"]),
                          config.demand).table
    pd.testing.assert_frame_equal(run.coverage.table.reset_index(drop=True),
                                  direct.reset_index(drop=True))
    assert list(run.summary["district"]) == ["测试区"]
    assert run.out == (repo / "output" / "tiny").resolve()
    assert not run.out.exists()  # nothing written
    assert summary_line(run) == "小城 (tiny) · 2 standards: park_500, bus_stop_500"


def test_standards_as_a_list_a_string_or_none():
    assert as_list(["park_500", "bus_stop_500"]) == ["park_500", "bus_stop_500"]
    assert as_list(" park_500 ,bus_stop_500, ") == ["park_500", "bus_stop_500"]
    assert as_list(("park_500",)) == ["park_500"]
    assert as_list(None) is None and as_list("") is None and as_list([]) is None
    with pytest.raises(TypeError, match="as strings"):
        as_list([500])


def test_the_config_is_found_from_the_notebook_folder_or_the_repository(repo, monkeypatch):
    target = repo / "analyses" / "tiny.yaml"
    monkeypatch.chdir(repo / "notebooks")
    assert find_config("../analyses/tiny.yaml").resolve() == target
    assert find_config("analyses/tiny.yaml").resolve() == target  # repository-relative
    monkeypatch.chdir(repo)
    assert find_config("../analyses/tiny.yaml").resolve() == target  # run from the root
    assert find_config("analyses/missing.yaml") == Path("analyses/missing.yaml")  # as given
    with pytest.raises(ConfigError, match="does not exist"):
        load_analysis("analyses/missing.yaml")


def test_only_the_steps_asked_for_and_the_district_checked(repo, monkeypatch):
    monkeypatch.chdir(repo)
    dead = load_analysis("analyses/tiny.yaml", steps=("deadends",), district="测试区")
    assert dead.coverage is None and dead.sites is None and dead.deadends is not None
    # one string of steps is read as names, not letter by letter
    assert load_analysis("analyses/tiny.yaml", steps="deadends").deadends is not None
    # the config's own standards when none are given
    assert [s.id for s in dead.standards] == ["park_500", "bus_stop_500", "toilet_main_300"]
    with pytest.raises(ValueError, match=r"'锦江区' is not in the analysis.*测试区"):
        load_analysis("analyses/tiny.yaml", district="锦江区", steps=())


def test_bad_standard_or_step_fails_before_any_work(repo, monkeypatch):
    monkeypatch.chdir(repo)
    with pytest.raises(ConfigError, match="did you mean 'park_500'"):
        load_analysis("analyses/tiny.yaml", ["park_5000"])
    with pytest.raises(ValueError, match="unknown steps"):
        load_analysis("analyses/tiny.yaml", steps=("map",))


def test_chinese_fonts_installed_after_matplotlibs_cache_are_found(monkeypatch):
    # matplotlib keeps its font list in a cache made on first use; a CJK font installed
    # afterwards (apt-get install fonts-noto-cjk) is not in it until found on disk
    from matplotlib import font_manager

    from geoplan.notebook import _CJK_FILES, _CJK_FONTS, use_chinese_fonts

    manager = font_manager.fontManager
    if not any(k in Path(p).name.lower() for p in font_manager.findSystemFonts()
               for k in _CJK_FILES):
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    stale = [f for f in manager.ttflist if f.name not in _CJK_FONTS]
    monkeypatch.setattr(manager, "ttflist", stale)
    found = use_chinese_fonts()
    assert found and found[0] in _CJK_FONTS
    assert any(f.name == found[0] for f in manager.ttflist)


def test_charts_refuse_an_unknown_language_or_district():
    import pandas as pd

    from geoplan.notebook import share_chart

    table = pd.DataFrame({"district": ["甲区"], "standard": ["park_500"], "name_zh": ["500米见园"],
                          "name_en": ["park 500 m"], "target": [0.8], "share_buffer": [0.5],
                          "share_network": [0.4]})
    with pytest.raises(ValueError, match="lang 'fr'"):
        share_chart(table, lang="fr")
    with pytest.raises(ValueError, match=r"'北区' is not in the table.*甲区"):
        share_chart(table, district="北区")
