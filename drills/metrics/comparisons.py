"""Comparisons between two drills of one athlete: the change-of-direction deficit and the
left/right asymmetry of mirrored drills."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from drills.metrics._inputs import ROUND_DECIMALS, positive

ASYMMETRY_FLAG_PCT = 10.0
"""Side-to-side difference (percent of the better side) from which asymmetry is flagged.

10 % is the threshold Dos'Santos et al. used for 505 time and COD deficit; it is a convention
for drawing attention, not a proven injury-risk cut-off.
"""


def cod_deficit(time_505_s: float, sprint_10m_s: float) -> float:
    """505 time minus 10 m sprint time: the time the turn costs beyond straight speed.

    Both times must come from the same session, since fatigue and surface shift both. The
    deficit isolates turning ability that a 505 total hides in fast sprinters. A negative
    deficit is returned as is; it usually means a timing or set-up problem worth checking.
    """
    return positive(time_505_s, "505 time") - positive(sprint_10m_s, "10 m sprint time")


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
    left = positive(left, "left value")
    right = positive(right, "right value")
    if left == right:
        return Asymmetry(pct=0.0, flagged=False, worse=None)
    left_worse = left > right if lower_is_better else left < right
    worse_value, better_value = (left, right) if left_worse else (right, left)
    pct = 100.0 * abs(worse_value - better_value) / better_value
    flagged = round(pct, ROUND_DECIMALS) >= ASYMMETRY_FLAG_PCT
    return Asymmetry(pct=pct, flagged=flagged, worse=Side.LEFT if left_worse else Side.RIGHT)
