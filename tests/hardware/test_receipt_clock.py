"""hardware/adapters/receipt_clock.py on synthetic records: seeded delays, a drifting crystal."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from hardware.adapters.receipt_clock import MAX_RATE_PPM, READY_RECORDS, WINDOW_US, ReceiptClock

FLOOR_US = 1_000  # no record arrives sooner than this after its event
JITTER_US = 15_000  # on top of the floor: delays of 1-16 ms (a USB bridge's latency timer)
HOST_ORIGIN_US = 7_000_000_000  # host monotonic time of the device's tick 0
DRIFT_PPM = 80.0


@dataclass(frozen=True)
class Record:
    device_ticks: int
    received_mono_us: int
    truth_mono_us: float  # when the event happened, on the host's clock


def records(
    *,
    seconds: float,
    period_us: int = 500_000,
    tick_us: int = 8,
    drift_ppm: float = DRIFT_PPM,
    seed: int = 1,
    start_us: int = 0,
) -> list[Record]:
    """Events every `period_us` (give or take) of host time from `start_us` after the origin,
    stamped by a device clock `drift_ppm` fast and received after a random delay."""
    rng = random.Random(seed)
    out: list[Record] = []
    t_us = float(start_us)
    while t_us < start_us + seconds * 1e6:
        device_ticks = int(t_us * (1 + drift_ppm * 1e-6)) // tick_us
        # The event happened when the device's counter read those ticks (a tick truncates).
        truth = HOST_ORIGIN_US + device_ticks * tick_us / (1 + drift_ppm * 1e-6)
        delay_us = FLOOR_US + rng.uniform(0, JITTER_US)
        out.append(Record(device_ticks, round(truth + delay_us), truth))
        t_us += period_us * rng.uniform(0.5, 1.5)
    return out


def feed(clock: ReceiptClock, recs: list[Record]) -> None:
    for r in recs:
        clock.add(r.device_ticks, r.received_mono_us)


def test_no_host_time_before_the_first_record_and_settled_after_a_few() -> None:
    clock = ReceiptClock(tick_us=8)
    with pytest.raises(ValueError):
        clock.mono_us(0)
    recs = records(seconds=10)
    feed(clock, recs[: READY_RECORDS - 1])
    assert not clock.settled
    clock.add(recs[READY_RECORDS - 1].device_ticks, recs[READY_RECORDS - 1].received_mono_us)
    assert clock.settled


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_mapped_times_are_within_the_delay_floor_of_the_truth(seed: int) -> None:
    clock = ReceiptClock(tick_us=8)
    recs = records(seconds=240, seed=seed)
    worst_us = 0.0
    for r in recs:
        clock.add(r.device_ticks, r.received_mono_us)
        error_us = clock.mono_us(r.device_ticks) - r.truth_mono_us - FLOOR_US
        # Never after its own receipt: the line stays under every record.
        assert clock.mono_us(r.device_ticks) <= r.received_mono_us + 1
        if clock.settled:
            assert abs(error_us) <= clock.error_bound_us  # the stated bound holds
        if r.device_ticks * 8 >= 90_000_000:  # a span that pins the rate to a few ppm
            worst_us = max(worst_us, abs(error_us))
    assert worst_us < 1_500
    # Every record in the final window, mapped with the final fit: the floor and a little.
    for r in recs[-200:]:
        assert clock.mono_us(r.device_ticks) - r.truth_mono_us == pytest.approx(FLOOR_US, abs=600)
    # The receipt jitter is reported as the bound, not hidden: about the 15 ms spread.
    assert 12_000 < clock.error_bound_us < 16_500


def test_a_known_line_time_is_taken_off_the_offset() -> None:
    clock = ReceiptClock(tick_us=8, min_delay_us=FLOOR_US)
    recs = records(seconds=240)
    feed(clock, recs)
    for r in recs[-200:]:
        assert clock.mono_us(r.device_ticks) == pytest.approx(r.truth_mono_us, abs=600)


@pytest.mark.parametrize("drift_ppm", [80.0, -150.0, 0.0])
def test_rate_converges_within_10_ppm_over_a_few_minutes(drift_ppm: float) -> None:
    clock = ReceiptClock(tick_us=8)
    feed(clock, records(seconds=300, drift_ppm=drift_ppm, seed=7))
    assert clock.rate_ppm == pytest.approx(drift_ppm, abs=10)


def test_a_100_ppm_crystal_does_not_add_its_drift_over_a_minute() -> None:
    """Nominal rate would be 6 ms off a minute from the anchor; the fitted rate is not."""
    clock = ReceiptClock(tick_us=100)
    recs = records(seconds=240, tick_us=100, drift_ppm=100.0, seed=4)
    feed(clock, recs[:-120])  # stop a minute before the last record
    last = recs[-1]
    assert clock.mono_us(last.device_ticks) - last.truth_mono_us == pytest.approx(
        FLOOR_US, abs=1_500
    )


def test_short_span_keeps_the_nominal_rate() -> None:
    clock = ReceiptClock(tick_us=8)
    feed(clock, records(seconds=20, drift_ppm=500.0))
    assert clock.rate_ppm == 0.0


def test_rate_estimate_is_bounded() -> None:
    clock = ReceiptClock(tick_us=8)
    feed(clock, records(seconds=120, drift_ppm=3000.0))
    assert clock.rate_ppm == pytest.approx(MAX_RATE_PPM, rel=1e-2)


def test_a_record_with_a_huge_delay_never_pulls_the_offset() -> None:
    clock = ReceiptClock(tick_us=8)
    recs = records(seconds=120)
    feed(clock, recs)
    probe_ticks = recs[-1].device_ticks
    before = clock.mono_us(probe_ticks)
    late = records(seconds=1, start_us=121_000_000)[0]
    clock.add(late.device_ticks, late.received_mono_us + 3_000_000)
    # The late record sits far above the envelope: the line, and its rate, stay where they were.
    assert clock.mono_us(probe_ticks) == pytest.approx(before, abs=5)
    assert clock.mono_us(late.device_ticks) - late.truth_mono_us < FLOOR_US + 1_500
    assert clock.error_bound_us > 3_000_000  # and the bound says so honestly
    assert clock.restarts == 0


def test_a_late_first_record_is_corrected_once_a_faster_one_arrives() -> None:
    clock = ReceiptClock(tick_us=8)
    clock.add(1_000, HOST_ORIGIN_US + 8_000 + 16_000)  # 16 ms in transit
    assert clock.mono_us(1_000) == HOST_ORIGIN_US + 8_000 + 16_000
    clock.add(126_000, HOST_ORIGIN_US + 1_008_000 + 1_000)  # 1 ms in transit
    assert clock.mono_us(1_000) == HOST_ORIGIN_US + 8_000 + 1_000


def test_the_window_forgets_records_from_before_a_step() -> None:
    """The device's clock was set back 2 s between records, its ticks still counting forward:
    every later record looks 2 s late until the old ones leave the window."""
    clock = ReceiptClock(tick_us=8)
    before = records(seconds=120)
    feed(clock, before)
    step_us = 2_000_000
    after = [
        Record(r.device_ticks - step_us // 8, r.received_mono_us, r.truth_mono_us)
        for r in records(seconds=400, start_us=125_000_000, seed=9)
    ]
    feed(clock, after[:20])
    assert clock.mono_us(after[19].device_ticks) < after[19].truth_mono_us - 1_000_000
    feed(clock, after[20:])
    assert after[-1].device_ticks * 8 - after[0].device_ticks * 8 > WINDOW_US
    for r in after[-100:]:
        assert clock.mono_us(r.device_ticks) - r.truth_mono_us == pytest.approx(FLOOR_US, abs=800)
    assert clock.restarts == 0


def test_a_clock_set_forward_restarts_the_window_at_once() -> None:
    clock = ReceiptClock(tick_us=8)
    feed(clock, records(seconds=120))
    step_us = 10_000_000
    after = [
        Record(r.device_ticks + step_us // 8, r.received_mono_us, r.truth_mono_us)
        for r in records(seconds=5, start_us=125_000_000, seed=5)
    ]
    clock.add(after[0].device_ticks, after[0].received_mono_us)
    assert clock.restarts == 1
    feed(clock, after[1:])
    for r in after:
        assert abs(clock.mono_us(r.device_ticks) - r.truth_mono_us) < FLOOR_US + JITTER_US


def test_ticks_counting_back_restart_the_window() -> None:
    """A restarted Chronopic timeline counts from 0 again."""
    clock = ReceiptClock(tick_us=8)
    feed(clock, records(seconds=60))
    clock.add(0, HOST_ORIGIN_US + 200_000_000)
    assert clock.restarts == 1
    assert clock.mono_us(125) == HOST_ORIGIN_US + 200_000_000 + 1_000
    clock.reset()
    assert not clock.settled
    with pytest.raises(ValueError):
        clock.mono_us(0)
