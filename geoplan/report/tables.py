"""The Excel workbook of an analysis (openpyxl): summary, one sheet per standard, dead ends.

Numbers are stored as numbers (shares as fractions with a percent format, areas in m²), so a
planner can sort, filter and compute with them; headers are Chinese (or English). The summary
sheet colours each district × standard cell green when it meets the target and red when it
does not, with Excel conditional formatting that follows the values if someone edits them.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from geoplan._io import atomic_path
from geoplan._text import share_text
from geoplan._version import __version__
from geoplan.report._data import (
    census_citation,
    frame,
    geoframe,
    people_as_land,
    plain,
    standard_rows,
    standards_order,
)
from geoplan.report._labels import (
    POPULATION_SOURCES,
    in_unit,
    labels,
    source_label,
    standard_name,
    unit_of,
    value_label,
    weights_label,
)
from geoplan.report._xlsx_rows import (
    EXCEL_MAX_ROWS,
    FORMULA_STARTS,
    TOP,
    WRAP,
    BulkRows,
    fit_rows,
    wrapped_lines,
)
from geoplan.results.coverage import item_names, items_in, partial_districts, verdicts
from geoplan.vocab import DEFAULT_UNIT

if TYPE_CHECKING:
    from geoplan.layers.layerset import LayerSet
    from geoplan.results import CoverageResult, DeadEndResult, SiteResult


logger = logging.getLogger(__name__)

SHARE_CLASSES = (  # the reports' and the map's classes (coverage_class), as Excel formulas
    ("pass", "B4>=B$3", "C6EFCE", "006100"),
    ("near", "AND(B4<B$3,B4>=0.75*B$3)", "FEE08B", "5A4600"),
    ("low", "AND(B4<0.75*B$3,B4>=0.5*B$3)", "FC8D59", "4A1500"),
    ("poor", "B4<0.5*B$3", "D73027", "FFFFFF"),
)
"""The summary sheet's colour classes: name, rule on a share (B4) and its target (B$3), fill
and font colours."""
HEADER_FILL = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")
PERCENT = "0.0%"
INTEGER = "#,##0"
DECIMAL = "#,##0.0"

STANDARD_COLUMNS = (
    ("district", None), ("radius_m", INTEGER), ("target", PERCENT), ("share_buffer", PERCENT),
    ("share_network", PERCENT), ("share_population_buffer", PERCENT),
    ("share_population_network", PERCENT), ("meets_target", None),
    ("uncovered_area_m2", INTEGER), ("uncovered_length_m", INTEGER),
    ("uncovered_population", INTEGER),
    ("n_facilities", INTEGER), ("demand_total", INTEGER), ("demand_unit", None),
    ("unreachable_points", INTEGER), ("population_source", None),
    ("target_year", None), ("items_no_data", None), ("share_min_items_network", PERCENT),
    ("inside_share", PERCENT),
)
ITEM_COLUMNS = (
    ("standard_name", None), ("district", None), ("name_zh", None), ("share_buffer", PERCENT),
    ("share_network", PERCENT), ("share_population_network", PERCENT), ("n_facilities", INTEGER),
    ("no_data", None),
)
DEADEND_COLUMNS = (
    ("district", None), ("rank", INTEGER), ("id", None), ("name", None), ("category", None),
    ("highway", None), ("road_class", None), ("length_m", DECIMAL), ("gap_m", DECIMAL),
    ("detour_m", DECIMAL), ("detour_ratio", "0.00"), ("saved_m", DECIMAL), ("score", "0.00"),
    ("crosses_water", None), ("crosses_railway", None), ("detour_near_data_edge", None),
)
CANDIDATE_COLUMNS = (
    ("district", None), ("rank", INTEGER), ("id", None), ("target_name", None),
    ("target_highway", None), ("gap_m", DECIMAL), ("detour_m", DECIMAL),
    ("detour_ratio", "0.00"), ("saved_m", DECIMAL), ("score", "0.00"),
    ("crosses_water", None), ("crosses_railway", None), ("detour_near_data_edge", None),
)
SITE_COLUMNS = (
    ("district", None), ("standard", None), ("item", None), ("rank", INTEGER),
    ("covered_m2", INTEGER),
    ("covered_length_m", INTEGER), ("covered_population", INTEGER), ("share_before", PERCENT),
    ("share_after", PERCENT),
    ("target", PERCENT), ("radius_m", INTEGER), ("street", None),
    ("lon_wgs84", "0.000000"), ("lat_wgs84", "0.000000"), ("lon_gcj02", "0.000000"),
    ("lat_gcj02", "0.000000"), ("lon_bd09", "0.000000"), ("lat_bd09", "0.000000"),
)
LONLAT_COLUMNS = (
    ("street", None), ("lon_wgs84", "0.000000"), ("lat_wgs84", "0.000000"),
    ("lon_gcj02", "0.000000"), ("lat_gcj02", "0.000000"),
)
_COORD_WIDTHS = dict.fromkeys(
    ["lon_wgs84", "lat_wgs84", "lon_gcj02", "lat_gcj02", "lon_bd09", "lat_bd09"], 12)
_PLACE_WIDTHS = {"district": 12, "view": 12, "rank": 7, "n_standards": 11, "standards": 80,
                 "area_ha": 11, "population": 11, "street": 16, **_COORD_WIDTHS}
"""Column widths of the 缺口地点 sheet, by column (some columns are only there with people)."""
_SITE_WIDTHS = {"district": 12, "standard": 22, "item": 16, "rank": 6, "covered_m2": 14,
                "covered_length_m": 14, "covered_population": 12, "share_before": 10,
                "share_after": 10, "target": 9, "radius_m": 10, "street": 16, **_COORD_WIDTHS}
"""Column widths of the sites sheet, by column."""
_EXTRA_HEADERS = {
    "zh": {"id": "编号", "target_name": "接入道路", "target_highway": "接入道路类型",
           "covered_m2": "可覆盖缺口（平方米）", "covered_length_m": "可覆盖缺口街道（米）",
           "covered_population": "可覆盖人口", "target_year": "目标年份",
           "items_no_data": "无数据的项目（未计入合计）", "share_min_items_network": "至少k项（步行）",
           "inside_share": "数据范围内的面积占比（低于100%：数字只代表这一部分）",
           "name_zh": "配套设施项目", "standard_name": "标准", "no_data": "无数据",
           "n_standards": "缺几项标准", "standards": "是哪些标准的缺口",
           "source_title": "依据文件",
           "gaps_cut": "此表列出各区县最大的 {n:,} 个缺口（Excel 每表最多 1,048,576 行）；"
                       "全部 {total:,} 个缺口见 gaps.csv"},
    "en": {"id": "Id", "target_name": "Connects to", "target_highway": "Connects to (highway)",
           "covered_m2": "Gap covered (m²)", "covered_length_m": "Uncovered street covered (m)",
           "covered_population": "Population covered", "target_year": "Target year",
           "items_no_data": "Items without data (left out of the totals)",
           "share_min_items_network": "At least k items (walking)", "name_zh": "Item",
           "inside_share": "Share of the area inside the data (below 100%: the figures cover "
                           "that part only)",
           "n_standards": "Standards missed", "standards": "A gap of",
           "standard_name": "Standard", "no_data": "No data", "source_title": "Source documents",
           "gaps_cut": "The {n:,} largest gaps of the districts (an Excel sheet holds at most "
                       "1,048,576 rows); all {total:,} gaps are in gaps.csv"},
}


def population_known(rows: pd.DataFrame) -> bool:
    """Whether ``rows`` (coverage table rows) weigh demand by people, not by land area.

    With no population raster or residential buildings, coverage weights demand by land area
    (``population_source == 'area'``) or floor area (``'buildings'``): relative weights, not
    people. Only ``census`` and ``raster`` are people. Rows with no demand at all (``'none'``:
    a district without homes, or a street standard's) say nothing either way; without any
    other row, it is False.

    >>> population_known(pd.DataFrame({"population_source": ["census", "none", "census"]}))
    True
    >>> population_known(pd.DataFrame({"population_source": ["census", "area"]}))
    False
    >>> population_known(pd.DataFrame({"population_source": ["none (street length)"]}))
    False
    """
    if "population_source" not in rows.columns or rows.empty:
        return False
    src = rows["population_source"].astype(str).str.lower()
    measured = src.loc[~src.str.startswith("none")]
    return bool(len(measured)) and bool(measured.isin(["census", "raster"]).all())


def weights_source(rows: pd.DataFrame) -> str | None:
    """The population weights of ``rows`` (coverage table rows): 'raster', 'buildings' or 'area'.

    Rows without population weights (street-length standards, ``'none (street length)'``)
    are ignored; None when no row names a known source, or when they disagree.
    """
    if "population_source" not in rows.columns or rows.empty:
        return None
    src = {str(v).lower() for v in rows["population_source"].dropna()}
    known = src & set(POPULATION_SOURCES)
    return known.pop() if len(known) == 1 else None


def sheet_title(text: str, used: set[str]) -> str:
    """A valid, unique Excel sheet title: no ``[]:*?/\\``, at most 31 characters (a longer
    text cut to 30 and "…", which says it was cut)."""
    title = re.sub(r"[\[\]:*?/\\]", "_", text).strip("'").strip() or "Sheet"
    title = title if len(title) <= 31 else title[:30].rstrip() + "…"
    base, n = title, 2
    while title.lower() in {u.lower() for u in used}:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title)
    return title


def standard_sheet_name(sid: str, row: Mapping[str, Any], lang: str) -> str:
    """A standard's name as its sheet's title: in English the catalog's ``sheet_en`` where the
    English name is the catalog's and too long for a sheet ("Junior middle school within 1000
    m" cut to 31 characters read as 100 m)."""
    name = standard_name(row, lang)
    if lang != "zh" and len(name) > 31:
        from geoplan.standards import default_catalog

        std = default_catalog().get(sid)
        if std is not None and std.sheet_en and std.name_en == name:
            return std.sheet_en
    return name


def _header(ws: Worksheet, row: int, headers: Sequence[str]) -> None:
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=col, value=text)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


