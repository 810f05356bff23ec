"""One athlete's reps on one drill: which count, and their best, mean and variability."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from drills.metrics._inputs import checked_times


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
    return min(checked_times(times_s, "best"))


def mean(times_s: Sequence[float]) -> float:
    """Arithmetic mean time; raises ValueError on an empty list."""
    return statistics.fmean(checked_times(times_s, "mean"))


def cv_pct(times_s: Sequence[float]) -> float | None:
    """Coefficient of variation, 100 x sample SD / mean, over the reps given.

    Returns None for fewer than two reps: one rep has no spread, and an athlete who ran one
    valid rep is a normal day, not an error. Uses the sample SD (n - 1) because a session's
    reps are a sample of what the athlete can do. Raises ValueError on an empty list.
    """
    times = checked_times(times_s, "cv_pct")
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
