"""The scale benchmark reads the run's step lines, with and without the memory held after, and
those of the steps written side by side."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_scale import _STEP


def test_step_lines_are_read_old_and_new():
    old = "INFO: coverage done in 533.3 s (CPU 818.1 s, peak RSS 3784 MB)"
    new = "INFO: sites done in 98.4 s (CPU 161.4 s, peak RSS 2216 MB, held after 1650 MB)"
    unknown = "INFO: map done in 1.0 s (CPU 1.0 s, peak RSS ? MB, held after ? MB)"
    beside = "INFO: report done in 2.9 s (CPU 2.4 s, peak RSS 234 MB, written side by side)"
    got = [m.groups() for m in _STEP.finditer("\n".join([old, new, unknown, beside]))]
    assert got == [("coverage", "533.3", "818.1", "3784", None),
                   ("sites", "98.4", "161.4", "2216", "1650"),
                   ("map", "1.0", "1.0", "?", "?"),
                   ("report", "2.9", "2.4", "234", None)]
