"""Device ticks to host monotonic time from receipt times alone (Chronopic, Timy).

Such a device has its own clock and no clock query: its timeline meets host time only when a
record arrives. A record's receipt is its device time plus an offset plus a transport delay
(the bytes' line time, a USB-serial bridge's latency timer, a late thread), and the delay only
ever adds. So the lower envelope of (device time, receipt - device time) over recent records is
the least-delayed line: its slope is the device's rate error, its height the offset.

The envelope line is the lower convex hull's edge above the records' mean device time: of all
lines under every point it is the one with the least total distance to them (the linear
program of Moon, Skelly and Towsley for one-way delay), so no single late record can pull it,
and an early record lowers it as soon as it arrives.

Pure: every time is passed in, nothing here reads a clock.
"""

from __future__ import annotations

from collections import deque
from itertools import pairwise
from typing import Final

from hardware.clock import ClockFit

# The window is a span of device time, not a count of records: a Chronopic's edges bunch into
# bursts during a run and stop for minutes between runs, so 64 records could span a second or
# an hour. Five minutes: the envelope's points sit within about a millisecond of the delay
# floor, and a millisecond over minutes pins the rate to a few ppm (over 60 s only to ~20 ppm,
# which then adds over the window); a crystal warms by far less than that in five minutes.
# The cost is that a step which leaves device time counting forward and the offset higher
# (a Timy clock set back between impulses) is forgotten only as the window passes; the caller
# calls reset() when it knows the device restarted.
WINDOW_US: Final = 300_000_000
# Bounds the work per record (the hull is rebuilt each time) for a device that floods.
MAX_RECORDS: Final = 1024
# Enough records that their spread above the envelope reaches the receipt jitter, so
# error_bound_us is honest from the start (with 8, a lucky few understated it now and then).
READY_RECORDS: Final = 16
# Under this span the slope is mostly jitter (16 ms over 30 s is 500 ppm): nominal rate.
MIN_RATE_SPAN_US: Final = 30_000_000
# No crystal is this far off.
MAX_RATE_PPM: Final = 1000.0
# Until READY_RECORDS have arrived their spread understates the jitter, so the bound is at
# least what one record may be late by: a USB-serial bridge's latency timer (16 ms on FTDI by
# default) plus a late reader thread.
UNSETTLED_ERROR_US: Final = 20_000.0
# The rate is trusted to this until the window spans MIN_RATE_SPAN_US (a crystal's tolerance).
NOMINAL_RATE_ERROR_PPM: Final = 100.0
# A record earlier than the envelope by more than any transport delay or rate error could
# explain: the device clock stepped forward (or the host slept: the monotonic clock stops
# across a suspend, the device's does not). The window restarts from that record.
STEP_US: Final = 250_000


