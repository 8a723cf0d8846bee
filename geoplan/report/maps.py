"""The meeting map: one self-contained HTML file (folium/Leaflet) that works with no internet.

:func:`build_map` draws, on a plain background (basemap tiles are optional):

- per standard, one layer chosen with a radio button in the layer panel's "标准" group (the
  first is shown): the districts coloured by the standard's buffer share against its target,
  the area reached over the walking network (reached edges buffered a little, dissolved,
  simplified), the uncovered gap polygons ranked per district, and the suggested new sites;
- overlays with checkboxes: facilities by kind with popups (name, kind, school level), parks
  and green space as areas; dead-end roads and suggested openings; the roads-and-water
  background and the district names;
- a legend that follows the chosen standard (its name and target), the layer panel, a scale
  bar and a title block (analysis name, data date, © OpenStreetMap contributors), all in
  Chinese, or English with ``lang='en'``.

Detail: a map fitted to a district-sized area draws its shapes as before; a city-sized map
(hundreds of km², opening at zoom 9–10) draws them fitted to the pixel of its opening view
(see :mod:`geoplan.report._map_detail`): tolerances grow with the pixel, small pieces and the
smaller gaps are left out, coordinates are stored to about 1 m. Popups and the live scenario
keep their figures from the exact results.

A whole city: when the single file would be larger than the size budget (config
``map.max_mb``), :func:`write_maps` writes ``map.html`` as an index map of the districts
linking one full page per district under ``maps/`` (see :mod:`geoplan.report._map_index`).

Tiles: the default is **no tiles**, a plain background with the map's own roads and water drawn
as a light background layer. A meeting room often has no internet, and tiles that fail to load
show as grey squares and fill the browser console with errors; planners who are online can add
OpenStreetMap (``tiles='osm'``) or Tianditu (``tiles='tianditu'`` with their key) tiles, which
simply stay blank offline while every layer of the map still shows. Leaflet itself is inlined
(see :mod:`geoplan.report._offline`): nothing is fetched from a CDN.
"""

from __future__ import annotations

import html
import logging
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import shapely
from branca.element import Element, Figure

from geoplan._errors import ConfigError, OutputError
from geoplan._io import atomic_path
from geoplan._processes import process_map
from geoplan.report._data import frame, standard_rows, standards_order, to_wgs84
from geoplan.report._labels import labels, standard_name, unit_of
from geoplan.report._map_cache import current as shared_work
from geoplan.report._map_cache import sharing
from geoplan.report._map_checks import add_data_checks, datum_banner
from geoplan.report._map_controls import (
    MAP_CSS,
    HtmlControl,
    LayerPanel,
    Locator,
    OpeningView,
    ScaleBar,
    ZoomButtons,
    legend_coverage,
    legend_rows,
    title_html,
)
from geoplan.report._map_detail import detail_for_bounds, using
from geoplan.report._map_index import (
    DEFAULT_MARGIN_M,
    PAGES_DIR,
    DistrictPage,
    add_back_link,
    add_index_parts,
    district_pages,
    index_inputs,
    link_shared_assets,
    page_inputs,
    shared_assets,
)
from geoplan.report._map_layers import add_runtime
from geoplan.report._map_overlays import (
    add_context,
    add_deadends,
    add_district_labels,
    add_facilities,
    add_street_names,
)
from geoplan.report._map_people import add_seat_gap_layers
from geoplan.report._map_people import legend_title as seat_title
from geoplan.report._map_scenario import add_live_scenario
from geoplan.report._map_standards import (
    MAX_GAPS_PER_DISTRICT,
    StandardParts,
    coverage_class,
    standard_layers,
)
from geoplan.report._map_words import MEASURES, words
from geoplan.report._offline import external_references, make_offline
from geoplan.report.map_size import map_budget_mb, needs_index

if TYPE_CHECKING:
    from geoplan.config import AnalysisConfig
    from geoplan.layers.layerset import LayerSet
    from geoplan.results import CoverageResult, DeadEndResult, SiteResult


