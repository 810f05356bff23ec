"""elapsed_us: raw ticks win on one clock, mapped host time is used across clocks."""

from __future__ import annotations

from drills.timing import Stamp, elapsed_us


def test_same_clock_uses_ticks_and_rate_of_later_stamp() -> None:
    # Mapped times disagree with the ticks (a clock-model refit happened in between).
    a = Stamp(mono_us=1_000_000, clock="hub-7:boot-3", ticks=5_000, tick_hz=1_000_000.0)
    b = Stamp(mono_us=3_500_000, clock="hub-7:boot-3", ticks=2_005_000, tick_hz=1_000_050.0)
    assert elapsed_us(a, b) == round(2_000_000 * 1_000_000 / 1_000_050.0)
    assert elapsed_us(a, b) != b.mono_us - a.mono_us


def test_rounds_to_nearest_microsecond() -> None:
    a = Stamp(0, clock="c", ticks=0, tick_hz=3.0)
    b = Stamp(0, clock="c", ticks=2, tick_hz=3.0)  # 666_666.67 us
    assert elapsed_us(a, b) == 666_667


def test_different_clocks_use_mapped_time() -> None:
    a = Stamp(mono_us=1_000_000, clock="gate-1:boot-1", ticks=10, tick_hz=1e6)
    b = Stamp(mono_us=2_250_000, clock="gate-2:boot-1", ticks=99_999_999, tick_hz=1e6)
    assert elapsed_us(a, b) == 1_250_000


def test_missing_ticks_or_rate_fall_back_to_mapped_time() -> None:
    a = Stamp(mono_us=100, clock="c", ticks=0, tick_hz=1e6)
    assert elapsed_us(a, Stamp(mono_us=600, clock="c", ticks=None, tick_hz=1e6)) == 500
    assert elapsed_us(a, Stamp(mono_us=600, clock="c", ticks=10_000, tick_hz=None)) == 500
    assert elapsed_us(a, Stamp(mono_us=600, clock="c", ticks=10_000, tick_hz=0.0)) == 500
    assert elapsed_us(Stamp(100), Stamp(600)) == 500
    # No clock id on either side: equal None ids do not mean the same clock.
    assert elapsed_us(Stamp(100, None, 0, 1e6), Stamp(600, None, 10_000, 1e6)) == 500
