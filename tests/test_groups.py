"""Rows grouped by district in one pass (geoplan._groups) equal the per-district scans."""

from __future__ import annotations

import numpy as np

from geoplan._groups import positions_by_code, positions_by_value


def test_positions_by_code_equal_a_scan_per_code():
    rng = np.random.default_rng(7)
    codes = rng.integers(-2, 12, 5_000)  # -2, -1, 10 and 11 lie outside 0 … 9
    groups = positions_by_code(codes, 10)
    assert len(groups) == 10
    for k, rows in enumerate(groups):
        assert np.array_equal(rows, np.flatnonzero(codes == k))
    assert sum(len(g) for g in groups) == int(((codes >= 0) & (codes < 10)).sum())
    assert [len(g) for g in positions_by_code(np.zeros(0, dtype=int), 3)] == [0, 0, 0]


def test_positions_by_value_leave_out_missing_names():
    values = np.array(["锦江区", None, "青羊区", "锦江区", np.nan, "=cmd()", "青羊区"], dtype=object)
    groups = positions_by_value(values)
    assert set(groups) == {"锦江区", "青羊区", "=cmd()"}
    assert groups["锦江区"].tolist() == [0, 3]
    assert groups["青羊区"].tolist() == [2, 6]
    assert groups["=cmd()"].tolist() == [5]


def test_frames_by_keeps_each_groups_rows_in_order():
    import pandas as pd

    from geoplan._groups import frames_by

    df = pd.DataFrame({"district": ["B", "A", "B", None, "A"], "n": [1, 2, 3, 4, 5]})
    groups = frames_by(df, "district")
    assert set(groups) == {"A", "B"}
    assert groups["B"]["n"].tolist() == [1, 3] and groups["A"]["n"].tolist() == [2, 5]
    assert frames_by(df.iloc[:0], "district") == {}