logger = logging.getLogger(__name__)

_TIANDITU = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
             "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
             "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")


def _check_tiles(tiles: str | None, key: str | None) -> str | None:
    tiles = None if tiles in (None, "", "none") else tiles
    if tiles not in (None, "osm", "tianditu"):
        raise ConfigError("map options", [f"tiles: unknown value {tiles!r}; use osm, tianditu or none"])
    if tiles == "tianditu" and not key:
        raise ConfigError("map options", [
            "tiles: Tianditu tiles need your key: --tianditu-key KEY "
            "(free from https://console.tianditu.gov.cn)"])
    return tiles


def _base_map(bounds: Any, title: str, lang: str) -> folium.Map:
    """An empty offline map fitted to ``bounds`` (minx, miny, maxx, maxy in WGS 84)."""
    minx, miny, maxx, maxy = bounds
    centre = [round((miny + maxy) / 2, 6), round((minx + maxx) / 2, 6)]
    m = folium.Map(location=centre, zoom_start=13, tiles=None,
                   control_scale=False, zoom_control=False, prefer_canvas=False,
                   zoom_snap=0.25, zoom_delta=0.5)
    w = words(lang)
    m.add_child(ZoomButtons(w["zoom_in"], w["zoom_out"]))  # first: where folium's own would be
    make_offline(m)
    add_runtime(m)
    root = m.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element(MAP_CSS), name="geoplan_css")
    # branca parses header elements as Jinja templates too: no "{" from data reaches it raw
    safe_title = html.escape(title).replace("{", "&#123;")
    root.header.add_child(Element(f"<title>{safe_title}</title>"), name="geoplan_title")
    # keep the data clear of the legend (left) and the open layer panel (right)
    m.add_child(OpeningView([[miny, minx], [maxy, maxx]], top_left=(200, 10),
                            bottom_right=(240, 10)))
    return m


def _ordered(coverage: Any, standard: str | None) -> list[str]:
    order = standards_order(coverage)
    if standard is not None and standard in order:
        return [standard] + [s for s in order if s != standard]
    if standard is not None:
        logger.warning("standard %r is not in the coverage results (%s): showing %s first",
                       standard, ", ".join(order) or "none", order[0] if order else "nothing")
    return order


