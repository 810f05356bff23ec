"""Who is running now: binds device inputs to drill roles and drives one RunEngine at a time.

Device events arrive here from every port. Each is stored raw (append-only) first; a beam
break on a bound input then becomes a role crossing for the active run. Results go to the
RunRecorder, which commits before it publishes.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from drills import Drill, RunEngine, RunOutcome, RunState, SplitResult, Stamp, StartType
from drills.crossing import BeamEdge, CrossingDetector, Detected, Trigger
from drills.errors import EngineError
from drills.model import Timing
from hardware.device import DeviceEvent
from hardware.errors import HardwareError
from hardware.link import mono_us
from hardware.messages import EventKind
from server.errors import ConflictError
from server.runs import signals
from server.runs.course_lane import CourseLane
from server.runs.recorder import RunRecorder
from server.runs.series import BEEPER_ROLE, IntervalRun, PodRun
from server.runs.shared_input import SharedInputs
from server.runs.signals import Binding as Binding  # re-exported: callers bind roles with it

log = logging.getLogger(__name__)

# Allowance past a drill's time limit before the host declares a timeout: a finish stamped
# just inside the limit may still be on its way over USB (up to ~20 ms, more on a radio hub).
TIMEOUT_GRACE_S = 0.25
# Crossings heard this close before a reactive cue's requested time wait for the onset event
# before they are judged: the cue and the break come from different devices, and a break
# stamped after the onset must not be called a false start because it arrived first.
CUE_HOLD_MARGIN_US = 20_000
BEAM_EDGES = {EventKind.BEAM_BROKEN: True, EventKind.BEAM_RESTORED: False}


@dataclass
class ActiveRun:
    drill: Drill
    drill_id: int
    athlete_id: int
    athlete: str
    rep: int
    engine: RunEngine
    done: asyncio.Future[RunOutcome]
    familiarisation: bool = False
    plan_session_id: int | None = None
    run_id: int | None = None
    splits_recorded: int = 0
    timers: list[asyncio.TimerHandle] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    cue_at_mono_us: int | None = None  # reactive start: when the cue was asked for
    held: list[tuple[str, bool, Stamp, DeviceEvent | None]] = field(default_factory=list)
    target_lit: bool = False
    shared: SharedInputs = field(default_factory=SharedInputs)
    # Roles whose binding names a rule: their detector, and every crossing found, in order.
    detectors: dict[str, CrossingDetector] = field(default_factory=dict)
    crossings: list[tuple[str, Detected]] = field(default_factory=list)
    # Resolved when the athlete crosses the start on a course that takes several at once
    # (the station may arm the next one), or when the rep ends without starting.
    started: asyncio.Future[None] | None = None
    # A rep of the demo's squad: voided to make way for any other (a coach's session).
    guest: bool = False
    closed: bool = False

    @property
    def context(self) -> dict[str, object]:
        # A practice rep says so on the feed: the TV does not present it as a new result.
        return {"drill": self.drill.slug, "athlete": self.athlete, "rep": self.rep,
                "familiarisation": self.familiarisation}  # fmt: skip


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
        self._background: set[asyncio.Task[None]] = set()
        # A station's minimum start spacing: above 0, the next athlete may set off before the
        # previous one has finished, and crossings are assigned on the course (course_lane).
        self.start_spacing_us = 0
        self.lane: CourseLane | None = None

    def _holds(self, active: ActiveRun) -> bool:
        """Whether the rep is still this coordinator's: armed, running, or on the course."""
        return active is self.active or (self.lane is not None and self.lane.holds(active))

    def on_course(self) -> list[ActiveRun]:
        """Every rep under way: those on a shared course, then the armed or running one."""
        runs = [] if self.lane is None else self.lane.on_course()
        return runs + ([self.active] if self.active is not None else [])

    def void_run(self, active: ActiveRun, reason: str) -> None:
        """Void one rep under way (armed, running, or on the shared course), leaving the
        others on the course running."""
        if not self._holds(active):
            raise ConflictError(f"{active.athlete}'s rep is not under way: nothing to void")
        active.engine.void(reason)
        self._finish(active)

    def void_course(self, reason: str) -> None:
        """Void every rep on the shared course (the session is aborted or stopped)."""
        for active in [] if self.lane is None else self.lane.on_course():
            active.engine.void(reason)
            self._finish(active)

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

    def _beam_role(
        self, active: ActiveRun, event: DeviceEvent, broken: bool, stamp: Stamp
    ) -> str | None:
        """The role a beam edge is a crossing of: the one bound to its input, or, where
        several roles share the input (photocells in parallel), the one the rep expects."""
        roles = [
            role for role, b in self.layout.items()
            if b.device == event.device and event.channel in b.channels
        ]  # fmt: skip
        if len(roles) <= 1:
            return roles[0] if roles else None
        key = (event.device, event.channel)
        return active.shared.role_for(key, roles, broken, stamp, active.engine)

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
                active.tasks.append(loop.create_task(self._give_cue(active)))
        self.active = active
        # An athlete who never crosses the start line must not block the queue forever.
        active.timers.append(loop.call_later(start_within_s, self._no_start, active))
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
        self._finish(active)

    def go(self) -> Stamp:
        """The coach's GO for a coach-go drill: the clock starts now, on the host clock.

        The tap reaches the host a few ms after the finger; the splits after the first are
        device-timed and unaffected. Returns the GO stamp.
        """
        if isinstance(self.series, PodRun) and self.series.waiting_for_go:
            self.series.go()
            return Stamp(mono_us=mono_us())
        active = self.active
        if active is None:
            raise ConflictError("no rep is armed: nothing to start")
        if active.drill.start.type is not StartType.COACH_GO:
            raise ConflictError(
                f"{active.drill.slug} starts '{active.drill.start.type.value}', not on GO"
            )
        if active.engine.state is not RunState.ARMED:
            raise ConflictError(f"{active.athlete} has already started")
        at = Stamp(mono_us=mono_us())
        splits = active.engine.go(at)
        self._advance(active, RunState.ARMED, splits, None)
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
        stamp = signals.stamp_of(event)
        role = self._beam_role(active, event, broken, stamp)
        if role is None:
            return
        binding = self.layout[role]
        if binding.filtered:
            self._detect(active, role, binding, event, broken, stamp)
            return
        if self._hold_for_cue(active, stamp):
            active.held.append((role, broken, stamp, event))
            return
        self._feed_raw(active, role, broken, stamp, event)

    def _feed_raw(
        self, active: ActiveRun, role: str, broken: bool, stamp: Stamp, event: DeviceEvent
    ) -> None:
        """An edge of a role with no rule, to the engine as it comes. A break the engine takes
        is kept as a first-break crossing, so every rep's crossings are on record with their
        edges (a hold start's break is not its crossing: the release is, and it is no break)."""
        hold = active.drill.start.type is StartType.HOLD and role == active.drill.start_role
        if not broken or hold:
            self._feed(active, role, broken, stamp, event)
            return
        edge = BeamEdge(0, True, stamp, (event.device, event.boot_id, event.seq))
        self.take_crossing(active, role, Detected(stamp, Trigger.FIRST_BREAK, edge, (edge,)), event)

    def take_crossing(
        self, active: ActiveRun, role: str, crossing: Detected, origin: DeviceEvent | None
    ) -> None:
        """Feed a crossing to the engine, and keep it with the rep only if it counts (a finish
        ends the rep inside _feed, so it is in the list before); one the engine sets aside,
        such as a slow start's trailing leg after the re-arm, is in the engine's audit trail
        instead."""
        ignored = len(active.engine.ignored)
        active.crossings.append((role, crossing))
        self._feed(active, role, True, crossing.at, origin)
        if len(active.engine.ignored) > ignored and self._holds(active):
            active.crossings.remove((role, crossing))

    def _detect(
        self, active: ActiveRun, role: str, binding: Binding, event: DeviceEvent, broken: bool,
        stamp: Stamp,
    ) -> None:  # fmt: skip
        """A raw edge of a role with a rule: to its detector, and what it decides onwards."""
        detector = active.detectors.get(role)
        if detector is None:
            detector = active.detectors[role] = CrossingDetector(binding.rule(active.drill))
        beam = binding.beam_of(event.channel) or 0
        ref = (event.device, event.boot_id, event.seq)
        self._crossed(active, role, detector.edge(BeamEdge(beam, broken, stamp, ref)), event)
        self._poll_later(active, role)

    def _poll_later(self, active: ActiveRun, role: str) -> None:
        """Decide an open longest-break window when it closes, if no later edge does first:
        the split is on the boards within the window plus LATE_EDGE_US."""
        detector = active.detectors[role]
        due = detector.due_mono_us()
        if due is None:
            return
        loop = asyncio.get_running_loop()
        delay_s = max(0.0, (due - mono_us()) / 1e6)
        active.timers.append(loop.call_later(delay_s, self._poll_detector, active, role))

    def _poll_detector(self, active: ActiveRun, role: str) -> None:
        if not self._holds(active):
            return
        found = active.detectors[role].poll(mono_us())
        if found:
            self._crossed(active, role, found, None)
        else:
            self._poll_later(active, role)

    def _crossed(
        self, active: ActiveRun, role: str, found: list[Detected], event: DeviceEvent | None
    ) -> None:
        for crossing in found:
            # The event behind the crossing, when it is the one at hand (its run link, a bib).
            ref = None if event is None else (event.device, event.boot_id, event.seq)
            origin = event if crossing.chosen.ref == ref else None
            if not self._holds(active):
                return
            if self._hold_for_cue(active, crossing.at):
                active.crossings.append((role, crossing))
                active.held.append((role, True, crossing.at, origin))
                continue
            self.take_crossing(active, role, crossing, origin)

    def _feed(
        self, active: ActiveRun, role: str, broken: bool, stamp: Stamp, event: DeviceEvent | None
    ) -> None:
        was = active.engine.state
        # Every edge: a hold start needs the restores; other starts ignore them.
        splits = active.engine.beam_edge(role, broken, stamp)
        self._advance(active, was, splits, event)

    def _advance(
        self, active: ActiveRun, was: RunState, splits: list[SplitResult],
        event: DeviceEvent | None,
    ) -> None:  # fmt: skip
        """Open the run at the start, store new splits, light a target, finish when over."""
        engine = active.engine
        if active.run_id is None and engine.state not in (RunState.ARMED, RunState.WAITING_CUE):
            # Usually the start; but a start that arrives late (its gate was unplugged) can
            # finish the run in the same call, with the held finish.
            if event is not None and event.bib is not None:
                self._name_by_bib(active, event.bib)
            active.run_id = self.recorder.open_run(
                active.drill_id, active.athlete_id, active.rep,
                familiarisation=active.familiarisation, plan_session_id=active.plan_session_id,
            )  # fmt: skip
            if event is not None:
                self.recorder.attach_event(event, active.run_id)
            if engine.state is RunState.RUNNING:
                limit_s = active.drill.time_limit_us / 1e6 + TIMEOUT_GRACE_S
                loop = asyncio.get_running_loop()
                active.timers.append(loop.call_later(limit_s, self._check_timeout, active))
        for split in splits:
            assert active.run_id is not None
            active.splits_recorded += 1
            final = active.splits_recorded == len(engine.drill.segments)
            self.recorder.add_split(
                active.run_id,
                active.splits_recorded,
                split,
                active.context,
                final,
                crossing=self._last_crossing(active, split.to_role),
            )
        self._maybe_light_target(active)
        if engine.state not in (RunState.ARMED, RunState.WAITING_CUE, RunState.RUNNING):
            if splits:
                # Phones first: the last split is on its way to every page (the live feed's
                # senders are queued on the loop) before the rep's closing writes hold the
                # loop; with a squad's phones on the feed that wait was most of its latency.
                asyncio.get_running_loop().call_soon(self._finish, active)
            else:
                self._finish(active)

    def _name_by_bib(self, active: ActiveRun, bib: int) -> None:
        """The start impulse of a Timy set to start numbers names the rep's athlete by the bib
        (their squad number). A Timy in its default mode numbers impulses instead, and its
        events carry no bib: nothing is ever guessed from a counter."""
        found = self.recorder.athletes_with_bib(active.athlete_id, bib)
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
        active.rep = self.recorder.count_runs(active.drill.slug, athlete_id) + 1

    # -- reactive starts and targets ----------------------------------------------------------

    def _hold_for_cue(self, active: ActiveRun, stamp: Stamp) -> bool:
        """Whether a crossing must wait for the cue's onset event before it can be judged."""
        cue_at = active.cue_at_mono_us
        return (
            active.engine.state is RunState.WAITING_CUE
            and cue_at is not None
            and stamp.mono_us >= cue_at - CUE_HOLD_MARGIN_US
        )

    async def _give_cue(self, active: ActiveRun) -> None:
        drill, at = active.drill, active.cue_at_mono_us
        assert at is not None and self.outputs is not None
        binding = self.layout[signals.cue_role(drill)]
        try:
            onset = await signals.give_cue(self.outputs, drill, binding.device, binding.channel, at)
        except (HardwareError, TimeoutError) as exc:
            if self._holds(active) and active.engine.state is RunState.WAITING_CUE:
                active.engine.void(f"the cue could not be given: {exc or 'no onset event'}")
                self._finish(active)
            return
        if not self._holds(active):
            return
        was = active.engine.state
        splits = active.engine.cue_onset(signals.stamp_of(onset))
        self._advance(active, was, splits, onset)
        held, active.held = active.held, []
        for role, broken, stamp, event in held:
            if self._holds(active):
                self._feed(active, role, broken, stamp, event)

    def _maybe_light_target(self, active: ActiveRun) -> None:
        choice = active.drill.target_choice
        plan = active.engine.cue_plan
        if active.target_lit or choice is None or plan is None or plan.target is None:
            return
        if not active.engine.crossed(choice.lit_at):
            return
        active.target_lit = True
        binding = self.layout[plan.target]
        # Not cancelled when the rep ends: a command half sent is still worth its ACK.
        task = asyncio.get_running_loop().create_task(self._light(active, binding, plan.target))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _light(self, active: ActiveRun, binding: Binding, role: str) -> None:
        assert self.outputs is not None
        try:
            await signals.light_target(self.outputs, binding.device, binding.channel)
        except HardwareError as exc:
            if self._holds(active):
                active.engine.void(f"target {role} could not be lit: {exc}")
                self._finish(active)
            return
        self.recorder.live.publish({"type": "cue", **active.context, "target": role,
                                    "station": self.recorder.station_name})  # fmt: skip

    # -- endings ------------------------------------------------------------------------------

    def _no_start(self, active: ActiveRun) -> None:
        if self.active is active and active.engine.state in (
            RunState.ARMED, RunState.WAITING_CUE,
        ):  # fmt: skip
            active.engine.void("no start crossing")
            self._finish(active)

    @staticmethod
    def _last_crossing(active: ActiveRun, role: str) -> Detected | None:
        return next((d for r, d in reversed(active.crossings) if r == role), None)

    def _check_timeout(self, active: ActiveRun) -> None:
        if not self._holds(active):
            return
        for role, detector in active.detectors.items():
            # A finish still in its longest-break window was crossed before the check.
            self._crossed(active, role, detector.flush(), None)
            if not self._holds(active):
                return
        active.engine.poll(mono_us() - round(TIMEOUT_GRACE_S * 1e6))
        if active.engine.state is RunState.RUNNING:
            # The start was stamped a little after the timer was set: look again shortly.
            loop = asyncio.get_running_loop()
            active.timers.append(loop.call_later(0.1, self._check_timeout, active))
        else:
            self._finish(active)

    def _finish(self, active: ActiveRun) -> None:
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
        outcome = active.engine.outcome()
        if active.run_id is not None:
            try:
                self.recorder.add_crossings(active.run_id, active.crossings)
            except SQLAlchemyError:
                log.exception("could not store the crossings of run %d", active.run_id)
            self.recorder.close_run(active.run_id, outcome, active.context)
        if not active.done.done():
            active.done.set_result(outcome)
        if active.started is not None and not active.started.done():
            active.started.set_result(None)
