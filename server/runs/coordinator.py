"""Who is running now: binds device inputs to drill roles and drives one RunEngine at a time.

Device events arrive here from every port. Each is stored raw (append-only) first; a beam
break on a bound input then becomes a role crossing for the active run. Results go to the
RunRecorder, which commits before it publishes.

The coordinator is the one owner of the rep under way (armed, running, or on a shared
course) and of the series (pods, intervals); the parts of a gate rep's life are its helpers:
gate_feed (edges to crossings to the engine), reactive (cues and lit targets), rep_ledger
(the run's writes and the deadlines that end it) and course_lane (several athletes at once).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from drills import Drill, RunEngine, RunOutcome, RunState, Stamp, StartType, TimeBasis
from drills.errors import EngineError
from drills.model import Timing
from hardware.device import DeviceEvent
from hardware.messages import EventKind
from hardware.timebase import mono_us
from server.errors import ConflictError
from server.runs import signals
from server.runs.active_run import ActiveRun as ActiveRun  # re-exported: the rep under way
from server.runs.course_lane import CourseLane
from server.runs.gate_feed import GateFeed
from server.runs.reactive import ReactiveCues
from server.runs.recorder import RunRecorder
from server.runs.rep_ledger import RepLedger
from server.runs.series import BEEPER_ROLE, IntervalRun, PodRun
from server.runs.signals import Binding as Binding  # re-exported: callers bind roles with it

log = logging.getLogger(__name__)

BEAM_EDGES = {EventKind.BEAM_BROKEN: True, EventKind.BEAM_RESTORED: False}


class CoordinatorBusy(ConflictError):
    """A rep was started while another one is still going."""


class RunCoordinator:
    def __init__(
        self,
        recorder: RunRecorder,
        layout: dict[str, Binding],
        readiness: Callable[[str, bool], str | None] | None = None,
        outputs: signals.Outputs | None = None,
    ) -> None:
        self.recorder = recorder
        self.layout = dict(layout)
        # Says why a device may not time a run yet (None when it may): no clock sync, lost;
        # the flag asks for what a split between two device clocks needs.
        self.readiness = readiness
        # Lights and beeps (reactive cues, lit targets); None: such drills are refused.
        self.outputs = outputs
        self.active: ActiveRun | None = None
        self.series: PodRun | IntervalRun | None = None
        self.last_run_id: int | None = None
        # A station's minimum start spacing: above 0, the next athlete may set off before the
        # previous one has finished, and crossings are assigned on the course (course_lane).
        self.start_spacing_us = 0
        self.lane: CourseLane | None = None
        self.gates = GateFeed(self)
        self.cues = ReactiveCues(self)
        self.ledger = RepLedger(self)

    def holds(self, active: ActiveRun) -> bool:
        """Whether the rep is still this coordinator's: armed, running, or on the course."""
        return active is self.active or (self.lane is not None and self.lane.holds(active))

    def on_course(self) -> list[ActiveRun]:
        """Every rep under way: those on a shared course, then the armed or running one."""
        runs = [] if self.lane is None else self.lane.on_course()
        return runs + ([self.active] if self.active is not None else [])

    def void_run(self, active: ActiveRun, reason: str) -> None:
        """Void one rep under way (armed, running, or on the shared course), leaving the
        others on the course running."""
        if not self.holds(active):
            raise ConflictError(f"{active.athlete}'s rep is not under way: nothing to void")
        active.engine.void(reason)
        self.finish(active)

    def void_course(self, reason: str) -> None:
        """Void every rep on the shared course (the session is aborted or stopped)."""
        for active in [] if self.lane is None else self.lane.on_course():
            active.engine.void(reason)
            self.finish(active)

    def _use_lane(self, drill: Drill) -> None:
        """Overlapping starts for this drill when the station allows them and the drill's
        course can tell runners apart (not a shuttle, not a reactive branch)."""
        lane = self.lane
        if lane is not None and lane.drill is drill:
            return
        if lane is not None and not lane.empty:
            raise ConflictError(
                f"{len(lane.runs)} athlete(s) still on the {lane.drill.slug} course; "
                f"{drill.slug} after they finish"
            )
        if lane is not None:
            lane.close()
        self.lane = None
        if self.start_spacing_us <= 0 or drill.start.type is not StartType.AUTO:
            return
        try:
            self.lane = CourseLane(self, drill, self.start_spacing_us)
        except EngineError as exc:
            log.info("%s runs one athlete at a time: %s", drill.slug, exc)

    def _role_for(self, device: str, channel: int) -> str | None:
        for role, binding in self.layout.items():
            if binding.device == device and binding.channel == channel:
                return role
        return None

    def begin(
        self, drill: Drill, athlete_id: int, athlete: str, rep: int, start_within_s: float,
        *, familiarisation: bool = False, plan_session_id: int | None = None,
        rng: random.Random | None = None, guest: bool = False,
    ) -> asyncio.Future[RunOutcome]:  # fmt: skip
        """Arm a rep. The future resolves when it finishes, times out or is voided.

        A `guest` rep (the demo's squad) gives way: arming any other rep voids it.

        `rng` draws a reactive rep's foreperiod and lit target; pass a seeded one so a
        session can be replayed. Familiarisation and the plan session are stored when the
        rep opens, so a crash mid-rep cannot leave a practice rep counted as a real one.
        """
        self._check_free(guest)
        if drill.timing is Timing.PODS:
            return self._begin_pods(drill, athlete_id, athlete, rep, familiarisation,
                                    plan_session_id, rng or random.Random())  # fmt: skip
        self._check_runnable(drill)
        self._use_lane(drill)
        loop = asyncio.get_running_loop()
        engine = RunEngine(drill)
        active = ActiveRun(
            drill=drill, drill_id=self.recorder.drill_id(drill.slug), athlete_id=athlete_id,
            athlete=athlete, rep=rep, engine=engine, done=loop.create_future(),
            familiarisation=familiarisation, plan_session_id=plan_session_id,
            started=loop.create_future(), guest=guest,
        )  # fmt: skip
        if drill.start.type is StartType.REACTIVE or drill.target_choice is not None:
            plan = engine.plan_cue(rng or random.Random())
            if plan.foreperiod_us is not None:
                active.cue_at_mono_us = mono_us() + plan.foreperiod_us
                active.tasks.append(loop.create_task(self.cues.give_cue(active)))
        self.active = active
        # An athlete who never crosses the start line must not block the queue forever.
        active.timers.append(loop.call_later(start_within_s, self.ledger.no_start, active))
        return active.done

    @property
    def current(self) -> ActiveRun | PodRun | IntervalRun | None:
        """Whatever holds the lane now: a gate rep, a pod series or an interval session."""
        return self.active or self.series

    def _check_free(self, guest: bool = False) -> None:
        busy = self.current
        if isinstance(busy, ActiveRun) and busy.guest and not guest:
            # The demo's squad never holds up a coach: its rep ends here, voided.
            self.void_run(busy, "made way for a coach's session")
            busy = self.current
        if isinstance(busy, ActiveRun | PodRun):
            raise CoordinatorBusy(f"{busy.athlete} is still running {busy.drill.slug}")
        if busy is not None:
            raise CoordinatorBusy(f"the {busy.drill.slug} session is still going")

    def _bound(self, drill: Drill, roles: tuple[str, ...]) -> None:
        missing = [r for r in roles if r not in self.layout]
        if missing:
            raise ConflictError(f"{drill.slug}: no device bound to role(s) {', '.join(missing)}")
        if self.readiness is not None:
            devices = sorted({self.layout[r].device for r in roles})
            problems = [
                f"{d}: {why}" for d in devices if (why := self.readiness(d, False)) is not None
            ]
            if problems:
                raise ConflictError("not ready: " + "; ".join(problems))

    def _begin_pods(
        self, drill: Drill, athlete_id: int, athlete: str, rep: int, familiarisation: bool,
        plan_session_id: int | None, rng: random.Random,
    ) -> asyncio.Future[RunOutcome]:  # fmt: skip
        if self.outputs is None:
            raise ConflictError(f"{drill.slug}: pods must be lit and none can be")
        # One pod's own clock times each response (light to touch), so no cross-device sync.
        self._bound(drill, drill.device_roles)
        run = PodRun(
            drill=drill, drill_id=self.recorder.drill_id(drill.slug), athlete_id=athlete_id,
            athlete=athlete, rep=rep, rng=rng, recorder=self.recorder, outputs=self.outputs,
            layout=self.layout, familiarisation=familiarisation,
            plan_session_id=plan_session_id, on_end=self._series_ended,
        )  # fmt: skip
        self.series = run
        return run.done

    def begin_intervals(
        self, drill: Drill, athletes: list[tuple[int, str, int]], time_scale: float = 1.0,
        plan_session_id: int | None = None,
    ) -> asyncio.Future[RunOutcome]:  # fmt: skip
        """Start an interval session for a group of (athlete id, name, rep)."""
        self._check_free()
        if drill.timing is not Timing.INTERVALS:
            raise ConflictError(f"{drill.slug} is not an interval drill")
        if not athletes:
            raise ConflictError(f"{drill.slug}: nobody to run the intervals")
        beeper = self.layout.get(BEEPER_ROLE)
        run = IntervalRun(
            drill=drill, drill_id=self.recorder.drill_id(drill.slug), athletes=athletes,
            recorder=self.recorder, outputs=self.outputs, beeper=beeper,
            time_scale=time_scale, plan_session_id=plan_session_id,
            on_end=self._series_ended,
        )  # fmt: skip
        self.series = run
        return run.done

    def _series_ended(self, run: PodRun | IntervalRun) -> None:
        if self.series is run:
            self.series = None

    def _check_runnable(self, drill: Drill) -> None:
        """Refuse, with the reason, a rep this lane cannot time right now."""
        if drill.timing is not Timing.GATES:
            raise ConflictError(
                f"{drill.slug}: {drill.timing.value} drills run as a series, not as a lane rep"
            )
        missing = [r for r in drill.device_roles if r not in self.layout]
        if missing:
            raise ConflictError(f"{drill.slug}: no device bound to role(s) {', '.join(missing)}")
        needs_outputs = drill.start.type is StartType.REACTIVE or drill.target_choice is not None
        if needs_outputs and self.outputs is None:
            raise ConflictError(f"{drill.slug}: lights or beeps are needed and none can be sent")
        if self.readiness is not None:
            devices = sorted({self.layout[r].device for r in drill.device_roles})
            # A coach's GO is stamped on the host clock, so the first split runs between two
            # clocks even on one device: it needs what a split across devices needs.
            across = len(devices) > 1 or drill.start.type is StartType.COACH_GO
            problems = [
                f"{d}: {why}" for d in devices if (why := self.readiness(d, across)) is not None
            ]
            if problems:
                raise ConflictError("not ready to time a run: " + "; ".join(problems))

    def void(self, reason: str) -> None:
        if self.series is not None:
            self.series.void(reason)
            return
        active = self.active
        if active is None:
            return
        active.engine.void(reason)
        self.finish(active)

    def go(self) -> Stamp:
        """The coach's GO for a coach-go drill: the clock starts now, on the host clock.

        The tap reaches the host a few ms after the finger; the splits after the first are
        device-timed and unaffected. Returns the GO stamp.
        """
        if isinstance(self.series, PodRun) and self.series.waiting_for_go:
            self.series.go()
            return Stamp(mono_us=mono_us(), basis=TimeBasis.HOST)
        active = self.active
        if active is None:
            raise ConflictError("no rep is armed: nothing to start")
        if active.drill.start.type is not StartType.COACH_GO:
            raise ConflictError(
                f"{active.drill.slug} starts '{active.drill.start.type.value}', not on GO"
            )
        if active.engine.state is not RunState.ARMED:
            raise ConflictError(f"{active.athlete} has already started")
        at = Stamp(mono_us=mono_us(), basis=TimeBasis.HOST)
        splits = active.engine.go(at)
        self.ledger.advance(active, splits, None)
        return at

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
        series = self.series
        if isinstance(series, PodRun) and event.kind is EventKind.POD_TOUCHED:
            role = self._role_for(event.device, event.channel)
            if role is not None:
                series.on_touch(role, signals.stamp_of(event))
            return
        broken = BEAM_EDGES.get(event.kind)
        if self.lane is not None and broken is not None:
            self.lane.edge(event, broken)
            return
        if active is None or broken is None:
            return
        self.gates.edge(active, event, broken)

    def finish(self, active: ActiveRun) -> None:
        """The rep ended (finished, timed out, voided): it lets go of the station, then its
        outcome is stored and handed to whoever waits on it."""
        if active.closed:
            return  # a void in the moment between the last split and its deferred closing
        active.closed = True
        for timer in active.timers:
            timer.cancel()
        current = asyncio.current_task()
        for task in active.tasks:
            if task is not current:
                task.cancel()
        if self.active is active:
            self.active = None
        if self.lane is not None:
            self.lane.released(active)
        self.last_run_id = active.run_id
        self.ledger.close(active)
