"""Hostile names in the meeting map, in a real headless Chromium (issue 10, item 1).

Every name that comes from data (districts, every facility kind, dead ends, opening
candidates, suggested sites, the standards' names and the analysis' title) carries a script
payload. Every feature is clicked and hovered, with every standard and overlay shown: no dialog
may open, no injected element may appear, and each payload must be shown as plain text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests._browser import settle
from tests._report_synthetic import make_coverage, make_deadends, make_layerset, make_sites

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAYLOADS = [
    '"><img src=x onerror=alert(1)>',
    "<script>alert(2)</script>",
    "<img src=x onerror=\"window.__xss=1\">",
    "';alert(4);//",
    "</script><script>alert(5)</script>",
    "<svg onload=alert(6)>",
    "{{7*7}}<b onmouseover=alert(8)>x</b>",
]


def _hostile(i: int) -> str:
    return f"名{i}{PAYLOADS[i % len(PAYLOADS)]}"


@pytest.fixture(scope="module")
def hostile_map(tmp_path_factory) -> Path:
    from geoplan.report.maps import write_map

    names = [_hostile(0), _hostile(1)]
    layerset = make_layerset(names)
    k = 2
    for kind, gdf in layerset.layers.items():
        if "name" in gdf.columns and kind != "districts":
            gdf["name"] = [_hostile(k + j) for j in range(len(gdf))]
            k += len(gdf)
        if "kind" in gdf.columns:
            gdf["kind"] = PAYLOADS[3]
    coverage = make_coverage(names)
    coverage.table["name_zh"] = coverage.table["name_zh"] + PAYLOADS[0]
    coverage.table["population_source"] = PAYLOADS[4]
    deadends = make_deadends(names)
    deadends.dead_ends["name"] = PAYLOADS[1]
    deadends.dead_ends["highway"] = PAYLOADS[2]
    deadends.candidates["name"] = PAYLOADS[5]
    sites = make_sites(names)
    out = tmp_path_factory.mktemp("xss")
    write_map(layerset, coverage, deadends, None, out, sites=sites, title=PAYLOADS[0] + "标题",
              data_date=PAYLOADS[1])
    return out / "map.html"


_OPEN_ALL = """() => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    let n = 0;
    const texts = [];
    const read = sel => document.querySelectorAll(sel).forEach(e => texts.push(e.textContent));
    map.eachLayer(l => {
        if (!l.feature) { return; }
        const ll = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
        l.fire('mouseover', {latlng: ll, target: l, sourceTarget: l}, true);
        l.fire('click', {latlng: ll, target: l, sourceTarget: l}, true);
        n += 1;
        read('.leaflet-popup-content');
        read('.leaflet-tooltip');
        l.fire('mouseout', {latlng: ll, target: l, sourceTarget: l}, true);
    });
    map.closePopup();
    return {n: n, texts: texts};
}"""


def _injected(page: Any) -> int:
    return page.evaluate("""() => document.querySelectorAll(
        'img[src="x"], svg[onload], b[onmouseover], .leaflet-container script').length""")


def test_no_script_runs_from_hostile_names(session, hostile_map):
    page = session.page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    session.open(hostile_map)
    page.wait_for_selector("path.gp-coverage")
    # every overlay on
    boxes = page.locator("#geoplan-layers input[type=checkbox]")
    for i in range(boxes.count()):
        boxes.nth(i).check()
    radios = page.locator("#geoplan-layers input[type=radio]")
    assert radios.count() >= 2
    seen: list[str] = []
    opened = 0
    for i in range(radios.count()):
        radios.nth(i).check()
        result = page.evaluate(_OPEN_ALL)
        opened += result["n"]
        seen += result["texts"]
        # real mouse clicks and hovers on every drawn path and marker in view
        paths = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
        classes = paths.evaluate_all("ps => ps.map(p => p.getAttribute('class'))")
        firsts = [classes.index(c) for c in dict.fromkeys(classes)]
        for j in firsts:
            box = paths.nth(j).bounding_box()
            if not box or box["width"] * box["height"] == 0:
                continue
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.click(x, y)
        page.keyboard.press("Escape")
    settle(page)
    assert opened > 20
    assert len(seen) > 20
    assert dialogs == []
    assert page.evaluate("() => window.__xss === undefined")
    assert _injected(page) == 0
    # the payloads are shown as text: popups, tooltips, title, legend and labels
    shown = "\n".join(seen) + page.locator("body").inner_text()
    for payload in (PAYLOADS[0], PAYLOADS[1], PAYLOADS[2], PAYLOADS[5]):
        assert payload in shown, payload
    assert _hostile(0) in page.locator(".geoplan-label").first.inner_text() + \
        page.locator(".geoplan-label").last.inner_text()
    assert PAYLOADS[0] + "标题" in page.locator("#geoplan-title").inner_text()
    assert session.blocked == []
    assert [e for e in session.errors if "Failed to load resource" not in e] == []
