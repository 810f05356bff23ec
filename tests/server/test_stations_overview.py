"""The head coach's overview (GET /api/overview/stations) over real HTTP on loopback, a real
SQLite file and a simulated hub: every station's card in one answer, following a session
through its reps (on course, queue, progress, results), with the tags nobody has; the coach's
only (not a station link's, not anonymous)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hardware.messages import EventKind
from hardware.sim.plugged import PluggedDevice
from server.db.session import migrate
from tests.auth_support import CSRF_COOKIE, CSRF_HEADER, csrf_headers, login_client
from tests.server.hub_server import serve_with_hub
from tests.support import HTTP_POLL_S, wait_until

DRILL = "backward-sprint-10m"
PLAN = {
    "name": "Sprint lane",
    "team": "U16",
    "countdown_s": 1,
    "blocks": [{"drill": DRILL, "athletes": ["Ada", "Bo", "Cy"], "reps": 1}],
}


@dataclass
class Day:
    base_url: str
    hub: PluggedDevice
    coach: httpx.Client


@pytest.fixture
def day(sqlite_db: str) -> Iterator[Day]:
    """The app with one simulated hub: station sprint on the hub, station t-test empty."""
    migrate(sqlite_db)
    hub = PluggedDevice(device_id=0x5400_0001, channels=4, seed=5)
    with serve_with_hub(sqlite_db, hub) as (live, key):
        lane = {
            "start": {"device": key, "channel": 0}, "finish": {"device": key, "channel": 1},
        }  # fmt: skip
        with closing(login_client(live.base_url, live.services.engine)) as coach:
            for station, bindings in (("sprint", lane), ("t-test", {})):
                res = coach.put(f"/api/stations/{station}", json={"bindings": bindings})
                assert res.status_code == 200, res.text
            yield Day(live.base_url, hub, coach)


def _cards(day: Day) -> dict[str, dict[str, Any]]:
    res = day.coach.get("/api/overview/stations")
    assert res.status_code == 200, res.text
    return {card["name"]: card for card in res.json()}


def _run(hub: PluggedDevice, total_s: float) -> None:
    """One athlete's pass: the start gate in 50 ms, the finish total_s later."""
    start_ns = time.monotonic_ns() + 50_000_000
    for channel, at_ns in ((0, start_ns), (1, start_ns + round(total_s * 1e9))):
        hub.schedule_edge(channel, EventKind.BEAM_BROKEN, at_ns)
        hub.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns + 80_000_000)


def test_the_overview_follows_every_station_in_one_answer(day: Day) -> None:
    cards = _cards(day)
    assert list(cards) == ["main", "sprint", "t-test"]
    idle = cards["t-test"]
    assert idle["session"] is None and idle["upcoming"] is None and idle["course"] == []
    assert idle["queue"] == [] and idle["results"] == [] and idle["drills"] == []
    assert idle["ended"] is None

    plan_id = day.coach.post("/api/plans", json=PLAN).json()["id"]
    res = day.coach.post(
        "/api/stations/sprint/sessions", json={"plan_id": plan_id, "time_scale": 0.2}
    )
    assert res.status_code == 200, res.text
    session_id = res.json()["id"]
    try:
        # Ada armed: on course; Bo and Cy wait, in order; nothing done of three reps.
        card = wait_until(
            "Ada on course",
            lambda: (c := _cards(day)["sprint"])["course"] and c,
            poll_s=HTTP_POLL_S,
        )
        assert [r["athlete"] for r in card["course"]] == ["Ada"]
        assert card["course"][0]["drill"] == DRILL and card["course"][0]["run_id"] is None
        assert [q["athlete"] for q in card["queue"]] == ["Bo", "Cy"]
        session = card["session"]
        assert (session["id"], session["state"], session["plan"]) == (
            session_id,
            "running",
            "Sprint lane",
        )
        assert (session["done"], session["total"]) == (0, 3)
        assert card["drill"] == DRILL
        assert [d["slug"] for d in card["drills"]] == [DRILL]
        assert card["drills"][0]["name"] and card["drills"][0]["name"] != DRILL
        assert _cards(day)["t-test"]["session"] is None  # the other station is untouched

        _run(day.hub, 2.5)
        card = wait_until(
            "Ada's result",
            lambda: (c := _cards(day)["sprint"])["results"] and c["session"]["done"] == 1 and c,
            poll_s=HTTP_POLL_S,
        )
        [result] = card["results"]
        assert (result["athlete"], result["state"], result["drill"]) == ("Ada", "finished", DRILL)
        assert abs(result["total_s"] - 2.5) < 0.002 and result["run_id"]
        assert card["session"]["total"] == 3

        # One station's card alone, as the console refreshes a station that moved.
        one = day.coach.get("/api/overview/stations/sprint")
        assert one.status_code == 200 and one.json()["results"] == card["results"]
        assert day.coach.get("/api/overview/stations/nowhere").status_code == 404
    finally:
        day.coach.post(f"/api/plans/sessions/{session_id}/abort")
    # Ended: the card keeps the session's progress and results until the next one begins.
    card = wait_until(
        "the session ended", lambda: (c := _cards(day)["sprint"])["ended"] and c, poll_s=HTTP_POLL_S
    )
    assert card["session"] is None and card["queue"] == []
    assert (card["ended"]["id"], card["ended"]["state"]) == (session_id, "aborted")
    assert card["ended"]["finished_wall"] and card["ended"]["done"] == 1
    assert [r["athlete"] for r in card["results"]] == ["Ada"]
    assert [d["slug"] for d in card["drills"]] == [DRILL]


def test_a_tag_nobody_has_waits_on_its_station_card_until_attached(day: Day) -> None:
    res = day.coach.post("/api/stations/t-test/checkin", json={"tag": " deadbeef "})
    assert res.status_code == 404, res.text
    [waiting] = _cards(day)["t-test"]["unknown_tags"]
    assert (waiting["tag"], waiting["reads"]) == ("DEADBEEF", 1)
    assert _cards(day)["sprint"]["unknown_tags"] == []

    made = day.coach.post("/api/athletes", json={"team": "U16", "name": "Di"})
    assert made.status_code == 201, made.text
    put = day.coach.put(f"/api/athletes/{made.json()['id']}/tag", json={"tag": "DEADBEEF"})
    assert put.status_code == 200, put.text
    assert _cards(day)["t-test"]["unknown_tags"] == []


def test_the_overview_is_the_coach_s_only(day: Day) -> None:
    with httpx.Client(base_url=day.base_url, timeout=10) as anyone:
        assert anyone.get("/api/overview/stations").status_code == 401
        assert anyone.get("/api/overview/stations/sprint").status_code == 401
    link = day.coach.post("/api/stations/sprint/links", json={}).json()
    key = parse_qs(urlsplit(link["url"]).query)["key"][0]
    with httpx.Client(base_url=day.base_url, timeout=10) as phone:
        phone.headers[CSRF_HEADER] = csrf_headers(phone)[CSRF_HEADER]
        assert phone.cookies[CSRF_COOKIE]
        res = phone.post("/api/stations/sprint/enter", json={"key": key})
        assert res.status_code == 200, res.text
        # The link runs its station's page; the head coach's view of every station is not it.
        assert phone.get("/api/stations/sprint/state").status_code == 200
        assert phone.get("/api/overview/stations").status_code == 403
        assert phone.get("/api/overview/stations/sprint").status_code == 403
