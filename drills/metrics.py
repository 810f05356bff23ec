"""Report metrics for timed drills: pure arithmetic, no I/O, standard library only.

Every time here is a float number of **seconds** (names end in `_s`); the run engine's integer
microseconds are converted by the caller. Distances are metres, percentages are 0-100.

Two ways of saying "not enough data", chosen per function and stated in each docstring:

- `None` where too little data is an ordinary outcome of a session (the CV of an athlete who
  ran one valid rep, a summary of reps that were all voided). A report shows a dash.
- `ValueError` where a value cannot be computed from what was passed (an empty list, a zero
  or negative time, a typical error from one pair). Those are caller mistakes or bad data,
  and a report built on them would mislead, so they fail loudly.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from drills.model import Direction

ASYMMETRY_FLAG_PCT = 10.0
"""Side-to-side difference (percent of the better side) from which asymmetry is flagged.

10 % is the threshold Dos'Santos et al. used for 505 time and COD deficit; it is a convention
for drawing attention, not a proven injury-risk cut-off.
"""

RSA_CAVEAT = (
    "Sprint decrement and fatigue index are unreliable: both show poor test-retest "
    "reliability in the published literature (low ICCs, large CVs), and the fatigue index "
    "rests on two reps only, the fastest and the slowest. Read total and mean time first and "
    "these scores second."
)

# Values are compared with a threshold after rounding to this many decimals, so that binary
# floating point (2.2 / 2.0 is not exactly 1.1) never decides a boundary case.
_ROUND_DECIMALS = 9


def _checked_times(times_s: Iterable[float], what: str) -> list[float]:
    """The times as a list, refusing an empty input and any time that is not positive."""
    out = [float(t) for t in times_s]
    if not out:
        raise ValueError(f"{what}: no times given")
    for i, t in enumerate(out):
        if not math.isfinite(t) or t <= 0:
            raise ValueError(f"{what}: time #{i + 1} must be a positive number of seconds, got {t}")
    return out


def _positive(value: float, name: str) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value}")
    return float(value)


# --- reps, best, mean, CV --------------------------------------------------------------------


@dataclass(frozen=True)
class RepTime:
    """One rep's total time with the tags that keep it out of bests and averages.

    Voided reps (a coach's call), familiarisation reps (practice: backward running improves
    from trial 1 to 2) and false starts all stay in the session log but must never count.
    """

    total_s: float
    void: bool = False
    familiarisation: bool = False
    false_start: bool = False

    @property
    def valid(self) -> bool:
        """True when the rep counts towards bests, means and variability."""
        return not (self.void or self.familiarisation or self.false_start)


def valid_reps(reps: Iterable[RepTime]) -> list[RepTime]:
    """The reps that count, in their original order (order matters for fatigue reading)."""
    return [rep for rep in reps if rep.valid]


def valid_times(reps: Iterable[RepTime]) -> list[float]:
    """Total times of the reps that count, in order; may be empty (all reps voided)."""
    return [rep.total_s for rep in valid_reps(reps)]


def best(times_s: Sequence[float]) -> float:
    """Fastest time. For times lower is better, so this is the minimum.

    Raises ValueError on an empty list: a best of nothing is a caller bug, not a dash.
    """
    return min(_checked_times(times_s, "best"))


def mean(times_s: Sequence[float]) -> float:
    """Arithmetic mean time; raises ValueError on an empty list."""
    return statistics.fmean(_checked_times(times_s, "mean"))


def cv_pct(times_s: Sequence[float]) -> float | None:
    """Coefficient of variation, 100 x sample SD / mean, over the reps given.

    Returns None for fewer than two reps: one rep has no spread, and an athlete who ran one
    valid rep is a normal day, not an error. Uses the sample SD (n - 1) because a session's
    reps are a sample of what the athlete can do. Raises ValueError on an empty list.
    """
    times = _checked_times(times_s, "cv_pct")
    if len(times) < 2:
        return None
    return 100.0 * statistics.stdev(times) / statistics.fmean(times)


@dataclass(frozen=True)
class RepSummary:
    """Best, mean and CV over the valid reps of one athlete on one drill."""

    n: int
    best_s: float
    mean_s: float
    cv_pct: float | None


def summarise_reps(reps: Iterable[RepTime]) -> RepSummary | None:
    """Summary over valid reps only; None when no rep is valid (all voided is a normal case)."""
    times = valid_times(reps)
    if not times:
        return None
    return RepSummary(n=len(times), best_s=best(times), mean_s=mean(times), cv_pct=cv_pct(times))


# --- splits ----------------------------------------------------------------------------------


def interval_splits(cumulative_s: Sequence[float]) -> list[float]:
    """Per-split times from cumulative gate times (each measured from the start).

    Gates report time since the start; velocities need the time spent in each split. A
    split that does not move forward in time is refused, since it means a gate mix-up.
    """
    times = [float(t) for t in cumulative_s]
    if not times:
        raise ValueError("interval_splits: no times given")
    out: list[float] = []
    previous = 0.0
    for i, t in enumerate(times):
        if not math.isfinite(t) or t <= previous:
            raise ValueError(
                f"interval_splits: cumulative time #{i + 1} ({t}) must be later than the "
                f"one before it ({previous})"
            )
        out.append(t - previous)
        previous = t
    return out


def split_velocities(distances_m: Sequence[float], splits_s: Sequence[float]) -> list[float]:
    """Mean velocity (m/s) of each split: distance_m / split_s, pairwise.

    Inputs are per split, not cumulative (see `interval_splits`). A mean over a split hides
    acceleration inside it, so short splits near the start read low; that is physics, not
    a fault. Zero or negative times or distances raise ValueError naming the split.
    """
    if len(distances_m) != len(splits_s):
        raise ValueError(
            f"split_velocities: {len(distances_m)} distance(s) but {len(splits_s)} time(s)"
        )
    if not splits_s:
        raise ValueError("split_velocities: no splits given")
    out: list[float] = []
    for i, (d, t) in enumerate(zip(distances_m, splits_s, strict=True)):
        if not math.isfinite(t) or t <= 0:
            raise ValueError(f"split_velocities: split #{i + 1} time must be positive, got {t}")
        if not math.isfinite(d) or d <= 0:
            raise ValueError(f"split_velocities: split #{i + 1} distance must be positive, got {d}")
        out.append(d / t)
    return out


# --- reaction and movement time --------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """One reactive response: stimulus to first movement, then first movement to the touch.

    Kept apart because they train differently: a slow reaction is a perception or decision
    problem, a slow movement a speed problem; their sum hides which.
    """

    reaction_s: float
    movement_s: float

    @property
    def total_s(self) -> float:
        """Stimulus to touch: what most published reactive-agility times measure."""
        return self.reaction_s + self.movement_s


@dataclass(frozen=True)
class ReactionSummary:
    """Mean and best of reaction, movement and total time over a set of responses."""

    n: int
    reaction_mean_s: float
    reaction_best_s: float
    movement_mean_s: float
    movement_best_s: float
    total_mean_s: float
    total_best_s: float


def reaction_summary(responses: Sequence[Response]) -> ReactionSummary:
    """Mean and best of each part over the responses given (pass correct go-responses only).

    The best reaction and the best movement may come from different responses, so
    best reaction + best movement can be less than the best total; report them as such.
    Raises ValueError for no responses and for negative or zero times: a reaction before
    the stimulus is an anticipation, which the caller should have tagged and left out.
    """
    if not responses:
        raise ValueError("reaction_summary: no responses given")
    reaction = _checked_times((r.reaction_s for r in responses), "reaction time")
    movement = _checked_times((r.movement_s for r in responses), "movement time")
    total = [r + m for r, m in zip(reaction, movement, strict=True)]
    return ReactionSummary(
        n=len(responses),
        reaction_mean_s=statistics.fmean(reaction),
        reaction_best_s=min(reaction),
        movement_mean_s=statistics.fmean(movement),
        movement_best_s=min(movement),
        total_mean_s=statistics.fmean(total),
        total_best_s=min(total),
    )


# --- change-of-direction deficit -------------------------------------------------------------


def cod_deficit(time_505_s: float, sprint_10m_s: float) -> float:
    """505 time minus 10 m sprint time: the time the turn costs beyond straight speed.

    Both times must come from the same session, since fatigue and surface shift both. The
    deficit isolates turning ability that a 505 total hides in fast sprinters. A negative
    deficit is returned as is; it usually means a timing or set-up problem worth checking.
    """
    return _positive(time_505_s, "505 time") - _positive(sprint_10m_s, "10 m sprint time")


def cod_deficits(
    best_505_by_side: Mapping[str, float], sprint_10m_best_s: float
) -> dict[str, float]:
    """Deficit per turning side (e.g. 'left', 'right') against one 10 m sprint best.

    One straight sprint serves both sides, so side-to-side differences in the deficit come
    from the turns alone. Raises ValueError when no side is given.
    """
    if not best_505_by_side:
        raise ValueError("cod_deficits: no 505 times given")
    return {side: cod_deficit(t, sprint_10m_best_s) for side, t in best_505_by_side.items()}


# --- asymmetry -------------------------------------------------------------------------------


class Side(StrEnum):
    """Which side a bilateral comparison found worse."""

    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True)
class Asymmetry:
    """Percent difference between sides, whether it reaches the flag, and the worse side."""

    pct: float
    flagged: bool
    worse: Side | None  # None when both sides are equal


def asymmetry(left: float, right: float, *, lower_is_better: bool = True) -> Asymmetry:
    """100 x (worse - better) / better, flagged at ASYMMETRY_FLAG_PCT or more.

    The better side is the denominator (stated because formulas in the literature differ,
    and the choice changes the number). For times the worse side is the slower one. The
    same percentage on COD deficit is much larger than on 505 time, so say which was used.
    Both values must be positive.
    """
    left = _positive(left, "left value")
    right = _positive(right, "right value")
    if left == right:
        return Asymmetry(pct=0.0, flagged=False, worse=None)
    left_worse = left > right if lower_is_better else left < right
    worse_value, better_value = (left, right) if left_worse else (right, left)
    pct = 100.0 * abs(worse_value - better_value) / better_value
    flagged = round(pct, _ROUND_DECIMALS) >= ASYMMETRY_FLAG_PCT
    return Asymmetry(pct=pct, flagged=flagged, worse=Side.LEFT if left_worse else Side.RIGHT)


# --- forward:backward ------------------------------------------------------------------------


def forward_backward_ratio(forward_s: float, backward_s: float) -> float:
    """Backward time / forward time over the same distance, start and day.

    Above 1 means backward is slower (the usual case, by about a quarter in adolescents).
    Only comparable between drills that differ in direction alone.
    """
    return _positive(backward_s, "backward time") / _positive(forward_s, "forward time")


@dataclass(frozen=True)
class DirectionalRep:
    """One rep of a forward or backward drill, tagged with what pairs it with its twin."""

    athlete: str
    day: date
    distance_m: float
    direction: Direction
    rep: RepTime


@dataclass(frozen=True)
class ForwardBackward:
    """The paired bests of one athlete on one day over one distance, and their ratio."""

    athlete: str
    day: date
    distance_m: float
    forward_best_s: float
    backward_best_s: float
    ratio: float


def pair_forward_backward(reps: Iterable[DirectionalRep]) -> list[ForwardBackward]:
    """Ratio of bests for every (athlete, day, distance) that has both directions.

    Invalid reps are left out here, so a voided or practice rep can never become a best.
    Groups with only one direction are skipped (a normal case: the backward run was not
    done that day). Distances are matched to the millimetre. Mixed-direction drills have
    no forward:backward meaning and raise ValueError. Sorted by athlete, day, distance.
    """
    bests: dict[tuple[str, date, float], dict[Direction, float]] = {}
    for item in reps:
        if item.direction is Direction.MIXED:
            raise ValueError(
                f"pair_forward_backward: a mixed-direction rep ({item.athlete}, {item.day}) "
                "has no forward or backward twin"
            )
        if not item.rep.valid:
            continue
        key = (item.athlete, item.day, round(item.distance_m, 3))
        by_direction = bests.setdefault(key, {})
        time_s = _positive(item.rep.total_s, "rep time")
        previous = by_direction.get(item.direction)
        by_direction[item.direction] = time_s if previous is None else min(previous, time_s)
    out: list[ForwardBackward] = []
    for (athlete, day, distance), by_direction in sorted(bests.items()):
        forward = by_direction.get(Direction.FORWARD)
        backward = by_direction.get(Direction.BACKWARD)
        if forward is None or backward is None:
            continue
        out.append(
            ForwardBackward(
                athlete=athlete,
                day=day,
                distance_m=distance,
                forward_best_s=forward,
                backward_best_s=backward,
                ratio=forward_backward_ratio(forward, backward),
            )
        )
    return out


# --- repeated sprint ability -----------------------------------------------------------------


def sprint_decrement_pct(times_s: Sequence[float]) -> float:
    """Sdec = 100 x (sum / (best x n) - 1): how far the set fell short of all-best reps.

    Uses every rep, which makes it the less fragile of the two fatigue scores; it is still
    unreliable (see RSA_CAVEAT). Needs at least two reps: ValueError otherwise.
    """
    times = _checked_times(times_s, "sprint decrement")
    if len(times) < 2:
        raise ValueError("sprint decrement needs at least 2 reps")
    return 100.0 * (math.fsum(times) / (min(times) * len(times)) - 1.0)


def fatigue_index_pct(times_s: Sequence[float]) -> float:
    """FI = 100 x (slowest - fastest) / fastest.

    Rests on two reps only, so one stumble moves it a lot; read it after total and mean
    time. Needs at least two reps: ValueError otherwise.
    """
    times = _checked_times(times_s, "fatigue index")
    if len(times) < 2:
        raise ValueError("fatigue index needs at least 2 reps")
    fastest = min(times)
    return 100.0 * (max(times) - fastest) / fastest


@dataclass(frozen=True)
class RsaSummary:
    """A repeated-sprint set in the order a report should show it: totals before scores."""

    n: int
    total_s: float
    mean_s: float
    best_s: float
    sprint_decrement_pct: float
    fatigue_index_pct: float
    caveat: str = RSA_CAVEAT


def rsa_summary(times_s: Sequence[float]) -> RsaSummary:
    """Total, mean and best time, then Sdec and FI, with the reliability caveat attached.

    Pass the sprint times of one set. A set with a voided rep is not comparable with a full
    set on total time; `n` is returned so a report can show it. Needs at least two reps.
    """
    times = _checked_times(times_s, "RSA summary")
    if len(times) < 2:
        raise ValueError("an RSA summary needs at least 2 reps")
    return RsaSummary(
        n=len(times),
        total_s=math.fsum(times),
        mean_s=statistics.fmean(times),
        best_s=min(times),
        sprint_decrement_pct=sprint_decrement_pct(times),
        fatigue_index_pct=fatigue_index_pct(times),
    )


# --- reliability and meaningful change -------------------------------------------------------


def typical_error(trial1_s: Sequence[float], trial2_s: Sequence[float]) -> float:
    """TE = SD(trial2 - trial1) / sqrt(2), sample SD, over athletes tested twice.

    The noise of one measurement: differences between two trials contain the noise twice,
    hence the sqrt(2). Trials must be paired by athlete, in the same order. A systematic
    learning effect between trials shifts the mean difference but not TE. Needs at least
    two pairs (ValueError otherwise): TE is a reference value judged against, so a missing
    one must be noticed, not shown as a dash.
    """
    if len(trial1_s) != len(trial2_s):
        raise ValueError(
            f"typical_error: {len(trial1_s)} first trial(s) but {len(trial2_s)} second trial(s)"
        )
    if len(trial1_s) < 2:
        raise ValueError("typical_error needs at least 2 athletes with two trials each")
    diffs = [b - a for a, b in zip(trial1_s, trial2_s, strict=True)]
    return statistics.stdev(diffs) / math.sqrt(2.0)


def smallest_worthwhile_change(values: Sequence[float], effect: float = 0.2) -> float:
    """SWC = 0.2 x between-athlete SD (sample SD): Hopkins' smallest effect worth noticing.

    `effect` 0.5 and 0.8 give moderate and large changes. Taken from one group, so it only
    applies to that group on that test. Needs at least two athletes (ValueError otherwise).
    """
    if len(values) < 2:
        raise ValueError("smallest_worthwhile_change needs values from at least 2 athletes")
    if effect <= 0:
        raise ValueError(f"effect must be positive, got {effect}")
    return effect * statistics.stdev(values)


def z_score(value: float, mean: float, sd: float, *, lower_is_better: bool = True) -> float:
    """Standard score signed so that positive is always better.

    For times (lower is better) z = (mean - x) / SD, so a fast athlete gets a positive z
    and tables mixing times and distances read the same way. SD must be positive.
    """
    if not math.isfinite(sd) or sd <= 0:
        raise ValueError(f"z_score: SD must be positive, got {sd}")
    raw = (value - mean) / sd
    return -raw if lower_is_better else raw


def t_score(z: float) -> float:
    """T = 50 + 10 z: the same information as z on a scale without negative numbers."""
    return 50.0 + 10.0 * z


def z_scores(values: Sequence[float], *, lower_is_better: bool = True) -> list[float]:
    """Each value's z within its own group (sample mean and SD), positive = better.

    Needs at least two values that are not all equal; ValueError otherwise, since a
    group without spread has no scale to score on.
    """
    if len(values) < 2:
        raise ValueError("z_scores needs at least 2 values")
    centre = statistics.fmean(values)
    sd = statistics.stdev(values)
    if sd == 0:
        raise ValueError("z_scores: all values are equal, so the SD is 0")
    return [z_score(v, centre, sd, lower_is_better=lower_is_better) for v in values]


class ChangeDirection(StrEnum):
    """Whether a result moved the good way or the bad way from the baseline."""

    IMPROVED = "improved"
    WORSE = "worse"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class BaselineChange:
    """Change from the athlete's own baseline and whether it stands out from the noise.

    `change` is current - baseline in the measure's unit (negative is faster for times).
    `direction` describes the sign alone; only `flagged` says the change is worth reporting.
    """

    change: float
    change_pct: float
    direction: ChangeDirection
    flagged: bool
    threshold: float  # the larger of SWC and TE: what |change| had to exceed


def baseline_change(
    baseline: float,
    current: float,
    *,
    swc: float,
    typical_error: float,
    lower_is_better: bool = True,
) -> BaselineChange:
    """Compare a result with the athlete's baseline; flag it only past both SWC and TE.

    Past SWC alone could be noise when the test is noisier than the smallest worthwhile
    change (TE > SWC, common for agility tests); past TE alone could be real but trivial.
    "Exceeds" is strict: a change equal to the threshold is not flagged (compared after
    rounding to 1e-9, so 4.10 - 4.05 counts as exactly 0.05).
    """
    baseline = _positive(baseline, "baseline")
    current = _positive(current, "current value")
    if swc < 0 or typical_error < 0:
        raise ValueError("baseline_change: SWC and typical error must not be negative")
    change = current - baseline
    if change == 0:
        direction = ChangeDirection.UNCHANGED
    elif (change < 0) == lower_is_better:
        direction = ChangeDirection.IMPROVED
    else:
        direction = ChangeDirection.WORSE
    threshold = max(swc, typical_error)
    return BaselineChange(
        change=change,
        change_pct=100.0 * change / baseline,
        direction=direction,
        flagged=round(abs(change) - threshold, _ROUND_DECIMALS) > 0,
        threshold=threshold,
    )
