"""Station links over real HTTP on loopback, a real SQLite file and a simulated hub: a link runs
its own station (state, check-in by tag, void, skip, GO, pause, resume, swap) and nothing else;
revoked and expired links are refused; unknown tags reach the coach; hostile input is a 422."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import Session, select

from hardware.sim.plugged import PluggedDevice
from server.app import Services
from server.db.models import StationLink, utc_now
from server.db.session import migrate
from server.roster.service import create_athlete
from tests.auth_support import CSRF_COOKIE, CSRF_HEADER, login_client, serve
from tests.support import HTTP_POLL_S, wait_until

TAGS = {"Ada": "0A0A0A0A", "Bo": "04A1B2C3", "Cy": "0C0C0C0C", "Eve": "0E0E0E0E"}
# Block 1 for check-in, void and skip; block 2 is a coach-go drill, for GO.
PLAN = {
    "name": "Testing day A",
    "team": "U16",
    "countdown_s": 1,
    "blocks": [
        {"drill": "backward-sprint-10m", "athletes": ["Ada", "Bo", "Cy"], "reps": 1},
        {"drill": "illinois-agility", "athletes": ["Ada"], "reps": 1},
    ],
}
EXPIRED = "has expired or was revoked: ask the coach for a new one"
RUNS_A_ONLY = "this phone's station link runs station a only"


@dataclass
class Day:
    base_url: str
    services: Services
    coach: httpx.Client


@pytest.fixture
def day(sqlite_db: str) -> Iterator[Day]:
    """The app under uvicorn with one simulated hub; station a on the hub, station b empty;
    team U16 on the roster, each athlete with a tag (Eve is in no plan)."""
    migrate(sqlite_db)
    hub = PluggedDevice(device_id=0x5300_0001, channels=4, seed=7)
    try:
        with serve(sqlite_db, (hub.start(),)) as live:
            services = live.services
            key = services.devices.snapshot()[0]["key"]
            for name, tag in TAGS.items():
                create_athlete(services.engine, {"team": "U16", "name": name, "tag": tag})
            lane = {
                "start": {"device": key, "channel": 0}, "finish": {"device": key, "channel": 1},
            }  # fmt: skip
            with closing(login_client(live.base_url, services.engine)) as coach:
                for station, bindings in (("a", lane), ("b", {})):
                    res = coach.put(f"/api/stations/{station}", json={"bindings": bindings})
                    assert res.status_code == 200, res.text
                yield Day(live.base_url, services, coach)
    finally:
        hub.stop()


def _make_link(day: Day, station: str = "a") -> dict[str, Any]:
    res = day.coach.post(f"/api/stations/{station}/links", json={})
    assert res.status_code == 200, res.text
    link: dict[str, Any] = res.json()
    return link


def _key(url: str) -> str:
    return parse_qs(urlsplit(url).query)["key"][0]


def _phone(day: Day, url: str) -> httpx.Client:
    """A phone that opened the link, as the station page does: the page (which sets the CSRF
    cookie), then the key traded for the station's cookie."""
    phone = httpx.Client(base_url=day.base_url, timeout=10)
    parts = urlsplit(url)
    page = phone.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200 and "station.js" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    phone.headers[CSRF_HEADER] = phone.cookies[CSRF_COOKIE]
    name = parts.path.rsplit("/", 1)[-1]
    res = phone.post(f"/api/stations/{name}/enter", json={"key": _key(url)})
    assert res.status_code == 200, res.text
    set_cookie = res.headers["set-cookie"].lower()
    assert f"agility_station_{name}=" in set_cookie
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    return phone


def _start(day: Day, station: str = "a") -> int:
    plan_id = day.coach.post("/api/plans", json=PLAN).json()["id"]
    res = day.coach.post(
        f"/api/stations/{station}/sessions", json={"plan_id": plan_id, "time_scale": 0.2}
    )
    assert res.status_code == 200, res.text
    return int(res.json()["id"])


def _on_course(client: httpx.Client, athlete: str, drill: str = "backward-sprint-10m") -> Any:
    def check() -> Any:
        res = client.get("/api/stations/a/state")
        assert res.status_code == 200, res.text
        state = res.json()
        on = state["station"]["on_course"]
        return state if on and on["athlete"] == athlete and on["drill"] == drill else None

    return wait_until(f"{athlete} on course ({drill})", check, poll_s=HTTP_POLL_S)


