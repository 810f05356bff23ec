"""The devices page and named layouts over real HTTP, with a simulated hub on a real pty
opened by the server itself: last event age, test mode on the live feed, layout CRUD and
apply, and the binding checks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from drills.crossing import Trigger
from hardware.messages import EventKind
from hardware.sim.plugged import PluggedDevice
from server.app import Services
from server.db.session import migrate
from server.devices.layouts import parse_bindings
from server.errors import InvalidInputError
from server.runs.coordinator import Binding
from tests.auth_support import csrf_headers, login_client, serve


@dataclass
class Rig:
    base_url: str
    services: Services
    hub: PluggedDevice
    key: str


@pytest.fixture
def rig(sqlite_db: str) -> Iterator[Rig]:
    """The whole app under uvicorn in a thread, told to open the simulated hub's port."""
    migrate(sqlite_db)
    hub = PluggedDevice(device_id=0x5100_00AA, channels=4, seed=3)
    try:
        with serve(sqlite_db, (hub.start(),)) as live:
            key = live.services.devices.snapshot()[0]["key"]
            yield Rig(live.base_url, live.services, hub, key)
    finally:
        hub.stop()


def _edge(rig: Rig, channel: int) -> None:
    rig.hub.schedule_edge(channel, EventKind.BEAM_BROKEN, time.monotonic_ns() + 20_000_000)


def _next(ws: Any, kind: str, timeout_s: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        msg: dict[str, Any] = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if msg["type"] == kind:
            return msg


def test_every_route_needs_a_coach(rig: Rig) -> None:
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/devices", None), ("POST", "/api/devices/test", {"on": True}),
        ("GET", "/api/layouts", None), ("PUT", "/api/layouts/lane", {"bindings": {}}),
        ("DELETE", "/api/layouts/lane", None), ("POST", "/api/layouts/lane/apply", None),
        ("GET", "/api/lan", None),
    ]  # fmt: skip
    with httpx.Client(base_url=rig.base_url, timeout=10) as anon:
        headers = csrf_headers(anon)
        for method, path, body in routes:
            res = anon.request(method, path, json=body, headers=headers)
            assert res.status_code == 401, (method, path, res.status_code)
    assert rig.services.devices.test_mode is False


def test_devices_page_and_test_mode(rig: Rig) -> None:
    ws_url = rig.base_url.replace("http://", "ws://") + "/ws/live"
    with httpx.Client(base_url=rig.base_url, timeout=10) as coach:
        login_client(coach, rig.services.engine)
        (device,) = coach.get("/api/devices").json()
        assert device["key"] == rig.key
        assert "last_event_s_ago" in device and device["last_event_s_ago"] is None
        with connect(ws_url, open_timeout=5) as ws:
            _next(ws, "hello")
            _edge(rig, 2)  # test mode off: nothing on the feed
            time.sleep(0.5)  # the edge would be on the feed by now; the next message is edge 3's
            assert coach.post("/api/devices/test", json={"on": True}).json() == {"on": True}
            assert coach.get("/api/devices/test").json() == {"on": True}
            _edge(rig, 3)
            msg = _next(ws, "device")
            assert {k: msg[k] for k in ("device", "channel", "kind")} == {
                "device": rig.key, "channel": 3, "kind": "beam_broken",
            }  # fmt: skip
            assert coach.post("/api/devices/test", json={"on": False}).json() == {"on": False}
        (device,) = coach.get("/api/devices").json()
        age = device["last_event_s_ago"]
        assert isinstance(age, float) and 0 <= age < 5


def test_layouts_crud_and_apply(rig: Rig) -> None:
    coordinator = rig.services.coordinator
    lane = {"start": {"device": rig.key, "channel": 0}, "finish": {"device": rig.key, "channel": 1}}
    with httpx.Client(base_url=rig.base_url, timeout=10) as coach:
        login_client(coach, rig.services.engine)
        res = coach.put("/api/layouts/Lane 1", json={"bindings": lane})
        assert res.status_code == 200, res.text
        assert res.json()["bindings"] == lane and res.json()["active"] is False
        moved = {**lane, "finish": {"device": rig.key, "channel": 3}}
        assert coach.put("/api/layouts/Lane 1", json={"bindings": moved}).status_code == 200
        assert coach.put("/api/layouts/Spare", json={"bindings": lane}).status_code == 200
        listed = coach.get("/api/layouts").json()
        assert [(x["name"], x["bindings"]["finish"]["channel"]) for x in listed] == [
            ("Lane 1", 3), ("Spare", 1),
        ]  # fmt: skip

        res = coach.post("/api/layouts/Lane 1/apply")
        assert res.status_code == 200 and res.json()["active"] is True
        assert coordinator.layout == {"start": Binding(rig.key, 0), "finish": Binding(rig.key, 3)}
        actives = {x["name"]: x["active"] for x in coach.get("/api/layouts").json()}
        assert actives == {"Lane 1": True, "Spare": False}

        assert coach.delete("/api/layouts/Spare").status_code == 204
        assert coach.delete("/api/layouts/Spare").status_code == 404
        assert coach.post("/api/layouts/Spare/apply").status_code == 404
        assert [x["name"] for x in coach.get("/api/layouts").json()] == ["Lane 1"]


