"""Drills that are not a course of gates: pod series (lights to touch) and interval blocks.

Each drives a pure engine from drills/ (PodSeries, IntervalSession) with device commands
and the host clock, and ends in the same RunOutcome a gate rep gives, so the plan runner,
the recorder and the boards treat every drill alike.

- A pod series is one rep: each hit is stored as a split (light to touch), the rep's
  total is the mean response of the hits, and the counts of misses and errors go in the
  reason. Lights are scheduled at a device tick; the onset event's stamp, not the request,
  is what the response is timed from.
- An interval session runs for a group on the host clock (blocks are tens of seconds; a
  few ms do not matter), announces each block on the live feed for the console to beep,
  and beeps a buzzer bound to the role `beeper` if there is one. Each athlete gets a rep
  whose total is the work time done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable

from drills import RunOutcome, RunState, SplitResult, Stamp, StartType
from drills import intervals as intervals_engine
from drills import pods as pods_engine
from drills.intervals import IntervalSession, IntervalState
from drills.model import Drill
from drills.pods import PodSeries, SeriesState, StimulusOutcome, StimulusResult
from hardware.cues import Colour
from hardware.errors import HardwareError
from hardware.timebase import mono_us
from server.live.messages import LiveType
from server.runs import signals
from server.runs.recorder import RunRecorder
from server.runs.signals import Binding

log = logging.getLogger(__name__)

COLOURS: dict[str, Colour] = {
    "green": (0, 255, 0), "red": (255, 0, 0), "blue": (0, 0, 255),
    "yellow": (255, 200, 0), "white": (255, 255, 255), "orange": (255, 120, 0),
    "purple": (160, 0, 255), "cyan": (0, 200, 255),
}  # fmt: skip
BEEPER_ROLE = "beeper"
BLOCK_BEEP_MS = 400


class PodRun:
    """One athlete's pod series: light, wait for the touch or the window, next."""

    def __init__(
        self, *, drill: Drill, drill_id: int, athlete_id: int, athlete: str, rep: int,
        rng: random.Random, recorder: RunRecorder, outputs: signals.Outputs,
        layout: dict[str, Binding], familiarisation: bool, plan_session_id: int | None,
        on_end: Callable[[PodRun], None],
    ) -> None:  # fmt: skip
        self.drill = drill
        self.drill_id = drill_id
        self.athlete_id = athlete_id
        self.athlete = athlete
        self.rep = rep
        self.recorder = recorder
        self.outputs = outputs
        self.layout = layout
        self.familiarisation = familiarisation
        self.plan_session_id = plan_session_id
        self.series = PodSeries(drill, pods_engine.plan(drill, rng))
        self.run_id: int | None = None
        self.splits: list[SplitResult] = []
        loop = asyncio.get_running_loop()
        self.done: asyncio.Future[RunOutcome] = loop.create_future()
        self._go = asyncio.Event()
        self._settled = asyncio.Event()
        self._on_end = on_end
        self._void_reason: str | None = None
        if drill.start.type is not StartType.COACH_GO:
            self._go.set()
        self.task = loop.create_task(self._run())

    @property
    def context(self) -> dict[str, object]:
        # A practice rep says so on the feed: the TV does not present it as a new result.
        return {"drill": self.drill.slug, "athlete": self.athlete, "rep": self.rep,
                "familiarisation": self.familiarisation}  # fmt: skip

    @property
    def waiting_for_go(self) -> bool:
        return not self._go.is_set()

    def go(self) -> None:
        self._go.set()

    def on_touch(self, role: str, at: Stamp) -> None:
        result = self.series.touch(role, at)
        if result is not None:
            self._settled.set()

    def void(self, reason: str) -> None:
        self._void_reason = reason
        self.task.cancel()

    async def _run(self) -> None:
        try:
            await self._go.wait()
            self.run_id = self.recorder.open_run(
                self.drill_id, self.athlete_id, self.rep, familiarisation=self.familiarisation,
                plan_session_id=self.plan_session_id,
            )  # fmt: skip
            stimuli = self.drill.stimuli
            assert stimuli is not None
            last_end = mono_us()
            for stimulus in self.series.plan:
                binding = self.layout[stimulus.pod]
                at = max(last_end, mono_us() + signals.MIN_LEAD_US) + stimulus.foreperiod_us
                onset_future = await self.outputs.schedule_light(
                    binding.device, binding.channel, at, colour=COLOURS.get(stimulus.colour,
                    (255, 255, 255)), duration_ms=stimuli.window_us // 1000,
                )  # fmt: skip
                onset = await signals.wait_onset(onset_future, at)
                self._settled.clear()
                result = self.series.onset(stimulus.index, signals.stamp_of(onset))
                window_end_us = signals.stamp_of(onset).mono_us + stimuli.window_us
                while result is None and self.series.current is stimulus:
                    left_s = (window_end_us - mono_us()) / 1e6
                    try:
                        await asyncio.wait_for(self._settled.wait(), timeout=max(left_s, 0.0))
                    except TimeoutError:
                        result = self.series.poll(mono_us())
                    self._settled.clear()
                settled = self.series.results[stimulus.index]
                self._record(settled)
                last_end = settled.ended_mono_us
            self._end(None)
        except asyncio.CancelledError:
            self._end(self._void_reason or "cancelled")
        except (HardwareError, TimeoutError) as exc:
            self._end(f"a pod did not answer: {exc or 'no light event'}")
        except Exception as exc:
            # Not the athlete's doing (a pod bound to no device, a bug): the rep is voided and
            # the failure goes to whoever waits on `done` (a plan session pauses with it).
            log.exception("pod series of %s failed", self.athlete)
            _fail(self.done, exc, self._end)

    def _record(self, result: StimulusResult) -> None:
        self.recorder.live.publish({
            "type": LiveType.STIMULUS, **self.context, "station": self.recorder.station_name,
            "run_id": self.run_id, "index": result.index,
            "pod": result.pod, "colour": result.colour, "outcome": result.outcome.value,
            "response_s": None if result.response_us is None else result.response_us / 1e6,
        })  # fmt: skip
        if result.outcome is not StimulusOutcome.HIT or result.response_us is None:
            return
        assert self.run_id is not None
        split = SplitResult(
            name=f"{result.index + 1} {result.pod}",
            from_role=self.drill.stimuli.home if self.drill.stimuli and self.drill.stimuli.home
            else result.pod, to_role=result.pod, elapsed_us=result.response_us, distance_m=0.0,
        )  # fmt: skip
        self.splits.append(split)
        self.recorder.add_split(
            self.run_id, len(self.splits), split, self.context, final=False,
            reaction_us=result.reaction_us,
        )  # fmt: skip

    def _end(self, void_reason: str | None) -> None:
        if void_reason is not None and self.series.state is not SeriesState.VOID:
            self.series.void(void_reason)
        outcome = self.series.outcome()
        s = outcome.summary
        counts = (
            f"{s.hits} hits, {s.misses} misses, {s.commissions} no-go touched, "
            f"{s.wrong_pods} wrong pod, {s.correct_rejections} no-go left alone"
        )
        finished = outcome.state is SeriesState.FINISHED and s.hits > 0
        result = RunOutcome(
            state=RunState.FINISHED if finished else RunState.VOID,
            splits=tuple(self.splits),
            total_us=s.mean_response_us if finished else None,
            reason=counts if finished else f"{void_reason or 'no hit'} ({counts})",
            reaction_us=s.mean_reaction_us, movement_us=s.mean_movement_us,
        )  # fmt: skip
        if self.run_id is not None:
            self.recorder.close_run(self.run_id, result, self.context)
        self._on_end(self)
        if not self.done.done():
            self.done.set_result(result)


