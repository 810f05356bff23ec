"""Pod series and interval sessions driven by the server on simulated devices.

A pod series: lights scheduled at device ticks, touches by a virtual athlete, each hit's
response (light to touch, on the pod's own clock) stored as a split and checked against the
simulator's truth. An interval session: a group walks the library's retro-walk blocks
through a plan, sped up by the time scale, and each athlete gets a rep of work time.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3

from sqlmodel import Session, col, select

from drills import RunState, load_drill_text
from hardware.sim.athlete import make_team
from server.app import build_services
from server.config import Settings
from server.db.models import Run, Split
from server.db.session import migrate
from server.sim.reps import SimRep
from tests.server.lanes import sim_lane
from tests.support import wait_until_async

TOLERANCE_US = 1000

FIVE_PODS = """\
format = 1
slug = "pods-5"
name = "Five lights"
purpose = "Touch the green ones, leave the red ones."
category = "reactive"
direction = "mixed"
timing = "pods"

[start]
type = "coach-go"
stance = "hand on the home pod"

[roles.home]
kind = "pod"
x_m = 0
y_m = 0

[roles.left]
kind = "pod"
x_m = -1
y_m = 1

[roles.right]
kind = "pod"
x_m = 1
y_m = 1

[stimuli]
count = 6
home = "home"
pods = ["left", "right"]
colours = ["green", "red"]
go = ["green"]
foreperiod_min_s = 0.3
foreperiod_max_s = 0.6
window_s = 1.2
"""


def test_pod_series_times_each_touch_on_the_pods_clock(sqlite_db: str) -> None:
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    drill = load_drill_text(FIVE_PODS, "pods-5.toml")
    services.catalog.drills[drill.slug] = drill
    services.catalog.texts[drill.slug] = FIVE_PODS
    services.catalog.sync(services.engine)

    async def main() -> tuple[RunState, str | None, SimRep, int, dict[str, int]]:
        async with sim_lane(services.recorder, drill, seed=4) as (coordinator, rig):
            channels = {role: b.channel for role, b in rig.layout.items()}
            recorder = services.recorder
            athlete_id = recorder.ensure_athlete(recorder.ensure_team("Pods"), "Lina")
            done = coordinator.begin(drill, athlete_id, "Lina", 1, 20.0, rng=random.Random(8))
            athlete = make_team(1, random.Random(4))[0]
            rep = rig.run_rep(drill, athlete, random.Random(4), go=coordinator.go, lead_s=0.2)
            outcome = await asyncio.wait_for(done, timeout=40)
            assert coordinator.last_run_id is None  # a series is not a gate rep
            return outcome.state, outcome.reason, rep, athlete_id, channels

    state, reason, rep, athlete_id, channels = asyncio.run(main())
    assert state is RunState.FINISHED, reason
    assert reason is not None and "hits" in reason
    with Session(services.engine) as session:
        run = session.exec(select(Run).where(Run.athlete_id == athlete_id)).one()
        splits = session.exec(
            select(Split).where(Split.run_id == run.id).order_by(col(Split.position))
        ).all()
    assert run.state == "finished" and run.total_us is not None
    # Every touch the athlete made on a lit green pod is a hit, timed light to touch.
    by_channel = {ch: role for role, ch in channels.items()}
    assert splits, "no hit was stored"
    truth = [(by_channel[ch], touch - lit) for ch, lit, touch in rep.touches]
    for split in splits:
        matches = [
            abs(split.elapsed_us - d_ns / 1000) for role, d_ns in truth if role == split.to_role
        ]
        assert matches and min(matches) <= TOLERANCE_US, (split.name, split.elapsed_us, truth)
    mean = sum(s.elapsed_us for s in splits) / len(splits)
    assert abs(run.total_us - mean) <= 1, "the rep's total is the mean response of the hits"


def test_interval_session_runs_for_the_group_through_a_plan(sqlite_db: str) -> None:
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    plans = services.plans
    plans.use_simulator(services.devices, seed=3)
    group = ["Ana", "Ben", "Cleo"]
    names = ", ".join(f'"{n}"' for n in group)
    plan_text = (
        f'name = "Rehab"\ncountdown_s = 10\n[[blocks]]\ndrill = "retro-walk-intervals"\n'
        f"reps = 1\nathletes = [{names}]\n"
    )
    announced: list[str] = []

    async def body() -> None:
        live = services.live.subscribe()
        services.scheduler.start()
        try:
            await plans.start()
            plan_id = plans.create_plan(plan_text, "rehab.toml")
            info = plans.schedule(plan_id, None, 0.003)  # 720 s of blocks in about 2 s
            await wait_until_async("the session's runner", lambda: info.id in plans.runners)
            task = plans.runners[info.id].task
            assert task is not None
            final = await asyncio.wait_for(task, timeout=60)
            assert final.value == "finished"
            while not live.empty():
                text = live.get_nowait()
                if text is not None and '"type":"interval"' in text:
                    announced.append(text)
        finally:
            await plans.stop()
            services.scheduler.shutdown(wait=False)
            await services.devices.close_all()

    asyncio.run(body())
    with sqlite3.connect(sqlite_db) as conn:
        runs = conn.execute(
            "SELECT a.name, r.state, r.total_us, r.reason FROM run r"
            " JOIN athlete a ON a.id = r.athlete_id ORDER BY r.id"
        ).fetchall()
    assert [name for name, *_ in runs] == group, "one rep each, done together"
    for _name, state, total_us, reason in runs:
        assert state == "finished"
        # 6 work blocks of 60 s; the time scale is undone in what is stored.
        assert abs(total_us - 360_000_000) < 6_000_000, total_us
        assert reason == "6 of 6 rounds"
    assert len(announced) == 12, "each of the 12 blocks was announced"
