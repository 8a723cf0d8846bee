"""Workbook sheets for people: residents from the census, children and school seats (学位),
and the per-person indicators. Each sheet is written by its own function, added after the
coverage sheets by :func:`geoplan.report.tables.write_workbook`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from geoplan.census import unit_shares
from geoplan.indicators import indicator_name
from geoplan.report._data import plain
from geoplan.report._labels import in_unit, unit_of
from geoplan.report._xlsx_rows import fit_rows, wrapped_lines
from geoplan.report.people_html import indicator_note_zh, inside_shares, residents_note_zh
from geoplan.vocab import DEFAULT_UNIT

__all__ = ["children_rows", "indicator_rows", "residents_rows", "write_people_sheets"]

Columns = list[tuple[str, str | None]]
"""A sheet's columns: (column, Excel number format or None for text)."""

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")

_TITLES = {
    "zh": {"residents": "常住人口（普查）", "children": "学龄儿童与学位", "indicators": "人均指标",
           "estimate": "估算", "census": "普查总数", "pass": "达标", "fail": "未达标", "no data": "无数据",
           "primary": "小学（6–11岁）", "junior": "初中（12–14岁）"},
    "en": {"residents": "Residents (census)", "children": "Children and seats",
           "indicators": "Per-person indicators", "estimate": "estimate", "census": "census total",
           "pass": "pass", "fail": "fail", "no data": "no data",
           "primary": "primary (ages 6–11)", "junior": "junior (ages 12–14)"},
}

_HEADERS = {
    "zh": {
        "district": "区县", "census_2020": "2020年普查常住人口", "inside_share": "数据范围内面积占比",
        "census_density_km2": "全区人口密度（人/平方公里）", "residents_inside": "范围内常住人口",
        "is_estimate": "估算或普查", "residential_land_m2": "范围内居住用地（平方米）",
        "residents_per_ha": "每公顷居住用地人口", "weighting": "分配方法", "note": "说明",
        "level": "学段", "children": "学龄儿童", "beyond_buffer": "距学校超过半径（直线）",
        "beyond_network": "距学校超过半径（步行）", "seats_reached": "步行可达学位（2SFCA）",
        "seats_per_child": "人均可达学位", "seat_gap": "学位缺口", "radius_m": "服务半径（米）",
        "seats_in_district": "区县内学校学位", "name_zh": "指标", "value": "数值", "target": "目标",
        "status": "是否达标", "target_source": "目标来源", "partial": "仅部分区域",
    },
    "en": {
        "district": "District", "census_2020": "2020 census residents", "inside_share": "Share inside",
        "census_density_km2": "District density (/km²)", "residents_inside": "Residents inside",
        "is_estimate": "Estimate or census", "residential_land_m2": "Residential land inside (m²)",
        "residents_per_ha": "Residents per ha of residential land", "weighting": "Spread by",
        "note": "Note", "level": "Level", "children": "Children", "beyond_buffer":
        "Beyond radius (straight line)", "beyond_network": "Beyond radius (walking)",
        "seats_reached": "Seats within walking reach (2SFCA)", "seats_per_child": "Seats per child",
        "seat_gap": "Seat gap (学位缺口)", "radius_m": "Radius (m)",
        "seats_in_district": "Seats of schools in the district", "name_zh": "Indicator",
        "value": "Value", "target": "Target", "status": "Status", "target_source": "Target source",
        "partial": "Part of district only",
    },
}

_UNIT_HEADERS = {
    "zh": {"district": "分析单元", "census_2020": "由所在区县普查人口分摊（估算）",
           "census_density_km2": "范围内人口密度（人/平方公里）", "census_source": "所在区县及分摊比例"},
    "en": {"district": "Unit", "census_2020": "Share of its 区县's census residents (estimate)",
           "census_density_km2": "Density inside (/km²)", "census_source": "区县 and their shares"},
}
"""Headers that change when the units got their residents from the census's 区县
(``demand.census_districts``): the figures are the units' shares, not census totals."""

HEADERS: Mapping[str, Mapping[str, str]] = _HEADERS

_UNIT_KEYS = ("district", "seats_in_district")
"""The headers that name the analysis unit (:func:`headers` words them for the config's)."""


def headers(lang: str, unit: str = DEFAULT_UNIT, census_units: bool = False) -> dict[str, str]:
    """The sheets' column headers in ``lang``, the districts called ``unit`` in Chinese;
    ``census_units``: the residents are the units' shares of their 区县's census figures."""
    out = {**_HEADERS[lang], **(_UNIT_HEADERS[lang] if census_units else {})}
    if lang == "zh" and unit != DEFAULT_UNIT:
        out.update({k: in_unit(_HEADERS["zh"][k], unit) for k in _UNIT_KEYS})
    return out
