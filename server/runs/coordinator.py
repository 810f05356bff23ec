"""Who is running now: binds device inputs to drill roles and drives one RunEngine at a time.

Device events arrive here from every port. Each is stored raw (append-only) first; a beam
break on a bound input then becomes a role crossing for the active run. Results go to the
RunRecorder, which commits before it publishes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from drills import Crossing, Drill, RunEngine, RunOutcome, RunState, Stamp
from drills.model import Timing
from hardware.device import DeviceEvent
from hardware.link import mono_us
from hardware.messages import EventKind
from server.errors import ConflictError
from server.runs.recorder import RunRecorder

log = logging.getLogger(__name__)

# Allowance past a drill's time limit before the host declares a timeout: a finish stamped
# just inside the limit may still be on its way over USB (up to ~20 ms, more on a radio hub).
TIMEOUT_GRACE_S = 0.25


@dataclass(frozen=True)
class Binding:
    device: str
    channel: int


@dataclass
class ActiveRun:
    drill: Drill
    drill_id: int
    athlete_id: int
    athlete: str
    rep: int
    engine: RunEngine
    done: asyncio.Future[RunOutcome]
    run_id: int | None = None
    splits_recorded: int = 0
    timers: list[asyncio.TimerHandle] = field(default_factory=list)

    @property
    def context(self) -> dict[str, object]:
        return {"drill": self.drill.slug, "athlete": self.athlete, "rep": self.rep}


class CoordinatorBusy(ConflictError):
    """A rep was started while another one is still going."""


class RunCoordinator:
    def __init__(
        self,
        recorder: RunRecorder,
        layout: dict[str, Binding],
        readiness: Callable[[str, bool], str | None] | None = None,
    ) -> None:
        self.recorder = recorder
        self.layout = dict(layout)
        # Says why a device may not time a run yet (None when it may): no clock sync, lost;
        # the flag asks for what a split between two device clocks needs.
        self.readiness = readiness
        self.active: ActiveRun | None = None
        self.last_run_id: int | None = None

    def _role_for(self, device: str, channel: int) -> str | None:
        for role, binding in self.layout.items():
            if binding.device == device and binding.channel == channel:
                return role
        return None

    def begin(
        self, drill: Drill, athlete_id: int, athlete: str, rep: int, start_within_s: float
    ) -> asyncio.Future[RunOutcome]:
        """Arm a rep. The future resolves when it finishes, times out or is voided."""
        if self.active is not None:
            raise CoordinatorBusy(
                f"{self.active.athlete} is still running {self.active.drill.slug}"
            )
        if drill.timing is not Timing.GATES or drill.target_choice is not None:
            raise ConflictError(
                f"{drill.slug}: {drill.timing.value} drills"
                f"{' with a reactive target' if drill.target_choice else ''}"
                " cannot be run on a lane yet; gate drills can"
            )
        missing = [r for r in drill.roles_in_order if r not in self.layout]
        if missing:
            raise ConflictError(f"{drill.slug}: no device bound to role(s) {', '.join(missing)}")
        if self.readiness is not None:
            devices = sorted({self.layout[r].device for r in drill.roles_in_order})
            across = len(devices) > 1
            problems = [
                f"{d}: {why}" for d in devices if (why := self.readiness(d, across)) is not None
            ]
            if problems:
                raise ConflictError("not ready to time a run: " + "; ".join(problems))
        loop = asyncio.get_running_loop()
        active = ActiveRun(
            drill=drill, drill_id=self.recorder.drill_id(drill.slug), athlete_id=athlete_id,
            athlete=athlete, rep=rep, engine=RunEngine(drill), done=loop.create_future(),
        )  # fmt: skip
        self.active = active
        # An athlete who never crosses the start line must not block the queue forever.
        active.timers.append(loop.call_later(start_within_s, self._no_start, active))
        return active.done

    def void(self, reason: str) -> None:
        active = self.active
        if active is None:
            return
        active.engine.void(reason)
        self._finish(active)

    def on_device_event(self, event: DeviceEvent) -> None:
        active = self.active
        try:
            fresh = self.recorder.store_device_event(event, active.run_id if active else None)
        except SQLAlchemyError:
            # Keep timing even if the disk is failing: the split itself is written separately.
            log.exception("could not store raw event %s", event)
            fresh = True
        if not fresh:
            log.info("ignored a replayed event: %s boot %d seq %d",
                     event.device, event.boot_id, event.seq)  # fmt: skip
            return
        if active is None or event.kind != EventKind.BEAM_BROKEN:
            return
        role = self._role_for(event.device, event.channel)
        if role is None:
            return
        stamp = Stamp(
            mono_us=event.mono_us if event.mono_us is not None else event.received_mono_us,
            clock=event.clock_id, ticks=event.ticks, tick_hz=event.tick_hz_est,
        )  # fmt: skip
        engine = active.engine
        was = engine.state
        splits = engine.crossing(Crossing(role, stamp))
        if was is RunState.ARMED and engine.state is not RunState.ARMED:
            # Usually the start crossing; but a start that arrives late (its gate was
            # unplugged) can finish the run in the same call, with the held finish.
            active.run_id = self.recorder.open_run(active.drill_id, active.athlete_id, active.rep)
            self.recorder.attach_event(event, active.run_id)
            if engine.state is RunState.RUNNING:
                limit_s = active.drill.time_limit_us / 1e6 + TIMEOUT_GRACE_S
                loop = asyncio.get_running_loop()
                active.timers.append(loop.call_later(limit_s, self._check_timeout, active))
        for split in splits:
            assert active.run_id is not None
            active.splits_recorded += 1
            final = active.splits_recorded == len(active.drill.segments)
            self.recorder.add_split(
                active.run_id, active.splits_recorded, split, active.context, final
            )
        if engine.state not in (RunState.ARMED, RunState.RUNNING):
            self._finish(active)

    def _no_start(self, active: ActiveRun) -> None:
        if self.active is active and active.engine.state is RunState.ARMED:
            active.engine.void("no start crossing")
            self._finish(active)

    def _check_timeout(self, active: ActiveRun) -> None:
        if self.active is not active:
            return
        active.engine.poll(mono_us() - round(TIMEOUT_GRACE_S * 1e6))
        if active.engine.state is RunState.RUNNING:
            # The start was stamped a little after the timer was set: look again shortly.
            loop = asyncio.get_running_loop()
            active.timers.append(loop.call_later(0.1, self._check_timeout, active))
        else:
            self._finish(active)

    def _finish(self, active: ActiveRun) -> None:
        for timer in active.timers:
            timer.cancel()
        self.active = None
        self.last_run_id = active.run_id
        outcome = active.engine.outcome()
        if active.run_id is not None:
            self.recorder.close_run(active.run_id, outcome, active.context)
        if not active.done.done():
            active.done.set_result(outcome)
