"""The workbook's long tables written as sheet XML (geoplan.report._xlsx_rows): the same file
as openpyxl writes cell by cell, and Excel's row limit."""

from __future__ import annotations

import datetime
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl import Workbook

from geoplan.report import tables
from geoplan.report._labels import labels
from geoplan.report._xlsx_rows import BulkRows
from geoplan.report.tables import write_workbook
from tests._report_synthetic import make_coverage, make_deadends, make_layerset, make_sites

COLUMNS = (("district", None), ("rank", tables.INTEGER), ("area_ha", "#,##0.00"),
           ("name", None), ("meets_target", None), ("count", tables.INTEGER),
           ("lon_wgs84", "0.000000"))


def _hostile_frame() -> pd.DataFrame:
    """Every kind of value the tables hold, and text that is hard to write as XML."""
    text = ["锦江区", "a&b<c>d", " lead", "trail ", "   ", "", None, "=HYPERLINK(\"x\")",
            "-1", "tab\there", "line\r\nbreak", "ctl\x01char", "x" * 40_000, "]]>"]
    n = len(text)
    return pd.DataFrame({
        "district": text,
        "rank": np.arange(1, n + 1),
        "area_ha": [0.1 + 0.2, 1e-7, np.nan, 123456789.125, -0.0, np.inf, 2.5, 1e20,
                    3.0, 0.3333333333333333, 7.0, 8.5, 9.25, 1 / 3],
        "name": [None] * (n - 1) + ["末行"],
        "meets_target": [True, False, None] + [True] * (n - 3),
        "count": pd.array([1, None, 3, *list(range(4, n + 1))], dtype="Int64"),
        "lon_wgs84": np.linspace(104.0, 104.1, n),
    })


def _write(df: pd.DataFrame, path: Path, *, bulk: bool, wrap: dict | None = None) -> None:
    wb = Workbook()
    ws = wb.active
    ws.cell(row=1, column=1, value="title above the table")
    rows = BulkRows() if bulk else None
    try:
        tables._table(ws, 3, df, COLUMNS, labels("zh"), "zh", bulk=rows, wrap=wrap)
        tables.print_setup(ws, labels("zh"), rows.dimensions(ws) if rows else None)
        tables.values_only(wb)  # as write_workbook does
        wb.save(path)
        if rows is not None:
            rows.splice(path, wb.worksheets)
    finally:
        if rows is not None:
            rows.close()


def _sheet_xml(path: Path) -> bytes:
    """The sheet's XML without the cells' style numbers (the styles are numbered in the order
    they are first used, which differs; the styles themselves are compared cell by cell)."""
    with zipfile.ZipFile(path) as zf:
        return re.sub(rb' s="\d+"', b"", zf.read("xl/worksheets/sheet1.xml"))


