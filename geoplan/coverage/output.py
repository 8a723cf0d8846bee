"""Writing and printing coverage results (CSV with BOM, one GeoPackage, a terminal table)."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geoplan._io import ensure_writable_dir, write_csv, write_gpkg

if TYPE_CHECKING:
    from geoplan.coverage import CoverageResult

__all__ = ["format_table", "write_coverage", "write_people"]

logger = logging.getLogger(__name__)


def write_coverage(result: CoverageResult, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``coverage.csv`` and ``coverage.gpkg`` into ``out_dir``.

    Parameters
    ----------
    result
        What :func:`geoplan.coverage.run_coverage` returned.
    out_dir
        The output folder (created if needed).

    Returns
    -------
    dict of str to pathlib.Path
        ``{"csv": ..., "gpkg": ...}``.

    Notes
    -----
    ``coverage.csv`` is UTF-8 with a byte-order mark so that Excel shows the Chinese names.
    ``coverage.gpkg`` holds the layers ``districts`` (with ``share_buffer__<id>`` and
    ``share_network__<id>`` columns), ``facilities``, ``reached``, ``gaps`` and ``street_gaps``
    (uncovered street lines of the toilet standards). Both files are written atomically: a
    failure leaves no half-written file.
    """
    out = ensure_writable_dir(out_dir)
    csv = write_csv(result.table, out / "coverage.csv")
    gpkg = write_gpkg(
        {
            "districts": result.districts,
            "facilities": result.facilities,
            "reached": result.reached,
            "gaps": result.gaps,
            **({"street_gaps": result.street_gaps} if result.street_gaps is not None else {}),
        },
        out / "coverage.gpkg",
    )
    return {"csv": csv, "gpkg": gpkg, **write_people(result, out)}


def write_people(result: CoverageResult, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``indicators.csv`` (when measured) and the people tables when the run had people.

    ``residents.csv`` (census estimate per district), ``children.csv`` (school-age children
    beyond the radius), ``seats.csv`` (seats reached and 学位缺口) and ``school_seats.csv``
    (seats per school).

    Returns
    -------
    dict of str to pathlib.Path
        The files written (none without people).
    """
    out = ensure_writable_dir(out_dir)
    written = {}
    if result.indicators is not None:
        written["indicators"] = write_csv(_as_text(result.indicators.table), out / "indicators.csv")
    people = result.people
    if people is None:
        return written
    return written | {name: write_csv(_as_text(getattr(people, attr)), out / f"{name}.csv")
                      for name, attr in (("residents", "residents"), ("children", "children"),
                                         ("seats", "seats"), ("school_seats", "schools"))}


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would read as a formula (=, +, -, @ first) get a leading '."""
    out = frame.copy()
    for col in out.columns:
        text = pd.api.types.is_object_dtype(out[col]) or pd.api.types.is_string_dtype(out[col])
        if text:
            out[col] = [("'" + v) if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v
                        for v in out[col]]
    return out


def _pct(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100.0 * value:.1f}%"


def format_table(table: pd.DataFrame) -> str:
    """The coverage table for the terminal: one line per standard × district.

    Parameters
    ----------
    table
        :attr:`CoverageResult.table`.

    Returns
    -------
    str
        Columns: standard, district, target, buffer share, network share, population shares
        (buffer / network), and a mark where the official (buffer) share meets the target.
    """
    if len(table) == 0:
        return "(no coverage results)"
    rows = []
    for _, r in table.iterrows():  # a few dozen rows: a table for people, not a hot path
        rows.append({
            "standard": r["standard"],
            "district": r["district"],
            "radius": str(r["radius_m"]).removesuffix(".0"),
            "target": _pct(r["target"]),
            "buffer": _pct(r["share_buffer"]),
            "network": _pct(r["share_network"]),
            "pop_buffer": _pct(r["share_population_buffer"]),
            "pop_network": _pct(r["share_population_network"]),
            "meets": "yes" if r["meets_target"] else "no",
        })
    frame = pd.DataFrame(rows)
    headers = {"standard": "standard", "district": "district", "radius": "radius m",
               "target": "target", "buffer": "buffer", "network": "network",
               "pop_buffer": "pop. buffer", "pop_network": "pop. network", "meets": "meets"}

    def width(text: str) -> int:  # CJK characters take two terminal columns
        return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)

    widths = {c: max(width(headers[c]), *(width(str(v)) for v in frame[c])) for c in headers}
    left = {"standard", "district"}

    def cell(col: str, text: str) -> str:
        pad = " " * (widths[col] - width(text))
        return text + pad if col in left else pad + text

    lines = ["  ".join(cell(c, headers[c]) for c in headers)]
    lines.append("  ".join("-" * widths[c] for c in headers))
    previous = None
    for _, r in frame.iterrows():
        if previous is not None and r["standard"] != previous:
            lines.append("")
        previous = r["standard"]
        lines.append("  ".join(cell(c, str(r[c])) for c in headers))
    sources = table["population_source"].dropna().unique()
    lines.append("")
    lines.append("buffer = share of residential land (street length for toilets) inside straight-line "
                 "buffers (official indicator); network = within the radius by walking.")
    lines.append("population weights: " + ", ".join(str(s) for s in sources))
    return "\n".join(lines)
