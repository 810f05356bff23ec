"""The time stamp the engine works with, independent of any device or driver."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Stamp:
    """When a gate or pod saw something.

    Carries both the host-mapped time and, when known, the raw device ticks: mapped times let
    events from different devices be compared, raw ticks give the cleanest difference when two
    events come from the same clock.
    """

    mono_us: int  # host monotonic microseconds (mapped from the device clock by the caller)
    clock: str | None = None  # id of the device clock that made it, e.g. "hub-7:boot-3"
    ticks: int | None = None  # raw device ticks (64-bit extended) on that clock
    tick_hz: float | None = None  # best estimate of that clock's real rate when stamped


def elapsed_us(a: Stamp, b: Stamp) -> int:
    """b minus a, rounded to the nearest microsecond.

    When both come from the same device clock with ticks, use the tick difference divided by
    the rate (of b, the most recent estimate), because mapping each to host time separately
    would add the clock model's refit noise; otherwise the difference of mapped host times.
    """
    if a.clock is not None and a.clock == b.clock and a.ticks is not None and b.ticks is not None:
        rate = b.tick_hz
        if rate is not None and math.isfinite(rate) and rate > 0:
            return round((b.ticks - a.ticks) * 1_000_000 / rate)
    return b.mono_us - a.mono_us
