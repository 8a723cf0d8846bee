"""Item 2 of issue 10: no formula in the workbook or the CSVs, whatever the data's names say."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from geoplan._io import csv_safe, neutralise_text, write_csv
from geoplan.report.tables import write_workbook
from tests._report_synthetic import make_coverage, make_deadends, make_sites

PAYLOADS = ['=HYPERLINK("http://x.invalid","点我")', "=cmd|' /C calc'!A0", "+1+1", "-2+3",
            "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    names = PAYLOADS[:3]
    dead = make_deadends(names)
    dead.dead_ends["name"] = PAYLOADS[3]
    target = tmp_path_factory.mktemp("xlsx") / "geoplan_report.xlsx"
    write_workbook(make_coverage(names), dead, target, title="=1+2",
                   sources=["@evil", "=WEBSERVICE(\"http://x.invalid\")"], sites=make_sites(names))
    return target


def test_workbook_has_no_formula_cell(workbook: Path) -> None:
    with zipfile.ZipFile(workbook) as zf:
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        for name in sheets:
            xml = zf.read(name).decode("utf-8")
            assert "<f>" not in xml and "<f " not in xml, name
    wb = openpyxl.load_workbook(workbook)
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    # names kept as written, in text cells (no <f> above), in every sheet; the apostrophe
    # the CSV files need would be shown in a text cell
    for payload in PAYLOADS[:4]:
        assert payload in texts and "'" + payload not in texts
    assert all(c.data_type != "f" for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    # numbers stay numbers
    summary = wb.worksheets[0]
    assert any(isinstance(c.value, float) for row in summary.iter_rows() for c in row)


def test_text_that_starts_like_a_formula_keeps_excels_quote_prefix(workbook: Path) -> None:
    # stored as text nothing runs on opening, but a cell edited by hand, or the sheet saved as
    # CSV, would turn '=HYPERLINK(…)' into a formula: Excel's quote prefix keeps it text
    from geoplan.report._xlsx_rows import FORMULA_STARTS

    wb = openpyxl.load_workbook(workbook)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    risky = [c for c in cells if c.value.startswith(FORMULA_STARTS)]
    # the names in the openpyxl-written sheets and in the long tables spliced in as XML
    assert {c.parent.title for c in risky} >= {wb.worksheets[0].title, "断头路"}
    assert all(c.quotePrefix for c in risky), [(c.parent.title, c.coordinate) for c in risky
                                               if not c.quotePrefix]
    assert not any(c.quotePrefix for c in cells if not c.value.startswith(FORMULA_STARTS))


def test_csv_text_neutralised_numbers_kept(tmp_path: Path) -> None:
    df = pd.DataFrame({"district": PAYLOADS, "share": [-0.5, 0.1, 2, -3, 4.5, 0.0, 1.0],
                       "code": ["510104", "-", "", None, "a=b", "x", "y"]})
    target = write_csv(df, tmp_path / "t.csv")
    with target.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["district", "share", "code"]
    for (name, share, _code), payload, number in zip(rows[1:], PAYLOADS, df["share"], strict=True):
        assert name == "'" + payload
        assert float(share) == number and not share.startswith("'")
    assert [r[2] for r in rows[1:]] == ["510104", "'-", "", "", "a=b", "x", "y"]
    back = pd.read_csv(target, encoding="utf-8-sig")
    assert back["share"].dtype.kind == "f" and back["share"].min() == -3


def _csv_safe_by_definition(df: pd.DataFrame) -> pd.DataFrame:
    """Every non-numeric column mapped through neutralise_text, on a copy."""
    safe = df.copy()
    for i, (_, column) in enumerate(df.items()):
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
                or pd.api.types.is_datetime64_any_dtype(column)):
            safe.isetitem(i, column.map(neutralise_text))
    safe.columns = [neutralise_text(c) for c in df.columns]
    return safe


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"a": ["x", "=1+1", None], "b": [1, 2, 3], "c": [True, False, True]}),
    pd.DataFrame({"a": ["x", "y", None], "b": [0.5, np.nan, -1.0]}),  # nothing to change
    pd.DataFrame([["=A", "-", 1], ["b", "c", 2]], columns=["@x", "@x", "n"]),  # a name twice
    pd.DataFrame({"kind": pd.Categorical(["+x", "y", "+x"]), "when": pd.to_datetime(
        ["2020-01-01", "2021-01-01", None]), "n": pd.array([1, None, 3], dtype="Int64")}),
    pd.DataFrame({"mixed": [1, "-2", 3.5], "s": pd.array(["a", "\tb", None], dtype="string")},
                 index=[5, 3, 9]),
])
def test_csv_safe_writes_what_mapping_every_text_column_writes(frame: pd.DataFrame) -> None:
    before = frame.copy()
    got = csv_safe(frame).to_csv(index=False, lineterminator="\r\n")
    assert got == _csv_safe_by_definition(frame).to_csv(index=False, lineterminator="\r\n")
    pd.testing.assert_frame_equal(frame, before)  # the given frame is left as it was
