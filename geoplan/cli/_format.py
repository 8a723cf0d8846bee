"""What the commands print: tables with the standards' Chinese names (``--lang en``: English).

Terminal columns are aligned for CJK text (two columns per character).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from geoplan._text import NAME_COLUMNS, as_text, columns_of, cut_to_columns, share_text
from geoplan.report._data import fmt_number, people_as_land
from geoplan.report._labels import POPULATION_SOURCES, in_unit, words_in_unit
from geoplan.results.coverage import demand_weighted, partial_districts, verdict, verdicts
from geoplan.vocab import DEFAULT_UNIT

_HEAD = {
    "zh": {"standard": "标准", "district": "区县", "radius": "半径(米)", "target": "目标",
           "buffer": "直线", "network": "步行", "pop_buffer": "人口·直线",
           "pop_network": "人口·步行", "meets": "达标", "yes": "达标", "no": "未达标",
           "facilities": "数据内设施数", "name": "名称", "description": "说明",
           "files": "规划设施文件",
           "city_buffer": "全市·直线", "city_network": "全市·步行", "n_meet": "达标区县",
           "lowest": "直线覆盖率最低的区县", "scenario": "情景", "today": "现状",
           "uncovered_pop": "直线未覆盖人口", "sum_buffer": "合计·直线",
           "sum_network": "合计·步行", "sum_pop_network": "合计·人口·步行"},
    "en": {"standard": "standard", "district": "district", "radius": "radius m",
           "target": "target", "buffer": "straight line", "network": "walking",
           "pop_buffer": "pop. straight", "pop_network": "pop. walking", "meets": "meets",
           "yes": "pass", "no": "fail", "facilities": "facilities in the data", "name": "name",
           "description": "description", "files": "planned facility files",
           "city_buffer": "city, straight", "city_network": "city, walking",
           "n_meet": "districts meeting", "lowest": "lowest straight-line shares",
           "scenario": "scenario", "today": "today",
           "uncovered_pop": "people outside (straight)", "sum_buffer": "all, straight",
           "sum_network": "all, walking", "sum_pop_network": "all, people walking"},
}
_NOTE = {
    "zh": ("直线 = 直线覆盖率（官方口径）：直线服务半径内的居住用地占比（公厕各标准为街道长度占比）；"
           "步行 = 沿步行路网在服务半径内的占比；人口 = 按人口加权（权重：{w}）。"),
    "en": ("straight line = share of residential land (street length for toilets) inside "
           "straight-line buffers, the official indicator; walking = within the radius along the "
           "walking network; pop. = weighted by population (weights: {w})."),
}
_WEIGHTS_ZH = {**{k: zh for k, (zh, _) in POPULATION_SOURCES.items()},
               # land or floor area is not people: the population columns are empty
               "area": "无人口来源，人口列为空", "buildings": "无人口来源，人口列为空",
               "none (street length)": "街道长度", "none": "部分区县无人口数据"}
_WEIGHTS_EN = {**{k: en for k, (_, en) in POPULATION_SOURCES.items()},
               "area": "no population source, the population columns are empty",
               "buildings": "no population source, the population columns are empty",
               "none (street length)": "street length", "none": "no population data for some districts"}


def _words(table: Mapping[str, Any], lang: str, unit: str) -> Any:
    """``table``'s entry for ``lang``, the districts called ``unit`` in Chinese."""
    words = table["en" if lang == "en" else "zh"]
    if lang == "en" or unit == DEFAULT_UNIT:
        return words
    if isinstance(words, str):
        return in_unit(words, unit)
    return words_in_unit(words, unit)


def heading(lang: str, unit: str = DEFAULT_UNIT) -> str:
    """What the coverage table printed by a command is, e.g. 各区县覆盖率 or 各街道覆盖率."""
    return "coverage per district" if lang == "en" else in_unit("各区县覆盖率", unit)


def pct(value: Any) -> str:
    """A 0–1 share as '37.5%', or '—' when missing (as every other output shows no value)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{100.0 * float(value):.1f}%"


def standard_label(row: Mapping[str, Any], lang: str) -> str:
    """The standard's name in ``lang`` (its id when the name is missing)."""
    key = "name_en" if lang == "en" else "name_zh"
    name = row.get(key)
    return str(name) if isinstance(name, str) and name else str(row.get("standard", ""))


