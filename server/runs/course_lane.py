"""Several athletes on one course at once: the coordinator's side of drills/overlap.py.

A station with a minimum start spacing lets the next athlete set off before the previous one
has finished. Gate crossings then carry no name: each role's edges go through the role's
rule (drills/crossing.py, always with a detector, so re-arm drops a trailing arm before
anything is assigned), and the course assigns each crossing to a runner, first in first out
per gate (drills/overlap.py). The runner's own RunEngine times it, so splits, storage and the
live feed are those of any rep.

Only the armed athlete can start: a start crossing with nobody armed, or closer to the last
start than the spacing, is refused and said on the live feed, not guessed. A crossing the
course finds implausible (a pass, a speed no human runs) is assigned first in first out and
flagged on the live feed and in the log for the coach, never silently.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from drills import Drill
from drills.crossing import BeamEdge, CrossingDetector, Detected
from drills.overlap import Assignment, Course, Doubt, Flag, Refused
from drills.run_state import RunState
from drills.timing import Stamp, elapsed_us
from hardware.device import DeviceEvent
from hardware.timebase import mono_us
from server.db.models import CourseFlag
from server.live.messages import LiveType
from server.runs import signals

if TYPE_CHECKING:
    from server.runs.active_run import ActiveRun
    from server.runs.coordinator import RunCoordinator

log = logging.getLogger(__name__)
MAX_REASON = 300  # CourseFlag.reason


class CourseLane:
    """One drill's course on one station, with every runner on it."""

    def __init__(self, coordinator: RunCoordinator, drill: Drill, spacing_us: int) -> None:
        # EngineError for a drill the rule cannot run (shuttles, reactive targets).
        self.course = Course(drill, spacing_us)
        self.coordinator = coordinator
        self.drill = drill
        self.detectors: dict[str, CrossingDetector] = {}
        self.runs: dict[int, ActiveRun] = {}  # runner number -> the rep on course
        self.run_ids: dict[int, int | None] = {}  # runner number -> run id, kept after it ends
        self._flagged: set[tuple[int, str]] = set()  # (crossing, doubt) already said
        self._timers: list[asyncio.TimerHandle] = []

    def holds(self, active: ActiveRun) -> bool:
        return any(run is active for run in self.runs.values())

    @property
    def empty(self) -> bool:
        return not self.runs

    def on_course(self) -> list[ActiveRun]:
        return list(self.runs.values())

    def released(self, active: ActiveRun) -> None:
        """A rep ended (finished, timed out, voided): it leaves the course."""
        for number, run in list(self.runs.items()):
            if run is active:
                del self.runs[number]
                if active.engine.state is RunState.TIMEOUT:
                    self._ask_about_lost(number, active)
        self.course.expire(mono_us())

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()

    # -- edges and crossings ------------------------------------------------------------------

    def edge(self, event: DeviceEvent, broken: bool) -> None:
        layout = self.coordinator.layout
        role = next(
            (r for r, b in layout.items()
             if b.device == event.device and event.channel in b.channels),
            None,
        )  # fmt: skip
        if role is None:
            return
        binding = layout[role]
        detector = self.detectors.get(role)
        if detector is None:
            detector = self.detectors[role] = CrossingDetector(binding.rule(self.drill))
        ref = (event.device, event.boot_id, event.seq)
        beam = binding.beam_of(event.channel) or 0
        stamp = signals.stamp_of(event)
        for found in detector.edge(BeamEdge(beam, broken, stamp, ref)):
            self._crossing(role, found, event if found.chosen.ref == ref else None)
        self._poll_later(role)

    def _poll_later(self, role: str) -> None:
        due = self.detectors[role].due_mono_us()
        if due is None:
            return
        delay_s = max(0.0, (due - mono_us()) / 1e6)
        loop = asyncio.get_running_loop()
        self._timers = [t for t in self._timers if not t.cancelled()]
        self._timers.append(loop.call_later(delay_s, self._poll, role))

    def _poll(self, role: str) -> None:
        if self.coordinator.lane is not self:
            return
        found = self.detectors[role].poll(mono_us())
        if not found:
            self._poll_later(role)
        for crossing in found:
            self._crossing(role, crossing, None)

    def _crossing(self, role: str, found: Detected, origin: DeviceEvent | None) -> None:
        if role == self.drill.start_role:
            self._start(role, found, origin)
            return
        assignment = self.course.crossing(role, found.at)
        self._say_flags()
        runner = assignment.runner
        run = None if runner is None else self.runs.get(runner.number)
        if run is None:
            why = assignment.reason or "the runner it belongs to has left the course"
            log.warning("%s: a crossing of %s is nobody's: %s", self.drill.slug, role, why)
            self._publish({"type": LiveType.CROSSING_UNASSIGNED, "role": role, "reason": why})
            return
        self.coordinator.gates.take_crossing(run, role, found, origin)

    def _start(self, role: str, found: Detected, origin: DeviceEvent | None) -> None:
        armed = self.coordinator.active
        if armed is None or armed.drill is not self.drill:
            log.info("%s: a start crossing with nobody armed: not a rep", self.drill.slug)
            return
        got = self.course.start(armed.athlete, found.at)
        if isinstance(got, Refused):
            log.warning("%s: %s's start refused: %s", self.drill.slug, armed.athlete, got.reason)
            self._publish({"type": LiveType.START_REFUSED, "athlete": armed.athlete,
                           "drill": self.drill.slug, "reason": got.reason})  # fmt: skip
            return
        # On course now: the station may arm the next athlete while this one runs.
        self.runs[got.number] = armed
        self.coordinator.active = None
        self.coordinator.gates.take_crossing(armed, role, found, origin)
        self.run_ids[got.number] = armed.run_id
        if armed.started is not None and not armed.started.done():
            armed.started.set_result(None)

    def _ask_about_lost(self, number: int, active: ActiveRun) -> None:
        """A runner timed out short of a gate that was broken again just after someone
        else's crossing, inside the re-arm: two bodies that close make one crossing, so that
        break may have been theirs. Asked as a flag (doubt `merged`) with the time it would
        give, never decided here: a trailing limb of the other runner looks the same."""
        run = next((r for r in self.course.runs if r.runner.number == number), None)
        chain = self.drill.roles_in_order
        if run is None or not run.crossings:
            return
        last = run.crossings[-1]
        index = chain.index(last.role) + 1
        detector = self.detectors.get(chain[index]) if index < len(chain) else None
        if detector is None:
            return
        role, rearm_us = chain[index], detector.rule.rearm_us
        others = [
            a for a in self.course.assignments
            if a.role == role and a.runner is not None and a.runner.number != number
            and elapsed_us(last.at, a.at) > 0
        ]  # fmt: skip
        best: tuple[int, Stamp, Assignment] | None = None
        for start, length_us in detector.dropped_breaks():
            if elapsed_us(last.at, start) <= 0:
                continue
            owner = next((a for a in others if 0 <= elapsed_us(a.at, start) < rearm_us), None)
            if owner is not None and (best is None or (length_us or 0) > best[0]):
                best = (length_us or 0, start, owner)
        if best is None:
            return
        _, start, owner = best
        assert owner.runner is not None
        started = run.crossings[0].at
        time_s = elapsed_us(started, start) / 1e6
        reason = (
            f"{active.athlete} timed out short of {role}; {role} was broken again "
            f"{elapsed_us(owner.at, start) / 1e6:.2f} s after {owner.runner.athlete}'s crossing, "
            f"inside the {rearm_us / 1000:g} ms re-arm: if that was {active.athlete}, their "
            f"time is {time_s:.3f} s (enter it as a manual time)"
        )
        flag = Flag(
            crossing=-1, role=role, runner=run.runner, alternative=owner.runner,
            doubt=Doubt.MERGED, reason=reason,
        )  # fmt: skip
        # No rep to swap with: the other runner keeps their own crossing.
        self._say_flag(flag, run_id=active.run_id, swappable=False)

    def _say_flags(self) -> None:
        for flag in self.course.flags:
            key = (flag.crossing, flag.doubt.value)
            if key in self._flagged:
                continue
            self._flagged.add(key)
            self._say_flag(flag)

    def _say_flag(self, flag: Flag, run_id: int | None = None, swappable: bool = True) -> None:
        """Kept for the coach to confirm or swap (server/stations/flags.py), and said."""
        run_id = run_id or self.run_ids.get(flag.runner.number)
        other = flag.alternative
        row = CourseFlag(
            drill=self.drill.slug, role=flag.role, doubt=flag.doubt.value,
            reason=flag.reason[:MAX_REASON], athlete=flag.runner.athlete, run_id=run_id,
            alternative=None if other is None else other.athlete,
            other_run_id=(
                None if other is None or not swappable else self.run_ids.get(other.number)
            ),
        )  # fmt: skip
        try:
            flag_id: int | None = self.coordinator.recorder.add_flag(row)
        except SQLAlchemyError:
            log.exception("could not store a course flag")
            flag_id = None
        log.warning("%s: crossing %d of %s given to %s, check it: %s (%s may own it)",
                    self.drill.slug, flag.crossing, flag.role, flag.runner.athlete,
                    flag.reason, row.alternative)  # fmt: skip
        self._publish({
            "type": LiveType.FLAG, "flag_id": flag_id, "drill": self.drill.slug, "role": flag.role,
            "athlete": flag.runner.athlete, "alternative": row.alternative,
            "doubt": flag.doubt.value, "reason": flag.reason, "run_id": run_id,
            "other_run_id": row.other_run_id,
        })  # fmt: skip

    def _publish(self, message: dict[str, Any]) -> None:
        recorder = self.coordinator.recorder
        recorder.live.publish({**message, "station": recorder.station_name})