"""Column headers of the people sheets per language (also the notebooks' column labels)."""


def _text(value: Any) -> Any:
    """A cell value (text a spreadsheet would run is made a text cell by
    :func:`geoplan.report.tables.values_only`)."""
    return plain(value)


def _write(ws: Worksheet, start: int, df: pd.DataFrame, cols: Sequence[tuple[str, str | None]],
           heads: Mapping[str, str]) -> int:
    for c, (name, _) in enumerate(cols, start=1):
        cell = ws.cell(row=start, column=c, value=heads.get(name, name))
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    row = start
    # text wraps and every cell sits at the top, so a row stays level with its longest text
    for row, values in enumerate(df.to_dict("records"), start=start + 1):
        for c, (name, fmt) in enumerate(cols, start=1):
            value = _text(values.get(name))
            cell = ws.cell(row=row, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            elif value is not None:
                cell.alignment = Alignment(vertical="top")
                if fmt and isinstance(value, int | float):
                    cell.number_format = fmt
    for c, _ in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(c)].width = 16
    ws.freeze_panes = ws.cell(row=start + 1, column=2)
    ws.print_title_rows = f"{start}:{start}"  # the header row on every printed page
    return row + 1


def residents_rows(residents: pd.DataFrame, lang: str, unit: str
                   ) -> tuple[pd.DataFrame, Columns, dict[str, str]]:
    """The residents sheet's rows (words in ``lang``), columns with their number formats, and
    headers; the notebooks show the same."""
    t = _TITLES[lang]
    df = residents.copy()
    df["is_estimate"] = [t["estimate"] if e else t["census"] for e in df["is_estimate"]]
    sources = df["census_source"] if "census_source" in df else pd.Series([""] * len(df))
    shares = [unit_shares(v) for v in sources]
    units = any(s is not None for s in shares)  # residents shared from the census's 区县
    outside = "（另有 {} 不在有普查数的区县内）" if lang == "zh" else " ({} in no counted 区县)"
    df["census_source"] = [s[0] + (outside.format(s[1]) if s[1] else "") if s else ""
                           for s in shares]
    if lang == "zh":  # the weighting and the note in Chinese, as the district pages give them
        zh = [residents_note_zh({str(k): v for k, v in r.items()}, unit)
              for r in residents.to_dict("records")]
        df["weighting"] = [w for w, _ in zh]
        df["note"] = [n for _, n in zh]
    cols: Columns = [("district", None), ("census_2020", "#,##0"),
                     *([("census_source", None)] if units else []), ("inside_share", "0.0%"),
                     ("census_density_km2", "#,##0"), ("residents_inside", "#,##0"),
                     ("is_estimate", None), ("residential_land_m2", "#,##0"),
                     ("residents_per_ha", "#,##0"), ("weighting", None), ("note", None)]
    return df, cols, headers(lang, unit, units)


def _residents_sheet(ws: Worksheet, residents: pd.DataFrame, lang: str, unit: str) -> None:
    df, cols, heads = residents_rows(residents, lang, unit)
    end = _write(ws, 1, df, cols, heads)
    ws.column_dimensions[get_column_letter(len(cols))].width = 60
    if any(c == "census_source" for c, _ in cols):
        ws.column_dimensions["C"].width = 30
    _fit_rows(ws, 2, end)


def children_rows(children: pd.DataFrame, seats: pd.DataFrame, lang: str, unit: str
                  ) -> tuple[pd.DataFrame, Columns, dict[str, str]]:
    """The children-and-seats sheet's rows (one per district and school level, levels in
    ``lang``), columns with their number formats, and headers; the notebooks show the same."""
    t = _TITLES[lang]
    df = children.merge(seats[["district", "level", "seats_reached", "seats_per_child", "seat_gap",
                               "seats_in_district"]], on=["district", "level"], how="left")
    df["level"] = [t.get(v, v) for v in df["level"]]
    cols: Columns = [("district", None), ("level", None), ("radius_m", "#,##0"),
                     ("children", "#,##0"), ("beyond_buffer", "#,##0"),
                     ("beyond_network", "#,##0"), ("seats_reached", "#,##0"),
                     ("seats_per_child", "0.00"), ("seat_gap", "#,##0"),
                     ("seats_in_district", "#,##0")]
    return df, cols, headers(lang, unit)


