"""The one place that converts device ticks to host monotonic time.

Names say which clock a number belongs to: `_ticks` (device counter), `_mono_us` (host
monotonic microseconds). Each device gets a ClockModel fed with PING/PONG exchanges.

What an exchange proves: the device read its counter at some host time between sending the
PING and receiving the PONG; on a UART, no sooner than the PING's bytes take to cross the line
after the send, and no later than the PONG's take before the receipt (the device reads its
counter as the PING's last byte arrives: PROTOCOL.md section 4.3). USB delay is lopsided (a
USB-serial bridge may hold the answer up to 16 ms, the question hardly waits), so the midpoint
of a round trip is not the moment of the reading, and a regression through midpoints inherits
a varying bias. The model therefore:

1. takes the rate from the exchanges with the shortest round trips (late answers carry no
   information), fitting a line through whichever edge of their windows (sent, midpoint or
   received) scatters least: on USB that is the send time, on a symmetric link the midpoint;
   on a quiet edge, the line is then refitted through the exchanges that waited least on it
   (its delays have a floor and a tail, and the tail tilts a plain fit);
2. keeps that rate only where the windows allow it: every exchange rules out the rates
   under which it would disagree with another, and what is left is one interval
   (hardware/clock_bounds.py) that holds the true rate whatever the delays. A fit outside
   it (tilted by a busy host) moves to its nearest end; a nominal rate outside it gives way
   to its middle and states the distance to its far end as its error;
3. with that rate, intersects every exchange's window: the offsets left agree with all of
   them. The estimate sits near the quiet edge when there is one (its own scatter away from
   it), in the middle otherwise; its error bound is its distance to the far end of the
   offsets any allowed line gives, never smaller than the real error while the rate holds.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from hardware.clock_bounds import agreeing_rates, anchor_offsets
from hardware.counters import Unwrapper

# Exchanges kept (about two minutes at one ping a second): long enough to catch a few fast
# round trips, short enough that a crystal warming up does not bend the line.
WINDOW = 128
MIN_SAMPLES_READY = 4
# No crystal is this far off: rates are searched within it.
MAX_RATE_ERROR_PPM = 1000.0
# What a device's crystal may be off by before its rate is fitted (cheap crystals: +-100 ppm,
# with temperature up to about twice that).
CRYSTAL_TOLERANCE_PPM = 200.0
# A device is ready to time runs once the host knows when its events happened to within this
# (enough for time limits and for ordering events across devices; a split on one device needs
# only the rate, and the server asks more of a split between two devices: measured rates). It
# stays ready until the bound passes twice that: a bound wandering across one line would make
# the device flicker between ready and not.
READY_ERROR_US = 10_000.0
# Halvings of the tightest exchanges towards a quiet edge's floor (see _near_floor).
FLOOR_ROUNDS = 2
# The fitted rate is never trusted to better than this.
MIN_RATE_ERROR_PPM = 1.0
# Nor used before the exchanges span this long: a few points over a fraction of a second give
# a standard error that looks small and a slope that is not (one slow thread wake-up is enough).
MIN_FIT_SPAN_US = 5_000_000


# 8N1: a start bit, eight data bits and a stop bit on the line for each byte.
UART_BITS_PER_BYTE = 10


def uart_time_us(n_bytes: int, baudrate: int) -> float:
    """How long `n_bytes` take on a UART line at `baudrate` (115200: 86.8 us a byte)."""
    return n_bytes * UART_BITS_PER_BYTE * 1e6 / baudrate


class TickExtender(Unwrapper):
    """Extends the 32-bit tick counter on the wire to 64 bits (PROTOCOL.md section 4.3)."""

    def __init__(self) -> None:
        super().__init__(32)


@dataclass(frozen=True)
class ClockSample:
    sent_mono_us: int
    received_mono_us: int
    ticks: int

    @property
    def rtt_us(self) -> int:
        return self.received_mono_us - self.sent_mono_us

    @classmethod
    def from_exchange(
        cls,
        sent_mono_us: int,
        received_mono_us: int,
        ticks: int,
        *,
        ping_bytes: int,
        pong_bytes: int,
        baudrate: int,
    ) -> ClockSample:
        """The window of one PING/PONG exchange: from the PING's send plus its time on the
        line to the PONG's receipt minus its own. Without the allowance the fit, which sits
        near the quiet send edge, would place every reading about a PING's line time early
        (1.0 ms at 115200).

        An exchange quicker than the two frames' line time cannot have crossed a UART at
        that rate (a native USB device ignores the rate it is opened at): it keeps its
        whole window rather than an empty one.
        """
        ping_us = round(uart_time_us(ping_bytes, baudrate))
        pong_us = round(uart_time_us(pong_bytes, baudrate))
        if received_mono_us - sent_mono_us < ping_us + pong_us:
            return cls(sent_mono_us, received_mono_us, ticks)
        return cls(sent_mono_us + ping_us, received_mono_us - pong_us, ticks)


@dataclass(frozen=True)
class ClockFit:
    """ticks = anchor_ticks + (mono_us - anchor_mono_us) * ticks_per_us."""

    anchor_mono_us: float
    anchor_ticks: float
    ticks_per_us: float
    error_bound_us: float
    """Bound on the mapping error at the anchor (the newest exchange)."""
    rate_error_ppm: float = 0.0
    """Bound on the rate's error: away from the anchor the mapping error grows by this."""

    @property
    def tick_hz_est(self) -> float:
        """The fitted rate of the device's clock: what a split on one clock divides by."""
        return self.ticks_per_us * 1e6

    def ticks_to_mono_us(self, ticks: int) -> int:
        return round(self.anchor_mono_us + (ticks - self.anchor_ticks) / self.ticks_per_us)

    def error_bound_at_us(self, ticks: int) -> float:
        """Error bound of ticks_to_mono_us(ticks): the anchor's, plus the rate's over the gap."""
        gap_us = abs(ticks - self.anchor_ticks) / self.ticks_per_us
        return self.error_bound_us + gap_us * self.rate_error_ppm * 1e-6

    def mono_us_to_ticks(self, mono_us: int) -> int:
        return round(self.anchor_ticks + (mono_us - self.anchor_mono_us) * self.ticks_per_us)


