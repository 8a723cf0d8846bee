"""The machine-speed probe printed beside benchmarks and the CI's test run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from machine_speed import WORKLOADS, _geos, _numpy, describe, main


def test_the_workloads_compute_what_they_should():
    # the same work every time: a probe that skipped or changed it would not be comparable
    assert 0.8 * 2000**2 < _geos() < (2000 + 2 * 40) ** 2  # 1,500 discs of 40 m cover most
    assert abs(_numpy() - 0.5) < 0.01  # the median of 3,000,000 uniform numbers


def test_the_command_prints_and_writes_each_workload_and_their_total(tmp_path, capsys):
    out = tmp_path / "speed.json"
    assert main(["--repeats", "1", "--json", str(out)]) == 0
    speed = json.loads(out.read_text(encoding="utf-8"))
    assert set(speed) == {*WORKLOADS, "total"}
    assert all(v > 0 for v in speed.values())
    assert abs(speed["total"] - sum(speed[k] for k in WORKLOADS)) < 0.11
    line = capsys.readouterr().out.strip()
    assert line == describe(speed) and line.startswith("machine speed (CPU ms")
