"""Session plans: file validation, the API, late and missed sessions, pause/resume/skip/abort."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from server.app import Services, build_services, create_app
from server.catalog.service import Catalog
from server.config import Settings
from server.db.models import utc_now
from server.db.session import migrate
from server.plans.definition import Order, PlanFileError, parse_plan_text
from server.plans.runner import Phase, PlanRunner
from server.plans.schedule import job_id
from tests.auth_support import login_client
from tests.support import wait_until_async

GOOD = """
name = "Tuesday warm-up"
countdown_s = 5
[[blocks]]
drill = "backward-sprint-10m"
athletes = ["Ada", "Bo"]
order = "athlete"
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(PlanFileError) as info:
        parse_plan_text(text, "tuesday.toml", Catalog.load())
    assert all(e.startswith("tuesday.toml: ") for e in info.value.errors), "each names the file"
    return info.value.errors


def test_defaults_come_from_the_drill() -> None:
    plan = parse_plan_text(GOOD, "tuesday.toml", Catalog.load())
    (block,) = plan.blocks
    assert (block.reps, block.rest_s, block.order) == (3, 0.0, Order.ATHLETE)
    assert plan.team == "Default" and plan.countdown_s == 5.0


def test_malformed_plan_names_file_and_field() -> None:
    errors = _errors("""
name = "Bad"
colour = "red"
[[blocks]]
drill = "no-such-drill"
reps = 0
athletes = ["Ada"]
[[blocks]]
drill = "pro-agility-5-10-5-left"
athletes = ["Ada"]
[[blocks]]
drill = "pod-reaction"
group = "U16"
[[blocks]]
drill = "sprint-10m"
athletes = ["Ada"]
group = "U16"
order = "random"
rest_s = -1
""")
    text = "\n".join(errors)
    assert "colour: unknown key" in text
    assert "blocks[1].drill: no drill 'no-such-drill'; known drills: 505-left" in text
    assert "blocks[1].reps: must be a whole number, 1 or more, not 0" in text
    # Every kind of drill can be planned: hold starts and pod series are not errors.
    assert "blocks[2].drill" not in text and "blocks[3].drill" not in text
    assert "blocks[4]: give either athletes" in text
    assert "blocks[4].order: must be one of 'round-robin', 'athlete'" in text
    assert "blocks[4].rest_s: must be 0 or more" in text


def test_broken_toml_and_missing_blocks() -> None:
    assert "not valid TOML or JSON" in _errors("name = \n")[0]
    assert any("blocks: required" in e for e in _errors('name = "x"\n'))


def test_api_creates_schedules_lists_and_aborts(sqlite_db: str) -> None:
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    with TestClient(create_app(services.settings, services)) as client:
        login_client(client, services.engine)
        bad = client.post("/api/plans", json={"text": GOOD.replace("Ada", ""), "source": "x"})
        assert bad.status_code == 422
        assert "x: invalid plan" in bad.json()["detail"]
        assert any(
            e["field"] == "blocks[1].athletes" and "must be a non-empty list" in e["detail"]
            for e in bad.json()["errors"]
        )
        created = client.post("/api/plans", json={"text": GOOD, "source": "tuesday.toml"})
        assert created.status_code == 201, created.text
        plan_id = created.json()["id"]
        as_json = client.post("/api/plans", json={"name": "J", "blocks": [
            {"drill": "sprint-10m", "group": "U16"}]})  # fmt: skip
        assert as_json.status_code == 201, as_json.text
        listed = client.get("/api/plans").json()
        assert [(p["name"], p["reps"]) for p in listed] == [("Tuesday warm-up", 6), ("J", None)]
        later = (utc_now() + timedelta(days=1)).isoformat()
        res = client.post(f"/api/plans/{plan_id}/sessions", json={"at": later})
        assert res.status_code == 200, res.text
        session = res.json()
        assert session["state"] == "scheduled"
        assert services.scheduler.get_job(job_id(session["id"])) is not None
        assert client.post(f"/api/plans/sessions/{session['id']}/pause").status_code == 409
        aborted = client.post(f"/api/plans/sessions/{session['id']}/abort")
        assert aborted.json()["state"] == "aborted"
        assert services.scheduler.get_job(job_id(session["id"])) is None
        assert client.get("/api/plans/sessions/999").status_code == 404