def build_map(
    layerset: LayerSet,
    coverage: CoverageResult | None,
    deadends: DeadEndResult | None = None,
    *,
    lang: str = "zh",
    tiles: str | None = None,
    tianditu_key: str | None = None,
    title: str | None = None,
    data_date: str | None = None,
    config: AnalysisConfig | None = None,
    standard: str | None = None,
    sites: Any = None,
    checks: gpd.GeoDataFrame | None = None,
    live_scenario: bool = True,
) -> folium.Map:
    """Build the offline meeting map.

    Parameters
    ----------
    layerset
        The analysis' :class:`~geoplan.layers.load.LayerSet` (projected CRS).
    coverage
        A :class:`~geoplan.results.CoverageResult` (``table``, ``gaps``, ``reached``), or None.
    deadends
        A :class:`~geoplan.results.DeadEndResult` (``dead_ends``, ``candidates``), or None.
    lang
        'zh' (default) or 'en' for every label, legend entry and popup.
    tiles
        None or 'none' (default: plain background), 'osm', or 'tianditu' (needs
        ``tianditu_key``). Tiles need the internet; the map's own layers never do.
    tianditu_key
        The user's Tianditu API key (天地图 tk).
    title, data_date
        The title block's heading and data date; default from ``config`` (``name``,
        ``osm.date``).
    config
        The :class:`~geoplan.config.AnalysisConfig`, used for the defaults above.
    standard
        The standard shown first (default: the first standard).
    sites
        Suggested new facility sites (a :class:`~geoplan.results.SiteResult`), or None.
    checks
        The data checks (:func:`geoplan.data_checks.data_checks`), drawn as their own layers,
        with a banner when the datum check warns; or None.
    live_scenario
        Whether to add the live scenario (placing planned facilities); the index map of a
        city has none (its pages have).

    Returns
    -------
    folium.Map
        With Leaflet inlined: rendering it gives a page that loads nothing from a CDN.

    Raises
    ------
    ConfigError
        For an unknown ``tiles`` value, or Tianditu tiles without a key.
    """
    lab = labels(lang, unit_of(layerset, coverage))
    tiles = _check_tiles(tiles, tianditu_key)
    if title is None:
        title = getattr(config, "name", None) or "geoplan"
    if data_date is None and config is not None:
        data_date = getattr(getattr(config, "osm", None), "date", None)
    dist_wgs = to_wgs84(layerset.districts[["district", "geometry"]], simplify_m=2.0)
    detail = detail_for_bounds(dist_wgs.total_bounds)
    if detail.factor > 1:
        logger.info("map: a city-sized map (%.0f m per pixel at the opening view): shapes "
                    "simplified %.1f× more, coordinates to 1e-5°", detail.m_per_px, detail.factor)
    with using(detail):
        m = _base_map(dist_wgs.total_bounds, title, lang)
        tile_items = _add_tiles(m, tiles, tianditu_key, lab)
        context = add_context(m, layerset, lab)
        order = _ordered(coverage, standard)
        rows = standard_rows(coverage)
        entries = standard_layers(m, dist_wgs, coverage, sites, order, rows, lab, lang, layerset)
        fac_legend, facility_items = add_facilities(
            m, layerset, lab, lang, (getattr(coverage, "meta", None) or {}).get(
                "planned_sources", ()))
        dead_legend, road_items = add_deadends(m, deadends, lab, lang)
        seat_legend, seat_items = add_seat_gap_layers(m, dist_wgs, getattr(coverage, "people", None),
                                                      lang)
        check_legend, check_items = add_data_checks(m, checks, layerset.districts, lang,
                                                    lab["unit"])
        streets = add_street_names(m, layerset, lang)
        names = add_district_labels(m, dist_wgs, lab, layerset.districts.get("inside_share"))
        # roads and water offered only where drawn: a city's index map has none, and its
        # ticked box did nothing
        background = [*([{"key": "context", "label": lab["layer_context"], "layer": context,
                          "back": True}] if context._children else []),
                      {"key": "labels", "label": lab["layer_labels"], "layer": names},
                      *([{"key": "streets", "label": streets.layer_name, "layer": streets}]
                        if streets is not None else []),
                      *tile_items]
        LayerPanel([
            {"title": lab["layers_standard"], "kind": "standard",
             "items": _standard_items(entries, rows, lang)},
            {"title": words(lang)["measure_title"], "kind": "measure",
             "items": _measure_items(lang) if entries else []},
            {"title": lab["legend_facilities"], "kind": "overlay", "items": facility_items},
            {"title": lab["layers_roads"], "kind": "overlay", "items": road_items},
            *([{"title": seat_title(lang), "kind": "overlay", "items": seat_items}]
              if seat_items else []),
            *([{"title": check_items[0]["label"], "kind": "overlay", "items": check_items}]
              if check_items else []),
            {"title": lab["layers_background"], "kind": "overlay", "items": background},
        ], heading=lab["layers"]).add_to(m)
        HtmlControl(title_html(title, data_date, lab), position="topleft", element_id="geoplan-title",
                    css_class="geoplan-box geoplan-title",
                    attribution=lab["osm_attribution"]).add_to(m)
        if live_scenario:  # 挂图作战, below the title
            add_live_scenario(m, layerset, coverage, config, lang, order)
        ScaleBar().add_to(m)
        _add_locator(m, dist_wgs, getattr(layerset, "overview", None))
        _add_legend(m, entries, fac_legend, dead_legend, lab, sites_drawn=any(
            e.sites is not None for e in entries),
            extra=[(seat_title(lang), seat_legend), (check_items[0]["label"] if check_items else "",
                                                      check_legend)])
        banner = datum_banner(checks, lang)
        if banner is not None:
            HtmlControl(banner, position="topright", element_id="geoplan-datum-warning",
                        css_class="geoplan-box geoplan-warning").add_to(m)
        return m


