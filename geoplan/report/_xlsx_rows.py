"""The long tables of the report workbook, written as sheet XML rather than cell by cell.

openpyxl makes an object per cell, keeps every one until the workbook is saved, and then
serialises each through ElementTree: about 35 µs of CPU per cell. The workbook of a city has
a million gap cells and more (16 tiles of the embedded extract: 100,000 gap rows of ten
columns), and writing them was most of the report step and its memory. :class:`BulkRows`
renders the rows of a sheet's last table as the SpreadsheetML openpyxl itself writes (inline
strings, numbers with the cell style openpyxl registers for their number format) into a
temporary file, and :meth:`BulkRows.splice` puts them into the sheet after openpyxl saved the
workbook. The file opens the same: same cells, values, types and styles
(``tests/test_report_bulk_rows.py`` compares it with the workbook openpyxl writes alone).
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["EXCEL_MAX_ROWS", "TOP", "WRAP", "BulkRows", "fit_rows", "wrapped_lines"]

EXCEL_MAX_ROWS = 1_048_576
"""Rows of an Excel (and LibreOffice) worksheet at most."""

WRAP = Alignment(wrap_text=True, vertical="top")
"""How text of a wrapped column is aligned (a long list of standards prints whole)."""
TOP = Alignment(vertical="top")
"""How the other cells of a table with a wrapped column are aligned (level with its text)."""

_MAX_TEXT = 32_767  # characters of a cell at most (openpyxl cuts longer text the same way)
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


_NARROW = frozenset("ijlI.,;:'!|` ")
_SEMI = frozenset("frt()[]{}-/\\\"")
_WIDE = frozenset("mwMW@%")


def _char_width(ch: str) -> float:
    """Width of ``ch`` in a spreadsheet's column units (the width of the digit 0).

    Sans fonts (Calibri in Excel, Carlito or DejaVu Sans in LibreOffice) give a lower-case
    letter about 0.9 of a digit, a space and i, l about half, m and w about one and a half;
    a CJK character fills two. The figures lean wide, so that a row is never too short for
    its text in the widest of these fonts.
    """
    if ord(ch) > 0x2E80:
        return 2.0
    if ch in _NARROW:
        return 0.5
    if ch in _SEMI:
        return 0.65
    if ch in _WIDE:
        return 1.5
    if ch.isupper():
        return 1.15
    return 1.0 if ch.isdigit() else 0.9


_WIDTHS = {chr(c): _char_width(chr(c)) for c in range(0x3000)} | {"\u3001": 2.0, "\uff0c": 2.0}
""":func:`_char_width` of the characters below U+3000 (and 、，), looked up, not worked out."""


def _line_count(line: str, columns: float) -> int:
    """Lines one paragraph takes, broken at spaces and between CJK characters, as a
    spreadsheet program wraps it (a word longer than the line is cut; spaces may hang)."""
    lines, used, word = 1, 0.0, 0.0

    def place(width: float) -> None:
        nonlocal lines, used
        if used and used + width > columns:
            lines, used = lines + 1, 0.0
        while width > columns:  # a word wider than the line: cut where it fills a line
            lines, width = lines + 1, width - columns
        used += width

    for ch in line:
        w = _WIDTHS.get(ch) or _char_width(ch)
        if ch == " ":
            if word:
                place(word)
                word = 0.0
            used += w
        elif ord(ch) > 0x2E80:  # a CJK character: a line may break before and after it
            if word:
                place(word)
                word = 0.0
            place(w)
        else:
            word += w
    if word:
        place(word)
    return lines


@functools.lru_cache(maxsize=1 << 16)
def wrapped_lines(text: str, width: float) -> int:
    """Lines ``text`` takes wrapped in a column ``width`` characters wide: words and CJK
    characters wrapped as a spreadsheet program wraps them, at their widths (CJK twice a
    digit, a lower-case letter 0.9 of one; each line break starts a line).

    Spreadsheet programs do not grow a row for wrapped text written by a library: the heights
    are set from this count.

    >>> wrapped_lines("300米见绿、500米见园", 12), wrapped_lines(chr(10).join("ab"), 10)
    (2, 2)
    >>> wrapped_lines("Green space within 300 m, A park within 500 m", 25)
    2
    >>> wrapped_lines("经度（GCJ-02，高德/腾讯）", 11)
    3
    """
    columns = max(1.0, float(width))
    return sum(_line_count(line, columns) for line in text.split("\n"))


def fit_rows(ws: Worksheet, cells: Iterable[Cell]) -> None:
    """Make the rows of ``cells`` tall enough for their wrapped text at their columns' widths,
    as set by now (never lower than a height already set); cells that do not wrap are passed
    over."""
    lines: dict[int, int] = {}
    for cell in cells:
        if isinstance(cell.value, str) and cell.alignment.wrap_text:
            width = ws.column_dimensions[get_column_letter(cell.column)].width or 13
            lines[cell.row] = max(lines.get(cell.row, 1), wrapped_lines(cell.value, width - 1))
    for row, n in lines.items():
        height = 15.0 * n + 2
        if n > 1 and (ws.row_dimensions[row].height or 15) < height:
            ws.row_dimensions[row].height = height


def _escape(text: str) -> str:
    """Text as XML character data (what ElementTree writes for a text node)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


