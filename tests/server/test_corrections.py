"""Coach corrections: the service on SQLite and PostgreSQL, then the routes over real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from websockets.sync.client import connect

from drills import RunOutcome, RunState, SplitResult
from server.catalog.service import Catalog
from server.corrections.service import CorrectionService
from server.db.models import Correction, Run, Split
from server.db.session import make_engine, migrate
from server.errors import ConflictError, InvalidInputError, NotFoundError
from server.leaderboard.service import leaderboard
from server.live.hub import LiveHub
from server.runs.recorder import RunRecorder
from tests.auth_support import csrf_headers, ensure_coach, login_client, serve

DRILL = "backward-sprint-10m"  # one segment, time limit 10 s


@dataclass
class World:
    engine: Engine
    live: LiveHub
    recorder: RunRecorder
    corrections: CorrectionService
    ana: int
    ben: int
    other_team: int
    drill_id: int


def finish(world: World, athlete_id: int, us: int) -> int:
    """A timed rep, written as the coordinator writes one: open, split, close."""
    rec = world.recorder
    run_id = rec.open_run(world.drill_id, athlete_id, rep=1)
    split = SplitResult("0-10m", "start", "finish", us, 10.0)
    ctx = {"drill": DRILL, "athlete": "x", "rep": 1}
    rec.add_split(run_id, 1, split, ctx, final=True)
    rec.close_run(run_id, RunOutcome(RunState.FINISHED, (split,), us, None), ctx)
    return run_id


@pytest.fixture
def world(any_db: str) -> Iterator[World]:
    migrate(any_db)
    engine = make_engine(any_db)
    catalog = Catalog.load()
    catalog.sync(engine)
    live = LiveHub()
    rec = RunRecorder(engine, live)
    team = rec.ensure_team("Squad")
    other = rec.ensure_team("Other")
    yield World(
        engine, live, rec, CorrectionService(engine, live, catalog),
        rec.ensure_athlete(team, "Ana"), rec.ensure_athlete(team, "Ben"),
        rec.ensure_athlete(other, "Cleo"), rec.drill_id(DRILL),
    )  # fmt: skip
    engine.dispose()


def board(world: World) -> dict[str, tuple[float, float, int]]:
    b = leaderboard(world.engine, DRILL, names="full")
    return {e.athlete: (e.best_s, e.last_s, e.runs) for e in b.entries}


def log_rows(world: World, run_id: int) -> list[Correction]:
    with Session(world.engine) as session:
        query = select(Correction).where(Correction.run_id == run_id)
        return list(session.exec(query.order_by(col(Correction.id))).all())


def test_void_and_unvoid_take_a_rep_off_the_board_and_back(world: World) -> None:
    coach = ensure_coach(world.engine, "Vera")
    assert coach is not None
    finish(world, world.ana, 2_500_000)
    fast = finish(world, world.ana, 2_300_000)
    assert board(world)["Ana"] == (2.3, 2.3, 2)

    voided = world.corrections.void(fast, "  false start,\n missed by the gate ", coach.id)
    assert voided.voided is True and voided.state == "finished", "engine state kept"
    assert board(world)["Ana"] == (2.5, 2.5, 1)
    with pytest.raises(ConflictError):
        world.corrections.void(fast, "again", coach.id)

    world.corrections.unvoid(fast, coach.id)
    assert board(world)["Ana"] == (2.3, 2.3, 2)
    with pytest.raises(ConflictError):
        world.corrections.unvoid(fast, coach.id)

    rows = log_rows(world, fast)
    assert [r.action for r in rows] == ["void", "unvoid"]
    assert {r.coach_id for r in rows} == {coach.id}
    first = json.loads(rows[0].detail_json)
    assert first == {
        "reason": "false start, missed by the gate",
        "before": {"voided": False},
        "after": {"voided": True},
    }
    entries = world.corrections.log(fast)
    assert [(e.action, e.coach) for e in entries] == [("void", "Vera"), ("unvoid", "Vera")]


def test_void_needs_a_reason_and_an_existing_ended_run(world: World) -> None:
    run_id = finish(world, world.ana, 2_500_000)
    with pytest.raises(InvalidInputError):
        world.corrections.void(run_id, "   ", None)
    with pytest.raises(NotFoundError):
        world.corrections.void(run_id + 100, "gone", None)
    running = world.recorder.open_run(world.drill_id, world.ben, rep=1)
    with pytest.raises(ConflictError, match="still running"):
        world.corrections.void(running, "not yet", None)
    assert log_rows(world, run_id) == []


def test_reassign_moves_the_rep_to_another_athlete_of_any_team(world: World) -> None:
    run_id = finish(world, world.ana, 2_400_000)
    finish(world, world.ben, 2_600_000)
    world.corrections.reassign(run_id, world.other_team, None)
    assert board(world) == {"Cleo": (2.4, 2.4, 1), "Ben": (2.6, 2.6, 1)}
    detail = json.loads(log_rows(world, run_id)[0].detail_json)
    assert detail["before"] == {"athlete_id": world.ana, "athlete": "Ana"}
    assert detail["after"] == {"athlete_id": world.other_team, "athlete": "Cleo"}
    with pytest.raises(NotFoundError):
        world.corrections.reassign(run_id, 99_999, None)
    with pytest.raises(ConflictError):
        world.corrections.reassign(run_id, world.other_team, None)


def test_manual_time_counts_is_marked_and_has_no_splits(world: World) -> None:
    finish(world, world.ana, 2_500_000)
    made = world.corrections.manual(DRILL, world.ana, 2.345678, "gate 2 battery", None)
    assert (made.manual, made.state, made.total_s, made.rep) == (True, "finished", 2.345678, 2)
    with Session(world.engine) as session:
        run = session.get(Run, made.run_id)
        assert run is not None and run.total_us == 2_345_678 and run.manual
        splits = session.exec(select(Split).where(Split.run_id == made.run_id)).all()
        assert splits == []
    entry = leaderboard(world.engine, DRILL, names="full").entries[0]
    assert (entry.best_s, entry.best_manual, entry.last_manual) == (2.345678, True, True)
    assert json.loads(log_rows(world, made.run_id)[0].detail_json)["note"] == "gate 2 battery"
    # A segment board ranks timed splits: the typed-in rep is not on it.
    seg = leaderboard(world.engine, DRILL, segment="0-10m", names="full")
    assert [(e.best_s, e.runs) for e in seg.entries] == [(2.5, 1)]


@pytest.mark.parametrize("total_s", [0.0, -1.0, 10.0, 12.5, float("nan")])
def test_manual_time_must_be_positive_and_under_the_time_limit(
    world: World, total_s: float
) -> None:
    with pytest.raises(InvalidInputError, match="total_s"):
        world.corrections.manual(DRILL, world.ana, total_s, "", None)
    assert board(world) == {}


def test_manual_time_needs_a_known_drill_and_athlete(world: World) -> None:
    with pytest.raises(NotFoundError):
        world.corrections.manual("no-such-drill", world.ana, 2.0, "", None)
    with pytest.raises(NotFoundError):
        world.corrections.manual(DRILL, 99_999, 2.0, "", None)


def test_the_correction_is_committed_before_it_is_pushed(world: World) -> None:
    run_id = finish(world, world.ana, 2_500_000)
    seen_in_db: list[bool] = []

    class Probe:
        """Runs inside LiveHub.publish: whatever it sees in the database is committed."""

        mode = "full"

        def current_mode(self) -> str:
            return "full"

        def __call__(self, message: dict[str, Any]) -> dict[str, Any]:
            with Session(world.engine) as session:
                run = session.get(Run, run_id)
                seen_in_db.append(run is not None and run.voided and bool(log_rows(world, run_id)))
            return message

    world.live.redact = Probe()

    async def body() -> list[dict[str, Any]]:
        queue = world.live.subscribe()
        world.corrections.void(run_id, "fell", None)
        text = await asyncio.wait_for(queue.get(), 1)
        assert text is not None
        return [json.loads(text)]

    (msg,) = asyncio.run(body())
    assert seen_in_db == [True]
    assert {k: msg[k] for k in ("type", "run_id", "action", "drill")} == {
        "type": "correction", "run_id": run_id, "action": "void", "drill": DRILL,
    }  # fmt: skip


# -- over HTTP -----------------------------------------------------------------------------


def test_routes_need_a_coach_and_log_who_did_it(sqlite_db: str) -> None:
    migrate(sqlite_db)
    with serve(sqlite_db) as server:
        services = server.services
        rec = services.recorder
        team = rec.ensure_team("Squad")
        ana, ben = rec.ensure_athlete(team, "Ana"), rec.ensure_athlete(team, "Ben")
        world = World(
            services.engine, services.live, rec,
            CorrectionService(services.engine, services.live, services.catalog), ana, ben, ben,
            rec.drill_id(DRILL),
        )  # fmt: skip
        run_id = finish(world, ana, 2_500_000)
        routes: list[tuple[str, str, dict[str, Any] | None]] = [
            ("POST", f"/api/runs/{run_id}/void", {"reason": "x"}),
            ("POST", f"/api/runs/{run_id}/unvoid", None),
            ("POST", f"/api/runs/{run_id}/reassign", {"athlete_id": ben}),
            ("POST", "/api/runs/manual", {"drill": DRILL, "athlete_id": ana, "total_s": 2.0}),
            ("GET", f"/api/runs/{run_id}/corrections", None),
        ]
        with httpx.Client(base_url=server.base_url, timeout=10) as anon:
            headers = csrf_headers(anon)
            for method, path, body in routes:
                res = anon.request(method, path, json=body, headers=headers)
                assert res.status_code == 401, (method, path, res.status_code)
        assert log_rows(world, run_id) == []

        ws_url = server.base_url.replace("http://", "ws://") + "/ws/live"
        with httpx.Client(base_url=server.base_url, timeout=10) as coach:
            login_client(coach, services.engine, "Vera")
            with connect(ws_url, open_timeout=5) as ws:
                assert json.loads(ws.recv(timeout=5))["type"] == "hello"
                res = coach.post(f"/api/runs/{run_id}/void", json={"reason": "fell at 5 m"})
                assert res.status_code == 200, res.text
                assert res.json()["voided"] is True
                pushed = json.loads(ws.recv(timeout=5))
            assert pushed["type"] == "correction" and pushed["action"] == "void"
            assert (pushed["run_id"], pushed["drill"]) == (run_id, DRILL)
            board_now = coach.get(f"/api/leaderboards/{DRILL}").json()
            assert board_now["entries"] == []

            res = coach.post(f"/api/runs/{run_id}/reassign", json={"athlete_id": ben})
            assert res.status_code == 200 and res.json()["athlete_id"] == ben
            assert coach.post(f"/api/runs/{run_id}/unvoid").status_code == 200
            res = coach.post(
                "/api/runs/manual",
                json={"drill": DRILL, "athlete_id": ana, "total_s": 2.2, "note": "by hand"},
            )
            assert res.status_code == 201, res.text
            assert res.json()["manual"] is True
            bad = coach.post(
                "/api/runs/manual", json={"drill": DRILL, "athlete_id": ana, "total_s": 11}
            )
            assert bad.status_code == 422 and "time limit" in bad.json()["detail"]
            assert coach.post("/api/runs/99999/void", json={"reason": "x"}).status_code == 404

            log = coach.get(f"/api/runs/{run_id}/corrections")
            assert log.status_code == 200
            assert [(e["action"], e["coach"]) for e in log.json()] == [
                ("void", "Vera"), ("reassign", "Vera"), ("unvoid", "Vera"),
            ]  # fmt: skip
            assert log.json()[0]["detail"]["reason"] == "fell at 5 m"
            assert log.json()[0]["at"]
            entries = coach.get(f"/api/leaderboards/{DRILL}").json()["entries"]
            assert [(e["athlete"], e["best_s"], e["best_manual"]) for e in entries] == [
                ("Ana", 2.2, True), ("Ben", 2.5, False),
            ]  # fmt: skip