def _add_locator(m: folium.Map, dist_wgs: Any, overview: Any = None) -> None:
    """The overview in the bottom right, from the districts' outlines (about 1 kB).

    A district page of an index map (``overview``: the city's districts) shows the whole
    city, its own district highlighted (its own outline alone told nothing of where it lies).
    The pages of one index map make the city's outlines once (the same outlines)."""
    if overview is not None and len(overview) > len(dist_wgs):
        cache = shared_work()
        if cache is not None and "locator" in cache.city:
            rings, owners, bounds = cache.city["locator"]
        else:
            rings, owners, bounds = _locator_rings(to_wgs84(overview, simplify_m=2.0))
            if cache is not None:
                cache.city["locator"] = (rings, owners, bounds)
        names = set(dist_wgs["district"].astype(str))
        Locator(rings, bounds, [i for i, o in enumerate(owners) if o in names]).add_to(m)
        return
    rings, _, bounds = _locator_rings(dist_wgs)
    if rings:
        Locator(rings, bounds).add_to(m)


def _locator_rings(dist_wgs: Any) -> tuple[list[list[float]], list[str], list[float]]:
    """Each district polygon's simplified outline, its district's name, and their bounds."""
    rings: list[list[float]] = []
    owners: list[str] = []
    for name, geom in zip(dist_wgs["district"].astype(str), dist_wgs.geometry, strict=True):
        for poly in getattr(geom, "geoms", [geom]):
            if poly.is_empty or poly.geom_type != "Polygon":
                continue
            ring = shapely.simplify(poly.exterior, 0.0008)
            rings.append([round(float(v), 4) for xy in ring.coords for v in xy])
            owners.append(name)
    return rings, owners, [round(float(v), 4) for v in dist_wgs.total_bounds]


def _standard_items(entries: list[StandardParts], rows: Mapping[str, Mapping[str, Any]],
                    lang: str) -> list[dict[str, Any]]:
    lab = labels(lang)
    out = []
    for e in entries:
        target = rows[e.sid].get("target")
        note = "" if target is None else f"{lab['target']} {100 * float(target):.0f}%"
        out.append({"key": e.sid, "label": standard_name(rows[e.sid], lang), "note": note,
                    "layer": e.group})
    return out


def _measure_items(lang: str) -> list[dict[str, Any]]:
    w = words(lang)
    return [{"key": m, "label": w[f"measure_{m}"], "layer": None} for m in MEASURES]


def _add_legend(m: folium.Map, entries: list[StandardParts], fac: list[dict[str, str]],
                dead: list[dict[str, str]], lab: Mapping[str, str], sites_drawn: bool,
                extra: Sequence[tuple[str, list[dict[str, str]]]] = ()) -> None:
    sections = []
    if entries:
        sections.append(legend_coverage(lab, entries[0].legend, "buffer", sites=sites_drawn))
    sections.append(legend_rows(lab["legend_facilities"], fac))
    sections.append(legend_rows(lab["layers_roads"], dead))
    sections += [legend_rows(title, rows) for title, rows in extra]
    legend = f"<h2>{html.escape(lab['legend'])}</h2>" + "".join(s for s in sections if s)
    HtmlControl(legend, position="bottomleft", element_id="geoplan-legend",
                css_class="geoplan-box geoplan-legend").add_to(m)


