"""Batch gap reports: one HTML page per district, an index page, and the Excel workbook.

:func:`write_reports` writes::

    <out>/reports/index.html          every district × standard, pass/fail, links
    <out>/reports/<NN>-<slug>.html    one page per district (slug: adcode or ASCII name)
    <out>/geoplan_report.xlsx         summary, one sheet per standard, dead ends

A district page lists each standard's target, the buffer / walking-network / population
shares, pass or fail, the uncovered area and people, the five largest gaps with a small SVG map
each, the district's dead-end roads and the best openings, and the data sources and date.
Pages are self-contained (styles and SVG maps inline), so the folder can be copied anywhere.

File names are ASCII slugs, safe on every file system; the real (Chinese) district name is
inside the page. A district whose page fails is logged and listed in the index; the other
districts are still written. Every file is replaced atomically, and pages of districts that
are no longer in the analysis are removed on a rerun.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import traceback
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import pandas as pd
import shapely

from geoplan._io import atomic_path, ensure_writable_dir
from geoplan._processes import process_map
from geoplan._text import share_text
from geoplan._version import __version__
from geoplan.chinese_coords import wgs84_to_gcj02
from geoplan.report._data import (
    census_citation,
    coverage_class,
    district_slugs,
    fmt_number,
    fmt_share,
    frame,
    geoframe,
    plain,
    standard_rows,
    standards_order,
)
from geoplan.report._deadend_words import rank_text, unreachable_text
from geoplan.report._explain import partial_note, standard_notes
from geoplan.report._explain import words as explain_words
from geoplan.report._labels import (
    labels,
    population_note,
    source_label,
    standard_name,
    unit_of,
    value_label,
    weights_label,
)
from geoplan.report.people_html import PeopleParts, people_section
from geoplan.report.static_maps import DistrictOutline, gap_svg, gap_view_box
from geoplan.report.tables import (
    gap_rows,
    population_known,
    standard_sheet_name,
    weights_source,
    write_workbook,
)
from geoplan.results import CoverageResult, item_names, items_in, verdict
from geoplan.results._spill import SpilledFrame
from geoplan.results.coverage import partial_districts
from geoplan.vocab import MIN_STREET_GAP_M

if TYPE_CHECKING:
    import geopandas as gpd

    from geoplan.config import AnalysisConfig
    from geoplan.layers.layerset import LayerSet
    from geoplan.results import DeadEndResult, SiteResult


logger = logging.getLogger(__name__)

N_GAPS = 5
"""Gaps shown (with a map each) per standard on a district page."""
N_PLACES = 5
"""How many places missing several standards a district page lists (the workbook has all)."""
N_DEADENDS = 15
"""Dead-end roads listed per district page."""
N_CANDIDATES = 10
"""Suggested openings listed per district page."""
WORKBOOK_NAME = "geoplan_report.xlsx"
_MANIFEST = ".geoplan-reports.json"


class ReportFiles(dict[str, Path]):
    """The files :func:`write_reports` wrote: key -> path.

    Keys: ``'index'``, ``'workbook'`` and each district's slug. ``failures`` maps the name of
    every district whose page could not be written to the error message.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.failures: dict[str, str] = {}


