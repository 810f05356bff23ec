"""Plans and their sessions: create, schedule, start once, pause, resume, skip, abort.

The database holds every session and its state; the scheduler holds one date job per
scheduled session, id `plan-session:<id>`, rebuilt from the database at every start with
replace_existing, so a restart neither loses nor duplicates a planned session. A session
whose time passed while the server was down starts late if still within START_GRACE, and is
marked missed otherwise (a warm-up two hours late is no warm-up).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine

from server.catalog.service import Catalog
from server.db.models import utc_now
from server.devices.service import DeviceService
from server.errors import ConflictError
from server.live.hub import LiveHub
from server.plans.definition import PlanDefinition, parse_plan, parse_plan_text, plan_steps
from server.plans.precheck import plan_problems
from server.plans.runner import PlanRunner
from server.plans.schedule import job_id
from server.plans.store import LIVE_STATES, PlanStore, SessionInfo, SessionState
from server.runs.coordinator import RunCoordinator
from server.runs.recorder import MAIN_STATION
from server.sim.plans import SimDriver

log = logging.getLogger(__name__)

START_GRACE = timedelta(minutes=15)
# How long shutdown waits for a runner to void its rep and record the pause.
STOP_WAIT_S = 5.0


class PlanService:
    def __init__(
        self, engine: Engine, catalog: Catalog, coordinator: RunCoordinator, live: LiveHub,
        scheduler: AsyncIOScheduler, *,
        coordinator_of: Callable[[str | None], RunCoordinator] | None = None,
        on_rep: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:  # fmt: skip
        self.store = PlanStore(engine)
        self.catalog = catalog
        self.coordinator = coordinator
        self.live = live
        self.scheduler = scheduler
        self.runners: dict[int, PlanRunner] = {}
        # The coordinator of a station by name (None: the main one); given by the app when
        # stations are in use, else every session runs on `coordinator`.
        self.coordinator_of: Callable[[str | None], RunCoordinator] = coordinator_of or (
            lambda _name: coordinator
        )
        self.sim: SimDriver | None = None
        self.on_rep = on_rep

    def use_simulator(self, devices: DeviceService, seed: int) -> None:
        """Virtual athletes run every armed rep on a simulated hub (demo, tests, `agility run`)."""
        self.sim = SimDriver(devices, seed)

    # -- lifecycle (the app's lifespan) -----------------------------------------------------

    async def start(self) -> None:
        """Rebuild the scheduler's jobs from the database; the scheduler must be running."""
        if self.sim is not None:
            # Pod drills too: they name no crossings but need a channel per pod.
            drills = [d for d in self.catalog.drills.values() if d.device_roles]
            await self.sim.open(drills)
        now = utc_now()
        for info in self.store.sessions(tuple(s.value for s in LIVE_STATES)):
            # Running when the server died: leave it paused for the coach to resume.
            self.store.set_state(info.id, SessionState.PAUSED, "server stopped while running")
        for info in self.store.sessions((SessionState.SCHEDULED.value,)):
            at = _parse_wall(info.scheduled_wall) or now
            if now - at > START_GRACE:
                self.store.set_state(info.id, SessionState.MISSED,
                                     f"server was down at {at.isoformat()}",
                                     expect=(SessionState.SCHEDULED,))  # fmt: skip
                log.warning("plan session %d missed (was due %s)", info.id, at.isoformat())
            else:
                self._add_job(info.id, at)

    async def stop(self) -> None:
        runners = list(self.runners.values())
        for runner in runners:
            runner.stop("server stopped")
        tasks = [r.task for r in runners if r.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_WAIT_S)
        self.runners.clear()
        if self.sim is not None:
            self.sim.close()

    # -- plans and sessions -----------------------------------------------------------------

    def create_plan(self, text: str, source: str = "plan") -> int:
        return self.store.add_plan(parse_plan_text(text, source, self.catalog))

    def create_plan_data(self, data: Any, source: str = "plan") -> int:
        return self.store.add_plan(parse_plan(data, source, self.catalog))

    def schedule(
        self, plan_id: int, at_wall: datetime | None = None, time_scale: float = 1.0,
        station: str | None = None,
    ) -> SessionInfo:  # fmt: skip
        """A session now (at_wall None) or later, on `station` (None: the main one); either
        way the scheduler starts it. A station runs one session at a time."""
        if not 0 < time_scale <= 1:
            raise ConflictError(f"time_scale must be in (0, 1], not {time_scale}")
        if at_wall is not None and at_wall.tzinfo is None:
            raise ConflictError("a planned time must carry its UTC offset (e.g. ...T16:00Z)")
        coordinator = self.coordinator_of(station)  # NotFoundError for an unknown station
        if at_wall is None:
            for running in self.runners.values():
                if running.station == station:
                    raise ConflictError(
                        f"station {station or 'main'} is running session {running.session_id}; "
                        "end or pause it first"
                    )
            # Starting now: a drill the station's devices cannot run is refused, naming what
            # is missing (a later session is checked when it starts, and pauses if need be).
            problem = self.problems(self.store.plan(plan_id), station, coordinator)
            if problem is not None:
                raise ConflictError(problem)
        session_id = self.store.add_session(plan_id, at_wall, time_scale, station)
        self._add_job(session_id, at_wall or utc_now())
        return self.store.session_info(session_id)

    async def run_now(self, plan_id: int, time_scale: float) -> tuple[int, SessionState]:
        """Start a session at once and wait for its end (`agility run PLAN.toml`)."""
        problem = self.problems(self.store.plan(plan_id), None, self.coordinator)
        if problem is not None:
            raise ConflictError(problem)
        session_id = self.store.add_session(plan_id, None, time_scale)
        if not self.store.claim(session_id):
            raise ConflictError(f"plan session {session_id} was claimed by someone else")
        runner = self._launch(session_id, done=None)
        assert runner.task is not None
        return session_id, await runner.task

    def _add_job(self, session_id: int, at: datetime) -> None:
        # A past time (a late restart within the grace window) is run at once, not dropped
        # as a misfire.
        self.scheduler.add_job(
            self._fire, "date", run_date=max(at, utc_now()), args=[session_id],
            id=job_id(session_id), replace_existing=True, misfire_grace_time=None,
        )  # fmt: skip

    async def _fire(self, session_id: int) -> None:
        if not self.store.claim(session_id):
            log.info("plan session %d was already started or cancelled", session_id)
            return
        runner = self._launch(session_id, done=None)
        problem = self.problems(runner.plan, runner.station, runner.coordinator)
        if problem is not None:
            runner.pause(problem)  # before its first rep: the coach binds, then resumes

    def problems(
        self, plan: PlanDefinition, station: str | None, coordinator: RunCoordinator
    ) -> str | None:
        """What keeps the plan's drills from running on the station, or None."""
        drills = [
            self.catalog.drills[b.drill] for b in plan.blocks if b.drill in self.catalog.drills
        ]
        devices = coordinator.outputs if isinstance(coordinator.outputs, DeviceService) else None
        return plan_problems(drills, station or MAIN_STATION, coordinator, devices, self.sim)

    def claims_lane(self, station: str | None, within_s: float = 0.0) -> bool:
        """Whether a session runs on the station (None: the main one), paused or not, or is
        scheduled to start there within `within_s`: the demo's squad keeps off it."""
        if self.running_on(station):
            return True
        soon = utc_now() + timedelta(seconds=within_s)
        return any(
            info.station == (station or MAIN_STATION)
            and (at := _parse_wall(info.scheduled_wall)) is not None
            and at <= soon
            for info in self.store.sessions((SessionState.SCHEDULED.value,))
        )

    def _launch(
        self, session_id: int, done: list[dict[str, Any]] | None, order: list[int] | None = None
    ) -> PlanRunner:
        row = self.store.session_row(session_id)
        plan = self.store.plan(row.plan_id)
        try:
            coordinator = self.coordinator_of(row.station)  # removed since it was planned?
            rosters, ids = self._rosters(plan)
        except Exception as exc:
            self.store.set_state(session_id, SessionState.ABORTED, str(exc)[:200])
            raise
        runner = PlanRunner(
            session_id, plan, plan_steps(plan, rosters, self.catalog), ids,
            catalog=self.catalog, coordinator=coordinator, store=self.store,
            live=self.live, scheduler=self.scheduler, time_scale=row.time_scale, sim=self.sim,
            done=done, on_rep=self.on_rep, order=order, station=row.station,
        )  # fmt: skip
        self.runners[session_id] = runner
        task = runner.start()
        task.add_done_callback(lambda _t: self.runners.pop(session_id, None))
        return runner

    def _rosters(self, plan: PlanDefinition) -> tuple[list[list[str]], dict[tuple[int, str], int]]:
        """Each block's athletes in order, and their ids (creating named athletes if new)."""
        recorder = self.coordinator.recorder
        rosters: list[list[str]] = []
        ids: dict[tuple[int, str], int] = {}
        for b, block in enumerate(plan.blocks):
            team = block.group or plan.team
            names = self.store.team_members(team) if block.group else list(block.athletes)
            team_id = recorder.ensure_team(team)
            for name in names:
                ids[(b, name)] = recorder.ensure_athlete(team_id, name)
            rosters.append(names)
        return rosters, ids

    def running_on(self, station: str | None) -> bool:
        """Whether a session is going on this station (None: the main one)."""
        return any(runner.station == station for runner in self.runners.values())

    def runner(self, session_id: int) -> PlanRunner:
        runner = self.runners.get(session_id)
        if runner is None:
            state = self.store.session_row(session_id).state
            raise ConflictError(f"plan session {session_id} is not running here (it is {state})")
        return runner

    def pause(self, session_id: int) -> SessionInfo:
        runner = self.runner(session_id)
        if not runner.paused:
            runner.pause("paused by the coach")
        return self.store.session_info(session_id)

    def resume(self, session_id: int) -> SessionInfo:
        if session_id in self.runners:
            self.runners[session_id].resume()
        else:
            # Paused by a restart: pick up after the last recorded rep.
            row = self.store.session_row(session_id)
            if row.state != SessionState.PAUSED.value:
                raise ConflictError(f"plan session {session_id} is {row.state}, not paused")
            info = self.store.session_info(session_id)
            self.store.set_state(session_id, SessionState.RUNNING)
            self._launch(
                session_id, done=list(info.progress.get("done", [])),
                order=info.progress.get("order"),
            )  # fmt: skip
        return self.store.session_info(session_id)

    def go(self, session_id: int) -> SessionInfo:
        self.runner(session_id).go()
        return self.store.session_info(session_id)

    def swap(self, session_id: int, athlete: str) -> SessionInfo:
        self.runner(session_id).swap(athlete)
        return self.store.session_info(session_id)

    def skip(self, session_id: int) -> SessionInfo:
        self.runner(session_id).skip()
        return self.store.session_info(session_id)

    def abort(self, session_id: int) -> SessionInfo:
        runner = self.runners.get(session_id)
        if runner is not None:
            runner.abort()
            return self.store.session_info(session_id)
        if self.scheduler.get_job(job_id(session_id)) is not None:
            self.scheduler.remove_job(job_id(session_id))
        ok = self.store.set_state(session_id, SessionState.ABORTED, "aborted by the coach",
                                  expect=(SessionState.SCHEDULED, SessionState.PAUSED))  # fmt: skip
        if not ok:
            state = self.store.session_row(session_id).state
            raise ConflictError(f"plan session {session_id} is already {state}")
        return self.store.session_info(session_id)


def _parse_wall(text: str | None) -> datetime | None:
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