def _add_tiles(m: folium.Map, tiles: str | None, key: str | None, lab: Mapping[str, str]
               ) -> list[dict[str, Any]]:
    """The online tiles, if asked for; returns their layer panel items (background)."""
    items: list[dict[str, Any]] = []
    if tiles == "osm":
        layer = folium.TileLayer("OpenStreetMap", name=lab["tiles_osm"], overlay=False,
                                 control=False)
        layer.add_to(m)
        items.append({"key": "tiles_osm", "label": lab["tiles_osm"], "layer": layer,
                      "back": True})
    elif tiles == "tianditu":
        attr = "天地图 © 国家地理信息公共服务平台"
        for code, name, overlay in (("vec", lab["tiles_tianditu"], False),
                                    ("cva", lab["tiles_tianditu_labels"], True)):
            layer = folium.TileLayer(_TIANDITU.format(layer=code, key=key, s="{s}"), attr=attr,
                                     name=name, overlay=overlay, control=False,
                                     subdomains="01234567", max_zoom=18)
            layer.add_to(m)
            items.append({"key": f"tiles_{code}", "label": name, "layer": layer,
                          "back": not overlay})
    return items


def render_map(m: folium.Map) -> str:
    """The complete HTML page of ``m``.

    Raises
    ------
    OutputError
        If the page would fetch a script, stylesheet or image from the web (a folium
        element that links a CDN was added): the map must work offline.
    """
    page = m.get_root().render()
    external = external_references(page)
    if external:
        raise OutputError(
            "the meeting map would load files from the internet, which fails offline: "
            + ", ".join(sorted(set(external))))
    return page


def write_map(
    layerset: LayerSet,
    coverage: CoverageResult | None,
    deadends: DeadEndResult | None,
    config: AnalysisConfig | None,
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "zh",
    tiles: str | None = None,
    tianditu_key: str | None = None,
    title: str | None = None,
    data_date: str | None = None,
    standard: str | None = None,
    sites: SiteResult | None = None,
    checks: gpd.GeoDataFrame | None = None,
    max_mb: float | None = None,
) -> Path:
    """Build the meeting map and write it to ``<out_dir>/map.html`` atomically.

    The file is self-contained (Leaflet inlined, no ``map_files/`` folder): copy it alone to
    a USB stick. ``config`` (an :class:`~geoplan.config.AnalysisConfig`, or None) gives the
    title and data date; see :func:`build_map` for the other parameters. A city whose map
    would be larger than ``max_mb`` (default: the config's ``map.max_mb``) gets an index map
    with one page per district instead (see :func:`write_maps`).

    Returns
    -------
    Path
        The written ``map.html``.
    """
    return write_maps(layerset, coverage, deadends, config, out_dir, lang=lang, tiles=tiles,
                      tianditu_key=tianditu_key, title=title, data_date=data_date,
                      standard=standard, sites=sites, checks=checks, max_mb=max_mb)[0]


def write_maps(
    layerset: LayerSet,
    coverage: CoverageResult | None,
    deadends: DeadEndResult | None,
    config: AnalysisConfig | None,
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "zh",
    tiles: str | None = None,
    tianditu_key: str | None = None,
    title: str | None = None,
    data_date: str | None = None,
    standard: str | None = None,
    sites: SiteResult | None = None,
    checks: gpd.GeoDataFrame | None = None,
    max_mb: float | None = None,
    margin_m: float | None = None,
) -> list[Path]:
    """Write the meeting map: one ``map.html``, or an index map with district pages.

    When the map's estimated size (:func:`geoplan.report.map_size.estimate_mb`) is at most
    ``max_mb`` (default: the config's ``map.max_mb``, else
    :data:`~geoplan.report.map_size.DEFAULT_MAX_MB`), or there is one district, this is the
    single self-contained ``map.html``. Above it, ``map.html`` is an index map of the
    districts, each linked to its detail page ``maps/<NN>-<slug>.html`` (its full map, with
    the data within ``margin_m`` around it; default the config's ``map.detail_margin_m``),
    and the pages share their scripts from ``maps/`` (see :mod:`geoplan.report._map_index`).
    A ``maps`` folder left by an earlier index map in ``out_dir`` is replaced or removed.

    Returns
    -------
    list of Path
        ``map.html`` first, then every file under ``maps/`` (index case).
    """
    settings = getattr(config, "map", None)
    max_mb = map_budget_mb(config, max_mb)
    if margin_m is None:
        margin_m = float(getattr(settings, "detail_margin_m", DEFAULT_MARGIN_M))
    options: dict[str, Any] = {"lang": lang, "tiles": tiles, "tianditu_key": tianditu_key,
                               "title": title, "data_date": data_date, "config": config,
                               "standard": standard}
    out = Path(out_dir)
    target = out / "map.html"
    if needs_index(layerset, coverage, max_mb):
        return _write_index(layerset, coverage, deadends, out, sites, checks, options, margin_m)
    whole = coverage.in_memory() if coverage is not None else None
    m = build_map(layerset, whole, deadends, sites=sites, checks=checks, **options)
    del whole
    page = render_map(m)
    _remove_pages(out)
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    logger.info("wrote %s (%.0f kB)", target, target.stat().st_size / 1024)
    return [target]


