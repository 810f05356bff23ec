"""Stations through HTTP and the real serial driver: two courses on two simulated hubs run their
sessions at once, each rep timed by its own hub; a device another station holds is refused;
stations come back after a restart."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from hardware.messages import EventKind
from hardware.sim.plugged import PluggedDevice
from server.app import Services, build_services
from server.db.models import Run
from server.db.session import migrate
from tests.auth_support import login_client, serve
from tests.support import HTTP_POLL_S, wait_until

PLAN = {
    "name": "Testing day",
    "countdown_s": 1,
    "blocks": [{"drill": "backward-sprint-10m", "athletes": ["Ada", "Bo"], "reps": 1}],
}


@dataclass
class Field:
    base_url: str
    services: Services
    hubs: list[PluggedDevice]
    keys: list[str]


@pytest.fixture
def field(sqlite_db: str) -> Iterator[Field]:
    """The whole app under uvicorn, told to open two simulated hubs' ports."""
    migrate(sqlite_db)
    hubs = [PluggedDevice(device_id=0x5200_0000 + i, channels=4, seed=i) for i in (1, 2)]
    ports = tuple(h.start() for h in hubs)
    try:
        with serve(sqlite_db, ports) as live:
            by_port = {d["port"]: d["key"] for d in live.services.devices.snapshot()}
            yield Field(live.base_url, live.services, hubs, [by_port[p] for p in ports])
    finally:
        for hub in hubs:
            hub.stop()


def _lane(key: str) -> dict[str, Any]:
    return {"start": {"device": key, "channel": 0}, "finish": {"device": key, "channel": 1}}


class Feed:
    """Every message of the public live feed, read in a thread."""

    def __init__(self, base_url: str) -> None:
        self.messages: list[dict[str, Any]] = []
        self.ws = connect(base_url.replace("http", "ws") + "/ws/live", open_timeout=5)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                self.messages.append(json.loads(raw))
        except ConnectionClosed:
            pass

    def close(self) -> None:
        self.ws.close()
        self.thread.join(timeout=5)


def test_two_stations_run_at_once_each_on_its_own_hub(field: Field) -> None:
    feed = Feed(field.base_url)
    with httpx.Client(base_url=field.base_url, timeout=10) as coach:
        login_client(coach, field.services.engine)
        for name, key, spacing in (("sprint", field.keys[0], 0), ("lane-2", field.keys[1], 5)):
            res = coach.put(
                f"/api/stations/{name}",
                json={"bindings": _lane(key), "min_start_spacing_s": spacing},
            )
            assert res.status_code == 200, res.text
            assert res.json()["bindings"] == _lane(key) and res.json()["on_course"] is None
        # A device another station holds: refused, naming the station and its role.
        clash = coach.put("/api/stations/t-test", json={"bindings": _lane(field.keys[0])})
        assert clash.status_code == 409 and "belongs to station sprint (its start)" in clash.text
        bad = coach.put("/api/stations/Bad Name!", json={"bindings": {}})
        assert bad.status_code == 422 and "a-z, 0-9" in bad.text
        assert [s["name"] for s in coach.get("/api/stations").json()] == [
            "main",
            "lane-2",
            "sprint",
        ]
        plan_id = coach.post("/api/plans", json=PLAN).json()["id"]
        sessions = {}
        for name in ("sprint", "lane-2"):
            res = coach.post(
                f"/api/stations/{name}/sessions", json={"plan_id": plan_id, "time_scale": 0.2}
            )
            assert res.status_code == 200, res.text
            assert res.json()["station"] == name
            sessions[name] = res.json()["id"]
        again = coach.post("/api/stations/sprint/sessions", json={"plan_id": plan_id})
        assert again.status_code == 409 and "station sprint is running session" in again.text

        for rep in range(2):
            # Both stations have an athlete on course at the same moment: neither waits.
            on_course = wait_until("both stations armed", lambda: all(
                coach.get(f"/api/stations/{n}").json()["on_course"] for n in sessions
            ), poll_s=HTTP_POLL_S)  # fmt: skip
            assert on_course
            for i, hub in enumerate(field.hubs):
                now_ns = time.monotonic_ns()
                start_ns = now_ns + 50_000_000
                # Station sprint's athlete runs 2.5 s, lane-2's 3.0 s: each hub times its own.
                hub.schedule_edge(0, EventKind.BEAM_BROKEN, start_ns)
                hub.schedule_edge(0, EventKind.BEAM_RESTORED, start_ns + 100_000_000)
                finish_ns = start_ns + (2_500_000_000 if i == 0 else 3_000_000_000)
                hub.schedule_edge(1, EventKind.BEAM_BROKEN, finish_ns)
                hub.schedule_edge(1, EventKind.BEAM_RESTORED, finish_ns + 100_000_000)
            wait_until(f"rep {rep + 1} finished on both", lambda r=rep: all(
                len(coach.get(f"/api/plans/sessions/{s}").json()["progress"].get("done", []))
                > r for s in sessions.values()
            ), poll_s=HTTP_POLL_S)  # fmt: skip
        infos = {
            n: wait_until(f"session {s} done", lambda s=s: (
                (info := coach.get(f"/api/plans/sessions/{s}").json())["state"] == "finished"
                and info
            ), poll_s=HTTP_POLL_S)
            for n, s in sessions.items()
        }  # fmt: skip
    for name, total_s in (("sprint", 2.5), ("lane-2", 3.0)):
        done = infos[name]["progress"]["done"]
        assert [d["athlete"] for d in done] == ["Ada", "Bo"], done
        for d in done:
            assert abs(d["total_s"] - total_s) < 0.002, (name, d)
    with Session(field.services.engine) as session:
        rows = session.exec(select(Run.id, Run.station)).all()
    by_station = {run_id: station for run_id, station in rows}
    feed.close()
    for name in ("sprint", "lane-2"):
        run_ids = {d["run_id"] for d in infos[name]["progress"]["done"]}
        assert {by_station[run_id] for run_id in run_ids} == {name}
        # The live feed names each rep's station, so a board can show one station.
        said = {
            m["station"]
            for m in feed.messages
            if m.get("type") in ("split", "run") and m.get("run_id") in run_ids
        }
        assert said == {name}, said


