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


def test_gap_places_list_the_standards_by_their_short_names_in_english(tmp_path, monkeypatch):
    # a life circle's English name runs to 57 characters; a place missing ten standards lists
    # them by the short names of their sheets' tabs, as the sheet titles read
    from geoplan.standards import default_catalog
    from tests import _report_synthetic

    circle = default_catalog()["life_circle_5min"]
    assert len(circle.name_en) > 31 and circle.sheet_en
    monkeypatch.setattr(_report_synthetic, "STANDARDS", [
        *_report_synthetic.STANDARDS[:1],
        ("life_circle_5min", circle.name_zh, circle.name_en, 300.0, 1.0)])
    book = write_workbook(_report_synthetic.make_coverage(), None, tmp_path / "en.xlsx",
                          layerset=make_layerset(), title="t", lang="en")
    ws = openpyxl.load_workbook(book)["Gap places"]
    lists = [str(ws.cell(row=r, column=5).value) for r in range(4, ws.max_row + 1)]
    assert any(circle.sheet_en in text for text in lists)
    assert not any(circle.name_en in text for text in lists)
    # and the district pages' places missing several standards read the same
    from geoplan.report.html import write_reports

    files = write_reports(make_layerset(), _report_synthetic.make_coverage(), None, None,
                          tmp_path / "pages", lang="en")
    pages = "".join(p.read_text(encoding="utf-8") for k, p in files.items()
                    if k not in ("index", "workbook") and str(p).endswith(".html"))
    places = pages[pages.index('<table class="places">'):]
    assert circle.sheet_en in places and circle.name_en not in places.split("</table>")[0]


def test_wrapped_lines_follow_words_and_character_widths():
    # as LibreOffice printed the English gap places (column 80 wide): ten standards in 3 lines
    # (the character count alone said 4, and every such row printed a blank line)
    missed = ("Green space within 300 m, A park within 500 m, Park service-radius coverage, "
              "Bus stop within 500 m, Primary school within 500 m, Junior middle school 1000 m, "
              "5-minute life circle (300 m), 10-minute life circle (500 m), 15-minute life "
              "circle (1000 m), Kindergarten within 300 m")
    assert wrapped_lines(missed, 79) == 3
    # a header in a 12-wide column: Latin glued to CJK counts whole (it was once dropped, and
    # the header printed with its first line cut)
    assert wrapped_lines("经度（GCJ-02，高德/腾讯）", 11) == 3
    # a word does not break: two words that fit only whole take two lines
    assert wrapped_lines("aaaaaaaa bbbbbbbb", 10) == 2
    assert wrapped_lines("a" * 30, 10) == 3  # a word longer than the line is cut
    assert wrapped_lines("米" * 10, 10) == 2  # CJK breaks between any two characters


def test_site_standards_and_items_wrap_in_rows_tall_enough(tmp_path):
    # "公园绿地500米服务半径覆盖率" is 28 columns of text in a 22-wide column: it was cut at
    # the next cell
    book = write_workbook(make_coverage(), None, tmp_path / "r.xlsx", sites=make_sites(),
                          layerset=make_layerset(), title="t")
    ws = openpyxl.load_workbook(book)["建议选址"]
    heads = [c.value for c in ws[1]]
    col = heads.index("标准") + 1
    cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
    assert cells and all(c.value == "公园绿地500米服务半径覆盖率" for c in cells)
    width = ws.column_dimensions[get_column_letter(col)].width
    assert wrapped_lines(cells[0].value, width) == 2
    for c in cells:
        assert c.alignment.wrap_text
        assert (ws.row_dimensions[c.row].height or 15) >= 15 * 2
        assert ws.cell(row=c.row, column=1).alignment.vertical == "top"  # level with it
