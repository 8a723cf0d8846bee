"""One call that sets a notebook up: config, standards, layers and results of an analysis.

The planners' notebooks (``notebooks/coverage.ipynb``, ``notebooks/deadends.ipynb``) start from
the same papermill parameters (``config_path``, ``standards``, ``district``). Their setup cell is
one call::

    from geoplan.notebook import load_analysis

    run = load_analysis(config_path, standards, district=district)

which computes through :func:`geoplan.pipeline.compute_results`, the same function
``geoplan run``, ``map`` and ``report`` call, so a notebook shows the numbers the command line
writes. Nothing is written to disk.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from geoplan.config import load_config
from geoplan.layers.load import LayerSet, district_summary, load_layers
from geoplan.pipeline import compute_results
from geoplan.report._labels import labels
from geoplan.results import CoverageResult, RunResult
from geoplan.standards import check_config_standards
from geoplan.vocab import DEFAULT_UNIT

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.figure import Figure

__all__ = ["as_list", "column_labels", "district_bounds", "find_config", "gaps_chart",
           "largest_gaps", "load_analysis", "population_line", "share_chart", "summary_line",
           "use_chinese_fonts"]

logger = logging.getLogger(__name__)

COMPUTE_STEPS = ("coverage", "sites", "deadends")
"""What :func:`load_analysis` computes by default: everything ``geoplan run`` computes."""


def find_config(config_path: str | Path) -> Path:
    """The config file a notebook parameter names, from the notebook's folder or the repository.

    A notebook's default ``config_path`` is relative to ``notebooks/``
    (``../analyses/chengdu_core.yaml``). Run from the repository root instead, the same path
    is tried without its leading ``..`` parts; a path relative to the repository
    (``analyses/chengdu_core.yaml``) is also found from ``notebooks/``.

    Parameters
    ----------
    config_path
        Path to an analysis config (absolute, or relative to the working folder).

    Returns
    -------
    pathlib.Path
        The first candidate that exists, else ``config_path`` unchanged (loading it then
        fails with a clear :class:`~geoplan._errors.ConfigError`).
    """
    path = Path(config_path).expanduser()
    if path.is_file() or path.is_absolute():
        return path
    parts = path.parts
    while parts and parts[0] == "..":
        parts = parts[1:]
    candidates = [Path(*parts)] if parts and len(parts) < len(path.parts) else []
    candidates.append(Path.cwd().parent / path)  # a repository-relative path, from notebooks/
    return next((c for c in candidates if c.is_file()), path)


def as_list(value: Any) -> list[str] | None:
    """A papermill list parameter as a list of strings, however it was passed.

    ``None`` or ``""`` gives None (use the config's choice); a list or tuple is kept; a string
    is read as JSON when it looks like a list (``'["park_500", "bus_stop_500"]'``) and otherwise
    split at commas (``"park_500, bus_stop_500"``, also Chinese ``，``), never letter by letter.

    Raises
    ------
    ValueError
        For a string that starts like a JSON list but is not one.
    TypeError
        For items that are not strings (a typo such as ``standards=500``).
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"cannot read {value!r} as a list: {exc.msg}; write it as "
                                 '["park_500", "bus_stop_500"] or park_500,bus_stop_500') from None
            return as_list(parsed)
        parts = text.replace("，", ",").split(",")
        return [p.strip() for p in parts if p.strip()] or None
    items = list(value) if isinstance(value, Iterable) else [value]
    bad = [item for item in items if not isinstance(item, str)]
    if bad:
        raise TypeError(f"give standard ids as strings (e.g. 'park_500'), not {bad!r}")
    return [item.strip() for item in items if item.strip()] or None


def column_labels(columns: Iterable[str], lang: str = "zh",
                  unit: str = DEFAULT_UNIT) -> dict[str, str]:
    """Readable column headers in ``lang`` for a results table (unknown columns kept).

    The words of the reports and the workbook (:mod:`geoplan.report._labels`, the people
    sheets) first, then, in Chinese, the field aliases of the GeoPackages' QGIS styles; the
    districts called ``unit`` (``layerset.unit``: 区县, 街道…).
    """
    from geoplan.report.people_sheets import headers
    from geoplan.report.qgis_styles import StyleContext, field_alias

    lab = labels(lang, unit)
    extra = {"name_zh": "名称" if lang == "zh" else "Name", "area_ha": lab["area_ha"],
             "standards": "缺口所属标准" if lang == "zh" else "A gap of",
             "n_standards": "标准数" if lang == "zh" else "Standards",
             "area_km2": "面积（平方公里）" if lang == "zh" else "Area (km²)"}
    sheets = headers(lang, unit)
    style = StyleContext(unit=unit)
    out = {}
    for c in columns:
        known = lab.get(c) or extra.get(c) or sheets.get(c)
        out[c] = known or (field_alias(c, context=style) if lang == "zh" else c)
    return out