def test_restart_marks_old_sessions_missed_and_starts_recent_ones(sqlite_db: str) -> None:
    """Within the grace window a late session starts; with no gates bound it pauses, saying so."""
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    store = services.plans.store
    plan_id = services.plans.create_plan(GOOD)
    old = store.add_session(plan_id, utc_now() - timedelta(minutes=20), 0.01)
    recent = store.add_session(plan_id, utc_now() - timedelta(minutes=5), 0.01)

    async def body() -> None:
        async with create_app(services.settings, services).lifespan():
            assert store.session_row(old).state == "missed"
            deadline = utc_now() + timedelta(seconds=10)
            while store.session_row(recent).state != "paused":
                assert utc_now() < deadline, store.session_row(recent)
                await asyncio.sleep(0.05)
            assert "no device bound to role(s) start, finish" in str(
                store.session_row(recent).reason
            )

    asyncio.run(body())


def _run_sim(db: str, plan: str, body: Callable[[Services, PlanRunner], Awaitable[None]]) -> None:
    migrate(db)
    services = build_services(Settings(db=db))
    services.plans.use_simulator(services.devices, seed=9)

    async def main() -> None:
        async with create_app(services.settings, services).lifespan():
            info = services.plans.schedule(services.plans.create_plan(plan), None, 1.0)
            await wait_until_async(
                "the session to start", lambda: info.id in services.plans.runners
            )
            await body(services, services.plans.runners[info.id])

    asyncio.run(main())


def test_pause_resume_skip_abort(sqlite_db: str, tmp_path: Path) -> None:
    plan = 'name = "P"\ncountdown_s = 0.5\n[[blocks]]\ndrill = "sprint-10m"\nreps = 3\n' \
           'athletes = ["Ada", "Bo"]\n'  # fmt: skip

    async def body(services: Services, runner: PlanRunner) -> None:
        plans, sid = services.plans, runner.session_id
        await wait_until_async("the first rep", lambda: runner.phase is Phase.RUNNING)
        plans.pause(sid)
        assert plans.store.session_row(sid).state == "paused"
        await wait_until_async("the running rep to finish", lambda: len(runner.done) == 1)
        assert runner.done[0]["state"] == "finished", "pause lets the running rep finish"
        await asyncio.sleep(1.0)  # paused: a second in which the next rep must not be armed
        assert len(runner.done) == 1 and services.coordinator.active is None, "nothing armed"
        plans.resume(sid)
        plans.skip(sid)  # Bo, who was next up
        await wait_until_async("the skip", lambda: len(runner.done) == 2)
        assert (runner.done[1]["athlete"], runner.done[1]["state"]) == ("Bo", "skipped")
        await wait_until_async("Ada's rep 2", lambda: services.coordinator.active is not None)
        plans.abort(sid)
        assert runner.task is not None
        assert (await asyncio.wait_for(runner.task, 5)).value == "aborted"
        assert runner.done[2]["state"] == "void", "abort voids the running rep"
        info = plans.store.session_info(sid)
        assert info.state == "aborted" and len(info.progress["done"]) == 3

    _run_sim(sqlite_db, plan, body)


def _agility(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args],
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_cli_runs_a_plan_file_and_stores_planned_sessions(tmp_path: Path) -> None:
    db, plan = str(tmp_path / "cli.db"), tmp_path / "warm-up.toml"
    plan.write_text(GOOD.replace('order = "athlete"', "reps = 1").replace("= 5", "= 0"))
    res = _agility("run", str(plan), "--device", "sim", "--time-scale", "0.01", "--json",
                   "--db", db)  # fmt: skip
    assert res.returncode == 0, res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert [(x["athlete"], x["state"], x["familiarisation"]) for x in lines] == [
        ("Ada", "finished", True), ("Bo", "finished", True)]  # fmt: skip
    later = _agility("plans", "start", str(plan), "--at", "2030-01-07T16:00:00Z", "--db", db)
    assert later.returncode == 0, later.stderr
    listed = json.loads(_agility("plans", "list", "--json", "--db", db).stdout)
    assert [s["state"] for s in listed["sessions"]] == ["finished", "scheduled"]
    pause = _agility("plans", "pause", "2", "--db", db)
    assert pause.returncode == 2 and "--server" in pause.stderr
    assert _agility("plans", "abort", "2", "--db", db).returncode == 0
    bad = _agility("run", str(tmp_path / "nope.toml"), "--device", "sim", "--db", db)
    assert bad.returncode == 2 and "no such plan file" in bad.stderr
