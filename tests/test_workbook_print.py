"""The report workbook as it prints: whole headers, every column sized, long lists wrapped."""

from __future__ import annotations

import openpyxl
from openpyxl.utils import get_column_letter

from geoplan.report._xlsx_rows import wrapped_lines
from geoplan.report.tables import HEADER_FILL, write_workbook
from tests._report_synthetic import make_coverage, make_deadends, make_layerset, make_sites


def test_headers_print_whole_and_every_site_column_has_its_width(tmp_path):
    book = write_workbook(make_coverage(), make_deadends(), tmp_path / "r.xlsx",
                          sites=make_sites(), layerset=make_layerset(), title="t")
    wb = openpyxl.load_workbook(book)
    tall = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.fill.fgColor.rgb != HEADER_FILL.fgColor.rgb or not cell.value:
                    continue
                width = ws.column_dimensions[get_column_letter(cell.column)].width
                lines = wrapped_lines(str(cell.value), width - 1)
                height = ws.row_dimensions[cell.row].height or 15
                assert height >= 15 * lines, (ws.title, cell.coordinate, cell.value)
                tall += lines > 1
        assert ws.page_margins.header < ws.page_margins.top  # the sheet's name has room
    assert tall > 20
    sites = wb["建议选址"]
    last = sites.max_column  # the BD-09 latitude: sized like the other coordinates
    assert sites.cell(row=1, column=last).value == "纬度（BD-09，百度）"
    assert all(sites.column_dimensions[get_column_letter(c)].width for c in range(1, last + 1))
    assert sites.column_dimensions[get_column_letter(last)].width == 12


def test_a_place_missing_many_standards_lists_them_wrapped(tmp_path):
    book = write_workbook(make_coverage(), None, tmp_path / "r.xlsx",
                          layerset=make_layerset(), title="t")
    ws = openpyxl.load_workbook(book)["缺口地点"]
    heads = [c.value for c in ws[3]]
    col = heads.index("是哪些标准的缺口") + 1
    cells = [ws.cell(row=r, column=col) for r in range(4, ws.max_row + 1)]
    assert cells and all(c.alignment.wrap_text for c in cells)
    for c in cells:
        lines = wrapped_lines(str(c.value), ws.column_dimensions[get_column_letter(col)].width)
        assert (ws.row_dimensions[c.row].height or 15) >= 15 * lines
