"""The leaderboard page in headless Chromium: a new split appears without a reload."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import DemoServer

pytestmark = pytest.mark.browser


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
    page.close()