def _children_sheet(ws: Worksheet, children: pd.DataFrame, seats: pd.DataFrame, lang: str,
                    meta: Mapping[str, Any], unit: str) -> None:
    row = _write(ws, 1, *children_rows(children, seats, lang, unit))
    _fit_rows(ws, 2, row)
    for i, key in enumerate(("age_shares", "seat_norms", "notes"), start=row + 1):
        note = meta.get(f"{key}_zh") if lang == "zh" else None
        cell = ws.cell(row=i, column=1, value=str(note or meta.get(key, "")))
        cell.data_type = "s"
        # a long note: merged across the table and wrapped, so it prints whole on the page
        ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=10)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        fit_row_height(ws, i, cell.value, 16 * 10)


def indicator_rows(table: pd.DataFrame, lang: str, unit: str, inside: Mapping[str, float]
                   ) -> tuple[pd.DataFrame, Columns, dict[str, str]]:
    """The indicator sheet's rows (names, verdicts and notes in ``lang``), columns with their
    number formats, and headers; the notebooks show the same. ``inside``: each district's
    share inside the data."""
    t = _TITLES[lang]
    df = table.copy()
    if lang == "zh":  # the notes in Chinese, as the district pages give them
        share = [inside.get(str(d), 1.0) for d in df["district"]]
        df["note"] = [indicator_note_zh({str(k): v for k, v in r.items()},
                                        s if np.isfinite(s) else 1.0, unit)
                      for r, s in zip(df.to_dict("records"), share, strict=True)]
    df["status"] = [t.get(v, v) for v in df["status"]]
    df["partial"] = ["✓" if p else "" for p in df["partial"]]
    df["name_zh"] = [indicator_name(str(i), str(n), lang)
                     for i, n in zip(df["indicator"], df["name_zh"], strict=True)]
    if lang == "zh":  # one unit word per quantity in the Chinese workbook
        df["target_source"] = [str(v).replace(" m²", " 平方米") if isinstance(v, str) else v
                               for v in df["target_source"]]
    cols: Columns = [("district", None), ("name_zh", None), ("value", "0.000"),
                     ("target", "0.000"), ("status", None), ("partial", None),
                     ("target_source", None), ("note", None)]
    return df, cols, headers(lang, unit)


def _indicator_sheet(ws: Worksheet, table: pd.DataFrame, lang: str, unit: str,
                     inside: Mapping[str, float]) -> None:
    _write(ws, 1, *indicator_rows(table, lang, unit, inside))
    # a share in %, an area per person with its unit: a bare 0.5 against 8.0 reads as a share
    per_person = '0.0" ㎡/人"' if lang == "zh" else '0.0" m²/person"'
    for row, kind in enumerate(table["unit"].astype(str), start=2):
        for col in (3, 4):  # value, target
            ws.cell(row=row, column=col).number_format = "0.0%" if kind == "share" else per_person
    ws.column_dimensions["G"].width = 30
    ws.column_dimensions["H"].width = 60
    _fit_rows(ws, 2, ws.max_row + 1)


def _fit_rows(ws: Worksheet, first: int, end: int) -> None:
    """Rows ``first`` to ``end - 1`` as tall as their longest wrapped text (they print whole)."""
    fit_rows(ws, (cell for row in ws.iter_rows(min_row=first, max_row=end - 1) for cell in row))


def fit_row_height(ws: Worksheet, row: int, text: str, width: float) -> None:
    """Make ``row`` tall enough for ``text`` wrapped in a column ``width`` characters wide.

    Spreadsheet programs do not grow a row for wrapped text written by a library; CJK
    characters count twice.
    """
    height = 15.0 * wrapped_lines(text, width)
    if (ws.row_dimensions[row].height or 0) < height:
        ws.row_dimensions[row].height = height


def write_people_sheets(wb: Workbook, coverage: Any, lang: str, title: Any) -> None:
    """Add the residents, children-and-seats and indicator sheets when the coverage has them.

    Parameters
    ----------
    wb
        The workbook being written.
    coverage
        A :class:`~geoplan.results.CoverageResult` (its ``people`` and ``indicators``), or None.
    lang
        'zh' or 'en'.
    title
        A function giving a valid unique sheet title for a text
        (:func:`geoplan.report.tables.sheet_title` bound to the used titles).
    """
    t = _TITLES[lang]
    unit = unit_of(None, coverage)
    people = getattr(coverage, "people", None)
    if people is not None:
        if len(people.residents):
            _residents_sheet(wb.create_sheet(title(t["residents"])), people.residents, lang, unit)
        if len(people.children):
            _children_sheet(wb.create_sheet(title(t["children"])), people.children, people.seats,
                            lang, people.meta, unit)
    indicators = getattr(coverage, "indicators", None)
    if indicators is not None and len(indicators.table):
        _indicator_sheet(wb.create_sheet(title(t["indicators"])), indicators.table, lang, unit,
                         inside_shares(coverage))
