"""The clock vocabulary's one conversion and its host clock read."""

from __future__ import annotations

import pytest

from hardware.timebase import mono_us, ticks_to_us, us_to_ticks


def test_ticks_to_us_divides_by_the_rate() -> None:
    assert ticks_to_us(2_000_000, 2_000_000.0) == 1_000_000.0
    assert ticks_to_us(-5, 1_000_000.0) == -5.0  # a difference may run backwards
    assert ticks_to_us(2, 3.0) == pytest.approx(666_666.6667)


def test_ticks_to_us_rounds_once() -> None:
    # Multiplying before dividing keeps an integer tick count exact until the one division.
    ticks, rate = 123_456_789, 1_000_050.0
    assert ticks_to_us(ticks, rate) == ticks * 1_000_000 / rate


def test_us_to_ticks_is_the_inverse() -> None:
    assert us_to_ticks(250_000, 2_000_000.0) == 500_000.0
    assert us_to_ticks(ticks_to_us(7_777, 1_000_050.0), 1_000_050.0) == pytest.approx(7_777)


def test_mono_us_never_goes_back() -> None:
    reads = [mono_us() for _ in range(1_000)]
    assert reads == sorted(reads)
    assert all(isinstance(r, int) for r in reads)