class DeviceClock(Protocol):
    """What the rest of the program reads of any device's clock: a ClockModel fed by PING
    exchanges, or an adapter's ReceiptClock for a device that has no clock query."""

    @property
    def ready(self) -> bool: ...

    @property
    def sample_count(self) -> int: ...

    @property
    def fit(self) -> ClockFit | None: ...


class ClockModel:
    """Per-device fit of host time against device ticks (see the module docstring)."""

    def __init__(self, nominal_tick_hz: int) -> None:
        self.nominal_tick_hz = nominal_tick_hz
        self._samples: deque[ClockSample] = deque(maxlen=WINDOW)
        self._fit: ClockFit | None = None
        self._ready = False
        self.min_rtt_us: int | None = None
        self.resets = 0

    @property
    def sample_count(self) -> int:
        return len(self._samples)

    @property
    def ready(self) -> bool:
        return self._ready

    @property
    def fit(self) -> ClockFit | None:
        return self._fit

    def add_sample(self, sample: ClockSample) -> None:
        if sample.rtt_us < 0:
            return
        self._samples.append(sample)
        if self.min_rtt_us is None or sample.rtt_us < self.min_rtt_us:
            self.min_rtt_us = sample.rtt_us
        fit = _fit(list(self._samples), self.nominal_tick_hz)
        while fit is None:
            # No line agrees with every exchange: the clock jumped or its rate changed.
            # Forget the older half of the window and fit what is left.
            self.resets += 1
            kept = list(self._samples)[len(self._samples) // 2 :]
            self._samples = deque(kept, maxlen=WINDOW)
            fit = _fit(kept, self.nominal_tick_hz)
        self._fit = fit
        limit = READY_ERROR_US * (2 if self._ready else 1)
        self._ready = len(self._samples) >= MIN_SAMPLES_READY and fit.error_bound_us <= limit


def _fit(samples: list[ClockSample], nominal_tick_hz: int) -> ClockFit | None:
    """Rate from the tightest exchanges, offset from all of them; None if no line fits all."""
    ref = samples[-1]
    # Numbers relative to the newest exchange keep floating point exact well below 1 us.
    xs = [float(s.ticks - ref.ticks) for s in samples]
    los = [float(s.sent_mono_us - ref.sent_mono_us) for s in samples]
    his = [float(s.received_mono_us - ref.sent_mono_us) for s in samples]

    def band(c: float) -> tuple[float, float]:
        lower = max(lo - c * x for lo, x in zip(los, xs, strict=True))
        upper = min(hi - c * x for hi, x in zip(his, xs, strict=True))
        return lower, upper

    c_nominal = 1e6 / nominal_tick_hz
    # Every rate the windows allow, within what any crystal could be off by; none: the clock
    # jumped or its rate changed (the caller forgets older exchanges).
    allowed = agreeing_rates(
        xs, los, his,
        c_nominal * (1 - MAX_RATE_ERROR_PPM * 1e-6), c_nominal * (1 + MAX_RATE_ERROR_PPM * 1e-6),
    )  # fmt: skip
    if allowed is None:
        return None
    # A crystal within its tolerance narrows that further; one beyond it keeps the windows'.
    crystal = (
        c_nominal * (1 - CRYSTAL_TOLERANCE_PPM * 1e-6),
        c_nominal * (1 + CRYSTAL_TOLERANCE_PPM * 1e-6),
    )
    c_low, c_high = max(allowed[0], crystal[0]), min(allowed[1], crystal[1])
    if c_low > c_high:
        c_low, c_high = allowed

    # The fitted rate replaces the nominal once its scatter says it is known better than the
    # crystal's tolerance. A fit the windows rule out (tilted by a busy host's late threads)
    # is moved to the nearest rate they allow, which is nearer the truth, as the truth is
    # among them; a nominal rate they rule out (a clock that drifts) gives way to the middle
    # of what they allow, and states its distance to their far end as its error. The old
    # fallback, the widest band anywhere within 1000 ppm, could be far off while claiming
    # the crystal's 200. A trusted fit still states its scatter as its error: under load
    # that can be less than the real error (a 270 ppm estimate claiming 40 ppm, now clamped
    # to the interval), but the distance to the interval's far end takes 14 s rather than
    # 7 s to fall below the tolerance, which held up readiness across devices past what
    # the server's tests and a coach wait for.
    def reach_ppm(c: float) -> float:
        return max(c - c_low, c_high - c) / c_nominal * 1e6

    fitted = _rate(samples, xs, los, his)
    if fitted is not None and fitted.error_ppm < CRYSTAL_TOLERANCE_PPM:
        c = min(max(fitted.c, c_low), c_high)
        rate_error_ppm = max(fitted.error_ppm, MIN_RATE_ERROR_PPM)
    else:
        if allowed[0] <= crystal[0] and crystal[1] <= allowed[1]:
            c = c_nominal  # the windows say nothing the crystal's tolerance does not
        else:
            c = (c_low + c_high) / 2
        # Rounded so that the crystal's own tolerance comes out as exactly that.
        rate_error_ppm = max(round(reach_ppm(c), 6), MIN_RATE_ERROR_PPM)
    lower, upper = band(c)
    if upper < lower:  # a rate at the very end of the interval: rounding, the band is a point
        lower = upper = (lower + upper) / 2
    # Where in the band: if one edge of the exchanges scatters least (on USB the send edge:
    # the question is not held up, the answer is), the readings happened close to it, about
    # that edge's own scatter away; with no quiet edge, the middle.
    offset = (lower + upper) / 2
    if fitted is not None and fitted.edge != 0.5:
        shift = min((upper - lower) / 2, fitted.jitter_us)
        offset = lower + shift if fitted.edge == 1.0 else upper - shift
    # Any line the windows allow starts somewhere in this range at the anchor; the estimate's
    # error there is its distance to the far end.
    lowest, highest = anchor_offsets(xs, los, his, c_low, c_high)
    return ClockFit(
        anchor_mono_us=ref.sent_mono_us + offset,
        anchor_ticks=float(ref.ticks),
        ticks_per_us=1.0 / c,
        error_bound_us=max(offset - lowest, highest - offset, 0.5),
        rate_error_ppm=rate_error_ppm,
    )


@dataclass(frozen=True)
class _RateFit:
    c: float
    """Host microseconds per tick."""
    error_ppm: float
    """Three standard errors of the slope; infinite before the exchanges span long enough."""
    edge: float
    """Which edge of the exchanges scatters least: 1 the send time, 0.5 the middle, 0 receive."""
    jitter_us: float
    """That edge's scatter about the line."""


def _rate(
    samples: list[ClockSample], xs: list[float], los: list[float], his: list[float]
) -> _RateFit | None:
    """The line through the shorter half of the round trips along whichever edge scatters
    least; None with too few exchanges to say."""
    order = sorted(range(len(samples)), key=lambda i: samples[i].rtt_us)
    keep = order[: max(MIN_SAMPLES_READY, len(order) // 2)]
    if len(keep) < MIN_SAMPLES_READY:
        return None
    if _sxx([xs[i] for i in keep]) == 0:
        return None
    best: tuple[float, float, float] | None = None
    for w in (1.0, 0.5, 0.0):  # the send edge, the midpoint, the receive edge
        c, scatter = _line([xs[i] for i in keep], [w * los[i] + (1 - w) * his[i] for i in keep])
        if best is None or scatter < best[0]:
            best = (scatter, c, w)
    assert best is not None
    scatter, c, w = best
    if w != 0.5:
        edge = [w * lo + (1 - w) * hi for lo, hi in zip(los, his, strict=True)]
        keep, c, scatter = _near_floor(keep, xs, edge, c, scatter, w)
    sxx = _sxx([xs[i] for i in keep])
    jitter_us = math.sqrt(scatter / (len(keep) - 2)) if len(keep) > 2 else math.inf
    span_us = max(los[i] for i in keep) - min(los[i] for i in keep)
    if span_us < MIN_FIT_SPAN_US or not math.isfinite(jitter_us):
        error_ppm = math.inf
    else:
        # A floor for rounding and for the scatter a short window underestimates.
        error_ppm = max(3 * jitter_us / math.sqrt(sxx) / c * 1e6, MIN_RATE_ERROR_PPM)
    return _RateFit(c, error_ppm, w, jitter_us)


def _sxx(xs: list[float]) -> float:
    mean = sum(xs) / len(xs)
    return sum((x - mean) ** 2 for x in xs)


def _line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares slope of ys on xs, and the sum of squared residuals about that line."""
    x_mean, y_mean = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = _sxx(xs)
    c = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True)) / sxx
    scatter = sum((y - y_mean - c * (x - x_mean)) ** 2 for x, y in zip(xs, ys, strict=True))
    return c, scatter


def _near_floor(
    keep: list[int], xs: list[float], edge: list[float], c: float, scatter: float, w: float
) -> tuple[list[int], float, float]:
    """Refit a quiet edge through the exchanges whose delay on it was nearest its floor;
    `c` and `scatter` are the line through all of `keep`.

    A quiet edge still waits now and then (a USB frame, a thread waking late on a busy
    host): its delays have a floor and a long tail. A line through all of them tilts with
    the tail, and the offset band, which every exchange must agree with, turns that tilt
    into an offset error of the tilt times the window (the cross-device timing bench on a
    host whose threads woke late: split p99 0.55-0.83 ms before this refit, 0.22-0.39 ms
    after). Halving towards the floor twice keeps the exchanges that waited least. On the
    send edge a short wait means a late point (the reading came soon after sending), on the
    receive edge an early one.
    """
    sign = 1.0 if w == 1.0 else -1.0
    chosen = keep
    for _ in range(FLOOR_ROUNDS):
        half = max(MIN_SAMPLES_READY, len(chosen) // 2)
        if half >= len(chosen):
            break
        x_mean = sum(xs[i] for i in chosen) / len(chosen)
        y_mean = sum(edge[i] for i in chosen) / len(chosen)
        least_wait = sorted(
            chosen, key=lambda i: sign * (edge[i] - y_mean - c * (xs[i] - x_mean)), reverse=True
        )[:half]
        if _sxx([xs[i] for i in least_wait]) == 0:
            break
        chosen = least_wait
        c, scatter = _line([xs[i] for i in chosen], [edge[i] for i in chosen])
    return chosen, c, scatter
