"""The clock vocabulary: which clock a time is on, what its name ends with, and the one
conversion between device ticks and microseconds.

A leaf: it imports only the standard library, so the pure drills layer may use it too
(tests/test_layers.py holds it to that).

Names, by suffix:

- `_ticks`: a device's free-running counter, latched by the device itself; extended past its
  32-bit wrap on the host. Only meaningful with its clock (device and boot) and a rate.
- `nominal_tick_hz`: the rate the device declares in its HELLO (`tick_hz` on the wire and in
  the device status JSON: contracts, so they keep that name).
- `tick_hz_est`: the best estimate of that clock's real rate, from the clock fit (or the
  nominal rate while there is no fit). Splits on one clock divide by this one.
- `_mono_us`: host monotonic microseconds (`mono_us()` below). Comparable across devices;
  meaningless across host reboots, so never stored as a time of day. A DeviceEvent's
  `mono_us` is stored as column `mapped_mono_us`.
- `_wall`: wall-clock UTC, only on stored rows (`server.db.models.utc_now`), for people.

Received vs stamped: `received_mono_us` is when a record's bytes reached the host (the reader
thread's read); it says when the host heard, not when the beam broke. A stamp (`mono_us` of a
DeviceEvent or a drills Stamp) is the device's ticks mapped to host time by the clock fit;
drills.timing.TimeBasis says when a stamp rests on receipt instead.
"""

from __future__ import annotations

import time

US_PER_S = 1_000_000


def mono_us() -> int:
    """Host monotonic time in microseconds: the one host clock every layer stamps with."""
    return time.monotonic_ns() // 1000


def ticks_to_us(ticks: int, tick_hz: float) -> float:
    """A tick count (usually a difference of two) as microseconds at `tick_hz`.

    Multiplied before dividing so an integer tick count is converted with one rounding.
    """
    return ticks * US_PER_S / tick_hz


def us_to_ticks(us: float, tick_hz: float) -> float:
    """Microseconds as a tick count at `tick_hz`: the inverse of ticks_to_us."""
    return us * tick_hz / US_PER_S
