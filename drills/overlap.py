"""Several athletes on one course at once: which of them each anonymous gate crossing belongs to.

On a testing day the next athlete on a sprint lane sets off before the previous one has
finished. A gate sees a body, not a name, so the course has to work out whose crossing it was.

The rule (first in, first out per gate):

- A runner enters the course when the caller says who crossed the start gate (`start`). A start
  less than `min_start_spacing_us` after the previous accepted start is refused with a reason
  for the coach: bodies that close together cannot be told apart at the next gate either.
- A crossing of gate g goes to the runner on the course who is furthest along without having
  crossed g, and of those to the one who got there first. With no pass and no missed beam this
  is plain FIFO per gate: runners leave each segment in the order they entered it. The
  crossing must be stamped after that runner's previous crossing.
- Crossing the last gate leaves the course (finished); so does the drill's time limit (timed
  out), at a crossing or start stamped past it or at `expire(now)`. Time passes only through
  those stamps: no clock is read.

FIFO cannot see a pass, so a crossing whose FIFO answer is implausible is assigned anyway and
flagged for the coach, naming the runner who may own it instead:

- too fast: the implied speed since the runner's previous gate is above the human bound for
  the segment's movement (`SPEED_LIMITS_MPS`). Loose on purpose: it catches a stray body or a
  crossing given to the wrong runner moments after their last one, not a close pass.
- missed gate: the runner gets the crossing without having crossed the gate before it (a
  beam that missed them, or their crossing went to someone else).
- pass: each runner's time since their previous gate is set against the time their own mean
  pace so far predicts (a log ratio; 0 is on pace). When a crossing arrives, it and the
  earlier undecided crossings of the same gate that the same runners could have made are
  matched to those runners in every feasible way, and each matching is scored twice:
  - the spread of the ratios around their median, so a change everyone shares (accelerating
    out of the start, tiring) cancels out;
  - their distance from the course's usual change at that gate (the median of the other
    runners' ratios there), so one runner alone changing pace (pulling up and being passed)
    costs less than two changing to make up for each other. Not scored until someone else
    has crossed the gate; a crossing judged before then is judged again when they do, so
    its flag may come one rep late.
  If some matching beats the one the runners hold on either score by more than
  `pace_margin`, every crossing it would move is flagged, naming the runner it would go to.

The coach answers a flag with `confirm(flag)` (keep it) or `swap(flag)` (the two runners
exchange their crossings of that gate). Decisions are stored against the crossings and the
whole course is recomputed from its log, so what follows from a swap (the order at later
gates, who finished, who timed out) follows consistently; decided crossings are not flagged
again.

Limits: a pass before the first gate after the start is seen only by the speed bound (no pace
exists yet). A pass is flagged only when paces show it: with steady paces, always once the
crossings of a gate are more than about 1 % of a segment time apart (0.5 % for a pass between
two runners); a runner who pulls up and is passed by one on the usual pace, once the gap
between their crossings times (1/passer's segment - 1/passed runner's segment) is above
about 2 %, and only once someone else has crossed that gate. A close pass can fit as well
one way as the other and goes unflagged. Two bodies through one beam within its re-arm time
make one crossing, not two (drills/crossing.py): the closest passes lose a crossing instead;
the runner who loses it times out, and the station asks the coach with the dropped break's
time (server/runs/course_lane.py, doubt `merged`). A runner who drops out keeps their place
until their time limit, and the crossings of whoever is behind go to them meanwhile.
Crossings are taken in the order they are fed: feed them in stamp order. Drills that pass one
gate twice (shuttles) or branch (reactive
targets) are refused: per-gate FIFO cannot tell one runner's passes apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cmp_to_key

from drills.errors import EngineError
from drills.model import Drill, Movement, Timing
from drills.overlap_doubts import Judge
from drills.overlap_records import (
    PACE_MARGIN,
    SPEED_LIMITS_MPS,
    US_PER_S,
    Assignment,
    Doubt,
    Flag,
    Pass,
    Refused,
    Rules,
    Run,
    Runner,
    RunnerState,
    RunStatus,
    Slot,
)
from drills.run_state import Crossing
from drills.timing import Stamp, elapsed_us

__all__ = [
    "PACE_MARGIN", "SPEED_LIMITS_MPS", "Assignment", "Course", "Doubt", "Flag", "Refused", "Run",
    "RunStatus", "Runner",
]  # fmt: skip


# --- the course --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StartEvent:
    athlete: str
    at: Stamp


@dataclass(frozen=True)
class _CrossEvent:
    role: str
    at: Stamp


@dataclass(frozen=True)
class _ExpireEvent:
    now: Stamp | int


_Event = _StartEvent | _CrossEvent | _ExpireEvent


class Course:
    """One course (a lane and its gates) running one drill, with several runners at once.

    Pure: every answer is a function of what was fed in (starts, crossings, `expire` calls)
    and the coach's decisions, in order. Gate input never raises; `EngineError` is for caller
    bugs (a drill this rule cannot run, a flag that is no longer open).
    """

    def __init__(
        self,
        drill: Drill,
        min_start_spacing_us: int,
        *,
        speed_limits_mps: Mapping[Movement, float] = SPEED_LIMITS_MPS,
        pace_margin: float = PACE_MARGIN,
    ) -> None:
        if drill.timing is not Timing.GATES:
            raise EngineError(f"{drill.slug} is a {drill.timing.value} drill, not a course")
        if drill.target_choice is not None:
            raise EngineError(f"{drill.slug}: a reactive target branches; resolve it first")
        chain = drill.roles_in_order
        if len(set(chain)) != len(chain):
            raise EngineError(
                f"{drill.slug} passes one gate more than once: per-gate FIFO cannot tell a "
                "runner's passes apart, so it runs one athlete at a time"
            )
        if min_start_spacing_us < 0:
            raise EngineError(f"minimum start spacing {min_start_spacing_us} µs is negative")
        if pace_margin < 0:
            raise EngineError(f"pace margin {pace_margin} is negative")
        limits = {**SPEED_LIMITS_MPS, **speed_limits_mps}
        self._rules = Rules(drill, min_start_spacing_us, limits, pace_margin)
        self._log: list[_Event] = []
        # The coach's decisions: crossing number -> runner number it must go to, and the
        # crossings the coach has ruled on (a swap also moves the partner crossing, which
        # stays open: the coach ruled on one crossing, not on where the other belongs).
        self._forced: dict[int, int] = {}
        self._settled: set[int] = set()
        self._state = _State(self._rules, self._forced, self._settled)

    # --- input ---------------------------------------------------------------------------------

    def start(self, athlete: str, at: Stamp) -> Runner | Refused:
        """`athlete` crossed the start gate at `at`: a new runner, or the reason it is refused."""
        event = _StartEvent(athlete, at)
        self._log.append(event)
        return self._state.start(event)

    def crossing(self, role: str, at: Stamp) -> Assignment:
        """A crossing of gate `role` (not the start: that is `start`); where it went."""
        event = _CrossEvent(role, at)
        self._log.append(event)
        return self._state.crossing(event)

    def expire(self, now: Stamp | int) -> tuple[Runner, ...]:
        """Time out every runner past the time limit at `now` (a stamp, or host-monotonic µs);
        returns those it timed out. Allow for USB latency before calling it at a limit."""
        event = _ExpireEvent(now)
        self._log.append(event)
        return self._state.expire(event)

    # --- the coach -----------------------------------------------------------------------------

    def confirm(self, flag: Flag) -> None:
        """Keep the flagged crossing with its runner; it is not flagged again."""
        self._check_open(flag)
        self._forced[flag.crossing] = flag.runner.number
        self._settled.add(flag.crossing)
        self._replay()

    def swap(self, flag: Flag) -> tuple[Assignment, ...]:
        """Give the flagged crossing to the alternative (it is not flagged again) and the
        alternative's crossing of the same gate, if any, to the flagged runner; recompute the
        course. Returns every assignment that changed runner."""
        self._check_open(flag)
        if flag.alternative is None:
            raise EngineError(f"crossing {flag.crossing} has no other runner to go to")
        before = self.assignments
        theirs = self._state.crossing_of(flag.alternative, flag.role)
        self._forced[flag.crossing] = flag.alternative.number
        self._settled.add(flag.crossing)
        if theirs is not None:
            self._forced[theirs] = flag.runner.number
            self._settled.discard(theirs)  # an earlier ruling on it gives way to this one
        self._replay()
        return tuple(
            a for a, b in zip(before, self.assignments, strict=True) if a.runner != b.runner
        )

    # --- what it knows -------------------------------------------------------------------------

    @property
    def assignments(self) -> tuple[Assignment, ...]:
        return self._state.assignments()

    @property
    def flags(self) -> tuple[Flag, ...]:
        """Open flags, one per flagged crossing, in crossing order."""
        return tuple(a.flag for a in self.assignments if a.flag is not None)

    @property
    def runs(self) -> tuple[Run, ...]:
        return self._state.runs()

    @property
    def on_course(self) -> tuple[Runner, ...]:
        return tuple(r.runner for r in self.runs if r.status is RunStatus.ON_COURSE)

    @property
    def refused(self) -> tuple[Refused, ...]:
        return tuple(self._state.refused)

    # --- internals -----------------------------------------------------------------------------

    def _replay(self) -> None:
        self._state = _State(self._rules, self._forced, self._settled)
        for event in self._log:
            self._state.apply(event)

    def _check_open(self, flag: Flag) -> None:
        if flag not in self.flags:
            raise EngineError(f"flag on crossing {flag.crossing} is not open (decided or gone)")


# --- the replayed state ------------------------------------------------------------------------


class _State:
    """The course after some prefix of its log, with the coach's decisions applied. The
    doubts about its crossings are judged in drills/overlap_doubts.py, its records are in
    drills/overlap_records.py."""

    def __init__(self, rules: Rules, forced: Mapping[int, int], settled: AbstractSet[int]) -> None:
        self._rules = rules
        self._forced = forced
        self._settled = settled
        self._runs: list[RunnerState] = []
        self._slots: list[Slot] = []
        self.refused: list[Refused] = []
        self._last_start: RunnerState | None = None
        self._judge = Judge(rules, self._slots)

    def apply(self, event: _Event) -> None:
        if isinstance(event, _StartEvent):
            self.start(event)
        elif isinstance(event, _CrossEvent):
            self.crossing(event)
        else:
            self.expire(event)

    # --- results -------------------------------------------------------------------------------

    def assignments(self) -> tuple[Assignment, ...]:
        return tuple(self._assignment(i) for i in range(len(self._slots)))

    def runs(self) -> tuple[Run, ...]:
        chain = self._rules.chain
        return tuple(
            Run(r.runner, r.status, tuple(Crossing(chain[p.index], p.at) for p in r.passes))
            for r in self._runs
        )

    def crossing_of(self, runner: Runner, role: str) -> int | None:
        """The number of the crossing of `role` that `runner` holds now, if any."""
        run = self._runs[runner.number - 1]
        return next((p.crossing for p in run.passes if self._rules.chain[p.index] == role), None)

    def _assignment(self, number: int) -> Assignment:
        slot = self._slots[number]
        flag = None
        if slot.flags and not slot.decided:
            flag = min(slot.flags, key=lambda ranked: ranked[0])[1]
        return Assignment(
            crossing=number, role=slot.role, at=slot.at,
            runner=slot.runner.runner if slot.runner else None,
            flag=flag, decided=slot.decided, reason=slot.reason,
        )  # fmt: skip

    # --- events --------------------------------------------------------------------------------

    def start(self, event: _StartEvent) -> Runner | Refused:
        athlete, at = event.athlete, event.at
        self._time_out(lambda run: elapsed_us(run.started, at))
        previous = self._last_start
        if previous is not None:
            gap_us = elapsed_us(previous.started, at)
            if gap_us < self._rules.min_start_spacing_us:
                minimum_s = self._rules.min_start_spacing_us / US_PER_S
                if gap_us < 0:
                    why = f"stamped {-gap_us / US_PER_S:.2f} s before the previous start"
                else:
                    why = f"{gap_us / US_PER_S:.2f} s after the previous start"
                reason = f"{athlete}: {why} ({previous.runner}); the minimum is {minimum_s:g} s"
                refusal = Refused(athlete, at, reason)
                self.refused.append(refusal)
                return refusal
        run = RunnerState(Runner(len(self._runs) + 1, athlete), [Pass(0, at, None)])
        self._runs.append(run)
        self._last_start = run
        return run.runner

    def expire(self, event: _ExpireEvent) -> tuple[Runner, ...]:
        now = event.now
        if isinstance(now, Stamp):
            stamp = now
            return self._time_out(lambda run: elapsed_us(run.started, stamp))
        now_mono_us = now
        return self._time_out(lambda run: now_mono_us - run.started.mono_us)

    def _time_out(self, since_start_us: Callable[[RunnerState], int]) -> tuple[Runner, ...]:
        out: list[Runner] = []
        for run in self._runs:
            if run.status is RunStatus.ON_COURSE and (
                since_start_us(run) > self._rules.drill.time_limit_us
            ):
                run.status = RunStatus.TIMED_OUT
                out.append(run.runner)
        return tuple(out)

    def crossing(self, event: _CrossEvent) -> Assignment:
        role, at = event.role, event.at
        number = len(self._slots)
        slot = Slot(role, at)
        self._slots.append(slot)
        self._time_out(lambda run: elapsed_us(run.started, at))
        chain = self._rules.chain
        if role not in chain:
            slot.reason = f"{role} is not a gate of {self._rules.drill.slug}"
            return self._assignment(number)
        index = chain.index(role)
        if index == 0:
            slot.reason = f"{role} is the start: starts come through start(), with the athlete"
            return self._assignment(number)
        candidates = self._candidates(index, at)
        if not candidates:
            slot.reason = f"nobody on the course is due at {role}"
            return self._assignment(number)
        chosen = candidates[0]
        wanted = self._forced.get(number)
        for run in candidates:
            if run.runner.number == wanted:
                chosen, slot.decided = run, number in self._settled
        alternative = next((r for r in candidates if r is not chosen), None)
        if not slot.decided:
            self._judge.doubt_alone(number, chosen, alternative, index, at)
            self._judge.doubt_pass(number, chosen, index, at)
        slot.runner = chosen
        chosen.passes.append(Pass(index, at, number))
        if index == len(chain) - 1:
            chosen.status = RunStatus.FINISHED
        self._judge.judge_again(index)
        return self._assignment(number)

    def _candidates(self, index: int, at: Stamp) -> list[RunnerState]:
        """Runners who may have made a crossing of gate `index` at `at`, FIFO first: the
        furthest along the course, then the earliest there."""

        def ahead(a: RunnerState, b: RunnerState) -> int:
            if a.last.index != b.last.index:
                return b.last.index - a.last.index
            later_us = elapsed_us(a.last.at, b.last.at)  # > 0: a got there first
            if later_us:
                return -1 if later_us > 0 else 1
            return a.runner.number - b.runner.number

        due = [
            run
            for run in self._runs
            if run.status is RunStatus.ON_COURSE
            and run.last.index < index
            and elapsed_us(run.last.at, at) > 0
        ]
        return sorted(due, key=cmp_to_key(ahead))
