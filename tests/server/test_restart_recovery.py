"""A crash and a restart, through HTTP and the real serial driver (issue 16, item 9): the rep
the crash left open is closed as interrupted (in the run list and the athlete's report, off
the boards) and the athlete's next rep takes the next number; the main station's applied
layout is bound again, so the next session arms without the coach applying it again."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

import httpx

from hardware.messages import EventKind
from hardware.sim.plugged import PluggedDevice
from server.db.session import make_engine, migrate
from server.live.hub import LiveHub
from server.runs.recorder import RunRecorder
from tests.auth_support import login_client, serve
from tests.support import HTTP_POLL_S, wait_until

DRILL = "sprint-10m"
HUB_ID = 0x5400_0A01
PLAN = {"name": "After the crash", "team": "U16", "countdown_s": 0.5,
        "blocks": [{"drill": DRILL, "athletes": ["Ada"], "reps": 1, "rest_s": 0}]}  # fmt: skip


def _one_rep(coach: httpx.Client, hub: PluggedDevice, total_s: float) -> dict[str, Any]:
    """A session of one rep for Ada on the main station; she runs it through the hub."""
    plan_id = coach.post("/api/plans", json=PLAN).json()["id"]
    res = coach.post(f"/api/plans/{plan_id}/sessions", json={"at": None})
    assert res.status_code == 200, res.text
    session_id = res.json()["id"]
    wait_until(
        "Ada armed", lambda: coach.get("/api/stations/main").json()["on_course"], poll_s=HTTP_POLL_S
    )
    start_ns = time.monotonic_ns() + 50_000_000
    for channel, at_ns in ((0, start_ns), (1, start_ns + round(total_s * 1e9))):
        hub.schedule_edge(channel, EventKind.BEAM_BROKEN, at_ns)
        hub.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns + 80_000_000)
    info: dict[str, Any] = wait_until("the session over", lambda: (
        (i := coach.get(f"/api/plans/sessions/{session_id}").json())["state"]
        in ("finished", "aborted", "paused") and i
    ), poll_s=HTTP_POLL_S)  # fmt: skip
    assert info["state"] == "finished", info
    return info


def _serve_with_hub(db: str, boot_id: int, body: Callable[[Any, PluggedDevice, str], None]) -> None:
    # The same gate (same id, so the same key) powered up again: a new boot.
    hub = PluggedDevice(device_id=HUB_ID, boot_id=boot_id, channels=4, seed=boot_id)
    try:
        with serve(db, (hub.start(),)) as live:
            key = live.services.devices.snapshot()[0]["key"]
            wait_until("the hub ready", lambda: live.services.devices.not_ready_reason(key) is None)
            body(live, hub, key)
    finally:
        hub.stop()


def test_a_crash_mid_rep_then_a_restart(sqlite_db: str) -> None:
    migrate(sqlite_db)
    lane = {"start": {"device": "", "channel": 0}, "finish": {"device": "", "channel": 1}}

    def before(live: Any, hub: PluggedDevice, key: str) -> None:
        with closing(login_client(live.base_url, live.services.engine)) as coach:
            bindings = {role: {**b, "device": key} for role, b in lane.items()}
            assert coach.put("/api/layouts/lane-1", json={"bindings": bindings}).status_code == 200
            applied = coach.post("/api/layouts/lane-1/apply")
            assert applied.status_code == 200 and applied.json()["active"] is True
            _one_rep(coach, hub, 2.2)

    _serve_with_hub(sqlite_db, 1, before)
    # The server dies while Ada's rep 2 is on the course: its row stays `running`.
    engine = make_engine(sqlite_db)
    recorder = RunRecorder(engine, LiveHub())
    ada = recorder.ensure_athlete(recorder.ensure_team("U16"), "Ada")
    orphan = recorder.open_run(recorder.drill_id(DRILL), ada, 2)
    engine.dispose()

    def after(live: Any, hub: PluggedDevice, key: str) -> None:
        with closing(login_client(live.base_url, live.services.engine)) as coach:
            runs = {r["run_id"]: r for r in coach.get("/api/runs/recent").json()}
            assert runs[orphan]["state"] == "interrupted", runs[orphan]
            # The applied layout is bound again: no "no device bound to role(s) start, finish".
            layouts = coach.get("/api/layouts").json()
            assert [(x["name"], x["active"]) for x in layouts] == [("lane-1", True)]
            assert coach.get("/api/stations/main").json()["bindings"] == {
                role: {**b, "device": key} for role, b in lane.items()
            }
            info = _one_rep(coach, hub, 2.4)
            run_id = info["progress"]["done"][0]["run_id"]
            runs = {r["run_id"]: r for r in coach.get("/api/runs/recent").json()}
            assert [runs[i]["rep"] for i in sorted(runs)] == [1, 2, 3], "numbers run on"
            assert runs[run_id]["state"] == "finished" and abs(runs[run_id]["total_s"] - 2.4) < 0.01
            board = coach.get(f"/api/leaderboards/{DRILL}").json()["entries"]
            assert [(e["athlete"], e["runs"], e["best_s"]) for e in board] == [
                ("Ada", 2, board[0]["best_s"])
            ]
            assert abs(board[0]["best_s"] - 2.2) < 0.01
            report = coach.get(f"/api/reports/athlete/{ada}").json()
            reps = [r for d in report["drills"] for r in d["reps"]]
            shown = {r["run_id"]: r for r in reps}
            assert shown[orphan]["state"] == "interrupted" and shown[orphan]["valid"] is False

    _serve_with_hub(sqlite_db, 2, after)