def template_environment() -> jinja2.Environment:
    """The report pages' templates (``geoplan/report/templates``): every value escaped, an
    unknown name an error."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("geoplan.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )


def _provenance(config: AnalysisConfig | None) -> dict[str, str]:
    """Standard id -> its sources by full document title and clause, when a config is given."""
    if config is None:
        return {}
    try:
        from geoplan.standards import check_config_standards, standard_source_title

        out = {}
        for std in check_config_standards(config):
            text = standard_source_title(std)
            if text:
                out[std.id] = text
        return out
    except Exception as exc:  # provenance is a nicety: never fail the report for it
        logger.debug("no standard provenance: %s", exc)
        return {}


def _items(ctx: _Context, district: str, sid: str, rec: Mapping[str, Any]) -> dict[str, Any]:
    """A life circle's items for one district: each item's shares, and the items without data."""
    items = ctx.items
    if items is None or items.empty or int(plain(rec.get("n_items")) or 1) < 2:
        return {"item_rows": [], "items_no_data": "", "items_k": ""}
    mine = ctx.item_parts.get((sid, district), items.iloc[0:0])
    lab = ctx.lab
    names = ctx.item_names
    rows = [{"name": names.get(str(r["item"]), str(r["name_zh"])),
             "share_buffer": lab["no_data"] if bool(r["no_data"]) else fmt_share(r["share_buffer"]),
             "share_network": lab["no_data"] if bool(r["no_data"]) else fmt_share(r["share_network"]),
             "no_data": bool(r["no_data"])} for _, r in mine.iterrows()]
    missing = items_in(str(rec.get("items_no_data") or ""), mine, ctx.lang)
    n_data = sum(not r["no_data"] for r in rows)
    k = plain(rec.get("min_items"))
    return {
        "item_rows": rows,
        "items_no_data": lab["no_data_for"].format(items=missing) if missing else "",
        "items_k": (lab["k_of_n"].format(k=k, n=n_data) + ": "
                    + fmt_share(rec.get("share_min_items_network"))) if k else "",
    }


def _by_standard_district(df: pd.DataFrame | None) -> dict[tuple[str, str], pd.DataFrame]:
    """The rows of ``df`` per (standard, district), grouped once (row order kept)."""
    if df is None or df.empty or not {"standard", "district"} <= set(df.columns):
        return {}
    keys = [df["standard"].astype(str), df["district"].astype(str)]
    return {(str(a), str(b)): part for (a, b), part in df.groupby(keys, sort=False)}


def _by_district(df: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """The rows of ``df`` per district, grouped once (row order kept)."""
    if df is None or df.empty or "district" not in df:
        return {}
    return {str(k): part for k, part in df.groupby(df["district"].astype(str), sort=False)}


class _Context:
    """Everything shared by the district pages, prepared once."""

    def __init__(self, layerset: LayerSet, coverage: CoverageResult | None,
                 deadends: DeadEndResult | None, config: AnalysisConfig | None,
                 lang: str, gap_view: str, sites: SiteResult | None = None) -> None:
        self.coverage = coverage
        self.lang = lang
        self.unit = unit_of(layerset, coverage)
        self.check_notes: dict[str, list[str]] = {}  # district_check_notes, set by the writer
        self.place_rows: dict[str, list[dict[str, Any]]] = {}  # _place_rows, set by the writer
        self.lab = labels(lang, self.unit)
        self.table = frame(coverage, "table")
        self.order = standards_order(coverage)
        self.rows = standard_rows(coverage)
        # a city's gaps and reach areas held on disk are read page by page, never whole
        self._gaps_on_disk = _on_disk(coverage, "gaps")
        self._reach_on_disk = _on_disk(coverage, "reach_areas")
        self._gap_rows: dict[str, np.ndarray] = {}  # district -> its rows of the gaps
        self._page_gaps: dict[str, pd.DataFrame] = {}  # this page's gaps by standard
        self._no_gaps = pd.DataFrame()
        self._page_box: tuple[float, ...] | None = None  # the page's reach parts read for it
        self._page_reach: pd.DataFrame | None = None
        self._page_trees: dict[str, tuple[np.ndarray, shapely.STRtree]] = {}
        self.gaps = geoframe(coverage, "gaps") if self._gaps_on_disk is None else None
        self.gap_view = gap_view
        self.reached = geoframe(coverage, "reached")
        self.facilities = geoframe(coverage, "facilities")
        self.dead = geoframe(deadends, "dead_ends")
        self.cand = geoframe(deadends, "candidates")
        self.sites = (sites.table.reset_index(drop=True) if sites is not None and len(sites)
                      else None)
        # every site in WGS 84 once (not one transformation per district and standard)
        self.site_lonlat = (self.sites.geometry.to_crs("EPSG:4326") if self.sites is not None
                            else None)
        roads = layerset.layers.get("roads")
        self.roads = roads.geometry.to_numpy() if roads is not None and len(roads) else None
        self.road_names = (roads["name"].fillna("").astype(str).to_numpy()
                           if roads is not None and len(roads) and "name" in roads else None)
        # indexes, so each thumbnail looks only at what lies near it (never the whole city)
        self.road_tree = shapely.STRtree(self.roads) if self.roads is not None else None
        self._gap_groups: dict[tuple[str, str], pd.DataFrame] | None = None
        self._near: dict[tuple[str, str], tuple[np.ndarray, shapely.STRtree]] = {}
        self.provenance = _provenance(config)
        self.items = frame(coverage, "items")
        # each page's rows looked up, not filtered out of the whole table per standard
        self.table_parts = _by_standard_district(self.table)
        self.item_parts = _by_standard_district(self.items)
        # street standards' gaps are lines: each page gives their number, total and longest
        self.street_gap_summary = _street_gap_summary(coverage)
        # each page's dead ends and openings looked up, not filtered out of the city's
        self.dead_parts = _by_district(self.dead)
        self.cand_parts = _by_district(self.cand)
        self.item_names: dict[str, str] = item_names(self.items, lang)
        self.site_parts = _by_standard_district(self.sites)
        self.people_parts = PeopleParts(coverage)
        self.analysis = getattr(config, "name", None) or "geoplan"
        osm = getattr(config, "osm", None)
        self.data_date = getattr(osm, "date", None)
        self.sources = [source_label(s, lang, self.unit)
                        for s in getattr(layerset, "sources", []) or []]
        census = census_citation(coverage, lang)
        if census:
            self.sources.append(census)
        meta = getattr(coverage, "meta", None)
        meta = meta if isinstance(meta, dict) else {}
        # the population weights used: named next to the population shares, and in the sources
        self.weights = weights_source(self.table)
        self.weights_note = weights_label(self.weights, lang)
        self.population_note = population_note(
            meta.get("population_note"), meta.get("population_source") or self.weights, lang)
        self.generated = datetime.now().strftime("%Y-%m-%d %H:%M")
        dist = layerset.districts
        self.inside_share = (dict(zip(dist["district"].astype(str), dist["inside_share"],
                                      strict=True)) if "inside_share" in dist else {})

    def prepare(self) -> None:
        """Build the lookups the pages would otherwise build on first use."""
        if self.gaps is not None:
            self._gap_parts()
        if self._gaps_on_disk is not None:
            a = self._gaps_on_disk.attrs
            groups: dict[Any, Any] = a.groupby(a["district"].astype(str)).indices
            self._gap_rows = {str(d): np.asarray(rows) for d, rows in groups.items()}
        for sid in self.order:
            self._near_index("facilities", sid)
            if self._reach_on_disk is None:
                self._near_index("reach", sid)

    @property
    def has_gaps(self) -> bool:
        """Whether the coverage has gaps to show."""
        return self.gaps is not None or self._gaps_on_disk is not None

    def start_page(self, district: str, geom: Any) -> None:
        """A district's page begins: what it needs of the frames held on disk is read in one
        go each (its gaps; the reach parts around it), what the last page read let go."""
        self._page_box, self._page_reach, self._page_trees = None, None, {}
        if self._gaps_on_disk is not None:
            rows = self._gap_rows.get(district, np.zeros(0, dtype=np.intp))
            mine = self._gaps_on_disk.take(rows).load()
            self._page_gaps = dict(iter(mine.groupby(mine["standard"].astype(str))))
            self._no_gaps = mine.iloc[0:0]
        if self._reach_on_disk is not None and geom is not None:
            # grown so that every gap thumbnail's view fits (a view passes its gap's bounds
            # by at most 0.55 of the gap's size); a view that does not is read again
            minx, miny, maxx, maxy = geom.bounds
            grow = 0.6 * max(maxx - minx, maxy - miny, 150.0)
            self._read_reach((minx - grow, miny - grow, maxx + grow, maxy + grow))

    def gaps_of(self, sid: str, district: str) -> pd.DataFrame:
        """The gap rows of one standard in one district (grouped once for all pages)."""
        if self._gaps_on_disk is not None:  # the page's own, read by start_page
            return self._page_gaps.get(sid, self._no_gaps)
        assert self.gaps is not None
        return self._gap_parts().get((sid, district), self.gaps.iloc[0:0])

    def _gap_parts(self) -> dict[tuple[str, str], pd.DataFrame]:
        if self._gap_groups is None:
            g = self.gaps
            assert g is not None
            self._gap_groups = {(str(a), str(b)): part for (a, b), part in
                                g.groupby([g["standard"].astype(str), g["district"].astype(str)])}
        return self._gap_groups

    def near(self, what: str, sid: str, view: Any) -> list[Any]:
        """Reach-area parts (``what="reach"``) or facility points of ``sid`` meeting ``view``'s
        bounds, in row order."""
        if what == "reach" and self._reach_on_disk is not None:
            geoms, tree = self._page_reach_index(sid, tuple(view.bounds))
        else:
            geoms, tree = self._near_index(what, sid)
        return list(geoms[np.sort(tree.query(view))]) if len(geoms) else []

    def _page_reach_index(self, sid: str, box: tuple[float, ...]
                          ) -> tuple[np.ndarray, shapely.STRtree]:
        """The reach parts of ``sid`` around this page whose bounds may meet ``box``, in row
        order (as the city-wide index gives them)."""
        if self._page_box is None or not _inside(box, self._page_box):
            self._read_reach(box if self._page_box is None else _union(self._page_box, box))
        if sid not in self._page_trees:
            part = self._page_reach
            assert part is not None
            geoms = part.geometry.to_numpy()[(part["standard"].astype(str) == sid).to_numpy()]
            self._page_trees[sid] = (geoms, shapely.STRtree(geoms))
        return self._page_trees[sid]

    def _read_reach(self, box: tuple[float, ...]) -> None:
        """Every standard's reach parts whose bounds meet ``box``, read from disk."""
        held = self._reach_on_disk
        assert held is not None
        self._page_box, self._page_trees = box, {}
        self._page_reach = held.load(held.rows_meeting(box))  # type: ignore[arg-type]

    def _near_index(self, what: str, sid: str) -> tuple[np.ndarray, shapely.STRtree]:
        key = (what, sid)
        if key not in self._near:
            frame_ = (getattr(self.coverage, "reach_areas", None) if what == "reach"
                      else self.facilities)
            geoms = np.zeros(0, dtype=object)
            if frame_ is not None and len(frame_) and "standard" in frame_:
                geoms = frame_.loc[frame_["standard"].astype(str) == sid].geometry.to_numpy()
            self._near[key] = (geoms, shapely.STRtree(geoms))
        return self._near[key]