class _Unsupported(TypeError):
    """A value this writer leaves to openpyxl (dates, rich text, …)."""


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How text starts that a spreadsheet may take for a formula once a cell is edited or saved
as CSV: such text cells carry Excel's quote prefix (the apostrophe it shows only in the
formula bar), as :func:`geoplan.report.tables.values_only` gives openpyxl's cells."""


def _cell(ref: str, value: Any, style: str, quoted: str = "", text_style: str = "") -> str:
    """One ``<c>`` element as openpyxl writes it; ``style`` is ``' s="n"'`` or '' (numbers),
    ``text_style`` that of other text, ``quoted`` that of text that starts like a formula
    (:data:`FORMULA_STARTS`)."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value[:_MAX_TEXT]
        if text == "":
            return f'<c r="{ref}"{text_style} t="inlineStr" />'
        stripped = text.strip()
        space = ' xml:space="preserve"' if stripped and stripped != text else ""
        prefix = quoted if text.startswith(FORMULA_STARTS) else text_style
        return f'<c r="{ref}"{prefix} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        if not math.isfinite(value):  # what openpyxl writes for NaN and infinity
            return f'<c r="{ref}"{style} t="n"><v /></c>'
        return f'<c r="{ref}"{style} t="n"><v>{f"{value:.16g}"}</v></c>'
    raise _Unsupported(type(value).__name__)


class _Part:
    """The rendered rows of one sheet: a temporary file and the rows it covers."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile()
        self.last_row = 0


