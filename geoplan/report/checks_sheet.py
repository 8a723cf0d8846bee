"""The data-check sheet (数据核查) of the report workbook.

:func:`geoplan.report.tables.write_workbook` writes it with the other sheets (one save of the
workbook); :func:`geoplan.data_checks.add_workbook_sheet` adds it to an existing workbook.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.results.data_checks import DATA_CHECKS
from geoplan.vocab import DEFAULT_UNIT

__all__ = ["CHECKS_SHEET", "fill_checks_sheet", "safe_cell"]

CHECKS_SHEET = "数据核查"
"""Title of the data-check sheet in the report workbook."""


def safe_cell(value: Any) -> Any:
    """A cell value: NaN and infinity empty, numpy scalars as Python values (text a
    spreadsheet would run is made a text cell by :func:`geoplan.report.tables.values_only`)."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    return value


HEADERS_ZH: dict[str, str] = {
    "check": "核查项", "severity": "级别", "district": "区县", "subject": "对象", "count": "数量",
    "measure": "数值", "detail": "说明", "fix": "处理建议"}
"""The sheet's column headers (the CSV keeps the column names of :data:`DATA_CHECKS`)."""

_SEVERITY_ZH = {"warning": "警告", "note": "提示"}

CHECKS_SHEET_EN = "Data checks"
"""Title of the data-check sheet in an English workbook."""


def fill_checks_sheet(ws: Any, checks: gpd.GeoDataFrame, unit: str = DEFAULT_UNIT,
                      lang: str = "zh") -> None:
    """Write ``checks`` (:func:`geoplan.data_checks.data_checks`) into the empty worksheet ``ws``.

    One header row in bold, then one row per check. In Chinese (``lang='zh'``, the districts
    called ``unit``) the check, its severity, subject, detail and fix are worded as the map's
    data-check layer words them (a check without a Chinese wording keeps its English); in
    English the table's own words. Text that Excel would run as a formula is made a text cell
    (:func:`geoplan.report.tables.values_only`).
    """
    from openpyxl.styles import Alignment, Font

    from geoplan.report._labels import in_unit, layer_name_zh
    from geoplan.report._map_checks import check_name, check_words_zh, english_subjects
    from geoplan.report.people_sheets import fit_row_height

    cols = [c for c in DATA_CHECKS.names if c != "subject_en"]  # the sheet's language's subject
    zh = lang == "zh"
    ws.append([in_unit(HEADERS_ZH.get(c, c), unit) if zh else c.capitalize() for c in cols])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    table = pd.DataFrame(checks.drop(columns="geometry"))
    if not zh and "subject_en" in table:
        table["subject"] = english_subjects(table)
    if zh:
        words = [check_words_zh(r, unit) for r in table.itertuples(index=False)]
        table["detail"] = [w or d for (w, _), d in zip(words, table["detail"], strict=True)]
        table["fix"] = [w or f for (_, w), f in zip(words, table["fix"], strict=True)]
        table["severity"] = [_SEVERITY_ZH.get(str(s), str(s)) for s in table["severity"]]
        # a layer geoplan names in Chinese; a name from the data as it is
        table["subject"] = [layer_name_zh(str(s), unit) for s in table["subject"]]
    table["check"] = [check_name(str(k), lang, unit) for k in table["check"]]
    for rec in table[cols].itertuples(index=False):
        ws.append([safe_cell(v) for v in rec])
    for letter, width in zip("ABCDEFGH", (18, 10, 10, 22, 8, 10, 60, 40), strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=2, min_col=7, max_col=8):  # long texts wrap when printed
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            fit_row_height(ws, cell.row, str(cell.value or ""), 60 if cell.column == 7 else 40)
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
