"""A testing day's rotations through real HTTP on loopback and the real serial driver: two
stations on two simulated hubs, two groups; each rotation runs one session per station at
once with the group that is there, the next waits until every station is free, the groups
swap stations, and the day is over after two rotations, also after a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from hardware.messages import EventKind
from hardware.sim.plugged import PluggedDevice
from server.db.models import Athlete, PlanSession, Run
from server.db.session import migrate
from tests.auth_support import login_client, serve
from tests.support import HTTP_POLL_S, wait_until

TIME_SCALE = 0.05
STATIONS = ("sprint", "agility")
GROUPS = {"A": ["Ada", "Bo"], "B": ["Cy", "Dee"]}
# Each hub times its own station's reps: a different time on each, to tell them apart.
RUN_S = {"sprint": 1.7, "agility": 1.9}
DAY = {
    "format": 1,
    "name": "Pre-season testing",
    "date": "2026-12-05",
    "team": "U16",
    "countdown_s": 1,
    "stations": [
        {"station": name, "drills": [{"drill": "sprint-10m", "reps": 1, "rest_s": 0}]}
        for name in STATIONS
    ],
    "groups": [{"name": name, "athletes": athletes} for name, athletes in GROUPS.items()],
}


@pytest.fixture
def hubs() -> Iterator[list[PluggedDevice]]:
    made = [PluggedDevice(device_id=0x5300_0000 + i, channels=4, seed=i) for i in (1, 2)]
    try:
        yield made
    finally:
        for hub in made:
            hub.stop()


def _lane(key: str) -> dict[str, Any]:
    return {"start": {"device": key, "channel": 0}, "finish": {"device": key, "channel": 1}}


def _break(hub: PluggedDevice, channel: int, at_ns: int) -> None:
    hub.schedule_edge(channel, EventKind.BEAM_BROKEN, at_ns)
    hub.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns + 100_000_000)


def _session(coach: httpx.Client, session_id: int) -> dict[str, Any]:
    info: dict[str, Any] = coach.get(f"/api/plans/sessions/{session_id}").json()
    return info


def _run_rotation(
    coach: httpx.Client, sessions: dict[str, int], hub_of: dict[str, PluggedDevice]
) -> dict[str, dict[str, Any]]:
    """Both stations' athletes run their reps, each station on its own hub, at the same time;
    the sessions as they ended."""
    for rep in range(2):  # two athletes a group, one rep each
        wait_until(f"rep {rep + 1} armed on both stations", lambda: all(
            coach.get(f"/api/stations/{n}").json()["on_course"] for n in sessions
        ), poll_s=HTTP_POLL_S)  # fmt: skip
        for name, hub in hub_of.items():
            start_ns = time.monotonic_ns() + 50_000_000
            _break(hub, 0, start_ns)
            _break(hub, 1, start_ns + round(RUN_S[name] * 1e9))
        wait_until(f"rep {rep + 1} done on both", lambda r=rep: all(
            len(_session(coach, s)["progress"].get("done", [])) > r for s in sessions.values()
        ), poll_s=HTTP_POLL_S)  # fmt: skip
    return {
        name: wait_until(f"session {sid} finished", lambda sid=sid: (
            (info := _session(coach, sid))["state"] == "finished" and info
        ), poll_s=HTTP_POLL_S)
        for name, sid in sessions.items()
    }  # fmt: skip


def _slots(day: dict[str, Any], rotation: int) -> dict[str, dict[str, Any]]:
    progress = day["progress"][rotation - 1]
    assert progress["rotation"] == rotation
    return {slot["station"]: slot for slot in progress["stations"]}


def test_a_day_rotates_two_groups_through_two_stations(
    sqlite_db: str, hubs: list[PluggedDevice]
) -> None:
    migrate(sqlite_db)
    ports = tuple(hub.start() for hub in hubs)
    with serve(sqlite_db, ports) as live, closing(login_client(live.base_url, sqlite_db)) as coach:
        by_port = {d["port"]: d["key"] for d in live.services.devices.snapshot()}
        hub_of = dict(zip(STATIONS, hubs, strict=True))
        team = coach.post("/api/teams", json={"name": "U16"})
        assert team.status_code == 201, team.text
        for athletes in GROUPS.values():
            for name in athletes:
                res = coach.post("/api/athletes", json={"team": "U16", "name": name})
                assert res.status_code == 201, res.text

        made = coach.post("/api/days", json=DAY)
        assert made.status_code == 201, made.text
        day = made.json()
        day_id = day["id"]
        assert (day["rotation"], day["rotations"], day["finished"]) == (0, 2, False)
        # The stations do not exist yet: refused, naming them.
        refused = coach.post(f"/api/days/{day_id}/next", json={"time_scale": TIME_SCALE})
        assert refused.status_code == 409 and "no station sprint, agility" in refused.text
        for name, port in zip(STATIONS, ports, strict=True):
            res = coach.put(f"/api/stations/{name}", json={"bindings": _lane(by_port[port])})
            assert res.status_code == 200, res.text
        assert coach.get(f"/api/days/{day_id}").json()["next_refused"] is None

        # Rotation 1: group A at sprint, B at agility, both sessions at once.
        res = coach.post(f"/api/days/{day_id}/next", json={"time_scale": TIME_SCALE})
        assert res.status_code == 200, res.text
        day = res.json()
        assert day["rotation"] == 1
        first = _slots(day, 1)
        assert {n: s["group"] for n, s in first.items()} == {"sprint": "A", "agility": "B"}
        assert all(s["session_id"] for s in first.values())
        assert _slots(day, 2)["sprint"]["state"] == "not started"
        busy = coach.post(f"/api/days/{day_id}/next", json={"time_scale": TIME_SCALE})
        assert busy.status_code == 409, busy.text
        detail = busy.json()["detail"]
        assert "stations still busy" in detail, detail
        for name in STATIONS:
            assert f"{name} (session {first[name]['session_id']} " in detail, detail
        sessions = {n: s["session_id"] for n, s in first.items()}
        for name, sid in sessions.items():
            assert _session(coach, sid)["station"] == name
        ended = _run_rotation(coach, sessions, hub_of)
        for name, group in (("sprint", "A"), ("agility", "B")):
            done = ended[name]["progress"]["done"]
            assert [d["athlete"] for d in done] == GROUPS[group], (name, done)
            assert all(abs(d["total_s"] - RUN_S[name]) < 0.002 for d in done), done
            assert ended[name]["plan"] == f"Pre-season testing · rotation 1 · group {group}"

        day = wait_until("every station free", lambda: (
            (d := coach.get(f"/api/days/{day_id}").json())["next_refused"] is None and d
        ), poll_s=HTTP_POLL_S)  # fmt: skip
        assert _slots(day, 1)["sprint"] == {
            "station": "sprint", "group": "A", "athletes": GROUPS["A"],
            "session_id": sessions["sprint"], "state": "finished", "done": 2, "total": 2,
        }  # fmt: skip
        assert day["progress"][0]["state"] == "done" and day["progress"][1]["state"] == "pending"

        # Rotation 2: the groups swap stations.
        res = coach.post(f"/api/days/{day_id}/next", json={"time_scale": TIME_SCALE})
        assert res.status_code == 200, res.text
        second = _slots(res.json(), 2)
        assert {n: s["group"] for n, s in second.items()} == {"sprint": "B", "agility": "A"}
        assert res.json()["progress"][1]["state"] == "running"
        sessions = {n: s["session_id"] for n, s in second.items()}
        ended = _run_rotation(coach, sessions, hub_of)
        for name, group in (("sprint", "B"), ("agility", "A")):
            assert [d["athlete"] for d in ended[name]["progress"]["done"]] == GROUPS[group]

        over = wait_until("the day finished", lambda: (
            (d := coach.get(f"/api/days/{day_id}").json())["finished"] and d
        ), poll_s=HTTP_POLL_S)  # fmt: skip
        assert over["next_refused"] and "all rotations done" in over["next_refused"]
        done = coach.post(f"/api/days/{day_id}/next")  # no body: time scale 1
        assert done.status_code == 409 and "all rotations done (2 of 2)" in done.text
        # The day report over the same HTTP: every athlete in one row with both stations, and
        # the CSV a coach downloads names both stations too.
        today = time.strftime("%Y-%m-%d", time.gmtime())
        report = coach.get("/api/reports/day", params={"date": today, "tz": "UTC"})
        assert report.status_code == 200, report.text
        body = report.json()
        assert body["stations"] == sorted(STATIONS) and body["valid_reps"] == 8
        by_name = {a["name"]: a for a in body["athletes"]}
        assert by_name.keys() == {*GROUPS["A"], *GROUPS["B"]}
        assert all(a["stations"] == sorted(STATIONS) for a in by_name.values())
        csv_file = coach.get(
            "/api/reports/day", params={"date": today, "tz": "UTC", "format": "csv"}
        )
        assert csv_file.status_code == 200, csv_file.text
        assert f"day-{today}.csv" in csv_file.headers["content-disposition"]
        assert all(name in csv_file.text for name in STATIONS)
        listed = coach.get("/api/days").json()
        assert [(d["id"], d["rotation"], d["rotations"]) for d in listed] == [(day_id, 2, 2)]
        assert coach.get("/api/days/999").status_code == 404

    with Session(live.services.engine) as db:
        rows = db.exec(select(PlanSession).where(PlanSession.dayplan_id == day_id)).all()
        tagged = {(r.rotation, r.station or "main") for r in rows}
        runs = db.exec(
            select(Run.athlete_id, Athlete.name).join(Athlete, col(Athlete.id) == Run.athlete_id)
        ).all()
    assert tagged == {(r, s) for r in (1, 2) for s in STATIONS}
    # Every athlete ran once per station, as the roster's athlete (not a new one).
    assert sorted(name for _, name in runs) == sorted(2 * [*GROUPS["A"], *GROUPS["B"]])
    assert len({athlete_id for athlete_id, _ in runs}) == 4

    # After a restart the day is where it was: rotation 2 of 2, finished, its sessions known.
    with serve(sqlite_db) as again, closing(login_client(again.base_url, sqlite_db)) as coach:
        day = coach.get(f"/api/days/{day_id}").json()
        assert (day["rotation"], day["finished"]) == (2, True)
        assert {s["state"] for r in (1, 2) for s in _slots(day, r).values()} == {"finished"}
        assert _slots(day, 2)["agility"]["group"] == "A"
        assert coach.post(f"/api/days/{day_id}/next").status_code == 409


def test_a_day_plan_file_is_stored_and_bad_input_is_refused_with_every_field(
    sqlite_db: str,
) -> None:
    migrate(sqlite_db)
    text = (
        'name = "Small day"\n[[stations]]\nstation = "main"\n'
        'drills = [{drill = "sprint-10m"}]\n[[groups]]\nname = "A"\nathletes = ["Ada"]\n'
    )
    with serve(sqlite_db) as live, closing(login_client(live.base_url, sqlite_db)) as coach:
        made = coach.post("/api/days", json={"text": text, "source": "small.toml"})
        assert made.status_code == 201, made.text
        day = made.json()
        assert (day["name"], day["stations"], day["rotations"]) == ("Small day", ["main"], 1)
        # The main station always exists and is free.
        assert day["next_refused"] is None
        groups = [{"name": "A", "athletes": ["Ada"]}, {"name": "B", "athletes": ["Ada"]}]
        stations = [{"station": "main", "drills": [{"drill": "x"}]}]
        bad = coach.post(
            "/api/days", json={"name": "Bad", "stations": stations, "groups": groups, "extra": 1}
        )
        assert bad.status_code == 422, bad.text
        fields = {e["field"] for e in bad.json()["errors"]}
        assert fields == {"extra", "stations[1].drills[1].drill", "groups[2].athletes[1]", "groups"}
        scale = coach.post(f"/api/days/{day['id']}/next", json={"time_scale": 0})
        assert scale.status_code == 422 and "time_scale" in scale.text
        schema = coach.get("/schema/openapi.json").json()
        assert "DayPlanInfo" in schema["components"]["schemas"]
        assert "NextRotationRequest" in schema["components"]["schemas"]
        with httpx.Client(base_url=live.base_url) as anonymous:
            assert anonymous.get("/api/days").status_code == 401


def test_a_rotation_a_station_cannot_run_starts_nowhere(
    sqlite_db: str, hubs: list[PluggedDevice]
) -> None:
    """`agility` has no devices bound: the rotation is refused before any session starts, so
    no group is sent to a station that cannot time them, and `sprint` stays free."""
    migrate(sqlite_db)
    ports = (hubs[0].start(),)
    with serve(sqlite_db, ports) as live, closing(login_client(live.base_url, sqlite_db)) as coach:
        (key,) = [d["key"] for d in live.services.devices.snapshot()]
        assert coach.put("/api/stations/sprint", json={"bindings": _lane(key)}).status_code == 200
        assert coach.put("/api/stations/agility", json={"bindings": {}}).status_code == 200
        assert coach.post("/api/teams", json={"name": "U16"}).status_code == 201
        for name in [*GROUPS["A"], *GROUPS["B"]]:
            res = coach.post("/api/athletes", json={"team": "U16", "name": name})
            assert res.status_code == 201, res.text
        day_id = coach.post("/api/days", json=DAY).json()["id"]

        res = coach.post(f"/api/days/{day_id}/next", json={"time_scale": TIME_SCALE})
        assert res.status_code == 409, res.text
        assert "rotation 1 cannot start: agility:" in res.json()["detail"]
        day = coach.get(f"/api/days/{day_id}").json()
        assert day["rotation"] == 0
        sessions = coach.get("/api/plans/sessions").json()
        assert sessions == [], sessions