def align(rows: Sequence[Mapping[str, str]], headers: Mapping[str, str],
          left: Sequence[str] = ("standard", "district", "name", "description", "files"),
          group_by: str | None = None, cut: Sequence[str] = ("district",)) -> str:
    """Rows of text as an aligned table; a blank line where ``group_by`` changes.

    Every cell is one line with no control characters (:func:`geoplan._text.as_text`): a name
    from a file can carry line breaks or a terminal's escape sequences; those of the columns
    ``cut`` (names from data) at most :data:`geoplan._text.NAME_COLUMNS` wide.
    """
    cols = list(headers)
    groups = [r.get(group_by) if group_by else None for r in rows]
    rows = [{c: cut_to_columns(as_text(r.get(c, "")), NAME_COLUMNS) if c in cut
             else as_text(r.get(c, "")) for c in cols} for r in rows]
    widths = {c: max([columns_of(headers[c])] + [columns_of(str(r.get(c, ""))) for r in rows])
              for c in cols}

    def cell(col: str, text: str) -> str:
        pad = " " * (widths[col] - columns_of(text))
        return text + pad if col in left else pad + text

    lines = ["  ".join(cell(c, headers[c]) for c in cols).rstrip(),
             "  ".join("-" * widths[c] for c in cols)]
    previous = None
    for r, group in zip(rows, groups, strict=True):
        if group_by and previous is not None and group != previous:
            lines.append("")
        previous = group
        lines.append("  ".join(cell(c, r[c]) for c in cols).rstrip())
    return "\n".join(lines)


MANY_DISTRICTS = 12
"""Above this many districts, the terminal gets the city's figures per standard (the figures
of each district are in the tables) instead of a line per standard and district."""

_CITY_NOTE = {
    "zh": "全市 = 各区县按需求量（居住用地面积或街道长度）加权；各区县的数字见 coverage.csv（{n} 个区县）。",
    "en": "city = the districts weighted by their demand (residential land or street length); "
          "each district's figures are in coverage.csv ({n} districts).",
}


_CITY_PARTIAL = {
    "zh": "{of} 个区县中有 {n} 个只有部分面积在数据范围内：其数字（及全市数字中的份额）只代表数据内的部分"
          "（coverage.csv 的 inside_share）。",
    "en": "{n} of the {of} districts lie only partly inside the data: their figures (and their "
          "part of the city's) cover that part (inside_share in coverage.csv).",
}


def coverage_text(table: pd.DataFrame, lang: str = "zh", unit: str = DEFAULT_UNIT) -> str:
    """The coverage table for the terminal: one line per standard × district, names in ``lang``
    (the districts called ``unit`` in Chinese); for a city of more than
    :data:`MANY_DISTRICTS` districts, one line per standard (:func:`city_text`)."""
    h = _words(_HEAD, lang, unit)
    if len(table) == 0:
        return "（无覆盖率结果）" if lang != "en" else "(no coverage results)"
    if table["district"].nunique() > MANY_DISTRICTS:
        return city_text(table, lang, unit=unit)
    rows = []
    partial = dict(partial_districts(table))
    for rec in table.to_dict("records"):
        r = {str(k): v for k, v in rec.items()}
        rows.append({
            "standard": standard_label(r, lang),
            "district": str(r["district"]) + ("*" if str(r["district"]) in partial else ""),
            "radius": str(r.get("radius_m", "")).removesuffix(".0"), "target": pct(r.get("target")),
            "buffer": pct(r.get("share_buffer")), "network": pct(r.get("share_network")),
            "pop_buffer": pct(r.get("share_population_buffer")),
            "pop_network": pct(r.get("share_population_network")),
            "meets": {True: h["yes"], False: h["no"], None: "—"}[
                verdict(r.get("meets_target"), r.get("share_buffer"))],
        })
    headers = {k: h[k] for k in ("standard", "district", "radius", "target", "buffer", "network",
                                 "pop_buffer", "pop_network", "meets")}
    sources = [str(s) for s in table.get("population_source", pd.Series(dtype=str)).dropna().unique()]
    weights = ("、".join(dict.fromkeys(in_unit(_WEIGHTS_ZH.get(s, s), unit) for s in sources))
               if lang != "en" else ", ".join(dict.fromkeys(_WEIGHTS_EN.get(s, s) for s in sources)))
    note = _NOTE["en" if lang == "en" else "zh"].format(w=weights or "–")
    if people_as_land(table):
        note += (in_unit("\n人口·直线、人口·步行在每个区县内都等于直线、步行：人口在区县内按居住用地面积"
                         "均匀分布（住宅建筑太少，也没有人口栅格），只在跨区县合计时不同。", unit)
                 if lang != "en" else
                 "\nWithin each district the population shares equal the land shares: residents "
                 "are spread evenly over its residential land (too few buildings, no population "
                 "raster); they differ only in sums over districts.")
    if partial:  # a figure that covers part of a district says so
        listed = ("、" if lang != "en" else ", ").join(
            f"{d} {share_text(s)}" for d, s in partial.items())
        note += (f"\n* 只有部分面积在数据范围内（{listed}）：其数字只代表数据内的部分。"
                 if lang != "en" else
                 f"\n* only partly inside the data ({listed}): the figures cover that part.")
    return align(rows, headers, group_by="standard") + "\n\n" + note


