"""elapsed_us: raw ticks win on one clock, mapped host time is used across clocks; and what
a stamp's time rests on marks the split."""

from __future__ import annotations

from drills.run_state import SplitResult
from drills.timing import Stamp, TimeBasis, cross_device_error_us, elapsed_us, placed_by_receipt


def test_same_clock_uses_ticks_and_rate_of_later_stamp() -> None:
    # Mapped times disagree with the ticks (a clock-model refit happened in between).
    a = Stamp(mono_us=1_000_000, clock="hub-7:boot-3", ticks=5_000, tick_hz_est=1_000_000.0)
    b = Stamp(mono_us=3_500_000, clock="hub-7:boot-3", ticks=2_005_000, tick_hz_est=1_000_050.0)
    assert elapsed_us(a, b) == round(2_000_000 * 1_000_000 / 1_000_050.0)
    assert elapsed_us(a, b) != b.mono_us - a.mono_us


def test_rounds_to_nearest_microsecond() -> None:
    a = Stamp(0, clock="c", ticks=0, tick_hz_est=3.0)
    b = Stamp(0, clock="c", ticks=2, tick_hz_est=3.0)  # 666_666.67 us
    assert elapsed_us(a, b) == 666_667


def test_different_clocks_use_mapped_time() -> None:
    a = Stamp(mono_us=1_000_000, clock="gate-1:boot-1", ticks=10, tick_hz_est=1e6)
    b = Stamp(mono_us=2_250_000, clock="gate-2:boot-1", ticks=99_999_999, tick_hz_est=1e6)
    assert elapsed_us(a, b) == 1_250_000


def test_missing_ticks_or_rate_fall_back_to_mapped_time() -> None:
    a = Stamp(mono_us=100, clock="c", ticks=0, tick_hz_est=1e6)
    assert elapsed_us(a, Stamp(mono_us=600, clock="c", ticks=None, tick_hz_est=1e6)) == 500
    assert elapsed_us(a, Stamp(mono_us=600, clock="c", ticks=10_000, tick_hz_est=None)) == 500
    assert elapsed_us(a, Stamp(mono_us=600, clock="c", ticks=10_000, tick_hz_est=0.0)) == 500
    assert elapsed_us(Stamp(100), Stamp(600)) == 500
    # No clock id on either side: equal None ids do not mean the same clock.
    assert elapsed_us(Stamp(100, None, 0, 1e6), Stamp(600, None, 10_000, 1e6)) == 500


def test_an_end_with_no_clock_fit_marks_a_split_across_clocks_coarse() -> None:
    go = Stamp(1_000_000, basis=TimeBasis.HOST)
    unfitted = Stamp(2_500_000, "gate-1:1", ticks=40, tick_hz_est=1e6, basis=TimeBasis.RECEIPT_ONLY)
    fitted = Stamp(2_400_000, "gate-2:1", ticks=77, tick_hz_est=1e6)
    assert placed_by_receipt(go, unfitted) and placed_by_receipt(unfitted, fitted)
    split = SplitResult.between("0-10m", "start", "finish", go, unfitted, 10.0)
    assert split.coarse and split.elapsed_us == 1_500_000  # timed as before, now marked
    assert cross_device_error_us(go, unfitted) is None  # a receipt fit's bound, not this


def test_one_clock_needs_no_fit_so_its_split_stays_unmarked() -> None:
    a = Stamp(1_000_000, "gate-1:1", ticks=0, tick_hz_est=1e6, basis=TimeBasis.RECEIPT_ONLY)
    b = Stamp(9_000_000, "gate-1:1", ticks=1_250_000, tick_hz_est=1e6, basis=TimeBasis.RECEIPT_ONLY)
    split = SplitResult.between("0-10m", "start", "finish", a, b, 10.0)
    assert not split.coarse and split.elapsed_us == 1_250_000


def test_a_device_events_basis_follows_its_fit() -> None:
    assert TimeBasis.of_device(None, by_receipt=False) is TimeBasis.RECEIPT_ONLY
    assert TimeBasis.of_device(None, by_receipt=True) is TimeBasis.RECEIPT_ONLY
    assert TimeBasis.of_device(5, by_receipt=True) is TimeBasis.RECEIPT_FIT
    assert TimeBasis.of_device(5, by_receipt=False) is TimeBasis.DEVICE_FIT