def test_a_link_runs_its_own_station(day: Day) -> None:
    link = _make_link(day)
    assert link["url"].startswith(f"{day.base_url}/station/a?key=")
    assert len(_key(link["url"])) >= 43 and link["lan"] is False
    assert link["qr_svg"].startswith("<svg") and "<script" not in link["qr_svg"]
    expires = datetime.fromisoformat(link["expires_wall"].replace("Z", "+00:00"))
    left = utc_now() + timedelta(hours=12) - expires
    assert abs(left.total_seconds()) < 60
    session_id = _start(day)
    with closing(_phone(day, link["url"])) as phone:
        state = _on_course(phone, "Ada")
        assert state["station"]["name"] == "a" and state["session"]["id"] == session_id
        progress = state["session"]["progress"]
        assert [q["athlete"] for q in progress["queue"]] == ["Bo", "Cy", "Ada"]

        # A keyboard-wedge reader types the id (any case) and Enter.
        res = phone.post("/api/stations/a/checkin", json={"tag": "04a1b2c3\r\n"})
        assert res.status_code == 200, res.text
        body = res.json()
        assert (body["athlete"], body["team"]) == ("Bo", "U16")
        assert body["message"] == "Bo is up next, after Ada"
        queue = body["state"]["session"]["progress"]["queue"]
        assert [q["athlete"] for q in queue][:2] == ["Bo", "Cy"]
        res = phone.post("/api/stations/a/checkin", json={"tag": TAGS["Cy"]})
        assert res.json()["message"] == "Cy is up next, after Ada"
        again = phone.post("/api/stations/a/checkin", json={"tag": TAGS["Ada"]})
        assert again.json()["message"] == "Ada is on course now"

        res = phone.post("/api/stations/a/void")
        assert res.status_code == 200, res.text
        state = _on_course(phone, "Cy")
        done = state["session"]["progress"]["done"]
        assert [(d["athlete"], d["state"]) for d in done] == [("Ada", "void")]

        paused = phone.post("/api/stations/a/pause")
        assert paused.status_code == 200 and paused.json()["session"]["state"] == "paused"
        resumed = phone.post("/api/stations/a/resume")
        assert resumed.status_code == 200 and resumed.json()["session"]["state"] == "running"
        swap = phone.post("/api/stations/a/swap", json={"athlete": "Zed"})
        assert swap.status_code == 409 and "Zed has no rep left in this block" in swap.text
        go = phone.post("/api/stations/a/go")
        assert go.status_code == 409, go.text  # a backward sprint starts at the gate

        assert phone.post("/api/stations/a/skip").status_code == 200  # Cy's rep, voided
        _on_course(phone, "Bo")
        assert phone.post("/api/stations/a/void").status_code == 200

        def armed_for_go() -> Any:
            # A GO is timed across clocks: until the hub's clock rate is measured the runner
            # pauses with the reason, and the assistant resumes.
            state = phone.get("/api/stations/a/state").json()
            if state["session"]["state"] == "paused":
                assert "cannot arm Ada on illinois-agility" in state["session"]["reason"]
                assert phone.post("/api/stations/a/resume").status_code == 200
                time.sleep(0.5)
            on = state["station"]["on_course"]
            return state if on and on["drill"] == "illinois-agility" else None

        state = wait_until("Ada armed for the GO", armed_for_go, timeout_s=40, poll_s=HTTP_POLL_S)
        assert state["session"]["progress"]["next"]["waits_for_go"] is True
        go = phone.post("/api/stations/a/go")
        assert go.status_code == 200, go.text
        assert phone.post("/api/stations/a/void").status_code == 200
        info = wait_until("session finished", lambda: (
            (s := day.coach.get(f"/api/plans/sessions/{session_id}").json())["state"]
            == "finished" and s
        ), poll_s=HTTP_POLL_S)  # fmt: skip
        done = info["progress"]["done"]
        assert [(d["athlete"], d["drill"], d["state"]) for d in done] == [
            ("Ada", "backward-sprint-10m", "void"),
            ("Cy", "backward-sprint-10m", "void"),
            ("Bo", "backward-sprint-10m", "void"),
            ("Ada", "illinois-agility", "void"),
        ]
        none = phone.post("/api/stations/a/skip")
        assert none.status_code == 409
        assert none.json()["detail"] == "no session running on station a"


