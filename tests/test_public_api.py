"""The public API: what ``import geoplan`` offers, and the README's library example runs."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

import geoplan
from geoplan._errors import ResultSchemaError
from geoplan.results import COVERAGE_TABLE, SITES, CoverageResult

ROOT = Path(__file__).resolve().parents[1]


def test_every_exported_name_exists():
    for name in geoplan.__all__:
        assert getattr(geoplan, name) is not None, name
    assert {"load_config", "load_layers", "run_coverage", "run_deadends", "suggest_sites",
            "run_analysis", "CoverageResult", "RunResult"} <= set(geoplan.__all__)


def test_readme_library_example_runs(monkeypatch, capsys):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## As a library", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "README has no library example"
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), "README.md", "exec"), namespace)
    coverage = namespace["coverage"]
    assert isinstance(coverage, CoverageResult)
    assert set(coverage.table["standard"]) == {"park_500", "bus_stop_500"}
    assert "share_buffer" in capsys.readouterr().out


def test_schema_names_every_problem_at_once():
    table = pd.DataFrame({"district": ["a"], "standard": [1.5]})
    problems = COVERAGE_TABLE.problems(table)
    assert "coverage.table: column 'standard' should be str, got float64" in problems
    assert "coverage.table: column 'share_buffer' is missing" in problems
    assert len(problems) == len(COVERAGE_TABLE.columns) - 1  # district is fine
    with pytest.raises(ResultSchemaError) as err:
        COVERAGE_TABLE.validate(table)
    assert "share_network" in str(err.value)


def test_schema_refuses_undocumented_columns_and_a_plain_frame():
    cols = {c.name: [1.0] if c.dtype == "float" else [1] if c.dtype == "int" else ["x"]
            for c in SITES.columns}
    good = gpd.GeoDataFrame(cols, geometry=[Point(0, 0)], crs="EPSG:32648")
    assert SITES.problems(good) == []
    assert SITES.problems(good.assign(extra=1)) == ["sites.table: undocumented columns ['extra']"]
    assert "sites.table: should be a GeoDataFrame, got DataFrame" in SITES.problems(
        pd.DataFrame(good.drop(columns="geometry")))
    assert "sites.table: has no CRS" in SITES.problems(good.set_crs(None, allow_override=True))