def test_no_layout_change_during_a_rep(rig: Rig) -> None:
    coordinator = rig.services.coordinator
    with httpx.Client(base_url=rig.base_url, timeout=10) as coach:
        login_client(coach, rig.services.engine)
        lane = {"start": {"device": rig.key, "channel": 0}}
        assert coach.put("/api/layouts/Lane", json={"bindings": lane}).status_code == 200

        # Stands in for an ActiveRun: only the athlete and the drill's slug are read.
        busy = SimpleNamespace(athlete="Ana", drill=SimpleNamespace(slug="sprint-10m"))
        coordinator.active = busy  # type: ignore[assignment]
        try:
            res = coach.post("/api/layouts/Lane/apply")
        finally:
            coordinator.active = None
        assert res.status_code == 409 and "Ana" in res.json()["detail"]
        assert coordinator.layout == {}


def test_bad_bindings_are_refused_with_every_problem(rig: Rig) -> None:
    with httpx.Client(base_url=rig.base_url, timeout=10) as coach:
        login_client(coach, rig.services.engine)
        bad = {
            "start": {"device": "", "channel": 0},
            "finish": {"device": rig.key, "channel": -1},
            "split": {"device": rig.key, "channel": True},
        }
        res = coach.put("/api/layouts/Broken", json={"bindings": bad})
        assert res.status_code == 422
        errors = res.json()["errors"]
        assert len(errors) == 3, errors
        fields = {e["field"] for e in errors}
        assert fields == {
            "bindings.start.device",
            "bindings.finish.channel",
            "bindings.split.channel",
        }
        # Not an object at all: the typed body refuses it, naming the field.
        wrong = coach.put("/api/layouts/Broken", json={"bindings": []})
        assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "bindings"
        assert coach.get("/api/layouts").json() == []


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"start": {"device": "hub-1", "channel": 0}, "finish": {"device": "hub-1", "channel": 0}},
         "already bound to start"),
        ({"start": {"device": "hub-1", "channel": "0"}}, "start.channel"),
        ({"start": {"device": "hub-1"}}, "start.channel"),
        ({"start": {"device": "hub-1", "channel": 0, "port": "x"}}, "unknown field"),
        ({"": {"device": "hub-1", "channel": 0}}, "role name"),
        ({"start": "hub-1:0"}, "an object"),
        ({"start": {"device": "hub-1", "channel": 0, "trigger": "last-break"}}, "start.trigger"),
        ({"start": {"device": "hub-1", "channel": 0, "trigger": "dual-beam"}},
         "dual-beam binds two"),
        ({"start": {"device": "hub-1", "channels": [0, 1]}}, "only for dual-beam"),
        ({"start": {"device": "hub-1", "channel": 0, "trigger": "dual-longest"}},
         "dual-longest binds two"),
        ({"start": {"device": "hub-1", "channels": [0, 1], "trigger": "dual-beam",
                    "window_ms": 100}}, "start.window_ms: only for longest-break or dual"),
        ({"start": {"device": "hub-1", "channels": [2, 2], "trigger": "dual-beam"}},
         "two different beams"),
        ({"start": {"device": "hub-1", "channel": 0, "rearm_ms": 20_000}}, "start.rearm_ms"),
        ({"start": {"device": "hub-1", "channel": 0, "window_ms": 100}}, "only for longest"),
        ({"start": {"device": "hub-1", "channel": 0, "trigger": "longest-break",
                    "window_ms": 5}}, "start.window_ms"),
        ({"start": {"device": "hub-1", "channels": [0, 1], "trigger": "dual-beam"},
          "finish": {"device": "hub-1", "channel": 1}}, "already bound to start"),
    ],
)  # fmt: skip
def test_parse_bindings_names_the_problem(raw: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_bindings(raw)
    assert any(fragment in e for e in caught.value.errors), caught.value.errors


def test_rules_are_kept_and_answered_as_given(rig: Rig) -> None:
    lane = {
        "start": {"device": rig.key, "channels": [0, 1], "trigger": "dual-beam", "rearm_ms": 400},
        "finish": {"device": rig.key, "channel": 2, "trigger": "longest-break", "window_ms": 300},
        "turn": {
            "device": rig.key,
            "channels": [3, 4],
            "trigger": "dual-longest",
            "window_ms": 200,
        },
    }
    with httpx.Client(base_url=rig.base_url, timeout=10) as coach:
        login_client(coach, rig.services.engine)
        res = coach.put("/api/layouts/Rules", json={"bindings": lane})
        assert res.status_code == 200, res.text
        assert res.json()["bindings"] == lane
        [stored] = coach.get("/api/layouts").json()
        assert stored["bindings"] == lane
        assert coach.post("/api/layouts/Rules/apply").status_code == 200
    applied = rig.services.coordinator.layout
    assert applied["start"] == Binding(rig.key, 0, Trigger.DUAL_BEAM, bottom=1, rearm_ms=400)
    assert applied["finish"].rule().window_us == 300_000
    assert applied["turn"] == Binding(rig.key, 3, Trigger.DUAL_LONGEST, bottom=4, window_ms=200)


def test_parse_bindings_accepts_a_layout() -> None:
    raw = {"start": {"device": " hub-1 ", "channel": 0}, "finish": {"device": "g2", "channel": 7}}
    assert parse_bindings(raw) == {"start": Binding("hub-1", 0), "finish": Binding("g2", 7)}
