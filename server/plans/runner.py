"""Runs one plan session rep by rep: next athlete up, countdown and rest, arm, wait, move on.

APScheduler decides roughly when the next rep is armed (a date job at the countdown end);
the device clock times the rep itself. The coordinator runs one rep at a time on the lane,
so the runner only ever has one rep in flight. Pause stops new reps being armed (the one
running finishes), skip voids the running rep or passes over the next athlete, abort voids
the running rep and stops.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from drills import RunOutcome, Timing
from server.catalog.service import Catalog
from server.db.models import utc_now
from server.errors import ConflictError
from server.live.hub import LiveHub
from server.plans.definition import PlanDefinition, Step
from server.plans.progress import plan_message, progress, rep_entry
from server.plans.schedule import Alarm
from server.plans.store import PlanStore, SessionState
from server.runs.coordinator import RunCoordinator
from server.sim.plans import SimDriver

log = logging.getLogger(__name__)

# Real seconds an armed athlete has to cross the start line before the rep is voided; not
# scaled, since it bounds a real person (or a virtual one running at real speed).
START_WITHIN_S = 60.0


class Phase(StrEnum):
    COUNTDOWN = "countdown"  # next athlete named, waiting out countdown and rest
    RUNNING = "running"  # a rep is armed or under way
    PAUSED = "paused"
    DONE = "done"


class PlanRunner:
    def __init__(
        self, session_id: int, plan: PlanDefinition, steps: list[Step],
        athlete_ids: dict[tuple[int, str], int], *, catalog: Catalog,
        coordinator: RunCoordinator, store: PlanStore, live: LiveHub,
        scheduler: AsyncIOScheduler, time_scale: float = 1.0, sim: SimDriver | None = None,
        done: list[dict[str, Any]] | None = None,
        on_rep: Callable[[dict[str, Any]], None] | None = None,
        order: list[int] | None = None, station: str | None = None,
    ) -> None:  # fmt: skip
        self.session_id = session_id
        self.station = station  # None: the main one
        self.plan = plan
        by_index = {step.index: step for step in steps}
        if order is not None and sorted(order) == sorted(by_index):
            steps = [by_index[i] for i in order]  # the queue as the coach left it (swaps)
        self.steps = steps
        self.athlete_ids = athlete_ids
        self.catalog = catalog
        self.coordinator = coordinator
        self.store = store
        self.live = live
        self._alarm = Alarm(scheduler, session_id)  # the countdown's date job
        self.time_scale = time_scale
        self.sim = sim
        self.on_rep = on_rep
        self.done: list[dict[str, Any]] = list(done or [])
        self.index = len(self.done)
        self.paused = False
        self.reason: str | None = None
        self.phase = Phase.COUNTDOWN
        self.countdown_end: datetime | None = None
        self._aborted = False
        self._stopping = False
        self._skip_next = False
        self._rep_active: object | None = None  # the coordinator's ActiveRun while ours runs
        self._last_end: dict[str, datetime] = {}
        # Overlapping starts (a station with a start spacing): when the last athlete set off,
        # and the reps still on the course, each recorded when it ends.
        self._last_start: datetime | None = None
        self._on_course: set[asyncio.Task[None]] = set()
        self.task: asyncio.Task[SessionState] | None = None

    def start(self) -> asyncio.Task[SessionState]:
        self.task = asyncio.get_running_loop().create_task(self._run())
        return self.task

    # -- control: each call takes effect at once and wakes the loop -------------------------

    def pause(self, reason: str | None = None) -> None:
        self.paused = True
        self.reason = reason
        self.store.set_state(self.session_id, SessionState.PAUSED, reason)
        self._interrupt()
        self._publish()

    def resume(self) -> None:
        self.paused = False
        self.reason = None
        self.store.set_state(self.session_id, SessionState.RUNNING)
        self._interrupt()
        self._publish()

    def skip(self) -> None:
        if self._void_running("skipped by the coach"):
            return
        self._skip_next = True
        self._interrupt()

    def go(self) -> None:
        """The coach's start for a coach-go drill; only for this session's armed rep."""
        if self._rep_active is None or self.coordinator.current is not self._rep_active:
            raise ConflictError("no rep of this session is armed: nothing to start")
        self.coordinator.go()

    def swap(self, athlete: str) -> None:
        """Put `athlete` up next: their next rep of the current block moves to the front.

        The queue order is saved with the progress, so a restart keeps the swap.
        """
        position = self.index + (1 if self.phase is Phase.RUNNING else 0)
        if position >= len(self.steps):
            raise ConflictError("no rep is left to swap")
        block = self.steps[position].block
        if self.steps[position].athlete == athlete:
            return
        for j in range(position + 1, len(self.steps)):
            step = self.steps[j]
            if step.block != block:
                break
            if step.athlete == athlete:
                self.steps.insert(position, self.steps.pop(j))
                if self.phase is not Phase.RUNNING:
                    self._interrupt()  # restart the countdown for the new athlete
                self._save_and_publish()
                return
        raise ConflictError(f"{athlete} has no rep left in this block")

    def abort(self, reason: str = "aborted by the coach") -> None:
        self._aborted = True
        self.reason = reason
        self.store.set_state(self.session_id, SessionState.ABORTED, reason)
        self._void_running(reason)
        self.coordinator.void_course(reason)
        self._interrupt()

    def stop(self, reason: str) -> None:
        """Server shutdown: the session is left paused, so it can be resumed after a restart."""
        self._stopping = True
        self.reason = reason
        self._void_running(reason)
        self.coordinator.void_course(reason)
        self._interrupt()

    def _void_running(self, reason: str) -> bool:
        if self._rep_active is not None and self.coordinator.current is self._rep_active:
            self.coordinator.void(reason)
            return True
        return False

    def _interrupt(self) -> None:
        self._alarm.interrupt()

    # -- the loop ---------------------------------------------------------------------------

    async def _run(self) -> SessionState:
        final = SessionState.FINISHED
        try:
            while True:
                if self._aborted or self._stopping:
                    final = SessionState.ABORTED if self._aborted else SessionState.PAUSED
                    break
                if self.index >= len(self.steps):
                    break
                if self._skip_next:
                    self._skip_next = False
                    self._record(self.steps[self.index], None, "skipped", None)
                    continue
                if self.paused:
                    self.phase = Phase.PAUSED
                    await self._alarm.sleep_until(None)
                    continue
                step = self.steps[self.index]
                try:
                    if not await self._countdown(step):
                        continue
                    await self._rep(step)
                except Exception as exc:  # any failure pauses the session: see _failed
                    self._failed(step, exc)
            if self._on_course:
                # The last athletes are still on the course: the session ends with them.
                self.phase = Phase.RUNNING
                await asyncio.gather(*self._on_course)
        except Exception as exc:
            # Even here the session is left paused, with the reason: a resume relaunches it
            # after the last recorded rep.
            log.exception("plan session %d failed", self.session_id)
            final, self.reason = SessionState.PAUSED, f"internal error: {_said(exc)}"
            self._void_running("plan runner error")
            self.coordinator.void_course("plan runner error")
        finally:
            self._alarm.cancel()
        self.phase = Phase.DONE
        if final is SessionState.PAUSED:
            self.store.set_state(self.session_id, SessionState.PAUSED, self.reason)
        else:
            self.store.set_state(self.session_id, final, self.reason)
        self._publish(state=final)
        return final

    def _failed(self, step: Step, exc: Exception) -> None:
        """A rep that could not be armed or run for an unexpected reason (a device gone, a
        bug) pauses the session with the reason; resuming tries the same athlete again."""
        log.exception("plan session %d: %s on %s failed", self.session_id, step.athlete,
                      step.drill)  # fmt: skip
        self._void_running("plan runner error")
        self._rep_active = None
        self.pause(f"{step.athlete} on {step.drill} failed: {_said(exc)}; resume to try again")

    async def _countdown(self, step: Step) -> bool:
        """Name the next athlete and wait out the countdown and their rest; False if interrupted."""
        block = self.plan.blocks[step.block]
        now = utc_now()
        end = now + timedelta(seconds=self.plan.countdown_s * self.time_scale)
        last = self._last_end.get(step.athlete)
        if last is not None:
            end = max(end, last + timedelta(seconds=block.rest_s * self.time_scale))
        spacing_s = self.coordinator.start_spacing_us / 1e6
        if self._last_start is not None and spacing_s > 0:
            # Armed no sooner than the spacing after the last start: the course would refuse
            # a start closer than that (the spacing bounds real bodies: not scaled).
            end = max(end, self._last_start + timedelta(seconds=spacing_s))
        self.phase, self.countdown_end = Phase.COUNTDOWN, end
        self._save_and_publish()
        return await self._alarm.sleep_until(end)

    async def _rep(self, step: Step) -> None:
        drill = self.catalog.get(step.drill)
        athlete_id = self.athlete_ids[(step.block, step.athlete)]
        if self.sim is not None:
            # One hub serves every drill of the plan; bind this drill's roles to it.
            self.coordinator.layout.clear()
            self.coordinator.layout.update(self.sim.layout(drill))
        rep = self.coordinator.recorder.count_runs(drill.slug, athlete_id) + 1
        # One generator per step, seeded by session and step: the same session replayed
        # waits the same foreperiods and lights the same targets.
        rng = random.Random(f"plan-session:{self.session_id}:step:{step.index}")
        group = self._interval_group(step) if drill.timing is Timing.INTERVALS else [step]
        try:
            if drill.timing is Timing.INTERVALS:
                done = self.coordinator.begin_intervals(
                    drill, [self._who(s, drill.slug) for s in group], self.time_scale,
                    plan_session_id=self.session_id,
                )  # fmt: skip
            else:
                done = self.coordinator.begin(
                    drill, athlete_id, step.athlete, rep, START_WITHIN_S,
                    familiarisation=step.familiarisation, plan_session_id=self.session_id,
                    rng=rng,
                )  # fmt: skip
        except ConflictError as exc:
            # No devices bound, a gate without clock sync, or the lane busy: the coach fixes
            # it and resumes; the same athlete is still next.
            self.pause(f"cannot arm {step.athlete} on {drill.slug}: {exc}")
            return
        active = self.coordinator.current
        self._rep_active = active
        self.phase, self.countdown_end = Phase.RUNNING, None
        if self.sim is not None:
            self.sim.rep_armed(drill, step.athlete, self.time_scale, self.coordinator.go)
        self._save_and_publish()
        started = getattr(active, "started", None)
        if self.coordinator.lane is not None and started is not None:
            await self._until_started(group, active, done, started)
            return
        try:
            outcome = await done
        finally:
            self._rep_active = None
        self._end(group, active, outcome)

    async def _until_started(
        self, group: list[Step], active: object,
        done: asyncio.Future[RunOutcome], started: asyncio.Future[None],
    ) -> None:  # fmt: skip
        """On a course that takes several athletes at once: move on as soon as this one has
        set off, and record the rep when it ends."""
        try:
            either: set[asyncio.Future[Any]] = {done, started}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._rep_active = None
        if done.done():  # never started (no start crossing, voided): recorded as before
            self._end(group, active, done.result())
            return
        self._last_start = utc_now()
        self.index += 1  # the queue moves on; the rep is recorded when it ends
        self._save_and_publish()

        async def finish() -> None:
            outcome = await done
            self._end(group, active, outcome, advance=False)

        task = asyncio.get_running_loop().create_task(finish())
        self._on_course.add(task)
        task.add_done_callback(self._on_course.discard)

    def _end(
        self, group: list[Step], active: object, outcome: RunOutcome, advance: bool = True
    ) -> None:
        run_id = getattr(active, "run_id", None)
        for member in group:
            self._last_end[member.athlete] = utc_now()
            self._record(member, run_id, outcome.state.value, outcome, advance=advance)

    def _interval_group(self, step: Step) -> list[Step]:
        """Interval blocks are done together: the queue's next steps of the same block and
        round (everyone's rep 1 in round-robin order) form one group."""
        group = [step]
        for later in self.steps[self.index + 1 :]:
            if later.block != step.block or later.block_rep != step.block_rep:
                break
            group.append(later)
        return group

    def _who(self, step: Step, slug: str) -> tuple[int, str, int]:
        athlete_id = self.athlete_ids[(step.block, step.athlete)]
        return athlete_id, step.athlete, self.coordinator.recorder.count_runs(slug, athlete_id) + 1

    def _record(
        self, step: Step, run_id: int | None, state: str, outcome: RunOutcome | None,
        advance: bool = True,
    ) -> None:  # fmt: skip
        entry = rep_entry(step, run_id, state, outcome)
        self.done.append(entry)
        if advance:
            self.index += 1
        self._save_and_publish()
        if self.on_rep is not None:
            self.on_rep({"session_id": self.session_id, **entry})

    # -- progress ---------------------------------------------------------------------------

    def progress(self) -> dict[str, Any]:
        return progress(self.steps, self.index, self.phase.value, self.countdown_end,
                        self.reason, self.done, self.catalog)  # fmt: skip

    def _save_and_publish(self) -> None:
        self.store.save_progress(self.session_id, self.progress())
        self._publish()

    def _publish(self, state: SessionState | None = None) -> None:
        """A 'plan' message for the page: committed progress first, then the push."""
        if state is None:
            state = SessionState.PAUSED if self.paused else SessionState.RUNNING
        self.live.publish(plan_message(self.session_id, self.plan.name, state, self.progress()))


def _said(exc: BaseException) -> str:
    """An exception as one short line for a pause reason."""
    return (str(exc) or type(exc).__name__).splitlines()[0][:150]
