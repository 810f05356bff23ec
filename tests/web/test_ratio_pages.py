"""Issue 17 in headless Chromium: the forward:backward ratio is "Backward ÷ forward time",
backward best ÷ forward best, in the console's rendered report table (header, cell title, key)
and on the public boards of a backward drill with a forward twin (phone and TV), each athlete's
ratio with the words beside it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.leaderboard.ratio import RATIO_LABEL, RATIO_MEANING
from tests.web.web_support import PageWatch, SimServer, coach_client

pytestmark = pytest.mark.browser

BACKWARD, FORWARD = "backward-sprint-10m", "sprint-10m"
# name: (backward s, forward s or None); the board shows display names ("Rae R.").
TIMES = {"Rae Ratio": (2.5, 2.0), "Sol Ratio": (2.64, 2.2), "Tod Ratio": (2.8, None)}
WANT = {"Rae R.": "1.250", "Sol R.": "1.200", "Tod R.": "–"}


@pytest.fixture(scope="module")
def team(sim_server: SimServer) -> str:
    with coach_client(sim_server) as client:
        for name, (backward, forward) in TIMES.items():
            res = client.post("/api/athletes", json={"team": "Ratio Squad", "name": name})
            assert res.status_code in (200, 201), res.text
            athlete = res.json()["id"]
            for drill, total in ((BACKWARD, backward), (FORWARD, forward)):
                if total is None:
                    continue
                body = {"drill": drill, "athlete_id": athlete, "total_s": total, "note": ""}
                res = client.post("/api/runs/manual", json=body)
                assert res.status_code == 201, res.text
    return "Ratio Squad"


def test_console_table_names_the_ratio_by_what_it_is(
    browser: Any, sim_server: SimServer, team: str
) -> None:
    with coach_client(sim_server) as client:
        report = client.get("/api/reports/team", params={"team": team}).json()
    page = browser.new_page()
    watch = PageWatch(sim_server.base_url).attach(page)
    page.goto(sim_server.base_url + "/")
    got = page.evaluate(
        """async (report) => {
          const { teamTable } = await import("/static/js/console/report-table.js");
          const box = document.createElement("section");
          box.append(...teamTable(report, { onPick: () => {} }).filter(Boolean));
          document.body.append(box);
          const cells = [...document.querySelectorAll(".fb-cell .cell-line[title]")];
          return { head: document.querySelector("th.fb-head").innerText,
                   headTitle: document.querySelector("th.fb-head").title,
                   cells: cells.map((c) => [c.innerText, c.title]),
                   key: document.querySelector(".report-key").textContent };
        }""",
        report,
    )
    page.close()
    assert watch.errors == []
    assert got["head"].splitlines()[0] == RATIO_LABEL, got["head"]
    assert "backward best ÷ forward best" in got["head"]
    assert got["headTitle"].startswith("best backward time ÷ best forward time")
    assert sorted(text for text, _ in got["cells"]) == ["10 m: 1.200", "10 m: 1.250"]
    for _, title in got["cells"]:
        assert title.startswith(f"{RATIO_LABEL}: Backward sprint 10 m 2."), title
    rae = next(title for text, title in got["cells"] if text.endswith("1.250"))
    assert "2.500 s ÷ Sprint 10 m 2.000 s" in rae
    assert f"{RATIO_LABEL}: the backward best divided by the forward best" in got["key"]
    for old in ("Fwd:back", "back ÷ fwd", "Forward:backward"):
        assert old not in got["head"] + got["key"]


def ratio_column(page: Any) -> dict[str, Any]:
    got: dict[str, Any] = page.evaluate(
        """() => ({
          head: document.querySelector("thead th.ratio").textContent,
          title: document.querySelector("thead th.ratio").title,
          caption: document.querySelector("caption.ratio-note").textContent,
          rows: Object.fromEntries([...document.querySelectorAll("#board-body tr[data-athlete]")]
            .map((r) => [r.dataset.athlete, [r.querySelector("td.ratio").textContent,
                                             r.querySelector("td.ratio").title]])),
        })"""
    )
    return got


def check_ratios(got: dict[str, Any]) -> None:
    assert got["head"] == RATIO_LABEL
    assert got["title"] == f"{RATIO_LABEL}: {RATIO_MEANING}"
    assert got["caption"].startswith(f"{RATIO_LABEL}: {RATIO_MEANING}. Forward: Sprint 10 m")
    assert {name: text for name, (text, _) in got["rows"].items()} == WANT
    assert got["rows"]["Rae R."][1].startswith(f"{RATIO_LABEL}: 2.500 s ÷ 2.000 s (Sprint 10 m)")


def test_public_boards_show_each_athletes_ratio_with_its_name(
    browser: Any, sim_server: SimServer, team: str
) -> None:
    base = sim_server.base_url
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    watch = PageWatch(base).attach(phone)
    phone.goto(f"{base}/?drill={BACKWARD}")
    phone.wait_for_selector("thead th.ratio")
    check_ratios(ratio_column(phone))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scroll"
    # A forward board has no such column.
    phone.select_option("#drill-select", FORWARD)
    phone.wait_for_function("() => !document.querySelector('thead th.ratio')")
    assert phone.query_selector("caption.ratio-note") is None
    context.close()

    tv = browser.new_page(viewport={"width": 1920, "height": 1080})
    watch.attach(tv)
    tv.goto(f"{base}/tv?every=3")
    tv.wait_for_function(f"() => document.body.dataset.drill === '{BACKWARD}'", timeout=15_000)
    tv.wait_for_selector("thead th.ratio")
    check_ratios(ratio_column(tv))
    tv.close()
    assert watch.errors == []
    board = httpx.get(f"{base}/api/leaderboards/{BACKWARD}").json()
    assert board["ratio"]["label"] == RATIO_LABEL
