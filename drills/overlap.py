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
  matched to those runners in every feasible way. If some matching makes their ratios agree
  better than the one they hold, by more than `pace_margin`, every crossing it would move is
  flagged, naming the runner it would go to. Ratios are compared with each other (spread
  around their median), not with 0, so a change everyone shares (accelerating out of the
  start, tiring) cancels out.

The coach answers a flag with `confirm(flag)` (keep it) or `swap(flag)` (the two runners
exchange their crossings of that gate). Decisions are stored against the crossings and the
whole course is recomputed from its log, so what follows from a swap (the order at later
gates, who finished, who timed out) follows consistently; decided crossings are not flagged
again.

Limits: a pass before the first gate after the start is seen only by the speed bound (no pace
exists yet). A pass is flagged only when paces show it: with steady paces, always once the
crossings of a gate are more than about 1 % of a segment time apart (0.5 % for a pass between
two runners); when athletes' own pace changes from split to split differ, a close pass can
fit as well one way as the other and goes unflagged. Two bodies through one beam within its
re-arm time make one crossing, not two (drills/crossing.py): the closest passes lose a
crossing instead. A runner who drops out keeps their place until their time limit, and the
crossings of whoever is behind go to them meanwhile. Crossings are taken in the order they are
fed: feed them in stamp order. Drills that pass one gate twice (shuttles) or branch (reactive
targets) are refused: per-gate FIFO cannot tell one runner's passes apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cmp_to_key
from itertools import permutations
from types import MappingProxyType

from drills.errors import EngineError
from drills.model import Drill, Movement, Segment, Timing
from drills.run_state import Crossing
from drills.timing import Stamp, elapsed_us

US_PER_S = 1_000_000

# Upper bounds on a runner's mean speed over one segment, per movement. All ASSUMED (no study
# gives a bound as such); they are ceilings, not norms, and sit above the fastest humans:
# - sprint: the fastest 10 m splits timed in 100 m races are about 12.3 m/s (elite men at top
#   speed); 12.5 leaves room for timing error. A turn segment is slower still.
# - backward running and backpedal: forward is 26-28 % faster than backward over 20 m
#   (Uthoff et al. 2018, Sports 6(3):77), so backward <= 12.5 / 1.26, about 10 m/s.
# - shuffle: no figure found; taken as no faster than backward running.
# - walk: race-walking world-record pace is about 4.3-4.5 m/s; backward walking
#   4.5 / 1.26, rounded to 3.5.
# A segment of several styles (`mixed`) takes the highest bound among its legs.
SPEED_LIMITS_MPS: Mapping[Movement, float] = MappingProxyType(
    {
        Movement.SPRINT: 12.5,
        Movement.TURN: 12.5,
        Movement.BACKWARD_RUN: 10.0,
        Movement.BACKPEDAL: 10.0,
        Movement.SHUFFLE: 10.0,
        Movement.WALK: 4.5,
        Movement.BACKWARD_WALK: 3.5,
    }
)

# How much better (in natural log of pace ratios) another matching must fit before a pass is
# flagged: 0.01, about 1 %. ASSUMED, and small on purpose: a missed pass is a wrong result no
# one sees, a needless flag costs the coach one tap. It keeps exact ties and rounding quiet.
# With steady paces a two-runner pass is flagged when the two cross the gate more than
# (e^(margin/2) - 1), about 0.5 %, of the slower runner's segment time apart.
PACE_MARGIN = 0.01
# At most this many crossings of one gate are matched together (6! = 720 matchings at most):
# more runners than that inside one segment at once would need a far shorter start spacing.
MAX_PASS_GROUP = 6


class RunStatus(StrEnum):
    ON_COURSE = "on_course"
    FINISHED = "finished"
    TIMED_OUT = "timed_out"


class Doubt(StrEnum):
    """Why a crossing's assignment needs the coach; the first listed is shown first."""

    TOO_FAST = "too_fast"
    MISSED_GATE = "missed_gate"
    PASS = "pass"


@dataclass(frozen=True)
class Runner:
    """One athlete's rep on the course; the same athlete may run several reps."""

    number: int  # 1-based, in start order on this course
    athlete: str

    def __str__(self) -> str:
        return f"{self.athlete} (#{self.number})"


@dataclass(frozen=True)
class Refused:
    """A start the course would not take; kept so the coach can see why."""

    athlete: str
    at: Stamp
    reason: str


@dataclass(frozen=True)
class Flag:
    """A doubtful assignment of crossing `crossing` to `runner`; `alternative` may own it.

    A pass flags every crossing of the gate that the better matching would move, each naming
    the runner it would go to; `other_crossing` is the crossing of that gate the alternative
    holds now (None if none yet). Answering one flag rules on that crossing alone: the others
    are judged again once it is settled.
    """

    crossing: int
    role: str
    runner: Runner
    alternative: Runner | None
    doubt: Doubt
    reason: str
    other_crossing: int | None = None


