"""The one place that converts device ticks to host monotonic time.

Names say which clock a number belongs to: `_ticks` (device counter), `_mono_us` (host
monotonic microseconds). Each device gets a ClockModel fed with PING/PONG exchanges; the
model fits ticks against host time, trusting the exchanges with the shortest round trip,
because a short round trip bounds how far the device's reading can be from the midpoint.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from hardware.counters import Unwrapper

# Below this span of samples a fitted rate is noisier than the crystal's tolerance, so the
# nominal rate is used; above it the fit wins (a cheap crystal is off by up to ~100 ppm).
MIN_FIT_SPAN_US = 8_000_000
# Round trips kept for fitting, and the share of them (shortest first) that is trusted.
WINDOW = 96
TRUSTED_SHARE = 0.4
MIN_SAMPLES_READY = 4
# A fitted rate further than this from nominal is a bad fit, not a real crystal.
MAX_RATE_ERROR_PPM = 1000.0


class TickExtender(Unwrapper):
    """Extends the 32-bit tick counter on the wire to 64 bits (PROTOCOL.md section 4.4)."""

    def __init__(self) -> None:
        super().__init__(32)


@dataclass(frozen=True)
class ClockSample:
    sent_mono_us: int
    recv_mono_us: int
    ticks: int

    @property
    def rtt_us(self) -> int:
        return self.recv_mono_us - self.sent_mono_us

    @property
    def mid_mono_us(self) -> float:
        return (self.sent_mono_us + self.recv_mono_us) / 2


@dataclass(frozen=True)
class ClockFit:
    """ticks = anchor_ticks + (mono_us - anchor_mono_us) * ticks_per_us."""

    anchor_mono_us: float
    anchor_ticks: float
    ticks_per_us: float
    error_bound_us: float

    @property
    def rate_hz(self) -> float:
        return self.ticks_per_us * 1e6

    def ticks_to_mono_us(self, ticks: int) -> int:
        return round(self.anchor_mono_us + (ticks - self.anchor_ticks) / self.ticks_per_us)

    def mono_us_to_ticks(self, mono_us: int) -> int:
        return round(self.anchor_ticks + (mono_us - self.anchor_mono_us) * self.ticks_per_us)


class ClockModel:
    """Per-device fit of device ticks against host monotonic time."""

    def __init__(self, nominal_hz: int) -> None:
        self.nominal_hz = nominal_hz
        self._samples: deque[ClockSample] = deque(maxlen=WINDOW)
        self._fit: ClockFit | None = None

    @property
    def sample_count(self) -> int:
        return len(self._samples)

    @property
    def ready(self) -> bool:
        return self._fit is not None and len(self._samples) >= MIN_SAMPLES_READY

    @property
    def fit(self) -> ClockFit | None:
        return self._fit

    def add_sample(self, sample: ClockSample) -> None:
        if sample.rtt_us < 0:
            return
        self._samples.append(sample)
        self._fit = self._refit()

    def _refit(self) -> ClockFit:
        ordered = sorted(self._samples, key=lambda s: s.rtt_us)
        keep = max(min(len(ordered), MIN_SAMPLES_READY), math.ceil(len(ordered) * TRUSTED_SHARE))
        trusted = ordered[:keep]
        xs = [s.mid_mono_us for s in trusted]
        ys = [float(s.ticks) for s in trusted]
        x_mean = sum(xs) / len(xs)
        y_mean = sum(ys) / len(ys)
        nominal = self.nominal_hz / 1e6
        slope = nominal
        if max(xs) - min(xs) >= MIN_FIT_SPAN_US:
            sxx = sum((x - x_mean) ** 2 for x in xs)
            sxy = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True))
            fitted = sxy / sxx
            if abs(fitted / nominal - 1) * 1e6 <= MAX_RATE_ERROR_PPM:
                slope = fitted
        residuals = [(y - y_mean) / slope - (x - x_mean) for x, y in zip(xs, ys, strict=True)]
        spread = math.sqrt(sum(r * r for r in residuals) / len(residuals))
        # The device read its clock somewhere inside [sent, received]: half the shortest
        # round trip bounds that, and the residual spread covers the rest of the fit's error.
        bound = trusted[0].rtt_us / 2 + spread
        return ClockFit(x_mean, y_mean, slope, bound)
