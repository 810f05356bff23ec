"""A testing day in headless Chromium against a real server on simulated gates: the console's
Stations tab shows every station on one page and follows a session live (who is on course,
progress, results) without a request per message; the run view keeps to a chosen station; a
TV and a leaderboard opened with ?station= ignore another station's reps; a tag nobody has is
attached to an athlete from the overview.

The simulated hub is one set of gates: a station's session binds it, so between sessions
every station's bindings are emptied again (a device belongs to one station at a time).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.web.web_support import (
    PageWatch,
    SimServer,
    coach_client,
    screenshot,
    sign_in,
    wait_lane_free,
    wait_session,
)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
TV = {"width": 1280, "height": 720}
STATIONS = ("agility", "sprint")
DRILL = "sprint-10m"
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def coach(sim_server: SimServer) -> Iterator[httpx.Client]:
    """The coach's API client; stations agility and sprint, no devices of their own."""
    with coach_client(sim_server) as client:
        free_hub(client)
        yield client


def free_hub(coach: httpx.Client) -> None:
    """Every station without bindings: the next session's station takes the simulated hub."""
    wait_lane_free(coach)
    for name in STATIONS:
        res = coach.put(f"/api/stations/{name}", json={"bindings": {}})
        assert res.status_code == 200, res.text


def start_on(
    coach: httpx.Client, station: str, name: str, athletes: list[str],
    time_scale: float = 0.2, countdown_s: float = 0.5,
) -> int:  # fmt: skip
    """A one-block plan of DRILL started now on `station`; the session's id."""
    block = {"drill": DRILL, "reps": 1, "rest_s": 0, "athletes": athletes}
    body = {"name": name, "team": "U16", "countdown_s": countdown_s, "blocks": [block]}
    plan_id = coach.post("/api/plans", json=body).json()["id"]
    res = coach.post(
        f"/api/stations/{station}/sessions", json={"plan_id": plan_id, "time_scale": time_scale}
    )
    assert res.status_code == 200, res.text
    return int(res.json()["id"])


def wait_text(page: Any, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.textContent || '').includes(t)",
        arg=[selector, text],
        timeout=WAIT_MS,
    )


def card(name: str, part: str = "") -> str:
    """The selector of a station's card, or of one part of it."""
    return f".station-card[data-station={name}]" + (f" [data-part={part}]" if part else "")


def day_plan(part: str) -> str:
    """A part of the day plan panel above the station cards."""
    return f"#tab-stations [data-part=dayplan-{part}]"


@pytest.fixture
def console(browser: Any, sim_server: SimServer) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch = PageWatch(sim_server.base_url).attach(page)
    sign_in(page, sim_server)
    yield page
    context.close()
    assert watch.outside == [], f"the console fetched from outside the app: {watch.outside}"
    assert watch.errors == [], f"script errors on the console: {watch.errors}"


def test_the_overview_shows_every_station_and_follows_a_session_live(
    console: Any, sim_server: SimServer, coach: httpx.Client
) -> None:
    page = console
    fetches: list[str] = []
    page.on(
        "request",
        lambda r: fetches.append(r.url) if "/api/overview/stations" in r.url else None,
    )
    frames: list[str] = []

    def watch_socket(socket: Any) -> None:
        socket.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", watch_socket)

    # /console#stations opens the tab itself (a fresh load: the live socket is watched too).
    page.goto("about:blank")
    page.goto(sim_server.base_url + "/console#stations")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#tab-stations:not([hidden])")
    assert page.locator("#tab-run").is_hidden()
    assert page.get_attribute("#tab-button-stations", "aria-selected") == "true"
    assert page.get_attribute("#tab-button-run", "aria-selected") == "false"
    assert page.url.endswith("#stations")
    for name in ("main", *STATIONS):
        page.wait_for_selector(card(name))
    assert page.locator(".station-card").count() == 3
    assert "no session" in page.inner_text(card("sprint", "state"))

    # The run view keeps to station agility: sprint's session is not followed there.
    page.click("#tab-button-run")
    page.wait_for_selector("#tab-stations", state="hidden")
    assert page.url.endswith("#run")
    station = "#tab-run [data-part=run-station]"
    page.wait_for_selector(f"{station} option[value=agility]", state="attached")
    page.select_option(station, "agility")
    page.click("#tab-button-stations")
    page.wait_for_selector("#tab-stations:not([hidden])")
    assert page.url.endswith("#stations") and page.locator("#tab-run").is_hidden()

    athletes = ["Ovi Ash", "Ovi Bay", "Ovi Cole"]
    # Real time: each athlete waits 2 s up next, then is on course for seconds.
    session_id = start_on(coach, "sprint", "Sprint lane", athletes, 1.0, countdown_s=2)
    wait_text(page, card("sprint", "course"), "Ovi Ash")
    wait_text(page, card("sprint", "progress"), "0 of 3 reps done")
    assert "Ovi Bay" in page.inner_text(card("sprint", "queue"))
    assert "Sprint 10 m" in page.inner_text(card("sprint", "drills"))
    assert page.inner_text(card("sprint", "state")) == "running"
    assert "no session" in page.inner_text(card("agility", "state"))
    # The next athlete comes up on course and the progress moves, from the live feed alone.
    wait_text(page, card("sprint", "course"), "Ovi Bay")
    wait_text(page, card("sprint", "progress"), "1 of 3 reps done")
    results = page.inner_text(card("sprint", "results"))
    assert "Ovi Ash" in results and " s" in results, results
    screenshot(page, "console-stations.png")

    page.click("#tab-button-run")
    page.wait_for_selector("#tab-stations", state="hidden")
    # agility chosen: sprint's is not opened
    assert page.locator("#tab-run [data-part=run-none]").is_visible()
    wait_text(page, "#tab-run [data-part=live-sessions]", "on station agility")
    page.select_option(station, "sprint")
    wait_text(page, "#tab-run [data-part=live-sessions]", "Sprint lane")
    page.select_option(station, "")

    info = wait_session(coach, session_id)
    assert info["state"] == "finished", info
    page.click("#tab-button-stations")
    # Over: the card keeps the session's progress and results until the next one.
    wait_text(page, card("sprint", "progress"), "3 of 3 reps done")
    assert page.inner_text(card("sprint", "state")) == "finished"
    assert "Ovi Cole" in page.inner_text(card("sprint", "results"))
    assert page.inner_text(card("sprint", "course")) == "–"
    # Debounced: far fewer card requests than live messages.
    said = [f for f in frames if '"station":"sprint"' in f or '"type":"plan"' in f]
    assert len(fetches) < len(said), (len(fetches), len(said))