def _met_of_measured(part: pd.DataFrame) -> str:
    """'met/measured' over coverage rows, the rows with nothing to measure left out of both."""
    said = verdicts(part)
    return f"{int((said == True).sum())}/{int(said.notna().sum())}"  # noqa: E712


def city_text(table: pd.DataFrame, lang: str = "zh", lowest: int = 3,
              unit: str = DEFAULT_UNIT) -> str:
    """The coverage of a city of many districts for the terminal, one line per standard: its
    radius and target, how many districts meet the target, the city's straight-line and
    walking shares (districts weighted by their demand) and the ``lowest`` districts (called
    ``unit`` in Chinese)."""
    h = _words(_HEAD, lang, unit)
    rows = []
    for _, part in table.groupby("standard", sort=False):
        first = {str(k): v for k, v in part.iloc[0].to_dict().items()}
        weight = (pd.to_numeric(part["demand_total"], errors="coerce")
                  if "demand_total" in part else pd.Series(math.nan, index=part.index))
        buffer = pd.to_numeric(part["share_buffer"], errors="coerce")
        low = part.assign(_s=buffer).dropna(subset=["_s"]).sort_values("_s", kind="stable")
        rows.append({
            "standard": standard_label(first, lang),
            "radius": str(first.get("radius_m", "")).removesuffix(".0"),
            "target": pct(first.get("target")),
            "n_meet": _met_of_measured(part),
            "city_buffer": pct(demand_weighted(buffer, weight)),
            "city_network": pct(demand_weighted(part["share_network"], weight)),
            "lowest": ", ".join(f"{as_text(d)} {pct(v)}" for d, v in
                                zip(low["district"].head(lowest), low["_s"].head(lowest),
                                    strict=True)),
        })
    headers = {k: h[k] for k in ("standard", "radius", "target", "n_meet", "city_buffer",
                                 "city_network", "lowest")}
    note = _words(_CITY_NOTE, lang, unit).format(n=table["district"].nunique())
    partial = dict(partial_districts(table))
    if partial:  # a figure that covers part of a district says so, at city scale too
        note += "\n" + (_words(_CITY_PARTIAL, lang, unit).format(
            n=len(partial), of=table["district"].nunique()))
    return align(rows, headers, left=("standard", "lowest")) + "\n\n" + note


def items_text(items: pd.DataFrame | None, table: pd.DataFrame, lang: str = "zh",
               unit: str = DEFAULT_UNIT) -> str:
    """The life circles item by item (:func:`geoplan.coverage.output.format_items`) under
    their heading; for a city of more than :data:`MANY_DISTRICTS` districts, where a column
    per district would not fit a terminal, where to find them. ``""`` without life circles."""
    from geoplan.coverage.output import format_items

    if items is None or not len(items) or "n_items" not in table.columns:
        return ""
    n_districts = table["district"].nunique()
    title = "Life circles item by item (GB 50180-2018)" if lang == "en" else "生活圈逐项覆盖（GB 50180-2018）"
    if n_districts > MANY_DISTRICTS:
        n_baskets = table.loc[table["n_items"] > 1, "standard"].nunique()
        if not n_baskets:
            return ""
        if lang == "en":
            return (f"{title}: coverage_items.csv ({n_baskets} life circles × {n_districts} "
                    "districts)")
        return f"{title}：见 coverage_items.csv（{n_baskets} 个生活圈 × {n_districts} 个{unit}）"
    text = format_items(items, table, lang)
    return f"{title}\n{text}" if text else ""