@dataclass(frozen=True)
class Assignment:
    """Where crossing number `crossing` (0-based, in the order fed) went, as things now stand."""

    crossing: int
    role: str
    at: Stamp
    runner: Runner | None  # None: nobody on the course could have made it (see `reason`)
    flag: Flag | None = None
    decided: bool = False  # the coach confirmed or swapped it: never flagged again
    reason: str | None = None


@dataclass(frozen=True)
class Run:
    """One runner's rep as things now stand: its crossings, start first, in running order,
    ready to feed a `RunEngine` for the splits."""

    runner: Runner
    status: RunStatus
    crossings: tuple[Crossing, ...]


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
        self._rules = _Rules(drill, min_start_spacing_us, limits, pace_margin)
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


@dataclass(frozen=True)
class _Rules:
    drill: Drill
    min_start_spacing_us: int
    speed_limits_mps: dict[Movement, float]
    pace_margin: float

    @property
    def chain(self) -> tuple[str, ...]:
        return self.drill.roles_in_order

    def distance_m(self, from_index: int, to_index: int) -> float:
        return sum(s.distance_m for s in self.drill.segments[from_index:to_index])

    def speed_limit_mps(self, from_index: int, to_index: int) -> float:
        return max(self._segment_limit(s) for s in self.drill.segments[from_index:to_index])

    def _segment_limit(self, segment: Segment) -> float:
        styles = [segment.movement]
        if segment.movement is Movement.MIXED:
            styles = [leg.movement for leg in segment.legs] or [Movement.SPRINT]
        return max(self.speed_limits_mps[m] for m in styles)


@dataclass(frozen=True)
class _Pass:
    index: int  # position of the gate in the drill's chain (0: the start)
    at: Stamp
    crossing: int | None  # None for the start


@dataclass
class _RunState:
    runner: Runner
    passes: list[_Pass]
    status: RunStatus = RunStatus.ON_COURSE

    @property
    def started(self) -> Stamp:
        return self.passes[0].at

    @property
    def last(self) -> _Pass:
        return self.passes[-1]

    def before(self, index: int) -> list[_Pass]:
        return [p for p in self.passes if p.index < index]


@dataclass
class _Slot:
    """One crossing as the replay has placed it."""

    role: str
    at: Stamp
    runner: _RunState | None = None
    decided: bool = False
    reason: str | None = None
    flags: list[tuple[tuple[int, float], Flag]] = field(default_factory=list)


_DOUBT_RANK = {Doubt.TOO_FAST: 0, Doubt.MISSED_GATE: 1, Doubt.PASS: 2}


