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
    # How well `mono_us` is known (None: exactly, as for a host-clock GO, or not said).
    sync_error_us: float | None = None
    # Mapped to host time from receipt times alone (a device with no clock query, such as a
    # Chronopic or a Timy): against another clock it is only as good as the receipt jitter.
    by_receipt: bool = False
    manual: bool = False  # a hand time (a Timy keypad impulse), not a beam
    # Placed by host receipt time because the device could not say when (a Chronopic interval
    # past its counter's range): against its neighbours it is only as good as the receipt.
    coarse: bool = False


def same_clock(a: Stamp, b: Stamp) -> bool:
    """Both stamps are ticks of one device clock, so their difference needs no mapping."""
    return (
        a.clock is not None and a.clock == b.clock and a.ticks is not None and b.ticks is not None
    )


def cross_device_error_us(a: Stamp, b: Stamp) -> int | None:
    """The error bound of b - a when it spans two clocks and one of them is mapped by receipt
    (its error is the receipt jitter, often milliseconds); None for any other pair, whose
    error is far below what a split shows."""
    if same_clock(a, b) or not (a.by_receipt or b.by_receipt):
        return None
    return round((a.sync_error_us or 0.0) + (b.sync_error_us or 0.0))


def elapsed_us(a: Stamp, b: Stamp) -> int:
    """b minus a, rounded to the nearest microsecond.

    When both come from the same device clock with ticks, use the tick difference divided by
    the rate (of b, the most recent estimate), because mapping each to host time separately
    would add the clock model's refit noise; otherwise the difference of mapped host times.
    """
    if same_clock(a, b):
        assert a.ticks is not None and b.ticks is not None
        rate = b.tick_hz
        if rate is not None and math.isfinite(rate) and rate > 0:
            return round((b.ticks - a.ticks) * 1_000_000 / rate)
    return b.mono_us - a.mono_us