def test_stations_come_back_after_a_restart_and_free_their_devices(field: Field) -> None:
    with httpx.Client(base_url=field.base_url, timeout=10) as coach:
        login_client(coach, field.services.engine)
        res = coach.put(
            "/api/stations/sprint",
            json={"bindings": _lane(field.keys[0]), "min_start_spacing_s": 4.5},
        )
        assert res.status_code == 200, res.text
    again = build_services(field.services.settings)
    station = again.stations.get("sprint")
    assert station.min_start_spacing_s == 4.5
    assert {b.device for b in station.layout.values()} == {field.keys[0]}
    with httpx.Client(base_url=field.base_url, timeout=10) as coach:
        login_client(coach, field.services.engine)
        assert coach.delete("/api/stations/main").status_code == 409
        assert coach.delete("/api/stations/sprint").status_code == 204
        assert coach.get("/api/stations/sprint").status_code == 404
        # Its hub is free again for another station.
        res = coach.put("/api/stations/t-test", json={"bindings": _lane(field.keys[0])})
        assert res.status_code == 200, res.text


def _course(coach: httpx.Client, name: str) -> list[dict[str, Any]]:
    course: list[dict[str, Any]] = coach.get(f"/api/stations/{name}").json()["course"]
    return course


def _break(hub: PluggedDevice, channel: int, at_ns: int) -> None:
    """A body through one beam: broken at at_ns, clear 80 ms later."""
    hub.schedule_edge(channel, EventKind.BEAM_BROKEN, at_ns)
    hub.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns + 80_000_000)


def _run(hub: PluggedDevice, start_in_s: float, total_s: float) -> None:
    """One athlete's pass: the start gate now + start_in_s, the finish total_s later."""
    start_ns = time.monotonic_ns() + round(start_in_s * 1e9)
    for channel, at_ns in ((0, start_ns), (1, start_ns + round(total_s * 1e9))):
        _break(hub, channel, at_ns)


