"""What a gate rep's engine decides, written down: the run opened at the start, each split
stored, the rep closed when it ends, and the deadlines that end it (no start, the time limit).

The RunRecorder commits before it publishes; this decides when each write is due.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from drills import RunState, SplitResult
from hardware.device import DeviceEvent
from hardware.timebase import mono_us
from server.runs.active_run import ActiveRun

if TYPE_CHECKING:
    from server.runs.coordinator import RunCoordinator

log = logging.getLogger(__name__)

# Allowance past a drill's time limit before the host declares a timeout: a finish stamped
# just inside the limit may still be on its way over USB (up to ~20 ms, more on a radio hub).
TIMEOUT_GRACE_S = 0.25
UNDER_WAY = (RunState.ARMED, RunState.WAITING_CUE, RunState.RUNNING)


class RepLedger:
    """Stores one coordinator's reps as they go and closes them."""

    def __init__(self, coordinator: RunCoordinator) -> None:
        self.coordinator = coordinator

    def advance(
        self, active: ActiveRun, splits: list[SplitResult], event: DeviceEvent | None
    ) -> None:
        """Open the run at the start, store new splits, light a target, finish when over."""
        recorder = self.coordinator.recorder
        engine = active.engine
        if active.run_id is None and engine.state not in (RunState.ARMED, RunState.WAITING_CUE):
            # Usually the start; but a start that arrives late (its gate was unplugged) can
            # finish the run in the same call, with the held finish.
            if event is not None and event.bib is not None:
                self._name_by_bib(active, event.bib)
            active.run_id = recorder.open_run(
                active.drill_id, active.athlete_id, active.rep,
                familiarisation=active.familiarisation, plan_session_id=active.plan_session_id,
            )  # fmt: skip
            if event is not None:
                recorder.attach_event(event, active.run_id)
            if engine.state is RunState.RUNNING:
                limit_s = active.drill.time_limit_us / 1e6 + TIMEOUT_GRACE_S
                loop = asyncio.get_running_loop()
                active.timers.append(loop.call_later(limit_s, self.check_timeout, active))
        for split in splits:
            assert active.run_id is not None
            active.splits_recorded += 1
            final = active.splits_recorded == len(engine.drill.segments)
            recorder.add_split(
                active.run_id,
                active.splits_recorded,
                split,
                active.context,
                final,
                crossing=active.last_crossing(split.to_role),
            )
        self.coordinator.cues.maybe_light_target(active)
        if engine.state not in UNDER_WAY:
            if splits:
                # Phones first: the last split is on its way to every page (the live feed's
                # senders are queued on the loop) before the rep's closing writes hold the
                # loop; with a squad's phones on the feed that wait was most of its latency.
                asyncio.get_running_loop().call_soon(self.coordinator.finish, active)
            else:
                self.coordinator.finish(active)

    def _name_by_bib(self, active: ActiveRun, bib: int) -> None:
        """The start impulse of a Timy set to start numbers names the rep's athlete by the bib
        (their squad number). A Timy in its default mode numbers impulses instead, and its
        events carry no bib: nothing is ever guessed from a counter."""
        recorder = self.coordinator.recorder
        found = recorder.athletes_with_bib(active.athlete_id, bib)
        if len(found) != 1:
            what = "nobody" if not found else f"{len(found)} athletes"
            log.warning("start number %d names %s on %s's team: the rep stays with %s",
                        bib, what, active.athlete, active.athlete)  # fmt: skip
            return
        athlete_id, name = found[0]
        if athlete_id == active.athlete_id:
            return
        log.info("start number %d: the rep armed for %s is %s's", bib, active.athlete, name)
        active.athlete_id, active.athlete = athlete_id, name
        active.rep = recorder.count_runs(active.drill.slug, athlete_id) + 1

    def no_start(self, active: ActiveRun) -> None:
        """The start deadline: an athlete who never crosses must not block the queue."""
        if self.coordinator.active is active and active.engine.state in (
            RunState.ARMED, RunState.WAITING_CUE,
        ):  # fmt: skip
            active.engine.void("no start crossing")
            self.coordinator.finish(active)

    def check_timeout(self, active: ActiveRun) -> None:
        coordinator = self.coordinator
        if not coordinator.holds(active):
            return
        coordinator.gates.flush(active)
        if not coordinator.holds(active):
            return
        active.engine.poll(mono_us() - round(TIMEOUT_GRACE_S * 1e6))
        if active.engine.state is RunState.RUNNING:
            # The start was stamped a little after the timer was set: look again shortly.
            loop = asyncio.get_running_loop()
            active.timers.append(loop.call_later(0.1, self.check_timeout, active))
        else:
            coordinator.finish(active)

    def close(self, active: ActiveRun) -> None:
        """Store the ended rep's crossings and outcome, then tell whoever waits on it."""
        recorder = self.coordinator.recorder
        outcome = active.engine.outcome()
        if active.run_id is not None:
            try:
                recorder.add_crossings(active.run_id, active.crossings)
            except SQLAlchemyError:
                log.exception("could not store the crossings of run %d", active.run_id)
            recorder.close_run(active.run_id, outcome, active.context)
        if not active.done.done():
            active.done.set_result(outcome)
        if active.started is not None and not active.started.done():
            active.started.set_result(None)
