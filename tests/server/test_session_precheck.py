"""Sessions that cannot run, and failures while one runs (issue 16, item 12).

A drill the bound devices cannot run is refused when the session is asked for (409, naming
the roles, pods or channels missing), on the main station and on another one; a pod drill
runs on the plans' simulated hub (it was one channel short); and a failure while a session
runs (a rep that raises) pauses the session with the reason, resumable,
instead of ending it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from hardware.messages import EventKind
from hardware.sim.plugged import PluggedDevice
from server.app import build_services, create_app
from server.config import Settings
from server.db.session import migrate
from server.runs.series import PodRun
from tests.auth_support import login_client
from tests.server.hub_server import serve_with_hub
from tests.support import HTTP_POLL_S, wait_until


def _plan(drill: str, athletes: list[str], countdown_s: float = 0.5) -> dict[str, Any]:
    block = {"drill": drill, "athletes": athletes, "reps": 1, "rest_s": 0}
    return {"name": f"{drill} plan", "team": "U16", "countdown_s": countdown_s,
            "blocks": [block]}  # fmt: skip


@dataclass
class Lane:
    live: Any
    hub: PluggedDevice
    key: str
    coach: httpx.Client

    def apply(self, bindings: dict[str, Any]) -> None:
        res = self.coach.put("/api/layouts/lane", json={"bindings": bindings})
        assert res.status_code == 200, res.text
        assert self.coach.post("/api/layouts/lane/apply").status_code == 200

    def session(self, body: dict[str, Any], station: str | None = None) -> httpx.Response:
        plan_id = self.coach.post("/api/plans", json=body).json()["id"]
        if station is None:
            return self.coach.post(f"/api/plans/{plan_id}/sessions", json={"at": None})
        return self.coach.post(f"/api/stations/{station}/sessions", json={"plan_id": plan_id})

    def info(self, session_id: int) -> dict[str, Any]:
        info: dict[str, Any] = self.coach.get(f"/api/plans/sessions/{session_id}").json()
        return info

    def run(self, total_s: float) -> None:
        """The athlete armed on the main station runs through start and finish."""
        wait_until(
            "an athlete armed",
            lambda: self.coach.get("/api/stations/main").json()["on_course"],
            poll_s=HTTP_POLL_S,
        )
        start_ns = time.monotonic_ns() + 50_000_000
        for channel, at_ns in ((0, start_ns), (1, start_ns + round(total_s * 1e9))):
            self.hub.schedule_edge(channel, EventKind.BEAM_BROKEN, at_ns)
            self.hub.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns + 80_000_000)


@pytest.fixture
def lane(sqlite_db: str) -> Iterator[Lane]:
    """The app on loopback with one simulated 4-channel gate hub; nothing bound yet."""
    migrate(sqlite_db)
    hub = PluggedDevice(device_id=0x5400_0C01, channels=4, seed=12)
    with serve_with_hub(sqlite_db, hub) as (live, key):
        wait_until("the hub ready", lambda: live.services.devices.not_ready_reason(key) is None)
        with closing(login_client(live.base_url, live.services.engine)) as coach:
            yield Lane(live, hub, key, coach)


def test_a_drill_the_bound_devices_cannot_run_is_refused_naming_what_is_missing(
    lane: Lane,
) -> None:
    res = lane.session(_plan("pod-reaction", ["Ada"]))
    assert res.status_code == 409, res.text
    detail = res.json()["detail"]
    assert "cannot run on station main" in detail
    assert (
        "pod-reaction: no device bound to pod(s) home, pod_left, pod_front_left, "
        "pod_front_right, pod_right" in detail
    ), detail

    lane.apply({"start": {"device": lane.key, "channel": 0},
                "finish": {"device": lane.key, "channel": 1}})  # fmt: skip
    res = lane.session(_plan("sprint-20m", ["Ada"]))
    assert res.status_code == 409, res.text
    assert "sprint-20m: no device bound to role(s) split_10m" in res.json()["detail"]

    lane.apply({"start": {"device": lane.key, "channel": 0},
                "finish": {"device": lane.key, "channel": 6}})  # fmt: skip
    res = lane.session(_plan("sprint-10m", ["Ada"]))
    assert res.status_code == 409, res.text
    assert f"finish: {lane.key} has channels 0-3, not 6" in res.json()["detail"]

    # Another station: checked against its own bindings.
    assert lane.coach.put("/api/stations/cones", json={"bindings": {}}).status_code == 200
    res = lane.session(_plan("sprint-10m", ["Ada"]), station="cones")
    assert res.status_code == 409, res.text
    assert res.json()["detail"] == (
        "cannot run on station cones: sprint-10m: no device bound to role(s) start, finish"
    )
    assert lane.coach.get("/api/plans/sessions").json() == [], "no session was stored"


def test_a_failure_mid_session_pauses_it_with_the_reason_and_it_resumes(lane: Lane) -> None:
    lane.apply({"start": {"device": lane.key, "channel": 0},
                "finish": {"device": lane.key, "channel": 1}})  # fmt: skip
    res = lane.session(_plan("sprint-10m", ["Ada", "Bo", "Cy"]))
    assert res.status_code == 200, res.text
    session_id = res.json()["id"]
    coordinator = lane.live.services.coordinator
    real_begin = coordinator.begin
    calls: list[str] = []

    def failing_begin(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[2])
        if calls.count("Bo") == 1 and args[2] == "Bo":
            raise RuntimeError("gate driver crashed")
        return real_begin(*args, **kwargs)

    coordinator.begin = failing_begin
    lane.run(2.3)  # Ada
    paused = wait_until("the session paused", lambda: (
        (i := lane.info(session_id))["state"] != "running" and i
    ), poll_s=HTTP_POLL_S)  # fmt: skip
    assert paused["state"] == "paused", paused
    assert paused["reason"] == "Bo on sprint-10m failed: gate driver crashed; resume to try again"
    assert [d["athlete"] for d in paused["progress"]["done"]] == ["Ada"]
    assert lane.coach.post(f"/api/plans/sessions/{session_id}/resume").status_code == 200
    lane.run(2.4)  # Bo, the same athlete up again
    wait_until(
        "Bo's rep done",
        lambda: len(lane.info(session_id)["progress"]["done"]) == 2,
        poll_s=HTTP_POLL_S,
    )
    lane.run(2.5)  # Cy
    final = wait_until("the session finished", lambda: (
        (i := lane.info(session_id))["state"] != "running" and i
    ), poll_s=HTTP_POLL_S)  # fmt: skip
    assert final["state"] == "finished", final
    assert [(d["athlete"], d["state"]) for d in final["progress"]["done"]] == [
        ("Ada", "finished"), ("Bo", "finished"), ("Cy", "finished"),
    ]  # fmt: skip
    assert calls[-3:] == ["Bo", "Bo", "Cy"]


def test_a_pod_drill_runs_on_the_plans_simulated_hub(sqlite_db: str) -> None:
    """The console's sessions in the demo run on one simulated hub: a pod series on it arms
    and lights pods (the hub was opened one channel short and the session ended)."""
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    services.plans.use_simulator(services.devices, seed=4)
    plans = services.plans

    async def body() -> None:
        feed = services.live.subscribe()
        async with create_app(services.settings, services).lifespan():
            plan_id = plans.create_plan_data(_plan("pod-reaction", ["Ada"], 0.2))
            info = plans.schedule(plan_id, None, 0.05)
            deadline = asyncio.get_running_loop().time() + 30
            stimuli: list[dict[str, Any]] = []
            while not any(s["outcome"] == "hit" for s in stimuli):
                assert asyncio.get_running_loop().time() < deadline, plans.store.session_info(
                    info.id
                )
                assert plans.store.session_row(info.id).state in ("scheduled", "running")
                try:
                    text = await asyncio.wait_for(feed.get(), timeout=0.2)
                except TimeoutError:
                    continue
                message = json.loads(text) if text else {}
                if message.get("type") == "stimulus":
                    stimuli.append(message)
            assert isinstance(services.coordinator.series, PodRun)
            plans.abort(info.id)

    asyncio.run(body())
