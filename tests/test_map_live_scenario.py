"""The live scenario (挂图作战) of the meeting map, in headless Chromium with the web blocked.

A planner places planned bus stops where the answer is known (in the largest straight-line gap
of 金牛区), drags one, deletes one, reads each district's share from the page and exports the
CSV; geoplan's own analysis of that CSV (``planned_config`` → ``load_layers`` →
``run_coverage``, what ``geoplan scenario --planned`` runs) gives the same straight-line shares
to 1e-6. The page's geometry (clipping, buffers, GCJ-02) is checked on its own against answers
known on paper and shapely.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geoplan._errors import InputDataError
from geoplan.chinese_coords import wgs84_to_gcj02
from geoplan.report._map_layers import polyline
from geoplan.report._map_scenario import eligible, fit_projection, planned_attributes, scenario_js
from geoplan.scenario import planned_config, read_planned
from geoplan.standards import resolve_standards
from tests._browser import Session

SID = "bus_stop_500"


# ---- the page's geometry on its own (no Leaflet, no map) ----

def _geom_page(session: Session, tmp_path: Path) -> Any:
    page = tmp_path / "geom.html"
    page.write_text(f"<!doctype html><meta charset=utf-8><script>{scenario_js()}</script>",
                    encoding="utf-8")
    return session.open(page)


@pytest.mark.browser
def test_page_geometry_against_paper_and_shapely(session, tmp_path):
    page = _geom_page(session, tmp_path)
    area = page.evaluate("""(() => {
        var G = geoplan.liveGeom;
        var sq = [[[0, 0], [100, 0], [100, 100], [0, 100]]];
        var c = G.convex(G.circle(0, 0, 50, 128));
        return {
            quarter: G.unionArea(sq, [c]),
            inside: G.unionArea(sq, [G.convex(G.circle(50, 50, 200, 128))]),
            apart: G.unionArea(sq, [G.convex(G.circle(400, 400, 50, 128))]),
            clockwise: G.unionArea([[[0, 0], [0, 100], [100, 100], [100, 0]]], [c]),
            holed: G.unionArea([[[-100, -100], [100, -100], [100, 100], [-100, 100]],
                                [[-10, -10], [-10, 10], [10, 10], [10, -10]]], [c]),
            pair: G.unionArea([[[-1000, -1000], [1000, -1000], [1000, 1000], [-1000, 1000]]],
                              [G.convex(G.circle(0, 0, 500, 128)),
                               G.convex(G.circle(300, 0, 500, 128))]),
            lshape: G.unionArea([[[0, 0], [400, 0], [400, 100], [100, 100], [100, 400],
                                   [0, 400]]], [G.convex(G.circle(120, 120, 150, 128)),
                                                G.convex(G.circle(200, 60, 90, 128)),
                                                G.convex(G.circle(60, 200, 90, 128))])
        };
    })()""")
    gon = 128 / 2 * 50 ** 2 * math.sin(2 * math.pi / 128)  # the 128-gon of radius 50, on paper
    assert area["quarter"] == pytest.approx(gon / 4, abs=1e-9)
    assert area["clockwise"] == pytest.approx(gon / 4, abs=1e-9)
    assert area["inside"] == pytest.approx(1e4, abs=1e-9)
    assert area["apart"] == 0
    assert area["holed"] == pytest.approx(gon - 400, abs=1e-9)
    # against shapely's own buffers and overlay (what geoplan computes)
    big = shapely.box(-1000, -1000, 1000, 1000)
    two = shapely.union_all([shapely.buffer(shapely.Point(0, 0), 500, quad_segs=32),
                             shapely.buffer(shapely.Point(300, 0), 500, quad_segs=32)])
    assert area["pair"] == pytest.approx(shapely.area(big & two), abs=1e-6)
    ell = shapely.Polygon([(0, 0), (400, 0), (400, 100), (100, 100), (100, 400), (0, 400)])
    three = shapely.union_all([shapely.buffer(shapely.Point(x, y), r, quad_segs=32)
                               for x, y, r in ((120, 120, 150), (200, 60, 90), (60, 200, 90))])
    assert area["lshape"] == pytest.approx(shapely.area(ell & three), abs=1e-6)


@pytest.mark.browser
def test_page_decodes_and_converts_like_python(session, tmp_path):
    page = _geom_page(session, tmp_path)
    ints = np.array([[123456789, -5], [123456700, 250000], [0, 0], [-99999999, 7]])
    assert page.evaluate("s => geoplan.liveGeom.decodeInts(s)", polyline(ints)) == \
        ints.ravel().tolist()
    pts = [(104.06080360105419, 30.724354030235382), (116.391, 39.907), (2.35, 48.85)]
    got = page.evaluate("ps => ps.map(p => geoplan.liveGeom.gcj02(p[0], p[1]))", pts)
    for (lon, lat), (glon, glat) in zip(pts, got, strict=True):
        want = wgs84_to_gcj02(lon, lat)
        assert glon == pytest.approx(float(want[0]), abs=1e-10)
        assert glat == pytest.approx(float(want[1]), abs=1e-10)


def test_projection_fit_is_sub_millimetre():
    fit = fit_projection("EPSG:32648", [104.0, 30.6, 104.2, 30.8], [400000.0, 3390000.0])
    assert fit["err_m"] < 1e-6
    fit = fit_projection("EPSG:4544", [104.0, 30.6, 104.2, 30.8], [0.0, 3390000.0])  # CGCS2000 GK
    assert fit["err_m"] < 1e-6


def test_projection_fit_uses_one_blas_thread_and_restores_the_limit():
    """The fit runs on one BLAS thread (threads spin between its small calls) and leaves the
    caller's limit as it was; the coefficients do not depend on the number of threads."""
    from threadpoolctl import threadpool_info, threadpool_limits

    args = ("EPSG:32648", [104.0, 30.6, 104.2, 30.8], [400000.0, 3390000.0])

    def blas_threads() -> list[int]:
        return [int(p["num_threads"]) for p in threadpool_info() if p["user_api"] == "blas"]

    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        two = fit_projection(*args)
        assert blas_threads() == before
    with threadpool_limits(limits=1, user_api="blas"):
        one = fit_projection(*args)
    assert two == one