def test_a_station_with_start_spacing_takes_the_next_athlete_before_the_last_finishes(
    field: Field,
) -> None:
    plan = {**PLAN, "blocks": [{"drill": "backward-sprint-10m", "athletes": ["Ada", "Bo", "Cy"],
                                "reps": 1}]}  # fmt: skip
    hub = field.hubs[0]
    with httpx.Client(base_url=field.base_url, timeout=10) as coach:
        login_client(coach, field.services.engine)
        res = coach.put("/api/stations/sprint", json={"bindings": _lane(field.keys[0]),
                                                      "min_start_spacing_s": 1.0})  # fmt: skip
        assert res.status_code == 200, res.text
        plan_id = coach.post("/api/plans", json=plan).json()["id"]
        res = coach.post("/api/stations/sprint/sessions",
                         json={"plan_id": plan_id, "time_scale": 0.2})  # fmt: skip
        session_id = res.json()["id"]
        wait_until("Ada armed", lambda: _course(coach, "sprint"), poll_s=HTTP_POLL_S)
        _run(hub, 0.05, 3.0)  # Ada: 3.0 s
        # Bo is armed while Ada is still on the course (the spacing is 1 s, her run 3 s).
        both = wait_until("Ada running and Bo armed", lambda: (
            (c := _course(coach, "sprint")) and len(c) == 2 and c
        ), poll_s=HTTP_POLL_S)  # fmt: skip
        assert [r["athlete"] for r in both] == ["Ada", "Bo"]
        assert both[0]["run_id"] is not None and both[1]["run_id"] is None
        _run(hub, 0.05, 2.6)  # Bo: 2.6 s, finishing after Ada
        wait_until(
            "Cy armed",
            lambda: [r["athlete"] for r in _course(coach, "sprint")][-1:] == ["Cy"],
            poll_s=HTTP_POLL_S,
        )
        _run(hub, 0.05, 2.5)
        info = wait_until("the session finished", lambda: (
            (i := coach.get(f"/api/plans/sessions/{session_id}").json())["state"] == "finished"
            and i
        ), poll_s=HTTP_POLL_S)  # fmt: skip
    totals = {d["athlete"]: d["total_s"] for d in info["progress"]["done"]}
    assert totals.keys() == {"Ada", "Bo", "Cy"}, info["progress"]["done"]
    for athlete, total_s in (("Ada", 3.0), ("Bo", 2.6), ("Cy", 2.5)):
        assert abs(totals[athlete] - total_s) < 0.002, totals


def test_void_names_whose_rep_when_several_are_on_course(field: Field) -> None:
    """Bo false-starts while Ada is still running: the assistant voids his rep alone, by its
    run id; Ada's rep runs on and keeps her own finish."""
    plan = {**PLAN, "blocks": [{"drill": "backward-sprint-10m", "athletes": ["Ada", "Bo", "Cy"],
                                "reps": 1}]}  # fmt: skip
    hub = field.hubs[0]
    with httpx.Client(base_url=field.base_url, timeout=10) as coach:
        login_client(coach, field.services.engine)
        res = coach.put("/api/stations/sprint", json={"bindings": _lane(field.keys[0]),
                                                      "min_start_spacing_s": 1.0})  # fmt: skip
        assert res.status_code == 200, res.text
        plan_id = coach.post("/api/plans", json=plan).json()["id"]
        res = coach.post("/api/stations/sprint/sessions",
                         json={"plan_id": plan_id, "time_scale": 0.2})  # fmt: skip
        session_id = res.json()["id"]
        wait_until("Ada armed", lambda: _course(coach, "sprint"), poll_s=HTTP_POLL_S)
        _run(hub, 0.05, 6.0)  # Ada: 6.0 s
        wait_until(
            "Bo armed",
            lambda: [r["athlete"] for r in _course(coach, "sprint")] == ["Ada", "Bo"],
            poll_s=HTTP_POLL_S,
        )
        bo_finish_ns = time.monotonic_ns() + round(5.55e9)
        _run(hub, 0.05, 5.5)  # Bo's finish comes after Ada's
        both = wait_until("both on course", lambda: (
            (c := _course(coach, "sprint")) and all(r["run_id"] for r in c[:2]) and c
        ), poll_s=HTTP_POLL_S)  # fmt: skip
        ada, bo = both[0], both[1]
        res = coach.post("/api/stations/sprint/void")
        assert res.status_code == 409, res.text
        assert "athletes are on course on station sprint (Ada, Bo" in res.json()["detail"]
        res = coach.post("/api/stations/sprint/void", json={"run_id": 999_999})
        assert res.status_code == 409 and "not under way" in res.json()["detail"]
        res = coach.post("/api/stations/sprint/void", json={"run_id": bo["run_id"]})
        assert res.status_code == 200, res.text
        left = [r["athlete"] for r in res.json()["station"]["course"]]
        assert left[0] == "Ada" and "Bo" not in left, left
        # Cy sets off once Ada is in and Bo's (voided) body has crossed the finish too: his
        # crossing is nobody's, as nobody is left on the course.
        wait_until("Ada and Bo through the finish", lambda: (
            time.monotonic_ns() > bo_finish_ns + 300_000_000
            and [r["athlete"] for r in _course(coach, "sprint")] == ["Cy"]
        ), poll_s=HTTP_POLL_S)  # fmt: skip
        _run(hub, 0.05, 2.5)
        info = wait_until("the session finished", lambda: (
            (i := coach.get(f"/api/plans/sessions/{session_id}").json())["state"] == "finished"
            and i
        ), poll_s=HTTP_POLL_S)  # fmt: skip
    done = {d["athlete"]: d for d in info["progress"]["done"]}
    assert done["Bo"]["state"] == "void"
    assert done["Ada"]["state"] == "finished" and abs(done["Ada"]["total_s"] - 6.0) < 0.002
    assert done["Cy"]["state"] == "finished" and abs(done["Cy"]["total_s"] - 2.5) < 0.002
    assert ada["run_id"] != bo["run_id"]