def _remove_pages(out: Path) -> None:
    """Remove the ``maps`` folder of an earlier index map (one holding geoplan's runtime)."""
    pages = out / PAGES_DIR
    if pages.is_dir() and (pages / "geoplan_map.js").is_file():
        shutil.rmtree(pages)


def _write_index(layerset: LayerSet, coverage: CoverageResult | None,
                 deadends: DeadEndResult | None, out: Path, sites: SiteResult | None,
                 checks: gpd.GeoDataFrame | None, options: dict[str, Any], margin_m: float
                 ) -> list[Path]:
    """The index map and the district pages (see :func:`write_maps`)."""
    lang = str(options["lang"])
    title = options["title"] or getattr(options["config"], "name", None) or "geoplan"
    pages = district_pages(layerset)
    staging = out / f".{PAGES_DIR}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        for name, content in shared_assets().items():
            (staging / name).write_text(content, encoding="utf-8")
        with sharing() as cache:  # the pages reuse each other's work (same shapes and texts)
            cache.city.update(dist_wgs=to_wgs84(layerset.districts[["district", "geometry"]],
                                                simplify_m=2.0),
                              table=frame(coverage, "table"))

            def write_page(page: DistrictPage) -> None:
                p_layers, p_cov, p_dead, p_sites, p_checks = page_inputs(
                    layerset, coverage, deadends, sites, checks, page, margin_m)
                m = build_map(p_layers, p_cov, p_dead, sites=p_sites, checks=p_checks,
                              **{**options, "title": f"{page.name} · {title}"})
                add_back_link(m, lang)
                link_shared_assets(m, "")
                (staging / f"{page.slug}.html").write_text(render_map(m), encoding="utf-8")

            # pages on forked processes: on threads (held by the GIL in pandas and folium)
            # they took as long at 64 tiles, with 35 % more CPU and 160 MB more memory
            # the first page builds the city frames' indexes and shared tables for them all
            process_map(write_page, pages, desc="map: district pages", first_here=True)
            i_layers, i_cov = index_inputs(layerset, coverage)
            i_checks = (checks.loc[checks["check"].isin(["datum", "partial_district"])]
                        if checks is not None and "check" in checks else None)
            m = build_map(i_layers, i_cov, None, checks=i_checks, live_scenario=False,
                          **{**options, "title": title})
        add_index_parts(m, pages, coverage, lang, unit_of(layerset, coverage))
        link_shared_assets(m, f"{PAGES_DIR}/")
        index = render_map(m)
        _remove_pages(out)
        os.rename(staging, out / PAGES_DIR)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    target = out / "map.html"
    with atomic_path(target) as tmp:
        tmp.write_text(index, encoding="utf-8")
    files = sorted((out / PAGES_DIR).iterdir())
    largest = max(f.stat().st_size for f in files)
    logger.info("wrote %s (index, %.0f kB) and %d district pages in %s (largest %.0f kB)",
                target, target.stat().st_size / 1024, len(pages), out / PAGES_DIR,
                largest / 1024)
    return [target, *files]


__all__ = ["MAX_GAPS_PER_DISTRICT", "build_map", "coverage_class", "render_map", "write_map",
           "write_maps"]