def load_analysis(
    config_path: str | Path,
    standards: str | Iterable[str] | None = None,
    *,
    district: str | None = None,
    steps: tuple[str, ...] | str = COMPUTE_STEPS,
    progress: bool = False,
) -> RunResult:
    """Load an analysis and compute its results in memory, as ``geoplan run`` does.

    Parameters
    ----------
    config_path
        The analysis config (see :func:`find_config` for relative paths).
    standards
        Standard ids to measure instead of the config's: a list or a comma-separated string.
    district
        A district the notebook will show; checked to exist (every district is still
        computed, so the figures equal those of the whole run).
    steps
        Which of ``coverage``, ``sites`` and ``deadends`` to compute (a tuple, or one string
        such as ``"coverage,sites"``); the others stay None.
    progress
        Show progress bars.

    Returns
    -------
    RunResult
        ``config``, ``layerset``, ``standards``, ``summary`` (per-district layer counts), and
        ``coverage`` / ``sites`` / ``deadends`` from :func:`geoplan.pipeline.compute_results`.
        ``out`` is the config's output folder; nothing is written there.

    Raises
    ------
    geoplan._errors.ConfigError
        If the config is missing or invalid, or a standard id is unknown (before any work).
    ValueError
        If ``district`` is not one of the analysis' districts (the message lists them), or a
        step is unknown.
    """
    steps = tuple(as_list(steps) or ()) if isinstance(steps, str) else tuple(steps)
    unknown = set(steps) - set(COMPUTE_STEPS)
    if unknown:
        raise ValueError(f"unknown steps {sorted(unknown)}; choose from {COMPUTE_STEPS}")
    config = load_config(find_config(config_path))
    ids = as_list(standards)
    if ids is not None:
        config = config.model_copy(update={"standards": ids})
    chosen = check_config_standards(config)
    layerset = load_layers(config)
    names = [str(n) for n in layerset.districts["district"]]
    if district is not None and district not in names:
        raise ValueError(f"district {district!r} is not in the analysis {config.name!r}: "
                         f"choose from {names}")
    run = RunResult(config, config.output, layerset, chosen)
    run.summary = district_summary(layerset)
    run.coverage, run.deadends, run.sites = compute_results(
        config, layerset, standards=chosen, steps=steps, progress=progress,
        timings=run.timings)
    logger.info("%s: %d standards, %d districts", config.name, len(chosen), len(names))
    return run


def summary_line(run: RunResult, lang: str = "en") -> str:
    """One line naming the analysis and its standards, for a notebook's first output.

    Parameters
    ----------
    run
        From :func:`load_analysis`.
    lang
        'zh' or 'en'.

    Returns
    -------
    str
        For example ``成都中心城区 (…) · 2 standards: park_500, bus_stop_500``, or in Chinese
        ``成都中心城区 (…) · 2 项标准：park_500, bus_stop_500``.
    """
    ids = ", ".join(s.id for s in run.standards)
    if lang == "zh":
        return f"{run.config.name} · {len(run.standards)} 项标准：{ids}"
    return f"{run.config.name} · {len(run.standards)} standards: {ids}"


def population_line(coverage: CoverageResult | None, lang: str = "zh") -> str:
    """Where the coverage's people come from, in ``lang``, as the reports say it.

    Parameters
    ----------
    coverage
        ``run.coverage`` from :func:`load_analysis` (None: no coverage computed).
    lang
        'zh' or 'en'.

    Returns
    -------
    str
        For example ``人口：第七次全国人口普查（2020）各区常住人口，按住宅建筑面积…``; '' without
        a coverage.
    """
    from geoplan.report._labels import population_note
    from geoplan.report.tables import weights_source

    if coverage is None:
        return ""
    meta = coverage.meta
    source = meta.get("population_source") or weights_source(coverage.table)
    return population_note(meta.get("population_note"), source, lang) or ""


_CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei",
              "PingFang SC", "WenQuanYi Zen Hei", "Noto Serif CJK SC")


_CJK_FILES = ("cjk", "sourcehansans", "msyh", "simhei", "pingfang", "wqy")
"""Parts of the file names of the fonts in :data:`_CJK_FONTS` (lower case)."""


