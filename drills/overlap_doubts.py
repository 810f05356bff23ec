"""Why a crossing's first-in-first-out answer is doubted, and the records a course keeps.

Kept apart from the course (drills/overlap.py, which states the rule and holds the log, its
replay and the coach's decisions): the doubts (a speed no human runs, a gate left out, a
pass the runners' own paces show) and their bounds are most of the code, and they only read
the replay's records and flag its crossings, never place one. The answer types (Runner, Flag,
Assignment and the rest) and the bounds a caller may change (SPEED_LIMITS_MPS, PACE_MARGIN)
live here so this module needs nothing from drills/overlap.py, which re-exports them: import
them from there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import permutations
from types import MappingProxyType

from drills.model import Drill, Movement, Segment
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


# --- what the replay keeps ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
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
class Pass:
    index: int  # position of the gate in the drill's chain (0: the start)
    at: Stamp
    crossing: int | None  # None for the start


@dataclass
class RunnerState:
    runner: Runner
    passes: list[Pass]
    status: RunStatus = RunStatus.ON_COURSE

    @property
    def started(self) -> Stamp:
        return self.passes[0].at

    @property
    def last(self) -> Pass:
        return self.passes[-1]

    def before(self, index: int) -> list[Pass]:
        return [p for p in self.passes if p.index < index]


@dataclass
class Slot:
    """One crossing as the replay has placed it."""

    role: str
    at: Stamp
    runner: RunnerState | None = None
    decided: bool = False
    reason: str | None = None
    flags: list[tuple[tuple[int, float], Flag]] = field(default_factory=list)


# --- doubts ------------------------------------------------------------------------------------

_DOUBT_RANK = {Doubt.TOO_FAST: 0, Doubt.MISSED_GATE: 1, Doubt.PASS: 2}


class Judge:
    """The doubts about the runner a crossing went to, flagged on its slot for the coach."""

    def __init__(self, rules: Rules, slots: list[Slot]) -> None:
        self._rules = rules
        self._slots = slots  # the replay's own list, not a copy: it grows as crossings come

    def _flag(self, number: int, rank: float, flag: Flag) -> None:
        self._slots[number].flags.append(((_DOUBT_RANK[flag.doubt], rank), flag))

    def doubt_alone(
        self, number: int, run: RunnerState, alternative: RunnerState | None, index: int, at: Stamp
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

    def doubt_pass(self, number: int, run: RunnerState, index: int, at: Stamp) -> None:
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

    def _group(self, number: int, run: RunnerState, index: int) -> list[tuple[int, RunnerState]]:
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

    def _fit(self, run: RunnerState, index: int, at: Stamp) -> float | None:
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

    def _expected_us(self, run: RunnerState, index: int) -> float | None:
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
