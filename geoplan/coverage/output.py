"""Writing and printing coverage results (CSV with BOM, one GeoPackage, a terminal table)."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geoplan._io import LayerBlocks, ensure_writable_dir, write_csv, write_gpkg
from geoplan._text import columns_of
from geoplan.results._spill import SpilledFrame
from geoplan.results.coverage import item_names, items_in, verdict
from geoplan.vocab import DEFAULT_UNIT

if TYPE_CHECKING:
    from collections.abc import Callable

    import geopandas as gpd

    from geoplan.coverage import CoverageResult

__all__ = ["format_items", "format_table", "write_coverage", "write_people"]

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
        ``{"csv": ..., "gpkg": ...}``, and ``"items_csv"`` when there are item rows.

    Notes
    -----
    Each GeoPackage layer has its QGIS style in the map's colours, with Chinese field aliases,
    in the table ``layer_styles`` (:mod:`geoplan.report.qgis_styles`).
    ``coverage_items.csv`` holds the coverage of every facility item (the life circles item
    by item, :data:`geoplan.results.ITEMS`). The CSV files are UTF-8 with a byte-order mark
    so that Excel shows the Chinese names.
    ``coverage.gpkg`` holds the layers ``districts`` (with ``share_buffer__<id>`` and
    ``share_network__<id>`` columns), ``facilities``, ``reach_areas`` (the walking reach of each
    standard per district, as polygons), ``reached`` (the walked network edge by edge, when the
    result kept it: ``gpkg.reached_edges``, by default up to
    :data:`~geoplan.coverage.reached.REACHED_EDGES_AUTO_MAX` walking-graph edges), ``gaps`` and
    ``street_gaps`` (uncovered street lines of the toilet standards), and ``item_gaps`` (land
    outside each life-circle item's buffers where it misses the target), and ``walk_bands``
    (homes by walking distance to the nearest facility: within the radius, up to 1.5 ×,
    beyond). Both files are written atomically: a failure leaves no half-written file.
    """
    out = ensure_writable_dir(out_dir)
    csv = write_csv(result.table, out / "coverage.csv")
    extra = {}
    if len(result.items):
        extra["items_csv"] = write_csv(result.items, out / "coverage_items.csv")
    from geoplan.report.qgis_styles import styler

    table = result.table
    first = table.drop_duplicates("standard") if "standard" in table else table.iloc[:0]
    targets = dict(zip(first["standard"], first["target"], strict=True)) if len(first) else {}
    names = (dict(zip(first["standard"], first["name_zh"], strict=True))
             if "name_zh" in first and len(first) else {})
    kept = result.meta.get("reached_edges", {}) if isinstance(result.meta, dict) else {}
    reached = {"reached": result.reached} if kept.get("kept", True) else {}
    if not reached:
        logger.info("coverage.gpkg: the walked network edge by edge (%d pieces) is left out "
                    "(gpkg.reached_edges: %s); the layer reach_areas holds the walking reach",
                    kept.get("rows", 0), kept.get("setting", "auto"))
    # the frames a city's run holds on disk are read one at a time, as each is written
    gpkg = write_gpkg(
        {
            "districts": result.districts,
            "facilities": result.facilities,
            **reached,
            **{name: _reader(result, name) for name in ("gaps", "street_gaps", "item_gaps",
                                                        "walk_bands", "reach_areas")
               if name in ("gaps", "street_gaps") or len(result.held(name))},
        },
        out / "coverage.gpkg",
        styles=styler(targets, names, unit=result.meta.get("unit", DEFAULT_UNIT)),
    )
    return {"csv": csv, "gpkg": gpkg, **extra, **write_people(result, out)}


def _reader(result: CoverageResult, name: str
            ) -> Callable[[], gpd.GeoDataFrame] | LayerBlocks:
    """Frame ``name`` for :func:`~geoplan._io.write_gpkg`: a block of rows at a time when held
    on disk (a city's gaps are never in memory whole), else read when written."""
    if isinstance(result.held(name), SpilledFrame):
        return LayerBlocks(lambda: result.in_blocks(name), result.geometry_kinds(name))
    return lambda: getattr(result, name)


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
        written["indicators"] = write_csv(result.indicators.table, out / "indicators.csv")
    people = result.people
    if people is None:
        return written
    return written | {name: write_csv(getattr(people, attr), out / f"{name}.csv")
                      for name, attr in (("residents", "residents"), ("children", "children"),
                                         ("seats", "seats"), ("school_seats", "schools"))}




def _pct(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100.0 * value:.1f}%"


def _year(row: pd.Series) -> str:
    year = row.get("target_year")
    return "" if year is None or pd.isna(year) else f" ({int(year)})"


_width = columns_of

