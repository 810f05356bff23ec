"""Repeated sprint ability: a set's totals first, then its fatigue scores with their caveat."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from drills.metrics._inputs import checked_times

RSA_CAVEAT = (
    "Sprint decrement and fatigue index are unreliable: both show poor test-retest "
    "reliability in the published literature (low ICCs, large CVs), and the fatigue index "
    "rests on two reps only, the fastest and the slowest. Read total and mean time first and "
    "these scores second."
)


def sprint_decrement_pct(times_s: Sequence[float]) -> float:
    """Sdec = 100 x (sum / (best x n) - 1): how far the set fell short of all-best reps.

    Uses every rep, which makes it the less fragile of the two fatigue scores; it is still
    unreliable (see RSA_CAVEAT). Needs at least two reps: ValueError otherwise.
    """
    times = checked_times(times_s, "sprint decrement")
    if len(times) < 2:
        raise ValueError("sprint decrement needs at least 2 reps")
    return 100.0 * (math.fsum(times) / (min(times) * len(times)) - 1.0)


def fatigue_index_pct(times_s: Sequence[float]) -> float:
    """FI = 100 x (slowest - fastest) / fastest.

    Rests on two reps only, so one stumble moves it a lot; read it after total and mean
    time. Needs at least two reps: ValueError otherwise.
    """
    times = checked_times(times_s, "fatigue index")
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
    times = checked_times(times_s, "RSA summary")
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
