"""Whole session plans on simulated gates: a squad plan end to end, and a planned session
that survives a server restart and starts on time, once."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

from server.app import build_services, create_app
from server.config import Settings
from server.db.models import utc_now
from server.db.session import migrate
from server.leaderboard.service import leaderboard
from server.plans.schedule import job_id
from tests.support import wait_until_async

SQUAD = [f"Athlete {i}" for i in range(1, 9)]
DRILLS = ["sprint-10m", "backward-sprint-10m", "sprint-20m"]
SEGMENTS = {"sprint-10m": ["0-10m"], "backward-sprint-10m": ["0-10m"],
            "sprint-20m": ["0-10m", "10-20m"]}  # fmt: skip
# Rests of 30 s and countdowns of 10 s, run a few hundred times faster: about 0.1 s each.
TIME_SCALE = 0.003


def _squad_plan() -> str:
    names = ", ".join(f'"{n}"' for n in SQUAD)
    blocks = "".join(
        f'\n[[blocks]]\ndrill = "{slug}"\nreps = 2\nrest_s = 30\nathletes = [{names}]\n'
        for slug in DRILLS
    )
    return f'name = "Squad test"\ncountdown_s = 10\n{blocks}'


def test_squad_plan_stores_every_split_under_the_right_athlete_in_order(sqlite_db: str) -> None:
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    plans = services.plans
    plans.use_simulator(services.devices, seed=5)

    async def body() -> int:
        services.scheduler.start()
        try:
            await plans.start()
            plan_id = plans.create_plan(_squad_plan(), "squad.toml")
            info = plans.schedule(plan_id, None, TIME_SCALE)
            await wait_until_async("the session's runner", lambda: info.id in plans.runners)
            task = plans.runners[info.id].task
            assert task is not None
            final = await asyncio.wait_for(task, timeout=300)
            assert final.value == "finished"
            return info.id
        finally:
            await plans.stop()
            services.scheduler.shutdown(wait=False)
            await services.devices.close_all()

    session_id = asyncio.run(body())
    expected = [(slug, name) for slug in DRILLS for _rep in (1, 2) for name in SQUAD]
    with sqlite3.connect(sqlite_db) as conn:
        runs = conn.execute(
            "SELECT r.id, d.slug, a.name, r.state, r.familiarisation, r.plan_session_id"
            " FROM run r JOIN drill d ON d.id = r.drill_id JOIN athlete a ON a.id = r.athlete_id"
            " ORDER BY r.id"
        ).fetchall()
        splits = {
            run_id: [name for (name,) in conn.execute(
                "SELECT name FROM split WHERE run_id = ? ORDER BY position", (run_id,))]
            for run_id, *_ in runs
        }  # fmt: skip
        state = conn.execute("SELECT state FROM plansession WHERE id = ?", (session_id,)).fetchone()
    assert [(slug, name) for _, slug, name, *_ in runs] == expected, "round-robin order"
    for run_id, slug, _name, run_state, _practice, plan_session in runs:
        assert run_state == "finished"
        assert plan_session == session_id
        assert splits[run_id] == SEGMENTS[slug]
    practice_reps = [(slug, name) for _, slug, name, _, practice, _ in runs if practice]
    assert practice_reps == [("backward-sprint-10m", n) for n in SQUAD], "rep 1 is practice"
    assert state == ("finished",)
    board = leaderboard(services.engine, "backward-sprint-10m")
    assert len(board.entries) == len(SQUAD)
    assert all(e.runs == 1 for e in board.entries), "practice reps are not ranked"
    services.engine.dispose()


def test_planned_session_survives_a_restart_and_starts_on_time_once(sqlite_db: str) -> None:
    migrate(sqlite_db)
    plan_text = 'name = "Warm-up"\ncountdown_s = 1\n[[blocks]]\ndrill = "sprint-10m"\n' \
                'reps = 1\nathletes = ["Ada"]\n'  # fmt: skip

    async def body() -> None:
        first = build_services(Settings(db=sqlite_db))
        first.plans.use_simulator(first.devices, seed=2)
        app = create_app(first.settings, first)
        async with app.lifespan():
            plan_id = first.plans.create_plan(plan_text, "warm-up.toml")
            due = utc_now() + timedelta(seconds=2)
            info = first.plans.schedule(plan_id, due)
            assert first.scheduler.get_job(job_id(info.id)) is not None
        # The server is down now; it comes back before the session is due.
        second = build_services(Settings(db=sqlite_db))
        second.plans.use_simulator(second.devices, seed=2)
        app = create_app(second.settings, second)
        async with app.lifespan():
            await second.plans.start()  # a second reload must not add a second job
            jobs = [j.id for j in second.scheduler.get_jobs() if j.id.startswith("plan-session")]
            assert jobs == [job_id(info.id)]
            assert second.plans.store.session_row(info.id).state == "scheduled"
            while info.id not in second.plans.runners:
                assert utc_now() < due + timedelta(seconds=5), "the session never started"
                await asyncio.sleep(0.02)
            task = second.plans.runners[info.id].task
            assert task is not None
            final = await asyncio.wait_for(task, timeout=30)
            assert final.value == "finished"
            assert not second.plans.store.claim(info.id), "a session is claimed only once"
            row = second.plans.store.session_row(info.id)
            assert row.started_wall is not None and row.scheduled_wall is not None
            late_s = (row.started_wall - row.scheduled_wall).total_seconds()
            assert -0.05 < late_s < 1.0, f"started {late_s:.3f} s from its time"
            assert first.plans.store.sessions() == second.plans.store.sessions()

    asyncio.run(body())
    with sqlite3.connect(sqlite_db) as conn:
        assert conn.execute("SELECT count(*) FROM plansession").fetchone() == (1,)
        assert conn.execute("SELECT count(*), min(state) FROM run").fetchone() == (1, "finished")


def test_plan_runs_hold_reactive_target_and_coach_go_drills_with_a_swap(sqlite_db: str) -> None:
    """Start types driven by the runner: a hold start (pro agility), a lit target (reactive
    Y), a coach's GO (Illinois, tapped by the simulator's virtual coach). Bram is swapped up
    before Ada; the queue order is saved with the progress."""
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    plans = services.plans
    plans.use_simulator(services.devices, seed=9)
    plan_text = (
        'name = "Start types"\ncountdown_s = 300\n'
        '[[blocks]]\ndrill = "pro-agility-5-10-5-left"\nreps = 1\nathletes = ["Ada", "Bram"]\n'
        '[[blocks]]\ndrill = "reactive-y-agility"\nreps = 1\nathletes = ["Ada", "Bram"]\n'
        '[[blocks]]\ndrill = "illinois-agility"\nreps = 1\nathletes = ["Ada"]\n'
    )

    seen: set[tuple[str, bool]] = set()  # (drill up next, whether START is offered)

    async def body() -> tuple[int, list[int]]:
        services.scheduler.start()
        try:
            await plans.start()
            plan_id = plans.create_plan(plan_text, "start-types.toml")
            info = plans.schedule(plan_id, None, TIME_SCALE)
            await wait_until_async("the session's runner", lambda: info.id in plans.runners)
            runner = plans.runners[info.id]
            plans.swap(info.id, "Bram")
            order = list(plans.store.session_info(info.id).progress["order"])
            assert runner.task is not None
            deadline = asyncio.get_running_loop().time() + 180
            while not runner.task.done() and asyncio.get_running_loop().time() < deadline:
                nxt = runner.progress()["next"]
                if nxt is not None:
                    seen.add((nxt["drill"], nxt["waits_for_go"]))
                await asyncio.sleep(0.02)
            final = await asyncio.wait_for(runner.task, timeout=1)
            assert final.value == "finished", runner.reason
            return info.id, order
        finally:
            await plans.stop()
            services.scheduler.shutdown(wait=False)
            await services.devices.close_all()

    session_id, order = asyncio.run(body())
    assert order[:2] == [1, 0], "Bram's step moved in front of Ada's, and was saved"
    assert seen == {
        ("pro-agility-5-10-5-left", False), ("reactive-y-agility", False),
        ("illinois-agility", True),
    }, "the console offers START for the coach-go drill only"  # fmt: skip
    with sqlite3.connect(sqlite_db) as conn:
        runs = conn.execute(
            "SELECT d.slug, a.name, r.state, r.total_us, r.reaction_us, r.plan_session_id"
            " FROM run r JOIN drill d ON d.id = r.drill_id JOIN athlete a ON a.id = r.athlete_id"
            " ORDER BY r.id"
        ).fetchall()
        targets = conn.execute(
            "SELECT s.to_role FROM split s JOIN run r ON r.id = s.run_id JOIN drill d"
            " ON d.id = r.drill_id WHERE d.slug = 'reactive-y-agility' AND s.position = 2"
        ).fetchall()
    assert [(slug, name) for slug, name, *_ in runs] == [
        ("pro-agility-5-10-5-left", "Bram"), ("pro-agility-5-10-5-left", "Ada"),
        ("reactive-y-agility", "Ada"), ("reactive-y-agility", "Bram"),
        ("illinois-agility", "Ada"),
    ]  # fmt: skip
    for slug, name, state, total_us, _reaction, plan_session in runs:
        assert state == "finished", (slug, name, state)
        assert total_us is not None and total_us > 1_000_000
        assert plan_session == session_id
    assert runs[-1][4] is not None, "GO to the start gate is kept as the reaction time"
    assert len(targets) == 2 and {t for (t,) in targets} <= {"target_left", "target_right"}
    services.engine.dispose()