def test_which_standards_are_placed_live():
    stds = {s.id: s for s in resolve_standards(
        ["bus_stop_500", "primary_school_500", "park_500", "park_service_coverage",
         "toilet_main_300", "life_circle_15min", "kindergarten_300"])}
    assert eligible(stds["bus_stop_500"]) is None
    assert eligible(stds["primary_school_500"]) is None
    assert eligible(stds["park_500"]) == "area_facility"
    assert eligible(stds["park_service_coverage"]) == "radius_rule"
    assert eligible(stds["toilet_main_300"]) == "street"
    assert eligible(stds["life_circle_15min"]) == "basket"
    assert planned_attributes(stds["primary_school_500"]) == {"levels": "primary"}
    assert planned_attributes(stds["kindergarten_300"]) == {"kind": "kindergarten"}
    assert planned_attributes(stds["bus_stop_500"]) == {}


# ---- the planned-facilities CSV ----

def test_planned_csv_is_checked_and_split_by_layer(chengdu_config, tmp_path):
    good = tmp_path / "planned.csv"
    good.write_text("\ufeffstandard,layer,name,lon_wgs84,lat_wgs84,levels\n"
                    "bus_stop_500,bus_stops,\"'=cmd\",104.06,30.72,\n"
                    "primary_school_500,schools,新小学,104.07,30.70,primary\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    cfg = planned_config(chengdu_config, good, work)
    added = {k: v[-1] for k, v in cfg.layers.items() if v and v[-1].path.is_relative_to(work)}
    assert set(added) == {"bus_stops", "schools"}
    assert added["schools"].mode == "add" and added["schools"].lon == "lon_wgs84"
    schools = pd.read_csv(added["schools"].path, dtype=str)
    assert schools["levels"].tolist() == ["primary"] and "layer" not in schools
    bad = tmp_path / "bad.csv"
    bad.write_text("layer,lon_wgs84,lat_wgs84\nparks,104.0,30.7\nbus_stops,x,30.7\n"
                   "bus_stops,204.0,30.7\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"line 2: layer 'parks'.*outline.*line 3.*line 4"):
        read_planned(bad)
    (tmp_path / "cols.csv").write_text("name,lon,lat\na,104,30\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="no column layer, lon_wgs84, lat_wgs84"):
        read_planned(tmp_path / "cols.csv")
    with pytest.raises(InputDataError, match="file not found"):
        read_planned(tmp_path / "none.csv")


def test_a_hand_made_planned_csv_gets_what_its_standards_filter_on(chengdu_config, tmp_path):
    # no kind, no levels: the kindergarten and the school passed no filter and changed no
    # standard, in silence
    hand = tmp_path / "hand.csv"
    hand.write_text("standard,layer,name,lon_wgs84,lat_wgs84\n"
                    "bus_stop_500,bus_stops,规划公交站1,104.0608,30.7243\n"
                    "kindergarten_300,services,规划幼儿园1,104.0608,30.7243\n"
                    "primary_school_500,schools,规划学校1,104.0608,30.7243\n"
                    ",services,没有标准的设施,104.0608,30.7243\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    cfg = planned_config(chengdu_config, hand, work)
    added = {k: pd.read_csv(v[-1].path, dtype=str, keep_default_na=False)
             for k, v in cfg.layers.items() if v and v[-1].path.is_relative_to(work)}
    assert added["schools"]["levels"].tolist() == ["primary"]
    assert added["services"]["kind"].tolist() == ["kindergarten", ""]  # a row with no standard
    assert "kind" not in added["bus_stops"] and "levels" not in added["bus_stops"]
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("standard,layer,lon_wgs84,lat_wgs84\nprimary_school_500,services,104.06,"
                     "30.72\nno_such_standard,bus_stops,104.06,30.72\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"line 2: standard primary_school_500 counts "
                       r"facilities of the layer schools, not services; line 3: standard "
                       r"'no_such_standard' is not one this config checks"):
        planned_config(chengdu_config, wrong, work)


def test_a_planned_csv_far_from_the_districts_is_named_as_the_user_gave_it(chengdu_config,
                                                                          tmp_path):
    from geoplan.scenario import load_planned_layers

    far = tmp_path / "规划.csv"
    far.write_text("layer,lon_wgs84,lat_wgs84\nbus_stops,116.39,39.90\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    planned = planned_config(chengdu_config, far, work)
    with pytest.raises(InputDataError) as caught:
        load_planned_layers(planned, work, far)
    text = str(caught.value)
    assert f"{far} (its bus_stops rows)" in text and str(work) not in text
    assert "lon_wgs84/lat_wgs84 columns" in text and "declared crs" not in text


def test_scenario_command_refuses_name_and_planned_together(tmp_path):
    from geoplan.cli import main

    config = Path(__file__).resolve().parents[1] / "analyses" / "chengdu_core.yaml"
    code = main(["scenario", str(config), "--name", "planned_toilets", "--planned",
                 str(tmp_path / "x.csv"), "--out", str(tmp_path / "out"), "-q"])
    assert code == 2  # a config problem, said before any work
    assert not (tmp_path / "out").exists()


# ---- the whole loop: place, read, export, analyse ----

def _largest_gap_point(coverage: Any, district: str) -> tuple[float, float]:
    gaps = coverage.gaps
    g = gaps[(gaps["view"] == "buffer") & (gaps["standard"] == SID)
             & (gaps["district"] == district)].sort_values("rank").iloc[:1]
    pt = gpd.GeoSeries(shapely.point_on_surface(g.geometry.to_numpy()), crs=gaps.crs)
    p = pt.to_crs("EPSG:4326").iloc[0]
    return float(p.x), float(p.y)


def _click(page: Any, lon: float, lat: float, dx: float = 0.0) -> None:
    xy = page.evaluate("ll => { var p = geoplan.map.latLngToContainerPoint(ll); "
                       "return [p.x, p.y]; }", [lat, lon])
    box = page.locator(".folium-map").first.bounding_box()
    page.mouse.click(box["x"] + xy[0] + dx, box["y"] + xy[1])


def _rows(page: Any) -> dict[str, tuple[float | None, float | None]]:
    """Each district row's shares before and after (None: nothing to measure)."""
    rows = page.evaluate("Array.from(document.querySelectorAll('#geoplan-live tr[data-district]'))"
                         ".map(r => [r.dataset.district, r.dataset.before, r.dataset.after])")
    return {name: (float(b) if b else None, float(a) if a else None) for name, b, a in rows}


@pytest.mark.browser
def test_live_scenario_matches_geoplan_scenario(session, tmp_path, chengdu_outputs,
                                                chengdu_results, chengdu_config):
    coverage = chengdu_results[0]
    lon, lat = _largest_gap_point(coverage, "金牛区")
    page = session.open(chengdu_outputs / "map.html")
    assert page.locator("#geoplan-live").count() == 1
    page.locator(f"#geoplan-layers input[type=radio][value={SID}]").check()
    assert _rows(page) == {}  # folded until the planner starts: the legend keeps its room
    page.locator("#geoplan-live-mode").check()
    before = _rows(page)
    table = coverage.table.set_index(["district", "standard"])
    for name, (b, a) in before.items():
        assert b == a == pytest.approx(table.loc[(name, SID), "share_buffer"], abs=1e-10)
    page.screenshot(path=str(tmp_path / "live_before.png"))
    _click(page, lon, lat)                # A: in the largest gap
    _click(page, lon, lat, dx=40)         # B: beside it (the buffers overlap)
    _click(page, lon, lat, dx=130)        # C: deleted again below
    assert page.evaluate("geoplan.live.placed().length") == 3
    markers = page.locator(".gp-live-marker")
    markers.nth(2).click()                # click a placed facility: deleted
    assert markers.count() == 2
    assert "已放置 2" in page.locator("#geoplan-live").inner_text()
    box = markers.nth(1).bounding_box()   # drag B 25 px down
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + 25, steps=5)
    page.mouse.up()
    after = _rows(page)
    assert after["金牛区"][1] > before["金牛区"][0] + 0.05  # a big gap closed, on paper ~ +14 pp
    assert page.locator(".gp-live-new").count() > 0 and page.locator(".gp-live-circle").count() == 2
    page.screenshot(path=str(tmp_path / "live_after.png"))
    with page.expect_download() as download:
        page.locator("#geoplan-live .gp-live-export").click()
    csv = tmp_path / "planned.csv"
    download.value.save_as(csv)
    assert session.errors == [] and session.blocked == []
    exported = pd.read_csv(csv, encoding="utf-8-sig")
    assert exported["layer"].tolist() == ["bus_stops", "bus_stops"]
    glon, glat = wgs84_to_gcj02(exported["lon_wgs84"].to_numpy(), exported["lat_wgs84"].to_numpy())
    assert np.allclose(exported["lon_gcj02"], glon, atol=1e-7)
    assert np.allclose(exported["lat_gcj02"], glat, atol=1e-7)

    # geoplan's own analysis of the exported file (what `geoplan scenario --planned` runs)
    from geoplan.coverage import run_coverage
    from geoplan.layers import load_layers

    with tempfile.TemporaryDirectory() as work:
        planned = load_layers(planned_config(chengdu_config, csv, Path(work)))
    result = run_coverage(planned, resolve_standards([SID]), chengdu_config.demand).table
    result = result.set_index("district")
    assert (result["n_facilities"] == table.loc[("金牛区", SID), "n_facilities"] + 2).all()
    for name, (_, share) in after.items():
        assert share == pytest.approx(result.loc[name, "share_buffer"], abs=1e-6), name



@pytest.mark.browser
def test_live_box_starts_folded_on_a_phone(session, chengdu_outputs):
    """On a 390 px phone the box folds to its heading (its table covered the map); a tap on
    the heading opens it, and placing works as on a laptop."""
    session.page.set_viewport_size({"width": 390, "height": 844})
    page = session.open(chengdu_outputs / "map.html")
    live = page.locator("#geoplan-live")
    heading = live.locator("h2")
    assert "gp-folded" in live.get_attribute("class")
    assert live.bounding_box()["height"] < 40 and not page.locator("#geoplan-live-mode").is_visible()
    assert heading.get_attribute("aria-expanded") == "false"
    heading.click()
    assert "gp-folded" not in live.get_attribute("class")
    assert heading.get_attribute("aria-expanded") == "true"
    page.locator("#geoplan-layers .gp-layers-toggle").click()  # the layer panel, folded too
    page.locator(f"#geoplan-layers input[type=radio][value={SID}]").check()
    page.locator("#geoplan-layers .gp-layers-toggle").click()
    page.locator("#geoplan-live-mode").check()
    assert page.locator("#geoplan-live table").count() == 1
    heading.click()  # folded again: placing stays on, only the box is hidden
    assert live.bounding_box()["height"] < 40
    assert page.evaluate("document.getElementById('geoplan-live-mode').checked")
    assert session.errors == [] and session.blocked == []


@pytest.mark.browser
def test_hostile_names_in_the_live_panel_stay_text(session, tmp_path):
    """District and standard names from data are shown as text and exported formula-safe; a
    gap square wholly inside a new buffer is covered on paper (share 0.5 → 0.9)."""
    import folium
    from branca.element import Element

    from geoplan.report._map_layers import add_runtime
    from geoplan.report._map_scenario import UNIT_M, LiveScenario
    from geoplan.report._offline import make_offline

    lon, lat = 104.06, 30.70
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True).transform(lon, lat)
    origin = [float(np.floor(x / 1000) * 1000), float(np.floor(y / 1000) * 1000)]
    sq = np.array([[x - 100, y - 100], [x + 100, y - 100], [x + 100, y + 100], [x - 100, y + 100]])
    ring = polyline(np.rint((sq - origin) / UNIT_M).astype(np.int64))
    hostile = '"><img src=x onerror="window.__xss=1">'
    spec = {"unit": UNIT_M, "origin": origin, "segs": 128, "lang": "zh", "crs": "EPSG:32648",
            "proj": fit_projection("EPSG:32648", [lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05],
                                   origin),
            "skipped": {}, "standards": [{
                "id": "s1", "name": "=HYPERLINK(\"x\")" + hostile, "radius": 500.0,
                "layer": "bus_stops", "attrs": {"kind": "=1+1"},
                "districts": [{"name": hostile + "区", "total": 1e5, "covered": 5e4,
                               "gaps": [[ring]], "target": 1.0},
                              # no homes: nothing to measure, neither 0 % nor 100 %
                              {"name": "无房社区", "total": 0.0, "covered": 0.0, "gaps": [],
                               "target": 1.0}]}]}
    m = folium.Map(location=[lat, lon], zoom_start=15, tiles=None)
    make_offline(m)
    add_runtime(m)
    m.get_root().header.add_child(Element(f"<script>{scenario_js()}</script>"))
    LiveScenario(spec).add_to(m)
    path = tmp_path / "hostile.html"
    m.save(str(path))
    page = session.open(path)
    page.evaluate("geoplan.current = 's1'; geoplan.live.update(); geoplan.live.add(30.70, 104.06);"
                  " undefined")  # the placed item holds map layers: never serialise it
    rows = _rows(page)
    assert rows == {hostile + "区": (0.5, pytest.approx(0.9, abs=1e-9)), "无房社区": (None, None)}
    empty = page.locator("#geoplan-live tr[data-district='无房社区'] td").all_inner_texts()
    assert empty == ["无房社区", "—", "—", "—"]
    assert hostile + "区" in page.locator("#geoplan-live").inner_text()
    with page.expect_download() as download:
        page.locator("#geoplan-live .gp-live-export").click()
    csv = tmp_path / "hostile.csv"
    download.value.save_as(csv)
    table = pd.read_csv(csv, encoding="utf-8-sig", dtype=str)
    assert table.loc[0, "standard_name"].startswith("'=HYPERLINK")
    assert table.loc[0, "kind"] == "'=1+1"
    assert page.evaluate("() => window.__xss === undefined")
    assert page.locator("img[src='x']").count() == 0
    assert session.errors == [] and session.blocked == []


@pytest.mark.browser
def test_a_scenario_map_says_before_and_after_and_live_placing_does_not_mix_them(session,
                                                                                 tmp_path):
    """The map of ``geoplan scenario`` labels each district "before → after" (the scenario's
    CSV, formatted); placing a facility live turns every label into "now → planned" or "now",
    and deleting it restores the scenario's labels."""
    from geoplan.cli import main
    from geoplan.report._data import fmt_share
    from tests.hostile.world import LAT0, LON0, world_with_scenario

    config = world_with_scenario(tmp_path / "city", "一期")
    out = tmp_path / "out"
    assert main(["scenario", str(config), "--name", "一期", "--out", str(out), "-q"]) == 0
    table = pd.read_csv(out / "scenario_一期.csv").set_index(["district", "standard"])
    row = table.loc[("东区", SID)]
    assert row["share_buffer_after"] > row["share_buffer_before"] + 0.5  # 4.1 % → 74.2 %
    scenario = {d: f"{fmt_share(table.loc[(d, SID), 'share_buffer_before'])} → "
                   f"{fmt_share(table.loc[(d, SID), 'share_buffer_after'])}" for d in ("东区", "西区")}
    page = session.open(out / "scenario_一期" / "map.html")
    page.locator(f"#geoplan-layers input[type=radio][value={SID}]").check()

    def labels() -> dict[str, str]:
        return dict(page.evaluate("geoplan.labelMarkers.map(l => [l.name, l.share.textContent])"))

    assert labels() == scenario
    page.locator("#geoplan-live-mode").check()
    _click(page, LON0 + 0.002, LAT0 + 0.0099)  # 东区's uncovered north, 600 m from 西区
    rows = _rows(page)
    assert rows["东区"][1] > rows["东区"][0] and rows["西区"][1] == rows["西区"][0]
    now = labels()
    assert now["东区"] == f"{fmt_share(rows['东区'][0])} → {fmt_share(rows['东区'][1])}"
    assert now["西区"] == fmt_share(table.loc[("西区", SID), "share_buffer_after"])
    # the panel calls the figure before placing the scenario's, not 现状 (today)
    heads = page.locator("#geoplan-live th").all_inner_texts()
    assert "本情景" in heads and "现状" not in heads
    # the walking measure is not placed live: while placing, its labels say the figure now,
    # not the scenario's arrow beside the live one of the straight-line measure
    page.locator("#geoplan-layers input[value=network]").check()
    assert labels() == {d: fmt_share(table.loc[(d, SID), "share_network_after"])
                        for d in ("东区", "西区")}
    page.locator("#geoplan-layers input[value=buffer]").check()
    page.locator(".gp-live-marker").first.click()  # deleted: the scenario's labels again
    assert labels() == scenario
    assert session.errors == [] and session.blocked == []


@pytest.mark.browser
def test_a_city_scenario_index_lists_the_shown_standard_before_and_after(session, tmp_path):
    # the index's list of district pages gave the config's first standard's share, unnamed,
    # whatever the map showed; it now names the standard shown and gives its share, the
    # scenario's "before → after" included
    import yaml

    from geoplan.cli import main
    from geoplan.report._data import fmt_share
    from tests.hostile.world import world_with_scenario

    config = world_with_scenario(tmp_path / "city", "一期")
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["map"] = {"max_mb": 0.001}  # an index map with a page per district
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["scenario", str(config), "--name", "一期", "--out", str(out), "-q"]) == 0
    table = pd.read_csv(out / "scenario_一期.csv").set_index(["district", "standard"])
    page = session.open(out / "scenario_一期" / "map.html")
    page.locator("#geoplan-index summary").click()

    def listed() -> tuple[str, dict[str, str]]:
        spans = page.locator("#geoplan-index span[data-district]")
        return (page.locator("#geoplan-index .gp-index-std").inner_text(),
                dict(zip(spans.evaluate_all("es => es.map(e => e.dataset.district)"),
                         spans.all_inner_texts(), strict=True)))

    head, shares = listed()  # opened on the standard the scenario moves
    assert "公交站点500米覆盖" in head
    for d in ("东区", "西区"):
        assert shares[d] == (f"{fmt_share(table.loc[(d, SID), 'share_buffer_before'])} → "
                             f"{fmt_share(table.loc[(d, SID), 'share_buffer_after'])}")
    page.locator("#geoplan-layers input[type=radio][value=park_500]").check()
    head, shares = listed()
    assert "500米见园" in head
    assert shares == {d: fmt_share(table.loc[(d, "park_500"), "share_buffer_after"])
                      for d in ("东区", "西区")}
    assert session.errors == [] and session.blocked == []