_ITEM_WORDS = {
    "en": {"head": "{sid} {name}: {radius} m, target {target}{year}; straight-line / walking "
                   "share per item", "item": "item", "no_data": "no data", "all": "all items with data",
           "k_of_n": "at least {k} of {n} with data", "network": "network {share}",
           "none": "no data for {items} (left out of the shares above)"},
    "zh": {"head": "{sid} {name}：半径 {radius} 米，目标 {target}{year}；各项直线 / 步行覆盖率",
           "item": "项目", "no_data": "无数据", "all": "有数据的各项均可达",
           "k_of_n": "有数据的 {n} 项中至少 {k} 项", "network": "步行 {share}",
           "none": "无数据：{items}（不计入上面的覆盖率）"},
}
"""The words of :func:`format_items` per language."""


def format_items(items: pd.DataFrame, table: pd.DataFrame, lang: str = "en") -> str:
    """The life circles item by item for the terminal: each item's buffer / walking share per
    district, the share with every item and with at least k of n, and the items without data.

    Parameters
    ----------
    items
        :attr:`CoverageResult.items`.
    table
        :attr:`CoverageResult.table` (for the basket shares and ``items_no_data``).

    lang
        'en' or 'zh' (the standards and items named in it).

    Returns
    -------
    str
        One block per standard with more than one item; ``""`` when there is none.
    """
    if items is None or len(items) == 0 or "n_items" not in table.columns:
        return ""
    w = _ITEM_WORDS["zh" if lang == "zh" else "en"]
    baskets = table.loc[table["n_items"] > 1, "standard"].drop_duplicates().tolist()
    districts = list(dict.fromkeys(table["district"].astype(str)))
    blocks = []
    for sid in baskets:
        part = table.loc[table["standard"] == sid].set_index("district")
        first = part.iloc[0]
        mine = items.loc[items["standard"] == sid]
        named = item_names(mine, lang)
        ids = list(dict.fromkeys(mine["item"].astype(str)))
        names = [named[i] for i in ids]
        wname = max(_width(n) for n in [*names, w["k_of_n"].format(k=99, n=99), w["all"]])
        # "100.0% / 100.0%" is 15 wide: narrower columns ran two districts' cells together
        wcell = max(15, *(_width(d) for d in districts))

        def line(label: str, cells: list[str], wname: int = wname, wcell: int = wcell) -> str:
            pad = " " * (wname - _width(label))
            return label + pad + "".join(" " * max(2, wcell - _width(c) + 2) + c for c in cells)

        radius = str(first["radius_m"]).removesuffix(".0")
        title = first["name_zh"] if lang == "zh" else first.get("name_en", first["name_zh"])
        head = w["head"].format(sid=sid, name=title, radius=radius,
                                target=_pct(first["target"]), year=_year(first))
        out = [head, line(w["item"], districts)]
        for item, name in zip(ids, names, strict=True):
            rows = mine.loc[mine["item"].astype(str) == item].set_index("district")
            cells = []
            for d in districts:
                r = rows.loc[d] if d in rows.index else None
                if r is None:
                    cells.append("–")
                elif bool(r["no_data"]):
                    cells.append(w["no_data"])
                else:
                    cells.append(f"{_pct(r['share_buffer'])} / {_pct(r['share_network'])}")
            out.append(line(name, cells))
        out.append(line(w["all"],
                        [f"{_pct(part.loc[d, 'share_buffer'])} / {_pct(part.loc[d, 'share_network'])}"
                         for d in districts]))
        k = int(first["min_items"])
        n_data = int((~mine.drop_duplicates("item")["no_data"].astype(bool)).sum())
        out.append(line(w["k_of_n"].format(k=k, n=n_data),
                        [w["network"].format(share=_pct(part.loc[d, "share_min_items_network"]))
                         for d in districts]))
        if first["items_no_data"]:
            missing = items_in(str(first["items_no_data"]), mine, lang)
            out.append(w["none"].format(items=missing))
        blocks.append("\n".join(out))
    return "\n\n".join(blocks)


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
            "target": _pct(r["target"]) + _year(r),
            "buffer": _pct(r["share_buffer"]),
            "network": _pct(r["share_network"]),
            "pop_buffer": _pct(r["share_population_buffer"]),
            "pop_network": _pct(r["share_population_network"]),
            "meets": {True: "yes", False: "no", None: "n/a"}[
                verdict(r["meets_target"], r["share_buffer"])],
            "no_data": str(r.get("items_no_data") or ""),
        })
    frame = pd.DataFrame(rows)
    headers = {"standard": "standard", "district": "district", "radius": "radius m",
               "target": "target", "buffer": "buffer", "network": "network",
               "pop_buffer": "pop. buffer", "pop_network": "pop. network", "meets": "meets",
               "no_data": "no data for"}
    width = _width

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