def test_a_link_may_do_nothing_else(day: Day) -> None:
    session_id = _start(day)
    link = _make_link(day)
    with closing(_phone(day, link["url"])) as phone:
        assert phone.get("/api/stations/a/state").status_code == 200
        # Station b's routes: refused, naming the station the link runs.
        for method, path, body in [
            ("GET", "/api/stations/b/state", None),
            ("POST", "/api/stations/b/checkin", {"tag": TAGS["Bo"]}),
            ("POST", "/api/stations/b/pause", {}),
            ("POST", "/api/stations/b/void", {}),
        ]:
            res = phone.request(method, path, json=body)
            assert res.status_code == 403, (path, res.text)
            assert f"{RUNS_A_ONLY}, not this one" in res.json()["detail"]
        # Every coach route, its own station's included.
        coach_routes: list[tuple[str, str, Any]] = [
            ("PUT", "/api/stations/a", {"bindings": {}}),
            ("GET", "/api/stations/a", None),
            ("DELETE", "/api/stations/a", None),
            ("GET", "/api/stations", None),
            ("POST", "/api/stations/a/sessions", {"plan_id": 1}),
            ("POST", "/api/stations/a/links", {}),
            ("DELETE", "/api/stations/a/links", None),
            ("GET", "/api/athletes", None),
            ("GET", f"/api/athletes/by-tag/{TAGS['Bo']}", None),
            ("POST", "/api/plans", PLAN),
            ("POST", f"/api/plans/sessions/{session_id}/abort", {}),
            ("GET", "/api/settings", None),
            ("GET", "/api/reports/export?format=csv", None),
        ]
        for method, path, body in coach_routes:
            res = phone.request(method, path, json=body)
            assert res.status_code == 403, (path, res.text)
            assert res.json()["detail"] == f"{RUNS_A_ONLY}: this needs a coach's login"
        # Its key on another station's page, or its cookie under another station's name.
        res = phone.post("/api/stations/b/enter", json={"key": _key(link["url"])})
        assert res.status_code == 403 and "this link is for station a" in res.text
        forged = httpx.Client(base_url=day.base_url, timeout=10)
        with forged:
            forged.cookies.set("agility_station_b", _key(link["url"]))
            assert forged.get("/api/stations/b/state").status_code == 401
        # A change without the CSRF header is refused before any guard.
        res = phone.post("/api/stations/a/pause", headers={CSRF_HEADER: ""})
        assert res.status_code == 403 and "CSRF" in res.text
        # Public pages and reads still answer.
        assert phone.get("/api/drills").status_code == 200
    with httpx.Client(base_url=day.base_url, timeout=10) as stranger:
        res = stranger.get("/api/stations/a/state")
        assert res.status_code == 401 and "open the station link" in res.text
    day.coach.post(f"/api/plans/sessions/{session_id}/abort")


def test_revoked_and_expired_links_are_refused(day: Day) -> None:
    first = _make_link(day)
    with closing(_phone(day, first["url"])) as phone:
        assert phone.get("/api/stations/a/state").status_code == 200
        res = day.coach.delete("/api/stations/a/links")
        assert res.status_code == 200 and res.json() == {"station": "a", "revoked": 1}
        res = phone.get("/api/stations/a/state")
        assert res.status_code == 401 and f"the link for station a {EXPIRED}" in res.text
        res = phone.post("/api/stations/a/enter", json={"key": _key(first["url"])})
        assert res.status_code == 401 and EXPIRED in res.text
        # Once refused it is no key at all: a coach route says to log in, not "station a".
        assert phone.get("/api/athletes").status_code == 401

    second = _make_link(day)
    with closing(_phone(day, second["url"])) as phone:
        assert phone.get("/api/stations/a/state").status_code == 200
        with Session(day.services.engine) as session:
            for row in session.exec(select(StationLink)).all():
                row.expires_wall = utc_now() - timedelta(seconds=1)
                session.add(row)
            session.commit()
        res = phone.get("/api/stations/a/state")
        assert res.status_code == 401 and EXPIRED in res.text
        res = phone.post("/api/stations/a/checkin", json={"tag": TAGS["Bo"]})
        assert res.status_code == 401
    with httpx.Client(base_url=day.base_url, timeout=10) as guesser:
        guesser.get("/station/a")
        guesser.headers[CSRF_HEADER] = guesser.cookies[CSRF_COOKIE]
        for key in ("", "x" * 43, "k" * 10_000):
            res = guesser.post("/api/stations/a/enter", json={"key": key})
            assert res.status_code == 401, (key[:10], res.text)
    # The coach still runs the station; hours out of range are refused.
    assert day.coach.get("/api/stations/a/state").status_code == 200
    for hours in (0, -1, 49, 1e6, "twelve"):
        res = day.coach.post("/api/stations/a/links", json={"hours": hours})
        assert res.status_code in (400, 422), (hours, res.text)
    assert day.coach.post("/api/stations/nowhere/links", json={}).status_code == 404


