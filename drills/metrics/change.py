"""Reliability and meaningful change: typical error, smallest worthwhile change, z and T
scores, and whether a result moved beyond the noise from the athlete's baseline."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from drills.metrics._inputs import ROUND_DECIMALS, positive


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
    baseline = positive(baseline, "baseline")
    current = positive(current, "current value")
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
        flagged=round(abs(change) - threshold, ROUND_DECIMALS) > 0,
        threshold=threshold,
    )