def _cjk_fonts(manager: Any) -> list[str]:
    installed = {f.name for f in manager.ttflist}
    return [name for name in _CJK_FONTS if name in installed]


def use_chinese_fonts() -> list[str]:
    """Make matplotlib draw Chinese text with the first CJK font installed.

    Returns
    -------
    list of str
        The CJK fonts found (empty: Chinese labels show as boxes; install ``fonts-noto-cjk``).
    """
    import matplotlib as mpl
    from matplotlib import font_manager

    found = _cjk_fonts(font_manager.fontManager)
    if not found:
        # matplotlib caches its font list on first use: fonts installed since are not in it.
        # A file counts as known only if it gave a wanted face: one collection (.ttc) holds
        # the SC, TC, JP and KR faces, and a list that has some of them may lack the others
        known = {f.fname for f in font_manager.fontManager.ttflist if f.name in _CJK_FONTS}
        for path in font_manager.findSystemFonts():
            if path not in known and any(k in Path(path).name.lower() for k in _CJK_FILES):
                font_manager.fontManager.addfont(path)
        found = _cjk_fonts(font_manager.fontManager)
    mpl.rcParams["font.sans-serif"] = [*found, "DejaVu Sans"]
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["axes.unicode_minus"] = False
    if not found:
        logger.warning("no Chinese font found for the charts: install fonts-noto-cjk")
    return found


_CHART_WORDS = {
    "zh": {"straight": "直线覆盖率（官方口径）", "walking": "步行覆盖率", "target": "目标",
           "share": "覆盖率（%）", "gaps": "最大的覆盖缺口（直线距离，公顷）", "area": "面积（公顷）",
           "title": "{district}：各项标准覆盖率与目标", "gap": "第{rank}处"},
    "en": {"straight": "straight-line share (official)", "walking": "walking share",
           "target": "target", "share": "share (%)", "gaps": "Largest gaps (straight line, ha)",
           "area": "area (ha)", "title": "{district}: share of each standard against its target",
           "gap": "gap {rank}"},
}


def _chart_words(lang: str) -> dict[str, str]:
    if lang not in _CHART_WORDS:
        raise ValueError(f"lang {lang!r}: charts are drawn in {sorted(_CHART_WORDS)}")
    return _CHART_WORDS[lang]


def share_chart(table: pd.DataFrame, district: str | None = None, lang: str = "zh") -> Figure:
    """Bars of each standard's straight-line and walking share, with its target, per district.

    Parameters
    ----------
    table
        The coverage table (``district``, ``standard``, ``name_zh``/``name_en``, ``target``,
        ``share_buffer``, ``share_network``).
    district
        Draw only this district (default: one panel per district).
    lang
        'zh' or 'en' for the words and the standards' names.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per district; a black bar over each standard marks its target.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    words = _chart_words(lang)
    use_chinese_fonts()
    rows = table if district is None else table.loc[table["district"] == district]
    if district is not None and not len(rows):
        raise ValueError(f"district {district!r} is not in the table; its districts are "
                         f"{sorted(set(table['district'].astype(str)))}")
    districts = list(dict.fromkeys(rows["district"]))
    n_std = max(1, rows["standard"].nunique())
    fig, axes = plt.subplots(len(districts) or 1, 1, squeeze=False,
                             figsize=(max(7.0, 0.75 * n_std + 2), 3.4 * max(1, len(districts))))
    for ax, name in zip(axes[:, 0], districts or [""], strict=False):
        part = rows.loc[rows["district"] == name]
        x = np.arange(len(part))
        ax.bar(x - 0.2, part["share_buffer"].astype(float) * 100, 0.4, color="#1a9850",
               label=words["straight"])
        ax.bar(x + 0.2, part["share_network"].astype(float) * 100, 0.4, color="#4575b4",
               label=words["walking"])
        ax.hlines(part["target"].astype(float) * 100, x - 0.45, x + 0.45, colors="black",
                  linewidth=2, label=words["target"])
        names = [_standard_label(r, lang) for r in part.to_dict("records")]
        ax.set_xticks(x, names, rotation=35, ha="right", fontsize=8)
        ax.set_ylim(0, 105)
        ax.set_ylabel(words["share"])
        ax.set_title(words["title"].format(district=name), fontsize=10, loc="left", pad=8)
        ax.grid(axis="y", alpha=0.3)
    # above the first panel, right of its title: never over the bars or the targets
    axes[0, 0].legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, ncol=3,
                      frameon=False)
    fig.tight_layout()
    return fig


def _standard_label(row: dict[str, Any], lang: str) -> str:
    from geoplan.report._labels import standard_name

    return standard_name(row, lang)


def _few(standards: str, n: int, lang: str) -> str:
    """The first two of a place's standards and how many there are ('公园、公交等6项')."""
    parts = standards.split("、" if lang == "zh" else ", ")
    if n <= 2:
        return standards
    return ("、".join(parts[:2]) + f"等{n}项") if lang == "zh" else (
        ", ".join(parts[:2]) + f" and {n - 2} more")