def written_text(out: Path, paths: Iterable[str | Path], max_each: int = 12) -> str:
    """The files written under ``out``, one per line; a folder of more than ``max_each`` files
    (the district pages of a city) as one line with its count."""
    lines = [f"\noutput folder: {out}"]
    folders: dict[str, int] = {}
    rel: list[tuple[str, str | None]] = []  # (as shown, its folder under out or None)
    for path in paths:
        try:
            r = Path(path).relative_to(out).as_posix()
        except ValueError:  # outside out: shown whole, never counted
            rel.append((str(path), None))
            continue
        top, sep, _ = r.partition("/")
        rel.append((r, top if sep else None))
        if sep:
            folders[top] = folders.get(top, 0) + 1
    shown: set[str] = set()
    for r, folder in rel:
        if folder is not None and folders[folder] > max_each:
            if folder not in shown:
                shown.add(folder)
                lines.append(f"  {folder}/  ({folders[folder]} files)")
            continue
        lines.append(f"  {r}")
    return "\n".join(lines)


def scenario_text(table: pd.DataFrame, lang: str = "zh", unit: str = DEFAULT_UNIT) -> str:
    """The scenario comparison: rows whose shares change (all rows when none does), the
    districts called ``unit`` in Chinese."""
    h = _words(_HEAD, lang, unit)
    from geoplan.scenario import changed

    moved = changed(table)
    show = table.loc[moved] if moved.any() else table
    order = {sid: i for i, sid in enumerate(dict.fromkeys(table["standard"]))}
    show = show.assign(_o=show["standard"].map(order)).sort_values("_o", kind="stable")
    rows = [{
        "standard": standard_label({"name_zh": r.get("name_zh"), "standard": r["standard"]}, lang)
        if lang != "en" else str(r["standard"]),
        "district": str(r["district"]),
        "facilities": f"{r['n_facilities_before']}→{r['n_facilities_after']}",
        "buffer": f"{pct(r['share_buffer_before'])} → {pct(r['share_buffer_after'])}",
        "network": f"{pct(r['share_network_before'])} → {pct(r['share_network_after'])}",
        "meets": h["yes"] if r.get("meets_target_after") else h["no"],
    } for r in show.to_dict("records")]
    headers = {k: h[k] for k in ("standard", "district", "facilities", "buffer", "network",
                                 "meets")}
    return align(rows, headers, group_by="standard")


def seats_text(seats: pd.DataFrame, lang: str = "zh", unit: str = DEFAULT_UNIT) -> str:
    """A plan's school seats (:func:`geoplan.scenario.compare_seats` rows): the seats within
    walking reach and the 学位缺口, before → after, per district and level."""
    zh = lang != "en"
    levels = {"primary": "小学" if zh else "primary", "junior": "初中" if zh else "junior"}
    rows = [{"district": str(r["district"]), "level": levels.get(str(r["level"]), str(r["level"])),
             "reached": f"{fmt_number(r['seats_reached_before'])} → "
                        f"{fmt_number(r['seats_reached_after'])}",
             "gap": f"{fmt_number(r['seat_gap_before'])} → {fmt_number(r['seat_gap_after'])}"}
            for r in seats.to_dict("records")]
    headers = ({"district": in_unit("区县", unit), "level": "学段", "reached": "步行可达学位",
                "gap": "学位缺口"} if zh else
               {"district": "district", "level": "level", "reached": "seats in walking reach",
                "gap": "seat gap (学位缺口)"})
    title = "学位：" if zh else "school seats:"
    return title + "\n" + align(rows, headers, left=("district", "level"))


