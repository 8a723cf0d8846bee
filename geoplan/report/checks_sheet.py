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

_MEASURE_FORMATS = {
    "zh": {"share": "0.0%", "m": '#,##0" 米"', "km2": '0.00" 平方公里"', "m2": '#,##0" 平方米"'},
    "en": {"share": "0.0%", "m": '#,##0" m"', "km2": '0.00" km²"', "m2": '#,##0" m²"'},
}
_MEASURE_KIND = {"partial_district": "share", "datum": "m", "mapping_gap": "m",
                 "school_mapped_twice": "m",
                 "unreached_facility": "m", "overlapping_units": "km2", "tiny_district": "m2"}
"""What each check's measure is (:mod:`geoplan.data_checks`); the others have none to show."""
_NO_COUNT = frozenset({"partial_district", "datum", "tiny_district"})
"""Checks whose count says nothing (a district, the whole run): left empty in the sheet."""

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
    from geoplan.report._xlsx_rows import fit_rows

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
    kinds = [str(k) for k in table["check"]]
    table["check"] = [check_name(k, lang, unit) for k in kinds]
    formats = _MEASURE_FORMATS["zh" if zh else "en"]
    count_at, measure_at = cols.index("count"), cols.index("measure")
    for kind, rec in zip(kinds, table[cols].itertuples(index=False), strict=True):
        values = [safe_cell(v) for v in rec]
        if kind in _NO_COUNT:
            values[count_at] = None
        if kind not in _MEASURE_KIND:  # no measure behind it (a 0 would read as one)
            values[measure_at] = None
        ws.append(values)
        if values[measure_at] is not None:
            ws.cell(row=ws.max_row, column=measure_at + 1).number_format = \
                formats[_MEASURE_KIND[kind]]
    widths = (18, 10, 10, 22, 8, 12, 60, 40)
    for letter, width in zip("ABCDEFGH", widths, strict=True):
        ws.column_dimensions[letter].width = width
    # every text wraps (the check's name and subject too) and every cell sits at the top, so
    # a row's cells stay level with its long detail when printed
    for row in ws.iter_rows(min_row=2, max_col=len(widths)):
        for cell in row:
            cell.alignment = Alignment(wrap_text=isinstance(cell.value, str), vertical="top")
    fit_rows(ws, (cell for row in ws.iter_rows(min_row=2, max_col=len(widths)) for cell in row))
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