def test_a_tv_and_a_board_for_one_station_ignore_the_other_station(
    browser: Any, sim_server: SimServer, coach: httpx.Client
) -> None:
    free_hub(coach)
    context = browser.new_context(viewport=TV)
    try:
        pages = {}
        for key, path in (
            ("tv", "/tv"),
            ("tv_agility", "/tv?station=agility"),
            ("board_agility", f"/?drill={DRILL}&station=agility"),
        ):
            pages[key] = page = context.new_page()
            page.goto(sim_server.base_url + path)
            page.wait_for_selector("#live-status.status-on", timeout=WAIT_MS)
        tv, tv_agility, board = pages["tv"], pages["tv_agility"], pages["board_agility"]
        assert tv_agility.inner_text("#tv-station") == "Station agility"
        assert tv.locator("#tv-station").is_hidden()
        assert "station agility only" in board.inner_text("#station-note")
        waiting = board.inner_text("#latest")
        assert waiting == "Waiting for a rep at station agility…"

        # A rep at station sprint: the TV of every station shows it, agility's TVs do not.
        session_id = start_on(coach, "sprint", "Sprint rep", ["Pia Sprint"])
        assert wait_session(coach, session_id)["state"] == "finished"
        wait_text(tv, "#latest", "Pia")
        tv.wait_for_selector("#board-body tr[data-athlete]")
        assert "Pia" not in tv_agility.inner_text("#latest")
        assert tv_agility.inner_text("#latest") == "–"
        assert board.inner_text("#latest") == waiting

        # A rep at station agility: its TV and board show it.
        free_hub(coach)
        session_id = start_on(coach, "agility", "Agility rep", ["Uma Agil"])
        assert wait_session(coach, session_id)["state"] == "finished"
        wait_text(tv_agility, "#latest", "Uma")
        wait_text(board, "#latest", "Uma")
        assert "station=agility" in board.url
        screenshot(tv_agility, "tv-station.png", full_page=False)
    finally:
        context.close()
        free_hub(coach)


