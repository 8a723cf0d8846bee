"""Result tables as a notebook shows them: the workbook's words, headers and number formats.

A raw frame in a notebook reads ``False``, ``NaN``, ``300.000000`` and stored ids such as
``primary``; a planner reading it next to the workbook sees two different tables.
:func:`table_view` shows a results table the way the workbook's sheets do: headers in the
notebook's language, shares as percentages, metres and people as whole numbers, verdicts and
categories as words, nothing where there is no value ("—"), and every text from the data
escaped (a name from OpenStreetMap can carry markup). The formats follow the units the results'
schemas document (:mod:`geoplan.results`), so a new column is formatted by what it measures.
:func:`residents_view`, :func:`children_view` and :func:`indicators_view` show the rows of the
workbook's people sheets (:mod:`geoplan.report.people_sheets`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geoplan.report._labels import labels
from geoplan.vocab import DEFAULT_UNIT

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

__all__ = ["children_view", "column_format", "indicators_view", "residents_view", "table_view"]

_BY_UNIT = {
    "share 0–1": "{:.1%}",
    "m": "{:,.0f}", "m²": "{:,.0f}", "m² or m": "{:,.0f}", "people": "{:,.0f}",
    "people or m²": "{:,.0f}", "children": "{:,.0f}", "seats": "{:,.0f}",
    "people/km²": "{:,.0f}", "people/ha": "{:,.0f}",
    "km": "{:,.2f}", "km²": "{:,.2f}", "km/km²": "{:,.2f}", "per km²": "{:,.1f}",
    "ratio": "{:,.2f}", "seats/child": "{:.2f}", "m²/person or share 0–1": "{:.3f}",
}
"""Number format of a column by the unit its schema gives (a count of things is whole)."""

_BY_NAME = {
    "rank": "{:,.0f}", "score": "{:,.1f}", "area_ha": "{:,.2f}",
    "lon_wgs84": "{:.6f}", "lat_wgs84": "{:.6f}", "lon_gcj02": "{:.6f}", "lat_gcj02": "{:.6f}",
    "lon_bd09": "{:.6f}", "lat_bd09": "{:.6f}",
}
"""Columns whose schema gives no unit (or that no schema lists), by name."""

_EXCEL = {"0.0%": "{:.1%}", "0%": "{:.0%}", "#,##0": "{:,.0f}", "#,##0.0": "{:,.1f}",
          "0": "{:.0f}", "0.00": "{:.2f}", "0.000": "{:.3f}", "0.000000": "{:.6f}"}
"""The workbook's Excel number formats as Python formats (the people sheets' columns)."""

NO_VALUE = "—"
"""What a cell with no value shows (no demand, no population source, not measured)."""


@cache
def _schema_formats() -> dict[str, str]:
    """Column name → number format, from the units of every result schema (the coverage
    table's first where two schemas give one name different units)."""
    import geoplan.results as results
    from geoplan.results._schema import Schema

    schemas = [results.COVERAGE_TABLE] + [s for s in vars(results).values()
                                          if isinstance(s, Schema)]
    out: dict[str, str] = {}
    for schema in schemas:
        for col in schema.columns:
            fmt = _BY_UNIT.get(col.unit) or ("{:,.0f}" if col.dtype == "int" else None)
            if fmt and col.name not in out:
                out[col.name] = fmt
    return out | _BY_NAME


def column_format(name: str, values: pd.Series | None = None) -> str | None:
    """The Python number format of a results column (``'{:.1%}'`` for a share), None for text.

    Parameters
    ----------
    name
        The column's name in the results.
    values
        The column, for a column no schema documents: whole numbers then show as such, other
        numbers with two decimals (three below 1).

    Examples
    --------
    >>> column_format("share_buffer"), column_format("uncovered_area_m2"), column_format("name")
    ('{:.1%}', '{:,.0f}', None)
    """
    known = _schema_formats().get(name)
    if known or values is None or not pd.api.types.is_numeric_dtype(values) \
            or pd.api.types.is_bool_dtype(values):
        return known
    finite = values[np.isfinite(values.astype(float))]
    if not len(finite) or bool((finite == finite.round()).all()):
        return "{:,.0f}"
    return "{:,.2f}" if float(finite.abs().max()) >= 1 else "{:.3f}"


def _number(fmt: str) -> Callable[[Any], str]:
    """A cell formatter: numbers in ``fmt``, anything else (a rule such as '500/300') as text."""
    def show(value: Any) -> str:
        if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
            return str(value)
        return NO_VALUE if not math.isfinite(float(value)) else fmt.format(value)
    return show


def _words(df: pd.DataFrame, lang: str, unit: str) -> pd.DataFrame:
    """``df`` with verdicts, yes/no columns and stored categories as the workbook words them."""
    from geoplan.report.tables import labelled_column, labelled_values
    from geoplan.results.coverage import verdicts

    lab = labels(lang, unit)
    out = df.copy()
    if {"meets_target", "share_buffer"} <= set(out.columns):
        out["meets_target"] = [lab["na"] if v is None else v for v in verdicts(out)]
    for name in out.columns:
        col = out[name]
        if labelled_column(str(name)):
            out[name] = labelled_values(col, str(name), lang, unit)
        elif pd.api.types.is_bool_dtype(col) or (col.dtype == object and len(col) and all(
                isinstance(v, bool | np.bool_) or v is None for v in col)):
            out[name] = [None if v is None else lab["yes"] if v else lab["no"] for v in col]
    return out


def table_view(df: pd.DataFrame, lang: str = "zh", unit: str = DEFAULT_UNIT,
               formats: Mapping[str, str | None] | None = None,
               headers: Mapping[str, str] | None = None) -> Styler:
    """A results table as the workbook shows it, for a notebook cell.

    Parameters
    ----------
    df
        A results table or a selection of its columns (a ``geometry`` column is left out).
    lang
        'zh' or 'en': headers and words.
    unit
        What the districts are called (``layerset.unit``: 区县, 街道…).
    formats
        Python number formats by column, over those the schemas' units give.
    headers
        Column headers by column, over :func:`geoplan.notebook.column_labels`.

    Returns
    -------
    pandas.io.formats.style.Styler
        Shown by Jupyter as an HTML table without the index; texts from the data escaped.
    """
    from geoplan.notebook import column_labels

    df = df.drop(columns=[c for c in df.columns if c == "geometry"])
    shown = _words(df, lang, unit)
    names = {**column_labels([str(c) for c in df.columns], lang, unit), **(headers or {})}
    used: set[str] = set()
    heads = []
    for c in df.columns:
        head = names.get(str(c), str(c))
        heads.append(head if head not in used else f"{head} ({c})")
        used.add(heads[-1])
    fmts = {str(c): (formats or {}).get(str(c), column_format(str(c), df[c])) for c in df.columns}
    shown.columns = heads
    styler = shown.style.hide(axis="index")
    formatters: dict[Any, str | Callable[[object], str] | None] = {}
    for h, c in zip(heads, df.columns, strict=True):
        fmt = fmts[str(c)]
        formatters[h] = _number(fmt) if fmt else str
    styler = styler.format(formatters, na_rep=NO_VALUE, escape="html")
    text: list[Hashable] = [h for h, c in zip(heads, df.columns, strict=True) if not fmts[str(c)]]
    if text:
        styler = styler.set_properties(subset=text, **{"text-align": "left"})
    return styler


def _view(rows: tuple[pd.DataFrame, list[tuple[str, str | None]], dict[str, str]],
          lang: str, unit: str) -> Styler:
    df, cols, heads = rows
    names = [c for c, _ in cols if c in df.columns]
    formats = {c: _EXCEL.get(f or "", None) for c, f in cols}
    return table_view(df[names], lang, unit, formats=formats, headers=heads)


def residents_view(residents: pd.DataFrame, lang: str = "zh", unit: str = DEFAULT_UNIT
                   ) -> Styler:
    """The residents from the census per district, as the workbook's residents sheet shows
    them (``coverage.people.residents``)."""
    from geoplan.report.people_sheets import residents_rows

    return _view(residents_rows(residents, lang, unit), lang, unit)


def children_view(children: pd.DataFrame, seats: pd.DataFrame, lang: str = "zh",
                  unit: str = DEFAULT_UNIT) -> Styler:
    """School-age children and walking-reach seats per district and level, as the workbook's
    children-and-seats sheet shows them (``coverage.people.children`` and ``.seats``)."""
    from geoplan.report.people_sheets import children_rows

    return _view(children_rows(children, seats, lang, unit), lang, unit)


def indicators_view(indicators: pd.DataFrame, coverage: Any = None, lang: str = "zh",
                    unit: str = DEFAULT_UNIT) -> Styler:
    """The per-person indicators per district (``measure_indicators(...).table``), as the
    workbook's indicator sheet shows them; ``coverage`` gives each district's share inside
    the data for the Chinese notes."""
    from geoplan.report.people_html import indicator_figure, inside_shares
    from geoplan.report.people_sheets import indicator_rows

    df, cols, heads = indicator_rows(indicators, lang, unit, inside_shares(coverage))
    for col in ("value", "target"):  # a share in %, an area per person with its unit
        df[col] = [indicator_figure(v, str(u), lang)
                   for v, u in zip(df[col], df["unit"], strict=True)]
    return _view((df, [(c, None if c in ("value", "target") else f) for c, f in cols], heads),
                 lang, unit)
