"""The leaderboard page in headless Chromium: a new split appears without a reload."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import CHROMIUM, DemoServer, skip_or_fail

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed")
        raise
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        try:
            yield browser
        finally:
            browser.close()


def test_new_split_appears_without_reload(browser: Any, demo_server: DemoServer) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    outside: list[str] = []
    own = (demo_server.base_url, demo_server.base_url.replace("http://", "ws://"))

    def note(request: Any) -> None:
        if not request.url.startswith(own):
            outside.append(request.url)

    page.on("request", note)
    page.goto(demo_server.base_url + "/")
    page.wait_for_selector("#live-status.status-on", timeout=10_000)
    # A marker that a reload would wipe out.
    page.evaluate("window.__noReload = true")
    before = page.inner_text("#latest")
    page.wait_for_function(
        "(before) => document.querySelector('#latest').textContent !== before",
        arg=before, timeout=15_000,
    )  # fmt: skip
    latest = page.inner_text("#latest")
    assert " s" in latest, latest
    page.wait_for_selector("#board-body tr[data-athlete]", timeout=10_000)
    assert page.evaluate("window.__noReload") is True, "the page reloaded"
    rows = page.query_selector_all("#board-body tr[data-athlete]")
    assert rows
    first = rows[0].inner_text()
    assert " s" in first
    assert outside == [], f"the page fetched from outside the app: {outside}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "leaderboard-phone.png"), full_page=True)
    page.close()