def _text(value: Any) -> Any:
    """``value`` with the control characters a workbook cannot hold removed (text only)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def values_only(wb: Any) -> int:
    """Make every cell of ``wb`` a value: text that openpyxl took for a formula becomes text.

    openpyxl stores any string starting with ``=`` as a live formula; geoplan writes no
    formulas, so such a cell can only be data (a hostile name like ``=HYPERLINK(...)``). As a
    text cell it is shown as written and never run. Text that starts like a formula
    (:data:`geoplan.report._xlsx_rows.FORMULA_STARTS`) also gets Excel's quote prefix, a style
    shown only in the formula bar, so that it stays text once the cell is edited or the sheet
    saved as CSV (the CSV files carry a leading apostrophe instead). Returns how many cells
    were changed from formulas.
    """
    changed = 0
    for ws in wb.worksheets:
        # the cells written, not the whole used rectangle (iter_rows would create the empty ones)
        for cell in ws._cells.values():
            if cell.data_type == "f":
                cell.data_type = "s"
                changed += 1
            if cell.data_type == "s" and isinstance(cell.value, str) and \
                    cell.value.startswith(FORMULA_STARTS):
                # Excel's quote prefix: text still once the cell is edited or saved as CSV
                cell.quotePrefix = True
    return changed


_KIND_LABELLED = ("category", "highway", "target_highway")
"""Columns whose values are labelled by column (:func:`value_label` with the column)."""
_VALUE_LABELLED = ("road_class", "demand_unit", "population_source")
"""Columns whose values are labelled by value alone."""
_LABELLED = frozenset({"meets_target", "no_data", *_KIND_LABELLED, *_VALUE_LABELLED})
"""Columns whose values :func:`_cell_value` turns into words (besides the yes/no ones)."""


def _is_yes_no_column(name: str) -> bool:
    """Whether a column is a yes or a no for each dead end (``crosses_*``, the detour's flag)."""
    return name.startswith("crosses_") or name == "detour_near_data_edge"


def labelled_column(name: str) -> bool:
    """Whether the workbook writes a column's values as words (verdicts, yes/no, categories)."""
    return name in _LABELLED or _is_yes_no_column(name)


def labelled_values(col: pd.Series, name: str, lang: str, unit: str = DEFAULT_UNIT) -> list[Any]:
    """The words the workbook writes for the values of column ``name`` (达标, 是, 主干路…);
    None where there is no value. The notebooks' tables show the same."""
    return _column_values(col, name, labels(lang, unit), lang)


def _cell_value(value: Any, col: str, lab: Mapping[str, str], lang: str) -> Any:
    value = _text(plain(value))
    if value is None:
        return None
    if col == "meets_target" or _is_yes_no_column(col):
        if col == "meets_target":  # a word already: nothing to measure (verdicts)
            return value if isinstance(value, str) else lab["pass"] if value else lab["fail"]
        return lab["yes"] if bool(value) else lab["no"]
    if col == "no_data":
        return lab["no_data"] if bool(value) else ""
    if col in _KIND_LABELLED:
        return value_label(value, lang, col)
    if col in _VALUE_LABELLED:
        return value_label(value, lang)
    return value


def _table(ws: Worksheet, start_row: int, df: pd.DataFrame,
           columns: Sequence[tuple[str, str | None]], lab: Mapping[str, str], lang: str,
           notes: Mapping[str, str] | None = None, bulk: BulkRows | None = None,
           wrap: Mapping[str, float] | None = None) -> int:
    """Write ``df``'s ``columns`` (those present) from ``start_row``; returns the next free row.

    ``notes`` (column -> text) adds a note under a column's header, e.g. the population
    weights under the population shares. ``wrap`` (column -> its width in characters) wraps a
    text column's cells, each row as tall as its longest wrapped text. With ``bulk`` the rows
    are rendered as sheet XML (:class:`~geoplan.report._xlsx_rows.BulkRows`; the table must be
    the sheet's last); the header row is an openpyxl row either way. Rows past Excel's last
    row are left out (logged).
    """
    cols = [(c, f) for c, f in columns if c in df.columns]
    extra = _EXTRA_HEADERS[lang]
    notes = notes or {}
    _header(ws, start_row, [(extra.get(c) or lab.get(c, c))
                            + (f"\n（{notes[c]}）" if c in notes and lang == "zh"
                               else f"\n({notes[c]})" if c in notes else "")
                            for c, _ in cols])
    room = EXCEL_MAX_ROWS - start_row
    if len(df) > room:
        logger.warning("sheet %s: %d of %d rows left out (an Excel sheet holds %d rows)",
                       ws.title, len(df) - room, len(df), EXCEL_MAX_ROWS)
        df = df.iloc[:room]
    names = [c for c, _ in cols]
    wrap = {c: w for c, w in (wrap or {}).items() if c in names}
    wrapped = [c in wrap for c in names] if wrap else []
    heights = _row_heights(df, wrap) if wrap else None
    if bulk is not None:
        end = bulk.add(ws, start_row + 1, _values(df, names, lab, lang), [f for _, f in cols],
                       wrapped=wrapped, heights=heights)
        if end is not None:
            return end
    row = start_row
    for row, values in enumerate(_values(df, names, lab, lang), start=start_row + 1):
        for col_idx, ((_, fmt), value) in enumerate(zip(cols, values, strict=True), start=1):
            cell = ws.cell(row=row, column=col_idx, value=value)
            if fmt and isinstance(cell.value, int | float):
                cell.number_format = fmt
            if wrapped and cell.value is not None:  # the row's cells level with its long text
                cell.alignment = (WRAP if wrapped[col_idx - 1] and isinstance(cell.value, str)
                                  else TOP)
        if heights is not None and heights[row - start_row - 1]:
            ws.row_dimensions[row].height = heights[row - start_row - 1]
    return row + 1


def _row_heights(df: pd.DataFrame, wrap: Mapping[str, float]) -> list[float | None]:
    """Each row's height for its wrapped columns' text (None where one line is enough)."""
    lines = np.ones(len(df), dtype=int)
    for column, width in wrap.items():
        lines = np.maximum(lines, [wrapped_lines(v, width) if isinstance(v, str) else 1
                                   for v in df[column].tolist()])
    return [16.0 * n if n > 1 else None for n in lines.tolist()]  # CJK lines need 16 pt


def _values(df: pd.DataFrame, names: list[str], lab: Mapping[str, str], lang: str
            ) -> Iterator[list[Any]]:
    """The cell values of ``df``'s columns ``names``, row by row (:func:`_cell_value`).

    Converted a column at a time: numbers in bulk, other values once per distinct value (a
    city's gap and street-gap tables run to hundreds of thousands of rows).
    """
    columns = [_column_values(df[name], name, lab, lang) for name in names]
    for row in zip(*columns, strict=True):
        yield list(row)


def _column_values(col: pd.Series, name: str, lab: Mapping[str, str], lang: str) -> list[Any]:
    """:func:`_cell_value` of every value of one column, in order."""
    labelled = labelled_column(name)
    kind = col.dtype.kind if isinstance(col.dtype, np.dtype) else "O"
    if kind == "f" and not labelled:  # plain numbers; NaN and infinity are empty cells
        values = col.to_numpy()
        out = values.astype(object)
        out[~np.isfinite(values)] = None
        return list(out.tolist())
    if kind in "iub" and not labelled:
        return list(col.to_numpy().tolist())
    done: dict[tuple[type, Any], Any] = {}
    converted = []
    for value in col.tolist():
        try:
            key = (type(value), value)
            if key not in done:
                done[key] = _cell_value(value, name, lab, lang)
            converted.append(done[key])
        except TypeError:  # not hashable
            converted.append(_cell_value(value, name, lab, lang))
    return converted


def _summary_sheet(ws: Worksheet, table: pd.DataFrame, order: list[str],
                   rows: Mapping[str, Mapping[str, Any]], lab: Mapping[str, str], lang: str,
                   title: str, warnings: Sequence[str] = ()) -> None:
    """District × standard matrix of buffer shares, targets on row 3, coloured by pass/fail;
    under it the colours, the districts only partly inside the data and ``warnings`` (a datum
    that looks wrong), each a line."""
    ws.cell(row=1, column=1, value=f"{title} · {lab['share_buffer']}").font = Font(bold=True,
                                                                                  size=13)
    _header(ws, 2, [lab["district"], *[standard_name(rows[s], lang) for s in order]])
    ws.cell(row=3, column=1, value=lab["target"]).font = Font(italic=True)
    for j, sid in enumerate(order, start=2):
        cell = ws.cell(row=3, column=j, value=plain(rows[sid].get("target")))
        cell.number_format = PERCENT
        cell.font = Font(italic=True)
    districts = list(dict.fromkeys(table["district"].astype(str)))
    lookup = {(str(r.district), str(r.standard)): r.share_buffer
              for r in table.itertuples(index=False)}
    # nothing to measure (no homes, no street of the kind): said, as the standard sheets say
    # it, not an empty cell
    nothing = {(str(d), str(s)) for d, s, v in zip(table["district"], table["standard"],
                                                    verdicts(table), strict=True) if v is None}
    for i, name in enumerate(districts, start=4):
        ws.cell(row=i, column=1, value=_text(name))
        for j, sid in enumerate(order, start=2):
            value = plain(lookup.get((name, sid)))
            if value is None and (name, sid) in nothing:
                value = lab["na"]
            cell = ws.cell(row=i, column=j, value=value)
            cell.number_format = PERCENT
    last_row, last_col = 3 + len(districts), 1 + len(order)
    if districts and order:
        rng = f"B4:{get_column_letter(last_col)}{last_row}"
        for _, rule, fill, font in SHARE_CLASSES:
            ws.conditional_formatting.add(rng, FormulaRule(
                formula=[f"AND(ISNUMBER(B4),ISNUMBER(B$3),{rule})"],
                fill=PatternFill("solid", start_color=fill, end_color=fill),
                font=Font(color=font, bold=True)))
    ws.freeze_panes = "B4"
    ws.print_title_rows = "2:3"
    ws.row_dimensions[2].height = 45
    _widths(ws, [14] + [16] * len(order))
    note_row = last_row + 2
    words = labels(lang)
    classes = ("；" if lang == "zh" else "; ").join(words[f"legend_{k}"] for k, *_ in SHARE_CLASSES)
    ws.cell(row=note_row, column=1, value=(
        f"颜色与报告、地图相同：{classes}（直线覆盖率，官方口径）" if lang == "zh" else
        f"colours as in the reports and the map: {classes} (straight-line share, the official "
        "indicator)"))
    partial = partial_districts(table)
    if partial:  # a figure that covers part of a district says so
        listed = ("、" if lang == "zh" else ", ").join(f"{d} {share_text(s)}" for d, s in partial)
        ws.cell(row=note_row + 1, column=1, value=(
            f"只有部分面积在数据范围内：{listed}；其数字只代表数据范围内的部分"
            if lang == "zh" else
            f"Only partly inside the data: {listed}; these districts' figures cover that part "
            "only"))
    for i, text in enumerate(warnings, start=note_row + 1 + bool(partial)):
        cell = ws.cell(row=i, column=1, value=_text(text))
        cell.font = Font(bold=True, color="B71C1C")


def _datum_warnings(checks: gpd.GeoDataFrame | None, lab: Mapping[str, str]) -> list[str]:
    """The warnings of the data checks that say a file's datum looks wrong."""
    from geoplan.report._map_checks import datum_warnings

    return datum_warnings(checks, lab["lang"], lab["unit"])


def write_workbook(
    coverage: CoverageResult | None,
    deadends: DeadEndResult | None,
    target: str | os.PathLike[str],
    *,
    title: str = "geoplan",
    sources: Sequence[str] = (),
    data_date: str | None = None,
    lang: str = "zh",
    sites: SiteResult | None = None,
    layerset: LayerSet | None = None,
    checks: gpd.GeoDataFrame | None = None,
    gap_places: pd.DataFrame | None = None,
) -> Path:
    """Write the analysis workbook atomically.

    Sheets: the summary (district × standard buffer shares, green/red against the target),
    one sheet per standard (every measure per district, then the largest gaps with their
    centre coordinates), the dead-end roads, the suggested openings, and the data sources.

    Parameters
    ----------
    coverage, deadends
        The coverage and dead-end results (either may be None).
    target
        The ``.xlsx`` path.
    title, sources, data_date
        The analysis name, data source lines and data date for the sources sheet.
    lang
        'zh' or 'en' headers.
    sites
        Suggested new facility sites (:func:`geoplan.siting.suggest_sites`), or None: a sheet
        with their coordinates.
    layerset
        The analysis' layers, for the nearest street of each gap and site (or None).
    checks
        The run's data checks (:func:`geoplan.data_checks.data_checks`), or None: written as
        the last sheet, :data:`geoplan.report.checks_sheet.CHECKS_SHEET` (``CHECKS_SHEET_EN``
        in English).
    gap_places
        :func:`geoplan.locate.locate` of the coverage's gaps (row for row) when already known,
        or None: located here.

    Every sheet prints landscape on A4, fitted to the page width, with its header rows
    repeated on each page and its print area set (:func:`print_setup`).

    Returns
    -------
    Path
        ``target``.
    """
    bulk = BulkRows()  # the long tables' rows, put into the file after openpyxl saved it
    try:
        return _write_workbook(coverage, deadends, Path(target), bulk, title=title,
                               sources=sources, data_date=data_date, lang=lang, sites=sites,
                               layerset=layerset, checks=checks, gap_places=gap_places)
    finally:
        bulk.close()


def _write_workbook(
    coverage: CoverageResult | None,
    deadends: DeadEndResult | None,
    target: Path,
    bulk: BulkRows,
    *,
    title: str,
    sources: Sequence[str],
    data_date: str | None,
    lang: str,
    sites: SiteResult | None,
    layerset: LayerSet | None,
    checks: gpd.GeoDataFrame | None,
    gap_places: pd.DataFrame | None,
) -> Path:
    lab = labels(lang, unit_of(layerset, coverage))
    wb = Workbook()
    used: set[str] = set()
    table = frame(coverage, "table")
    order = standards_order(coverage)
    rows = standard_rows(coverage)

    ws = wb.active
    ws.title = sheet_title(lab["sheet_summary"], used)
    if not table.empty:
        _summary_sheet(ws, table, order, rows, lab, lang, title, _datum_warnings(checks, lab))
    else:
        ws.cell(row=1, column=1, value=lab["none"])

    roads = getattr(layerset, "layers", {}).get("roads") if layerset is not None else None
    gaps, where = gap_rows(coverage, roads, gap_places)
    if gaps is not None and where is not None:
        _places_sheet(wb.create_sheet(sheet_title(lab["sheet_places"], used)), gaps, where,
                      table, order, rows, lab, lang, bulk)
    items = frame(coverage, "items")
    if lang != "zh" and "items_no_data" in table:  # the items named in the sheet's language
        table = table.assign(items_no_data=[items_in(str(v or ""), items, lang)
                                            for v in table["items_no_data"]])
    for sid in order:
        _standard_sheet(wb.create_sheet(sheet_title(standard_sheet_name(sid, rows[sid], lang), used)),
                        sid, table, rows, gaps, where, lab, lang, bulk)
    _table_sheet(wb, sheet_title(lab["sheet_deadends"], used),
                 _deadends_worded(geoframe(deadends, "dead_ends"), lang),
                 DEADEND_COLUMNS, lab, lang, [12, 16, 10, 18, 16, 14, 12, 12, 12, 14, 10, 12, 10, 10, 10],
                 bulk, auto_filter=True, wrap={"rank": 16, "detour_m": 14})
    _table_sheet(wb, sheet_title(lab["sheet_candidates"], used), geoframe(deadends, "candidates"),
                 CANDIDATE_COLUMNS, lab, lang, [12, 8, 10, 18, 14, 12, 12, 10, 12, 10, 10, 10],
                 bulk)
    if not items.empty and "n_items" in table and (table["n_items"] > 1).any():
        _items_sheet(wb.create_sheet(sheet_title(lab["items_section"], used)), items, table, rows,
                     lab, lang, bulk)
    if sites is not None and len(sites):
        _sites_sheet(wb.create_sheet(sheet_title(lab["sheet_sites"], used)), sites, rows, roads,
                     items, lab, lang, bulk)
    from geoplan.report.people_sheets import write_people_sheets

    write_people_sheets(wb, coverage, lang, lambda text: sheet_title(text, used))
    census = census_citation(coverage, lang)
    _sources_sheet(wb.create_sheet(sheet_title(lab["sheet_sources"], used)), title, data_date,
                   [*sources, *([census] if census and census not in sources else [])], lab)
    if checks is not None:
        from geoplan.report.checks_sheet import CHECKS_SHEET, CHECKS_SHEET_EN, fill_checks_sheet

        title = CHECKS_SHEET if lang == "zh" else CHECKS_SHEET_EN
        fill_checks_sheet(wb.create_sheet(sheet_title(title, used)), checks, lab["unit"], lang)
    for sheet in wb.worksheets:
        print_setup(sheet, lab, bulk.dimensions(sheet))

    values_only(wb)
    with atomic_path(target) as tmp:
        wb.save(tmp)
        bulk.splice(tmp, wb.worksheets)
    logger.info("wrote %s", target)
    return target


def gap_rows(coverage: CoverageResult | None, roads: gpd.GeoDataFrame | None,
              gap_places: pd.DataFrame | None) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The gaps' attributes (their geometries are not read) and where each gap is
    (:func:`geoplan.locate.locate`), both indexed 0..n-1; (None, None) without gaps.

    ``gap_places`` is used when it is the answer for these gaps (what ``gaps.csv`` was
    written with); else the gaps are located a block of rows at a time.
    """
    if coverage is None or getattr(coverage.held("gaps"), "crs", None) is None:
        return None, None  # a frame without a CRS cannot be located
    gaps = coverage.attributes("gaps").reset_index(drop=True)
    if not len(gaps):
        return None, None
    if gap_places is not None and len(gap_places) == len(gaps):
        return gaps, gap_places.reset_index(drop=True)
    from geoplan.locate import located_blocks

    where = pd.concat([w for _, _, w in located_blocks(coverage.in_blocks("gaps"), roads)])
    return gaps, where.reset_index(drop=True)


def _places_sheet(ws: Worksheet, gaps: pd.DataFrame, where: pd.DataFrame, table: pd.DataFrame,
                  order: Sequence[str], rows: Mapping[str, Mapping[str, Any]],
                  lab: Mapping[str, str], lang: str, bulk: BulkRows | None = None) -> None:
    """The places that are gaps, each once with the standards it fails, most first
    (:func:`geoplan.gap_places.gap_places`)."""
    from geoplan.gap_places import gap_places
    from geoplan.report.people_sheets import fit_row_height

    # the short names of the sheets' tabs: a place can miss ten standards, and in English the
    # life circles' full names run to 57 characters each
    names = {sid: standard_sheet_name(sid, rows[sid], lang) for sid in order}
    places = gap_places(gaps, where, names, lang)
    places["view"] = [lab.get(f"view_{v}", v) for v in places["view"]]
    places["area_ha"] = places["area_m2"] / 10_000
    note = ws.cell(row=1, column=1, value=lab["places_note"])
    cols = [("district", None), ("view", None), ("rank", INTEGER), ("n_standards", INTEGER),
            ("standards", None), ("area_ha", "#,##0.00")]
    if population_known(table):
        cols.append(("population", INTEGER))
    cols += list(LONLAT_COLUMNS)
    widths = [_PLACE_WIDTHS[c] for c, _ in cols if c in places]
    _widths(ws, widths)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(cols))
    note.alignment = Alignment(wrap_text=True, vertical="top")
    fit_row_height(ws, 1, str(note.value), sum(widths))
    # the standards a place misses, wrapped: lists of ten and more take three lines
    _table(ws, 3, places, cols, lab, lang, bulk=bulk,
           wrap={"standards": _PLACE_WIDTHS["standards"]})
    ws.freeze_panes = "A4"
    ws.print_title_rows = "3:3"


def _standard_sheet(sws: Worksheet, sid: str, table: pd.DataFrame,
                    rows: Mapping[str, Mapping[str, Any]], gaps: pd.DataFrame | None,
                    where: pd.DataFrame | None, lab: Mapping[str, str], lang: str,
                    bulk: BulkRows | None = None) -> None:
    """One standard: every measure per district, then its gaps with where they are.

    ``where`` is :func:`geoplan.locate.locate` of every gap (indexed like ``gaps``). Every gap
    is listed, unless they would run past Excel's last row: then each district's largest
    (lowest ranks first) up to that row, with a note pointing to ``gaps.csv``.
    """
    info = rows[sid]
    sws.cell(row=1, column=1, value=standard_name(info, lang)).font = Font(bold=True, size=13)
    sws.cell(row=2, column=1, value=f"{lab['standard_id']}: {sid}")
    sws.cell(row=2, column=3, value=lab["target"])
    sws.cell(row=2, column=4, value=plain(info.get("target"))).number_format = PERCENT
    part = table.loc[table["standard"].astype(str) == sid].copy()
    if "source_title" in part and len(part):
        extra = _EXTRA_HEADERS[lang]
        year = plain(part["target_year"].iloc[0]) if "target_year" in part else None
        if year is not None:
            sws.cell(row=2, column=5, value=extra["target_year"])
            sws.cell(row=2, column=6, value=int(year))
        sws.cell(row=3, column=1, value=extra["source_title"])
        sws.cell(row=3, column=2, value=_cell_value(part["source_title"].iloc[0], "source_title",
                                                    lab, lang))
    if "meets_target" in part:  # nothing to measure: neither met nor failed
        part["meets_target"] = [lab["na"] if v is None else v for v in verdicts(part)]
    if not population_known(part) and "uncovered_population" in part:
        part["uncovered_population"] = None  # weights were land area, not people
    note = weights_label(weights_source(part), lang)
    if note and people_as_land(part):  # not a second, agreeing measure: the same one
        note += (in_unit("；各区县的人口覆盖率等于直线、步行覆盖率（人口在区县内按居住用地面积均匀分布）",
                         lab["unit"])
                 if lang == "zh" else "; here equal to the land shares in every district "
                 "(residents spread evenly over its residential land)")
    notes = {"share_population_buffer": note, "share_population_network": note} if note else {}
    basket = "n_items" in part and bool((pd.to_numeric(part["n_items"], errors="coerce") > 1).any())
    if not basket:  # one kind of facility: "at least k items" would repeat the walking share
        part = part.drop(columns=["items_no_data", "share_min_items_network"], errors="ignore")
    elif "min_items" in part:  # the k said, as the page's item table says it
        ks = sorted({int(k) for k in pd.to_numeric(part["min_items"], errors="coerce").dropna()})
        if ks:
            k = str(ks[0]) if len(ks) == 1 else f"{ks[0]}–{ks[-1]}"
            notes["share_min_items_network"] = (f"k = {k}：有数据的项目中至少 {k} 项可步行到达"
                                                if lang == "zh" else
                                                f"k = {k}: at least {k} of the items with data "
                                                "reached on foot")
    next_row = _table(sws, 4, part, STANDARD_COLUMNS, lab, lang, notes=notes or None)
    sws.row_dimensions[4].height = 80 if notes else 32  # wrapped headers show whole
    sws.freeze_panes = "B5"
    sws.print_title_rows = "4:4"
    widths = dict(zip([c for c, _ in STANDARD_COLUMNS],
                      [12, 10, 9, 11, 11, 14, 14, 12, 13, 13, 10, 9, 11, 9, 11, 12, 9, 12, 11, 16],
                      strict=True))
    _widths(sws, [widths[c] for c, _ in STANDARD_COLUMNS if c in part])
    if sws.cell(row=3, column=2).value:  # the source documents: one wrapped line, never cut
        _wrap_across(sws, 3, 2, len([c for c, _ in STANDARD_COLUMNS if c in part]))
    g = gaps.loc[gaps["standard"].astype(str) == sid] if gaps is not None else None
    if g is None or len(g) == 0 or where is None:
        return
    g = g.sort_values(["district", "view", "rank"]) if "view" in g else g
    g = g.join(where.loc[g.index])
    g["view"] = g["view"].map(lambda v: lab.get(f"view_{v}", v)) if "view" in g else ""
    g["area_ha"] = g["area_m2"] / 10_000
    cols = [("district", None), ("view", None), ("rank", INTEGER), ("area_ha", "#,##0.00")]
    if population_known(part) and "population" in g:
        cols.append(("population", INTEGER))
    sws.cell(row=next_row + 1, column=1, value=lab["gap"]).font = Font(bold=True)
    room = EXCEL_MAX_ROWS - (next_row + 2)
    if len(g) > room:  # the largest gaps of every district, and where to find the others
        total = len(g)
        keep = g.sort_values("rank", kind="stable").index[:room] if "rank" in g else g.index[:room]
        g = g.loc[g.index.isin(keep)]
        cut = in_unit(_EXTRA_HEADERS[lang]["gaps_cut"], lab["unit"])
        sws.cell(row=next_row + 1, column=2, value=cut.format(n=len(g), total=total))
    _table(sws, next_row + 2, g, [*cols, *LONLAT_COLUMNS], lab, lang, bulk=bulk)
    # the gap list is what runs over many pages: its header row repeats on each of them
    sws.print_title_rows = f"{next_row + 2}:{next_row + 2}"
    sws.row_dimensions[next_row + 2].height = 32


def _wrap_across(ws: Worksheet, row: int, first: int, last: int) -> None:
    """Merge ``row``'s cells ``first``..``last`` and wrap the text, so a long line prints whole."""
    last = max(last, first + 6)
    ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
    cell = ws.cell(row=row, column=first)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.cell(row=row, column=first - 1).alignment = WRAP  # its label ("Source documents")
    width = sum(ws.column_dimensions[get_column_letter(c)].width or 10
                for c in range(first, last + 1)) or 100
    ws.row_dimensions[row].height = 15 * (wrapped_lines(str(cell.value or ""), width) + 1)


def _items_sheet(iws: Worksheet, items: pd.DataFrame, table: pd.DataFrame,
                 rows: Mapping[str, Mapping[str, Any]], lab: Mapping[str, str], lang: str,
                 bulk: BulkRows | None = None) -> None:
    """The life circles item by item (each item's shares; items without data flagged)."""
    baskets = set(table.loc[table["n_items"] > 1, "standard"].astype(str))
    idf = items.loc[items["standard"].astype(str).isin(baskets)].copy()
    idf["standard_name"] = [standard_name(rows.get(str(x), {"standard": str(x)}), lang)
                            for x in idf["standard"]]
    names = item_names(idf, lang)
    idf["name_zh"] = [names.get(str(x), str(x)) for x in idf["item"]]  # the item, in ``lang``
    _table(iws, 1, idf, ITEM_COLUMNS, lab, lang, bulk=bulk)
    iws.freeze_panes = "A2"
    iws.print_title_rows = "1:1"
    _widths(iws, [18, 12, 28, 12, 12, 14, 10, 10])


def _sites_sheet(tws: Worksheet, sites: SiteResult, rows: Mapping[str, Mapping[str, Any]],
                 roads: gpd.GeoDataFrame | None, items: pd.DataFrame, lab: Mapping[str, str],
                 lang: str, bulk: BulkRows | None = None) -> None:
    """The suggested sites with their street and coordinates in three datums."""
    from geoplan.locate import locate

    sdf = pd.DataFrame(sites.table.drop(columns=sites.table.geometry.name)).join(
        locate(sites.table, roads))
    # standards by their sheets' names (short in English, as the gap places list them)
    sdf["standard"] = [standard_sheet_name(str(x), rows.get(str(x), {"standard": str(x)}), lang)
                       for x in sdf["standard"]]
    if "item" in sdf and not items.empty:  # life-circle items by their names
        names = item_names(items, lang)
        sdf["item"] = [names.get(str(x), str(x)) for x in sdf["item"]]
    # a standard's or an item's name wraps in its cell ("小型多功能运动（球类）场地" was cut)
    _table(tws, 1, sdf, SITE_COLUMNS, lab, lang, bulk=bulk,
           wrap={c: _SITE_WIDTHS[c] for c in ("standard", "item")})
    tws.freeze_panes = "A2"
    tws.print_title_rows = "1:1"
    _widths(tws, [_SITE_WIDTHS[c] for c, _ in SITE_COLUMNS if c in sdf])


def _sources_sheet(sws: Worksheet, title: str, data_date: str | None, sources: Sequence[str],
                   lab: Mapping[str, str]) -> None:
    lines = [(lab["analysis"], title), (lab["data_date"], data_date or "—"),
             (lab["generated"], datetime.now().strftime("%Y-%m-%d %H:%M")),
             (lab["generated_by"], f"geoplan {__version__}")]
    lines += [(lab["data_source"], source_label(s, lab["lang"], lab["unit"])) for s in sources]
    for i, (k, v) in enumerate(lines, start=1):
        sws.cell(row=i, column=1, value=k).font = Font(bold=True)
        sws.cell(row=i, column=2, value=v).alignment = Alignment(wrap_text=True)
    _widths(sws, [16, 100])


def print_setup(ws: Worksheet, lab: Mapping[str, str], used: str | None = None) -> None:
    """Print ``ws`` landscape on A4, one page wide, header rows repeated, page numbers below.

    The print area is the used range (``used``, default ``ws.dimensions``); sheets that set
    ``print_title_rows`` keep them (the standard sheets repeat their column headers, the
    tables their first row).
    """
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    # the sheet's name above and the page number below, in the margins (at the default 0.5
    # inch the name sat 0.1 inch above the table, and LibreOffice cut it in half)
    ws.page_margins.header = ws.page_margins.footer = 0.25
    ws.print_area = used or ws.dimensions
    ws.oddFooter.center.text = lab["page_of"]
    ws.oddHeader.center.text = ws.title
    _fit_header_rows(ws)


def _fit_header_rows(ws: Worksheet) -> None:
    """Make every header row (cells filled with :data:`HEADER_FILL`) tall enough for its
    wrapped headers at their columns' widths, as set by now."""
    fit_rows(ws, (c for c in ws._cells.values()  # the cells written (not the bulk rows)
                  if c.fill.fgColor.rgb == HEADER_FILL.fgColor.rgb))


def _deadends_worded(dead: gpd.GeoDataFrame | None, lang: str) -> gpd.GeoDataFrame | None:
    """The dead ends with why a rank or a detour is missing in their cells, as the district
    pages and the map say it (a blank rank told a planner nothing). Only the rows without one
    are worded, from the few columns the words need (a city has 50,000 dead ends)."""
    if dead is None or not len(dead) or "rank" not in dead:
        return dead
    from geoplan.report._deadend_words import rank_text, unreachable_text

    out = dead.copy()
    ranks = dict(zip(dead["id"].astype(str), dead["rank"], strict=True)) if "id" in dead else {}
    why = [c for c in ("rank", "category", "data_check", "pairs_with") if c in dead]
    missing = np.flatnonzero(dead["rank"].isna().to_numpy())
    rank = dead["rank"].astype(object)
    rank.iloc[missing] = [rank_text(r, lang, ranks)
                          for r in dead.iloc[missing][why].to_dict("records")]
    out["rank"] = rank
    if "detour_m" in dead and "reachable" in dead:
        missing = np.flatnonzero(dead["detour_m"].isna().to_numpy())
        detour = dead["detour_m"].astype(object)
        detour.iloc[missing] = [unreachable_text(r, lang)
                                for r in dead["reachable"].iloc[missing].tolist()]
        out["detour_m"] = detour
    return out


def _table_sheet(wb: Any, title: str, gdf: gpd.GeoDataFrame | None, columns: Any,
                 lab: Mapping[str, str], lang: str, widths: list[int],
                 bulk: BulkRows | None = None, *, auto_filter: bool = False,
                 wrap: Mapping[str, float] | None = None) -> None:
    """A sheet holding ``gdf``'s attribute table (or "none" when there is no layer); ``wrap``
    as :func:`_table` takes it (the words of a dead end's missing rank or detour)."""
    ws = wb.create_sheet(title)
    if gdf is None:
        ws.cell(row=1, column=1, value=lab["none"])
    else:
        _table(ws, 1, pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), columns, lab, lang,
               bulk=bulk, wrap=wrap)
        ws.freeze_panes = "A2"
        ws.print_title_rows = "1:1"
        if auto_filter:
            ws.auto_filter.ref = bulk.dimensions(ws) if bulk is not None else ws.dimensions
    _widths(ws, widths)