class _State:
    """The course after some prefix of its log, with the coach's decisions applied."""

    def __init__(self, rules: _Rules, forced: Mapping[int, int], settled: AbstractSet[int]) -> None:
        self._rules = rules
        self._forced = forced
        self._settled = settled
        self._runs: list[_RunState] = []
        self._slots: list[_Slot] = []
        self.refused: list[Refused] = []
        self._last_start: _RunState | None = None

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
        run = _RunState(Runner(len(self._runs) + 1, athlete), [_Pass(0, at, None)])
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

    def _time_out(self, since_start_us: Callable[[_RunState], int]) -> tuple[Runner, ...]:
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
        slot = _Slot(role, at)
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
            self._doubt_alone(number, chosen, alternative, index, at)
            self._doubt_pass(number, chosen, index, at)
        slot.runner = chosen
        chosen.passes.append(_Pass(index, at, number))
        if index == len(chain) - 1:
            chosen.status = RunStatus.FINISHED
        return self._assignment(number)

    def _candidates(self, index: int, at: Stamp) -> list[_RunState]:
        """Runners who may have made a crossing of gate `index` at `at`, FIFO first: the
        furthest along the course, then the earliest there."""

        def ahead(a: _RunState, b: _RunState) -> int:
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

    # --- doubts --------------------------------------------------------------------------------

    def _flag(self, number: int, rank: float, flag: Flag) -> None:
        self._slots[number].flags.append(((_DOUBT_RANK[flag.doubt], rank), flag))

    def _doubt_alone(
        self, number: int, run: _RunState, alternative: _RunState | None, index: int, at: Stamp
    ) -> None:
        """Doubts that need only this crossing: a gate left out, a speed no human runs."""
        chain, last = self._rules.chain, run.last
        other = alternative.runner if alternative else None
        if last.index < index - 1:
            missed = ", ".join(chain[last.index + 1 : index])
            reason = (
                f"{run.runner} has no crossing of {missed}: a beam that missed them, or their "
                "crossing went to someone else"
            )
            self._flag(number, 0.0, Flag(number, chain[index], run.runner, other,
                                         Doubt.MISSED_GATE, reason))  # fmt: skip
        distance_m = self._rules.distance_m(last.index, index)
        speed_mps = distance_m / (elapsed_us(last.at, at) / US_PER_S)
        limit_mps = self._rules.speed_limit_mps(last.index, index)
        if speed_mps > limit_mps:
            reason = (
                f"{run.runner} would have run {chain[last.index]} to {chain[index]} "
                f"({distance_m:g} m) at {speed_mps:.1f} m/s, above the {limit_mps:g} m/s bound"
            )
            self._flag(number, -speed_mps, Flag(number, chain[index], run.runner, other,
                                                Doubt.TOO_FAST, reason))  # fmt: skip

    def _doubt_pass(self, number: int, run: _RunState, index: int, at: Stamp) -> None:
        """Match this crossing and the earlier undecided crossings of its gate that the same
        runners could have made to those runners in every feasible way. When the matching
        that best fits each runner's own earlier pace beats the one they hold by more than
        the margin, flag every crossing it would give to someone else."""
        group = self._group(number, run, index)
        if len(group) < 2:
            return
        role = self._rules.chain[index]
        runners = [r for _, r in group]
        fit = [[self._fit(r, index, self._slots[c].at) for r in runners] for c, _ in group]
        held = tuple(range(len(group)))  # crossing i is held by runner i
        best, best_spread = held, _spread([fit[i][i] for i in held])
        held_spread = best_spread
        for order in permutations(held):
            spread = _spread([fit[i][r] for i, r in enumerate(order)])
            if spread < best_spread:
                best, best_spread = order, spread
        gain = held_spread - best_spread
        if math.isinf(held_spread) or gain <= self._rules.pace_margin:
            return
        names = ", ".join(str(r.runner) for r in runners)
        for i, r in enumerate(best):
            if r == i:
                continue
            crossing, holder, other = group[i][0], runners[i], runners[r]
            reason = (
                f"{other.runner} fits this crossing better than {holder.runner} (a pass "
                f"before {role}?): matched that way, the paces of {names} since their last "
                f"gate differ from their earlier paces by {math.expm1(best_spread):.0%} in "
                f"all, instead of {math.expm1(held_spread):.0%}"
            )
            flag = Flag(crossing, role, holder.runner, other.runner, Doubt.PASS, reason,
                        other_crossing=group[r][0])  # fmt: skip
            self._flag(crossing, -gain, flag)

    def _group(self, number: int, run: _RunState, index: int) -> list[tuple[int, _RunState]]:
        """This crossing (to `run`) and the earlier undecided crossings of its gate that a
        runner in the group could have made, each with the runner holding it, oldest first;
        only runners with a pace, at most MAX_PASS_GROUP."""
        if self._expected_us(run, index) is None:
            return []
        role = self._rules.chain[index]
        group = [(number, run)]
        earliest = run.last.at  # the earliest any runner in the group left their last gate
        for earlier in range(number - 1, -1, -1):
            slot, other = self._slots[earlier], self._slots[earlier].runner
            if slot.role != role:
                continue
            if len(group) == MAX_PASS_GROUP or elapsed_us(earliest, slot.at) <= 0:
                break
            if other is None or slot.decided or self._expected_us(other, index) is None:
                continue
            group.append((earlier, other))
            their_last = other.before(index)[-1].at
            if elapsed_us(their_last, earliest) > 0:
                earliest = their_last
        return group[::-1]

    def _fit(self, run: _RunState, index: int, at: Stamp) -> float | None:
        """How far `run` crossing gate `index` at `at` is from its own earlier pace (a log
        ratio of times); None when it cannot have: before its previous gate, past its time
        limit, or after it crossed a later gate."""
        last = run.before(index)[-1]
        expected_us = self._expected_us(run, index)
        if expected_us is None or elapsed_us(last.at, at) <= 0:
            return None
        if elapsed_us(run.started, at) > self._rules.drill.time_limit_us:
            return None
        later = next((p for p in run.passes if p.index > index), None)
        if later is not None and elapsed_us(at, later.at) <= 0:
            return None
        return _log_ratio(elapsed_us(last.at, at), expected_us)

    def _expected_us(self, run: _RunState, index: int) -> float | None:
        """How long `run` should take from its last gate before `index` to gate `index` at its
        own mean pace so far; None before it has a timed segment."""
        last = run.before(index)[-1]
        if last.index == 0:
            return None
        ran_us = elapsed_us(run.started, last.at)
        if ran_us <= 0:
            return None
        pace_m_per_us = self._rules.distance_m(0, last.index) / ran_us
        return self._rules.distance_m(last.index, index) / pace_m_per_us


def _spread(fits: list[float | None]) -> float:
    """How far apart runners' pace ratios are: the sum of distances from their median, so a
    change every runner shares (all accelerating, all tiring) costs nothing. Infinite when a
    runner cannot have made its crossing."""
    values = sorted(f for f in fits if f is not None)
    if len(values) < len(fits):
        return math.inf
    middle = len(values) // 2
    median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    return sum(abs(v - median) for v in values)


def _log_ratio(actual_us: int, expected_us: float) -> float:
    """How far an actual time is from the expected one, symmetric for faster and slower."""
    return math.log(max(actual_us, 1) / expected_us)