def test_a_tag_nobody_has_is_attached_from_the_overview(
    console: Any, sim_server: SimServer, coach: httpx.Client
) -> None:
    page = console
    res = coach.post("/api/athletes", json={"team": "U16", "name": "Vic Tag"})
    assert res.status_code == 201 or "already on team" in res.text, res.text
    # The assistant's reader at station agility reads a card nobody has.
    res = coach.post("/api/stations/agility/checkin", json={"tag": "deadbeef"})
    assert res.status_code == 404 and "ask the coach to attach it" in res.text

    page.click("#tab-button-stations")
    page.wait_for_selector(card("agility", "tags") + " li[data-tag=DEADBEEF]")

    # Flags and refused starts, as the live feed says them (handed to the page's feed: the
    # simulated athletes never start too close or cross doubtfully on demand).
    page.evaluate(
        """() => {
          const feed = window.agilityLive;
          feed.deliver({type: "start_refused", station: "agility", athlete: "Wes A.",
                        drill: "sprint-10m", reason: "1.2 s after the last start, 5 s needed"});
          feed.deliver({type: "flag", station: "agility", drill: "sprint-10m", role: "finish",
                        athlete: "Wes A.", alternative: "Wes B.", doubt: "order",
                        reason: "two runners within 0.1 s", run_id: null});
          feed.deliver({type: "flag", station: "sprint", drill: "sprint-10m", role: "finish",
                        athlete: "Zed Z.", alternative: null, doubt: "order",
                        reason: "elsewhere", run_id: null});
        }"""
    )
    notes = card("agility", "notes")
    wait_text(page, notes, "two runners within 0.1 s")
    text = page.inner_text(notes)
    assert "Start refused" in text and "Wes A. (sprint-10m): 1.2 s after the last start" in text
    assert "Flag" in text and "at finish" in text and "it may be Wes B.'s" in text
    assert "Zed" not in text and "elsewhere" in page.inner_text(card("sprint", "notes"))
    page.locator(notes).get_by_role("button", name="Dismiss: Start refused").click()
    page.wait_for_function(
        "(s) => !document.querySelector(s).textContent.includes('Start refused')", arg=notes
    )
    assert "two runners" in page.inner_text(notes)
    assert page.locator(card("sprint", "tags")).is_hidden()
    select = page.locator(card("agility", "tags") + " select")
    select.select_option(label="Vic Tag (U16)")
    page.get_by_role("button", name="Attach to athlete").click()
    wait_text(page, "#notice", "Tag DEADBEEF attached to Vic Tag.")
    page.wait_for_selector(card("agility", "tags"), state="hidden")
    found = coach.get("/api/athletes/by-tag/DEADBEEF")
    assert found.status_code == 200 and found.json()["name"] == "Vic Tag", found.text

    # The station's link for its assistant, from its card.
    page.locator(card("agility")).get_by_role("button", name="Link for assistant").click()
    page.wait_for_selector("#tab-stations [data-part=overview-link-qr] img")
    url = page.locator("#tab-stations [data-part=overview-link-url]").get_attribute("href")
    assert url and "/station/agility?key=" in url
    assert coach.delete("/api/stations/agility/links").status_code == 200


DAY_PLAN = f"""name = "Console day"
team = "U16"
countdown_s = 0.5
[[stations]]
station = "agility"
drills = [{{drill = "{DRILL}", reps = 1, rest_s = 0}}]
[[stations]]
station = "sprint"
drills = [{{drill = "{DRILL}", reps = 1, rest_s = 0}}]
[[groups]]
name = "A"
athletes = ["Dag Day", "Dag Eve"]
"""


def test_the_day_plan_panel_saves_a_day_and_starts_its_rotations(
    console: Any, sim_server: SimServer, coach: httpx.Client
) -> None:
    """Two stations, one group: rotation 1 puts the group at agility, sprint is idle. (Two
    athletes: the session lasts long enough for the refused second start.)"""
    free_hub(coach)
    page = console
    page.click("#tab-button-stations")
    page.wait_for_selector(day_plan("panel"))
    page.click(f"{day_plan('panel')} summary")
    page.fill(
        day_plan("text"),
        DAY_PLAN.replace('name = "A"', 'name = "A"\nsize = 1'),
    )
    page.click(day_plan("save"))
    wait_text(page, day_plan("error"), "groups[1].size: unknown key")
    page.fill(day_plan("text"), DAY_PLAN)
    page.click(day_plan("save"))
    wait_text(page, day_plan("status"), "Console day")
    assert "not started · 2 rotations" in page.inner_text(day_plan("status"))
    assert page.locator(day_plan("error")).is_hidden()

    page.click(day_plan("next"))
    wait_text(page, day_plan("status"), "rotation 1 of 2")
    agility = f"{day_plan('body')} tr[data-station=agility]"
    assert "A · Dag Day, Dag Eve" in page.inner_text(agility)
    assert "idle" in page.inner_text(f"{day_plan('body')} tr[data-station=sprint]")
    # While its session runs, the next rotation is refused with the server's reason.
    wait_text(page, day_plan("next"), "Start rotation 2")
    page.click(day_plan("next"))
    wait_text(page, day_plan("error"), "stations still busy: agility (session")
    day = coach.get("/api/days").json()[0]
    session_id = coach.get(f"/api/days/{day['id']}").json()["progress"][0]["stations"][0][
        "session_id"
    ]
    assert wait_session(coach, session_id)["state"] == "finished"
    # The live feed moves the panel on: both reps are done.
    wait_text(page, agility, "2 of 2")
    wait_text(page, agility, "finished")
    # The report of the day is one tap away, and it is the day's.
    href = page.get_attribute(f"{day_plan('reports')} a[data-format=xlsx]", "href") or ""
    res = coach.get(href)
    assert res.status_code == 200 and res.content[:2] == b"PK", href  # an XLSX (a zip)
    assert f"date={day['day']}" in href
    free_hub(coach)
