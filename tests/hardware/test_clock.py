"""hardware/clock.py: 32-bit tick extension and the ticks-to-host-time fit (PROTOCOL.md 4.3-4.4)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.clock import (
    MIN_FIT_SPAN_US,
    MIN_SAMPLES_READY,
    ClockFit,
    ClockModel,
    ClockSample,
    TickExtender,
)

HZ = 1_000_000
WRAP_32 = 1 << 32

# --- TickExtender ------------------------------------------------------------------------------


def test_first_value_is_taken_as_is() -> None:
    assert TickExtender().extend(0xDEADBEEF) == 0xDEADBEEF


def test_forward_across_wrap() -> None:
    ext = TickExtender()
    assert ext.extend(WRAP_32 - 100) == WRAP_32 - 100
    assert ext.extend(50) == WRAP_32 + 50
    assert ext.extend(1_000_000) == WRAP_32 + 1_000_000
    # A second wrap keeps counting up (heard from at least once per half wrap).
    assert ext.extend(0x7FFF_0000) == WRAP_32 + 0x7FFF_0000
    assert ext.extend(0xFFFE_0000) == WRAP_32 + 0xFFFE_0000
    assert ext.extend(WRAP_32 - 1) == 2 * WRAP_32 - 1
    assert ext.extend(0) == 2 * WRAP_32


def test_slightly_older_value_after_wrap_maps_back_below() -> None:
    ext = TickExtender()
    ext.extend(WRAP_32 - 10)
    assert ext.extend(5) == WRAP_32 + 5
    # An event stamped just before the wrap, heard after it (a replay, a slow hub).
    assert ext.extend(WRAP_32 - 16) == WRAP_32 - 16
    # The old value did not drag the reference back: the next fresh value is still after the wrap.
    assert ext.extend(20) == WRAP_32 + 20


def test_older_value_without_wrap_maps_back() -> None:
    ext = TickExtender()
    ext.extend(1_000)
    assert ext.extend(400) == 400
    assert ext.extend(1_500) == 1_500


@given(
    st.integers(0, WRAP_32 - 1),
    st.lists(st.integers(0, (1 << 31) - 1), min_size=1, max_size=60),
)
def test_forward_steps_extend_to_true_64_bit_value(start: int, steps: list[int]) -> None:
    ext = TickExtender()
    true = start
    assert ext.extend(true % WRAP_32) == true
    for step in steps:
        true += step
        assert ext.extend(true % WRAP_32) == true


@given(
    st.integers(0, WRAP_32 - 1),
    st.lists(st.integers(-(1 << 30), (1 << 30)), min_size=1, max_size=60),
)
def test_small_steps_either_way_stay_exact(start: int, steps: list[int]) -> None:
    # Steps within a quarter wrap of a moving reference: replays and forward ticks mixed.
    ext = TickExtender()
    true = high = start + WRAP_32  # far from 0 so a step back never goes negative
    ext.extend(true % WRAP_32)
    offset = WRAP_32
    for step in steps:
        true = max(high - (1 << 30), true + step)
        high = max(high, true)
        assert ext.extend(true % WRAP_32) + offset == true


# --- ClockModel ---------------------------------------------------------------------------------


def make_device_clock(offset_ticks: int, drift_ppm: float) -> Callable[[float], int]:
    """Ticks of a device whose counter runs drift_ppm fast, as a function of true host us."""
    rate = HZ / 1e6 * (1 + drift_ppm * 1e-6)
    return lambda t_us: offset_ticks + math.floor(t_us * rate)


def feed_exchanges(
    model: ClockModel,
    ticks_at: Callable[[float], int],
    rng: random.Random,
    seconds: int,
    up_us: tuple[int, int] = (1_000, 16_000),
    down_us: tuple[int, int] = (40, 60),
    start_us: int = 10_000_000,
) -> None:
    """1 Hz PING/PONG: PING reaches the device after `down`, its PONG the host after `up`."""
    for i in range(seconds + 1):
        sent = start_us + i * 1_000_000 + rng.randint(0, 2_000)
        down = rng.randint(*down_us)
        up = rng.randint(*up_us)
        model.add_sample(ClockSample(sent, sent + down + up, ticks_at(sent + down)))


def rate_error_ppm(fit: ClockFit, drift_ppm: float) -> float:
    return (fit.rate_hz / (HZ * (1 + drift_ppm * 1e-6)) - 1) * 1e6


SEEDS = range(12)
ASYMMETRIC_BUG = (
    "clock.py ClockModel._refit: an unweighted line through the midpoints of the shortest 40% "
    "of exchanges; with USB latency on the PONG only (1-16 ms up, 0.05 ms down) those "
    "midpoints sit ~2 ms late on average, so mapped times are off by 1.3-2.9 ms and the "
    "fitted rate by up to ~67 ppm"
)


def asymmetric_fit(seed: int, drift_ppm: float = 150.0) -> tuple[ClockFit, Callable[[float], int]]:
    rng = random.Random(seed)
    ticks_at = make_device_clock(rng.getrandbits(32), drift_ppm)
    model = ClockModel(HZ)
    feed_exchanges(model, ticks_at, rng, seconds=30)
    assert model.ready and model.fit is not None
    return model.fit, ticks_at


@pytest.mark.xfail(strict=True, reason=ASYMMETRIC_BUG)
def test_fitted_rate_within_20_ppm_with_usb_latency() -> None:
    errors = [rate_error_ppm(asymmetric_fit(seed)[0], 150.0) for seed in SEEDS]
    assert max(abs(e) for e in errors) <= 20.0, errors


@pytest.mark.xfail(strict=True, reason=ASYMMETRIC_BUG)
def test_mapped_time_within_1_ms_with_usb_latency() -> None:
    worst = 0
    for seed in SEEDS:
        fit, ticks_at = asymmetric_fit(seed)
        for t_us in (10_000_000, 25_000_000, 40_000_000):
            worst = max(worst, abs(fit.ticks_to_mono_us(ticks_at(t_us)) - t_us))
    assert worst <= 1_000


@pytest.mark.xfail(strict=True, reason="error_bound_us is not a bound: " + ASYMMETRIC_BUG)
def test_error_bound_covers_actual_error_with_usb_latency() -> None:
    for seed in SEEDS:
        fit, ticks_at = asymmetric_fit(seed)
        t_us = 25_000_000
        assert abs(fit.ticks_to_mono_us(ticks_at(t_us)) - t_us) <= fit.error_bound_us


@pytest.mark.parametrize("seed", SEEDS)
def test_error_bound_finite_and_positive(seed: int) -> None:
    fit, _ = asymmetric_fit(seed)
    assert math.isfinite(fit.error_bound_us)
    assert fit.error_bound_us > 0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("drift_ppm", [-150.0, 0.0, 150.0])
def test_fit_with_symmetric_jitter(seed: int, drift_ppm: float) -> None:
    # Same 1-16 ms of jitter, split evenly between directions: midpoints are unbiased.
    rng = random.Random(seed)
    ticks_at = make_device_clock(rng.getrandbits(32), drift_ppm)
    model = ClockModel(HZ)
    for i in range(31):
        sent = 10_000_000 + i * 1_000_000
        one_way = rng.randint(500, 8_000)
        model.add_sample(ClockSample(sent, sent + 2 * one_way, ticks_at(sent + one_way)))
    fit = model.fit
    assert fit is not None
    assert abs(rate_error_ppm(fit, drift_ppm)) <= 20.0
    for t_us in (10_000_000, 25_000_000, 40_000_000):
        assert abs(fit.ticks_to_mono_us(ticks_at(t_us)) - t_us) <= 1_000
        assert abs(fit.mono_us_to_ticks(t_us) - ticks_at(t_us)) <= 1_000


def test_short_span_uses_nominal_rate() -> None:
    rng = random.Random(7)
    ticks_at = make_device_clock(123_456, 150.0)
    model = ClockModel(HZ)
    span_s = MIN_FIT_SPAN_US // 1_000_000 - 1
    feed_exchanges(model, ticks_at, rng, seconds=span_s)
    fit = model.fit
    assert fit is not None and model.ready
    assert fit.ticks_per_us == HZ / 1e6
    assert fit.rate_hz == HZ


def test_long_span_fits_the_drift() -> None:
    rng = random.Random(8)
    ticks_at = make_device_clock(123_456, 500.0)
    model = ClockModel(HZ)
    # Near-exact exchanges (symmetric 0-10 us): the fit must find the 500 ppm.
    for i in range(30):
        t = 1_000_000 + i * 1_000_000 + rng.randint(0, 1_000)
        one_way = rng.randint(0, 10)
        model.add_sample(ClockSample(t - one_way, t + one_way, ticks_at(t)))
    fit = model.fit
    assert fit is not None
    assert abs(rate_error_ppm(fit, 500.0)) < 1.0


def test_not_ready_before_four_samples() -> None:
    ticks_at = make_device_clock(0, 0.0)
    model = ClockModel(HZ)
    assert not model.ready and model.fit is None
    for i in range(MIN_SAMPLES_READY):
        assert not model.ready
        sent = i * 1_000_000
        model.add_sample(ClockSample(sent, sent + 2_000, ticks_at(sent + 1_000)))
    assert model.sample_count == MIN_SAMPLES_READY
    assert model.ready


def test_negative_round_trip_is_ignored() -> None:
    model = ClockModel(HZ)
    model.add_sample(ClockSample(sent_mono_us=5_000, recv_mono_us=4_000, ticks=1))
    assert model.sample_count == 0 and model.fit is None


def test_fit_conversions_are_inverse() -> None:
    fit = ClockFit(anchor_mono_us=1e6, anchor_ticks=5e9, ticks_per_us=1.00015, error_bound_us=1)
    for mono in (0, 1_000_000, 123_456_789):
        assert abs(fit.ticks_to_mono_us(fit.mono_us_to_ticks(mono)) - mono) <= 1
