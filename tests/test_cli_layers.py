"""The command line, end to end, as a user runs it (a real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from geoplan._io import atomic_path, write_csv
from tests._cli import geoplan_in_process
from tests.conftest import CHENGDU_CONFIG, CHENGDU_DISTRICTS, CHENGDU_PBF, ROOT

LAYER_NAMES = ["districts", "roads", "walkways", "parks", "green_space", "toilets", "schools",
               "bus_stops", "residential", "buildings", "water"]


def geoplan(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geoplan", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_layers_command_on_the_default_analysis(tmp_path):
    result = geoplan("layers", str(CHENGDU_CONFIG), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for name in ("成华区", "金牛区", "青羊区", "锦江区"):
        assert name in result.stdout
    layers = dict(pyogrio.list_layers(tmp_path / "layers.gpkg"))
    assert set(LAYER_NAMES) <= set(layers)
    info = pyogrio.read_info(tmp_path / "layers.gpkg", layer="roads")
    assert "32648" in info["crs"]
    raw = (tmp_path / "layers.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese names
    table = pd.read_csv(tmp_path / "layers.csv", encoding="utf-8-sig")
    assert sorted(table["district"]) == sorted(["成华区", "金牛区", "青羊区", "锦江区"])
    assert table["toilets"].sum() == 32  # one toilet of the extract lies in 武侯区's sliver
    assert not list(tmp_path.glob(".*tmp*"))
    # counted by what was done: the districts of the file left out are no features repaired
    issues = pd.read_csv(tmp_path / "layer_issues.csv", encoding="utf-8-sig")
    left = issues["issue"].str.startswith("left_out_districts")
    line = next(x for x in result.stdout.splitlines() if "layer_issues.csv" in x)
    assert line == (f"layer issues: {issues.loc[left, 'count'].sum()} not analysed (districts), "
                    f"{issues.loc[~left, 'count'].sum()} repaired; see layer_issues.csv")
    assert set(issues["action"]) == {"repaired", "not analysed"}


def test_ad_hoc_flags_without_a_config(tmp_path, capsys):
    result = geoplan_in_process(capsys, "layers", "--osm", str(CHENGDU_PBF), "--districts",
                                str(CHENGDU_DISTRICTS), "--districts-crs", "gcj02",
                                "--district-name-field", "name", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "layers.gpkg").is_file()
    # the PBF has no bounds header: the estimate is said out loud, also when the parsed layers
    # come from the cache (regression: the warning used to be printed only on a fresh parse)
    assert "no bounds header" in result.stderr
    again = geoplan_in_process(capsys, "layers", "--osm", str(CHENGDU_PBF), "--districts",
                               str(CHENGDU_DISTRICTS), "--districts-crs", "gcj02",
                               "--out", str(tmp_path))
    assert again.returncode == 0
    assert "loaded from cache" in again.stderr
    assert "no bounds header" in again.stderr


def test_bad_inputs_exit_codes_and_nothing_half_written(tmp_path, capsys):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"garbage" * 50)
    out = tmp_path / "out"
    result = geoplan("layers", "--osm", str(bad), "--districts", str(CHENGDU_DISTRICTS),
                     "--out", str(out))
    assert result.returncode == 1
    assert "bad.osm.pbf" in result.stderr and "corrupt" in result.stderr
    assert not out.exists()  # a failed run leaves no output folder, not even an empty one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.osm.pbf"]

    # the usage errors need no work: the command line's main in this process, exit code kept
    result = geoplan_in_process(capsys, "layers", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    result = geoplan_in_process(capsys, "layers")
    assert result.returncode == 2 and "--osm" in result.stderr
    result = geoplan_in_process(capsys)
    assert result.returncode == 2
    result = geoplan_in_process(capsys, "--help")
    assert result.returncode == 0 and "geoplan run analyses/chengdu_core.yaml" in result.stdout
    # a file given on the command line is checked before any work: flag, path, what it takes
    for args, flag, what in (
            (("deadends", str(CHENGDU_CONFIG), "--baseline", "old.osm"), "--baseline",
             "an older OSM extract of the same area"),
            (("run", str(CHENGDU_CONFIG), "--baseline", "old.osm"), "--baseline",
             "an older OSM extract of the same area"),
            (("scenario", str(CHENGDU_CONFIG), "--planned", "old.osm"), "--planned",
             "导出 CSV in map.html")):
        result = geoplan_in_process(capsys, *args, "--out", str(out))
        assert result.returncode == 2 and not out.exists()
        assert f"{flag}: file not found: {Path('old.osm').absolute()}; give" in result.stderr
        assert what in result.stderr and "Traceback" not in result.stderr


def test_unwritable_output_folder_fails_before_work(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = geoplan_in_process(capsys, "layers", str(CHENGDU_CONFIG), "--out", str(blocker / "sub"))
    assert result.returncode == 1
    assert "cannot write to the output folder" in result.stderr


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path):
    target = tmp_path / "t.csv"
    write_csv(pd.DataFrame({"a": [1]}), target)
    before = target.read_bytes()
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_a_command_puts_the_logger_back_and_words_only_the_districts_keys(tmp_path, capsys):
    import logging

    from geoplan.cli._common import in_flags

    # regression: the ad-hoc flag wording was a filter left on geoplan's logger after main();
    # in the same process it rewrote later warnings (demand.census_--districts-crs) and wrote to
    # a stream already closed
    logger = logging.getLogger("geoplan")
    before = (logger.handlers[:], logger.level, logger.propagate)
    result = geoplan_in_process(capsys, "layers", "--osm", str(tmp_path / "missing.pbf"),
                                "--districts", str(CHENGDU_DISTRICTS), "--out", str(tmp_path))
    assert result.returncode != 0
    assert (logger.handlers[:], logger.level, logger.propagate) == before
    assert in_flags("Fix: demand.census_districts.crs: gcj02") == (
        "Fix: demand.census_districts.crs: gcj02")
    assert in_flags("Fix: districts.crs: gcj02") == "Fix: --districts-crs: gcj02"


def test_without_a_config_a_message_names_flags_and_the_code_field_has_one(tmp_path, capsys):
    # two districts of one name: the fix named config keys no flag could set
    from tests.hostile.world import make_world

    make_world(tmp_path, district_names=("东区", "东区"))
    path = tmp_path / "districts.geojson"  # a code field not named like one (adcode is found)
    path.write_text(path.read_text(encoding="utf-8").replace('"adcode"', '"code"'),
                    encoding="utf-8")
    args = ["layers", "--osm", str(tmp_path / "city.osm"), "--districts",
            str(tmp_path / "districts.geojson"), "-q"]
    done = geoplan_in_process(capsys, *args, "--out", str(tmp_path / "a"))
    assert done.returncode == 1
    assert "give a --district-code-field whose codes tell them apart" in done.stderr
    assert "in a config (districts.include: [...])" in done.stderr
    assert "districts.code_field" not in done.stderr
    done = geoplan_in_process(capsys, *args, "--district-code-field", "code",
                              "--out", str(tmp_path / "b"))
    assert done.returncode == 0, done.stderr
    done = geoplan_in_process(capsys, "coverage", *args[1:], "--standards", "park500",
                              "--out", str(tmp_path / "c"))
    assert done.returncode == 2 and "--standards: unknown standard id 'park500'" in done.stderr
