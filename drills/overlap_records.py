"""The records of a course with several runners on it: the answer types (Runner, Flag,
Assignment and the rest), what the replay keeps per runner and crossing, and the bounds a
caller may change (SPEED_LIMITS_MPS, PACE_MARGIN).

Kept apart from the course (drills/overlap.py, the rule, the log and its replay) and from the
doubts (drills/overlap_doubts.py) so that neither needs the other; drills/overlap.py
re-exports the answer types: import them from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from drills.model import Drill, Movement, Segment
from drills.run_state import Crossing
from drills.timing import Stamp

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
    # Never raised by the course itself: a runner timed out short of a gate that was broken
    # again inside the re-arm just after someone else's crossing (server/runs/course_lane.py).
    MERGED = "merged"


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
