"""The console's Run view in headless Chromium on an interval session started elsewhere (by
the API, as a station phone or another laptop would) (issue 16, item 15): the block under
way (work or rest, which block of how many) with its time counting down, no gate wording,
and the athletes after this rep from the session's progress, not "nobody after this rep"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.web.web_support import PageWatch, SimServer, coach_client, sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
GROUP = ["Rae Ash", "Rae Birch", "Rae Cedar", "Rae Dogwood", "Rae Elm", "Rae Fir", "Rae Gum"]
# 6 rounds of 60 s walking and 60 s rest, 20 times faster: a block every 3 s.
TIME_SCALE = 0.05


@pytest.fixture
def intervals(sim_server: SimServer) -> Iterator[tuple[httpx.Client, int]]:
    with coach_client(sim_server) as coach:
        block = {"drill": "retro-walk-intervals", "athletes": GROUP, "reps": 1}
        body = {"name": "Rehab walk", "team": "U16", "countdown_s": 1, "blocks": [block]}
        plan_id = coach.post("/api/plans", json=body).json()["id"]
        res = coach.post(f"/api/plans/{plan_id}/sessions",
                         json={"at": None, "time_scale": TIME_SCALE})  # fmt: skip
        assert res.status_code == 200, res.text
        session_id = int(res.json()["id"])
        try:
            yield coach, session_id
        finally:
            coach.post(f"/api/plans/sessions/{session_id}/abort")


def _left_s(page: Any) -> int:
    text = page.inner_text("#tab-run [data-part=countdown]").strip()
    match = re.fullmatch(r"(\d+):(\d\d)", text)
    assert match, f"the countdown shows {text!r}, not the block's time left"
    return int(match[1]) * 60 + int(match[2])


def test_an_interval_session_shows_its_block_countdown_and_who_is_next(
    browser: Any, sim_server: SimServer, intervals: tuple[httpx.Client, int]
) -> None:
    coach, session_id = intervals
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch = PageWatch(sim_server.base_url).attach(page)
    try:
        sign_in(page, sim_server)
        page.click("#tab-button-run")
        page.wait_for_selector("#tab-run [data-part=live-sessions] li button")
        page.click("#tab-run [data-part=live-sessions] li button")
        page.wait_for_selector("#tab-run [data-part=run-view]:not([hidden])")
        assert page.inner_text("#tab-run [data-part=run-plan]") == "Rehab walk"

        # The next block announced on the live feed shows with its time left.
        page.wait_for_selector("#tab-run [data-part=interval-block]:not([hidden])", timeout=20_000)
        kind = page.inner_text("#tab-run [data-part=interval-block] .interval-kind")
        assert kind in ("Work: walk backward", "Rest: recover"), kind
        where = page.inner_text("#tab-run [data-part=interval-block] .interval-where")
        assert re.fullmatch(r"Block (\d+) of 12 · round [1-6] of 6", where), where
        first = _left_s(page)
        assert 0 <= first <= 3
        page.wait_for_function(
            "(t) => document.querySelector("
            "'#tab-run [data-part=interval-block] .interval-where').textContent !== t",
            arg=where, timeout=10_000,
        )  # fmt: skip
        block = int(re.findall(r"\d+", where)[0])
        later = page.inner_text("#tab-run [data-part=interval-block] .interval-where")
        assert later.startswith(f"Block {block + 1} of 12"), (where, later)
        assert page.inner_text("#tab-run [data-part=interval-block] .interval-kind") != kind
        assert "gates" not in page.inner_text("#tab-run [data-part=go-hint]")
        assert "Interval blocks run on the clock" in page.inner_text("#tab-run [data-part=go-hint]")

        # NEXT: the athletes after this rep, from the session's progress queue.
        up = page.inner_text("#tab-run [data-part=up-name]")
        assert up == GROUP[0], up
        queue = page.query_selector_all("#tab-run [data-part=next-list] li")
        nexts = [li.inner_text() for li in queue]
        assert nexts == GROUP[1:4], nexts
        assert page.locator("#tab-run [data-part=run-state].running").count() == 1
        info = coach.get(f"/api/plans/sessions/{session_id}").json()
        assert info["state"] == "running", info
    finally:
        context.close()
    assert watch.errors == [], f"script errors on the console: {watch.errors}"