def _on_disk(coverage: CoverageResult | None, name: str) -> SpilledFrame | None:
    """Frame ``name`` of ``coverage`` when it is held on disk and has rows, else None."""
    if not isinstance(coverage, CoverageResult):
        return None
    held = coverage.held(name)
    return held if isinstance(held, SpilledFrame) and len(held) else None


def _inside(box: tuple[float, ...], outer: tuple[float, ...]) -> bool:
    return outer[0] <= box[0] and outer[1] <= box[1] and box[2] <= outer[2] and box[3] <= outer[3]


def _union(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _uncovered(rec: Mapping[str, Any], lab: Mapping[str, str]) -> str:
    """The uncovered area in hectares, or for street standards the uncovered street length (m)."""
    area, length = plain(rec.get("uncovered_area_m2")), plain(rec.get("uncovered_length_m"))
    zh = lab["lang"] == "zh"
    if area is None and length is not None:
        return f"{fmt_number(length)} {'米' if zh else 'm'}"
    if area is None:
        return "—"
    return f"{fmt_number(area / 10_000, 2)} {'公顷' if zh else 'ha'}"


def _sites(ctx: _Context, district: str, sid: str) -> list[dict[str, str]]:
    """Suggested sites of one district and standard, best first, for the page."""
    if ctx.sites is None:
        return []
    part = ctx.site_parts.get((sid, district), ctx.sites.iloc[0:0])
    if len(part) == 0:
        return []
    keys = [k for k in ("item", "rank") if k in part]
    part = part.sort_values(keys) if keys else part
    assert ctx.site_lonlat is not None
    lonlat = ctx.site_lonlat.loc[part.index]
    # a life circle's sites are per item: name the item
    names = ctx.item_names if "item" in part else {}
    points = lonlat.to_numpy()
    gcj = np.column_stack(wgs84_to_gcj02(shapely.get_x(points), shapely.get_y(points)))
    # items with the same site, rank and figures share a row: where a district has none of
    # several items, each item's best site is the same place (锦江区's 五分钟生活圈: 34 site
    # rows of 7 items, 9 places), and one row naming them says a site can hold them together
    rows: dict[tuple[str, ...], dict[str, Any]] = {}
    for (_, r), pt, (glon, glat) in zip(part.iterrows(), lonlat, gcj, strict=True):
        item = str(r.get("item") or "")
        row = {
            "rank": fmt_number(r.get("rank")),
            "covered": (fmt_number(plain(r.get("covered_length_m")))
                        if plain(r.get("covered_length_m")) is not None
                        else fmt_number((plain(r.get("covered_m2")) or 0) / 10_000, 2)),
            "before": fmt_share(r.get("share_before")), "after": fmt_share(r.get("share_after")),
            "lonlat": f"{pt.x:.6f}, {pt.y:.6f}", "lonlat_gcj02": f"{glon:.6f}, {glat:.6f}",
        }
        key = tuple(row.values())
        rows.setdefault(key, {**row, "items": []})["items"].append(names.get(item, item))
    joiner = "、" if ctx.lang == "zh" else ", "
    # the items in a column of their own (in the rank's cell they made it most of the table's
    # width in print, under the header 排名)
    return [{**{k: v for k, v in row.items() if k != "items"},
             "item_names": joiner.join(dict.fromkeys(i for i in row["items"] if i))}
            for row in rows.values()]


def _year_text(rec: Mapping[str, Any], lab: Mapping[str, str]) -> str:
    year = plain(rec.get("target_year"))
    return lab["target_year"].format(year=int(year)) if year is not None else ""


def _street_gap_summary(coverage: CoverageResult | None
                        ) -> dict[tuple[str, str, str], tuple[int, float, np.ndarray]]:
    """Per (standard, district, view) of the street gaps: their number, total length and the
    :data:`N_GAPS` longest lengths, longest first (made once; a city has millions of pieces)."""
    if coverage is None:
        return {}
    lines = coverage.attributes("street_gaps")
    if lines.empty or not {"standard", "district", "length_m"} <= set(lines.columns):
        return {}
    s_codes, s_names = pd.factorize(lines["standard"].astype(str))
    d_codes, d_names = pd.factorize(lines["district"].astype(str))
    v_codes, v_names = pd.factorize(lines["view"].astype(str) if "view" in lines
                                    else pd.Series(["buffer"] * len(lines)))
    nd, nv = max(len(d_names), 1), max(len(v_names), 1)
    key = (s_codes.astype(np.int64) * nd + d_codes) * nv + v_codes
    length = lines["length_m"].to_numpy(dtype=float)
    order = np.lexsort((-length, key))  # by group, longest first
    key, length = key[order], length[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(key)]
    totals = np.add.reduceat(length, starts)
    summary = {}
    for lo, hi, total in zip(starts.tolist(), ends.tolist(), totals.tolist(), strict=True):
        k = int(key[lo])
        name = (str(s_names[k // (nd * nv)]), str(d_names[k // nv % nd]), str(v_names[k % nv]))
        summary[name] = (hi - lo, total, length[lo:min(hi, lo + N_GAPS)])
    return summary


def _street_gaps_text(ctx: _Context, district: str, sid: str) -> str:
    """A street standard's gaps in one district in words: how many uncovered street stretches,
    their total length and the longest, in the report's view ("" where there are none)."""
    view = ctx.gap_view
    found = ctx.street_gap_summary.get((sid, district, view))
    if found is None:
        view = "buffer"
        found = ctx.street_gap_summary.get((sid, district, view))
    if found is None or not found[0]:
        return ""
    count, total, longest = found
    view_name = ctx.lab.get(f"view_{view}", view)
    if ctx.lang == "zh":
        top = "、".join(f"{fmt_number(v)} 米" for v in longest)
        # the stretches listed are those of MIN_STREET_GAP_M or more: their total can fall a
        # few metres short of the length the shares leave uncovered
        return (f"缺口在街道上（{ctx.lab['view']}：{view_name}）：未覆盖的街道"
                f"（{MIN_STREET_GAP_M:g} 米及以上的段）共 {count} 段、"
                f"{fmt_number(total)} 米，最长的 {len(longest)} 段为 {top}。逐段位置见会议地图"
                "（选中本标准时的「未覆盖街道」红线）与 coverage.gpkg 的 street_gaps 图层。")
    top = ", ".join(f"{fmt_number(v)} m" for v in longest)
    return (f"The gaps are along streets ({ctx.lab['view']}: {view_name}): {count} "
            f"uncovered stretches of {MIN_STREET_GAP_M:g} m or more, {fmt_number(total)} m in "
            "all; the longest "
            f"{len(longest)}: {top}. Each stretch is on the meeting map (the red \"Uncovered "
            "streets\" lines of this standard) and in the street_gaps layer of coverage.gpkg.")


def _standard_entry(ctx: _Context, district: str, geom: Any, sid: str) -> dict[str, Any]:
    lab = ctx.lab
    row_df = ctx.table_parts.get((sid, district), ctx.table.iloc[0:0])
    info = ctx.rows[sid]
    rec: Mapping[str, Any] = ({str(k): v for k, v in row_df.iloc[0].items()} if len(row_df) else {})
    people = population_known(row_df)
    meets = verdict(rec.get("meets_target"), rec.get("share_buffer"))
    status = "na" if meets is None else "pass" if meets else "fail"
    entry: dict[str, Any] = {
        "id": sid, "name": standard_name(info, ctx.lang),
        "radius": fmt_number(info.get("radius_m")),
        "target": fmt_share(info.get("target")) + _year_text(rec, ctx.lab),
        "share_buffer": fmt_share(rec.get("share_buffer")),
        "share_network": fmt_share(rec.get("share_network")),
        # shown whatever the weights (named in the header); "—" only where there is no value
        "share_population_buffer": fmt_share(rec.get("share_population_buffer")),
        "share_population_network": fmt_share(rec.get("share_population_network")),
        "people": people,
        "status": status, "status_text": lab.get(status, "—"),
        "uncovered_area": _uncovered(rec, lab),
        "uncovered_population": fmt_number(rec.get("uncovered_population")) if people else "—",
        "n_facilities": fmt_number(rec.get("n_facilities")),
        "provenance": str(rec.get("source_title") or "") or ctx.provenance.get(sid, ""),
        "gaps": [], "gap_view": "", **_items(ctx, district, sid, rec),
        "notes": standard_notes(rec, info, people, ctx.lang, ctx.unit),
        "sites": _sites(ctx, district, sid),
        "sites_covered_label": ctx.lab["covered_street_m"]
        if str(ctx.rows.get(sid, {}).get("demand_kind", "")).startswith(("street", "riverside"))
        else ctx.lab["covered_ha"],
    }
    entry["street_gaps"] = _street_gaps_text(ctx, district, sid)
    if not ctx.has_gaps:
        return entry
    g = ctx.gaps_of(sid, district)
    if "view" in g:
        chosen = g.loc[g["view"] == ctx.gap_view]
        view = ctx.gap_view if len(chosen) else "buffer"
        g = chosen if len(chosen) else g.loc[g["view"] == "buffer"]
        entry["gap_view"] = lab.get(f"view_{view}", view)
    g = g.sort_values("rank").head(N_GAPS) if "rank" in g else g.head(N_GAPS)
    for _, gap in g.iterrows():
        rank = int(plain(gap.get("rank")) or 0)
        caption = lab["gap_caption"].format(rank=rank)
        area = plain(gap.get("area_m2"))
        roads: list[Any] = []
        names: list[str] = []
        view = gap_view_box(gap.geometry)
        if ctx.road_tree is not None and ctx.roads is not None:
            near = np.sort(ctx.road_tree.query(view, predicate="intersects"))
            roads = list(ctx.roads[near])
            names = list(ctx.road_names[near]) if ctx.road_names is not None else []
        svg = gap_svg(gap.geometry, district=geom, roads=roads, road_names=names,
                      facilities=ctx.near("facilities", sid, view),
                      reached=ctx.near("reach", sid, view),  # captioned by the page
                      scale_label=lab["scale_m"], north=lab["north"])
        entry["gaps"].append({
            "svg": svg, "caption": caption, "area_ha": fmt_number((area or 0) / 10_000, 2),
            "population": fmt_number(gap.get("population")) if people
            and plain(gap.get("population")) is not None else "",
        })
    return entry


def _frame_rows(df: pd.DataFrame | None, columns: list[str], ctx: _Context, n: int
                ) -> tuple[list[str], list[list[str]]]:
    if df is None or len(df) == 0:
        return [], []
    cols = [c for c in columns if c in df.columns]
    extra = {"id": "编号" if ctx.lang == "zh" else "Id",
             "target_name": "接入道路" if ctx.lang == "zh" else "Connects to"}
    headers = [ctx.lab.get(c) or extra.get(c, c) for c in cols]
    ranks: dict[str, Any] = {}
    if "rank" in df:
        df = df.sort_values("rank", na_position="last")
        if "id" in df:
            ranks = dict(zip(df["id"].astype(str), df["rank"], strict=True))
    out = []
    for _, r in df.head(n).iterrows():
        row = []
        for c in cols:
            v = plain(r[c])
            if c == "rank" and v is None and "category" in df:  # a dead end says why
                row.append(rank_text(r.to_dict(), ctx.lang, ranks))
            elif c == "detour_m" and v is None and "reachable" in df:  # and why no detour
                row.append(unreachable_text(r["reachable"], ctx.lang) or "—")
            elif isinstance(v, bool):
                row.append(ctx.lab["yes"] if v else ctx.lab["no"])
            elif isinstance(v, float):
                row.append(fmt_number(v, 2 if c in ("detour_ratio", "score") else
                                      0 if c == "rank" else 1))
            elif c in ("category", "highway"):
                row.append(value_label(v, ctx.lang, c) or "—")
            else:
                row.append("—" if v in (None, "") else str(v))
        out.append(row)
    return headers, out


PAGE_NOTES = ("demand_off_network", "school_mapped_twice")
"""The data checks of severity 'note' that a district's page says at its top all the same:
they change its own figures."""


def district_check_notes(checks: gpd.GeoDataFrame | None, lang: str, unit: str
                         ) -> dict[str, list[str]]:
    """Per district, the data checks that warn of its figures (overlapping units …), in
    ``lang``: its report page says them under its title. Under the key ``""``, those that warn
    of every district's (boundaries that look like another datum): every page says them."""
    from geoplan.report._map_checks import check_words_zh, datum_warnings

    notes: dict[str, list[str]] = {}
    if checks is None or not len(checks):
        return notes
    for text in datum_warnings(checks, lang, unit):
        notes.setdefault("", []).append(text)
    # the warnings, and the notes that change the page's own figures (homes counted as not
    # reached on foot, a school's seats counted twice)
    said = (checks["severity"] == "warning") | checks["check"].isin(PAGE_NOTES)
    warned = checks.loc[said & (checks["district"].astype(str) != "")]
    for rec in warned.itertuples(index=False):
        zh = check_words_zh(rec, unit)[0] if lang == "zh" else None
        notes.setdefault(str(rec.district), []).append(zh or str(rec.detail))
    return notes


def _place_rows(ctx: _Context, gaps: pd.DataFrame | None, where: pd.DataFrame | None
                ) -> dict[str, list[dict[str, Any]]]:
    """Per district, its :data:`N_PLACES` places missing most standards (two at least) in the
    page's measure (:func:`geoplan.gap_places.gap_places`), as the page lists them."""
    if gaps is None or where is None or "view" not in gaps:
        return {}
    from geoplan.gap_places import gap_places

    names = {sid: standard_sheet_name(sid, ctx.rows[sid], ctx.lang) for sid in ctx.order}
    mine = (gaps["view"] == ctx.gap_view).to_numpy()
    places = gap_places(gaps.loc[mine], where.loc[mine], names, ctx.lang)
    places = places.loc[places["n_standards"] >= 2]
    out: dict[str, list[dict[str, Any]]] = {}
    for district, part in places.groupby(places["district"].astype(str), sort=False):
        part = part.head(N_PLACES)
        lon, lat = part["lon_wgs84"].to_numpy(float), part["lat_wgs84"].to_numpy(float)
        glon, glat = (np.atleast_1d(v) for v in wgs84_to_gcj02(lon, lat))
        out[district] = [{
            "rank": int(r["rank"]), "n": int(r["n_standards"]), "standards": str(r["standards"]),
            "area": fmt_number(float(r["area_m2"]) / 10_000, 2),
            "street": str(r["street"]) if isinstance(r.get("street"), str) and r["street"] else "—",
            "lonlat": f"{x:.6f}, {y:.6f}", "lonlat_gcj02": f"{gx:.6f}, {gy:.6f}",
        } for r, x, y, gx, gy in zip(part.to_dict("records"), lon, lat, glon, glat, strict=True)]
    return out


def _district_page(env: jinja2.Environment, ctx: _Context, district: str, geom: Any) -> str:
    ctx.start_page(district, geom)
    outline = DistrictOutline(geom)  # its boundary and inset once for every thumbnail
    standards = [_standard_entry(ctx, district, outline, sid) for sid in ctx.order]
    dead = cand = None
    note = ""
    if ctx.dead is not None and "district" in ctx.dead:
        dead = ctx.dead_parts.get(district, ctx.dead.iloc[0:0])
        counts = dead["category"].value_counts() if "category" in dead else pd.Series(dtype=int)
        sep, total = (("，", f"共 {len(dead)} 处：") if ctx.lang == "zh"
                      else (", ", f"{len(dead)} in all: "))
        note = (total + sep.join(f"{value_label(k, ctx.lang, 'category')} {v}"
                                 for k, v in counts.items())) if len(dead) else ""
    if ctx.cand is not None and "district" in ctx.cand:
        cand = ctx.cand_parts.get(district, ctx.cand.iloc[0:0])
        if dead is not None and "id" in cand and {"id", "name"} <= set(dead.columns):
            cand = cand.merge(pd.DataFrame(dead[["id", "name"]]), on="id", how="left")
    dh, drows = _frame_rows(dead, ["rank", "id", "name", "category", "highway", "length_m", "detour_m",
                                   "detour_ratio", "crosses_water", "crosses_railway"],
                            ctx, N_DEADENDS)
    ch, crows = _frame_rows(cand, ["rank", "id", "name", "target_name", "gap_m", "saved_m",
                                   "detour_ratio", "crosses_water", "crosses_railway"],
                            ctx, N_CANDIDATES)
    return env.get_template("district.html.j2").render(
        lang=ctx.lang, lab=ctx.lab, version=__version__, generated=ctx.generated,
        district=district, analysis=ctx.analysis, data_date=ctx.data_date,
        standards=standards, deadends=drows, deadends_headers=dh, deadends_note=note,
        candidates=crows, candidates_headers=ch, sources=ctx.sources,
        no_population=ctx.weights in ("area", "buildings"),
        people=people_section(ctx.coverage, district, ctx.lang, ctx.people_parts, ctx.unit),
        partial_note=partial_note(ctx.inside_share.get(district), ctx.lang, ctx.unit),
        check_notes=ctx.check_notes.get("", []) + ctx.check_notes.get(district, []),
        places=ctx.place_rows.get(district, []),
        places_note=ctx.lab["places_page_note"].format(
            view=ctx.lab.get(f"view_{ctx.gap_view}", ctx.gap_view)),
        measures_note=explain_words(ctx.lang)["measures"],
        weights_note=ctx.weights_note, population_note=ctx.population_note,
    )


def _index_page(env: jinja2.Environment, ctx: _Context, entries: list[dict[str, Any]],
                failures: Mapping[str, str], map_link: str | None) -> str:
    lookup = {(str(r["district"]), str(r["standard"])): r for r in ctx.table.to_dict("records")}
    standards = [{"id": s, "name": standard_name(ctx.rows[s], ctx.lang),
                  "target": fmt_share(ctx.rows[s].get("target"))} for s in ctx.order]
    partial = dict(partial_districts(ctx.table))
    for e in entries:
        cells = []
        for s in ctx.order:
            r = lookup.get((e["name"], s), {})
            cls = coverage_class(r.get("share_buffer"), r.get("target"))
            cells.append({"text": fmt_share(r.get("share_buffer")),
                          "status": "na" if cls == "nodata" else cls})
        e["cells"] = cells
        e["inside"] = share_text(partial[e["name"]]) if e["name"] in partial else None
    return env.get_template("index.html.j2").render(
        lang=ctx.lang, lab=ctx.lab, version=__version__, generated=ctx.generated,
        analysis=ctx.analysis, data_date=ctx.data_date, standards=standards, districts=entries,
        failures=[{"name": k, "error": v} for k, v in failures.items()], sources=ctx.sources,
        workbook_link=f"../{WORKBOOK_NAME}", map_link=map_link,
        map_label="会议地图" if ctx.lang == "zh" else "Meeting map",
        classes=[(k, ctx.lab[f"legend_{k}"]) for k in ("pass", "near", "low", "poor")],
        measures_note=explain_words(ctx.lang)["measures"],
        check_notes=ctx.check_notes.get("", []),
    )


def write_reports(
    layerset: LayerSet,
    coverage: CoverageResult | None,
    deadends: DeadEndResult | None,
    config: AnalysisConfig | None,
    out_dir: str | os.PathLike[str],
    *,
    progress: bool = False,
    lang: str = "zh",
    gap_view: str = "network",
    sites: SiteResult | None = None,
    checks: gpd.GeoDataFrame | None = None,
    gap_places: pd.DataFrame | None = None,
    map_link: bool | None = None,
) -> ReportFiles:
    """Write the per-district HTML reports, their index and the Excel workbook.

    Parameters
    ----------
    layerset
        The analysis' :class:`~geoplan.layers.load.LayerSet`.
    coverage, deadends
        The coverage and dead-end results (:mod:`geoplan.coverage`, :mod:`geoplan.deadends`).
    config
        The :class:`~geoplan.config.AnalysisConfig` (name, data date, standards' provenance),
        or None.
    out_dir
        The output folder; pages go to ``<out_dir>/reports/``.
    progress
        Show a progress bar over districts.
    lang
        'zh' (default) or 'en'.
    gap_view
        Which gaps the pages show: 'network' (walking network, default; 'buffer' where a
        standard has none) or 'buffer'.
    sites
        Suggested new facility sites (:func:`geoplan.siting.suggest_sites`), or None: listed
        under each standard and in the workbook.
    checks
        The run's data checks (:func:`geoplan.data_checks.data_checks`), or None: the
        workbook's data-check sheet.
    gap_places
        :func:`geoplan.locate.locate` of the coverage's gaps when the caller has it (the run
        wrote it into ``gaps.csv``), or None: the workbook then locates them itself.
    map_link
        Whether the index links the meeting map (``map.html`` beside ``reports/``); None: if
        that file is there now (a run drawing its map at the same time says True).

    Returns
    -------
    ReportFiles
        Key -> written path (``'index'``, ``'workbook'``, one per district slug), with
        ``.failures`` naming districts whose page failed.

    Raises
    ------
    OutputError
        If the output folder cannot be written (checked before any work).
    """
    out = ensure_writable_dir(out_dir)
    reports_dir = ensure_writable_dir(out / "reports")
    with _gc_frozen():
        return _write_reports(layerset, coverage, deadends, config, out, reports_dir,
                              progress=progress, lang=lang, gap_view=gap_view, sites=sites,
                              checks=checks, gap_places=gap_places, map_link=map_link)


@contextlib.contextmanager
def _gc_frozen() -> Iterator[None]:
    """Leave the objects alive now (the whole analysis) out of this step's garbage collections.

    The pages and the workbook make many short-lived objects; each full collection would
    otherwise walk every layer, result and index of the city again.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _write_reports(
    layerset: LayerSet,
    coverage: CoverageResult | None,
    deadends: DeadEndResult | None,
    config: AnalysisConfig | None,
    out: Path,
    reports_dir: Path,
    *,
    progress: bool,
    lang: str,
    gap_view: str,
    sites: SiteResult | None,
    checks: gpd.GeoDataFrame | None,
    gap_places: pd.DataFrame | None,
    map_link: bool | None = None,
) -> ReportFiles:
    env = template_environment()
    ctx = _Context(layerset, coverage, deadends, config, lang, gap_view, sites)
    ctx.check_notes = district_check_notes(checks, lang, ctx.unit)
    districts = layerset.districts
    names = [str(n) for n in districts["district"]]
    codes = [str(c) for c in districts["code"]] if "code" in districts else None
    slugs = district_slugs(names, codes)
    files = ReportFiles()
    entries: list[dict[str, Any]] = []
    geoms = districts.geometry.to_numpy()
    ctx.prepare()  # shared lookups built once here, not once in every worker
    roads = layerset.layers.get("roads") if hasattr(layerset, "layers") else None
    gaps, where = gap_rows(coverage, roads, gap_places)  # located once, for pages and workbook
    ctx.place_rows = _place_rows(ctx, gaps, where)

    def write_page(item: tuple[str, str, Any]) -> tuple[str, str] | None:
        """One district's page; None, or the error's text and traceback if it failed."""
        name, slug, geom = item
        try:
            page = _district_page(env, ctx, name, geom)
            with atomic_path(reports_dir / f"{slug}.html") as tmp:
                tmp.write_text(page, encoding="utf-8")
        except Exception as exc:  # the other districts' pages are still written
            return f"{type(exc).__name__}: {exc}", traceback.format_exc()
        return None

    todo = list(zip(names, slugs, geoms, strict=True))
    failed = process_map(write_page, todo, desc="reports", show=progress)
    for (name, slug, _), failure in zip(todo, failed, strict=True):
        if failure is not None:  # logged here: a page's worker process has its own log
            logger.error("report for district %s failed\n%s", name, failure[1].rstrip())
            files.failures[name] = failure[0]
            entries.append({"name": name, "file": None, "ok": False})
            continue
        target = reports_dir / f"{slug}.html"
        files[slug] = target
        entries.append({"name": name, "file": target.name, "ok": True})

    if map_link is None:
        map_link = (out / "map.html").exists()
    index = reports_dir / "index.html"
    with atomic_path(index) as tmp:
        tmp.write_text(_index_page(env, ctx, entries, files.failures,
                                   "../map.html" if map_link else None), encoding="utf-8")
    files["index"] = index
    files["workbook"] = write_workbook(
        coverage, deadends, out / WORKBOOK_NAME, title=ctx.analysis, sources=ctx.sources,
        data_date=ctx.data_date, lang=lang, sites=sites, layerset=layerset, checks=checks,
        gap_places=where if where is not None else gap_places)
    _remove_stale(reports_dir, [p.name for k, p in files.items() if k not in ("index", "workbook")])
    if files.failures:
        logger.warning("%d of %d district reports failed: %s", len(files.failures), len(names),
                       ", ".join(files.failures))
    logger.info("wrote %d district reports to %s", len(files) - 2, reports_dir)
    return files


def _remove_stale(reports_dir: Path, pages: list[str]) -> None:
    """Delete pages a previous run wrote for districts that are gone; record this run's."""
    manifest = reports_dir / _MANIFEST
    try:
        previous = json.loads(manifest.read_text(encoding="utf-8")).get("pages", [])
    except (OSError, ValueError):
        previous = []
    for name in set(previous) - set(pages):
        path = reports_dir / Path(name).name
        if path.suffix == ".html" and path.name != "index.html":
            path.unlink(missing_ok=True)
    with atomic_path(manifest) as tmp:
        tmp.write_text(json.dumps({"pages": sorted(pages)}, ensure_ascii=False), encoding="utf-8")


__all__ = ["ReportFiles", "write_reports"]
