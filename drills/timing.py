"""The time stamp the engine works with, independent of any device or driver.

The names follow hardware/timebase.py, the one leaf of the hardware layer drills may import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from hardware.timebase import ticks_to_us


class TimeBasis(Enum):
    """What a stamp's `mono_us` rests on, so a split can say how far to trust it."""

    # Device ticks mapped by a PING/PONG clock fit: good to the fit's error bound.
    DEVICE_FIT = "device_fit"
    # Device ticks mapped by a fit of receipt times alone (a Chronopic or a Timy, which have
    # no clock query): against another clock only as good as the receipt jitter.
    RECEIPT_FIT = "receipt_fit"
    # No fit yet: the host's receipt time of the event's bytes stands in for the stamp.
    RECEIPT_ONLY = "receipt_only"
    # Read from the host clock itself, e.g. a coach's GO.
    HOST = "host"

    @classmethod
    def of_device(cls, mapped_mono_us: int | None, by_receipt: bool) -> TimeBasis:
        """A device event's basis, from its mapped time (None: no fit yet) and whether its
        clock is fitted from receipt times."""
        if mapped_mono_us is None:
            return cls.RECEIPT_ONLY
        return cls.RECEIPT_FIT if by_receipt else cls.DEVICE_FIT


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
    tick_hz_est: float | None = None  # best estimate of that clock's real rate when stamped
    # How well `mono_us` is known (None: exactly, as for a host-clock GO, or not said).
    sync_error_us: float | None = None
    # What `mono_us` rests on; a stamp made from the host clock (a GO) must say HOST.
    basis: TimeBasis = TimeBasis.DEVICE_FIT
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
    if same_clock(a, b) or TimeBasis.RECEIPT_FIT not in (a.basis, b.basis):
        return None
    return round((a.sync_error_us or 0.0) + (b.sync_error_us or 0.0))


def placed_by_receipt(a: Stamp, b: Stamp) -> bool:
    """Whether b - a rests on a host receipt time instead of a device's own: an end placed by
    receipt (coarse), or, across clocks, an end whose device had no clock fit yet. One device
    clock's ticks need no fit, so such a split stays exact."""
    if a.coarse or b.coarse:
        return True
    return not same_clock(a, b) and TimeBasis.RECEIPT_ONLY in (a.basis, b.basis)


def elapsed_us(a: Stamp, b: Stamp) -> int:
    """b minus a, rounded to the nearest microsecond.

    When both come from the same device clock with ticks, use the tick difference divided by
    the rate (of b, the most recent estimate), because mapping each to host time separately
    would add the clock model's refit noise; otherwise the difference of mapped host times.
    """
    if same_clock(a, b):
        assert a.ticks is not None and b.ticks is not None
        rate = b.tick_hz_est
        if rate is not None and math.isfinite(rate) and rate > 0:
            return round(ticks_to_us(b.ticks - a.ticks, rate))
    return b.mono_us - a.mono_us