def _cells(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[tuple]:
    return [(c.coordinate, c.value, c.data_type, c.number_format)
            for row in ws.iter_rows() for c in row]


def _styled_cells(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[tuple]:
    return [(*cell, c.font.b, c.font.i, c.font.sz, c.fill.fgColor.rgb, c.alignment.wrap_text)
            for cell, c in zip(_cells(ws), (c for row in ws.iter_rows() for c in row),
                               strict=True)]


def test_rows_written_as_xml_are_the_rows_openpyxl_writes(tmp_path):
    df = _hostile_frame()
    _write(df, tmp_path / "cells.xlsx", bulk=False)
    _write(df, tmp_path / "bulk.xlsx", bulk=True)
    # the same sheet, byte for byte (but for the style numbers)
    assert _sheet_xml(tmp_path / "bulk.xlsx") == _sheet_xml(tmp_path / "cells.xlsx")
    a = openpyxl.load_workbook(tmp_path / "cells.xlsx").active
    b = openpyxl.load_workbook(tmp_path / "bulk.xlsx").active
    assert _styled_cells(b) == _styled_cells(a)
    assert b.dimensions == a.dimensions == "A1:G17"
    assert b.print_area == a.print_area
    assert b["A5"].value == "a&b<c>d" and b["A6"].value == " lead"
    assert b["A11"].value == "=HYPERLINK(\"x\")" and b["A11"].data_type == "s"
    assert b["B4"].value == 1 and b["B4"].number_format == tables.INTEGER
    assert b["C4"].value == pytest.approx(0.3) and b["C6"].value is None


def test_wrapped_rows_written_as_xml_are_the_rows_openpyxl_writes(tmp_path):
    # a wrapped text column: its cells wrap (formula-like text quoted too), each row is as
    # tall as its text needs at the column's width, 16 pt a line, the other cells at the top
    df = _hostile_frame()
    df["district"] = ["300米见绿、500米见园、公园绿地服务半径覆盖率", *df["district"].iloc[1:]]
    df["name"] = ["=cmd", "plain", *df["name"].iloc[2:]]  # text in a column not wrapped
    _write(df, tmp_path / "cells.xlsx", bulk=False, wrap={"district": 20})
    _write(df, tmp_path / "bulk.xlsx", bulk=True, wrap={"district": 20})
    assert _sheet_xml(tmp_path / "bulk.xlsx") == _sheet_xml(tmp_path / "cells.xlsx")
    a = openpyxl.load_workbook(tmp_path / "cells.xlsx").active
    b = openpyxl.load_workbook(tmp_path / "bulk.xlsx").active
    assert _styled_cells(b) == _styled_cells(a)
    assert b["A4"].alignment.wrap_text and b["A4"].alignment.vertical == "top"
    assert b.row_dimensions[4].height == 48  # 43 units at 20 a line: three lines
    assert b.row_dimensions[5].height is None  # "a&b<c>d": one line
    assert b["A11"].quotePrefix and b["A11"].alignment.wrap_text  # "=HYPERLINK(...)"
    assert not b["B4"].alignment.wrap_text  # numbers are not wrapped, but set at the top
    assert b["B4"].alignment.vertical == b["D5"].alignment.vertical == "top"
    assert b["D4"].quotePrefix and b["D4"].alignment.vertical == "top"


def test_a_value_left_to_openpyxl_writes_the_table_cell_by_cell(tmp_path):
    df = _hostile_frame().head(3)
    df["name"] = [datetime.date(2026, 12, 2), None, "x"]
    _write(df, tmp_path / "cells.xlsx", bulk=False)
    _write(df, tmp_path / "bulk.xlsx", bulk=True)
    assert _sheet_xml(tmp_path / "bulk.xlsx") == _sheet_xml(tmp_path / "cells.xlsx")


def test_the_report_workbook_is_the_same_written_either_way(tmp_path, monkeypatch):
    """Every sheet of the synthetic report's workbook: bulk rows against openpyxl cells."""
    import datetime

    class Frozen(datetime.datetime):  # both books written "at" one minute (a run at 02:14:59
        @classmethod                   # wrote one book at 02:14 and the other at 02:15)
        def now(cls, tz=None):
            return cls(2026, 12, 7, 2, 14)

    monkeypatch.setattr(tables, "datetime", Frozen)
    args = (make_coverage(), make_deadends())
    kwargs = {"sites": make_sites(), "layerset": make_layerset(), "title": "t"}
    write_workbook(*args, tmp_path / "bulk.xlsx", **kwargs)

    class NoBulk(BulkRows):
        def add(self, *a, **k):  # every table cell by cell, as before
            return None

    monkeypatch.setattr(tables, "BulkRows", NoBulk)
    write_workbook(*args, tmp_path / "cells.xlsx", **kwargs)
    with zipfile.ZipFile(tmp_path / "bulk.xlsx") as za, \
            zipfile.ZipFile(tmp_path / "cells.xlsx") as zb:
        assert za.namelist() == zb.namelist()
    a = openpyxl.load_workbook(tmp_path / "cells.xlsx")
    b = openpyxl.load_workbook(tmp_path / "bulk.xlsx")
    assert b.sheetnames == a.sheetnames and {"断头路", "建议选址"} <= set(b.sheetnames)
    for name in a.sheetnames:
        wa, wb_ = a[name], b[name]
        assert _styled_cells(wb_) == _styled_cells(wa), name
        assert (wb_.dimensions, wb_.print_area, wb_.print_title_rows, wb_.freeze_panes,
                wb_.auto_filter.ref) == (wa.dimensions, wa.print_area, wa.print_title_rows,
                                         wa.freeze_panes, wa.auto_filter.ref), name
        assert ({k: d.width for k, d in wb_.column_dimensions.items()}
                == {k: d.width for k, d in wa.column_dimensions.items()}), name
    assert b["断头路"].auto_filter.ref == a["断头路"].auto_filter.ref == b["断头路"].dimensions


def test_gaps_past_excel_s_last_row_point_to_the_csv(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "EXCEL_MAX_ROWS", 13)
    coverage = make_coverage()
    book = write_workbook(coverage, None, tmp_path / "r.xlsx", title="t")
    ws = openpyxl.load_workbook(book)["公园绿地500米服务半径覆盖率"]
    heads = [r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "缺口"]
    note = str(ws.cell(row=heads[0], column=2).value)
    assert "gaps.csv" in note and "24" in note  # all 24 gaps of the standard are in the CSV
    assert ws.max_row == 13
    listed = [(ws.cell(row=r, column=1).value, ws.cell(row=r, column=3).value)
              for r in range(heads[0] + 2, ws.max_row + 1)]
    # the largest gaps first: rank 1 of every district and view is kept
    assert sum(rank == 1 for _, rank in listed) == 4


def test_gap_places_from_the_run_give_the_same_gap_lists(tmp_path):
    """The run hands the workbook the gaps' places it wrote into gaps.csv (not located twice)."""
    from geoplan.locate import locate

    coverage, layerset = make_coverage(), make_layerset()
    roads = layerset.layers["roads"]
    own = write_workbook(coverage, None, tmp_path / "own.xlsx", layerset=layerset, title="t")
    given = write_workbook(coverage, None, tmp_path / "given.xlsx", layerset=layerset, title="t",
                           gap_places=locate(coverage.gaps, roads))
    a, b = openpyxl.load_workbook(own), openpyxl.load_workbook(given)
    for name in a.sheetnames[1:-1]:  # the standards (the last sheet has the time of writing)
        assert _cells(b[name]) == _cells(a[name]), name


def test_values_by_column_are_the_values_cell_by_cell():
    df = _hostile_frame().assign(
        category=["park", None, "=cmd", *["school"] * 11],
        road_class=[1.0, np.nan, *[2.0] * 12],
        crosses_rail=[True, False, *[np.nan] * 12],
        no_data=[False, True, *[False] * 12],
        mixed=[True, 1, 1.0, "1", None, np.nan, pd.NA, *[0] * 7],
        when=pd.to_datetime(["2024-01-02"] * 14),
        flag=[True, False] * 7,
        kind=pd.Categorical(["a", "b"] * 7),
    )
    lab = labels("zh")
    names = list(df.columns)
    got = list(tables._values(df, names, lab, "zh"))
    want = [[tables._cell_value(v, c, lab, "zh") for c, v in zip(names, rec, strict=True)]
            for rec in df.itertuples(index=False)]
    assert len(got) == len(want) == len(df)
    for g, w in zip(got, want, strict=True):
        # same values of the same types (True is not 1, and 1 is not 1.0, in a cell)
        assert [(type(x), x) for x in g] == [(type(x), x) for x in w]
