"""The planners' notebooks run top to bottom on the default analysis (papermill)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
KERNEL = "geoplan-test"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory) -> str:
    """A kernelspec that runs this very interpreter (whatever other kernels are installed)."""
    base = tmp_path_factory.mktemp("jupyter")
    spec = base / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "geoplan tests", "language": "python",
    }))
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(base))
    mp.setenv("GEOPLAN_NO_PROGRESS", "1")
    yield KERNEL
    mp.undo()


@pytest.mark.parametrize("name", ["coverage.ipynb", "deadends.ipynb"])
def test_committed_clean_with_parameters(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), \
        "commit notebooks without outputs"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for key in ("config_path", "standards", "district", "lang"):
        assert f"{key} =" in params[0].source


def _run(name: str, tmp_path: Path, kernel: str, **parameters) -> nbformat.NotebookNode:
    import papermill

    out = tmp_path / name
    papermill.execute_notebook(str(NOTEBOOKS / name), str(out), parameters=parameters,
                               kernel_name=kernel, cwd=str(NOTEBOOKS), progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", output
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/html", ""))
    return "\n".join(parts)


def _images(cell: nbformat.NotebookNode) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


@pytest.mark.slow
def test_notebooks_run_with_parameters(tmp_path, kernel, chengdu_layers):
    # one run of each notebook (they are the slowest tests): a list parameter given as text, as
    # papermill's -p passes it, and a district; chengdu_layers fills the session's layer cache,
    # which the kernel reads (same GEOPLAN_CACHE_DIR)
    nb = _run("coverage.ipynb", tmp_path, kernel, standards="park_500, primary_school_500",
              district="锦江区")
    text = _text(nb)
    assert "成都中心城区" in text and "2 项标准：park_500, primary_school_500" in text
    assert "folium-map" in text or "leaflet" in text.lower()  # the map is shown inline
    assert "fitBounds" in text  # ... zoomed to the district
    # people in Chinese: census residents, children beyond the school radius, seats, indicators
    assert "2020年普查常住人口" in text and "学位缺口" in text and "人均公园绿地面积" in text
    table_cell = next(c for c in nb.cells if "table = coverage.table" in c.source)
    table_html = table_cell.outputs[-1]["data"]["text/html"]
    assert "锦江区" in table_html and "成华区" not in table_html
    assert "primary_school_500" in table_html and "green_300" not in table_html
    assert "直线覆盖率" in table_html and "share_buffer" not in table_html
    # the workbook's formats and words, not pandas' defaults (300.000000, False, NaN, the index)
    assert ">500<" in table_html and ">未达标<" in table_html and ">100.0%<" in table_html
    assert not re.search(r">(True|False|NaN|nan|500\.0+)<", table_html)
    assert "row_heading" not in table_html
    assert "TqdmWarning" not in text and "IProgress" not in text
    assert "人口：第七次全国人口普查" in text  # the population source in Chinese
    charts = [c for c in nb.cells if "share_chart(" in c.source or "gaps_chart(" in c.source]
    assert len(charts) == 2 and all(_images(c) == 1 for c in charts)
    nb = _run("deadends.ipynb", tmp_path, kernel, district="锦江区")
    text = _text(nb)
    assert "条断头路" in text and "锦江区" in text and "绕行距离（米）" in text
    assert "路网密度（公里/平方公里）" in text and "fitBounds" in text
    assert not re.search(r"<th[^>]*>[a-z_0-9]+</th>", text), "an untranslated column header"
    assert not re.search(r">(True|False|NaN|nan)<", text)


# without a CJK font (fonts-noto-cjk) matplotlib draws boxes and warns per glyph; the labels
# and bars are checked all the same
@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_charts_and_labels_in_both_languages():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from geoplan.notebook import column_labels, gaps_chart, share_chart

    assert column_labels(["seat_gap", "road_density", "share_buffer"], "zh") == {
        "seat_gap": "学位缺口", "road_density": "路网密度（公里/平方公里）",
        "share_buffer": "直线覆盖率"}
    assert column_labels(["seat_gap", "road_density"], "en") == {
        "seat_gap": "Seat gap (学位缺口)", "road_density": "road_density"}
    table = pd.DataFrame({"district": ["甲区", "甲区", "乙区"], "standard": ["a", "b", "a"],
                          "name_zh": ["公园", "公交", "公园"], "name_en": ["park", "bus", "park"],
                          "target": [1.0, 0.8, 1.0], "share_buffer": [0.5, 0.9, 0.2],
                          "share_network": [0.3, 0.6, 0.1]})
    fig = share_chart(table, "甲区", "zh")
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["公园", "公交"]
    heights = [round(b.get_height(), 6) for b in ax.patches]
    assert heights == [50.0, 90.0, 30.0, 60.0]
    target = ax.collections[0].get_segments()
    assert [round(seg[0][1], 6) for seg in target] == [100.0, 80.0]
    assert len(share_chart(table, None, "en").axes) == 2
    gaps = pd.DataFrame({"district": ["甲区", "乙区"], "standard": ["a", "a"], "rank": [1, 1],
                         "area_m2": [20_000.0, 50_000.0], "street": ["人民路", None]})
    fig = gaps_chart(gaps, "zh", names={"a": "公园"})
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["乙区 · 公园 · 第1处", "甲区 · 公园 · 第1处 · 人民路"]
    assert [round(b.get_width(), 6) for b in fig.axes[0].patches] == [5.0, 2.0]


def test_list_parameters_as_list_or_text():
    from geoplan.notebook import as_list

    assert as_list(None) is None and as_list("") is None
    assert as_list(["park_500", "bus_stop_500"]) == ["park_500", "bus_stop_500"]
    assert as_list('["park_500"]') == ["park_500"]  # was read letter by letter
    assert as_list("park_500, bus_stop_500") == ["park_500", "bus_stop_500"]
    assert as_list("park_500，bus_stop_500") == ["park_500", "bus_stop_500"]
    with pytest.raises(ValueError, match="park_500,bus_stop_500"):
        as_list('["park_500"')
