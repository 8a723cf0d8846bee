"""Headless Chromium for the tests of the meeting map and the reports.

Uses the system Chromium (``/usr/bin/chromium``) through Playwright. Every http(s) request to
anything but localhost is aborted and recorded: the map's own layers must not need any.
Each test module (or test) starts its own browser with a profile on disk
(:func:`persistent_context`).

Without Chromium the browser tests skip (saying how to install it); under CI (``CI=true``)
they fail instead, so that they always run there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
INSTALL = ("needs Chromium at /usr/bin/chromium and the CJK fonts: "
           "`apt-get install chromium fonts-noto-cjk` (and `pip install playwright`)")


def require_browser() -> Any:
    """Playwright's ``sync_playwright``; skips the test (fails it under CI) without Chromium."""
    problem = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "playwright is not installed"
        sync_playwright = None
    if problem is None and not CHROMIUM.exists():
        problem = f"no Chromium at {CHROMIUM}"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {problem}; {INSTALL}")
        pytest.skip(f"{problem}; {INSTALL}")
    return sync_playwright


class Session:
    """One page with the web blocked; records blocked requests and console errors."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.page = context.new_page()
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def _route(self, route: Any) -> None:
        url = route.request.url
        local = url.startswith(("file:", "data:", "blob:", "about:", "http://localhost",
                                "http://127.0.0.1"))
        if local:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def open(self, path: Path) -> Any:
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")
        return self.page


_SETTLE = """(frames) => new Promise(done => {
    let calm = 0;
    const tick = () => {
        const map = window.geoplan && window.geoplan.map;
        const moving = !!map && ((map._panAnim && map._panAnim._inProgress)
                                 || map._animatingZoom || map._flyToFrame);
        calm = moving ? 0 : calm + 1;
        if (calm >= frames) { done(); } else { requestAnimationFrame(tick); }
    };
    requestAnimationFrame(tick);
})"""


def settle(page: Any, frames: int = 6) -> None:
    """Wait until the map has been still for ``frames`` animation frames.

    The page's own updates after a change (the legend fitted, labels decluttered, the panel
    fitted) each run in the next animation frame, one after another, and a popup's pan or a
    zoom is a Leaflet animation: a fixed sleep was either too long or, on a busy machine, too
    short.
    """
    page.evaluate(_SETTLE, frames)


@contextlib.contextmanager
def persistent_context(**options: Any) -> Iterator[Any]:
    """A Chromium context with a profile on disk, closed and removed after.

    A context of one browser shared by all modules was tried: ``test_browser``'s tests took
    0.1 to 0.7 s longer each in it (one run of each), more than the launches it saved.
    """
    sync_playwright = require_browser()
    profile = tempfile.mkdtemp(prefix="geoplan-chromium-")
    options = {"viewport": {"width": 1366, "height": 860}, "locale": "zh-CN", **options}
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, **options)
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A module's browser context (a laptop's screen, Chinese locale); a plugin of the suite
    (``conftest``), so every test module has it."""
    with persistent_context() as context:
        yield context


@pytest.fixture
def session(browser: Any) -> Iterator[Session]:
    """A page of the module's :func:`browser`, closed after the test."""
    s = Session(browser)
    yield s
    s.page.close()