def test_two_bodies_inside_the_rearm_ask_the_coach_about_the_lost_crossing(field: Field) -> None:
    """Bo reaches the finish 0.2 s behind Ada, inside the 0.5 s re-arm: the gate makes one
    crossing of the two (Ada's, first in first out), Bo's rep times out, and the coach is asked
    with a `merged` flag giving the time Bo's body would give; nothing to swap."""
    plan = {**PLAN, "blocks": [{"drill": "backward-sprint-10m", "athletes": ["Ada", "Bo"],
                                "reps": 1}]}  # fmt: skip
    hub = field.hubs[0]
    with httpx.Client(base_url=field.base_url, timeout=10) as coach:
        login_client(coach, field.services.engine)
        res = coach.put("/api/stations/sprint", json={"bindings": _lane(field.keys[0]),
                                                      "min_start_spacing_s": 1.0})  # fmt: skip
        assert res.status_code == 200, res.text
        plan_id = coach.post("/api/plans", json=plan).json()["id"]
        res = coach.post("/api/stations/sprint/sessions",
                         json={"plan_id": plan_id, "time_scale": 0.2})  # fmt: skip
        session_id = res.json()["id"]
        wait_until("Ada armed", lambda: _course(coach, "sprint"), poll_s=HTTP_POLL_S)
        ada_start_ns = time.monotonic_ns() + 50_000_000
        ada_finish_ns = ada_start_ns + 4_000_000_000
        _break(hub, 0, ada_start_ns)
        _break(hub, 1, ada_finish_ns)
        wait_until(
            "Bo armed",
            lambda: [r["athlete"] for r in _course(coach, "sprint")] == ["Ada", "Bo"],
            poll_s=HTTP_POLL_S,
        )
        bo_start_ns = time.monotonic_ns() + 50_000_000
        bo_finish_ns = ada_finish_ns + 200_000_000
        assert bo_finish_ns - bo_start_ns > 1_500_000_000, "Bo armed too late for this test"
        _break(hub, 0, bo_start_ns)
        _break(hub, 1, bo_finish_ns)
        info = wait_until("the session finished", lambda: (
            (i := coach.get(f"/api/plans/sessions/{session_id}").json())["state"] == "finished"
            and i
        ), timeout_s=30, poll_s=HTTP_POLL_S)  # fmt: skip
        done = {d["athlete"]: d for d in info["progress"]["done"]}
        assert done["Ada"]["state"] == "finished" and abs(done["Ada"]["total_s"] - 4.0) < 0.002
        assert done["Bo"]["state"] == "timeout"
        flags = coach.get("/api/flags", params={"flag_state": "open"}).json()
        (flag,) = [f for f in flags if f["doubt"] == "merged"]
        assert (flag["athlete"], flag["alternative"], flag["role"]) == ("Bo", "Ada", "finish")
        assert flag["run_id"] == done["Bo"]["run_id"] and flag["other_run_id"] is None
        bo_s = (bo_finish_ns - bo_start_ns) / 1e9
        said = re.search(r"their time is (\d+\.\d{3}) s", flag["reason"])
        assert said is not None and abs(float(said[1]) - bo_s) < 0.002, flag["reason"]
        assert "0.20 s after Ada's crossing, inside the 500 ms re-arm" in flag["reason"]
        res = coach.post(f"/api/flags/{flag['id']}/swap")
        assert res.status_code == 409 and "names no second rep" in res.json()["detail"]
        assert coach.post(f"/api/flags/{flag['id']}/confirm").status_code == 200


