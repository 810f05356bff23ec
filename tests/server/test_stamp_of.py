"""stamp_of: a device event's stamp says what its time rests on, the no-fit fallback too."""

from __future__ import annotations

from drills import TimeBasis
from hardware.messages import EventKind
from hardware.records import DeviceEvent
from server.runs.signals import stamp_of


def event(mono_us: int | None, *, by_receipt: bool = False) -> DeviceEvent:
    return DeviceEvent(
        device="gate-00000001", boot_id=3, seq=1, channel=0, kind=EventKind.BEAM_BROKEN,
        ticks=2_000_000, tick_hz_est=2e6, mono_us=mono_us, received_mono_us=7_004_000,
        by_receipt=by_receipt,
    )  # fmt: skip


def test_an_event_without_a_clock_fit_is_stamped_by_receipt_and_says_so() -> None:
    stamp = stamp_of(event(None))
    assert stamp.basis is TimeBasis.RECEIPT_ONLY
    assert stamp.mono_us == 7_004_000  # the engine still times with the receipt
    assert (stamp.clock, stamp.ticks, stamp.tick_hz_est) == ("gate-00000001:3", 2_000_000, 2e6)


def test_a_fitted_event_keeps_its_mapped_time() -> None:
    stamp = stamp_of(event(7_000_000))
    assert (stamp.mono_us, stamp.basis) == (7_000_000, TimeBasis.DEVICE_FIT)


def test_a_receipt_fitted_device_says_so() -> None:
    assert stamp_of(event(7_000_000, by_receipt=True)).basis is TimeBasis.RECEIPT_FIT
