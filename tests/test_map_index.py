"""The city-sized meeting map: an index map with one detail page per district (issue 11, item 4).

A tiny budget forces the index on the synthetic three-district analysis of the map tests, whose
district names are hostile (a script, a spreadsheet formula, a path out of the folder).
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from tests._browser import Session, settle
from tests._report_synthetic import make_coverage, make_deadends, make_layerset, make_sites

NAMES = ["<script>alert(1)</script>", '=HYPERLINK("http://x.example","点我")', "../../etc"]
_REFS = re.compile(r'(?:href|src)="([^"]+)"')
_FOLIUM_ID = re.compile(r"_[0-9a-f]{32}")


def _inputs(names: list[str] = NAMES, one_standard: bool = False) -> tuple[Any, Any, Any, Any]:
    coverage = make_coverage(names)
    if one_standard:  # a cheaper map, for the tests of the folder mechanics
        for key in ("table", "gaps", "reached", "reach_areas"):
            frame = getattr(coverage, key)
            setattr(coverage, key, frame.loc[frame["standard"] == "park_500"])
    return make_layerset(names), coverage, make_deadends(names), make_sites(names)


def _refs(text: str) -> list[str]:
    """Local links and sources of a page, also those inside the controls' JSON strings."""
    texts = [text] + [json.loads(m) for m in re.findall(r'innerHTML = ("(?:[^"\\]|\\.)*");', text)]
    refs = [r for t in texts for r in _REFS.findall(t)]
    data = re.search(r"var pages = (\{.*?\});\n", text)
    if data is not None:
        refs += [p["href"] for p in json.loads(data.group(1)).values()]
    return [html.unescape(r) for r in refs if not r.startswith(("data:", "#", "http"))]


@pytest.fixture(scope="module")
def index_out(tmp_path_factory) -> tuple[Path, list[Path]]:
    from geoplan.report.maps import write_maps

    layerset, coverage, deadends, sites = _inputs()
    out = tmp_path_factory.mktemp("index")
    files = write_maps(layerset, coverage, deadends, None, out, sites=sites, max_mb=0.01,
                       title="测试城市")
    return out, files


def _local_refs(page: Path) -> list[str]:
    return _refs(page.read_text(encoding="utf-8"))


def test_index_links_every_district_page_and_every_link_resolves(index_out) -> None:
    from geoplan.report._offline import leaflet_js

    out, files = index_out
    index = out / "map.html"
    assert files[0] == index
    pages = sorted((out / "maps").glob("*.html"))
    assert len(pages) == len(NAMES)
    assert sorted(files[1:]) == sorted((out / "maps").iterdir())
    links = [r for r in _local_refs(index) if r.endswith(".html")]
    assert sorted({(out / r).resolve() for r in links}) == [p.resolve() for p in pages]
    for page in [index, *pages]:
        for ref in _local_refs(page):
            assert (page.parent / ref).resolve().is_file(), (page.name, ref)
    for page in pages:
        assert "../map.html" in _local_refs(page)
        # the shared scripts are linked, not inlined: a page holds no copy of Leaflet
        text = page.read_text(encoding="utf-8")
        assert leaflet_js()[:2000] not in text
        assert '<script src="leaflet.js"></script>' in text
    assert '<script src="maps/leaflet.js"></script>' in index.read_text(encoding="utf-8")