class BulkRows:
    """Rows rendered for the end of some sheets of one workbook, spliced in after the save.

    Use one per workbook: :meth:`add` a table's rows (they must be the sheet's last rows),
    take :meth:`dimensions` instead of ``ws.dimensions`` for anything that needs the used
    range (print area, filter), save the workbook with openpyxl, then :meth:`splice` the file.
    """

    def __init__(self) -> None:
        self._parts: dict[str, _Part] = {}

    def add(self, ws: Worksheet, first_row: int, rows: Iterable[Sequence[Any]],
            formats: Sequence[str | None], *, wrapped: Sequence[bool] = (),
            heights: Sequence[float | None] | None = None) -> int | None:
        """Render ``rows`` (cell values, column 1 first) as rows ``first_row``, ``first_row+1``, …

        A number in a column with a number format gets that format (text never does: what
        ``geoplan.report.tables`` writes). Text in a column flagged in ``wrapped`` is wrapped
        (:data:`WRAP`) and the other cells then set at the top (:data:`TOP`); ``heights``
        gives each row's height in points (None: the default).
        Returns the next free row, or None (nothing kept) when a value is of a kind left to
        openpyxl, which then writes the table itself.
        """
        part = self._parts.get(ws.title)
        if part is None:
            part = self._parts[ws.title] = _Part()
        if first_row <= part.last_row:
            raise ValueError(f"rows of sheet {ws.title!r} must follow the rows already added")
        top = TOP if any(wrapped) else None
        styles = [f' s="{self._style_id(ws, f, top)}"' if f or top else "" for f in formats]
        quoted = f' s="{self._quoted_id(ws, top)}"'
        plain = f' s="{self._style_id(ws, None, top)}"' if top else ""
        wrap, wrap_quoted = f' s="{self._style_id(ws, None, WRAP)}"', f' s="{self._quoted_id(ws, WRAP)}"'
        text = [wrap if w else plain for w in wrapped] or [""] * len(formats)
        quotes = [wrap_quoted if w else quoted for w in wrapped] or [quoted] * len(formats)
        tall = iter(heights) if heights is not None else None
        letters = [get_column_letter(i) for i in range(1, len(formats) + 1)]
        start = part.file.tell()
        row = first_row - 1
        chunk: list[str] = []
        try:
            for row, values in enumerate(rows, start=first_row):
                n = str(row)
                cells = "".join([_cell(letter + n, value, style, q, t) for letter, style, q, t, value
                                 in zip(letters, styles, quotes, text, values, strict=True)])
                h = next(tall) if tall is not None else None
                high = f' ht="{h:g}" customHeight="1"' if h else ""
                chunk.append(f'<row r="{n}"{high}>{cells}</row>')
                if len(chunk) >= 2000:
                    part.file.write("".join(chunk).encode("utf-8"))
                    chunk.clear()
            part.file.write("".join(chunk).encode("utf-8"))
        except _Unsupported:
            part.file.seek(start)
            part.file.truncate()
            return None
        if row >= first_row:
            part.last_row = row
        return row + 1

    @staticmethod
    def _style_id(ws: Worksheet, number_format: str | None,
                  alignment: Alignment | None = None) -> int:
        """The workbook's cell-style index of a plain cell with ``number_format`` (None: the
        general format) and ``alignment``."""
        cell = Cell(ws)
        if number_format:
            cell.number_format = number_format
        if alignment is not None:
            cell.alignment = alignment
        return int(cell.style_id)

    @staticmethod
    def _quoted_id(ws: Worksheet, alignment: Alignment | None = None) -> int:
        """The workbook's cell-style index of a text cell with Excel's quote prefix (and
        ``alignment``)."""
        cell = Cell(ws)
        if alignment is not None:
            cell.alignment = alignment
        cell.quotePrefix = True
        return int(cell.style_id)

    def last_row(self, ws: Worksheet) -> int:
        """The last row added to ``ws`` (0 when none)."""
        part = self._parts.get(ws.title)
        return part.last_row if part is not None else 0

    def dimensions(self, ws: Worksheet) -> str:
        """``ws.dimensions`` counting the rows added here (e.g. ``'A1:S5543'``)."""
        last = self.last_row(ws)
        if not last:
            return str(ws.dimensions)
        if not ws._cells:
            return f"A1:A{last}"
        return (f"{get_column_letter(ws.min_column)}{ws.min_row}:"
                f"{get_column_letter(ws.max_column)}{max(ws.max_row, last)}")

    def splice(self, path: str | os.PathLike[str], sheets: Sequence[Worksheet]) -> None:
        """Put the rendered rows into the workbook openpyxl saved at ``path`` (replaced whole).

        ``sheets`` are the workbook's worksheets (for their titles' dimensions). The temporary
        files are closed afterwards.
        """
        try:
            wanted = {ws.title: self.dimensions(ws) for ws in sheets
                      if self.last_row(ws)}
            if wanted:
                self._rewrite(Path(path), wanted)
        finally:
            self.close()

    def close(self) -> None:
        """Drop the rendered rows (their temporary files)."""
        for part in self._parts.values():
            part.file.close()
        self._parts.clear()

    def _rewrite(self, path: Path, wanted: dict[str, str]) -> None:
        tmp = path.with_name(f".{path.name}.splice")
        try:
            with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w") as zout:
                members = {member: title for title, member in _sheet_members(zin).items()
                           if title in wanted}
                missing = set(wanted) - set(members.values())
                if missing:
                    raise ValueError(f"sheets {sorted(missing)} not found in {path.name}")
                for info in zin.infolist():
                    title = members.get(info.filename)
                    if title is None:
                        zout.writestr(info, zin.read(info.filename))
                        continue
                    self._write_sheet(zin.read(info.filename).decode("utf-8"), info, zout,
                                      self._parts[title], wanted[title])
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @staticmethod
    def _write_sheet(xml: str, info: zipfile.ZipInfo, zout: zipfile.ZipFile, part: _Part,
                     ref: str) -> None:
        head, sep, tail = xml.partition("</sheetData>")
        if not sep:  # openpyxl writes <sheetData /> for a sheet without rows
            head, sep, tail = xml.partition("<sheetData />")
            head, sep = head + "<sheetData>", "</sheetData>"
            if not tail:
                raise ValueError(f"no sheet data in {info.filename}")
        head = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{ref}"', head, count=1)
        target = zipfile.ZipInfo(info.filename, date_time=info.date_time)
        target.compress_type = info.compress_type
        target.external_attr = info.external_attr
        part.file.seek(0)
        size = os.fstat(part.file.fileno()).st_size
        with zout.open(target, "w", force_zip64=size > 2**30) as dst:
            dst.write(head.encode("utf-8"))
            shutil.copyfileobj(part.file, dst, 1 << 20)
            dst.write((sep + tail).encode("utf-8"))


def _sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> the member holding its XML, from the workbook part and its relations."""
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): str(r.get("Target")) for r in rels.iter(f"{{{_PKG_NS}}}Relationship")}
    out = {}
    for sheet in book.iter(f"{{{_MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        out[str(sheet.get("name"))] = member
    return out
