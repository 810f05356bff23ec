"""Issue 16, the TV board (/tv) at 1920x1080 in headless Chromium against a real server: a squad
of 40 is paged through at a steady pace, every athlete on some page and nothing cut off; a new
result lights the latest-result panel without moving the rotation; `?group=` keeps to a group,
on the TV and the phone board, and the API refuses a group no athlete could have."""

from __future__ import annotations

import itertools
import math
from typing import Any

import httpx
import pytest

from tests.web.web_support import PageWatch, SimServer, coach_client, plan, run_plan

pytestmark = pytest.mark.browser

TV = {"width": 1920, "height": 1080}
DRILL = "sprint-10m"
SQUAD = 40
FRESH = "Zed Fresh"

# Polls the page every 50 ms: the athletes it has shown, each turn of the rotation (drill and
# page, with its time) and the first moment the new-result panel showed.
RECORDER = """
window.__seen = new Set(); window.__turns = []; window.__fresh = null;
setInterval(() => {
  const b = document.body;
  if (!b || !b.dataset.page) return;
  for (const tr of document.querySelectorAll("#board-body tr[data-athlete]")) {
    window.__seen.add(tr.dataset.athlete);
  }
  const key = (b.dataset.drill || "") + "#" + b.dataset.page;
  const last = window.__turns[window.__turns.length - 1];
  if (!last || last.key !== key) {
    window.__turns.push({ key, page: Number(b.dataset.page), pages: Number(b.dataset.pages),
                          t: performance.now() });
  }
  const panel = document.querySelector("#tv-fresh");
  if (!window.__fresh && panel && !panel.hidden) {
    window.__fresh = { t: performance.now(), text: panel.textContent, key };
  }
}, 50);
"""