def test_hostile_district_names_give_safe_file_names_and_escaped_text(index_out) -> None:
    from geoplan.report._offline import external_references

    out, _ = index_out
    for page in (out / "maps").glob("*.html"):
        # letters of any script, digits, - and _: no dot, quote, slash or bracket of a name
        assert re.fullmatch(r"\d{2}-[\w-]+\.html", page.name), page.name
        assert page.resolve().parent == (out / "maps").resolve()
    names = sorted(p.name for p in (out / "maps").glob("*.html"))
    assert "02-HYPERLINK-http-x-example-点我.html" in names and "03-etc.html" in names
    index = (out / "map.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in index
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index  # the list of district pages
    assert "=HYPERLINK(&quot;http://x.example&quot;,&quot;点我&quot;)" in index
    assert external_references(index) == []
    for page in (out / "maps").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert(1)</script>" not in text
        assert external_references(text) == []
    # in the scripts' data the names are JSON with no "<" at all
    data = re.search(r"var pages = (\{.*?\});\n", index)
    assert data is not None
    assert set(json.loads(data.group(1))) == set(NAMES)


def test_each_page_holds_its_district_and_the_data_around_it(index_out) -> None:
    import shapely

    from geoplan.report._map_index import district_pages, page_inputs

    out, _ = index_out
    first = sorted((out / "maps").glob("*.html"))[0].read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; · 测试城市" in first  # the title
    assert "gp-coverage" in first and "gp-gaps" in first
    layerset, coverage, deadends, sites = _inputs()
    page = district_pages(layerset)[0]
    lay, cov, dead, site, _ = page_inputs(layerset, coverage, deadends, sites, None, page, 500.0)
    assert list(lay.districts["district"]) == [NAMES[0]]
    assert set(cov.table["district"]) == {NAMES[0]}
    # districts are 1 km squares side by side: 500 m around the first reaches the second only
    assert set(cov.gaps["district"]) == set(NAMES[:2])
    assert set(dead.dead_ends["district"]) <= set(NAMES[:2])
    box = shapely.box(*page.geometry.buffer(500, join_style="mitre").bounds)
    assert len(lay.layers["water"]) == 0  # the river lies 1.8 km from the first district
    for gdf in (lay.layers["roads"], cov.gaps, cov.reach_areas, site.table):
        assert len(gdf) and shapely.covers(box.buffer(1e-6), gdf.geometry.to_numpy()).all()
    # figures come from the exact results, not from the cut shapes
    assert cov.gaps["area_m2"].tolist() == coverage.gaps.loc[cov.gaps.index, "area_m2"].tolist()


def test_below_the_budget_the_map_is_the_single_page_as_before(index_out, tmp_path) -> None:
    from geoplan.report.maps import build_map, render_map, write_maps

    layerset, coverage, deadends, sites = _inputs()
    # the pages of an earlier index map in the folder go when a single map is written
    shutil.copytree(index_out[0] / "maps", tmp_path / "maps")
    files = write_maps(layerset, coverage, deadends, None, tmp_path, sites=sites)
    assert files == [tmp_path / "map.html"]
    assert not (tmp_path / "maps").exists()
    page = _FOLIUM_ID.sub("_", files[0].read_text(encoding="utf-8"))
    again = _FOLIUM_ID.sub("_", render_map(build_map(layerset, coverage, deadends, sites=sites)))
    assert page == again


def test_pages_sharing_work_are_the_pages_each_built_on_its_own(index_out) -> None:
    """The pages reuse each other's drawn shapes, spatial index and district texts
    (geoplan.report._map_cache): each must be the page its inputs give alone."""
    from geoplan.report._map_index import (
        add_back_link,
        district_pages,
        link_shared_assets,
        page_inputs,
    )
    from geoplan.report.maps import build_map, render_map

    out, _ = index_out
    layerset, coverage, deadends, sites = _inputs()
    pages = district_pages(layerset)
    # the second page: written after the first, whose margin it shares
    page = pages[1]
    lay, cov, dead, site, chk = page_inputs(layerset, coverage, deadends, sites, None, page, 500.0)
    m = build_map(lay, cov, dead, sites=site, checks=chk, title=f"{page.name} · 测试城市")
    add_back_link(m, "zh")
    link_shared_assets(m, "")
    alone = _FOLIUM_ID.sub("_", render_map(m))
    written = _FOLIUM_ID.sub("_", (out / page.file).read_text(encoding="utf-8"))
    assert written == alone


def test_one_district_never_gets_an_index_and_the_estimate_follows_the_roads() -> None:
    from geoplan.config import MapSettings
    from geoplan.report.map_size import (
        BASE_MB,
        BYTES_PER_ROAD_VERTEX,
        DEFAULT_MAX_MB,
        estimate_mb,
        needs_index,
    )

    layerset, coverage, _, _ = _inputs()
    # two roads of two vertices each
    assert estimate_mb(layerset, coverage) == pytest.approx(BASE_MB + 4 * BYTES_PER_ROAD_VERTEX / 1e6)
    assert needs_index(layerset, coverage, 0.01)
    one = make_layerset(["一区"])
    assert not needs_index(one, make_coverage(["一区"]), 0.01)
    assert MapSettings().max_mb == DEFAULT_MAX_MB


def test_the_run_folder_records_the_pages_and_a_rerun_never_mixes_them(tmp_path) -> None:
    from geoplan._outdir import OutputRun
    from geoplan.report.maps import write_maps

    layerset, coverage, deadends, sites = _inputs(NAMES[:2], one_standard=True)
    target = tmp_path / "out"
    with OutputRun(target, command="map", keep_same_analysis=True) as run:
        write_maps(layerset, coverage, deadends, None, run.path, sites=sites, max_mb=0.01)
        run.commit()
    record = json.loads((target / "run.json").read_text(encoding="utf-8"))
    recorded = {f["path"] for f in record["files"]}
    pages = sorted(p.name for p in (target / "maps").iterdir())
    assert len([p for p in pages if p.endswith(".html")]) == 2
    assert {f"maps/{p}" for p in pages} <= recorded
    # a run that fails after carrying the folder over leaves it as it was
    with pytest.raises(RuntimeError), OutputRun(target, command="map",
                                                keep_same_analysis=True) as run:
        assert (run.path / "maps").is_dir()
        raise RuntimeError("killed")
    assert sorted(p.name for p in (target / "maps").iterdir()) == pages
    # a rerun below the budget carries the earlier pages over, then drops them
    with OutputRun(target, command="map", keep_same_analysis=True) as run:
        write_maps(layerset, coverage, deadends, None, run.path, sites=sites)
        run.commit()
    assert not (target / "maps").exists()
    assert (target / "map.html").is_file()


_PAN_DONE = """() => { const m = window.geoplan.map;
    return !(m._panAnim && m._panAnim._inProgress) && !m._animatingZoom; }"""

_CLICK_FIRST_DISTRICT = """() => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    let name = null;
    map.eachLayer(l => {
        if (name !== null || !l.feature || !map.hasLayer(l)) { return; }
        if (!(l.options.className || "").includes("gp-coverage")) { return; }
        l.fire("click", {latlng: l.getBounds().getCenter()});
        name = l.feature.properties.district;
    });
    return name;
}"""


@contextlib.contextmanager
def _index_session(browser: Any, width: int, height: int) -> Iterator[Session]:
    """A page of the module's browser (blocking the web) on a screen of the given size."""
    s = Session(browser)
    s.page.set_viewport_size({"width": width, "height": height})
    try:
        yield s
    finally:
        s.page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_index_opens_a_district_page_offline_with_its_layers_drawn(index_out, tmp_path,
                                                                    browser) -> None:
    out, _ = index_out
    with _index_session(browser, 1366, 860) as s:
        page = s.page
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        s.open(out / "map.html")
        page.wait_for_selector("path.gp-coverage")
        assert page.locator("path.gp-coverage").count() == len(NAMES)
        assert NAMES[0] in (page.locator("#geoplan-index").text_content() or "")
        # no roads are drawn on the index: no box offers them (it was ticked and did nothing)
        assert "道路与水系" not in (page.locator("#geoplan-layers").text_content() or "")
        name = page.evaluate(_CLICK_FIRST_DISTRICT)
        assert name in NAMES
        link = page.wait_for_selector("a.gp-index-link")
        popup = page.locator(".leaflet-popup-content").inner_text()
        assert name in popup and "%" in popup
        # as a reader would: click once the popup has panned into view (a click during the
        # pan can land where the link no longer is, on a busy machine)
        page.wait_for_function(_PAN_DONE)
        with page.expect_navigation(wait_until="load"):  # not the index's own load state
            link.click()
        page.wait_for_selector("path.gp-coverage")
        assert page.url.split("#")[0].endswith(".html") and "/maps/" in page.url
        assert page.locator("path.gp-gaps").count() > 0
        assert name in page.locator("#geoplan-title").inner_text()
        with page.expect_navigation(wait_until="load"):
            page.locator("#geoplan-back a").click()
        assert page.url.split("#")[0].endswith("/map.html")
        # a page whose file name keeps its Chinese (02-HYPERLINK-http-x-example-点我.html),
        # from the index's list of districts
        with page.expect_navigation(wait_until="load"):  # the list may be folded: its link
            page.locator("#geoplan-index a", has_text="点我").first.evaluate("a => a.click()")
        page.wait_for_selector("path.gp-coverage")
        assert unquote(page.url).split("#")[0].endswith("/maps/02-HYPERLINK-http-x-example-点我.html")
        assert "点我" in page.locator("#geoplan-title").inner_text()
        assert dialogs == []
        assert s.blocked == []
        assert [e for e in s.errors if "Failed to load resource" not in e] == []


def test_a_page_draws_the_same_with_only_the_layers_a_map_reads(chengdu_layers,
                                                                 chengdu_results) -> None:
    """Pages are given only :data:`DRAWN_LAYERS`: with every layer of the city (walking graph,
    buildings, residential land…) the page is the same, so none of the others is drawn."""
    import copy

    import shapely

    from geoplan.report._map_index import DRAWN_LAYERS, _within, district_pages, page_inputs
    from geoplan.report.maps import build_map, render_map

    coverage, deadends, sites = chengdu_results
    page = district_pages(chengdu_layers)[1]
    lay, cov, dead, near, chk = page_inputs(chengdu_layers, coverage, deadends, sites, None, page,
                                            500.0)
    assert set(lay.layers) <= set(DRAWN_LAYERS)
    assert {"walkways", "buildings", "residential"} <= set(chengdu_layers.layers) - set(lay.layers)
    every = copy.copy(lay)
    x0, y0, x1, y1 = page.geometry.bounds
    box = shapely.box(x0 - 500, y0 - 500, x1 + 500, y1 + 500)  # as page_inputs cuts
    every.layers = {**{k: _within(v, box) for k, v in chengdu_layers.layers.items()},
                    "districts": lay.layers["districts"]}
    ids = re.compile(r"_[0-9a-f]{32}")
    pages = [ids.sub("", render_map(build_map(layers, cov, dead, sites=near, checks=chk)))
             for layers in (lay, every)]
    assert pages[0] == pages[1]


@pytest.mark.browser
def test_an_index_popup_with_every_standard_fits_a_short_screen(index_out, browser) -> None:
    # the index adds every standard's share and the page link to a district's popup after it
    # opens; laid out again, it stays on screen with its close button and scrolls inside
    out, _ = index_out
    with _index_session(browser, 1000, 450) as s:
        page = s.page
        s.open(out / "map.html")
        page.wait_for_selector("path.gp-coverage")
        page.evaluate(_CLICK_FIRST_DISTRICT)
        link = page.wait_for_selector("a.gp-index-link")
        settle(page)
        content = page.locator(".leaflet-popup-content")
        assert content.evaluate("e => e.scrollHeight > e.clientHeight + 10")
        wrapper = page.locator(".leaflet-popup-content-wrapper").bounding_box()
        close = page.locator(".leaflet-popup-close-button").bounding_box()
        title = page.locator("#geoplan-title").bounding_box()
        # below the title (not under it), and within the screen
        assert wrapper["y"] >= title["y"] + title["height"]
        assert wrapper["y"] + wrapper["height"] <= 450
        assert 0 <= close["y"] and close["y"] + close["height"] <= 450
        # the link to the page is in view without scrolling: under the district's name,
        # above the list of shares (below it, it was under a laptop screen's fold)
        box = link.bounding_box()
        assert box is not None and box["y"] + box["height"] <= wrapper["y"] + wrapper["height"]
        assert content.evaluate("e => e.scrollTop") == 0
        assert link.evaluate("a => a.previousElementSibling !== null && "
                             "a.nextElementSibling !== null")
        assert [e for e in s.errors if "Failed to load resource" not in e] == []


def test_a_district_page_locates_itself_in_the_whole_city(index_out) -> None:
    """A page's locator draws every district of the city and marks its own (its own outline
    alone told nothing of where it lies); the index map's marks none."""
    import json
    import re

    out, _ = index_out

    def spec(page: Path) -> dict:
        found = re.search(r"geoplan\.locator\([^,]+, (\{.*?\})\);", page.read_text(encoding="utf-8"))
        assert found, page
        return json.loads(found.group(1))

    pages = sorted((out / "maps").glob("*.html"))
    marked = []
    for page in pages:
        s = spec(page)
        assert len(s["rings"]) >= len(NAMES)
        assert len(s["mine"]) == 1
        marked.append(s["mine"][0])
    assert sorted(marked) == list(range(len(NAMES)))  # each page its own district
    assert spec(out / "map.html")["mine"] == []


def test_a_scenario_s_index_and_pages_say_each_share_before_and_after(tmp_path) -> None:
    """``geoplan scenario`` on a city: the index's list and each page's labels give a share
    that moved as "before → after" (the table carries the before, geoplan.scenario.with_before),
    one that did not as itself."""
    from geoplan.report._data import fmt_share
    from geoplan.report.maps import write_maps
    from geoplan.scenario import with_before

    layerset, coverage, _, _ = _inputs(one_standard=True)
    table = coverage.table.reset_index(drop=True)
    before = table.copy()
    before.loc[0, "share_buffer"] -= 0.1  # the first district's share moved, the others not
    coverage.table = with_before(table, before)
    out = tmp_path / "out"
    out.mkdir()
    write_maps(layerset, coverage, None, None, out, max_mb=0.01, title="情景")
    index = (out / "map.html").read_text(encoding="utf-8")
    pages = json.loads(re.search(r"var pages = (\{.*?\});\n", index).group(1))
    moved, still = table.loc[0], table.loc[1]
    want = f"{fmt_share(moved['share_buffer'] - 0.1)} → {fmt_share(moved['share_buffer'])}"
    assert want in [s for _, s in pages[moved["district"]]["shares"]]
    assert all("→" not in s for _, s in pages[still["district"]]["shares"])
    page = (out / pages[moved["district"]]["href"]).read_text(encoding="utf-8")
    assert json.dumps(want, ensure_ascii=False)[1:-1] in page


@pytest.mark.browser
def test_the_standard_and_measure_shown_go_with_the_links_between_index_and_pages(
        index_out, browser) -> None:
    # chosen on the index, they opened a page on the first standard and the straight-line
    # measure; and back again
    out, _ = index_out
    with _index_session(browser, 1366, 860) as s:
        page = s.page
        s.open(out / "map.html")
        page.wait_for_selector("path.gp-coverage")
        sids = page.evaluate("() => geoplan.order")
        assert len(sids) > 1
        page.evaluate(f"() => {{ geoplan.showStandard({json.dumps(sids[-1])}); "
                      "geoplan.setMeasure('network'); }")
        page.evaluate(_CLICK_FIRST_DISTRICT)
        link = page.wait_for_selector("a.gp-index-link")
        with page.expect_navigation(wait_until="load"):
            link.evaluate("a => a.click()")
        page.wait_for_selector("path.gp-coverage")
        assert "/maps/" in page.url
        assert page.evaluate("() => [geoplan.current, geoplan.measure]") == [sids[-1], "network"]
        checked = page.locator("#geoplan-layers input[name=geoplan-standard]:checked")
        assert checked.get_attribute("value") == sids[-1]
        with page.expect_navigation(wait_until="load"):
            page.locator("#geoplan-back a").evaluate("a => a.click()")
        assert page.url.split("#")[0].endswith("/map.html")
        assert page.evaluate("() => [geoplan.current, geoplan.measure]") == [sids[-1], "network"]
        assert [e for e in s.errors if "Failed to load resource" not in e] == []
