"""The demo keeps out of a coach's way (issue 16, item 15), through HTTP on loopback: the
demo's squad runs its reps on two stations, each on a simulated hub on a pty, and a coach's
session on either station never pauses for it. A squad rep armed when a session needs the
lane gives way (voided); no squad rep starts on a station while a session runs there or is
about to start."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from sqlmodel import Session, col, select

from server.app import Services, build_services, create_app
from server.config import Settings
from server.db.models import Athlete, Run, Team
from server.db.session import migrate
from server.runs.coordinator import ActiveRun
from server.sim.demo import DEMO_TEAM, SECOND_STATION
from tests.auth_support import login_client
from tests.support import HTTP_POLL_S, free_port, wait_until


@contextmanager
def _demo_server(db: str) -> Iterator[tuple[str, Services]]:
    """`agility demo` as tests/auth_support.py serve() runs the app: uvicorn in a thread."""
    port = free_port()
    services = build_services(Settings(db=db, port=port, demo=True, seed=5))
    config = uvicorn.Config(create_app(services.settings, services), host="127.0.0.1",
                            port=port, log_level="warning", ws="websockets-sansio")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the demo did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", services
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _plan(coach: httpx.Client, athletes: list[str]) -> int:
    block = {"drill": "sprint-10m", "athletes": athletes, "reps": 1, "rest_s": 0}
    body = {"name": "Coach's", "team": "U16", "countdown_s": 0, "blocks": [block]}
    plan_id: int = coach.post("/api/plans", json=body).json()["id"]
    return plan_id


def _over(coach: httpx.Client, session_id: int) -> dict[str, Any]:
    """The session once it is no longer scheduled or running (a pause ends the wait too)."""
    info: dict[str, Any] = wait_until(f"session {session_id} over", lambda: (
        (i := coach.get(f"/api/plans/sessions/{session_id}").json())["state"]
        not in ("scheduled", "running") and i
    ), timeout_s=90, poll_s=HTTP_POLL_S)  # fmt: skip
    return info


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _squad_starts(
    services: Services, station: str | None, after: datetime, before: datetime
) -> list[int]:
    """Reps of the demo's squad started on a station (None: the main one) in a time span."""
    with Session(services.engine) as session:
        rows = session.exec(
            select(Run.id, Run.started_wall)
            .join(Athlete, col(Athlete.id) == Run.athlete_id)
            .join(Team, col(Team.id) == Athlete.team_id)
            .where(Team.name == DEMO_TEAM, Run.station == station)
        ).all()
    return [run_id for run_id, at in rows if run_id and after < _utc(at) < before]


def test_the_demo_squad_never_makes_a_coach_session_pause(sqlite_db: str) -> None:
    migrate(sqlite_db)
    with (
        _demo_server(sqlite_db) as (base_url, services),
        closing(login_client(base_url, services.engine)) as coach,
    ):
        main = services.coordinator

        def squad_armed() -> bool:
            active = main.active
            return isinstance(active, ActiveRun) and active.guest

        # The main station: a session asked for while a squad rep holds the lane.
        plan_id = _plan(coach, ["Ada", "Bo"])
        wait_until("a squad rep on the main station", squad_armed)
        res = coach.post(f"/api/plans/{plan_id}/sessions",
                         json={"at": None, "time_scale": 0.05})  # fmt: skip
        assert res.status_code == 200, res.text
        started = datetime.now(UTC)
        info = _over(coach, res.json()["id"])
        assert info["state"] == "finished", info
        assert [d["state"] for d in info["progress"]["done"]] == ["finished", "finished"]
        ended = _utc(datetime.fromisoformat(info["finished_wall"]))
        # A squad rep armed just before may have set off; none starts during the session.
        assert _squad_starts(services, None, started + timedelta(seconds=1), ended) == []

        # The second station, where the squad runs too: a session planned a few
        # seconds ahead holds the squad off it until the session has run.
        plan_id = _plan(coach, ["Cy", "Di", "Ed"])
        at = datetime.now(UTC) + timedelta(seconds=8)
        res = coach.post(f"/api/stations/{SECOND_STATION}/sessions",
                         json={"plan_id": plan_id, "at": at.isoformat(),
                               "time_scale": 0.05})  # fmt: skip
        assert res.status_code == 200, res.text
        asked = datetime.now(UTC)
        info = _over(coach, res.json()["id"])
        assert info["state"] == "finished", info
        assert [d["athlete"] for d in info["progress"]["done"]] == ["Cy", "Di", "Ed"]
        ended = _utc(datetime.fromisoformat(info["finished_wall"]))
        assert ended > at
        # A squad rep armed just before the session was asked for may still set off.
        during = _squad_starts(services, SECOND_STATION, asked + timedelta(seconds=1), ended)
        assert during == [], f"squad reps started on {SECOND_STATION} meanwhile: {during}"