def test_removing_a_station_revokes_its_links(day: Day) -> None:
    link = _make_link(day, "b")
    with closing(_phone(day, link["url"])) as phone:
        assert phone.get("/api/stations/b/state").status_code == 200
        assert day.coach.delete("/api/stations/b").status_code == 204
        # Made again under the same name, it is a new station: the old link opens nothing.
        assert day.coach.put("/api/stations/b", json={"bindings": {}}).status_code == 200
        res = phone.get("/api/stations/b/state")
        assert res.status_code == 401 and EXPIRED in res.text


def test_unknown_tags_reach_the_coach_and_hostile_input_is_refused(day: Day) -> None:
    session_id = _start(day)
    link = _make_link(day)
    with closing(_phone(day, link["url"])) as phone:
        for _ in range(2):
            res = phone.post("/api/stations/a/checkin", json={"tag": " deadbeef\n"})
            assert res.status_code == 404, res.text
            assert res.json()["detail"] == (
                "tag DEADBEEF is not on the roster: ask the coach to attach it"
            )
        unknown = day.coach.get("/api/stations/a/state").json()["unknown_tags"]
        assert [(u["tag"], u["reads"]) for u in unknown] == [("DEADBEEF", 2)]
        assert day.coach.get("/api/stations/b/state").json()["unknown_tags"] == []

        res = phone.post("/api/stations/a/checkin", json={"tag": TAGS["Eve"]})
        assert res.status_code == 409
        assert "Eve (U16) is not in the plan running on station a" in res.json()["detail"]

        for tag in ("A" * 65, "04A1\x00B2", "\x1b[2J", "04A1\u202eB2", "", "  \r\n", "T" * 100_000):
            res = phone.post("/api/stations/a/checkin", json={"tag": tag})
            assert res.status_code == 422, (tag[:10], res.text)
            assert "\x1b" not in res.text and "\x00" not in res.text
        for athlete in ("x" * 101, "Bo\x07", ""):
            res = phone.post("/api/stations/a/swap", json={"athlete": athlete})
            assert res.status_code == 422, (athlete[:10], res.text)
        for body in ({"tag": 12}, {}, {"tag": ["04A1B2C3"]}):
            res = phone.post("/api/stations/a/checkin", json=body)
            assert res.status_code == 400, (body, res.text)  # Litestar's body validation
        assert phone.get("/api/stations/a/state").json()["unknown_tags"][0]["tag"] == "DEADBEEF"

    # Attached since: it leaves the list.
    eve = next(a for a in day.coach.get("/api/athletes").json() if a["name"] == "Eve")
    res = day.coach.put(f"/api/athletes/{eve['id']}/tag", json={"tag": "DEADBEEF", "move": False})
    assert res.status_code == 200, res.text
    assert day.coach.get("/api/stations/a/state").json()["unknown_tags"] == []

    # No session on station b: a coach's check-in or skip there says so.
    res = day.coach.post("/api/stations/b/checkin", json={"tag": TAGS["Bo"]})
    assert res.status_code == 409 and res.json()["detail"] == "no session running on station b"
    res = day.coach.post("/api/stations/b/skip")
    assert res.status_code == 409 and res.json()["detail"] == "no session running on station b"
    assert day.coach.get("/api/stations/nowhere/state").status_code == 404
    day.coach.post(f"/api/plans/sessions/{session_id}/abort")


def _coach_of(live: Any) -> httpx.Client:
    return login_client(live.base_url, live.services.engine)


def test_unknown_tags_are_kept_across_a_restart_and_bounded(sqlite_db: str) -> None:
    """A blank card read before a restart can still be attached after it; a reader stuck in
    a loop keeps the newest MAX_UNKNOWN_TAGS of a station, not every read."""
    from server.stations.desk import MAX_UNKNOWN_TAGS

    migrate(sqlite_db)
    with serve(sqlite_db, ()) as live, closing(_coach_of(live)) as coach:
        assert coach.put("/api/stations/a", json={"bindings": {}}).status_code == 200
        assert coach.put("/api/stations/b", json={"bindings": {}}).status_code == 200
        for i in range(MAX_UNKNOWN_TAGS + 5):
            res = coach.post("/api/stations/a/checkin", json={"tag": f"c{i:04x}"})
            assert res.status_code == 404, res.text
        for _ in range(3):
            res = coach.post("/api/stations/b/checkin", json={"tag": "beef"})
            assert res.status_code == 404, res.text
    with serve(sqlite_db, ()) as live, closing(_coach_of(live)) as coach:
        kept = coach.get("/api/stations/a/state").json()["unknown_tags"]
        assert [u["tag"] for u in kept] == [f"C{i:04X}" for i in range(5, MAX_UNKNOWN_TAGS + 5)]
        kept = coach.get("/api/stations/b/state").json()["unknown_tags"]
        assert [(u["tag"], u["reads"]) for u in kept] == [("BEEF", 3)]
