"""The planners' notebooks run top to bottom on the default analysis (papermill)."""

from __future__ import annotations

import json
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


@pytest.mark.slow
def test_notebooks_run_with_parameters(tmp_path, kernel):
    # one run of each notebook (they are the slowest tests): a list parameter given as text, as
    # papermill's -p passes it, and a district
    nb = _run("coverage.ipynb", tmp_path, kernel, standards="park_500, primary_school_500",
              district="锦江区")
    text = _text(nb)
    assert "成都中心城区" in text and "2 standards: park_500, primary_school_500" in text
    assert "folium-map" in text or "leaflet" in text.lower()  # the map is shown inline
    # people: census residents, children beyond the school radius, seats, indicators
    assert "census" in text and "seat_gap" in text and "人均公园绿地面积" in text
    table_cell = next(c for c in nb.cells if "table = coverage.table" in c.source)
    table_html = table_cell.outputs[-1]["data"]["text/html"]
    assert "锦江区" in table_html and "成华区" not in table_html
    assert "primary_school_500" in table_html and "green_300" not in table_html
    nb = _run("deadends.ipynb", tmp_path, kernel, district="锦江区")
    text = _text(nb)
    assert "dead ends;" in text and "锦江区" in text


def test_list_parameters_as_list_or_text():
    from geoplan.notebook import as_list

    assert as_list(None) is None and as_list("") is None
    assert as_list(["park_500", "bus_stop_500"]) == ["park_500", "bus_stop_500"]
    assert as_list('["park_500"]') == ["park_500"]  # was read letter by letter
    assert as_list("park_500, bus_stop_500") == ["park_500", "bus_stop_500"]
    assert as_list("park_500，bus_stop_500") == ["park_500", "bus_stop_500"]
    with pytest.raises(ValueError, match="park_500,bus_stop_500"):
        as_list('["park_500"')