def scenarios_compared_text(city: pd.DataFrame, lang: str = "zh", unit: str = DEFAULT_UNIT,
                            partial: Sequence[tuple[str, float]] = ()) -> str:
    """Today and each scenario for all districts together
    (:func:`geoplan.scenario.compare_scenarios`), the standards some scenario moves, the best
    plans marked; ``partial`` (:func:`~geoplan.results.coverage.partial_districts`) said
    under it: the figures then hold those districts' part inside the data only."""
    h = _words(_HEAD, lang, unit)
    from geoplan.scenario import SHARE_MOVED

    moved = city.loc[(city["share_buffer_change"].abs() >= SHARE_MOVED)
                     | (city["share_network_change"].abs() >= SHARE_MOVED), "standard"]
    show = city.loc[city["standard"].isin(set(moved))]
    if not len(show):
        return ("方案比选：没有任何情景改变覆盖率" if lang != "en"
                else "scenarios compared: none changes a share")
    today = "（现状）" if lang != "en" else "(today)"  # a scenario may be called 现状
    rows = []
    for record in show.to_dict("records"):
        r = {str(k): v for k, v in record.items()}
        plan = not r["today"]
        rows.append({
            "standard": standard_label(r, lang) if lang != "en" else str(r["standard"]),
            "scenario": (str(r["scenario"]) + (" ★" if r["best"] else "")) if plan else today,
            "sum_buffer": pct(r["share_buffer"]) + (f" ({_pp(r['share_buffer_change'])})"
                                                    if plan else ""),
            "sum_network": pct(r["share_network"]) + (f" ({_pp(r['share_network_change'])})"
                                                      if plan else ""),
            "sum_pop_network": pct(r["share_population_network"]) + (
                f" ({_pp(r['share_population_network_change'])})"
                if plan and pd.notna(r["share_population_network"]) else ""),
            "n_meet": f"{r['districts_meeting']}/{r['districts_measured']}",
            "uncovered_pop": fmt_number(r["uncovered_population"]),
        })
    keys = ["standard", "scenario", "sum_buffer", "sum_network", "sum_pop_network", "n_meet",
            "uncovered_pop"]
    if show["share_population_network"].isna().all():  # no people, or street standards
        keys.remove("sum_pop_network")
    if show["uncovered_population"].isna().all():  # street standards: length, not people
        keys.remove("uncovered_pop")
    headers = {k: h[k] for k in keys}
    note = ""
    if len(partial):
        note = "\n" + _words(_COMPARED_PARTIAL, lang, unit).format(
            names=", ".join(f"{as_text(d)} {share_text(s)}" for d, s in partial))
    return (_words(_COMPARED_TITLE, lang, unit) + "\n"
            + align(rows, headers, left=("standard", "scenario"), group_by="standard") + note)


_COMPARED_TITLE = {
    "zh": "方案比选：全部区县合计（各区县按需求加权：居住用地面积，公厕为街道长度）；"
          "★ 合计直线覆盖率最高的情景",
    "en": "scenarios compared: all districts together (each weighted by its demand: residential "
          "land, street length for toilets); ★ the plan with the highest straight-line share",
}
_COMPARED_PARTIAL = {
    "zh": "合计只含数据范围内的部分：{names}（数据范围内面积占比）",
    "en": "the sums hold only the part inside the data of: {names} (share of area inside)",
}


def _pp(change: float) -> str:
    """A change of share in percentage points, signed."""
    return "—" if change is None or change != change else f"{100 * change:+.1f} pp"


def scenarios_text(config: Any, lang: str = "zh") -> str:
    """The scenarios a config defines: name, description and planned facility files."""
    h = _HEAD["en" if lang == "en" else "zh"]
    scenarios = getattr(config, "scenarios", {}) or {}
    if not scenarios:
        return ("此配置没有定义情景：在配置文件中加入 `scenarios:`（见 analyses/chengdu_core.yaml）。"
                if lang != "en" else "this config defines no scenarios: add a `scenarios:` "
                "section (see analyses/chengdu_core.yaml).")
    rows = []
    for name, sc in scenarios.items():
        gone = "（文件缺失）" if lang != "en" else " (file missing)"
        files = [f"{kind}: {getattr(s, 'path', s)}"
                 + ("" if Path(getattr(s, "path", s)).is_file() else gone)
                 for kind, sources in sc.layers.items() for s in sources]
        rows.append({"name": name, "description": sc.description or "",
                     "files": "; ".join(str(f) for f in files)})
    return align(rows, {k: h[k] for k in ("name", "description", "files")})


__all__ = ["MANY_DISTRICTS", "align", "city_text", "coverage_text", "items_text", "pct",
           "scenario_text", "scenarios_compared_text", "scenarios_text", "standard_label", "written_text"]