# Every box a viewer must see in full, and the rows against the board's own visible area.
BOXES = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return { what: el.id || el.className || el.tagName, top: r.top, bottom: r.bottom,
             left: r.left, right: r.right, height: r.height }; };
  const sel = ".tv-bar, .tv-progress, .tv-board thead, #board-body tr, .tv-latest, "
    + ".tv-latest > :not([hidden]), .tv-board caption";
  return { boxes: [...document.querySelectorAll(sel)].map(box),
           main: box(document.querySelector(".tv-main")),
           footer: box(document.querySelector(".tv-latest")),
           rows: [...document.querySelectorAll("#board-body tr")].map(box),
           scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight] };
}"""


@pytest.fixture(scope="module")
def squad(sim_server: SimServer) -> dict[str, list[str]]:
    """40 athletes, groups A and B in turn, each with a typed-in time today; their board names
    per group."""
    with coach_client(sim_server) as client:
        for i in range(SQUAD):
            res = client.post("/api/athletes", json={
                "team": "TV Squad", "name": f"Tv{i:02d} Runner", "group": "AB"[i % 2]})  # fmt: skip
            assert res.status_code in (200, 201), res.text
            res = client.post("/api/runs/manual", json={
                "drill": DRILL, "athlete_id": res.json()["id"], "total_s": 1.9 + i / 100,
                "note": "tv test"})  # fmt: skip
            assert res.status_code == 201, res.text
    out = {}
    for group in ("A", "B"):
        board = httpx.get(f"{sim_server.base_url}/api/leaderboards/{DRILL}",
                          params={"day": "today", "group": group}).json()  # fmt: skip
        out[group] = [e["athlete"] for e in board["entries"]]
    assert len(out["A"]) == len(out["B"]) == SQUAD // 2
    return out


def board_names(server: SimServer) -> set[str]:
    board = httpx.get(f"{server.base_url}/api/leaderboards/{DRILL}", params={"day": "today"})
    return {e["athlete"] for e in board.json()["entries"]}


def assert_nothing_clipped(page: Any) -> None:
    got = page.evaluate(BOXES)
    for b in got["boxes"]:
        assert b["height"] > 0, b
        assert b["top"] >= 0 and b["bottom"] <= TV["height"] + 0.5, b
        assert b["left"] >= 0 and b["right"] <= TV["width"] + 0.5, b
    assert got["scroll"][0] <= TV["width"] and got["scroll"][1] <= TV["height"], got["scroll"]
    for row in got["rows"]:  # inside the board's visible area, above the latest-result panel
        assert row["bottom"] <= got["main"]["bottom"] + 0.5, (row, got["main"])
        assert row["bottom"] <= got["footer"]["top"] + 0.5, (row, got["footer"])


def steady(turns: list[dict[str, Any]], every_s: float) -> None:
    """Each turn of the rotation comes `every_s` after the one before, and pages go 1, 2, ...,
    the last, then 1 again: nothing reset or skipped. The first turn is the page loading."""
    gaps = [(b["t"] - a["t"]) / 1000 for a, b in itertools.pairwise(turns[1:])]
    assert gaps and all(every_s - 0.4 <= g <= every_s + 0.6 for g in gaps), (gaps, turns)
    for a, b in itertools.pairwise(turns):
        after_last = a["page"] == a["pages"] and b["page"] == 1
        assert b["page"] == a["page"] + 1 or after_last, (a, b, turns)


def test_tv_pages_through_a_squad_of_40_with_nothing_cut_off(
    browser: Any, sim_server: SimServer, squad: dict[str, list[str]]
) -> None:
    page = browser.new_page(viewport=TV)
    watch = PageWatch(sim_server.base_url).attach(page)
    page.add_init_script(RECORDER)
    page.goto(sim_server.base_url + "/tv?every=3")
    page.wait_for_selector("#board-body tr[data-athlete]")
    per_page = int(page.evaluate("document.body.dataset.perPage"))
    pages = int(page.evaluate("document.body.dataset.pages"))
    names = board_names(sim_server)
    assert len(names) >= SQUAD
    assert per_page >= 8, "rows sized for a TV, not a phone"
    assert pages == math.ceil(len(names) / per_page) >= 2
    assert len(page.query_selector_all("#board-body tr[data-athlete]")) == per_page
    assert page.inner_text("#tv-page").startswith(f"Page 1 of {pages}")
    assert_nothing_clipped(page)
    page.wait_for_function("(n) => window.__seen.size >= n", arg=len(names),
                           timeout=(pages + 2) * 3000)  # fmt: skip
    assert set(page.evaluate("[...window.__seen]")) == names
    page.wait_for_function("() => document.body.dataset.page === '2'")
    assert_nothing_clipped(page)  # a full page in the middle of the board
    steady(page.evaluate("window.__turns"), 3)
    page.close()
    assert watch.errors == []


def test_a_new_result_lights_the_panel_and_the_rotation_keeps_its_pace(
    browser: Any, sim_server: SimServer, squad: dict[str, list[str]]
) -> None:
    every = 4
    page = browser.new_page(viewport=TV)
    watch = PageWatch(sim_server.base_url).attach(page)
    page.add_init_script(RECORDER)
    page.goto(f"{sim_server.base_url}/tv?every={every}")
    page.wait_for_selector("#live-status.status-on")
    page.wait_for_function("() => window.__turns.length >= 2", timeout=3 * every * 1000)
    with coach_client(sim_server) as client:
        run_plan(client, plan("tv fresh", DRILL, [FRESH]))
    page.wait_for_function("() => window.__fresh", timeout=10_000)
    fresh = page.evaluate("window.__fresh")
    assert "New result" in fresh["text"] and "Zed F." in fresh["text"], fresh
    assert " s" in fresh["text"] and "#" in fresh["text"], "the time and the rank today"
    assert page.is_visible("#tv-fresh") and "fresh" in page.get_attribute(".tv-latest", "class")
    assert_nothing_clipped(page)  # the panel, lit, in full
    # The rotation went on at its pace: two more turns, none early, no page reset or skipped.
    turns_then = page.evaluate("window.__turns.length")
    page.wait_for_function("(n) => window.__turns.length >= n + 2", arg=turns_then,
                           timeout=4 * every * 1000)  # fmt: skip
    turns = page.evaluate("window.__turns")
    assert any(t["t"] < fresh["t"] for t in turns[1:]) and turns[-1]["t"] > fresh["t"]
    steady(turns, every)  # across the result: no early turn, no page 1 out of turn
    # A few seconds later the panel is back to the live line; the new athlete is on the board.
    page.wait_for_selector("#tv-fresh", state="hidden", timeout=10_000)
    assert page.is_visible("#latest")
    assert "fresh" not in (page.get_attribute(".tv-latest", "class") or "")
    assert "Zed F." in board_names(sim_server)
    page.close()
    assert watch.errors == []


def test_group_filter_on_the_tv_and_the_phone_board(
    browser: Any, sim_server: SimServer, squad: dict[str, list[str]]
) -> None:
    base = sim_server.base_url
    page = browser.new_page(viewport=TV)
    watch = PageWatch(base).attach(page)
    page.add_init_script(RECORDER)
    page.goto(base + "/tv?every=3&group=A")
    page.wait_for_selector("#board-body tr[data-athlete]")
    assert page.inner_text("#tv-group") == "Group A"
    pages = int(page.evaluate("document.body.dataset.pages"))
    page.wait_for_function("(n) => window.__seen.size >= n", arg=len(squad["A"]),
                           timeout=(pages + 2) * 3000)  # fmt: skip
    page.wait_for_timeout(3500)  # one more page: still nobody else
    assert set(page.evaluate("[...window.__seen]")) == set(squad["A"])
    assert_nothing_clipped(page)
    page.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    watch.attach(phone)
    phone.goto(f"{base}/?drill={DRILL}&group=B&day=today")
    phone.wait_for_selector("#board-body tr[data-athlete]")
    phone.wait_for_function("(n) => document.querySelectorAll('#board-body tr[data-athlete]')"
                            ".length === n", arg=len(squad["B"]))  # fmt: skip
    shown = phone.eval_on_selector_all("#board-body tr[data-athlete]",
                                       "(rows) => rows.map((r) => r.dataset.athlete)")  # fmt: skip
    assert shown == squad["B"]
    assert phone.input_value("#group-filter") == "B"
    phone.close()
    assert watch.errors == []

    bad = httpx.get(f"{base}/api/leaderboards/{DRILL}", params={"group": "B" * 41})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "group", bad.text


def test_a_practice_rep_is_no_new_result(
    browser: Any, sim_server: SimServer, squad: dict[str, list[str]]
) -> None:
    """A practice rep (the first of a backward sprint, its drill's familiarisation rep) is on
    the live line, said as practice, and never lights the new-result panel, though its athlete
    is on that drill's board from an earlier counted rep."""
    drill, who = "backward-sprint-10m", "Pia Practice"
    with coach_client(sim_server) as client:
        run_plan(client, plan("practice then counted", drill, [who], reps=2))
    page = browser.new_page(viewport=TV)
    watch = PageWatch(sim_server.base_url).attach(page)
    page.add_init_script(RECORDER)
    page.goto(f"{sim_server.base_url}/tv?every=30")
    page.wait_for_selector("#live-status.status-on")
    with coach_client(sim_server) as client:
        run_plan(client, plan("practice only", drill, [who], reps=1))
    line = "() => document.querySelector('#latest').textContent"
    try:
        page.wait_for_function(f"() => /Pia P\\. · rep \\d+ \\(practice\\): \\d/.test(({line})())",
                               timeout=10_000)  # fmt: skip
    except Exception:
        raise AssertionError(page.evaluate(line)) from None
    page.wait_for_timeout(1500)  # the board fetch a new result would wait for
    assert page.evaluate("window.__fresh") is None
    assert page.is_visible("#latest") and not page.is_visible("#tv-fresh")
    page.close()
    assert watch.errors == []