class ReceiptClock:
    """Maps device ticks to host monotonic µs: device time plus the least-delayed offset."""

    def __init__(self, tick_us: int, min_delay_us: float = 0.0) -> None:
        """`min_delay_us`: the least time a record can take to arrive (its bytes' line time,
        5.2 ms for a Chronopic frame at 9600 baud), taken off the offset; what delay floor
        remains beyond it is not observable and is not in error_bound_us."""
        self.tick_us = tick_us
        self.min_delay_us = min_delay_us
        self.restarts = 0
        # (device_us, received_mono_us - device_us), oldest first
        self._points: deque[tuple[int, int]] = deque(maxlen=MAX_RECORDS)
        self._anchor_us = 0  # newest record's device time; the line is relative to it
        self._offset_us = 0.0  # the envelope's height at the anchor
        self._slope = 0.0  # d(receipt - device time) / d(device time)
        self._error_bound_us = 0.0

    @property
    def ready(self) -> bool:
        """Always: such a device times splits between its own edges from the first one (they
        need only its tick rate), and there is nothing to wait for, as no clock query exists.
        Its host mapping is as good as error_bound_us says; splits against another clock are
        marked cross-device with that bound (drills.timing.cross_device_error_us)."""
        return True

    @property
    def settled(self) -> bool:
        """Enough records that their spread above the envelope shows the receipt jitter."""
        return len(self._points) >= READY_RECORDS

    @property
    def sample_count(self) -> int:
        return len(self._points)

    @property
    def error_bound_us(self) -> float:
        """How far above the envelope records in the window arrived: the receipt jitter, an
        honest bound on how well this device's times agree with another device's (never less
        than UNSETTLED_ERROR_US before the clock has settled)."""
        if not self.settled:
            return max(self._error_bound_us, UNSETTLED_ERROR_US)
        return self._error_bound_us

    @property
    def fit(self) -> ClockFit | None:
        """The mapping as a ClockFit, anchored at the newest record, for code that reads any
        device's clock the same way (the devices page, cues); None before the first record."""
        if not self._points:
            return None
        anchor_ticks = self._anchor_us / self.tick_us
        span_us = self._points[-1][0] - self._points[0][0]
        rate_error_ppm = NOMINAL_RATE_ERROR_PPM
        if span_us >= MIN_RATE_SPAN_US:
            rate_error_ppm = max(1.0, 2 * self.error_bound_us / span_us * 1e6)
        return ClockFit(
            anchor_mono_us=self._anchor_us + self._offset_us - self.min_delay_us,
            anchor_ticks=anchor_ticks,
            ticks_per_us=1.0 / (self.tick_us * (1.0 + self._slope)),
            error_bound_us=self.error_bound_us,
            rate_error_ppm=rate_error_ppm,
        )

    @property
    def rate_ppm(self) -> float:
        """How fast the device clock runs against the host's (+80: 80 µs more per second)."""
        return -self._slope / (1.0 + self._slope) * 1e6

    def reset(self) -> None:
        """The device's timeline restarted: forget every record."""
        self._points.clear()

    def add(self, device_ticks: int, received_mono_us: int) -> None:
        device_us = device_ticks * self.tick_us
        residual_us = received_mono_us - device_us
        if self._points and (
            device_us < self._points[-1][0]  # a timeline never counts back: it restarted
            or residual_us < self._line_us(device_us) - STEP_US
        ):
            self.restarts += 1
            self._points.clear()
        self._points.append((device_us, residual_us))
        while device_us - self._points[0][0] > WINDOW_US:
            self._points.popleft()
        self._fit(device_us)

    def mono_us(self, device_ticks: int) -> float:
        if not self._points:
            raise ValueError("no record yet: device time has no host time")
        device_us = device_ticks * self.tick_us
        return device_us + self._line_us(device_us) - self.min_delay_us

    def _line_us(self, device_us: int) -> float:
        return self._offset_us + self._slope * (device_us - self._anchor_us)

    def _fit(self, anchor_us: int) -> None:
        # Relative to the newest record, so floats stay exact far below 1 µs.
        pts = sorted((float(x - anchor_us), float(y)) for x, y in self._points)
        slope = 0.0
        if pts[-1][0] - pts[0][0] >= MIN_RATE_SPAN_US:
            slope = _envelope_slope(pts)
            limit = MAX_RATE_PPM * 1e-6
            slope = min(max(slope, -limit), limit)
        self._anchor_us, self._slope = anchor_us, slope
        self._offset_us = min(y - slope * x for x, y in pts)
        self._error_bound_us = max(y - slope * x for x, y in pts) - self._offset_us


def _envelope_slope(pts: list[tuple[float, float]]) -> float:
    """Slope of the lower hull's edge above the points' mean x (`pts` sorted by x)."""
    hull: list[tuple[float, float]] = []
    for p in pts:
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) <= 0:
            hull.pop()
        hull.append(p)
    x_mean = sum(x for x, _ in pts) / len(pts)
    for a, b in pairwise(hull):
        if b[0] >= x_mean and b[0] > a[0]:
            return (b[1] - a[1]) / (b[0] - a[0])
    return 0.0


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
