"""prefers-reduced-motion in headless Chromium: a highlighted board row, a highlight a script
starts again (js/motion.js) and the TV's page bar run no animation or transition for a reader
who asked for less motion, and do run for everyone else (so the check can fail)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.web_support import SimServer

pytestmark = pytest.mark.browser

# A board row highlighted as a new result (js/board.js), then highlighted again as the devices
# tab does for a beam break (js/motion.js replay); what is running on each.
HIGHLIGHT = """async () => {
  const { renderBoard } = await import("/static/js/board.js");
  const { replay } = await import("/static/js/motion.js");
  const table = document.createElement("table");
  table.className = "board";
  const body = table.createTBody();
  document.querySelector("main").append(table);
  const entry = { athlete: "Ada", rank: 1, best_s: 1.5, last_s: 1.5, diff_to_pb_s: 0, runs: 1 };
  renderBoard(body, { entries: [entry] }, { flash: "Ada" });
  const row = body.querySelector("tr.flash");
  const flashed = row.getAnimations().length;
  replay(row, "flash");
  return { flashed, replayed: row.getAnimations().length, kept: row.classList.contains("flash") };
}"""


def _highlight(browser: Any, server: SimServer, motion: str) -> dict[str, Any]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.emulate_media(reduced_motion=motion)
        page.goto(server.base_url + "/")
        page.wait_for_selector("#live-status.status-on")
        result: dict[str, Any] = page.evaluate(HIGHLIGHT)
        return result
    finally:
        context.close()


def _tv_motion(browser: Any, server: SimServer, motion: str) -> int:
    """How many animations and transitions run on /tv once its rotation is under way."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.emulate_media(reduced_motion=motion)
        page.goto(server.base_url + "/tv")
        page.wait_for_selector("#live-status.status-on")  # the rotation starts before the feed
        running: int = page.evaluate("() => document.getAnimations().length")
        return running
    finally:
        context.close()


def test_a_highlight_does_not_move_under_reduced_motion(
    browser: Any, sim_server: SimServer
) -> None:
    still = _highlight(browser, sim_server, "reduce")
    assert still == {"flashed": 0, "replayed": 0, "kept": True}, still
    moving = _highlight(browser, sim_server, "no-preference")
    assert moving["flashed"] == 1 and moving["replayed"] == 1, moving


def test_the_tv_page_bar_does_not_move_under_reduced_motion(
    browser: Any, sim_server: SimServer
) -> None:
    assert _tv_motion(browser, sim_server, "reduce") == 0
    assert _tv_motion(browser, sim_server, "no-preference") >= 1