def gaps_chart(gaps: pd.DataFrame, lang: str = "zh", top: int = 15,
               names: Mapping[str, str] | None = None) -> Figure:
    """The ``top`` largest gaps as ranked horizontal bars (hectares).

    Parameters
    ----------
    gaps
        Gap rows with ``district``, ``standard``, ``rank`` and ``area_m2``, or the places of
        :func:`largest_gaps` (``standards``, ``n_standards``); a ``street`` column, when
        present, names each gap's nearest street.
    lang
        'zh' or 'en'.
    top
        How many gaps to draw, largest first.
    names
        A name per standard id (default: the ids).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    words = _chart_words(lang)
    use_chinese_fonts()
    biggest = gaps.sort_values("area_m2", ascending=False).head(top)
    fig, ax = plt.subplots(figsize=(8, 0.35 * max(3, len(biggest)) + 1))
    ticks = []
    for r in biggest.to_dict("records"):
        if "standards" in r:  # one row per place (largest_gaps): the standards it is a gap of
            parts = [str(r["district"]), _few(str(r["standards"]), int(r["n_standards"]), lang)]
        else:
            parts = [str(r["district"]), str((names or {}).get(r["standard"], r["standard"])),
                     words["gap"].format(rank=int(r["rank"]) if pd.notna(r["rank"]) else "—")]
        if isinstance(r.get("street"), str) and r["street"]:
            parts.append(r["street"])
        ticks.append(" · ".join(parts))
    ax.barh(range(len(biggest)), biggest["area_m2"].astype(float) / 10_000, color="#54278f")
    ax.set_yticks(range(len(biggest)), ticks, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(words["area"])
    ax.set_title(words["gaps"], fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def largest_gaps(gaps: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | None = None,
                 names: Mapping[str, str] | None = None, top: int = 20, lang: str = "zh"
                 ) -> pd.DataFrame:
    """The ``top`` largest gaps, one row per place, with where to find each.

    Land far from every kind of facility is a gap of several standards with the same polygon
    (on the embedded extract the largest, 11 ha in 金牛区, is the largest gap of six); it is
    listed once, naming all of them (:func:`geoplan.gap_places.gap_places`), so that a list
    of twenty shows twenty places.

    Parameters
    ----------
    gaps
        Gap polygons (``coverage.gaps``, one view), analysis CRS.
    roads
        The roads layer (``layerset.layers.get("roads")``), for each gap's nearest street.
    names
        A name per standard id, in the order to list them (default: the ids, in the gaps'
        order).
    top
        How many places, largest first.
    lang
        'zh' or 'en': how the standards are joined.

    Returns
    -------
    pandas.DataFrame
        ``district``, ``standards`` (their names), ``n_standards``, ``area_m2``, ``area_ha``,
        then :func:`geoplan.locate.locate`'s ``street`` and coordinates in WGS 84, GCJ-02 and
        BD-09.
    """
    from geoplan.gap_places import gap_places
    from geoplan.locate import locate

    first = ["district", "standards", "n_standards", "area_m2", "area_ha"]
    if len(gaps) == 0:
        return pd.DataFrame(columns=[*first, "street"])
    places = gap_places(pd.DataFrame(gaps.drop(columns=gaps.geometry.name)), locate(gaps, roads),
                        names, lang)
    places = places.sort_values(["area_m2", "n_standards"], ascending=False, kind="stable")
    places = places.head(top)
    places["area_ha"] = places["area_m2"] / 10_000
    where = [c for c in places.columns if c == "street" or c.startswith(("lon_", "lat_"))]
    return places[[*first, *where]].reset_index(drop=True)


def district_bounds(layerset: LayerSet, district: str | None) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of a district in WGS 84, for ``folium.Map.fit_bounds``.

    None for ``district`` None or a name not in the layer set.
    """
    if district is None:
        return None
    rows = layerset.districts.loc[layerset.districts["district"] == district]
    if rows.empty:
        return None
    west, south, east, north = rows.to_crs(4326).total_bounds
    return [[float(south), float(west)], [float(north), float(east)]]
