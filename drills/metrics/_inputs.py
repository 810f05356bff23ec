"""Checks shared by the metrics: a time must be a positive number of seconds."""

from __future__ import annotations

import math
from collections.abc import Iterable

# Values are compared with a threshold after rounding to this many decimals, so that binary
# floating point (2.2 / 2.0 is not exactly 1.1) never decides a boundary case.
ROUND_DECIMALS = 9


def checked_times(times_s: Iterable[float], what: str) -> list[float]:
    """The times as a list, refusing an empty input and any time that is not positive."""
    out = [float(t) for t in times_s]
    if not out:
        raise ValueError(f"{what}: no times given")
    for i, t in enumerate(out):
        if not math.isfinite(t) or t <= 0:
            raise ValueError(f"{what}: time #{i + 1} must be a positive number of seconds, got {t}")
    return out


def positive(value: float, name: str) -> float:
    """The value as a float, refusing zero, negative and non-finite seconds by `name`."""
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value}")
    return float(value)