def test_a_pass_on_the_course_is_flagged_and_the_coach_swaps_it(field: Field) -> None:
    """Ada runs 3.0 s per 10 m; Bo sets off about 2.2 s after her at 1.5 s per 10 m and passes
    her before the finish. First in, first out gives Ada Bo's finish; the paces show the pass.
    (Each gate's crossings are over 0.5 s apart: closer, the re-arm makes two bodies one.)"""
    plan = {**PLAN, "blocks": [{"drill": "backward-sprint-20m", "athletes": ["Ada", "Bo"],
                                "reps": 1}]}  # fmt: skip
    hub = field.hubs[0]
    key = field.keys[0]
    lane = {"start": {"device": key, "channel": 0}, "split_10m": {"device": key, "channel": 1},
            "finish": {"device": key, "channel": 2}}  # fmt: skip
    feed = Feed(field.base_url)
    with httpx.Client(base_url=field.base_url, timeout=10) as coach:
        login_client(coach, field.services.engine)
        res = coach.put("/api/stations/sprint", json={"bindings": lane,
                                                      "min_start_spacing_s": 2.0})  # fmt: skip
        assert res.status_code == 200, res.text
        plan_id = coach.post("/api/plans", json=plan).json()["id"]
        res = coach.post("/api/stations/sprint/sessions",
                         json={"plan_id": plan_id, "time_scale": 0.2})  # fmt: skip
        session_id = res.json()["id"]
        wait_until("Ada armed", lambda: _course(coach, "sprint"), poll_s=HTTP_POLL_S)
        ada_ns = time.monotonic_ns() + 50_000_000
        _break(hub, 0, ada_ns)
        wait_until("Bo armed", lambda: len(_course(coach, "sprint")) == 2, poll_s=HTTP_POLL_S)
        bo_ns = time.monotonic_ns() + 50_000_000
        assert 2.0 < (bo_ns - ada_ns) / 1e9 < 2.6  # armed no sooner than the spacing
        for channel, at_ns in ((1, ada_ns + 3_000_000_000), (2, ada_ns + 6_000_000_000),
                               (0, bo_ns), (1, bo_ns + 1_500_000_000),
                               (2, bo_ns + 3_000_000_000)):  # fmt: skip
            _break(hub, channel, at_ns)
        wait_until("both finished", lambda: (
            coach.get(f"/api/plans/sessions/{session_id}").json()["state"] == "finished"
        ), poll_s=HTTP_POLL_S)  # fmt: skip
        flags = coach.get("/api/flags", params={"flag_state": "open"}).json()
        assert flags and {f["doubt"] for f in flags} == {"pass"}, flags
        flag = next(f for f in flags if f["athlete"] == "Ada")
        assert (flag["role"], flag["alternative"], flag["station"]) == ("finish", "Bo", "sprint")
        res = coach.post(f"/api/flags/{flag['id']}/swap")
        assert res.status_code == 200, res.text
        totals = {r["athlete"]: r["total_s"] for r in res.json()["runs"]}
        assert abs(totals["Ada"] - 6.0) < 0.002 and abs(totals["Bo"] - 3.0) < 0.002, totals
        # One answer decides both crossings of the pass; a second is refused.
        assert coach.get("/api/flags", params={"flag_state": "open"}).json() == []
        again = coach.post(f"/api/flags/{flag['id']}/swap")
        assert again.status_code == 409 and "already swapped" in again.text
        log = coach.get(f"/api/runs/{flag['run_id']}/corrections").json()
        assert [e["action"] for e in log] == ["swap-crossing"]
    feed.close()
    said = [m for m in feed.messages if m.get("type") == "flag"]
    assert said and all(m["station"] == "sprint" for m in said), said