class IntervalRun:
    """A group's interval session; `time_scale` shrinks the blocks for tests and demos."""

    def __init__(
        self, *, drill: Drill, drill_id: int, athletes: list[tuple[int, str, int]],
        recorder: RunRecorder, outputs: signals.Outputs | None, beeper: Binding | None,
        time_scale: float, plan_session_id: int | None, on_end: Callable[[IntervalRun], None],
    ) -> None:  # fmt: skip
        self.drill = drill
        self.drill_id = drill_id
        self.athletes = athletes  # (athlete id, name, rep)
        self.recorder = recorder
        self.outputs = outputs
        self.beeper = beeper
        self.scale = time_scale
        self.plan_session_id = plan_session_id
        self._on_end = on_end
        self._origin = mono_us()
        self.session = IntervalSession(drill, self._origin)
        loop = asyncio.get_running_loop()
        self.done: asyncio.Future[RunOutcome] = loop.create_future()
        self._void_reason: str | None = None
        self._wake = asyncio.Event()
        self.task = loop.create_task(self._run())

    def _now(self) -> int:
        """Session time: real time since the start, stretched by the time scale."""
        return self._origin + round((mono_us() - self._origin) / self.scale)

    def pause(self) -> None:
        self.session.pause(self._now())
        self._wake.set()

    def resume(self) -> None:
        self.session.resume(self._now())
        self._wake.set()

    def skip(self) -> None:
        self.session.skip_block(self._now())
        self._wake.set()

    def void(self, reason: str) -> None:
        self._void_reason = reason
        self.task.cancel()

    async def _run(self) -> None:
        announced = -1
        try:
            while True:
                position = self.session.current(self._now())
                if position is None:
                    break
                slot = position.slot
                if slot.index != announced:
                    announced = slot.index
                    await self._announce(slot, position.remaining_us)
                self._wake.clear()
                wait_s = position.remaining_us / 1e6 * self.scale
                if position.paused:
                    await self._wake.wait()
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=max(wait_s, 0.0) + 0.001)
            self._end(None)
        except asyncio.CancelledError:
            self._end(self._void_reason or "cancelled")
        except Exception as exc:
            log.exception("interval session of %s failed", self.drill.slug)
            _fail(self.done, exc, self._end)

    async def _announce(self, slot: intervals_engine.BlockSlot, remaining_us: int) -> None:
        # `slots`: the blocks of the whole session (every round), so a page can say "block 3
        # of 12"; `seconds`: real seconds left in this block as it is announced.
        self.recorder.live.publish({
            "type": LiveType.INTERVAL, "drill": self.drill.slug, "slot": slot.index,
            "slots": len(self.session.slots), "round": slot.round, "rounds": self.drill.reps,
            "block": slot.name, "kind": slot.kind.value,
            "seconds": remaining_us / 1e6 * self.scale, "beep": slot.cue is not None,
            "athletes": [name for _id, name, _rep in self.athletes],
            "station": self.recorder.station_name, "session_id": self.plan_session_id,
        })  # fmt: skip
        if slot.cue is None or self.beeper is None or self.outputs is None:
            return
        try:
            onset = await self.outputs.schedule_beep(
                self.beeper.device, self.beeper.channel, mono_us() + signals.MIN_LEAD_US,
                duration_ms=BLOCK_BEEP_MS,
            )  # fmt: skip
        except HardwareError as exc:
            log.warning("interval beep not given: %s", exc)
            return
        onset.add_done_callback(
            lambda f: None if f.cancelled() or f.exception() else
            self.session.cue_onset(slot.index, signals.stamp_of(f.result()))
        )  # fmt: skip

    def _end(self, void_reason: str | None) -> None:
        now = self._now()
        if void_reason is not None and self.session.state in (
            IntervalState.RUNNING, IntervalState.PAUSED,
        ):  # fmt: skip
            outcome = self.session.stop(now)
        else:
            outcome = self.session.outcome(now)
        complete = outcome.state is IntervalState.FINISHED
        work_us = outcome.work_us  # session time: the blocks as prescribed, not as sped up
        rounds = f"{outcome.rounds_completed} of {self.drill.reps} rounds"
        result = RunOutcome(
            state=RunState.FINISHED if complete else RunState.VOID, splits=(),
            total_us=work_us if complete else None,
            reason=rounds if complete else f"{void_reason}: {rounds}",
        )  # fmt: skip
        for athlete_id, name, rep in self.athletes:
            run_id = self.recorder.open_run(
                self.drill_id, athlete_id, rep, plan_session_id=self.plan_session_id
            )
            self.recorder.close_run(
                run_id, result, {"drill": self.drill.slug, "athlete": name, "rep": rep}
            )
        self._on_end(self)
        if not self.done.done():
            self.done.set_result(result)


def _fail(done: asyncio.Future[RunOutcome], exc: Exception, end: Callable[[str], None]) -> None:
    """Hand `exc` to the waiter, then void the rep and free the lane (best effort)."""
    if not done.done():
        done.set_exception(exc)
    try:
        end(f"failed: {exc}")
    except Exception:
        log.exception("could not close the failed rep")
